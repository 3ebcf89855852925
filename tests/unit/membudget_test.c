/* SPDX-License-Identifier: BSD-3-Clause */
/* Memory budget: the pool's cap covers cached blocks too, the record
 * builder refuses records past its cap, and gcp_engine_mem_budget()
 * follows the options that size the engine. */
#include <criterion/criterion.h>
#include <string.h>

#include "engine.h"
#include "mempool.h"
#include "record.h"

Test(membudget, pool_cap_includes_cached_blocks)
{
	struct gcp_pool p;
	void *small[64];

	gcp_pool_init(&p, 4096);
	for (int i = 0; i < 64; i++)
		cr_assert_not_null(small[i] = gcp_pool_alloc(&p, 64));
	cr_assert_null(gcp_pool_alloc(&p, 64), "65th block is over the cap");
	cr_assert_eq(p.fails, 1);
	for (int i = 0; i < 64; i++)
		gcp_pool_free(&p, small[i], 64);
	cr_assert_eq(p.reserved, 4096, "freed blocks stay cached");
	/* Another class: the cached small blocks are given back to make room. */
	void *big = gcp_pool_alloc(&p, 4096);

	cr_assert_not_null(big);
	cr_assert_leq(p.reserved, 4096);
	cr_assert_null(gcp_pool_alloc(&p, 64), "nothing cached left to give back");
	gcp_pool_free(&p, big, 4096);
	gcp_pool_fini(&p);
}

Test(membudget, record_builder_cap)
{
	static char big[GCP_RB_MAX_BYTES];
	struct gcp_rb rb;
	const uint8_t *d;
	size_t n;

	memset(big, 'x', sizeof(big));
	cr_assert_eq(gcp_rb_init(&rb), 0);
	gcp_rb_reset(&rb);
	gcp_rb_kv_str(&rb, "k", big, sizeof(big));
	cr_assert_neq(gcp_rb_finish(&rb, &d, &n), 0, "a record over the cap is refused");
	cr_assert_eq(rb.st_oversize, 1);
	cr_assert_leq(rb.alloc, GCP_RB_MAX_BYTES);
	gcp_rb_reset(&rb);
	gcp_rb_kv_str(&rb, "k", big, 1000);
	cr_assert_eq(gcp_rb_finish(&rb, &d, &n), 0, "the next record is fine");
	gcp_rb_fini(&rb);
}

Test(membudget, budget_follows_options)
{
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;
	struct gcp_engine *e;
	struct gcp_stats st = { .sz = sizeof(st) };

	o.hs_ident = -1;
	uint64_t base = gcp_engine_mem_budget(&o);

	cr_assert_gt(base, 256ull << 20, "defaults include the 256 MiB app pool");
	o.app_mem_bytes = (256ull << 20) + (4u << 20);
	cr_assert_eq(gcp_engine_mem_budget(&o), base + (5u << 20), "pool bytes count 5/4");
	o.app_mem_bytes = 0;
	o.max_flows = 131072;
	cr_assert_gt(gcp_engine_mem_budget(&o), base + 131072 / 2 * sizeof(struct gcp_flow));
	o.max_flows = 0;
	cr_assert_eq(gcp_engine_create(&o, &e), 0);
	cr_assert_eq(gcp_engine_stats(e, &st), 0);
	cr_assert_eq(st.mem_budget, base, "stats report the engine's budget");
	gcp_engine_destroy(e);
	o.hs_ident = 7;
	cr_assert_eq(gcp_engine_mem_budget(&o), 0, "invalid options: 0");
}
