/* SPDX-License-Identifier: BSD-3-Clause */
/* Bounded TCP stream reassembly: zero-copy in-order delivery, pooled
 * out-of-order segments, gaps on overflow (see reasm.h).
 *
 * Policies:
 * - Overlaps: first received wins. Bytes already delivered or held are
 *   never replaced by a later segment, which only fills the holes (the
 *   BSD/Linux behaviour; Suricata's "first" policy). A segment adding
 *   nothing is a retransmission.
 * - Budgets: a piece that would push the direction over flow_budget,
 *   the engine over total_budget, or the direction over
 *   GCP_REASM_MAX_SEGS segments, or that the pool refuses, forces a gap:
 *   the first hole is skipped and the data after it delivered, until the
 *   piece fits or becomes in order. Each forced gap is one limit hit.
 * - Sequence space: comparisons are mod 2^32 (RFC 9293 3.4). Data more
 *   than GCP_REASM_MAX_AHEAD ahead forces gaps up to it (the sender can
 *   not legally be that far ahead, so the probe lost data or sync);
 *   data more than 2^31 ahead reads as old and is a retransmission.
 * - FIN: the first FIN fixes the stream end (fin_seq). Later data past
 *   it is dropped: no data follows FIN (RFC 9293 3.10.7.4).
 */
#include "reasm.h"

#include <string.h>

struct gcp_reasm_seg {
	uint32_t seq;
	uint32_t len;
	struct gcp_reasm_seg *next;
	uint8_t data[];
};

/* Signed distance a - b in sequence space (RFC 9293 3.4). */
static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) < 0;
}

static inline bool seq_le(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) <= 0;
}

void gcp_reasm_init(struct gcp_reasm *r, struct gcp_pool *pool,
		    uint32_t flow_budget, uint64_t total_budget)
{
	memset(r, 0, sizeof(*r));
	r->pool = pool;
	r->flow_budget = flow_budget;
	r->total_budget = total_budget;
}

void gcp_reasm_set_isn(struct gcp_reasm_dir *d, uint32_t next_seq)
{
	d->next_seq = next_seq;
	d->init = true;
}

static void deliver_data(struct gcp_reasm_dir *d, gcp_reasm_deliver_fn fn, void *ctx,
			 const uint8_t *data, uint32_t len)
{
	fn(ctx, data, len);
	d->next_seq += len;
	d->delivered += len;
}

static void deliver_gap(struct gcp_reasm *r, struct gcp_reasm_dir *d,
			gcp_reasm_deliver_fn fn, void *ctx, uint32_t len)
{
	if (len == 0)
		return;
	fn(ctx, NULL, len);
	d->next_seq += len;
	d->missed += len;
	r->st_missed_bytes += len;
}

static bool can_hold(const struct gcp_reasm *r, const struct gcp_reasm_dir *d, uint32_t len)
{
	return d->nsegs < GCP_REASM_MAX_SEGS &&
	       (uint64_t)d->ooo_bytes + len <= r->flow_budget &&
	       r->total_used + len <= r->total_budget;
}

/* Copy len bytes into a new pooled segment; NULL over budget or OOM. */
static struct gcp_reasm_seg *seg_new(struct gcp_reasm *r, struct gcp_reasm_dir *d,
				     uint32_t seq, const uint8_t *data, uint32_t len)
{
	struct gcp_reasm_seg *s;

	if (!can_hold(r, d, len))
		return NULL;
	s = gcp_pool_alloc(r->pool, sizeof(*s) + len);
	if (!s)
		return NULL;
	s->seq = seq;
	s->len = len;
	s->next = NULL;
	memcpy(s->data, data, len);
	d->ooo_bytes += len;
	d->nsegs++;
	r->total_used += len;
	r->st_ooo_bytes += len;
	return s;
}

static void seg_free(struct gcp_reasm *r, struct gcp_reasm_dir *d, struct gcp_reasm_seg *s)
{
	d->ooo_bytes -= s->len;
	d->nsegs--;
	r->total_used -= s->len;
	gcp_pool_free(r->pool, s, sizeof(*s) + s->len);
}

/* Deliver and free held segments that next_seq has reached. */
static void drain(struct gcp_reasm *r, struct gcp_reasm_dir *d,
		  gcp_reasm_deliver_fn fn, void *ctx)
{
	struct gcp_reasm_seg *s;

	while ((s = d->segs) && seq_le(s->seq, d->next_seq)) {
		uint32_t skip = d->next_seq - s->seq;

		if (skip < s->len)
			deliver_data(d, fn, ctx, s->data + skip, s->len - skip);
		d->segs = s->next;
		if (!d->segs)
			d->tail = NULL;
		seg_free(r, d, s);
	}
}

/*
 * Skip the first hole: gap from next_seq up to the first held segment
 * or to cur (the data that did not fit), whichever comes first, then
 * deliver what became contiguous. Frees memory or makes cur in order.
 */
static void force_gap(struct gcp_reasm *r, struct gcp_reasm_dir *d,
		      gcp_reasm_deliver_fn fn, void *ctx, uint32_t cur)
{
	uint32_t to = cur;

	if (d->segs && seq_lt(d->segs->seq, to))
		to = d->segs->seq;
	r->st_limit_hits++;
	deliver_gap(r, d, fn, ctx, to - d->next_seq);
	drain(r, d, fn, ctx);
}

/*
 * next_seq lies in [cur, end): hand on the caller's bytes from next_seq
 * up to the first held segment (held data wins an overlap), then what
 * became contiguous. Returns the bytes taken from the caller's buffer.
 */
