/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Record builder: MessagePack with back-patched container headers.
 *
 * The top-level map reserves the widest header (5 bytes) and finish
 * writes the real one right-aligned against the body, so the record
 * starts 0-4 bytes into the buffer and nothing moves. A nested container
 * reserves one byte (fixmap/fixarray: what nearly all of them need) and
 * moves its body right only when it holds more than 15 elements.
 *
 * The size cap counts as the old builder did (which reserved 5 bytes for
 * every open container and compacted on close): the bytes written plus
 * 4 for each open nested container. A record is refused exactly when
 * that sum would pass GCP_RB_MAX_BYTES, so the same records get through.
 */
#include "record.h"

#include <stdlib.h>

/* Worst case header: map32/array32 = marker + be32 count. */
#define RB_HDR_MAX 5
/* What a nested container's 1-byte reserve leaves out of RB_HDR_MAX. */
#define RB_NEST_SLACK (RB_HDR_MAX - 1)
#define RB_ALLOC_MIN 8192u

int gcp_rb_init(struct gcp_rb *rb)
{
	memset(rb, 0, sizeof(*rb));
	return 0;
}

void gcp_rb_fini(struct gcp_rb *rb)
{
	free(rb->buf);
	free(rb->fixed.p);
	memset(rb, 0, sizeof(*rb));
}

/* Bytes the cap leaves for the buffer at the current depth. */
static uint32_t rb_cap_at(int depth)
{
	uint32_t nested = depth > 1 ? (uint32_t)(depth - 1) : 0;

	return GCP_RB_MAX_BYTES - RB_NEST_SLACK * nested;
}

static void rb_set_lim(struct gcp_rb *rb)
{
	uint32_t cap = rb_cap_at(rb->depth);

	rb->lim = rb->alloc < cap ? rb->alloc : cap;
}

/* Make the allocation hold at least need bytes (need <= GCP_RB_MAX_BYTES). */
static bool rb_alloc(struct gcp_rb *rb, size_t need)
{
	if (need <= rb->alloc)
		return true;
	size_t a = rb->alloc ? rb->alloc : RB_ALLOC_MIN;

	while (a < need)
		a *= 2;
	if (a > GCP_RB_MAX_BYTES)
		a = GCP_RB_MAX_BYTES;
	uint8_t *nb = realloc(rb->buf, a);

	if (!nb) {
		rb->err = 1;
		return false;
	}
	rb->buf = nb;
	rb->alloc = (uint32_t)a;
	rb_set_lim(rb);
	return true;
}

uint8_t *gcp_rb_grow_(struct gcp_rb *rb, size_t n)
{
	if (rb->err)
		return NULL;
	if (n > rb_cap_at(rb->depth) - rb->len) {
		rb->st_oversize++;
		rb->err = 1;
		return NULL;
	}
	if (!rb_alloc(rb, rb->len + n))
		return NULL;
	return rb->buf + rb->len;
}

void gcp_rb_hook_(struct gcp_rb *rb, const char *s, size_t len)
{
	if (rb->last_key && rb->depth == 1)
		rb->str_hook(rb->last_key, s, len, rb->hook_user);
}

static void rb_push(struct gcp_rb *rb, uint32_t off, bool is_map)
{
	rb->lv[rb->depth] = (struct gcp_rb_level){ off, 0, is_map };
	rb->top = &rb->lv[rb->depth++];
	rb_set_lim(rb);
}

void gcp_rb_reset(struct gcp_rb *rb)
{
	rb->len = 0;
	rb->depth = 0;
	rb->top = NULL;
	rb->err = 0;
	rb->last_key = NULL;
	rb_set_lim(rb);
	if (!gcp_rb_room_(rb, RB_HDR_MAX))
		return;
	rb->len = RB_HDR_MAX; /* the header goes in at finish */
	rb_push(rb, 0, true);
}

static void rb_open(struct gcp_rb *rb, bool is_map)
{
	if (rb->depth == GCP_RB_MAX_DEPTH) {
		rb->err = 1;
		return;
	}
	/* The old builder wrote a 5-byte header here: refuse as it did. */
	if ((size_t)rb->len + RB_HDR_MAX > rb_cap_at(rb->depth)) {
		rb->st_oversize++;
		rb->err = 1;
		return;
	}
	if (!rb_alloc(rb, (size_t)rb->len + 1))
		return;
	uint32_t off = rb->len;

	rb->buf[rb->len++] = is_map ? 0x80 : 0x90;
	rb_push(rb, off, is_map);
}

