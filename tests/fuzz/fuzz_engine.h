/* SPDX-License-Identifier: BSD-3-Clause */
/* Whole-engine fuzz targets keep one engine for the process: every
 * input ends with a flush (all flows end, their records are rendered)
 * and a rewind of the clock, fragments and expectations, so that each
 * input meets the same empty engine and a crash replays alone. */
#ifndef GCP_FUZZ_ENGINE_H
#define GCP_FUZZ_ENGINE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine.h"
#include "expect.h"

/* Every record must render; a buffer too small is the only excuse. */
static void fuzz_render(const struct gcp_record *rec, void *user)
{
	static char buf[1 << 20];
	int n = gcp_record_to_json(rec->data, rec->len, buf, sizeof(buf), 0);

	(void)user;
	if (n < 0 && n != GCP_ERR_FULL) {
		fprintf(stderr, "fuzz: record rejected by gcp_record_to_json: %s\n",
			gcp_strerror(n));
		abort();
	}
}

/* Content rules over every watched field, so that tagging runs too. */
static const char fuzz_rules_text[] =
	"id=1 field=host pattern=/example/i\n"
	"id=2 field=url pattern=/^\\/admin/\n"
	"id=3 field=qname pattern=/\\.(gov|com)$/\n"
	"id=4 field=account pattern=/^(root|anonymous)$/i\n"
	"id=5 field=any pattern=/a/\n";

/* The engine of this target, made on first use. VLAN 10 and VNI 100
 * map to tenants so that the tenant lookup runs too. */
static inline struct gcp_engine *fuzz_engine(void)
{
	static const struct gcp_tenant_map tenants[] = {
		{ .id = 10, .kind = GCP_TENANT_VLAN, .tenant = "t-vlan" },
		{ .id = 100, .kind = GCP_TENANT_VNI, .tenant = "t-vni" },
	};
	static struct gcp_engine *eng;
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;

	if (eng)
		return eng;
	o.node_name = "fuzz";
	o.max_flows = 64;
	o.max_frag_datagrams = 8;
	o.reasm_total_bytes = 1 << 20;
	o.hs_streams = 64;
	o.tenants = tenants;
	o.ntenants = 2;
	struct gcp_rules *rules = NULL;

	if (gcp_engine_create(&o, &eng) != 0 ||
	    gcp_rules_compile(fuzz_rules_text, &rules, NULL, 0) != 0 ||
	    gcp_engine_set_rules(eng, rules) != 0)
		abort();
	gcp_rules_free(rules); /* the engine keeps its reference */
	gcp_engine_subscribe(eng, GCP_REC_ALL, fuzz_render, NULL);
	return eng;
}

/* End of one input: flows flushed (records rendered), then back to a
 * fresh engine's clock with no fragments or expectations left. Pool
 * memory still out once every flow ended is a leak. */
static inline void fuzz_engine_rewind(struct gcp_engine *e)
{
	gcp_engine_flush(e);
	gcp_decoder_expire(&e->dec, UINT64_MAX);
	gcp_expect_table_free(e->exp);
	e->exp = NULL;
	e->now_ns = 0;
	e->last_tick_s = 0;
	e->ft.wheel_now_s = 0;
	if (e->pool.used || e->reasm.total_used) {
		fprintf(stderr, "fuzz: %llu pool bytes held after every flow ended\n",
			(unsigned long long)e->pool.used);
		abort();
	}
}

#endif /* GCP_FUZZ_ENGINE_H */
