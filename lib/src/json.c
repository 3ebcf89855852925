/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON-lines rendering of one MessagePack record (RFC 8259, RFC 3339
 * times), straight from the bytes: a validating pass (mp_plausible),
 * then one walk that renders each item as it is read. msgpack-c's
 * unpacker built an object tree in a heap zone first; the output and
 * the status codes are the same as with it (it is the reference in
 * the tests), including its nesting limit.
 */
#include "gcprobe/gcprobe.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "fmt.h"

/* Output window; once full, writes are dropped and the call fails. */
struct jw {
	char *p;
	size_t len;
	size_t cap; /* bytes usable, the NUL excluded */
	bool full;
	bool bad;   /* input is not a record we can render */
};

static void jw_put(struct jw *w, const void *s, size_t n)
{
	if (w->full || n > w->cap - w->len) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

static void jw_ch(struct jw *w, char c)
{
	jw_put(w, &c, 1);
}

static void jw_lit(struct jw *w, const char *s)
{
	jw_put(w, s, strlen(s));
}

/*
 * Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0 when invalid; *bad then
 * gets the length of the maximal invalid subpart (Unicode 3.9, U+FFFD
 * substitution), at least 1.
 */
static size_t utf8_seq(const uint8_t *s, size_t n, size_t *bad)
{
	uint8_t c = s[0];
	size_t need;
	uint8_t lo = 0x80, hi = 0xbf;

	*bad = 1;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
	} else
		return 0;
	for (size_t i = 1; i <= need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi)
			return 0;
		*bad = i + 1;
		lo = 0x80;
		hi = 0xbf;
	}
	return need + 1;
}

static void json_escape_ctl(struct jw *w, uint8_t c)
{
	static const char hex[] = "0123456789abcdef";
	char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

	switch (c) {
	case '\b': jw_lit(w, "\\b"); break;
	case '\f': jw_lit(w, "\\f"); break;
	case '\n': jw_lit(w, "\\n"); break;
	case '\r': jw_lit(w, "\\r"); break;
	case '\t': jw_lit(w, "\\t"); break;
	default: jw_put(w, e, sizeof(e)); break;
	}
}

/*
 * RFC 8259 section 7. Invalid UTF-8 becomes U+FFFD so the output is
 * always valid, unless strict: then stop and return false at the first
 * invalid sequence (a bin falls back to base64).
 */
/* Some byte of x is zero (the classic bit trick: exact, no false positive). */
#define HAS_ZERO(x) (((x) - 0x0101010101010101ull) & ~(x) & 0x8080808080808080ull)
#define BYTES(c) (0x0101010101010101ull * (c))

/*
 * Leading bytes that go out as they are: printable ASCII but '"' and
 * '\\'. Eight at a time while none of them needs care (bodies and
 * headers are long runs of plain text).
 */
static bool plain8(const uint8_t *s)
{
	uint64_t x;

	memcpy(&x, s, 8);
	/* >= 0x80 | < 0x20 (x - 0x20 borrows, high bit clear) | '"' | '\\' */
	return !((x & BYTES(0x80)) | ((x - BYTES(0x20)) & ~x & BYTES(0x80)) |
		 HAS_ZERO(x ^ BYTES('"')) | HAS_ZERO(x ^ BYTES('\\')));
}

#define R8(x) x, x, x, x, x, x, x, x
/* The bytes plain8 lets through: 0x20..0x7f but '"' (0x22) and '\\' (0x5c). */
static const uint8_t json_plain[256] = {
	R8(0), R8(0), R8(0), R8(0),                          /* 0x00 - 0x1f */
	1, 1, 0, 1, 1, 1, 1, 1, R8(1),                       /* 0x20 - 0x2f: '"' */
	R8(1), R8(1), R8(1), R8(1),                          /* 0x30 - 0x4f */
	R8(1), 1, 1, 1, 1, 0, 1, 1, 1,                       /* 0x50 - 0x5f: '\\' */
	R8(1), R8(1), R8(1), R8(1),                          /* 0x60 - 0x7f */
	R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), /* 0x80 - 0xff */
	R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0),
};
#undef R8

