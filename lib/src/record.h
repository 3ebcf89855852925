/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Record builder: writes MessagePack straight into one buffer, with maps
 * and arrays whose element counts are patched when the container closes,
 * so producers never count keys up front.
 *
 * The bytes are exactly what msgpack-c's packer writes for the same
 * calls (shortest integer, str, bin and container forms; timestamp
 * 32/64/96), so msgpack-c stays the reference (tests/unit/record_test.c
 * compares the two). The packer was not used because it calls a write
 * callback per item; here the scalar writers are inline stores behind
 * one bounds check.
 */
#ifndef GCP_RECORD_H
#define GCP_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define GCP_RB_MAX_DEPTH 8
/* Largest record: the builder's buffer never grows past this (memory
 * budget); a record that would is refused and counted in st_oversize. */
#define GCP_RB_MAX_BYTES (1u << 20)

/* Optional observer of top-level string values (content rules). */
typedef void (*gcp_rb_str_hook)(const char *key, const char *val, size_t len, void *user);

struct gcp_rb_level {
	uint32_t hdr_off;  /* offset of the container's header */
	uint32_t count;    /* elements (a map's pairs) */
	bool is_map;
};

/* Pre-encoded key/value pairs copied into a record in one go. */
struct gcp_rb_run {
	uint8_t *p;        /* malloc'd; NULL: not captured */
	uint32_t len;
	uint32_t pairs;
};

/*
 * One builder per engine, reused for every record (its buffer grows to
 * the largest record once, then never allocates again).
 */
struct gcp_rb {
	uint8_t *buf;
	uint32_t len;       /* bytes written, the top-level header's reserve included */
	uint32_t lim;       /* writes up to here need no check: min(alloc, the cap) */
	uint32_t alloc;     /* bytes allocated */
	struct gcp_rb_level lv[GCP_RB_MAX_DEPTH];
	struct gcp_rb_level *top; /* innermost open container; NULL: none */
	int depth;          /* open containers */
	int err;            /* sticky: nesting misuse or allocation failure */
	gcp_rb_str_hook str_hook; /* NULL: none */
	void *hook_user;
	const char *last_key;     /* top-level key awaiting its value (hook only) */
	uint64_t st_oversize;     /* records refused: over GCP_RB_MAX_BYTES */
	/* Pairs the owner repeats in every record (emit.c: the engine's
	 * constant keys); freed by gcp_rb_fini. */
	struct gcp_rb_run fixed;
};

int gcp_rb_init(struct gcp_rb *rb);
void gcp_rb_fini(struct gcp_rb *rb);

/* Start a new record: resets the buffer and opens the top-level map. */
void gcp_rb_reset(struct gcp_rb *rb);

/*
 * Close the top-level map. Returns 0 and the record bytes, or -1 when
 * the builder saw misuse (containers left open, too deep, no memory).
 */
int gcp_rb_finish(struct gcp_rb *rb, const uint8_t **data, size_t *len);

/* Containers. Inside a map, write a key before each value. */
void gcp_rb_map_begin(struct gcp_rb *rb);
void gcp_rb_array_begin(struct gcp_rb *rb);
void gcp_rb_end(struct gcp_rb *rb);

/* Values (each counts as one element of an enclosing array). */
static inline void gcp_rb_key(struct gcp_rb *rb, const char *key);
static inline void gcp_rb_str(struct gcp_rb *rb, const char *s, size_t len);
static inline void gcp_rb_cstr(struct gcp_rb *rb, const char *s);
static inline void gcp_rb_uint(struct gcp_rb *rb, uint64_t v);
static inline void gcp_rb_bool(struct gcp_rb *rb, bool v);
void gcp_rb_int(struct gcp_rb *rb, int64_t v);
void gcp_rb_double(struct gcp_rb *rb, double v);
void gcp_rb_nil(struct gcp_rb *rb);
void gcp_rb_bin(struct gcp_rb *rb, const void *p, size_t len);
void gcp_rb_ts(struct gcp_rb *rb, uint64_t ts_ns); /* ext -1 timestamp */
/* The array [a, b] of two strings (header lists), in one call: the same
 * bytes as array_begin, str, str, end. */
