/* SPDX-License-Identifier: BSD-3-Clause */
/* SMTP dissector (RFC 5321): envelope, AUTH (RFC 4954), STARTTLS
 * (RFC 3207), pipelining (RFC 2920), DATA headers (RFC 5322) and BDAT
 * (RFC 3030); one mail record per session. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dissect.h"
#include "mail_common.h"

#define SMTP_QUEUE 64         /* commands awaiting a reply (pipelining) */
#define SMTP_RCPT_MAX 32
#define SMTP_RCPT_ARENA 2048
#define SMTP_FIELD_CAP 255
#define SMTP_SUBJECT_CAP 512

/* C_MAIL: the MAIL whose reverse-path is kept in from. */
enum smtp_cmd { C_OTHER = 0, C_DATA, C_DOT, C_BDAT, C_AUTH, C_STARTTLS, C_QUIT, C_MAIL };

/* What the client is sending (RFC 5321 3.3: commands, then message data). */
enum smtp_phase { P_CMD = 0, P_HDR, P_BODY, P_BDAT };
enum smtp_hfield { H_NONE = 0, H_SUBJECT, H_MSGID };

struct smtp_state {
	struct mail_sess s; /* first */
	uint8_t phase, hfield;
	bool data_seen;     /* a message line since DATA: a refusal came too late */
	bool first_done;    /* headers of the first message were read */
	bool greeted;       /* the server greeting (RFC 5321 3.1) went by */
	bool from_refused;  /* the kept MAIL FROM got 4yz/5yz: the next one replaces it */
	uint64_t bdat_left;
	uint32_t rcpt_dropped; /* recipients over SMTP_RCPT_MAX / the arena */
	uint8_t q[SMTP_QUEUE];
	uint8_t qhead, qlen;
	uint8_t helo_len, from_len, msgid_len, nrcpt;
	uint16_t subj_len, rcpt_used;
	uint16_t rcpt_off[SMTP_RCPT_MAX];
	uint8_t rcpt_len[SMTP_RCPT_MAX];
	char helo[SMTP_FIELD_CAP];
	char from[SMTP_FIELD_CAP];
	char msgid[SMTP_FIELD_CAP];
	char subject[SMTP_SUBJECT_CAP];
	char rcpt[SMTP_RCPT_ARENA];
};

/* ---- reply queue ------------------------------------------------------------- */

static void q_push(struct smtp_state *st, struct gcp_dissect_ctx *ctx, enum smtp_cmd c)
{
	if (st->qlen == SMTP_QUEUE) {
		gcp_dctx_anomaly(ctx); /* more outstanding than any server allows */
		return;
	}
	st->q[(st->qhead + st->qlen) % SMTP_QUEUE] = (uint8_t)c;
	st->qlen++;
}

static int q_front(const struct smtp_state *st)
{
	return st->qlen ? st->q[st->qhead] : -1;
}

static void q_pop(struct smtp_state *st)
{
	st->qhead = (uint8_t)((st->qhead + 1) % SMTP_QUEUE);
	st->qlen--;
}

/* ---- record -------------------------------------------------------------------- */

static void smtp_emit(struct smtp_state *st, struct gcp_dissect_ctx *ctx)
{
	struct mail_view from = { (const uint8_t *)st->from, st->from_len };

	/* C4-SCHEMA: the account is the AUTH user, else the MAIL FROM address. */
	if (!st->s.account_len)
		mail_set_account(&st->s, from);
	struct gcp_rb *rb = mail_record_begin(&st->s, ctx);

	if (!rb)
		return;
	if (st->helo_len)
		gcp_rb_kv_str(rb, "helo", st->helo, st->helo_len);
	if (st->from_len)
		gcp_rb_kv_str(rb, "mail_from", st->from, st->from_len);
	if (st->nrcpt) {
		gcp_rb_key(rb, "rcpt_to");
		gcp_rb_array_begin(rb);
		for (unsigned i = 0; i < st->nrcpt; i++)
			gcp_rb_str(rb, st->rcpt + st->rcpt_off[i], st->rcpt_len[i]);
		gcp_rb_end(rb);
	}
	if (st->rcpt_dropped)
		gcp_rb_kv_uint(rb, "rcpt_to_dropped", st->rcpt_dropped);
	if (st->subj_len)
		gcp_rb_kv_str(rb, "subject", st->subject, st->subj_len);
	if (st->msgid_len)
		gcp_rb_kv_str(rb, "message_id", st->msgid, st->msgid_len);
	gcp_dctx_record_end(ctx);
}

static void smtp_end(struct smtp_state *st, struct gcp_dissect_ctx *ctx)
{
	smtp_emit(st, ctx);
	st->s.done = true;
}

