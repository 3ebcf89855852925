/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for the TLS dissector (dissectors/tls/tls.c): corpus hellos
 * with tshark-verified JA3, FoxIO JA4 vectors, reassembly, HRR, SSLv2,
 * certificates, byte-at-a-time feeding and garbage. */
#include <criterion/criterion.h>

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dissect.h"
#include "engine.h"
#include "tls_vectors.h"

extern const struct gcp_dissector gcp_dissector_tls;

/* ---- a driver that honours consumed/needed like the engine (app.c) ---- */

struct drv {
	struct gcp_dissect_ctx *ctx;
	void *st;
	uint8_t *pend[2];
	size_t plen[2];
	uint8_t status;
	bool finished;
};

static void drv_init(struct drv *d)
{
	memset(d, 0, sizeof(*d));
	d->ctx = gcp_test_dctx_new(NULL, IPPROTO_TCP, "10.0.0.1", 50000, "10.0.0.2", 443);
	cr_assert_not_null(d->ctx);
	gcp_test_dctx_set_now(d->ctx, 1700000000000000000ull);
	d->st = calloc(1, gcp_dissector_tls.state_size);
	cr_assert_not_null(d->st);
	gcp_dissector_tls.init(d->st, d->ctx);
}

/* Offer pending + new bytes (exact-size copy so ASan sees over-reads). */
static void drv_feed(struct drv *d, int dir, const uint8_t *p, size_t n)
{
	if (d->status != GCP_PARSE_OK || n == 0)
		return;
	uint8_t *b = malloc(d->plen[dir] + n);

	cr_assert_not_null(b);
	if (d->plen[dir])
		memcpy(b, d->pend[dir], d->plen[dir]);
	memcpy(b + d->plen[dir], p, n);
	size_t len = d->plen[dir] + n;
	struct gcp_parse_result r =
		gcp_dissector_tls.parse(d->st, d->ctx, dir, b, (uint32_t)len, 0);

	cr_assert_leq(r.consumed, len);
	d->status = r.status;
	free(d->pend[dir]);
	d->plen[dir] = len - r.consumed;
	d->pend[dir] = NULL;
	if (d->plen[dir]) {
		d->pend[dir] = malloc(d->plen[dir]);
		memcpy(d->pend[dir], b + r.consumed, d->plen[dir]);
	}
	free(b);
}

static void drv_chunks(struct drv *d, int dir, const uint8_t *p, size_t n, size_t chunk)
{
	for (size_t o = 0; o < n; o += chunk)
		drv_feed(d, dir, p + o, n - o < chunk ? n - o : chunk);
}

static void drv_fini(struct drv *d)
{
	if (!d->finished)
		gcp_dissector_tls.fini(d->st, d->ctx);
	d->finished = true;
}

static void drv_free(struct drv *d)
{
	drv_fini(d);
	free(d->pend[0]);
	free(d->pend[1]);
	free(d->st);
	gcp_test_dctx_free(d->ctx);
}

static unsigned drv_nrec(struct drv *d)
{
	return gcp_test_dctx_nrecords(d->ctx);
}

/* Record 0 from "scheme" on (common keys hold a wall-clock ingest_ts). */
static char *drv_json(struct drv *d)
{
	cr_assert_eq(drv_nrec(d), 1, "expected one record, got %u", drv_nrec(d));
	const char *j = gcp_test_dctx_json(d->ctx, 0);

	cr_assert_not_null(j);
	const char *s = strstr(j, "\"scheme\"");

	cr_assert_not_null(s, "no scheme in %s", j);
	return strdup(s);
}

#define assert_has(json, frag) cr_assert_not_null(strstr((json), (frag)), "missing %s in %s", (frag), (json))
#define assert_lacks(json, frag) cr_assert_null(strstr((json), (frag)), "unexpected %s in %s", (frag), (json))

/* Whole session fed one-shot (chunk 0) or in chunks; returns the json tail. */
static char *run_pair(const uint8_t *c, size_t cn, const uint8_t *s, size_t sn, size_t chunk)
{
	struct drv d;
	char *j;

	drv_init(&d);
	drv_chunks(&d, GCP_DIR_C2S, c, cn, chunk ? chunk : cn);
	drv_chunks(&d, GCP_DIR_S2C, s, sn, chunk ? chunk : sn);
	drv_fini(&d);
	j = drv_json(&d);
	drv_free(&d);
	return j;
}

