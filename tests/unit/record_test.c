/* SPDX-License-Identifier: BSD-3-Clause */
/* Record builder: round trips through msgpack_unpack, canonical headers, misuse. */
#include <criterion/criterion.h>
#include <math.h>
#include <msgpack.h>
#include <stdlib.h>
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

/* ---- byte for byte against msgpack-c's packer ------------------------------------ */

/* The reference: what msgpack-c writes for the same values. */
struct ref {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

static void ref_init(struct ref *r)
{
	msgpack_sbuffer_init(&r->sb);
	msgpack_packer_init(&r->pk, &r->sb, msgpack_sbuffer_write);
}

static void ref_str(struct ref *r, const char *s, size_t n)
{
	msgpack_pack_str_with_body(&r->pk, n ? s : "", n);
}

static void same_bytes(const struct ref *r, const char *what)
{
	const uint8_t *d;
	size_t n;

	finish(&d, &n);
	cr_assert_eq(n, r->sb.size, "%s: %zu bytes, msgpack-c %zu", what, n, r->sb.size);
	cr_assert(memcmp(d, r->sb.data, n) == 0, "%s: bytes differ from msgpack-c", what);
}

/* {"v": value}, built by one scalar writer on each side. */
enum kind { K_UINT, K_INT, K_DOUBLE, K_BOOL, K_NIL, K_TS };

static void scalar_case(enum kind k, uint64_t u, int64_t i, double d)
{
	struct ref r;
	char what[64];

	ref_init(&r);
	msgpack_pack_map(&r.pk, 1);
	ref_str(&r, "v", 1);
	gcp_rb_reset(&rb);
	gcp_rb_key(&rb, "v");
	switch (k) {
	case K_UINT: gcp_rb_uint(&rb, u); msgpack_pack_uint64(&r.pk, u); break;
	case K_INT: gcp_rb_int(&rb, i); msgpack_pack_int64(&r.pk, i); break;
	case K_DOUBLE: gcp_rb_double(&rb, d); msgpack_pack_double(&r.pk, d); break;
	case K_BOOL:
		gcp_rb_bool(&rb, u != 0);
		u ? msgpack_pack_true(&r.pk) : msgpack_pack_false(&r.pk);
		break;
	case K_NIL: gcp_rb_nil(&rb); msgpack_pack_nil(&r.pk); break;
	case K_TS: {
		msgpack_timestamp t = { (int64_t)(u / 1000000000u), (uint32_t)(u % 1000000000u) };
		gcp_rb_ts(&rb, u);
		msgpack_pack_timestamp(&r.pk, &t);
		break;
	}
	}
	snprintf(what, sizeof(what), "kind %d u %llu i %lld", k, (unsigned long long)u, (long long)i);
	same_bytes(&r, what);
	msgpack_sbuffer_destroy(&r.sb);
}

/* xorshift64*: reproducible random values. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

Test(record, ints_match_msgpack_c)
{
	const uint64_t us[] = { 0, 1, 127, 128, 255, 256, 65535, 65536, 0xffffffffull,
				0x100000000ull, UINT64_MAX - 1, UINT64_MAX };
	const int64_t is[] = { 0, 1, 127, 128, 255, 256, 65535, 65536, -1, -31, -32, -33,
			       -127, -128, -129, -32767, -32768, -32769, INT32_MIN + 1, INT32_MIN,
			       (int64_t)INT32_MIN - 1, INT64_MIN + 1, INT64_MIN, INT64_MAX,
			       0xffffffffll, 0x100000000ll };
	uint64_t s = 42;

	for (size_t j = 0; j < sizeof(us) / sizeof(us[0]); j++)
		scalar_case(K_UINT, us[j], 0, 0);
	for (size_t j = 0; j < sizeof(is) / sizeof(is[0]); j++)
		scalar_case(K_INT, 0, is[j], 0);
	for (int j = 0; j < 2000; j++) {
		uint64_t v = rnd(&s) >> (rnd(&s) % 64);
		scalar_case(K_UINT, v, 0, 0);
		scalar_case(K_INT, 0, (int64_t)v, 0);
		scalar_case(K_INT, 0, -(int64_t)(v >> 1) - 1, 0);
	}
}

Test(record, other_scalars_match_msgpack_c)
{
	const double ds[] = { 0.0, -0.0, 1.5, -2.25, 3.294877, 1e300, 5e-324, NAN, INFINITY,
			      -INFINITY };

	for (size_t j = 0; j < sizeof(ds) / sizeof(ds[0]); j++)
		scalar_case(K_DOUBLE, 0, 0, ds[j]);
	scalar_case(K_BOOL, 1, 0, 0);
	scalar_case(K_BOOL, 0, 0, 0);
	scalar_case(K_NIL, 0, 0, 0);
}

Test(record, timestamps_match_msgpack_c)
{
	const uint64_t G = 1000000000u;
	const uint64_t ns[] = {
		0, 1, G - 1, G, 1258531204000000000ull, 1258531204123456789ull,
		0xffffffffull * G,              /* last timestamp 32 */
		0xffffffffull * G + 1,          /* timestamp 64 */
		0x100000000ull * G,             /* 2^32 s, no ns: timestamp 64 */
		0x3ffffffffull * G + G - 1,     /* last timestamp 64 */
		0x400000000ull * G,             /* 2^34 s: timestamp 96 */
		UINT64_MAX,
	};
	uint64_t s = 7;

	for (size_t j = 0; j < sizeof(ns) / sizeof(ns[0]); j++)
		scalar_case(K_TS, ns[j], 0, 0);
	for (int j = 0; j < 1000; j++)
		scalar_case(K_TS, rnd(&s) >> (rnd(&s) % 30), 0, 0);
}

