/* SPDX-License-Identifier: BSD-3-Clause */
/* Tap programs (bpf/tap.bpf.c) under BPF_PROG_TEST_RUN: parsing, inventory, policy, steering. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_xdp.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gcp_tap.skel.h"
#include "tap_common.h"

#define TC_ACT_UNSPEC_RET 0xffffffffu /* (u32)-1: the original continues, later filters run */
#define XDP_ABORTED_ 0
#define XDP_DROP_ 1
#define XDP_PASS_ 2
#define XDP_TX_ 3
#define XDP_REDIRECT_ 4

/* ---- packet builder --------------------------------------------------- */

struct pkt {
	uint8_t b[512];
	size_t len;
	size_t l3;  /* offset of the IP header */
	int v6;
	int has_ip;
};

static uint8_t *grow(struct pkt *p, size_t n)
{
	uint8_t *q = p->b + p->len;

	cr_assert_leq(p->len + n, sizeof(p->b));
	memset(q, 0, n);
	p->len += n;
	return q;
}

static void be16_at(uint8_t *q, uint16_t v)
{
	q[0] = v >> 8;
	q[1] = v & 0xff;
}

static void put_eth(struct pkt *p, uint16_t type)
{
	static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01 };
	uint8_t *q = grow(p, 14);

	memcpy(q, macs, 12);
	be16_at(q + 12, type);
}

static void put_vlan(struct pkt *p, uint16_t id, uint16_t next_type)
{
	uint8_t *q = grow(p, 4);

	be16_at(q, id);
	be16_at(q + 2, next_type);
}

static void put_ipv4_opts(struct pkt *p, const char *src, const char *dst, uint8_t proto,
			  uint8_t ihl, uint16_t frag_off)
{
	uint8_t *q;

	p->l3 = p->len;
	p->has_ip = 1;
	q = grow(p, ihl * 4u);
	q[0] = 0x40 | ihl;
	be16_at(q + 6, frag_off);
	q[8] = 64;
	q[9] = proto;
	cr_assert_eq(inet_pton(AF_INET, src, q + 12), 1);
	cr_assert_eq(inet_pton(AF_INET, dst, q + 16), 1);
}

static void put_ipv4(struct pkt *p, const char *src, const char *dst, uint8_t proto)
{
	put_ipv4_opts(p, src, dst, proto, 5, 0);
}

static void put_ipv6(struct pkt *p, const char *src, const char *dst, uint8_t next)
{
	uint8_t *q;

	p->l3 = p->len;
	p->v6 = 1;
	p->has_ip = 1;
	q = grow(p, 40);
	q[0] = 0x60;
	q[6] = next;
	q[7] = 64;
	cr_assert_eq(inet_pton(AF_INET6, src, q + 8), 1);
	cr_assert_eq(inet_pton(AF_INET6, dst, q + 24), 1);
}

/* Hop-by-hop, routing or destination options: (units + 1) * 8 bytes. */
static void put_ext6(struct pkt *p, uint8_t next, uint8_t units)
{
	uint8_t *q = grow(p, (units + 1u) * 8u);

	q[0] = next;
	q[1] = units;
}

static void put_frag6(struct pkt *p, uint8_t next, uint16_t offset8, int more)
{
	uint8_t *q = grow(p, 8);

	q[0] = next;
	be16_at(q + 2, (uint16_t)(offset8 << 3 | (more ? 1 : 0)));
}

static void put_tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint8_t flags)
{
	uint8_t *q = grow(p, 20);

	be16_at(q, sport);
	be16_at(q + 2, dport);
	q[12] = 5 << 4;
	q[13] = flags;
}

static void put_udp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	uint8_t *q = grow(p, 8);

	be16_at(q, sport);
	be16_at(q + 2, dport);
}

/* VXLAN header (RFC 7348 5): I flag, 24-bit VNI. */
static void put_vxlan(struct pkt *p, uint32_t vni)
{
	uint8_t *q = grow(p, 8);

	q[0] = 0x08;
	q[4] = vni >> 16;
	q[5] = vni >> 8;
	q[6] = vni;
}

/* Sets the IP length field; returns the L3 length the programs must count. */
static uint32_t finish(struct pkt *p)
{
	uint32_t l3len = (uint32_t)(p->len - p->l3);

	if (!p->has_ip)
		return 0;
	if (p->v6)
		be16_at(p->b + p->l3 + 4, (uint16_t)(l3len - 40));
	else
		be16_at(p->b + p->l3 + 2, (uint16_t)l3len);
	return l3len;
}

#define SYN 0x02
#define ACK 0x10

/* Ethernet + IPv4 + TCP with n payload bytes, finished. */
static uint32_t tcp4(struct pkt *p, const char *src, const char *dst, uint16_t sport,
		     uint16_t dport, uint8_t flags, size_t n)
{
	memset(p, 0, sizeof(*p));
	put_eth(p, 0x0800);
	put_ipv4(p, src, dst, 6);
	put_tcp(p, sport, dport, flags);
	grow(p, n);
	return finish(p);
}

static uint32_t udp4(struct pkt *p, const char *src, const char *dst, uint16_t sport,
		     uint16_t dport, size_t n)
{
	memset(p, 0, sizeof(*p));
	put_eth(p, 0x0800);
	put_ipv4(p, src, dst, 17);
	put_udp(p, sport, dport);
	grow(p, n);
	return finish(p);
}

static void arp(struct pkt *p)
{
	memset(p, 0, sizeof(*p));
	put_eth(p, 0x0806);
	grow(p, 28);
}

/* ---- skeleton, maps, runs ------------------------------------------------- */

static struct gcp_tap *skel;
static int ncpu;

static struct gcp_tap *open_skel(void)
{
	struct gcp_tap *s;

	if (geteuid() != 0) {
		printf("SKIP: BPF_PROG_TEST_RUN needs root\n");
		cr_skip_test("needs root");
	}
	s = gcp_tap__open();
	cr_assert_not_null(s, "gcp_tap__open: %s", strerror(errno));
	return s;
}