/* ---- probe ------------------------------------------------------------- */

Test(tls, probe)
{
	static const uint8_t garbage[] = "GET / HTTP/1.1\r\n";
	static const uint8_t badlen[] = { 0x16, 0x03, 0x01, 0xff, 0xff, 0x01 };

	cr_assert_eq(gcp_dissector_tls.probe(tls12_c2s, sizeof(tls12_c2s), 0), GCP_PROBE_YES);
	cr_assert_eq(gcp_dissector_tls.probe(tls12_s2c, sizeof(tls12_s2c), 1), GCP_PROBE_YES);
	cr_assert_eq(gcp_dissector_tls.probe(tls12_c2s, 3, 0), GCP_PROBE_MAYBE);
	cr_assert_eq(gcp_dissector_tls.probe(tls12_c2s, 0, 0), GCP_PROBE_MAYBE);
	cr_assert_eq(gcp_dissector_tls.probe(sslv2_c2s, sizeof(sslv2_c2s), 0), GCP_PROBE_YES);
	cr_assert_eq(gcp_dissector_tls.probe(garbage, sizeof(garbage) - 1, 0), GCP_PROBE_NO);
	cr_assert_eq(gcp_dissector_tls.probe(badlen, sizeof(badlen), 0), GCP_PROBE_NO);
	/* Application data is no start of a TLS connection. */
	cr_assert_eq(gcp_dissector_tls.probe((const uint8_t *)"\x17\x03\x03\x00\x10", 5, 0),
		     GCP_PROBE_NO);
}

/* ---- corpus sessions (JA3 from tshark 4.0 tls.handshake.ja3) ------------ */

Test(tls, tls12_full_handshake_with_certificate)
{
	struct drv d;

	drv_init(&d);
	drv_feed(&d, GCP_DIR_C2S, tls12_c2s, sizeof(tls12_c2s));
	cr_assert_eq(d.status, GCP_PARSE_OK);
	cr_assert_eq(drv_nrec(&d), 0);
	drv_feed(&d, GCP_DIR_S2C, tls12_s2c, sizeof(tls12_s2c));
	cr_assert_eq(d.status, GCP_PARSE_DONE, "record once the Certificate is seen");
	cr_assert_eq(drv_nrec(&d), 1);
	drv_fini(&d);
	cr_assert_eq(drv_nrec(&d), 1, "fini must not emit twice");
	char *j = drv_json(&d);

	assert_has(j, "\"scheme\":\"https\"");
	assert_has(j, "\"version\":\"TLSv1.2\"");
	assert_has(j, "\"cipher\":\"TLS_RSA_WITH_RC4_128_MD5\"");
	assert_has(j, "\"ja3\":\"bd9c99b3a0f752c3ab8b052a79e9de3e\"");
	assert_has(j, "\"ja4\":\"t12i800500_15c493246000_3eafcbe19126\"");
	/* openssl x509 -nameopt RFC2253 on the DER from the capture. */
	assert_has(j, "\"cert_subject\":\"CN=*.taleo.net,OU=Comodo PremiumSSL Wildcard,OU=Web,"
		      "O=Taleo Inc.,street=4140 Dublin Boulevard,street=Suite 400,L=Dublin,ST=CA,"
		      "postalCode=94568,C=US\"");
	assert_has(j, "\"cert_issuer\":\"CN=COMODO High-Assurance Secure Server CA,"
		      "O=COMODO CA Limited,L=Salford,ST=Greater Manchester,C=GB\"");
	assert_lacks(j, "\"host\"");
	assert_lacks(j, "\"sni\"");
	assert_lacks(j, "\"ech\"");
	free(j);
	drv_free(&d);
}

Test(tls, split_client_hello_tls13)
{
	char *j = run_pair(split_c2s, sizeof(split_c2s), split_s2c, sizeof(split_s2c), 1392);

	assert_has(j, "\"host\":\"clients2.google.com\"");
	assert_has(j, "\"sni\":\"clients2.google.com\"");
	assert_has(j, "\"version\":\"TLSv1.3\"");
	assert_has(j, "\"cipher\":\"TLS_AES_128_GCM_SHA256\"");
	assert_has(j, "\"alpn\":[\"h2\",\"http/1.1\"]");
	assert_has(j, "\"ja3\":\"35708a08e7be9f7aa5bce7f2d5c1cecb\"");
	assert_has(j, "\"ja4\":\"t13d1516h2_8daaf6152771_02713d6af862\"");
	assert_has(j, "\"client_version\":\"TLSv1.3\"");
	free(j);
}

