/* SPDX-License-Identifier: BSD-3-Clause */
/* gcprobe read loop: bursts from the capture into the engine, records to the output. */
#include "run.h"
#include "capture/live.h"
#include "stats_rec.h"
#include "sink/sink.h"
#include "tap/tap_run.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
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

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

bool probe_stop_pending(void)
{
	return stop_requested != 0;
}

void probe_msg(const char *level, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "gcprobe: %s: ", level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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
int probe_open_sinks(const struct probe_opts *o, struct gcp_sinkset *set)
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

static void run_stats(const struct probe_opts *o, struct gcp_engine *eng,
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
	probe_stats_emit(o, &in, on_record, s);
}

static void run_hup(const struct probe_opts *o, struct gcp_engine *eng, struct sink *s)
{
	probe_reload_rules(o, &eng, 1);
	gcp_sinkset_reopen(&s->set);
}

/* Returns 0 at end of input (or on a signal) or the capture's negative status. */
static int pump(struct gcp_capture *cap, struct gcp_engine *eng, struct sink *s,
		const struct probe_opts *o)
{
	struct gcp_packet pkts[BURST];
	uint64_t next_stats = 0;

	while (!stop_requested && !gcp_sinkset_failed(&s->set, NULL)) {
		if (probe_hup_take())
			run_hup(o, eng, s);
		int n = gcp_capture_rx_burst(cap, pkts, BURST);
		if (n <= 0)
			return n;
		gcp_engine_feed_burst(eng, pkts, (unsigned)n);
		if (probe_stats_due(o, &next_stats, pkts[n - 1].ts_ns))
			run_stats(o, eng, cap, s, pkts[n - 1].ts_ns, false);
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

	if (probe_open_sinks(o, &s.set))
		return 1;
	while (!stop_requested && !gcp_sinkset_failed(&s.set, NULL)) {
		if (probe_hup_take())
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

/* One JSON line of engine counters (summed over workers by the caller). */
void probe_print_stats(const struct gcp_stats *stp)
{
	const struct gcp_stats st = *stp;

	fprintf(stderr,
		"{\"pkts\":%llu,\"bytes\":%llu,\"decode_errors\":%llu,\"non_ip\":%llu,"
		"\"truncated\":%llu,\"unsupported_link\":%llu,\"tunnels\":%llu,\"frags\":%llu,"
		"\"frags_reassembled\":%llu,\"frags_dropped\":%llu,\"flows_created\":%llu,"
		"\"flows_ended\":%llu,\"flows_evicted\":%llu,\"flow_table_full\":%llu,"
		"\"reasm_ooo_bytes\":%llu,\"reasm_limit_hits\":%llu,\"reasm_missed_bytes\":%llu,"
		"\"pending_limit_hits\":%llu,\"records\":%llu,\"dissector_errors\":%llu,"
		"\"frags_overlap\":%llu,\"mem_limit_hits\":%llu,\"mem_budget\":%llu,"
		"\"records_failed\":%llu,\"stream_resyncs\":%llu,\"expect_added\":%llu,"
		"\"expect_matched\":%llu,\"expect_full\":%llu,\"expect_expired\":%llu,"
		"\"hs_identified\":%llu,\"hs_streams_full\":%llu,\"hs_scan_errors\":%llu,"
		"\"rules_tagged\":%llu,\"rules_hits_dropped\":%llu,\"rules_swaps\":%llu,"
		"\"rules_scan_errors\":%llu,"
		"\"records_by_type\":{",
		(unsigned long long)st.pkts, (unsigned long long)st.bytes,
		(unsigned long long)st.decode_errors, (unsigned long long)st.non_ip,
		(unsigned long long)st.truncated, (unsigned long long)st.unsupported_link,
		(unsigned long long)st.tunnels, (unsigned long long)st.frags,
		(unsigned long long)st.frags_reassembled, (unsigned long long)st.frags_dropped,
		(unsigned long long)st.flows_created, (unsigned long long)st.flows_ended,
		(unsigned long long)st.flows_evicted, (unsigned long long)st.flow_table_full,
		(unsigned long long)st.reasm_ooo_bytes, (unsigned long long)st.reasm_limit_hits,
		(unsigned long long)st.reasm_missed_bytes,
		(unsigned long long)st.pending_limit_hits, (unsigned long long)st.records,
		(unsigned long long)st.dissector_errors, (unsigned long long)st.frags_overlap,
		(unsigned long long)st.mem_limit_hits, (unsigned long long)st.mem_budget,
		(unsigned long long)st.records_failed, (unsigned long long)st.stream_resyncs,
		(unsigned long long)st.expect_added, (unsigned long long)st.expect_matched,
		(unsigned long long)st.expect_full, (unsigned long long)st.expect_expired,
		(unsigned long long)st.hs_identified, (unsigned long long)st.hs_streams_full,
		(unsigned long long)st.hs_scan_errors, (unsigned long long)st.rules_tagged,
		(unsigned long long)st.rules_hits_dropped, (unsigned long long)st.rules_swaps,
		(unsigned long long)st.rules_scan_errors);
	/* Keyed by type name; bit i of the mask is records_by_type[i]. */
	for (unsigned i = 0; (1u << i) & GCP_REC_ALL; i++)
		fprintf(stderr, "%s\"%s\":%llu", i ? "," : "",
			gcp_record_type_name((enum gcp_record_type)(1u << i)),
			(unsigned long long)st.records_by_type[i]);
	fputs("}}\n", stderr);
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

static int run_source(const struct probe_opts *o)
{
	struct gcp_capture *cap = NULL;
	struct gcp_engine *eng = NULL;
	struct sink s = { 0 };
	int rc;

	/* Live capture and several workers: threads (capture/workers.c). */
	if (o->iface || o->dpdk_args || o->workers > 1)
		return probe_run_workers(o);
	if (!o->read_path)
		return run_taps_only(o);
	if (o->ncores)
		pin_self(o->cores[0]);
	/* Open the input first: a bad input must not clobber --output. */
	rc = gcp_capture_open_file(o->read_path, &cap);
	if (rc) {
		probe_msg("error", "%s", gcp_capture_error(NULL));
		return 1;
	}
	rc = gcp_engine_create(&o->eng, &eng);
	if (rc) {
		probe_msg("error", "cannot create engine: %s", gcp_strerror(rc));
		gcp_capture_close(cap);
		return 1;
	}
	int status = 1;
	if (o->rules_path) {
		struct gcp_rules *r = probe_rules_initial(o);
		if (!r)
			goto out;
		gcp_engine_set_rules(eng, r);
		gcp_rules_free(r);
	}
	if (probe_open_sinks(o, &s.set))
		goto out;
	gcp_engine_subscribe(eng, o->types, on_record, &s);
	int cap_rc = pump(cap, eng, &s, o);
	/* Records of flows still open go out even after an error or a signal. */
	gcp_engine_flush(eng);
	probe_taps_drain(true, on_record, &s);
	run_stats(o, eng, cap, &s, 0, true);
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
	/* Handlers first: a signal that arrives during start-up (taps
	 * included) still ends the run through the flush and the detach
	 * below instead of killing it. */
	probe_signals_install(on_signal);
	if (probe_taps_start(o))
		return 1;
	int status = stop_requested ? 0 : run_source(o);
	probe_taps_stop(); /* --tap: nothing stays attached after the run */
	return status;
}
