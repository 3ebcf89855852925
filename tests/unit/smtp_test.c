/* SPDX-License-Identifier: BSD-3-Clause */
/* SMTP dissector tests: AUTH LOGIN/PLAIN decoding, pipelining, DATA
 * headers with folding, BDAT, STARTTLS accepted/refused, byte-at-a-time. */
#include "stream_drv.h"

extern const struct gcp_dissector gcp_dissector_smtp;
#define SMTP (&gcp_dissector_smtp)

/* The corpus session (zeek smtp.pcap), password "punjab@123". */
static const struct step auth_login[] = {
	{ S2C, "220-xc90.websitewelcome.com ESMTP Exim 4.69\r\n220 and/or bulk e-mail.\r\n" },
	{ C2S, "EHLO GP\r\n" },
	{ S2C, "250-xc90.websitewelcome.com Hello GP\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n"
	       "250 HELP\r\n" },
	{ C2S, "AUTH LOGIN\r\n" },
	{ S2C, "334 VXNlcm5hbWU6\r\n" },
	{ C2S, "Z3VycGFydGFwQHBhdHJpb3RzLmlu\r\n" },
	{ S2C, "334 UGFzc3dvcmQ6\r\n" },
	{ C2S, "cHVuamFiQDEyMw==\r\n" },
	{ S2C, "235 Authentication succeeded\r\n" },
	{ C2S, "MAIL FROM: <gurpartap@patriots.in>\r\n" },
	{ S2C, "250 OK\r\n" },
	{ C2S, "RCPT TO: <raj_deol2002in@yahoo.co.in>\r\n" },
	{ S2C, "250 Accepted\r\n" },
	{ C2S, "DATA\r\n" },
	{ S2C, "354 Enter message, ending with \".\" on a line by itself\r\n" },
	{ C2S, "From: \"Gurpartap Singh\" <gurpartap@patriots.in>\r\nTo: <raj_deol2002in@yahoo.co.in>\r\n"
	       "Subject: SMTP\r\nMessage-ID: <000301ca4581$ef9e57f0$cedb07d0$@in>\r\n\r\n"
	       "Hello\r\n..leading dot\r\nQUIT\r\n.\r\n" },
	{ S2C, "250 OK id=1Mugho-0003Dg-Un\r\n" },
	{ C2S, "QUIT\r\n" },
	{ S2C, "221 xc90.websitewelcome.com closing connection\r\n" },
	{ 0, NULL },
};

Test(smtp, auth_login_decoded_password_never_kept)
{
	struct drv d;

	drv_script(&d, SMTP, 25, auth_login, 0);
	cr_assert_eq(nrec(&d), 1);
	expect_str(&d, 0, "type", "mail");
	expect_str(&d, 0, "mail_type", "smtp");
	expect_str(&d, 0, "account", "gurpartap@patriots.in");
	expect_str(&d, 0, "encryption", "none");
	expect_str(&d, 0, "auth_mech", "LOGIN");
	expect_str(&d, 0, "helo", "GP");
	expect_str(&d, 0, "mail_from", "gurpartap@patriots.in");
	expect_strs(&d, 0, "rcpt_to", (const char *const[]){ "raj_deol2002in@yahoo.co.in", NULL });
	expect_str(&d, 0, "subject", "SMTP");
	expect_str(&d, 0, "message_id", "<000301ca4581$ef9e57f0$cedb07d0$@in>");
	/* EHLO AUTH MAIL RCPT DATA QUIT: SASL responses and message lines are no commands. */
	cr_assert_eq(get_uint(&d, 0, "commands"), 6);
	expect_not_in_json(&d, 0, "punjab");
	expect_not_in_json(&d, 0, "cHVuamFi");
	cr_assert_eq(anomalies(&d), 0);
	drv_free(&d);
}

