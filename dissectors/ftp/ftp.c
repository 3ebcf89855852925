/* SPDX-License-Identifier: BSD-3-Clause */
/* FTP control channel (RFC 959, RFC 2428, RFC 1639, RFC 3659, RFC 1123
 * 4.1): commands and (multi-line) replies, paired through a bounded queue
 * of commands awaiting their reply so that pipelined commands work;
 * announces data connections as expectations and describes each transfer
 * for the ftpdata dissector, which emits the record. */
#include <netinet/in.h>
#include <string.h>

#include "ftp.h"

#define FTP_LINE_MAX 2048 /* longer lines are skipped up to their LF */
#define TLS_REC_MAX (16384 + 2048 + 5)
/* Commands sent and not yet answered. Clients pipeline a few (TYPE, PASV,
 * RETR); more than this: the oldest is taken as answered, an anomaly. */
#define FTP_QUEUE 8

/* What a pending command waits for from its reply. */
enum ftp_cmd {
	CMD_OTHER = 0,
	CMD_PASV, /* PASV / EPSV / LPSV: the reply names the port */
	CMD_PORT,
	CMD_CWD,
	CMD_CDUP,
	CMD_PWD,
	CMD_AUTH,
	CMD_REST,
	CMD_XFER,
};

enum cwd_kind {
	CWD_UNKNOWN = 0,
	CWD_ABS, /* from PWD or an absolute CWD */
	CWD_REL, /* relative to the (unknown) login directory */
};

struct ftp_dir {
	uint16_t multi;  /* code of the multi-line reply being read (RFC 959 4.2) */
	bool discard;    /* inside an overlong line or after a gap: skip to LF */
	bool tls;        /* after AUTH TLS/234 (RFC 4217): skip TLS records */
};

/* A command awaiting its final (2yz-5yz) reply. */
struct ftp_pend {
	uint8_t cmd;     /* enum ftp_cmd */
	char type;       /* XFER: the TYPE in force when it was sent */
	bool bound;      /* XFER: tied to its data connection (or to none) */
	bool rename;     /* XFER: bound while a directory change was unanswered */
	bool dflt;       /* XFER: on the default data port (RFC 959 3.2) */
	char verb[5];
	uint16_t arg_len;
	uint64_t h;      /* PORT, XFER: the expectation */
	uint64_t off;    /* REST: the marker */
	char arg[FTP_NAME_MAX]; /* CWD, XFER */
};

struct ftp_state {
	struct ftp_dir d[2];
	uint8_t cwd_kind;
	char type;
	bool greeted;    /* the first reply went by (the 220 greeting answers nothing) */
	bool from_start; /* greeting or USER seen: the RFC 959 defaults hold */
	bool announced;  /* PORT/PASV family sent since the last transfer */
	bool rest_set;   /* an accepted REST applies to the next transfer */
	uint8_t qhead, qlen;
	uint16_t cwd_len;
	uint64_t rest;
	uint64_t h_cur;  /* expectation of the last announcement */
	char cwd[FTP_NAME_MAX];
	char user[FTP_USER_MAX];
	struct ftp_pend q[FTP_QUEUE];
};

/* ---- helpers ---------------------------------------------------------------- */

static bool verb_is(const char *v, size_t vl, const char *name)
{
	size_t n = strlen(name);

	if (vl != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		if (c != name[i])
			return false;
	}
	return true;
}

static void copy_str(char *dst, size_t cap, const char *s, size_t n, uint16_t *len)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = 0;
	if (len)
		*len = (uint16_t)n;
}

static struct ftp_xfer *cur_xfer(struct ftp_state *s, struct gcp_dissect_ctx *ctx)
{
	return s->h_cur ? gcp_dctx_expect_data(ctx, s->h_cur) : NULL;
}

/* ---- data connections ---------------------------------------------------------- */

/*
 * Announce the data connection. The address in the PASV reply or PORT
 * argument is ignored (NAT rewrites it, or not): the data connection
 * runs between the control connection's own addresses.
 */
