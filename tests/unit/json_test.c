/* SPDX-License-Identifier: BSD-3-Clause */
/* JSON rendering: escaping, bin/base64 flag, RFC 3339 timestamps, buffer limits. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcprobe/gcprobe.h"
#include "record.h"

static struct gcp_rb rb;
static char out[65536];

static void setup(void)
{
	cr_assert_eq(gcp_rb_init(&rb), 0);
	gcp_rb_reset(&rb);
}

static void teardown(void)
{
	gcp_rb_fini(&rb);
}

TestSuite(json, .init = setup, .fini = teardown);

/* Finish the record in rb and render it; asserts success. */
static const char *render(void)
{
	const uint8_t *d;
	size_t n;

	cr_assert_eq(gcp_rb_finish(&rb, &d, &n), 0);
	int len = gcp_record_to_json(d, n, out, sizeof(out), GCP_JSON_DEFAULT);
	cr_assert_gt(len, 0, "render failed: %d", len);
	cr_assert_eq((size_t)len, strlen(out));
	cr_assert_eq(out[len - 1], '\n');
	return out;
}

Test(json, scalars)
{
	gcp_rb_kv_cstr(&rb, "type", "dns");
	gcp_rb_kv_uint(&rb, "u", 18446744073709551615ull);
	gcp_rb_key(&rb, "i");
	gcp_rb_int(&rb, -42);
	gcp_rb_kv_bool(&rb, "t", true);
	gcp_rb_kv_bool(&rb, "f", false);
	gcp_rb_key(&rb, "n");
	gcp_rb_nil(&rb);
	gcp_rb_key(&rb, "d");
	gcp_rb_double(&rb, 0.25);
	cr_assert_str_eq(render(), "{\"type\":\"dns\",\"u\":18446744073709551615,\"i\":-42,"
				   "\"t\":true,\"f\":false,\"n\":null,\"d\":0.25}\n");
}

Test(json, doubles)
{
	gcp_rb_key(&rb, "a");
	gcp_rb_double(&rb, 0.1);
	gcp_rb_key(&rb, "b");
	gcp_rb_double(&rb, 123.456789);
	gcp_rb_key(&rb, "c");
	gcp_rb_double(&rb, 1.0 / 0.0);
	gcp_rb_key(&rb, "d");
	gcp_rb_double(&rb, 1e300);
	cr_assert_str_eq(render(), "{\"a\":0.1,\"b\":123.456789,\"c\":null,\"d\":1e+300}\n");
}

Test(json, nested)
{
	gcp_rb_key(&rb, "hdrs");
	gcp_rb_array_begin(&rb);
	gcp_rb_array_begin(&rb);
	gcp_rb_cstr(&rb, "Host");
	gcp_rb_cstr(&rb, "a.example");
	gcp_rb_end(&rb);
	gcp_rb_end(&rb);
	gcp_rb_key(&rb, "tls");
	gcp_rb_map_begin(&rb);
	gcp_rb_kv_cstr(&rb, "sni", "a.example");
	gcp_rb_key(&rb, "e");
	gcp_rb_array_begin(&rb);
	gcp_rb_end(&rb);
	gcp_rb_end(&rb);
	cr_assert_str_eq(render(), "{\"hdrs\":[[\"Host\",\"a.example\"]],"
				   "\"tls\":{\"sni\":\"a.example\",\"e\":[]}}\n");
}

Test(json, escaping)
{
	static const char s[] = "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f";
	gcp_rb_kv_str(&rb, "s", s, sizeof(s) - 1);
	gcp_rb_kv_str(&rb, "nul", "a\0b", 3);
	gcp_rb_kv_cstr(&rb, "k\"ey", "v");
	cr_assert_str_eq(render(), "{\"s\":\"q\\\"b\\\\s/\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\","
				   "\"nul\":\"a\\u0000b\",\"k\\\"ey\":\"v\"}\n");
}

Test(json, utf8_kept_and_invalid_replaced)
{
	/* valid: é, 中, 😀 */
	gcp_rb_kv_cstr(&rb, "ok", "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80");
	/* lone continuation, overlong "/", surrogate, truncated 3-byte at end */
	gcp_rb_kv_cstr(&rb, "bad", "a\x80" "b\xc0\xaf" "c\xed\xa0\x80" "d\xe4\xb8");
	cr_assert_str_eq(render(),
			 "{\"ok\":\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\","
			 "\"bad\":\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
			 "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "d\xef\xbf\xbd\"}\n");
}

Test(json, bin_utf8_is_string)
{
	gcp_rb_kv_bin(&rb, "body", "hello\n", 6);
	gcp_rb_kv_uint(&rb, "x", 1);
	cr_assert_str_eq(render(), "{\"body\":\"hello\\n\",\"x\":1}\n");
}