Test(smtp, quit_answered_ends_session)
{
	struct drv d;

	drv_init(&d, SMTP, 25);
	for (const struct step *s = auth_login; s->s; s++)
		drv_s(&d, s->dir, s->s);
	cr_assert_eq(d.status, GCP_PARSE_DONE);
	cr_assert_eq(nrec(&d), 1, "record emitted when QUIT was answered");
	drv_end(&d);
	cr_assert_eq(nrec(&d), 1, "fini does not emit twice");
	drv_free(&d);
}

Test(smtp, auth_plain_initial_response)
{
	/* RFC 4616: "\0user@example.org\0secret" */
	static const struct step s[] = {
		{ S2C, "220 mx ESMTP\r\n" },
		{ C2S, "EHLO client.example\r\n" },
		{ S2C, "250 mx\r\n" },
		{ C2S, "AUTH PLAIN AHVzZXJAZXhhbXBsZS5vcmcAc2VjcmV0\r\n" },
		{ S2C, "235 2.7.0 ok\r\n" },
		{ C2S, "MAIL FROM:<other@example.org>\r\n" },
		{ S2C, "250 ok\r\n" },
		{ 0, NULL },
	};
	struct drv d;

	drv_script(&d, SMTP, 587, s, 0);
	cr_assert_eq(nrec(&d), 1);
	expect_str(&d, 0, "account", "user@example.org");
	expect_str(&d, 0, "auth_mech", "PLAIN");
	expect_str(&d, 0, "mail_from", "other@example.org");
	expect_not_in_json(&d, 0, "secret");
	drv_free(&d);
}

Test(smtp, auth_plain_continuation_with_authzid)
{
	/* "admin\0user2\0pw2": the account is the authcid. */
	static const struct step s[] = {
		{ S2C, "220 mx ESMTP\r\n" },
		{ C2S, "EHLO c\r\n" },
		{ S2C, "250 mx\r\n" },
		{ C2S, "auth plain\r\n" },
		{ S2C, "334 \r\n" },
		{ C2S, "YWRtaW4AdXNlcjIAcHcy\r\n" },
		{ S2C, "535 5.7.8 bad\r\n" },
		{ C2S, "QUIT\r\n" },
		{ S2C, "221 bye\r\n" },
		{ 0, NULL },
	};
	struct drv d;

	drv_script(&d, SMTP, 25, s, 0);
	cr_assert_eq(nrec(&d), 1);
	expect_str(&d, 0, "account", "user2");
	expect_str(&d, 0, "auth_mech", "PLAIN");
	cr_assert_eq(get_uint(&d, 0, "commands"), 3);
	drv_free(&d);
}

Test(smtp, auth_cancelled_then_commands_parse)
{
	static const struct step s[] = {
		{ S2C, "220 mx ESMTP\r\n" },
		{ C2S, "AUTH LOGIN\r\n" },
		{ S2C, "334 VXNlcm5hbWU6\r\n" },
		{ C2S, "*\r\n" },
		{ S2C, "501 cancelled\r\n" },
		{ C2S, "HELO again\r\n" },
		{ S2C, "250 ok\r\n" },
		{ 0, NULL },
	};
	struct drv d;

	drv_script(&d, SMTP, 25, s, 0);
	expect_absent(&d, 0, "account");
	expect_str(&d, 0, "helo", "again");
	cr_assert_eq(get_uint(&d, 0, "commands"), 2);
	drv_free(&d);
}

/* RFC 2920: a whole transaction in one segment, replies in one segment. */
static const struct step pipelined[] = {
	{ S2C, "220 mx.example ESMTP\r\n" },
	{ C2S, "EHLO a.example\r\n" },
	{ S2C, "250-mx.example\r\n250-PIPELINING\r\n250 CHUNKING\r\n" },
	{ C2S, "MAIL FROM:<alice@a.example> SIZE=100\r\nRCPT TO:<bob@b.example>\r\n"
	       "RCPT TO:<carol@c.example> NOTIFY=NEVER\r\nRCPT TO:<bob@b.example>\r\nDATA\r\n" },
	{ S2C, "250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n" },
	{ C2S, "Received: from x\r\n\tby y\r\nSubject: =?utf-8?q?hello?=\r\n  folded\r\n\tmore\r\n"
	       "Message-ID:\r\n <id-1@a.example>\r\nX-Other: Subject: no\r\n\r\n"
	       "Subject: body line\r\n.\r\nRSET\r\n" },
	{ S2C, "250 queued\r\n250 reset\r\n" },
	{ C2S, "MAIL FROM:<second@a.example>\r\nRCPT TO:<dave@d.example>\r\nBDAT 25 LAST\r\n"
	       "Subject: second\r\n\r\nQUIT\r\n" },
	{ S2C, "250 ok\r\n250 ok\r\n250 ok\r\n" },
	{ C2S, "QUIT\r\n" },
	{ S2C, "221 bye\r\n" },
	{ 0, NULL },
};

