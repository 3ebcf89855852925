/* SPDX-License-Identifier: BSD-3-Clause */
/* Expected connections: bounded per-engine table keyed by (orig addr,
 * resp addr, resp port, l4), matched when a flow is created. */
#include "expect.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define NS_PER_S 1000000000ull

struct gcp_expect_table *gcp_expect_table_new(void)
{
	struct gcp_expect_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	for (uint32_t i = 0; i < GCP_EXPECT_MAX; i++)
		t->ents[i].next = i + 2 <= GCP_EXPECT_MAX ? i + 2 : 0;
	t->free_head = 1;
	return t;
}

/* OpenSSL's MD5 context of an ftp-data flow (EVP_MD_CTX_new, outside
 * the pools), rounded up; each such flow holds an entry, so at most
 * GCP_EXPECT_MAX exist at once. */
#define EXPECT_FLOW_EXTRA 1024u

uint64_t gcp_expect_table_mem(void)
{
	return sizeof(struct gcp_expect_table) + (uint64_t)GCP_EXPECT_MAX * EXPECT_FLOW_EXTRA;
}

void gcp_expect_table_free(struct gcp_expect_table *t)
{
	free(t);
}

static uint32_t key_hash(const struct gcp_addr *o, const struct gcp_addr *r, uint16_t port,
			 uint8_t l4)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (int i = 0; i < 16; i++)
		h = (h ^ o->b[i]) * 0x100000001b3ull;
	for (int i = 0; i < 16; i++)
		h = (h ^ r->b[i]) * 0x100000001b3ull;
	h = (h ^ port) * 0x100000001b3ull;
	h = (h ^ l4) * 0x100000001b3ull;
	return (uint32_t)(h ^ (h >> 32)) & (GCP_EXPECT_BUCKETS - 1);
}

static bool key_eq(const struct gcp_expect_ent *x, const struct gcp_addr *o,
		   const struct gcp_addr *r, uint16_t port, uint8_t l4)
{
	return x->resp_port == port && x->l4proto == l4 && !memcmp(&x->orig, o, sizeof(*o)) &&
	       !memcmp(&x->resp, r, sizeof(*r));
}

static uint32_t ent_bucket(const struct gcp_expect_ent *x)
{
	return key_hash(&x->orig, &x->resp, x->resp_port, x->l4proto);
}

static void unhash(struct gcp_expect_table *t, uint32_t idx)
{
	uint32_t *link = &t->buckets[ent_bucket(&t->ents[idx])];

	while (*link && *link != idx + 1)
		link = &t->ents[*link - 1].next;
	if (*link)
		*link = t->ents[idx].next;
	t->ents[idx].next = 0;
}

static void put_free(struct gcp_expect_table *t, uint32_t idx)
{
	struct gcp_expect_ent *x = &t->ents[idx];

	if (x->state == GCP_EXP_PENDING)
		unhash(t, idx);
	x->state = GCP_EXP_FREE;
	x->gen++;
	x->next = t->free_head;
	t->free_head = idx + 1;
	t->live--;
}

/* Table full: free pending entries past their time. */
static void sweep(struct gcp_expect_table *t, uint64_t now_ns)
{
	for (uint32_t i = 0; i < GCP_EXPECT_MAX; i++) {
		struct gcp_expect_ent *x = &t->ents[i];

		if (x->state == GCP_EXP_PENDING && x->expire_ns <= now_ns) {
			put_free(t, i);
			t->st_expired++;
		}
	}
}

static struct gcp_expect_ent *find(struct gcp_expect_table *t, const struct gcp_addr *o,
				   const struct gcp_addr *r, uint16_t port, uint8_t l4)
{
	for (uint32_t i = t->buckets[key_hash(o, r, port, l4)]; i; i = t->ents[i - 1].next)
		if (key_eq(&t->ents[i - 1], o, r, port, l4))
			return &t->ents[i - 1];
	return NULL;
}

static uint64_t handle_of(const struct gcp_expect_table *t, const struct gcp_expect_ent *x)
{
	return (uint64_t)x->gen << 32 | (uint64_t)(x - t->ents + 1);
}