static size_t plain_run(const uint8_t *s, size_t n)
{
	size_t i = 0;

	if (n < 16) { /* keys and short values: a table beats the word tricks */
		while (i < n && json_plain[s[i]])
			i++;
		return i;
	}
	while (i + 8 <= n && plain8(s + i))
		i += 8;
	/* The last bytes as one overlapping word when it is clean. */
	if (i < n && i + 8 > n && plain8(s + n - 8))
		return n;
	while (i < n && json_plain[s[i]])
		i++;
	return i;
}

static bool json_str_body(struct jw *w, const char *str, size_t n, bool strict)
{
	const uint8_t *s = (const uint8_t *)str;

	for (size_t i = 0; i < n && !w->full;) {
		size_t run = plain_run(s + i, n - i);
		if (run) {
			/* One copy per run: byte-wise puts were most of a record's cost. */
			jw_put(w, s + i, run);
			i += run;
			continue;
		}
		size_t bad, k = utf8_seq(s + i, n - i, &bad);
		if (!k) {
			if (strict)
				return false;
			jw_lit(w, "\xef\xbf\xbd");
			i += bad;
		} else if (s[i] == '"' || s[i] == '\\') {
			jw_ch(w, '\\');
			jw_ch(w, (char)s[i++]);
		} else if (s[i] < 0x20) {
			json_escape_ctl(w, s[i++]);
		} else {
			jw_put(w, s + i, k);
			i += k;
		}
	}
	return true;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/*
 * A plain string of at most 16 bytes with 16 readable bytes at s and 17
 * writable at the output: checked and copied as two words (the bytes
 * past n are tested as 'a' and written past the end, where the next
 * write goes). Keys and most short values of a record are such strings.
 */
static bool json_str16(struct jw *w, const uint8_t *s, size_t n)
{
	uint64_t a, b, ma, mb;

	memcpy(&a, s, 8);
	memcpy(&b, s + 8, 8);
	ma = n >= 8 ? ~0ull : (1ull << (8 * n)) - 1;
	mb = n >= 16 ? ~0ull : n <= 8 ? 0 : (1ull << (8 * (n - 8))) - 1;
	uint64_t ta = (a & ma) | (BYTES('a') & ~ma), tb = (b & mb) | (BYTES('a') & ~mb);

	if (!plain8((const uint8_t *)&ta) || !plain8((const uint8_t *)&tb))
		return false;
	char *p = w->p + w->len;

	p[0] = '"';
	memcpy(p + 1, &a, 8);
	memcpy(p + 9, &b, 8);
	p[n + 1] = '"';
	w->len += n + 2;
	return true;
}
#else
static bool json_str16(struct jw *w, const uint8_t *s, size_t n)
{
	(void)w, (void)s, (void)n;
	return false;
}
#endif

/* readable: bytes that may be read from s on (the rest of the input). */
static void json_str(struct jw *w, const char *s, size_t n, size_t readable)
{
	if (n <= 16 && readable >= 16 && !w->full && w->cap - w->len >= 18 &&
	    json_str16(w, (const uint8_t *)s, n))
		return;
	/* Keys and most values need no escaping: one check, one copy. */
	if (!w->full && n + 2 <= w->cap - w->len && plain_run((const uint8_t *)s, n) == n) {
		char *p = w->p + w->len;

		p[0] = '"';
		memcpy(p + 1, s, n);
		p[n + 1] = '"';
		w->len += n + 2;
		return;
	}
	jw_ch(w, '"');
	json_str_body(w, s, n, false);
	jw_ch(w, '"');
}

/* RFC 4648 section 4, with padding. */
static void json_base64(struct jw *w, const uint8_t *s, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];

	jw_ch(w, '"');
	for (size_t i = 0; i < n && !w->full; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = tab[v >> 18];
		q[1] = tab[(v >> 12) & 63];
		q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		jw_put(w, q, 4);
	}
	jw_ch(w, '"');
}

static bool utf8_valid(const uint8_t *s, size_t n)
{
	for (size_t i = 0, bad; i < n;) {
		size_t run = plain_run(s + i, n - i), k;

		i += run;
		if (i < n && !(k = utf8_seq(s + i, n - i, &bad)))
			return false;
		if (i < n)
			i += k;
	}
	return true;
}

/*
 * A bin goes out as a string when it is valid UTF-8, else as base64:
 * render it as a string in one pass and rewind on the first invalid
 * byte. Returns true when base64 was used (the caller flags it). When
 * the buffer fills before the end, the rest is checked apart: escapes
 * can make the string longer than the base64 that would have fit.
 */
