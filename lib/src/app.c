/* SPDX-License-Identifier: BSD-3-Clause */
/* Application layer glue: dissector choice (Hyperscan signatures, then
 * port hint + content probe), reassembled stream delivery, and the
 * unconsumed-tail (pending) buffer behind the consumed/needed parse
 * contract. */
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>

#include "engine.h"

#define PROBE_MAX_PKTS 8     /* payload deliveries probed before giving up */
#define PROBE_MAX_BYTES 4096 /* bytes kept while probes answer "maybe" */

/* Point the context at f; its gcp_flow_info is filled when a dissector
 * asks (most segments of an undissected flow never do). */
struct gcp_dissect_ctx *gcp_engine_ctx(struct gcp_engine *e, struct gcp_flow *f, uint64_t now)
{
	struct gcp_dissect_ctx *c = &e->ctx;

	c->eng = e;
	c->flow = f;
	c->now = now;
	c->fi_ok = false;
	return c;
}

void gcp_engine_ctx_fill(struct gcp_dissect_ctx *c)
{
	const struct gcp_flow *f = c->flow;
	const struct gcp_flow_meta *m = gcp_flow_meta(&c->eng->ft, f);

	c->fi_ok = true;
	c->fi.flow_id = m->id;
	c->fi.first_ts = m->first_ts;
	c->fi.cli = gcp_flow_cli(f);
	c->fi.srv = gcp_flow_srv(f);
	c->fi.cport = gcp_flow_cport(f);
	c->fi.sport = gcp_flow_sport(f);
	c->fi.ip_version = f->key.ip_version;
	c->fi.l4proto = f->key.proto;
}

/* ---- cold state ------------------------------------------------------------- */

struct gcp_flow_app *gcp_engine_flow_app(struct gcp_engine *e, struct gcp_flow *f)
{
	struct gcp_flow_app *ap = f->ap;

	if (ap)
		return ap;
	ap = gcp_pool_zalloc(&e->ap_pool, sizeof(*ap));
	if (!ap)
		return NULL; /* counted in mem_limit_hits (pool fails) */
	/* SYNs seen before the first payload left their sequence here. */
	for (int dir = 0; dir < 2; dir++)
		if (f->isn_set & (1u << dir))
			gcp_reasm_set_isn(&ap->rd[dir], f->isn[dir]);
	f->ap = ap;
	return ap;
}


/* ---- pending tail ---------------------------------------------------------- */

static void pending_drop(struct gcp_engine *e, struct gcp_pending *pd)
{
	gcp_pool_free(&e->pool, pd->buf, pd->cap);
	memset(pd, 0, sizeof(*pd));
}

/* Append to the tail buffer; false when the configured cap is exceeded. */
static bool pending_append(struct gcp_engine *e, struct gcp_pending *pd, const uint8_t *d,
			   uint32_t n, uint32_t cap)
{
	if ((uint64_t)pd->len + n > cap)
		return false;
	if (pd->len + n > pd->cap) {
		uint32_t ncap = pd->cap ? pd->cap : 1024;

		while (ncap < pd->len + n)
			ncap *= 2;
		uint8_t *nb = gcp_pool_alloc(&e->pool, ncap);

		if (!nb)
			return false;
		if (pd->len)
			memcpy(nb, pd->buf, pd->len);
		gcp_pool_free(&e->pool, pd->buf, pd->cap);
		pd->buf = nb;
		pd->cap = ncap;
	}
	memcpy(pd->buf + pd->len, d, n);
	pd->len += n;
	return true;
}

static void pending_consume(struct gcp_pending *pd, uint32_t n)
{
	if (n >= pd->len) {
		pd->len = 0;
		return;
	}
	memmove(pd->buf, pd->buf + n, pd->len - n);
	pd->len -= n;
}

/* ---- dissector choice ------------------------------------------------------ */

/* Port -> dissectors that list it (bit i: gcp_dissectors[i]), and those
 * that run on their ports only: built once per process, read-only after. */
static uint32_t port_owners[65536];
static uint32_t port_only;
static pthread_once_t ports_once = PTHREAD_ONCE_INIT;

