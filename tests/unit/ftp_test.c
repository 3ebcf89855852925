/* SPDX-License-Identifier: BSD-3-Clause */
/* FTP: control-line parsers, the control dissector (cwd, modes, multi-line
 * replies, pipelined commands, default data port, LPRT/LPSV, REST/APPE,
 * byte-at-a-time), the data dissector's MD5, the expectation table. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/ftp/ftp.h"
#include "dissect.h"
#include "engine.h"
#include "expect.h"

/* ---- parsers -------------------------------------------------------------------- */

#define S(x) x, sizeof(x) - 1

Test(ftp_parse, pasv)
{
	uint8_t a[4];
	uint16_t port;

	cr_assert_eq(gcp_ftp_parse_pasv(S("Entering Passive Mode (199,233,217,249,221,90)"), a,
					&port), 0);
	cr_assert_eq(port, 221 * 256 + 90);
	cr_assert(a[0] == 199 && a[3] == 249);
	/* RFC 1123 4.1.2.6: no parentheses, text before the numbers with digits. */
	cr_assert_eq(gcp_ftp_parse_pasv(S("Entering Passive Mode 2 =10,0,0,1,4,1"), a, &port), 0);
	cr_assert_eq(port, 1025);
	cr_assert_eq(gcp_ftp_parse_pasv(S("(1,2,3,4,5)"), a, &port), -1);
	cr_assert_eq(gcp_ftp_parse_pasv(S("(1,2,3,256,5,6)"), a, &port), -1);
	cr_assert_eq(gcp_ftp_parse_pasv(S("(1,2,3,4,0,0)"), a, &port), -1);
	cr_assert_eq(gcp_ftp_parse_pasv(S(""), a, &port), -1);
}

Test(ftp_parse, port)
{
	uint8_t a[4];
	uint16_t port;

	cr_assert_eq(gcp_ftp_parse_port(S("141,142,220,235,131,46"), a, &port), 0);
	cr_assert_eq(port, 131 * 256 + 46);
	cr_assert_eq(gcp_ftp_parse_port(S("1,2,3,4,5"), a, &port), -1);
	cr_assert_eq(gcp_ftp_parse_port(S("1,2,3,4,5,6x"), a, &port), 0);
	cr_assert_eq(gcp_ftp_parse_port(S("a,2,3,4,5,6"), a, &port), -1);
	cr_assert_eq(gcp_ftp_parse_port(S("1,2,3,4,5,99999"), a, &port), -1);
}

Test(ftp_parse, epsv)
{
	uint16_t port;

	cr_assert_eq(gcp_ftp_parse_epsv(S("Entering Extended Passive Mode (|||57086|)"), &port), 0);
	cr_assert_eq(port, 57086);
	cr_assert_eq(gcp_ftp_parse_epsv(S("ok (!!!6446!)"), &port), 0);
	cr_assert_eq(port, 6446);
	cr_assert_eq(gcp_ftp_parse_epsv(S("(|||70000|)"), &port), -1);
	cr_assert_eq(gcp_ftp_parse_epsv(S("(||6446|)"), &port), -1);
	cr_assert_eq(gcp_ftp_parse_epsv(S("(|||6446"), &port), -1);
	cr_assert_eq(gcp_ftp_parse_epsv(S("no parens"), &port), -1);
}

Test(ftp_parse, eprt)
{
	uint16_t port;
	int af;

	cr_assert_eq(gcp_ftp_parse_eprt(S("|1|132.235.1.2|6275|"), &af, &port), 0);
	cr_assert(af == 1 && port == 6275);
	cr_assert_eq(gcp_ftp_parse_eprt(S("|2|2001:470:1f11:81f:c999:d94:aa7c:2e3e|49189|"), &af,
					&port), 0);
	cr_assert(af == 2 && port == 49189);
	cr_assert_eq(gcp_ftp_parse_eprt(S("|3|x|1|"), &af, &port), -1);
	cr_assert_eq(gcp_ftp_parse_eprt(S("|1||1|"), &af, &port), -1);
	cr_assert_eq(gcp_ftp_parse_eprt(S("|1|1.2.3.4|0|"), &af, &port), -1);
	cr_assert_eq(gcp_ftp_parse_eprt(S("|1|1.2.3.4|21"), &af, &port), -1);
}

Test(ftp_parse, lprt_lpsv)
{
	uint16_t port;
	int af;

	/* RFC 1639 examples: IPv4 and IPv6 long addresses, two port bytes. */
	cr_assert_eq(gcp_ftp_parse_lprt(S("4,4,132,235,1,2,2,24,131"), &af, &port), 0);
	cr_assert(af == 4 && port == 24 * 256 + 131);
	cr_assert_eq(gcp_ftp_parse_lprt(S("6,16,32,1,4,112,31,17,8,31,201,153,13,148,170,124,46,"
					  "62,2,192,37"), &af, &port), 0);
	cr_assert(af == 6 && port == 192 * 256 + 37);
	cr_assert_eq(gcp_ftp_parse_lpsv(S("Entering Long Passive Mode (6,16,0,0,0,0,0,0,0,0,0,0,"
					  "0,0,0,0,0,1,2,4,1)"), &af, &port), 0);
	cr_assert(af == 6 && port == 1025);
	cr_assert_eq(gcp_ftp_parse_lprt(S("6,4,1,2,3,4,2,1,1"), &af, &port), -1, "hal != 16");
	cr_assert_eq(gcp_ftp_parse_lprt(S("4,4,1,2,3,4,3,1,1,1"), &af, &port), -1, "pal != 2");
	cr_assert_eq(gcp_ftp_parse_lprt(S("4,4,1,2,3,4,2,1"), &af, &port), -1, "short");
	cr_assert_eq(gcp_ftp_parse_lprt(S("4,4,1,2,3,4,2,0,0"), &af, &port), -1, "port 0");
	cr_assert_eq(gcp_ftp_parse_lpsv(S("no list (1,2,3)"), &af, &port), -1);
}

