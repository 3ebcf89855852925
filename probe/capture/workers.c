/* SPDX-License-Identifier: BSD-3-Clause */
/* Workers: one engine per queue or core, run-to-completion in bursts; software symmetric distributor; one writer. */
#include "workers.h"
#include "ctx.h"
#include "locate.h"
#include "log.h"
#include "rules.h"
#include "stats_rec.h"
#include "sink/sink.h"
#include "tap/tap_run.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Two ways to feed workers:
 *  - RSS (NIC, DPDK, AF_XDP queues): worker i polls queue i itself and
 *    runs each burst to completion; packets are never copied and frames
 *    go back to the kernel/NIC once gcp_engine_feed_burst returns.
 *  - One queue (a file, a single-queue device): the main thread reads
 *    bursts, hashes each packet on its IP address pair so both
 *    directions (and every fragment) of a flow meet in one worker, and
 *    copies it into that worker's single-producer ring.
 * Records: each worker renders into its own buffer and hands it to the
 * output under one lock, whole records only, so lines never interleave.
 */

#define WK_BURST 64
#define WK_DRAIN_BURSTS 256    /* at exit: up to 16384 packets left in a ring */
#define RING_SZ (8u << 20)
#define RING_PKT_MAX (256u * 1024u)
#define OUT_FLUSH_AT (64u * 1024u)
#define SINK_TICK_NS 200000000ull /* idle: sinks flushed at most this often */
#define TICK_LINK (-1) /* ring entry that only advances the engine clock */

struct shared {
	pthread_mutex_t lock;
	struct gcp_sinkset *set;   /* under lock (probe/sink/) */
	struct probe_ctx *ctx;     /* stop: every thread; hup: the main thread */
	_Atomic uint64_t last_tick; /* last idle flush of the sinks */
	uint64_t count;            /* stop after this many packets (0: no limit) */
	atomic_uint_fast64_t taken; /* packets counted against count */
	uint64_t count_dropped;    /* distributor: read past count */
};

struct ring_ent {
	uint32_t len;     /* bytes of this entry incl. header, 8-aligned; 0: wrap */
	uint32_t caplen;
	uint32_t wirelen;
	int32_t linktype; /* TICK_LINK: advance the clock to ts_ns */
	uint64_t ts_ns;
};

/* Single producer (distributor), single consumer (worker). */
struct ring {
	uint8_t *buf;
	_Atomic uint64_t head; /* written by the producer */
	_Atomic uint64_t tail; /* written by the consumer */
	atomic_bool eof;
};

struct worker {
	pthread_t th;
	unsigned id;
	struct gcp_engine *eng;
	struct gcp_capture *cap; /* own queue, or NULL when fed from ring */
	struct ring ring;
	struct shared *sh;
	char *out;
	size_t olen, ocap;
	uint64_t bad;
	int bad_status;
	uint64_t pkts;
	uint64_t ring_dropped; /* too large for the ring */
	uint64_t lost;         /* records that never reached the sinks (no memory) */
	uint64_t count_dropped; /* own queue: packets read past --count */
	int rc;
	bool started;
	/* service: counters the worker copies for the main thread's stats records */
	pthread_mutex_t snap_lock;
	struct gcp_stats snap;
	struct gcp_capture_stats csnap;
	uint64_t snap_lost, snap_count_dropped;
	uint64_t snap_at;
};

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void nap(long ns)
{
	struct timespec ts = { 0, ns };

	nanosleep(&ts, NULL);
}

/* ---- output ---------------------------------------------------------- */

static bool out_grow(struct worker *w, size_t need)
{
	if (w->ocap - w->olen >= need)
		return true;
	size_t cap = w->ocap ? w->ocap : OUT_FLUSH_AT * 2;
	while (cap - w->olen < need) {
		if (cap > ((size_t)1 << 30))
			return false;
		cap *= 2;
	}
	char *p = realloc(w->out, cap);
	if (!p)
		return false;
	w->out = p;
	w->ocap = cap;
	return true;
}

/* ---- sinks (probe/sink/) ----
 * The worker buffer holds whole records, each an out_ent header, its
 * msgpack bytes and (when a sink wants JSON) its JSON line, 8-aligned;
 * out_flush hands them to the sinks under the lock. */
