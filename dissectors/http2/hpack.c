/* SPDX-License-Identifier: BSD-3-Clause */
/* HPACK decoder (RFC 7541) for the HTTP/2 dissector. Bounded: integers
 * of at most 2^28, a dynamic table of at most HPACK_TABLE_CAP bytes in
 * one pool block (grown only by a size update), fields that do not fit
 * the caller's list are decoded for the table and left out. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cursor.h"
#include "dissect.h"
#include "hpack.h"

#define HP_ENTRY_OVERHEAD 32u     /* RFC 7541 4.1 */
#define HP_INT_MAX (1u << 28)     /* larger integers are refused (5.1) */
#define HP_STATIC_N 61

struct hp_static {
	const char *name, *value;
};

/* RFC 7541 Appendix A. */
static const struct hp_static hp_static[HP_STATIC_N] = {
	{ ":authority", "" },
	{ ":method", "GET" },
	{ ":method", "POST" },
	{ ":path", "/" },
	{ ":path", "/index.html" },
	{ ":scheme", "http" },
	{ ":scheme", "https" },
	{ ":status", "200" },
	{ ":status", "204" },
	{ ":status", "206" },
	{ ":status", "304" },
	{ ":status", "400" },
	{ ":status", "404" },
	{ ":status", "500" },
	{ "accept-charset", "" },
	{ "accept-encoding", "gzip, deflate" },
	{ "accept-language", "" },
	{ "accept-ranges", "" },
	{ "accept", "" },
	{ "access-control-allow-origin", "" },
	{ "age", "" },
	{ "allow", "" },
	{ "authorization", "" },
	{ "cache-control", "" },
	{ "content-disposition", "" },
	{ "content-encoding", "" },
	{ "content-language", "" },
	{ "content-length", "" },
	{ "content-location", "" },
	{ "content-range", "" },
	{ "content-type", "" },
	{ "cookie", "" },
	{ "date", "" },
	{ "etag", "" },
	{ "expect", "" },
	{ "expires", "" },
	{ "from", "" },
	{ "host", "" },
	{ "if-match", "" },
	{ "if-modified-since", "" },
	{ "if-none-match", "" },
	{ "if-range", "" },
	{ "if-unmodified-since", "" },
	{ "last-modified", "" },
	{ "link", "" },
	{ "location", "" },
	{ "max-forwards", "" },
	{ "proxy-authenticate", "" },
	{ "proxy-authorization", "" },
	{ "range", "" },
	{ "referer", "" },
	{ "refresh", "" },
	{ "retry-after", "" },
	{ "server", "" },
	{ "set-cookie", "" },
	{ "strict-transport-security", "" },
	{ "transfer-encoding", "" },
	{ "user-agent", "" },
	{ "vary", "" },
	{ "via", "" },
	{ "www-authenticate", "" },
};

/* RFC 7541 Appendix B as a canonical code: symbols by (length, value) and
 * the number of codes of each length 0..30 (zlib puff.c decoding). */
static const uint8_t hp_huff_count[31] = {
	0, 0, 0, 0, 0, 10, 26, 32, 6, 0, 5, 3, 2, 6, 2, 3, 0, 0, 0, 3, 8, 13, 26, 29, 12, 4, 15, 19, 29, 0, 4,
};
static const uint16_t hp_huff_sym[257] = {
	48, 49, 50, 97, 99, 101, 105, 111, 115, 116, 32, 37,
	45, 46, 47, 51, 52, 53, 54, 55, 56, 57, 61, 65,
	95, 98, 100, 102, 103, 104, 108, 109, 110, 112, 114, 117,
	58, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76,
	77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 89,
	106, 107, 113, 118, 119, 120, 121, 122, 38, 42, 44, 59,
	88, 90, 33, 34, 40, 41, 63, 39, 43, 124, 35, 62,
	0, 36, 64, 91, 93, 126, 94, 125, 60, 96, 123, 92,
	195, 208, 128, 130, 131, 162, 184, 194, 224, 226, 153, 161,
	167, 172, 176, 177, 179, 209, 216, 217, 227, 229, 230, 129,
	132, 133, 134, 136, 146, 154, 156, 160, 163, 164, 169, 170,
	173, 178, 181, 185, 186, 187, 189, 190, 196, 198, 228, 232,
	233, 1, 135, 137, 138, 139, 140, 141, 143, 147, 149, 150,
	151, 152, 155, 157, 158, 165, 166, 168, 174, 175, 180, 182,
	183, 188, 191, 197, 231, 239, 9, 142, 144, 145, 148, 159,
	171, 206, 215, 225, 236, 237, 199, 207, 234, 235, 192, 193,
	200, 201, 202, 205, 210, 213, 218, 219, 238, 240, 242, 243,
	255, 203, 204, 211, 212, 214, 221, 222, 223, 241, 244, 245,
	246, 247, 248, 250, 251, 252, 253, 254, 2, 3, 4, 5,
	6, 7, 8, 11, 12, 14, 15, 16, 17, 18, 19, 20,
	21, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 220,
	249, 10, 13, 22, 256,
};

