/* SPDX-License-Identifier: BSD-3-Clause */
/* FTP control/data shared definitions: the transfer description that the
 * control dissector keeps in an expectation entry for the data dissector,
 * and the control-line parsers (RFC 959, RFC 2428, RFC 1639, RFC 3659,
 * RFC 1123 4.1.2). */
#ifndef GCP_FTP_H
#define GCP_FTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect.h"

#define FTP_NAME_MAX 384 /* path kept per transfer / cwd (longer: truncated) */
#define FTP_USER_MAX 64

enum ftp_mode {
	FTP_MODE_PASSIVE = 1, /* PASV / EPSV: the client connects */
	FTP_MODE_ACTIVE = 2,  /* PORT / EPRT / LPRT, or the default data port: the server connects */
};

/*
 * One announced data connection. Lives in the expectation entry (shared
 * by both flows); the control side fills in the command, file name and
 * replies while the data flow is running, the data side reads it at its
 * end. Plain bytes only: it is copied in by value.
 */
struct ftp_xfer {
	uint64_t ctl_flow_id;
	uint64_t announced_size; /* "(N bytes)" of the 150 reply, when given */
	uint64_t rest_offset;    /* REST marker the transfer started at (RFC 3659 5) */
	uint16_t reply;          /* last final reply to the transfer command */
	uint8_t mode;            /* enum ftp_mode */
	char type;               /* TYPE A/I/E/L; RFC 959 default A */
	bool has_cmd, has_size, upload;
	bool partial;            /* not the whole file: after REST, or APPE */
	char cmd[5];
	char user[FTP_USER_MAX];
	uint16_t name_len;
	char filename[FTP_NAME_MAX];
};

_Static_assert(sizeof(struct ftp_xfer) <= GCP_EXPECT_DATA_MAX, "ftp_xfer too large");

extern const struct gcp_dissector gcp_dissector_ftp;
extern const struct gcp_dissector gcp_dissector_ftpdata;

/* ---- parsers (ftp_parse.c); 0 on success, -1 when malformed ---------- */

/* 227 reply text: the first h1,h2,h3,h4,p1,p2 (RFC 959 4.1.2, RFC 1123 4.1.2.6). */
int gcp_ftp_parse_pasv(const char *s, size_t n, uint8_t addr[4], uint16_t *port);
/* PORT argument h1,h2,h3,h4,p1,p2 (RFC 959 4.1.2). */
int gcp_ftp_parse_port(const char *s, size_t n, uint8_t addr[4], uint16_t *port);
/* 229 reply text "(<d><d><d><port><d>)" (RFC 2428 3). */
int gcp_ftp_parse_epsv(const char *s, size_t n, uint16_t *port);
/* EPRT argument <d><af><d><addr><d><port><d> (RFC 2428 2); *af is 1 or 2. */
int gcp_ftp_parse_eprt(const char *s, size_t n, int *af, uint16_t *port);
/*
 * RFC 1639: LPRT argument, or the first such list in a 228 (LPSV) reply:
 * af,hal,h1..hN,pal,p1,p2 with af 4 (hal 4) or 6 (hal 16), pal 2.
 * *af is 4 or 6.
 */
int gcp_ftp_parse_lprt(const char *s, size_t n, int *af, uint16_t *port);
int gcp_ftp_parse_lpsv(const char *s, size_t n, int *af, uint16_t *port);
/* REST marker as a decimal byte offset (RFC 3659 5.3, stream mode). */
int gcp_ftp_parse_rest(const char *s, size_t n, uint64_t *off);
/* 257 reply text: the quoted path, "" standing for " (RFC 959 appendix II). */
int gcp_ftp_parse_257(const char *s, size_t n, char *out, size_t cap, size_t *outlen);
/* "(N bytes)" in a 150 reply (wu-ftpd, NetBSD ftpd, vsftpd). */
int gcp_ftp_parse_size(const char *s, size_t n, uint64_t *size);
/*
 * Join arg to directory base (arg absolute: base ignored) and drop "."
 * and ".." components. A relative result stays relative. Returns the
 * length, or -1 when it does not fit or ".." leaves a relative base.
 */
int gcp_ftp_path_join(const char *base, size_t blen, const char *arg, size_t alen, char *out,
		      size_t cap);

#endif /* GCP_FTP_H */