static uint64_t expect_data(struct ftp_state *s, struct gcp_dissect_ctx *ctx, bool active,
			    uint16_t port)
{
	const struct gcp_flow_info *fi = gcp_dctx_flow(ctx);
	struct ftp_xfer x;
	struct ftp_xfer *old = cur_xfer(s, ctx);

	if (old && !old->has_cmd)
		gcp_dctx_expect_cancel(ctx, s->h_cur); /* announced, never used */
	memset(&x, 0, sizeof(x));
	x.ctl_flow_id = fi->flow_id;
	x.mode = active ? FTP_MODE_ACTIVE : FTP_MODE_PASSIVE;
	x.type = s->type;
	memcpy(x.user, s->user, sizeof(x.user));
	struct gcp_expect e = {
		.orig = active ? fi->srv : fi->cli,
		.resp = active ? fi->cli : fi->srv,
		.resp_port = port,
		.ip_version = fi->ip_version,
		.l4proto = IPPROTO_TCP,
		.dis = &gcp_dissector_ftpdata,
		.data = &x,
		.len = sizeof(x),
	};

	s->h_cur = gcp_dctx_expect(ctx, &e);
	return s->h_cur;
}

/* File name of a transfer: the argument, with the cwd when known. */
static void set_filename(struct ftp_state *s, struct ftp_xfer *x, const char *arg, size_t alen)
{
	int n = -1;

	if (s->cwd_kind != CWD_UNKNOWN || (alen && arg[0] == '/'))
		n = gcp_ftp_path_join(s->cwd, s->cwd_len, arg, alen, x->filename,
				      sizeof(x->filename));
	if (n < 0)
		copy_str(x->filename, sizeof(x->filename), arg, alen, &x->name_len);
	else
		x->name_len = (uint16_t)n;
}

/* LIST/NLST options ("-la") are not a path. */
static void skip_options(const char **arg, size_t *alen)
{
	while (*alen && (*arg)[0] == '-') {
		const char *sp = memchr(*arg, ' ', *alen);

		if (!sp) {
			*alen = 0;
			return;
		}
		*alen -= (size_t)(sp + 1 - *arg);
		*arg = sp + 1;
	}
}

static void xfer_filename(struct ftp_state *s, struct ftp_xfer *x, const struct ftp_pend *e)
{
	const char *arg = e->arg;
	size_t alen = e->arg_len;

	if (!x->upload)
		skip_options(&arg, &alen);
	set_filename(s, x, arg, alen);
}

/*
 * The data connection of a transfer that no PORT/PASV announced: RFC 959
 * 3.2, the server connects (from port 20) to the client's default data
 * port, which is the port of its control connection. Assumed only when
 * the session was seen from its start, so a missed PASV is not taken
 * for it.
 */
static struct ftp_xfer *default_port(struct ftp_state *s, struct gcp_dissect_ctx *ctx,
				     struct ftp_pend *e)
{
	if (s->announced || !s->from_start)
		return NULL;
	e->dflt = expect_data(s, ctx, true, gcp_dctx_flow(ctx)->cport) != 0;
	return cur_xfer(s, ctx);
}

/* RETR/STOR/...: tie the announced connection to this transfer. */
static void bind_xfer(struct ftp_state *s, struct gcp_dissect_ctx *ctx, struct ftp_pend *e)
{
	struct ftp_xfer *x = cur_xfer(s, ctx);

	if (!x || x->has_cmd)
		x = default_port(s, ctx, e);
	e->bound = true;
	e->h = x ? s->h_cur : 0; /* 0: none announced for it (or not seen) */
	s->announced = false;
	if (!x)
		return;
	x->has_cmd = true;
	memcpy(x->cmd, e->verb, sizeof(x->cmd));
	x->upload = !strcmp(e->verb, "STOR") || !strcmp(e->verb, "STOU") ||
		    !strcmp(e->verb, "APPE");
	x->type = e->type;
	memcpy(x->user, s->user, sizeof(x->user));
	/* Bytes from a restart marker, or appended to a file, are not the
	 * file: its MD5 would be wrong (RFC 3659 5, RFC 959 4.1.3 APPE). */
	x->rest_offset = s->rest_set ? s->rest : 0;
	x->partial = s->rest_set || !strcmp(e->verb, "APPE");
	s->rest_set = false;
	xfer_filename(s, x, e);
}

/* ---- the queue of pending commands ---------------------------------------------- */

