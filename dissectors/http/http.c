/* SPDX-License-Identifier: BSD-3-Clause */
/* HTTP/1.x dissector: streaming request/response parser (RFC 9112) with
 * pipelining, chunked bodies, gzip/deflate decoding; one record per
 * transaction. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <zlib.h>

#include "dissect.h"

#define HTTP_HDR_CAP (32u * 1024)   /* header block or trailer section */
#define HTTP_LINE_CAP 4096u         /* chunk-size line with extensions */
#define HTTP_MAX_TX 16              /* outstanding transactions per flow */
#define HTTP_MAX_FIELDS 128         /* header fields kept per message */
#define HTTP_BODY_CAP_DEFAULT 4096u
#define HTTP_CONNECT_HOLD (32u * 1024) /* c2s bytes held while CONNECT waits */
#define HTTP_MK_RING 64             /* method kinds remembered per request */
#define HTTP_PROBE_SCAN 4096u

enum http_mkind { MK_OTHER = 0, MK_HEAD, MK_CONNECT };
enum http_coding { CE_NONE = 0, CE_GZIP, CE_DEFLATE, CE_OTHER };
enum http_body { B_NONE, B_LEN, B_CHUNKED, B_CLOSE, B_TUNNEL };

enum http_phase {
	P_IDLE,         /* expecting a start line */
	P_BODY_LEN,     /* Content-Length body */
	P_CHUNK_SIZE,   /* chunk-size line */
	P_CHUNK_DATA,
	P_CHUNK_END,    /* CRLF after chunk-data */
	P_TRAILER,      /* trailer section after last-chunk */
	P_BODY_CLOSE,   /* body delimited by connection close */
	P_CONNECT_WAIT, /* c2s after CONNECT: hold bytes until the answer */
	P_RESYNC,       /* lost framing: look for a start line */
};

enum http_step { S_CONT, S_MORE, S_ERR, S_DONE };
enum http_zstate { ZS_IDLE = 0, ZS_RUN, ZS_OFF };

struct http_span {
	uint16_t off, len;
};

/* One field line as offsets into its header block (block <= 32 KiB). */
struct http_fline {
	struct http_span name, value;
};

/* Header block of one message, parsed in place (views). */
struct http_hdr {
	const uint8_t *base;
	uint32_t len;
	struct http_span sl[3]; /* method target version | version status reason */
	uint16_t nf;
	bool folded;
	struct http_fline f[HTTP_MAX_FIELDS];
	uint64_t clen;
	bool has_clen, bad_clen, te, chunked;
	uint8_t coding;
	uint16_t status;
};

/* Stored copy of a header block for the record. */
struct http_head {
	uint32_t size;
	uint16_t nf;
	struct http_span sl[3];
	struct http_fline f[]; /* nf entries, then the raw block */
};

/* One message (request or response) of a transaction. */
struct http_msg {
	struct http_head *head;
	uint8_t *buf;
	uint32_t cap, blen;
	uint64_t wire_len;   /* body after de-chunking, before decoding */
	bool seen, done, truncated, stop, lost;
	uint8_t coding;      /* decoded when != CE_NONE */
	uint8_t zst;         /* enum http_zstate */
	uint8_t nstash;
	uint8_t stash[2];
	z_stream z;
};

struct http_tx {
	uint64_t seq;
	uint64_t ts;
	uint64_t bytes[2];
	uint16_t status;
	struct http_msg m[2]; /* [GCP_DIR_C2S] request, [GCP_DIR_S2C] response */
};

struct http_dir {
	uint8_t phase;
	bool ts_set;
	uint32_t scan;       /* bytes of a pending block already searched */
	uint64_t left;       /* body or chunk bytes still to come */
	uint64_t msg_ts;
	struct http_tx *tx;  /* NULL: message not recorded */
};

struct http_state {
	struct http_dir d[2];
	struct http_tx *q[HTTP_MAX_TX];
	uint8_t qhead, qlen;
	uint8_t mk[HTTP_MK_RING];
	uint64_t req_seq, resp_seq;
	uint32_t body_cap;
	bool decompress, connect_wait, done, failed;
};

/* ---- small helpers ---------------------------------------------------- */

static inline uint8_t lc(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static bool eq_ci(const uint8_t *p, size_t n, const char *s)
{
	size_t k = strlen(s);
	if (n != k)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lc(p[i]) != (uint8_t)s[i])
			return false;
	return true;
}