Test(json, bin_base64_with_sibling_flag)
{
	gcp_rb_kv_bin(&rb, "resp_body", "\x1f\x8b\x08\x00\xff", 5);
	gcp_rb_kv_bin(&rb, "two", "\xff\xfe", 2);
	gcp_rb_kv_bin(&rb, "three", "\xff\xfe\xfd", 3);
	gcp_rb_kv_bin(&rb, "empty", "", 0);
	gcp_rb_key(&rb, "arr");
	gcp_rb_array_begin(&rb);
	gcp_rb_bin(&rb, "\x80", 1);
	gcp_rb_end(&rb);
	cr_assert_str_eq(render(),
			 "{\"resp_body\":\"H4sIAP8=\",\"resp_body_base64\":true,"
			 "\"two\":\"//4=\",\"two_base64\":true,"
			 "\"three\":\"//79\",\"three_base64\":true,"
			 "\"empty\":\"\",\"arr\":[\"gA==\"]}\n");
}

Test(json, timestamps)
{
	gcp_rb_kv_ts(&rb, "ts", 1258531204123456789ull);
	gcp_rb_kv_ts(&rb, "whole", 1258531204000000000ull);
	gcp_rb_kv_ts(&rb, "epoch", 0);
	gcp_rb_kv_ts(&rb, "leap", 951782400999999999ull); /* 2000-02-29 */
	gcp_rb_kv_ts(&rb, "far", 17179869184ull * 1000000000ull); /* ts96 */
	cr_assert_str_eq(render(),
			 "{\"ts\":\"2009-11-18T08:00:04.123456Z\","
			 "\"whole\":\"2009-11-18T08:00:04.000000Z\","
			 "\"epoch\":\"1970-01-01T00:00:00.000000Z\","
			 "\"leap\":\"2000-02-29T00:00:00.999999Z\","
			 "\"far\":\"2514-05-30T01:53:04.000000Z\"}\n");
}

Test(json, buffer_full)
{
	const uint8_t *d;
	size_t n;

	gcp_rb_kv_cstr(&rb, "k", "value");
	cr_assert_eq(gcp_rb_finish(&rb, &d, &n), 0);
	const char *want = "{\"k\":\"value\"}\n";
	size_t len = strlen(want);
	/* Exactly enough needs room for the NUL too. */
	cr_assert_eq(gcp_record_to_json(d, n, out, len + 1, 0), (int)len);
	cr_assert_str_eq(out, want);
	for (size_t sz = 0; sz <= len; sz++)
		cr_assert_eq(gcp_record_to_json(d, n, out, sz, 0), GCP_ERR_FULL, "size %zu", sz);
}

Test(json, format_errors)
{
	const uint8_t not_map[] = { 0x91, 0x01 };
	const uint8_t short_map[] = { 0x82, 0xa1, 'a' };
	const uint8_t trailing[] = { 0x80, 0x80 };
	const uint8_t int_key[] = { 0x81, 0x01, 0x02 };
	const uint8_t ts32[] = { 0x81, 0xa1, 't', 0xd6, 0xff, 0, 0, 0, 0 }; /* valid ts32 */
	/* a map32 claiming 4 G pairs: rejected before msgpack-c allocates for them */
	const uint8_t huge[] = { 0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'a', 0x01 };
	const uint8_t never_used[] = { 0x81, 0xa1, 'a', 0xc1 };
	const uint8_t ts_len5[] = { 0x81, 0xa1, 't', 0xc7, 5, 0xff, 0, 0, 0, 0, 0 };

	cr_assert_eq(gcp_record_to_json(not_map, sizeof(not_map), out, sizeof(out), 0),
		     GCP_ERR_FORMAT);
	cr_assert_eq(gcp_record_to_json(short_map, sizeof(short_map), out, sizeof(out), 0),
		     GCP_ERR_FORMAT);
	cr_assert_eq(gcp_record_to_json(trailing, sizeof(trailing), out, sizeof(out), 0),
		     GCP_ERR_FORMAT);
	cr_assert_eq(gcp_record_to_json(int_key, sizeof(int_key), out, sizeof(out), 0),
		     GCP_ERR_FORMAT);
	cr_assert_gt(gcp_record_to_json(ts32, sizeof(ts32), out, sizeof(out), 0), 0);
	cr_assert_eq(gcp_record_to_json(ts_len5, sizeof(ts_len5), out, sizeof(out), 0),
		     GCP_ERR_FORMAT);
	cr_assert_eq(gcp_record_to_json(huge, sizeof(huge), out, sizeof(out), 0), GCP_ERR_FORMAT);
	cr_assert_eq(gcp_record_to_json(never_used, sizeof(never_used), out, sizeof(out), 0),
		     GCP_ERR_FORMAT);
	cr_assert_eq(gcp_record_to_json(NULL, 0, out, sizeof(out), 0), GCP_ERR_INVAL);
}

