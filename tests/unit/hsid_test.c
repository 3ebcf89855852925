/* SPDX-License-Identifier: BSD-3-Clause */
/* Hyperscan protocol identification through the public engine API:
 * crafted Ethernet/IPv4/TCP conversations on non-standard ports. */

#include "conv.h"
#include "tls_vectors.h"

static struct gcp_engine *engine(int hs_ident, unsigned mask, struct sink *s)
{
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;
	struct gcp_engine *e;

	o.node_name = "test";
	o.max_flows = 64;
	o.hs_ident = hs_ident;
	cr_assert_eq(gcp_engine_create(&o, &e), 0);
	cr_assert_eq(gcp_engine_subscribe(e, mask, keep, s), 0);
	return e;
}

static uint64_t identified(struct gcp_engine *e)
{
	struct gcp_stats st = { .sz = sizeof(st) };

	cr_assert_eq(gcp_engine_stats(e, &st), 0);
	return st.hs_identified;
}

/* Run one conversation and return the tcp record (kept in s). */
static const char *run(struct gcp_engine *e, struct sink *s, uint16_t port,
		       const char *const *lines, const int *dirs, unsigned n)
{
	struct conn c;

	conn_open(&c, e, 2, port);
	for (unsigned i = 0; i < n; i++)
		say(&c, dirs[i], lines[i]);
	conn_close(&c);
	cr_assert_eq(gcp_engine_flush(e), 0);
	const char *tcp = find_rec(s, "tcp");

	cr_assert_not_null(tcp);
	return tcp;
}

/* ---- tests ------------------------------------------------------------------ */

