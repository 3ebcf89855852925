/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tap programs: inventory counting and policy steering on a tapped
 * interface. TC (clsact ingress/egress) clones matching packets to a
 * monitor interface; XDP redirects them into AF_XDP sockets (XSKMAP).
 * The tapped traffic always continues. Layouts: tap_common.h.
 */
/*
 * Only wire-format headers and __sk_buff/xdp_md are read, none of them a
 * kernel-internal struct: no implicit CO-RE relocation (which would make
 * every load parse the kernel BTF). BPF_CORE_READ() still relocates.
 */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "tap_common.h"

/* Not in vmlinux.h (UAPI #defines). */
#define TC_ACT_UNSPEC (-1)
#define ETH_P_IP      0x0800
#define ETH_P_IPV6    0x86DD
#define ETH_P_8021Q   0x8100
#define ETH_P_8021AD  0x88A8
#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_DSTOPTS_ 60
#define IP_PROTO_TCP  6
#define IP_PROTO_UDP  17
#define IP_PROTO_SCTP 132
#define VXLAN_PORT    4789
#define TCP_FLAG_SYN  0x02
#define TCP_FLAG_ACK  0x10
#define ERR_EEXIST    17

#define MAX_VLAN_TAGS 2 /* in the packet; TC also sees one offloaded tag */
#define MAX_V6_EXT    4 /* hop-by-hop, routing, dest-opts, fragment */

/* Sizes for the inventory maps tap_common.h leaves to us (both slots). */
#define INV_PROTOS_MAX 1024u /* 256 protocols x 2 IP versions x 2 slots */
#define INV_DIRS_MAX   16u   /* 2 dirs x 2 localities x 2 slots, with room */
#define LOCAL_PREFIXES_MAX 1024u

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- maps (names are the pinning contract with probe/tap/) ---------------- */

/*
 * Mappable: user space stores each field on its own (the drain flips
 * slot, policy commands set policy_mode and match_dims), so no writer
 * rewrites a stale copy of another's field. The programs still read it
 * with one inlined array lookup per packet.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct gcp_tap_cfg);
} tap_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GCP_TAP_ST__MAX);
	__type(key, __u32);
	__type(value, __u64);
} tap_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, GCP_TAP_POLICY_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct gcp_tap_lpm_key);
	__type(value, __u32);
} policy_cidr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GCP_TAP_POLICY_MAX);
	__type(key, struct gcp_tap_port_key);
	__type(value, __u32);
} policy_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32); /* IP protocol number */
	__type(value, __u32);
} policy_protos SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GCP_TAP_POLICY_MAX);
	__type(key, __u32); /* 802.1Q id */
	__type(value, __u32);
} policy_vlans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GCP_TAP_POLICY_MAX);
	__type(key, __u32); /* VXLAN VNI */
	__type(value, __u32);
} policy_vnis SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, LOCAL_PREFIXES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct gcp_tap_lpm_key);
	__type(value, __u32);
} local_prefixes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, INV_PROTOS_MAX);
	__type(key, struct gcp_tap_proto_key);
	__type(value, struct gcp_tap_counter);
} inv_protos SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, GCP_TAP_INV_IPS_MAX);
	__type(key, struct gcp_tap_ip_key);
	__type(value, struct gcp_tap_counter);
} inv_src_ips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, GCP_TAP_INV_IPS_MAX);
	__type(key, struct gcp_tap_ip_key);
	__type(value, struct gcp_tap_counter);
} inv_dst_ips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, GCP_TAP_INV_PORTS_MAX);
	__type(key, struct gcp_tap_svc_key);
	__type(value, struct gcp_tap_counter);
} inv_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, INV_DIRS_MAX);
	__type(key, struct gcp_tap_dir_key);
	__type(value, struct gcp_tap_counter);
} inv_dirs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, GCP_TAP_XSK_MAX);
	__type(key, __u32); /* RX queue */
	__type(value, __u32);
} xsks SEC(".maps");

/* ---- parsing ---------------------------------------------------------------- */

enum parse_result { PARSE_IP = 0, PARSE_NON_IP, PARSE_FAIL };

