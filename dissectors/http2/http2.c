/* SPDX-License-Identifier: BSD-3-Clause */
/* HTTP/2 dissector (RFC 9113) for cleartext h2c: prior knowledge (the
 * connection preface) or an HTTP/1.1 upgrade handed over by the HTTP/1
 * dissector. Frames, HPACK header blocks (hpack.c), one http record per
 * stream with the keys the HTTP/1 dissector writes (http_msg.c). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../http/http_int.h"
#include "cursor.h"
#include "dissect.h"
#include "hpack.h"
#include "http2.h"

/* RFC 9113 3.4: the client connection preface. */
static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define H2_PREFACE_LEN 24u
#define H2_FH 9u                   /* frame header (4.1) */
#define H2_MAX_STREAMS 128         /* streams followed at once per connection */
#define H2_HDRSEQ_CAP (48u * 1024) /* HEADERS/PUSH_PROMISE + CONTINUATION held whole */
#define H2_CTRL_CAP 16384u         /* larger control frames are skipped unparsed */
/* Decode buffer: the header list (HTTP_HDR_CAP), the version text, and
 * the work space HPACK needs for fields not listed (hpack.h). */
#define H2_VERSION "HTTP/2"
#define H2_OUT_LIST HTTP_HDR_CAP
#define H2_OUT_CAP (H2_OUT_LIST + 16u + HPACK_TABLE_CAP)

enum h2_type {
	H2_DATA = 0,
	H2_HEADERS = 1,
	H2_PRIORITY = 2,
	H2_RST_STREAM = 3,
	H2_SETTINGS = 4,
	H2_PUSH_PROMISE = 5,
	H2_PING = 6,
	H2_GOAWAY = 7,
	H2_WINDOW_UPDATE = 8,
	H2_CONTINUATION = 9,
	H2_SKIP = 0x100, /* internal: payload passed over */
};

enum h2_flag {
	H2F_END_STREAM = 0x1,
	H2F_END_HEADERS = 0x4,
	H2F_PADDED = 0x8,
	H2F_PRIORITY = 0x20,
};

enum h2_step { H2_CONT, H2_MORE };

struct h2_fh {
	uint32_t len, sid;
	uint8_t type, flags;
};

struct h2_stream {
	uint32_t id;        /* 0: free slot */
	struct http_tx *tx; /* NULL: not recorded (memory refused) */
	bool end[2];        /* END_STREAM (or the upgrade) per direction */
};

struct h2_dir {
	struct hpack hp;
	uint32_t left;      /* payload bytes of the frame being streamed */
	uint32_t pad;       /* of which trailing padding (DATA) */
	uint32_t sid;
	uint16_t type;      /* H2_DATA or H2_SKIP while left > 0 */
	uint8_t flags;
	bool preface;       /* c2s: the connection preface was seen */
	bool cont_skip;     /* CONTINUATIONs of a skipped block follow */
	bool dead;          /* framing lost (gap, malformed): no more parsing */
};

struct h2_state {
	struct h2_dir d[2];
	struct h2_stream s[H2_MAX_STREAMS];
	uint64_t seq;
	struct http_cfg cfg;
	uint32_t hdrseq_cap;
	bool want, done;
};

static struct h2_fh h2_frame_header(const uint8_t *p)
{
	struct h2_fh fh;
	fh.len = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
	fh.type = p[3];
	fh.flags = p[4];
	fh.sid = gcp_be32(p + 5) & 0x7fffffffu;
	return fh;
}

/* ---- streams ------------------------------------------------------------- */

static struct h2_stream *stream_find(struct h2_state *st, uint32_t id)
{
	for (unsigned i = 0; id && i < H2_MAX_STREAMS; i++)
		if (st->s[i].id == id)
			return &st->s[i];
	return NULL;
}

/* The stream is over (both ends, reset, GOAWAY or flow end): its record. */
static void stream_finish(struct gcp_dissect_ctx *ctx, struct h2_stream *s)
{
	struct http_tx *tx = s->tx;
	if (tx) {
		for (int i = 0; i < 2; i++) {
			struct http_msg *m = &tx->m[i];
			if (m->seen && !m->done) {
				m->truncated = true;
				gcp_http_msg_end(ctx, m);
			}
		}
		gcp_http_emit(ctx, tx);
		gcp_http_tx_free(ctx, tx);
	}
	memset(s, 0, sizeof(*s));
}