static void build_port_owners(void)
{
	for (unsigned i = 0; i < gcp_dissector_count; i++) {
		const struct gcp_dissector *d = gcp_dissectors[i];

		for (unsigned k = 0; k < d->nports; k++)
			port_owners[d->ports[k]] |= 1u << i;
		if (d->flags & GCP_DIS_PORT_ONLY)
			port_only |= 1u << i;
	}
}

/* ---- Hyperscan identification ---------------------------------------------- */

static void hs_release(struct gcp_engine *e, struct gcp_flow *f)
{
	gcp_hsid_stop(&e->hsid, &f->ap->hs[0]);
	gcp_hsid_stop(&e->hsid, &f->ap->hs[1]);
}

/* Scan new in-order bytes of a direction; the flow's protocol once named. */
static unsigned hs_step(struct gcp_engine *e, struct gcp_flow *f, int dir, const uint8_t *d,
			uint32_t n)
{
	if (f->hs_app || !gcp_hsid_live(&e->hsid, &f->ap->hs[dir]))
		return f->hs_app;
	f->hs_app = (uint8_t)gcp_hsid_scan(&e->hsid, &f->ap->hs[dir], d, n);
	if (f->hs_app)
		hs_release(e, f);
	return f->hs_app;
}

/* Could a signature still name this direction? Then don't give up yet. */
static bool hs_pending(const struct gcp_engine *e, const struct gcp_flow *f, int dir)
{
	return !f->hs_app && gcp_hsid_live(&e->hsid, &f->ap->hs[dir]);
}

static const struct gcp_dissector *dissector_named(const char *name)
{
	for (unsigned i = 0; name && i < gcp_dissector_count; i++)
		if (!strcmp(gcp_dissectors[i]->name, name))
			return gcp_dissectors[i];
	return NULL;
}

/* f->ap exists: every caller got there through gcp_engine_flow_app(). */
static void attach(struct gcp_engine *e, struct gcp_flow *f, const struct gcp_dissector *d)
{
	struct gcp_flow_app *ap = f->ap;

	hs_release(e, f);
	ap->dis = d;
	f->app_state = GCP_APP_ACTIVE;
	if (d->state_size) {
		ap->app = gcp_pool_zalloc(&e->pool, d->state_size);
		if (!ap->app) {
			ap->dis = NULL;
			f->app_state = GCP_APP_NONE;
			return;
		}
	}
	if (d->init)
		d->init(ap->app, &e->ctx);
}

void gcp_engine_app_attach(struct gcp_engine *e, struct gcp_flow *f,
			   const struct gcp_dissector *d, uint64_t now)
{
	unsigned l4 = f->key.proto == IPPROTO_TCP ? GCP_L4_TCP : GCP_L4_UDP;

	if (f->app_state != GCP_APP_UNKNOWN || !gcp_engine_dissector_wanted(e, d, l4) ||
	    !gcp_engine_flow_app(e, f))
		return;
	gcp_engine_ctx(e, f, now);
	attach(e, f, d);
}

/*
 * Try dissectors on the server port first, then the rest (unless they
 * only run on their ports). Returns GCP_PROBE_YES once attached.
 */
static int choose(struct gcp_engine *e, struct gcp_flow *f, int dir, const uint8_t *d,
		  uint32_t n)
{
	uint32_t want = f->key.proto == IPPROTO_TCP ? e->dis_tcp : e->dis_udp;
	bool maybe = false;

	pthread_once(&ports_once, build_port_owners);
	uint32_t on_port = (port_owners[gcp_flow_sport(f)] | port_owners[gcp_flow_cport(f)]) & want;
	/* Those on the flow's ports first, then the rest, each in list order. */
	uint32_t pass[2] = { on_port, want & ~on_port & ~port_only };

	for (int p = 0; p < 2; p++) {
		for (uint32_t m = pass[p]; m; m &= m - 1) {
			const struct gcp_dissector *ds = gcp_dissectors[__builtin_ctz(m)];
			int r = ds->probe(d, n, dir);

			if (r == GCP_PROBE_YES) {
				attach(e, f, ds);
				return f->app_state == GCP_APP_ACTIVE ? GCP_PROBE_YES : GCP_PROBE_NO;
			}
			maybe |= r == GCP_PROBE_MAYBE;
		}
	}
	return maybe ? GCP_PROBE_MAYBE : GCP_PROBE_NO;
}