static void load_skel(struct gcp_tap *s)
{
	int err = gcp_tap__load(s);

	if (err == -EPERM) {
		gcp_tap__destroy(s);
		printf("SKIP: BPF load refused (EPERM)\n");
		cr_skip_test("BPF load refused");
	}
	cr_assert_eq(err, 0, "gcp_tap__load: %d", err);
	skel = s;
	ncpu = libbpf_num_possible_cpus();
	cr_assert_gt(ncpu, 0);
}

/* Programs a test runs; loading only those spares the verifier work. */
enum { P_TC_IN = 1, P_TC_OUT = 2, P_XDP = 4, P_ALL = 7 };

static struct gcp_tap *open_progs(unsigned mask)
{
	struct gcp_tap *s = open_skel();

	bpf_program__set_autoload(s->progs.tap_tc_ingress, (mask & P_TC_IN) != 0);
	bpf_program__set_autoload(s->progs.tap_tc_egress, (mask & P_TC_OUT) != 0);
	bpf_program__set_autoload(s->progs.tap_xdp, (mask & P_XDP) != 0);
	return s;
}

static void load_progs(unsigned mask)
{
	load_skel(open_progs(mask));
}

static void load(void)
{
	load_progs(P_TC_IN);
}

static void teardown(void)
{
	gcp_tap__destroy(skel);
	skel = NULL;
}

TestSuite(bpf_tap, .fini = teardown, .timeout = 20);

static int fd_of(const struct bpf_program *prog)
{
	return bpf_program__fd(prog);
}

#define TC_IN  fd_of(skel->progs.tap_tc_ingress)
#define TC_OUT fd_of(skel->progs.tap_tc_egress)
#define XDP    fd_of(skel->progs.tap_xdp)

static uint32_t run(int prog_fd, const struct pkt *p)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = (uint32_t)p->len,
		    .repeat = 1);
	int err = bpf_prog_test_run_opts(prog_fd, &o);

	cr_assert_eq(err, 0, "test_run: %d %s (len %zu)", err, strerror(errno), p->len);
	return o.retval;
}

/* TC run of a GSO packet standing for segs packets. */
static uint32_t run_gso(const struct pkt *p, uint32_t segs)
{
	struct __sk_buff ctx = { .gso_segs = segs, .gso_size = 1000 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = (uint32_t)p->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);

	cr_assert_eq(bpf_prog_test_run_opts(TC_IN, &o), 0, "test_run: %s", strerror(errno));
	return o.retval;
}

static void set_cfg(const struct gcp_tap_cfg *cfg)
{
	uint32_t zero = 0;

	cr_assert_eq(bpf_map__update_elem(skel->maps.tap_cfg, &zero, sizeof(zero), cfg,
					  sizeof(*cfg), BPF_ANY), 0);
}

static uint64_t stat(uint32_t idx)
{
	uint64_t *v = calloc((size_t)ncpu, sizeof(*v));
	uint64_t sum = 0;

	cr_assert_eq(bpf_map__lookup_elem(skel->maps.tap_stats, &idx, sizeof(idx), v,
					  sizeof(*v) * (size_t)ncpu, 0), 0);
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	free(v);
	return sum;
}

/* Inventory value summed over CPUs; {0, 0} when the key is absent. */
static struct gcp_tap_counter inv(struct bpf_map *m, const void *key)
{
	struct gcp_tap_counter *v = calloc((size_t)ncpu, sizeof(*v));
	struct gcp_tap_counter sum = { 0, 0 };

	if (bpf_map__lookup_elem(m, key, bpf_map__key_size(m), v, sizeof(*v) * (size_t)ncpu,
				 0) == 0) {
		for (int i = 0; i < ncpu; i++) {
			sum.pkts += v[i].pkts;
			sum.bytes += v[i].bytes;
		}
	}
	free(v);
	return sum;
}

static unsigned map_entries(struct bpf_map *m)
{
	uint8_t key[64], next[64];
	unsigned n = 0;
	void *prev = NULL;

	cr_assert_leq(bpf_map__key_size(m), sizeof(key));
	while (bpf_map__get_next_key(m, prev, next, bpf_map__key_size(m)) == 0) {
		memcpy(key, next, bpf_map__key_size(m));
		prev = key;
		n++;
	}
	return n;
}

/* 16-byte address; IPv4 v4-mapped as the programs store it. */
static void addr16(const char *text, uint8_t out[16])
{
	memset(out, 0, 16);
	if (strchr(text, ':')) {
		cr_assert_eq(inet_pton(AF_INET6, text, out), 1);
		return;
	}
	out[10] = out[11] = 0xff;
	cr_assert_eq(inet_pton(AF_INET, text, out + 12), 1);
}

static struct gcp_tap_counter inv_ip(struct bpf_map *m, uint8_t slot, const char *ip)
{
	struct gcp_tap_ip_key k = { .slot = slot };

	addr16(ip, k.addr);
	return inv(m, &k);
}

static struct gcp_tap_counter inv_proto(uint8_t slot, uint8_t l4, uint8_t ipv)
{
	struct gcp_tap_proto_key k = { .slot = slot, .l4 = l4, .ip_version = ipv };

	return inv(skel->maps.inv_protos, &k);
}

static struct gcp_tap_counter inv_port(uint8_t slot, uint8_t l4, uint16_t port)
{
	struct gcp_tap_svc_key k = { .slot = slot, .l4 = l4, .port = port };

	return inv(skel->maps.inv_ports, &k);
}

static struct gcp_tap_counter inv_dir(uint8_t slot, uint8_t dir, uint8_t locality)
{
	struct gcp_tap_dir_key k = { .slot = slot, .dir = dir, .locality = locality };

	return inv(skel->maps.inv_dirs, &k);
}

/* "a.b.c.d/n" or "v6/n" into an LPM key (IPv4 prefixes count the 96 mapped bits). */
static void lpm_add(struct bpf_map *m, const char *cidr)
{
	struct gcp_tap_lpm_key k = { 0 };
	char ip[64];
	const char *slash = strchr(cidr, '/');
	uint32_t one = 1;

	cr_assert_not_null(slash);
	snprintf(ip, sizeof(ip), "%.*s", (int)(slash - cidr), cidr);
	addr16(ip, k.addr);
	k.prefixlen = (uint32_t)atoi(slash + 1) + (strchr(ip, ':') ? 0 : 96);
	cr_assert_eq(bpf_map__update_elem(m, &k, sizeof(k), &one, sizeof(one), BPF_ANY), 0);
}

