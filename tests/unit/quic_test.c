/* SPDX-License-Identifier: BSD-3-Clause */
/* QUIC dissector (dissectors/quic): the Initial keys and packets of RFC
 * 9001 Appendix A (v1) and RFC 9369 Appendix A (v2), the record they
 * give (SNI, ALPN, JA3, JA4 with "q", quic_version, the server's cipher),
 * CRYPTO frames out of order and across datagrams, coalesced packets, a
 * Retry's new connection ID, damaged and foreign packets, the probe, and
 * the engine on a port that is not 443. Packets beyond the RFC's are
 * sealed here with OpenSSL from the keys the vectors prove. */
#include "conv.h"
#include "stream_drv.h"
#include "quic_seal.h"
#include "quic_vectors.h"

extern const struct gcp_dissector gcp_dissector_quic;
extern const struct gcp_dissector gcp_dissector_tls;

static const uint8_t DCID[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };

static void unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		cr_assert_eq(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void expect_hex(const uint8_t *got, const char *want, size_t n)
{
	uint8_t w[64];
	cr_assert_leq(n, sizeof(w));
	unhex(want, w, n);
	cr_assert_arr_eq(got, w, n, "bytes differ from %s", want);
}

/* ---- keys (RFC 9001 A.1, RFC 9369 A.1) -------------------------------------------- */

/* key, iv, hp of the client then the server */
static void check_keys(uint32_t version, const char *const want[6])
{
	struct quic_keys k[2];
	cr_assert(gcp_quic_initial_keys(version, DCID, sizeof(DCID), k));
	for (int r = 0; r < 2; r++) {
		expect_hex(k[r].key, want[3 * r], QUIC_KEY_LEN);
		expect_hex(k[r].iv, want[3 * r + 1], QUIC_IV_LEN);
		expect_hex(k[r].hp, want[3 * r + 2], QUIC_KEY_LEN);
	}
}

Test(quic, rfc9001_a1_initial_keys)
{
	static const char *const want[6] = {
		"1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c",
		"9f50449e04a0e810283a1e9933adedd2", "cf3a5331653c364c88f0f379b6067e37",
		"0ac1493ca1905853b0bba03e",         "c206b8d9b9f0f37644430b490eeaa314",
	};
	check_keys(QUIC_V1, want);
}

Test(quic, rfc9369_a1_initial_keys)
{
	static const char *const want[6] = {
		"8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f",
		"45b95e15235d6f45a6b19cbcb0294ba9", "82db637861d55e1d011f19ea71d5d2a7",
		"dd13c276499c0249d3310652",         "edf6d05c83121201b436e16877593c3a",
	};
	check_keys(QUIC_V2, want);
}

Test(quic, unknown_versions_refused)
{
	struct quic_keys k[2];
	cr_assert_not(gcp_quic_initial_keys(0x51303436, DCID, sizeof(DCID), k)); /* gQUIC Q046 */
	cr_assert_not(gcp_quic_initial_keys(0, DCID, sizeof(DCID), k));
	cr_assert_not(gcp_quic_initial_keys(QUIC_V1, DCID, 0, k));
	cr_assert(gcp_quic_initial_keys(QUIC_DRAFT29, DCID, sizeof(DCID), k));
}

/* ---- packet protection: the A.2 packet opens to the A.2 payload -------------------- */

static void open_a2(uint32_t version, const uint8_t *pkt, const char *plain_header)
{
	struct quic_keys k[2];
	uint8_t mask[5], hdr[22], out[1200];
	cr_assert(gcp_quic_initial_keys(version, DCID, sizeof(DCID), k));
	cr_assert(gcp_quic_hp_mask(&k[0], pkt + 18 + 4, mask));
	memcpy(hdr, pkt, 22);
	hdr[0] ^= mask[0] & 0x0f;
	for (int i = 0; i < 4; i++)
		hdr[18 + i] ^= mask[1 + i];
	expect_hex(hdr, plain_header, 22);
	const uint8_t *aad[3] = { hdr, NULL, NULL };
	const size_t alen[3] = { 22, 0, 0 };
	cr_assert(gcp_quic_open(&k[0], 2, aad, alen, pkt + 22, 1200 - 22, out));
	cr_assert_arr_eq(out, rfc9001_client_payload, sizeof(rfc9001_client_payload));
	for (size_t i = sizeof(rfc9001_client_payload); i < 1200 - 22 - 16; i++)
		cr_assert_eq(out[i], 0, "PADDING at %zu", i);
	/* a flipped ciphertext bit fails the tag */
	uint8_t bad[1200];
	memcpy(bad, pkt, sizeof(bad));
	bad[600] ^= 1;
	cr_assert_not(gcp_quic_open(&k[0], 2, aad, alen, bad + 22, 1200 - 22, out));
	/* so does the wrong packet number */
	cr_assert_not(gcp_quic_open(&k[0], 3, aad, alen, pkt + 22, 1200 - 22, out));
}

Test(quic, rfc9001_a2_client_initial_opens)
{
	open_a2(QUIC_V1, rfc9001_client_initial, "c300000001088394c8f03e5157080000449e00000002");
}

Test(quic, rfc9369_a2_client_initial_opens)
{
	open_a2(QUIC_V2, rfc9369_client_initial, "d36b3343cf088394c8f03e5157080000449e00000002");
}

/* ---- the dissector ------------------------------------------------------------------ */

static void udp_drv(struct drv *d)
{
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;
	memset(d, 0, sizeof(*d));
	o.node_name = "test";
	o.max_flows = 16;
	d->dis = &gcp_dissector_quic;
	d->ctx = gcp_test_dctx_new(&o, IPPROTO_UDP, "10.0.0.1", 40000, "10.0.0.2", 443);
	cr_assert_not_null(d->ctx);
	gcp_test_dctx_set_now(d->ctx, 1700000000000000000ull);
	d->st = calloc(1, gcp_dissector_quic.state_size);
	cr_assert_not_null(d->st);
	gcp_dissector_quic.init(d->st, d->ctx);
}

/* One datagram in an exact-size buffer; returns the parse status. */
static int dgram_in(struct drv *d, int dir, const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n);
	cr_assert_not_null(b);
	memcpy(b, p, n);
	struct gcp_parse_result r = gcp_dissector_quic.parse(d->st, d->ctx, dir, b, (uint32_t)n, 0);
	free(b);
	cr_assert_eq(r.consumed, n);
	return r.status;
}