struct out_ent {
	uint32_t mp_len;
	uint32_t json_len;    /* 0: no JSON (not wanted or would not render) */
	uint32_t type;
	uint32_t pad;
	uint64_t flow_id;
};

static size_t pad8(size_t n)
{
	return (n + 7u) & ~(size_t)7u;
}

/* Idle: let the sinks send queued data and rotate, now and then. */
static void sinks_tick(struct shared *sh)
{
	uint64_t t = now_ns(CLOCK_MONOTONIC);

	if (t - atomic_load(&sh->last_tick) < SINK_TICK_NS || pthread_mutex_trylock(&sh->lock))
		return;
	atomic_store(&sh->last_tick, t);
	gcp_sinkset_flush(sh->set);
	pthread_mutex_unlock(&sh->lock);
}

static void out_flush(struct worker *w)
{
	struct shared *sh = w->sh;

	if (!w->olen) {
		sinks_tick(sh);
		return;
	}
	pthread_mutex_lock(&sh->lock);
	for (size_t off = 0; off < w->olen;) {
		const struct out_ent *e = (const struct out_ent *)(w->out + off);
		const uint8_t *mp = (const uint8_t *)(e + 1);
		struct gcp_sink_rec r = { .mp = mp, .mp_len = e->mp_len, .type = e->type,
					  .flow_id = e->flow_id };
		if (e->json_len) {
			r.json = (const char *)mp + pad8(e->mp_len);
			r.json_len = e->json_len;
		}
		gcp_sinkset_write(sh->set, &r);
		off += sizeof(*e) + pad8(e->mp_len) + pad8(e->json_len);
	}
	pthread_mutex_unlock(&sh->lock);
	w->olen = 0;
}

static void bad_record(struct worker *w, int status)
{
	if (!w->bad++)
		w->bad_status = status;
}

/* Render JSON straight into the buffer's tail; grow when it is too small. */
static size_t render_json(struct worker *w, const struct gcp_record *rec)
{
	size_t want = 4096;

	for (;;) {
		if (!out_grow(w, want)) {
			bad_record(w, GCP_ERR_NOMEM);
			return 0;
		}
		int n = gcp_record_to_json(rec->data, rec->len, w->out + w->olen, w->ocap - w->olen,
					   GCP_JSON_DEFAULT);
		if (n >= 0)
			return (size_t)n;
		if (n != GCP_ERR_FULL || want >= (256u << 20)) {
			bad_record(w, n);
			return 0;
		}
		want = (w->ocap - w->olen) * 2;
	}
}

static void on_record(const struct gcp_record *rec, void *user)
{
	struct worker *w = user;
	size_t at = w->olen;

	if (!out_grow(w, sizeof(struct out_ent) + pad8(rec->len))) {
		bad_record(w, GCP_ERR_NOMEM);
		w->lost++;
		return;
	}
	struct out_ent e = { .mp_len = (uint32_t)rec->len, .type = (uint32_t)rec->type,
			     .flow_id = rec->flow_id };
	memcpy(w->out + at + sizeof(e), rec->data, rec->len);
	w->olen = at + sizeof(e) + pad8(rec->len);
	if (w->sh->set->want_json)
		e.json_len = (uint32_t)render_json(w, rec);
	memcpy(w->out + at, &e, sizeof(e)); /* after render_json: it may move w->out */
	w->olen += pad8(e.json_len);
}
/* ---- end sinks ---- */

/* ---- service: counter snapshots for stats records (stats_rec.c) ---------- */

/* Worker thread: copy its counters for the main thread, at most every 100 ms. */
static void snap_maybe(struct worker *w)
{
	uint64_t t = now_ns(CLOCK_MONOTONIC);

	if (t - w->snap_at < 100000000ull)
		return;
	w->snap_at = t;
	pthread_mutex_lock(&w->snap_lock);
	w->snap.sz = sizeof(w->snap);
	gcp_engine_stats(w->eng, &w->snap);
	w->csnap.sz = sizeof(w->csnap);
	if (w->cap)
		gcp_capture_stats(w->cap, &w->csnap);
	w->snap_lost = w->lost;
	w->snap_count_dropped = w->count_dropped;
	pthread_mutex_unlock(&w->snap_lock);
}

