/* SPDX-License-Identifier: BSD-3-Clause */
/* Messages of the gcprobe command (log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

void probe_msg(const char *level, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "gcprobe: %s: ", level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