static bool json_bin(struct jw *w, const msgpack_object_bin *b)
{
	size_t mark = w->len;
	bool was_full = w->full;

	jw_ch(w, '"');
	if (json_str_body(w, b->ptr, b->size, true) &&
	    (!w->full || utf8_valid((const uint8_t *)b->ptr, b->size))) {
		jw_ch(w, '"');
		return false;
	}
	w->len = mark;
	w->full = was_full; /* what the attempt filled is taken back */
	json_base64(w, (const uint8_t *)b->ptr, b->size);
	return true;
}

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* RFC 3339 UTC with microseconds (truncated, never rounded up a second). */

/* v as exactly width decimal digits (leading zeros) at p; returns the end.
 * Integers and timestamps are most of a small record: snprintf made
 * rendering cost more than the whole packet path of a one-packet flow. */
static char *fixed_dec(char *p, unsigned v, int width)
{
	int i = width;

	for (; i >= 2; i -= 2, v /= 100)
		memcpy(p + i - 2, gcp_fmt_digits2 + 2 * (v % 100), 2);
	if (i)
		p[0] = (char)('0' + v % 10);
	return p + width;
}

/* An integer: magnitude mag, with a minus sign when neg. */
static void json_int(struct jw *w, char *buf, size_t bufsz, bool neg, uint64_t mag)
{
	char *p = buf;

	(void)bufsz; /* >= 21: sign and 20 digits */
	if (neg)
		*p++ = '-';
	p += gcp_fmt_u64(p, mag);
	jw_put(w, buf, (size_t)(p - buf));
}

static void json_ts(struct jw *w, const msgpack_object *o)
{
	msgpack_timestamp t;
	char buf[40];

	if (!msgpack_object_to_timestamp(o, &t) || t.tv_nsec >= 1000000000u) {
		w->bad = true;
		return;
	}
	int64_t days = t.tv_sec / 86400, secs = t.tv_sec % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	int64_t y;
	unsigned mo, d;
	civil_from_days(days, &y, &mo, &d);
	if (y < 0 || y > 9999) {
		w->bad = true; /* RFC 3339 has four-digit years only */
		return;
	}
	char *p = buf;

	*p++ = '"';
	p = fixed_dec(p, (unsigned)y, 4);
	*p++ = '-';
	p = fixed_dec(p, mo, 2);
	*p++ = '-';
	p = fixed_dec(p, d, 2);
	*p++ = 'T';
	p = fixed_dec(p, (unsigned)(secs / 3600), 2);
	*p++ = ':';
	p = fixed_dec(p, (unsigned)(secs / 60 % 60), 2);
	*p++ = ':';
	p = fixed_dec(p, (unsigned)(secs % 60), 2);
	*p++ = '.';
	p = fixed_dec(p, (unsigned)(t.tv_nsec / 1000), 6);
	*p++ = 'Z';
	*p++ = '"';
	jw_put(w, buf, (size_t)(p - buf));
}

/*
 * A double that is n / 1e9 as the division rounds it, with n < 1e15 (a
 * duration in seconds from nanoseconds): the decimal n / 1e9 has at most
 * 15 significant digits and lies within half an ulp of v, so %.15g
 * prints exactly those digits and they read back as v (%.17g is never
 * needed). Written here in %g's form: fixed for v >= 1e-4, else
 * d.ddde-XX, trailing zeros dropped. False when v is not such a value.
 */
static bool json_ns_double(struct jw *w, double v)
{
	double a = fabs(v);

	if (!(a >= 1e-9 && a < 1e6))
		return false;
	uint64_t n = (uint64_t)(a * 1e9 + 0.5);

	if (n >= 1000000000000000ull || (double)n / 1e9 != a)
		return false;
	char buf[40], *p = buf;

	if (v < 0)
		*p++ = '-';
	if (n >= 100000) {
		uint64_t frac = n % 1000000000u;

		p += gcp_fmt_u64(p, n / 1000000000u);
		if (frac) {
			*p++ = '.';
			p = fixed_dec(p, (unsigned)frac, 9);
			while (p[-1] == '0')
				p--;
		}
	} else {
		char d[8];
		size_t k = gcp_fmt_u64(d, n);

		while (d[k - 1] == '0')
			k--; /* n > 0: the first digit stays */
		*p++ = d[0];
		if (k > 1) {
			*p++ = '.';
			memcpy(p, d + 1, k - 1);
			p += k - 1;
		}
		*p++ = 'e';
		*p++ = '-';
		*p++ = '0';
		*p++ = (char)('0' + (int)(9 - (gcp_fmt_u64_len(n) - 1)));
	}
	jw_put(w, buf, (size_t)(p - buf));
	return true;
}

