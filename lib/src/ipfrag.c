/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4/IPv6 fragment reassembly in preallocated, bounded tables. */

#include <stdlib.h>
#include <string.h>

#include "decode.h"

/*
 * Memory model (everything is allocated in gcp_frag_create):
 *
 * - max_datagrams slots, each the key of one datagram under
 *   reassembly plus the indexes of the blocks holding its data;
 * - a block pool of 2 * max_datagrams blocks (at least FRAG_NBLK, so
 *   that one 64 KiB datagram always fits). A block holds 2 KiB of
 *   datagram data and a bitmap of the 8-byte units it has received.
 *   Block k of a datagram holds bytes [k * 2048, (k + 1) * 2048), so
 *   fragments may arrive in any order and overlap checks are per unit;
 * - one 64 KiB output buffer the completed datagram is copied into,
 *   valid until the next gcp_frag_offer call.
 *
 * With the default 1024 datagrams that is about 4.2 MiB of blocks.
 * Fragment offsets are multiples of 8 (RFC 791, RFC 8200 section 4.5)
 * and so are the lengths of all fragments but the last; anything else
 * is dropped.
 *
 * Policy:
 * - overlapping data: first fragment wins. Bytes already held are
 *   kept, the new copy of them is ignored and the fragment is counted
 *   in frags_overlap; a fragment that adds nothing (a duplicate) is
 *   also counted in frags_dropped. A passive monitor cannot know which
 *   copy the receiver kept (RFC 5722 tells IPv6 hosts to drop the whole
 *   datagram; a probe that did so would lose traffic the host may well
 *   have accepted), so we keep what we saw first.
 * - a datagram's fragments must agree on its end: a second "last"
 *   fragment with another end, or data past the end, is dropped.
 * - a full table, or an empty block pool, drops the new fragment (a
 *   datagram that runs out of blocks half way is dropped whole);
 *   existing datagrams stay until they complete or time out.
 * - timeout counts from the datagram's first fragment (RFC 791 uses a
 *   timer started by the first fragment; RFC 8200 says 60 s max).
 * - IPv4 datagrams are keyed by (src, dst, id, protocol) as RFC 791
 *   says; IPv6 by (src, dst, id) plus the Fragment header's next header
 *   as well: RFC 8200 allows it to differ between fragments, no stack
 *   sends that, and such fragments simply never complete here.
 * Every fragment that is not part of a completed datagram is counted
 * once in frags_dropped: at drop time, on timeout, or on eviction.
 */

#define FRAG_UNIT 8u
#define FRAG_BLOCK 2048u
#define FRAG_MAX_LEN 65535u
#define FRAG_NBLK ((FRAG_MAX_LEN + FRAG_BLOCK) / FRAG_BLOCK)
#define FRAG_DEFAULT_DGRAMS 1024u
#define FRAG_MAX_DGRAMS (1u << 20)
#define FRAG_DEFAULT_TIMEOUT_S 30u
#define NIL UINT32_MAX

struct frag_key {
	uint8_t ver;
	uint8_t proto;
	uint8_t pad[2];
	uint32_t id;
	uint8_t src[16];
	uint8_t dst[16];
};

struct frag_block {
	uint8_t data[FRAG_BLOCK];
	uint8_t have[FRAG_BLOCK / FRAG_UNIT / 8];
};

struct frag_slot {
	struct frag_key key;
	uint64_t ts_first;
	uint32_t hnext;       /* hash chain, or free list */
	uint32_t prev, next;  /* age list, oldest first */
	uint32_t total;       /* datagram length; 0 until the last fragment */
	uint32_t maxend;      /* highest end offset held */
	uint32_t units;       /* 8-byte units held */
	uint32_t nfrags;      /* fragments that added data */
	uint32_t blk[FRAG_NBLK];
};

struct gcp_frag_table {
	struct frag_slot *slots;
	uint32_t nslots;
	uint32_t *bucket;
	uint32_t bmask;
	uint32_t free_slot;
	uint32_t oldest, newest;
	struct frag_block *blocks;
	uint32_t *blk_free;   /* stack of free block indexes */
	uint32_t nblk_free;
	uint64_t timeout_ns;
	uint8_t out[FRAG_MAX_LEN];
};

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/* Heap bytes gcp_frag_create() takes for max_datagrams (0: default). */
uint64_t gcp_frag_mem(uint32_t max_datagrams)
{
	uint64_t n = max_datagrams ? max_datagrams : FRAG_DEFAULT_DGRAMS;
	uint64_t nblk = n * 2 < FRAG_NBLK ? FRAG_NBLK : n * 2;

	return sizeof(struct gcp_frag_table) + n * sizeof(struct frag_slot) +
	       pow2_at_least((uint32_t)(n * 2)) * sizeof(uint32_t) +
	       nblk * (sizeof(struct frag_block) + sizeof(uint32_t));
}