/* Main thread's view of the run, for stats records and SIGHUP. */
static struct svc {
	const struct probe_workers_cfg *cfg;
	struct worker *wk;
	unsigned nw, nq;
	struct gcp_capture **caps;
	const struct live_backend *lb;
	struct shared *sh;
	uint64_t next_stats;
	uint64_t lost;             /* stats records that never reached the sinks */
} svc;

static void sum_stats(struct gcp_stats *a, const struct gcp_stats *b);

/* Kernel/NIC drops of every queue, as the backend reports them. */
static void books_kernel(struct probe_books *b)
{
	for (unsigned i = 0; svc.lb && svc.lb->qstats && i < svc.nq; i++) {
		struct live_qstats ls = { 0 };
		svc.lb->qstats(svc.caps[i], &ls);
		b->drop_kernel += ls.kernel_dropped + ls.nombuf;
		b->drop_ring_full += ls.ring_full;
	}
	b->pkts_received += b->drop_kernel + b->drop_ring_full;
}

/*
 * The run's books (stats_rec.h). Own queues: each worker's capture and
 * engine counters come from one snapshot (final: read directly, the
 * workers have stopped). One queue: the distributor (this thread) reads
 * its capture itself; packets in the rings are in flight until the end.
 */
static void svc_books(struct probe_books *b, bool final)
{
	bool fed = svc.nq == 1 && svc.nw > 1;

	*b = (struct probe_books){ .set = svc.sh->set, .final = final,
				   .records_lost = svc.lost,
				   .drop_count_limit = svc.sh->count_dropped };
	for (unsigned i = 0; i < svc.nw; i++) {
		struct worker *w = &svc.wk[i];
		struct gcp_stats st = { .sz = sizeof(st) };
		struct gcp_capture_stats cs = { .sz = sizeof(cs) };
		pthread_mutex_lock(&w->snap_lock);
		if (final) {
			gcp_engine_stats(w->eng, &st);
			if (w->cap)
				gcp_capture_stats(w->cap, &cs);
		} else {
			st = w->snap;
			cs = w->csnap;
		}
		b->records_lost += final ? w->lost : w->snap_lost;
		b->drop_count_limit += final ? w->count_dropped : w->snap_count_dropped;
		pthread_mutex_unlock(&w->snap_lock);
		b->pkts_processed += st.pkts;
		b->records_produced += st.records;
		b->drop_too_large += w->ring_dropped; /* written by this thread */
		if (!fed)
			b->pkts_received += cs.pkts + cs.truncated;
	}
	if (fed) {
		struct gcp_capture_stats cs = { .sz = sizeof(cs) };
		gcp_capture_stats(svc.caps[0], &cs);
		b->pkts_received += cs.pkts + cs.truncated;
		b->drop_truncated = cs.truncated;
	}
	b->records_produced += probe_stats_records();
	books_kernel(b);
}

/* One stats record from the workers' snapshots (final: straight from the engines). */
static void svc_stats(uint64_t ts, bool final)
{
	struct gcp_stats tot = { .sz = sizeof(tot) };
	struct probe_qstat q[128] = { { 0 } };
	struct worker mainw = { .sh = svc.sh };
	uint64_t dropped = 0;
	bool fed = svc.nq == 1 && svc.nw > 1;

	for (unsigned i = 0; i < svc.nw; i++) {
		struct worker *w = &svc.wk[i];
		pthread_mutex_lock(&w->snap_lock);
		if (final)
			gcp_engine_stats(w->eng, &w->snap);
		if (w->snap.sz)
			sum_stats(&tot, &w->snap);
		if (!fed && i < 128)
			q[i] = (struct probe_qstat){ w->csnap.pkts, w->csnap.bytes, w->csnap.dropped, 0 };
		pthread_mutex_unlock(&w->snap_lock);
		dropped += w->bad;
	}
	for (unsigned i = 0; i < svc.nq && i < 128; i++) {
		struct gcp_capture_stats cs = { .sz = sizeof(cs) };
		struct live_qstats ls = { 0 };
		if ((fed || final) && !gcp_capture_stats(svc.caps[i], &cs))
			q[i] = (struct probe_qstat){ cs.pkts, cs.bytes, cs.dropped, 0 };
		if (final && svc.lb && svc.lb->qstats) {
			svc.lb->qstats(svc.caps[i], &ls);
			q[i].kernel_dropped = ls.kernel_dropped;
		}
	}
	struct probe_books b;
	struct probe_stats_in in = { .ts_ns = ts, .eng = &tot, .q = q,
				     .nq = svc.nq < 128 ? svc.nq : 128, .workers = svc.nw,
				     .records_dropped = dropped, .final = final, .books = &b };
	if (probe_stats_wanted(svc.cfg->st)) {
		pthread_mutex_lock(&svc.sh->lock); /* the books read the sinks */
		svc_books(&b, final);
		probe_stats_emit(svc.cfg->st, &in, on_record, &mainw);
		pthread_mutex_unlock(&svc.sh->lock);
	}
	out_flush(&mainw);
	svc.lost += mainw.lost;
	free(mainw.out);
}

