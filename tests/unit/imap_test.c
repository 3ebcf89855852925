/* SPDX-License-Identifier: BSD-3-Clause */
/* IMAP dissector tests: LOGIN atom/quoted/literal, AUTHENTICATE PLAIN
 * (continuation and SASL-IR), STARTTLS accepted/refused, server literals,
 * implicit TLS on 993 through the TLS dissector, byte-at-a-time. */
#include "stream_drv.h"
#include "tls_vectors.h"

extern const struct gcp_dissector gcp_dissector_imap;
extern const struct gcp_dissector gcp_dissector_tls;
#define IMAP (&gcp_dissector_imap)

/* Synchronizing literals (RFC 9051 4.3) for the user and the password,
 * and a FETCH body literal holding lines that look like responses. */
static const struct step literal_login[] = {
	{ S2C, "* OK IMAP4rev1 Server ready\r\n" },
	{ C2S, "a1 CAPABILITY\r\n" },
	{ S2C, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na1 OK done\r\n" },
	{ C2S, "a2 LOGIN {11}\r\n" },
	{ S2C, "+ Ready for literal\r\n" },
	{ C2S, "fred\r\nsmith {6}\r\n" },
	{ S2C, "+ go on\r\n" },
	{ C2S, "sesame\r\n" },
	{ S2C, "a2 OK LOGIN completed\r\n" },
	{ C2S, "a3 UID FETCH 1 (BODY[])\r\na4 STARTTLS\r\n" },
	{ S2C, "* 1 FETCH (UID 1 BODY[] {29}\r\na4 OK Begin TLS\r\n* BYE fake\r\n)\r\n"
	       "a3 OK FETCH done\r\na4 BAD not now\r\n" },
	{ C2S, "a5 LOGOUT\r\n" },
	{ S2C, "* BYE logging out\r\na5 OK LOGOUT completed\r\n" },
	{ 0, NULL },
};

Test(imap, literal_login_and_server_literals)
{
	struct drv d;

	drv_init(&d, IMAP, 143);
	for (const struct step *s = literal_login; s->s; s++)
		drv_s(&d, s->dir, s->s);
	cr_assert_eq(d.status, GCP_PARSE_DONE, "LOGOUT answered");
	drv_end(&d);
	cr_assert_eq(nrec(&d), 1);
	expect_str(&d, 0, "mail_type", "imap");
	expect_str(&d, 0, "account", "fred\r\nsmith"); /* a literal may hold CRLF */
	expect_str(&d, 0, "auth_mech", "LOGIN");
	expect_str(&d, 0, "encryption", "none");
	cr_assert_eq(get_uint(&d, 0, "commands"), 5);
	expect_not_in_json(&d, 0, "sesame");
	cr_assert_eq(anomalies(&d), 0);
	drv_free(&d);
}

Test(imap, login_atom_and_quoted)
{
	static const struct step atom[] = {
		{ S2C, "* OK IMAP4Rev1 Server Version 4.9.04.012\r\n" },
		{ C2S, "C00001 LOGIN samir pfres\r\n" },
		{ S2C, "C00001 OK LOGIN completed\r\n" },
		{ 0, NULL },
	};
	static const struct step quoted[] = {
		{ S2C, "* OK ready\r\n" },
		{ C2S, "x LOGIN \"John \\\"Q\\\" Doe\" \"pa ss\"\r\n" },
		{ S2C, "x NO [AUTHENTICATIONFAILED] bad\r\n" },
		{ 0, NULL },
	};
	static const struct step nonsync[] = {
		{ S2C, "* OK ready\r\n" },
		{ C2S, "x LOGIN {4+}\r\njoe1 {3+}\r\nabc\r\n" },
		{ S2C, "x OK\r\n" },
		{ 0, NULL },
	};
	struct drv d;

	drv_script(&d, IMAP, 143, atom, 0);
	expect_str(&d, 0, "account", "samir");
	expect_not_in_json(&d, 0, "pfres");
	drv_free(&d);
	drv_script(&d, IMAP, 143, quoted, 0);
	expect_str(&d, 0, "account", "John \"Q\" Doe");
	drv_free(&d);
	drv_script(&d, IMAP, 143, nonsync, 0);
	expect_str(&d, 0, "account", "joe1");
	cr_assert_eq(get_uint(&d, 0, "commands"), 1);
	drv_free(&d);
}

static const struct step authenticate[] = {
	{ S2C, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n" },
	{ C2S, "A001 AUTHENTICATE PLAIN\r\n" },
	{ S2C, "+ \r\n" },
	{ C2S, "AHRlc3RAZXhhbXBsZS5jb20Ac2VjcmV0\r\n" },
	{ S2C, "A001 OK done\r\n" },
	{ C2S, "A002 SELECT INBOX\r\n" },
	{ S2C, "* 2 EXISTS\r\nA002 OK [READ-WRITE] done\r\n" },
	{ 0, NULL },
};

Test(imap, authenticate_plain_continuation)
{
	struct drv d;

	drv_script(&d, IMAP, 143, authenticate, 0);
	expect_str(&d, 0, "account", "test@example.com");
	expect_str(&d, 0, "auth_mech", "PLAIN");
	cr_assert_eq(get_uint(&d, 0, "commands"), 2);
	expect_not_in_json(&d, 0, "secret");
	drv_free(&d);
}

Test(imap, authenticate_sasl_ir)
{
	/* RFC 4959: initial response on the command line. */
	static const struct step s[] = {
		{ S2C, "* OK ready\r\n" },
		{ C2S, "a AUTHENTICATE PLAIN AGZvbwBiYXI=\r\n" },
		{ S2C, "a OK\r\n" },
		{ 0, NULL },
	};
	struct drv d;

	drv_script(&d, IMAP, 143, s, 0);
	expect_str(&d, 0, "account", "foo");
	drv_free(&d);
}

Test(imap, starttls_accepted)
{
	static const struct step s[] = {
		{ S2C, "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n" },
		{ C2S, ". CAPABILITY\r\n" },
		{ S2C, "* CAPABILITY IMAP4rev1 STARTTLS\r\n. OK CAPABILITY completed\r\n" },
		{ C2S, ". STARTTLS\r\n" },
		{ S2C, ". OK Begin TLS negotiation now\r\n" },
		{ C2S, "\x16\x03\x01\x01\x3a\x01" },
		{ 0, NULL },
	};
	struct drv d;

	drv_init(&d, IMAP, 143);
	for (const struct step *p = s; p->s; p++)
		drv_s(&d, p->dir, p->s);
	cr_assert_eq(d.status, GCP_PARSE_DONE);
	cr_assert_eq(nrec(&d), 1);
	expect_str(&d, 0, "encryption", "starttls");
	cr_assert_eq(get_uint(&d, 0, "commands"), 2);
	drv_end(&d);
	drv_free(&d);
}

Test(imap, byte_at_a_time_matches_one_shot)
{
	expect_piecewise_same(IMAP, 143, literal_login);
	expect_piecewise_same(IMAP, 143, authenticate);
}

Test(imap, probe)
{
	const struct gcp_dissector *p = IMAP;

	cr_assert_eq(p->probe((const uint8_t *)"* OK ready\r\n", 12, S2C), GCP_PROBE_YES);
	cr_assert_eq(p->probe((const uint8_t *)"* PREAUTH x\r\n", 13, S2C), GCP_PROBE_YES);
	cr_assert_eq(p->probe((const uint8_t *)"* O", 3, S2C), GCP_PROBE_MAYBE);
	cr_assert_eq(p->probe((const uint8_t *)"+OK\r\n", 5, S2C), GCP_PROBE_NO);
	cr_assert_eq(p->probe((const uint8_t *)"a001 login x y\r\n", 16, C2S), GCP_PROBE_YES);
	cr_assert_eq(p->probe((const uint8_t *)"a001 CAP", 8, C2S), GCP_PROBE_MAYBE);
	cr_assert_eq(p->probe((const uint8_t *)"GET / HTTP/1.1\r\n", 16, C2S), GCP_PROBE_NO);
}

/* ---- implicit TLS: the TLS dissector emits the mail record ------------------------ */

static unsigned tls_mail_records(uint16_t sport, const uint8_t *c2s, size_t n, const char **type)
{
	struct drv d;
	unsigned found = 0;

	drv_init(&d, &gcp_dissector_tls, sport);
	drv_feed(&d, C2S, c2s, n, 0);
	drv_end(&d);
	for (unsigned i = 0; i < nrec(&d); i++) {
		const msgpack_object *t = get(&d, i, "type");

		if (t && t->via.str.size == 4 && !memcmp(t->via.str.ptr, "mail", 4)) {
			found++;
			expect_str(&d, i, "encryption", "tls");
			expect_str(&d, i, "mail_type", *type);
		}
	}
	drv_free(&d);
	return found;
}

Test(imap, implicit_tls_needs_a_handshake)
{
	const char *imap = "imap", *pop3 = "pop3", *smtp = "smtp";
	static const uint8_t junk[] = "a1 LOGIN cleartext on 993\r\n";

	cr_assert_eq(tls_mail_records(993, tls12_c2s, sizeof(tls12_c2s), &imap), 1);
	cr_assert_eq(tls_mail_records(995, tls12_c2s, sizeof(tls12_c2s), &pop3), 1);
	cr_assert_eq(tls_mail_records(465, tls12_c2s, sizeof(tls12_c2s), &smtp), 1);
	cr_assert_eq(tls_mail_records(443, tls12_c2s, sizeof(tls12_c2s), &imap), 0);
	cr_assert_eq(tls_mail_records(993, junk, sizeof(junk) - 1, &imap), 0,
		     "the port alone is no TLS");
}

/* ---- more LOGIN literals and AUTHENTICATE CRAM-MD5 -------------------------------- */

Test(imap, authenticate_cram_md5)
{
	static const struct step s[] = {
		{ S2C, "* OK ready\r\n" },
		{ C2S, "a1 AUTHENTICATE CRAM-MD5\r\n" },
		{ S2C, "+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UuZXhhbXBsZS5uZXQ+\r\n" },
		{ C2S, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n" },
		{ S2C, "a1 OK done\r\n" },
		{ 0, NULL },
	};
	struct drv d;

	drv_script(&d, IMAP, 143, s, 0);
	expect_str(&d, 0, "account", "tim");
	expect_str(&d, 0, "auth_mech", "CRAM-MD5");
	expect_not_in_json(&d, 0, "b913a602");
	drv_free(&d);
	expect_piecewise_same(IMAP, 143, s);
}

/* LITERAL+ (RFC 7888) for both arguments, fed in every piece size. */
static const struct step nonsync_login[] = {
	{ S2C, "* OK ready\r\n" },
	{ C2S, "x LOGIN {9+}\r\njoe smith {7+}\r\nsesame!\r\n" },
	{ S2C, "x OK\r\n" },
	{ C2S, "y LOGOUT\r\n" },
	{ S2C, "* BYE\r\ny OK\r\n" },
	{ 0, NULL },
};

Test(imap, literal_plus_login_piecewise)
{
	struct drv d;

	drv_script(&d, IMAP, 143, nonsync_login, 0);
	expect_str(&d, 0, "account", "joe smith");
	expect_not_in_json(&d, 0, "sesame");
	cr_assert_eq(get_uint(&d, 0, "commands"), 2);
	drv_free(&d);
	expect_piecewise_same(IMAP, 143, nonsync_login);
}

/* An empty user literal: the password literal that follows is not the user. */
Test(imap, empty_user_literal_keeps_password_out)
{
	static const struct step s[] = {
		{ S2C, "* OK ready\r\n" },
		{ C2S, "x LOGIN {0+}\r\n {6+}\r\nsesame\r\n" },
		{ S2C, "x NO [AUTHENTICATIONFAILED] bad\r\n" },
		{ 0, NULL },
	};
	struct drv d;

	drv_script(&d, IMAP, 143, s, 0);
	expect_absent(&d, 0, "account");
	expect_not_in_json(&d, 0, "sesame");
	drv_free(&d);
}

/* RFC 9051 4.3: the server may refuse a synchronizing literal with a
 * tagged BAD/NO instead of "+"; the client then does not send it, and
 * what follows is the next command, not literal data. */
Test(imap, refused_sync_literal_not_consumed)
{
	static const struct step s[] = {
		{ S2C, "* OK ready\r\n" },
		{ C2S, "a1 LOGIN {12}\r\n" },
		{ S2C, "a1 BAD literals not accepted here\r\n" },
		{ C2S, "a2 LOGIN bob secret\r\n" },
		{ S2C, "a2 OK\r\n" },
		{ C2S, "a3 LOGOUT\r\n" },
		{ S2C, "* BYE\r\na3 OK\r\n" },
		{ 0, NULL },
	};
	struct drv d;

	drv_init(&d, IMAP, 143);
	for (const struct step *p = s; p->s; p++)
		drv_s(&d, p->dir, p->s);
	cr_assert_eq(d.status, GCP_PARSE_DONE, "LOGOUT seen and answered");
	drv_end(&d);
	expect_str(&d, 0, "account", "bob");
	cr_assert_eq(get_uint(&d, 0, "commands"), 3);
	drv_free(&d);
}
