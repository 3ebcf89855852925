/* SPDX-License-Identifier: BSD-3-Clause */
/* Micro benchmark harness: drive one dissector's parse over fixed messages
 * in a loop through the test context; print bytes/s and ns/message JSON. */
#ifndef GCP_BENCH_MICRO_H
#define GCP_BENCH_MICRO_H

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dissect.h"
#include "engine.h"

struct micro_msg {
	int dir;
	const uint8_t *p;
	uint32_t n;
};

struct micro {
	const char *name;       /* benchmark name in the JSON */
	const char *dissector;  /* gcp_dissectors[] entry */
	uint8_t l4proto;
	uint16_t sport;
	const struct micro_msg *msgs;
	unsigned nmsgs;
	double seconds;         /* minimum measuring time */
	uint64_t records;
};

static inline uint64_t micro_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --seconds S (default 0.5; --quick: 0.1). */
static inline double micro_seconds(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			return 0.1;
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			return strtod(argv[i + 1], NULL);
	}
	return 0.5;
}

static inline const struct gcp_dissector *micro_find(const char *name)
{
	for (unsigned i = 0; i < gcp_dissector_count; i++)
		if (strcmp(gcp_dissectors[i]->name, name) == 0)
			return gcp_dissectors[i];
	return NULL;
}

static inline void micro_count(const struct gcp_record *rec, void *user)
{
	(void)rec;
	((struct micro *)user)->records++;
}

/* One connection: init, every message once (whole), fini. */
static inline void micro_conn(const struct gcp_dissector *d, struct gcp_dissect_ctx *ctx,
			      void *state, const struct micro *m)
{
	memset(state, 0, d->state_size);
	if (d->init)
		d->init(state, ctx);
	for (unsigned i = 0; i < m->nmsgs; i++) {
		struct gcp_parse_result r = d->parse(state, ctx, m->msgs[i].dir, m->msgs[i].p,
						     m->msgs[i].n, 0);

		if (r.status != GCP_PARSE_OK)
			break;
	}
	if (d->fini)
		d->fini(state, ctx);
}

/* Records go to a counter, not to the test context's JSON store. */
static inline int micro_run(struct micro *m)
{
	const struct gcp_dissector *d = micro_find(m->dissector);
	struct gcp_dissect_ctx *ctx = gcp_test_dctx_new(NULL, m->l4proto, "10.1.2.3", 51234,
							"198.51.100.7", m->sport);
	uint64_t bytes = 0, iters = 0, t0, el;

	if (!d || !ctx)
		return 1;
	void *state = calloc(1, d->state_size ? d->state_size : 1);
	gcp_record_cb saved_cb = ctx->eng->cb;
	void *saved_user = ctx->eng->cb_user;

	ctx->eng->cb = micro_count;
	ctx->eng->cb_user = m;
	for (unsigned i = 0; i < m->nmsgs; i++)
		bytes += m->msgs[i].n;
	t0 = micro_now();
	do {
		for (int k = 0; k < 256; k++) {
			gcp_test_dctx_set_now(ctx, 1709546400000000000ull + iters * 1000);
			micro_conn(d, ctx, state, m);
			iters++;
		}
		el = micro_now() - t0;
	} while ((double)el / 1e9 < m->seconds);
	ctx->eng->cb = saved_cb;
	ctx->eng->cb_user = saved_user;
	double sec = (double)el / 1e9, msgs = (double)iters * m->nmsgs;

	printf("{\"bench\":\"micro\",\"name\":\"%s\",\"dissector\":\"%s\",\"conn_bytes\":%llu,"
	       "\"msgs_per_conn\":%u,\"conns\":%llu,\"seconds\":%.3f,\"mbytes_per_s\":%.1f,"
	       "\"ns_per_msg\":%.1f,\"ns_per_conn\":%.1f,\"records_per_conn\":%.2f}\n",
	       m->name, m->dissector, (unsigned long long)bytes, m->nmsgs,
	       (unsigned long long)iters, sec, (double)bytes * iters / sec / 1e6,
	       (double)el / msgs, (double)el / (double)iters, (double)m->records / (double)iters);
	free(state);
	gcp_test_dctx_free(ctx);
	return 0;
}

#endif /* GCP_BENCH_MICRO_H */