Test(ftp_parse, rest)
{
	uint64_t off;

	cr_assert_eq(gcp_ftp_parse_rest(S("1048576"), &off), 0);
	cr_assert_eq(off, 1048576);
	cr_assert_eq(gcp_ftp_parse_rest(S(" 0"), &off), 0);
	cr_assert_eq(off, 0);
	cr_assert_eq(gcp_ftp_parse_rest(S("18446744073709551615"), &off), 0);
	cr_assert_eq(gcp_ftp_parse_rest(S("99999999999999999999"), &off), -1);
	cr_assert_eq(gcp_ftp_parse_rest(S("12ab"), &off), -1);
	cr_assert_eq(gcp_ftp_parse_rest(S(""), &off), -1);
}

Test(ftp_parse, pwd_reply_and_size)
{
	char out[64];
	size_t n;
	uint64_t size;

	cr_assert_eq(gcp_ftp_parse_257(S("\"/usr/dm\" is current directory."), out, sizeof(out),
				       &n), 0);
	cr_assert_str_eq(out, "/usr/dm");
	cr_assert_eq(gcp_ftp_parse_257(S("\"/a \"\"b\"\"\" created"), out, sizeof(out), &n), 0);
	cr_assert_str_eq(out, "/a \"b\"");
	cr_assert_eq(gcp_ftp_parse_257(S("\"/unterminated"), out, sizeof(out), &n), -1);
	cr_assert_eq(gcp_ftp_parse_257(S("no quotes"), out, sizeof(out), &n), -1);
	cr_assert_eq(gcp_ftp_parse_size(S("Opening BINARY mode for 1MB.zip (1048576 bytes)."), &size),
		     0);
	cr_assert_eq(size, 1048576);
	cr_assert_eq(gcp_ftp_parse_size(S("Ok to send data."), &size), -1);
}

static void join_is(const char *base, const char *arg, const char *want)
{
	char out[64];
	int n = gcp_ftp_path_join(base, strlen(base), arg, strlen(arg), out, sizeof(out));

	if (!want) {
		cr_assert_eq(n, -1, "%s + %s gave %s", base, arg, out);
		return;
	}
	cr_assert_geq(n, 0, "%s + %s failed", base, arg);
	cr_assert_str_eq(out, want);
	cr_assert_eq((size_t)n, strlen(want));
}

Test(ftp_parse, path_join)
{
	join_is("/", "robots.txt", "/robots.txt");
	join_is("/srv/ftp", "../data/./x", "/srv/data/x");
	join_is("/srv", "/abs//y", "/abs/y");
	join_is("/", "..", "/");
	join_is("pub/data", "../", "pub");
	join_is("pub", "..", "");
	join_is("", "..", NULL);
	join_is("/a", "0123456789012345678901234567890123456789012345678901234567890123", NULL);
}

/* ---- control dissector ------------------------------------------------------------- */

struct line {
	int dir;
	const char *text;
};

/* A session exercising every command the dissector follows. */
static const struct line session[] = {
	{ 1, "220-Welcome\r\n" },
	{ 1, "227 Entering Passive Mode (1,2,3,4,5,6) is text inside a multi-line reply\r\n" },
	{ 1, "220 ready\r\n" },
	{ 0, "USER alice\r\n" },
	{ 1, "331 password please\r\n" },
	{ 0, "PASS secret\r\n" },
	{ 1, "230 ok\r\n" },
	{ 0, "PWD\r\n" },
	{ 1, "257 \"/srv/ftp\" is the current directory\r\n" },
	{ 0, "CWD pub\r\n" },
	{ 1, "250 ok\r\n" },
	{ 0, "CWD ../data\r\n" },
	{ 1, "250 ok\r\n" },
	{ 0, "CWD nosuch\r\n" },
	{ 1, "550 no such directory\r\n" },
	{ 0, "TYPE I\r\n" },
	{ 1, "200 Type set to I\r\n" },
	{ 0, "PASV\r\n" },
	/* NAT: the announced address is not the server's; its port counts. */
	{ 1, "227 Entering Passive Mode (192,168,1,1,19,137).\r\n" },
	{ 0, "RETR file.bin\r\n" },
	{ 1, "150 Opening BINARY mode data connection for file.bin (1234 bytes).\r\n" },
	{ 1, "226 Transfer complete.\r\n" },
	{ 0, "PORT 172,16,0,9,39,16\r\n" },
	{ 1, "200 PORT command successful\r\n" },
	{ 0, "STOR /abs/up.txt\r\n" },
	{ 1, "150 Ok to send data.\r\n" },
	{ 1, "226-Transfer complete.\r\n 226 is not the end\r\n226 end\r\n" },
	{ 0, "TYPE A\r\n" },
	{ 1, "200 ok\r\n" },
	{ 0, "EPSV\r\n" },
	{ 1, "229 Entering Extended Passive Mode (|||6446|)\r\n" },
	{ 0, "LIST -la\r\n" },
	{ 1, "150 Here comes the directory listing.\r\n" },
	{ 1, "226 Directory send OK.\r\n" },
	{ 0, "EPRT |1|132.235.1.2|6275|\r\n" },
	{ 1, "200 EPRT ok\r\n" },
	{ 0, "CDUP\r\n" },
	{ 1, "250 ok\r\n" },
	{ 0, "NLST\r\n" },
	{ 1, "425 Can't open data connection.\r\n" },
	{ 0, "EPSV\r\n" },
	{ 1, "229 Entering Extended Passive Mode (|||7000|)\r\n" },
	{ 0, "STOU\r\n" },
	{ 1, "150 FILE: u1234\r\n" },
	{ 1, "226 ok\r\n" },
	{ 0, "NLST\r\n" },
	{ 1, "425 Can't open data connection.\r\n" },
	{ 0, "PASV\r\n" },
	{ 1, "227 Entering Passive Mode (10,0,0,2,0,80)\r\n" },
	{ 0, "PASV\r\n" },
	{ 1, "227 Entering Passive Mode (10,0,0,2,0,81)\r\n" },
	{ 0, "PORT 10,0,0,1,0,99\r\n" },
	{ 1, "500 PORT refused\r\n" },
	{ 0, "QUIT\r\n" },
	{ 1, "221 Goodbye.\r\n" },
};