/* Shortest of %.15g/%.17g that reads back exactly; JSON has no NaN/Inf. */
static void json_double(struct jw *w, double v, bool is32)
{
	char buf[40];

	if (!isfinite(v)) {
		jw_lit(w, "null");
		return;
	}
	/* Whole numbers (a one-packet flow's duration: 0) print as %.*g would. */
	if (fabs(v) < 1e6 && v == (double)(int64_t)v && !(v == 0 && signbit(v))) {
		json_int(w, buf, sizeof(buf), v < 0, (uint64_t)fabs(v));
		return;
	}
	if (!is32 && json_ns_double(w, v))
		return;
	int prec = is32 ? 6 : 15;
	snprintf(buf, sizeof(buf), "%.*g", prec, v);
	bool exact = is32 ? (float)strtod(buf, NULL) == (float)v : strtod(buf, NULL) == v;
	if (!exact)
		snprintf(buf, sizeof(buf), "%.*g", is32 ? 9 : 17, v);
	jw_lit(w, buf);
}

/* ---- walking the bytes ------------------------------------------------------ */

/* The input as the renderer reads it. */
struct mp {
	const uint8_t *p, *end;
	bool err;   /* truncated, 0xc1, or nested deeper than msgpack-c went */
};


static uint64_t mp_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void mp_int(msgpack_object *o, int64_t v)
{
	if (v >= 0) {
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = (uint64_t)v;
	} else {
		o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		o->via.i64 = v;
	}
}

/* n bytes at the cursor, or NULL (r->err) when the input ends first. */
static const uint8_t *mp_take(struct mp *r, size_t n)
{
	const uint8_t *p = r->p;

	if ((size_t)(r->end - p) < n) {
		r->err = true;
		return NULL;
	}
	r->p = p + n;
	return p;
}

/* A length or count field of f bytes (1, 2 or 4), big-endian. */
static bool mp_len(struct mp *r, unsigned f, size_t *n)
{
	const uint8_t *p = mp_take(r, f);

	if (p)
		*n = (size_t)mp_be(p, f);
	return p != NULL;
}

static void mp_raw(struct mp *r, msgpack_object *o, msgpack_object_type t, size_t n)
{
	const uint8_t *p = mp_take(r, n);

	o->type = p ? t : MSGPACK_OBJECT_NIL;
	o->via.str.size = (uint32_t)n; /* str and bin share the layout */
	o->via.str.ptr = (const char *)p;
}

static void mp_ext(struct mp *r, msgpack_object *o, size_t n)
{
	const uint8_t *p = n < SIZE_MAX ? mp_take(r, 1 + n) : NULL;

	if (!p) {
		r->err = true;
		o->type = MSGPACK_OBJECT_NIL;
		return;
	}
	o->type = MSGPACK_OBJECT_EXT;
	o->via.ext.type = (int8_t)p[0];
	o->via.ext.size = (uint32_t)n;
	o->via.ext.ptr = (const char *)p + 1;
}

/* A fixed-size number of f bytes after the marker. */
static uint64_t mp_num(struct mp *r, unsigned f)
{
	const uint8_t *p = mp_take(r, f);

	return p ? mp_be(p, f) : 0;
}

/*
 * The next item as msgpack-c's unpacker types it (signed encodings of
 * values >= 0 are positive integers, float32 widened). A container
 * only gets its type and *count (pairs for a map); its items follow.
 * An item that does not fit the input (or 0xc1) sets r->err.
 */