/* Inventory records of the run's taps (probe/tap/), out like stats records. */
static void svc_taps(bool final)
{
	struct worker mainw = { .sh = svc.sh };

	probe_taps_drain(final, on_record, &mainw);
	if (mainw.olen)
		out_flush(&mainw);
	free(mainw.out);
}

/* Main thread, between bursts: SIGHUP, the stats and inventory intervals. */
static void svc_tick(uint64_t now)
{
	if (probe_ctx_hup_take(svc.sh->ctx)) {
		struct gcp_engine *e[128];
		unsigned n = svc.nw < 128 ? svc.nw : 128;
		for (unsigned i = 0; i < n; i++)
			e[i] = svc.wk[i].eng;
		probe_rules_reload(svc.cfg->rules_path, e, n);
		pthread_mutex_lock(&svc.sh->lock);
		gcp_sinkset_reopen(svc.sh->set);
		pthread_mutex_unlock(&svc.sh->lock);
	}
	if (probe_stats_due(svc.cfg->st, &svc.next_stats, now))
		svc_stats(now, false);
	svc_taps(false);
}

/* ---- run-to-completion on an own queue ---------------------------------- */

/* How many of n packets to take under --count; sets stop at the limit. */
static unsigned take(struct shared *sh, unsigned n)
{
	if (!sh->count)
		return n;
	uint64_t before = atomic_fetch_add(&sh->taken, n);
	if (before + n >= sh->count)
		probe_ctx_stop(sh->ctx);
	if (before >= sh->count)
		return 0;
	return before + n > sh->count ? (unsigned)(sh->count - before) : n;
}

/* One received burst: fed (up to --count) or counted as count_limit drops. */
static void worker_feed(struct worker *w, struct gcp_packet *pkts, unsigned n)
{
	struct gcp_capture *cap = w->cap;
	unsigned k = take(w->sh, n);

	if (k)
		gcp_engine_feed_burst(w->eng, pkts, k);
	w->count_dropped += n - k;
	w->pkts += k;
	if (cap->ops->release)
		cap->ops->release(cap); /* frames back to the fill ring / mempool */
	if (w->olen >= OUT_FLUSH_AT)
		out_flush(w);
	snap_maybe(w);
}

/*
 * Stopped by a signal or --duration: what the kernel already put in the
 * RX ring was captured, so it is processed rather than lost. Bounded, so
 * traffic that keeps arriving cannot hold up the exit.
 */
static void worker_drain_ring(struct worker *w, struct gcp_packet *pkts)
{
	struct shared *sh = w->sh;

	if (w->rc || (sh->count && atomic_load(&sh->taken) >= sh->count))
		return;
	for (unsigned i = 0; i < WK_DRAIN_BURSTS; i++) {
		int n = gcp_capture_rx_burst(w->cap, pkts, WK_BURST);
		if (n <= 0)
			break;
		worker_feed(w, pkts, (unsigned)n);
	}
}

