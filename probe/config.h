/* SPDX-License-Identifier: BSD-3-Clause */
/* gcprobe configuration file (INI, docs/gcprobe.conf.example) and --check-config. */
#ifndef GCPROBE_CONFIG_H
#define GCPROBE_CONFIG_H

#include "options.h"

/*
 * All of a run's options: the defaults, then --config FILE, then the
 * rest of the command line over it (options.c); --check-config checks
 * and exits. Fills *o; prints usage, version or one error line itself.
 */
enum probe_action probe_parse_options(int argc, char **argv, struct probe_opts *o);

/*
 * Read FILE into *o (before the command line, which overrides it).
 * Returns 0, or -1 after one line "gcprobe: error: FILE:LINE: what".
 * Strings in *o point into memory kept for the life of the process.
 */
int probe_config_load(const char *path, struct probe_opts *o);

/* --check-config: compile the rules too; prints "ok" (PROBE_EXIT_OK) or one error line. */
enum probe_action probe_config_check(const struct probe_opts *o);

#endif /* GCPROBE_CONFIG_H */