/*
 * A signature named the flow: its dissector is attached without asking
 * its probe (signatures are at least as strict, and are what makes a
 * protocol found off its ports, DNS included). No such dissector, or not
 * subscribed: the name still goes on the tcp record.
 */
static int choose_named(struct gcp_engine *e, struct gcp_flow *f, unsigned app)
{
	const struct gcp_dissector *ds = dissector_named(gcp_hsid_name(app));

	if (!ds || !gcp_engine_dissector_wanted(e, ds, GCP_L4_TCP))
		return GCP_PROBE_NO;
	attach(e, f, ds);
	return f->app_state == GCP_APP_ACTIVE ? GCP_PROBE_YES : GCP_PROBE_NO;
}

/* ---- feeding ----------------------------------------------------------------- */

static void finish_app(struct gcp_engine *e, struct gcp_flow *f, uint8_t status)
{
	if (status == GCP_PARSE_ERROR)
		e->dissector_errors++;
	f->app_state = GCP_APP_DONE;
	pending_drop(e, &f->ap->pend[0]);
	pending_drop(e, &f->ap->pend[1]);
}

static uint8_t call_parse(struct gcp_engine *e, struct gcp_flow *f, int dir, const uint8_t *d,
			  uint32_t n, unsigned flags, struct gcp_parse_result *res)
{
	*res = f->ap->dis->parse(f->ap->app, &e->ctx, dir, d, n, flags);
	if (res->consumed > n)
		res->consumed = n;
	if (res->status != GCP_PARSE_OK)
		finish_app(e, f, res->status);
	return res->status;
}

/* Tell the dissector that len bytes are missing; its tail is void. */
static void feed_gap(struct gcp_engine *e, struct gcp_flow *f, int dir, uint32_t len)
{
	struct gcp_parse_result res;

	f->ap->pend[dir].len = 0;
	f->ap->pend[dir].needed = 0;
	call_parse(e, f, dir, NULL, len, GCP_PF_GAP, &res);
}

static void feed_stream(struct gcp_engine *e, struct gcp_flow *f, int dir, const uint8_t *d,
			uint32_t n)
{
	struct gcp_pending *pd = &f->ap->pend[dir];
	struct gcp_parse_result res;

	if (pd->len == 0) {
		/* Zero-copy path: parse straight from the packet. */
		if (call_parse(e, f, dir, d, n, 0, &res) != GCP_PARSE_OK)
			return;
		if (res.consumed < n) {
			if (!pending_append(e, pd, d + res.consumed, n - res.consumed,
					    e->opts.stream_pending_bytes)) {
				e->pending_limit_hits++;
				feed_gap(e, f, dir, n - res.consumed);
				return;
			}
			pd->needed = pd->len + res.needed;
		}
		return;
	}
	if (!pending_append(e, pd, d, n, e->opts.stream_pending_bytes)) {
		uint32_t lost = pd->len + n;

		e->pending_limit_hits++;
		feed_gap(e, f, dir, lost);
		return;
	}
	if (pd->len < pd->needed)
		return;
	if (call_parse(e, f, dir, pd->buf, pd->len, 0, &res) != GCP_PARSE_OK)
		return;
	pending_consume(pd, res.consumed);
	pd->needed = pd->len ? pd->len + res.needed : 0;
}

