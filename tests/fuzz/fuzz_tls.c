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
	/* flags bit 1: a zero-length chunk is a gap; bit 2: keep one direction */
	fuzz_feed_chunks(&gcp_dissector_tls, st, ctx, sides, dir, data, size, flags & 2, flags & 4,
			 GCP_PARSE_OK);
	gcp_dissector_tls.fini(st, ctx);
out:
	free(sides[0].buf);
	free(sides[1].buf);
	free(st);
	fuzz_dctx_done(ctx);
	return 0;
}
