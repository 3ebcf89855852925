/* SPDX-License-Identifier: BSD-3-Clause */
/* The engine: one worker's packet path from frame to records. */
#include "engine.h"
#include "expect.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S 1000000000ull
#define FLOW_ID_SALT 0x9e3779b97f4a7c15ull /* fixed: ids repeat across runs */

static void on_new_flow(void *arg, struct gcp_flow *f, const struct gcp_pkt *p);

static void set_str(char *dst, size_t n, const char *src, const char *dflt)
{
	snprintf(dst, n, "%s", src ? src : dflt);
}

#define DEFAULT(field, v)                  \
	do {                               \
		if (!o->field)             \
			o->field = (v);    \
	} while (0)

/* Copy the caller's options (as far as its struct reaches) and default the rest. */
static int take_opts(struct gcp_engine *e, const struct gcp_engine_opts *in)
{
	struct gcp_engine_opts *o = &e->opts;

	memset(o, 0, sizeof(*o));
	if (in) {
		if (in->sz < offsetof(struct gcp_engine_opts, max_flows))
			return GCP_ERR_INVAL;
		memcpy(o, in, in->sz < sizeof(*o) ? in->sz : sizeof(*o));
	}
	o->sz = sizeof(*o);
	if (o->node_type != GCP_NODE_PHYSICAL && o->node_type != GCP_NODE_VIRTUAL)
		return GCP_ERR_INVAL;
	char host[256] = "unknown";

	if (!o->node_name && gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "unknown");
	set_str(e->node_name, sizeof(e->node_name), o->node_name, host);
	set_str(e->engine_name, sizeof(e->engine_name), o->engine_name,
		"gcprobe/" GCP_VERSION_STRING);
	set_str(e->agent_ip, sizeof(e->agent_ip), o->agent_ip, "");
	set_str(e->tenant, sizeof(e->tenant), o->tenant, "");
	o->node_name = e->node_name;
	o->engine_name = e->engine_name;
	o->agent_ip = e->agent_ip[0] ? e->agent_ip : NULL;
	o->tenant = e->tenant[0] ? e->tenant : NULL;
	DEFAULT(max_flows, 65536);
	DEFAULT(tcp_idle_s, 300);
	DEFAULT(udp_idle_s, 60);
	DEFAULT(tcp_close_s, 5);
	DEFAULT(conn_window_s, 60);
	DEFAULT(max_frag_datagrams, 1024);
	DEFAULT(frag_timeout_s, 30);
	DEFAULT(reasm_flow_bytes, 256 * 1024);
	DEFAULT(reasm_total_bytes, 64ull * 1024 * 1024);
	DEFAULT(stream_pending_bytes, 64 * 1024);
	DEFAULT(body_cap, 4096);
	DEFAULT(decompress, 1);
	DEFAULT(dns_timeout_s, 10);
	DEFAULT(hs_ident, 1);
	DEFAULT(hs_streams, 4096);
	DEFAULT(app_mem_bytes, 256ull * 1024 * 1024);
	if (o->hs_ident != 1 && o->hs_ident != -1)
		return GCP_ERR_INVAL;
	if (o->hs_streams > (1u << 24))
		return GCP_ERR_INVAL;
	/* Both are single pool blocks: larger would fail on every use. */
	if (o->stream_pending_bytes > (1u << GCP_POOL_MAX_SHIFT) ||
	    o->body_cap > (1u << GCP_POOL_MAX_SHIFT))
		return GCP_ERR_INVAL;
	return GCP_OK;
}

/* A random hash key unless the caller fixed one (0 is never a key).
 * Non-blocking: a probe started early in boot must not wait for the
 * entropy pool; the fallback still differs per engine and run. */
static uint64_t hash_seed(uint64_t asked)
{
	uint64_t s = asked;

	while (!s) {
		if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
			s = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32) ^ (uintptr_t)&s;
	}
	return s;
}

/* Pool bytes plus malloc's per-block header at its worst (64 B blocks). */
static uint64_t pool_heap(uint64_t limit)
{
	return limit / GCP_POOL_OVERHEAD_DEN * GCP_POOL_OVERHEAD_NUM;
}

