/* SPDX-License-Identifier: BSD-3-Clause */
/* Bounded TCP stream reassembly: in-order data is handed on without a
 * copy; out-of-order data is copied into per-direction segment lists
 * under a per-flow and a per-engine byte budget. When a budget is hit
 * or the stream ends with a hole, the hole becomes a gap (missed bytes)
 * and delivery resumes after it (Retina's bounded OOO buffer). */
#ifndef GCP_REASM_H
#define GCP_REASM_H

#include <stdbool.h>
#include <stdint.h>

#include "mempool.h"

struct gcp_reasm_seg; /* private to reasm.c */

/* Most segments held per direction: bounds list walks and per-segment
 * overhead when a peer sends thousands of tiny out-of-order segments.
 * 512 full-size segments are 3x the default per-flow budget; 1024 let
 * a peer filling holes at random make each segment walk 1024 nodes
 * (2x the CPU per packet of normal traffic in attack_e2e). */
#define GCP_REASM_MAX_SEGS 512
/* Largest piece copied into one held segment (pool blocks are 128 KiB). */
#define GCP_REASM_SEG_MAX 65536u
/* Data further ahead than this is not buffered: the hole before it is
 * declared a gap. 2^30 is the largest window RFC 7323 allows. */
#define GCP_REASM_MAX_AHEAD (1u << 30)

/* State of one direction of one connection (embedded in the flow). */
struct gcp_reasm_dir {
	uint32_t next_seq;   /* next in-order sequence number expected */
	uint32_t ooo_bytes;  /* bytes held in segs */
	struct gcp_reasm_seg *segs; /* sorted by seq, non-overlapping */
	struct gcp_reasm_seg *tail; /* last of segs (NULL when empty) */
	uint64_t delivered;  /* in-order bytes handed on */
	uint64_t missed;     /* bytes skipped over as gaps */
	uint32_t nsegs;      /* segments in segs (<= GCP_REASM_MAX_SEGS) */
	bool init;           /* next_seq is known */
	bool fin;            /* FIN seen in this direction */
	uint32_t fin_seq;
};

/* Per-engine reassembly context and counters. */
struct gcp_reasm {
	struct gcp_pool *pool;      /* segment memory */
	uint32_t flow_budget;       /* max ooo_bytes per direction */
	uint64_t total_budget;      /* max bytes held across the engine */
	uint64_t total_used;
	uint64_t st_ooo_bytes;      /* bytes ever buffered out of order */
	uint64_t st_limit_hits;     /* budget hits that forced a gap */
	uint64_t st_missed_bytes;   /* total gap bytes */
};

/*
 * Delivery callback: data != NULL: len in-order bytes; data == NULL: a
 * gap of len bytes (the dissector must resynchronise or give up).
 */
typedef void (*gcp_reasm_deliver_fn)(void *ctx, const uint8_t *data, uint32_t len);

/* What a segment turned out to be, for the flow's tcp counters. */
struct gcp_reasm_seg_info {
	bool retrans;       /* every byte was already delivered or held */
	bool out_of_order;  /* arrived ahead of a hole */
};

void gcp_reasm_init(struct gcp_reasm *r, struct gcp_pool *pool,
		    uint32_t flow_budget, uint64_t total_budget);

/*
 * Offer one segment of one direction. seq is the sequence number of the
 * first payload byte (SYN already accounted for by the caller: for a
 * SYN carrying data, pass seq + 1). syn: this segment had SYN set (sets
 * the initial sequence when not yet known). fin: FIN set.
 */
void gcp_reasm_segment(struct gcp_reasm *r, struct gcp_reasm_dir *d, uint32_t seq,
		       const uint8_t *data, uint32_t len, bool fin,
		       gcp_reasm_deliver_fn fn, void *ctx, struct gcp_reasm_seg_info *info);

/* Set the expected next sequence number (from a SYN: isn + 1). */
void gcp_reasm_set_isn(struct gcp_reasm_dir *d, uint32_t next_seq);

/* Stream end: deliver held segments in order, gaps between them. */
void gcp_reasm_flush(struct gcp_reasm *r, struct gcp_reasm_dir *d,
		     gcp_reasm_deliver_fn fn, void *ctx);

/* Drop held segments without delivering (flow freed). */
void gcp_reasm_release(struct gcp_reasm *r, struct gcp_reasm_dir *d);

/* True once every byte up to the FIN has been delivered or skipped. */
static inline bool gcp_reasm_complete(const struct gcp_reasm_dir *d)
{
	return d->fin && (int32_t)(d->next_seq - d->fin_seq) >= 0;
}

#endif /* GCP_REASM_H */
