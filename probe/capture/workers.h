/* SPDX-License-Identifier: BSD-3-Clause */
/* Worker threads: one engine per queue, or one queue spread over several engines. */
#ifndef GCPROBE_WORKERS_H
#define GCPROBE_WORKERS_H

#include <stdbool.h>
#include <stdint.h>

#include "live.h"

struct gcp_sinkset;
struct probe_ctx;
struct probe_stats_cfg;

/* How the workers run; run.c fills it from the options. */
struct probe_workers_cfg {
	const struct gcp_engine_opts *eng; /* each worker's engine (worker_id set per worker) */
	unsigned types;                    /* record types subscribed */
	unsigned nw;                       /* workers: one per queue, or fed from one queue */
	const uint16_t *cores;             /* --cores: worker i runs on cores[i % ncores] */
	unsigned ncores;
	uint64_t count;                    /* stop after this many packets (0: never) */
	uint32_t duration_s;               /* stop after this many seconds (0: never) */
	bool live;                         /* a live source: an empty poll is not the end */
	bool stats;                        /* --stats: counters and books on stderr at exit */
	const char *rules_path;            /* reloaded on SIGHUP (NULL: no rules) */
	const struct probe_stats_cfg *st;  /* stats records */
	const char *backend;               /* name in the capture counters */
};

/* What run.c opened for the workers (input first, then rules, then sinks). */
struct probe_workers_io {
	struct gcp_capture **caps;         /* one per queue */
	unsigned nq;
	const struct live_backend *lb;     /* NULL: a capture file */
	struct gcp_sinkset *set;           /* the run's sinks; finished here, closed by run.c */
	struct gcp_rules *rules;           /* the initial set, or NULL */
};

/*
 * Start the workers, serve SIGHUP, the stats and inventory intervals and
 * --count / --duration from this (the main) thread until the input ends
 * or ctx says stop, then flush, report (--stats) and finish the sinks.
 * Exit status: 0, or 1 after the error lines.
 */
int probe_run_workers(const struct probe_workers_cfg *cfg, const struct probe_workers_io *io,
		      struct probe_ctx *ctx);

#endif /* GCPROBE_WORKERS_H */
