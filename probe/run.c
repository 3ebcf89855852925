/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gcprobe run: the one place that wires a run. It turns the options into
 * what each module needs (capture, workers, sinks, taps, stats records,
 * rules), opens the input, the rules and the sinks in that order, owns
 * the signal handlers (struct probe_ctx) and runs a single engine itself:
 * bursts from the capture file into the engine, records to the sinks.
 */
#include "run.h"
#include "capture/live.h"
#include "capture/workers.h"
#include "ctx.h"
#include "log.h"
#include "rules.h"
#include "stats_rec.h"
#include "sink/sink.h"
#include "tap/tap_run.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BURST 64

/* Where records go: the sinks (probe/sink/). A file sink's write error
 * ends the run; records that would not render as JSON are reported. */
struct sink {
	struct gcp_sinkset set;
	char *buf;           /* JSON rendering, grown on GCP_ERR_FULL */
	size_t cap;
	uint64_t bad;        /* records that would not render */
	int bad_status;
};

/* The run's flags: set by the handlers below, read by the loop serving the run. */
static struct probe_ctx ctx;

static void on_stop(int sig)
{
	(void)sig;
	atomic_store(&ctx.stop, 1); /* lock-free atomics are async-signal-safe */
}

static void on_hup(int sig)
{
	(void)sig;
	atomic_store(&ctx.hup, 1);
}