/* {"s": str of n bytes, "b": bin of n bytes}; also a key of n bytes. */
static void str_bin_case(size_t n)
{
	static char big[70000];
	struct ref r;
	char what[32];

	memset(big, 'a', sizeof(big));
	ref_init(&r);
	msgpack_pack_map(&r.pk, 3);
	ref_str(&r, "s", 1);
	ref_str(&r, big, n);
	ref_str(&r, "b", 1);
	msgpack_pack_bin_with_body(&r.pk, big, n);
	big[n] = '\0';
	ref_str(&r, big, n);
	msgpack_pack_true(&r.pk);
	gcp_rb_reset(&rb);
	gcp_rb_kv_str(&rb, "s", big, n);
	gcp_rb_kv_bin(&rb, "b", big, n);
	gcp_rb_kv_bool(&rb, big, true);
	big[n] = 'a';
	snprintf(what, sizeof(what), "length %zu", n);
	same_bytes(&r, what);
	msgpack_sbuffer_destroy(&r.sb);
}

Test(record, str_bin_lengths_match_msgpack_c)
{
	const size_t ns[] = { 0, 1, 31, 32, 33, 255, 256, 257, 65535, 65536, 65537, 69999 };

	for (size_t j = 0; j < sizeof(ns) / sizeof(ns[0]); j++)
		str_bin_case(ns[j]);
}

/*
 * Random trees (maps and arrays up to the depth limit, container sizes
 * around the 15/16 and 65535/65536 header boundaries, every scalar
 * kind), written by both. The reference needs the counts first, so the
 * tree is generated, then walked twice.
 */
struct node {
	int kind;        /* 0 uint, 1 int, 2 str, 3 bin, 4 ts, 5 map, 6 array, 7 bool, 8 nil,
			  * 9 double, 10 [str, str] by gcp_rb_str_pair */
	uint64_t v;
	uint32_t n;      /* children, or str/bin bytes */
	struct node *kid;
};

static const char filler[300] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz"
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz"
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz";

static uint32_t pick_count(uint64_t *s)
{
	static const uint32_t c[] = { 0, 1, 2, 14, 15, 16, 17, 40 };
	if (rnd(s) % 200 == 0)
		return 65535 + (uint32_t)(rnd(s) % 3); /* rare: 16/32-bit counts */
	return c[rnd(s) % 8];
}

struct gen {
	uint64_t s;
	long nodes_left;  /* a bound: 40-element containers 6 deep would not fit */
	bool big_left;    /* one big container (65535+ elements) a record, under the cap */
};

static void gen(struct gen *g, struct node *nd, int depth, bool scalar_only)
{
	int k = (int)(rnd(&g->s) % 11);

	if (scalar_only && ((k >= 2 && k <= 6) || k == 10))
		k = (int)(rnd(&g->s) % 2); /* inside a big container: short scalars */
	if ((k == 5 || k == 6) && (depth >= GCP_RB_MAX_DEPTH || g->nodes_left <= 0))
		k = 0;
	g->nodes_left--;
	nd->kind = k;
	nd->v = rnd(&g->s) >> (rnd(&g->s) % 64);
	if (scalar_only)
		nd->v &= 0xffff;
	nd->n = 0;
	nd->kid = NULL;
	if (k == 2 || k == 3 || k == 10)
		nd->n = (uint32_t)(rnd(&g->s) % sizeof(filler));
	if (k == 5 || k == 6) {
		nd->n = pick_count(&g->s);
		if (nd->n > 1000 && !g->big_left)
			nd->n = 16;
		if (nd->n > 1000)
			g->big_left = false;
		nd->kid = calloc(nd->n ? nd->n : 1, sizeof(*nd->kid));
		for (uint32_t i = 0; i < nd->n; i++)
			gen(g, &nd->kid[i], depth + 1, scalar_only || nd->n > 1000);
	}
}