static struct ftp_pend *q_at(struct ftp_state *s, unsigned i)
{
	return &s->q[(s->qhead + i) % FTP_QUEUE];
}

static struct ftp_pend *q_head(struct ftp_state *s)
{
	return s->qlen ? q_at(s, 0) : NULL;
}

/* Is a command of kind c (or c2) waiting ahead of the newest entry? */
static bool q_ahead(struct ftp_state *s, enum ftp_cmd c, enum ftp_cmd c2)
{
	for (unsigned i = 0; i + 1 < s->qlen; i++) {
		uint8_t k = q_at(s, i)->cmd;

		if (k == c || k == c2)
			return true;
	}
	return false;
}

static struct ftp_xfer *pend_xfer(struct gcp_dissect_ctx *ctx, const struct ftp_pend *e)
{
	return e->h ? gcp_dctx_expect_data(ctx, e->h) : NULL;
}

/* The head's predecessors are answered: what it waited for is known. */
static void q_activate(struct ftp_state *s, struct gcp_dissect_ctx *ctx)
{
	struct ftp_pend *e = q_head(s);
	struct ftp_xfer *x;

	if (!e || e->cmd != CMD_XFER)
		return;
	if (!e->bound)
		bind_xfer(s, ctx, e);
	else if (e->rename && (x = pend_xfer(ctx, e)) != NULL)
		xfer_filename(s, x, e); /* the directory it was sent in is known now */
	e->rename = false;
}

static void q_pop(struct ftp_state *s, struct gcp_dissect_ctx *ctx)
{
	s->qhead = (uint8_t)((s->qhead + 1) % FTP_QUEUE);
	s->qlen--;
	q_activate(s, ctx);
}

/* The head's reply will not be seen (gap, overflow, flow end). */
static void q_drop(struct ftp_state *s, struct gcp_dissect_ctx *ctx)
{
	struct ftp_pend *e = q_head(s);

	if (e->cmd == CMD_REST && e->off) {
		/* Taken as accepted: a partial flag is better than a wrong MD5. */
		s->rest_set = true;
		s->rest = e->off;
	}
	q_pop(s, ctx);
}

static void q_flush(struct ftp_state *s, struct gcp_dissect_ctx *ctx)
{
	while (s->qlen)
		q_drop(s, ctx);
}

static struct ftp_pend *q_push(struct ftp_state *s, struct gcp_dissect_ctx *ctx,
			       enum ftp_cmd c)
{
	if (s->qlen == FTP_QUEUE) {
		gcp_dctx_anomaly(ctx); /* more unanswered than a client pipelines */
		q_drop(s, ctx);
	}
	struct ftp_pend *e = q_at(s, s->qlen++);

	e->cmd = (uint8_t)c;
	e->bound = e->rename = e->dflt = false;
	e->h = e->off = 0;
	e->arg_len = 0;
	e->arg[0] = 0;
	return e;
}

/* ---- commands ------------------------------------------------------------------- */

/* PORT / EPRT / LPRT (RFC 959, RFC 2428 2, RFC 1639). */
static uint64_t cmd_port(struct ftp_state *s, struct gcp_dissect_ctx *ctx, const char *verb,
			 const char *arg, size_t alen)
{
	uint8_t a[4];
	uint16_t port = 0;
	int af = 0, rc;
	int ver = gcp_dctx_flow(ctx)->ip_version;

	if (!strcmp(verb, "EPRT")) {
		rc = gcp_ftp_parse_eprt(arg, alen, &af, &port);
		af = af == 2 ? 6 : 4;
	} else if (!strcmp(verb, "LPRT")) {
		rc = gcp_ftp_parse_lprt(arg, alen, &af, &port);
	} else {
		rc = gcp_ftp_parse_port(arg, alen, a, &port);
		af = 4;
	}
	/* Another address family is another pair of hosts: the control
	 * connection's addresses, which key the expectation, do not apply. */
	if (rc || (af != ver && strcmp(verb, "PORT"))) {
		gcp_dctx_anomaly(ctx);
		return 0;
	}
	return expect_data(s, ctx, true, port);
}

static bool is_xfer(const char *v, size_t vl)
{
	static const char *const xf[] = { "RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD" };

	for (size_t i = 0; i < sizeof(xf) / sizeof(xf[0]); i++)
		if (verb_is(v, vl, xf[i]))
			return true;
	return false;
}