void gcp_rb_str_pair(struct gcp_rb *rb, const char *a, size_t an, const char *b, size_t bn);

/*
 * Runs of pairs: mark the top-level map, write pairs with the calls
 * above, save them; later records put the saved bytes back in one copy.
 * The string hook does not see a run's values, so a run must not hold
 * a key the content rules watch. gcp_rb_save_run returns false when
 * nothing could be saved (the pairs were written all the same).
 */
struct gcp_rb_mark {
	uint32_t len, count;
};
struct gcp_rb_mark gcp_rb_mark(const struct gcp_rb *rb);
bool gcp_rb_save_run(struct gcp_rb *rb, struct gcp_rb_mark m, struct gcp_rb_run *run);
void gcp_rb_put_run(struct gcp_rb *rb, const struct gcp_rb_run *run);

/* ---- inline writers ---------------------------------------------------------- */

/* Slow path of gcp_rb_room_: grow, or refuse (over the cap, no memory). */
uint8_t *gcp_rb_grow_(struct gcp_rb *rb, size_t n);
/* Not inline: the hook is rare and would bloat every string write. */
void gcp_rb_hook_(struct gcp_rb *rb, const char *s, size_t len);

/* Room for n more bytes at the end, or NULL (rb->err then set). */
static inline uint8_t *gcp_rb_room_(struct gcp_rb *rb, size_t n)
{
	if (__builtin_expect(n <= (size_t)(rb->lim - rb->len), 1))
		return rb->buf + rb->len;
	return gcp_rb_grow_(rb, n);
}

/* A value may be written: counts it in an enclosing array. */
static inline bool gcp_rb_value_(struct gcp_rb *rb)
{
	struct gcp_rb_level *t = rb->top;

	if (__builtin_expect(rb->err || !t, 0)) {
		rb->err = 1; /* no record open, or already failed */
		return false;
	}
	t->count += !t->is_map;
	return true;
}

