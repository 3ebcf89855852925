/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz the HTTP/2 dissector and HPACK: input = [u8 flags] then chunks
 * [u16 len][bytes] that alternate direction, fed like the engine does
 * (unconsumed bytes kept and offered again, bounded, gap on overflow).
 * flags bit 0: the first chunk is the server's; bit 1: a zero-length
 * chunk is a gap of 100 bytes; bit 2: keep one direction; bit 3: go
 * through the HTTP/1 dissector (an h2c upgrade hands over to HTTP/2);
 * bit 4: the client preface is sent first (prior knowledge), so
 * mutations reach the frames instead of dying on the preface. */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissect.h"
#include "fuzz_dctx.h"
#include "fuzz_feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct gcp_dissector gcp_dissector_http2;
extern const struct gcp_dissector gcp_dissector_http;

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_side sides[2] = { { NULL, 0, false }, { NULL, 0, false } };
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;
	uint8_t status = GCP_PARSE_OK;

	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	const struct gcp_dissector *dis = (flags & 8) ? &gcp_dissector_http : &gcp_dissector_http2;
	int dir = flags & 1;

	data++;
	size--;
	o.node_name = "fuzz";
	o.max_flows = 4;
	o.body_cap = (flags & 32) ? 16 : 0;
	struct gcp_dissect_ctx *ctx = fuzz_dctx((flags >> 5) & 1, &o, IPPROTO_TCP, 8080);
	void *st = calloc(1, dis->state_size);
	if (!st)
		goto out;
	dis->init(st, ctx);
	if ((flags & 16) && !(flags & 8))
		status = fuzz_feed(dis, st, ctx, &sides[GCP_DIR_C2S], GCP_DIR_C2S,
				   (const uint8_t *)preface, 24, 0);
	fuzz_feed_chunks(dis, st, ctx, sides, dir, data, size, flags & 2, flags & 4, status);
	dis->fini(st, ctx);
out:
	free(sides[0].buf);
	free(sides[1].buf);
	free(st);
	fuzz_dctx_done(ctx);
	return 0;
}