/* The cold-state pool: one block per flow at most, so it never refuses
 * while malloc does not. Blocks are the pool's power-of-two classes. */
static uint64_t ap_pool_limit(const struct gcp_engine_opts *o)
{
	uint64_t block = 1u << GCP_POOL_MIN_SHIFT;

	while (block < sizeof(struct gcp_flow_app))
		block <<= 1;
	return block * o->max_flows;
}

/* Worst-case heap of an engine with resolved options (see gcprobe.h). */
static uint64_t mem_budget(const struct gcp_engine_opts *o)
{
	return sizeof(struct gcp_engine) + gcp_frag_mem(o->max_frag_datagrams) +
	       gcp_flow_table_mem(o->max_flows, o->conn_window_s) +
	       pool_heap(ap_pool_limit(o)) +
	       (o->hs_ident == 1 ? gcp_hsid_mem(o->hs_streams) : 0) +
	       pool_heap(o->reasm_total_bytes) + pool_heap(o->app_mem_bytes) +
	       GCP_RB_MAX_BYTES + gcp_expect_table_mem();
}

uint64_t gcp_engine_mem_budget(const struct gcp_engine_opts *opts)
{
	struct gcp_engine *e = calloc(1, sizeof(*e));
	uint64_t n = 0;

	if (e && take_opts(e, opts) == GCP_OK)
		n = mem_budget(&e->opts);
	free(e);
	return n;
}

int gcp_engine_create(const struct gcp_engine_opts *opts, struct gcp_engine **out)
{
	struct gcp_engine *e;
	int rc;

	if (!out)
		return GCP_ERR_INVAL;
	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return GCP_ERR_NOMEM;
	atomic_init(&e->rules.next, NULL);
	rc = take_opts(e, opts);
	if (!rc)
		rc = gcp_tenant_init(e);
	if (rc)
		goto fail;
	struct gcp_decode_limits lim = { e->opts.max_frag_datagrams, e->opts.frag_timeout_s };

	rc = GCP_ERR_NOMEM;
	if (gcp_decoder_init(&e->dec, &lim) != 0)
		goto fail;
	e->dec_ok = true;
	if (gcp_flow_table_init(&e->ft, e->opts.max_flows, e->opts.conn_window_s) != 0)
		goto fail;
	e->ft_ok = true;
	/* Distinct salts per worker keep flow ids unique across engines. */
	e->ft.id_salt = FLOW_ID_SALT ^ ((uint64_t)e->opts.worker_id * 0xd6e8feb86659fd93ull);
	e->opts.hash_seed = hash_seed(e->opts.hash_seed);
	gcp_flow_table_seed(&e->ft, e->opts.hash_seed);
	if (gcp_rb_init(&e->rb) != 0)
		goto fail;
	e->rb_ok = true;
	gcp_pool_init(&e->pool, e->opts.app_mem_bytes);
	gcp_pool_init(&e->reasm_pool, e->opts.reasm_total_bytes);
	gcp_pool_init(&e->ap_pool, ap_pool_limit(&e->opts));
	gcp_reasm_init(&e->reasm, &e->reasm_pool, e->opts.reasm_flow_bytes,
		       e->opts.reasm_total_bytes);
	gcp_rules_run_init(&e->rules);
	/* Without Hyperscan (no SSSE3, no memory) the port/probe path remains. */
	if (e->opts.hs_ident == 1)
		(void)gcp_hsid_init(&e->hsid, e->opts.hs_streams);
	e->sub_mask = 0;
	e->next_tick_ns = NS_PER_S; /* last_tick_s is 0 */
	e->hooks = (struct gcp_flow_hooks){ gcp_engine_flow_end, on_new_flow, e, e->opts.tcp_idle_s,
					    e->opts.udp_idle_s, e->opts.tcp_close_s };
	e->mem_budget = mem_budget(&e->opts);
	*out = e;
	return GCP_OK;
fail:
	gcp_engine_destroy(e);
	return rc;
}

