/* SPDX-License-Identifier: BSD-3-Clause */
/* IMAP dissector (RFC 9051): LOGIN (atom, quoted or literal user name,
 * RFC 7888 LITERAL+ too), AUTHENTICATE (SASL, RFC 4959 initial response),
 * STARTTLS, literals in both directions skipped by count (a refused
 * synchronizing literal is not waited for); one mail record per session. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../smtp/mail_common.h"
#include "dissect.h"

#define IMAP_TAG_CAP 32

struct imap_tag {
	uint8_t len;
	char s[IMAP_TAG_CAP];
};

struct imap_state {
	struct mail_sess s;   /* first */
	uint64_t lit[2];      /* literal bytes still to come per direction */
	bool cont[2];         /* the next line goes on with a command/response */
	bool lit_user;        /* the client literal is the LOGIN user name */
	bool lit_wait;        /* a synchronizing client literal awaits "+" (none sent yet) */
	struct imap_tag cmd;  /* tag of the client command being read */
	struct imap_tag tls, auth, logout;
};

/* ---- helpers ------------------------------------------------------------------- */

static void tag_set(struct imap_tag *t, struct mail_view v)
{
	t->len = (uint8_t)(v.n <= IMAP_TAG_CAP ? v.n : 0);
	memcpy(t->s, v.p, t->len);
}

static bool tag_is(const struct imap_tag *t, struct mail_view v)
{
	return t->len && t->len == v.n && !memcmp(t->s, v.p, v.n);
}

/* RFC 9051 4.3 / RFC 7888: a line ending in "{" number ["+"] "}" is
 * followed by that many bytes of literal data. Returns -1 if none;
 * *sync: no "+", the sender waits for the other side's go-ahead. */
static int64_t trailing_literal(struct mail_view l, bool *sync)
{
	if (l.n < 3 || l.p[l.n - 1] != '}')
		return -1;
	uint32_t i = l.n - 1;

	*sync = l.p[i - 1] != '+';
	if (!*sync)
		i--;
	uint32_t end = i;

	while (i > 0 && l.p[i - 1] >= '0' && l.p[i - 1] <= '9')
		i--;
	if (i == 0 || l.p[i - 1] != '{' || i == end || end - i > 12)
		return -1;
	int64_t n = 0;

	for (; i < end; i++)
		n = n * 10 + (l.p[i] - '0');
	return n;
}

static void after_line(struct imap_state *st, int dir, struct mail_view line)
{
	bool sync;
	int64_t n = trailing_literal(line, &sync);

	if (n < 0)
		return;
	st->lit[dir] = (uint64_t)n;
	st->cont[dir] = true;
	if (dir == GCP_DIR_C2S)
		st->lit_wait = sync && n > 0;
}

/* RFC 9051 4.3: a tagged NO/BAD instead of "+" refuses the literal; the
 * client does not send it, what follows is its next command. */
static void literal_refused(struct imap_state *st)
{
	st->lit[GCP_DIR_C2S] = 0;
	st->cont[GCP_DIR_C2S] = false;
	st->lit_user = false;
	st->lit_wait = false;
}

/* RFC 9051 9: quoted = DQUOTE *QUOTED-CHAR DQUOTE, "\" escapes '"' and '\'. */
static void quoted_user(struct imap_state *st, struct mail_view v)
{
	char buf[MAIL_ACCOUNT_CAP];
	uint32_t n = 0;

	for (uint32_t i = 1; i < v.n && v.p[i] != '"' && n < sizeof(buf); i++) {
		if (v.p[i] == '\\' && i + 1 < v.n)
			i++;
		buf[n++] = (char)v.p[i];
	}
	struct mail_view u = { (const uint8_t *)buf, n };

	mail_set_account(&st->s, u);
}

