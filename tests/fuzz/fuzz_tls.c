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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct gcp_dissector gcp_dissector_tls;

#define PENDING_MAX (64u * 1024) /* engine default stream_pending_bytes */

struct side {
	uint8_t *buf;
	size_t len;
	bool probed;
};

/* Offer pending + chunk in an exact-size buffer so ASan sees over-reads. */
static uint8_t feed(void *st, struct gcp_dissect_ctx *ctx, struct side *s, int dir,
		    const uint8_t *p, size_t n, unsigned flags)
{
	size_t len = s->len + n;
	uint8_t *b = malloc(len ? len : 1);

	if (!b)
		return GCP_PARSE_ERROR;
	if (s->len)
		memcpy(b, s->buf, s->len);
	if (n)
		memcpy(b + s->len, p, n);
	if (!s->probed && len) {
		(void)gcp_dissector_tls.probe(b, (uint32_t)len, dir);
		s->probed = true;
	}
	struct gcp_parse_result r = gcp_dissector_tls.parse(st, ctx, dir, b, (uint32_t)len, flags);

	if (r.consumed > len)
		abort();
	free(s->buf);
	s->buf = NULL;
	s->len = len - r.consumed;
	if (s->len > PENDING_MAX) {
		/* Like app.c: over the bound the tail becomes a gap. */
		r = gcp_dissector_tls.parse(st, ctx, dir, NULL, (uint32_t)s->len, GCP_PF_GAP);
		s->len = 0;
	} else if (s->len) {
		s->buf = malloc(s->len);
		if (!s->buf)
			abort();
		memcpy(s->buf, b + r.consumed, s->len);
	}
	free(b);
	return r.status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct side sides[2] = { { NULL, 0, false }, { NULL, 0, false } };
	struct gcp_dissect_ctx *ctx;
	uint8_t status = GCP_PARSE_OK;
	void *st;

	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	int dir = flags & 1;

	data++;
	size--;
	ctx = gcp_test_dctx_new(NULL, IPPROTO_TCP, "192.0.2.1", 40000, "192.0.2.2", 443);
	if (!ctx)
		return 0;
	gcp_test_dctx_set_now(ctx, 1700000000ull * 1000000000ull);
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
		/* flags bit 1: a zero-length chunk is a gap of 100 bytes instead. */
		if (len == 0 && (flags & 2))
			status = gcp_dissector_tls.parse(st, ctx, dir, NULL, 100, GCP_PF_GAP).status;
		else
			status = feed(st, ctx, &sides[dir], dir, data, len, 0);
		data += len;
		size -= len;
		if (!(flags & 4))
			dir = !dir; /* flags bit 2: keep one direction */
	}
	/* Flow end: pending bytes offered once more with FIN, then fini. */
	for (int d = 0; d < 2 && status == GCP_PARSE_OK; d++)
		status = feed(st, ctx, &sides[d], d, NULL, 0, GCP_PF_FIN);
	gcp_dissector_tls.fini(st, ctx);
	for (unsigned i = 0; i < gcp_test_dctx_nrecords(ctx); i++)
		(void)gcp_test_dctx_json(ctx, i);
out:
	free(sides[0].buf);
	free(sides[1].buf);
	free(st);
	gcp_test_dctx_free(ctx);
	return 0;
}
