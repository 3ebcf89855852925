/* SPDX-License-Identifier: BSD-3-Clause */
/* Records: common C.4 keys, the tcp record, and the services that
 * dissectors use to emit theirs. */
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "fmt.h"

#define NS_PER_S 1000000000ull

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void kv_addr(struct gcp_rb *rb, const char *key, const struct gcp_addr *a, int ver)
{
	char buf[GCP_FMT_IP6_LEN];
	size_t n = ver == 4 ? gcp_fmt_ip4(a->b, buf) : ver == 6 ? gcp_fmt_ip6(a->b, buf) : 0;

	gcp_rb_kv_str(rb, key, buf, n);
}

/*
 * engine, node_name, node_type and agent_ip are fixed when the engine is
 * created: encoded once (by the first record) and copied in afterwards.
 * None is a key the content rules watch, so the string hook missing
 * them changes nothing.
 */
static void fixed_keys(struct gcp_engine *e, struct gcp_rb *rb)
{
	if (rb->fixed.p) {
		gcp_rb_put_run(rb, &rb->fixed);
		return;
	}
	struct gcp_rb_mark m = gcp_rb_mark(rb);

	gcp_rb_kv_cstr(rb, "engine", e->opts.engine_name);
	gcp_rb_kv_cstr(rb, "node_name", e->opts.node_name);
	gcp_rb_kv_cstr(rb, "node_type",
		       e->opts.node_type == GCP_NODE_VIRTUAL ? "virtual" : "physical");
	if (e->opts.agent_ip)
		gcp_rb_kv_cstr(rb, "agent_ip", e->opts.agent_ip);
	gcp_rb_save_run(rb, m, &rb->fixed); /* on failure: encoded again next time */
}

static void common_keys(struct gcp_engine *e, const struct gcp_flow *f, enum gcp_record_type type,
			uint64_t ts_ns)
{
	struct gcp_rb *rb = &e->rb;
	const struct gcp_flow_meta *m = gcp_flow_meta(&e->ft, f);
	int ver = f->key.ip_version;

	gcp_rb_kv_cstr(rb, "type", gcp_record_type_name(type));
	gcp_rb_kv_ts(rb, "ts", ts_ns);
	gcp_rb_kv_ts(rb, "ingest_ts", wall_ns());
	fixed_keys(e, rb);
	kv_addr(rb, "src_ip", gcp_flow_cli(f), ver);
	gcp_rb_kv_uint(rb, "src_port", gcp_flow_cport(f));
	kv_addr(rb, "dst_ip", gcp_flow_srv(f), ver);
	gcp_rb_kv_uint(rb, "dst_port", gcp_flow_sport(f));
	gcp_rb_kv_uint(rb, "flow_id", m->id);
	if (m->nvlan) {
		gcp_rb_key(rb, "vlan");
		gcp_rb_array_begin(rb);
		for (unsigned i = 0; i < m->nvlan && i < GCP_MAX_VLAN; i++)
			gcp_rb_uint(rb, m->vlan[i]);
		gcp_rb_end(rb);
	}
	if (m->has_vni)
		gcp_rb_kv_uint(rb, "vni", f->key.vni);
	const char *tenant = gcp_tenant_of(e, f);
	if (tenant)
		gcp_rb_kv_cstr(rb, "tenant", tenant);
	gcp_rb_kv_uint(rb, "ip_version", ver);
	gcp_rb_kv_cstr(rb, "l4", f->key.proto == IPPROTO_TCP ? "tcp" : "udp");
}

struct gcp_rb *gcp_engine_record_begin(struct gcp_engine *e, const struct gcp_flow *f,
				       enum gcp_record_type type, uint64_t ts_ns)
{
	if (e->silent || !(e->sub_mask & type) || !e->cb)
		return NULL;
	gcp_rb_reset(&e->rb);
	e->rules.nhits = 0;
	common_keys(e, f, type, ts_ns);
	return &e->rb;
}

void gcp_engine_record_end(struct gcp_engine *e, enum gcp_record_type type, uint64_t flow_id)
{
	struct gcp_record rec = { .type = type, .flow_id = flow_id };

	gcp_rules_put(&e->rules, &e->rb);
	if (gcp_rb_finish(&e->rb, &rec.data, &rec.len) != 0) {
		e->records_failed++;
		return;
	}
	e->records++;
	e->records_by_type[__builtin_ctz((unsigned)type) & 7]++;
	e->cb(&rec, e->cb_user);
}

/* ---- the tcp record ------------------------------------------------------ */