static void mp_next(struct mp *r, msgpack_object *o, uint32_t *count)
{
	const uint8_t *m = mp_take(r, 1);
	size_t n = 0;

	o->type = MSGPACK_OBJECT_NIL;
	*count = 0;
	if (!m)
		return;
	uint8_t c = *m;
	unsigned f = 1u << (c & 3); /* 1, 2, 4, 8 for the sized forms */

	if (c <= 0x7f || c >= 0xe0) {
		mp_int(o, c <= 0x7f ? (int64_t)c : (int64_t)(int8_t)c);
	} else if (c >= 0xa0 && c <= 0xbf) {
		mp_raw(r, o, MSGPACK_OBJECT_STR, c & 0x1f);
	} else if (c <= 0x9f) {
		o->type = c <= 0x8f ? MSGPACK_OBJECT_MAP : MSGPACK_OBJECT_ARRAY;
		*count = c & 0x0f;
	} else if (c >= 0xd9 && c <= 0xdb) { /* str 8/16/32 */
		if (mp_len(r, f >> 1, &n))
			mp_raw(r, o, MSGPACK_OBJECT_STR, n);
	} else if (c >= 0xcc && c <= 0xcf) { /* uint 8..64 */
		uint64_t v = mp_num(r, f);
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = v;
	} else if (c >= 0xd0 && c <= 0xd3) { /* int 8..64: sign-extend */
		unsigned sh = 64 - 8 * f;
		mp_int(o, (int64_t)(mp_num(r, f) << sh) >> sh);
	} else if (c == 0xc0) {
		o->type = MSGPACK_OBJECT_NIL;
	} else if (c == 0xc2 || c == 0xc3) {
		o->type = MSGPACK_OBJECT_BOOLEAN;
		o->via.boolean = c == 0xc3;
	} else if (c >= 0xc4 && c <= 0xc6) { /* bin 8/16/32 */
		if (mp_len(r, f, &n))
			mp_raw(r, o, MSGPACK_OBJECT_BIN, n);
	} else if (c >= 0xc7 && c <= 0xc9) { /* ext 8/16/32 */
		if (mp_len(r, 1u << ((c + 1) & 3), &n))
			mp_ext(r, o, n);
	} else if (c == 0xca) {
		uint32_t b32 = (uint32_t)mp_num(r, 4);
		float fv;
		memcpy(&fv, &b32, sizeof(fv));
		o->type = MSGPACK_OBJECT_FLOAT32;
		o->via.f64 = fv;
	} else if (c == 0xcb) {
		uint64_t bits = mp_num(r, 8);
		double dv;
		memcpy(&dv, &bits, sizeof(dv));
		o->type = MSGPACK_OBJECT_FLOAT64;
		o->via.f64 = dv;
	} else if (c >= 0xd4 && c <= 0xd8) { /* fixext 1..16 */
		mp_ext(r, o, (size_t)1 << (c - 0xd4));
	} else if (c >= 0xdc) { /* array/map 16/32 */
		if (mp_len(r, c & 1 ? 4 : 2, &n)) {
			o->type = c >= 0xde ? MSGPACK_OBJECT_MAP : MSGPACK_OBJECT_ARRAY;
			*count = (uint32_t)n;
		}
	} else {
		r->err = true; /* 0xc1: never used */
	}
	if (r->err)
		o->type = MSGPACK_OBJECT_NIL;
}

/* msgpack-c's unpacker refuses (NOMEM) a container opened inside this
 * many non-empty ones (MSGPACK_EMBED_STACK_SIZE): same limit, same status. */
#define MP_MAX_OPEN 32

static void json_item(struct jw *w, struct mp *r, int depth);

static bool json_going(const struct jw *w, const struct mp *r)
{
	return !w->full && !w->bad && !r->err;
}

static void json_array(struct jw *w, struct mp *r, uint32_t n, int depth)
{
	jw_ch(w, '[');
	for (uint32_t i = 0; i < n && json_going(w, r); i++) {
		if (i)
			jw_ch(w, ',');
		json_item(w, r, depth);
	}
	jw_ch(w, ']');
}

/* Records only have string keys (bin accepted as the same bytes). */
static bool json_key_bytes(const msgpack_object *k, const char **p, size_t *n)
{
	if (k->type == MSGPACK_OBJECT_STR) {
		*p = k->via.str.ptr;
		*n = k->via.str.size;
		return true;
	}
	if (k->type == MSGPACK_OBJECT_BIN) {
		*p = k->via.bin.ptr;
		*n = k->via.bin.size;
		return true;
	}
	return false;
}