/* ---- client: commands -------------------------------------------------------------- */

static uint8_t copy_field(char *dst, size_t cap, struct mail_view v)
{
	size_t n = v.n < cap ? v.n : cap;

	memcpy(dst, v.p, n);
	return (uint8_t)n;
}

/* RFC 5321 4.1.2: Path = "<" [ A-d-l ":" ] Mailbox ">". The source route
 * ("@relay,@relay:") must be accepted and should be ignored (3.6.1). */
static struct mail_view drop_route(struct mail_view v)
{
	const uint8_t *colon = v.n && v.p[0] == '@' ? memchr(v.p, ':', v.n) : NULL;

	if (colon) {
		v.n -= (uint32_t)(colon + 1 - v.p);
		v.p = colon + 1;
	}
	return v;
}

/* Reverse-path / Forward-path (a space after the colon is tolerated, as
 * many clients send one). */
static struct mail_view path_arg(struct mail_view rest, size_t kwlen)
{
	struct mail_view v = { rest.p + kwlen, rest.n - (uint32_t)kwlen }, tail;

	v = mail_trim(v);
	if (v.n && v.p[0] == '<') {
		const uint8_t *gt = memchr(v.p, '>', v.n);

		v.p++;
		v.n = gt ? (uint32_t)(gt - v.p) : v.n - 1;
		return drop_route(v);
	}
	return mail_word(v, &tail);
}

static void add_rcpt(struct smtp_state *st, struct mail_view v)
{
	if (!v.n)
		return;
	uint32_t n = v.n < SMTP_FIELD_CAP ? v.n : SMTP_FIELD_CAP;

	for (unsigned i = 0; i < st->nrcpt; i++)
		if (st->rcpt_len[i] == n && !memcmp(st->rcpt + st->rcpt_off[i], v.p, n))
			return;
	if (st->nrcpt == SMTP_RCPT_MAX || st->rcpt_used + n > SMTP_RCPT_ARENA) {
		st->rcpt_dropped++; /* reported in the record, not silently lost */
		return;
	}
	memcpy(st->rcpt + st->rcpt_used, v.p, n);
	st->rcpt_off[st->nrcpt] = st->rcpt_used;
	st->rcpt_len[st->nrcpt++] = (uint8_t)n;
	st->rcpt_used = (uint16_t)(st->rcpt_used + n);
}

/* "BDAT" SP chunk-size [SP "LAST"] (RFC 3030 2). */
static void cmd_bdat(struct smtp_state *st, struct gcp_dissect_ctx *ctx, struct mail_view rest)
{
	struct mail_view tail, num = mail_word(rest, &tail);
	uint64_t n = 0;

	if (!num.n || num.n > 18) {
		gcp_dctx_anomaly(ctx);
		return;
	}
	for (uint32_t i = 0; i < num.n; i++) {
		if (num.p[i] < '0' || num.p[i] > '9') {
			gcp_dctx_anomaly(ctx);
			return;
		}
		n = n * 10 + (uint64_t)(num.p[i] - '0');
	}
	st->bdat_left = n;
	st->phase = n ? P_BDAT : P_CMD;
}

static void cmd_auth(struct smtp_state *st, struct mail_view rest)
{
	struct mail_view ir, mech = mail_word(rest, &ir);

	ir = mail_trim(ir);
	mail_sasl_start(&st->s, mech, &ir);
}

static void smtp_command(struct smtp_state *st, struct gcp_dissect_ctx *ctx, struct mail_view line)
{
	struct mail_view rest, verb = mail_word(line, &rest), tail;
	enum smtp_cmd c = C_OTHER;

	st->s.commands++;
	if (mail_ieq(verb, "EHLO") || mail_ieq(verb, "HELO")) {
		st->helo_len = copy_field(st->helo, sizeof(st->helo), mail_word(rest, &tail));
	} else if (mail_ieq(verb, "MAIL") && mail_iprefix(rest, "FROM:")) {
		/* The session's sender: the first MAIL FROM the server did not refuse. */
		if (!st->from_len || st->from_refused) {
			c = C_MAIL;
			st->from_refused = false;
			st->from_len = copy_field(st->from, sizeof(st->from), path_arg(rest, 5));
		}
	} else if (mail_ieq(verb, "RCPT") && mail_iprefix(rest, "TO:")) {
		add_rcpt(st, path_arg(rest, 3));
	} else if (mail_ieq(verb, "DATA")) {
		/* Enter message mode now (a 354 may be missing from the capture);
		 * a refusal that comes before any message line undoes it. */
		c = C_DATA;
		st->phase = P_HDR;
		st->hfield = H_NONE;
		st->data_seen = false;
	} else if (mail_ieq(verb, "BDAT")) {
		c = C_BDAT;
		cmd_bdat(st, ctx, rest);
	} else if (mail_ieq(verb, "AUTH")) {
		c = C_AUTH;
		cmd_auth(st, rest);
	} else if (mail_ieq(verb, "STARTTLS")) {
		c = C_STARTTLS;
	} else if (mail_ieq(verb, "QUIT")) {
		c = C_QUIT;
	}
	q_push(st, ctx, c);
}