void gcp_engine_destroy(struct gcp_engine *e)
{
	if (!e)
		return;
	if (e->ft_ok) {
		/* Release per-flow memory without emitting records. */
		e->silent = true;
		gcp_flow_flush(&e->ft, gcp_engine_flow_end, e);
		gcp_flow_table_fini(&e->ft);
	}
	gcp_expect_table_free(e->exp);
	gcp_hsid_fini(&e->hsid);
	gcp_rules_run_fini(&e->rules);
	gcp_tenant_fini(e);
	if (e->dec_ok)
		gcp_decoder_fini(&e->dec);
	if (e->rb_ok)
		gcp_rb_fini(&e->rb);
	gcp_pool_fini(&e->pool);
	gcp_pool_fini(&e->reasm_pool);
	gcp_pool_fini(&e->ap_pool);
	free(e);
}

/* Bit i: gcp_dissectors[i] runs on l4 and emits a subscribed type. */
static uint32_t dissectors_wanted(const struct gcp_engine *e, unsigned l4)
{
	uint32_t m = 0;

	for (unsigned i = 0; i < gcp_dissector_count; i++) {
		const struct gcp_dissector *d = gcp_dissectors[i];

		if (gcp_engine_dissector_wanted(e, d, l4))
			m |= 1u << i;
	}
	return m;
}

/* Flows created while nothing wants their payload are never dissected
 * (a later subscription applies to new flows). */
int gcp_engine_subscribe(struct gcp_engine *e, unsigned mask, gcp_record_cb cb, void *user)
{
	if (!e || (mask & ~(unsigned)GCP_REC_ALL))
		return GCP_ERR_INVAL;
	e->sub_mask = cb ? mask : 0;
	e->cb = cb;
	e->cb_user = user;
	e->dis_tcp = dissectors_wanted(e, GCP_L4_TCP);
	e->dis_udp = dissectors_wanted(e, GCP_L4_UDP);
	/* A tcp record names the protocol Hyperscan found, so it needs the
	 * payload identified too. */
	e->app_tcp = e->dis_tcp || ((e->sub_mask & GCP_REC_TCP) && e->hsid.db);
	e->app_udp = e->dis_udp != 0;
	/* The tcp record reports payload, retransmissions and missed bytes. */
	e->cold_tcp = e->app_tcp || (e->sub_mask & GCP_REC_TCP);
	return GCP_OK;
}

/* ---- content rules ---------------------------------------------------- */

int gcp_engine_set_rules(struct gcp_engine *e, struct gcp_rules *rules)
{
	if (!e)
		return GCP_ERR_INVAL;
	return gcp_rules_run_set(&e->rules, rules);
}

/* Burst boundary: adopt a rule set posted by gcp_engine_set_rules(). */
static void take_rules(struct gcp_engine *e)
{
	if (!gcp_rules_run_pickup(&e->rules))
		return;
	e->rb.str_hook = e->rules.rules ? gcp_rules_on_str : NULL;
	e->rb.hook_user = &e->rules;
}

/* ---- timers ----------------------------------------------------------- */

/* now_ns never falls below the last tick's second, so entering a new
 * second is reaching the next one. */
static bool tick_due(const struct gcp_engine *e, uint64_t ts)
{
	return ts > e->now_ns && ts >= e->next_tick_ns;
}

/* The clock follows packet time; flows and fragments expire when it
 * enters a new second. */
static void advance_clock(struct gcp_engine *e, uint64_t ts)
{
	if (ts <= e->now_ns)
		return; /* reordered capture: the clock never runs backwards */
	e->now_ns = ts;
	if (ts < e->next_tick_ns)
		return;
	uint64_t sec = ts / NS_PER_S;

	e->last_tick_s = sec;
	e->next_tick_ns = (sec + 1) * NS_PER_S;
	gcp_flow_expire(&e->ft, ts, gcp_engine_flow_end, e);
	gcp_decoder_expire(&e->dec, ts);
}

int gcp_engine_advance(struct gcp_engine *e, uint64_t now_ns)
{
	if (!e)
		return GCP_ERR_INVAL;
	take_rules(e);
	advance_clock(e, now_ns);
	return GCP_OK;
}

