/* SPDX-License-Identifier: BSD-3-Clause */
/* Tap user side without BPF: inventory record (sort, cap, "other", JSON), policy and CIDR arguments. */
#include <criterion/criterion.h>
#include <string.h>

#include "gcprobe/gcprobe.h"
#include "record.h"
#include "tap.h"

static struct gcp_rb rb;
static char json[65536];

static void setup(void)
{
	cr_assert_eq(gcp_rb_init(&rb), 0);
}

static void teardown(void)
{
	gcp_rb_fini(&rb);
}

TestSuite(tap_inventory, .init = setup, .fini = teardown);

static const struct tap_ident ident = { .engine = "gcprobe/test", .node_name = "n1",
					.agent_ip = "192.0.2.9" };

/* Encode inv and render it as one JSON line into json[]. */
static void render(struct tap_inventory *inv, unsigned top)
{
	const uint8_t *d;
	size_t n;

	cr_assert_eq(tap_inv_encode(&rb, inv, &ident, top, &d, &n), 0);
	int len = gcp_record_to_json(d, n, json, sizeof(json), GCP_JSON_DEFAULT);
	cr_assert_gt(len, 0);
	cr_assert_eq(strchr(json, '\n'), json + len - 1, "one line");
}

static void has(const char *needle)
{
	cr_assert(strstr(json, needle), "missing %s in\n%s", needle, json);
}

static void ip4(__u8 a[16], unsigned last)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	a[12] = 10, a[13] = 0, a[14] = 0, a[15] = (__u8)last;
}

static void add_ip(struct tap_inv_list *l, unsigned last, uint64_t pkts, uint64_t bytes)
{
	struct tap_inv_item it = { .pkts = pkts, .bytes = bytes };

	ip4(it.k.addr, last);
	cr_assert_eq(tap_inv_add(l, &it), 0);
}

Test(tap_inventory, empty_interval_still_a_record)
{
	struct tap_inventory inv = { .dev = "vnet0", .mode = TAP_MODE_TC, .interval_s = 10,
				     .ts_ns = 1700000000000000000ull };

	render(&inv, 1000);
	has("\"type\":\"inventory\"");
	has("\"ts\":\"2023-11-14T22:13:20.000000Z\"");
	has("\"engine\":\"gcprobe/test\",\"node_name\":\"n1\",\"node_type\":\"virtual\","
	    "\"agent_ip\":\"192.0.2.9\"");
	has("\"tap\":\"vnet0\",\"tap_mode\":\"tc\",\"interval_s\":10");
	has("\"protocols\":[],\"src_ips\":[],\"dst_ips\":[],\"service_ports\":[],\"directions\":[]");
	has("\"mirrored_pkts\":0,\"policy_hits\":0,\"overflow\":0");
	tap_inv_free(&inv);
}

