/* SPDX-License-Identifier: BSD-3-Clause */
/* HTTP/1.x dissector: streaming request/response parser (RFC 9112) with
 * pipelining, chunked bodies, gzip/deflate decoding; one record per
 * transaction. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dissect.h"
#include "http_int.h"
#include "../http2/http2.h"

#define HTTP_LINE_CAP 4096u         /* chunk-size line with extensions */
#define HTTP_MAX_TX 16              /* outstanding transactions per flow */
#define HTTP_CONNECT_HOLD (32u * 1024) /* c2s bytes held while CONNECT waits */
#define HTTP_MK_RING 64             /* method kinds remembered per request */
#define HTTP_PROBE_SCAN 4096u

enum http_mkind { MK_OTHER = 0, MK_HEAD, MK_CONNECT };
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
	P_RESYNC,       /* lost framing, at a line start: look for a start line */
	P_RESYNC_GAP,   /* lost framing wherever a gap left us (maybe mid-line) */
};

enum http_step { S_CONT, S_MORE, S_ERR, S_DONE, S_H2 /* upgraded to HTTP/2 */ };

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
	struct http_cfg cfg;
	uint64_t h2c_seq;    /* 1 + the request that asked for h2c; 0: none */
	void *h2;            /* HTTP/2 state after an h2c upgrade (pool) */
	bool connect_wait, done, failed;
};

/* ---- small helpers ---------------------------------------------------- */

#define is_ows http_is_ows
#define is_digit http_is_digit
#define trim http_trim

