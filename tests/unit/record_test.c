/* SPDX-License-Identifier: BSD-3-Clause */
/* Record builder: round trips through msgpack_unpack, canonical headers, misuse. */
#include <criterion/criterion.h>
#include <string.h>

#include "record.h"

static struct gcp_rb rb;

static void setup(void)
{
	cr_assert_eq(gcp_rb_init(&rb), 0);
}

static void teardown(void)
{
	gcp_rb_fini(&rb);
}

TestSuite(record, .init = setup, .fini = teardown);

/* Unpack exactly one object covering all bytes. */
static msgpack_object unpack(msgpack_unpacked *up, const uint8_t *d, size_t n)
{
	size_t off = 0;

	msgpack_unpacked_init(up);
	cr_assert_eq(msgpack_unpack_next(up, (const char *)d, n, &off), MSGPACK_UNPACK_SUCCESS);
	cr_assert_eq(off, n, "trailing bytes: %zu of %zu used", off, n);
	return up->data;
}

static void finish(const uint8_t **d, size_t *n)
{
	cr_assert_eq(gcp_rb_finish(&rb, d, n), 0);
	cr_assert_eq(rb.err, 0);
}

static bool key_is(const msgpack_object *k, const char *s)
{
	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(s) &&
	       !memcmp(k->via.str.ptr, s, k->via.str.size);
}