Test(tls, ech_flag)
{
	char *j = run_pair(ech_c2s, sizeof(ech_c2s), ech_s2c, sizeof(ech_s2c), 0);

	assert_has(j, "\"host\":\"cloudflare-ech.com\"");
	assert_has(j, "\"ech\":true");
	assert_has(j, "\"ja3\":\"2fcbf8655473005933c5869b2b5d8044\"");
	assert_has(j, "\"ja4\":\"t13d1517h2_8daaf6152771_b1ff8ab2d16f\"");
	free(j);
}

Test(tls, hello_retry_request)
{
	struct drv d;
	/* Record boundaries in the vectors: CH1 | CCS, CH2 and HRR, CCS | SH. */
	size_t c1 = 5u + (size_t)(hrr_c2s[3] << 8 | hrr_c2s[4]);
	size_t s1 = 5u + (size_t)(hrr_s2c[3] << 8 | hrr_s2c[4]) + 6;

	drv_init(&d);
	drv_feed(&d, GCP_DIR_C2S, hrr_c2s, c1);
	drv_feed(&d, GCP_DIR_S2C, hrr_s2c, s1);
	cr_assert_eq(d.status, GCP_PARSE_OK);
	cr_assert_eq(drv_nrec(&d), 0, "no record on a HelloRetryRequest");
	drv_feed(&d, GCP_DIR_C2S, hrr_c2s + c1, sizeof(hrr_c2s) - c1);
	cr_assert_eq(drv_nrec(&d), 0);
	drv_feed(&d, GCP_DIR_S2C, hrr_s2c + s1, sizeof(hrr_s2c) - s1);
	cr_assert_eq(d.status, GCP_PARSE_DONE);
	char *j = drv_json(&d);

	assert_has(j, "\"version\":\"TLSv1.3\"");
	assert_has(j, "\"cipher\":\"TLS_AES_256_GCM_SHA384\"");
	assert_has(j, "\"ja3\":\"0f14b679807628ec7f9c02cada3ee941\"");
	assert_has(j, "\"ja4\":\"t13i040900_16476d049b0b_78f1d400d464\"");
	free(j);
	drv_free(&d);
}

Test(tls, sslv2_hello)
{
	char *j = run_pair(sslv2_c2s, sizeof(sslv2_c2s), sslv2_s2c, sizeof(sslv2_s2c), 0);

	assert_has(j, "\"version\":\"SSLv2\"");
	assert_has(j, "\"cipher\":\"0x0700c0\"");
	assert_has(j, "\"cert_subject\":\"emailAddress=info@plesk.com,CN=plesk,OU=Plesk,"
		      "O=Parallels,L=Herndon,ST=Virginia,C=US\"");
	free(j);
}

/* ---- byte-at-a-time and chunked feeding equal one-shot ------------------- */

static void check_chunked(const uint8_t *c, size_t cn, const uint8_t *s, size_t sn)
{
	char *one = run_pair(c, cn, s, sn, 0);
	static const size_t chunks[] = { 1, 2, 3, 7, 100 };

	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		char *j = run_pair(c, cn, s, sn, chunks[i]);

		cr_assert_str_eq(j, one, "chunk %zu differs", chunks[i]);
		free(j);
	}
	free(one);
}

Test(tls, byte_at_a_time)
{
	check_chunked(tls12_c2s, sizeof(tls12_c2s), tls12_s2c, sizeof(tls12_s2c));
	check_chunked(split_c2s, sizeof(split_c2s), split_s2c, sizeof(split_s2c));
	check_chunked(ech_c2s, sizeof(ech_c2s), ech_s2c, sizeof(ech_s2c));
	check_chunked(sslv2_c2s, sizeof(sslv2_c2s), sslv2_s2c, sizeof(sslv2_s2c));
}

/* Re-frame a stream of handshake records into records of at most frag bytes. */
static size_t reframe(const uint8_t *in, size_t n, size_t frag, uint8_t *out)
{
	size_t o = 0, w = 0;

	while (o + 5 <= n) {
		size_t len = (size_t)(in[o + 3] << 8 | in[o + 4]);

		for (size_t k = 0; k < len; k += frag) {
			size_t f = len - k < frag ? len - k : frag;

			memcpy(out + w, in + o, 3);
			out[w + 3] = (uint8_t)(f >> 8);
			out[w + 4] = (uint8_t)f;
			memcpy(out + w + 5, in + o + 5 + k, f);
			w += 5 + f;
		}
		o += 5 + len;
	}
	return w;
}

