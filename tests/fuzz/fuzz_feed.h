/* SPDX-License-Identifier: BSD-3-Clause */
/* Feed a stream dissector the way lib/src/app.c does, for fuzz targets:
 * unconsumed bytes kept and offered again with the next chunk, the tail
 * dropped once parsing stops, a gap when the tail outgrows the bound. */
#ifndef GCP_FUZZ_FEED_H
#define GCP_FUZZ_FEED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissect.h"

#define FUZZ_PENDING_MAX (64u * 1024) /* engine default stream_pending_bytes */

struct fuzz_side {
	uint8_t *buf;
	size_t len;
	bool probed;
};

/* Offer pending + chunk in an exact-size buffer so ASan sees over-reads. */
static inline uint8_t fuzz_feed(const struct gcp_dissector *dis, void *st,
				struct gcp_dissect_ctx *ctx, struct fuzz_side *s, int dir,
				const uint8_t *p, size_t n, unsigned flags)
{
	size_t len = s->len + n;
	uint8_t *b = malloc(len ? len : 1);

	if (!b)
		abort();
	if (s->len)
		memcpy(b, s->buf, s->len);
	if (n)
		memcpy(b + s->len, p, n);
	if (!s->probed && len) {
		(void)dis->probe(b, (uint32_t)len, dir);
		s->probed = true;
	}
	struct gcp_parse_result r = dis->parse(st, ctx, dir, b, (uint32_t)len, flags);

	if (r.consumed > len)
		abort();
	free(s->buf);
	s->buf = NULL;
	s->len = len - r.consumed;
	if (r.status != GCP_PARSE_OK) {
		s->len = 0;
	} else if (s->len > FUZZ_PENDING_MAX) {
		r = dis->parse(st, ctx, dir, NULL, (uint32_t)s->len, GCP_PF_GAP);
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

/* A reassembly gap of n bytes as app.c reports it: the kept tail is void. */
static inline uint8_t fuzz_gap(const struct gcp_dissector *dis, void *st,
			       struct gcp_dissect_ctx *ctx, struct fuzz_side *s, int dir, uint32_t n)
{
	free(s->buf);
	s->buf = NULL;
	s->len = 0;
	return dis->parse(st, ctx, dir, NULL, n, GCP_PF_GAP).status;
}

/*
 * The chunked input of the stream targets: [u16 len][bytes] chunks that
 * alternate direction from dir (keep_dir: all one way); with gaps, a
 * zero-length chunk is a gap of 100 bytes (the tail is dropped, as the
 * engine does). Then FIN both ways with what is pending. Starts from
 * status (a target may have fed something first); returns the last one.
 */
static inline uint8_t fuzz_feed_chunks(const struct gcp_dissector *dis, void *st,
				       struct gcp_dissect_ctx *ctx, struct fuzz_side sides[2],
				       int dir, const uint8_t *data, size_t size, bool gaps,
				       bool keep_dir, uint8_t status)
{
	while (size >= 2 && status == GCP_PARSE_OK) {
		size_t len = (size_t)data[0] << 8 | data[1];

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		if (len == 0 && gaps) {
			status = fuzz_gap(dis, st, ctx, &sides[dir], dir, 100);
		} else {
			status = fuzz_feed(dis, st, ctx, &sides[dir], dir, data, len, 0);
		}
		data += len;
		size -= len;
		if (!keep_dir)
			dir = !dir;
	}
	for (int d = 0; d < 2 && status == GCP_PARSE_OK; d++)
		status = fuzz_feed(dis, st, ctx, &sides[d], d, NULL, 0, GCP_PF_FIN);
	return status;
}

#endif /* GCP_FUZZ_FEED_H */
