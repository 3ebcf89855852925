/* SPDX-License-Identifier: BSD-3-Clause */
/* Service side of a run: the periodic "stats" record, SIGHUP reload of rules and outputs. */
#ifndef GCPROBE_STATS_REC_H
#define GCPROBE_STATS_REC_H

#include "options.h"

/* Capture counters of one queue in a stats record. */
struct probe_qstat {
	uint64_t received, bytes, dropped, kernel_dropped;
};

/* What one stats record says; engine counters summed over workers. */
struct probe_stats_in {
	uint64_t ts_ns;              /* packet time (replay) or wall time (live) */
	const struct gcp_stats *eng;
	const struct probe_qstat *q;
	unsigned nq;
	unsigned workers;
	uint64_t records_dropped;    /* by the output: not rendered or not written */
	bool final;                  /* the last one, at exit */
};

/* Build the record and hand it to cb (the run's own output path). */
void probe_stats_emit(const struct probe_opts *o, const struct probe_stats_in *in,
		      gcp_record_cb cb, void *user);

/* True when this run emits stats records (--types names stats). */
bool probe_stats_wanted(const struct probe_opts *o);

/* Interval clock: true when a record is due at time now_ns (first call arms it). */
bool probe_stats_due(const struct probe_opts *o, uint64_t *next_ns, uint64_t now_ns);

/* SIGHUP: the handler sets a flag; the main loop takes it. */
/* SIGINT/SIGTERM call on_stop; SIGHUP sets the flag probe_hup_take() reads. */
void probe_signals_install(void (*on_stop)(int));
bool probe_hup_take(void);

/* Reload --rules / [rules] file= into every engine (the old set stays on error). */
void probe_reload_rules(const struct probe_opts *o, struct gcp_engine **engs, unsigned n);

/* Reopen a file output (log rotation): append to a fresh file of the same name. */

#endif /* GCPROBE_STATS_REC_H */