static void u32_add(struct bpf_map *m, uint32_t key)
{
	uint32_t one = 1;

	cr_assert_eq(bpf_map__update_elem(m, &key, sizeof(key), &one, sizeof(one), BPF_ANY), 0);
}

static void port_add(uint8_t l4, uint16_t port)
{
	struct gcp_tap_port_key k = { .port = port, .l4 = l4 };
	uint32_t one = 1;

	cr_assert_eq(bpf_map__update_elem(skel->maps.policy_ports, &k, sizeof(k), &one,
					  sizeof(one), BPF_ANY), 0);
}

static void match_cfg(uint32_t dims)
{
	struct gcp_tap_cfg cfg = { .policy_mode = GCP_TAP_POLICY_MATCH, .match_dims = dims };

	set_cfg(&cfg);
}

/* Runs p on TC ingress and reports whether the policy selected it. */
static int hits(const struct pkt *p)
{
	uint64_t before = stat(GCP_TAP_ST_POLICY_HIT);

	cr_assert_eq(run(TC_IN, p), TC_ACT_UNSPEC_RET);
	return stat(GCP_TAP_ST_POLICY_HIT) - before == 1;
}

/* ---- loading ------------------------------------------------------------- */

Test(bpf_tap, object_loads_all_programs)
{
	const struct bpf_program *progs[3];

	load_progs(P_ALL);
	progs[0] = skel->progs.tap_tc_ingress;
	progs[1] = skel->progs.tap_tc_egress;
	progs[2] = skel->progs.tap_xdp;
	for (int i = 0; i < 3; i++) {
		struct bpf_prog_info info = { 0 };
		uint32_t len = sizeof(info);

		cr_assert_geq(fd_of(progs[i]), 0);
		cr_assert_eq(bpf_obj_get_info_by_fd(fd_of(progs[i]), &info, &len), 0);
		cr_assert_gt(info.verified_insns, 0);
		printf("%s: %u insns, %u verified\n", bpf_program__name(progs[i]),
		       info.xlated_prog_len / 8, info.verified_insns);
	}
	cr_assert_eq(bpf_program__type(skel->progs.tap_xdp), BPF_PROG_TYPE_XDP);
	cr_assert_eq(bpf_program__type(skel->progs.tap_tc_ingress), BPF_PROG_TYPE_SCHED_CLS);
}

/* ---- inventory ------------------------------------------------------------ */

Test(bpf_tap, tcp_syn_counts_every_inventory_map)
{
	struct pkt p;
	uint32_t len;

	load();
	len = tcp4(&p, "10.0.0.1", "10.0.0.2", 40000, 80, SYN, 0);
	cr_assert_eq(len, 40);
	cr_assert_eq(run(TC_IN, &p), TC_ACT_UNSPEC_RET);
	cr_assert_eq(run(TC_IN, &p), TC_ACT_UNSPEC_RET);

	cr_assert_eq(stat(GCP_TAP_ST_PKTS), 2);
	cr_assert_eq(stat(GCP_TAP_ST_NON_IP), 0);
	cr_assert_eq(stat(GCP_TAP_ST_PARSE_FAIL), 0);
	cr_assert_eq(stat(GCP_TAP_ST_POLICY_HIT), 0, "policy none selects nothing");
	cr_assert_eq(stat(GCP_TAP_ST_MIRRORED), 0);

	cr_assert_eq(inv_proto(0, 6, 4).pkts, 2);
	cr_assert_eq(inv_proto(0, 6, 4).bytes, 80);
	cr_assert_eq(inv_ip(skel->maps.inv_src_ips, 0, "10.0.0.1").bytes, 80);
	cr_assert_eq(inv_ip(skel->maps.inv_dst_ips, 0, "10.0.0.2").pkts, 2);
	cr_assert_eq(inv_ip(skel->maps.inv_src_ips, 0, "10.0.0.2").pkts, 0);
	cr_assert_eq(inv_port(0, 6, 80).pkts, 2);
	cr_assert_eq(inv_dir(0, GCP_TAP_INGRESS, GCP_TAP_NORTH_SOUTH).bytes, 80);
	cr_assert_eq(map_entries(skel->maps.inv_protos), 1);
	cr_assert_eq(map_entries(skel->maps.inv_src_ips), 1);
	cr_assert_eq(map_entries(skel->maps.inv_dst_ips), 1);
	cr_assert_eq(map_entries(skel->maps.inv_ports), 1);
	cr_assert_eq(map_entries(skel->maps.inv_dirs), 1);
}

Test(bpf_tap, service_port_rules)
{
	struct pkt p;

	load();
	tcp4(&p, "10.0.0.1", "10.0.0.2", 1000, 8080, SYN, 0);   /* SYN: dport */
	run(TC_IN, &p);
	tcp4(&p, "10.0.0.2", "10.0.0.1", 8080, 1000, SYN | ACK, 0); /* SYN+ACK: sport */
	run(TC_IN, &p);
	tcp4(&p, "10.0.0.1", "10.0.0.2", 1000, 8080, ACK, 10);  /* else the lower */
	run(TC_IN, &p);
	udp4(&p, "10.0.0.1", "10.0.0.3", 53535, 53, 30);
	run(TC_IN, &p);
	udp4(&p, "10.0.0.3", "10.0.0.1", 53, 53535, 60);
	run(TC_IN, &p);

	cr_assert_eq(inv_port(0, 6, 8080).pkts, 2);
	cr_assert_eq(inv_port(0, 6, 1000).pkts, 1);
	cr_assert_eq(inv_port(0, 6, 1000).bytes, 50);
	cr_assert_eq(inv_port(0, 17, 53).pkts, 2);
	cr_assert_eq(inv_port(0, 17, 53).bytes, 28 + 30 + 28 + 60);
	cr_assert_eq(map_entries(skel->maps.inv_ports), 3);
	cr_assert_eq(inv_proto(0, 17, 4).pkts, 2);

	memset(&p, 0, sizeof(p)); /* SCTP: ports lead the common header */
	put_eth(&p, 0x0800);
	put_ipv4(&p, "10.0.0.1", "10.0.0.2", 132);
	put_udp(&p, 38412, 2905);
	grow(&p, 8);
	finish(&p);
	run(TC_IN, &p);
	cr_assert_eq(inv_port(0, 132, 2905).bytes, 36);

	memset(&p, 0, sizeof(p)); /* ICMP: a protocol, no service port */
	put_eth(&p, 0x0800);
	put_ipv4(&p, "10.0.0.1", "10.0.0.2", 1);
	grow(&p, 8);
	finish(&p);
	run(TC_IN, &p);
	cr_assert_eq(inv_proto(0, 1, 4).bytes, 28);
	cr_assert_eq(map_entries(skel->maps.inv_ports), 4);
}