/* LOGIN SP userid SP password (RFC 9051 6.2.3); userid is an astring. */
static void cmd_login(struct imap_state *st, struct mail_view args)
{
	struct mail_view rest, user = mail_word(args, &rest);
	struct mail_view name = { (const uint8_t *)"LOGIN", 5 };
	int64_t n;

	bool sync;

	mail_set_mech(&st->s, name);
	if (!user.n)
		return;
	if (user.p[0] == '"') {
		quoted_user(st, args);
	} else if (user.p[0] == '{' && !rest.n && (n = trailing_literal(user, &sync)) >= 0) {
		st->lit_user = n > 0; /* the next literal is the user name ({0}: empty) */
		st->s.account_len = 0;
	} else {
		mail_set_account(&st->s, user);
	}
}

/* ---- client -------------------------------------------------------------------- */

static void imap_command(struct imap_state *st, struct mail_view line)
{
	struct mail_view rest, tag = mail_word(line, &rest), args, ir;
	struct mail_view cmd = mail_word(rest, &args);

	st->s.commands++;
	tag_set(&st->cmd, tag);
	if (mail_ieq(cmd, "LOGIN")) {
		cmd_login(st, args);
	} else if (mail_ieq(cmd, "AUTHENTICATE")) {
		struct mail_view mech = mail_word(args, &ir);

		tag_set(&st->auth, tag);
		mail_sasl_start(&st->s, mech, &ir);
	} else if (mail_ieq(cmd, "STARTTLS")) {
		tag_set(&st->tls, tag);
	} else if (mail_ieq(cmd, "LOGOUT")) {
		tag_set(&st->logout, tag);
	}
}

static void imap_client(struct imap_state *st, struct mail_view line)
{
	if (st->cont[GCP_DIR_C2S])
		st->cont[GCP_DIR_C2S] = false; /* rest of a command after a literal */
	else if (mail_sasl_client(&st->s, line) || !line.n)
		return;
	else
		imap_command(st, line);
	after_line(st, GCP_DIR_C2S, line);
}

/* ---- server -------------------------------------------------------------------- */

static void imap_end(struct imap_state *st, struct gcp_dissect_ctx *ctx)
{
	if (mail_record_begin(&st->s, ctx))
		gcp_dctx_record_end(ctx);
	st->s.done = true;
}

static void imap_tagged(struct imap_state *st, struct gcp_dissect_ctx *ctx,
			struct mail_view tag, struct mail_view rest)
{
	struct mail_view tail, status = mail_word(rest, &tail);
	bool ok = mail_ieq(status, "OK");

	if (st->lit_wait && tag_is(&st->cmd, tag))
		literal_refused(st);
	if (tag_is(&st->auth, tag)) {
		st->auth.len = 0;
		mail_sasl_end(&st->s);
	}
	if (tag_is(&st->tls, tag)) {
		st->tls.len = 0;
		if (ok) {
			st->s.enc = MAIL_ENC_STARTTLS; /* RFC 9051 6.2.1 */
			imap_end(st, ctx);
		}
	} else if (tag_is(&st->logout, tag)) {
		imap_end(st, ctx);
	}
}

static void imap_server(struct imap_state *st, struct gcp_dissect_ctx *ctx, struct mail_view line)
{
	struct mail_view rest, tag;

	if (st->cont[GCP_DIR_S2C]) {
		st->cont[GCP_DIR_S2C] = false;
	} else if (line.n && line.p[0] == '+') {
		/* RFC 9051 7.5: continuation request; in AUTHENTICATE a challenge. */
		struct mail_view text = { line.p + 1, line.n - 1 };

		st->lit_wait = false; /* go ahead with the literal */
		if (st->auth.len)
			mail_sasl_challenge(&st->s, text);
		return;
	} else if (line.n && line.p[0] != '*') {
		tag = mail_word(line, &rest);
		imap_tagged(st, ctx, tag, rest);
		if (st->s.done)
			return;
	}
	after_line(st, GCP_DIR_S2C, line);
}

/* ---- the dissector ---------------------------------------------------------------- */

