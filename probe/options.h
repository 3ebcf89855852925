/* SPDX-License-Identifier: BSD-3-Clause */
/* gcprobe command line: parsed options. */
#ifndef GCPROBE_OPTIONS_H
#define GCPROBE_OPTIONS_H

#include <stdbool.h>

#include "gcprobe/gcprobe.h"

enum probe_format { PROBE_FMT_JSON, PROBE_FMT_MSGPACK };

/* What parse_options() decided: run, or exit with a status right away. */
enum probe_action { PROBE_RUN, PROBE_EXIT_OK, PROBE_EXIT_USAGE };

struct probe_opts {
	const char *read_path;
	const char *output_path;  /* NULL or "-": stdout */
	enum probe_format format;
	unsigned types;           /* enum gcp_record_type mask */
	bool stats;
	const char *rules_path;   /* --rules FILE or NULL */
	struct gcp_engine_opts eng;
};

/* Fills *o; prints usage, version or one error line itself. */
enum probe_action probe_parse_options(int argc, char **argv, struct probe_opts *o);

#endif /* GCPROBE_OPTIONS_H */