/* Feeds a dissector in chunks, keeping unconsumed bytes like the engine. */
struct drv {
	const struct gcp_dissector *dis;
	struct gcp_dissect_ctx *ctx;
	void *st;
	uint8_t *buf[2];
	uint32_t len[2];
};

static void drv_init_at(struct drv *d, const struct gcp_dissector *dis, const char *cli,
			const char *srv)
{
	memset(d, 0, sizeof(*d));
	d->dis = dis;
	d->ctx = gcp_test_dctx_new(NULL, IPPROTO_TCP, cli, 40000, srv, 21);
	cr_assert(d->ctx);
	d->st = calloc(1, dis->state_size);
	if (dis->init)
		dis->init(d->st, d->ctx);
}

static void drv_init(struct drv *d, const struct gcp_dissector *dis)
{
	drv_init_at(d, dis, "10.0.0.1", "10.0.0.2");
}

static void drv_feed(struct drv *d, int dir, const void *p, size_t n, size_t chunk)
{
	for (size_t off = 0; off < n; off += chunk) {
		size_t k = n - off < chunk ? n - off : chunk;
		/* Exact-size copies so ASan sees any read past the offered bytes. */
		uint8_t *b = malloc(d->len[dir] + k);

		if (d->len[dir])
			memcpy(b, d->buf[dir], d->len[dir]);
		memcpy(b + d->len[dir], (const uint8_t *)p + off, k);
		free(d->buf[dir]);
		d->buf[dir] = b;
		d->len[dir] += (uint32_t)k;
		struct gcp_parse_result r = d->dis->parse(d->st, d->ctx, dir, b, d->len[dir], 0);

		cr_assert_eq(r.status, GCP_PARSE_OK);
		cr_assert_leq(r.consumed, d->len[dir]);
		memmove(b, b + r.consumed, d->len[dir] - r.consumed);
		d->len[dir] -= r.consumed;
	}
}

static void drv_free(struct drv *d)
{
	if (d->dis->fini)
		d->dis->fini(d->st, d->ctx);
	free(d->st);
	free(d->buf[0]);
	free(d->buf[1]);
	gcp_test_dctx_free(d->ctx);
}

static void play_lines(struct drv *d, const struct line *l, size_t n, size_t chunk)
{
	for (size_t i = 0; i < n; i++)
		drv_feed(d, l[i].dir, l[i].text, strlen(l[i].text), chunk);
}

static void play(struct drv *d, size_t chunk)
{
	play_lines(d, session, sizeof(session) / sizeof(session[0]), chunk);
}

static struct gcp_expect_ent *entry(struct drv *d, uint16_t port)
{
	struct gcp_expect_table *t = d->ctx->eng->exp;

	cr_assert(t);
	for (unsigned i = 0; i < GCP_EXPECT_MAX; i++)
		if (t->ents[i].state != GCP_EXP_FREE && t->ents[i].resp_port == port)
			return &t->ents[i];
	return NULL;
}

static void addr_is(const struct gcp_addr *a, const char *s)
{
	struct gcp_addr w = { 0 };

	inet_pton(AF_INET, s, w.b);
	cr_assert(!memcmp(a, &w, sizeof(w)), "address is not %s", s);
}

Test(ftp_control, session)
{
	struct drv d;

	drv_init(&d, &gcp_dissector_ftp);
	play(&d, 1 << 20);

	struct gcp_expect_ent *e = entry(&d, 19 * 256 + 137);
	cr_assert(e, "PASV expectation");
	const struct ftp_xfer *x = (const void *)e->data;
	addr_is(&e->orig, "10.0.0.1"); /* the client connects ... */
	addr_is(&e->resp, "10.0.0.2"); /* ... to the real server, not 192.168.1.1 */
	cr_assert_eq(x->mode, FTP_MODE_PASSIVE);
	cr_assert_str_eq(x->cmd, "RETR");
	cr_assert_str_eq(x->filename, "/srv/ftp/data/file.bin");
	cr_assert_eq(x->type, 'I');
	cr_assert_str_eq(x->user, "alice");
	cr_assert_eq(x->reply, 226);
	cr_assert(x->has_size && x->announced_size == 1234);
	cr_assert(!x->upload);

	e = entry(&d, 39 * 256 + 16);
	cr_assert(e, "PORT expectation");
	x = (const void *)e->data;
	addr_is(&e->orig, "10.0.0.2"); /* the server connects back to the real client */
	addr_is(&e->resp, "10.0.0.1");
	cr_assert_eq(x->mode, FTP_MODE_ACTIVE);
	cr_assert(x->upload);
	cr_assert_str_eq(x->filename, "/abs/up.txt");
	cr_assert_eq(x->reply, 226);

	x = (const void *)entry(&d, 6446)->data;
	cr_assert_str_eq(x->cmd, "LIST");
	cr_assert_str_eq(x->filename, "/srv/ftp/data"); /* options dropped, cwd used */
	cr_assert_eq(x->type, 'A');

	x = (const void *)entry(&d, 6275)->data;
	cr_assert_eq(x->mode, FTP_MODE_ACTIVE);
	cr_assert_str_eq(x->cmd, "NLST");
	cr_assert_str_eq(x->filename, "/srv/ftp"); /* after CDUP */
	cr_assert_eq(x->reply, 425);

	cr_assert_null(entry(&d, 0x0506), "227 inside a multi-line reply is text");
	x = (const void *)entry(&d, 7000)->data;
	cr_assert_str_eq(x->filename, "/srv/ftp/u1234");
	cr_assert(x->upload);
	cr_assert_eq(x->reply, 226, "a later NLST without PASV does not touch it");
	cr_assert_null(entry(&d, 80), "unused PASV replaced by the next one");
	cr_assert_null(entry(&d, 81), "unused PASV replaced by the PORT");
	cr_assert_null(entry(&d, 99), "refused PORT cancelled");
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 0);
	drv_free(&d);
}