static void key_text(uint32_t i, char *k, size_t cap)
{
	/* some keys of 32 bytes and more; short ones in big maps (the cap) */
	snprintf(k, cap, "%.*s%u", i < 1000 ? (int)(i % 40) : 0, filler, i);
}

static void emit_both(const struct node *nd, struct ref *r)
{
	char key[64];

	switch (nd->kind) {
	case 0: gcp_rb_uint(&rb, nd->v); msgpack_pack_uint64(&r->pk, nd->v); break;
	case 1: gcp_rb_int(&rb, (int64_t)nd->v); msgpack_pack_int64(&r->pk, (int64_t)nd->v); break;
	case 2: gcp_rb_str(&rb, filler, nd->n); ref_str(r, filler, nd->n); break;
	case 3:
		gcp_rb_bin(&rb, filler, nd->n);
		msgpack_pack_bin_with_body(&r->pk, filler, nd->n);
		break;
	case 4: {
		msgpack_timestamp t = { (int64_t)(nd->v / 1000000000u), (uint32_t)(nd->v % 1000000000u) };
		gcp_rb_ts(&rb, nd->v);
		msgpack_pack_timestamp(&r->pk, &t);
		break;
	}
	case 5:
		gcp_rb_map_begin(&rb);
		msgpack_pack_map(&r->pk, nd->n);
		for (uint32_t i = 0; i < nd->n; i++) {
			key_text(i, key, sizeof(key));
			gcp_rb_key(&rb, key);
			ref_str(r, key, strlen(key));
			emit_both(&nd->kid[i], r);
		}
		gcp_rb_end(&rb);
		break;
	case 6:
		gcp_rb_array_begin(&rb);
		msgpack_pack_array(&r->pk, nd->n);
		for (uint32_t i = 0; i < nd->n; i++)
			emit_both(&nd->kid[i], r);
		gcp_rb_end(&rb);
		break;
	case 10: {
		size_t bn = (size_t)(nd->v % sizeof(filler));
		gcp_rb_str_pair(&rb, filler, nd->n, filler + 1, bn);
		msgpack_pack_array(&r->pk, 2);
		ref_str(r, filler, nd->n);
		ref_str(r, filler + 1, bn);
		break;
	}
	case 7: gcp_rb_bool(&rb, nd->v & 1); (nd->v & 1) ? msgpack_pack_true(&r->pk) : msgpack_pack_false(&r->pk); break;
	case 8: gcp_rb_nil(&rb); msgpack_pack_nil(&r->pk); break;
	default: gcp_rb_double(&rb, (double)nd->v / 7.0); msgpack_pack_double(&r->pk, (double)nd->v / 7.0); break;
	}
}

static void free_tree(struct node *nd)
{
	for (uint32_t i = 0; nd->kid && i < nd->n; i++)
		free_tree(&nd->kid[i]);
	free(nd->kid);
}

Test(record, random_trees_match_msgpack_c)
{
	struct gen g = { .s = 20240601 };
	char key[64], what[32];

	for (int t = 0; t < 300; t++) {
		uint32_t top = pick_count(&g.s);
		struct node *kids = calloc(top ? top : 1, sizeof(*kids));
		struct ref r;

		g.nodes_left = 3000;
		g.big_left = top <= 1000;
		for (uint32_t i = 0; i < top; i++)
			gen(&g, &kids[i], 2, top > 1000);
		ref_init(&r);
		msgpack_pack_map(&r.pk, top);
		gcp_rb_reset(&rb);
		for (uint32_t i = 0; i < top; i++) {
			key_text(i, key, sizeof(key));
			gcp_rb_key(&rb, key);
			ref_str(&r, key, strlen(key));
			emit_both(&kids[i], &r);
		}
		snprintf(what, sizeof(what), "tree %d", t);
		cr_assert_eq(rb.err, 0, "%s: builder error (%zu bytes)", what, r.sb.size);
		same_bytes(&r, what);
		msgpack_sbuffer_destroy(&r.sb);
		for (uint32_t i = 0; i < top; i++)
			free_tree(&kids[i]);
		free(kids);
	}
}