static void udp_end(struct drv *d)
{
	gcp_dissector_quic.fini(d->st, d->ctx);
	cr_assert_eq(d->ctx->eng->pool.used, 0, "pool blocks leaked");
	free(d->st);
	d->st = NULL;
}

static const char *tls_str(struct drv *d, unsigned i, const char *key, char *buf, size_t cap)
{
	const msgpack_object *t = get(d, i, "tls");
	cr_assert_not_null(t, "no tls map");
	const msgpack_object *o = map_get(t, key);
	if (!o)
		return NULL;
	cr_assert_eq(o->type, MSGPACK_OBJECT_STR);
	snprintf(buf, cap, "%.*s", (int)o->via.str.size, o->via.str.ptr);
	return buf;
}

static void rfc_pair(const uint8_t *c, const uint8_t *s, size_t sn,
		     const char *vtext)
{
	struct drv d;
	char buf[128];
	udp_drv(&d);
	cr_assert_eq(dgram_in(&d, C2S, c, 1200), GCP_PARSE_OK);
	cr_assert_eq(nrec(&d), 0, "the record waits for the server");
	cr_assert_eq(dgram_in(&d, S2C, s, sn), GCP_PARSE_DONE);
	cr_assert_eq(nrec(&d), 1);
	expect_str(&d, 0, "scheme", "https");
	expect_str(&d, 0, "host", "example.com");
	expect_str(&d, 0, "quic_version", vtext);
	expect_str(&d, 0, "l4", "udp");
	expect_str(&d, 0, "version", "TLSv1.3");
	cr_assert_str_eq(tls_str(&d, 0, "sni", buf, sizeof(buf)), "example.com");
	cr_assert_str_eq(tls_str(&d, 0, "cipher", buf, sizeof(buf)), "TLS_AES_128_GCM_SHA256");
	cr_assert_eq(strncmp(tls_str(&d, 0, "ja4", buf, sizeof(buf)), "q13d", 4), 0, "%s", buf);
	const char *j = gcp_test_dctx_json(d.ctx, 0);
	cr_assert(strstr(j, "\"alpn\":[\"alpn\"]"), "%s", j);
	cr_assert_eq(anomalies(&d), 0);
	udp_end(&d);
	cr_assert_eq(nrec(&d), 1, "fini writes no second record");
	drv_free(&d);
}

