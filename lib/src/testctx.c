/* SPDX-License-Identifier: BSD-3-Clause */
/* Test support: a dissector context around one synthetic flow whose
 * records are kept in memory (used by unit tests and fuzz targets). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "expect.h"

struct test_rec {
	uint8_t *mp;
	size_t len;
	char *json;
};

struct test_ctx {
	struct gcp_dissect_ctx *ctx; /* first member's target lives in eng */
	struct gcp_engine *eng;
	struct gcp_flow *flow;   /* lives in eng's flow table */
	struct test_rec *recs;
	unsigned n, cap;
};

/* The engine's shared ctx points back here through this registry. */
static struct test_ctx *find(const struct gcp_dissect_ctx *ctx)
{
	return (struct test_ctx *)ctx->eng->cb_user;
}

static char *to_json(const uint8_t *mp, size_t len)
{
	size_t sz = 4096;

	for (;;) {
		char *buf = malloc(sz);

		if (!buf)
			return NULL;
		int n = gcp_record_to_json(mp, len, buf, sz, 0);

		if (n >= 0)
			return buf;
		free(buf);
		if (n != GCP_ERR_FULL || sz > (64u << 20))
			return NULL;
		sz *= 4;
	}
}

static void keep_record(const struct gcp_record *rec, void *user)
{
	struct test_ctx *t = user;

	if (t->n == t->cap) {
		unsigned ncap = t->cap ? t->cap * 2 : 8;
		struct test_rec *nr = realloc(t->recs, ncap * sizeof(*nr));

		if (!nr)
			abort();
		t->recs = nr;
		t->cap = ncap;
	}
	struct test_rec *r = &t->recs[t->n++];

	r->mp = malloc(rec->len);
	if (!r->mp)
		abort();
	memcpy(r->mp, rec->data, rec->len);
	r->len = rec->len;
	r->json = to_json(rec->data, rec->len);
}

static int parse_addr(const char *s, struct gcp_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->b) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, a->b) == 1)
		return 6;
	return 0;
}

/* The synthetic flow is a real entry of the engine's table (its
 * meta and cold state live there), oriented cli -> srv, flow id 1. */
static struct gcp_flow *test_flow(struct gcp_engine *e, uint8_t l4proto, const char *cli,
				  uint16_t cport, const char *srv, uint16_t sport)
{
	struct gcp_pkt p;
	bool created;
	int dir;

	memset(&p, 0, sizeof(p));
	int v1 = parse_addr(cli, &p.src), v2 = parse_addr(srv, &p.dst);

	if (!v1 || v1 != v2)
		return NULL;
	p.sport = cport;
	p.dport = sport;
	p.l4proto = l4proto;
	p.ip_version = (uint8_t)v1;
	struct gcp_flow *f = gcp_flow_lookup(&e->ft, &p, &dir, &created, NULL, NULL);

	if (!f)
		return NULL;
	if (dir != GCP_DIR_C2S)
		f->cli_is_a = !f->cli_is_a;
	gcp_flow_meta(&e->ft, f)->id = 1;
	return f;
}

struct gcp_dissect_ctx *gcp_test_dctx_new(const struct gcp_engine_opts *opts, uint8_t l4proto,
					  const char *cli, uint16_t cport, const char *srv,
					  uint16_t sport)
{
	struct test_ctx *t = calloc(1, sizeof(*t));
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;

	if (!t)
		return NULL;
	if (!opts) {
		o.node_name = "test";
		/* Small tables: fuzz targets create one context per input. */
		o.max_flows = 16;
		o.max_frag_datagrams = 4;
		o.conn_window_s = 1;
		opts = &o;
	}
	if (gcp_engine_create(opts, &t->eng) != 0)
		goto fail;
	gcp_engine_subscribe(t->eng, GCP_REC_ALL, keep_record, t);
	t->flow = test_flow(t->eng, l4proto, cli, cport, srv, sport);
	if (!t->flow)
		goto fail;
	t->ctx = gcp_engine_ctx(t->eng, t->flow, 0);
	return t->ctx;
fail:
	if (t->eng)
		gcp_engine_destroy(t->eng);
	free(t);
	return NULL;
}

void gcp_test_dctx_set_now(struct gcp_dissect_ctx *ctx, uint64_t ts_ns)
{
	struct gcp_flow_meta *m = gcp_flow_meta(&ctx->eng->ft, ctx->flow);

	ctx->now = ts_ns;
	if (!m->first_ts)
		m->first_ts = ts_ns;
	ctx->fi_ok = false;
	ctx->flow->last_ts = ts_ns;
}

unsigned gcp_test_dctx_nrecords(const struct gcp_dissect_ctx *ctx)
{
	return find(ctx)->n;
}

const char *gcp_test_dctx_json(const struct gcp_dissect_ctx *ctx, unsigned i)
{
	struct test_ctx *t = find(ctx);

	return i < t->n ? t->recs[i].json : NULL;
}

const uint8_t *gcp_test_dctx_msgpack(const struct gcp_dissect_ctx *ctx, unsigned i, size_t *len)
{
	struct test_ctx *t = find(ctx);

	if (i >= t->n)
		return NULL;
	*len = t->recs[i].len;
	return t->recs[i].mp;
}

static void drop_records(struct test_ctx *t)
{
	for (unsigned i = 0; i < t->n; i++) {
		free(t->recs[i].mp);
		free(t->recs[i].json);
	}
	t->n = 0;
}

/*
 * Fuzz targets reuse one context (an engine costs milliseconds): forget
 * the records, the flow's facts and the expectations so that every
 * input starts from the same state and a crash replays alone.
 */
uint64_t gcp_test_dctx_reset(struct gcp_dissect_ctx *ctx)
{
	struct test_ctx *t = find(ctx);
	struct gcp_engine *e = t->eng;
	struct gcp_flow *f = t->flow;
	struct gcp_flow keep = *f;

	drop_records(t);
	gcp_engine_app_release(e, f);
	/* Everything but its place in the table (key, timer links). */
	memset(f, 0, sizeof(*f));
	f->key = keep.key;
	f->wheel_next = keep.wheel_next;
	f->wheel_prev = keep.wheel_prev;
	f->wheel_slot = keep.wheel_slot;
	f->expire_ts = keep.expire_ts;
	f->cli_is_a = keep.cli_is_a;
	f->in_use = true;
	memset(gcp_flow_meta(&e->ft, f), 0, sizeof(struct gcp_flow_meta));
	gcp_flow_meta(&e->ft, f)->id = 1;
	gcp_expect_table_free(e->exp);
	e->exp = NULL;
	e->records = 0;
	e->dissector_errors = 0;
	e->stream_resyncs = 0;
	t->ctx = gcp_engine_ctx(e, f, 0);
	return e->pool.used;
}

void gcp_test_dctx_free(struct gcp_dissect_ctx *ctx)
{
	if (!ctx)
		return;
	struct test_ctx *t = find(ctx);

	drop_records(t);
	free(t->recs);
	gcp_engine_destroy(t->eng);
	free(t);
}
