/* SPDX-License-Identifier: BSD-3-Clause */
/* The periodic "stats" record, the no-loss books and the --stats counters of a run. */
#ifndef GCPROBE_STATS_REC_H
#define GCPROBE_STATS_REC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gcprobe/gcprobe.h"

/* What the stats records of a run say and when; run.c fills it from the options. */
struct probe_stats_cfg {
	bool wanted;                      /* --types names stats */
	uint32_t interval_s;              /* a record every N s (0: only at exit) */
	const struct gcp_engine_opts *id; /* engine, node name/type, agent ip */
};

/* Capture counters of one queue in a stats record. */
struct probe_qstat {
	uint64_t received, bytes, dropped, kernel_dropped;
};

struct gcp_sinkset;

/*
 * No-loss books of a run (docs/RELIABILITY.md). Packets: every packet
 * received is processed (fed to an engine; the engines' own count) or
 * dropped with a reason. Records: every record produced reaches the
 * sinks or is lost with a reason, and each sink accounts for every
 * record it was handed (sink.h). At exit nothing is in flight; in a
 * periodic record rings and worker buffers may still hold some.
 */
struct probe_books {
	uint64_t pkts_received;      /* read from the capture, plus what the kernel/NIC dropped */
	uint64_t pkts_processed;
	uint64_t drop_kernel;        /* AF_XDP rx_dropped; DPDK imissed + rx_nombuf */
	uint64_t drop_ring_full;     /* AF_XDP rx_ring_full */
	uint64_t drop_truncated;     /* capture file: last packet cut short */
	uint64_t drop_too_large;     /* distributor: packet above the ring's entry size */
	uint64_t drop_count_limit;   /* read past --count */
	uint64_t records_produced;   /* by the engines, plus stats records */
	uint64_t records_lost;       /* never reached the sinks: no memory */
	struct gcp_sinkset *set;     /* read under the output lock */
	bool final;                  /* exit: nothing may be in flight */
};

/* Balanced: nothing counted twice or missing (see struct probe_books). */
bool probe_books_balanced(struct probe_books *b);
/* {"books":{...}} on one line (--stats at exit). */
void probe_books_print(struct probe_books *b, FILE *f);
/* Stats records emitted so far (they count as produced records). */
uint64_t probe_stats_records(void);

/* What one stats record says; engine counters summed over workers. */
struct probe_stats_in {
	uint64_t ts_ns;              /* packet time (replay) or wall time (live) */
	const struct gcp_stats *eng;
	const struct probe_qstat *q;
	unsigned nq;
	unsigned workers;
	uint64_t records_dropped;    /* by the output: not rendered or not written */
	bool final;                  /* the last one, at exit */
	struct probe_books *books;   /* NULL: left out */
};

/* Build the record and hand it to cb (the run's own output path). */
void probe_stats_emit(const struct probe_stats_cfg *c, const struct probe_stats_in *in,
		      gcp_record_cb cb, void *user);

/* True when this run emits stats records (--types names stats). */
bool probe_stats_wanted(const struct probe_stats_cfg *c);

/* Interval clock: true when a record is due at time now_ns (first call arms it). */
bool probe_stats_due(const struct probe_stats_cfg *c, uint64_t *next_ns, uint64_t now_ns);

/* Engine counters as one JSON line on stderr (--stats; summed over workers by the caller). */
void probe_print_stats(const struct gcp_stats *st);

#endif /* GCPROBE_STATS_REC_H */