/*
 * A transfer command: bound to its data connection now, unless the
 * announcement or restart marker it depends on is still unanswered
 * (pipelined), then when those replies came (q_activate).
 */
static void cmd_xfer(struct ftp_state *s, struct gcp_dissect_ctx *ctx, struct ftp_pend *e,
		     const char *arg, size_t alen)
{
	e->type = s->type;
	copy_str(e->arg, sizeof(e->arg), arg, alen, &e->arg_len);
	if (q_ahead(s, CMD_PASV, CMD_REST))
		return;
	e->rename = q_ahead(s, CMD_CWD, CMD_CDUP) || q_ahead(s, CMD_PWD, CMD_PWD);
	bind_xfer(s, ctx, e);
}

static void cmd_rest(struct gcp_dissect_ctx *ctx, struct ftp_pend *e, const char *arg,
		     size_t alen)
{
	if (gcp_ftp_parse_rest(arg, alen, &e->off))
		gcp_dctx_anomaly(ctx);
}

/* The verb, upper-cased (4 letters at most are kept). */
static void upper_verb(char out[5], const char *v, size_t vl)
{
	size_t n = vl < 4 ? vl : 4;

	for (size_t i = 0; i < n; i++)
		out[i] = (char)((v[i] >= 'a' && v[i] <= 'z') ? v[i] - 32 : v[i]);
	out[n] = 0;
}

static enum ftp_cmd cmd_kind(const char *l, size_t vl)
{
	if (verb_is(l, vl, "PORT") || verb_is(l, vl, "EPRT") || verb_is(l, vl, "LPRT"))
		return CMD_PORT;
	if (verb_is(l, vl, "PASV") || verb_is(l, vl, "EPSV") || verb_is(l, vl, "LPSV"))
		return CMD_PASV;
	if (verb_is(l, vl, "CWD") || verb_is(l, vl, "XCWD"))
		return CMD_CWD;
	if (verb_is(l, vl, "CDUP") || verb_is(l, vl, "XCUP"))
		return CMD_CDUP;
	if (verb_is(l, vl, "PWD") || verb_is(l, vl, "XPWD"))
		return CMD_PWD;
	if (verb_is(l, vl, "AUTH"))
		return CMD_AUTH;
	if (verb_is(l, vl, "REST"))
		return CMD_REST;
	return is_xfer(l, vl) ? CMD_XFER : CMD_OTHER;
}

/* Commands that change state without a reply to wait for. */
static void cmd_now(struct ftp_state *s, const char *l, size_t vl, const char *arg, size_t alen)
{
	if (verb_is(l, vl, "USER")) {
		copy_str(s->user, sizeof(s->user), arg, alen, NULL);
		s->from_start = true;
	} else if (verb_is(l, vl, "TYPE")) {
		if (alen && strchr("AaIiEeLl", arg[0]))
			s->type = (char)(arg[0] & ~0x20);
	}
}

static void on_command(struct ftp_state *s, struct gcp_dissect_ctx *ctx, const char *l, size_t n)
{
	const char *sp = memchr(l, ' ', n);
	size_t vl = sp ? (size_t)(sp - l) : n;
	const char *arg = sp ? sp + 1 : l + n;
	size_t alen = sp ? n - vl - 1 : 0;
	enum ftp_cmd c = cmd_kind(l, vl);

	while (alen && arg[alen - 1] == ' ')
		alen--;
	cmd_now(s, l, vl, arg, alen);
	struct ftp_pend *e = q_push(s, ctx, c);

	upper_verb(e->verb, l, vl);
	switch (c) {
	case CMD_PORT:
		s->announced = true;
		e->h = cmd_port(s, ctx, e->verb, arg, alen);
		break;
	case CMD_PASV:
		s->announced = true;
		break;
	case CMD_CWD:
		copy_str(e->arg, sizeof(e->arg), arg, alen, &e->arg_len);
		break;
	case CMD_REST:
		cmd_rest(ctx, e, arg, alen);
		break;
	case CMD_XFER:
		cmd_xfer(s, ctx, e, arg, alen);
		break;
	default:
		break;
	}
}

/* ---- replies ------------------------------------------------------------------------ */