/* SA_RESTART: a signal during write() must not turn into a stdio error. */
static void on_signal(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void signals_install(void)
{
	on_signal(SIGINT, on_stop);
	on_signal(SIGTERM, on_stop);
	on_signal(SIGHUP, on_hup);
}

/* ---- what each module needs, from the options ---- */

static struct probe_stats_cfg stats_cfg(const struct probe_opts *o)
{
	return (struct probe_stats_cfg){ .wanted = (o->types & GCP_REC_STATS) != 0,
					 .interval_s = o->stats_interval_s, .id = &o->eng };
}

static struct probe_taps_cfg taps_cfg(const struct probe_opts *o)
{
	return (struct probe_taps_cfg){
		.specs = o->taps, .n = o->ntaps, .monitor = o->tap_monitor,
		.policy = o->tap_policy, .local = o->tap_local, .xdp_attach = o->xdp_attach,
		.interval_s = o->inventory_interval_s, .top = o->inventory_top,
		.records = (o->types & GCP_REC_INVENTORY) != 0, .id = &o->eng,
		.node_type_given = o->node_type_given,
	};
}

static struct live_opts live_opts(const struct probe_opts *o)
{
	return (struct live_opts){ .iface = o->iface, .xdp_mode = o->xdp_mode,
				   .xdp_attach = o->xdp_attach, .busy_poll = o->busy_poll,
				   .umem_frames = o->umem_frames, .dpdk_args = o->dpdk_args,
				   .dpdk_port = o->dpdk_port };
}

/* --cores with a single worker: this thread is the worker. */
static void pin_self(unsigned cpu)
{
	cpu_set_t cs;

	CPU_ZERO(&cs);
	CPU_SET(cpu, &cs);
	if (sched_setaffinity(0, sizeof(cs), &cs))
		probe_msg("warning", "cannot pin to CPU %u: %s", cpu, strerror(errno));
}

/* ---- sinks (probe/sink/) ---- */

/* The sinks of --sink (or --output / stdout); one error line on failure. */
static int open_sinks(const struct probe_opts *o, struct gcp_sinkset *set)
{
	static char legacy[4096];
	const char *def[1] = { "stdout" };
	char err[512];

	if (o->output_path && strcmp(o->output_path, "-")) {
		snprintf(legacy, sizeof(legacy), "file:%s", o->output_path);
		def[0] = legacy;
	}
	if (gcp_sinkset_open(set, o->nsinks ? o->sinks : def, o->nsinks ? o->nsinks : 1,
			     o->format == PROBE_FMT_MSGPACK, err, sizeof(err))) {
		probe_msg("error", "%s", err);
		return -1;
	}
	return 0;
}

static void on_record(const struct gcp_record *rec, void *user)
{
	struct sink *s = user;
	struct gcp_sink_rec r = { .mp = rec->data, .mp_len = rec->len,
				  .type = rec->type, .flow_id = rec->flow_id };

	if (s->set.want_json) {
		int n = gcp_sink_render_json(rec->data, rec->len, &s->buf, &s->cap);
		if (n >= 0) {
			r.json = s->buf;
			r.json_len = (size_t)n;
		} else if (!s->bad++) {
			s->bad_status = n;
		}
	}
	gcp_sinkset_write(&s->set, &r);
}
/* ---- end sinks ---- */

/* ---- service: stats records, SIGHUP (stats_rec.c) ---- */

/* The books of a one-engine run: every packet read is fed to the engine. */
static void run_books(struct probe_books *b, struct gcp_engine *eng, struct gcp_capture *cap,
		      struct sink *s, bool final)
{
	struct gcp_stats st = { .sz = sizeof(st) };
	struct gcp_capture_stats cs = { .sz = sizeof(cs) };

	gcp_engine_stats(eng, &st);
	gcp_capture_stats(cap, &cs);
	*b = (struct probe_books){ .pkts_received = cs.pkts + cs.truncated,
				   .pkts_processed = st.pkts, .drop_truncated = cs.truncated,
				   .records_produced = st.records + probe_stats_records(),
				   .set = &s->set, .final = final };
}

static void run_stats(const struct probe_stats_cfg *sc, struct gcp_engine *eng,
		      struct gcp_capture *cap, struct sink *s, uint64_t ts, bool final)
{
	struct gcp_stats st = { .sz = sizeof(st) };
	struct gcp_capture_stats cs = { .sz = sizeof(cs) };
	struct probe_books b;

	if (gcp_engine_stats(eng, &st) || gcp_capture_stats(cap, &cs))
		return;
	run_books(&b, eng, cap, s, final);
	struct probe_qstat q = { cs.pkts, cs.bytes, cs.dropped, 0 };
	struct probe_stats_in in = { .ts_ns = ts, .eng = &st, .q = &q, .nq = 1, .workers = 1,
				     .records_dropped = s->bad, .final = final, .books = &b };
	probe_stats_emit(sc, &in, on_record, s);
}

static void run_hup(const struct probe_opts *o, struct gcp_engine *eng, struct sink *s)
{
	probe_rules_reload(o->rules_path, &eng, 1);
	gcp_sinkset_reopen(&s->set);
}

/* Returns 0 at end of input (or on a signal) or the capture's negative status. */
static int pump(struct gcp_capture *cap, struct gcp_engine *eng, struct sink *s,
		const struct probe_opts *o, const struct probe_stats_cfg *sc)
{
	struct gcp_packet pkts[BURST];
	uint64_t next_stats = 0;

	while (!probe_ctx_stopping(&ctx) && !gcp_sinkset_failed(&s->set, NULL)) {
		if (probe_ctx_hup_take(&ctx))
			run_hup(o, eng, s);
		int n = gcp_capture_rx_burst(cap, pkts, BURST);
		if (n <= 0)
			return n;
		gcp_engine_feed_burst(eng, pkts, (unsigned)n);
		if (probe_stats_due(sc, &next_stats, pkts[n - 1].ts_ns))
			run_stats(sc, eng, cap, s, pkts[n - 1].ts_ns, false);
		probe_taps_drain(false, on_record, s);
	}
	return 0;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* --tap without a capture source: inventory records until --duration or a signal. */
static int run_taps_only(const struct probe_opts *o)
{
	struct sink s = { 0 };
	struct timespec nap = { 0, 50000000L };
	uint64_t deadline = o->duration_s ? mono_ms() + (uint64_t)o->duration_s * 1000u : 0;

	if (open_sinks(o, &s.set))
		return 1;
	while (!probe_ctx_stopping(&ctx) && !gcp_sinkset_failed(&s.set, NULL)) {
		if (probe_ctx_hup_take(&ctx))
			gcp_sinkset_reopen(&s.set);
		probe_taps_drain(false, on_record, &s);
		gcp_sinkset_flush(&s.set);
		if (deadline && mono_ms() >= deadline)
			break;
		nanosleep(&nap, NULL);
	}
	probe_taps_drain(true, on_record, &s); /* the partial last interval */
	bool failed = gcp_sinkset_close(&s.set, o->stats ? stderr : NULL) != 0;
	free(s.buf);
	if (s.bad) {
		probe_msg("error", "%llu record(s) could not be rendered as JSON: %s",
			  (unsigned long long)s.bad, gcp_strerror(s.bad_status));
		return 1;
	}
	return failed ? 1 : 0;
}

/* After the run: at most one error line, or a truncation warning. */
static int report(const struct probe_opts *o, struct gcp_capture *cap, int cap_rc,
		  const struct sink *s)
{
	struct gcp_capture_stats cst = { .sz = sizeof(cst) };

	if (cap_rc < 0) {
		probe_msg("error", "%s", gcp_capture_error(cap));
		return 1;
	}
	if (s->bad) {
		probe_msg("error", "%llu record(s) could not be rendered as JSON: %s",
		    (unsigned long long)s->bad, gcp_strerror(s->bad_status));
		return 1;
	}
	if (!gcp_capture_stats(cap, &cst) && cst.truncated)
		probe_msg("warning", "%s: last packet truncated, skipped", o->read_path);
	return 0;
}

/* The capture file, or the live backend's nq queues (*lb); one error line on failure. */
static int open_input(const struct probe_opts *o, struct gcp_capture **caps, unsigned nq,
		      const struct live_backend **lb)
{
	char err[512] = "";
	int rc;

	if (o->read_path) {
		rc = gcp_capture_open_file(o->read_path, &caps[0]);
		if (rc)
			snprintf(err, sizeof(err), "%s", gcp_capture_error(NULL));
	} else {
		struct live_opts lo = live_opts(o);
#ifdef GCP_WITH_AFXDP
		if (o->iface)
			*lb = &live_afxdp;
#endif
#ifdef GCP_WITH_DPDK
		if (o->dpdk_args)
			*lb = &live_dpdk;
#endif
		if (!*lb) {
			probe_msg("error", "live capture backend not built in");
			return -1;
		}
		rc = (*lb)->open(&lo, caps, nq, err, sizeof(err));
	}
	if (rc) {
		probe_msg("error", "%s", err);
		return -1;
	}
	return 0;
}

/* Live capture and several workers: engines and threads in capture/workers.c. */
static int run_workers(const struct probe_opts *o)
{
	struct probe_stats_cfg sc = stats_cfg(o);
	struct probe_workers_io io = { .nq = o->read_path ? 1 : o->queues };
	struct gcp_sinkset set = { 0 };
	int status = 1;

	io.caps = calloc(io.nq, sizeof(*io.caps));
	if (!io.caps) {
		probe_msg("error", "out of memory");
		return 1;
	}
	/* Open the input first: a bad input must not clobber --output. */
	if (open_input(o, io.caps, io.nq, &io.lb))
		goto out;
	/* Before the sinks: a bad rules file must not start an output file. */
	if (o->rules_path && !(io.rules = probe_rules_initial(o->rules_path)))
		goto out;
	if (open_sinks(o, &set))
		goto out;
	io.set = &set;
	struct probe_workers_cfg wc = {
		.eng = &o->eng, .types = o->types, .nw = io.nq > 1 ? io.nq : o->workers,
		.cores = o->cores, .ncores = o->ncores, .count = o->count,
		.duration_s = o->duration_s, .live = !o->read_path, .stats = o->stats,
		.rules_path = o->rules_path, .st = &sc, .backend = io.lb ? io.lb->name : "pcapfile",
	};
	status = probe_run_workers(&wc, &io, &ctx);
	if (gcp_sinkset_close(&set, o->stats ? stderr : NULL))
		status = 1;
out:
	gcp_rules_free(io.rules); /* the engines keep their own references */
	for (unsigned i = 0; i < io.nq; i++)
		gcp_capture_close(io.caps[i]);
	if (io.lb && io.lb->fini)
		io.lb->fini();
	free(io.caps);
	return status;
}

static int run_source(const struct probe_opts *o)
{
	struct probe_stats_cfg sc = stats_cfg(o);
	const struct live_backend *lb = NULL;
	struct gcp_capture *cap = NULL;
	struct gcp_engine *eng = NULL;
	struct sink s = { 0 };
	int rc;

	if (o->iface || o->dpdk_args || o->workers > 1)
		return run_workers(o);
	if (!o->read_path)
		return run_taps_only(o);
	if (o->ncores)
		pin_self(o->cores[0]);
	/* Open the input first: a bad input must not clobber --output. */
	if (open_input(o, &cap, 1, &lb))
		return 1;
	rc = gcp_engine_create(&o->eng, &eng);
	if (rc) {
		probe_msg("error", "cannot create engine: %s", gcp_strerror(rc));
		gcp_capture_close(cap);
		return 1;
	}
	int status = 1;
	if (o->rules_path) {
		struct gcp_rules *r = probe_rules_initial(o->rules_path);
		if (!r)
			goto out;
		gcp_engine_set_rules(eng, r);
		gcp_rules_free(r);
	}
	if (open_sinks(o, &s.set))
		goto out;
	gcp_engine_subscribe(eng, o->types, on_record, &s);
	int cap_rc = pump(cap, eng, &s, o, &sc);
	/* Records of flows still open go out even after an error or a signal. */
	gcp_engine_flush(eng);
	probe_taps_drain(true, on_record, &s);
	run_stats(&sc, eng, cap, &s, 0, true);
	if (o->stats) {
		struct gcp_stats st = { .sz = sizeof(st) };
		if (!gcp_engine_stats(eng, &st))
			probe_print_stats(&st);
	}
	bool write_failed = gcp_sinkset_finish(&s.set) != 0;
	if (o->stats) {
		struct probe_books b;
		run_books(&b, eng, cap, &s, true);
		probe_books_print(&b, stderr);
	}
	write_failed |= gcp_sinkset_close(&s.set, o->stats ? stderr : NULL) != 0;
	free(s.buf);
	status = write_failed ? 1 : report(o, cap, cap_rc, &s);
out:
	gcp_engine_destroy(eng);
	gcp_capture_close(cap);
	return status;
}

int probe_run(const struct probe_opts *o)
{
	struct probe_taps_cfg tc = taps_cfg(o);

	/* Handlers first: a signal that arrives during start-up (taps
	 * included) still ends the run through the flush and the detach
	 * below instead of killing it. */
	signals_install();
	if (probe_taps_start(&tc))
		return 1;
	int status = probe_ctx_stopping(&ctx) ? 0 : run_source(o);
	probe_taps_stop(); /* --tap: nothing stays attached after the run */
	return status;
}