static inline bool is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static inline bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* RFC 9110 5.6.2 tchar. */
static bool is_tchar(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static void trim(const uint8_t **p, size_t *n)
{
	while (*n && is_ows(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n && is_ows((*p)[*n - 1]))
		(*n)--;
}

static struct http_dir *dir_of(struct http_state *st, int dir)
{
	return &st->d[dir];
}

static void tx_bytes(struct http_dir *d, int dir, uint64_t n)
{
	if (d->tx)
		d->tx->bytes[dir] += n;
}

/* ---- probe ------------------------------------------------------------- */

static bool is_version(const uint8_t *p, size_t n)
{
	return n == 8 && memcmp(p, "HTTP/", 5) == 0 && is_digit(p[5]) && p[6] == '.' &&
	       is_digit(p[7]);
}

/* RFC 9112 4: status-line starts with HTTP-version. */
static enum gcp_probe_result probe_response(const uint8_t *p, uint32_t n)
{
	static const char pre[] = "HTTP/1.";
	uint32_t k = n < 7 ? n : 7;
	if (memcmp(p, pre, k) != 0)
		return GCP_PROBE_NO;
	return n < 7 ? GCP_PROBE_MAYBE : GCP_PROBE_YES;
}

/* RFC 9113 3.4: the HTTP/2 connection preface starts with this line
 * (cleartext h2c with prior knowledge); we do not dissect HTTP/2. */
static const char h2_preface[] = "PRI * HTTP/2.0";
#define H2_PREFACE_LEN (sizeof(h2_preface) - 1)

/* 1: the data starts with the preface line; 0: it does not; -1: too
 * short to tell. */
static int h2_preface_at(const uint8_t *p, uint32_t n)
{
	uint32_t k = n < H2_PREFACE_LEN ? n : (uint32_t)H2_PREFACE_LEN;
	if (memcmp(p, h2_preface, k) != 0)
		return 0;
	return k == H2_PREFACE_LEN ? 1 : -1;
}

/* RFC 9110 9.3 methods and PATCH (RFC 5789): the only ones accepted
 * alone on a request line (no target, no version), as tshark does. */
static bool known_method(const uint8_t *p, size_t n)
{
	static const char *const m[] = { "GET",	    "HEAD",  "POST",  "PUT",  "DELETE",
					 "CONNECT", "OPTIONS", "TRACE", "PATCH" };
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (strlen(m[i]) == n && memcmp(p, m[i], n) == 0)
			return true;
	return false;
}

/*
 * RFC 9112 3: method SP request-target SP HTTP-version. A first line
 * holding "HTTP/" is a request (any method token, WebDAV, CONNECT,
 * extensions, and also malformed lines such as "GET /HTTP/1.1" or
 * "GET/ HTTP/1.1" that servers answer with 4xx: the parser keeps what it
 * can and pairs the response). A known method alone on its line too.
 * Control bytes before that (TLS, binary protocols) mean no.
 */
static enum gcp_probe_result probe_request(const uint8_t *p, uint32_t n)
{
	int pri = h2_preface_at(p, n);
	if (pri)
		return pri > 0 ? GCP_PROBE_NO : GCP_PROBE_MAYBE;
	uint32_t i = 0;
	while (i < n && i < 32 && is_tchar(p[i]))
		i++;
	uint32_t lim = n < HTTP_PROBE_SCAN ? n : HTTP_PROBE_SCAN;
	for (uint32_t j = 0; j < lim; j++) {
		uint8_t c = p[j];
		if (c == '\r' || c == '\n')
			return (j == i && known_method(p, i)) ? GCP_PROBE_YES : GCP_PROBE_NO;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return GCP_PROBE_NO;
		if (c == 'H' && j + 5 <= n && memcmp(p + j, "HTTP/", 5) == 0)
			return GCP_PROBE_YES;
	}
	return n < HTTP_PROBE_SCAN ? GCP_PROBE_MAYBE : GCP_PROBE_NO;
}

static enum gcp_probe_result http_probe(const uint8_t *data, uint32_t len, int dir)
{
	if (!data || len == 0)
		return GCP_PROBE_MAYBE;
	return dir == GCP_DIR_C2S ? probe_request(data, len) : probe_response(data, len);
}

/* ---- header block parsing (views) ------------------------------------ */

/*
 * End of the header block: the empty line after the fields (RFC 9112 2.1).
 * A bare LF is accepted as line terminator (RFC 9112 2.2). Returns the
 * block length or 0 when it is not complete; *scan remembers progress.
 */
static uint32_t block_end(const uint8_t *p, uint32_t n, uint32_t *scan)
{
	uint32_t i = *scan;
	while (i < n) {
		const uint8_t *nl = memchr(p + i, '\n', n - i);
		if (!nl)
			break;
		i = (uint32_t)(nl - p);
		if (i + 1 >= n || (p[i + 1] == '\r' && i + 2 >= n)) {
			*scan = i;
			return 0;
		}
		if (p[i + 1] == '\n')
			return i + 2;
		if (p[i + 1] == '\r' && p[i + 2] == '\n')
			return i + 3;
		i++;
	}
	*scan = n;
	return 0;
}

static struct http_span span(const uint8_t *base, const uint8_t *p, size_t n)
{
	struct http_span s = { (uint16_t)(p - base), (uint16_t)n };
	return s;
}

/* status-line = HTTP-version SP status-code SP [ reason-phrase ]. */
static bool split_status(struct http_hdr *h, const uint8_t *p, size_t n)
{
	const uint8_t *e = p + n, *a = p, *b, *c;
	while (a < e && !is_ows(*a))
		a++;
	if (a == p)
		return false;
	b = a;
	while (b < e && is_ows(*b))
		b++;
	h->sl[0] = span(h->base, p, (size_t)(a - p));
	c = b;
	while (c < e && !is_ows(*c))
		c++;
	h->sl[1] = span(h->base, b, (size_t)(c - b));
	while (c < e && is_ows(*c))
		c++;
	h->sl[2] = span(h->base, c, (size_t)(e - c));
	return true;
}

/*
 * request-line = method SP request-target SP HTTP-version (RFC 9112 3),
 * read the way tshark reads it: method = the token before the first SP;
 * the last word is the version when it starts with "HTTP/" and a target
 * precedes it (the target may hold spaces, RFC 9112 3 last paragraph);
 * otherwise everything after the method is the target and there is no
 * version ("GET /HTTP/1.1", "OPTIONS HTTP/1.1"). A known method alone on
 * the line ("OPTIONS") is kept with neither. A version that only starts
 * with "HTTP/" ("HTTP/1.") is kept, as Zeek and tshark do. Each of these
 * departures counts an anomaly; sl[1]/sl[2] stay empty when absent.
 */
static bool parse_request_line(struct gcp_dissect_ctx *ctx, struct http_hdr *h, const uint8_t *p,
			       size_t n)
{
	const uint8_t *e = p + n, *a = p, *b, *c, *v;
	while (e > p && is_ows(e[-1]))
		e--;
	while (a < e && is_tchar(*a))
		a++;
	if (a == p || (a < e && !is_ows(*a)))
		return false; /* method = token (RFC 9110 9.1) */
	h->sl[0] = span(h->base, p, (size_t)(a - p));
	h->sl[1] = h->sl[2] = span(h->base, p, 0);
	if (a == e) {
		if (!known_method(p, (size_t)(a - p)))
			return false;
		gcp_dctx_anomaly(ctx);
		return true;
	}
	b = a;
	while (b < e && is_ows(*b))
		b++;
	v = e;
	while (v > b && !is_ows(v[-1]))
		v--;
	c = v;
	while (c > b && is_ows(c[-1]))
		c--;
	size_t vn = (size_t)(e - v);
	if (c > b && vn >= 5 && memcmp(v, "HTTP/", 5) == 0) {
		h->sl[1] = span(h->base, b, (size_t)(c - b));
		h->sl[2] = span(h->base, v, vn);
		if (!is_version(v, vn))
			gcp_dctx_anomaly(ctx);
		return true;
	}
	h->sl[1] = span(h->base, b, (size_t)(e - b));
	gcp_dctx_anomaly(ctx);
	return true;
}

static bool parse_status_line(struct http_hdr *h, const uint8_t *p, size_t n)
{
	if (!split_status(h, p, n) || !is_version(h->base + h->sl[0].off, h->sl[0].len))
		return false;
	const uint8_t *s = h->base + h->sl[1].off;
	if (h->sl[1].len != 3 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2]))
		return false;
	h->status = (uint16_t)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
	return true;
}

/* Content-Length = 1*DIGIT; a list of identical values is accepted
 * (RFC 9110 8.6, RFC 9112 6.3 item 5). */
static bool parse_clen(const uint8_t *p, size_t n, uint64_t *out)
{
	uint64_t v = 0, first = 0;
	bool have = false, any = false, ended = false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (is_digit(c)) {
			if (ended || v > (UINT64_C(1) << 60))
				return false;
			v = v * 10 + (uint64_t)(c - '0');
			have = true;
		} else if (c == ',') {
			if (!have || (any && v != first))
				return false;
			first = v;
			any = true;
			v = 0;
			have = ended = false;
		} else if (is_ows(c)) {
			ended = have;
		} else {
			return false;
		}
	}
	if (!have || (any && v != first))
		return false;
	*out = v;
	return true;
}