/* What the counters and the policy need from one packet. */
struct pkt_info {
	__u8 src[16]; /* v4-mapped for IPv4 */
	__u8 dst[16];
	__u32 l3_len; /* bytes counted: IP header + payload */
	__u32 segs;   /* packets this buffer stands for (TC: GSO segments) */
	__u32 vni;
	__u16 sport, dport; /* host order; valid when has_ports */
	__u16 vlan_id;      /* outermost; valid when has_vlan */
	__u8 l4;
	__u8 ip_version;
	__u8 tcp_flags;
	__u8 has_ports;
	__u8 has_vlan;
	__u8 has_vni;
};

/* Header cursor: every read checks against end (xdp-tools parsing_helpers.h). */
struct cursor {
	void *pos;
	void *end;
};

static __always_inline void *cur_pull(struct cursor *c, __u32 len)
{
	void *p = c->pos;

	if (p + len > c->end)
		return NULL;
	c->pos = p + len;
	return p;
}

static __always_inline void set_v4_mapped(__u8 out[16], const __u8 *v4)
{
	__builtin_memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	__builtin_memcpy(out + 12, v4, 4);
}

/* Ethernet and up to MAX_VLAN_TAGS 802.1Q/802.1ad tags; returns the inner ethertype. */
static __always_inline int parse_eth(struct cursor *c, struct pkt_info *pi, __u16 *proto)
{
	struct ethhdr *eth = cur_pull(c, sizeof(*eth));
	__u16 type;

	if (!eth)
		return PARSE_FAIL;
	type = bpf_ntohs(eth->h_proto);
#pragma unroll
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		struct vlan_hdr *vh;

		if (type != ETH_P_8021Q && type != ETH_P_8021AD)
			break;
		vh = cur_pull(c, sizeof(*vh));
		if (!vh)
			return PARSE_FAIL;
		if (!pi->has_vlan) {
			pi->has_vlan = 1;
			pi->vlan_id = bpf_ntohs(vh->h_vlan_TCI) & 0x0fff;
		}
		type = bpf_ntohs(vh->h_vlan_encapsulated_proto);
	}
	*proto = type;
	return PARSE_IP;
}

/* IPv4 (RFC 791): non-first fragments carry no L4 header. */
static __always_inline int parse_ipv4(struct cursor *c, struct pkt_info *pi, int *first_frag)
{
	struct iphdr *ip = cur_pull(c, sizeof(*ip));
	__u32 opt_len;

	if (!ip || ip->version != 4 || ip->ihl < 5)
		return PARSE_FAIL;
	opt_len = ((ip->ihl - 5) & 0xf) * 4; /* masked: the verifier needs a bound */
	if (!cur_pull(c, opt_len))
		return PARSE_FAIL;
	pi->ip_version = 4;
	pi->l4 = ip->protocol;
	pi->l3_len = bpf_ntohs(ip->tot_len); /* 0 on a BIG TCP GSO packet: see parse_packet */
	set_v4_mapped(pi->src, (const __u8 *)&ip->saddr);
	set_v4_mapped(pi->dst, (const __u8 *)&ip->daddr);
	*first_frag = (bpf_ntohs(ip->frag_off) & 0x1fff) == 0;
	return PARSE_IP;
}

/*
 * IPv6 (RFC 8200 4.1) with up to MAX_V6_EXT extension headers. Hop-by-hop,
 * routing and destination options are (len + 1) * 8 bytes; the fragment
 * header is 8 bytes and a non-zero offset means no L4 header follows.
 */
static __always_inline int parse_ipv6(struct cursor *c, struct pkt_info *pi, int *first_frag)
{
	struct ipv6hdr *ip6 = cur_pull(c, sizeof(*ip6));
	__u8 next;

	if (!ip6 || ip6->version != 6)
		return PARSE_FAIL;
	pi->ip_version = 6;
	if (ip6->payload_len) /* 0: jumbogram or BIG TCP, see parse_packet */
		pi->l3_len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	__builtin_memcpy(pi->src, &ip6->saddr, 16);
	__builtin_memcpy(pi->dst, &ip6->daddr, 16);
	next = ip6->nexthdr;
	*first_frag = 1;
#pragma unroll
	for (int i = 0; i < MAX_V6_EXT; i++) {
		struct ipv6_opt_hdr *oh;

		if (next == IPPROTO_FRAGMENT_) {
			struct frag_hdr *fh = cur_pull(c, sizeof(*fh));

			if (!fh)
				return PARSE_FAIL;
			next = fh->nexthdr;
			if (bpf_ntohs(fh->frag_off) & 0xfff8)
				*first_frag = 0;
			continue;
		}
		if (next != IPPROTO_HOPOPTS_ && next != IPPROTO_ROUTING_ &&
		    next != IPPROTO_DSTOPTS_)
			break;
		oh = cur_pull(c, sizeof(*oh));
		if (!oh)
			return PARSE_FAIL;
		next = oh->nexthdr;
		/* (hdrlen + 1) * 8 bytes in all, the first 2 already pulled */
		if (!cur_pull(c, (__u32)oh->hdrlen * 8 + 6))
			return PARSE_FAIL;
	}
	pi->l4 = next;
	return PARSE_IP;
}