/* A saved run of pairs puts back the bytes and the pair count it was made of. */
Test(record, saved_run_is_the_same_bytes)
{
	struct ref r;

	ref_init(&r);
	msgpack_pack_map(&r.pk, 4);
	ref_str(&r, "a", 1);
	msgpack_pack_uint64(&r.pk, 1);
	ref_str(&r, "engine", 6);
	ref_str(&r, "gcprobe/0.1.0", 13);
	ref_str(&r, "node", 4);
	ref_str(&r, "vm", 2);
	ref_str(&r, "z", 1);
	msgpack_pack_uint64(&r.pk, 300);
	for (int pass = 0; pass < 3; pass++) {
		gcp_rb_reset(&rb);
		gcp_rb_kv_uint(&rb, "a", 1);
		if (!rb.fixed.p) {
			struct gcp_rb_mark m = gcp_rb_mark(&rb);
			gcp_rb_kv_cstr(&rb, "engine", "gcprobe/0.1.0");
			gcp_rb_kv_cstr(&rb, "node", "vm");
			cr_assert(gcp_rb_save_run(&rb, m, &rb.fixed));
			cr_assert_eq(rb.fixed.pairs, 2);
		} else {
			gcp_rb_put_run(&rb, &rb.fixed);
		}
		gcp_rb_kv_uint(&rb, "z", 300);
		same_bytes(&r, pass ? "put run" : "saved run");
	}
	msgpack_sbuffer_destroy(&r.sb);
	/* Misuse: a run inside a nested container. */
	gcp_rb_reset(&rb);
	gcp_rb_key(&rb, "m");
	gcp_rb_map_begin(&rb);
	gcp_rb_put_run(&rb, &rb.fixed);
	cr_assert_neq(rb.err, 0);
}

/*
 * The cap counts as the msgpack-c builder did: bytes so far plus a
 * 5-byte header for each open container. A record one byte inside the
 * cap is kept, one byte over is refused (and counted).
 */
enum cap_mode { CAP_FLAT, CAP_ARRAY, CAP_PAIR };

static int cap_case(enum cap_mode mode, size_t extra)
{
	static char big[GCP_RB_MAX_BYTES];
	const uint8_t *d;
	size_t n;
	/* top header 5, key "k" 2, [array header 5], str32 header 5, [fixstr "" 1] */
	size_t body = GCP_RB_MAX_BYTES - 5 - 2 - (mode != CAP_FLAT ? 5 : 0) - 5 -
		      (mode == CAP_PAIR ? 1 : 0) + extra;

	gcp_rb_reset(&rb);
	gcp_rb_key(&rb, "k");
	if (mode == CAP_PAIR) {
		gcp_rb_str_pair(&rb, big, body, "", 0);
	} else {
		if (mode == CAP_ARRAY)
			gcp_rb_array_begin(&rb);
		gcp_rb_str(&rb, big, body);
		if (mode == CAP_ARRAY)
			gcp_rb_end(&rb);
	}
	return gcp_rb_finish(&rb, &d, &n);
}

Test(record, cap_boundary_as_before)
{
	uint64_t o = rb.st_oversize;

	for (int m = CAP_FLAT; m <= CAP_PAIR; m++) {
		cr_assert_eq(cap_case(m, 0), 0, "mode %d: at the cap", m);
		cr_assert_eq(cap_case(m, 1), -1, "mode %d: one over", m);
	}
	cr_assert_eq(rb.st_oversize, o + 3);
	cr_assert_leq(rb.alloc, GCP_RB_MAX_BYTES);
}

/* [a, b] in one call is refused where array_begin would be: at the depth limit. */
Test(record, str_pair_depth_limit)
{
	const uint8_t *d;
	size_t n;

	gcp_rb_reset(&rb);
	for (int i = 1; i < GCP_RB_MAX_DEPTH - 1; i++) {
		gcp_rb_key(&rb, "m");
		gcp_rb_map_begin(&rb);
	}
	gcp_rb_key(&rb, "p");
	gcp_rb_str_pair(&rb, "a", 1, "b", 1); /* becomes depth GCP_RB_MAX_DEPTH: fine */
	cr_assert_eq(rb.err, 0);
	gcp_rb_key(&rb, "m");
	gcp_rb_map_begin(&rb);
	gcp_rb_key(&rb, "p");
	gcp_rb_str_pair(&rb, "a", 1, "b", 1);
	cr_assert_neq(rb.err, 0);
	cr_assert_eq(gcp_rb_finish(&rb, &d, &n), -1);
}