/* A base64 bin at key K gets a sibling "K_base64": true right after it. */
static void json_map(struct jw *w, struct mp *r, uint32_t n, int depth)
{
	jw_ch(w, '{');
	for (uint32_t i = 0; i < n && json_going(w, r); i++) {
		msgpack_object key, val;
		uint32_t kc = 0;
		const char *k;
		size_t kn;

		mp_next(r, &key, &kc);
		if (r->err)
			break;
		if (!json_key_bytes(&key, &k, &kn)) {
			w->bad = true;
			break;
		}
		if (i)
			jw_ch(w, ',');
		json_str(w, k, kn, (size_t)(r->end - (const uint8_t *)k));
		jw_ch(w, ':');
		if (r->p == r->end || *r->p < 0xc4 || *r->p > 0xc6) { /* not bin 8/16/32 */
			json_item(w, r, depth);
			continue;
		}
		uint32_t vc = 0;

		mp_next(r, &val, &vc);
		if (r->err)
			break;
		if (!json_bin(w, &val.via.bin) || w->bad)
			continue;
		jw_lit(w, ",\"");
		json_str_body(w, k, kn, false);
		jw_lit(w, "_base64\":true");
	}
	jw_ch(w, '}');
}

static void json_ext(struct jw *w, const msgpack_object *o)
{
	char buf[GCP_FMT_U64_LEN + 2];

	if (o->via.ext.type == -1) {
		json_ts(w, o);
		return;
	}
	/* Not produced by the builder; keep it lossless anyway. */
	jw_lit(w, "{\"ext_type\":");
	json_int(w, buf, sizeof(buf), o->via.ext.type < 0,
		 (uint64_t)(o->via.ext.type < 0 ? -o->via.ext.type : o->via.ext.type));
	jw_lit(w, ",\"data\":");
	json_base64(w, (const uint8_t *)o->via.ext.ptr, o->via.ext.size);
	jw_ch(w, '}');
}