struct gcp_frag_table *gcp_frag_create(uint32_t max_datagrams, uint32_t timeout_s)
{
	struct gcp_frag_table *t;
	uint32_t n = max_datagrams ? max_datagrams : FRAG_DEFAULT_DGRAMS;
	uint32_t nblk, i;

	if (n > FRAG_MAX_DGRAMS)
		return NULL;
	nblk = n * 2 < FRAG_NBLK ? FRAG_NBLK : n * 2;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->nslots = n;
	t->bmask = pow2_at_least(n * 2) - 1;
	t->slots = calloc(n, sizeof(*t->slots));
	t->bucket = malloc(((size_t)t->bmask + 1) * sizeof(*t->bucket));
	t->blocks = malloc((size_t)nblk * sizeof(*t->blocks));
	t->blk_free = malloc((size_t)nblk * sizeof(*t->blk_free));
	if (!t->slots || !t->bucket || !t->blocks || !t->blk_free) {
		gcp_frag_destroy(t);
		return NULL;
	}
	memset(t->bucket, 0xff, ((size_t)t->bmask + 1) * sizeof(*t->bucket));
	for (i = 0; i < n; i++)
		t->slots[i].hnext = i + 1 < n ? i + 1 : NIL;
	for (i = 0; i < nblk; i++)
		t->blk_free[i] = nblk - 1 - i;
	t->nblk_free = nblk;
	t->free_slot = 0;
	t->oldest = t->newest = NIL;
	t->timeout_ns = (uint64_t)(timeout_s ? timeout_s : FRAG_DEFAULT_TIMEOUT_S) *
			1000000000ull;
	return t;
}

void gcp_frag_destroy(struct gcp_frag_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->bucket);
	free(t->blocks);
	free(t->blk_free);
	free(t);
}

static uint64_t mix(uint64_t h, const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	h = (h ^ w) * 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

static uint32_t key_hash(const struct frag_key *k)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ k->id ^ (uint64_t)k->proto << 32;

	h = mix(mix(h, k->src), k->src + 8);
	h = mix(mix(h, k->dst), k->dst + 8);
	return (uint32_t)h;
}

static uint32_t slot_find(const struct gcp_frag_table *t, const struct frag_key *k,
			  uint32_t h)
{
	uint32_t i = t->bucket[h & t->bmask];

	while (i != NIL && memcmp(&t->slots[i].key, k, sizeof(*k)) != 0)
		i = t->slots[i].hnext;
	return i;
}

static void hash_unlink(struct gcp_frag_table *t, uint32_t idx)
{
	uint32_t *pp = &t->bucket[key_hash(&t->slots[idx].key) & t->bmask];

	while (*pp != NIL && *pp != idx)
		pp = &t->slots[*pp].hnext;
	if (*pp == idx)
		*pp = t->slots[idx].hnext;
}

static void age_unlink(struct gcp_frag_table *t, uint32_t idx)
{
	struct frag_slot *s = &t->slots[idx];

	if (s->prev != NIL)
		t->slots[s->prev].next = s->next;
	else
		t->oldest = s->next;
	if (s->next != NIL)
		t->slots[s->next].prev = s->prev;
	else
		t->newest = s->prev;
}

/* Return a slot and its blocks to the free lists. */
static void slot_release(struct gcp_frag_table *t, uint32_t idx)
{
	struct frag_slot *s = &t->slots[idx];
	uint32_t i;

	for (i = 0; i < FRAG_NBLK; i++) {
		if (s->blk[i] != NIL)
			t->blk_free[t->nblk_free++] = s->blk[i];
	}
	hash_unlink(t, idx);
	age_unlink(t, idx);
	s->hnext = t->free_slot;
	t->free_slot = idx;
}

/* Drop an incomplete datagram, counting the fragments it held. */
static void slot_drop(struct gcp_frag_table *t, uint32_t idx, struct gcp_decode_stats *st)
{
	st->frags_dropped += t->slots[idx].nfrags;
	slot_release(t, idx);
}

static uint32_t slot_new(struct gcp_frag_table *t, const struct frag_key *k,
			 uint32_t h, uint64_t ts)
{
	uint32_t idx = t->free_slot, i;
	struct frag_slot *s;

	if (idx == NIL)
		return NIL;
	s = &t->slots[idx];
	t->free_slot = s->hnext;
	memset(s, 0, sizeof(*s));
	s->key = *k;
	s->ts_first = ts;
	for (i = 0; i < FRAG_NBLK; i++)
		s->blk[i] = NIL;
	s->hnext = t->bucket[h & t->bmask];
	t->bucket[h & t->bmask] = idx;
	s->next = NIL;
	s->prev = t->newest;
	if (t->newest != NIL)
		t->slots[t->newest].next = idx;
	else
		t->oldest = idx;
	t->newest = idx;
	return idx;
}

void gcp_frag_expire(struct gcp_frag_table *t, uint64_t now_ns, struct gcp_decode_stats *st)
{
	while (t->oldest != NIL) {
		const struct frag_slot *s = &t->slots[t->oldest];

		if (now_ns <= s->ts_first || now_ns - s->ts_first <= t->timeout_ns)
			break;
		slot_drop(t, t->oldest, st);
	}
}