/* ---- primitives (RFC 7541 5) ------------------------------------------------ */

/* Integer with an N-bit prefix (5.1); the first byte is already read. */
static bool hp_int(struct gcp_cur *c, uint8_t first, unsigned prefix, uint32_t *out)
{
	uint32_t max = (1u << prefix) - 1, v = first & max;
	if (v < max) {
		*out = v;
		return true;
	}
	for (unsigned shift = 0; shift <= 21; shift += 7) {
		uint8_t b = gcp_cur_u8(c);
		if (c->err)
			return false;
		v += (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return v <= HP_INT_MAX;
		}
	}
	return false; /* more than four continuation bytes */
}

int64_t gcp_hpack_huffman(const uint8_t *src, uint32_t n, uint8_t *dst, uint32_t room)
{
	uint32_t code = 0, first = 0, index = 0, len = 0;
	uint64_t out = 0;
	bool ones = true; /* the bits since the last symbol are all 1 */
	for (uint32_t i = 0; i < n; i++) {
		for (int bit = 7; bit >= 0; bit--) {
			uint32_t b = (src[i] >> bit) & 1u;
			code |= b;
			ones = ones && b;
			len++;
			uint32_t cnt = hp_huff_count[len];
			if (code - first < cnt) {
				uint16_t sym = hp_huff_sym[index + code - first];
				if (sym == 256)
					return -1; /* EOS in a string: error (5.2) */
				if (out < room)
					dst[out] = (uint8_t)sym;
				out++;
				code = first = index = len = 0;
				ones = true;
				continue;
			}
			if (len == 30)
				return -1;
			index += cnt;
			first = (first + cnt) << 1;
			code <<= 1;
		}
	}
	/* 5.2: padding is the most significant bits of EOS (all 1), < 8 bits. */
	if (len > 7 || !ones)
		return -1;
	return (int64_t)out;
}

/* String literal (5.2) decoded into o; *len may exceed room (not written). */
static bool hp_string(struct gcp_cur *c, uint8_t *o, uint32_t room, uint32_t *len)
{
	uint8_t first = gcp_cur_u8(c);
	uint32_t n;
	if (c->err || !hp_int(c, first, 7, &n))
		return false;
	const uint8_t *p = gcp_cur_bytes(c, n);
	if (!p)
		return false;
	if (!(first & 0x80)) {
		memcpy(o, p, n < room ? n : room);
		*len = n;
		return true;
	}
	int64_t k = gcp_hpack_huffman(p, n, o, room);
	if (k < 0 || k > UINT16_MAX)
		return false;
	*len = (uint32_t)k;
	return true;
}

/* ---- dynamic table (RFC 7541 2.3.2, 4) ------------------------------------- */

void gcp_hpack_init(struct hpack *hp)
{
	memset(hp, 0, sizeof(*hp));
	hp->max = HPACK_TABLE_DEFAULT;
}

static size_t hp_block_size(uint32_t cap, uint32_t nslots)
{
	return (size_t)cap + (size_t)nslots * sizeof(struct hpack_ent);
}

void gcp_hpack_fini(struct hpack *hp, struct gcp_dissect_ctx *ctx)
{
	if (hp->ring)
		gcp_dctx_free(ctx, hp->ring, hp_block_size(hp->cap, hp->nslots));
	hp->ring = NULL;
	hp->ent = NULL;
	hp->cap = hp->nslots = 0;
	hp->n = hp->bused = hp->size = 0;
}

static struct hpack_ent *hp_slot(const struct hpack *hp, uint32_t k)
{
	return &hp->ent[(hp->ehead + hp->n - 1 - k) % hp->nslots]; /* k = 0: newest */
}