static void *worker_poll(void *arg)
{
	struct worker *w = arg;
	struct gcp_capture *cap = w->cap;
	struct gcp_packet pkts[WK_BURST];
	uint64_t last_tick = now_ns(CLOCK_MONOTONIC);
	unsigned idle = 0;

	while (!probe_ctx_stopping(w->sh->ctx)) {
		int n = gcp_capture_rx_burst(cap, pkts, WK_BURST);
		if (n < 0) {
			w->rc = n;
			probe_ctx_stop(w->sh->ctx);
			break;
		}
		if (n == 0) {
			/* Idle: hand out what is rendered, let timers run, then
			 * sleep on the queue (or spin under --busy-poll). */
			out_flush(w);
			snap_maybe(w);
			uint64_t t = now_ns(CLOCK_MONOTONIC);
			if (t - last_tick > 500000000ull) {
				gcp_engine_advance(w->eng, now_ns(CLOCK_REALTIME));
				last_tick = t;
			}
			if (++idle < 64)
				continue;
			if (cap->ops->wait)
				cap->ops->wait(cap, 10);
			else
				nap(100000);
			continue;
		}
		idle = 0;
		worker_feed(w, pkts, (unsigned)n);
	}
	worker_drain_ring(w, pkts);
	gcp_engine_flush(w->eng);
	out_flush(w);
	return NULL;
}

/* ---- software symmetric distributor -------------------------------------- */

static uint64_t fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

static uint64_t addr_hash(const uint8_t *a, unsigned n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;

	for (unsigned i = 0; i < n; i++)
		h = (h ^ a[i]) * 0x100000001b3ull;
	return fmix64(h);
}

/*
 * Hash of the outer IP address pair, the same for both directions (the
 * two halves are added). Ports are left out on purpose: IP fragments
 * after the first carry none and must reach the flow's worker. Tunnels
 * hash on their outer pair, which keeps each tunnel's flows together.
 * Anything else (ARP, unknown link types) goes to worker 0.
 */
static uint64_t sym_hash(const struct gcp_packet *p)
{
	struct gcp_ip_pair ip;

	if (gcp_locate_outer_ip(p, &ip))
		return 0;
	return fmix64(addr_hash(ip.src, ip.alen) + addr_hash(ip.dst, ip.alen));
}

static size_t ent_size(uint32_t caplen)
{
	return (sizeof(struct ring_ent) + caplen + 7u) & ~(size_t)7u;
}

/* Copy one packet (or a clock tick when p->linktype is TICK_LINK) into
 * the ring, waiting while the worker catches up. */
static void ring_push(struct worker *w, const struct gcp_packet *p)
{
	struct ring *r = &w->ring;
	uint32_t caplen = p->linktype == TICK_LINK ? 0 : p->caplen;
	size_t need = ent_size(caplen);
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t off = head % RING_SZ;
	size_t room_end = RING_SZ - off;

	if (caplen > RING_PKT_MAX) {
		w->ring_dropped++;
		return;
	}
	/* An entry never wraps: skip the rest of the buffer when it does not fit. */
	size_t total = room_end < need ? room_end + need : need;
	while (head + total - atomic_load_explicit(&r->tail, memory_order_acquire) > RING_SZ)
		nap(20000);
	if (room_end < need) {
		if (room_end >= sizeof(struct ring_ent))
			((struct ring_ent *)(r->buf + off))->len = 0;
		head += room_end;
		off = 0;
	}
	struct ring_ent *e = (struct ring_ent *)(r->buf + off);
	e->len = (uint32_t)need;
	e->caplen = caplen;
	e->wirelen = p->wirelen;
	e->linktype = p->linktype;
	e->ts_ns = p->ts_ns;
	if (caplen)
		memcpy(e + 1, p->data, caplen);
	atomic_store_explicit(&r->head, head + need, memory_order_release);
}