/* Same expectations whatever the segmentation (picohttpparser's per-byte test). */
Test(ftp_control, byte_at_a_time_equals_one_shot)
{
	static const size_t chunks[] = { 1, 2, 3, 7, 64 };
	struct drv one;

	drv_init(&one, &gcp_dissector_ftp);
	play(&one, 1 << 20);
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct drv d;

		drv_init(&d, &gcp_dissector_ftp);
		play(&d, chunks[c]);
		cr_assert(!memcmp(d.ctx->eng->exp->ents, one.ctx->eng->exp->ents,
				  sizeof(one.ctx->eng->exp->ents)),
			  "chunk %zu differs", chunks[c]);
		cr_assert(!memcmp(d.st, one.st, gcp_dissector_ftp.state_size));
		drv_free(&d);
	}
	drv_free(&one);
}

Test(ftp_control, relative_cwd_and_overlong_lines)
{
	struct drv d;
	char big[5000];

	drv_init(&d, &gcp_dissector_ftp);
	memset(big, 'A', sizeof(big));
	drv_feed(&d, 0, big, sizeof(big), 1000); /* skipped up to its LF */
	drv_feed(&d, 0, S("\r\nCWD pub/data/noaa/\r\n"), 1 << 20);
	drv_feed(&d, 1, S("250 CWD command successful\r\n"), 1 << 20);
	drv_feed(&d, 0, S("CWD 2015\r\n"), 1 << 20);
	drv_feed(&d, 1, S("250 ok\r\n"), 1 << 20);
	drv_feed(&d, 0, S("PASV\r\n"), 1 << 20);
	drv_feed(&d, 1, S("227 Entering Passive Mode (205,167,25,101,243,251).\r\n"), 1 << 20);
	drv_feed(&d, 0, S("RETR 720962-99999-2015.gz\r\n"), 1 << 20);
	const struct ftp_xfer *x = (const void *)entry(&d, 243 * 256 + 251)->data;

	cr_assert_str_eq(x->filename, "pub/data/noaa/2015/720962-99999-2015.gz");
	drv_free(&d);
}

Test(ftp_control, auth_tls_records_skipped)
{
	struct drv d;
	static const uint8_t hello[] = { 22, 3, 1, 0, 4, '\n', 'P', 'A', 'S' };

	drv_init(&d, &gcp_dissector_ftp);
	drv_feed(&d, 0, S("AUTH TLS\r\n"), 1 << 20);
	drv_feed(&d, 1, S("234 Proceed with negotiation.\r\n"), 1 << 20);
	drv_feed(&d, 0, hello, sizeof(hello), 1);
	drv_feed(&d, 1, hello, sizeof(hello), 1 << 20);
	drv_feed(&d, 0, S("PASV\r\n"), 1 << 20); /* clear text again (CCC) */
	drv_feed(&d, 1, S("227 Entering Passive Mode (10,0,0,2,64,155).\r\n"), 1 << 20);
	cr_assert_not_null(entry(&d, 64 * 256 + 155));
	drv_free(&d);
}

Test(ftp_control, probe)
{
	const struct gcp_dissector *f = &gcp_dissector_ftp;

	cr_assert_eq(f->probe((const uint8_t *)S("220 (vsFTPd 3.0.3)\r\n"), 1), GCP_PROBE_YES);
	cr_assert_eq(f->probe((const uint8_t *)S("220 \"Authorized users only\"\r\n"), 1),
		     GCP_PROBE_MAYBE);
	cr_assert_eq(f->probe((const uint8_t *)S("220 mx ESMTP Postfix\r\n"), 1), GCP_PROBE_NO);
	cr_assert_eq(f->probe((const uint8_t *)S("HTTP/1.1 200 OK\r\n"), 1), GCP_PROBE_NO);
	cr_assert_eq(f->probe((const uint8_t *)S("AUTH TLS\r\n"), 0), GCP_PROBE_YES);
	cr_assert_eq(f->probe((const uint8_t *)S("USER x\r\n"), 0), GCP_PROBE_MAYBE);
	cr_assert_eq(f->probe((const uint8_t *)S("USER x\r\nPASS y\r\nSYST\r\n"), 0), GCP_PROBE_YES);
	cr_assert_eq(f->probe((const uint8_t *)S("GET / HTTP/1.1\r\n"), 0), GCP_PROBE_NO);
	cr_assert_eq(gcp_dissector_ftpdata.probe((const uint8_t *)S("anything"), 0), GCP_PROBE_NO);
}

/* ---- pipelined commands (RFC 959 is lock-step, clients are not) -------------------- */

#define NLINES(a) (sizeof(a) / sizeof((a)[0]))

static unsigned live_entries(struct drv *d)
{
	return d->ctx->eng->exp ? d->ctx->eng->exp->live : 0;
}

static uint64_t anomalies(struct drv *d)
{
	return d->ctx->eng->dissector_errors;
}

/* Same expectations and state whatever the segmentation. */
static void same_in_pieces_at(const struct line *l, size_t n, const char *cli, const char *srv)
{
	static const size_t chunks[] = { 1, 2, 3, 7, 64 };
	struct drv one;

	drv_init_at(&one, &gcp_dissector_ftp, cli, srv);
	play_lines(&one, l, n, 1 << 20);
	cr_assert_not_null(one.ctx->eng->exp);
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct drv d;

		drv_init_at(&d, &gcp_dissector_ftp, cli, srv);
		play_lines(&d, l, n, chunks[c]);
		cr_assert(!memcmp(d.ctx->eng->exp->ents, one.ctx->eng->exp->ents,
				  sizeof(one.ctx->eng->exp->ents)),
			  "chunk %zu differs", chunks[c]);
		cr_assert(!memcmp(d.st, one.st, gcp_dissector_ftp.state_size));
		cr_assert_eq(anomalies(&d), anomalies(&one));
		drv_free(&d);
	}
	drv_free(&one);
}

