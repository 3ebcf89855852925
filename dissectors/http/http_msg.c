/* SPDX-License-Identifier: BSD-3-Clause */
/* HTTP messages for HTTP/1.x (http.c) and HTTP/2 (dissectors/http2):
 * header fields and what they say about framing and coding, stored
 * header blocks, bodies (gunzip/inflate, pool memory) and the record. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <zlib.h>

#include "dissect.h"
#include "http_int.h"

void gcp_http_cfg_init(struct http_cfg *cfg, struct gcp_dissect_ctx *ctx)
{
	const struct gcp_engine_opts *o = gcp_dctx_opts(ctx);
	cfg->body_cap = (o && o->body_cap) ? o->body_cap : HTTP_BODY_CAP_DEFAULT;
	cfg->decompress = !o || o->decompress >= 0;
}

bool gcp_http_eq_ci(const uint8_t *p, size_t n, const char *s)
{
	size_t k = strlen(s);
	if (n != k)
		return false;
	for (size_t i = 0; i < n; i++)
		if (http_lc(p[i]) != (uint8_t)s[i])
			return false;
	return true;
}

/* ---- header fields ------------------------------------------------------ */

/* Content-Length = 1*DIGIT; a list of identical values is accepted
 * (RFC 9110 8.6, RFC 9112 6.3 item 5). */