/* ---- client: message data ----------------------------------------------------------- */

/* Append unfolded text (RFC 5322 2.2.3: drop the CRLF, keep the WSP). */
static void hdr_append(char *dst, uint16_t *len, size_t cap, struct mail_view v)
{
	size_t room = cap - *len, n = v.n < room ? v.n : room;

	memcpy(dst + *len, v.p, n);
	*len = (uint16_t)(*len + n);
}

static void hdr_field(struct smtp_state *st, struct mail_view line)
{
	const uint8_t *colon = memchr(line.p, ':', line.n);

	st->hfield = H_NONE;
	if (!colon)
		return;
	struct mail_view name = { line.p, (uint32_t)(colon - line.p) };
	struct mail_view val = { colon + 1, (uint32_t)(line.p + line.n - colon - 1) };

	name = mail_trim(name);
	val = mail_trim(val);
	if (mail_ieq(name, "Subject") && !st->subj_len) {
		st->hfield = H_SUBJECT;
		hdr_append(st->subject, &st->subj_len, sizeof(st->subject), val);
	} else if (mail_ieq(name, "Message-ID") && !st->msgid_len) {
		uint16_t n = 0;

		st->hfield = H_MSGID;
		hdr_append(st->msgid, &n, sizeof(st->msgid), val);
		st->msgid_len = (uint8_t)n;
	}
}

static void hdr_line(struct smtp_state *st, struct mail_view line)
{
	if (!line.n) {
		st->phase = P_BODY; /* RFC 5322 2.1: the blank line ends the header */
		return;
	}
	if (st->first_done)
		return;
	if (line.p[0] != ' ' && line.p[0] != '\t') {
		hdr_field(st, line);
	} else if (st->hfield == H_SUBJECT) {
		hdr_append(st->subject, &st->subj_len, sizeof(st->subject), line);
	} else if (st->hfield == H_MSGID) {
		uint16_t n = st->msgid_len;

		if (!n)
			line = mail_trim(line); /* "Message-ID:" CRLF SP <id> */
		hdr_append(st->msgid, &n, sizeof(st->msgid), line);
		st->msgid_len = (uint8_t)n;
	}
}

static void data_line(struct smtp_state *st, struct gcp_dissect_ctx *ctx, struct mail_view line)
{
	/* RFC 5321 4.1.1.4: CRLF "." CRLF ends the message data. */
	if (line.n == 1 && line.p[0] == '.') {
		st->phase = P_CMD;
		st->first_done = true;
		q_push(st, ctx, C_DOT);
		return;
	}
	st->data_seen = true;
	if (st->phase == P_HDR)
		hdr_line(st, line);
}

/* ---- server replies --------------------------------------------------------------- */

static void smtp_reply(struct smtp_state *st, struct gcp_dissect_ctx *ctx, struct mail_view line)
{
	if (line.n < 3 || line.p[0] < '1' || line.p[0] > '5' || line.p[1] < '0' ||
	    line.p[1] > '9' || line.p[2] < '0' || line.p[2] > '9') {
		gcp_dctx_anomaly(ctx);
		return;
	}
	unsigned code = (unsigned)(line.p[0] - '0') * 100 + (unsigned)(line.p[1] - '0') * 10 +
			(unsigned)(line.p[2] - '0');

	if (line.n > 3 && line.p[3] == '-')
		return; /* RFC 5321 4.2.1: multiline reply, wait for the last line */
	int front = q_front(st);
	struct mail_view text = { line.p + 3, line.n - 3 };

	if (front == C_AUTH && code == 334) {
		mail_sasl_challenge(&st->s, text); /* RFC 4954 4 */
		return;
	}
	/* The greeting answers no command; it may come after the client's
	 * first command when the engine held it back while probing. */
	if (!st->greeted && code == 220) {
		st->greeted = true;
		return;
	}
	st->greeted = true;
	if (front < 0)
		return; /* an unsolicited 421 */
	q_pop(st);
	switch (front) {
	case C_AUTH:
		mail_sasl_end(&st->s);
		break;
	case C_MAIL:
		st->from_refused = code >= 400;
		break;
	case C_DATA:
		if (code != 354 && (st->phase == P_HDR || st->phase == P_BODY) && !st->data_seen)
			st->phase = P_CMD;
		break;
	case C_STARTTLS:
		if (code == 220) {
			st->s.enc = MAIL_ENC_STARTTLS; /* RFC 3207 4: TLS starts now */
			smtp_end(st, ctx);
		}
		break;
	case C_QUIT:
		if (code / 100 == 2)
			smtp_end(st, ctx);
		break;
	default:
		break;
	}
}