static uint8_t parse_coding(const uint8_t *p, size_t n)
{
	trim(&p, &n);
	if (n == 0 || eq_ci(p, n, "identity"))
		return CE_NONE;
	if (eq_ci(p, n, "gzip") || eq_ci(p, n, "x-gzip"))
		return CE_GZIP;
	if (eq_ci(p, n, "deflate"))
		return CE_DEFLATE;
	return CE_OTHER; /* br, zstd, lists: kept as is */
}

/* RFC 9112 6.1: chunked must be the final transfer coding. */
static bool final_chunked(const uint8_t *p, size_t n)
{
	const uint8_t *c = p + n;
	while (c > p && c[-1] != ',')
		c--;
	size_t k = (size_t)(p + n - c);
	trim(&c, &k);
	return eq_ci(c, k, "chunked");
}

static void framing_field(struct gcp_dissect_ctx *ctx, struct http_hdr *h,
			  const uint8_t *name, size_t nn, const uint8_t *v, size_t vn)
{
	if (eq_ci(name, nn, "content-length")) {
		uint64_t cl = 0;
		if (!parse_clen(v, vn, &cl) || (h->has_clen && cl != h->clen)) {
			h->bad_clen = true;
			gcp_dctx_anomaly(ctx);
		} else {
			h->clen = cl;
		}
		h->has_clen = true;
	} else if (eq_ci(name, nn, "transfer-encoding")) {
		h->te = true;
		h->chunked = final_chunked(v, vn);
	} else if (eq_ci(name, nn, "content-encoding")) {
		uint8_t c = parse_coding(v, vn);
		h->coding = (h->coding != CE_NONE && c != CE_NONE) ? CE_OTHER : (c ? c : h->coding);
	}
}

/* obs-fold (RFC 9112 5.2): the line continues the previous value. */
static void fold_line(struct gcp_dissect_ctx *ctx, struct http_hdr *h, const uint8_t *p, size_t n)
{
	if (h->nf == 0) { /* RFC 9112 2.2: whitespace before the first field */
		gcp_dctx_anomaly(ctx);
		return;
	}
	while (n && is_ows(p[n - 1]))
		n--;
	struct http_fline *f = &h->f[h->nf - 1];
	const uint8_t *v = h->base + f->value.off;
	if (n && (size_t)(p + n - v) <= UINT16_MAX) {
		f->value.len = (uint16_t)(p + n - v);
		h->folded = true;
	}
}

/* field-line = field-name ":" OWS field-value OWS (RFC 9112 5). */
static void field_line(struct gcp_dissect_ctx *ctx, struct http_hdr *h, const uint8_t *p, size_t n)
{
	if (is_ows(p[0])) {
		fold_line(ctx, h, p, n);
		return;
	}
	const uint8_t *colon = memchr(p, ':', n);
	if (!colon || colon == p) {
		gcp_dctx_anomaly(ctx);
		return;
	}
	size_t nn = (size_t)(colon - p);
	if (is_ows(p[nn - 1])) /* RFC 9112 5.1: no whitespace before the colon */
		gcp_dctx_anomaly(ctx);
	while (nn && is_ows(p[nn - 1]))
		nn--;
	const uint8_t *v = colon + 1;
	size_t vn = n - (size_t)(v - p);
	trim(&v, &vn);
	framing_field(ctx, h, p, nn, v, vn);
	if (h->nf == HTTP_MAX_FIELDS) {
		gcp_dctx_anomaly(ctx);
		return;
	}
	h->f[h->nf].name = span(h->base, p, nn);
	h->f[h->nf].value = span(h->base, v, vn);
	h->nf++;
}

/* Parse a complete header block; false when the start line is invalid. */
static bool parse_block(struct gcp_dissect_ctx *ctx, struct http_hdr *h, int dir)
{
	const uint8_t *p = h->base, *e = h->base + h->len;
	bool first = true;
	while (p < e) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(e - p));
		size_t n = (size_t)(nl - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (first) {
			bool ok = dir == GCP_DIR_C2S ? parse_request_line(ctx, h, p, n)
						     : parse_status_line(h, p, n);
			if (!ok)
				return false;
			first = false;
		} else if (n == 0) {
			break;
		} else {
			field_line(ctx, h, p, n);
		}
		p = nl + 1;
	}
	return true;
}

/* ---- inflate (zlib, allocations from the engine pool) ----------------- */

#define ZHDR 16u

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
	size_t n = (size_t)items * size + ZHDR;
	uint8_t *p = gcp_dctx_alloc(opaque, n);
	if (!p)
		return Z_NULL;
	memcpy(p, &n, sizeof(n));
	return p + ZHDR;
}

static void z_free(voidpf opaque, voidpf ptr)
{
	if (!ptr)
		return;
	uint8_t *p = (uint8_t *)ptr - ZHDR;
	size_t n;
	memcpy(&n, p, sizeof(n));
	gcp_dctx_free(opaque, p, n);
}

static void zs_stop(struct gcp_dissect_ctx *ctx, struct http_msg *m)
{
	if (m->zst == ZS_RUN) {
		m->z.opaque = ctx;
		inflateEnd(&m->z);
	}
	m->zst = ZS_OFF;
}

static bool body_buf(struct http_state *st, struct gcp_dissect_ctx *ctx, struct http_msg *m)
{
	if (m->buf)
		return true;
	m->buf = gcp_dctx_alloc(ctx, st->body_cap);
	if (!m->buf) {
		gcp_dctx_anomaly(ctx);
		m->truncated = m->stop = true;
		return false;
	}
	m->cap = st->body_cap;
	return true;
}

/* Inflate into the body buffer; stop once it is full and more output
 * exists (bounded work whatever the compression ratio). */
static void zs_feed(struct gcp_dissect_ctx *ctx, struct http_msg *m, const uint8_t *p, uint32_t n)
{
	z_stream *z = &m->z;
	z->opaque = ctx;
	z->next_in = (Bytef *)(uintptr_t)p;
	z->avail_in = n;
	for (int guard = 0; guard < 64; guard++) {
		uint8_t one;
		bool full = m->blen == m->cap;
		z->next_out = full ? &one : m->buf + m->blen;
		z->avail_out = full ? 1 : m->cap - m->blen;
		int ret = inflate(z, Z_NO_FLUSH);
		if (full && z->avail_out == 0) {
			m->truncated = true;
			break;
		}
		if (!full)
			m->blen = m->cap - z->avail_out;
		if (ret == Z_STREAM_END)
			break;
		if (ret == Z_BUF_ERROR)
			return;
		if (ret != Z_OK) {
			gcp_dctx_anomaly(ctx);
			m->truncated = true;
			break;
		}
		if (z->avail_in == 0 && z->avail_out > 0)
			return;
	}
	zs_stop(ctx, m);
}