static void *worker_ring(void *arg)
{
	struct worker *w = arg;
	struct ring *r = &w->ring;
	struct gcp_packet pkts[WK_BURST];
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

	for (;;) {
		uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
		if (tail == head) {
			if (atomic_load_explicit(&r->eof, memory_order_acquire) &&
			    atomic_load_explicit(&r->head, memory_order_acquire) == tail)
				break;
			out_flush(w);
			snap_maybe(w);
			nap(50000);
			continue;
		}
		unsigned n = 0;
		uint64_t tick = 0;
		while (tail != head && n < WK_BURST) {
			size_t off = tail % RING_SZ;
			struct ring_ent *e = (struct ring_ent *)(r->buf + off);
			if (RING_SZ - off < sizeof(*e) || e->len == 0) {
				tail += RING_SZ - off; /* wrap */
				continue;
			}
			tail += e->len;
			if (e->linktype == TICK_LINK) {
				tick = e->ts_ns;
				break; /* feed what came before the tick, then advance */
			}
			pkts[n++] = (struct gcp_packet){ .data = (const uint8_t *)(e + 1),
							 .caplen = e->caplen, .wirelen = e->wirelen,
							 .ts_ns = e->ts_ns, .linktype = e->linktype };
		}
		if (n)
			gcp_engine_feed_burst(w->eng, pkts, n);
		if (tick)
			gcp_engine_advance(w->eng, tick);
		w->pkts += n;
		atomic_store_explicit(&r->tail, tail, memory_order_release);
		if (w->olen >= OUT_FLUSH_AT)
			out_flush(w);
		snap_maybe(w);
	}
	gcp_engine_flush(w->eng);
	out_flush(w);
	return NULL;
}

/* One burst of the single source onto the workers' rings (up to --count). */
static void dist_push(struct gcp_capture *cap, struct worker *wk, unsigned nw, struct shared *sh,
		      struct gcp_packet *pkts, unsigned n)
{
	unsigned k = take(sh, n);

	sh->count_dropped += n - k;
	for (unsigned i = 0; i < k; i++)
		ring_push(&wk[sym_hash(&pkts[i]) % nw], &pkts[i]);
	if (cap->ops->release)
		cap->ops->release(cap);
	/* Every worker's clock follows the source, as one engine's would. */
	if (k) {
		struct gcp_packet tk = { .linktype = TICK_LINK, .ts_ns = pkts[k - 1].ts_ns };
		for (unsigned i = 0; i < nw; i++)
			ring_push(&wk[i], &tk);
	}
}

/* Main thread: read the single source and spread it over the workers. */
static int distribute(struct gcp_capture *cap, struct worker *wk, unsigned nw, struct shared *sh,
		      bool live, uint64_t deadline)
{
	struct gcp_packet pkts[WK_BURST];
	uint64_t last_tick = now_ns(CLOCK_MONOTONIC);
	int rc = 0;

	while (!probe_ctx_stopping(sh->ctx)) {
		int n = gcp_capture_rx_burst(cap, pkts, WK_BURST);
		if (n < 0) {
			rc = n;
			break;
		}
		uint64_t t = now_ns(CLOCK_MONOTONIC);
		if (deadline && t >= deadline)
			probe_ctx_stop(sh->ctx);
		if (n > 0 || live)
			svc_tick(live ? now_ns(CLOCK_REALTIME) : pkts[n - 1].ts_ns);
		if (n == 0) {
			if (!live)
				break; /* end of file */
			if (t - last_tick > 500000000ull) {
				struct gcp_packet tk = { .linktype = TICK_LINK,
							 .ts_ns = now_ns(CLOCK_REALTIME) };
				for (unsigned i = 0; i < nw; i++)
					ring_push(&wk[i], &tk);
				last_tick = t;
			}
			if (cap->ops->wait)
				cap->ops->wait(cap, 10);
			else
				nap(100000);
			continue;
		}
		dist_push(cap, wk, nw, sh, pkts, (unsigned)n);
	}
	/* Stopped live: take what the kernel already queued (see worker_drain_ring). */
	for (unsigned b = 0; live && !rc && b < WK_DRAIN_BURSTS; b++) {
		if (sh->count && atomic_load(&sh->taken) >= sh->count)
			break;
		int n = gcp_capture_rx_burst(cap, pkts, WK_BURST);
		if (n <= 0)
			break;
		dist_push(cap, wk, nw, sh, pkts, (unsigned)n);
	}
	for (unsigned i = 0; i < nw; i++)
		atomic_store_explicit(&wk[i].ring.eof, true, memory_order_release);
	return rc;
}

/* ---- stats ---------------------------------------------------------------- */