/* A slot for a new stream; at the cap the oldest goes out as it is. */
static struct h2_stream *stream_new(struct h2_state *st, struct gcp_dissect_ctx *ctx, uint32_t id)
{
	struct h2_stream *s = NULL;
	for (unsigned i = 0; i < H2_MAX_STREAMS && !s; i++)
		if (!st->s[i].id)
			s = &st->s[i];
	if (!s) {
		gcp_dctx_anomaly(ctx); /* H2_MAX_STREAMS concurrent streams */
		s = &st->s[0];
		for (unsigned i = 1; i < H2_MAX_STREAMS; i++)
			if (st->s[i].tx && (!s->tx || st->s[i].tx->seq < s->tx->seq))
				s = &st->s[i];
		stream_finish(ctx, s);
	}
	s->id = id;
	if (st->want)
		s->tx = gcp_http_tx_alloc(ctx, st->seq++, gcp_dctx_now(ctx));
	return s;
}

static void stream_end(struct gcp_dissect_ctx *ctx, struct h2_stream *s, int dir)
{
	s->end[dir] = true;
	if (s->tx && s->tx->m[dir].seen)
		gcp_http_msg_end(ctx, &s->tx->m[dir]);
	if (s->end[0] && s->end[1])
		stream_finish(ctx, s);
}

static void tx_bytes(struct h2_stream *s, int dir, uint64_t n)
{
	if (s && s->tx)
		s->tx->bytes[dir] += n;
}

/* ---- header blocks --------------------------------------------------------- */

struct h2_block {
	struct gcp_dissect_ctx *ctx;
	struct http_hdr h;
	bool request;
	bool has_status;
};

static void set_span(struct http_hdr *h, int i, const uint8_t *p, uint32_t n)
{
	h->sl[i].off = (uint16_t)(p - h->base);
	h->sl[i].len = (uint16_t)n;
}