Test(tap_inventory, every_list_named_and_sorted_by_bytes)
{
	struct tap_inventory inv = { .dev = "tap1", .mode = TAP_MODE_XDP, .interval_s = 5,
				     .mirrored = 7, .policy_hits = 8, .overflow = 3 };
	struct tap_inv_item p1 = { .k.proto = { 17, 4 }, .pkts = 2, .bytes = 200 };
	struct tap_inv_item p2 = { .k.proto = { 6, 6 }, .pkts = 9, .bytes = 900 };
	struct tap_inv_item p3 = { .k.proto = { 99, 4 }, .pkts = 1, .bytes = 50 };
	struct tap_inv_item s1 = { .k.svc = { 53, 17 }, .pkts = 4, .bytes = 400 };
	struct tap_inv_item s2 = { .k.svc = { 443, 6 }, .pkts = 5, .bytes = 5000 };
	struct tap_inv_item d1 = { .k.dir = { GCP_TAP_EGRESS, GCP_TAP_NORTH_SOUTH }, .pkts = 1,
				   .bytes = 10 };
	struct tap_inv_item d2 = { .k.dir = { GCP_TAP_INGRESS, GCP_TAP_EAST_WEST }, .pkts = 2,
				   .bytes = 20 };
	struct tap_inv_item v6 = { .pkts = 1, .bytes = 1 };

	tap_inv_add(&inv.protos, &p1);
	tap_inv_add(&inv.protos, &p2);
	tap_inv_add(&inv.protos, &p3);
	tap_inv_add(&inv.ports, &s1);
	tap_inv_add(&inv.ports, &s2);
	tap_inv_add(&inv.dirs, &d1);
	tap_inv_add(&inv.dirs, &d2);
	add_ip(&inv.src_ips, 1, 1, 100);
	add_ip(&inv.src_ips, 2, 3, 300);
	v6.k.addr[0] = 0xfd, v6.k.addr[15] = 1;
	tap_inv_add(&inv.dst_ips, &v6);
	render(&inv, 1000);
	has("\"tap_mode\":\"xdp\"");
	has("\"protocols\":[{\"l4\":\"tcp\",\"ip_version\":6,\"pkts\":9,\"bytes\":900},"
	    "{\"l4\":\"udp\",\"ip_version\":4,\"pkts\":2,\"bytes\":200},"
	    "{\"l4\":\"99\",\"ip_version\":4,\"pkts\":1,\"bytes\":50}]");
	has("\"src_ips\":[{\"ip\":\"10.0.0.2\",\"pkts\":3,\"bytes\":300},"
	    "{\"ip\":\"10.0.0.1\",\"pkts\":1,\"bytes\":100}]");
	has("\"dst_ips\":[{\"ip\":\"fd00::1\",\"pkts\":1,\"bytes\":1}]");
	has("\"service_ports\":[{\"port\":443,\"l4\":\"tcp\",\"pkts\":5,\"bytes\":5000},"
	    "{\"port\":53,\"l4\":\"udp\",\"pkts\":4,\"bytes\":400}]");
	has("\"directions\":[{\"direction\":\"ingress\",\"locality\":\"east-west\",\"pkts\":2,"
	    "\"bytes\":20},{\"direction\":\"egress\",\"locality\":\"north-south\",\"pkts\":1,"
	    "\"bytes\":10}]");
	has("\"mirrored_pkts\":7,\"policy_hits\":8,\"overflow\":3");
	tap_inv_free(&inv);
}

Test(tap_inventory, cap_sums_the_rest_into_other)
{
	struct tap_inventory inv = { .dev = "br0p1" };

	/* 10.0.0.1 .. 10.0.0.50: bytes grow with the last octet */
	for (unsigned i = 1; i <= 50; i++)
		add_ip(&inv.src_ips, i, 1, i * 10);
	render(&inv, 3);
	has("\"src_ips\":[{\"ip\":\"10.0.0.50\",\"pkts\":1,\"bytes\":500},"
	    "{\"ip\":\"10.0.0.49\",\"pkts\":1,\"bytes\":490},"
	    "{\"ip\":\"10.0.0.48\",\"pkts\":1,\"bytes\":480},"
	    "{\"ip\":\"other\",\"entries\":47,\"pkts\":47,\"bytes\":11280}]");
	/* 10 * (1 + ... + 47) = 11280: nothing lost to the cap */
	tap_inv_free(&inv);
}

Test(tap_inventory, ties_break_the_same_way_every_time)
{
	struct tap_inventory a = { .dev = "x" }, b = { .dev = "x" };
	char first[sizeof(json)];

	add_ip(&a.dst_ips, 7, 1, 100);
	add_ip(&a.dst_ips, 3, 1, 100);
	add_ip(&b.dst_ips, 3, 1, 100);
	add_ip(&b.dst_ips, 7, 1, 100);
	a.ts_ns = b.ts_ns = 1;
	render(&a, 10);
	char *p = strstr(json, "\"dst_ips\"");
	cr_assert(p);
	snprintf(first, sizeof(first), "%.*s", (int)(strstr(p, "]") - p), p);
	render(&b, 10);
	cr_assert(strstr(json, first), "order depends on input order: %s", first);
	has("{\"ip\":\"10.0.0.3\",\"pkts\":1,\"bytes\":100},{\"ip\":\"10.0.0.7\"");
	tap_inv_free(&a);
	tap_inv_free(&b);
}