Test(smtp, pipelined_envelope_and_folded_headers)
{
	struct drv d;

	drv_script(&d, SMTP, 25, pipelined, 0);
	cr_assert_eq(nrec(&d), 1);
	expect_str(&d, 0, "account", "alice@a.example"); /* no AUTH: MAIL FROM */
	expect_str(&d, 0, "mail_from", "alice@a.example");
	expect_strs(&d, 0, "rcpt_to",
		    (const char *const[]){ "bob@b.example", "carol@c.example", "dave@d.example",
					   NULL });
	expect_str(&d, 0, "subject", "=?utf-8?q?hello?=  folded\tmore");
	expect_str(&d, 0, "message_id", "<id-1@a.example>");
	expect_absent(&d, 0, "auth_mech");
	/* EHLO MAIL RCPT*3 DATA RSET MAIL RCPT BDAT QUIT (QUIT inside BDAT is data) */
	cr_assert_eq(get_uint(&d, 0, "commands"), 11);
	cr_assert_eq(anomalies(&d), 0);
	drv_free(&d);
}

Test(smtp, starttls_accepted_ends_parsing)
{
	static const struct step s[] = {
		{ S2C, "220 mx.google.com ESMTP\r\n" },
		{ C2S, "EHLO openssl.client.net\r\n" },
		{ S2C, "250-mx.google.com\r\n250 STARTTLS\r\n" },
		{ C2S, "STAR" },
		{ C2S, "TTLS\r\n" },
		{ S2C, "220 2.0.0 Ready to start TLS\r\n" },
		{ C2S, "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00" },
		{ 0, NULL },
	};
	struct drv d;

	drv_init(&d, SMTP, 25);
	for (const struct step *p = s; p->s; p++)
		drv_s(&d, p->dir, p->s);
	cr_assert_eq(d.status, GCP_PARSE_DONE);
	cr_assert_eq(nrec(&d), 1);
	expect_str(&d, 0, "encryption", "starttls");
	expect_str(&d, 0, "helo", "openssl.client.net");
	cr_assert_eq(get_uint(&d, 0, "commands"), 2);
	drv_end(&d);
	cr_assert_eq(nrec(&d), 1);
	drv_free(&d);
}

Test(smtp, starttls_refused_stays_clear)
{
	static const struct step s[] = {
		{ S2C, "220 mx ESMTP\r\n" },
		{ C2S, "EHLO c\r\n" },
		{ S2C, "250 mx\r\n" },
		{ C2S, "STARTTLS\r\n" },
		{ S2C, "454 4.7.0 TLS not available\r\n" },
		{ C2S, "AUTH LOGIN dXNlcg==\r\n" },
		{ S2C, "334 UGFzc3dvcmQ6\r\n" },
		{ C2S, "cGFzcw==\r\n" },
		{ S2C, "235 ok\r\n" },
		{ 0, NULL },
	};
	struct drv d;

	drv_script(&d, SMTP, 25, s, 0);
	cr_assert_eq(nrec(&d), 1);
	expect_str(&d, 0, "encryption", "none");
	expect_str(&d, 0, "account", "user");
	expect_not_in_json(&d, 0, "pass");
	drv_free(&d);
}