/* One item inside depth open containers. */
static void json_item(struct jw *w, struct mp *r, int depth)
{
	char buf[32];
	msgpack_object o;
	uint32_t n = 0;

	mp_next(r, &o, &n);
	if (r->err)
		return;
	if ((o.type == MSGPACK_OBJECT_ARRAY || o.type == MSGPACK_OBJECT_MAP) &&
	    depth >= MP_MAX_OPEN) {
		r->err = true; /* where msgpack-c stopped */
		return;
	}
	switch (o.type) {
	case MSGPACK_OBJECT_NIL: jw_lit(w, "null"); break;
	case MSGPACK_OBJECT_BOOLEAN: jw_lit(w, o.via.boolean ? "true" : "false"); break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		json_int(w, buf, sizeof(buf), false, o.via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		json_int(w, buf, sizeof(buf), true, 0 - (uint64_t)o.via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32: json_double(w, o.via.f64, true); break;
	case MSGPACK_OBJECT_FLOAT64: json_double(w, o.via.f64, false); break;
	case MSGPACK_OBJECT_STR:
		json_str(w, o.via.str.ptr, o.via.str.size, (size_t)(r->end - (const uint8_t *)o.via.str.ptr));
		break;
	case MSGPACK_OBJECT_BIN: json_bin(w, &o.via.bin); break;
	case MSGPACK_OBJECT_ARRAY: json_array(w, r, n, depth + 1); break;
	case MSGPACK_OBJECT_MAP: json_map(w, r, n, depth + 1); break;
	case MSGPACK_OBJECT_EXT: json_ext(w, &o); break;
	default: w->bad = true; break;
	}
}

/* Big-endian length field of n bytes (1, 2 or 4). */
static size_t be_len(const uint8_t *p, unsigned n)
{
	size_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * Size of one MessagePack header at p: *hdr bytes of header, *body
 * bytes of payload, *items children (a map's pairs count twice).
 * Returns false for the never-used 0xc1.
 */
static bool mp_header(const uint8_t *p, size_t left, size_t *hdr, size_t *body,
		      size_t *items)
{
	static const uint8_t fixed[] = { /* 0xc0..0xdf: payload bytes after the marker */
		0, 0, 0, 0, 1, 2, 4, 1, 2, 4, 4, 8, 1, 2, 4, 8,
		1, 2, 4, 8, 2, 3, 5, 9, 17, 1, 2, 4, 2, 4, 2, 4,
	};
	uint8_t c = p[0];

	*hdr = 1;
	*body = 0;
	*items = 0;
	if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
		return true;
	if (c <= 0x8f) {
		*items = 2u * (c & 0x0f);
		return true;
	}
	if (c <= 0x9f) {
		*items = c & 0x0f;
		return true;
	}
	if (c <= 0xbf) {
		*body = c & 0x1f;
		return true;
	}
	if (c == 0xc1)
		return false;
	unsigned f = fixed[c - 0xc0];
	bool lenfield = (c >= 0xc4 && c <= 0xc9) || (c >= 0xd9);
	if (!lenfield) {
		*body = f;
		return true;
	}
	/* Length/count field of f bytes; ext (0xc7..0xc9) also has a type byte. */
	*hdr = 1 + f + (c >= 0xc7 && c <= 0xc9);
	if (left < *hdr)
		return true; /* caller sees the header overrun */
	size_t v = be_len(p + 1, f);
	if (c >= 0xdc)
		*items = c >= 0xde ? 2 * v : v;
	else
		*body = v;
	return true;
}

/*
 * Walk the bytes once: every pending item needs at
 * least one byte, so a corrupt count can never make the walk believe in
 * more items than the input holds. *deep: some container opens where
 * msgpack-c's unpacker would have stopped with NOMEM.
 */
static bool mp_plausible(const uint8_t *p, size_t len, bool *deep)
{
	const uint8_t *end = p + len;
	size_t pending = 1;
	size_t left[MP_MAX_OPEN]; /* items still to come in each open container */
	int open = 0;

	*deep = false;
	while (pending) {
		size_t rest = (size_t)(end - p), hdr, body, items;
		if (pending > rest || !mp_header(p, rest, &hdr, &body, &items))
			return false;
		if (hdr > rest || body > rest - hdr)
			return false;
		bool container = (p[0] >= 0x80 && p[0] <= 0x9f) || (p[0] >= 0xdc && p[0] <= 0xdf);
		p += hdr + body;
		pending += items - 1;
		if (*deep)
			continue;
		if (open)
			left[open - 1]--; /* this item is one of the innermost container's */
		if (container && open == MP_MAX_OPEN) {
			*deep = true;
			continue;
		}
		if (container && items)
			left[open++] = items;
		while (open && !left[open - 1])
			open--;
	}
	return p == end;
}

static bool mp_top_is_map(const uint8_t *data, size_t len)
{
	return len && ((data[0] >= 0x80 && data[0] <= 0x8f) || data[0] == 0xde || data[0] == 0xdf);
}

/*
 * What a render that did not succeed returns, decided in msgpack-c's
 * order: a malformed input is FORMAT, then an empty buffer FULL, then
 * nesting NOMEM, a top level other than one map FORMAT; only then the
 * render's own outcome (an unrenderable item, or the buffer filled).
 */
static int json_status(const uint8_t *data, size_t len, size_t bufsz, const struct jw *w)
{
	bool deep;

	if (!mp_plausible(data, len, &deep))
		return GCP_ERR_FORMAT;
	if (bufsz == 0)
		return GCP_ERR_FULL;
	if (deep)
		return GCP_ERR_NOMEM;
	if (!mp_top_is_map(data, len) || !w || w->bad)
		return GCP_ERR_FORMAT;
	return GCP_ERR_FULL;
}

GCP_API int gcp_record_to_json(const uint8_t *data, size_t len, char *buf,
			       size_t bufsz, unsigned flags)
{
	if (!data || (!buf && bufsz) || flags != GCP_JSON_DEFAULT)
		return GCP_ERR_INVAL;
	if (bufsz == 0 || !mp_top_is_map(data, len))
		return json_status(data, len, bufsz, NULL);
	/*
	 * Render straight away, reading with bounds checks: a render that
	 * reaches the end of the input having read every item is exactly
	 * the case the checking pass would have let through (one map, no
	 * trailing bytes, nothing too deep). Anything else asks it why.
	 */
	struct jw w = { buf, 0, bufsz - 1, false, false };
	struct mp r = { data, data + len, false };

	json_item(&w, &r, 0);
	jw_ch(&w, '\n');
	if (r.err || w.bad || w.full || r.p != r.end)
		return json_status(data, len, bufsz, &w);
	if (w.len > INT32_MAX)
		return GCP_ERR_FULL;
	buf[w.len] = '\0';
	return (int)w.len;
}