Test(tls, hello_split_across_records)
{
	static uint8_t c[sizeof(tls12_c2s) * 6], s[sizeof(tls12_s2c) * 6];
	char *one = run_pair(tls12_c2s, sizeof(tls12_c2s), tls12_s2c, sizeof(tls12_s2c), 0);
	static const size_t frags[] = { 1, 3, 50, 1000 };

	for (size_t i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		size_t cn = reframe(tls12_c2s, sizeof(tls12_c2s), frags[i], c);
		size_t sn = reframe(tls12_s2c, sizeof(tls12_s2c), frags[i], s);

		cr_assert_leq(cn, sizeof(c));
		cr_assert_leq(sn, sizeof(s));
		char *j = run_pair(c, cn, s, sn, 0);
		char *k = run_pair(c, cn, s, sn, 1);

		cr_assert_str_eq(j, one, "fragment %zu differs", frags[i]);
		cr_assert_str_eq(k, one, "fragment %zu byte-at-a-time differs", frags[i]);
		free(j);
		free(k);
	}
	free(one);
}

/* ---- crafted hellos ----------------------------------------------------- */

struct bb {
	uint8_t b[16384];
	size_t n;
};

static void put8(struct bb *b, unsigned v)
{
	b->b[b->n++] = (uint8_t)v;
}

static void put16(struct bb *b, unsigned v)
{
	put8(b, v >> 8);
	put8(b, v);
}

static void put24(struct bb *b, unsigned v)
{
	put8(b, v >> 16);
	put16(b, v & 0xffff);
}

