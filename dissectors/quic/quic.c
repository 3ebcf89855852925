/* SPDX-License-Identifier: BSD-3-Clause */
/* QUIC dissector: Initial packets (RFC 9000 17.2.2) of v1, v2 (RFC 9369)
 * and drafts 29-32, decrypted with the keys every observer can derive
 * from the client's Destination Connection ID (RFC 9001 5.2); their
 * CRYPTO frames, reassembled, carry the TLS ClientHello and ServerHello,
 * parsed by the TLS dissector. One http record (scheme https) per
 * connection: SNI, ALPN, JA3, JA4 ("q"), quic_version. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../tls/tls.h"
#include "cursor.h"
#include "dissect.h"
#include "quic_int.h"

#define QUIC_CRYPTO_CAP (16u * 1024) /* CRYPTO bytes kept per direction (the hello) */
#define QUIC_RANGES 16               /* out-of-order CRYPTO pieces tracked */
#define QUIC_MAX_DGRAMS 64           /* datagrams looked at per connection */

enum quic_ptype { QP_INITIAL, QP_0RTT, QP_HANDSHAKE, QP_RETRY };

/* A long header (RFC 9000 17.2) up to the protected packet number. */
struct quic_hdr {
	uint32_t version;
	uint8_t type;            /* enum quic_ptype, version-independent */
	uint8_t dcid_len;
	const uint8_t *dcid;
	uint32_t pn_off;         /* offset of the packet number */
	uint32_t end;            /* offset just past this packet */
};

struct quic_range {
	uint32_t lo, hi;
};

struct quic_dir {
	int64_t largest_pn;      /* -1: none yet (RFC 9000 A.3) */
	uint8_t *buf;            /* CRYPTO stream bytes [0, QUIC_CRYPTO_CAP), pool */
	struct quic_range r[QUIC_RANGES];
	uint8_t nr;
	bool done;               /* the hello went to TLS, or could not */
};

struct quic_state {
	struct quic_keys k[2];   /* [0] client's packets, [1] server's */
	struct quic_dir d[2];    /* by role: [0] client, [1] server */
	uint8_t dcid[QUIC_CID_MAX], dcid_len;
	uint32_t version;        /* of the Initial the keys are for */
	uint32_t dgrams;
	int cdir;                /* engine direction the client sends in */
	bool keys;
	void *tls;               /* TLS dissector state (pool) */
	bool done;
};

/* ---- primitives -------------------------------------------------------------- */

/* Variable-length integer (RFC 9000 16). */
static uint64_t quic_varint(struct gcp_cur *c)
{
	uint8_t b = gcp_cur_u8(c);
	unsigned n = 1u << (b >> 6);
	uint64_t v = b & 0x3f;
	for (unsigned i = 1; i < n; i++)
		v = v << 8 | gcp_cur_u8(c);
	return v;
}

/* RFC 9369 3.2: v2 renumbers the long packet types. */
static uint8_t ptype(uint32_t version, uint8_t bits)
{
	return version == QUIC_V2 ? (uint8_t)((bits + 3) & 3) : bits;
}

/* RFC 9000 A.3: the full packet number nearest the expected one. */
static uint64_t decode_pn(int64_t largest, uint64_t truncated, unsigned nbits)
{
	uint64_t expected = (uint64_t)(largest + 1), win = 1ull << nbits, hwin = win / 2;
	uint64_t cand = (expected & ~(win - 1)) | truncated;
	if (cand + hwin <= expected && cand < (1ull << 62) - win)
		return cand + win;
	if (cand > expected + hwin && cand >= win)
		return cand - win;
	return cand;
}

/*
 * A long header of a version we can decrypt, at p (n bytes to the end of
 * the datagram). Retry and Version Negotiation have no length: false.
 */
static bool long_header(const uint8_t *p, uint32_t n, struct quic_hdr *h)
{
	struct gcp_cur c = gcp_cur_make(p, n);
	uint8_t b0 = gcp_cur_u8(&c);
	h->version = gcp_cur_be32(&c);
	if (c.err || (b0 & 0xc0) != 0xc0 || !gcp_quic_version_known(h->version))
		return false; /* 17.2: header form and fixed bit set */
	h->type = ptype(h->version, (b0 >> 4) & 3);
	h->dcid_len = gcp_cur_u8(&c);
	h->dcid = gcp_cur_bytes(&c, h->dcid_len);
	uint8_t scid_len = gcp_cur_u8(&c);
	gcp_cur_skip(&c, scid_len);
	if (c.err || h->dcid_len > QUIC_CID_MAX || scid_len > QUIC_CID_MAX || h->type == QP_RETRY)
		return false;
	if (h->type == QP_INITIAL)
		gcp_cur_skip(&c, quic_varint(&c)); /* token */
	uint64_t len = quic_varint(&c);
	if (c.err || len > gcp_cur_left(&c) || len < 4 + QUIC_TAG_LEN)
		return false; /* room for the sample (RFC 9001 5.4.2) and the tag */
	h->pn_off = (uint32_t)(c.p - p);
	h->end = h->pn_off + (uint32_t)len;
	return true;
}