Test(bpf_tap, gso_packets_count_their_segments)
{
	struct pkt p;
	uint32_t len;

	load();
	len = tcp4(&p, "10.0.0.1", "10.0.0.2", 40000, 80, ACK, 400);
	cr_assert_eq(run_gso(&p, 3), TC_ACT_UNSPEC_RET);
	cr_assert_eq(inv_proto(0, 6, 4).pkts, 3);
	cr_assert_eq(inv_proto(0, 6, 4).bytes, len);
	cr_assert_eq(inv_port(0, 6, 80).pkts, 3);
	cr_assert_eq(stat(GCP_TAP_ST_PKTS), 1, "program runs, not segments");

	p.b[16] = p.b[17] = 0; /* BIG TCP: no IPv4 length, the frame says it */
	run(TC_IN, &p);
	cr_assert_eq(inv_proto(0, 6, 4).bytes, 2 * len);
}

Test(bpf_tap, egress_direction_and_locality)
{
	struct pkt p;

	load_progs(P_TC_IN | P_TC_OUT);
	lpm_add(skel->maps.local_prefixes, "10.0.0.0/8");
	lpm_add(skel->maps.local_prefixes, "fd00::/8");
	tcp4(&p, "10.0.0.1", "10.9.9.9", 40000, 443, SYN, 0); /* both local */
	cr_assert_eq(run(TC_OUT, &p), TC_ACT_UNSPEC_RET);
	tcp4(&p, "10.0.0.1", "192.0.2.7", 40000, 443, SYN, 0); /* one end only */
	cr_assert_eq(run(TC_OUT, &p), TC_ACT_UNSPEC_RET);
	cr_assert_eq(run(TC_IN, &p), TC_ACT_UNSPEC_RET);

	cr_assert_eq(inv_dir(0, GCP_TAP_EGRESS, GCP_TAP_EAST_WEST).pkts, 1);
	cr_assert_eq(inv_dir(0, GCP_TAP_EGRESS, GCP_TAP_NORTH_SOUTH).pkts, 1);
	cr_assert_eq(inv_dir(0, GCP_TAP_INGRESS, GCP_TAP_NORTH_SOUTH).pkts, 1);
	cr_assert_eq(inv_dir(0, GCP_TAP_INGRESS, GCP_TAP_EAST_WEST).pkts, 0);

	memset(&p, 0, sizeof(p));
	put_eth(&p, 0x86dd);
	put_ipv6(&p, "fd00::1", "fd00::2", 17);
	put_udp(&p, 5000, 53);
	finish(&p);
	run(TC_IN, &p);
	cr_assert_eq(inv_dir(0, GCP_TAP_INGRESS, GCP_TAP_EAST_WEST).bytes, 48);
}

Test(bpf_tap, xdp_counts_as_ingress)
{
	struct pkt p;

	load_progs(P_XDP);
	udp4(&p, "10.0.0.1", "10.0.0.2", 1234, 53, 12);
	cr_assert_eq(run(XDP, &p), XDP_PASS_);
	cr_assert_eq(inv_dir(0, GCP_TAP_INGRESS, GCP_TAP_NORTH_SOUTH).bytes, 40);
	cr_assert_eq(inv_dir(0, GCP_TAP_EGRESS, GCP_TAP_NORTH_SOUTH).pkts, 0);
	cr_assert_eq(stat(GCP_TAP_ST_PKTS), 1);
}

Test(bpf_tap, slot_selects_the_key_being_written)
{
	struct gcp_tap_cfg cfg = { .slot = 1 };
	struct pkt p;

	load();
	tcp4(&p, "10.0.0.1", "10.0.0.2", 40000, 80, SYN, 0);
	run(TC_IN, &p);
	set_cfg(&cfg);
	run(TC_IN, &p);
	run(TC_IN, &p);
	cr_assert_eq(inv_proto(0, 6, 4).pkts, 1);
	cr_assert_eq(inv_proto(1, 6, 4).pkts, 2);
	cr_assert_eq(inv_ip(skel->maps.inv_src_ips, 1, "10.0.0.1").pkts, 2);
	cr_assert_eq(inv_ip(skel->maps.inv_dst_ips, 1, "10.0.0.2").pkts, 2);
	cr_assert_eq(inv_port(1, 6, 80).pkts, 2);
	cr_assert_eq(inv_dir(1, GCP_TAP_INGRESS, GCP_TAP_NORTH_SOUTH).pkts, 2);
	cr_assert_eq(map_entries(skel->maps.inv_dirs), 2);
}

Test(bpf_tap, full_inventory_map_counts_overflow)
{
	struct gcp_tap *s = open_progs(P_TC_IN);
	struct pkt p;

	cr_assert_eq(bpf_map__set_max_entries(s->maps.inv_src_ips, 2), 0);
	load_skel(s);
	udp4(&p, "10.0.0.1", "10.0.0.9", 1000, 53, 0);
	run(TC_IN, &p);
	udp4(&p, "10.0.0.2", "10.0.0.9", 1000, 53, 0);
	run(TC_IN, &p);
	udp4(&p, "10.0.0.3", "10.0.0.9", 1000, 53, 0);
	run(TC_IN, &p);
	run(TC_IN, &p);
	udp4(&p, "10.0.0.1", "10.0.0.9", 1000, 53, 0); /* existing key: still counted */
	run(TC_IN, &p);

	cr_assert_eq(stat(GCP_TAP_ST_INV_OVERFLOW), 2);
	cr_assert_eq(map_entries(skel->maps.inv_src_ips), 2);
	cr_assert_eq(inv_ip(skel->maps.inv_src_ips, 0, "10.0.0.1").pkts, 2);
	cr_assert_eq(inv_ip(skel->maps.inv_src_ips, 0, "10.0.0.3").pkts, 0);
	cr_assert_eq(inv_ip(skel->maps.inv_dst_ips, 0, "10.0.0.9").pkts, 5, "other maps unaffected");
}