/* A fragment must fit the datagram and agree with what is known of its end. */
static int frag_fits(const struct frag_slot *s, uint32_t end, bool more)
{
	if (s->total && end > s->total)
		return 0;
	if (!more && s->total && end != s->total)
		return 0;
	if (!more && end < s->maxend)
		return 0;
	return 1;
}

/*
 * Copy the units of [off, end) the datagram does not hold yet (first
 * wins). Returns the units added, or -1 when the block pool ran dry.
 */
static int frag_store(struct gcp_frag_table *t, struct frag_slot *s, uint32_t off,
		      uint32_t end, const uint8_t *data, int *overlap)
{
	int added = 0;
	uint32_t u;

	for (u = off; u < end; u += FRAG_UNIT) {
		uint32_t k = u / FRAG_BLOCK, bit = (u % FRAG_BLOCK) / FRAG_UNIT;
		uint32_t n = end - u < FRAG_UNIT ? end - u : FRAG_UNIT;
		struct frag_block *b;

		if (s->blk[k] == NIL) {
			if (t->nblk_free == 0)
				return -1;
			s->blk[k] = t->blk_free[--t->nblk_free];
			memset(t->blocks[s->blk[k]].have, 0, sizeof(b->have));
		}
		b = &t->blocks[s->blk[k]];
		if (b->have[bit / 8] & (1u << (bit % 8))) {
			*overlap = 1;
			continue;
		}
		memcpy(b->data + u % FRAG_BLOCK, data + (u - off), n);
		b->have[bit / 8] |= (uint8_t)(1u << (bit % 8));
		s->units++;
		added++;
	}
	return added;
}

/* Copy a complete datagram into the output buffer and free its slot. */
static uint32_t frag_assemble(struct gcp_frag_table *t, uint32_t idx)
{
	const struct frag_slot *s = &t->slots[idx];
	uint32_t total = s->total, k;

	for (k = 0; k * FRAG_BLOCK < total; k++) {
		uint32_t n = total - k * FRAG_BLOCK;

		if (n > FRAG_BLOCK)
			n = FRAG_BLOCK;
		memcpy(t->out + k * FRAG_BLOCK, t->blocks[s->blk[k]].data, n);
	}
	slot_release(t, idx);
	return total;
}

static void frag_make_key(struct frag_key *k, const struct gcp_frag_in *f)
{
	memset(k, 0, sizeof(*k));
	k->ver = f->ip_version;
	k->proto = f->proto;
	k->id = f->id;
	memcpy(k->src, f->src.b, 16);
	memcpy(k->dst, f->dst.b, 16);
}

/* Find or create the datagram's slot; NIL when the table is full. */
static uint32_t frag_slot_get(struct gcp_frag_table *t, const struct gcp_frag_in *f)
{
	struct frag_key k;
	uint32_t h, idx;

	frag_make_key(&k, f);
	h = key_hash(&k);
	idx = slot_find(t, &k, h);
	if (idx == NIL)
		idx = slot_new(t, &k, h, f->ts_ns);
	return idx;
}

static int frag_valid(const struct gcp_frag_in *f)
{
	uint64_t end = (uint64_t)f->offset + f->len;

	if (f->len == 0 || end > FRAG_MAX_LEN || f->offset % FRAG_UNIT)
		return 0;
	if (f->more && f->len % FRAG_UNIT)
		return 0;
	return f->ip_version == 4 || f->ip_version == 6;
}

int gcp_frag_offer(struct gcp_frag_table *t, const struct gcp_frag_in *f,
		   const uint8_t **dgram, uint32_t *len, struct gcp_decode_stats *st)
{
	uint32_t idx, end = f->offset + f->len;
	struct frag_slot *s;
	int overlap = 0, added;

	gcp_frag_expire(t, f->ts_ns, st);
	if (!frag_valid(f) || (idx = frag_slot_get(t, f)) == NIL)
		goto drop;
	s = &t->slots[idx];
	if (!frag_fits(s, end, f->more))
		goto drop_maybe_empty;
	added = frag_store(t, s, f->offset, end, f->data, &overlap);
	if (added < 0) {
		slot_drop(t, idx, st);
		goto drop;
	}
	st->frags_overlap += (uint64_t)overlap;
	if (added == 0)
		goto drop_maybe_empty;
	s->nfrags++;
	if (end > s->maxend)
		s->maxend = end;
	if (!f->more)
		s->total = end;
	if (!s->total || s->units != (s->total + FRAG_UNIT - 1) / FRAG_UNIT)
		return 0;
	*len = frag_assemble(t, idx);
	*dgram = t->out;
	st->frags_reassembled++;
	return 1;

drop_maybe_empty:
	/* A slot created for a fragment that added nothing is not kept. */
	if (s->nfrags == 0)
		slot_release(t, idx);
drop:
	st->frags_dropped++;
	return -1;
}