Test(smtp, greeting_held_back_by_probing)
{
	/* A greeting without "SMTP" left the choice to the client's EHLO: the
	 * engine hands the greeting over after the EHLO. */
	static const struct step s[] = {
		{ C2S, "EHLO c\r\n" },
		{ S2C, "220 mx.example ready\r\n" },
		{ C2S, "NOOP\r\nSTARTTLS\r\n" },
		{ S2C, "250 mx\r\n250 ok\r\n220 go ahead\r\n" },
		{ 0, NULL },
	};
	struct drv d;

	drv_script(&d, SMTP, 25, s, 0);
	expect_str(&d, 0, "encryption", "starttls");
	drv_free(&d);
}

Test(smtp, data_refused_returns_to_commands)
{
	static const struct step s[] = {
		{ S2C, "220 mx ESMTP\r\n" },
		{ C2S, "MAIL FROM:<>\r\n" },
		{ S2C, "250 ok\r\n" },
		{ C2S, "DATA\r\n" },
		{ S2C, "554 no valid recipients\r\n" },
		{ C2S, "QUIT\r\n" },
		{ S2C, "221 bye\r\n" },
		{ 0, NULL },
	};
	struct drv d;

	drv_init(&d, SMTP, 25);
	for (const struct step *p = s; p->s; p++)
		drv_s(&d, p->dir, p->s);
	cr_assert_eq(d.status, GCP_PARSE_DONE, "QUIT after the refused DATA was parsed");
	drv_end(&d);
	expect_absent(&d, 0, "mail_from"); /* null reverse-path */
	expect_absent(&d, 0, "account");
	drv_free(&d);
}

Test(smtp, client_only_capture)
{
	/* zeek smtp-attachment-msg.pcap: no server bytes were captured. */
	static const struct step s[] = {
		{ C2S, "ehlo localhost.localdomain\r\n" },
		{ C2S, "mail FROM:<sender@example.com>\r\n" },
		{ C2S, "rcpt TO:<recipient@example.com>\r\n" },
		{ C2S, "data\r\n" },
		{ C2S, "Content-Type: multipart/mixed\r\nSubject: subject\r\n\r\nbody\r\n.\r\n" },
		{ 0, NULL },
	};
	struct drv d;

	drv_script(&d, SMTP, 25, s, 0);
	cr_assert_eq(nrec(&d), 1);
	expect_str(&d, 0, "account", "sender@example.com");
	expect_str(&d, 0, "subject", "subject");
	expect_str(&d, 0, "helo", "localhost.localdomain");
	drv_free(&d);
}

Test(smtp, long_lines)
{
	size_t n = 10000;
	char *big = malloc(n + 64);
	struct drv d;

	drv_init(&d, SMTP, 25);
	drv_s(&d, S2C, "220 mx ESMTP\r\n");
	drv_s(&d, C2S, "DATA\r\n");
	drv_s(&d, S2C, "354 go\r\n");
	/* A 10 kB message line is skipped without an anomaly... */
	memset(big, 'x', n);
	memcpy(big + n, "\r\n.\r\n", 6);
	drv_feed(&d, C2S, big, strlen(big), 1000);
	cr_assert_eq(anomalies(&d), 0);
	/* ...a 10 kB command line is an anomaly, and parsing goes on after it. */
	memcpy(big, "HELO ", 5);
	memcpy(big + n, "\r\nHELO ok\r\n", 12);
	drv_feed(&d, C2S, big, strlen(big), 0);
	cr_assert_eq(anomalies(&d), 1);
	drv_end(&d);
	expect_str(&d, 0, "helo", "ok");
	free(big);
	drv_free(&d);
}

Test(smtp, gap_resynchronises)
{
	struct drv d;

	drv_init(&d, SMTP, 25);
	drv_s(&d, S2C, "220 mx ESMTP\r\n");
	drv_s(&d, C2S, "HELO fir");
	drv_gap(&d, C2S, 100);
	drv_s(&d, C2S, "st\r\nMAIL FROM:<a@b>\r\n");
	drv_end(&d);
	cr_assert_eq(nrec(&d), 1);
	expect_absent(&d, 0, "helo");
	expect_str(&d, 0, "mail_from", "a@b");
	drv_free(&d);
}