static void tcp_record(struct gcp_engine *e, const struct gcp_flow *f)
{
	const struct gcp_flow_meta *m = gcp_flow_meta(&e->ft, f);
	struct gcp_rb *rb = gcp_engine_record_begin(e, f, GCP_REC_TCP, m->first_ts);
	static const struct gcp_flow_app none; /* a flow that never carried payload */
	const struct gcp_flow_app *ap = f->ap ? f->ap : &none;

	if (!rb)
		return;
	gcp_rb_kv_cstr(rb, "state", gcp_tcp_conn_state(f));
	gcp_rb_kv_uint(rb, "conn_count", m->conn_count);
	gcp_rb_kv_uint(rb, "session_bytes", f->bytes[0] + f->bytes[1]);
	gcp_rb_key(rb, "duration");
	gcp_rb_double(rb, (double)(f->last_ts - m->first_ts) / 1e9);
	gcp_rb_kv_uint(rb, "pkts_c2s", f->pkts[0]);
	gcp_rb_kv_uint(rb, "pkts_s2c", f->pkts[1]);
	gcp_rb_kv_uint(rb, "bytes_c2s", f->bytes[0]);
	gcp_rb_kv_uint(rb, "bytes_s2c", f->bytes[1]);
	gcp_rb_kv_uint(rb, "payload_c2s", ap->payload[0]);
	gcp_rb_kv_uint(rb, "payload_s2c", ap->payload[1]);
	gcp_rb_kv_uint(rb, "retrans", ap->retrans);
	gcp_rb_kv_uint(rb, "out_of_order", ap->ooo);
	gcp_rb_kv_uint(rb, "missed_bytes", ap->rd[0].missed + ap->rd[1].missed);
	if (ap->dis)
		gcp_rb_kv_cstr(rb, "app", ap->dis->name);
	else if (f->hs_app)
		gcp_rb_kv_cstr(rb, "app", gcp_hsid_name(f->hs_app));
	gcp_engine_record_end(e, GCP_REC_TCP, m->id);
}

void gcp_engine_flow_end(void *arg, struct gcp_flow *f)
{
	struct gcp_engine *e = arg;
	uint64_t first_ts = gcp_flow_meta(&e->ft, f)->first_ts;

	if (first_ts > e->now_ns)
		e->now_ns = first_ts;
	gcp_engine_app_end(e, f);
	if (f->key.proto == IPPROTO_TCP)
		tcp_record(e, f);
	gcp_engine_app_release(e, f);
}

/* ---- services for dissectors ---------------------------------------------- */

const struct gcp_flow_info *gcp_dctx_flow(const struct gcp_dissect_ctx *ctx)
{
	/* The context is the engine's own, mutable object: filling it on
	 * first use keeps the signature dissectors rely on. */
	struct gcp_dissect_ctx *c = (struct gcp_dissect_ctx *)ctx;

	if (!c->fi_ok)
		gcp_engine_ctx_fill(c);
	return &c->fi;
}

uint64_t gcp_dctx_now(const struct gcp_dissect_ctx *ctx)
{
	return ctx->now;
}

const struct gcp_engine_opts *gcp_dctx_opts(const struct gcp_dissect_ctx *ctx)
{
	return &ctx->eng->opts;
}

bool gcp_dctx_wants(const struct gcp_dissect_ctx *ctx, enum gcp_record_type type)
{
	return !ctx->eng->silent && (ctx->eng->sub_mask & type) && ctx->eng->cb;
}

struct gcp_rb *gcp_dctx_record_begin(struct gcp_dissect_ctx *ctx, enum gcp_record_type type,
				     uint64_t ts_ns)
{
	struct gcp_rb *rb = gcp_engine_record_begin(ctx->eng, ctx->flow, type, ts_ns);

	ctx->in_record = rb != NULL;
	ctx->rec_type = type;
	return rb;
}

void gcp_dctx_record_end(struct gcp_dissect_ctx *ctx)
{
	if (!ctx->in_record)
		return;
	ctx->in_record = false;
	gcp_engine_record_end(ctx->eng, ctx->rec_type, gcp_dctx_flow(ctx)->flow_id);
}

void gcp_dctx_anomaly(struct gcp_dissect_ctx *ctx)
{
	ctx->eng->dissector_errors++;
}

void gcp_dctx_resync(struct gcp_dissect_ctx *ctx)
{
	ctx->eng->stream_resyncs++;
}

void *gcp_dctx_alloc(struct gcp_dissect_ctx *ctx, size_t size)
{
	return gcp_pool_alloc(&ctx->eng->pool, size);
}

void gcp_dctx_free(struct gcp_dissect_ctx *ctx, void *p, size_t size)
{
	gcp_pool_free(&ctx->eng->pool, p, size);
}
