/* SPDX-License-Identifier: BSD-3-Clause */
/* POP3 dissector tests: USER, APOP, AUTH PLAIN continuation, STLS
 * accepted/refused, multi-line bodies, pipelining, byte-at-a-time. */
#include "stream_drv.h"

extern const struct gcp_dissector gcp_dissector_pop3;
#define POP3 (&gcp_dissector_pop3)

/* zeek pop3.pcap: AUTH PLAIN with a "+ " continuation, then RETR. */
static const struct step auth_plain[] = {
	{ S2C, "+OK POP server ready H mimap8\r\n" },
	{ C2S, "AUTH\r\n" },
	{ S2C, "-ERR 1 argument required\r\n" },
	{ C2S, "CAPA\r\n" },
	{ S2C, "+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL PLAIN\r\n.\r\n" },
	{ C2S, "AUTH PLAIN\r\n" },
	{ S2C, "+ \r\n" },
	{ C2S, "AGRpZ2l0YWxpbnZlc3RpZ2F0b3JAbmV0d29ya3NpbXMuY29tAG5hcGllcjEyMw==\r\n" },
	{ S2C, "+OK mailbox locked and ready\r\n" },
	{ C2S, "STAT\r\nLIST\r\nRETR 1\r\n" },
	{ S2C, "+OK 1 3222\r\n+OK\r\n1 3222\r\n.\r\n+OK message follows\r\n"
	       "Subject: hi\r\n\r\n+OK this is body text\r\n-ERR so is this\r\n..\r\n+ x\r\n.\r\n" },
	{ C2S, "QUIT\r\n" },
	{ S2C, "+OK bye\r\n" },
	{ 0, NULL },
};

Test(pop3, auth_plain_continuation)
{
	struct drv d;

	drv_init(&d, POP3, 110);
	for (const struct step *s = auth_plain; s->s; s++)
		drv_s(&d, s->dir, s->s);
	cr_assert_eq(d.status, GCP_PARSE_DONE, "QUIT answered after the RETR body");
	drv_end(&d);
	cr_assert_eq(nrec(&d), 1);
	expect_str(&d, 0, "mail_type", "pop3");
	expect_str(&d, 0, "account", "digitalinvestigator@networksims.com");
	expect_str(&d, 0, "auth_mech", "PLAIN");
	expect_str(&d, 0, "encryption", "none");
	cr_assert_eq(get_uint(&d, 0, "commands"), 7);
	expect_not_in_json(&d, 0, "napier");
	cr_assert_eq(anomalies(&d), 0);
	drv_free(&d);
}

Test(pop3, user_pass)
{
	static const struct step s[] = {
		{ S2C, "+OK ready\r\n" },
		{ C2S, "USER alice@example.org\r\n" },
		{ S2C, "+OK\r\n" },
		{ C2S, "PASS hunter2\r\n" },
		{ S2C, "+OK logged in\r\n" },
		{ 0, NULL },
	};
	struct drv d;

	drv_script(&d, POP3, 110, s, 0);
	expect_str(&d, 0, "account", "alice@example.org");
	expect_str(&d, 0, "auth_mech", "USER");
	expect_not_in_json(&d, 0, "hunter2");
	drv_free(&d);
}

Test(pop3, apop)
{
	/* RFC 1939 7 example. */
	static const struct step s[] = {
		{ S2C, "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n" },
		{ C2S, "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n" },
		{ S2C, "+OK maildrop has 1 message (369 octets)\r\n" },
		{ 0, NULL },
	};
	struct drv d;

	drv_script(&d, POP3, 110, s, 0);
	expect_str(&d, 0, "account", "mrose");
	expect_str(&d, 0, "auth_mech", "APOP");
	expect_not_in_json(&d, 0, "c4c9334b");
	drv_free(&d);
}

