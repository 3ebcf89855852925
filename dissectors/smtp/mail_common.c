/* SPDX-License-Identifier: BSD-3-Clause */
/* Mail dissector helpers: bounded line framing, base64, SASL user names
 * (passwords are decoded only into a stack buffer that is wiped), and the
 * one-per-session mail record (C4-SCHEMA "mail"). */
#include "mail_common.h"

#include <string.h>

/* ---- line framing ---------------------------------------------------------- */

enum mail_lr_res mail_line(struct mail_lr *lr, const uint8_t *data, uint32_t len, uint32_t *off,
			   struct mail_view *line, uint32_t cap)
{
	uint32_t o = *off;

	if (lr->skipping) {
		const uint8_t *lf = memchr(data + o, '\n', len - o);

		if (!lf) {
			*off = len;
			return MAIL_LR_NEED;
		}
		lr->skipping = false;
		o = (uint32_t)(lf - data) + 1;
		*off = o;
	}
	uint32_t avail = len - o;
	const uint8_t *lf = memchr(data + o, '\n', avail < cap ? avail : cap);

	if (lf) {
		uint32_t n = (uint32_t)(lf - (data + o));

		line->p = data + o;
		line->n = n && line->p[n - 1] == '\r' ? n - 1 : n;
		*off = o + n + 1;
		return MAIL_LR_LINE;
	}
	if (avail < cap)
		return MAIL_LR_NEED;
	lf = memchr(data + o + cap, '\n', avail - cap);
	if (lf) {
		*off = (uint32_t)(lf - data) + 1;
	} else {
		lr->skipping = true;
		*off = len;
	}
	return MAIL_LR_LONG;
}

/* ---- text helpers ------------------------------------------------------------- */

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

struct mail_view mail_word(struct mail_view v, struct mail_view *rest)
{
	uint32_t i = 0;

	while (i < v.n && v.p[i] != ' ')
		i++;
	struct mail_view w = { v.p, i };

	while (i < v.n && v.p[i] == ' ')
		i++;
	rest->p = v.p + i;
	rest->n = v.n - i;
	return w;
}

bool mail_iprefix(struct mail_view v, const char *s)
{
	size_t n = strlen(s);

	if (v.n < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(v.p[i]) != lower((uint8_t)s[i]))
			return false;
	return true;
}

bool mail_ieq(struct mail_view v, const char *s)
{
	return v.n == strlen(s) && mail_iprefix(v, s);
}

bool mail_icontains(struct mail_view v, const char *s)
{
	size_t n = strlen(s);

	for (uint32_t i = 0; i + n <= v.n; i++) {
		struct mail_view t = { v.p + i, v.n - i };

		if (mail_iprefix(t, s))
			return true;
	}
	return false;
}

struct mail_view mail_trim(struct mail_view v)
{
	while (v.n && (v.p[0] == ' ' || v.p[0] == '\t')) {
		v.p++;
		v.n--;
	}
	while (v.n && (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '\t'))
		v.n--;
	return v;
}

static enum gcp_probe_result probe_word(const uint8_t *d, uint32_t len, const char *w)
{
	/* Most payloads differ at once: no strlen for them (probes run on
	 * every first segment of every flow). */
	if (len && lower(d[0]) != lower((uint8_t)w[0]))
		return GCP_PROBE_NO;
	uint32_t wl = (uint32_t)strlen(w), n = len < wl ? len : wl;

	for (uint32_t i = 0; i < n; i++)
		if (lower(d[i]) != lower((uint8_t)w[i]))
			return GCP_PROBE_NO;
	if (len <= wl)
		return GCP_PROBE_MAYBE;
	return d[wl] == ' ' || d[wl] == '\r' || d[wl] == '\n' ? GCP_PROBE_YES : GCP_PROBE_NO;
}

enum gcp_probe_result mail_probe_words(const uint8_t *data, uint32_t len,
				       const char *const *list)
{
	enum gcp_probe_result best = GCP_PROBE_NO;

	for (; *list; list++) {
		enum gcp_probe_result r = probe_word(data, len, *list);

		if (r == GCP_PROBE_YES)
			return r;
		if (r == GCP_PROBE_MAYBE)
			best = r;
	}
	return best;
}