/* zlib header check (RFC 1950 2.2): CM 8 and FCHECK. */
static bool zlib_header(const uint8_t *h)
{
	return (h[0] & 0x0f) == 8 && (h[0] >> 4) <= 7 && ((h[0] << 8) | h[1]) % 31 == 0;
}

/* gzip: zlib auto-detects gzip/zlib. deflate: servers send zlib-wrapped
 * (RFC 9110 8.4.1.2) or raw deflate; look at two bytes to tell. */
static bool zs_start(struct gcp_dissect_ctx *ctx, struct http_msg *m, const uint8_t **p, uint32_t *n)
{
	int wbits = 15 + 32;
	if (m->coding == CE_DEFLATE) {
		while (m->nstash < 2 && *n) {
			m->stash[m->nstash++] = **p;
			(*p)++;
			(*n)--;
		}
		if (m->nstash < 2)
			return false;
		wbits = zlib_header(m->stash) ? 15 : -15;
	}
	memset(&m->z, 0, sizeof(m->z));
	m->z.zalloc = z_alloc;
	m->z.zfree = z_free;
	m->z.opaque = ctx;
	if (inflateInit2(&m->z, wbits) != Z_OK) {
		gcp_dctx_anomaly(ctx);
		m->zst = ZS_OFF;
		m->truncated = true;
		return false;
	}
	m->zst = ZS_RUN;
	if (m->coding == CE_DEFLATE)
		zs_feed(ctx, m, m->stash, 2);
	return m->zst == ZS_RUN;
}

/* ---- body bytes --------------------------------------------------------- */

static void body_store(struct http_state *st, struct gcp_dissect_ctx *ctx, struct http_msg *m,
		       const uint8_t *p, uint32_t n)
{
	if (m->stop || n == 0 || !body_buf(st, ctx, m))
		return;
	if (m->coding != CE_NONE) {
		if (m->zst == ZS_IDLE && !zs_start(ctx, m, &p, &n))
			return;
		if (m->zst == ZS_RUN && n)
			zs_feed(ctx, m, p, n);
		return;
	}
	uint32_t k = m->cap - m->blen < n ? m->cap - m->blen : n;
	memcpy(m->buf + m->blen, p, k);
	m->blen += k;
	if (k < n)
		m->truncated = m->stop = true;
}

/* Body bytes after de-chunking; p == NULL for a gap of n bytes. */
static void body_data(struct http_state *st, struct gcp_dissect_ctx *ctx, struct http_dir *d,
		      int dir, const uint8_t *p, uint64_t n)
{
	if (!d->tx)
		return;
	struct http_msg *m = &d->tx->m[dir];
	m->wire_len += n;
	if (p) {
		body_store(st, ctx, m, p, (uint32_t)n);
		return;
	}
	m->truncated = m->stop = true; /* data after a hole is not kept */
	zs_stop(ctx, m);
}

/* ---- transactions ------------------------------------------------------ */

static void msg_free(struct gcp_dissect_ctx *ctx, struct http_msg *m)
{
	zs_stop(ctx, m);
	if (m->head)
		gcp_dctx_free(ctx, m->head, m->head->size);
	if (m->buf)
		gcp_dctx_free(ctx, m->buf, m->cap);
	m->head = NULL;
	m->buf = NULL;
}

static void tx_free(struct http_state *st, struct gcp_dissect_ctx *ctx, struct http_tx *tx)
{
	for (int i = 0; i < 2; i++) {
		if (st->d[i].tx == tx)
			st->d[i].tx = NULL;
		msg_free(ctx, &tx->m[i]);
	}
	gcp_dctx_free(ctx, tx, sizeof(*tx));
}

/* RFC 9112 5.2: replace each obs-fold (CRLF 1*WSP) with one SP, in place. */
static uint16_t unfold(uint8_t *v, uint16_t n)
{
	uint16_t w = 0;
	for (uint16_t r = 0; r < n; r++) {
		if (v[r] != '\r' && v[r] != '\n') {
			v[w++] = v[r];
			continue;
		}
		while (r + 1 < n && (v[r + 1] == '\r' || v[r + 1] == '\n' || is_ows(v[r + 1])))
			r++;
		while (w && is_ows(v[w - 1]))
			w--;
		v[w++] = ' ';
	}
	return w;
}

static struct http_head *head_store(struct gcp_dissect_ctx *ctx, const struct http_hdr *h)
{
	size_t fl = (size_t)h->nf * sizeof(struct http_fline);
	size_t sz = sizeof(struct http_head) + fl + h->len;
	struct http_head *hd = gcp_dctx_alloc(ctx, sz);
	if (!hd) {
		gcp_dctx_anomaly(ctx);
		return NULL;
	}
	hd->size = (uint32_t)sz;
	hd->nf = h->nf;
	memcpy(hd->sl, h->sl, sizeof(hd->sl));
	memcpy(hd->f, h->f, fl);
	uint8_t *raw = (uint8_t *)(hd->f + hd->nf);
	memcpy(raw, h->base, h->len);
	for (uint16_t i = 0; h->folded && i < hd->nf; i++)
		hd->f[i].value.len = unfold(raw + hd->f[i].value.off, hd->f[i].value.len);
	return hd;
}

static const uint8_t *head_raw(const struct http_head *hd)
{
	return (const uint8_t *)(hd->f + hd->nf);
}

static void msg_begin(struct http_state *st, struct gcp_dissect_ctx *ctx, struct http_msg *m,
		      const struct http_hdr *h)
{
	m->seen = true;
	m->head = head_store(ctx, h);
	m->coding = (st->decompress && (h->coding == CE_GZIP || h->coding == CE_DEFLATE))
			    ? h->coding : CE_NONE;
}

static bool tx_ready(const struct http_tx *tx)
{
	bool req = !tx->m[0].seen || tx->m[0].done;
	bool resp = tx->m[1].done || tx->m[1].lost;
	return req && resp;
}

static void emit_tx(struct gcp_dissect_ctx *ctx, const struct http_tx *tx);

static void q_pop_emit(struct http_state *st, struct gcp_dissect_ctx *ctx)
{
	struct http_tx *tx = st->q[st->qhead];
	st->q[st->qhead] = NULL;
	st->qhead = (uint8_t)((st->qhead + 1) % HTTP_MAX_TX);
	st->qlen--;
	emit_tx(ctx, tx);
	tx_free(st, ctx, tx);
}

/* Records leave in transaction order. */
static void emit_ready(struct http_state *st, struct gcp_dissect_ctx *ctx)
{
	while (st->qlen && tx_ready(st->q[st->qhead]))
		q_pop_emit(st, ctx);
}