/* VXLAN (RFC 7348 5): I flag set, VNI in bytes 4..6. A short header is just not VXLAN. */
static __always_inline void parse_vxlan(struct cursor *c, struct pkt_info *pi)
{
	__u8 *vx = cur_pull(c, 8);

	if (!vx || !(vx[0] & 0x08))
		return;
	pi->has_vni = 1;
	pi->vni = ((__u32)vx[4] << 16) | ((__u32)vx[5] << 8) | vx[6];
}

static __always_inline int parse_l4(struct cursor *c, struct pkt_info *pi)
{
	if (pi->l4 == IP_PROTO_TCP) {
		struct tcphdr *th = cur_pull(c, sizeof(*th));

		if (!th)
			return PARSE_FAIL;
		pi->sport = bpf_ntohs(th->source);
		pi->dport = bpf_ntohs(th->dest);
		pi->tcp_flags = ((__u8 *)th)[13];
		pi->has_ports = 1;
	} else if (pi->l4 == IP_PROTO_UDP) {
		struct udphdr *uh = cur_pull(c, sizeof(*uh));

		if (!uh)
			return PARSE_FAIL;
		pi->sport = bpf_ntohs(uh->source);
		pi->dport = bpf_ntohs(uh->dest);
		pi->has_ports = 1;
		if (pi->dport == VXLAN_PORT)
			parse_vxlan(c, pi);
	} else if (pi->l4 == IP_PROTO_SCTP) {
		__be16 *ports = cur_pull(c, 4); /* RFC 9260 3.1: ports lead the common header */

		if (!ports)
			return PARSE_FAIL;
		pi->sport = bpf_ntohs(ports[0]);
		pi->dport = bpf_ntohs(ports[1]);
		pi->has_ports = 1;
	}
	return PARSE_IP;
}

/* pkt_len: the whole frame, which may run past data_end (TC paged data). */
static __always_inline int parse_packet(void *data, void *data_end, __u32 pkt_len,
					struct pkt_info *pi)
{
	struct cursor c = { .pos = data, .end = data_end };
	int first_frag = 1;
	__u16 proto = 0;
	__u32 l3_off;
	int ret;

	ret = parse_eth(&c, pi, &proto);
	if (ret != PARSE_IP)
		return ret;
	l3_off = c.pos - data;
	if (proto == ETH_P_IP)
		ret = parse_ipv4(&c, pi, &first_frag);
	else if (proto == ETH_P_IPV6)
		ret = parse_ipv6(&c, pi, &first_frag);
	else
		return PARSE_NON_IP;
	if (ret != PARSE_IP)
		return ret;
	if (!pi->l3_len) /* no length field: the frame's own length from L3 on */
		pi->l3_len = pkt_len > l3_off ? pkt_len - l3_off : 0;
	if (!first_frag)
		return ret;
	return parse_l4(&c, pi);
}

/* ---- counters ----------------------------------------------------------- */

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&tap_stats, &idx);

	if (v)
		*v += 1;
}

/*
 * Per-CPU add; a new key that does not fit counts ST_INV_OVERFLOW.
 * inv_add, count_inventory and policy_match are real calls (__noinline):
 * inlined, the verifier walks every parse path through them, ~4x the work.
 */
