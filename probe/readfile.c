/* SPDX-License-Identifier: BSD-3-Clause */
/* A small file read whole as text (readfile.h). */
#include "readfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *probe_read_file(const char *path, char *err, size_t errsz)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	long n;

	if (!f) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(text = malloc((size_t)n + 1)) || fread(text, 1, (size_t)n, f) != (size_t)n) {
		snprintf(err, errsz, "%s: cannot read", path);
		free(text);
		fclose(f);
		return NULL;
	}
	text[n] = '\0';
	fclose(f);
	return text;
}