Test(json, status_and_names)
{
	cr_assert_str_eq(gcp_version(), GCP_VERSION_STRING);
	cr_assert_str_eq(gcp_strerror(GCP_ERR_FULL), "limit reached");
	cr_assert_str_eq(gcp_strerror(12345), "unknown error");
	cr_assert_str_eq(gcp_record_type_name(GCP_REC_TCP), "tcp");
	cr_assert_str_eq(gcp_record_type_name(GCP_REC_INVENTORY), "inventory");
	cr_assert_str_eq(gcp_record_type_name(GCP_REC_STATS), "stats");
}

/* What the renderer promises for a double: the shorter of %.15g/%.17g that reads back. */
static void ref_double(double v, char *buf, size_t n)
{
	snprintf(buf, n, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, n, "%.17g", v);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static void double_case(double v)
{
	char want[64], line[96];
	const uint8_t *d;
	size_t n;

	gcp_rb_reset(&rb);
	gcp_rb_key(&rb, "d");
	gcp_rb_double(&rb, v);
	cr_assert_eq(gcp_rb_finish(&rb, &d, &n), 0);
	cr_assert_gt(gcp_record_to_json(d, n, out, sizeof(out), 0), 0);
	ref_double(v, want, sizeof(want));
	snprintf(line, sizeof(line), "{\"d\":%s}\n", want);
	cr_assert_str_eq(out, line);
}

/* Durations (ns / 1e9) take a digit-loop path: it must print what printf does. */
Test(json, durations_match_printf)
{
	uint64_t s = 1;
	const uint64_t edges[] = { 1, 9, 10, 99999, 100000, 100001, 999999999, 1000000000,
				   1000000001, 123456789012345ull, 999999999999999ull,
				   1000000000000000ull, 3294877000ull, 50000, 12000, 10000000 };

	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		double_case((double)edges[i] / 1e9);
		double_case(-(double)edges[i] / 1e9);
	}
	for (int t = 0; t < 200000; t++) {
		uint64_t ns = rnd(&s) % 1000000000000000ull >> (rnd(&s) % 50);
		double_case((double)ns / 1e9);
	}
	for (int t = 0; t < 100000; t++) { /* any double: nothing else may change */
		uint64_t bits = rnd(&s);
		double v;
		memcpy(&v, &bits, sizeof(v));
		if (isfinite(v))
			double_case(v);
		double_case((double)(rnd(&s) % 100000000) / 1e3);
	}
}

/*
 * A bin that is not UTF-8 goes out as base64 even when its string form
 * (control bytes escaped six-fold) would not have fitted the buffer.
 */
Test(json, bin_base64_fits_where_string_would_not)
{
	uint8_t v[40];
	const uint8_t *d;
	size_t n;

	memset(v, 0x01, sizeof(v));
	v[39] = 0xff; /* invalid UTF-8 at the very end */
	gcp_rb_kv_bin(&rb, "b", v, sizeof(v));
	cr_assert_eq(gcp_rb_finish(&rb, &d, &n), 0);
	int len = gcp_record_to_json(d, n, out, sizeof(out), 0);
	cr_assert_gt(len, 0);
	cr_assert(strstr(out, "\"b_base64\":true"));
	cr_assert_eq(gcp_record_to_json(d, n, out, (size_t)len + 1, 0), len);
	cr_assert_eq(gcp_record_to_json(d, n, out, (size_t)len, 0), GCP_ERR_FULL);
}

/* msgpack-c's unpacker stopped (NOMEM) at 32 open containers: so do we. */
Test(json, nesting_limit_as_msgpack_c)
{
	uint8_t b[128];
	size_t n = 0;

	b[n++] = 0x81;
	for (int i = 0; i < 31; i++) { /* 31 more: 32 open, a scalar inside */
		b[n++] = 0xa1;
		b[n++] = 'k';
		b[n++] = 0x81;
	}
	b[n++] = 0xa1;
	b[n++] = 'v';
	b[n++] = 0xc0;
	cr_assert_gt(gcp_record_to_json(b, n, out, sizeof(out), 0), 0);
	b[n - 1] = 0x80; /* an empty map as the 33rd: refused like a full one */
	cr_assert_eq(gcp_record_to_json(b, n, out, sizeof(out), 0), GCP_ERR_NOMEM);
	cr_assert_eq(gcp_record_to_json(b, n, out, 0, 0), GCP_ERR_FULL);
}
