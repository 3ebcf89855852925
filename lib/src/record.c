/* SPDX-License-Identifier: BSD-3-Clause */
/* Record builder: MessagePack with back-patched, then compacted, container headers. */
#include "record.h"

#include <string.h>

/* Worst case header: map32/array32 = marker + be32 count. */
#define RB_HDR_MAX 5

/* The packer's sink: the buffer, capped at GCP_RB_MAX_BYTES. */
static int rb_write(void *data, const char *buf, size_t len)
{
	struct gcp_rb *rb = data;

	if (len > GCP_RB_MAX_BYTES - rb->sbuf.size) {
		if (!rb->err)
			rb->st_oversize++;
		return -1;
	}
	return msgpack_sbuffer_write(&rb->sbuf, buf, len);
}

int gcp_rb_init(struct gcp_rb *rb)
{
	memset(rb, 0, sizeof(*rb));
	msgpack_sbuffer_init(&rb->sbuf);
	msgpack_packer_init(&rb->pk, rb, rb_write);
	return 0;
}

void gcp_rb_fini(struct gcp_rb *rb)
{
	msgpack_sbuffer_destroy(&rb->sbuf);
	rb->depth = 0;
}

static struct gcp_rb_level *rb_top(struct gcp_rb *rb)
{
	return &rb->lv[rb->depth - 1];
}

/* Any packer call that failed means realloc failed: make it sticky. */
static void rb_check(struct gcp_rb *rb, int rc)
{
	if (rc != 0)
		rb->err = 1;
}

/*
 * Every value (scalar or container) is one element of an enclosing
 * array; in a map only the key counts, so a map's count is its pairs.
 * Returns false when the value may not be written.
 */
static bool rb_value(struct gcp_rb *rb)
{
	if (rb->err)
		return false;
	if (rb->depth == 0) {
		rb->err = 1; /* no record open */
		return false;
	}
	struct gcp_rb_level *lv = rb_top(rb);
	if (!lv->is_map)
		lv->count++;
	return true;
}

static void rb_open(struct gcp_rb *rb, bool is_map)
{
	if (rb->depth == GCP_RB_MAX_DEPTH) {
		rb->err = 1;
		return;
	}
	size_t off = rb->sbuf.size;
	if (off > UINT32_MAX - RB_HDR_MAX) {
		rb->err = 1;
		return;
	}
	/* Reserve the widest header; gcp_rb_end shrinks it once the count is known. */
	const char hdr[RB_HDR_MAX] = { (char)(is_map ? 0xdf : 0xdd), 0, 0, 0, 0 };
	rb_check(rb, rb_write(rb, hdr, sizeof(hdr)));
	if (rb->err)
		return;
	rb->lv[rb->depth++] = (struct gcp_rb_level){ (uint32_t)off, 0, is_map };
}

void gcp_rb_reset(struct gcp_rb *rb)
{
	msgpack_sbuffer_clear(&rb->sbuf);
	rb->depth = 0;
	rb->err = 0;
	rb->last_key = NULL;
	rb_open(rb, true);
}

void gcp_rb_map_begin(struct gcp_rb *rb)
{
	if (rb_value(rb))
		rb_open(rb, true);
}

void gcp_rb_array_begin(struct gcp_rb *rb)
{
	if (rb_value(rb))
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
		p[1] = (uint8_t)(n >> 8);
		p[2] = (uint8_t)n;
		return 3;
	}
	p[0] = is_map ? 0xdf : 0xdd;
	p[1] = (uint8_t)(n >> 24);
	p[2] = (uint8_t)(n >> 16);
	p[3] = (uint8_t)(n >> 8);
	p[4] = (uint8_t)n;
	return 5;
}

/*
 * Close the innermost container. Its body is the buffer tail (inner
 * containers are already closed), so moving the tail left by the unused
 * header bytes touches no other open container's offset.
 */
static void rb_close(struct gcp_rb *rb)
{
	struct gcp_rb_level *lv = rb_top(rb);
	uint8_t *hdr = (uint8_t *)rb->sbuf.data + lv->hdr_off;
	size_t body = rb->sbuf.size - lv->hdr_off - RB_HDR_MAX;
	size_t hlen = rb_put_hdr(hdr, lv->is_map, lv->count);

	if (hlen < RB_HDR_MAX) {
		memmove(hdr + hlen, hdr + RB_HDR_MAX, body);
		rb->sbuf.size -= RB_HDR_MAX - hlen;
	}
	rb->depth--;
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
	rb_close(rb);
	*data = (const uint8_t *)rb->sbuf.data;
	*len = rb->sbuf.size;
	return 0;
}

void gcp_rb_key(struct gcp_rb *rb, const char *key)
{
	if (rb->err)
		return;
	if (rb->depth == 0 || !rb_top(rb)->is_map) {
		rb->err = 1; /* a key outside a map is misuse */
		return;
	}
	size_t n = strlen(key);
	rb_top(rb)->count++;
	rb->last_key = rb->depth == 1 ? key : NULL;
	rb_check(rb, msgpack_pack_str_with_body(&rb->pk, key, n));
}

void gcp_rb_str(struct gcp_rb *rb, const char *s, size_t len)
{
	if (!rb_value(rb))
		return;
	if (rb->str_hook && rb->last_key && rb->depth == 1)
		rb->str_hook(rb->last_key, len ? s : "", len, rb->hook_user);
	rb_check(rb, msgpack_pack_str_with_body(&rb->pk, len ? s : "", len));
}

void gcp_rb_cstr(struct gcp_rb *rb, const char *s)
{
	gcp_rb_str(rb, s, strlen(s));
}

void gcp_rb_uint(struct gcp_rb *rb, uint64_t v)
{
	if (rb_value(rb))
		rb_check(rb, msgpack_pack_uint64(&rb->pk, v));
}

void gcp_rb_int(struct gcp_rb *rb, int64_t v)
{
	if (rb_value(rb))
		rb_check(rb, msgpack_pack_int64(&rb->pk, v));
}

void gcp_rb_double(struct gcp_rb *rb, double v)
{
	if (rb_value(rb))
		rb_check(rb, msgpack_pack_double(&rb->pk, v));
}

void gcp_rb_bool(struct gcp_rb *rb, bool v)
{
	if (rb_value(rb))
		rb_check(rb, v ? msgpack_pack_true(&rb->pk) : msgpack_pack_false(&rb->pk));
}

void gcp_rb_nil(struct gcp_rb *rb)
{
	if (rb_value(rb))
		rb_check(rb, msgpack_pack_nil(&rb->pk));
}

void gcp_rb_bin(struct gcp_rb *rb, const void *p, size_t len)
{
	if (rb_value(rb))
		rb_check(rb, msgpack_pack_bin_with_body(&rb->pk, len ? p : "", len));
}

/* msgpack-c picks timestamp 32, 64 or 96, whichever is shortest. */
void gcp_rb_ts(struct gcp_rb *rb, uint64_t ts_ns)
{
	msgpack_timestamp t = {
		.tv_sec = (int64_t)(ts_ns / 1000000000u),
		.tv_nsec = (uint32_t)(ts_ns % 1000000000u),
	};
	if (rb_value(rb))
		rb_check(rb, msgpack_pack_timestamp(&rb->pk, &t));
}