static void same_in_pieces(const struct line *l, size_t n)
{
	same_in_pieces_at(l, n, "10.0.0.1", "10.0.0.2");
}

/* Commands sent back to back, replies coming later in bulk. */
static const struct line pipelined[] = {
	{ 1, "220 ready\r\n" },
	{ 0, "USER bob\r\nPASS x\r\nPWD\r\n" },
	{ 1, "331 pw\r\n230 ok\r\n257 \"/home/bob\" is cwd\r\n" },
	{ 0, "CWD pub\r\nTYPE I\r\nPASV\r\nRETR a.bin\r\n" },
	{ 1, "250 ok\r\n200 binary\r\n227 Entering Passive Mode (10,0,0,2,19,137)\r\n"
	     "150 Opening BINARY mode data connection for a.bin (1234 bytes)\r\n226 done\r\n" },
	{ 0, "TYPE A\r\nEPSV\r\nLIST -l\r\nEPSV\r\nNLST\r\n" },
	{ 1, "200 ascii\r\n229 Entering Extended Passive Mode (|||6001|)\r\n150 here\r\n" },
	{ 1, "226 ok\r\n229 Entering Extended Passive Mode (|||6002|)\r\n150 here\r\n226 ok\r\n" },
	/* RFC 959 4.1.3: ABOR during a transfer: 426 ends the RETR, 226 the ABOR. */
	{ 0, "EPSV\r\nRETR big\r\nABOR\r\n" },
	{ 1, "229 (|||6003|)\r\n150 go\r\n426 aborted\r\n226 ABOR ok\r\n" },
	{ 0, "QUIT\r\n" },
	{ 1, "221 bye\r\n" },
};

Test(ftp_pipeline, replies_pair_with_their_commands)
{
	struct drv d;

	drv_init(&d, &gcp_dissector_ftp);
	play_lines(&d, pipelined, NLINES(pipelined), 1 << 20);
	struct gcp_expect_ent *e = entry(&d, 19 * 256 + 137);
	cr_assert(e, "PASV expectation");
	const struct ftp_xfer *x = (const void *)e->data;
	cr_assert_str_eq(x->cmd, "RETR");
	cr_assert_str_eq(x->filename, "/home/bob/pub/a.bin", "CWD answered before the RETR");
	cr_assert_eq(x->type, 'I');
	cr_assert_str_eq(x->user, "bob");
	cr_assert_eq(x->reply, 226);
	cr_assert(x->has_size && x->announced_size == 1234);
	cr_assert_eq(x->mode, FTP_MODE_PASSIVE);

	x = (const void *)entry(&d, 6001)->data;
	cr_assert_str_eq(x->cmd, "LIST");
	cr_assert_str_eq(x->filename, "/home/bob/pub");
	cr_assert_eq(x->type, 'A');
	cr_assert_eq(x->reply, 226);
	x = (const void *)entry(&d, 6002)->data;
	cr_assert_str_eq(x->cmd, "NLST");
	cr_assert_eq(x->reply, 226);
	x = (const void *)entry(&d, 6003)->data;
	cr_assert_str_eq(x->cmd, "RETR");
	cr_assert_eq(x->reply, 426, "the 226 answers the ABOR");
	cr_assert_eq(anomalies(&d), 0);
	drv_free(&d);
}

Test(ftp_pipeline, byte_at_a_time_equals_one_shot)
{
	same_in_pieces(pipelined, NLINES(pipelined));
}

/* The engine may hand the greeting over after the client's first command. */
Test(ftp_pipeline, greeting_after_first_command)
{
	static const struct line l[] = {
		{ 0, "USER anonymous\r\n" },
		{ 1, "220 ready\r\n331 pw\r\n" },
		{ 0, "PASS x\r\nCWD /pub\r\nPASV\r\n" },
		{ 1, "230 ok\r\n250 ok\r\n227 (10,0,0,2,4,1)\r\n" },
		{ 0, "RETR f\r\n" },
		{ 1, "150 go\r\n226 ok\r\n" },
	};
	struct drv d;

	drv_init(&d, &gcp_dissector_ftp);
	play_lines(&d, l, NLINES(l), 1 << 20);
	const struct ftp_xfer *x = (const void *)entry(&d, 1025)->data;

	cr_assert_str_eq(x->filename, "/pub/f");
	cr_assert_eq(x->reply, 226);
	drv_free(&d);
}

/* No replies at all (one-way capture): the queue is bounded and counts
 * what it drops; transfers still get their command. */
Test(ftp_pipeline, overflow_counted_client_only)
{
	struct drv d;

	drv_init(&d, &gcp_dissector_ftp);
	drv_feed(&d, 0, S("USER a\r\n"), 1 << 20);
	for (int i = 0; i < 10; i++)
		drv_feed(&d, 0, S("NOOP\r\n"), 1 << 20);
	cr_assert_eq(anomalies(&d), 3, "11 commands, 8 kept");
	drv_feed(&d, 0, S("CWD pub\r\nPORT 10,0,0,1,4,2\r\nRETR x\r\n"), 1 << 20);
	cr_assert_eq(anomalies(&d), 6);
	const struct ftp_xfer *x = (const void *)entry(&d, 1026)->data;

	cr_assert_str_eq(x->cmd, "RETR");
	cr_assert_str_eq(x->filename, "x", "the CWD was never accepted");
	cr_assert_eq(x->mode, FTP_MODE_ACTIVE);
	drv_free(&d);
}