int gcp_engine_flush(struct gcp_engine *e)
{
	if (!e)
		return GCP_ERR_INVAL;
	take_rules(e);
	gcp_flow_flush(&e->ft, gcp_engine_flow_end, e);
	return GCP_OK;
}

/* ---- packet path -------------------------------------------------------- */

/*
 * A burst goes through in two passes over at most GCP_STAGE_MAX frames:
 *  1. decode every frame into its slot, build its flow key and hash, and
 *     prefetch its index bucket;
 *  2. per packet, prefetch the flow of the packet a few places ahead
 *     (its bucket is in cache by now), then look up or create the flow,
 *     update it and hand the payload on.
 * Records come out exactly as if each frame went through alone: a stage
 * ends before the frame whose time enters a new second (timers run
 * between frames, before the decoder sees that frame), and after a
 * reassembled IP datagram (it lives in the decoder until the next
 * decode). Nothing in pass 2 feeds back into decoding.
 */
#define PREFETCH_AHEAD 4

static void on_new_flow(void *arg, struct gcp_flow *f, const struct gcp_pkt *p)
{
	struct gcp_engine *e = arg;

	if (!(p->l4proto == IPPROTO_TCP ? e->app_tcp : e->app_udp))
		f->app_state = GCP_APP_DONE;
	if (e->exp)
		gcp_expect_on_new_flow(e, f, p->ts_ns);
}

static void flow_packet(struct gcp_engine *e, struct gcp_stage_slot *s)
{
	const struct gcp_pkt *p = &s->p;
	int dir = 0;
	struct gcp_flow *f = gcp_flow_packet(&e->ft, p, &s->q, &e->hooks, &dir);

	/* Nothing subscribed needs this flow's payload: no cold state, no
	 * reassembly (flow-only collection, or a subscriber of other types). */
	if (!f || !(p->l4proto == IPPROTO_TCP ? e->cold_tcp : e->app_udp))
		return;
	if (p->payload_wire_len) {
		struct gcp_flow_app *ap = gcp_engine_flow_app(e, f);

		if (ap)
			ap->payload[dir] += p->payload_wire_len;
	}
	if (p->l4proto == IPPROTO_TCP)
		gcp_engine_tcp_segment(e, f, p, dir);
	else if (p->payload_len)
		gcp_engine_udp_datagram(e, f, p, dir);
}

static bool bad_packet(const struct gcp_packet *in)
{
	return !in || (!in->data && in->caplen);
}

/* Pass 1 over up to GCP_STAGE_MAX frames; returns how many it took. */
static unsigned stage_decode(struct gcp_engine *e, const struct gcp_packet *in, unsigned n)
{
	unsigned k = 0;

	if (n > GCP_STAGE_MAX)
		n = GCP_STAGE_MAX;
	for (; k < n; k++) {
		const struct gcp_packet *pk = &in[k];
		struct gcp_stage_slot *s = &e->stage[k];

		if (bad_packet(pk))
			break;
		/* Headers of the frames to come: decode reads them in turn. */
		if (k + PREFETCH_AHEAD < n && in[k + PREFETCH_AHEAD].data) {
			__builtin_prefetch(in[k + PREFETCH_AHEAD].data);
			__builtin_prefetch(in[k + PREFETCH_AHEAD].data + 64);
		}
		if (tick_due(e, pk->ts_ns) && k)
			break; /* timers first: the next stage starts with this frame */
		advance_clock(e, pk->ts_ns);
		e->pkts++;
		e->bytes += pk->wirelen;
		s->flow = gcp_decode(&e->dec, pk, &s->p) == GCP_DEC_OK &&
			  (s->p.l4proto == IPPROTO_TCP || s->p.l4proto == IPPROTO_UDP);
		if (s->flow) {
			gcp_flow_probe_init(&e->ft, &s->p, &s->q);
			gcp_flow_prefetch_bucket(&e->ft, &s->q);
		}
		if (s->p.flags & GCP_PKT_REASSEMBLED) {
			k++;
			break;
		}
	}
	return k;
}