static void putb(struct bb *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

/* Length prefixes patched after the fact: begin returns the offset. */
static size_t len_begin(struct bb *b, unsigned bytes)
{
	size_t o = b->n;

	b->n += bytes;
	return o;
}

static void len_end(struct bb *b, size_t o, unsigned bytes)
{
	size_t v = b->n - o - bytes;

	for (unsigned i = 0; i < bytes; i++)
		b->b[o + i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

static void put_u16_list(struct bb *b, const uint16_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put16(b, v[i]);
}

struct hello_spec {
	const uint16_t *ciphers;
	size_t nciphers;
	const uint16_t *exts;    /* extension types in order */
	size_t nexts;
	const uint16_t *sigalgs;
	size_t nsigalgs;
	const char *sni;
};

static void put_ext(struct bb *b, uint16_t type, const struct hello_spec *h)
{
	static const uint16_t vers[] = { 0x1a1a, 0x0304, 0x0303 };
	static const uint16_t groups[] = { 0x2a2a, 0x001d, 0x0017 };
	size_t l, m;

	put16(b, type);
	l = len_begin(b, 2);
	switch (type) {
	case 0x0000:
		m = len_begin(b, 2);
		put8(b, 0);
		put16(b, (unsigned)strlen(h->sni));
		putb(b, h->sni, strlen(h->sni));
		len_end(b, m, 2);
		break;
	case 0x0010:
		m = len_begin(b, 2);
		putb(b, "\x02h2\x08http/1.1", 12);
		len_end(b, m, 2);
		break;
	case 0x002b:
		put8(b, sizeof(vers));
		put_u16_list(b, vers, 3);
		break;
	case 0x000a:
		put16(b, sizeof(groups));
		put_u16_list(b, groups, 3);
		break;
	case 0x000b:
		put8(b, 1);
		put8(b, 0);
		break;
	case 0x000d:
		put16(b, (unsigned)(2 * h->nsigalgs));
		put_u16_list(b, h->sigalgs, h->nsigalgs);
		break;
	default:
		if (type == 0xfe0d)
			putb(b, "\x00\x00\x01\x00\x01\x42\x00\x00\x00\x00", 10);
		break;
	}
	len_end(b, l, 2);
}

/* A TLS record holding one ClientHello built from h. */
static size_t build_client_hello(const struct hello_spec *h, uint8_t *out)
{
	struct bb b = { .n = 0 };
	uint8_t random[32] = { 1 };

	put8(&b, 22);
	put16(&b, 0x0301);
	size_t rl = len_begin(&b, 2);

	put8(&b, 1);
	size_t ml = len_begin(&b, 3);

	put16(&b, 0x0303);
	putb(&b, random, 32);
	put8(&b, 0);
	put16(&b, (unsigned)(2 * h->nciphers));
	put_u16_list(&b, h->ciphers, h->nciphers);
	put8(&b, 1);
	put8(&b, 0);
	size_t el = len_begin(&b, 2);

	for (size_t i = 0; i < h->nexts; i++)
		put_ext(&b, h->exts[i], h);
	len_end(&b, el, 2);
	len_end(&b, ml, 3);
	len_end(&b, rl, 2);
	memcpy(out, b.b, b.n);
	return b.n;
}

/* The hello fed alone, then fini: its JSON tail. */
static char *client_only(const uint8_t *p, size_t n)
{
	struct drv d;

	drv_init(&d);
	drv_feed(&d, GCP_DIR_C2S, p, n);
	drv_fini(&d);
	char *j = drv_json(&d);

	drv_free(&d);
	return j;
}

/* FoxIO JA4.md example: JA4_ro lists, GREASE added, expect the JA4 shown. */
Test(tls, ja4_foxio_readme_vector)
{
	static const uint16_t ciphers[] = { 0x3a3a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c,
					    0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d,
					    0x002f, 0x0035 };
	static const uint16_t exts[] = { 0x0a0a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017,
					 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01,
					 0x000b, 0x000a, 0x0015, 0xfafa };
	static const uint16_t sig[] = { 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806,
					0x0601 };
	struct hello_spec h = { ciphers, 16, exts, 18, sig, 8, "example.com" };
	uint8_t rec[4096];
	char *j = client_only(rec, build_client_hello(&h, rec));

	assert_has(j, "\"ja4\":\"t13d1516h2_8daaf6152771_e5627efa2ab1\"");
	assert_has(j, "\"host\":\"example.com\"");
	assert_has(j, "\"version\":\"TLSv1.3\"");  /* client's, no ServerHello seen */
	assert_has(j, "\"alpn\":[\"h2\",\"http/1.1\"]");
	assert_lacks(j, "\"cipher\"");
	free(j);
}

/* FoxIO python/test/testdata/sigalg-grease.pcapng.json: GREASE among the
 * signature algorithms, ECH extension present. */
Test(tls, ja4_foxio_sigalg_grease_vector)
{
	static const uint16_t ciphers[] = { 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030,
					    0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f,
					    0x0035 };
	static const uint16_t exts[] = { 0xfe0d, 0x0010, 0x0017, 0x0033, 0x44cd, 0xff01, 0x000a,
					 0x000d, 0x0023, 0x002b, 0x000b, 0xca34, 0x002d, 0x0000,
					 0x0005, 0x001b, 0x0012 };
	static const uint16_t sig[] = { 0x9a9a, 0x0904, 0x0905, 0x0906, 0x0403, 0x0804, 0x0401,
					0x0503, 0x0805, 0x0501, 0x0806, 0x0601 };
	struct hello_spec h = { ciphers, 15, exts, 17, sig, 12,
				"optimizationguide-pa.googleapis.com" };
	uint8_t rec[4096];
	char *j = client_only(rec, build_client_hello(&h, rec));

	assert_has(j, "\"ja4\":\"t13d1517h2_8daaf6152771_cb7bf5808d99\"");
	assert_has(j, "\"ech\":true");
	free(j);
}

/* JA4 corner cases from the spec: no ciphers/extensions hash to zeros. */
Test(tls, ja4_empty_lists)
{
	static const uint8_t rec[] = {
		0x16, 0x03, 0x01, 0x00, 0x2b, 0x01, 0x00, 0x00, 0x27, 0x03, 0x03,
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
		21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
		0x00, 0x00, 0x00, 0x01, 0x00,
	};
	char *j = client_only(rec, sizeof(rec));

	assert_has(j, "\"ja4\":\"t12i000000_000000000000_000000000000\"");
	assert_has(j, "\"ja3\":\"");
	free(j);
}

/* ---- crafted full handshake with a generated certificate ----------------- */

static size_t make_cert(uint8_t *out, size_t cap)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	cr_assert(key && x && n);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"gcprobe", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"test.example", -1,
				   -1, 0);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, key);
	cr_assert(X509_sign(x, key, EVP_sha256()) > 0);
	int len = i2d_X509(x, NULL);

	cr_assert(len > 0 && (size_t)len <= cap);
	unsigned char *p = out;

	i2d_X509(x, &p);
	X509_NAME_free(n);
	X509_free(x);
	EVP_PKEY_free(key);
	return (size_t)len;
}