static void imap_line(void *state, struct gcp_dissect_ctx *ctx, int dir, struct mail_view line)
{
	if (dir == GCP_DIR_S2C)
		imap_server(state, ctx, line);
	else
		imap_client(state, line);
}

static void imap_long(void *state, struct gcp_dissect_ctx *ctx, int dir)
{
	struct imap_state *st = state;

	st->cont[dir] = false;
	gcp_dctx_anomaly(ctx);
}

/* Literal bytes: skipped by count; a LOGIN user name literal is kept. */
static uint32_t imap_raw(void *state, int dir, const uint8_t *p, uint32_t n)
{
	struct imap_state *st = state;

	if (!st->lit[dir])
		return 0;
	uint32_t k = st->lit[dir] < n ? (uint32_t)st->lit[dir] : n;

	if (dir == GCP_DIR_C2S)
		st->lit_wait = false; /* it is being sent */
	if (dir == GCP_DIR_C2S && st->lit_user) {
		struct mail_sess *s = &st->s;
		uint32_t room = MAIL_ACCOUNT_CAP - s->account_len, m = k < room ? k : room;

		memcpy(s->account + s->account_len, p, m);
		s->account_len = (uint8_t)(s->account_len + m);
	}
	st->lit[dir] -= k;
	if (!st->lit[dir])
		st->lit_user = false;
	return k;
}

static bool imap_gap(void *state, int dir, uint32_t n)
{
	struct imap_state *st = state;

	if (dir == GCP_DIR_C2S)
		st->lit_wait = false;
	if (st->lit[dir] >= n) {
		st->lit[dir] -= n;
		return true;
	}
	st->lit[dir] = 0;
	st->cont[dir] = false;
	return false;
}

static const struct mail_ops imap_ops = {
	.raw = imap_raw,
	.gap = imap_gap,
	.line = imap_line,
	.longline = imap_long,
};

/* RFC 9051 9: tag = 1*<any ASTRING-CHAR except "+">. */
static bool tag_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f && !strchr("(){%*\"\\+", c);
}

static enum gcp_probe_result imap_probe(const uint8_t *data, uint32_t len, int dir)
{
	static const char *const server[] = { "* OK", "* PREAUTH", NULL };
	static const char *const client[] = { "CAPABILITY", "LOGIN", "AUTHENTICATE",
					      "STARTTLS", "ID", "NOOP", NULL };

	if (dir == GCP_DIR_S2C)
		return mail_probe_words(data, len, server);
	for (uint32_t i = 0; i <= IMAP_TAG_CAP; i++) {
		if (i == len)
			return GCP_PROBE_MAYBE;
		if (data[i] == ' ' && i > 0)
			return mail_probe_words(data + i + 1, len - i - 1, client);
		if (!tag_char(data[i]))
			return GCP_PROBE_NO;
	}
	return GCP_PROBE_NO;
}

static void imap_init(void *state, struct gcp_dissect_ctx *ctx)
{
	(void)ctx;
	mail_sess_init(state, MAIL_IMAP);
}

static struct gcp_parse_result imap_parse(void *state, struct gcp_dissect_ctx *ctx, int dir,
					  const uint8_t *data, uint32_t len, unsigned flags)
{
	return mail_parse(&imap_ops, state, ctx, dir, data, len, flags);
}

static void imap_fini(void *state, struct gcp_dissect_ctx *ctx)
{
	struct imap_state *st = state;

	if (mail_record_begin(&st->s, ctx))
		gcp_dctx_record_end(ctx);
}

static const uint16_t imap_ports[] = { 143 };

const struct gcp_dissector gcp_dissector_imap = {
	.name = "imap",
	.record_types = GCP_REC_MAIL,
	.l4_mask = GCP_L4_TCP,
	.ports = imap_ports,
	.nports = sizeof(imap_ports) / sizeof(imap_ports[0]),
	.state_size = sizeof(struct imap_state),
	.probe = imap_probe,
	.init = imap_init,
	.parse = imap_parse,
	.fini = imap_fini,
};
