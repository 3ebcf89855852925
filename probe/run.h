/* SPDX-License-Identifier: BSD-3-Clause */
/* gcprobe read loop: capture file -> engine -> record output. */
#ifndef GCPROBE_RUN_H
#define GCPROBE_RUN_H

#include "options.h"

/* Exit status for main: 0 done, 1 runtime error (one line on stderr). */
int probe_run(const struct probe_opts *o);

/* SIGINT/SIGTERM came before a run loop took over the handlers (taps start-up). */
bool probe_stop_pending(void);

/* Engine counters as one JSON line on stderr (--stats). */
void probe_print_stats(const struct gcp_stats *st);

/* One line on stderr: "gcprobe: LEVEL: ...". */
__attribute__((format(printf, 2, 3)))
void probe_msg(const char *level, const char *fmt, ...);

struct gcp_sinkset;
/* The sinks of --sink (or --output / stdout); one error line on failure. */
int probe_open_sinks(const struct probe_opts *o, struct gcp_sinkset *set);

#endif /* GCPROBE_RUN_H */