static struct http_tx *tx_new(struct http_state *st, struct gcp_dissect_ctx *ctx, uint64_t seq,
			      uint64_t ts)
{
	if (!gcp_dctx_wants(ctx, GCP_REC_HTTP))
		return NULL;
	if (st->qlen == HTTP_MAX_TX) { /* cap: the oldest goes out as it is */
		gcp_dctx_anomaly(ctx);
		q_pop_emit(st, ctx);
	}
	struct http_tx *tx = gcp_dctx_alloc(ctx, sizeof(*tx));
	if (!tx) {
		gcp_dctx_anomaly(ctx);
		return NULL;
	}
	memset(tx, 0, sizeof(*tx));
	tx->seq = seq;
	tx->ts = ts;
	st->q[(st->qhead + st->qlen) % HTTP_MAX_TX] = tx;
	st->qlen++;
	return tx;
}

static struct http_tx *tx_find(struct http_state *st, uint64_t seq)
{
	for (unsigned i = 0; i < st->qlen; i++) {
		struct http_tx *tx = st->q[(st->qhead + i) % HTTP_MAX_TX];
		if (tx->seq == seq && tx->m[0].seen)
			return tx;
	}
	return NULL;
}

/* Responses come in request order (RFC 9112 9.3.2): older transactions
 * still without one will not get it. */
static void mark_lost(struct http_state *st, uint64_t seq)
{
	for (unsigned i = 0; i < st->qlen; i++) {
		struct http_tx *tx = st->q[(st->qhead + i) % HTTP_MAX_TX];
		if (tx->seq < seq && !tx->m[1].seen)
			tx->m[1].lost = true;
	}
}

/* ---- message state machine -------------------------------------------- */

static void msg_done(struct http_state *st, struct gcp_dissect_ctx *ctx, int dir)
{
	struct http_dir *d = dir_of(st, dir);
	if (d->tx) {
		struct http_msg *m = &d->tx->m[dir];
		zs_stop(ctx, m);
		m->done = true;
		d->tx = NULL;
	}
	d->phase = P_IDLE;
	d->left = 0;
	emit_ready(st, ctx);
}

/* The message ends early (FIN, gap, error): what came is kept. */
static void msg_cut(struct http_state *st, struct gcp_dissect_ctx *ctx, int dir)
{
	struct http_dir *d = dir_of(st, dir);
	if (d->tx && d->phase != P_BODY_CLOSE && d->phase != P_IDLE &&
	    d->phase != P_CONNECT_WAIT)
		d->tx->m[dir].truncated = true;
	msg_done(st, ctx, dir);
}

/* RFC 9112 6.3: message body length, request side. */
static uint8_t req_body_mode(struct gcp_dissect_ctx *ctx, const struct http_hdr *h)
{
	if (h->te) {
		if (h->has_clen) /* item 3: TE overrides CL; smuggling sign */
			gcp_dctx_anomaly(ctx);
		if (h->chunked)
			return B_CHUNKED;
		gcp_dctx_anomaly(ctx); /* item 4: request must be rejected */
		return B_CLOSE;
	}
	if (h->bad_clen) /* item 5 */
		return B_NONE;
	return (h->has_clen && h->clen) ? B_LEN : B_NONE; /* item 6 */
}

/* RFC 9112 6.3: message body length, response side. */
static uint8_t resp_body_mode(struct gcp_dissect_ctx *ctx, const struct http_hdr *h, uint8_t mk)
{
	uint16_t s = h->status;
	if (mk == MK_CONNECT && s >= 200 && s < 300) /* item 2 */
		return B_TUNNEL;
	if (s == 101)
		return B_TUNNEL;
	if (mk == MK_HEAD || s < 200 || s == 204 || s == 304) /* item 1 */
		return B_NONE;
	if (h->te) {
		if (h->has_clen)
			gcp_dctx_anomaly(ctx);
		return h->chunked ? B_CHUNKED : B_CLOSE; /* item 4 */
	}
	if (h->bad_clen)
		return B_CLOSE;
	if (h->has_clen)
		return h->clen ? B_LEN : B_NONE;
	return B_CLOSE; /* item 8 */
}

static enum http_step start_body(struct http_state *st, struct gcp_dissect_ctx *ctx, int dir,
				 uint8_t mode, uint64_t clen)
{
	struct http_dir *d = dir_of(st, dir);
	switch (mode) {
	case B_LEN:
		d->phase = P_BODY_LEN;
		d->left = clen;
		return S_CONT;
	case B_CHUNKED:
		d->phase = P_CHUNK_SIZE;
		return S_CONT;
	case B_CLOSE:
		d->phase = P_BODY_CLOSE;
		return S_CONT;
	case B_TUNNEL:
		msg_done(st, ctx, dir);
		return S_DONE;
	default:
		msg_done(st, ctx, dir);
		return S_CONT;
	}
}

static uint8_t method_kind(const struct http_hdr *h)
{
	const uint8_t *m = h->base + h->sl[0].off;
	if (h->sl[0].len == 4 && memcmp(m, "HEAD", 4) == 0)
		return MK_HEAD;
	if (h->sl[0].len == 7 && memcmp(m, "CONNECT", 7) == 0)
		return MK_CONNECT;
	return MK_OTHER;
}

static enum http_step on_request(struct http_state *st, struct gcp_dissect_ctx *ctx,
				 const struct http_hdr *h)
{
	struct http_dir *d = dir_of(st, GCP_DIR_C2S);
	uint64_t seq = st->req_seq++;
	uint8_t mk = method_kind(h);
	st->mk[seq % HTTP_MK_RING] = mk;
	d->tx = tx_new(st, ctx, seq, d->msg_ts);
	if (d->tx)
		msg_begin(st, ctx, &d->tx->m[GCP_DIR_C2S], h);
	tx_bytes(d, GCP_DIR_C2S, h->len);
	enum http_step s = start_body(st, ctx, GCP_DIR_C2S, req_body_mode(ctx, h), h->clen);
	if (mk == MK_CONNECT && d->phase == P_IDLE) {
		d->phase = P_CONNECT_WAIT;
		st->connect_wait = true;
	}
	return s;
}

/* 1xx (but 101) is interim (RFC 9110 15.2): counted, not recorded. */
static enum http_step on_interim(struct http_state *st, const struct http_hdr *h)
{
	struct http_tx *tx = tx_find(st, st->resp_seq);
	if (tx)
		tx->bytes[GCP_DIR_S2C] += h->len;
	return S_CONT;
}

static void connect_answered(struct http_state *st)
{
	st->connect_wait = false;
	if (st->d[GCP_DIR_C2S].phase == P_CONNECT_WAIT)
		st->d[GCP_DIR_C2S].phase = P_IDLE;
}