void gcp_rb_map_begin(struct gcp_rb *rb)
{
	if (gcp_rb_value_(rb))
		rb_open(rb, true);
}

void gcp_rb_array_begin(struct gcp_rb *rb)
{
	if (gcp_rb_value_(rb))
		rb_open(rb, false);
}

/* Write the canonical (shortest) header for n elements; returns its size. */
static size_t rb_put_hdr(uint8_t *p, bool is_map, uint32_t n)
{
	if (n <= 15) {
		p[0] = (uint8_t)((is_map ? 0x80 : 0x90) | n);
		return 1;
	}
	if (n <= 0xffff) {
		p[0] = is_map ? 0xde : 0xdc;
		gcp_rb_be16_(p + 1, n);
		return 3;
	}
	p[0] = is_map ? 0xdf : 0xdd;
	gcp_rb_be32_(p + 1, n);
	return 5;
}

static size_t rb_hdr_len(uint32_t n)
{
	return n <= 15 ? 1 : n <= 0xffff ? 3 : 5;
}

static void rb_pop(struct gcp_rb *rb)
{
	rb->depth--;
	rb->top = rb->depth ? &rb->lv[rb->depth - 1] : NULL;
	rb_set_lim(rb);
}

/*
 * Close the innermost (nested) container. Its body is the buffer tail
 * (inner containers are already closed), so moving the tail right for a
 * wider header touches no other open container's offset.
 */
static void rb_close(struct gcp_rb *rb)
{
	struct gcp_rb_level *lv = rb->top;
	size_t hlen = rb_hdr_len(lv->count);

	if (hlen > 1) {
		size_t body = rb->len - lv->hdr_off - 1;

		/* Fits the cap: the old builder's 5-byte reserve was counted. */
		if (!rb_alloc(rb, (size_t)rb->len + hlen - 1))
			return;
		uint8_t *hdr = rb->buf + lv->hdr_off;

		memmove(hdr + hlen, hdr + 1, body);
		rb->len += (uint32_t)(hlen - 1);
	}
	rb_put_hdr(rb->buf + lv->hdr_off, lv->is_map, lv->count);
	rb_pop(rb);
}

void gcp_rb_end(struct gcp_rb *rb)
{
	if (rb->err)
		return;
	/* The top-level map belongs to gcp_rb_finish, not to end. */
	if (rb->depth <= 1) {
		rb->err = 1;
		return;
	}
	rb_close(rb);
}

int gcp_rb_finish(struct gcp_rb *rb, const uint8_t **data, size_t *len)
{
	if (rb->err || rb->depth != 1) {
		rb->err = 1;
		return -1;
	}
	uint32_t count = rb->top->count;
	size_t hlen = rb_hdr_len(count);
	uint8_t *start = rb->buf + RB_HDR_MAX - hlen;

	rb_put_hdr(start, true, count);
	rb_pop(rb);
	*data = start;
	*len = rb->len - (RB_HDR_MAX - hlen);
	return 0;
}

/* Negative fixint, int8..int64 for v < -32, else the uint forms (msgpack_pack_int64). */
void gcp_rb_int(struct gcp_rb *rb, int64_t v)
{
	if (v >= 0)
		gcp_rb_uint(rb, (uint64_t)v);
	else
		gcp_rb_put_int_(rb, 0xd0, (uint64_t)v,
				v >= -32 ? 1 : v >= -128 ? 2 : v >= -32768 ? 3 : v >= INT32_MIN ? 5 : 9);
}

void gcp_rb_double(struct gcp_rb *rb, double v)
{
	uint8_t *p;
	uint64_t bits;

	if (!gcp_rb_value_(rb) || !(p = gcp_rb_room_(rb, 9)))
		return;
	memcpy(&bits, &v, sizeof(bits));
	p[0] = 0xcb;
	gcp_rb_be64_(p + 1, bits);
	rb->len += 9;
}

void gcp_rb_nil(struct gcp_rb *rb)
{
	uint8_t *p;

	if (!gcp_rb_value_(rb) || !(p = gcp_rb_room_(rb, 1)))
		return;
	p[0] = 0xc0;
	rb->len++;
}