static void new_cwd(struct ftp_state *s, const char *arg, size_t alen)
{
	char out[FTP_NAME_MAX];
	bool abs = alen && arg[0] == '/';

	if (s->cwd_kind == CWD_UNKNOWN && !abs) {
		/* Relative to the login directory, which we do not know. */
		s->cwd_kind = CWD_REL;
		s->cwd_len = 0;
		s->cwd[0] = 0;
	}
	int n = gcp_ftp_path_join(s->cwd, s->cwd_len, arg, alen, out, sizeof(out));

	if (n < 0) {
		s->cwd_kind = CWD_UNKNOWN;
		s->cwd_len = 0;
		return;
	}
	memcpy(s->cwd, out, (size_t)n + 1);
	s->cwd_len = (uint16_t)n;
	if (abs)
		s->cwd_kind = CWD_ABS;
}

/* RFC 1123 4.1.2.9: the 150 reply to STOU names the file: "FILE: name". */
static void stou_name(struct ftp_state *s, struct ftp_xfer *x, const char *t, size_t n)
{
	for (size_t i = 0; i + 6 <= n; i++) {
		if (memcmp(t + i, "FILE: ", 6))
			continue;
		const char *name = t + i + 6;
		size_t len = 0;

		while (name + len < t + n && name[len] != ' ')
			len++;
		if (len)
			set_filename(s, x, name, len);
		return;
	}
}

static void reply_xfer(struct ftp_state *s, struct gcp_dissect_ctx *ctx, struct ftp_pend *e,
		       unsigned code, const char *t, size_t n)
{
	struct ftp_xfer *x = pend_xfer(ctx, e);

	if (!x || !x->has_cmd)
		return;
	if (code < 200) {
		x->has_size = gcp_ftp_parse_size(t, n, &x->announced_size) == 0;
		if (!strcmp(x->cmd, "STOU"))
			stou_name(s, x, t, n);
		return;
	}
	x->reply = (uint16_t)code;
	if (code >= 400 && e->dflt)
		gcp_dctx_expect_cancel(ctx, e->h); /* our guess, and no connection came */
}

/* 227 / 229 / 228 (RFC 959, RFC 2428 3, RFC 1639): a passive data port. */
static void passive_reply(struct ftp_state *s, struct gcp_dissect_ctx *ctx, unsigned code,
			  const char *t, size_t n)
{
	uint8_t a[4];
	uint16_t port;
	int af;

	if ((code == 227 && gcp_ftp_parse_pasv(t, n, a, &port) == 0) ||
	    (code == 229 && gcp_ftp_parse_epsv(t, n, &port) == 0) ||
	    (code == 228 && gcp_ftp_parse_lpsv(t, n, &af, &port) == 0))
		expect_data(s, ctx, false, port);
}

static void pwd_reply(struct ftp_state *s, unsigned code, const char *t, size_t n)
{
	char path[FTP_NAME_MAX];
	size_t plen;

	if (code == 257 && gcp_ftp_parse_257(t, n, path, sizeof(path), &plen) == 0 && plen &&
	    path[0] == '/') {
		memcpy(s->cwd, path, plen + 1);
		s->cwd_len = (uint16_t)plen;
		s->cwd_kind = CWD_ABS;
	}
}

/* The reply to the oldest pending command e. */
static void pend_reply(struct ftp_state *s, struct gcp_dissect_ctx *ctx, struct ftp_pend *e,
		       unsigned code, const char *t, size_t n)
{
	switch (e->cmd) {
	case CMD_PORT:
		if (code >= 400)
			gcp_dctx_expect_cancel(ctx, e->h);
		break;
	case CMD_CWD:
		if (code / 100 == 2)
			new_cwd(s, e->arg, e->arg_len);
		break;
	case CMD_CDUP:
		if (code / 100 == 2)
			new_cwd(s, "..", 2);
		break;
	case CMD_PWD:
		pwd_reply(s, code, t, n);
		break;
	case CMD_REST:
		/* RFC 3659 5.3: 350 accepts it; REST 0 is the start of the file. */
		s->rest_set = code < 400 && e->off;
		s->rest = e->off;
		break;
	case CMD_XFER:
		reply_xfer(s, ctx, e, code, t, n);
		break;
	default:
		break;
	}
}