Test(smtp, byte_at_a_time_matches_one_shot)
{
	expect_piecewise_same(SMTP, 25, auth_login);
	expect_piecewise_same(SMTP, 25, pipelined);
}

Test(smtp, probe)
{
	const struct gcp_dissector *p = SMTP;

	cr_assert_eq(p->probe((const uint8_t *)"220 mx ESMTP\r\n", 14, S2C), GCP_PROBE_YES);
	cr_assert_eq(p->probe((const uint8_t *)"220-mx ESMTP Exim\r\n", 19, S2C), GCP_PROBE_YES);
	cr_assert_eq(p->probe((const uint8_t *)"220-mx\r\n", 8, S2C), GCP_PROBE_MAYBE);
	cr_assert_eq(p->probe((const uint8_t *)"220 ProFTPD ready\r\n", 19, S2C), GCP_PROBE_NO);
	cr_assert_eq(p->probe((const uint8_t *)"22", 2, S2C), GCP_PROBE_MAYBE);
	cr_assert_eq(p->probe((const uint8_t *)"+OK ready\r\n", 11, S2C), GCP_PROBE_NO);
	cr_assert_eq(p->probe((const uint8_t *)"ehlo x\r\n", 8, C2S), GCP_PROBE_YES);
	cr_assert_eq(p->probe((const uint8_t *)"HEL", 3, C2S), GCP_PROBE_MAYBE);
	cr_assert_eq(p->probe((const uint8_t *)"GET / HTTP/1.1\r\n", 16, C2S), GCP_PROBE_NO);
}

/* ---- AUTH mechanisms and envelope edge cases ------------------------------------- */

/* RFC 2195 2: the response is base64 of "user SP hex-digest"; the account
 * is the user (which may itself hold spaces: the digest is the last word). */
static const struct step cram_md5[] = {
	{ S2C, "220 mx ESMTP\r\n" },
	{ C2S, "EHLO c\r\n" },
	{ S2C, "250-mx\r\n250 AUTH CRAM-MD5\r\n" },
	{ C2S, "AUTH CRAM-MD5\r\n" },
	{ S2C, "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UuZXhhbXBsZS5uZXQ+\r\n" },
	{ C2S, "am9lIHVzZXIgYjkxM2E2MDJjN2VkYTdhNDk1YjRlNmU3MzM0ZDM4OTA=\r\n" },
	{ S2C, "235 2.7.0 ok\r\n" },
	{ C2S, "MAIL FROM:<joe@example.net>\r\n" },
	{ S2C, "250 ok\r\n" },
	{ C2S, "QUIT\r\n" },
	{ S2C, "221 bye\r\n" },
	{ 0, NULL },
};

Test(smtp, auth_cram_md5_user_from_response)
{
	struct drv d;

	drv_script(&d, SMTP, 25, cram_md5, 0);
	cr_assert_eq(nrec(&d), 1);
	expect_str(&d, 0, "account", "joe user");
	expect_str(&d, 0, "auth_mech", "CRAM-MD5");
	expect_not_in_json(&d, 0, "b913a602");
	cr_assert_eq(get_uint(&d, 0, "commands"), 4);
	drv_free(&d);
	expect_piecewise_same(SMTP, 25, cram_md5);
}

/* A refused MAIL FROM is not the sender: the next, accepted one is. */
Test(smtp, refused_mail_from_replaced)
{
	static const struct step s[] = {
		{ S2C, "220 mx ESMTP\r\n" },
		{ C2S, "EHLO c\r\n" },
		{ S2C, "250 mx\r\n" },
		{ C2S, "MAIL FROM:<spoof@bank.example>\r\n" },
		{ S2C, "550 5.7.1 sender rejected\r\n" },
		{ C2S, "MAIL FROM:<real@c.example>\r\nRCPT TO:<x@mx.example>\r\n" },
		{ S2C, "250 ok\r\n250 ok\r\n" },
		{ C2S, "RSET\r\nMAIL FROM:<later@c.example>\r\n" },
		{ S2C, "250 ok\r\n250 ok\r\n" },
		{ 0, NULL },
	};
	struct drv d;

	drv_script(&d, SMTP, 25, s, 0);
	expect_str(&d, 0, "mail_from", "real@c.example");
	expect_str(&d, 0, "account", "real@c.example");
	drv_free(&d);
}

