/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz the FTP dissectors: input = [u8 flags] then chunks [u16 len][bytes]
 * that alternate direction, fed to the control dissector like the engine
 * does (unconsumed bytes kept, bounded, gap on overflow); then the same
 * chunks go to an ftpdata flow bound to the first expectation made. */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissect.h"
#include "fuzz_dctx.h"
#include "fuzz_feed.h"
#include "engine.h"
#include "expect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct gcp_dissector gcp_dissector_ftp;
extern const struct gcp_dissector gcp_dissector_ftpdata;

/* One dissector over the chunks; flags as in the header comment. */
static void run(const struct gcp_dissector *dis, void *st, struct gcp_dissect_ctx *ctx,
		uint8_t flags, const uint8_t *data, size_t size)
{
	struct fuzz_side sides[2] = { { NULL, 0, false }, { NULL, 0, false } };
	int dir = flags & 1;

	/* flags bit 1: a zero-length chunk is a gap; bit 2: keep one direction */
	fuzz_feed_chunks(dis, st, ctx, sides, dir, data, size, flags & 2, flags & 4, GCP_PARSE_OK);
	if (dis->fini)
		dis->fini(st, ctx);
	free(sides[0].buf);
	free(sides[1].buf);
}

/* Handle of the first live expectation, 0 if none. */
static uint64_t first_expectation(struct gcp_dissect_ctx *ctx)
{
	struct gcp_expect_table *t = ctx->eng->exp;

	for (uint32_t i = 0; t && i < GCP_EXPECT_MAX; i++)
		if (t->ents[i].state != GCP_EXP_FREE)
			return (uint64_t)t->ents[i].gen << 32 | (i + 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gcp_dissect_ctx *ctx;
	void *st, *dst;

	if (size < 1)
		return 0;
	uint8_t flags = data[0];

	ctx = fuzz_dctx(0, NULL, IPPROTO_TCP, 21);
	st = calloc(1, gcp_dissector_ftp.state_size);
	dst = calloc(1, gcp_dissector_ftpdata.state_size);
	if (st && dst) {
		gcp_dissector_ftp.init(st, ctx);
		run(&gcp_dissector_ftp, st, ctx, flags, data + 1, size - 1);
		/* flags bit 3: the data flow's FIN was seen. */
		ctx->flow->th[0].fin = ctx->flow->th[1].fin = (flags >> 3) & 1;
		ctx->exp_taken = first_expectation(ctx);
		gcp_dissector_ftpdata.init(dst, ctx);
		ctx->exp_taken = 0;
		run(&gcp_dissector_ftpdata, dst, ctx, flags, data + 1, size - 1);
	}
	free(st);
	free(dst);
	fuzz_dctx_done(ctx);
	return 0;
}