/* ---- CRYPTO stream (RFC 9000 19.6) --------------------------------------------- */

static void dir_free(struct gcp_dissect_ctx *ctx, struct quic_dir *d)
{
	if (d->buf)
		gcp_dctx_free(ctx, d->buf, QUIC_CRYPTO_CAP);
	d->buf = NULL;
}

/* Record [lo, hi) as received; false when too fragmented to follow. */
static bool range_add(struct quic_dir *d, uint32_t lo, uint32_t hi)
{
	unsigned i = 0;
	while (i < d->nr && d->r[i].hi < lo)
		i++;
	if (i < d->nr && d->r[i].lo <= hi) { /* overlaps or touches: widen, merge right */
		d->r[i].lo = lo < d->r[i].lo ? lo : d->r[i].lo;
		d->r[i].hi = hi > d->r[i].hi ? hi : d->r[i].hi;
		while (i + 1u < d->nr && d->r[i + 1].lo <= d->r[i].hi) {
			d->r[i].hi = d->r[i + 1].hi > d->r[i].hi ? d->r[i + 1].hi : d->r[i].hi;
			memmove(&d->r[i + 1], &d->r[i + 2], (d->nr - i - 2u) * sizeof(d->r[0]));
			d->nr--;
		}
		return true;
	}
	if (d->nr == QUIC_RANGES)
		return false;
	memmove(&d->r[i + 1], &d->r[i], (d->nr - i) * sizeof(d->r[0]));
	d->r[i] = (struct quic_range){ lo, hi };
	d->nr++;
	return true;
}

/* The first handshake message, once its bytes from offset 0 are all in. */
static void crypto_ready(struct quic_state *st, struct gcp_dissect_ctx *ctx, struct quic_dir *d)
{
	uint32_t have = d->nr && d->r[0].lo == 0 ? d->r[0].hi : 0;
	if (have < 4)
		return;
	uint32_t want = 4u + ((uint32_t)d->buf[1] << 16 | (uint32_t)d->buf[2] << 8 | d->buf[3]);
	if (want > QUIC_CRYPTO_CAP) {
		gcp_dctx_anomaly(ctx); /* a hello larger than we keep */
		d->done = true;
	} else if (have >= want) {
		gcp_tls_handshake_msg(st->tls, ctx, d->buf, want);
		d->done = true;
	}
	if (d->done)
		dir_free(ctx, d);
}

static void crypto_data(struct quic_state *st, struct gcp_dissect_ctx *ctx, struct quic_dir *d,
			uint64_t off, const uint8_t *p, uint64_t n)
{
	if (d->done || n == 0 || off >= QUIC_CRYPTO_CAP)
		return; /* past the cap: beyond the first message we want */
	uint32_t lo = (uint32_t)off, hi = off + n > QUIC_CRYPTO_CAP ? QUIC_CRYPTO_CAP
								  : (uint32_t)(off + n);
	if (!d->buf && !(d->buf = gcp_dctx_alloc(ctx, QUIC_CRYPTO_CAP))) {
		gcp_dctx_anomaly(ctx);
		d->done = true;
		return;
	}
	memcpy(d->buf + lo, p, hi - lo);
	if (!range_add(d, lo, hi)) {
		gcp_dctx_anomaly(ctx); /* more than QUIC_RANGES holes */
		d->done = true;
		dir_free(ctx, d);
		return;
	}
	crypto_ready(st, ctx, d);
}

/* ---- frames of an Initial packet (RFC 9000 12.4, 19) ---------------------------- */

static void ack_frame(struct gcp_cur *c, uint64_t type)
{
	quic_varint(c); /* largest acknowledged */
	quic_varint(c); /* delay */
	uint64_t ranges = quic_varint(c);
	quic_varint(c); /* first range */
	for (uint64_t i = 0; i < ranges && !c->err; i++) {
		quic_varint(c); /* gap */
		quic_varint(c); /* range length */
	}
	for (int i = 0; type == 0x03 && i < 3; i++)
		quic_varint(c); /* ECN counts */
}