Test(quic, rfc9001_a2_a3_record)
{
	rfc_pair(rfc9001_client_initial, rfc9001_server_initial,
		 sizeof(rfc9001_server_initial), "0x00000001");
}

Test(quic, rfc9369_a2_a3_record)
{
	rfc_pair(rfc9369_client_initial, rfc9369_server_initial,
		 sizeof(rfc9369_server_initial), "0x6b3343cf");
}

/* No server Initial: the record comes at flow end. */
Test(quic, client_only_record_at_fini)
{
	struct drv d;
	udp_drv(&d);
	dgram_in(&d, C2S, rfc9001_client_initial, 1200);
	udp_end(&d);
	cr_assert_eq(nrec(&d), 1);
	expect_str(&d, 0, "host", "example.com");
	expect_absent(&d, 0, "http_version");
	drv_free(&d);
}

/* JA3 and JA4 of the ClientHello are those the TLS dissector gives the very
 * same hello over TCP, but for JA4's first letter ("q" for QUIC). */
Test(quic, ja4_q_prefix_matches_tls_over_tcp)
{
	struct drv q, t;
	char qa[64], qj[64], ta[64], tj[64];
	udp_drv(&q);
	dgram_in(&q, C2S, rfc9001_client_initial, 1200);
	udp_end(&q);
	/* the hello is the CRYPTO frame's data: 4 bytes of frame header in */
	const uint8_t *hello = rfc9001_client_payload + 4;
	size_t hn = sizeof(rfc9001_client_payload) - 4;
	uint8_t rec[512] = { 22, 3, 1, (uint8_t)(hn >> 8), (uint8_t)hn };
	memcpy(rec + 5, hello, hn);
	drv_init(&t, &gcp_dissector_tls, 443);
	drv_feed(&t, C2S, rec, 5 + hn, 0);
	drv_end(&t);
	cr_assert_eq(nrec(&t), 1);
	cr_assert_not_null(tls_str(&q, 0, "ja4", qa, sizeof(qa)));
	cr_assert_not_null(tls_str(&t, 0, "ja4", ta, sizeof(ta)));
	cr_assert_eq(qa[0], 'q');
	cr_assert_eq(ta[0], 't');
	cr_assert_str_eq(qa + 1, ta + 1);
	cr_assert_str_eq(tls_str(&q, 0, "ja3", qj, sizeof(qj)), tls_str(&t, 0, "ja3", tj, sizeof(tj)));
	drv_free(&q);
	drv_free(&t);
}

/* ---- packets sealed here --------------------------------------------------------------- */

struct pkt {
	uint8_t b[QUIC_SEAL_MAX];
	size_t n;
};

/* A 1200-byte client or server Initial around payload (quic_seal.h). */
static void seal(struct pkt *out, uint32_t version, const uint8_t *dcid, size_t dl,
		 const uint8_t *dcid_keys, size_t kl, int role, uint16_t pn, const uint8_t *payload,
		 size_t pl)
{
	out->n = quic_seal_initial(out->b, version, dcid, dl, dcid_keys, kl, role, pn, payload, pl,
				   1200);
	cr_assert_eq(out->n, 1200);
}