/* RFC 9113 8.3: pseudo-header fields stand for the start line. */
static void pseudo_field(struct h2_block *b, const uint8_t *name, uint32_t nlen,
			 const uint8_t *v, uint32_t vlen)
{
	struct http_hdr *h = &b->h;
	if (b->request && gcp_http_eq_ci(name, nlen, ":method"))
		set_span(h, HTTP_SL_0, v, vlen);
	else if (b->request && gcp_http_eq_ci(name, nlen, ":path"))
		set_span(h, HTTP_SL_1, v, vlen);
	else if (b->request && gcp_http_eq_ci(name, nlen, ":authority"))
		set_span(h, HTTP_SL_AUTH, v, vlen);
	else if (!b->request && gcp_http_eq_ci(name, nlen, ":status") && vlen == 3 &&
		 http_is_digit(v[0]) && http_is_digit(v[1]) && http_is_digit(v[2])) {
		set_span(h, HTTP_SL_1, v, vlen);
		h->status = (uint16_t)((v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0'));
		b->has_status = true;
	}
}

static void on_field(void *arg, const uint8_t *name, uint32_t nlen, const uint8_t *value,
		     uint32_t vlen)
{
	struct h2_block *b = arg;
	if (nlen && name[0] == ':')
		pseudo_field(b, name, nlen, value, vlen);
	else
		gcp_http_hdr_add(b->ctx, &b->h, name, nlen, value, vlen);
}

/* HPACK-decode a field block into out; NULL when it cannot be. */
static struct http_hdr *decode_block(struct h2_state *st, struct gcp_dissect_ctx *ctx, int dir,
				     const uint8_t *frag, uint32_t n, uint8_t *out,
				     struct h2_block *b)
{
	struct hpack *hp = &st->d[dir].hp;
	bool was_broken = hp->broken;
	gcp_http_hdr_init(&b->h, out, 0);
	b->ctx = ctx;
	b->has_status = false;
	int left_out = gcp_hpack_decode(hp, ctx, frag, n, out, H2_OUT_LIST, H2_OUT_CAP,
					on_field, b);
	if (left_out < 0) {
		if (!was_broken)
			gcp_dctx_anomaly(ctx); /* malformed block or table we cannot follow */
		return NULL;
	}
	if (left_out)
		gcp_dctx_anomaly(ctx); /* header list over HTTP_HDR_CAP */
	uint32_t w = 0;
	for (uint16_t i = 0; i < b->h.nf; i++) {
		uint32_t e = (uint32_t)b->h.f[i].value.off + b->h.f[i].value.len;
		w = e > w ? e : w;
	}
	for (int i = 0; i < HTTP_SL_N; i++) {
		uint32_t e = (uint32_t)b->h.sl[i].off + b->h.sl[i].len;
		w = e > w ? e : w;
	}
	memcpy(out + w, H2_VERSION, sizeof(H2_VERSION) - 1);
	set_span(&b->h, b->request ? HTTP_SL_2 : HTTP_SL_0, out + w, sizeof(H2_VERSION) - 1);
	b->h.len = w + (uint32_t)sizeof(H2_VERSION) - 1;
	return &b->h;
}

/* Request (c2s, or a pushed request), response, or trailers of a stream. */
static void apply_block(struct h2_state *st, struct gcp_dissect_ctx *ctx, struct h2_stream *s,
			int dir, const struct http_hdr *h, bool has_status)
{
	struct http_tx *tx = s->tx;
	if (!tx || tx->m[dir].seen)
		return; /* not recorded, or trailers (RFC 9113 8.1): not kept */
	if (dir == GCP_DIR_S2C && has_status && h->status < 200)
		return; /* 1xx: interim (RFC 9110 15.2) */
	tx->m[dir].seen = true;
	if (h)
		gcp_http_msg_begin(&st->cfg, ctx, &tx->m[dir], h);
	if (dir == GCP_DIR_S2C && h)
		tx->status = h->status;
}

/*
 * The field block fragment of the first frame (RFC 9113 6.2, 6.6): pad
 * length and priority or promised stream come first, padding last.
 * Returns false when the frame is malformed.
 */
static bool first_fragment(const uint8_t *p, const struct h2_fh *fh, const uint8_t **frag,
			   uint32_t *n, uint32_t *promised)
{
	struct gcp_cur c = gcp_cur_make(p + H2_FH, fh->len);
	uint8_t pad = (fh->flags & H2F_PADDED) ? gcp_cur_u8(&c) : 0;
	if (fh->type == H2_PUSH_PROMISE)
		*promised = gcp_cur_be32(&c) & 0x7fffffffu;
	else if (fh->flags & H2F_PRIORITY)
		gcp_cur_skip(&c, 5); /* stream dependency, weight (5.3.2, deprecated) */
	if (c.err || gcp_cur_left(&c) < pad)
		return false;
	*frag = c.p;
	*n = (uint32_t)gcp_cur_left(&c) - pad;
	return true;
}

/* The fragments of a whole sequence, concatenated when there are several. */
static const uint8_t *gather(struct gcp_dissect_ctx *ctx, const uint8_t *p, uint32_t total,
			     const uint8_t *frag, uint32_t fn, uint8_t **tmp, uint32_t *n)
{
	struct h2_fh fh = h2_frame_header(p);
	uint32_t off = H2_FH + fh.len;
	*n = fn;
	if (off == total)
		return frag; /* one frame: decoded in place */
	*tmp = gcp_dctx_alloc(ctx, total);
	if (!*tmp)
		return NULL;
	memcpy(*tmp, frag, fn);
	while (off < total) {
		struct h2_fh c = h2_frame_header(p + off);
		memcpy(*tmp + *n, p + off + H2_FH, c.len);
		*n += c.len;
		off += H2_FH + c.len;
	}
	return *tmp;
}

static struct h2_stream *block_stream(struct h2_state *st, struct gcp_dissect_ctx *ctx, int dir,
				      uint32_t sid)
{
	struct h2_stream *s = stream_find(st, sid);
	if (!s && sid && !(dir == GCP_DIR_C2S && !(sid & 1)))
		s = stream_new(st, ctx, sid); /* a request, or a response seen alone */
	return s;
}

/* A complete HEADERS/PUSH_PROMISE + CONTINUATION sequence of total bytes. */
static void header_sequence(struct h2_state *st, struct gcp_dissect_ctx *ctx, int dir,
			    const uint8_t *p, uint32_t total)
{
	struct h2_fh fh = h2_frame_header(p);
	const uint8_t *frag;
	uint32_t fn, promised = 0, n;
	uint8_t *tmp = NULL, *out = NULL;
	struct h2_block b;
	struct http_hdr *h = NULL;
	if (!first_fragment(p, &fh, &frag, &fn, &promised)) {
		gcp_dctx_anomaly(ctx); /* padding or priority past the frame */
		st->d[dir].hp.broken = true;
		return;
	}
	bool push = fh.type == H2_PUSH_PROMISE;
	b.request = dir == GCP_DIR_C2S || push;
	const uint8_t *blk = gather(ctx, p, total, frag, fn, &tmp, &n);
	if (blk && !st->d[dir].hp.broken && (out = gcp_dctx_alloc(ctx, H2_OUT_CAP)))
		h = decode_block(st, ctx, dir, blk, n, out, &b);
	else if (!st->d[dir].hp.broken) {
		gcp_dctx_anomaly(ctx); /* memory refused: the table is lost */
		st->d[dir].hp.broken = true;
	}
	struct h2_stream *s = push ? stream_find(st, fh.sid) : block_stream(st, ctx, dir, fh.sid);
	tx_bytes(s, dir, total);
	if (push && promised && !stream_find(st, promised)) {
		struct h2_stream *ps = stream_new(st, ctx, promised);
		apply_block(st, ctx, ps, GCP_DIR_C2S, h, false);
		stream_end(ctx, ps, GCP_DIR_C2S); /* 8.4: a pushed request has no body */
	} else if (s && !push) {
		apply_block(st, ctx, s, dir, h, h && b.has_status);
		if (fh.flags & H2F_END_STREAM)
			stream_end(ctx, s, dir);
	}
	if (out)
		gcp_dctx_free(ctx, out, H2_OUT_CAP);
	if (tmp)
		gcp_dctx_free(ctx, tmp, total);
}

/* Pass over a frame's payload (or what is left of a skipped block). */
static enum h2_step skip_frame(struct h2_dir *d, const struct h2_fh *fh, uint32_t *used)
{
	d->type = H2_SKIP;
	d->left = fh->len;
	d->pad = 0;
	d->sid = fh->sid;
	d->flags = fh->flags;
	*used = H2_FH;
	return H2_CONT;
}

/* HEADERS or PUSH_PROMISE: wait for the whole sequence up to END_HEADERS. */
static enum h2_step step_headers(struct h2_state *st, struct gcp_dissect_ctx *ctx, int dir,
				 const uint8_t *p, uint32_t n, uint32_t *used, uint32_t *need)
{
	struct h2_dir *d = &st->d[dir];
	struct h2_fh fh = h2_frame_header(p);
	uint64_t total = H2_FH + (uint64_t)fh.len;
	bool end = fh.flags & H2F_END_HEADERS;
	while (!end && total <= st->hdrseq_cap) {
		if (n < total + H2_FH) {
			*need = (uint32_t)(total + H2_FH - n);
			return H2_MORE;
		}
		struct h2_fh c = h2_frame_header(p + total);
		if (c.type != H2_CONTINUATION || c.sid != fh.sid) {
			gcp_dctx_anomaly(ctx); /* 6.10: connection error; block lost */
			d->hp.broken = true;
			return skip_frame(d, &fh, used);
		}
		total += H2_FH + (uint64_t)c.len;
		end = c.flags & H2F_END_HEADERS;
	}
	if (total > st->hdrseq_cap) {
		gcp_dctx_anomaly(ctx); /* block over the cap: the table is lost with it */
		d->hp.broken = true;
		d->cont_skip = !(fh.flags & H2F_END_HEADERS);
		return skip_frame(d, &fh, used);
	}
	if (n < total) {
		*need = (uint32_t)(total - n);
		return H2_MORE;
	}
	header_sequence(st, ctx, dir, p, (uint32_t)total);
	*used = (uint32_t)total;
	return H2_CONT;
}

/* ---- DATA and control frames ------------------------------------------------ */

static enum h2_step step_data_start(struct h2_state *st, struct gcp_dissect_ctx *ctx, int dir,
				    const uint8_t *p, uint32_t n, const struct h2_fh *fh,
				    uint32_t *used, uint32_t *need)
{
	struct h2_dir *d = &st->d[dir];
	uint32_t hl = H2_FH + ((fh->flags & H2F_PADDED) && fh->len ? 1u : 0u);
	if (n < hl) {
		*need = hl - n;
		return H2_MORE;
	}
	d->left = fh->len - (hl - H2_FH);
	d->pad = hl > H2_FH ? p[H2_FH] : 0;
	if (d->pad > d->left) {
		gcp_dctx_anomaly(ctx); /* 6.1: padding longer than the payload */
		d->pad = d->left;
	}
	d->type = H2_DATA;
	d->sid = fh->sid;
	d->flags = fh->flags;
	tx_bytes(stream_find(st, fh->sid), dir, H2_FH + (uint64_t)fh->len);
	*used = hl;
	return H2_CONT;
}

static void frame_end(struct h2_state *st, struct gcp_dissect_ctx *ctx, int dir)
{
	struct h2_dir *d = &st->d[dir];
	struct h2_stream *s = d->type == H2_DATA ? stream_find(st, d->sid) : NULL;
	if (s && (d->flags & H2F_END_STREAM))
		stream_end(ctx, s, dir);
	d->type = H2_SKIP;
}

/* Payload of a DATA frame (body bytes, then padding) or of a skipped one. */
static enum h2_step step_payload(struct h2_state *st, struct gcp_dissect_ctx *ctx, int dir,
				 const uint8_t *p, uint32_t n, uint32_t *used)
{
	struct h2_dir *d = &st->d[dir];
	uint32_t k = d->left < n ? d->left : n;
	uint32_t body = d->left > d->pad ? d->left - d->pad : 0;
	if (d->type == H2_DATA && body) {
		struct h2_stream *s = stream_find(st, d->sid);
		if (s && s->tx && s->tx->m[dir].seen)
			gcp_http_msg_body(&st->cfg, ctx, &s->tx->m[dir], p, k < body ? k : body);
	}
	d->left -= k;
	*used = k;
	if (!d->left)
		frame_end(st, ctx, dir);
	return H2_CONT;
}

/* GOAWAY (6.8): streams above the last one processed will not be answered. */
static void on_goaway(struct h2_state *st, struct gcp_dissect_ctx *ctx, int dir, uint32_t last)
{
	for (unsigned i = 0; i < H2_MAX_STREAMS; i++) {
		struct h2_stream *s = &st->s[i];
		/* the sender's peer initiated those streams: odd ids when the
		 * server sends it, even (pushed) ones when the client does */
		bool peer = dir == GCP_DIR_S2C ? (s->id & 1) : !(s->id & 1);
		if (s->id && peer && s->id > last)
			stream_finish(ctx, s);
	}
}

static void control_frame(struct h2_state *st, struct gcp_dissect_ctx *ctx, int dir,
			  const struct h2_fh *fh, const uint8_t *pl)
{
	switch (fh->type) {
	case H2_RST_STREAM: { /* 6.4 */
		struct h2_stream *s = stream_find(st, fh->sid);
		if (fh->len != 4)
			gcp_dctx_anomaly(ctx);
		else if (s)
			stream_finish(ctx, s);
		break;
	}
	case H2_GOAWAY: /* 6.8 */
		if (fh->len < 8 || fh->sid)
			gcp_dctx_anomaly(ctx);
		else
			on_goaway(st, ctx, dir, gcp_be32(pl) & 0x7fffffffu);
		break;
	case H2_SETTINGS: /* 6.5: nothing we need (HPACK sizes come in-band) */
		if (fh->len % 6 || fh->sid)
			gcp_dctx_anomaly(ctx);
		break;
	case H2_CONTINUATION: /* 6.10: only right after HEADERS/PUSH_PROMISE */
		gcp_dctx_anomaly(ctx);
		st->d[dir].hp.broken = true;
		break;
	default: /* PRIORITY, PING, WINDOW_UPDATE, extensions (5.5: ignored) */
		break;
	}
}

static enum h2_step step_frame(struct h2_state *st, struct gcp_dissect_ctx *ctx, int dir,
			       const uint8_t *p, uint32_t n, uint32_t *used, uint32_t *need)
{
	struct h2_dir *d = &st->d[dir];
	if (n < H2_FH) {
		*need = H2_FH - n;
		return H2_MORE;
	}
	struct h2_fh fh = h2_frame_header(p);
	if (d->cont_skip && fh.type == H2_CONTINUATION) {
		d->cont_skip = !(fh.flags & H2F_END_HEADERS);
		return skip_frame(d, &fh, used);
	}
	d->cont_skip = false;
	if (fh.type == H2_DATA)
		return step_data_start(st, ctx, dir, p, n, &fh, used, need);
	if (fh.type == H2_HEADERS || fh.type == H2_PUSH_PROMISE)
		return step_headers(st, ctx, dir, p, n, used, need);
	if (fh.len > H2_CTRL_CAP)
		return skip_frame(d, &fh, used);
	if (n < H2_FH + fh.len) {
		*need = H2_FH + fh.len - n;
		return H2_MORE;
	}
	control_frame(st, ctx, dir, &fh, p + H2_FH);
	*used = H2_FH + fh.len;
	return H2_CONT;
}

/* ---- the dissector ------------------------------------------------------------ */

/* 3.4: the client's first bytes; anything else is not HTTP/2. */
static int step_preface(struct h2_dir *d, const uint8_t *p, uint32_t n, uint32_t *used,
			uint32_t *need)
{
	uint32_t k = n < H2_PREFACE_LEN ? n : H2_PREFACE_LEN;
	if (memcmp(p, h2_preface, k) != 0)
		return -1;
	if (k < H2_PREFACE_LEN) {
		*need = H2_PREFACE_LEN - k;
		return H2_MORE;
	}
	d->preface = true;
	*used = H2_PREFACE_LEN;
	return H2_CONT;
}

static enum gcp_probe_result h2_probe(const uint8_t *data, uint32_t len, int dir)
{
	if (!data || len == 0)
		return GCP_PROBE_MAYBE;
	if (dir == GCP_DIR_S2C) {
		/* 3.4: the server's preface is a SETTINGS frame; the client's
		 * preface decides. */
		struct h2_fh fh;
		if (len < H2_FH)
			return GCP_PROBE_MAYBE;
		fh = h2_frame_header(data);
		return (fh.type == H2_SETTINGS && fh.sid == 0 && fh.len % 6 == 0 &&
			fh.len <= H2_CTRL_CAP) ? GCP_PROBE_MAYBE : GCP_PROBE_NO;
	}
	uint32_t k = len < H2_PREFACE_LEN ? len : H2_PREFACE_LEN;
	if (memcmp(data, h2_preface, k) != 0)
		return GCP_PROBE_NO;
	return k == H2_PREFACE_LEN ? GCP_PROBE_YES : GCP_PROBE_MAYBE;
}

static void h2_init(void *state, struct gcp_dissect_ctx *ctx)
{
	struct h2_state *st = state;
	const struct gcp_engine_opts *o = gcp_dctx_opts(ctx);
	gcp_http_cfg_init(&st->cfg, ctx);
	st->want = gcp_dctx_wants(ctx, GCP_REC_HTTP);
	/* A sequence is held in the engine's pending tail while it arrives. */
	st->hdrseq_cap = H2_HDRSEQ_CAP;
	if (o && o->stream_pending_bytes && o->stream_pending_bytes / 2 < st->hdrseq_cap)
		st->hdrseq_cap = o->stream_pending_bytes / 2;
	for (int i = 0; i < 2; i++) {
		gcp_hpack_init(&st->d[i].hp);
		st->d[i].type = H2_SKIP;
	}
}

void gcp_h2_upgraded(void *state, struct gcp_dissect_ctx *ctx, struct http_head *req,
		     uint64_t ts)
{
	struct h2_state *st = state;
	struct h2_stream *s = stream_new(st, ctx, 1);
	if (s->tx) {
		s->tx->ts = ts;
		s->tx->m[GCP_DIR_C2S].seen = true;
		s->tx->m[GCP_DIR_C2S].head = req;
		req = NULL;
	}
	if (req)
		gcp_dctx_free(ctx, req, req->size);
	stream_end(ctx, s, GCP_DIR_C2S);
}

static void dir_dead(struct h2_state *st, struct gcp_dissect_ctx *ctx, int dir)
{
	struct h2_dir *d = &st->d[dir];
	d->dead = true;
	d->left = 0;
	for (unsigned i = 0; i < H2_MAX_STREAMS; i++) {
		struct http_tx *tx = st->s[i].tx;
		if (st->s[i].id && tx && tx->m[dir].seen && !tx->m[dir].done) {
			tx->m[dir].truncated = true;
			gcp_http_msg_body(&st->cfg, ctx, &tx->m[dir], NULL, 0);
		}
	}
}

static struct gcp_parse_result h2_run(struct h2_state *st, struct gcp_dissect_ctx *ctx, int dir,
				      const uint8_t *p, uint32_t n)
{
	struct gcp_parse_result r = { GCP_PARSE_OK, 0, 0 };
	struct h2_dir *d = &st->d[dir];
	while (r.consumed < n && !d->dead) {
		uint32_t used = 0, need = 0;
		const uint8_t *q = p + r.consumed;
		uint32_t k = n - r.consumed;
		int s;
		if (dir == GCP_DIR_C2S && !d->preface)
			s = step_preface(d, q, k, &used, &need);
		else if (d->left)
			s = step_payload(st, ctx, dir, q, k, &used);
		else
			s = step_frame(st, ctx, dir, q, k, &used, &need);
		if (s < 0) {
			gcp_dctx_anomaly(ctx); /* not a connection preface */
			dir_dead(st, ctx, dir);
			break;
		}
		r.consumed += used;
		if (s == H2_MORE) {
			r.needed = need;
			break;
		}
	}
	if (d->dead)
		r.consumed = n;
	return r;
}

static void h2_finish_all(struct h2_state *st, struct gcp_dissect_ctx *ctx)
{
	for (unsigned i = 0; i < H2_MAX_STREAMS; i++)
		if (st->s[i].id)
			stream_finish(ctx, &st->s[i]);
}

static struct gcp_parse_result h2_parse(void *state, struct gcp_dissect_ctx *ctx, int dir,
					const uint8_t *data, uint32_t len, unsigned flags)
{
	struct h2_state *st = state;
	struct gcp_parse_result r = { GCP_PARSE_OK, len, 0 };
	dir = dir == GCP_DIR_S2C ? GCP_DIR_S2C : GCP_DIR_C2S;
	if (st->done) {
		r.status = GCP_PARSE_DONE;
		return r;
	}
	if (flags & GCP_PF_GAP)
		dir_dead(st, ctx, dir); /* framing and HPACK state are lost with the bytes */
	else if (data && len && !st->d[dir].dead)
		r = h2_run(st, ctx, dir, data, len);
	if (st->d[0].dead && st->d[1].dead) {
		h2_finish_all(st, ctx);
		st->done = true;
		r.status = GCP_PARSE_DONE;
		r.consumed = len;
		r.needed = 0;
	}
	return r;
}

static void h2_fini(void *state, struct gcp_dissect_ctx *ctx)
{
	struct h2_state *st = state;
	h2_finish_all(st, ctx);
	gcp_hpack_fini(&st->d[0].hp, ctx);
	gcp_hpack_fini(&st->d[1].hp, ctx);
}

/* h2c has no port of its own; the preface (and the hsid signature) finds it. */
static const uint16_t h2_ports[] = { 80, 8080 };

const struct gcp_dissector gcp_dissector_http2 = {
	.name = "http2",
	.record_types = GCP_REC_HTTP,
	.l4_mask = GCP_L4_TCP,
	.ports = h2_ports,
	.nports = sizeof(h2_ports) / sizeof(h2_ports[0]),
	.state_size = sizeof(struct h2_state),
	.probe = h2_probe,
	.init = h2_init,
	.parse = h2_parse,
	.fini = h2_fini,
};
