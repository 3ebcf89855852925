/* SPDX-License-Identifier: BSD-3-Clause */
/* HTTP messages shared by the HTTP/1.x dissector and HTTP/2
 * (dissectors/http2): stored header blocks, bodies (gunzip/inflate into
 * the engine pool) and the http record, so both give the same keys. */
#ifndef GCP_HTTP_INT_H
#define GCP_HTTP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <zlib.h>

#include "dissect.h"

#define HTTP_HDR_CAP (32u * 1024)   /* header block (HTTP/1) or decoded list (HTTP/2) */
#define HTTP_MAX_FIELDS 128         /* header fields kept per message */
#define HTTP_BODY_CAP_DEFAULT 4096u

enum http_coding { CE_NONE = 0, CE_GZIP, CE_DEFLATE, CE_OTHER };
enum http_zstate { ZS_IDLE = 0, ZS_RUN, ZS_OFF };

/*
 * Start-line parts. Request: method, target, version; response: version,
 * status, reason. HTTP_SL_AUTH is HTTP/2's :authority (the record's
 * host when there is no Host field); HTTP/1 leaves it empty.
 */
enum { HTTP_SL_0 = 0, HTTP_SL_1, HTTP_SL_2, HTTP_SL_AUTH, HTTP_SL_N };

struct http_span {
	uint16_t off, len;
};

/* One field line as offsets into its header block (block <= 32 KiB). */
struct http_fline {
	struct http_span name, value;
};

/* Header block of one message, as views into base (not owned). */
struct http_hdr {
	const uint8_t *base;
	uint32_t len;
	struct http_span sl[HTTP_SL_N];
	uint16_t nf;
	bool folded;
	struct http_fline f[HTTP_MAX_FIELDS];
	uint64_t clen;
	bool has_clen, bad_clen, te, chunked;
	uint8_t coding;
	uint16_t status;
};

/* Stored copy of a header block for the record (one pool block). */
struct http_head {
	uint32_t size;
	uint16_t nf;
	struct http_span sl[HTTP_SL_N];
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

static inline uint8_t http_lc(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static inline bool http_is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static inline bool http_is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* Strip optional whitespace (RFC 9110 5.6.3) from both ends of a view. */
static inline void http_trim(const uint8_t **p, size_t *n)
{
	while (*n && http_is_ows(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n && http_is_ows((*p)[*n - 1]))
		(*n)--;
}

/* What the engine options say about bodies. */
struct http_cfg {
	uint32_t body_cap;
	bool decompress;
};

void gcp_http_cfg_init(struct http_cfg *cfg, struct gcp_dissect_ctx *ctx);

/* An empty header view over base[0, len). */
void gcp_http_hdr_init(struct http_hdr *h, const uint8_t *base, uint32_t len);
/*
 * Add the field name: value (both inside h->base) and note what it says
 * about framing and coding; past HTTP_MAX_FIELDS it is counted, not kept.
 */
void gcp_http_hdr_add(struct gcp_dissect_ctx *ctx, struct http_hdr *h, const uint8_t *name,
		      size_t nn, const uint8_t *value, size_t vn);
bool gcp_http_eq_ci(const uint8_t *p, size_t n, const char *s);

/* A zeroed transaction from the pool (NULL: refused, counted). */
struct http_tx *gcp_http_tx_alloc(struct gcp_dissect_ctx *ctx, uint64_t seq, uint64_t ts);
void gcp_http_tx_free(struct gcp_dissect_ctx *ctx, struct http_tx *tx);

/* The message's header block is h: stored, and its coding decides decoding. */
void gcp_http_msg_begin(const struct http_cfg *cfg, struct gcp_dissect_ctx *ctx,
			struct http_msg *m, const struct http_hdr *h);
/* Body bytes (after de-chunking / DATA framing); p == NULL: n bytes lost. */
void gcp_http_msg_body(const struct http_cfg *cfg, struct gcp_dissect_ctx *ctx,
		       struct http_msg *m, const uint8_t *p, uint64_t n);
/* The message is complete (or cut short: set m->truncated first). */
void gcp_http_msg_end(struct gcp_dissect_ctx *ctx, struct http_msg *m);
/* A copy of a stored header block (the HTTP/2 upgrade reuses the request). */
struct http_head *gcp_http_head_dup(struct gcp_dissect_ctx *ctx, const struct http_head *hd);
/* Is the field name present in hd with a value holding the token tok? */
bool gcp_http_head_has_token(const struct http_head *hd, const char *name, const char *tok);

/* The http record of one transaction (scheme http). */
void gcp_http_emit(struct gcp_dissect_ctx *ctx, const struct http_tx *tx);

#endif /* GCP_HTTP_INT_H */