/* RFC 9110 5.6.2 tchar. */
static bool is_tchar(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
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
 * (cleartext h2c with prior knowledge): the http2 dissector's, unless
 * this connection was upgraded (RFC 7540 3.2), then we hand over. */
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
	gcp_http_hdr_add(ctx, h, p, nn, v, vn);
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

/* Body bytes after de-chunking; p == NULL for a gap of n bytes. */
static void body_data(struct http_state *st, struct gcp_dissect_ctx *ctx, struct http_dir *d,
		      int dir, const uint8_t *p, uint64_t n)
{
	if (d->tx)
		gcp_http_msg_body(&st->cfg, ctx, &d->tx->m[dir], p, n);
}

/* ---- transactions ------------------------------------------------------ */

static void tx_free(struct http_state *st, struct gcp_dissect_ctx *ctx, struct http_tx *tx)
{
	for (int i = 0; i < 2; i++)
		if (st->d[i].tx == tx)
			st->d[i].tx = NULL;
	gcp_http_tx_free(ctx, tx);
}

static bool tx_ready(const struct http_tx *tx)
{
	bool req = !tx->m[0].seen || tx->m[0].done;
	bool resp = tx->m[1].done || tx->m[1].lost;
	return req && resp;
}

static void q_pop_emit(struct http_state *st, struct gcp_dissect_ctx *ctx)
{
	struct http_tx *tx = st->q[st->qhead];
	st->q[st->qhead] = NULL;
	st->qhead = (uint8_t)((st->qhead + 1) % HTTP_MAX_TX);
	st->qlen--;
	gcp_http_emit(ctx, tx);
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
	struct http_tx *tx = gcp_http_tx_alloc(ctx, seq, ts);
	if (!tx)
		return NULL;
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
		gcp_http_msg_end(ctx, &d->tx->m[dir]);
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
	if (d->tx) {
		gcp_http_msg_begin(&st->cfg, ctx, &d->tx->m[GCP_DIR_C2S], h);
		/* RFC 7540 3.2: an upgrade to HTTP/2 over cleartext */
		if (gcp_http_head_has_token(d->tx->m[GCP_DIR_C2S].head, "upgrade", "h2c"))
			st->h2c_seq = seq + 1;
	}
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

/*
 * 101 to "Upgrade: h2c" (RFC 7540 3.2): the rest of the connection goes
 * to the http2 dissector, whose state hangs off ours; stream 1 is the
 * request that asked (req: a copy, its version rewritten to HTTP/2 so
 * the stream's record tells it from the 101 transaction's).
 */
static enum http_step h2_switch(struct http_state *st, struct gcp_dissect_ctx *ctx,
				struct http_head *req, uint64_t ts)
{
	const struct gcp_dissector *h2 = &gcp_dissector_http2;
	if (req && req->sl[HTTP_SL_2].len >= 6) {
		memcpy((uint8_t *)(req->f + req->nf) + req->sl[HTTP_SL_2].off, "HTTP/2", 6);
		req->sl[HTTP_SL_2].len = 6;
	}
	st->h2 = gcp_dctx_alloc(ctx, h2->state_size);
	if (!st->h2) {
		gcp_dctx_anomaly(ctx);
		if (req)
			gcp_dctx_free(ctx, req, req->size);
		return S_DONE;
	}
	memset(st->h2, 0, h2->state_size);
	h2->init(st->h2, ctx);
	gcp_h2_upgraded(st->h2, ctx, req, ts);
	return S_H2;
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
		gcp_http_msg_begin(&st->cfg, ctx, &tx->m[GCP_DIR_S2C], h);
	}
	tx_bytes(d, GCP_DIR_S2C, h->len);
	if (mk == MK_CONNECT)
		connect_answered(st);
	bool h2 = h->status == 101 && tx && st->h2c_seq == seq + 1 &&
		  gcp_http_head_has_token(tx->m[GCP_DIR_S2C].head, "upgrade", "h2c");
	struct http_head *req = h2 ? gcp_http_head_dup(ctx, tx->m[GCP_DIR_C2S].head) : NULL;
	uint64_t ts = tx ? tx->ts : 0;
	if (seq + 1 >= st->h2c_seq)
		st->h2c_seq = 0; /* answered, switched or not */
	enum http_step s = start_body(st, ctx, GCP_DIR_S2C, resp_body_mode(ctx, h, mk), h->clen);
	emit_ready(st, ctx);
	if (h2)
		return h2_switch(st, ctx, req, ts);
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
		if (pri > 0 && st->h2c_seq) /* upgrade asked: wait for the answer */
			return S_MORE;
		if (pri > 0) /* HTTP/2 with prior knowledge (RFC 9113 3.4): not ours */
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
	gcp_http_hdr_init(&h, p, h.len);
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
		uint8_t c = http_lc(p[i]);
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

/* ---- resync: the next start line, wherever it is ------------------------ */

/* "HTTP/1.d SP 3DIGIT" then SP, CR or LF (RFC 9112 4). */
static enum gcp_probe_result strict_status(const uint8_t *p, uint32_t n)
{
	static const char pre[] = "HTTP/1.";
	for (uint32_t i = 0; i < 13; i++) {
		if (i == n)
			return GCP_PROBE_MAYBE;
		uint8_t c = p[i];
		bool ok = i < 7	    ? c == (uint8_t)pre[i]
			  : i == 8  ? c == ' '
			  : i == 12 ? c == ' ' || c == '\r' || c == '\n'
				    : is_digit(c);
		if (!ok)
			return GCP_PROBE_NO;
	}
	return GCP_PROBE_YES;
}

/* Does p start with s (as far as the n bytes at hand tell)? */
static enum gcp_probe_result has_prefix(const uint8_t *p, uint32_t n, const char *s, uint32_t sn)
{
	uint32_t k = n < sn ? n : sn;
	if (memcmp(p, s, k) != 0)
		return GCP_PROBE_NO;
	return k == sn ? GCP_PROBE_YES : GCP_PROBE_MAYBE;
}

/*
 * "METHOD SP target SP HTTP/1.d" then CR or LF (RFC 9112 3). The method
 * is a known one, or, where a token may start (ext), any uppercase token
 * (registered methods are: WebDAV's PROPFIND, ...). The target is looked
 * at as far as the probe looks (HTTP_PROBE_SCAN): a candidate waiting for
 * more bytes is judged again on each, so its cost stays bounded.
 */
static enum gcp_probe_result strict_request(const uint8_t *p, uint32_t n, bool ext)
{
	uint32_t m = 0, t;
	while (m < n && m < 20 && ((p[m] >= 'A' && p[m] <= 'Z') || p[m] == '-' || p[m] == '_'))
		m++;
	if (m == n)
		return GCP_PROBE_MAYBE;
	if (p[m] != ' ' || !(known_method(p, m) || (ext && m >= 3)))
		return GCP_PROBE_NO;
	for (t = m + 1; t < n && t - m < HTTP_PROBE_SCAN && p[t] > ' ' && p[t] != 0x7f; t++)
		;
	if (t - m == HTTP_PROBE_SCAN)
		return GCP_PROBE_NO;
	if (t == n)
		return GCP_PROBE_MAYBE;
	if (t == m + 1 || p[t] != ' ')
		return GCP_PROBE_NO;
	t++;
	enum gcp_probe_result r = has_prefix(p + t, n - t, "HTTP/1.", 7);
	if (r != GCP_PROBE_YES)
		return r;
	t += 7;
	if (t == n)
		return GCP_PROBE_MAYBE;
	if (!is_digit(p[t]))
		return GCP_PROBE_NO;
	if (++t == n)
		return GCP_PROBE_MAYBE;
	return p[t] == '\r' || p[t] == '\n' ? GCP_PROBE_YES : GCP_PROBE_NO;
}

/*
 * First offset in [0, to) of p where a strict start line begins (YES) or
 * may begin (MAYBE, bytes ran out); sol: offset 0 is a line start. A
 * known method may follow any byte (the tail of a body lost in a gap);
 * another token only a non-token byte.
 */
static enum gcp_probe_result find_start(int dir, const uint8_t *p, uint32_t n, uint32_t to,
					bool sol, uint32_t *at)
{
	for (uint32_t k = 0; k < to; k++) {
		enum gcp_probe_result r = GCP_PROBE_NO;
		if (dir == GCP_DIR_S2C && p[k] == 'H')
			r = strict_status(p + k, n - k);
		else if (dir == GCP_DIR_C2S && p[k] >= 'A' && p[k] <= 'Z')
			r = strict_request(p + k, n - k, k ? !is_tchar(p[k - 1]) : sol);
		if (r != GCP_PROBE_NO) {
			*at = k;
			return r;
		}
	}
	return GCP_PROBE_NO;
}

static enum http_step resynced(struct http_dir *d, struct gcp_dissect_ctx *ctx, uint32_t at,
			       uint32_t *used)
{
	d->phase = P_IDLE;
	*used = at;
	gcp_dctx_resync(ctx);
	return S_CONT;
}

/*
 * Skip to the next request/status line. A strict one may sit anywhere in
 * the line (after a body tail without CRLF); at a line start the probe's
 * looser idea of a start line is taken too. After a gap the data does not
 * start a line: the tail of a lost line ("ath HTTP/1.1") is no request.
 * Out of line: inlined into run() it cost the common path some ten
 * instructions a call (callgrind, gcp_bench_http).
 */
__attribute__((noinline)) static enum http_step step_resync(struct http_state *st,
							 struct gcp_dissect_ctx *ctx, int dir,
							 const uint8_t *p, uint32_t n,
							 uint32_t *used)
{
	struct http_dir *d = dir_of(st, dir);
	bool sol = d->phase == P_RESYNC;
	const uint8_t *nl = memchr(p, '\n', n);
	uint32_t line = nl ? (uint32_t)(nl - p) + 1 : n, at;
	enum gcp_probe_result r = find_start(dir, p, n, line, sol, &at);

	if (r == GCP_PROBE_YES)
		return resynced(d, ctx, at, used);
	enum gcp_probe_result loose = sol ? http_probe(p, n, dir) : GCP_PROBE_NO;
	if (loose == GCP_PROBE_MAYBE && !nl)
		return S_MORE; /* the whole line decides */
	if (loose == GCP_PROBE_YES)
		return resynced(d, ctx, 0, used);
	if (r == GCP_PROBE_MAYBE && at == 0)
		return S_MORE;
	if (r == GCP_PROBE_MAYBE) { /* keep from the candidate on */
		d->phase = P_RESYNC_GAP;
		*used = at;
		return S_CONT;
	}
	d->phase = nl ? P_RESYNC : P_RESYNC_GAP;
	*used = line;
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
		return step_resync(st, ctx, dir, p, n, used);
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
	d->phase = P_RESYNC_GAP;
}

static void on_fin(struct http_state *st, struct gcp_dissect_ctx *ctx, int dir)
{
	struct http_dir *d = dir_of(st, dir);
	d->scan = 0;
	d->ts_set = false;
	if (d->phase != P_CONNECT_WAIT)
		msg_cut(st, ctx, dir);
}

/* ---- descriptor callbacks ------------------------------------------------ */

static void http_init(void *state, struct gcp_dissect_ctx *ctx)
{
	struct http_state *st = state;
	gcp_http_cfg_init(&st->cfg, ctx);
}

static struct gcp_parse_result run(struct http_state *st, struct gcp_dissect_ctx *ctx, int dir,
				   const uint8_t *data, uint32_t len)
{
	struct gcp_parse_result r = { GCP_PARSE_OK, 0, 0 };
	while (r.consumed < len) {
		uint32_t used = 0;
		enum http_step s = step(st, ctx, dir, data + r.consumed, len - r.consumed, &used);
		r.consumed += used;
		if (s == S_MORE || s == S_H2)
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
	if (st->h2)
		return gcp_dissector_http2.parse(st->h2, ctx, dir, data, len, flags);
	if (st->failed || st->done || (dir != GCP_DIR_C2S && dir != GCP_DIR_S2C)) {
		r.status = st->done ? GCP_PARSE_DONE : GCP_PARSE_ERROR;
		return r;
	}
	if (flags & GCP_PF_GAP)
		on_gap(st, ctx, dir, len);
	else if (data && len)
		r = run(st, ctx, dir, data, len);
	if (st->h2 && r.status == GCP_PARSE_OK) { /* switched: the rest is HTTP/2 */
		uint32_t k = r.consumed;
		r = gcp_dissector_http2.parse(st->h2, ctx, dir, data + k, len - k, flags);
		r.consumed += k;
		return r;
	}
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
	if (st->h2) {
		gcp_dissector_http2.fini(st->h2, ctx);
		gcp_dctx_free(ctx, st->h2, gcp_dissector_http2.state_size);
		st->h2 = NULL;
	}
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
