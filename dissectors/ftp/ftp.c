/* SPDX-License-Identifier: BSD-3-Clause */
/* FTP control channel (RFC 959, RFC 2428, RFC 1123 4.1): commands and
 * (multi-line) replies; announces data connections as expectations and
 * describes each transfer for the ftpdata dissector, which emits the record. */
#include <netinet/in.h>
#include <string.h>

#include "ftp.h"

#define FTP_LINE_MAX 2048 /* longer lines are skipped up to their LF */
#define TLS_REC_MAX (16384 + 2048 + 5)

/* The command whose reply is awaited (RFC 959 is lock-step). */
enum ftp_cmd {
	CMD_NONE = 0,
	CMD_PASV,
	CMD_EPSV,
	CMD_PORT,
	CMD_CWD,
	CMD_CDUP,
	CMD_PWD,
	CMD_AUTH,
	CMD_XFER,
	CMD_OTHER,
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

struct ftp_state {
	struct ftp_dir d[2];
	uint8_t cmd;     /* enum ftp_cmd */
	uint8_t cwd_kind;
	char type;
	uint16_t cwd_len, arg_len;
	char cwd[FTP_NAME_MAX];
	char arg[FTP_NAME_MAX]; /* argument of the command awaiting its reply */
	char user[FTP_USER_MAX];
	uint64_t h_cur;  /* expectation of the last PASV/EPSV/PORT/EPRT */
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
static void expect_data(struct ftp_state *s, struct gcp_dissect_ctx *ctx, bool active,
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

/* RETR/STOR/...: tie the announced connection to this transfer. */
static void bind_xfer(struct ftp_state *s, struct gcp_dissect_ctx *ctx, const char *verb,
		      const char *arg, size_t alen)
{
	struct ftp_xfer *x = cur_xfer(s, ctx);

	s->cmd = CMD_XFER;
	if (!x || x->has_cmd) {
		s->h_cur = 0; /* none announced for it (or not seen): replies are not ours */
		return;
	}
	x->has_cmd = true;
	for (int i = 0; i < 4; i++)
		x->cmd[i] = (char)((verb[i] >= 'a' && verb[i] <= 'z') ? verb[i] - 32 : verb[i]);
	x->cmd[4] = 0;
	x->upload = verb_is(verb, 4, "STOR") || verb_is(verb, 4, "STOU") ||
		    verb_is(verb, 4, "APPE");
	x->type = s->type;
	memcpy(x->user, s->user, sizeof(x->user));
	if (!x->upload)
		skip_options(&arg, &alen);
	set_filename(s, x, arg, alen);
}

/* ---- commands ------------------------------------------------------------------- */

static void cmd_port(struct ftp_state *s, struct gcp_dissect_ctx *ctx, bool ext, const char *arg,
		     size_t alen)
{
	uint8_t a[4];
	uint16_t port = 0;
	int af;
	int rc = ext ? gcp_ftp_parse_eprt(arg, alen, &af, &port)
		     : gcp_ftp_parse_port(arg, alen, a, &port);

	s->cmd = CMD_PORT;
	if (rc) {
		gcp_dctx_anomaly(ctx);
		return;
	}
	expect_data(s, ctx, true, port);
}

static bool is_xfer(const char *v, size_t vl)
{
	static const char *const xf[] = { "RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD" };

	for (size_t i = 0; i < sizeof(xf) / sizeof(xf[0]); i++)
		if (verb_is(v, vl, xf[i]))
			return true;
	return false;
}

static void on_command(struct ftp_state *s, struct gcp_dissect_ctx *ctx, const char *l, size_t n)
{
	const char *sp = memchr(l, ' ', n);
	size_t vl = sp ? (size_t)(sp - l) : n;
	const char *arg = sp ? sp + 1 : l + n;
	size_t alen = sp ? n - vl - 1 : 0;

	while (alen && arg[alen - 1] == ' ')
		alen--;
	s->cmd = CMD_OTHER;
	if (verb_is(l, vl, "USER")) {
		copy_str(s->user, sizeof(s->user), arg, alen, NULL);
	} else if (verb_is(l, vl, "TYPE")) {
		if (alen && strchr("AaIiEeLl", arg[0]))
			s->type = (char)(arg[0] & ~0x20);
	} else if (verb_is(l, vl, "PORT") || verb_is(l, vl, "EPRT")) {
		cmd_port(s, ctx, verb_is(l, vl, "EPRT"), arg, alen);
	} else if (verb_is(l, vl, "PASV")) {
		s->cmd = CMD_PASV;
	} else if (verb_is(l, vl, "EPSV")) {
		s->cmd = CMD_EPSV;
	} else if (verb_is(l, vl, "CWD") || verb_is(l, vl, "XCWD")) {
		s->cmd = CMD_CWD;
		copy_str(s->arg, sizeof(s->arg), arg, alen, &s->arg_len);
	} else if (verb_is(l, vl, "CDUP") || verb_is(l, vl, "XCUP")) {
		s->cmd = CMD_CDUP;
	} else if (verb_is(l, vl, "PWD") || verb_is(l, vl, "XPWD")) {
		s->cmd = CMD_PWD;
	} else if (verb_is(l, vl, "AUTH")) {
		s->cmd = CMD_AUTH;
	} else if (is_xfer(l, vl)) {
		bind_xfer(s, ctx, l, arg, alen);
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

static void reply_xfer(struct ftp_state *s, struct gcp_dissect_ctx *ctx, unsigned code,
		       const char *t, size_t n)
{
	struct ftp_xfer *x = cur_xfer(s, ctx);

	if (!x || !x->has_cmd)
		return;
	if (code < 200) {
		x->has_size = gcp_ftp_parse_size(t, n, &x->announced_size) == 0;
		if (!strcmp(x->cmd, "STOU"))
			stou_name(s, x, t, n);
		return;
	}
	x->reply = (uint16_t)code;
}

static void act_reply(struct ftp_state *s, struct gcp_dissect_ctx *ctx, unsigned code,
		      const char *t, size_t n)
{
	uint8_t a[4];
	uint16_t port;
	char path[FTP_NAME_MAX];
	size_t plen;

	if (code == 227 && gcp_ftp_parse_pasv(t, n, a, &port) == 0)
		expect_data(s, ctx, false, port);
	else if (code == 229 && gcp_ftp_parse_epsv(t, n, &port) == 0)
		expect_data(s, ctx, false, port);
	switch (s->cmd) {
	case CMD_PORT:
		if (code >= 400)
			gcp_dctx_expect_cancel(ctx, s->h_cur);
		break;
	case CMD_CWD:
		if (code / 100 == 2)
			new_cwd(s, s->arg, s->arg_len);
		break;
	case CMD_CDUP:
		if (code / 100 == 2)
			new_cwd(s, "..", 2);
		break;
	case CMD_PWD:
		if (code == 257 && gcp_ftp_parse_257(t, n, path, sizeof(path), &plen) == 0 &&
		    plen && path[0] == '/') {
			memcpy(s->cwd, path, plen + 1);
			s->cwd_len = (uint16_t)plen;
			s->cwd_kind = CWD_ABS;
		}
		break;
	case CMD_AUTH:
		if (code == 234)
			s->d[0].tls = s->d[1].tls = true;
		break;
	case CMD_XFER:
		reply_xfer(s, ctx, code, t, n);
		break;
	default:
		break;
	}
	if (code >= 200)
		s->cmd = CMD_NONE;
}

static bool code_at(const char *l, size_t n, unsigned *code)
{
	if (n < 3 || l[0] < '1' || l[0] > '5' || l[1] < '0' || l[1] > '9' || l[2] < '0' ||
	    l[2] > '9')
		return false;
	*code = (unsigned)((l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0'));
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
};