static enum http_step on_response(struct http_state *st, struct gcp_dissect_ctx *ctx,
				  const struct http_hdr *h)
{
	struct http_dir *d = dir_of(st, GCP_DIR_S2C);
	if (h->status < 200 && h->status != 101)
		return on_interim(st, h);
	uint64_t seq = st->resp_seq++;
	uint8_t mk = seq < st->req_seq ? st->mk[seq % HTTP_MK_RING] : MK_OTHER;
	mark_lost(st, seq);
	struct http_tx *tx = tx_find(st, seq);
	if (!tx && seq >= st->req_seq) { /* no request seen: midstream */
		st->req_seq = seq + 1;
		tx = tx_new(st, ctx, seq, d->msg_ts);
	}
	d->tx = tx;
	if (tx) {
		tx->status = h->status;
		msg_begin(st, ctx, &tx->m[GCP_DIR_S2C], h);
	}
	tx_bytes(d, GCP_DIR_S2C, h->len);
	if (mk == MK_CONNECT)
		connect_answered(st);
	enum http_step s = start_body(st, ctx, GCP_DIR_S2C, resp_body_mode(ctx, h, mk), h->clen);
	emit_ready(st, ctx);
	return s;
}

/* ---- steps: each consumes a prefix of the data --------------------------- */

static enum http_step step_idle(struct http_state *st, struct gcp_dissect_ctx *ctx, int dir,
				const uint8_t *p, uint32_t n, uint32_t *used)
{
	struct http_dir *d = dir_of(st, dir);
	uint32_t i = 0;
	while (i < n && (p[i] == '\r' || p[i] == '\n')) /* RFC 9112 2.2 */
		i++;
	if (i) {
		*used = i;
		return S_CONT;
	}
	if (dir == GCP_DIR_C2S) {
		int pri = h2_preface_at(p, n);
		if (pri < 0)
			return S_MORE;
		if (pri > 0) /* HTTP/2 from here on (RFC 9113 3.4): not ours */
			return S_DONE;
	}
	if (!d->ts_set) {
		d->msg_ts = gcp_dctx_now(ctx);
		d->ts_set = true;
	}
	uint32_t lim = n < HTTP_HDR_CAP ? n : HTTP_HDR_CAP;
	struct http_hdr h;
	h.len = block_end(p, lim, &d->scan);
	if (!h.len) {
		if (n < HTTP_HDR_CAP)
			return S_MORE;
		gcp_dctx_anomaly(ctx); /* header block over the cap */
		return S_ERR;
	}
	d->scan = 0;
	d->ts_set = false;
	h.base = p;
	h.nf = 0;
	h.folded = h.has_clen = h.bad_clen = h.te = h.chunked = false;
	h.coding = CE_NONE;
	h.clen = 0;
	h.status = 0;
	if (!parse_block(ctx, &h, dir)) {
		gcp_dctx_anomaly(ctx);
		const uint8_t *nl = memchr(p, '\n', h.len);
		*used = (uint32_t)(nl - p) + 1;
		d->phase = P_RESYNC;
		return S_CONT;
	}
	*used = h.len;
	return dir == GCP_DIR_C2S ? on_request(st, ctx, &h) : on_response(st, ctx, &h);
}

static enum http_step step_len(struct http_state *st, struct gcp_dissect_ctx *ctx, int dir,
			       const uint8_t *p, uint32_t n, uint32_t *used)
{
	struct http_dir *d = dir_of(st, dir);
	uint32_t k = d->left < n ? (uint32_t)d->left : n;
	body_data(st, ctx, d, dir, p, k);
	tx_bytes(d, dir, k);
	d->left -= k;
	*used = k;
	if (d->left == 0) {
		if (d->phase == P_CHUNK_DATA)
			d->phase = P_CHUNK_END;
		else
			msg_done(st, ctx, dir);
	}
	return S_CONT;
}

/* chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF (RFC 9112 7.1). */
static enum http_step step_chunk_size(struct http_state *st, struct gcp_dissect_ctx *ctx, int dir,
				      const uint8_t *p, uint32_t n, uint32_t *used)
{
	struct http_dir *d = dir_of(st, dir);
	uint32_t lim = n < HTTP_LINE_CAP ? n : HTTP_LINE_CAP;
	const uint8_t *nl = memchr(p, '\n', lim);
	if (!nl) {
		if (n < HTTP_LINE_CAP)
			return S_MORE;
		gcp_dctx_anomaly(ctx);
		return S_ERR;
	}
	uint64_t v = 0;
	uint32_t i = 0;
	for (; i < lim && p[i] != '\n'; i++) {
		uint8_t c = lc(p[i]);
		int x = is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
		if (x < 0)
			break;
		if (v >> 59) { /* would overflow: 2^64 and friends */
			gcp_dctx_anomaly(ctx);
			return S_ERR;
		}
		v = v << 4 | (uint64_t)x;
	}
	if (i == 0 || (p[i] != ';' && p[i] != '\r' && p[i] != '\n' && !is_ows(p[i]))) {
		gcp_dctx_anomaly(ctx);
		return S_ERR;
	}
	*used = (uint32_t)(nl - p) + 1;
	tx_bytes(d, dir, *used);
	d->left = v;
	d->phase = v ? P_CHUNK_DATA : P_TRAILER; /* 7.1: last-chunk */
	return S_CONT;
}

static enum http_step step_chunk_end(struct http_state *st, struct gcp_dissect_ctx *ctx, int dir,
				     const uint8_t *p, uint32_t n, uint32_t *used)
{
	struct http_dir *d = dir_of(st, dir);
	if (p[0] == '\r' && n < 2)
		return S_MORE;
	d->phase = P_CHUNK_SIZE;
	if (p[0] == '\n')
		*used = 1;
	else if (p[0] == '\r' && p[1] == '\n')
		*used = 2;
	else
		gcp_dctx_anomaly(ctx); /* missing CRLF: read on as a size line */
	tx_bytes(d, dir, *used);
	return S_CONT;
}

/* trailer-section CRLF (RFC 9112 7.1.2); trailer fields are not kept. */
static enum http_step step_trailer(struct http_state *st, struct gcp_dissect_ctx *ctx, int dir,
				   const uint8_t *p, uint32_t n, uint32_t *used)
{
	struct http_dir *d = dir_of(st, dir);
	uint32_t end = 0;
	if (p[0] == '\n')
		end = 1;
	else if (p[0] == '\r' && n >= 2 && p[1] == '\n')
		end = 2;
	else if (p[0] == '\r' && n < 2)
		return S_MORE;
	else
		end = block_end(p, n < HTTP_HDR_CAP ? n : HTTP_HDR_CAP, &d->scan);
	if (!end) {
		if (n < HTTP_HDR_CAP)
			return S_MORE;
		gcp_dctx_anomaly(ctx);
		return S_ERR;
	}
	d->scan = 0;
	*used = end;
	tx_bytes(d, dir, end);
	msg_done(st, ctx, dir);
	return S_CONT;
}