/* ---- parsing ---------------------------------------------------------- */

Test(bpf_tap, ipv6_extension_headers)
{
	struct pkt p;
	uint32_t len;

	load();
	memset(&p, 0, sizeof(p));
	put_eth(&p, 0x86dd);
	put_ipv6(&p, "2001:db8::1", "2001:db8::2", 0);
	put_ext6(&p, 60, 0);  /* hop-by-hop, 8 bytes */
	put_ext6(&p, 43, 1);  /* dest-opts, 16 bytes */
	put_ext6(&p, 44, 2);  /* routing, 24 bytes */
	put_frag6(&p, 6, 0, 1); /* first fragment */
	put_tcp(&p, 50000, 443, SYN);
	len = finish(&p);
	cr_assert_eq(len, 40 + 8 + 16 + 24 + 8 + 20);
	run(TC_IN, &p);

	cr_assert_eq(stat(GCP_TAP_ST_PARSE_FAIL), 0);
	cr_assert_eq(inv_proto(0, 6, 6).bytes, len);
	cr_assert_eq(inv_port(0, 6, 443).pkts, 1);
	cr_assert_eq(inv_ip(skel->maps.inv_src_ips, 0, "2001:db8::1").bytes, len);
	cr_assert_eq(inv_ip(skel->maps.inv_dst_ips, 0, "2001:db8::2").pkts, 1);
}

Test(bpf_tap, non_first_fragments_count_without_ports)
{
	struct pkt p;

	load();
	memset(&p, 0, sizeof(p));
	put_eth(&p, 0x86dd);
	put_ipv6(&p, "2001:db8::1", "2001:db8::2", 44);
	put_frag6(&p, 17, 185, 0);
	grow(&p, 100); /* payload that is not a UDP header */
	finish(&p);
	run(TC_IN, &p);

	memset(&p, 0, sizeof(p));
	put_eth(&p, 0x0800);
	put_ipv4_opts(&p, "10.0.0.1", "10.0.0.2", 17, 5, 185); /* offset 185*8 */
	grow(&p, 4); /* shorter than a UDP header: fine, it is not one */
	finish(&p);
	run(TC_IN, &p);

	cr_assert_eq(stat(GCP_TAP_ST_PARSE_FAIL), 0);
	cr_assert_eq(inv_proto(0, 17, 6).bytes, 40 + 8 + 100);
	cr_assert_eq(inv_proto(0, 17, 4).bytes, 24);
	cr_assert_eq(map_entries(skel->maps.inv_ports), 0);
	cr_assert_eq(map_entries(skel->maps.inv_src_ips), 2);
}

Test(bpf_tap, ipv4_options_are_skipped)
{
	struct pkt p;

	load();
	memset(&p, 0, sizeof(p));
	put_eth(&p, 0x0800);
	put_ipv4_opts(&p, "10.0.0.1", "10.0.0.2", 6, 7, 0); /* 8 bytes of options */
	put_tcp(&p, 40000, 22, SYN);
	finish(&p);
	run(TC_IN, &p);
	cr_assert_eq(inv_port(0, 6, 22).bytes, 48);
}

Test(bpf_tap, vlan_tags_are_walked)
{
	struct pkt p;

	load();
	memset(&p, 0, sizeof(p));
	put_eth(&p, 0x88a8);
	put_vlan(&p, 100, 0x8100);
	put_vlan(&p, 200, 0x0800);
	put_ipv4(&p, "10.0.0.1", "10.0.0.2", 17);
	put_udp(&p, 1000, 53);
	finish(&p);
	run(TC_IN, &p);
	cr_assert_eq(inv_port(0, 17, 53).pkts, 1);

	memset(&p, 0, sizeof(p)); /* a third tag is beyond what the programs walk */
	put_eth(&p, 0x8100);
	put_vlan(&p, 1, 0x8100);
	put_vlan(&p, 2, 0x8100);
	put_vlan(&p, 3, 0x0800);
	put_ipv4(&p, "10.0.0.1", "10.0.0.2", 17);
	put_udp(&p, 1000, 53);
	finish(&p);
	run(TC_IN, &p);
	cr_assert_eq(stat(GCP_TAP_ST_NON_IP), 1);
	cr_assert_eq(inv_port(0, 17, 53).pkts, 1);
}

Test(bpf_tap, arp_is_non_ip_and_passes)
{
	struct pkt p;

	load_progs(P_ALL);
	arp(&p);
	cr_assert_eq(run(TC_IN, &p), TC_ACT_UNSPEC_RET);
	cr_assert_eq(run(TC_OUT, &p), TC_ACT_UNSPEC_RET);
	cr_assert_eq(run(XDP, &p), XDP_PASS_);
	cr_assert_eq(stat(GCP_TAP_ST_PKTS), 3);
	cr_assert_eq(stat(GCP_TAP_ST_NON_IP), 3);
	cr_assert_eq(map_entries(skel->maps.inv_protos), 0);
	cr_assert_eq(map_entries(skel->maps.inv_dirs), 0);
}