Test(tap_inventory, clear_keeps_memory_empties_lists)
{
	struct tap_inventory inv = { .dev = "x", .mirrored = 5 };

	add_ip(&inv.src_ips, 1, 1, 1);
	struct tap_inv_item *v = inv.src_ips.v;
	tap_inv_clear(&inv);
	cr_assert_eq(inv.src_ips.n, 0);
	cr_assert_eq(inv.mirrored, 0);
	cr_assert_eq(inv.src_ips.v, v);
	tap_inv_free(&inv);
	cr_assert_null(inv.src_ips.v);
}

/* ---- arguments ---- */

TestSuite(tap_args);

static void bad_entry(const char *kind, const char *value, const char *want)
{
	struct tap_pol_entry e;
	char err[256] = "";

	cr_assert_eq(tap_pol_parse(kind, value, &e, err, sizeof(err)), -1, "%s %s", kind, value);
	cr_assert(strstr(err, want), "'%s' lacks '%s'", err, want);
	cr_assert_null(strchr(err, '\n'), "one line");
}

Test(tap_args, cidr_v4_is_v4_mapped_with_host_bits_cleared)
{
	struct tap_pol_entry e;
	char err[256], s[64];
	static const __u8 want[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 0, 0 };

	cr_assert_eq(tap_pol_parse("cidr", "10.1.2.3/16", &e, err, sizeof(err)), 0);
	cr_assert_eq(e.kind, TAP_POL_CIDR);
	cr_assert_eq(e.u.cidr.prefixlen, 96 + 16);
	cr_assert_arr_eq(e.u.cidr.addr, want, 16);
	tap_cidr_str(&e.u.cidr, s, sizeof(s));
	cr_assert_str_eq(s, "10.1.0.0/16");
	cr_assert_eq(tap_pol_parse("cidr", "192.0.2.1", &e, err, sizeof(err)), 0);
	cr_assert_eq(e.u.cidr.prefixlen, 128, "a bare address is a host");
}

Test(tap_args, cidr_v6)
{
	struct gcp_tap_lpm_key k;
	char s[64];

	cr_assert_eq(tap_parse_cidr("fd00:1:2:3::9/48", &k), 0);
	cr_assert_eq(k.prefixlen, 48);
	tap_cidr_str(&k, s, sizeof(s));
	cr_assert_str_eq(s, "fd00:1:2::/48");
	cr_assert_eq(tap_parse_cidr("::/0", &k), 0);
	cr_assert_eq(k.prefixlen, 0);
}