static void sum_stats(struct gcp_stats *a, const struct gcp_stats *b)
{
	/* Every field after sz is a uint64_t counter. */
	uint64_t *pa = (uint64_t *)((char *)a + sizeof(a->sz));
	const uint64_t *pb = (const uint64_t *)((const char *)b + sizeof(b->sz));
	size_t n = (sizeof(*a) - sizeof(a->sz)) / sizeof(uint64_t);

	for (size_t i = 0; i < n; i++)
		pa[i] += pb[i];
}

static void print_capture_stats(const char *backend, const struct live_backend *lb,
				struct gcp_capture **caps, unsigned nq, const struct worker *wk,
				unsigned nw)
{
	fprintf(stderr, "{\"capture\":{\"backend\":\"%s\",\"queues\":[", backend);
	for (unsigned i = 0; i < nq; i++) {
		struct gcp_capture_stats cs = { .sz = sizeof(cs) };
		struct live_qstats qs = { 0 };
		if (caps[i]->ops->stats)
			caps[i]->ops->stats(caps[i]);
		gcp_capture_stats(caps[i], &cs);
		if (lb && lb->qstats)
			lb->qstats(caps[i], &qs);
		fprintf(stderr,
			"%s{\"queue\":%u,\"received\":%llu,\"bytes\":%llu,\"dropped\":%llu,"
			"\"kernel_dropped\":%llu,\"ring_full\":%llu,\"fill_ring_empty\":%llu,"
			"\"invalid\":%llu,\"nombuf\":%llu}",
			i ? "," : "", i, (unsigned long long)cs.pkts, (unsigned long long)cs.bytes,
			(unsigned long long)cs.dropped, (unsigned long long)qs.kernel_dropped,
			(unsigned long long)qs.ring_full, (unsigned long long)qs.fill_empty,
			(unsigned long long)qs.invalid, (unsigned long long)qs.nombuf);
	}
	fputs("],\"workers\":[", stderr);
	for (unsigned i = 0; i < nw; i++)
		fprintf(stderr, "%s{\"worker\":%u,\"pkts\":%llu,\"too_large\":%llu}", i ? "," : "",
			i, (unsigned long long)wk[i].pkts, (unsigned long long)wk[i].ring_dropped);
	fputs("]}}\n", stderr);
}

/* ---- run ------------------------------------------------------------------ */

/* One engine per worker, subscribed to its own output buffer; one line on failure. */
static int workers_create(const struct probe_workers_cfg *cfg, const struct probe_workers_io *io,
			  struct worker *wk, struct shared *sh, bool fed)
{
	for (unsigned i = 0; i < cfg->nw; i++) {
		struct worker *w = &wk[i];
		struct gcp_engine_opts eo = *cfg->eng;
		int rc;

		w->id = i;
		w->sh = sh;
		w->cap = fed ? NULL : io->caps[i];
		pthread_mutex_init(&w->snap_lock, NULL);
		eo.worker_id = i; /* flow ids stay unique across workers */
		rc = gcp_engine_create(&eo, &w->eng);
		if (!rc && fed && !(w->ring.buf = malloc(RING_SZ)))
			rc = GCP_ERR_NOMEM;
		if (rc) {
			probe_msg("error", "cannot create worker %u: %s", i, gcp_strerror(rc));
			return -1;
		}
		gcp_engine_subscribe(w->eng, cfg->types, on_record, w);
	}
	for (unsigned i = 0; io->rules && i < cfg->nw; i++)
		gcp_engine_set_rules(wk[i].eng, io->rules);
	return 0;
}