Test(record, flat_map_roundtrip)
{
	const uint8_t *d;
	size_t n;
	msgpack_unpacked up;

	gcp_rb_reset(&rb);
	gcp_rb_kv_cstr(&rb, "type", "tcp");
	gcp_rb_kv_uint(&rb, "src_port", 443);
	gcp_rb_key(&rb, "neg");
	gcp_rb_int(&rb, -5);
	gcp_rb_key(&rb, "d");
	gcp_rb_double(&rb, 1.5);
	gcp_rb_kv_bool(&rb, "ok", true);
	gcp_rb_key(&rb, "nil");
	gcp_rb_nil(&rb);
	gcp_rb_kv_bin(&rb, "b", "\x00\x01", 2);
	gcp_rb_kv_str(&rb, "empty", NULL, 0);
	finish(&d, &n);

	cr_assert_eq(d[0], 0x88, "fixmap of 8 expected, got 0x%02x", d[0]);
	msgpack_object o = unpack(&up, d, n);
	cr_assert_eq(o.type, MSGPACK_OBJECT_MAP);
	cr_assert_eq(o.via.map.size, 8);
	msgpack_object_kv *kv = o.via.map.ptr;
	cr_assert(key_is(&kv[0].key, "type"));
	cr_assert(key_is(&kv[0].val, "tcp"));
	cr_assert_eq(kv[1].val.via.u64, 443);
	cr_assert_eq(kv[2].val.type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
	cr_assert_eq(kv[2].val.via.i64, -5);
	cr_assert_eq(kv[3].val.type, MSGPACK_OBJECT_FLOAT64);
	cr_assert_float_eq(kv[3].val.via.f64, 1.5, 1e-12);
	cr_assert_eq(kv[4].val.via.boolean, true);
	cr_assert_eq(kv[5].val.type, MSGPACK_OBJECT_NIL);
	cr_assert_eq(kv[6].val.type, MSGPACK_OBJECT_BIN);
	cr_assert_eq(kv[6].val.via.bin.size, 2);
	cr_assert_eq(kv[7].val.type, MSGPACK_OBJECT_STR);
	cr_assert_eq(kv[7].val.via.str.size, 0);
	msgpack_unpacked_destroy(&up);
}

Test(record, nested_counts)
{
	const uint8_t *d;
	size_t n;
	msgpack_unpacked up;

	gcp_rb_reset(&rb);
	gcp_rb_key(&rb, "hdrs");
	gcp_rb_array_begin(&rb);
	for (int i = 0; i < 3; i++) {
		gcp_rb_array_begin(&rb);
		gcp_rb_cstr(&rb, "name");
		gcp_rb_cstr(&rb, "value");
		gcp_rb_end(&rb);
	}
	gcp_rb_end(&rb);
	gcp_rb_key(&rb, "tls");
	gcp_rb_map_begin(&rb);
	gcp_rb_kv_cstr(&rb, "sni", "example.com");
	gcp_rb_key(&rb, "alpn");
	gcp_rb_array_begin(&rb);
	gcp_rb_cstr(&rb, "h2");
	gcp_rb_map_begin(&rb); /* a map as one array element */
	gcp_rb_end(&rb);
	gcp_rb_end(&rb);
	gcp_rb_end(&rb);
	gcp_rb_kv_uint(&rb, "after", 7);
	finish(&d, &n);

	msgpack_object o = unpack(&up, d, n);
	cr_assert_eq(o.via.map.size, 3);
	msgpack_object hdrs = o.via.map.ptr[0].val;
	cr_assert_eq(hdrs.type, MSGPACK_OBJECT_ARRAY);
	cr_assert_eq(hdrs.via.array.size, 3);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(hdrs.via.array.ptr[i].via.array.size, 2);
	msgpack_object tls = o.via.map.ptr[1].val;
	cr_assert_eq(tls.type, MSGPACK_OBJECT_MAP);
	cr_assert_eq(tls.via.map.size, 2);
	msgpack_object alpn = tls.via.map.ptr[1].val;
	cr_assert_eq(alpn.via.array.size, 2);
	cr_assert_eq(alpn.via.array.ptr[1].type, MSGPACK_OBJECT_MAP);
	cr_assert_eq(alpn.via.array.ptr[1].via.map.size, 0);
	cr_assert_eq(o.via.map.ptr[2].val.via.u64, 7);
	msgpack_unpacked_destroy(&up);
}

/* Build {"a": [0..n-1]} and check the array header is the shortest form. */
static void array_of(uint32_t count, uint8_t marker, size_t hdr_len)
{
	const uint8_t *d;
	size_t n;
	msgpack_unpacked up;

	gcp_rb_reset(&rb);
	gcp_rb_key(&rb, "a");
	gcp_rb_array_begin(&rb);
	for (uint32_t i = 0; i < count; i++)
		gcp_rb_uint(&rb, i % 100);
	gcp_rb_end(&rb);
	finish(&d, &n);

	/* fixmap(1), fixstr "a" (2 bytes), then the array header */
	cr_assert_eq(d[0], 0x81);
	cr_assert_eq(d[3], marker, "count %u: marker 0x%02x", count, d[3]);
	cr_assert_eq(n, 3 + hdr_len + count, "count %u: size %zu", count, n);
	msgpack_object o = unpack(&up, d, n);
	msgpack_object a = o.via.map.ptr[0].val;
	cr_assert_eq(a.via.array.size, count);
	for (uint32_t i = 0; i < count; i++)
		cr_assert_eq(a.via.array.ptr[i].via.u64, i % 100);
	msgpack_unpacked_destroy(&up);
}

Test(record, canonical_array_headers)
{
	array_of(0, 0x90, 1);
	array_of(15, 0x9f, 1);
	array_of(16, 0xdc, 3);
	array_of(65535, 0xdc, 3);
	array_of(65536, 0xdd, 5);
	array_of(70000, 0xdd, 5);
}

Test(record, canonical_map_headers)
{
	const uint8_t *d;
	size_t n;
	msgpack_unpacked up;
	char key[16];
	const uint32_t sizes[] = { 15, 16, 65535, 65536 };
	const uint8_t markers[] = { 0x8f, 0xde, 0xde, 0xdf };

	for (size_t s = 0; s < 4; s++) {
		gcp_rb_reset(&rb);
		for (uint32_t i = 0; i < sizes[s]; i++) {
			snprintf(key, sizeof(key), "k%u", i);
			gcp_rb_kv_uint(&rb, key, i);
		}
		finish(&d, &n);
		cr_assert_eq(d[0], markers[s], "map of %u: 0x%02x", sizes[s], d[0]);
		msgpack_object o = unpack(&up, d, n);
		cr_assert_eq(o.via.map.size, sizes[s]);
		cr_assert_eq(o.via.map.ptr[sizes[s] - 1].val.via.u64, sizes[s] - 1);
		msgpack_unpacked_destroy(&up);
	}
}

/* Same content built twice, once nested with big siblings: byte-identical inner part. */
Test(record, nested_compaction_keeps_parents)
{
	const uint8_t *d;
	size_t n;
	msgpack_unpacked up;

	gcp_rb_reset(&rb);
	gcp_rb_key(&rb, "outer");
	gcp_rb_array_begin(&rb);
	for (int j = 0; j < 20; j++) {
		gcp_rb_map_begin(&rb);
		gcp_rb_kv_uint(&rb, "j", (uint64_t)j);
		gcp_rb_key(&rb, "inner");
		gcp_rb_array_begin(&rb);
		for (int i = 0; i < j; i++)
			gcp_rb_cstr(&rb, "x");
		gcp_rb_end(&rb);
		gcp_rb_end(&rb);
	}
	gcp_rb_end(&rb);
	finish(&d, &n);

	msgpack_object o = unpack(&up, d, n);
	msgpack_object outer = o.via.map.ptr[0].val;
	cr_assert_eq(outer.via.array.size, 20);
	for (uint32_t j = 0; j < 20; j++) {
		msgpack_object m = outer.via.array.ptr[j];
		cr_assert_eq(m.via.map.size, 2);
		cr_assert_eq(m.via.map.ptr[0].val.via.u64, j);
		cr_assert_eq(m.via.map.ptr[1].val.via.array.size, j);
	}
	msgpack_unpacked_destroy(&up);
}

Test(record, reuse_after_reset)
{
	const uint8_t *d;
	size_t n;

	gcp_rb_reset(&rb);
	gcp_rb_kv_cstr(&rb, "a", "first record, longer");
	finish(&d, &n);
	gcp_rb_reset(&rb);
	gcp_rb_kv_uint(&rb, "b", 1);
	finish(&d, &n);
	const uint8_t want[] = { 0x81, 0xa1, 'b', 0x01 };
	cr_assert_eq(n, sizeof(want));
	cr_assert_arr_eq(d, want, sizeof(want));
}

Test(record, sticky_depth_overflow)
{
	const uint8_t *d;
	size_t n;

	gcp_rb_reset(&rb); /* depth 1 */
	for (int i = 1; i < GCP_RB_MAX_DEPTH; i++) {
		gcp_rb_key(&rb, "m");
		gcp_rb_map_begin(&rb);
	}
	cr_assert_eq(rb.err, 0, "depth %d is allowed", GCP_RB_MAX_DEPTH);
	gcp_rb_key(&rb, "m");
	gcp_rb_map_begin(&rb);
	cr_assert_neq(rb.err, 0);
	for (int i = 1; i <= GCP_RB_MAX_DEPTH; i++)
		gcp_rb_end(&rb);
	gcp_rb_kv_uint(&rb, "x", 1);
	cr_assert_eq(gcp_rb_finish(&rb, &d, &n), -1, "error must stick");
	/* reset clears it */
	gcp_rb_reset(&rb);
	gcp_rb_kv_uint(&rb, "x", 1);
	cr_assert_eq(gcp_rb_finish(&rb, &d, &n), 0);
}

Test(record, sticky_end_without_begin)
{
	const uint8_t *d;
	size_t n;

	gcp_rb_reset(&rb);
	gcp_rb_end(&rb);
	cr_assert_neq(rb.err, 0);
	cr_assert_eq(gcp_rb_finish(&rb, &d, &n), -1);
}

Test(record, finish_with_open_container)
{
	const uint8_t *d;
	size_t n;

	gcp_rb_reset(&rb);
	gcp_rb_key(&rb, "a");
	gcp_rb_array_begin(&rb);
	cr_assert_eq(gcp_rb_finish(&rb, &d, &n), -1);
	cr_assert_neq(rb.err, 0);
}

Test(record, misuse_without_record_or_map)
{
	const uint8_t *d;
	size_t n;

	gcp_rb_uint(&rb, 1); /* no reset yet: nothing is open */
	cr_assert_neq(rb.err, 0);
	gcp_rb_reset(&rb);
	gcp_rb_key(&rb, "a");
	gcp_rb_array_begin(&rb);
	gcp_rb_key(&rb, "key in array");
	cr_assert_neq(rb.err, 0);
	cr_assert_eq(gcp_rb_finish(&rb, &d, &n), -1);
}

/* Decode ext -1 by hand and check the encoding size chosen. */
static void ts_case(uint64_t ns, uint8_t ext_len)
{
	const uint8_t *d;
	size_t n;
	msgpack_unpacked up;
	msgpack_timestamp t;

	gcp_rb_reset(&rb);
	gcp_rb_kv_ts(&rb, "ts", ns);
	finish(&d, &n);
	msgpack_object o = unpack(&up, d, n);
	msgpack_object v = o.via.map.ptr[0].val;
	cr_assert_eq(v.type, MSGPACK_OBJECT_EXT);
	cr_assert_eq(v.via.ext.type, -1);
	cr_assert_eq(v.via.ext.size, ext_len, "ns %llu: ext size %u",
		     (unsigned long long)ns, v.via.ext.size);
	cr_assert(msgpack_object_to_timestamp(&v, &t));
	cr_assert_eq((uint64_t)t.tv_sec * 1000000000u + t.tv_nsec, ns);
	msgpack_unpacked_destroy(&up);
}

Test(record, timestamps)
{
	ts_case(1258531204000000000ull, 4);      /* whole seconds: timestamp 32 */
	ts_case(1258531204123456789ull, 8);      /* ns: timestamp 64 */
	ts_case(0, 4);
	ts_case(17179869184ull * 1000000000ull + 1, 12); /* 2^34 s: timestamp 96 */
}
