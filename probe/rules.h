/* SPDX-License-Identifier: BSD-3-Clause */
/* --rules FILE (docs/RULES.md): compiled at start, reloaded into every engine on SIGHUP. */
#ifndef GCPROBE_RULES_H
#define GCPROBE_RULES_H

#include <stddef.h>

#include "gcprobe/gcprobe.h"

/* Read and compile a rules file; NULL with one line of text in err on failure. */
struct gcp_rules *probe_rules_load(const char *path, char *err, size_t errsz);

/* At start: the compiled set (the caller sets it on every engine and
 * frees it), or NULL after one error line; NULL without a path too. */
struct gcp_rules *probe_rules_initial(const char *path);

/* SIGHUP: the file again into every engine; on error the old set stays
 * (one warning line). Nothing without a path. */
void probe_rules_reload(const char *path, struct gcp_engine **engs, unsigned n);

#endif /* GCPROBE_RULES_H */