/* Pass 2, in arrival order. */
static void stage_flows(struct gcp_engine *e, unsigned k)
{
	for (unsigned a = 0; a < PREFETCH_AHEAD && a < k; a++)
		if (e->stage[a].flow)
			gcp_flow_prefetch_flow(&e->ft, &e->stage[a].q);
	for (unsigned i = 0; i < k; i++) {
		unsigned a = i + PREFETCH_AHEAD;

		if (a < k && e->stage[a].flow)
			gcp_flow_prefetch_flow(&e->ft, &e->stage[a].q);
		if (e->stage[i].flow)
			flow_packet(e, &e->stage[i]);
	}
}

int gcp_engine_feed(struct gcp_engine *e, const struct gcp_packet *in)
{
	return gcp_engine_feed_burst(e, in, 1);
}

int gcp_engine_feed_burst(struct gcp_engine *e, const struct gcp_packet *pkts, unsigned n)
{
	if (!e || (n && !pkts))
		return GCP_ERR_INVAL;
	take_rules(e);
	for (unsigned i = 0; i < n;) {
		unsigned k = stage_decode(e, pkts + i, n - i);

		stage_flows(e, k);
		i += k;
		if (i < n && bad_packet(&pkts[i]))
			return GCP_ERR_INVAL;
	}
	return GCP_OK;
}

/* ---- stats ---------------------------------------------------------------- */

int gcp_engine_stats(const struct gcp_engine *e, struct gcp_stats *out)
{
	struct gcp_stats st;

	if (!e || !out || out->sz == 0)
		return GCP_ERR_INVAL;
	memset(&st, 0, sizeof(st));
	st.sz = sizeof(st);
	st.pkts = e->pkts;
	st.bytes = e->bytes;
	st.decode_errors = e->dec.st.errors;
	st.non_ip = e->dec.st.non_ip;
	st.truncated = e->dec.st.truncated;
	st.unsupported_link = e->dec.st.unsupported_link;
	st.tunnels = e->dec.st.tunnels;
	st.frags = e->dec.st.frags;
	st.frags_reassembled = e->dec.st.frags_reassembled;
	st.frags_dropped = e->dec.st.frags_dropped;
	st.flows_created = e->ft.st_created;
	st.flows_ended = e->ft.st_ended;
	st.flows_evicted = e->ft.st_evicted;
	st.flow_table_full = e->ft.st_full;
	st.reasm_ooo_bytes = e->reasm.st_ooo_bytes;
	st.reasm_limit_hits = e->reasm.st_limit_hits;
	st.reasm_missed_bytes = e->reasm.st_missed_bytes;
	st.pending_limit_hits = e->pending_limit_hits;
	st.records = e->records;
	memcpy(st.records_by_type, e->records_by_type, sizeof(st.records_by_type));
	st.dissector_errors = e->dissector_errors;
	st.hs_identified = e->hsid.st_ident;
	st.hs_streams_full = e->hsid.st_full;
	st.rules_tagged = e->rules.st_tagged;
	st.rules_hits_dropped = e->rules.st_dropped;
	st.rules_swaps = e->rules.st_swaps;
	st.frags_overlap = e->dec.st.frags_overlap;
	st.mem_limit_hits = e->pool.fails + e->reasm_pool.fails + e->ap_pool.fails +
			    e->rb.st_oversize;
	st.mem_budget = e->mem_budget;
	st.records_failed = e->records_failed;
	st.stream_resyncs = e->stream_resyncs;
	if (e->exp) {
		st.expect_added = e->exp->st_added;
		st.expect_matched = e->exp->st_matched;
		st.expect_full = e->exp->st_full;
		st.expect_expired = e->exp->st_expired;
	}
	st.hs_scan_errors = e->hsid.st_errors;
	st.rules_scan_errors = e->rules.st_errors;
	size_t n = out->sz < sizeof(st) ? out->sz : sizeof(st);

	memcpy(out, &st, n);
	out->sz = n;
	return GCP_OK;
}