Test(hsid, http_on_5555)
{
	struct sink s = { 0 };
	struct gcp_engine *e = engine(1, GCP_REC_ALL, &s);
	const char *l[] = { "GET /x HTTP/1.1\r\nHost: a.example\r\n\r\n",
			    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi" };
	const int d[] = { 0, 1 };
	const char *tcp = run(e, &s, 5555, l, d, 2);

	cr_expect(strstr(tcp, "\"app\":\"http\""), "%s", tcp);
	const char *http = find_rec(&s, "http");

	cr_assert_not_null(http);
	cr_expect(strstr(http, "\"host\":\"a.example\""), "%s", http);
	cr_expect(strstr(http, "\"dst_port\":5555"), "%s", http);
	cr_expect_eq(identified(e), 1);
	gcp_engine_destroy(e);
	sink_free(&s);
}

Test(hsid, smtp_on_2626_server_first)
{
	struct sink s = { 0 };
	struct gcp_engine *e = engine(1, GCP_REC_ALL, &s);
	const char *l[] = { "220 mx.example.com ESMTP Postfix\r\n", "EHLO client.example\r\n",
			    "250-mx.example.com\r\n250 8BITMIME\r\n", "QUIT\r\n", "221 Bye\r\n" };
	const int d[] = { 1, 0, 1, 0, 1 };
	const char *tcp = run(e, &s, 2626, l, d, 5);

	cr_expect(strstr(tcp, "\"app\":\"smtp\""), "%s", tcp);
	cr_expect_eq(identified(e), 1);
	gcp_engine_destroy(e);
	sink_free(&s);
}

Test(hsid, ftp_on_2121)
{
	struct sink s = { 0 };
	struct gcp_engine *e = engine(1, GCP_REC_ALL, &s);
	const char *l[] = { "220 (vsFTPd 3.0.3)\r\n", "USER anonymous\r\n",
			    "331 Please specify the password.\r\n" };
	const int d[] = { 1, 0, 1 };
	const char *tcp = run(e, &s, 2121, l, d, 3);

	cr_expect(strstr(tcp, "\"app\":\"ftp\""), "%s", tcp);
	gcp_engine_destroy(e);
	sink_free(&s);
}

Test(hsid, smtp_greeting_naming_ftp_host_is_smtp)
{
	struct sink s = { 0 };
	struct gcp_engine *e = engine(1, GCP_REC_TCP, &s);
	const char *l[] = { "220 ftp.example.com ESMTP ready\r\n" };
	const int d[] = { 1 };
	const char *tcp = run(e, &s, 2525, l, d, 1);

	cr_expect(strstr(tcp, "\"app\":\"smtp\""), "%s", tcp);
	gcp_engine_destroy(e);
	sink_free(&s);
}

Test(hsid, pop3_and_imap)
{
	struct sink s = { 0 };
	struct gcp_engine *e = engine(1, GCP_REC_TCP, &s);
	const char *p[] = { "+OK Dovecot ready.\r\n", "CAPA\r\n" };
	const char *i[] = { "* OK [CAPABILITY IMAP4rev1] ready\r\n", "a1 LOGIN u p\r\n" };
	const int d[] = { 1, 0 };

	cr_expect(strstr(run(e, &s, 1110, p, d, 2), "\"app\":\"pop3\""));
	sink_free(&s);
	cr_expect(strstr(run(e, &s, 1143, i, d, 2), "\"app\":\"imap\""));
	gcp_engine_destroy(e);
	sink_free(&s);
}

Test(hsid, tls_on_4433)
{
	struct sink s = { 0 };
	struct gcp_engine *e = engine(1, GCP_REC_ALL, &s);
	struct conn c;

	conn_open(&c, e, 3, 4433);
	seg(&c, 0, PSH | ACK, tls12_c2s, sizeof(tls12_c2s));
	conn_close(&c);
	gcp_engine_flush(e);
	const char *tcp = find_rec(&s, "tcp");

	cr_assert_not_null(tcp);
	cr_expect(strstr(tcp, "\"app\":\"tls\""), "%s", tcp);
	cr_expect_eq(identified(e), 1);
	gcp_engine_destroy(e);
	sink_free(&s);
}

Test(hsid, ssh_on_2222_no_dissector)
{
	struct sink s = { 0 };
	struct gcp_engine *e = engine(1, GCP_REC_ALL, &s);
	const char *l[] = { "SSH-2.0-OpenSSH_9.6p1 Debian-3\r\n", "SSH-2.0-OpenSSH_9.2p1\r\n" };
	const int d[] = { 1, 0 };
	const char *tcp = run(e, &s, 2222, l, d, 2);

	cr_expect(strstr(tcp, "\"app\":\"ssh\""), "%s", tcp);
	gcp_engine_destroy(e);
	sink_free(&s);
}

/* Signatures split over two segments still match (stream mode). */
Test(hsid, split_across_segments)
{
	struct sink s = { 0 };
	struct gcp_engine *e = engine(1, GCP_REC_ALL, &s);
	const char *h[] = { "GET /index.html HT", "TP/1.1\r\nHost: split.example\r\n\r\n",
			    "HTTP/1.1 204 No Content\r\n\r\n" };
	const int hd[] = { 0, 0, 1 };
	const char *tcp = run(e, &s, 5555, h, hd, 3);

	cr_expect(strstr(tcp, "\"app\":\"http\""), "%s", tcp);
	const char *http = find_rec(&s, "http");

	cr_assert_not_null(http, "the kept first segment reaches the dissector");
	cr_expect(strstr(http, "\"url\":\"/index.html\""), "%s", http);
	sink_free(&s);

	const char *m[] = { "220 mx.exa", "mple.com ES", "MTP\r\n" };
	const int md[] = { 1, 1, 1 };

	tcp = run(e, &s, 2626, m, md, 3);
	cr_expect(strstr(tcp, "\"app\":\"smtp\""), "%s", tcp);
	gcp_engine_destroy(e);
	sink_free(&s);
}

/* DNS over TCP off port: the signature attaches the (port-only) dissector. */
Test(hsid, dns_over_tcp_on_9953)
{
	static const uint8_t q[] = { 0x00, 0x1d, 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00,
				     0x00, 0x00, 0x00, 0x00, 0x00, 7,    'e',  'x',  'a',
				     'm',  'p',  'l',  'e',  3,    'c',  'o',  'm',  0,
				     0x00, 0x01, 0x00, 0x01 };
	struct sink s = { 0 };
	struct gcp_engine *e = engine(1, GCP_REC_ALL, &s);
	struct conn c;

	conn_open(&c, e, 4, 9953);
	seg(&c, 0, PSH | ACK, q, sizeof(q));
	conn_close(&c);
	gcp_engine_flush(e);
	const char *tcp = find_rec(&s, "tcp");

	cr_assert_not_null(tcp);
	cr_expect(strstr(tcp, "\"app\":\"dns\""), "%s", tcp);
	const char *dns = find_rec(&s, "dns");

	cr_assert_not_null(dns);
	cr_expect(strstr(dns, "\"qname\":\"example.com\""), "%s", dns);
	gcp_engine_destroy(e);
	sink_free(&s);
}

/* Only tcp records subscribed: no dissector runs, the name is still set. */
Test(hsid, name_without_dissector_subscription)
{
	struct sink s = { 0 };
	struct gcp_engine *e = engine(1, GCP_REC_TCP, &s);
	const char *l[] = { "POST /api HTTP/1.0\r\nContent-Length: 0\r\n\r\n" };
	const int d[] = { 0 };
	const char *tcp = run(e, &s, 5555, l, d, 1);

	cr_expect(strstr(tcp, "\"app\":\"http\""), "%s", tcp);
	cr_expect_null(find_rec(&s, "http"));
	gcp_engine_destroy(e);
	sink_free(&s);
}

/* hs_ident = -1: port hint + content probe only, as before. */
Test(hsid, off_is_port_hinted)
{
	struct sink s = { 0 };
	struct gcp_engine *e = engine(-1, GCP_REC_ALL, &s);
	const char *ssh[] = { "SSH-2.0-OpenSSH_9.6\r\n" };
	const char *smtp[] = { "220 mx.example.com ESMTP\r\n" };
	const char *http[] = { "GET / HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n" };
	const int d1[] = { 1 }, d2[] = { 0, 1 };

	cr_expect_null(strstr(run(e, &s, 2222, ssh, d1, 1), "\"app\""));
	sink_free(&s);
	/* Dissectors' own probes still work off port: SMTP's greeting ... */
	cr_expect(strstr(run(e, &s, 2626, smtp, d1, 1), "\"app\":\"smtp\""));
	sink_free(&s);
	/* ... and HTTP's request line; and on its port. */
	cr_expect(strstr(run(e, &s, 5555, http, d2, 2), "\"app\":\"http\""));
	sink_free(&s);
	cr_expect(strstr(run(e, &s, 80, http, d2, 2), "\"app\":\"http\""));
	cr_expect_eq(identified(e), 0);
	gcp_engine_destroy(e);
	sink_free(&s);
}

Test(hsid, unknown_protocol_has_no_app)
{
	struct sink s = { 0 };
	struct gcp_engine *e = engine(1, GCP_REC_ALL, &s);
	const char *l[] = { "hello there\r\n", "general kenobi\r\n" };
	const int d[] = { 0, 1 };

	cr_expect_null(strstr(run(e, &s, 7777, l, d, 2), "\"app\""));
	cr_expect_eq(identified(e), 0);
	gcp_engine_destroy(e);
	sink_free(&s);
}

/* The stream pool is bounded; what it cannot take is counted. */
Test(hsid, stream_pool_full)
{
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;
	struct sink s = { 0 };
	struct gcp_engine *e;
	struct gcp_stats st = { .sz = sizeof(st) };
	struct conn a, b;

	o.node_name = "test";
	o.hs_streams = 1;
	cr_assert_eq(gcp_engine_create(&o, &e), 0);
	gcp_engine_subscribe(e, GCP_REC_TCP, keep, &s);
	conn_open(&a, e, 5, 6000);
	conn_open(&b, e, 6, 6001);
	say(&a, 0, "GE");                  /* holds the only stream */
	say(&b, 1, "SSH-2.0-x\r\n");       /* none left */
	say(&a, 0, "T / HTTP/1.1\r\n\r\n"); /* identified, stream back */
	conn_close(&a);
	conn_close(&b);
	gcp_engine_flush(e);
	cr_assert_eq(gcp_engine_stats(e, &st), 0);
	cr_expect_eq(st.hs_streams_full, 1);
	cr_expect_eq(st.hs_identified, 1);
	cr_assert_eq(s.n, 2);
	unsigned apps = 0;

	for (unsigned i = 0; i < s.n; i++)
		apps += strstr(s.json[i], "\"app\":\"http\"") != NULL;
	cr_expect_eq(apps, 1);
	gcp_engine_destroy(e);
	sink_free(&s);
}

Test(hsid, bad_option)
{
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;
	struct gcp_engine *e;

	o.hs_ident = 2;
	cr_expect_eq(gcp_engine_create(&o, &e), GCP_ERR_INVAL);
}