/* ServerHello (TLS 1.2, ECDHE-RSA-AES128-GCM, ALPN h2) + Certificate +
 * ServerHelloDone in one record. */
static size_t build_server_flight(uint8_t *out)
{
	struct bb b = { .n = 0 };
	uint8_t random[32] = { 2 }, der[2048];
	size_t dn = make_cert(der, sizeof(der));

	put8(&b, 22);
	put16(&b, 0x0303);
	size_t rl = len_begin(&b, 2);

	put8(&b, 2);
	size_t ml = len_begin(&b, 3);

	put16(&b, 0x0303);
	putb(&b, random, 32);
	put8(&b, 0);
	put16(&b, 0xc02f);
	put8(&b, 0);
	size_t el = len_begin(&b, 2);

	put16(&b, 0x0010);
	putb(&b, "\x00\x05\x00\x03\x02h2", 7);
	len_end(&b, el, 2);
	len_end(&b, ml, 3);
	put8(&b, 11);
	ml = len_begin(&b, 3);
	size_t ll = len_begin(&b, 3);

	put24(&b, (unsigned)dn);
	putb(&b, der, dn);
	len_end(&b, ll, 3);
	len_end(&b, ml, 3);
	put8(&b, 14);
	put24(&b, 0);
	len_end(&b, rl, 2);
	memcpy(out, b.b, b.n);
	return b.n;
}