/* Returns false to stop: CONNECTION_CLOSE, a frame not allowed here, or junk. */
static bool frame(struct quic_state *st, struct gcp_dissect_ctx *ctx, struct quic_dir *d,
		  struct gcp_cur *c)
{
	uint64_t type = quic_varint(c);
	switch (type) {
	case 0x00: /* PADDING: runs of zero bytes */
		while (gcp_cur_left(c) && *c->p == 0)
			c->p++;
		return true;
	case 0x01: /* PING */
		return true;
	case 0x02:
	case 0x03:
		ack_frame(c, type);
		return !c->err;
	case 0x06: { /* CRYPTO */
		uint64_t off = quic_varint(c), n = quic_varint(c);
		const uint8_t *p = gcp_cur_bytes(c, n);
		if (!p || off + n > (1ull << 62))
			return false;
		crypto_data(st, ctx, d, off, p, n);
		return true;
	}
	case 0x1c: /* CONNECTION_CLOSE: the end of this packet's frames */
		return false;
	default:
		gcp_dctx_anomaly(ctx); /* 12.4: not allowed in an Initial packet */
		return false;
	}
}

static void frames(struct quic_state *st, struct gcp_dissect_ctx *ctx, struct quic_dir *d,
		   const uint8_t *p, uint32_t n)
{
	struct gcp_cur c = gcp_cur_make(p, n);
	while (gcp_cur_left(&c) && frame(st, ctx, d, &c))
		;
	if (c.err)
		gcp_dctx_anomaly(ctx); /* a frame past the end of the packet */
}

/* ---- Initial packets ------------------------------------------------------------ */

/* Remove header protection and decrypt (RFC 9001 5.3, 5.4) into out. */
static int32_t open_packet(struct quic_state *st, int role, const uint8_t *p,
			   const struct quic_hdr *h, uint8_t *out)
{
	uint8_t mask[5], b0, pnb[4];
	if (!gcp_quic_hp_mask(&st->k[role], p + h->pn_off + 4, mask))
		return -1;
	b0 = p[0] ^ (mask[0] & 0x0f);
	unsigned pnl = (b0 & 3u) + 1;
	uint64_t tpn = 0;
	for (unsigned i = 0; i < pnl; i++) {
		pnb[i] = p[h->pn_off + i] ^ mask[1 + i];
		tpn = tpn << 8 | pnb[i];
	}
	struct quic_dir *d = &st->d[role];
	uint64_t pn = decode_pn(d->largest_pn, tpn, 8 * pnl);
	const uint8_t *aad[3] = { &b0, p + 1, pnb };
	const size_t alen[3] = { 1, h->pn_off - 1, pnl };
	uint32_t ct = h->pn_off + pnl;
	if (!gcp_quic_open(&st->k[role], pn, aad, alen, p + ct, h->end - ct, out))
		return -1;
	if ((int64_t)pn > d->largest_pn)
		d->largest_pn = (int64_t)pn;
	return (int32_t)(h->end - ct - QUIC_TAG_LEN);
}

static bool derive(struct quic_state *st, const struct quic_hdr *h)
{
	if (!gcp_quic_initial_keys(h->version, h->dcid, h->dcid_len, st->k))
		return false;
	memcpy(st->dcid, h->dcid, h->dcid_len);
	st->dcid_len = h->dcid_len;
	st->version = h->version;
	st->d[0].largest_pn = st->d[1].largest_pn = -1;
	st->keys = true;
	return true;
}

static bool same_dcid(const struct quic_state *st, const struct quic_hdr *h)
{
	return h->dcid_len == st->dcid_len && memcmp(h->dcid, st->dcid, st->dcid_len) == 0;
}

static void initial(struct quic_state *st, struct gcp_dissect_ctx *ctx, int dir,
		    const uint8_t *p, const struct quic_hdr *h)
{
	if (!st->keys) { /* the first Initial seen is the client's */
		st->cdir = dir;
		if (!derive(st, h))
			return;
	}
	int role = dir == st->cdir ? 0 : 1;
	if (role == 1 && (st->d[1].done || h->version != st->version))
		return;
	/* Once the client's hello is in, its Initials matter only when they
	 * may carry new keys for the server's (a Retry changed the DCID). */
	if (role == 0 && st->d[0].done && (st->d[1].done || same_dcid(st, h)))
		return;
	uint32_t plen = h->end - h->pn_off;
	uint8_t *out = gcp_dctx_alloc(ctx, plen);
	if (!out) {
		gcp_dctx_anomaly(ctx);
		return;
	}
	int32_t n = open_packet(st, role, p, h, out);
	/* After a Retry (RFC 9000 17.2.5) the client's Initials go to the
	 * connection ID the server chose, and the keys follow it; after
	 * Version Negotiation, the version. */
	if (n < 0 && role == 0 && (!same_dcid(st, h) || h->version != st->version) &&
	    derive(st, h))
		n = open_packet(st, role, p, h, out);
	if (n < 0)
		gcp_dctx_anomaly(ctx); /* not ours to read, or damaged */
	else
		frames(st, ctx, &st->d[role], out, (uint32_t)n);
	gcp_dctx_free(ctx, out, plen);
}