/* ---- the dissector ----------------------------------------------------------------- */

static void smtp_line(void *state, struct gcp_dissect_ctx *ctx, int dir, struct mail_view line)
{
	struct smtp_state *st = state;

	if (dir == GCP_DIR_S2C)
		smtp_reply(st, ctx, line);
	else if (st->phase == P_HDR || st->phase == P_BODY)
		data_line(st, ctx, line);
	else if (!mail_sasl_client(&st->s, line) && line.n)
		smtp_command(st, ctx, line);
}

static void smtp_long(void *state, struct gcp_dissect_ctx *ctx, int dir)
{
	struct smtp_state *st = state;

	if (dir == GCP_DIR_C2S && (st->phase == P_HDR || st->phase == P_BODY)) {
		st->data_seen = true; /* RFC 5322 allows 998; longer text is skipped */
		st->hfield = H_NONE;
		return;
	}
	gcp_dctx_anomaly(ctx);
}

static uint32_t smtp_raw(void *state, int dir, const uint8_t *p, uint32_t n)
{
	struct smtp_state *st = state;

	(void)p;
	if (dir != GCP_DIR_C2S || st->phase != P_BDAT)
		return 0;
	uint32_t k = st->bdat_left < n ? (uint32_t)st->bdat_left : n;

	st->bdat_left -= k;
	if (!st->bdat_left)
		st->phase = P_CMD;
	return k;
}

static bool smtp_gap(void *state, int dir, uint32_t n)
{
	struct smtp_state *st = state;

	if (dir == GCP_DIR_C2S && st->phase == P_BDAT && n <= st->bdat_left) {
		st->bdat_left -= n;
		if (!st->bdat_left)
			st->phase = P_CMD;
		return true;
	}
	if (dir == GCP_DIR_C2S && st->phase == P_BDAT)
		st->phase = P_CMD;
	return false;
}

static const struct mail_ops smtp_ops = {
	.raw = smtp_raw,
	.gap = smtp_gap,
	.line = smtp_line,
	.longline = smtp_long,
};

static enum gcp_probe_result smtp_probe(const uint8_t *data, uint32_t len, int dir)
{
	static const char *const client[] = { "EHLO", "HELO", NULL };

	if (dir == GCP_DIR_C2S)
		return mail_probe_words(data, len, client);
	/* RFC 5321 4.2: "220" SP / "220-" greeting. FTP greets with 220 too:
	 * without "SMTP" in the line the client's EHLO/HELO decides. */
	static const char greet[] = "220";

	for (uint32_t i = 0; i < 3; i++) {
		if (i == len)
			return GCP_PROBE_MAYBE;
		if (data[i] != (uint8_t)greet[i])
			return GCP_PROBE_NO;
	}
	if (len == 3)
		return GCP_PROBE_MAYBE;
	if (data[3] != ' ' && data[3] != '-')
		return GCP_PROBE_NO;
	const uint8_t *lf = memchr(data, '\n', len);
	struct mail_view line = { data, lf ? (uint32_t)(lf - data) : len };

	if (mail_icontains(line, "SMTP"))
		return GCP_PROBE_YES;
	return mail_icontains(line, "FTP") ? GCP_PROBE_NO : GCP_PROBE_MAYBE;
}

static void smtp_init(void *state, struct gcp_dissect_ctx *ctx)
{
	(void)ctx;
	mail_sess_init(state, MAIL_SMTP);
}

static struct gcp_parse_result smtp_parse(void *state, struct gcp_dissect_ctx *ctx, int dir,
					  const uint8_t *data, uint32_t len, unsigned flags)
{
	return mail_parse(&smtp_ops, state, ctx, dir, data, len, flags);
}

static void smtp_fini(void *state, struct gcp_dissect_ctx *ctx)
{
	smtp_emit(state, ctx);
}

static const uint16_t smtp_ports[] = { 25, 587, 2525 };

const struct gcp_dissector gcp_dissector_smtp = {
	.name = "smtp",
	.record_types = GCP_REC_MAIL,
	.l4_mask = GCP_L4_TCP,
	.ports = smtp_ports,
	.nports = sizeof(smtp_ports) / sizeof(smtp_ports[0]),
	.state_size = sizeof(struct smtp_state),
	.probe = smtp_probe,
	.init = smtp_init,
	.parse = smtp_parse,
	.fini = smtp_fini,
};