Test(tls, crafted_handshake_certificate)
{
	static const uint16_t ciphers[] = { 0xc02f, 0xc030 };
	static const uint16_t exts[] = { 0x0000, 0x0010, 0x000a, 0x000b, 0x000d };
	static const uint16_t sig[] = { 0x0401 };
	struct hello_spec h = { ciphers, 2, exts, 5, sig, 1, "www.example.org" };
	uint8_t c[4096], s[4096];
	size_t cn = build_client_hello(&h, c), sn = build_server_flight(s);
	char *j = run_pair(c, cn, s, sn, 0);

	assert_has(j, "\"host\":\"www.example.org\"");
	assert_has(j, "\"version\":\"TLSv1.2\"");
	assert_has(j, "\"cipher\":\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"");
	assert_has(j, "\"alpn_selected\":\"h2\"");
	assert_has(j, "\"cert_subject\":\"CN=test.example,O=gcprobe\"");
	assert_has(j, "\"cert_issuer\":\"CN=test.example,O=gcprobe\"");
	/* JA3 string "771,49199-49200,0-16-10-11-13,29-23,0" (GREASE 0x2a2a dropped). */
	assert_has(j, "\"ja3\":\"");
	char *k = run_pair(c, cn, s, sn, 1);

	cr_assert_str_eq(k, j);
	free(k);
	free(j);
}

Test(tls, ja3_string_md5)
{
	static const uint16_t ciphers[] = { 0xc02f, 0xc030 };
	static const uint16_t exts[] = { 0x0000, 0x0010, 0x000a, 0x000b, 0x000d };
	static const uint16_t sig[] = { 0x0401 };
	struct hello_spec h = { ciphers, 2, exts, 5, sig, 1, "www.example.org" };
	static const char ja3s[] = "771,49199-49200,0-16-10-11-13,29-23,0";
	unsigned char md[16];
	unsigned int mdlen = 0;
	char want[64] = "\"ja3\":\"";
	uint8_t c[4096];

	cr_assert(EVP_Digest(ja3s, strlen(ja3s), md, &mdlen, EVP_md5(), NULL));
	for (unsigned i = 0; i < 16; i++)
		sprintf(want + 7 + 2 * i, "%02x", md[i]);
	strcat(want, "\"");
	char *j = client_only(c, build_client_hello(&h, c));

	assert_has(j, want);
	free(j);
}

/* ---- truncated and garbage input ---------------------------------------- */

Test(tls, truncated_hello_no_record)
{
	struct drv d;

	drv_init(&d);
	drv_feed(&d, GCP_DIR_C2S, tls12_c2s, 100);
	cr_assert_eq(d.status, GCP_PARSE_OK);
	drv_fini(&d);
	cr_assert_eq(drv_nrec(&d), 0);
	drv_free(&d);
}

Test(tls, garbage_after_hello)
{
	struct drv d;
	static const uint8_t junk[] = "HTTP/1.1 400 Bad Request\r\n\r\n";

	drv_init(&d);
	drv_feed(&d, GCP_DIR_C2S, tls12_c2s, sizeof(tls12_c2s));
	drv_feed(&d, GCP_DIR_S2C, junk, sizeof(junk) - 1);
	cr_assert_eq(d.status, GCP_PARSE_ERROR);
	drv_fini(&d);
	char *j = drv_json(&d);

	assert_has(j, "\"ja3\":\"bd9c99b3a0f752c3ab8b052a79e9de3e\"");
	assert_lacks(j, "\"cipher\"");
	free(j);
	drv_free(&d);
}

Test(tls, malformed_lengths)
{
	uint8_t rec[sizeof(tls12_c2s)];
	struct drv d;

	/* Extension block length beyond the message: anomaly, no record. */
	memcpy(rec, tls12_c2s, sizeof(rec));
	size_t sid = rec[5 + 4 + 34];
	size_t co = 5 + 4 + 35 + sid;
	size_t cl = (size_t)(rec[co] << 8 | rec[co + 1]);
	size_t eo = co + 2 + cl + 1 + rec[co + 2 + cl];

	rec[eo] = 0xff;
	drv_init(&d);
	drv_feed(&d, GCP_DIR_C2S, rec, sizeof(rec));
	cr_assert_eq(d.status, GCP_PARSE_OK);
	drv_fini(&d);
	cr_assert_eq(drv_nrec(&d), 0);
	drv_free(&d);

	/* A huge handshake message is skipped, not buffered. */
	static const uint8_t huge[] = { 0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0xff, 0xff, 0xff,
					0x03, 0x03, 0x00, 0x00 };

	drv_init(&d);
	drv_feed(&d, GCP_DIR_C2S, huge, sizeof(huge));
	cr_assert_eq(d.status, GCP_PARSE_OK);
	drv_fini(&d);
	cr_assert_eq(drv_nrec(&d), 0);
	drv_free(&d);
}

Test(tls, random_garbage)
{
	uint8_t buf[4096];
	unsigned seed = 12345;

	for (int round = 0; round < 200; round++) {
		struct drv d;

		for (size_t i = 0; i < sizeof(buf); i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (uint8_t)(seed >> 16);
		}
		/* Start half the rounds like a real hello so parsing goes deeper. */
		if (round & 1)
			memcpy(buf, tls12_c2s, 5 + (size_t)(round % 300));
		drv_init(&d);
		drv_chunks(&d, round % 2, buf, sizeof(buf), (size_t)(round % 50) + 1);
		drv_fini(&d);
		cr_assert_leq(drv_nrec(&d), 1);
		drv_free(&d);
	}
}

Test(tls, gap_then_fini)
{
	struct drv d;

	drv_init(&d);
	drv_feed(&d, GCP_DIR_C2S, tls12_c2s, sizeof(tls12_c2s));
	struct gcp_parse_result r = gcp_dissector_tls.parse(d.st, d.ctx, GCP_DIR_S2C, NULL, 500,
							    GCP_PF_GAP);

	cr_assert_eq(r.status, GCP_PARSE_OK);
	r = gcp_dissector_tls.parse(d.st, d.ctx, GCP_DIR_S2C, tls12_s2c, 50, 0);
	cr_assert_eq(r.consumed, 0, "the record found after the gap is kept until whole");
	cr_assert_gt(r.needed, 0);
	drv_fini(&d);
	char *j = drv_json(&d);

	assert_has(j, "\"ja3\":\"bd9c99b3a0f752c3ab8b052a79e9de3e\"");
	free(j);
	drv_free(&d);
}

/* ---- resynchronisation after a gap ------------------------------------------ */

/* A gap as the engine reports it: the kept tail goes first. */
static void drv_gap(struct drv *d, int dir, uint32_t len)
{
	if (d->status != GCP_PARSE_OK)
		return;
	free(d->pend[dir]);
	d->pend[dir] = NULL;
	d->plen[dir] = 0;
	d->status = gcp_dissector_tls.parse(d->st, d->ctx, dir, NULL, len, GCP_PF_GAP).status;
}

static uint64_t drv_resyncs(struct drv *d)
{
	struct gcp_stats st = { .sz = sizeof(st) };

	cr_assert_eq(gcp_engine_stats(d->ctx->eng, &st), 0);
	return st.stream_resyncs;
}

/*
 * Client bytes lost before the ClientHello (the tail of a lost record
 * left over): the hello is found again and the record carries it, fed
 * whole, byte at a time and in odd pieces.
 */
Test(tls, gap_then_client_hello_resyncs)
{
	const size_t chunks[] = { 0, 1, 61 };

	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		size_t c = chunks[i];
		struct drv d;

		drv_init(&d);
		drv_gap(&d, GCP_DIR_C2S, 300);
		drv_chunks(&d, GCP_DIR_C2S, tls12_s2c + 200, 40, c ? c : 40); /* lost record's tail */
		drv_chunks(&d, GCP_DIR_C2S, tls12_c2s, sizeof(tls12_c2s), c ? c : sizeof(tls12_c2s));
		drv_chunks(&d, GCP_DIR_S2C, tls12_s2c, sizeof(tls12_s2c), c ? c : sizeof(tls12_s2c));
		cr_assert_eq(d.status, GCP_PARSE_DONE, "chunk %zu", c);
		char *j = drv_json(&d);

		assert_has(j, "\"ja3\":\"bd9c99b3a0f752c3ab8b052a79e9de3e\"");
		assert_has(j, "\"cipher\":\"TLS_RSA_WITH_RC4_128_MD5\"");
		assert_has(j, "\"cert_subject\":\"CN=*.taleo.net,");
		cr_assert_eq(drv_resyncs(&d), 1);
		free(j);
		drv_free(&d);
	}
}

