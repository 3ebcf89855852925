/* SPDX-License-Identifier: BSD-3-Clause */
/* Test driver for the stream (TCP) dissectors: feeds one dissector the
 * way the engine does (unconsumed bytes kept and offered again,
 * exact-size buffers, FIN and gap flags) over a test context made with
 * the given engine options, and reads its records back. */
#ifndef GCP_TEST_STREAM_DRV_H
#define GCP_TEST_STREAM_DRV_H

#include <criterion/criterion.h>
#include <msgpack.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect.h"
#include "engine.h"

struct drv {
	const struct gcp_dissector *dis;
	struct gcp_dissect_ctx *ctx;
	void *st;
	uint8_t *pend[2];
	size_t plen[2];
	int status;
	msgpack_unpacked u;
	bool have_u;
};

/* One step of a scripted conversation. */
struct step {
	int dir;
	const char *s;
};

#define C2S GCP_DIR_C2S
#define S2C GCP_DIR_S2C

/* A flow 10.0.0.1:40000 -> 10.0.0.2:sport for dis; o NULL: the default
 * engine options with node name "test" and 16 flows. */
static inline void drv_open(struct drv *d, const struct gcp_dissector *dis, uint16_t sport,
			    const struct gcp_engine_opts *o)
{
	struct gcp_engine_opts def = GCP_ENGINE_OPTS_INIT;

	memset(d, 0, sizeof(*d));
	def.node_name = "test";
	def.max_flows = 16;
	d->dis = dis;
	d->ctx = gcp_test_dctx_new(o ? o : &def, IPPROTO_TCP, "10.0.0.1", 40000, "10.0.0.2",
				   sport);
	cr_assert_not_null(d->ctx);
	gcp_test_dctx_set_now(d->ctx, 1700000000000000000ull);
	d->st = calloc(1, dis->state_size);
	cr_assert_not_null(d->st);
	if (dis->init)
		dis->init(d->st, d->ctx);
}

static inline void drv_init(struct drv *d, const struct gcp_dissector *dis, uint16_t sport)
{
	drv_open(d, dis, sport, NULL);
}

/* One parse call over pending + new bytes, in an exact-size buffer. */
static inline void drv_call(struct drv *d, int dir, const uint8_t *p, size_t n, unsigned flags)
{
	if (d->status != GCP_PARSE_OK)
		return;
	size_t tot = d->plen[dir] + n;
	uint8_t *buf = tot ? malloc(tot) : NULL;

	if (d->plen[dir])
		memcpy(buf, d->pend[dir], d->plen[dir]);
	if (n)
		memcpy(buf + d->plen[dir], p, n);
	struct gcp_parse_result r = d->dis->parse(d->st, d->ctx, dir, buf, (uint32_t)tot, flags);

	cr_assert_leq(r.consumed, tot);
	free(d->pend[dir]);
	d->pend[dir] = NULL;
	d->plen[dir] = tot - r.consumed;
	if (d->plen[dir]) {
		d->pend[dir] = malloc(d->plen[dir]);
		memcpy(d->pend[dir], buf + r.consumed, d->plen[dir]);
	}
	free(buf);
	d->status = r.status;
}

/* Feed n bytes in pieces of step bytes (0: at once). */
static inline void drv_feed(struct drv *d, int dir, const void *data, size_t n, size_t step)
{
	const uint8_t *p = data;

	if (!step)
		step = n ? n : 1;
	for (size_t off = 0; off < n; off += step)
		drv_call(d, dir, p + off, n - off < step ? n - off : step, 0);
}

static inline void drv_s(struct drv *d, int dir, const char *s)
{
	drv_feed(d, dir, s, strlen(s), 0);
}

static inline void drv_gap(struct drv *d, int dir, uint32_t len)
{
	if (d->status != GCP_PARSE_OK)
		return;
	free(d->pend[dir]);
	d->pend[dir] = NULL;
	d->plen[dir] = 0;
	d->status = d->dis->parse(d->st, d->ctx, dir, NULL, len, GCP_PF_GAP).status;
}

