/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz gcp_rules_compile (lib/src/rules.c) on arbitrary text: it either
 * compiles (count within the line count) or fails with one line of
 * error text that fits the buffer, never both. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gcprobe/gcprobe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct gcp_rules *r = (struct gcp_rules *)&size; /* must be overwritten */
	char err[128];

	if (size > 4096 || !text) {
		free(text);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	memset(err, 'x', sizeof(err));
	int rc = gcp_rules_compile(text, &r, err, sizeof(err));

	if (rc == 0) {
		size_t lines = 1;

		for (size_t i = 0; i < size; i++)
			lines += text[i] == '\n';
		if (!r || gcp_rules_count(r) > lines)
			abort();
		gcp_rules_free(r);
	} else if (r || !memchr(err, '\0', sizeof(err)) || !err[0] || strchr(err, '\n')) {
		abort(); /* failure must leave no set and say why on one line */
	}
	free(text);
	return 0;
}