static void act_reply(struct ftp_state *s, struct gcp_dissect_ctx *ctx, unsigned code,
		      const char *t, size_t n)
{
	struct ftp_pend *e = q_head(s);

	passive_reply(s, ctx, code, t, n);
	if (!e)
		return; /* unsolicited (421), or its command was not seen */
	pend_reply(s, ctx, e, code, t, n);
	if (e->cmd == CMD_AUTH && code == 234) {
		/* RFC 4217: TLS from now on; later commands are not seen. */
		s->d[0].tls = s->d[1].tls = true;
		s->qlen = 0;
		return;
	}
	if (code >= 200) /* RFC 959 4.2: 1yz is preliminary, another reply follows */
		q_pop(s, ctx);
}

static bool code_at(const char *l, size_t n, unsigned *code)
{
	if (n < 3 || l[0] < '1' || l[0] > '5' || l[1] < '0' || l[1] > '9' || l[2] < '0' ||
	    l[2] > '9')
		return false;
	*code = (unsigned)((l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0'));
	return true;
}

/*
 * RFC 959 5.4: the server greets with 220 (120 first when delayed) before
 * any command; the engine may hand the greeting over after the client's
 * first command (held back while probing), so it answers no command.
 */
static bool greeting(struct ftp_state *s, unsigned code)
{
	if (s->greeted)
		return false;
	if (code / 100 == 1)
		return true;
	s->greeted = true;
	if (code != 220)
		return false; /* picked up in the middle */
	s->from_start = true;
	return true;
}

/* RFC 959 4.2: "123-first" ... "123 last"; act once per reply, on its first line. */
static void on_reply(struct ftp_state *s, struct gcp_dissect_ctx *ctx, const char *l, size_t n)
{
	struct ftp_dir *d = &s->d[GCP_DIR_S2C];
	unsigned code;
	bool has = code_at(l, n, &code);
	bool cont = has && n > 3 && l[3] == '-';

	if (d->multi) {
		if (has && code == d->multi && !cont)
			d->multi = 0;
		return;
	}
	if (!has) {
		gcp_dctx_anomaly(ctx);
		return;
	}
	if (cont)
		d->multi = (uint16_t)code;
	if (greeting(s, code))
		return;
	act_reply(s, ctx, code, n > 4 ? l + 4 : l + n, n > 4 ? n - 4 : 0);
}

/* ---- stream handling --------------------------------------------------------------- */

static void on_line(struct ftp_state *s, struct gcp_dissect_ctx *ctx, int dir, const char *l,
		    size_t n)
{
	if (n && l[n - 1] == '\r')
		n--;
	if (dir == GCP_DIR_C2S)
		on_command(s, ctx, l, n);
	else
		on_reply(s, ctx, l, n);
}

/* Bytes of a TLS record at p (RFC 8446 5.1), 0 when p is not one, -1 short. */
static long tls_record(const uint8_t *p, uint32_t n)
{
	if (p[0] < 20 || p[0] > 24)
		return 0;
	if (n < 5)
		return -1;
	if (p[1] != 3)
		return 0;
	long len = 5 + (p[3] << 8 | p[4]);

	if (len > TLS_REC_MAX)
		return 0;
	return (uint32_t)len <= n ? len : -1;
}

static struct gcp_parse_result result(uint32_t consumed)
{
	struct gcp_parse_result r = { GCP_PARSE_OK, consumed, 0 };

	return r;
}

static struct gcp_parse_result ftp_parse(void *state, struct gcp_dissect_ctx *ctx, int dir,
					 const uint8_t *data, uint32_t len, unsigned flags)
{
	struct ftp_state *s = state;
	struct ftp_dir *d = &s->d[dir & 1];
	uint32_t i = 0;

	if (flags & GCP_PF_GAP) {
		d->discard = true; /* resynchronise on the next line */
		d->multi = 0;
		q_flush(s, ctx); /* commands or replies lost: pairing starts over */
		return result(len);
	}
	while (i < len) {
		if (d->tls) {
			long r = tls_record(data + i, len - i);

			if (r < 0 && !(flags & GCP_PF_FIN))
				return result(i);
			if (r > 0) {
				i += (uint32_t)r;
				continue;
			}
			d->tls = r < 0; /* clear text again (CCC) */
			if (d->tls)
				return result(len);
		}
		const uint8_t *nl = memchr(data + i, '\n', len - i);

		if (!nl) {
			if (len - i > FTP_LINE_MAX) {
				d->discard = true;
				return result(len);
			}
			if (!(flags & GCP_PF_FIN))
				return result(i);
			nl = data + len; /* last line without its LF */
		}
		uint32_t end = (uint32_t)(nl - data);

		if (!d->discard)
			on_line(s, ctx, dir, (const char *)data + i, end - i);
		d->discard = false;
		i = end + 1 > len ? len : end + 1;
	}
	return result(len);
}

static void ftp_init(void *state, struct gcp_dissect_ctx *ctx)
{
	struct ftp_state *s = state;

	(void)ctx;
	s->type = 'A'; /* RFC 959 3.1.1.1: ASCII is the default */
}

/* Flow end: transfers still waiting for a reply get what is known. */
static void ftp_fini(void *state, struct gcp_dissect_ctx *ctx)
{
	q_flush(state, ctx);
}

/* ---- probe ------------------------------------------------------------------------- */

static bool has_ci(const uint8_t *d, uint32_t n, const char *w)
{
	size_t wl = strlen(w);

	for (uint32_t i = 0; i + wl <= n; i++) {
		size_t k = 0;

		while (k < wl && (d[i + k] | 0x20) == w[k])
			k++;
		if (k == wl)
			return true;
	}
	return false;
}

/* Any complete client line whose verb only FTP uses? */
static bool ftp_only_verb(const uint8_t *d, uint32_t n)
{
	static const char *const v[] = { "SYST", "PASV", "EPSV", "PORT", "EPRT", "TYPE", "PWD",
					 "CWD",  "FEAT", "SIZE", "MDTM", "NLST", "STOR", "MKD" };
	uint32_t i = 0;

	while (i < n) {
		const uint8_t *nl = memchr(d + i, '\n', n - i);

		if (!nl)
			break;
		uint32_t e = (uint32_t)(nl - d), vl = 0;

		while (i + vl < e && d[i + vl] != ' ' && d[i + vl] != '\r')
			vl++;
		for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++)
			if (verb_is((const char *)d + i, vl, v[k]))
				return true;
		if (vl == 4 && verb_is((const char *)d + i, 4, "AUTH") && e - i >= 8 &&
		    (has_ci(d + i, e - i, "auth tls") || has_ci(d + i, e - i, "auth ssl")))
			return true; /* RFC 4217 */
		i = e + 1;
	}
	return false;
}

static enum gcp_probe_result ftp_probe(const uint8_t *d, uint32_t n, int dir)
{
	if (dir == GCP_DIR_C2S) {
		if (ftp_only_verb(d, n))
			return GCP_PROBE_YES;
		return (n >= 4 && (verb_is((const char *)d, 4, "USER") ||
				   verb_is((const char *)d, 4, "AUTH")))
			       ? GCP_PROBE_MAYBE
			       : GCP_PROBE_NO;
	}
	if (n < 4)
		return n && d[0] == '2' ? GCP_PROBE_MAYBE : GCP_PROBE_NO;
	if (memcmp(d, "220", 3) || (d[3] != ' ' && d[3] != '-'))
		return GCP_PROBE_NO;
	const uint8_t *nl = memchr(d, '\n', n);
	uint32_t l = nl ? (uint32_t)(nl - d) : n;

	if (has_ci(d, l, "ftp"))
		return GCP_PROBE_YES;
	if (has_ci(d, l, "smtp") || has_ci(d, l, "mail"))
		return GCP_PROBE_NO;
	return GCP_PROBE_MAYBE; /* the client's first commands decide */
}

static const uint16_t ftp_ports[] = { 21 };

const struct gcp_dissector gcp_dissector_ftp = {
	.name = "ftp",
	.record_types = GCP_REC_FTP,
	.l4_mask = GCP_L4_TCP,
	.ports = ftp_ports,
	.nports = sizeof(ftp_ports) / sizeof(ftp_ports[0]),
	.state_size = sizeof(struct ftp_state),
	.probe = ftp_probe,
	.init = ftp_init,
	.parse = ftp_parse,
	.fini = ftp_fini,
};