/* One direction's FIN. */
static inline void drv_fin(struct drv *d, int dir)
{
	drv_call(d, dir, NULL, 0, GCP_PF_FIN);
}

/* The dissector's fini (no FIN first); every pool block must be back. */
static inline void drv_fini(struct drv *d)
{
	d->dis->fini(d->st, d->ctx);
	cr_assert_eq(d->ctx->eng->pool.used, 0, "pool blocks leaked: %llu bytes",
		     (unsigned long long)d->ctx->eng->pool.used);
	free(d->st);
	d->st = NULL;
	for (int i = 0; i < 2; i++)
		free(d->pend[i]);
}

/* Flow end: FIN both ways, then fini. */
static inline void drv_end(struct drv *d)
{
	drv_fin(d, C2S);
	drv_fin(d, S2C);
	drv_fini(d);
}

static inline void drv_free(struct drv *d)
{
	if (d->have_u)
		msgpack_unpacked_destroy(&d->u);
	gcp_test_dctx_free(d->ctx);
}

/* Run a script with a given piece size (0: each step at once). */
static inline void drv_script(struct drv *d, const struct gcp_dissector *dis, uint16_t sport,
			      const struct step *s, size_t step)
{
	drv_init(d, dis, sport);
	for (; s->s; s++)
		drv_feed(d, s->dir, s->s, strlen(s->s), step);
	drv_end(d);
}

/* ---- records ------------------------------------------------------------------- */

static inline unsigned nrec(struct drv *d)
{
	return gcp_test_dctx_nrecords(d->ctx);
}

static inline const msgpack_object *rec(struct drv *d, unsigned i)
{
	size_t len;
	const uint8_t *mp = gcp_test_dctx_msgpack(d->ctx, i, &len);

	cr_assert_not_null(mp, "no record %u", i);
	if (d->have_u)
		msgpack_unpacked_destroy(&d->u);
	msgpack_unpacked_init(&d->u);
	d->have_u = true;
	cr_assert_eq(msgpack_unpack_next(&d->u, (const char *)mp, len, NULL),
		     MSGPACK_UNPACK_SUCCESS);
	cr_assert_eq(d->u.data.type, MSGPACK_OBJECT_MAP);
	return &d->u.data;
}

static inline const msgpack_object *map_get(const msgpack_object *m, const char *key)
{
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
		    memcmp(k->via.str.ptr, key, k->via.str.size) == 0)
			return &m->via.map.ptr[i].val;
	}
	return NULL;
}

static inline const msgpack_object *get(struct drv *d, unsigned i, const char *key)
{
	return map_get(rec(d, i), key);
}

static inline void obj_is_str(const msgpack_object *o, const char *key, const char *want)
{
	cr_assert_not_null(o, "no key %s (want %s)", key, want);
	cr_assert_eq(o->type, MSGPACK_OBJECT_STR, "key %s not a string", key);
	cr_assert(o->via.str.size == strlen(want) && !memcmp(o->via.str.ptr, want, strlen(want)),
		  "key %s: \"%.*s\" != \"%s\"", key, (int)o->via.str.size, o->via.str.ptr, want);
}

static inline void expect_str(struct drv *d, unsigned i, const char *key, const char *want)
{
	obj_is_str(get(d, i, key), key, want);
}

static inline void expect_absent(struct drv *d, unsigned i, const char *key)
{
	cr_assert_null(get(d, i, key), "record %u: key %s should be absent", i, key);
}

