/* SPDX-License-Identifier: BSD-3-Clause */
/* The https record says which HTTP version the server chose by ALPN
 * (RFC 7301 3.1, the ServerHello of TLS <= 1.2): http_version. */
#include "stream_drv.h"
#include "quic_vectors.h"

extern const struct gcp_dissector gcp_dissector_tls;

/* A ClientHello record: RFC 9001 A.2's hello (ALPN "alpn"), over TCP. */
static size_t client_hello(uint8_t *rec)
{
	const uint8_t *hello = rfc9001_client_payload + 4;
	size_t hn = sizeof(rfc9001_client_payload) - 4;
	rec[0] = 22;
	rec[1] = 3;
	rec[2] = 1;
	rec[3] = (uint8_t)(hn >> 8);
	rec[4] = (uint8_t)hn;
	memcpy(rec + 5, hello, hn);
	return 5 + hn;
}

/* A TLS 1.2 ServerHello record choosing alpn (NULL: no ALPN extension). */
static size_t server_hello(uint8_t *rec, const char *alpn)
{
	size_t an = alpn ? strlen(alpn) : 0, n = 0;
	size_t ext = alpn ? 4 + 2 + 1 + an : 0;
	size_t body = 2 + 32 + 1 + 2 + 1 + (alpn ? 2 + ext : 0);
	rec[n++] = 22;
	rec[n++] = 3;
	rec[n++] = 3;
	rec[n++] = (uint8_t)((body + 4) >> 8);
	rec[n++] = (uint8_t)(body + 4);
	rec[n++] = 2;
	rec[n++] = 0;
	rec[n++] = (uint8_t)(body >> 8);
	rec[n++] = (uint8_t)body;
	rec[n++] = 3; /* TLS 1.2 */
	rec[n++] = 3;
	memset(rec + n, 7, 32); /* random */
	n += 32;
	rec[n++] = 0;    /* session id */
	rec[n++] = 0xc0; /* TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
	rec[n++] = 0x2f;
	rec[n++] = 0; /* compression */
	if (alpn) {
		rec[n++] = (uint8_t)(ext >> 8);
		rec[n++] = (uint8_t)ext;
		rec[n++] = 0x00; /* application_layer_protocol_negotiation */
		rec[n++] = 0x10;
		rec[n++] = (uint8_t)((3 + an) >> 8);
		rec[n++] = (uint8_t)(3 + an);
		rec[n++] = (uint8_t)((1 + an) >> 8);
		rec[n++] = (uint8_t)(1 + an);
		rec[n++] = (uint8_t)an;
		memcpy(rec + n, alpn, an);
		n += an;
	}
	return n;
}

static void run(struct drv *d, const char *alpn)
{
	uint8_t c[512], s[128];
	size_t cn = client_hello(c), sn = server_hello(s, alpn);
	drv_init(d, &gcp_dissector_tls, 443);
	drv_feed(d, C2S, c, cn, 0);
	drv_feed(d, S2C, s, sn, 0);
	drv_end(d);
	cr_assert_eq(nrec(d), 1);
	expect_str(d, 0, "version", "TLSv1.2");
}

Test(tls_alpn, h2_chosen_says_http2)
{
	struct drv d;
	run(&d, "h2");
	expect_str(&d, 0, "http_version", "HTTP/2");
	drv_free(&d);
}

Test(tls_alpn, http11_chosen)
{
	struct drv d;
	run(&d, "http/1.1");
	expect_str(&d, 0, "http_version", "HTTP/1.1");
	drv_free(&d);
}

/* Not an HTTP protocol, or no choice made: nothing is claimed. */
Test(tls_alpn, other_or_none_leaves_it_out)
{
	struct drv d;
	run(&d, "spdy/3.1");
	expect_absent(&d, 0, "http_version");
	drv_free(&d);
	run(&d, NULL);
	expect_absent(&d, 0, "http_version");
	drv_free(&d);
}