static bool parse_clen(const uint8_t *p, size_t n, uint64_t *out)
{
	uint64_t v = 0, first = 0;
	bool have = false, any = false, ended = false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (http_is_digit(c)) {
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
		} else if (http_is_ows(c)) {
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
	http_trim(&p, &n);
	if (n == 0 || gcp_http_eq_ci(p, n, "identity"))
		return CE_NONE;
	if (gcp_http_eq_ci(p, n, "gzip") || gcp_http_eq_ci(p, n, "x-gzip"))
		return CE_GZIP;
	if (gcp_http_eq_ci(p, n, "deflate"))
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
	http_trim(&c, &k);
	return gcp_http_eq_ci(c, k, "chunked");
}

static void framing_field(struct gcp_dissect_ctx *ctx, struct http_hdr *h,
			  const uint8_t *name, size_t nn, const uint8_t *v, size_t vn)
{
	if (gcp_http_eq_ci(name, nn, "content-length")) {
		uint64_t cl = 0;
		if (!parse_clen(v, vn, &cl) || (h->has_clen && cl != h->clen)) {
			h->bad_clen = true;
			gcp_dctx_anomaly(ctx);
		} else {
			h->clen = cl;
		}
		h->has_clen = true;
	} else if (gcp_http_eq_ci(name, nn, "transfer-encoding")) {
		h->te = true;
		h->chunked = final_chunked(v, vn);
	} else if (gcp_http_eq_ci(name, nn, "content-encoding")) {
		uint8_t c = parse_coding(v, vn);
		h->coding = (h->coding != CE_NONE && c != CE_NONE) ? CE_OTHER : (c ? c : h->coding);
	}
}


void gcp_http_hdr_init(struct http_hdr *h, const uint8_t *base, uint32_t len)
{
	h->base = base;
	h->len = len;
	memset(h->sl, 0, sizeof(h->sl));
	h->nf = 0;
	h->folded = h->has_clen = h->bad_clen = h->te = h->chunked = false;
	h->coding = CE_NONE;
	h->clen = 0;
	h->status = 0;
}

static struct http_span hspan(const uint8_t *base, const uint8_t *p, size_t n)
{
	struct http_span s = { (uint16_t)(p - base), (uint16_t)n };
	return s;
}

void gcp_http_hdr_add(struct gcp_dissect_ctx *ctx, struct http_hdr *h, const uint8_t *name,
		      size_t nn, const uint8_t *value, size_t vn)
{
	framing_field(ctx, h, name, nn, value, vn);
	if (h->nf == HTTP_MAX_FIELDS) {
		gcp_dctx_anomaly(ctx);
		return;
	}
	h->f[h->nf].name = hspan(h->base, name, nn);
	h->f[h->nf].value = hspan(h->base, value, vn);
	h->nf++;
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

static bool body_buf(const struct http_cfg *cfg, struct gcp_dissect_ctx *ctx, struct http_msg *m)
{
	if (m->buf)
		return true;
	m->buf = gcp_dctx_alloc(ctx, cfg->body_cap);
	if (!m->buf) {
		gcp_dctx_anomaly(ctx);
		m->truncated = m->stop = true;
		return false;
	}
	m->cap = cfg->body_cap;
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

static void body_store(const struct http_cfg *cfg, struct gcp_dissect_ctx *ctx, struct http_msg *m,
		       const uint8_t *p, uint32_t n)
{
	if (m->stop || n == 0 || !body_buf(cfg, ctx, m))
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

void gcp_http_msg_body(const struct http_cfg *cfg, struct gcp_dissect_ctx *ctx,
		       struct http_msg *m, const uint8_t *p, uint64_t n)
{
	m->wire_len += n;
	if (p) {
		body_store(cfg, ctx, m, p, (uint32_t)n);
		return;
	}
	m->truncated = m->stop = true; /* data after a hole is not kept */
	zs_stop(ctx, m);
}

void gcp_http_msg_end(struct gcp_dissect_ctx *ctx, struct http_msg *m)
{
	zs_stop(ctx, m);
	m->done = true;
}

/* ---- stored header blocks, transactions ---------------------------------- */

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


struct http_tx *gcp_http_tx_alloc(struct gcp_dissect_ctx *ctx, uint64_t seq, uint64_t ts)
{
	struct http_tx *tx = gcp_dctx_alloc(ctx, sizeof(*tx));
	if (!tx) {
		gcp_dctx_anomaly(ctx);
		return NULL;
	}
	memset(tx, 0, sizeof(*tx));
	tx->seq = seq;
	tx->ts = ts;
	return tx;
}

void gcp_http_tx_free(struct gcp_dissect_ctx *ctx, struct http_tx *tx)
{
	msg_free(ctx, &tx->m[0]);
	msg_free(ctx, &tx->m[1]);
	gcp_dctx_free(ctx, tx, sizeof(*tx));
}

struct http_head *gcp_http_head_dup(struct gcp_dissect_ctx *ctx, const struct http_head *hd)
{
	struct http_head *c = hd ? gcp_dctx_alloc(ctx, hd->size) : NULL;
	if (c)
		memcpy(c, hd, hd->size);
	else if (hd)
		gcp_dctx_anomaly(ctx);
	return c;
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
		while (r + 1 < n && (v[r + 1] == '\r' || v[r + 1] == '\n' || http_is_ows(v[r + 1])))
			r++;
		while (w && http_is_ows(v[w - 1]))
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

void gcp_http_msg_begin(const struct http_cfg *cfg, struct gcp_dissect_ctx *ctx,
			struct http_msg *m, const struct http_hdr *h)
{
	m->seen = true;
	m->head = head_store(ctx, h);
	m->coding = (cfg->decompress && (h->coding == CE_GZIP || h->coding == CE_DEFLATE))
			    ? h->coding : CE_NONE;
}


/* ---- record --------------------------------------------------------------- */

static bool head_get(const struct http_head *hd, const char *name, const uint8_t **v, size_t *n)
{
	if (!hd)
		return false;
	const uint8_t *raw = head_raw(hd);
	for (uint16_t i = 0; i < hd->nf; i++) {
		if (gcp_http_eq_ci(raw + hd->f[i].name.off, hd->f[i].name.len, name)) {
			*v = raw + hd->f[i].value.off;
			*n = hd->f[i].value.len;
			return true;
		}
	}
	return false;
}

/* Does the comma-separated list value of field name hold token tok? */
bool gcp_http_head_has_token(const struct http_head *hd, const char *name, const char *tok)
{
	if (!hd)
		return false;
	const uint8_t *raw = head_raw(hd);
	for (uint16_t i = 0; i < hd->nf; i++) {
		if (!gcp_http_eq_ci(raw + hd->f[i].name.off, hd->f[i].name.len, name))
			continue;
		const uint8_t *v = raw + hd->f[i].value.off, *e = v + hd->f[i].value.len;
		while (v < e) {
			const uint8_t *c = memchr(v, ',', (size_t)(e - v));
			const uint8_t *t = v;
			size_t n = (size_t)((c ? c : e) - v);
			http_trim(&t, &n);
			if (gcp_http_eq_ci(t, n, tok))
				return true;
			v = c ? c + 1 : e;
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
		http_trim(&p, &k);
		if (k > 4 && gcp_http_eq_ci(p, 4, "for=")) {
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
		http_trim(&v, &n);
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

void gcp_http_emit(struct gcp_dissect_ctx *ctx, const struct http_tx *tx)
{
	struct gcp_rb *rb = gcp_dctx_record_begin(ctx, GCP_REC_HTTP, tx->ts);
	if (!rb)
		return;
	const struct http_head *rq = tx->m[0].head, *rs = tx->m[1].head;
	gcp_rb_kv_cstr(rb, "scheme", "http");
	if (rq) {
		if (rq->sl[HTTP_SL_AUTH].len) /* HTTP/2 :authority (RFC 9113 8.3.1) */
			kv_span(rb, "host", rq, HTTP_SL_AUTH);
		else
			kv_field(rb, "host", rq, "host");
		kv_span(rb, "method", rq, 0);
		if (rq->sl[1].len) /* absent on "OPTIONS" alone */
			kv_span(rb, "url", rq, 1);
		if (rq->sl[2].len) /* absent on "GET /HTTP/1.1" */
			kv_span(rb, "version", rq, 2);
	} else if (rs) {
		kv_span(rb, "version", rs, 0);
	}
	if (tx->m[1].seen && tx->status) /* HTTP/2: 0 when the block was lost */
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

