/* SPDX-License-Identifier: BSD-3-Clause */
/* --rules FILE: compile, reload on SIGHUP (rules.h). */
#include "rules.h"
#include "log.h"
#include "readfile.h"

#include <stdio.h>
#include <stdlib.h>

struct gcp_rules *probe_rules_load(const char *path, char *err, size_t errsz)
{
	struct gcp_rules *r = NULL;
	char cerr[400];
	char *text = probe_read_file(path, err, errsz);

	if (!text)
		return NULL;
	if (gcp_rules_compile(text, &r, cerr, sizeof(cerr)))
		snprintf(err, errsz, "%s: %s", path, cerr);
	free(text);
	return r;
}

struct gcp_rules *probe_rules_initial(const char *path)
{
	char err[600];

	if (!path)
		return NULL;
	struct gcp_rules *r = probe_rules_load(path, err, sizeof(err));
	if (!r)
		probe_msg("error", "%s", err);
	return r;
}

void probe_rules_reload(const char *path, struct gcp_engine **engs, unsigned n)
{
	char err[600];

	if (!path)
		return;
	struct gcp_rules *r = probe_rules_load(path, err, sizeof(err));
	if (!r) {
		probe_msg("warning", "reload: %s (previous rules kept)", err);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		gcp_engine_set_rules(engs[i], r);
	probe_msg("info", "reloaded %u rule(s) from %s", gcp_rules_count(r), path);
	gcp_rules_free(r);
}