static void hp_ring_read(const struct hpack *hp, uint32_t off, uint8_t *o, uint32_t n)
{
	uint32_t a = hp->cap - off < n ? hp->cap - off : n;
	memcpy(o, hp->ring + off, a);
	memcpy(o + a, hp->ring, n - a);
}

static void hp_ring_write(struct hpack *hp, uint32_t off, const uint8_t *p, uint32_t n)
{
	uint32_t a = hp->cap - off < n ? hp->cap - off : n;
	memcpy(hp->ring + off, p, a);
	memcpy(hp->ring, p + a, n - a);
}

static void hp_evict(struct hpack *hp)
{
	struct hpack_ent *e = &hp->ent[hp->ehead];
	uint32_t b = (uint32_t)e->nlen + e->vlen;
	hp->bhead = (hp->bhead + b) % hp->cap;
	hp->bused -= b;
	hp->size -= b + HP_ENTRY_OVERHEAD;
	hp->ehead = (hp->ehead + 1) % hp->nslots;
	hp->n--;
}

/* Storage for a table of maximum size max (entries kept, oldest first). */
static bool hp_reserve(struct hpack *hp, struct gcp_dissect_ctx *ctx, uint32_t max)
{
	if (hp->ring && hp->cap >= max)
		return true;
	uint32_t cap = max < HPACK_TABLE_DEFAULT ? HPACK_TABLE_DEFAULT : (max + 4095) & ~4095u;
	uint32_t nslots = cap / HP_ENTRY_OVERHEAD + 1;
	uint8_t *nb = gcp_dctx_alloc(ctx, hp_block_size(cap, nslots));
	if (!nb)
		return false;
	struct hpack_ent *ne = (struct hpack_ent *)(void *)(nb + cap);
	uint32_t off = 0;
	for (uint32_t i = 0; i < hp->n; i++) {
		struct hpack_ent *e = hp_slot(hp, hp->n - 1 - i);
		uint32_t b = (uint32_t)e->nlen + e->vlen;
		hp_ring_read(hp, e->off, nb + off, b);
		ne[i] = (struct hpack_ent){ off, e->nlen, e->vlen };
		off += b;
	}
	if (hp->ring)
		gcp_dctx_free(ctx, hp->ring, hp_block_size(hp->cap, hp->nslots));
	hp->ring = nb;
	hp->ent = ne;
	hp->cap = cap;
	hp->nslots = nslots;
	hp->bhead = hp->ehead = 0;
	hp->bused = off;
	return true;
}

/* 4.4: evict until the new entry fits; one larger than max empties the table. */
static bool hp_insert(struct hpack *hp, struct gcp_dissect_ctx *ctx, const uint8_t *name,
		      uint32_t nlen, const uint8_t *value, uint32_t vlen)
{
	uint64_t esz = (uint64_t)nlen + vlen + HP_ENTRY_OVERHEAD;
	while (hp->n && hp->size + esz > hp->max)
		hp_evict(hp);
	if (esz > hp->max)
		return true;
	if (!hp_reserve(hp, ctx, hp->max))
		return false;
	uint32_t off = (hp->bhead + hp->bused) % hp->cap;
	hp_ring_write(hp, off, name, nlen);
	hp_ring_write(hp, (off + nlen) % hp->cap, value, vlen);
	hp->ent[(hp->ehead + hp->n) % hp->nslots] =
		(struct hpack_ent){ off, (uint16_t)nlen, (uint16_t)vlen };
	hp->n++;
	hp->bused += nlen + vlen;
	hp->size += (uint32_t)esz;
	return true;
}

/* 6.3: a new maximum size (at most what we can keep). */
static bool hp_resize(struct hpack *hp, uint32_t max)
{
	if (max > HPACK_TABLE_CAP)
		return false;
	hp->max = max;
	while (hp->n && hp->size > hp->max)
		hp_evict(hp);
	return true;
}

/* Entry idx (2.3.3: 1..61 static, then dynamic newest first) into o. */
static bool hp_get(const struct hpack *hp, uint32_t idx, bool want_value, uint8_t *o,
		   uint32_t room, uint32_t *nlen, uint32_t *vlen)
{
	if (idx == 0)
		return false;
	if (idx <= HP_STATIC_N) {
		const struct hp_static *s = &hp_static[idx - 1];
		*nlen = (uint32_t)strlen(s->name);
		*vlen = want_value ? (uint32_t)strlen(s->value) : 0;
		if (*nlen + *vlen > room)
			return false;
		memcpy(o, s->name, *nlen);
		memcpy(o + *nlen, s->value, *vlen);
		return true;
	}
	if (idx - HP_STATIC_N > hp->n)
		return false;
	const struct hpack_ent *e = hp_slot(hp, idx - HP_STATIC_N - 1);
	*nlen = e->nlen;
	*vlen = want_value ? e->vlen : 0;
	if (*nlen + *vlen > room)
		return false;
	hp_ring_read(hp, e->off, o, *nlen + *vlen);
	return true;
}