/* Replies lost in a gap: what was waiting is settled, pairing starts over. */
Test(ftp_pipeline, reply_gap_resets_pairing)
{
	struct drv d;

	drv_init(&d, &gcp_dissector_ftp);
	drv_feed(&d, 1, S("220 ready\r\n"), 1 << 20);
	drv_feed(&d, 0, S("USER u\r\nCWD a\r\nNOOP\r\n"), 1 << 20);
	d.dis->parse(d.st, d.ctx, 1, NULL, 300, GCP_PF_GAP);
	drv_feed(&d, 1, S("junk after the gap\r\n"), 1 << 20);
	drv_feed(&d, 0, S("PASV\r\n"), 1 << 20);
	drv_feed(&d, 1, S("227 (10,0,0,2,4,9)\r\n"), 1 << 20);
	drv_feed(&d, 0, S("RETR y\r\n"), 1 << 20);
	drv_feed(&d, 1, S("150 ok\r\n226 ok\r\n"), 1 << 20);
	const struct ftp_xfer *x = (const void *)entry(&d, 4 * 256 + 9)->data;

	cr_assert_str_eq(x->cmd, "RETR");
	cr_assert_str_eq(x->filename, "y", "the CWD's reply was lost");
	cr_assert_eq(x->reply, 226);
	drv_free(&d);
}

/* ---- the default data port (RFC 959 3.2) ------------------------------------------- */

static const struct line default_port[] = {
	{ 1, "220 ready\r\n" },
	{ 0, "USER u\r\n" },
	{ 1, "230 ok\r\n" },
	{ 0, "TYPE I\r\n" },
	{ 1, "200 ok\r\n" },
	{ 0, "RETR /etc/motd\r\n" },
	{ 1, "150 Opening BINARY mode data connection (12 bytes)\r\n226 ok\r\n" },
};

Test(ftp_default_port, transfer_without_port_or_pasv)
{
	static const struct line more[] = {
		{ 0, "PASV\r\n" },
		{ 1, "227 (10,0,0,2,4,1)\r\n" },
		{ 0, "LIST\r\n" },
		{ 1, "150 ok\r\n226 ok\r\n" },
		{ 0, "NLST\r\n" },
		{ 1, "425 no data connection\r\n" },
	};
	struct drv d;

	drv_init(&d, &gcp_dissector_ftp);
	play_lines(&d, default_port, NLINES(default_port), 1 << 20);
	/* The server connects (from port 20) to the client's control port. */
	struct gcp_expect_ent *e = entry(&d, 40000);
	cr_assert(e, "default data port expectation");
	addr_is(&e->orig, "10.0.0.2");
	addr_is(&e->resp, "10.0.0.1");
	const struct ftp_xfer *x = (const void *)e->data;
	cr_assert_eq(x->mode, FTP_MODE_ACTIVE);
	cr_assert_str_eq(x->cmd, "RETR");
	cr_assert_str_eq(x->filename, "/etc/motd");
	cr_assert_eq(x->type, 'I');
	cr_assert_eq(x->reply, 226);
	cr_assert(x->has_size && x->announced_size == 12);

	play_lines(&d, more, NLINES(more), 1 << 20);
	x = (const void *)entry(&d, 1025)->data;
	cr_assert_str_eq(x->cmd, "LIST", "an announced port is used as before");
	cr_assert_null(entry(&d, 40000), "NLST's default port guess: refused, so dropped");
	cr_assert_eq(live_entries(&d), 1);
	drv_free(&d);
}

Test(ftp_default_port, not_guessed_midstream_or_after_refused_pasv)
{
	static const struct line midstream[] = {
		{ 0, "RETR x\r\n" },
		{ 1, "150 ok\r\n226 ok\r\n" },
	};
	static const struct line refused[] = {
		{ 1, "220 ready\r\n" },
		{ 0, "USER u\r\n" },
		{ 1, "230 ok\r\n" },
		{ 0, "PASV\r\n" },
		{ 1, "500 no\r\n" },
		{ 0, "RETR x\r\n" },
		{ 1, "150 ok\r\n226 ok\r\n" },
	};
	struct drv d;

	drv_init(&d, &gcp_dissector_ftp);
	play_lines(&d, midstream, NLINES(midstream), 1 << 20);
	cr_assert_eq(live_entries(&d), 0, "the PASV may just not have been captured");
	drv_free(&d);
	drv_init(&d, &gcp_dissector_ftp);
	play_lines(&d, refused, NLINES(refused), 1 << 20);
	cr_assert_eq(live_entries(&d), 0);
	drv_free(&d);
}

/* ---- IPv6: EPSV/EPRT (RFC 2428) and LPSV/LPRT (RFC 1639) --------------------------- */

static void addr6_is(const struct gcp_addr *a, const char *s)
{
	struct gcp_addr w = { 0 };

	cr_assert_eq(inet_pton(AF_INET6, s, w.b), 1);
	cr_assert(!memcmp(a, &w, sizeof(w)), "address is not %s", s);
}

static const struct line ipv6[] = {
	{ 1, "220 ready\r\n" },
	{ 0, "USER u\r\n" },
	{ 1, "230 ok\r\n" },
	{ 0, "LPSV\r\n" },
	{ 1, "228 Entering Long Passive Mode (6,16,32,1,13,184,0,0,0,0,0,0,0,0,0,0,0,2,2,19,137)\r\n" },
	{ 0, "RETR a\r\n" },
	{ 1, "150 ok\r\n226 ok\r\n" },
	{ 0, "LPRT 6,16,32,1,13,184,0,0,0,0,0,0,0,0,0,0,0,1,2,23,112\r\n" },
	{ 1, "200 ok\r\n" },
	{ 0, "STOR b\r\n" },
	{ 1, "150 ok\r\n226 ok\r\n" },
	/* An IPv4 data address on an IPv6 control connection: other hosts. */
	{ 0, "EPRT |1|10.0.0.1|5000|\r\n" },
	{ 1, "200 ok\r\n" },
	{ 0, "EPSV\r\n" },
	{ 1, "229 Entering Extended Passive Mode (|||6446|)\r\n" },
	{ 0, "LIST\r\n" },
	{ 1, "150 ok\r\n226 ok\r\n" },
	{ 0, "EPRT |2|2001:db8::1|6447|\r\n" },
	{ 1, "200 ok\r\n" },
	{ 0, "NLST\r\n" },
	{ 1, "150 ok\r\n226 ok\r\n" },
};