static __noinline void inv_add(void *map, const void *key, __u32 pkts, __u32 bytes)
{
	struct gcp_tap_counter init = { .pkts = pkts, .bytes = bytes };
	struct gcp_tap_counter *ctr = bpf_map_lookup_elem(map, key);
	long err;

	if (ctr) {
		ctr->pkts += pkts;
		ctr->bytes += bytes;
		return;
	}
	err = bpf_map_update_elem(map, key, &init, BPF_NOEXIST);
	if (err == -ERR_EEXIST) { /* another CPU created it meanwhile */
		ctr = bpf_map_lookup_elem(map, key);
		if (ctr) {
			ctr->pkts += pkts;
			ctr->bytes += bytes;
		}
	} else if (err) {
		stat_inc(GCP_TAP_ST_INV_OVERFLOW);
	}
}

/* TCP SYN: the server is the destination; SYN+ACK: the source; else the lower port. */
static __always_inline __u16 service_port(const struct pkt_info *pi)
{
	if (pi->l4 == IP_PROTO_TCP && (pi->tcp_flags & TCP_FLAG_SYN))
		return (pi->tcp_flags & TCP_FLAG_ACK) ? pi->sport : pi->dport;
	return pi->sport < pi->dport ? pi->sport : pi->dport;
}

static __always_inline int addr_in(void *trie, const __u8 addr[16])
{
	struct gcp_tap_lpm_key k = { .prefixlen = 128 };

	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(trie, &k) != NULL;
}

static __noinline void count_inventory(const struct pkt_info *pi, __u8 slot, __u8 dir)
{
	struct gcp_tap_proto_key pk = { .slot = slot, .l4 = pi->l4, .ip_version = pi->ip_version };
	struct gcp_tap_ip_key ik = { .slot = slot };
	struct gcp_tap_dir_key dk = { .slot = slot, .dir = dir };
	__u32 bytes = pi->l3_len, pkts = pi->segs;

	inv_add(&inv_protos, &pk, pkts, bytes);
	__builtin_memcpy(ik.addr, pi->src, 16);
	inv_add(&inv_src_ips, &ik, pkts, bytes);
	__builtin_memcpy(ik.addr, pi->dst, 16);
	inv_add(&inv_dst_ips, &ik, pkts, bytes);
	if (pi->has_ports) {
		struct gcp_tap_svc_key sk = { .slot = slot, .l4 = pi->l4, .port = service_port(pi) };

		inv_add(&inv_ports, &sk, pkts, bytes);
	}
	dk.locality = addr_in(&local_prefixes, pi->src) && addr_in(&local_prefixes, pi->dst)
			      ? GCP_TAP_EAST_WEST
			      : GCP_TAP_NORTH_SOUTH;
	inv_add(&inv_dirs, &dk, pkts, bytes);
}

/* ---- policy ------------------------------------------------------------- */

static __always_inline int port_in(const struct pkt_info *pi)
{
	struct gcp_tap_port_key k = { .port = pi->sport, .l4 = pi->l4 };

	if (bpf_map_lookup_elem(&policy_ports, &k))
		return 1;
	k.port = pi->dport;
	return bpf_map_lookup_elem(&policy_ports, &k) != NULL;
}

static __always_inline int key_in(void *map, __u32 key)
{
	return bpf_map_lookup_elem(map, &key) != NULL;
}

/*
 * MATCH: every active dimension must match (AND), any entry within one
 * (OR). A dimension the packet lacks (no IP, no ports, no tag, no VNI)
 * does not match. No active dimension selects nothing, so emptying the
 * maps never turns into "mirror everything".
 */
static __noinline int policy_match(const struct gcp_tap_cfg *cfg,
					const struct pkt_info *pi, int is_ip)
{
	__u32 dims = cfg->match_dims;

	if (cfg->policy_mode == GCP_TAP_POLICY_ALL)
		return 1;
	if (cfg->policy_mode != GCP_TAP_POLICY_MATCH || !dims)
		return 0;
	if ((dims & GCP_TAP_DIM_CIDR) &&
	    !(is_ip && (addr_in(&policy_cidr, pi->src) || addr_in(&policy_cidr, pi->dst))))
		return 0;
	if ((dims & GCP_TAP_DIM_PORT) && !(pi->has_ports && port_in(pi)))
		return 0;
	if ((dims & GCP_TAP_DIM_PROTO) && !(is_ip && key_in(&policy_protos, pi->l4)))
		return 0;
	if ((dims & GCP_TAP_DIM_VLAN) && !(pi->has_vlan && key_in(&policy_vlans, pi->vlan_id)))
		return 0;
	if ((dims & GCP_TAP_DIM_VNI) && !(pi->has_vni && key_in(&policy_vnis, pi->vni)))
		return 0;
	return 1;
}

