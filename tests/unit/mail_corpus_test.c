/* SPDX-License-Identifier: BSD-3-Clause */
/* Every ../shared/corpus/mail capture through the public API (capture ->
 * engine -> mail records), checked against the truth taken from tshark
 * and corpus/SOURCES.md. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcprobe/gcprobe.h"

#define BURST 64
#define MAX_RECS 64

/*
 * The truth per session (client port). Derived with
 *   tshark -r F -Y smtp -T fields -e tcp.srcport -e smtp.req.command
 *          -e smtp.req.parameter -e smtp.auth.username
 *   tshark -r F -Y pop.request -T fields -e pop.request.command -e pop.request.parameter
 *   tshark -r F -Y imap -T fields -e imap.request -e imap.request.username
 *   tshark -r F -Y tls.handshake -T fields -e tcp.dstport -e tls.handshake.type
 * tshark is silent on: the POP3 AUTH PLAIN user (shown only as base64:
 * decoded by hand, "\0digitalinvestigator@networksims.com\0napier..."),
 * STARTTLS acceptance (the 220 / +OK / ". OK" reply read by hand) and the
 * SMTP account when there is no AUTH (C4-SCHEMA: MAIL FROM).
 */
struct want {
	uint16_t cport;
	const char *type, *account, *enc, *helo, *from;
	const char *rcpt[4];
};

struct file_truth {
	const char *file;
	unsigned nrec;
	struct want w[6];
};

static const struct file_truth truth[] = {
	{ "ndpi-imap-login.pcap", 1, { { 46045, "imap", "samir", "none" } } },
	{ "ndpi-imaps-993.pcapng", 2,
	  { { 50506, "imap", NULL, "tls" }, { 51529, "imap", NULL, "tls" } } },
	{ "ndpi-pops-995.pcapng", 1, { { 55077, "pop3", NULL, "tls" } } },
	{ "ndpi-smtps-465.pcapng", 1, { { 37682, "smtp", NULL, "tls" } } },
	{ "zeek-imap-starttls.pcap", 1, { { 49640, "imap", NULL, "starttls" } } },
	/* Two more connections carry no payload at all: no session. */
	{ "zeek-pop3-auth-plain-retr.pcap", 5,
	  { { 26272, "pop3", NULL, "none" },
	    { 26284, "pop3", "digitalinvestigator@networksims.com", "none" },
	    { 26304, "pop3", NULL, "none" },
	    { 26308, "pop3", "digitalinvestigator@networksims.com", "none" },
	    { 26383, "pop3", "digitalinvestigator@networksims.com", "none" } } },
	{ "zeek-pop3-stls.pcap", 1, { { 54775, "pop3", NULL, "starttls" } } },
	{ "zeek-smtp-auth-login-two-sessions.pcap", 2,
	  { { 1470, "smtp", "gurpartap@patriots.in", "none", "GP", "gurpartap@patriots.in",
	      { "raj_deol2002in@yahoo.co.in" } },
	    { 49648, "smtp", "albert@example.com", "none", "[192.168.133.100]",
	      "albert@example.com",
	      { "ericlim220@yahoo.com", "felica4uu@hotmail.com", "davis_mark1@outlook.com" } } } },
	{ "zeek-smtp-ipv6-mime-attachment.pcap", 1,
	  { { 56660, "smtp", "sender@example.com", "none", "localhost.localdomain",
	      "sender@example.com", { "recipient@example.com" } } } },
	{ "zeek-smtp-starttls.pcap", 1,
	  { { 54170, "smtp", NULL, "starttls", "openssl.client.net" } } },
};

/* ---- running a capture ------------------------------------------------------ */

struct recs {
	unsigned n;
	uint8_t *data[MAX_RECS];
	size_t len[MAX_RECS];
};

static void on_record(const struct gcp_record *rec, void *user)
{
	struct recs *r = user;

	cr_assert_eq(rec->type, GCP_REC_MAIL);
	cr_assert_lt(r->n, MAX_RECS);
	r->data[r->n] = malloc(rec->len);
	memcpy(r->data[r->n], rec->data, rec->len);
	r->len[r->n++] = rec->len;
}

static void run_capture(const char *path, struct recs *r)
{
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;
	struct gcp_engine *eng;
	struct gcp_capture *cap;
	struct gcp_packet pkts[BURST];
	int n;

	o.node_name = "test";
	o.max_flows = 1024;
	cr_assert_eq(gcp_capture_open_file(path, &cap), 0, "open %s", path);
	cr_assert_eq(gcp_engine_create(&o, &eng), 0);
	cr_assert_eq(gcp_engine_subscribe(eng, GCP_REC_MAIL, on_record, r), 0);
	while ((n = gcp_capture_rx_burst(cap, pkts, BURST)) > 0)
		gcp_engine_feed_burst(eng, pkts, (unsigned)n);
	cr_assert_eq(n, 0, "%s: read error", path);
	gcp_engine_flush(eng);
	gcp_engine_destroy(eng);
	gcp_capture_close(cap);
}

