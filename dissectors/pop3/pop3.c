/* SPDX-License-Identifier: BSD-3-Clause */
/* POP3 dissector (RFC 1939): USER/APOP account, AUTH (RFC 5034), STLS
 * (RFC 2595 4), pipelined commands (RFC 2449 6.6) and multi-line
 * responses; one mail record per session. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../smtp/mail_common.h"
#include "dissect.h"

#define POP3_QUEUE 64

enum pop3_cmd { C_OTHER = 0, C_MULTI, C_AUTH, C_STLS, C_QUIT };

struct pop3_state {
	struct mail_sess s; /* first */
	bool multi;         /* server is sending a multi-line body */
	uint8_t qhead, qlen;
	uint8_t q[POP3_QUEUE];
};

static void q_push(struct pop3_state *st, struct gcp_dissect_ctx *ctx, enum pop3_cmd c)
{
	if (st->qlen == POP3_QUEUE) {
		gcp_dctx_anomaly(ctx);
		return;
	}
	st->q[(st->qhead + st->qlen) % POP3_QUEUE] = (uint8_t)c;
	st->qlen++;
}

static void pop3_end(struct pop3_state *st, struct gcp_dissect_ctx *ctx)
{
	if (mail_record_begin(&st->s, ctx))
		gcp_dctx_record_end(ctx);
	st->s.done = true;
}

/* ---- client ------------------------------------------------------------------ */

static void set_mech(struct pop3_state *st, const char *name)
{
	struct mail_view v = { (const uint8_t *)name, (uint32_t)strlen(name) };

	mail_set_mech(&st->s, v);
}

/* RFC 1939 7 / RFC 2449: these answer +OK with a body ending in "." CRLF
 * (LIST and UIDL only without an argument). */
static bool multi_line(struct mail_view verb, struct mail_view args)
{
	if (mail_ieq(verb, "RETR") || mail_ieq(verb, "TOP") || mail_ieq(verb, "CAPA"))
		return true;
	return !args.n && (mail_ieq(verb, "LIST") || mail_ieq(verb, "UIDL") ||
			   mail_ieq(verb, "AUTH"));
}

static void pop3_command(struct pop3_state *st, struct gcp_dissect_ctx *ctx, struct mail_view line)
{
	struct mail_view args, verb = mail_word(line, &args), tail;
	enum pop3_cmd c = C_OTHER;

	st->s.commands++;
	if (multi_line(verb, args)) {
		c = C_MULTI;
	} else if (mail_ieq(verb, "USER")) {
		mail_set_account(&st->s, mail_trim(args));
		set_mech(st, "USER");
	} else if (mail_ieq(verb, "APOP")) {
		/* RFC 1939 7: APOP name digest */
		mail_set_account(&st->s, mail_word(args, &tail));
		set_mech(st, "APOP");
	} else if (mail_ieq(verb, "AUTH")) {
		struct mail_view ir, mech = mail_word(args, &ir);

		ir = mail_trim(ir);
		mail_sasl_start(&st->s, mech, &ir);
		c = C_AUTH;
	} else if (mail_ieq(verb, "STLS")) {
		c = C_STLS;
	} else if (mail_ieq(verb, "QUIT")) {
		c = C_QUIT;
	}
	q_push(st, ctx, c);
}

/* ---- server ------------------------------------------------------------------ */

static void pop3_status(struct pop3_state *st, struct gcp_dissect_ctx *ctx, bool ok)
{
	if (!st->qlen)
		return; /* greeting */
	uint8_t c = st->q[st->qhead];

	st->qhead = (uint8_t)((st->qhead + 1) % POP3_QUEUE);
	st->qlen--;
	switch (c) {
	case C_MULTI:
		st->multi = ok;
		break;
	case C_AUTH:
		mail_sasl_end(&st->s);
		break;
	case C_STLS:
		if (ok) {
			st->s.enc = MAIL_ENC_STARTTLS; /* RFC 2595 4 */
			pop3_end(st, ctx);
		}
		break;
	case C_QUIT:
		pop3_end(st, ctx);
		break;
	default:
		break;
	}
}

static void pop3_reply(struct pop3_state *st, struct gcp_dissect_ctx *ctx, struct mail_view line)
{
	if (st->multi) {
		/* RFC 1939 3: a line of one "." ends it; others are byte-stuffed. */
		if (line.n == 1 && line.p[0] == '.')
			st->multi = false;
		return;
	}
	if (mail_iprefix(line, "+OK")) {
		pop3_status(st, ctx, true);
	} else if (mail_iprefix(line, "-ERR")) {
		pop3_status(st, ctx, false);
	} else if (line.n && line.p[0] == '+' && (line.n == 1 || line.p[1] == ' ')) {
		/* RFC 5034 4: "+" SP base64 challenge */
		struct mail_view text = { line.p + 1, line.n - 1 };

		if (st->qlen && st->q[st->qhead] == C_AUTH)
			mail_sasl_challenge(&st->s, text);
	}
	/* Anything else: the body of a multi-line answer we did not expect
	 * (an unknown extension); ignored. */
}

/* ---- the dissector ------------------------------------------------------------ */

static void pop3_line(void *state, struct gcp_dissect_ctx *ctx, int dir, struct mail_view line)
{
	struct pop3_state *st = state;

	if (dir == GCP_DIR_S2C)
		pop3_reply(st, ctx, line);
	else if (!mail_sasl_client(&st->s, line) && line.n)
		pop3_command(st, ctx, line);
}

static void pop3_long(void *state, struct gcp_dissect_ctx *ctx, int dir)
{
	struct pop3_state *st = state;

	if (dir == GCP_DIR_S2C && st->multi)
		return; /* message text may have long lines */
	gcp_dctx_anomaly(ctx);
}

static bool pop3_gap(void *state, int dir, uint32_t n)
{
	(void)state;
	(void)dir;
	(void)n;
	return false;
}

static const struct mail_ops pop3_ops = {
	.gap = pop3_gap,
	.line = pop3_line,
	.longline = pop3_long,
};

static enum gcp_probe_result pop3_probe(const uint8_t *data, uint32_t len, int dir)
{
	/* Not USER/AUTH: FTP clients send those too (the +OK greeting is
	 * what normally decides). */
	static const char *const client[] = { "CAPA", "APOP", "STLS", NULL };
	static const char *const server[] = { "+OK", NULL };

	return mail_probe_words(data, len, dir == GCP_DIR_C2S ? client : server);
}

static void pop3_init(void *state, struct gcp_dissect_ctx *ctx)
{
	(void)ctx;
	mail_sess_init(state, MAIL_POP3);
}

static struct gcp_parse_result pop3_parse(void *state, struct gcp_dissect_ctx *ctx, int dir,
					  const uint8_t *data, uint32_t len, unsigned flags)
{
	return mail_parse(&pop3_ops, state, ctx, dir, data, len, flags);
}

static void pop3_fini(void *state, struct gcp_dissect_ctx *ctx)
{
	struct pop3_state *st = state;

	if (mail_record_begin(&st->s, ctx))
		gcp_dctx_record_end(ctx);
}

static const uint16_t pop3_ports[] = { 110 };

const struct gcp_dissector gcp_dissector_pop3 = {
	.name = "pop3",
	.record_types = GCP_REC_MAIL,
	.l4_mask = GCP_L4_TCP,
	.ports = pop3_ports,
	.nports = sizeof(pop3_ports) / sizeof(pop3_ports[0]),
	.state_size = sizeof(struct pop3_state),
	.probe = pop3_probe,
	.init = pop3_init,
	.parse = pop3_parse,
	.fini = pop3_fini,
};
