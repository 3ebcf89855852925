/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz the QUIC dissector: input = [u8 flags] then datagrams
 * [u8 ctl][u16 len][bytes]. ctl bit 0: sent by the server; bit 1: the
 * bytes are the plaintext frames of an Initial that the harness seals
 * with the Initial keys (quic_seal.h), so mutations reach the frame and
 * CRYPTO parsers behind the AEAD; bit 2: QUIC v2 instead of v1; bit 3:
 * sealed under a second connection ID (as after a Retry); bits 4-7:
 * packet number. flags bit 0: an unsealed datagram is copied as it is
 * (else only its first 1500 bytes). Each datagram is in an exact-size
 * buffer so ASan sees over-reads. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/quic_seal.h"
#include "dissect.h"
#include "fuzz_dctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct gcp_dissector gcp_dissector_quic;

static const uint8_t dcid1[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };
static const uint8_t dcid2[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

static uint8_t one(struct gcp_dissect_ctx *ctx, void *st, uint8_t ctl, const uint8_t *p,
		   size_t n)
{
	uint8_t sealed[QUIC_SEAL_MAX];
	const uint8_t *q = p;
	int dir = ctl & 1;
	if (ctl & 2) {
		uint32_t v = (ctl & 4) ? QUIC_V2 : QUIC_V1;
		const uint8_t *kd = (ctl & 8) ? dcid2 : dcid1;
		size_t kl = (ctl & 8) ? sizeof(dcid2) : sizeof(dcid1);
		size_t total = n + 64 < 1200 ? 1200 : n + 64;
		/* the server's Initials go to the client's chosen (empty) CID */
		n = quic_seal_initial(sealed, v, kd, dir ? 0 : kl, kd, kl, dir, ctl >> 4, p, n,
				      total);
		if (!n)
			return GCP_PARSE_OK;
		q = sealed;
	}
	uint8_t *b = malloc(n ? n : 1);
	if (!b)
		abort();
	memcpy(b, q, n);
	struct gcp_parse_result r = gcp_dissector_quic.parse(st, ctx, dir, b, (uint32_t)n, 0);
	free(b);
	if (r.consumed != n)
		abort(); /* a datagram is always consumed whole */
	return r.status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t status = GCP_PARSE_OK;

	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	data++;
	size--;
	struct gcp_dissect_ctx *ctx = fuzz_dctx(0, NULL, IPPROTO_UDP, 443);
	void *st = calloc(1, gcp_dissector_quic.state_size);
	if (!st)
		goto out;
	gcp_dissector_quic.init(st, ctx);
	while (size >= 3 && status == GCP_PARSE_OK) {
		uint8_t ctl = data[0];
		size_t len = (size_t)data[1] << 8 | data[2];

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		if (!(flags & 1) && !(ctl & 2) && len > QUIC_SEAL_MAX)
			len = QUIC_SEAL_MAX;
		status = one(ctx, st, ctl, data, len);
		data += len;
		size -= len;
	}
	gcp_dissector_quic.fini(st, ctx);
out:
	free(st);
	fuzz_dctx_done(ctx);
	return 0;
}
