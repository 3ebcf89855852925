/* SPDX-License-Identifier: BSD-3-Clause */
/* Bounds-checked byte cursor with a sticky error (after c-ares ares_buf). */
#ifndef GCP_CURSOR_H
#define GCP_CURSOR_H

#include <stdint.h>
#include <string.h>

/*
 * Reads past the end set err and return 0; callers check err once after
 * a run of reads instead of after each one.
 */
struct gcp_cur {
	const uint8_t *p;
	const uint8_t *end;
	int err;
};

static inline struct gcp_cur gcp_cur_make(const uint8_t *p, size_t len)
{
	struct gcp_cur c = { p, p + len, 0 };
	return c;
}

static inline size_t gcp_cur_left(const struct gcp_cur *c)
{
	return c->err ? 0 : (size_t)(c->end - c->p);
}

static inline int gcp_cur_need(struct gcp_cur *c, size_t n)
{
	if (c->err || (size_t)(c->end - c->p) < n) {
		c->err = 1;
		return 0;
	}
	return 1;
}

static inline uint8_t gcp_cur_u8(struct gcp_cur *c)
{
	if (!gcp_cur_need(c, 1))
		return 0;
	return *c->p++;
}

static inline uint16_t gcp_cur_be16(struct gcp_cur *c)
{
	if (!gcp_cur_need(c, 2))
		return 0;
	uint16_t v = (uint16_t)(c->p[0] << 8 | c->p[1]);
	c->p += 2;
	return v;
}

static inline uint32_t gcp_cur_be24(struct gcp_cur *c)
{
	if (!gcp_cur_need(c, 3))
		return 0;
	uint32_t v = (uint32_t)c->p[0] << 16 | (uint32_t)c->p[1] << 8 | c->p[2];
	c->p += 3;
	return v;
}

static inline uint32_t gcp_cur_be32(struct gcp_cur *c)
{
	if (!gcp_cur_need(c, 4))
		return 0;
	uint32_t v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
		     (uint32_t)c->p[2] << 8 | c->p[3];
	c->p += 4;
	return v;
}

/* Returns a view of n bytes and advances, or NULL (err set). */
static inline const uint8_t *gcp_cur_bytes(struct gcp_cur *c, size_t n)
{
	if (!gcp_cur_need(c, n))
		return NULL;
	const uint8_t *v = c->p;
	c->p += n;
	return v;
}

static inline void gcp_cur_skip(struct gcp_cur *c, size_t n)
{
	(void)gcp_cur_bytes(c, n);
}

/* Sub-cursor over the next n bytes; the parent skips them. */
static inline struct gcp_cur gcp_cur_sub(struct gcp_cur *c, size_t n)
{
	const uint8_t *v = gcp_cur_bytes(c, n);
	struct gcp_cur s = { v, v ? v + n : NULL, v == NULL };
	return s;
}

/* Unaligned-safe loads for wire structs with byte-array fields. */
static inline uint16_t gcp_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t gcp_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif /* GCP_CURSOR_H */