static int b64_val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int mail_b64_decode(struct mail_view in, uint8_t *out, uint32_t cap)
{
	uint32_t acc = 0, bits = 0, n = 0, i;

	for (i = 0; i < in.n && in.p[i] != '='; i++) {
		int v = b64_val(in.p[i]);

		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	for (; i < in.n; i++)
		if (in.p[i] != '=')
			return -1;
	return (int)n;
}

/* ---- session -------------------------------------------------------------------- */

void mail_sess_init(struct mail_sess *s, enum mail_type type)
{
	s->type = (uint8_t)type;
}

void mail_sess_touch(struct mail_sess *s, struct gcp_dissect_ctx *ctx)
{
	if (!s->started) {
		s->started = true;
		s->ts = gcp_dctx_now(ctx);
	}
}

/* Account names are text: reject control bytes rather than keep junk. */
void mail_set_account(struct mail_sess *s, struct mail_view v)
{
	uint32_t n = v.n < MAIL_ACCOUNT_CAP ? v.n : MAIL_ACCOUNT_CAP;

	if (n == 0)
		return;
	for (uint32_t i = 0; i < n; i++)
		if (v.p[i] < 0x20 || v.p[i] == 0x7f)
			return;
	memcpy(s->account, v.p, n);
	s->account_len = (uint8_t)n;
}

void mail_set_mech(struct mail_sess *s, struct mail_view v)
{
	uint32_t n = v.n < MAIL_MECH_CAP ? v.n : MAIL_MECH_CAP;

	for (uint32_t i = 0; i < n; i++) {
		uint8_t c = v.p[i];

		if (c <= 0x20 || c >= 0x7f)
			return;
		s->mech[i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
	}
	s->mech_len = (uint8_t)n;
}

/* ---- SASL ---------------------------------------------------------------------- */

static enum mail_mech mech_kind(struct mail_view m)
{
	static const struct {
		const char *name;
		enum mail_mech kind;
	} tab[] = {
		{ "PLAIN", MECH_PLAIN },     { "LOGIN", MECH_LOGIN },
		{ "CRAM-MD5", MECH_CRAM_MD5 }, { "XOAUTH2", MECH_XOAUTH2 },
		{ "OAUTHBEARER", MECH_OAUTHBEARER },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (mail_ieq(m, tab[i].name))
			return tab[i].kind;
	/* SCRAM-SHA-1, SCRAM-SHA-256 and their -PLUS forms share the exchange. */
	return mail_iprefix(m, "SCRAM-") ? MECH_SCRAM : MECH_OTHER;
}

static const uint8_t *find(const uint8_t *p, uint32_t n, uint8_t c)
{
	return n ? memchr(p, c, n) : NULL;
}

static void sasl_user(struct mail_sess *s, const uint8_t *p, const uint8_t *end)
{
	struct mail_view v = { p, (uint32_t)(end - p) };

	mail_set_account(s, v);
	if (s->account_len && v.n)
		s->account_sasl = true;
}

/* RFC 4616 2: [authzid] NUL authcid NUL passwd; the account is authcid. */
static void sasl_plain(struct mail_sess *s, const uint8_t *b, uint32_t n)
{
	const uint8_t *z1 = find(b, n, 0);

	if (!z1)
		return;
	const uint8_t *cid = z1 + 1;
	const uint8_t *z2 = find(cid, (uint32_t)(b + n - cid), 0);

	if (!z2)
		return;
	if (z2 > cid)
		sasl_user(s, cid, z2);
	else if (z1 > b)
		sasl_user(s, b, z1);
}

/* XOAUTH2: "user=" name ^A "auth=Bearer " token ^A ^A. */
static void sasl_xoauth2(struct mail_sess *s, const uint8_t *b, uint32_t n)
{
	struct mail_view v = { b, n };

	if (!mail_iprefix(v, "user="))
		return;
	const uint8_t *e = find(b + 5, n - 5, 1);

	sasl_user(s, b + 5, e ? e : b + n);
}

/* RFC 7628 3.1: gs2-header "n,a=" authzid "," ... */
static void sasl_oauthbearer(struct mail_sess *s, const uint8_t *b, uint32_t n)
{
	const uint8_t *c = find(b, n, ',');

	if (!c || b + n - c < 3 || c[1] != 'a' || c[2] != '=')
		return;
	const uint8_t *u = c + 3;
	const uint8_t *e = find(u, (uint32_t)(b + n - u), ',');

	sasl_user(s, u, e ? e : b + n);
}

/* RFC 5802 5.1: saslname escapes "," as "=2C" and "=" as "=3D". */
static uint32_t scram_unescape(const uint8_t *p, const uint8_t *end, uint8_t *out, uint32_t cap)
{
	uint32_t k = 0;

	for (; p < end && k < cap; p++) {
		if (p[0] == '=' && end - p >= 3 && p[1] == '2' && (p[2] | 0x20) == 'c') {
			out[k++] = ',';
			p += 2;
		} else if (p[0] == '=' && end - p >= 3 && p[1] == '3' && (p[2] | 0x20) == 'd') {
			out[k++] = '=';
			p += 2;
		} else {
			out[k++] = p[0];
		}
	}
	return k;
}

/* RFC 5802 7: client-first-message = gs2-header ("n,," / "y,," / "p=cb,"
 * [ "a=" authzid ] ",") then "n=" saslname "," "r=" nonce. */
static void sasl_scram(struct mail_sess *s, const uint8_t *b, uint32_t n)
{
	const uint8_t *end = b + n, *c1 = find(b, n, ',');
	const uint8_t *c2 = c1 ? find(c1 + 1, (uint32_t)(end - c1 - 1), ',') : NULL;
	uint8_t name[MAIL_ACCOUNT_CAP];

	if (!c2 || end - c2 < 3 || c2[1] != 'n' || c2[2] != '=')
		return;
	const uint8_t *u = c2 + 3, *e = find(u, (uint32_t)(end - u), ',');
	uint32_t k = scram_unescape(u, e ? e : end, name, sizeof(name));

	sasl_user(s, name, name + k);
}

static void sasl_response(struct mail_sess *s, struct mail_view line)
{
	uint8_t buf[MAIL_LINE_CAP];
	int n = mail_b64_decode(line, buf, sizeof(buf));

	if (n >= 0) {
		const uint8_t *sp;

		switch (s->sasl.mech) {
		case MECH_PLAIN:
			sasl_plain(s, buf, (uint32_t)n);
			break;
		case MECH_LOGIN:
			if (!s->sasl.login_pass)
				sasl_user(s, buf, buf + n);
			s->sasl.login_pass = true;
			break;
		case MECH_CRAM_MD5: /* RFC 2195 2: user SP digest */
			sp = buf + n;
			while (sp > buf && sp[-1] != ' ')
				sp--;
			if (sp > buf + 1)
				sasl_user(s, buf, sp - 1);
			break;
		case MECH_XOAUTH2:
			sasl_xoauth2(s, buf, (uint32_t)n);
			break;
		case MECH_OAUTHBEARER:
			sasl_oauthbearer(s, buf, (uint32_t)n);
			break;
		case MECH_SCRAM: /* the client-final message holds no name */
			if (!s->sasl.nresp)
				sasl_scram(s, buf, (uint32_t)n);
			break;
		default:
			break;
		}
		explicit_bzero(buf, (size_t)n);
	}
	if (s->sasl.nresp < 255)
		s->sasl.nresp++;
}

void mail_sasl_start(struct mail_sess *s, struct mail_view mech, const struct mail_view *ir)
{
	memset(&s->sasl, 0, sizeof(s->sasl));
	s->sasl.active = true;
	s->sasl.mech = (uint8_t)mech_kind(mech);
	mail_set_mech(s, mech);
	/* RFC 4954 4: "=" is an empty initial response. */
	if (ir && ir->n && !(ir->n == 1 && ir->p[0] == '='))
		sasl_response(s, *ir);
}

void mail_sasl_challenge(struct mail_sess *s, struct mail_view text)
{
	if (!s->sasl.active)
		return;
	s->sasl.due = 1;
	if (s->sasl.mech != MECH_LOGIN)
		return;
	/* LOGIN prompts: "VXNlcm5hbWU6" (Username:), "UGFzc3dvcmQ6" (Password:). */
	uint8_t buf[64];
	int n = mail_b64_decode(mail_trim(text), buf, sizeof(buf));
	struct mail_view v = { buf, n > 0 ? (uint32_t)n : 0 };

	if (mail_iprefix(v, "user"))
		s->sasl.login_pass = false;
	else if (mail_iprefix(v, "pass"))
		s->sasl.login_pass = true;
}

bool mail_sasl_client(struct mail_sess *s, struct mail_view line)
{
	if (!s->sasl.active || !s->sasl.due)
		return false;
	s->sasl.due = 0;
	if (line.n == 1 && line.p[0] == '*') {
		s->sasl.active = false; /* RFC 4954 4: the client cancels */
		return true;
	}
	sasl_response(s, line);
	return true;
}

void mail_sasl_end(struct mail_sess *s)
{
	s->sasl.active = false;
	s->sasl.due = 0;
}

/* ---- the record ------------------------------------------------------------------ */

static const char *const mail_type_names[] = { "smtp", "pop3", "imap" };
static const char *const mail_enc_names[] = { "none", "starttls", "tls" };

struct gcp_rb *mail_record_begin(struct mail_sess *s, struct gcp_dissect_ctx *ctx)
{
	if (s->emitted || !s->started)
		return NULL;
	s->emitted = true;
	struct gcp_rb *rb = gcp_dctx_record_begin(ctx, GCP_REC_MAIL, s->ts);

	if (!rb)
		return NULL;
	gcp_rb_kv_cstr(rb, "mail_type", mail_type_names[s->type]);
	if (s->account_len)
		gcp_rb_kv_str(rb, "account", s->account, s->account_len);
	gcp_rb_kv_cstr(rb, "encryption", mail_enc_names[s->enc]);
	if (s->mech_len)
		gcp_rb_kv_str(rb, "auth_mech", s->mech, s->mech_len);
	gcp_rb_kv_uint(rb, "commands", s->commands);
	return rb;
}

void gcp_mail_implicit_tls(struct gcp_dissect_ctx *ctx, uint64_t ts)
{
	enum mail_type type;

	switch (gcp_dctx_flow(ctx)->sport) {
	case 465: type = MAIL_SMTP; break;
	case 993: type = MAIL_IMAP; break;
	case 995: type = MAIL_POP3; break;
	default: return;
	}
	struct gcp_rb *rb = gcp_dctx_record_begin(ctx, GCP_REC_MAIL, ts);

	if (!rb)
		return;
	gcp_rb_kv_cstr(rb, "mail_type", mail_type_names[type]);
	gcp_rb_kv_cstr(rb, "encryption", mail_enc_names[MAIL_ENC_TLS]);
	gcp_dctx_record_end(ctx);
}

/* ---- the stream driver ------------------------------------------------------------ */

static uint32_t feed_lines(const struct mail_ops *ops, void *state, struct gcp_dissect_ctx *ctx,
			   int dir, const uint8_t *data, uint32_t len, unsigned flags)
{
	struct mail_sess *s = state;
	uint32_t off = 0;

	while (off < len && !s->done) {
		uint32_t k = ops->raw ? ops->raw(state, dir, data + off, len - off) : 0;
		struct mail_view line;

		if (k) {
			off += k;
			continue;
		}
		switch (mail_line(&s->lr[dir], data, len, &off, &line, MAIL_LINE_CAP)) {
		case MAIL_LR_LINE:
			ops->line(state, ctx, dir, line);
			break;
		case MAIL_LR_LONG:
			ops->longline(state, ctx, dir);
			break;
		case MAIL_LR_NEED:
			if (!(flags & GCP_PF_FIN) || off == len)
				return off;
			/* FIN: an unterminated last line still counts. */
			line.p = data + off;
			line.n = len - off;
			off = len;
			ops->line(state, ctx, dir, line);
			break;
		}
	}
	return s->done ? len : off;
}

struct gcp_parse_result mail_parse(const struct mail_ops *ops, void *state,
				   struct gcp_dissect_ctx *ctx, int dir, const uint8_t *data,
				   uint32_t len, unsigned flags)
{
	struct mail_sess *s = state;
	struct gcp_parse_result r = { GCP_PARSE_OK, len, 0 };

	dir = dir == GCP_DIR_S2C ? GCP_DIR_S2C : GCP_DIR_C2S;
	if (!s->done && (flags & GCP_PF_GAP)) {
		if (!ops->gap(state, dir, len))
			s->lr[dir].skipping = true; /* resynchronise at the next LF */
	} else if (!s->done && data) {
		mail_sess_touch(s, ctx);
		r.consumed = feed_lines(ops, state, ctx, dir, data, len, flags);
	}
	if (s->done) {
		r.status = GCP_PARSE_DONE;
		r.consumed = len;
	}
	return r;
}
