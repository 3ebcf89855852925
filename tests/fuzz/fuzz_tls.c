/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz the TLS dissector alone: input = [u8 flags] then chunks
 * [u16 len][bytes] that alternate direction, fed like the engine does
 * (unconsumed bytes kept and offered again, bounded, gap on overflow). */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissect.h"
#include "fuzz_dctx.h"
#include "fuzz_feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct gcp_dissector gcp_dissector_tls;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_side sides[2] = { { NULL, 0, false }, { NULL, 0, false } };
	struct gcp_dissect_ctx *ctx;
	uint8_t status = GCP_PARSE_OK;
	void *st;

	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	int dir = flags & 1;

	data++;
	size--;
	ctx = fuzz_dctx(0, NULL, IPPROTO_TCP, 443);
	st = calloc(1, gcp_dissector_tls.state_size);
	if (!st)
		goto out;
	gcp_dissector_tls.init(st, ctx);
	while (size >= 2 && status == GCP_PARSE_OK) {
		size_t len = (size_t)data[0] << 8 | data[1];

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		/* flags bit 1: a zero-length chunk is a gap of 100 bytes instead;
		 * the engine drops the kept tail first, and the chunks after it
		 * go through the resync path. */
		if (len == 0 && (flags & 2))
			status = fuzz_gap(&gcp_dissector_tls, st, ctx, &sides[dir], dir, 100);
		else
			status = fuzz_feed(&gcp_dissector_tls, st, ctx, &sides[dir], dir, data, len, 0);
		data += len;
		size -= len;
		if (!(flags & 4))
			dir = !dir; /* flags bit 2: keep one direction */
	}
	/* Flow end: pending bytes offered once more with FIN, then fini. */
	for (int d = 0; d < 2 && status == GCP_PARSE_OK; d++)
		status = fuzz_feed(&gcp_dissector_tls, st, ctx, &sides[d], d, NULL, 0, GCP_PF_FIN);
	gcp_dissector_tls.fini(st, ctx);
out:
	free(sides[0].buf);
	free(sides[1].buf);
	free(st);
	fuzz_dctx_done(ctx);
	return 0;
}