Test(tap_args, bad_cidrs)
{
	struct gcp_tap_lpm_key k;
	static const char *const bad[] = { "", "/8", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/8x",
					   "10.0.0.256/8", "fd00::/129", "fd00::/-1", "host",
					   "10.0.0.0/ 8", "10.0.0.0/8/8" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(tap_parse_cidr(bad[i], &k), -1, "'%s' accepted", bad[i]);
	bad_entry("cidr", "10.0.0.0/33", "policy cidr: '10.0.0.0/33' is not an IPv4 or IPv6 prefix");
}

Test(tap_args, ports_protos_vlans_vnis)
{
	struct tap_pol_entry e;
	char err[256];

	cr_assert_eq(tap_pol_parse("port", "udp/53", &e, err, sizeof(err)), 0);
	cr_assert_eq(e.kind, TAP_POL_PORT);
	cr_assert_eq(e.u.port.l4, 17);
	cr_assert_eq(e.u.port.port, 53);
	cr_assert_eq(e.u.port.pad, 0, "hash keys must have zeroed padding");
	cr_assert_eq(tap_pol_parse("port", "sctp/3868", &e, err, sizeof(err)), 0);
	cr_assert_eq(e.u.port.l4, 132);
	cr_assert_eq(tap_pol_parse("proto", "ipv6-icmp", &e, err, sizeof(err)), 0);
	cr_assert_eq(e.u.id, 58);
	cr_assert_eq(tap_pol_parse("proto", "47", &e, err, sizeof(err)), 0);
	cr_assert_eq(e.u.id, 47);
	cr_assert_eq(tap_pol_parse("vlan", "4095", &e, err, sizeof(err)), 0);
	cr_assert_eq(e.kind, TAP_POL_VLAN);
	cr_assert_eq(e.u.id, 4095);
	cr_assert_eq(tap_pol_parse("vni", "16777215", &e, err, sizeof(err)), 0);
	cr_assert_eq(e.kind, TAP_POL_VNI);
	cr_assert_eq(e.u.id, 16777215);
}

Test(tap_args, bad_entries_say_what_was_wrong)
{
	bad_entry("port", "80", "'80' is not L4/PORT");
	bad_entry("port", "tcp/65536", "is not L4/PORT");
	bad_entry("port", "icmp/1", "is not L4/PORT");
	bad_entry("port", "tcp/-1", "is not L4/PORT");
	bad_entry("proto", "256", "is not a protocol name");
	bad_entry("proto", "tcpx", "is not a protocol name");
	bad_entry("vlan", "4096", "'4096' is not a VLAN id 0..4095");
	bad_entry("vlan", "-1", "is not a VLAN id");
	bad_entry("vni", "16777216", "is not a VXLAN VNI");
	bad_entry("mac", "00:11:22:33:44:55", "unknown policy kind 'mac' (cidr, port, proto, vlan, vni)");
	bad_entry("cidr", NULL, "needs KIND VALUE");
}

Test(tap_args, cidr_lists)
{
	struct gcp_tap_lpm_key k[4];
	unsigned n;
	char err[256];

	cr_assert_eq(tap_parse_cidr_list("10.0.0.0/8,fd00::/8", k, 4, &n, err, sizeof(err)), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(k[0].prefixlen, 104);
	cr_assert_eq(k[1].prefixlen, 8);
	cr_assert_eq(tap_parse_cidr_list("10.0.0.0/8,", k, 4, &n, err, sizeof(err)), -1);
	cr_assert(strstr(err, "trailing comma"), "%s", err);
	cr_assert_eq(tap_parse_cidr_list("10.0.0.0/8,,fd00::/8", k, 4, &n, err, sizeof(err)), -1);
	cr_assert_eq(tap_parse_cidr_list("", k, 4, &n, err, sizeof(err)), -1);
	cr_assert_eq(tap_parse_cidr_list("1.0.0.0/8,2.0.0.0/8,3.0.0.0/8", k, 2, &n, err,
					 sizeof(err)), -1);
	cr_assert(strstr(err, "more than 2 prefixes"), "%s", err);
	cr_assert_eq(tap_parse_cidr_list("10.0.0.0/8,nope", k, 4, &n, err, sizeof(err)), -1);
	cr_assert(strstr(err, "'nope' is not an IPv4 or IPv6 prefix"), "%s", err);
}

Test(tap_args, names_round_trip)
{
	char buf[16], dims[64];

	for (unsigned l4 = 0; l4 < 256; l4++)
		cr_assert_eq(tap_l4_parse(tap_l4_name(l4, buf, sizeof(buf))), (int)l4);
	tap_dims_str(GCP_TAP_DIM_CIDR | GCP_TAP_DIM_VNI, dims, sizeof(dims));
	cr_assert_str_eq(dims, "cidr,vni");
	tap_dims_str(0, dims, sizeof(dims));
	cr_assert_str_eq(dims, "-");
	cr_assert_str_eq(tap_policy_mode_name(GCP_TAP_POLICY_MATCH), "match");
}
