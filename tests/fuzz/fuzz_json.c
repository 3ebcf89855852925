/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz gcp_record_to_json (lib/src/json.c) on arbitrary MessagePack.
 * Whenever a record renders, it must render identically into a buffer
 * of exactly its size, fail with GCP_ERR_FULL one byte short, be one
 * line (no raw control bytes but the final newline) and be a JSON
 * object. Output buffers are exact-size heap blocks for ASan. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gcprobe/gcprobe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BIG (1u << 20)

static int render(const uint8_t *data, size_t size, char *out, size_t cap)
{
	char *buf = cap ? malloc(cap) : NULL;

	if (cap && !buf)
		abort();
	int n = gcp_record_to_json(data, size, buf, cap, 0);

	if (n >= 0) {
		if ((size_t)n >= cap || buf[n] != '\0' || strlen(buf) != (size_t)n)
			abort(); /* length, NUL and buffer size disagree */
		if (out)
			memcpy(out, buf, (size_t)n + 1);
	}
	free(buf);
	return n;
}

static void check_line(const char *s, int n)
{
	if (n < 3 || s[0] != '{' || s[n - 2] != '}' || s[n - 1] != '\n')
		abort(); /* not one JSON object and a newline */
	for (int i = 0; i < n - 1; i++)
		if ((unsigned char)s[i] < 0x20)
			abort(); /* control byte left unescaped */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char first[BIG];

	if (size > 65536)
		return 0;
	/* First pass into a static buffer (a fresh 1 MiB block per input is
	 * slow under ASan); the exact-size second pass catches overruns. */
	int n = gcp_record_to_json(data, size, first, BIG, 0);

	if (n == GCP_ERR_FULL || n < 0)
		return 0;
	check_line(first, n);
	char *again = malloc((size_t)n + 1);

	if (!again)
		abort();
	if (render(data, size, again, (size_t)n + 1) != n || memcmp(first, again, (size_t)n + 1))
		abort(); /* not deterministic, or needs more than it writes */
	if (render(data, size, NULL, (size_t)n) != GCP_ERR_FULL)
		abort(); /* one byte short must say so */
	free(again);
	return 0;
}