static inline uint64_t get_uint(struct drv *d, unsigned i, const char *key)
{
	const msgpack_object *o = get(d, i, key);

	cr_assert_not_null(o, "record %u: no key %s", i, key);
	cr_assert_eq(o->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	return o->via.u64;
}

static inline bool get_bool(struct drv *d, unsigned i, const char *key)
{
	const msgpack_object *o = get(d, i, key);

	cr_assert_not_null(o, "record %u: no key %s", i, key);
	cr_assert_eq(o->type, MSGPACK_OBJECT_BOOLEAN);
	return o->via.boolean;
}

/* A binary key holds exactly the n bytes at want. */
static inline void expect_bin(struct drv *d, unsigned i, const char *key, const void *want,
			      size_t n)
{
	const msgpack_object *o = get(d, i, key);

	cr_assert_not_null(o, "record %u: no key %s", i, key);
	cr_assert_eq(o->type, MSGPACK_OBJECT_BIN);
	cr_assert_eq(o->via.bin.size, n, "key %s: %u bytes, want %zu", key, o->via.bin.size, n);
	if (n)
		cr_assert_arr_eq(o->via.bin.ptr, want, n, "key %s differs", key);
}

/* The array key holds exactly the strings in want (NULL-terminated). */
static inline void expect_strs(struct drv *d, unsigned i, const char *key,
			       const char *const *want)
{
	const msgpack_object *o = get(d, i, key);
	uint32_t n = 0;

	while (want[n])
		n++;
	cr_assert_not_null(o, "record %u: no key %s", i, key);
	cr_assert_eq(o->type, MSGPACK_OBJECT_ARRAY);
	cr_assert_eq(o->via.array.size, n, "key %s: %u entries, want %u", key, o->via.array.size, n);
	for (uint32_t k = 0; k < n; k++)
		obj_is_str(&o->via.array.ptr[k], key, want[k]);
}

/* The JSON of record i does not contain s (passwords must never show). */
static inline void expect_not_in_json(struct drv *d, unsigned i, const char *s)
{
	const char *j = gcp_test_dctx_json(d->ctx, i);

	cr_assert_not_null(j);
	cr_assert_null(strstr(j, s), "record %u leaks \"%s\": %s", i, s, j);
}

static inline uint64_t anomalies(struct drv *d)
{
	return d->ctx->eng->dissector_errors;
}

/* Records equal except ingest_ts (wall clock). */
static inline void expect_same_records(struct drv *a, struct drv *b)
{
	unsigned n = nrec(a);

	cr_assert_eq(n, nrec(b));
	for (unsigned i = 0; i < n; i++) {
		msgpack_object ma = *rec(a, i), mb = *rec(b, i);

		cr_assert_eq(ma.via.map.size, mb.via.map.size, "record %u: key count", i);
		for (uint32_t k = 0; k < ma.via.map.size; k++) {
			const msgpack_object *key = &ma.via.map.ptr[k].key;
			char name[64];

			snprintf(name, sizeof(name), "%.*s", (int)key->via.str.size,
				 key->via.str.ptr);
			if (strcmp(name, "ingest_ts") == 0)
				continue;
			const msgpack_object *vb = map_get(&mb, name);

			cr_assert_not_null(vb, "record %u: %s missing", i, name);
			cr_assert(msgpack_object_equal(ma.via.map.ptr[k].val, *vb),
				  "record %u: %s differs", i, name);
		}
	}
}

/* The script gives the same records fed at once and in small pieces. */
static inline void expect_piecewise_same(const struct gcp_dissector *dis, uint16_t sport,
					 const struct step *s)
{
	static const size_t steps[] = { 1, 2, 3, 7, 64 };
	struct drv one, piece;

	drv_script(&one, dis, sport, s, 0);
	cr_assert_geq(nrec(&one), 1);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		drv_script(&piece, dis, sport, s, steps[i]);
		expect_same_records(&one, &piece);
		cr_assert_eq(anomalies(&one), anomalies(&piece), "anomalies differ at step %zu",
			     steps[i]);
		drv_free(&piece);
	}
	drv_free(&one);
}

#endif /* GCP_TEST_STREAM_DRV_H */