/* ---- checking ---------------------------------------------------------------- */

static const msgpack_object *key(const msgpack_object *m, const char *k)
{
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *o = &m->via.map.ptr[i].key;

		if (o->via.str.size == strlen(k) && !memcmp(o->via.str.ptr, k, o->via.str.size))
			return &m->via.map.ptr[i].val;
	}
	return NULL;
}

static void str_is(const char *file, const msgpack_object *m, const char *k, const char *want)
{
	const msgpack_object *o = key(m, k);

	if (!want) {
		cr_expect_null(o, "%s: %s should be absent", file, k);
		return;
	}
	cr_assert_not_null(o, "%s: no %s (want %s)", file, k, want);
	cr_assert_eq(o->type, MSGPACK_OBJECT_STR);
	cr_expect(o->via.str.size == strlen(want) && !memcmp(o->via.str.ptr, want, strlen(want)),
		  "%s: %s \"%.*s\" != \"%s\"", file, k, (int)o->via.str.size, o->via.str.ptr, want);
}

static void rcpt_is(const char *file, const msgpack_object *m, const char *const *want)
{
	const msgpack_object *o = key(m, "rcpt_to");
	uint32_t n = 0;

	while (n < 4 && want[n])
		n++;
	if (!n) {
		cr_expect_null(o, "%s: rcpt_to should be absent", file);
		return;
	}
	cr_assert_not_null(o, "%s: no rcpt_to", file);
	cr_assert_eq(o->via.array.size, n, "%s: %u recipients, want %u", file,
		     o->via.array.size, n);
	for (uint32_t i = 0; i < n; i++)
		cr_expect(o->via.array.ptr[i].via.str.size == strlen(want[i]) &&
			  !memcmp(o->via.array.ptr[i].via.str.ptr, want[i], strlen(want[i])),
			  "%s: rcpt_to[%u] differs from %s", file, i, want[i]);
}

static void check_session(const char *file, const struct recs *r, const struct want *w)
{
	for (unsigned i = 0; i < r->n; i++) {
		msgpack_unpacked u;

		msgpack_unpacked_init(&u);
		cr_assert_eq(msgpack_unpack_next(&u, (const char *)r->data[i], r->len[i], NULL),
			     MSGPACK_UNPACK_SUCCESS);
		const msgpack_object *port = key(&u.data, "src_port");

		if (port && port->via.u64 == w->cport) {
			str_is(file, &u.data, "type", "mail");
			str_is(file, &u.data, "mail_type", w->type);
			str_is(file, &u.data, "account", w->account);
			str_is(file, &u.data, "encryption", w->enc);
			if (w->helo)
				str_is(file, &u.data, "helo", w->helo);
			str_is(file, &u.data, "mail_from", w->from);
			rcpt_is(file, &u.data, w->rcpt);
			msgpack_unpacked_destroy(&u);
			return;
		}
		msgpack_unpacked_destroy(&u);
	}
	cr_assert_fail("%s: no mail record for client port %u", file, w->cport);
}

static void check_file(const struct file_truth *t)
{
	char path[512];
	struct recs r = { 0 };

	snprintf(path, sizeof(path), "%s/mail/%s", GCP_CORPUS_DIR, t->file);
	run_capture(path, &r);
	cr_expect_eq(r.n, t->nrec, "%s: %u mail records, want %u", t->file, r.n, t->nrec);
	for (unsigned i = 0; i < t->nrec; i++)
		check_session(t->file, &r, &t->w[i]);
	for (unsigned i = 0; i < r.n; i++)
		free(r.data[i]);
}

static const struct file_truth *find_truth(const char *name)
{
	for (size_t i = 0; i < sizeof(truth) / sizeof(truth[0]); i++)
		if (!strcmp(truth[i].file, name))
			return &truth[i];
	return NULL;
}

Test(mail_corpus, every_capture_yields_the_right_records)
{
	char dir[512];
	unsigned checked = 0;

	snprintf(dir, sizeof(dir), "%s/mail", GCP_CORPUS_DIR);
	DIR *d = opendir(dir);

	cr_assert_not_null(d, "no corpus at %s", dir);
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		const struct file_truth *t = find_truth(e->d_name);

		cr_expect_not_null(t, "corpus file %s has no truth in this test", e->d_name);
		if (t) {
			check_file(t);
			checked++;
		}
	}
	closedir(d);
	cr_assert_eq(checked, sizeof(truth) / sizeof(truth[0]), "corpus files missing");
}