Test(bpf_tap, truncated_headers_are_parse_failures)
{
	struct pkt p;

	load_progs(P_ALL);
	memset(&p, 0, sizeof(p)); /* IPv4 header cut at 10 bytes (TC test runs refuse it) */
	put_eth(&p, 0x0800);
	grow(&p, 10)[0] = 0x45;
	cr_assert_eq(run(XDP, &p), XDP_PASS_);

	tcp4(&p, "10.0.0.1", "10.0.0.2", 1, 2, SYN, 0); /* TCP header cut at 8 bytes */
	p.len -= 12;
	cr_assert_eq(run(XDP, &p), XDP_PASS_);

	memset(&p, 0, sizeof(p)); /* extension header longer than the packet */
	put_eth(&p, 0x86dd);
	put_ipv6(&p, "2001:db8::1", "2001:db8::2", 0);
	put_ext6(&p, 17, 0);
	p.b[p.len - 7] = 200;
	put_udp(&p, 1, 2);
	finish(&p);
	cr_assert_eq(run(TC_OUT, &p), TC_ACT_UNSPEC_RET);

	memset(&p, 0, sizeof(p)); /* IHL below 5 */
	put_eth(&p, 0x0800);
	put_ipv4_opts(&p, "10.0.0.1", "10.0.0.2", 17, 5, 0);
	p.b[14] = 0x44;
	put_udp(&p, 1, 2);
	finish(&p);
	run(TC_IN, &p);

	cr_assert_eq(stat(GCP_TAP_ST_PKTS), 4);
	cr_assert_eq(stat(GCP_TAP_ST_PARSE_FAIL), 4);
	cr_assert_eq(map_entries(skel->maps.inv_protos), 0);
	cr_assert_eq(map_entries(skel->maps.inv_src_ips), 0);
}

/* ---- policy --------------------------------------------------------------- */

Test(bpf_tap, policy_modes)
{
	struct gcp_tap_cfg cfg = { .policy_mode = GCP_TAP_POLICY_ALL };
	struct pkt p;

	load();
	tcp4(&p, "10.0.0.1", "10.0.0.2", 40000, 80, SYN, 0);
	cr_assert_not(hits(&p), "none (default) selects nothing");
	set_cfg(&cfg);
	cr_assert(hits(&p), "all selects IP");
	arp(&p);
	cr_assert(hits(&p), "all selects every frame");
	match_cfg(0);
	cr_assert_not(hits(&p), "match with no active dimension selects nothing");
	tcp4(&p, "10.0.0.1", "10.0.0.2", 40000, 80, SYN, 0);
	cr_assert_not(hits(&p));
}

Test(bpf_tap, policy_cidr_matches_either_end)
{
	struct pkt p;

	load();
	lpm_add(skel->maps.policy_cidr, "192.0.2.0/24");
	lpm_add(skel->maps.policy_cidr, "2001:db8:1::/48");
	match_cfg(GCP_TAP_DIM_CIDR);
	tcp4(&p, "192.0.2.9", "10.0.0.2", 40000, 80, SYN, 0);
	cr_assert(hits(&p), "src in prefix");
	tcp4(&p, "10.0.0.2", "192.0.2.200", 40000, 80, SYN, 0);
	cr_assert(hits(&p), "dst in prefix");
	tcp4(&p, "10.0.0.2", "192.0.3.1", 40000, 80, SYN, 0);
	cr_assert_not(hits(&p), "neither end");
	memset(&p, 0, sizeof(p));
	put_eth(&p, 0x86dd);
	put_ipv6(&p, "2001:db8:1:ff::1", "2001:db8:2::1", 58);
	grow(&p, 8);
	finish(&p);
	cr_assert(hits(&p), "v6 prefix");
	arp(&p);
	cr_assert_not(hits(&p), "non-IP never matches CIDR");
}

Test(bpf_tap, policy_port_matches_sport_or_dport_per_l4)
{
	struct pkt p;

	load();
	port_add(6, 80);
	port_add(17, 53);
	match_cfg(GCP_TAP_DIM_PORT);
	tcp4(&p, "10.0.0.1", "10.0.0.2", 40000, 80, SYN, 0);
	cr_assert(hits(&p));
	tcp4(&p, "10.0.0.2", "10.0.0.1", 80, 40000, SYN | ACK, 0);
	cr_assert(hits(&p));
	udp4(&p, "10.0.0.1", "10.0.0.2", 40000, 80, 0);
	cr_assert_not(hits(&p), "udp/80 is not tcp/80");
	udp4(&p, "10.0.0.1", "10.0.0.2", 40000, 53, 0);
	cr_assert(hits(&p));
	tcp4(&p, "10.0.0.1", "10.0.0.2", 40000, 53, SYN, 0);
	cr_assert_not(hits(&p), "tcp/53 not listed");
}

Test(bpf_tap, policy_proto)
{
	struct pkt p;

	load();
	u32_add(skel->maps.policy_protos, 17);
	match_cfg(GCP_TAP_DIM_PROTO);
	udp4(&p, "10.0.0.1", "10.0.0.2", 1, 2, 0);
	cr_assert(hits(&p));
	tcp4(&p, "10.0.0.1", "10.0.0.2", 1, 2, SYN, 0);
	cr_assert_not(hits(&p));
}

Test(bpf_tap, policy_vlan_uses_the_outermost_tag)
{
	struct pkt p;

	load_progs(P_TC_IN | P_XDP);
	u32_add(skel->maps.policy_vlans, 100);
	match_cfg(GCP_TAP_DIM_VLAN);
	memset(&p, 0, sizeof(p));
	put_eth(&p, 0x8100);
	put_vlan(&p, 0x2000 | 100, 0x8100); /* PCP bits are not part of the id */
	put_vlan(&p, 200, 0x0800);
	put_ipv4(&p, "10.0.0.1", "10.0.0.2", 17);
	put_udp(&p, 1, 2);
	finish(&p);
	cr_assert(hits(&p));
	cr_assert(run(XDP, &p) == XDP_PASS_);

	memset(&p, 0, sizeof(p));
	put_eth(&p, 0x8100);
	put_vlan(&p, 200, 0x8100);
	put_vlan(&p, 100, 0x0800);
	put_ipv4(&p, "10.0.0.1", "10.0.0.2", 17);
	put_udp(&p, 1, 2);
	finish(&p);
	cr_assert_not(hits(&p), "inner tag does not count");
	udp4(&p, "10.0.0.1", "10.0.0.2", 1, 2, 0);
	cr_assert_not(hits(&p), "untagged never matches the VLAN dimension");
}