/* First bytes of a flow: probe (keeping bytes while probes say maybe). */
static void probe_stream(struct gcp_engine *e, struct gcp_flow *f, int dir, const uint8_t *d,
			 uint32_t n)
{
	struct gcp_pending *pd = &f->ap->pend[dir];
	const uint8_t *pd_data = d;
	uint32_t pd_n = n;
	unsigned app = hs_step(e, f, dir, d, n);

	if (pd->len) {
		if (!pending_append(e, pd, d, n, PROBE_MAX_BYTES)) {
			f->app_state = GCP_APP_NONE;
			pending_drop(e, pd);
			return;
		}
		pd_data = pd->buf;
		pd_n = pd->len;
	}
	int r = app ? choose_named(e, f, app) : GCP_PROBE_NO;

	if (r != GCP_PROBE_YES)
		r = choose(e, f, dir, pd_data, pd_n);
	if (r == GCP_PROBE_NO && hs_pending(e, f, dir))
		r = GCP_PROBE_MAYBE;
	if (r == GCP_PROBE_YES) {
		if (pd->len) {
			/* Hand the kept bytes over as the first stream data. */
			struct gcp_pending kept = *pd;

			memset(pd, 0, sizeof(*pd));
			feed_stream(e, f, dir, kept.buf, kept.len);
			gcp_pool_free(&e->pool, kept.buf, kept.cap);
		} else {
			feed_stream(e, f, dir, d, n);
		}
		return;
	}
	if (r == GCP_PROBE_NO || ++f->probe_pkts >= PROBE_MAX_PKTS) {
		f->app_state = GCP_APP_NONE;
		pending_drop(e, pd);
		return;
	}
	if (!pd->len && !pending_append(e, pd, d, n, PROBE_MAX_BYTES)) {
		f->app_state = GCP_APP_NONE;
		pending_drop(e, pd);
	}
}

/* Reassembly delivery callback: ctx is the engine, direction in e->ctx.dir. */
static void deliver(void *arg, const uint8_t *d, uint32_t n)
{
	struct gcp_engine *e = arg;
	struct gcp_flow *f = e->ctx.flow;
	int dir = e->ctx.dir;

	switch (f->app_state) {
	case GCP_APP_UNKNOWN:
		if (!d) {
			/* A hole before we know the protocol: stop looking. */
			f->app_state = GCP_APP_NONE;
			pending_drop(e, &f->ap->pend[dir]);
			gcp_hsid_stop(&e->hsid, &f->ap->hs[dir]);
			return;
		}
		probe_stream(e, f, dir, d, n);
		return;
	case GCP_APP_NONE:
		/* No dissector: a signature may still name the flow. */
		if (d)
			hs_step(e, f, dir, d, n);
		else
			gcp_hsid_stop(&e->hsid, &f->ap->hs[dir]);
		return;
	case GCP_APP_ACTIVE:
		if (!d)
			feed_gap(e, f, dir, n);
		else
			feed_stream(e, f, dir, d, n);
		return;
	default:
		return;
	}
}

/* Once every byte before FIN was delivered, tell the dissector. */
static void maybe_fin(struct gcp_engine *e, struct gcp_flow *f, int dir)
{
	struct gcp_reasm_dir *rd = &f->ap->rd[dir];
	struct gcp_parse_result res;

	if (!gcp_reasm_complete(rd) || (f->fin_sent & (1u << dir)))
		return;
	f->fin_sent |= 1u << dir;
	if (f->app_state != GCP_APP_ACTIVE)
		return;
	/* Bytes still pending are offered one last time with FIN. */
	struct gcp_pending *pd = &f->ap->pend[dir];

	call_parse(e, f, dir, pd->len ? pd->buf : NULL, pd->len, GCP_PF_FIN, &res);
	if (f->app_state == GCP_APP_ACTIVE)
		pd->len = 0;
}

/* A SYN's sequence number: into reassembly, or kept on the hot flow
 * until the flow carries data (most flows of a scan never do). */
static void note_isn(struct gcp_flow *f, int dir, uint32_t next_seq)
{
	if (f->ap) {
		if (!f->ap->rd[dir].init)
			gcp_reasm_set_isn(&f->ap->rd[dir], next_seq);
	} else if (!(f->isn_set & (1u << dir))) {
		f->isn[dir] = next_seq;
		f->isn_set |= 1u << dir;
	}
}

