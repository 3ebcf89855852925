/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-engine size-class pool: blocks are recycled through free lists,
 * so after warm-up the packet path does not call malloc. The limit caps
 * everything the pool holds from malloc (blocks in use and cached), so
 * the pool's memory is at most limit plus malloc's per-block header
 * (16 B: at most 1/4 on the smallest class, see GCP_POOL_OVERHEAD). */
#ifndef GCP_MEMPOOL_H
#define GCP_MEMPOOL_H

#include <stddef.h>
#include <stdint.h>

#define GCP_POOL_MIN_SHIFT 6   /* 64 B */
#define GCP_POOL_MAX_SHIFT 17  /* 128 KiB; larger requests fail */
#define GCP_POOL_CLASSES (GCP_POOL_MAX_SHIFT - GCP_POOL_MIN_SHIFT + 1)
/* Worst-case heap bytes per reserved byte, as a fraction: (64 + 16) / 64. */
#define GCP_POOL_OVERHEAD_NUM 5
#define GCP_POOL_OVERHEAD_DEN 4

struct gcp_pool {
	void *free[GCP_POOL_CLASSES];
	uint64_t limit;       /* max bytes reserved, cached blocks included (0: none) */
	uint64_t used;        /* bytes outstanding */
	uint64_t reserved;    /* bytes obtained from malloc, kept for reuse */
	uint64_t fails;       /* requests refused (limit or no memory) */
};

void gcp_pool_init(struct gcp_pool *p, uint64_t limit);
/* Frees every cached block; outstanding blocks must be freed first. */
void gcp_pool_fini(struct gcp_pool *p);
/* Returns NULL when size is 0, too large, over the limit, or OOM. */
void *gcp_pool_alloc(struct gcp_pool *p, size_t size);
/* size must be the size given to gcp_pool_alloc. NULL is a no-op. */
void gcp_pool_free(struct gcp_pool *p, void *ptr, size_t size);
/* Zeroed allocation. */
void *gcp_pool_zalloc(struct gcp_pool *p, size_t size);

#endif /* GCP_MEMPOOL_H */