static size_t varint(uint8_t *p, uint64_t v)
{
	if (v < 64) {
		p[0] = (uint8_t)v;
		return 1;
	}
	p[0] = (uint8_t)(0x40 | v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

/* A CRYPTO frame with bytes [off, off + n) of the A.2 ClientHello. */
static size_t crypto_piece(uint8_t *p, size_t off, size_t n)
{
	const uint8_t *hello = rfc9001_client_payload + 4;
	size_t k = 0;
	p[k++] = 0x06;
	k += varint(p + k, off);
	k += varint(p + k, n);
	memcpy(p + k, hello + off, n);
	return k + n;
}

#define HELLO_LEN (sizeof(rfc9001_client_payload) - 4)

/* The hello in three CRYPTO frames, last first, over two datagrams, with
 * PING and PADDING between: the record is the A.2 one. */
Test(quic, crypto_out_of_order_across_datagrams)
{
	uint8_t p1[1200], p2[1200];
	size_t n1 = 0, n2 = 0;
	n1 += crypto_piece(p1 + n1, 150, HELLO_LEN - 150);
	p1[n1++] = 0x01; /* PING */
	p1[n1++] = 0x00; /* PADDING */
	n1 += crypto_piece(p1 + n1, 60, 90);
	n2 += crypto_piece(p2 + n2, 0, 61); /* overlaps the next piece by one */
	struct pkt a, b;
	seal(&a, QUIC_V1, DCID, 8, DCID, 8, 0, 0, p1, n1);
	seal(&b, QUIC_V1, DCID, 8, DCID, 8, 0, 1, p2, n2);
	struct drv d;
	udp_drv(&d);
	dgram_in(&d, C2S, a.b, a.n);
	cr_assert_eq(nrec(&d), 0);
	dgram_in(&d, C2S, b.b, b.n);
	udp_end(&d);
	cr_assert_eq(nrec(&d), 1);
	expect_str(&d, 0, "host", "example.com");
	cr_assert_eq(anomalies(&d), 0);
	drv_free(&d);
}

/* An Initial coalesced behind another long-header packet it cannot read. */
Test(quic, coalesced_packets)
{
	uint8_t f[1200];
	size_t n = crypto_piece(f, 0, HELLO_LEN);
	struct pkt a;
	seal(&a, QUIC_V1, DCID, 8, DCID, 8, 0, 0, f, n);
	/* a 0-RTT packet (v1 type 1) of 40 bytes, then the Initial */
	uint8_t dg[1300] = { 0xd1, 0, 0, 0, 1, 8 };
	memcpy(dg + 6, DCID, 8);
	dg[14] = 0;  /* SCID */
	dg[15] = 24; /* length: the 24 bytes left of the 40 */
	memcpy(dg + 40, a.b, a.n);
	struct drv d;
	udp_drv(&d);
	dgram_in(&d, C2S, dg, 40 + a.n);
	udp_end(&d);
	cr_assert_eq(nrec(&d), 1);
	expect_str(&d, 0, "host", "example.com");
	drv_free(&d);
}

/* After a Retry the client's Initials use the server's new connection ID,
 * and the Initial keys come from it (RFC 9001 5.2). */
Test(quic, retry_new_dcid_rekeys)
{
	static const uint8_t dcid2[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	uint8_t f[1200];
	struct pkt junk, hello;
	size_t n = crypto_piece(f, 0, 30); /* the first attempt: only a piece */
	seal(&junk, QUIC_V1, DCID, 8, DCID, 8, 0, 0, f, n);
	n = crypto_piece(f, 0, HELLO_LEN);
	seal(&hello, QUIC_V1, dcid2, 10, dcid2, 10, 0, 1, f, n);
	struct drv d;
	udp_drv(&d);
	dgram_in(&d, C2S, junk.b, junk.n);
	dgram_in(&d, C2S, hello.b, hello.n);
	udp_end(&d);
	cr_assert_eq(nrec(&d), 1);
	expect_str(&d, 0, "host", "example.com");
	drv_free(&d);
}

/* Damage, truncation and frames an Initial may not carry: counted, no record,
 * no crash, and the flow gives up after a while. */
Test(quic, damaged_and_foreign)
{
	struct drv d;
	uint8_t bad[1200];
	udp_drv(&d);
	memcpy(bad, rfc9001_client_initial, sizeof(bad));
	bad[700] ^= 0x80;
	dgram_in(&d, C2S, bad, sizeof(bad));          /* tag fails */
	dgram_in(&d, C2S, rfc9001_client_initial, 600); /* length past the datagram */
	cr_assert_eq(anomalies(&d), 1);
	uint8_t f[8] = { 0x08, 0x00 }; /* a STREAM frame: not in an Initial (12.4) */
	struct pkt p;
	seal(&p, QUIC_V1, DCID, 8, DCID, 8, 0, 0, f, 2);
	dgram_in(&d, C2S, p.b, p.n);
	cr_assert_eq(anomalies(&d), 2);
	static const uint8_t short_hdr[40] = { 0x40, 1, 2, 3 };
	int status = GCP_PARSE_OK;
	for (int i = 0; i < 100 && status == GCP_PARSE_OK; i++)
		status = dgram_in(&d, S2C, short_hdr, sizeof(short_hdr));
	cr_assert_eq(status, GCP_PARSE_DONE, "gives up after QUIC_MAX_DGRAMS datagrams");
	udp_end(&d);
	cr_assert_eq(nrec(&d), 0);
	drv_free(&d);
}

Test(quic, probe)
{
	const struct gcp_dissector *q = &gcp_dissector_quic;
	cr_assert_eq(q->probe(rfc9001_client_initial, 1200, GCP_DIR_C2S), GCP_PROBE_YES);
	cr_assert_eq(q->probe(rfc9369_client_initial, 1200, GCP_DIR_C2S), GCP_PROBE_YES);
	/* a server Initial (empty DCID): the client's decides */
	cr_assert_eq(q->probe(rfc9001_server_initial, sizeof(rfc9001_server_initial),
			      GCP_DIR_S2C), GCP_PROBE_MAYBE);
	uint8_t g[64] = { 0xc3, 'Q', '0', '4', '6', 8 }; /* gQUIC Q046 */
	cr_assert_eq(q->probe(g, sizeof(g), GCP_DIR_C2S), GCP_PROBE_NO);
	uint8_t vn[64] = { 0xc0, 0, 0, 0, 0, 8 };        /* Version Negotiation */
	cr_assert_eq(q->probe(vn, sizeof(vn), GCP_DIR_S2C), GCP_PROBE_NO);
	uint8_t dns[32] = { 0x12, 0x34, 0x01, 0x00, 0, 1 };
	cr_assert_eq(q->probe(dns, sizeof(dns), GCP_DIR_C2S), GCP_PROBE_NO);
	cr_assert_eq(q->probe(rfc9001_client_initial, 30, GCP_DIR_C2S), GCP_PROBE_NO);
}

/* Through the engine on a port that is not 443: the Initial is enough. */
Test(quic, engine_any_port)
{
	struct sink s = { 0 };
	struct gcp_engine *e = conv_engine(&s);
	struct conn c;
	udp_open(&c, e, 5, 4444);
	dgram(&c, 0, rfc9001_client_initial, 1200);
	dgram(&c, 1, rfc9001_server_initial, sizeof(rfc9001_server_initial));
	cr_assert_eq(gcp_engine_flush(e), 0);
	const char *http = find_rec(&s, "http");
	cr_assert_not_null(http);
	cr_assert(strstr(http, "\"dst_port\":4444"), "%s", http);
	cr_assert(strstr(http, "\"quic_version\":\"0x00000001\""), "%s", http);
	cr_assert(strstr(http, "\"sni\":\"example.com\""), "%s", http);
	gcp_engine_destroy(e);
	sink_free(&s);
}