/* ---- field block (RFC 7541 6) ------------------------------------------------ */

struct hp_out {
	uint8_t *buf;
	uint32_t w, list_cap, cap;
	int left_out;
	hpack_field_fn fn;
	void *arg;
};

/* A literal (6.2): name by index or literal, then the value. */
static bool hp_literal(struct hpack *hp, struct gcp_cur *c, uint8_t first, unsigned prefix,
		       struct hp_out *o, uint32_t *nlen, uint32_t *vlen)
{
	uint32_t idx, room = o->cap - o->w;
	uint8_t *dst = o->buf + o->w;
	if (!hp_int(c, first, prefix, &idx))
		return false;
	if (idx) {
		if (!hp_get(hp, idx, false, dst, room, nlen, vlen))
			return false;
	} else if (!hp_string(c, dst, room, nlen)) {
		return false;
	}
	uint32_t k = *nlen < room ? *nlen : room; /* a name past the room wrote only room bytes */
	return hp_string(c, dst + k, room - k, vlen);
}

/* Listed when it fits the list; the work space is reused otherwise. */
static void hp_emit(struct hp_out *o, uint32_t nlen, uint32_t vlen)
{
	if ((uint64_t)o->w + nlen + vlen > o->list_cap) {
		o->left_out++;
		return;
	}
	const uint8_t *f = o->buf + o->w;
	o->fn(o->arg, f, nlen, f + nlen, vlen);
	o->w += nlen + vlen;
}

static bool hp_field(struct hpack *hp, struct gcp_dissect_ctx *ctx, struct gcp_cur *c,
		     struct hp_out *o)
{
	uint8_t b = gcp_cur_u8(c);
	uint32_t idx, nlen = 0, vlen = 0;
	if (b & 0x80) { /* 6.1 indexed */
		if (!hp_int(c, b, 7, &idx) ||
		    !hp_get(hp, idx, true, o->buf + o->w, o->cap - o->w, &nlen, &vlen))
			return false;
		hp_emit(o, nlen, vlen);
		return true;
	}
	bool index = (b & 0xc0) == 0x40;
	if (!hp_literal(hp, c, b, index ? 6 : 4, o, &nlen, &vlen))
		return false;
	/* A field that did not fit the work space is larger than any table. */
	bool whole = (uint64_t)nlen + vlen <= o->cap - o->w;
	if (index && whole &&
	    !hp_insert(hp, ctx, o->buf + o->w, nlen, o->buf + o->w + nlen, vlen))
		return false;
	while (index && !whole && hp->n)
		hp_evict(hp); /* 4.4: larger than the maximum size empties it */
	if (whole)
		hp_emit(o, nlen, vlen);
	else
		o->left_out++;
	return true;
}

int gcp_hpack_decode(struct hpack *hp, struct gcp_dissect_ctx *ctx, const uint8_t *p,
		     uint32_t n, uint8_t *out, uint32_t list_cap, uint32_t out_cap,
		     hpack_field_fn fn, void *arg)
{
	struct gcp_cur c = gcp_cur_make(p, n);
	struct hp_out o = { out, 0, list_cap, out_cap, 0, fn, arg };
	bool fields = false;
	if (hp->broken || out_cap < list_cap || out_cap - list_cap < HPACK_TABLE_CAP)
		goto bad;
	while (gcp_cur_left(&c)) {
		uint8_t b = *c.p;
		if ((b & 0xe0) == 0x20) { /* 6.3: only before the first field (4.2) */
			uint32_t max;
			gcp_cur_skip(&c, 1);
			if (fields || !hp_int(&c, b, 5, &max) || !hp_resize(hp, max))
				goto bad;
			continue;
		}
		fields = true;
		if (!hp_field(hp, ctx, &c, &o))
			goto bad;
	}
	return o.left_out;
bad:
	hp->broken = true;
	return -1;
}