Test(bpf_tap, policy_vni)
{
	struct pkt p;

	load();
	u32_add(skel->maps.policy_vnis, 4242);
	match_cfg(GCP_TAP_DIM_VNI);
	udp4(&p, "10.0.0.1", "10.0.0.2", 33000, 4789, 0);
	put_vxlan(&p, 4242);
	grow(&p, 14); /* inner Ethernet */
	finish(&p);
	cr_assert(hits(&p));
	udp4(&p, "10.0.0.1", "10.0.0.2", 33000, 4789, 0);
	put_vxlan(&p, 4243);
	finish(&p);
	cr_assert_not(hits(&p), "other VNI");
	udp4(&p, "10.0.0.1", "10.0.0.2", 33000, 4790, 0);
	put_vxlan(&p, 4242);
	finish(&p);
	cr_assert_not(hits(&p), "not UDP 4789");
	cr_assert_eq(inv_port(0, 17, 4789).pkts, 2);
}

Test(bpf_tap, policy_dimensions_are_anded)
{
	struct pkt p;

	load();
	lpm_add(skel->maps.policy_cidr, "10.1.0.0/16");
	port_add(6, 443);
	match_cfg(GCP_TAP_DIM_CIDR | GCP_TAP_DIM_PORT);
	tcp4(&p, "10.1.2.3", "10.9.0.1", 40000, 443, SYN, 0);
	cr_assert(hits(&p));
	tcp4(&p, "10.1.2.3", "10.9.0.1", 40000, 80, SYN, 0);
	cr_assert_not(hits(&p), "cidr only");
	tcp4(&p, "10.2.2.3", "10.9.0.1", 40000, 443, SYN, 0);
	cr_assert_not(hits(&p), "port only");
}

Test(bpf_tap, policy_updates_apply_without_reload)
{
	struct pkt p;
	int fd;

	load();
	fd = TC_IN;
	lpm_add(skel->maps.policy_cidr, "192.0.2.0/24");
	match_cfg(GCP_TAP_DIM_CIDR);
	tcp4(&p, "10.0.0.1", "198.51.100.7", 40000, 80, SYN, 0);
	cr_assert_not(hits(&p));
	lpm_add(skel->maps.policy_cidr, "198.51.100.0/24");
	cr_assert(hits(&p), "new prefix takes effect");
	cr_assert_eq(TC_IN, fd, "same program");
	port_add(6, 22);
	match_cfg(GCP_TAP_DIM_CIDR | GCP_TAP_DIM_PORT);
	cr_assert_not(hits(&p), "new dimension takes effect");
}

/* ---- steering ------------------------------------------------------------- */

/*
 * A private network namespace with a veth pair: a clone target and an
 * AF_XDP device. IPv6 off, so no MLD/DAD packet reaches attached programs.
 */
static int private_veth(void)
{
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(system("for c in all default; do "
			    "echo 1 2>/dev/null >/proc/sys/net/ipv6/conf/$c/disable_ipv6; done; "
			    "ip link add gtapu0 type veth peer name gtapu1 && "
			    "ip link set gtapu0 up && ip link set gtapu1 up"), 0);
	return (int)if_nametoindex("gtapu0");
}

Test(bpf_tap, tc_clones_hits_and_always_continues)
{
	struct gcp_tap_cfg cfg = { .policy_mode = GCP_TAP_POLICY_ALL };
	struct pkt p;
	int monitor;

	load_progs(P_TC_IN | P_TC_OUT);
	monitor = private_veth();
	cr_assert_gt(monitor, 1);
	set_cfg(&cfg);
	tcp4(&p, "10.0.0.1", "10.0.0.2", 40000, 80, SYN, 0);
	cr_assert_eq(run(TC_IN, &p), TC_ACT_UNSPEC_RET, "no monitor: hit, no clone");
	cr_assert_eq(stat(GCP_TAP_ST_MIRRORED) + stat(GCP_TAP_ST_MIRROR_FAIL), 0);

	cfg.monitor_ifindex = (uint32_t)monitor;
	set_cfg(&cfg);
	cr_assert_eq(run(TC_IN, &p), TC_ACT_UNSPEC_RET);
	cr_assert_eq(run(TC_OUT, &p), TC_ACT_UNSPEC_RET);
	cr_assert_eq(stat(GCP_TAP_ST_MIRRORED), 2);

	cfg.monitor_ifindex = 1; /* the test-run skb's own device (lo): would loop */
	set_cfg(&cfg);
	cr_assert_eq(run(TC_OUT, &p), TC_ACT_UNSPEC_RET);
	cfg.monitor_ifindex = 999999; /* no such device */
	set_cfg(&cfg);
	cr_assert_eq(run(TC_IN, &p), TC_ACT_UNSPEC_RET);
	cr_assert_eq(stat(GCP_TAP_ST_MIRROR_FAIL), 2);
	cr_assert_eq(stat(GCP_TAP_ST_MIRRORED), 2);

	cfg.monitor_ifindex = (uint32_t)monitor; /* a miss is never cloned */
	cfg.policy_mode = GCP_TAP_POLICY_NONE;
	set_cfg(&cfg);
	cr_assert_eq(run(TC_IN, &p), TC_ACT_UNSPEC_RET);
	cr_assert_eq(stat(GCP_TAP_ST_MIRRORED), 2);
	cr_assert_eq(stat(GCP_TAP_ST_POLICY_HIT), 5);
}

Test(bpf_tap, xdp_miss_action_and_missing_socket)
{
	struct gcp_tap_cfg cfg = { .policy_mode = GCP_TAP_POLICY_MATCH,
				   .match_dims = GCP_TAP_DIM_PROTO };
	struct pkt p;

	load_progs(P_XDP);
	u32_add(skel->maps.policy_protos, 6);
	set_cfg(&cfg);
	udp4(&p, "10.0.0.1", "10.0.0.2", 1, 2, 0);
	cr_assert_eq(run(XDP, &p), XDP_PASS_, "miss, action 0: pass");
	cfg.xdp_miss_action = XDP_DROP_;
	set_cfg(&cfg);
	cr_assert_eq(run(XDP, &p), XDP_DROP_);
	cfg.xdp_miss_action = XDP_TX_;
	set_cfg(&cfg);
	cr_assert_eq(run(XDP, &p), XDP_PASS_, "only pass or drop are honoured");

	cfg.xdp_miss_action = XDP_DROP_;
	set_cfg(&cfg);
	tcp4(&p, "10.0.0.1", "10.0.0.2", 1, 2, SYN, 0);
	cr_assert_eq(run(XDP, &p), XDP_PASS_, "hit without a socket passes");
	cr_assert_eq(stat(GCP_TAP_ST_POLICY_HIT), 1);
	cr_assert_eq(stat(GCP_TAP_ST_MIRROR_FAIL), 1);
	cr_assert_eq(stat(GCP_TAP_ST_MIRRORED), 0);
}

