/* SPDX-License-Identifier: BSD-3-Clause */
/* Taps of a capture run (--tap): attach at start, inventory records every interval, detach at exit. */
#ifndef GCPROBE_TAP_RUN_H
#define GCPROBE_TAP_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "gcprobe/gcprobe.h"
#include "xdp.h"

#define PROBE_MAX_TAPS 16 /* --tap, at most */

/* What the taps of a run need; run.c fills it from the options. */
struct probe_taps_cfg {
	const char *const *specs;         /* --tap DEV[:tc|:xdp] */
	unsigned n;
	const char *monitor;              /* --tap-monitor IF, or NULL */
	int policy;                       /* --tap-policy: enum gcp_tap_policy_mode, -1: default */
	const char *local;                /* --tap-local CIDRS, or NULL */
	enum probe_xdp_attach xdp_attach; /* for the XDP taps */
	uint32_t interval_s;              /* an inventory record every N s (0: only at exit) */
	uint32_t top;                     /* entries per inventory list */
	bool records;                     /* --types names inventory */
	const struct gcp_engine_opts *id; /* engine, node name/type, agent ip, tenant */
	bool node_type_given;             /* else the records say "virtual" */
};

#ifdef GCP_WITH_BPF
/* `gcprobe tap ...` (argv[0] is "tap"): exit status. */
int probe_tap_main(int argc, char **argv);

/* "all", "none", "match" -> enum gcp_tap_policy_mode; -1 otherwise. */
int probe_tap_policy_parse(const char *s);

/* Check n --tap specs and --tap-local (NULL: none); 0, or -1 after one error line. */
int probe_taps_check(const char *const *specs, unsigned n, const char *local);

/* Attach the run's taps; 0, or -1 after one error line (none left attached). */
int probe_taps_start(const struct probe_taps_cfg *c);

/* Drain when the interval is due (or final: always) into inventory records for cb. */
void probe_taps_drain(bool final, gcp_record_cb cb, void *user);

/* Detach every tap of the run (idempotent). */
void probe_taps_stop(void);
#else
static inline int probe_taps_start(const struct probe_taps_cfg *c)
{
	(void)c;
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