Test(pop3, stls_accepted)
{
	static const struct step s[] = {
		{ S2C, "+OK ladymacbeth.local Cyrus POP3 server ready <1.2@x>\r\n" },
		{ C2S, "STLS\r\n" },
		{ S2C, "+OK Begin TLS negotiation now\r\n" },
		{ C2S, "\x16\x03\x01\x02\x00\x01" },
		{ 0, NULL },
	};
	struct drv d;

	drv_init(&d, POP3, 110);
	for (const struct step *p = s; p->s; p++)
		drv_s(&d, p->dir, p->s);
	cr_assert_eq(d.status, GCP_PARSE_DONE);
	cr_assert_eq(nrec(&d), 1);
	expect_str(&d, 0, "encryption", "starttls");
	drv_end(&d);
	cr_assert_eq(nrec(&d), 1);
	drv_free(&d);
}

Test(pop3, stls_refused)
{
	static const struct step s[] = {
		{ S2C, "+OK ready\r\n" },
		{ C2S, "STLS\r\n" },
		{ S2C, "-ERR not now\r\n" },
		{ C2S, "USER bob\r\n" },
		{ S2C, "+OK\r\n" },
		{ 0, NULL },
	};
	struct drv d;

	drv_script(&d, POP3, 110, s, 0);
	expect_str(&d, 0, "encryption", "none");
	expect_str(&d, 0, "account", "bob");
	drv_free(&d);
}

Test(pop3, auth_login_initial_response)
{
	/* RFC 5034 4: initial response; LOGIN user "tim", password prompt. */
	static const struct step s[] = {
		{ S2C, "+OK ready\r\n" },
		{ C2S, "AUTH LOGIN dGlt\r\n" },
		{ S2C, "+ UGFzc3dvcmQ6\r\n" },
		{ C2S, "dGFuc3RhYWZ0YW5zdGFhZg==\r\n" },
		{ S2C, "+OK\r\n" },
		{ 0, NULL },
	};
	struct drv d;

	drv_script(&d, POP3, 110, s, 0);
	expect_str(&d, 0, "account", "tim");
	expect_str(&d, 0, "auth_mech", "LOGIN");
	drv_free(&d);
}

Test(pop3, byte_at_a_time_matches_one_shot)
{
	expect_piecewise_same(POP3, 110, auth_plain);
}

Test(pop3, probe)
{
	const struct gcp_dissector *p = POP3;

	cr_assert_eq(p->probe((const uint8_t *)"+OK ready\r\n", 11, S2C), GCP_PROBE_YES);
	cr_assert_eq(p->probe((const uint8_t *)"+O", 2, S2C), GCP_PROBE_MAYBE);
	cr_assert_eq(p->probe((const uint8_t *)"* OK IMAP\r\n", 11, S2C), GCP_PROBE_NO);
	cr_assert_eq(p->probe((const uint8_t *)"CAPA\r\n", 6, C2S), GCP_PROBE_YES);
	cr_assert_eq(p->probe((const uint8_t *)"STLS\r\n", 6, C2S), GCP_PROBE_YES);
	cr_assert_eq(p->probe((const uint8_t *)"USER bob\r\n", 10, C2S), GCP_PROBE_NO); /* FTP too */
	cr_assert_eq(p->probe((const uint8_t *)"EHLO x\r\n", 8, C2S), GCP_PROBE_NO);
}

Test(pop3, auth_cram_md5)
{
	/* RFC 5034 4 with RFC 2195: "+ " base64 challenge, base64 "user digest". */
	static const struct step s[] = {
		{ S2C, "+OK ready\r\n" },
		{ C2S, "AUTH CRAM-MD5\r\n" },
		{ S2C, "+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UuZXhhbXBsZS5uZXQ+\r\n" },
		{ C2S, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n" },
		{ S2C, "+OK\r\n" },
		{ C2S, "QUIT\r\n" },
		{ S2C, "+OK bye\r\n" },
		{ 0, NULL },
	};
	struct drv d;

	drv_script(&d, POP3, 110, s, 0);
	expect_str(&d, 0, "account", "tim");
	expect_str(&d, 0, "auth_mech", "CRAM-MD5");
	expect_not_in_json(&d, 0, "b913a602");
	drv_free(&d);
	expect_piecewise_same(POP3, 110, s);
}
