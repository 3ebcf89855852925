/* SPDX-License-Identifier: BSD-3-Clause */
/* Taps of a capture run (--tap): attach at start, inventory records every interval, detach at exit. */
#ifndef GCPROBE_TAP_RUN_H
#define GCPROBE_TAP_RUN_H

#include <stdbool.h>

#include "options.h"

#ifdef GCP_WITH_BPF
/* `gcprobe tap ...` (argv[0] is "tap"): exit status. */
int probe_tap_main(int argc, char **argv);

/* "all", "none", "match" -> enum gcp_tap_policy_mode; -1 otherwise. */
int probe_tap_policy_parse(const char *s);

/* Check --tap specs and --tap-local; one error line, PROBE_EXIT_USAGE on a bad one. */
enum probe_action probe_taps_check(const struct probe_opts *o);

/* Attach the run's taps; 0, or -1 after one error line (none left attached). */
int probe_taps_start(const struct probe_opts *o);

/* Drain when the interval is due (or final: always) into inventory records for cb. */
void probe_taps_drain(bool final, gcp_record_cb cb, void *user);

/* Detach every tap of the run (idempotent). */
void probe_taps_stop(void);
#else
static inline int probe_taps_start(const struct probe_opts *o)
{
	(void)o;
	return 0;
}
static inline void probe_taps_drain(bool final, gcp_record_cb cb, void *user)
{
	(void)final, (void)cb, (void)user;
}
static inline void probe_taps_stop(void)
{
}
#endif

#endif /* GCPROBE_TAP_RUN_H */