/* A bound AF_XDP socket (copy mode) on queue 0 of ifindex: enough for an XSKMAP entry. */
static int xsk_bound(int ifindex, void **umem)
{
	size_t umem_len = 16 * 4096;
	struct xdp_umem_reg mr = { .len = umem_len, .chunk_size = 4096 };
	struct sockaddr_xdp sa = { .sxdp_family = AF_XDP, .sxdp_ifindex = (uint32_t)ifindex,
				   .sxdp_queue_id = 0, .sxdp_flags = XDP_COPY };
	int ring = 8;
	int fd = socket(AF_XDP, SOCK_RAW, 0);

	cr_assert_geq(fd, 0, "AF_XDP socket: %s", strerror(errno));
	*umem = mmap(NULL, umem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(*umem, MAP_FAILED);
	mr.addr = (uintptr_t)*umem;
	cr_assert_eq(setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)), 0);
	cr_assert_eq(setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &ring, sizeof(ring)), 0);
	cr_assert_eq(setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &ring, sizeof(ring)), 0);
	cr_assert_eq(setsockopt(fd, SOL_XDP, XDP_RX_RING, &ring, sizeof(ring)), 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind: %s", strerror(errno));
	return fd;
}

Test(bpf_tap, xdp_hit_redirects_to_the_queue_socket)
{
	struct gcp_tap_cfg cfg = { .policy_mode = GCP_TAP_POLICY_MATCH,
				   .match_dims = GCP_TAP_DIM_PORT,
				   .xdp_miss_action = XDP_DROP_ };
	struct pkt p;
	uint32_t q0 = 0;
	void *umem;
	int xfd;

	load_progs(P_XDP);
	xfd = xsk_bound(private_veth(), &umem);
	cr_assert_eq(bpf_map__update_elem(skel->maps.xsks, &q0, sizeof(q0), &xfd, sizeof(xfd),
					  BPF_ANY), 0, "xsks: %s", strerror(errno));
	port_add(17, 53);
	set_cfg(&cfg);
	udp4(&p, "10.0.0.1", "10.0.0.2", 40000, 53, 20);
	cr_assert_eq(run(XDP, &p), XDP_REDIRECT_);
	cr_assert_eq(stat(GCP_TAP_ST_MIRRORED), 1);
	udp4(&p, "10.0.0.1", "10.0.0.2", 40000, 54, 20);
	cr_assert_eq(run(XDP, &p), XDP_DROP_);
	cr_assert_eq(stat(GCP_TAP_ST_MIRRORED), 1);
	cr_assert_eq(stat(GCP_TAP_ST_MIRROR_FAIL), 0);
	cr_assert_eq(inv_port(0, 17, 53).pkts, 1, "redirected packets are counted too");
	close(xfd);
	munmap(umem, 16 * 4096);
}

/* ---- real attach: the offloaded VLAN tag ------------------------------------ */

static void tc_attach(int ifindex, enum bpf_tc_attach_point where, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 0x6763, .priority = 1, .prog_fd = prog_fd);
	int err = bpf_tc_hook_create(&hook);

	cr_assert(err == 0 || err == -EEXIST, "clsact: %d", err);
	cr_assert_eq(bpf_tc_attach(&hook, &opts), 0);
}

static void send_raw(int ifindex, const struct pkt *p)
{
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = 6 };
	int fd = socket(AF_PACKET, SOCK_RAW, 0);

	cr_assert_geq(fd, 0, "AF_PACKET: %s", strerror(errno));
	memcpy(sa.sll_addr, p->b, 6);
	cr_assert_eq(sendto(fd, p->b, p->len, 0, (struct sockaddr *)&sa, sizeof(sa)),
		     (ssize_t)p->len, "sendto: %s", strerror(errno));
	close(fd);
}

/* Receive untags the outer tag into skb metadata before TC ingress; egress keeps it in the frame. */
Test(bpf_tap, tc_sees_the_outer_tag_in_packet_or_offloaded)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int tx, rx;
	struct pkt p;

	load_progs(P_TC_IN | P_TC_OUT);
	tx = private_veth();
	rx = (int)if_nametoindex("gtapu1");
	tc_attach(tx, BPF_TC_EGRESS, TC_OUT);
	tc_attach(rx, BPF_TC_INGRESS, TC_IN);
	u32_add(skel->maps.policy_vlans, 100);
	match_cfg(GCP_TAP_DIM_VLAN);

	memset(&p, 0, sizeof(p));
	put_eth(&p, 0x88a8);
	put_vlan(&p, 0x6000 | 100, 0x8100);
	put_vlan(&p, 7, 0x0800);
	put_ipv4(&p, "10.5.0.1", "10.5.0.2", 17);
	put_udp(&p, 40000, 7);
	grow(&p, 20);
	finish(&p);
	send_raw(tx, &p);
	for (int i = 0; i < 100 && stat(GCP_TAP_ST_POLICY_HIT) < 2; i++)
		nanosleep(&pause, NULL);
	cr_assert_eq(stat(GCP_TAP_ST_POLICY_HIT), 2, "egress (tag in frame) and ingress (offloaded)");
	cr_assert_eq(inv_dir(0, GCP_TAP_EGRESS, GCP_TAP_NORTH_SOUTH).bytes, 48);
	cr_assert_eq(inv_dir(0, GCP_TAP_INGRESS, GCP_TAP_NORTH_SOUTH).bytes, 48);
	cr_assert_eq(inv_port(0, 17, 7).pkts, 2);
}
