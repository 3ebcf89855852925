/* SPDX-License-Identifier: BSD-3-Clause */
/* gcprobe configuration file (INI, docs/gcprobe.conf.example) and --check-config. */
#ifndef GCPROBE_CONFIG_H
#define GCPROBE_CONFIG_H

#include "options.h"

/*
 * Read FILE into *o (before the command line, which overrides it).
 * Returns 0, or -1 after one line "gcprobe: error: FILE:LINE: what".
 * Strings in *o point into memory kept for the life of the process.
 */
int probe_config_load(const char *path, struct probe_opts *o);

/* --check-config: compile the rules too; prints "ok" (PROBE_EXIT_OK) or one error line. */
enum probe_action probe_config_check(const struct probe_opts *o);

/* "10", "10s", "5m", "1h" -> seconds. */
bool probe_parse_seconds(const char *s, uint32_t *out);

/* Read and compile a rules file; NULL with one line of text in err on failure. */
struct gcp_rules *probe_rules_load(const char *path, char *err, size_t errsz);

#endif /* GCPROBE_CONFIG_H */