static enum http_step step_close(struct http_state *st, struct gcp_dissect_ctx *ctx, int dir,
				 const uint8_t *p, uint32_t n, uint32_t *used)
{
	struct http_dir *d = dir_of(st, dir);
	body_data(st, ctx, d, dir, p, n);
	tx_bytes(d, dir, n);
	*used = n;
	return S_CONT;
}

static enum http_step step_connect_wait(struct http_state *st, uint32_t n)
{
	if (!st->connect_wait) {
		st->d[GCP_DIR_C2S].phase = P_IDLE;
		return S_CONT;
	}
	return n > HTTP_CONNECT_HOLD ? S_DONE : S_MORE;
}

/* Skip to the next line that starts like a request/response. */
static enum http_step step_resync(struct http_state *st, int dir, const uint8_t *p, uint32_t n,
				  uint32_t *used)
{
	enum gcp_probe_result r = http_probe(p, n, dir);
	if (r == GCP_PROBE_YES) {
		st->d[dir].phase = P_IDLE;
		return S_CONT;
	}
	const uint8_t *nl = memchr(p, '\n', n);
	if (!nl && r == GCP_PROBE_MAYBE)
		return S_MORE;
	*used = nl ? (uint32_t)(nl - p) + 1 : n;
	return S_CONT;
}

static enum http_step step(struct http_state *st, struct gcp_dissect_ctx *ctx, int dir,
			   const uint8_t *p, uint32_t n, uint32_t *used)
{
	switch (st->d[dir].phase) {
	case P_IDLE:
		return step_idle(st, ctx, dir, p, n, used);
	case P_BODY_LEN:
	case P_CHUNK_DATA:
		return step_len(st, ctx, dir, p, n, used);
	case P_CHUNK_SIZE:
		return step_chunk_size(st, ctx, dir, p, n, used);
	case P_CHUNK_END:
		return step_chunk_end(st, ctx, dir, p, n, used);
	case P_TRAILER:
		return step_trailer(st, ctx, dir, p, n, used);
	case P_BODY_CLOSE:
		return step_close(st, ctx, dir, p, n, used);
	case P_CONNECT_WAIT:
		return step_connect_wait(st, n);
	default:
		return step_resync(st, dir, p, n, used);
	}
}

/* ---- gaps, FIN ----------------------------------------------------------- */

/* Missing bytes: skipped inside a body of known length (body truncated);
 * anywhere else the message is dropped and we resync. */
static void on_gap(struct http_state *st, struct gcp_dissect_ctx *ctx, int dir, uint64_t len)
{
	struct http_dir *d = dir_of(st, dir);
	d->scan = 0;
	d->ts_set = false;
	switch (d->phase) {
	case P_BODY_CLOSE:
		body_data(st, ctx, d, dir, NULL, len);
		tx_bytes(d, dir, len);
		return;
	case P_BODY_LEN:
	case P_CHUNK_DATA: {
		uint64_t k = d->left < len ? d->left : len;
		body_data(st, ctx, d, dir, NULL, k);
		tx_bytes(d, dir, k);
		d->left -= k;
		if (len == k && d->phase == P_CHUNK_DATA && !d->left)
			d->phase = P_CHUNK_END;
		else if (len == k && !d->left)
			msg_done(st, ctx, dir);
		if (len == k)
			return;
		break;
	}
	case P_CONNECT_WAIT:
		return;
	default:
		break;
	}
	msg_cut(st, ctx, dir);
	d->phase = P_RESYNC;
}

static void on_fin(struct http_state *st, struct gcp_dissect_ctx *ctx, int dir)
{
	struct http_dir *d = dir_of(st, dir);
	d->scan = 0;
	d->ts_set = false;
	if (d->phase != P_CONNECT_WAIT)
		msg_cut(st, ctx, dir);
}

/* ---- record --------------------------------------------------------------- */

static bool head_get(const struct http_head *hd, const char *name, const uint8_t **v, size_t *n)
{
	if (!hd)
		return false;
	const uint8_t *raw = head_raw(hd);
	for (uint16_t i = 0; i < hd->nf; i++) {
		if (eq_ci(raw + hd->f[i].name.off, hd->f[i].name.len, name)) {
			*v = raw + hd->f[i].value.off;
			*n = hd->f[i].value.len;
			return true;
		}
	}
	return false;
}

static void kv_span(struct gcp_rb *rb, const char *k, const struct http_head *hd, int i)
{
	gcp_rb_kv_str(rb, k, (const char *)head_raw(hd) + hd->sl[i].off, hd->sl[i].len);
}

static void kv_field(struct gcp_rb *rb, const char *k, const struct http_head *hd, const char *name)
{
	const uint8_t *v;
	size_t n;
	if (head_get(hd, name, &v, &n))
		gcp_rb_kv_str(rb, k, (const char *)v, n);
}

/* Forwarded: for=node (RFC 7239 4, 6): quotes, [v6] brackets, port off. */
static bool forwarded_for(const uint8_t *v, size_t n, const uint8_t **o, size_t *on)
{
	const uint8_t *e = memchr(v, ',', n);
	size_t len = e ? (size_t)(e - v) : n;
	while (len) {
		const uint8_t *sc = memchr(v, ';', len);
		size_t pl = sc ? (size_t)(sc - v) : len;
		const uint8_t *p = v;
		size_t k = pl;
		trim(&p, &k);
		if (k > 4 && eq_ci(p, 4, "for=")) {
			p += 4;
			k -= 4;
			if (k >= 2 && p[0] == '"' && p[k - 1] == '"') {
				p++;
				k -= 2;
			}
			if (k && p[0] == '[') {
				const uint8_t *rb = memchr(p, ']', k);
				k = rb ? (size_t)(rb - p - 1) : k - 1;
				p++;
			} else {
				const uint8_t *c = memchr(p, ':', k);
				if (c && !memchr(c + 1, ':', k - (size_t)(c + 1 - p)))
					k = (size_t)(c - p);
			}
			*o = p;
			*on = k;
			return k > 0;
		}
		if (!sc)
			break;
		v += pl + 1;
		len -= pl + 1;
	}
	return false;
}