/* bin8, bin16 or bin32 (msgpack_pack_bin_with_body). */
void gcp_rb_bin(struct gcp_rb *rb, const void *data, size_t n)
{
	size_t h = n < 256 ? 2 : n < 65536 ? 3 : 5;
	uint8_t *p;

	if (!gcp_rb_value_(rb) || !(p = gcp_rb_room_(rb, n > GCP_RB_MAX_BYTES ? SIZE_MAX : h + n)))
		return;
	if (n < 256) {
		p[0] = 0xc4;
		p[1] = (uint8_t)n;
	} else if (n < 65536) {
		p[0] = 0xc5;
		gcp_rb_be16_(p + 1, (uint32_t)n);
	} else {
		p[0] = 0xc6;
		gcp_rb_be32_(p + 1, (uint32_t)n);
	}
	if (n)
		memcpy(p + h, data, n);
	rb->len += (uint32_t)(h + n);
}

/*
 * Timestamp extension (type -1), the shortest form as
 * msgpack_pack_timestamp picks it: 32 bits of seconds when there are
 * no nanoseconds, 64 bits (30 ns + 34 s) below 2^34 s, else 96.
 */
void gcp_rb_ts(struct gcp_rb *rb, uint64_t ts_ns)
{
	uint64_t sec = ts_ns / 1000000000u;
	uint32_t nsec = (uint32_t)(ts_ns % 1000000000u);
	uint64_t d64 = (uint64_t)nsec << 34 | sec;
	size_t n = (sec >> 34) ? 15 : (d64 >> 32) ? 10 : 6;
	uint8_t *p;

	if (!gcp_rb_value_(rb) || !(p = gcp_rb_room_(rb, n)))
		return;
	if (n == 6) {
		p[0] = 0xd6;
		p[1] = 0xff;
		gcp_rb_be32_(p + 2, (uint32_t)d64);
	} else if (n == 10) {
		p[0] = 0xd7;
		p[1] = 0xff;
		gcp_rb_be64_(p + 2, d64);
	} else {
		p[0] = 0xc7;
		p[1] = 12;
		p[2] = 0xff;
		gcp_rb_be32_(p + 3, nsec);
		gcp_rb_be64_(p + 7, sec);
	}
	rb->len += (uint32_t)n;
}

void gcp_rb_str_pair(struct gcp_rb *rb, const char *a, size_t an, const char *b, size_t bn)
{
	uint8_t *p;

	if (!gcp_rb_value_(rb))
		return;
	if (rb->depth == GCP_RB_MAX_DEPTH) {
		rb->err = 1; /* as array_begin */
		return;
	}
	if (an > GCP_RB_MAX_BYTES || bn > GCP_RB_MAX_BYTES) {
		gcp_rb_grow_(rb, SIZE_MAX);
		return;
	}
	size_t need = 1 + gcp_rb_str_size_(an) + gcp_rb_str_size_(bn);

	/* The old builder held a 5-byte array header while the strings went in. */
	if (!(p = gcp_rb_room_(rb, need + RB_NEST_SLACK)))
		return;
	uint8_t *q = p;

	*q++ = 0x92;
	q += gcp_rb_str_hdr_(q, an);
	memcpy(q, an ? a : "", an);
	q += an;
	q += gcp_rb_str_hdr_(q, bn);
	memcpy(q, bn ? b : "", bn);
	rb->len += (uint32_t)need;
}

/* ---- runs of pairs ---------------------------------------------------------- */

struct gcp_rb_mark gcp_rb_mark(const struct gcp_rb *rb)
{
	struct gcp_rb_mark m = { rb->len, rb->top ? rb->top->count : 0 };

	return m;
}

bool gcp_rb_save_run(struct gcp_rb *rb, struct gcp_rb_mark m, struct gcp_rb_run *run)
{
	if (rb->err || rb->depth != 1 || rb->len < m.len || rb->top->count < m.count)
		return false;
	uint32_t n = rb->len - m.len;
	uint8_t *p = malloc(n ? n : 1);

	if (!p)
		return false;
	memcpy(p, rb->buf + m.len, n);
	free(run->p);
	run->p = p;
	run->len = n;
	run->pairs = rb->top->count - m.count;
	return true;
}

void gcp_rb_put_run(struct gcp_rb *rb, const struct gcp_rb_run *run)
{
	uint8_t *p;

	if (rb->err)
		return;
	if (rb->depth != 1) {
		rb->err = 1; /* runs are top-level pairs */
		return;
	}
	if (!(p = gcp_rb_room_(rb, run->len)))
		return;
	memcpy(p, run->p, run->len);
	rb->len += run->len;
	rb->top->count += run->pairs;
	rb->last_key = NULL;
}
