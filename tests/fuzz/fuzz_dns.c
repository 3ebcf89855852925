/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz the DNS dissector: byte 0 picks UDP/TCP, then chunks [u16 len][bytes] alternate direction. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissect.h"
#include "fuzz_dctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct gcp_dissector gcp_dissector_dns;

#define PENDING_CAP 65536 /* engine default stream_pending_bytes */

/* The engine's unconsumed tail of one direction. */
struct tail {
	uint8_t *buf;
	uint32_t len;
};

/* Offer tail + chunk like the engine does, in an exact-size copy; keep what is not consumed. */
static void feed_tcp(void *st, struct gcp_dissect_ctx *ctx, int dir, struct tail *t,
		     const uint8_t *d, uint32_t n)
{
	const struct gcp_dissector *D = &gcp_dissector_dns;

	if (t->len + n > PENDING_CAP) { /* over the cap: the engine reports a gap */
		D->parse(st, ctx, dir, NULL, t->len + n, GCP_PF_GAP);
		t->len = 0;
		return;
	}
	uint8_t *copy = malloc(t->len + n ? t->len + n : 1);
	if (!copy)
		return;
	memcpy(copy, t->buf, t->len);
	memcpy(copy + t->len, d, n);
	uint32_t all = t->len + n;
	struct gcp_parse_result r = D->parse(st, ctx, dir, copy, all, 0);
	if (r.consumed > all)
		abort(); /* contract violation */
	memcpy(t->buf, copy + r.consumed, all - r.consumed);
	t->len = all - r.consumed;
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct gcp_dissector *D = &gcp_dissector_dns;
	uint64_t ts = 1700000000ull * 1000000000ull;
	struct tail tails[2] = { { NULL, 0 }, { NULL, 0 } };

	if (size < 1)
		return 0;
	bool is_tcp = data[0] & 1;
	uint8_t gap_every = data[0] >> 4; /* 0: never inject a gap */
	data++;
	size--;
	struct gcp_dissect_ctx *ctx = fuzz_dctx(is_tcp, NULL, is_tcp ? IPPROTO_TCP : IPPROTO_UDP, 53);
	void *st = calloc(1, D->state_size);
	tails[0].buf = malloc(PENDING_CAP);
	tails[1].buf = malloc(PENDING_CAP);
	if (!st || !tails[0].buf || !tails[1].buf)
		goto out;
	gcp_test_dctx_set_now(ctx, ts);
	D->init(st, ctx);
	for (unsigned i = 0; size >= 2; i++) {
		size_t len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		uint8_t *chunk = malloc(len ? len : 1); /* exact size: ASan sees over-reads */
		if (!chunk)
			break;
		memcpy(chunk, data, len);
		int dir = i & 1;
		ts += 3000000000ull; /* lets the DNS timeout fire now and then */
		gcp_test_dctx_set_now(ctx, ts);
		(void)D->probe(chunk, (uint32_t)len, dir);
		if (!is_tcp)
			D->parse(st, ctx, dir, chunk, (uint32_t)len, 0);
		else if (gap_every && i % gap_every == gap_every - 1u) {
			/* A gap as the engine reports it (tail dropped); the chunks
			 * after it go through the resync path. */
			tails[dir].len = 0;
			D->parse(st, ctx, dir, NULL, (uint32_t)len, GCP_PF_GAP);
		} else
			feed_tcp(st, ctx, dir, &tails[dir], chunk, (uint32_t)len);
		free(chunk);
		data += len;
		size -= len;
	}
	if (is_tcp)
		for (int dir = 0; dir < 2; dir++)
			D->parse(st, ctx, dir, tails[dir].len ? tails[dir].buf : NULL, tails[dir].len,
				 GCP_PF_FIN);
	D->fini(st, ctx);
out:
	free(tails[0].buf);
	free(tails[1].buf);
	free(st);
	fuzz_dctx_done(ctx);
	return 0;
}