/* The ServerHello record lost: the Certificate record after it still counts. */
Test(tls, gap_then_certificate_resyncs)
{
	struct drv d;

	drv_init(&d);
	drv_feed(&d, GCP_DIR_C2S, tls12_c2s, sizeof(tls12_c2s));
	drv_gap(&d, GCP_DIR_S2C, 86);
	drv_feed(&d, GCP_DIR_S2C, tls12_s2c + 86, sizeof(tls12_s2c) - 86);
	cr_assert_eq(d.status, GCP_PARSE_OK);
	drv_fini(&d);
	char *j = drv_json(&d);

	assert_has(j, "\"ja3\":\"bd9c99b3a0f752c3ab8b052a79e9de3e\"");
	assert_has(j, "\"cert_issuer\":\"CN=COMODO High-Assurance Secure Server CA,");
	assert_lacks(j, "\"cipher\"");
	cr_assert_eq(drv_resyncs(&d), 1);
	free(j);
	drv_free(&d);
}

/*
 * Lost bytes holding record-header lookalikes (application data, a
 * handshake record whose content starts no message) with no header where
 * their lengths end: not taken. A taken server application data record
 * would end the handshake early, with no ServerHello in the record.
 */
Test(tls, gap_lookalike_headers_not_taken)
{
	uint8_t junk[128] = { 0x17, 0x03, 0x03, 0x00, 0x10 };
	struct drv d;

	memset(junk + 5, 0x42, 16);
	memcpy(junk + 28, "\x16\x03\x03\x00\x20\x99", 6);
	memset(junk + 34, 0x5a, 31);
	drv_init(&d);
	drv_feed(&d, GCP_DIR_C2S, tls12_c2s, sizeof(tls12_c2s));
	drv_gap(&d, GCP_DIR_S2C, 500);
	drv_feed(&d, GCP_DIR_S2C, junk, sizeof(junk));
	cr_assert_eq(d.status, GCP_PARSE_OK);
	cr_assert_eq(drv_nrec(&d), 0, "no record from lookalikes");
	cr_assert_eq(drv_resyncs(&d), 0);
	drv_feed(&d, GCP_DIR_S2C, tls12_s2c, sizeof(tls12_s2c));
	cr_assert_eq(d.status, GCP_PARSE_DONE);
	char *j = drv_json(&d);

	assert_has(j, "\"version\":\"TLSv1.2\"");
	assert_has(j, "\"cipher\":\"TLS_RSA_WITH_RC4_128_MD5\"");
	cr_assert_eq(drv_resyncs(&d), 1);
	free(j);
	drv_free(&d);
}