/* RFC 5321 4.1.2 / 3.6.1: a source route "@a,@b:" before the mailbox
 * must be accepted and should be ignored. */
Test(smtp, source_route_dropped)
{
	static const struct step s[] = {
		{ S2C, "220 mx ESMTP\r\n" },
		{ C2S, "MAIL FROM:<@relay.example:alice@a.example>\r\n" },
		{ S2C, "250 ok\r\n" },
		{ C2S, "RCPT TO:<@hosta.int,@jkl.org:userc@d.bar.org>\r\n" },
		{ S2C, "250 ok\r\n" },
		{ 0, NULL },
	};
	struct drv d;

	drv_script(&d, SMTP, 25, s, 0);
	expect_str(&d, 0, "mail_from", "alice@a.example");
	expect_strs(&d, 0, "rcpt_to", (const char *const[]){ "userc@d.bar.org", NULL });
	drv_free(&d);
}

/* More recipients than the record keeps: the rest are counted. */
Test(smtp, many_recipients_counted)
{
	struct drv d;
	char line[64];

	drv_init(&d, SMTP, 25);
	drv_s(&d, S2C, "220 mx ESMTP\r\n");
	drv_s(&d, C2S, "MAIL FROM:<a@b>\r\n");
	for (int i = 0; i < 40; i++) {
		snprintf(line, sizeof(line), "RCPT TO:<user%02d@example.org>\r\n", i);
		drv_s(&d, C2S, line);
	}
	drv_end(&d);
	const msgpack_object *r = get(&d, 0, "rcpt_to");

	cr_assert_not_null(r);
	cr_assert_eq(r->via.array.size, 32);
	cr_assert_eq(get_uint(&d, 0, "rcpt_to_dropped"), 8);
	drv_free(&d);
}

/* RFC 7677 3 exchange with an initial response: the user name is in the
 * client-first message ("=2C" and "=3D" are escaped "," and "="). */
static const struct step scram[] = {
	{ S2C, "220 mx ESMTP\r\n" },
	{ C2S, "EHLO c\r\n" },
	{ S2C, "250-mx\r\n250 AUTH SCRAM-SHA-256\r\n" },
	{ C2S, "AUTH SCRAM-SHA-256 biwsbj11cz0yQ2VyPTNEeCxyPXJPcHJOR2Z3RWJlUldnYk5Fa3FP\r\n" },
	{ S2C, "334 cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFdVYTJSYVRDQWZ1eEZJbGopaE5sRiRrMCxzPVcy"
	       "MlphSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQwOTY=\r\n" },
	{ C2S, "Yz1iaXdzLHI9ck9wck5HZndFYmVSV2diTkVrcU8laHZZRHBXVWEyUmFUQ0FmdXhGSWxqKWhObEYkazAs"
	       "cD1kSHpiWmFwV0lrNGpVaE4rVXRlOXl0YWc5empmTUhnc3FtbWl6N0FuZFZRPQ==\r\n" },
	{ S2C, "334 dj02cnJpVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJzamw5NUc0PQ==\r\n" },
	{ C2S, "\r\n" },
	{ S2C, "235 ok\r\n" },
	{ C2S, "QUIT\r\n" },
	{ S2C, "221 bye\r\n" },
	{ 0, NULL },
};

Test(smtp, auth_scram_user_from_client_first)
{
	struct drv d;

	drv_script(&d, SMTP, 587, scram, 0);
	expect_str(&d, 0, "account", "us,er=x");
	expect_str(&d, 0, "auth_mech", "SCRAM-SHA-256");
	cr_assert_eq(get_uint(&d, 0, "commands"), 3);
	drv_free(&d);
	expect_piecewise_same(SMTP, 587, scram);
}