static void kv_real_ip(struct gcp_rb *rb, const struct http_head *hd)
{
	const uint8_t *v;
	size_t n;
	if (head_get(hd, "x-forwarded-for", &v, &n)) {
		const uint8_t *c = memchr(v, ',', n);
		if (c)
			n = (size_t)(c - v);
		trim(&v, &n);
		if (n) {
			gcp_rb_kv_str(rb, "real_ip", (const char *)v, n);
			return;
		}
	}
	if (head_get(hd, "x-real-ip", &v, &n) && n) {
		gcp_rb_kv_str(rb, "real_ip", (const char *)v, n);
		return;
	}
	const uint8_t *o;
	size_t on;
	if (head_get(hd, "forwarded", &v, &n) && forwarded_for(v, n, &o, &on))
		gcp_rb_kv_str(rb, "real_ip", (const char *)o, on);
}

static void kv_headers(struct gcp_rb *rb, const char *k, const struct http_head *hd)
{
	const char *raw = (const char *)head_raw(hd);
	gcp_rb_key(rb, k);
	gcp_rb_array_begin(rb);
	for (uint16_t i = 0; i < hd->nf; i++)
		gcp_rb_str_pair(rb, raw + hd->f[i].name.off, hd->f[i].name.len,
				raw + hd->f[i].value.off, hd->f[i].value.len);
	gcp_rb_end(rb);
}

/* KEY, KEY_truncated, KEY_len (literal keys: no formatting per record). */
#define kv_body(rb, pre, m) kv_body_(rb, pre, pre "_truncated", pre "_len", m)

static void kv_body_(struct gcp_rb *rb, const char *pre, const char *ktrunc, const char *klen,
		     const struct http_msg *m)
{
	if (!m->seen)
		return;
	if (m->wire_len || m->truncated) {
		gcp_rb_kv_bin(rb, pre, m->buf ? (const void *)m->buf : "", m->buf ? m->blen : 0);
		gcp_rb_kv_bool(rb, ktrunc, m->truncated);
	}
	gcp_rb_kv_uint(rb, klen, m->wire_len);
}

static void emit_tx(struct gcp_dissect_ctx *ctx, const struct http_tx *tx)
{
	struct gcp_rb *rb = gcp_dctx_record_begin(ctx, GCP_REC_HTTP, tx->ts);
	if (!rb)
		return;
	const struct http_head *rq = tx->m[0].head, *rs = tx->m[1].head;
	gcp_rb_kv_cstr(rb, "scheme", "http");
	if (rq) {
		kv_field(rb, "host", rq, "host");
		kv_span(rb, "method", rq, 0);
		if (rq->sl[1].len) /* absent on "OPTIONS" alone */
			kv_span(rb, "url", rq, 1);
		if (rq->sl[2].len) /* absent on "GET /HTTP/1.1" */
			kv_span(rb, "version", rq, 2);
	} else if (rs) {
		kv_span(rb, "version", rs, 0);
	}
	if (tx->m[1].seen)
		gcp_rb_kv_uint(rb, "status", tx->status);
	kv_real_ip(rb, rq);
	kv_field(rb, "cookie", rq, "cookie");
	kv_field(rb, "user_agent", rq, "user-agent");
	kv_field(rb, "referer", rq, "referer");
	kv_field(rb, "server", rs, "server");
	const uint8_t *v;
	size_t n;
	if (head_get(rs, "content-type", &v, &n) || head_get(rq, "content-type", &v, &n))
		gcp_rb_kv_str(rb, "content_type", (const char *)v, n);
	if (rq)
		kv_headers(rb, "req_headers", rq);
	if (rs)
		kv_headers(rb, "resp_headers", rs);
	kv_body(rb, "req_body", &tx->m[0]);
	kv_body(rb, "resp_body", &tx->m[1]);
	if (tx->m[0].seen || tx->bytes[0])
		gcp_rb_kv_uint(rb, "bytes_in", tx->bytes[0]);
	if (tx->m[1].seen || tx->bytes[1])
		gcp_rb_kv_uint(rb, "bytes_out", tx->bytes[1]);
	gcp_dctx_record_end(ctx);
}

/* ---- descriptor callbacks ------------------------------------------------ */

static void http_init(void *state, struct gcp_dissect_ctx *ctx)
{
	struct http_state *st = state;
	const struct gcp_engine_opts *o = gcp_dctx_opts(ctx);
	st->body_cap = (o && o->body_cap) ? o->body_cap : HTTP_BODY_CAP_DEFAULT;
	st->decompress = !o || o->decompress >= 0;
}

static struct gcp_parse_result run(struct http_state *st, struct gcp_dissect_ctx *ctx, int dir,
				   const uint8_t *data, uint32_t len)
{
	struct gcp_parse_result r = { GCP_PARSE_OK, 0, 0 };
	while (r.consumed < len) {
		uint32_t used = 0;
		enum http_step s = step(st, ctx, dir, data + r.consumed, len - r.consumed, &used);
		r.consumed += used;
		if (s == S_MORE)
			break;
		if (s == S_ERR || s == S_DONE) {
			r.status = s == S_ERR ? GCP_PARSE_ERROR : GCP_PARSE_DONE;
			return r;
		}
	}
	return r;
}

static struct gcp_parse_result http_parse(void *state, struct gcp_dissect_ctx *ctx, int dir,
					  const uint8_t *data, uint32_t len, unsigned flags)
{
	struct http_state *st = state;
	struct gcp_parse_result r = { GCP_PARSE_OK, len, 0 };
	if (st->failed || st->done || (dir != GCP_DIR_C2S && dir != GCP_DIR_S2C)) {
		r.status = st->done ? GCP_PARSE_DONE : GCP_PARSE_ERROR;
		return r;
	}
	if (flags & GCP_PF_GAP)
		on_gap(st, ctx, dir, len);
	else if (data && len)
		r = run(st, ctx, dir, data, len);
	if (r.status == GCP_PARSE_ERROR) {
		st->failed = true;
		msg_cut(st, ctx, GCP_DIR_C2S);
		msg_cut(st, ctx, GCP_DIR_S2C);
	} else if (r.status == GCP_PARSE_DONE) {
		st->done = true;
		r.consumed = len;
	} else if (flags & GCP_PF_FIN) {
		on_fin(st, ctx, dir);
		r.consumed = len;
	}
	return r;
}

static void http_fini(void *state, struct gcp_dissect_ctx *ctx)
{
	struct http_state *st = state;
	for (int dir = 0; dir < 2; dir++)
		if (st->d[dir].tx)
			msg_cut(st, ctx, dir);
	while (st->qlen)
		q_pop_emit(st, ctx);
}

static const uint16_t http_ports[] = { 80, 8080, 8000, 8008, 8888, 3128 };

const struct gcp_dissector gcp_dissector_http = {
	.name = "http",
	.record_types = GCP_REC_HTTP,
	.l4_mask = GCP_L4_TCP,
	.ports = http_ports,
	.nports = sizeof(http_ports) / sizeof(http_ports[0]),
	.state_size = sizeof(struct http_state),
	.probe = http_probe,
	.init = http_init,
	.parse = http_parse,
	.fini = http_fini,
};