Test(ftp_ipv6, epsv_eprt_lpsv_lprt)
{
	struct drv d;

	drv_init_at(&d, &gcp_dissector_ftp, "2001:db8::1", "2001:db8::2");
	play_lines(&d, ipv6, NLINES(ipv6), 1 << 20);
	struct gcp_expect_ent *e = entry(&d, 19 * 256 + 137);
	cr_assert(e, "LPSV expectation");
	addr6_is(&e->orig, "2001:db8::1");
	addr6_is(&e->resp, "2001:db8::2");
	cr_assert_eq(e->ip_version, 6);
	const struct ftp_xfer *x = (const void *)e->data;
	cr_assert_eq(x->mode, FTP_MODE_PASSIVE);
	cr_assert_str_eq(x->cmd, "RETR");

	e = entry(&d, 23 * 256 + 112);
	cr_assert(e, "LPRT expectation");
	addr6_is(&e->orig, "2001:db8::2");
	x = (const void *)e->data;
	cr_assert_eq(x->mode, FTP_MODE_ACTIVE);
	cr_assert_str_eq(x->cmd, "STOR");

	cr_assert_null(entry(&d, 5000));
	cr_assert_eq(anomalies(&d), 1, "EPRT |1| on IPv6");
	x = (const void *)entry(&d, 6446)->data;
	cr_assert_str_eq(x->cmd, "LIST");
	x = (const void *)entry(&d, 6447)->data;
	cr_assert_str_eq(x->cmd, "NLST");
	cr_assert_eq(x->mode, FTP_MODE_ACTIVE);
	drv_free(&d);
}

/* ---- REST / APPE: the bytes are not the file ---------------------------------------- */

static const struct line resume[] = {
	{ 1, "220 ready\r\n" },
	{ 0, "USER u\r\n" },
	{ 1, "230 ok\r\n" },
	{ 0, "TYPE I\r\n" },
	{ 1, "200 ok\r\n" },
	{ 0, "PASV\r\n" },
	{ 1, "227 (10,0,0,2,4,1)\r\n" },
	{ 0, "REST 1000\r\n" },
	{ 1, "350 Restarting at 1000\r\n" },
	{ 0, "RETR big.iso\r\n" },
	{ 1, "150 Opening BINARY mode data connection (5000 bytes)\r\n226 ok\r\n" },
	{ 0, "PASV\r\n" },
	{ 1, "227 (10,0,0,2,4,2)\r\n" },
	{ 0, "APPE log.txt\r\n" },
	{ 1, "150 ok\r\n226 ok\r\n" },
	{ 0, "REST 0\r\n" },
	{ 1, "350 Restarting at 0\r\n" },
	{ 0, "PASV\r\n" },
	{ 1, "227 (10,0,0,2,4,3)\r\n" },
	{ 0, "RETR whole\r\n" },
	{ 1, "150 ok\r\n226 ok\r\n" },
	{ 0, "REST 77\r\n" },
	{ 1, "502 not implemented\r\n" },
	{ 0, "PASV\r\n" },
	{ 1, "227 (10,0,0,2,4,4)\r\n" },
	{ 0, "RETR after_refused_rest\r\n" },
	{ 1, "150 ok\r\n226 ok\r\n" },
	{ 0, "PASV\r\nREST 10\r\nRETR piped\r\n" },
	{ 1, "227 (10,0,0,2,4,5)\r\n350 ok\r\n150 ok\r\n226 ok\r\n" },
};

/* An ftpdata flow over the expectation at port carrying bytes, ended with FIN. */
static const char *data_via(struct drv *c, uint16_t port, const char *bytes)
{
	struct gcp_expect_ent *e = entry(c, port);
	struct gcp_expect_table *t = c->ctx->eng->exp;
	void *st = calloc(1, gcp_dissector_ftpdata.state_size);
	unsigned before = gcp_test_dctx_nrecords(c->ctx);

	cr_assert(e && st);
	c->ctx->exp_taken = (uint64_t)e->gen << 32 | (uint64_t)(e - t->ents + 1);
	gcp_dissector_ftpdata.init(st, c->ctx);
	c->ctx->exp_taken = 0;
	gcp_dissector_ftpdata.parse(st, c->ctx, 1, (const uint8_t *)bytes, (uint32_t)strlen(bytes),
				    0);
	c->ctx->flow->th[1].fin = 1;
	gcp_dissector_ftpdata.parse(st, c->ctx, 1, NULL, 0, GCP_PF_FIN);
	gcp_dissector_ftpdata.fini(st, c->ctx);
	c->ctx->flow->th[1].fin = 0;
	free(st);
	cr_assert_eq(gcp_test_dctx_nrecords(c->ctx), before + 1);
	return gcp_test_dctx_json(c->ctx, before);
}

Test(ftp_partial, rest_and_appe_flag_the_transfer)
{
	struct drv d;
	const struct ftp_xfer *x;

	drv_init(&d, &gcp_dissector_ftp);
	play_lines(&d, resume, NLINES(resume), 1 << 20);
	x = (const void *)entry(&d, 1025)->data;
	cr_assert(x->partial && x->rest_offset == 1000);
	x = (const void *)entry(&d, 1026)->data;
	cr_assert(x->partial && x->rest_offset == 0 && x->upload, "APPE");
	x = (const void *)entry(&d, 1027)->data;
	cr_assert(!x->partial, "REST 0 is the whole file");
	x = (const void *)entry(&d, 1028)->data;
	cr_assert(!x->partial, "refused REST");
	x = (const void *)entry(&d, 1029)->data;
	cr_assert(x->partial && x->rest_offset == 10, "pipelined REST");
	cr_assert_str_eq(x->filename, "piped");

	const char *j = data_via(&d, 1025, "the rest of the file");
	cr_assert(strstr(j, "\"partial\":true"), "%s", j);
	cr_assert(strstr(j, "\"rest_offset\":1000"), "%s", j);
	cr_assert(strstr(j, "\"md5_complete\":false"), "%s", j);
	cr_assert(!strstr(j, "\"md5\""), "no MD5 for part of a file: %s", j);
	j = data_via(&d, 1026, "appended lines\n");
	cr_assert(strstr(j, "\"partial\":true") && !strstr(j, "\"md5\""), "%s", j);
	cr_assert(!strstr(j, "rest_offset"), "%s", j);
	j = data_via(&d, 1027, "whole");
	cr_assert(strstr(j, "\"md5_complete\":true") && strstr(j, "\"md5\""), "%s", j);
	cr_assert(!strstr(j, "partial"), "%s", j);
	drv_free(&d);
}