/* Parse, count and decide; returns 1 when the policy selects the packet. */
static __always_inline int tap_packet(void *data, void *data_end, __u32 pkt_len,
				      struct pkt_info *pi, const struct gcp_tap_cfg *cfg, __u8 dir)
{
	int ret = parse_packet(data, data_end, pkt_len, pi);

	stat_inc(GCP_TAP_ST_PKTS);
	if (ret == PARSE_NON_IP)
		stat_inc(GCP_TAP_ST_NON_IP);
	else if (ret == PARSE_FAIL)
		stat_inc(GCP_TAP_ST_PARSE_FAIL);
	else
		count_inventory(pi, cfg->slot & 1, dir);
	if (!policy_match(cfg, pi, ret == PARSE_IP))
		return 0;
	stat_inc(GCP_TAP_ST_POLICY_HIT);
	return 1;
}

static __always_inline const struct gcp_tap_cfg *get_cfg(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&tap_cfg, &zero);
}

/* ---- TC ----------------------------------------------------------------- */

/* Enough linear bytes for Ethernet, 2 tags, IPv6 + options, L4 and VXLAN. */
#define TC_PULL_LEN 256

static __always_inline int tap_tc(struct __sk_buff *skb, __u8 dir)
{
	const struct gcp_tap_cfg *cfg = get_cfg();
	/* A GSO packet stands for gso_segs packets on the wire. */
	struct pkt_info pi = { .segs = skb->gso_segs > 1 ? skb->gso_segs : 1 };
	__u32 want = skb->len < TC_PULL_LEN ? skb->len : TC_PULL_LEN;

	if (!cfg)
		return TC_ACT_UNSPEC;
	/* Headers may sit in paged data; pulling linearises, it never alters bytes. */
	if (skb->data_end - skb->data < want)
		bpf_skb_pull_data(skb, want);
	if (skb->vlan_present) { /* offloaded tag: the outermost one */
		pi.has_vlan = 1;
		pi.vlan_id = skb->vlan_tci & 0x0fff;
	}
	if (!tap_packet((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, &pi,
			cfg, dir))
		return TC_ACT_UNSPEC;
	if (cfg->monitor_ifindex) {
		/* Cloning to ourselves would loop through our own egress hook. */
		if (cfg->monitor_ifindex == skb->ifindex ||
		    bpf_clone_redirect(skb, cfg->monitor_ifindex, 0) < 0)
			stat_inc(GCP_TAP_ST_MIRROR_FAIL);
		else
			stat_inc(GCP_TAP_ST_MIRRORED);
	}
	/* UNSPEC, not OK: the original continues and later tc filters still run. */
	return TC_ACT_UNSPEC;
}

SEC("tc")
int tap_tc_ingress(struct __sk_buff *skb)
{
	return tap_tc(skb, GCP_TAP_INGRESS);
}

SEC("tc")
int tap_tc_egress(struct __sk_buff *skb)
{
	return tap_tc(skb, GCP_TAP_EGRESS);
}

/* ---- XDP ---------------------------------------------------------------- */

/*
 * For interfaces that already carry a copy (monitor veth, OVS mirror port,
 * SPAN NIC): XDP cannot clone, so a hit is redirected to the queue's
 * AF_XDP socket and passes when that queue has none.
 */
SEC("xdp")
int tap_xdp(struct xdp_md *ctx)
{
	const struct gcp_tap_cfg *cfg = get_cfg();
	struct pkt_info pi = { .segs = 1 };
	__u32 queue = ctx->rx_queue_index;

	if (!cfg)
		return XDP_PASS;
	if (!tap_packet((void *)(long)ctx->data, (void *)(long)ctx->data_end,
			ctx->data_end - ctx->data, &pi, cfg, GCP_TAP_INGRESS))
		return cfg->xdp_miss_action == XDP_DROP ? XDP_DROP : XDP_PASS; /* never TX/redirect */
	if (bpf_map_lookup_elem(&xsks, &queue))
		stat_inc(GCP_TAP_ST_MIRRORED);
	else
		stat_inc(GCP_TAP_ST_MIRROR_FAIL);
	return bpf_redirect_map(&xsks, queue, XDP_PASS);
}