/* The threads, with SIGINT/SIGTERM/SIGHUP left to the main thread (run.c's handlers). */
static void workers_start(const struct probe_workers_cfg *cfg, struct worker *wk, bool fed)
{
	sigset_t block, old;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (unsigned i = 0; i < cfg->nw; i++) {
		if (pthread_create(&wk[i].th, NULL, fed ? worker_ring : worker_poll, &wk[i])) {
			probe_msg("error", "cannot start worker %u", i);
			probe_ctx_stop(wk[i].sh->ctx);
			break;
		}
		if (cfg->ncores) {
			/* Run-to-completion: one worker per core, as DPDK lcores. */
			cpu_set_t cs;
			unsigned cpu = cfg->cores[i % cfg->ncores];

			CPU_ZERO(&cs);
			CPU_SET(cpu, &cs);
			if (pthread_setaffinity_np(wk[i].th, sizeof(cs), &cs))
				probe_msg("warning", "worker %u: cannot pin to CPU %u", i, cpu);
		}
		wk[i].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Main thread until the end: the distributor, or the service ticks alone. */
static int workers_wait(const struct probe_workers_cfg *cfg, const struct probe_workers_io *io,
			struct worker *wk, struct shared *sh, bool fed)
{
	uint64_t deadline = cfg->duration_s ?
		now_ns(CLOCK_MONOTONIC) + (uint64_t)cfg->duration_s * 1000000000ull : 0;
	int cap_rc = 0;

	if (fed) {
		cap_rc = distribute(io->caps[0], wk, cfg->nw, sh, cfg->live, deadline);
	} else {
		while (!probe_ctx_stopping(sh->ctx)) {
			nap(20000000);
			svc_tick(now_ns(CLOCK_REALTIME));
			if (deadline && now_ns(CLOCK_MONOTONIC) >= deadline)
				probe_ctx_stop(sh->ctx);
		}
	}
	for (unsigned i = 0; i < cfg->nw; i++) {
		if (wk[i].started)
			pthread_join(wk[i].th, NULL);
		if (wk[i].rc && !cap_rc)
			cap_rc = wk[i].rc;
	}
	return cap_rc;
}

/* After the threads: last records, --stats counters, finished sinks, books, errors. */
static int workers_report(const struct probe_workers_cfg *cfg, const struct probe_workers_io *io,
			  struct worker *wk, struct shared *sh, int cap_rc)
{
	unsigned nw = cfg->nw;
	int status = 0;

	svc_taps(true);
	svc_stats(0, true);
	if (cfg->stats) {
		struct gcp_stats tot = { .sz = sizeof(tot) };
		for (unsigned i = 0; i < nw; i++) {
			struct gcp_stats st = { .sz = sizeof(st) };
			if (!gcp_engine_stats(wk[i].eng, &st))
				sum_stats(&tot, &st);
		}
		probe_print_stats(&tot);
		print_capture_stats(cfg->backend, io->lb, io->caps, io->nq, wk, nw);
	}
	/* Sinks closed (what is still queued counts dropped_error), then the books. */
	if (gcp_sinkset_finish(sh->set))
		status = 1;
	if (cfg->stats) {
		struct probe_books b;
		svc_books(&b, true);
		probe_books_print(&b, stderr);
	}
	if (cap_rc < 0) {
		probe_msg("error", "%s", gcp_capture_error(io->caps[0]));
		status = 1;
	}
	for (unsigned i = 0; i < nw; i++) {
		if (wk[i].bad) {
			probe_msg("error", "%llu record(s) could not be rendered: %s",
			    (unsigned long long)wk[i].bad, gcp_strerror(wk[i].bad_status));
			status = 1;
		}
	}
	return status;
}

int probe_run_workers(const struct probe_workers_cfg *cfg, const struct probe_workers_io *io,
		      struct probe_ctx *ctx)
{
	unsigned nw = cfg->nw;
	struct worker *wk = calloc(nw, sizeof(*wk));
	struct shared sh = { .set = io->set, .ctx = ctx, .count = cfg->count };
	bool fed = io->nq == 1 && nw > 1;
	int status = 1;

	pthread_mutex_init(&sh.lock, NULL);
	if (!wk) {
		probe_msg("error", "out of memory");
		goto out;
	}
	if (workers_create(cfg, io, wk, &sh, fed))
		goto out;
	svc = (struct svc){ .cfg = cfg, .wk = wk, .nw = nw, .nq = io->nq, .caps = io->caps,
			    .lb = io->lb, .sh = &sh };
	workers_start(cfg, wk, fed);
	status = workers_report(cfg, io, wk, &sh, workers_wait(cfg, io, wk, &sh, fed));
out:
	for (unsigned i = 0; wk && i < nw; i++) {
		gcp_engine_destroy(wk[i].eng);
		pthread_mutex_destroy(&wk[i].snap_lock); /* init or zeroed: both fine */
		free(wk[i].ring.buf);
		free(wk[i].out);
	}
	free(wk);
	pthread_mutex_destroy(&sh.lock);
	return status;
}
