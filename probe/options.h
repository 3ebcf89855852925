/* SPDX-License-Identifier: BSD-3-Clause */
/* gcprobe options: one plain struct, filled from the defaults, the
 * configuration file (config.c) and the command line. */
#ifndef GCPROBE_OPTIONS_H
#define GCPROBE_OPTIONS_H

#include <stdbool.h>

#include "gcprobe/gcprobe.h"
#include "tap/tap_run.h"
#include "xdp.h"

enum probe_format { PROBE_FMT_JSON, PROBE_FMT_MSGPACK };

/* What parse_options() decided: run, or exit with a status right away. */
enum probe_action { PROBE_RUN, PROBE_EXIT_OK, PROBE_EXIT_USAGE };

struct probe_opts {
	const char *read_path;
	const char *iface;        /* AF_XDP live capture */
	const char *dpdk_args;    /* DPDK live capture: EAL arguments */
	uint16_t dpdk_port;
	uint32_t queues;          /* live: queues (one worker each); default 1 */
	uint32_t workers;         /* software symmetric distributor; default 1 */
	uint16_t cores[128];      /* --cores: CPU for worker i is cores[i % ncores] */
	unsigned ncores;
	enum probe_xdp_mode xdp_mode;
	enum probe_xdp_attach xdp_attach;
	bool busy_poll;
	uint32_t umem_frames;     /* AF_XDP frames per queue; default 4096 */
	uint32_t duration_s;      /* stop after this many seconds (0: never) */
	uint64_t count;           /* stop after this many packets (0: never) */
	const char *output_path;  /* NULL or "-": stdout */
	enum probe_format format;
	unsigned types;           /* enum gcp_record_type mask */
	bool stats;
	const char *rules_path;   /* --rules FILE or NULL */
	/* --sink SPEC (repeatable, probe/sink/sink.h); none: --output / stdout */
#define PROBE_MAX_SINKS 16
	const char *sinks[PROBE_MAX_SINKS];
	unsigned nsinks;
	struct gcp_engine_opts eng;
	/* ---- service: config file, reload, stats records (probe/config.c) ---- */
	const char *config_path;  /* --config / --check-config FILE */
	bool check_config;        /* --check-config: validate, print "ok", exit */
	bool src_from_file;       /* the capture source came from the file */
	uint32_t stats_interval_s; /* stats records every N s (default 10; 0: at exit only) */
	unsigned rules_line;      /* line of [rules] file= (0: from the command line) */
	bool node_type_given;     /* --node-type named (inventory records default to virtual) */
	/* ---- eBPF taps for the run (probe/tap/, docs/TAPS.md) ---- */
	const char *taps[PROBE_MAX_TAPS]; /* --tap DEV[:tc|:xdp] (tap/tap_run.h) */
	unsigned ntaps;
	const char *tap_monitor;  /* --tap-monitor IF: clone target of the tc taps */
	int tap_policy;           /* --tap-policy: enum gcp_tap_policy_mode, -1: default */
	const char *tap_local;    /* --tap-local CIDRS */
	uint32_t inventory_interval_s; /* default 10; 0: only at exit */
	uint32_t inventory_top;   /* entries per inventory list (default 1000) */
};

/*
 * The command line, in two passes around the configuration file
 * (config.c, probe_parse_options): the first sets the defaults and finds
 * --config / --check-config FILE, the second applies every option over
 * what is in *o and checks them together. Each prints usage, version or
 * one error line itself.
 */
enum probe_action probe_argv_first(int argc, char **argv, struct probe_opts *o);
enum probe_action probe_argv_apply(int argc, char **argv, struct probe_opts *o);

/*
 * Apply one option by its long name (no dashes), as the command line
 * would; errors are one line prefixed with where ("FILE:LINE").
 */
enum probe_action probe_apply_named(const char *name, const char *arg, struct probe_opts *o,
				    const char *where);

/* "10", "10s", "5m", "1h" -> seconds. */
bool probe_parse_seconds(const char *s, uint32_t *out);
/* "4096", "64K", "1M", "2G" -> bytes, at most max. */
bool probe_parse_bytes(const char *s, uint64_t max, uint64_t *out);

#endif /* GCPROBE_OPTIONS_H */