void gcp_engine_tcp_segment(struct gcp_engine *e, struct gcp_flow *f, const struct gcp_pkt *p,
			    int dir)
{
	uint32_t seq = p->tcp_seq;
	bool fin = p->tcp_flags & GCP_TH_FIN;

	if (p->tcp_flags & GCP_TH_SYN) {
		seq++; /* the SYN occupies one sequence number (RFC 9293 3.4) */
		note_isn(f, dir, seq);
	}
	if (!p->payload_len && !fin)
		return;
	if (p->tcp_flags & GCP_TH_RST)
		return; /* data on RST is not delivered by real stacks */
	struct gcp_flow_app *ap = gcp_engine_flow_app(e, f);
	struct gcp_reasm_seg_info info = { 0 };

	if (!ap)
		return;
	gcp_engine_ctx(e, f, p->ts_ns);
	e->ctx.dir = dir;
	gcp_reasm_segment(&e->reasm, &ap->rd[dir], seq, p->payload, p->payload_len, fin, deliver,
			  e, &info);
	ap->retrans += info.retrans;
	ap->ooo += info.out_of_order;
	maybe_fin(e, f, dir);
}

void gcp_engine_udp_datagram(struct gcp_engine *e, struct gcp_flow *f, const struct gcp_pkt *p,
			     int dir)
{
	struct gcp_parse_result res;

	if (!gcp_engine_flow_app(e, f))
		return;
	gcp_engine_ctx(e, f, p->ts_ns);
	e->ctx.dir = dir;
	if (f->app_state == GCP_APP_UNKNOWN) {
		int r = choose(e, f, dir, p->payload, p->payload_len);

		if (r == GCP_PROBE_NO || (r == GCP_PROBE_MAYBE && ++f->probe_pkts >= PROBE_MAX_PKTS))
			f->app_state = GCP_APP_NONE;
		if (r != GCP_PROBE_YES)
			return;
	}
	if (f->app_state == GCP_APP_ACTIVE)
		call_parse(e, f, dir, p->payload, p->payload_len, 0, &res);
}

/* Reassembly drained, the dissector told of FIN where it was not yet. */
static void app_end_tcp(struct gcp_engine *e, struct gcp_flow *f)
{
	struct gcp_flow_app *ap = f->ap;

	for (int dir = 0; dir < 2; dir++) {
		e->ctx.dir = dir;
		if (!e->silent)
			gcp_reasm_flush(&e->reasm, &ap->rd[dir], deliver, e);
		gcp_reasm_release(&e->reasm, &ap->rd[dir]);
		if (!e->silent && f->app_state == GCP_APP_ACTIVE && !(f->fin_sent & (1u << dir))) {
			struct gcp_parse_result res;
			struct gcp_pending *pd = &ap->pend[dir];

			f->fin_sent |= 1u << dir;
			call_parse(e, f, dir, pd->len ? pd->buf : NULL, pd->len, GCP_PF_FIN, &res);
		}
	}
}

/* Flow end: reassembly drained, the dissector finished, what hangs off
 * f->ap freed; f->ap itself stays for the records that read it (the tcp
 * record) until gcp_engine_app_release(). */
void gcp_engine_app_end(struct gcp_engine *e, struct gcp_flow *f)
{
	struct gcp_flow_app *ap = f->ap;

	if (!ap)
		return;
	gcp_engine_ctx(e, f, f->last_ts);
	if (f->key.proto == IPPROTO_TCP)
		app_end_tcp(e, f);
	if (ap->dis) {
		if (ap->dis->fini)
			ap->dis->fini(ap->app, &e->ctx);
		gcp_pool_free(&e->pool, ap->app, ap->dis->state_size);
		ap->app = NULL;
	}
	pending_drop(e, &ap->pend[0]);
	pending_drop(e, &ap->pend[1]);
	hs_release(e, f);
}

void gcp_engine_app_release(struct gcp_engine *e, struct gcp_flow *f)
{
	gcp_pool_free(&e->ap_pool, f->ap, sizeof(*f->ap)); /* NULL: no-op */
	f->ap = NULL;
}
