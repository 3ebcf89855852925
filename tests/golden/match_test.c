/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of the golden matcher on records built with msgpack-c. */
#include <string.h>

#include <criterion/criterion.h>

#include "golden_match.h"

static void pk_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

static void kv_str(msgpack_packer *pk, const char *k, const char *v)
{
	pk_str(pk, k);
	pk_str(pk, v);
}

static void kv_uint(msgpack_packer *pk, const char *k, uint64_t v)
{
	pk_str(pk, k);
	msgpack_pack_uint64(pk, v);
}

static void add(struct gm_actuals *a, msgpack_sbuffer *sb)
{
	cr_assert_eq(gm_actuals_add(a, (const uint8_t *)sb->data, sb->size), 0);
	msgpack_sbuffer_clear(sb);
}

/* tcp record: 10.0.0.2:1234 -> ip:80 with the given packet counts. */
static void add_tcp(struct gm_actuals *a, const char *dst, uint64_t c2s, uint64_t s2c)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 8);
	kv_str(&pk, "type", "tcp");
	kv_str(&pk, "src_ip", "10.0.0.2");
	kv_uint(&pk, "src_port", 1234);
	kv_str(&pk, "dst_ip", dst);
	kv_uint(&pk, "dst_port", 80);
	kv_uint(&pk, "pkts_c2s", c2s);
	kv_uint(&pk, "pkts_s2c", s2c);
	kv_str(&pk, "state", "SF");
	add(a, &sb);
	msgpack_sbuffer_destroy(&sb);
}

/* https record with a nested tls map and an alpn array. */
static void add_https(struct gm_actuals *a, const char *sni)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	kv_str(&pk, "type", "http");
	kv_str(&pk, "host", sni);
	kv_str(&pk, "scheme", "https");
	pk_str(&pk, "tls");
	msgpack_pack_map(&pk, 2);
	kv_str(&pk, "sni", sni);
	pk_str(&pk, "alpn");
	msgpack_pack_array(&pk, 2);
	pk_str(&pk, "h2");
	pk_str(&pk, "http/1.1");
	add(a, &sb);
	msgpack_sbuffer_destroy(&sb);
}

static int check(const char *exp, const struct gm_actuals *a)
{
	struct gm_file f;
	int problems;

	cr_assert_eq(gm_file_parse(&f, exp), 0);
	problems = gm_check(&f, a, stderr);
	gm_file_free(&f);
	return problems;
}

Test(match, equal_with_pseudo_keys)
{
	struct gm_actuals a = { 0 };

	add_tcp(&a, "10.0.0.1", 3, 2);
	cr_expect_eq(check("#types tcp\n"
			   "tcp\tendpoints=10.0.0.1:80,10.0.0.2:1234\tpkts=5\tsrc_port=1234\tstate=SF\n",
			   &a), 0);
	gm_actuals_free(&a);
}

Test(match, ipv6_endpoints_in_brackets)
{
	struct gm_actuals a = { 0 };
	char buf[256];

	add_tcp(&a, "2001:db8::1", 1, 0);
	cr_assert(gm_value(&a.rec[0].up.data, "endpoints", buf, sizeof(buf)));
	cr_expect_str_eq(buf, "10.0.0.2:1234,[2001:db8::1]:80");
	gm_actuals_free(&a);
}

Test(match, missing_key_fails)
{
	struct gm_actuals a = { 0 };

	add_tcp(&a, "10.0.0.1", 1, 1);
	cr_expect_eq(check("tcp\tpkts=2\tconn_count=1\n", &a), 1);
	gm_actuals_free(&a);
}

Test(match, wrong_value_fails)
{
	struct gm_actuals a = { 0 };

	add_tcp(&a, "10.0.0.1", 1, 1);
	cr_expect_eq(check("tcp\tstate=S0\n", &a), 1);
	cr_expect_eq(check("tcp\tpkts=3\n", &a), 1);
	cr_expect_eq(check("http\tstate=SF\n", &a), 1); /* wrong type */
	gm_actuals_free(&a);
}

Test(match, multiset_duplicates)
{
	struct gm_actuals a = { 0 };
	const char *two = "#types tcp\ntcp\tstate=SF\ntcp\tstate=SF\n";

	add_tcp(&a, "10.0.0.1", 1, 1);
	cr_expect_eq(check(two, &a), 2); /* 1 unmatched + count 2 != 1 */
	add_tcp(&a, "10.0.0.3", 1, 1);
	cr_expect_eq(check(two, &a), 0);
	add_tcp(&a, "10.0.0.4", 1, 1);
	cr_expect_eq(check(two, &a), 1); /* count 2 != 3 */
	gm_actuals_free(&a);
}

Test(match, matching_is_not_greedy)
{
	struct gm_actuals a = { 0 };

	/* The loose line must not take the only record the strict one fits. */
	add_tcp(&a, "10.0.0.1", 1, 1);
	add_tcp(&a, "10.0.0.9", 1, 1);
	cr_expect_eq(check("#types tcp\ntcp\tstate=SF\n"
			   "tcp\tendpoints=10.0.0.1:80,10.0.0.2:1234\n", &a), 0);
	gm_actuals_free(&a);
}

Test(match, zero_expected_checks_count)
{
	struct gm_actuals a = { 0 };

	add_tcp(&a, "10.0.0.1", 1, 1);
	cr_expect_eq(check("#types dns\n", &a), 0);
	cr_expect_eq(check("#types tcp dns\n", &a), 1);
	gm_actuals_free(&a);
}

Test(match, nested_key_and_array)
{
	struct gm_actuals a = { 0 };

	add_https(&a, "example.org");
	cr_expect_eq(check("#types http\nhttp\thost=example.org\tscheme=https\t"
			   "tls.sni=example.org\ttls.alpn=h2|http/1.1\n", &a), 0);
	cr_expect_eq(check("http\ttls.ja3=abc\n", &a), 1);
	gm_actuals_free(&a);
}

Test(match, escapes_in_values)
{
	struct gm_file f;

	cr_assert_eq(gm_file_parse(&f, "#types http dns\nhttp\turl=/a\\tb\\\\c\\nd\n"), 0);
	cr_assert_eq(f.ntypes, 2);
	cr_assert_eq(f.n, 1);
	cr_expect_str_eq(f.exp[0].key[0], "url");
	cr_expect_str_eq(f.exp[0].val[0], "/a\tb\\c\nd");
	gm_file_free(&f);
}