static inline void gcp_rb_be16_(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void gcp_rb_be32_(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void gcp_rb_be64_(uint8_t *p, uint64_t v)
{
	gcp_rb_be32_(p, (uint32_t)(v >> 32));
	gcp_rb_be32_(p + 4, (uint32_t)v);
}

/* fixstr, str8, str16 or str32 header for n bytes at p; returns its size. */
static inline size_t gcp_rb_str_hdr_(uint8_t *p, size_t n)
{
	if (n < 32) {
		p[0] = (uint8_t)(0xa0 | n);
		return 1;
	}
	if (n < 256) {
		p[0] = 0xd9;
		p[1] = (uint8_t)n;
		return 2;
	}
	if (n < 65536) {
		p[0] = 0xda;
		gcp_rb_be16_(p + 1, (uint32_t)n);
		return 3;
	}
	p[0] = 0xdb;
	gcp_rb_be32_(p + 1, (uint32_t)n);
	return 5;
}

static inline size_t gcp_rb_str_size_(size_t n)
{
	return (n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5) + n;
}

/* Header and body. */
static inline void gcp_rb_put_str_(struct gcp_rb *rb, const char *s, size_t n)
{
	uint8_t *p = gcp_rb_room_(rb, n > GCP_RB_MAX_BYTES ? SIZE_MAX : gcp_rb_str_size_(n));

	if (!p)
		return;
	size_t h = gcp_rb_str_hdr_(p, n);

	memcpy(p + h, s, n);
	rb->len += (uint32_t)(h + n);
}

static inline void gcp_rb_key(struct gcp_rb *rb, const char *key)
{
	size_t n = strlen(key);

	if (rb->err)
		return;
	if (__builtin_expect(!rb->top || !rb->top->is_map, 0)) {
		rb->err = 1; /* a key outside a map is misuse */
		return;
	}
	rb->top->count++;
	rb->last_key = rb->depth == 1 ? key : NULL;
	gcp_rb_put_str_(rb, key, n);
}

static inline void gcp_rb_str(struct gcp_rb *rb, const char *s, size_t len)
{
	if (!gcp_rb_value_(rb))
		return;
	if (len == 0)
		s = "";
	if (rb->str_hook)
		gcp_rb_hook_(rb, s, len);
	gcp_rb_put_str_(rb, s, len);
}

static inline void gcp_rb_cstr(struct gcp_rb *rb, const char *s)
{
	gcp_rb_str(rb, s, strlen(s));
}

/*
 * An integer of n bytes in all: a fixint (n = 1, the byte is v), or the
 * marker base (0xcc: uint 8..64, 0xd0: int 8..64) + width and the low
 * 1, 2, 4 or 8 bytes of v, big-endian.
 */
static inline void gcp_rb_put_int_(struct gcp_rb *rb, uint8_t base, uint64_t v, size_t n)
{
	uint8_t *p;

	if (!gcp_rb_value_(rb) || !(p = gcp_rb_room_(rb, n)))
		return;
	switch (n) {
	case 1: p[0] = (uint8_t)v; break;
	case 2: p[0] = base; p[1] = (uint8_t)v; break;
	case 3: p[0] = (uint8_t)(base + 1); gcp_rb_be16_(p + 1, (uint32_t)v); break;
	case 5: p[0] = (uint8_t)(base + 2); gcp_rb_be32_(p + 1, (uint32_t)v); break;
	default: p[0] = (uint8_t)(base + 3); gcp_rb_be64_(p + 1, v); break;
	}
	rb->len += (uint32_t)n;
}

/* Positive fixint, uint8, uint16, uint32 or uint64, as msgpack_pack_uint64. */
static inline void gcp_rb_uint(struct gcp_rb *rb, uint64_t v)
{
	gcp_rb_put_int_(rb, 0xcc, v,
			v < 128 ? 1 : v < 256 ? 2 : v < 65536 ? 3 : v <= UINT32_MAX ? 5 : 9);
}

static inline void gcp_rb_bool(struct gcp_rb *rb, bool v)
{
	uint8_t *p;

	if (!gcp_rb_value_(rb) || !(p = gcp_rb_room_(rb, 1)))
		return;
	p[0] = v ? 0xc3 : 0xc2;
	rb->len++;
}

/* Key + value shorthands (the common case in a map). */
static inline void gcp_rb_kv_str(struct gcp_rb *rb, const char *k, const char *s, size_t n)
{
	gcp_rb_key(rb, k);
	gcp_rb_str(rb, s, n);
}

static inline void gcp_rb_kv_cstr(struct gcp_rb *rb, const char *k, const char *s)
{
	gcp_rb_key(rb, k);
	gcp_rb_cstr(rb, s);
}

static inline void gcp_rb_kv_uint(struct gcp_rb *rb, const char *k, uint64_t v)
{
	gcp_rb_key(rb, k);
	gcp_rb_uint(rb, v);
}

static inline void gcp_rb_kv_bool(struct gcp_rb *rb, const char *k, bool v)
{
	gcp_rb_key(rb, k);
	gcp_rb_bool(rb, v);
}

static inline void gcp_rb_kv_ts(struct gcp_rb *rb, const char *k, uint64_t ts_ns)
{
	gcp_rb_key(rb, k);
	gcp_rb_ts(rb, ts_ns);
}

static inline void gcp_rb_kv_bin(struct gcp_rb *rb, const char *k, const void *p, size_t n)
{
	gcp_rb_key(rb, k);
	gcp_rb_bin(rb, p, n);
}

#endif /* GCP_RECORD_H */
