/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz the SMTP, POP3 and IMAP dissectors: input = [u8 flags] then chunks
 * [u16 len][bytes] that alternate direction, fed like the engine does
 * (unconsumed bytes kept and offered again, bounded, gap on overflow).
 * flags bits 0-1 pick the dissector, bit 2 turns empty chunks into gaps,
 * bit 3 keeps one direction, bit 4 starts with the client. */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissect.h"
#include "fuzz_dctx.h"
#include "fuzz_feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct gcp_dissector gcp_dissector_smtp, gcp_dissector_pop3, gcp_dissector_imap;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct gcp_dissector *const dis[] = {
		&gcp_dissector_smtp, &gcp_dissector_pop3, &gcp_dissector_imap, &gcp_dissector_smtp,
	};
	static const uint16_t port[] = { 25, 110, 143, 587 };
	struct fuzz_side sides[2] = { { NULL, 0, false }, { NULL, 0, false } };

	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	const struct gcp_dissector *d = dis[flags & 3];
	int dir = flags & 16 ? GCP_DIR_C2S : GCP_DIR_S2C;

	data++;
	size--;
	/* One context per port, kept across inputs. */
	struct gcp_dissect_ctx *ctx = fuzz_dctx(flags & 3, NULL, IPPROTO_TCP, port[flags & 3]);
	void *st = calloc(1, d->state_size);

	if (!st)
		goto out;
	d->init(st, ctx);
	/* flags bit 2: a zero-length chunk is a gap; bit 3: keep one direction */
	fuzz_feed_chunks(d, st, ctx, sides, dir, data, size, flags & 4, flags & 8, GCP_PARSE_OK);
	d->fini(st, ctx);
out:
	free(sides[0].buf);
	free(sides[1].buf);
	free(st);
	fuzz_dctx_done(ctx);
	return 0;
}