/* Every coalesced long-header packet of a datagram (RFC 9000 12.2). */
static void datagram(struct quic_state *st, struct gcp_dissect_ctx *ctx, int dir,
		     const uint8_t *p, uint32_t n)
{
	uint32_t off = 0;
	struct quic_hdr h;
	while (off < n && (p[off] & 0x80) && long_header(p + off, n - off, &h)) {
		if (h.type == QP_INITIAL)
			initial(st, ctx, dir, p + off, &h);
		off += h.end;
	}
}

/* ---- the dissector ----------------------------------------------------------------- */

static enum gcp_probe_result quic_probe(const uint8_t *data, uint32_t len, int dir)
{
	struct quic_hdr h;
	(void)dir;
	if (!data || !long_header(data, len, &h))
		return GCP_PROBE_NO;
	/* RFC 9000 7.2: a client's first Destination Connection ID has 8+ bytes */
	if (h.type == QP_INITIAL && h.dcid_len >= 8)
		return GCP_PROBE_YES;
	return GCP_PROBE_MAYBE; /* Handshake, 0-RTT or a server Initial: wait for more */
}

static void quic_version_key(struct gcp_rb *rb, void *arg)
{
	const struct quic_state *st = arg;
	char v[16];
	snprintf(v, sizeof(v), "0x%08x", (unsigned)st->version);
	gcp_rb_kv_cstr(rb, "quic_version", v);
}

static void quic_init(void *state, struct gcp_dissect_ctx *ctx)
{
	struct quic_state *st = state;
	const struct gcp_dissector *tls = &gcp_dissector_tls;
	st->d[0].largest_pn = st->d[1].largest_pn = -1;
	st->tls = gcp_dctx_alloc(ctx, tls->state_size);
	if (!st->tls) {
		gcp_dctx_anomaly(ctx);
		st->done = true;
		return;
	}
	memset(st->tls, 0, tls->state_size);
	tls->init(st->tls, ctx);
	gcp_tls_quic_setup(st->tls, quic_version_key, st);
}

static void quic_release(struct quic_state *st, struct gcp_dissect_ctx *ctx)
{
	dir_free(ctx, &st->d[0]);
	dir_free(ctx, &st->d[1]);
}

static struct gcp_parse_result quic_parse(void *state, struct gcp_dissect_ctx *ctx, int dir,
					  const uint8_t *data, uint32_t len, unsigned flags)
{
	struct quic_state *st = state;
	struct gcp_parse_result r = { GCP_PARSE_OK, len, 0 };
	(void)flags;
	if (!st->done && data && len) {
		datagram(st, ctx, dir == GCP_DIR_S2C ? GCP_DIR_S2C : GCP_DIR_C2S, data, len);
		/* Both hellos read, or enough datagrams to have seen them. */
		if (gcp_tls_done(st->tls) || (st->d[0].done && st->d[1].done) ||
		    ++st->dgrams >= QUIC_MAX_DGRAMS)
			st->done = true;
	}
	if (st->done) {
		quic_release(st, ctx);
		r.status = GCP_PARSE_DONE;
	}
	return r;
}

static void quic_fini(void *state, struct gcp_dissect_ctx *ctx)
{
	struct quic_state *st = state;
	quic_release(st, ctx);
	if (st->tls) {
		gcp_dissector_tls.fini(st->tls, ctx); /* the record, if not out yet */
		gcp_dctx_free(ctx, st->tls, gcp_dissector_tls.state_size);
		st->tls = NULL;
	}
}

static const uint16_t quic_ports[] = { 443, 4433, 8443 };

const struct gcp_dissector gcp_dissector_quic = {
	.name = "quic",
	.record_types = GCP_REC_HTTP,
	.l4_mask = GCP_L4_UDP,
	.ports = quic_ports,
	.nports = sizeof(quic_ports) / sizeof(quic_ports[0]),
	.state_size = sizeof(struct quic_state),
	.probe = quic_probe,
	.init = quic_init,
	.parse = quic_parse,
	.fini = quic_fini,
};
