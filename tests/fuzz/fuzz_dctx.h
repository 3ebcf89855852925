/* SPDX-License-Identifier: BSD-3-Clause */
/* Dissector fuzz targets share one test context per variant for the
 * life of the process (creating an engine costs milliseconds under
 * ASan); each input ends with a reset that also checks the dissector
 * gave all its pool memory back. */
#ifndef GCP_FUZZ_DCTX_H
#define GCP_FUZZ_DCTX_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "dissect.h"

#define FUZZ_DCTX_VARIANTS 8
#define FUZZ_TS0 (1700000000ull * 1000000000ull)

/*
 * Context number variant (< FUZZ_DCTX_VARIANTS) of this target, made on
 * first use with opts (NULL: the test defaults) around the flow
 * 192.0.2.1:40000 -> 192.0.2.2:sport. The clock is set to FUZZ_TS0.
 */
static inline struct gcp_dissect_ctx *fuzz_dctx(unsigned variant,
						const struct gcp_engine_opts *opts,
						uint8_t l4proto, uint16_t sport)
{
	static struct gcp_dissect_ctx *ctxs[FUZZ_DCTX_VARIANTS];
	struct gcp_dissect_ctx **c = &ctxs[variant % FUZZ_DCTX_VARIANTS];

	if (!*c)
		*c = gcp_test_dctx_new(opts, l4proto, "192.0.2.1", 40000, "192.0.2.2", sport);
	if (!*c)
		abort(); /* out of memory at start-up: nothing to fuzz */
	gcp_test_dctx_set_now(*c, FUZZ_TS0);
	return *c;
}

/* End of one input: render every record, then reset; pool memory still
 * out after fini is a leak that would grow a long-running probe. */
static inline void fuzz_dctx_done(struct gcp_dissect_ctx *ctx)
{
	for (unsigned i = 0; i < gcp_test_dctx_nrecords(ctx); i++)
		if (!gcp_test_dctx_json(ctx, i))
			abort(); /* a record the JSON renderer rejects */
	uint64_t left = gcp_test_dctx_reset(ctx);

	if (left) {
		fprintf(stderr, "fuzz: %llu pool bytes not freed by fini\n",
			(unsigned long long)left);
		abort();
	}
}

#endif /* GCP_FUZZ_DCTX_H */
