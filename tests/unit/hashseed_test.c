/* SPDX-License-Identifier: BSD-3-Clause */
/* Keyed flow hash (hash flooding): lookups stay right and symmetric
 * under any seed, seeds move flows to other buckets, and an engine
 * picks a random seed unless told one. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "engine.h"
#include "flow.h"

#define NFLOWS 2000u
#define SEED_A 0x1234567890abcdefull
#define SEED_B 0xfedcba0987654321ull

static struct gcp_pkt pkt(uint32_t i, bool reply)
{
	struct gcp_pkt p;
	uint8_t cli[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
	uint8_t srv[4] = { 192, 0, 2, (uint8_t)(i % 7) };

	memset(&p, 0, sizeof(p));
	p.ts_ns = 1000000000ull;
	p.ip_version = 4;
	p.l4proto = IPPROTO_UDP;
	memcpy(reply ? p.dst.b : p.src.b, cli, 4);
	memcpy(reply ? p.src.b : p.dst.b, srv, 4);
	p.sport = reply ? 53 : (uint16_t)(1024 + i % 50000);
	p.dport = reply ? (uint16_t)(1024 + i % 50000) : 53;
	return p;
}

/* Fill a table keyed with seed; every reply must find its own flow. */
static void fill_and_check(struct gcp_flow_table *t, uint64_t seed, struct gcp_flow **flows)
{
	int dir;
	bool created;

	cr_assert_eq(gcp_flow_table_init(t, NFLOWS, 0), 0);
	gcp_flow_table_seed(t, seed);
	for (uint32_t i = 0; i < NFLOWS; i++) {
		struct gcp_pkt p = pkt(i, false);

		flows[i] = gcp_flow_lookup(t, &p, &dir, &created, NULL, NULL);
		cr_assert(flows[i] && created, "flow %u created", i);
	}
	for (uint32_t i = 0; i < NFLOWS; i++) {
		struct gcp_pkt p = pkt(i, true);
		struct gcp_flow *f = gcp_flow_lookup(t, &p, &dir, &created, NULL, NULL);

		cr_assert_eq(f, flows[i], "reply %u finds its flow under seed %llx", i,
			     (unsigned long long)seed);
		cr_assert(!created);
		cr_assert_eq(dir, GCP_DIR_S2C);
	}
	cr_assert_eq(t->count, NFLOWS);
}

Test(hashseed, lookups_right_and_placement_differs)
{
	static struct gcp_flow *fa[NFLOWS], *fb[NFLOWS];
	struct gcp_flow_table a, b;
	uint32_t same_bucket = 0, mask;

	fill_and_check(&a, SEED_A, fa);
	fill_and_check(&b, SEED_B, fb);
	mask = a.bmask;
	for (uint32_t i = 0; i < NFLOWS; i++)
		same_bucket += (gcp_flow_hash(&a, &fa[i]->key) & mask) ==
			       (gcp_flow_hash(&b, &fb[i]->key) & mask);
	/* Independent placement: about NFLOWS / buckets coincide. */
	cr_assert_lt(same_bucket, NFLOWS / 50, "%u of %u flows in the same bucket", same_bucket,
		     NFLOWS);
	gcp_flow_table_fini(&a);
	gcp_flow_table_fini(&b);
}

Test(hashseed, engine_seed_random_unless_set)
{
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;
	struct gcp_engine *e1, *e2, *e3;

	o.hs_ident = -1;
	cr_assert_eq(gcp_engine_create(&o, &e1), 0);
	cr_assert_eq(gcp_engine_create(&o, &e2), 0);
	cr_assert_neq(e1->ft.hash_seed, 0);
	cr_assert_neq(e1->ft.hash_seed, e2->ft.hash_seed, "two engines, two random seeds");
	o.hash_seed = SEED_A;
	cr_assert_eq(gcp_engine_create(&o, &e3), 0);
	cr_assert_eq(e3->ft.hash_seed, SEED_A);
	gcp_engine_destroy(e1);
	gcp_engine_destroy(e2);
	gcp_engine_destroy(e3);
}
