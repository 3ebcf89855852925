/* SPDX-License-Identifier: BSD-3-Clause */
/* Size-class pool with free lists (see mempool.h). */
#include "mempool.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct free_block {
	struct free_block *next;
};

static int size_class(size_t size)
{
	int shift = GCP_POOL_MIN_SHIFT;

	while (((size_t)1 << shift) < size)
		shift++;
	return shift > GCP_POOL_MAX_SHIFT ? -1 : shift - GCP_POOL_MIN_SHIFT;
}

void gcp_pool_init(struct gcp_pool *p, uint64_t limit)
{
	memset(p, 0, sizeof(*p));
	p->limit = limit;
}

void gcp_pool_fini(struct gcp_pool *p)
{
	for (int c = 0; c < GCP_POOL_CLASSES; c++) {
		struct free_block *b = p->free[c];

		while (b) {
			struct free_block *next = b->next;

			free(b);
			b = next;
		}
		p->free[c] = NULL;
	}
	p->reserved = 0;
}

/*
 * Room for a new csize block under the limit: cached blocks of other
 * classes go back to malloc, largest first. Without this, memory
 * cached in one class after a burst could never serve another, and
 * reserved would grow to the limit once per class.
 */
static bool make_room(struct gcp_pool *p, size_t csize)
{
	for (int c = GCP_POOL_CLASSES - 1; c >= 0 && p->reserved + csize > p->limit; c--) {
		while (p->free[c] && p->reserved + csize > p->limit) {
			struct free_block *b = p->free[c];

			p->free[c] = b->next;
			free(b);
			p->reserved -= (size_t)1 << (c + GCP_POOL_MIN_SHIFT);
		}
	}
	return p->reserved + csize <= p->limit;
}

void *gcp_pool_alloc(struct gcp_pool *p, size_t size)
{
	int c = size ? size_class(size) : -1;

	if (c < 0) {
		p->fails++;
		return NULL;
	}
	size_t csize = (size_t)1 << (c + GCP_POOL_MIN_SHIFT);
	struct free_block *b = p->free[c];

	if (b) {
		p->free[c] = b->next;
	} else {
		/* Only at the cap with this class empty: free() then runs on
		 * the packet path, as malloc() does during warm-up. */
		if (p->limit && !make_room(p, csize)) {
			p->fails++;
			return NULL;
		}
		b = malloc(csize);
		if (!b) {
			p->fails++;
			return NULL;
		}
		p->reserved += csize;
	}
	p->used += csize;
	return b;
}

void *gcp_pool_zalloc(struct gcp_pool *p, size_t size)
{
	void *v = gcp_pool_alloc(p, size);

	if (v)
		memset(v, 0, size);
	return v;
}

void gcp_pool_free(struct gcp_pool *p, void *ptr, size_t size)
{
	if (!ptr)
		return;
	int c = size_class(size);
	struct free_block *b = ptr;

	b->next = p->free[c];
	p->free[c] = b;
	p->used -= (size_t)1 << (c + GCP_POOL_MIN_SHIFT);
}
