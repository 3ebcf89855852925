/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz the HTTP dissector: byte 0 = flags, then chunks [u8 ctl][bytes]
 * alternating direction, each in an exact-size buffer; consumed honoured
 * like the engine (unconsumed tail kept and offered again). */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissect.h"
#include "fuzz_dctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct gcp_dissector gcp_dissector_http;

#define PEND_CAP (64u * 1024) /* engine default stream_pending_bytes */

struct fz {
	struct gcp_dissect_ctx *ctx;
	void *st;
	uint8_t *pend[2];
	size_t plen[2];
	int live;
};

static void call(struct fz *f, int dir, const uint8_t *p, size_t n, unsigned flags)
{
	if (!f->live)
		return;
	size_t tot = f->plen[dir] + n;
	uint8_t *buf = tot ? malloc(tot) : NULL;

	if (tot && !buf)
		return;
	if (f->plen[dir])
		memcpy(buf, f->pend[dir], f->plen[dir]);
	if (n)
		memcpy(buf + f->plen[dir], p, n);
	struct gcp_parse_result r =
		gcp_dissector_http.parse(f->st, f->ctx, dir, buf, (uint32_t)tot, flags);
	if (r.consumed > tot)
		abort();
	free(f->pend[dir]);
	f->pend[dir] = NULL;
	f->plen[dir] = tot - r.consumed;
	if (f->plen[dir] > PEND_CAP) { /* the engine turns this into a gap */
		f->plen[dir] = 0;
		r = gcp_dissector_http.parse(f->st, f->ctx, dir, NULL, (uint32_t)tot, GCP_PF_GAP);
	} else if (f->plen[dir]) {
		f->pend[dir] = malloc(f->plen[dir]);
		if (f->pend[dir])
			memcpy(f->pend[dir], buf + r.consumed, f->plen[dir]);
		else
			f->plen[dir] = 0;
	}
	free(buf);
	f->live = r.status == GCP_PARSE_OK;
}

static void gap(struct fz *f, int dir, uint32_t len)
{
	if (!f->live)
		return;
	free(f->pend[dir]);
	f->pend[dir] = NULL;
	f->plen[dir] = 0;
	struct gcp_parse_result r = gcp_dissector_http.parse(f->st, f->ctx, dir, NULL, len,
							     GCP_PF_GAP);
	f->live = r.status == GCP_PARSE_OK;
}

/*
 * flags: bit0 decompress off, bit1 body_cap 32, bit2 first chunk s2c.
 * ctl byte: 0xff gap of (next byte * 16 + 1) bytes, 0xfe FIN, else a chunk
 * of ctl bytes; the direction flips after each chunk.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;
	struct fz f = { 0 };

	if (size < 1)
		return 0;
	uint8_t fl = data[0];
	o.node_name = "fuzz";
	o.max_flows = 4;
	o.decompress = (fl & 1) ? -1 : 1;
	o.body_cap = (fl & 2) ? 32 : 0;
	f.ctx = fuzz_dctx(fl & 3, &o, IPPROTO_TCP, 80);
	f.st = calloc(1, gcp_dissector_http.state_size);
	if (!f.st)
		goto out;
	gcp_dissector_http.init(f.st, f.ctx);
	f.live = 1;
	int dir = (fl & 4) ? GCP_DIR_S2C : GCP_DIR_C2S;
	size_t i = 1;
	while (i < size) {
		uint8_t ctl = data[i++];
		if (ctl == 0xff && i < size) {
			gap(&f, dir, (uint32_t)data[i++] * 16 + 1);
		} else if (ctl == 0xfe) {
			call(&f, dir, NULL, 0, GCP_PF_FIN);
		} else {
			size_t n = ctl < size - i ? ctl : size - i;
			uint8_t *chunk = malloc(n ? n : 1);
			if (!chunk)
				break;
			memcpy(chunk, data + i, n);
			call(&f, dir, chunk, n, 0);
			free(chunk);
			i += n;
		}
		dir ^= 1;
	}
	call(&f, GCP_DIR_C2S, NULL, 0, GCP_PF_FIN);
	call(&f, GCP_DIR_S2C, NULL, 0, GCP_PF_FIN);
	gcp_dissector_http.fini(f.st, f.ctx);
	free(f.st);
out:
	free(f.pend[0]);
	free(f.pend[1]);
	fuzz_dctx_done(f.ctx);
	return 0;
}