Test(ftp_partial, byte_at_a_time_equals_one_shot)
{
	same_in_pieces(resume, NLINES(resume));
	same_in_pieces_at(ipv6, NLINES(ipv6), "2001:db8::1", "2001:db8::2");
	same_in_pieces(default_port, NLINES(default_port));
}

/* ---- data dissector ---------------------------------------------------------------- */

static void md5_hex(const void *p, size_t n, char hex[33])
{
	unsigned char d[16];
	unsigned dl;
	EVP_MD_CTX *m = EVP_MD_CTX_new();

	EVP_DigestInit_ex(m, EVP_md5(), NULL);
	EVP_DigestUpdate(m, p, n);
	EVP_DigestFinal_ex(m, d, &dl);
	EVP_MD_CTX_free(m);
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static const char *data_record(struct drv *d)
{
	d->dis->fini(d->st, d->ctx);
	cr_assert_eq(gcp_test_dctx_nrecords(d->ctx), 1);
	return gcp_test_dctx_json(d->ctx, 0);
}

static void data_free(struct drv *d)
{
	free(d->st);
	free(d->buf[0]);
	free(d->buf[1]);
	gcp_test_dctx_free(d->ctx);
}

Test(ftp_data, md5_streamed_over_segments)
{
	struct drv d;
	uint8_t file[100000];
	char hex[33], want[64];

	for (size_t i = 0; i < sizeof(file); i++)
		file[i] = (uint8_t)(i * 7 + (i >> 8));
	md5_hex(file, sizeof(file), hex);
	drv_init(&d, &gcp_dissector_ftpdata);
	drv_feed(&d, 1, file, sizeof(file), 1448);
	d.ctx->flow->th[1].fin = 1;
	d.dis->parse(d.st, d.ctx, 1, NULL, 0, GCP_PF_FIN);
	const char *j = data_record(&d);

	snprintf(want, sizeof(want), "\"md5\":\"%s\"", hex);
	cr_assert(strstr(j, want), "%s", j);
	cr_assert(strstr(j, "\"size\":100000"), "%s", j);
	cr_assert(strstr(j, "\"md5_complete\":true"), "%s", j);
	cr_assert(!strstr(j, "\"mode\""), "no expectation, no transfer keys: %s", j);
	data_free(&d);
}

Test(ftp_data, gap_marks_md5_incomplete)
{
	struct drv d;

	drv_init(&d, &gcp_dissector_ftpdata);
	drv_feed(&d, 1, S("first part"), 1 << 20);
	d.dis->parse(d.st, d.ctx, 1, NULL, 1000, GCP_PF_GAP);
	drv_feed(&d, 1, S("after the hole"), 1 << 20);
	d.ctx->flow->th[1].fin = 1;
	d.dis->parse(d.st, d.ctx, 1, NULL, 0, GCP_PF_FIN);
	const char *j = data_record(&d);

	cr_assert(!strstr(j, "\"md5\""), "%s", j);
	cr_assert(strstr(j, "\"md5_complete\":false"), "%s", j);
	cr_assert(strstr(j, "\"missed_bytes\":1000"), "%s", j);
	cr_assert(strstr(j, "\"size\":1024"), "%s", j);
	data_free(&d);
}

Test(ftp_data, cut_off_without_fin_is_incomplete)
{
	struct drv d;

	drv_init(&d, &gcp_dissector_ftpdata);
	drv_feed(&d, 0, S("uploaded bytes"), 1 << 20);
	d.dis->parse(d.st, d.ctx, 0, NULL, 0, GCP_PF_FIN); /* flow end, no FIN seen */
	const char *j = data_record(&d);

	cr_assert(strstr(j, "\"md5_complete\":false"), "%s", j);
	cr_assert(!strstr(j, "\"md5\""), "%s", j);
	data_free(&d);
}

/* ---- expectation table ---------------------------------------------------------------- */

Test(ftp_expect, bounded_and_expiring)
{
	struct gcp_expect_table *t = gcp_expect_table_new();
	struct gcp_addr a = { { 10, 0, 0, 1 } }, b = { { 10, 0, 0, 2 } };
	struct gcp_expect x = { &a, &b, 0, 4, IPPROTO_TCP, &gcp_dissector_ftpdata, NULL, 0, 10 };
	uint64_t h[GCP_EXPECT_MAX];

	cr_assert(t);
	for (unsigned i = 0; i < GCP_EXPECT_MAX; i++) {
		x.resp_port = (uint16_t)(1000 + i);
		h[i] = gcp_expect_add(t, &x, 0);
		cr_assert_neq(h[i], 0);
	}
	x.resp_port = 5;
	cr_assert_eq(gcp_expect_add(t, &x, 0), 0, "full");
	cr_assert_eq(t->st_full, 1);
	/* Same key again replaces the old entry. */
	x.resp_port = 1000;
	uint64_t h2 = gcp_expect_add(t, &x, 0);
	cr_assert_neq(h2, 0);
	cr_assert_null(gcp_expect_get(t, h[0]), "stale handle");
	cr_assert_not_null(gcp_expect_get(t, h2));
	gcp_expect_cancel(t, h[1]);
	cr_assert_null(gcp_expect_get(t, h[1]));
	/* Past their 10 s, pending entries make room. */
	x.resp_port = 7;
	cr_assert_neq(gcp_expect_add(t, &x, 1), 0);
	cr_assert_eq(t->live, GCP_EXPECT_MAX);
	x.resp_port = 8;
	cr_assert_neq(gcp_expect_add(t, &x, 11ull * 1000000000ull), 0);
	cr_assert_geq(t->st_expired, GCP_EXPECT_MAX - 3);
	gcp_expect_table_free(t);
}