uint64_t gcp_expect_add(struct gcp_expect_table *t, const struct gcp_expect *x, uint64_t now_ns)
{
	if (!x->orig || !x->resp || !x->dis || x->len > GCP_EXPECT_DATA_MAX)
		return 0;
	struct gcp_expect_ent *old = find(t, x->orig, x->resp, x->resp_port, x->l4proto);

	if (old)
		put_free(t, (uint32_t)(old - t->ents));
	if (!t->free_head)
		sweep(t, now_ns);
	if (!t->free_head) {
		t->st_full++;
		return 0;
	}
	uint32_t idx = t->free_head - 1;
	struct gcp_expect_ent *n = &t->ents[idx];

	t->free_head = n->next;
	n->orig = *x->orig;
	n->resp = *x->resp;
	n->resp_port = x->resp_port;
	n->l4proto = x->l4proto;
	n->ip_version = x->ip_version;
	n->dis = x->dis;
	n->state = GCP_EXP_PENDING;
	n->expire_ns = now_ns + (uint64_t)(x->timeout_s ? x->timeout_s : GCP_EXPECT_TIMEOUT_S) *
					NS_PER_S;
	memset(n->data, 0, sizeof(n->data));
	if (x->len)
		memcpy(n->data, x->data, x->len);
	uint32_t b = key_hash(x->orig, x->resp, x->resp_port, x->l4proto);

	n->next = t->buckets[b];
	t->buckets[b] = idx + 1;
	t->live++;
	t->st_added++;
	return handle_of(t, n);
}

struct gcp_expect_ent *gcp_expect_get(struct gcp_expect_table *t, uint64_t h)
{
	uint32_t idx = (uint32_t)h;

	if (!t || idx == 0 || idx > GCP_EXPECT_MAX)
		return NULL;
	struct gcp_expect_ent *x = &t->ents[idx - 1];

	return x->state != GCP_EXP_FREE && x->gen == (uint32_t)(h >> 32) ? x : NULL;
}

void gcp_expect_cancel(struct gcp_expect_table *t, uint64_t h)
{
	struct gcp_expect_ent *x = gcp_expect_get(t, h);

	if (x && x->state == GCP_EXP_PENDING)
		put_free(t, (uint32_t)(x - t->ents));
}

void gcp_expect_release(struct gcp_expect_table *t, uint64_t h)
{
	struct gcp_expect_ent *x = gcp_expect_get(t, h);

	if (x)
		put_free(t, (uint32_t)(x - t->ents));
}

/* Match a new flow as oriented, then reversed (midstream guess may be wrong). */
static struct gcp_expect_ent *match(struct gcp_expect_table *t, const struct gcp_flow *f)
{
	struct gcp_expect_ent *x;

	x = find(t, gcp_flow_cli(f), gcp_flow_srv(f), gcp_flow_sport(f), f->key.proto);
	if (!x)
		x = find(t, gcp_flow_srv(f), gcp_flow_cli(f), gcp_flow_cport(f), f->key.proto);
	if (x && x->ip_version != f->key.ip_version)
		x = NULL;
	return x;
}

void gcp_expect_on_new_flow(struct gcp_engine *e, struct gcp_flow *f, uint64_t now_ns)
{
	struct gcp_expect_table *t = e->exp;

	if (!t->live)
		return;
	struct gcp_expect_ent *x = match(t, f);

	if (!x)
		return;
	uint32_t idx = (uint32_t)(x - t->ents);

	if (x->expire_ns <= now_ns) {
		put_free(t, idx);
		t->st_expired++;
		return;
	}
	unhash(t, idx);
	x->state = GCP_EXP_BOUND;
	t->st_matched++;
	uint64_t h = handle_of(t, x);

	e->ctx.exp_taken = h;
	gcp_engine_app_attach(e, f, x->dis, now_ns);
	e->ctx.exp_taken = 0;
	if (!f->ap || f->ap->dis != x->dis)
		put_free(t, idx); /* not subscribed or no memory: nobody owns it */
}

/* ---- services for dissectors -------------------------------------------- */

uint64_t gcp_dctx_expect(struct gcp_dissect_ctx *ctx, const struct gcp_expect *x)
{
	struct gcp_engine *e = ctx->eng;

	if (!e->exp) {
		e->exp = gcp_expect_table_new();
		if (!e->exp)
			return 0;
	}
	return gcp_expect_add(e->exp, x, ctx->now);
}

void *gcp_dctx_expect_data(struct gcp_dissect_ctx *ctx, uint64_t h)
{
	struct gcp_expect_ent *x = gcp_expect_get(ctx->eng->exp, h);

	return x ? x->data : NULL;
}

void gcp_dctx_expect_cancel(struct gcp_dissect_ctx *ctx, uint64_t h)
{
	if (ctx->eng->exp)
		gcp_expect_cancel(ctx->eng->exp, h);
}

uint64_t gcp_dctx_expect_taken(const struct gcp_dissect_ctx *ctx)
{
	return ctx->exp_taken;
}

void gcp_dctx_expect_release(struct gcp_dissect_ctx *ctx, uint64_t h)
{
	if (ctx->eng->exp)
		gcp_expect_release(ctx->eng->exp, h);
}

bool gcp_dctx_fin_seen(const struct gcp_dissect_ctx *ctx, int dir)
{
	return ctx->flow->th[dir & 1].fin;
}