static uint32_t deliver_inorder(struct gcp_reasm *r, struct gcp_reasm_dir *d,
				gcp_reasm_deliver_fn fn, void *ctx,
				uint32_t seq, const uint8_t *data, uint32_t end)
{
	uint32_t from, stop;

	drain(r, d, fn, ctx); /* segments behind next_seq after set_isn */
	from = d->next_seq;
	if (seq_le(end, from))
		return 0;
	stop = end;
	if (d->segs && seq_lt(d->segs->seq, stop))
		stop = d->segs->seq;
	deliver_data(d, fn, ctx, data + (from - seq), stop - from);
	drain(r, d, fn, ctx);
	return stop - from;
}

/*
 * Copy the parts of [*cur, end) not yet held into new segments, in one
 * walk of the sorted list. Stops early (with *cur at the piece that did
 * not fit) when a budget or the pool refuses. Returns bytes copied.
 */
static uint32_t hold_range(struct gcp_reasm *r, struct gcp_reasm_dir *d,
			   uint32_t seq, const uint8_t *data, uint32_t *cur, uint32_t end)
{
	struct gcp_reasm_seg **link = &d->segs;
	uint32_t held = 0;

	/* Data past everything held (how a sender runs ahead of a hole)
	 * appends at the tail: no walk of up to GCP_REASM_MAX_SEGS nodes. */
	if (d->tail && seq_le(d->tail->seq + d->tail->len, *cur))
		link = &d->tail->next;
	while (seq_lt(*cur, end)) {
		struct gcp_reasm_seg *s = *link;
		struct gcp_reasm_seg *n;
		uint32_t stop = end;

		if (s && seq_le(s->seq, *cur)) {
			/* Held data before or over cur: first received wins. */
			if (seq_lt(*cur, s->seq + s->len))
				*cur = s->seq + s->len;
			link = &s->next;
			continue;
		}
		if (s && seq_lt(s->seq, stop))
			stop = s->seq;
		if (stop - *cur > GCP_REASM_SEG_MAX)
			stop = *cur + GCP_REASM_SEG_MAX;
		n = seg_new(r, d, *cur, data + (*cur - seq), stop - *cur);
		if (!n)
			break;
		n->next = s;
		*link = n;
		link = &n->next;
		if (!s)
			d->tail = n;
		held += stop - *cur;
		*cur = stop;
	}
	return held;
}

void gcp_reasm_segment(struct gcp_reasm *r, struct gcp_reasm_dir *d, uint32_t seq,
		       const uint8_t *data, uint32_t len, bool fin,
		       gcp_reasm_deliver_fn fn, void *ctx, struct gcp_reasm_seg_info *info)
{
	struct gcp_reasm_seg_info dummy;
	uint32_t cur = seq, end, fresh = 0;
	bool ahead;

	if (!info)
		info = &dummy;
	info->retrans = false;
	info->out_of_order = false;
	if (!d->init)
		gcp_reasm_set_isn(d, seq); /* midstream pickup */
	/* Beyond any real segment (even GRO'd); keeps seq_lt meaningful. */
	if (len > GCP_REASM_MAX_AHEAD)
		len = GCP_REASM_MAX_AHEAD;
	end = seq + len;
	if (fin && !d->fin) {
		d->fin = true;
		d->fin_seq = end;
	}
	if (d->fin && seq_lt(d->fin_seq, end))
		end = seq_lt(seq, d->fin_seq) ? d->fin_seq : seq;
	if (end == seq)
		return; /* no payload (or all past FIN): neither flag */
	if (seq == d->next_seq && !d->segs) {
		/* The common case: exactly the next bytes, nothing held. */
		deliver_data(d, fn, ctx, data, end - seq);
		return;
	}
	ahead = seq_lt(d->next_seq, seq);
	while (seq_lt(cur, end)) {
		if (seq_le(cur, d->next_seq)) {
			fresh += deliver_inorder(r, d, fn, ctx, seq, data, end);
			cur = d->next_seq;
		} else if ((uint32_t)seq_diff(cur, d->next_seq) > GCP_REASM_MAX_AHEAD) {
			force_gap(r, d, fn, ctx, cur);
		} else {
			fresh += hold_range(r, d, seq, data, &cur, end);
			if (seq_lt(cur, end))
				force_gap(r, d, fn, ctx, cur);
		}
	}
	info->retrans = fresh == 0;
	info->out_of_order = ahead && fresh != 0;
}

void gcp_reasm_flush(struct gcp_reasm *r, struct gcp_reasm_dir *d,
		     gcp_reasm_deliver_fn fn, void *ctx)
{
	while (d->segs) {
		if (seq_lt(d->next_seq, d->segs->seq))
			deliver_gap(r, d, fn, ctx, d->segs->seq - d->next_seq);
		drain(r, d, fn, ctx);
	}
	/* A hole before a known FIN is missing data too. */
	if (d->fin && seq_lt(d->next_seq, d->fin_seq) &&
	    d->fin_seq - d->next_seq <= GCP_REASM_MAX_AHEAD)
		deliver_gap(r, d, fn, ctx, d->fin_seq - d->next_seq);
}

void gcp_reasm_release(struct gcp_reasm *r, struct gcp_reasm_dir *d)
{
	struct gcp_reasm_seg *s;

	while ((s = d->segs)) {
		d->segs = s->next;
		seg_free(r, d, s);
	}
	d->tail = NULL;
}
