/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by the SMTP, POP3 and IMAP dissectors (and TLS for implicit-TLS
 * mail ports): line framing, SASL account decoding, the mail record. */
#ifndef GCP_MAIL_COMMON_H
#define GCP_MAIL_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "dissect.h"

#define MAIL_LINE_CAP 4096u   /* longest command/reply line we look at */
#define MAIL_ACCOUNT_CAP 255u
#define MAIL_MECH_CAP 32u

enum mail_type { MAIL_SMTP = 0, MAIL_POP3, MAIL_IMAP };
enum mail_enc { MAIL_ENC_NONE = 0, MAIL_ENC_STARTTLS, MAIL_ENC_TLS };

/* A view into the stream (never owned). */
struct mail_view {
	const uint8_t *p;
	uint32_t n;
};

/* ---- line framing ---------------------------------------------------------- */

struct mail_lr {
	bool skipping; /* inside an over-long line: drop bytes up to its LF */
};

enum mail_lr_res {
	MAIL_LR_LINE,  /* *line is a whole line (CRLF/LF stripped) */
	MAIL_LR_LONG,  /* a line passed cap bytes: dropped up to its LF */
	MAIL_LR_NEED,  /* no complete line at *off: call again with more */
};

/*
 * Next line of data[*off..len). *off moves past what was used; on NEED
 * it stays at the partial line (left unconsumed), or moves to len while
 * the rest of an over-long line is being dropped.
 */
enum mail_lr_res mail_line(struct mail_lr *lr, const uint8_t *data, uint32_t len, uint32_t *off,
			   struct mail_view *line, uint32_t cap);

/* ---- small text helpers ------------------------------------------------------ */

/* Split off the first space-delimited word; *rest is what follows the spaces. */
struct mail_view mail_word(struct mail_view v, struct mail_view *rest);
bool mail_ieq(struct mail_view v, const char *s);        /* case-insensitive equal */
bool mail_iprefix(struct mail_view v, const char *s);    /* case-insensitive prefix */
struct mail_view mail_trim(struct mail_view v);          /* drop SP/HT at both ends */
bool mail_icontains(struct mail_view v, const char *s);  /* case-insensitive search */

/*
 * Probe helper: data starts with one of the words in list (case-
 * insensitive) followed by SP, CR or LF. MAYBE while data is a prefix.
 */
enum gcp_probe_result mail_probe_words(const uint8_t *data, uint32_t len,
				       const char *const *list);

/* RFC 4648 4 base64 into out (cap bytes); -1 if malformed or too long. */
int mail_b64_decode(struct mail_view in, uint8_t *out, uint32_t cap);

/* ---- session: account, SASL, record ------------------------------------------ */

enum mail_mech { MECH_NONE = 0, MECH_PLAIN, MECH_LOGIN, MECH_CRAM_MD5, MECH_XOAUTH2,
		 MECH_OAUTHBEARER, MECH_SCRAM, MECH_OTHER };

struct mail_sasl {
	uint8_t mech;      /* enum mail_mech of the exchange in progress */
	uint8_t due;       /* server challenges not yet answered by the client */
	uint8_t nresp;     /* client responses seen in this exchange */
	bool active;
	bool login_pass;   /* LOGIN: the server asked for the password next */
};

/* First member of each mail dissector's state. */
struct mail_sess {
	uint8_t type;      /* enum mail_type */
	uint8_t enc;       /* enum mail_enc */
	bool emitted, started, account_sasl;
	bool done;         /* session over (QUIT answered, STARTTLS accepted) */
	struct mail_lr lr[2];
	uint8_t account_len, mech_len;
	uint32_t commands;
	uint64_t ts;       /* first payload byte */
	struct mail_sasl sasl;
	char account[MAIL_ACCOUNT_CAP];
	char mech[MAIL_MECH_CAP];
};

void mail_sess_init(struct mail_sess *s, enum mail_type type);
/* Note the time of the first payload (call on every parse). */
void mail_sess_touch(struct mail_sess *s, struct gcp_dissect_ctx *ctx);
void mail_set_account(struct mail_sess *s, struct mail_view v);
void mail_set_mech(struct mail_sess *s, struct mail_view v);

/*
 * SASL (RFC 4422) as carried by SMTP AUTH (RFC 4954), POP3 AUTH
 * (RFC 5034) and IMAP AUTHENTICATE (RFC 9051 6.2.2): the user name is
 * taken from PLAIN (RFC 4616), LOGIN, CRAM-MD5 (RFC 2195), SCRAM-*
 * (RFC 5802, RFC 7677), XOAUTH2 and OAUTHBEARER (RFC 7628) responses;
 * passwords are never kept.
 */
void mail_sasl_start(struct mail_sess *s, struct mail_view mech, const struct mail_view *ir);
/* A server challenge (base64 text): the next client line answers it. */
void mail_sasl_challenge(struct mail_sess *s, struct mail_view text);
/* A client line: true if it was a SASL response (and is used up). */
bool mail_sasl_client(struct mail_sess *s, struct mail_view line);
void mail_sasl_end(struct mail_sess *s);

/*
 * Begin the session's record (mail_type, account, encryption, auth_mech,
 * commands written); the caller adds its keys and calls
 * gcp_dctx_record_end(). NULL when already emitted or not subscribed.
 */
struct gcp_rb *mail_record_begin(struct mail_sess *s, struct gcp_dissect_ctx *ctx);

/* ---- the stream driver ------------------------------------------------------- */

struct mail_ops {
	/* Bytes at p taken as counted data (BDAT chunk, IMAP literal); 0: read a line. */
	uint32_t (*raw)(void *st, int dir, const uint8_t *p, uint32_t n);
	/* n bytes lost; true when a counted-data mode absorbed them. */
	bool (*gap)(void *st, int dir, uint32_t n);
	void (*line)(void *st, struct gcp_dissect_ctx *ctx, int dir, struct mail_view line);
	/* A line over MAIL_LINE_CAP was dropped. */
	void (*longline)(void *st, struct gcp_dissect_ctx *ctx, int dir);
};

/*
 * The parse entry of the three dissectors: complete lines are handed to
 * ops->line and consumed, a partial line is left for the next call (or
 * taken as a last line with GCP_PF_FIN). state starts with a mail_sess.
 */
struct gcp_parse_result mail_parse(const struct mail_ops *ops, void *state,
				   struct gcp_dissect_ctx *ctx, int dir, const uint8_t *data,
				   uint32_t len, unsigned flags);

/*
 * Implicit TLS (SMTPS 465 RFC 8314, IMAPS 993, POP3S 995): called by the
 * TLS dissector once a handshake was seen; emits a mail record with
 * encryption "tls" when the server port is one of these.
 */
void gcp_mail_implicit_tls(struct gcp_dissect_ctx *ctx, uint64_t ts);

#endif /* GCP_MAIL_COMMON_H */
