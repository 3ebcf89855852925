/* SPDX-License-Identifier: BSD-3-Clause */
/* Record builder: streams MessagePack (msgpack-c packer) with maps and
 * arrays whose element counts are patched when the container closes, so
 * producers never count keys up front. */
#ifndef GCP_RECORD_H
#define GCP_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#define GCP_RB_MAX_DEPTH 8
/* Largest record: the builder's buffer never grows past this (memory
 * budget); a record that would is refused and counted in st_oversize. */
#define GCP_RB_MAX_BYTES (1u << 20)

/* Optional observer of top-level string values (content rules). */
typedef void (*gcp_rb_str_hook)(const char *key, const char *val, size_t len, void *user);

struct gcp_rb_level {
	uint32_t hdr_off;  /* offset of the reserved 5-byte header */
	uint32_t count;
	bool is_map;
};

/*
 * One builder per engine, reused for every record (its buffer grows to
 * the largest record once, then never allocates again).
 */
struct gcp_rb {
	msgpack_sbuffer sbuf;
	msgpack_packer pk;
	struct gcp_rb_level lv[GCP_RB_MAX_DEPTH];
	int depth;          /* open containers */
	int err;            /* sticky: nesting misuse or allocation failure */
	gcp_rb_str_hook str_hook; /* NULL: none */
	void *hook_user;
	const char *last_key;     /* top-level key awaiting its value (hook only) */
	uint64_t st_oversize;     /* records refused: over GCP_RB_MAX_BYTES */
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
void gcp_rb_key(struct gcp_rb *rb, const char *key);
void gcp_rb_str(struct gcp_rb *rb, const char *s, size_t len);
void gcp_rb_cstr(struct gcp_rb *rb, const char *s);
void gcp_rb_uint(struct gcp_rb *rb, uint64_t v);
void gcp_rb_int(struct gcp_rb *rb, int64_t v);
void gcp_rb_double(struct gcp_rb *rb, double v);
void gcp_rb_bool(struct gcp_rb *rb, bool v);
void gcp_rb_nil(struct gcp_rb *rb);
void gcp_rb_bin(struct gcp_rb *rb, const void *p, size_t len);
void gcp_rb_ts(struct gcp_rb *rb, uint64_t ts_ns); /* ext -1 timestamp */

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
