/* SPDX-License-Identifier: BSD-3-Clause */
/* DNS dissector internals: wire names, message scan, rdata presentation. */
#ifndef GCP_DNS_INT_H
#define GCP_DNS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HDR_LEN 12
#define DNS_NAME_MAX 255       /* RFC 1035 2.3.4: wire form, terminal 0 included */
#define DNS_NAME_TEXT_MAX 1152 /* 253 bytes as \DDD plus dots, NUL */
#define DNS_MAX_HOPS 128       /* compression pointers followed per name */
#define DNS_MAX_ANSWERS 64     /* answer RRs kept per record */
#define DNS_ANSWER_TEXT_MAX 2048 /* presentation bytes kept per answer */
#define DNS_ECS_TEXT_MAX 64

/* Header flag bits (RFC 1035 4.1.1, RFC 4035 3.2). */
enum {
	DNS_F_QR = 0x8000,
	DNS_F_AA = 0x0400,
	DNS_F_TC = 0x0200,
	DNS_F_RD = 0x0100,
	DNS_F_RA = 0x0080,
	DNS_F_AD = 0x0020,
	DNS_F_CD = 0x0010,
};

#define DNS_OPCODE(flags) (((flags) >> 11) & 0xf)
#define DNS_RCODE(flags) ((flags) & 0xf)

enum dns_type {
	DNS_T_A = 1,
	DNS_T_SOA = 6,
	DNS_T_OPT = 41,
};

/* Name decoding outcomes. */
enum dns_name_err {
	DNS_NAME_OK = 0,
	DNS_NAME_TRUNC = -1,   /* runs past the message */
	DNS_NAME_LOOP = -2,    /* pointer not strictly backwards, or hop cap */
	DNS_NAME_TOOLONG = -3, /* over 255 bytes uncompressed */
	DNS_NAME_BADLABEL = -4, /* label type 01/10 (RFC 6891 5) */
};

/*
 * Decode the (possibly compressed) name at *off of msg into uncompressed
 * wire form in out (at most DNS_NAME_MAX bytes, always 0-terminated,
 * *outlen includes the terminal 0). On success *off moves past the name
 * as it sits at *off. On error out holds the labels decoded so far and
 * *off is left alone.
 */
int gcp_dns_name_decode(const uint8_t *msg, size_t len, size_t *off, uint8_t *out,
			size_t *outlen);

/*
 * Presentation form of a wire name like dig, without the trailing dot
 * (root is "."), non-printable bytes as \DDD; lower-cases when asked.
 * Returns the length written (out is NUL-terminated, cap >= 2).
 */
size_t gcp_dns_name_text(const uint8_t *wire, size_t wlen, char *out, size_t cap, bool lower);

/* Number of labels of a wire name (root: 0). */
unsigned gcp_dns_name_labels(const uint8_t *wire, size_t wlen);
/* Offset in wire of the last label (its length byte), or -1 for root. */
int gcp_dns_name_last_label(const uint8_t *wire, size_t wlen);
/* Case-insensitive equality of two wire names (RFC 4343). */
bool gcp_dns_name_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* Mnemonics; NULL when unknown. */
const char *gcp_dns_type_name(uint16_t type);
const char *gcp_dns_class_name(uint16_t cls);
const char *gcp_dns_rcode_name(unsigned rcode);
const char *gcp_dns_opcode_name(unsigned opcode);

/* Growable-but-capped text buffer for one presentation string. */
struct dns_txt {
	char *p;
	size_t len, cap; /* cap includes room for the NUL */
	bool trunc;
};

/*
 * Render the rdata of one RR (at rdoff, rdlen bytes, names may point
 * back into msg) in presentation form. Returns false when the rdata
 * is malformed for its type; t then holds the RFC 3597 generic form.
 */
bool gcp_dns_rdata_text(struct dns_txt *t, const uint8_t *msg, size_t len, uint16_t type,
			size_t rdoff, uint16_t rdlen);

/* One answer RR kept by the scan. */
struct dns_rr {
	uint16_t type, cls;
	uint32_t ttl;
	uint16_t rdoff, rdlen;
};

/* EDNS(0) OPT pseudo-RR (RFC 6891 6.1.2, 6.1.3) and Client Subnet (RFC 7871 6). */
struct dns_edns {
	bool present;
	bool do_bit;
	uint8_t ext_rcode;
	uint8_t version;
	uint16_t udp_size;
	char ecs[DNS_ECS_TEXT_MAX]; /* "" when absent */
};

/* A scanned message: views into buf, nothing copied but the qname. */
struct dns_msg {
	const uint8_t *buf;
	uint32_t len;
	uint16_t id, flags, qdcount, ancount, nscount, arcount;
	bool has_q;
	uint16_t qtype, qclass;
	uint8_t qname[DNS_NAME_MAX];
	uint8_t qname_len;
	uint16_t nans;       /* kept in an[] */
	uint16_t ans_dropped; /* answers past DNS_MAX_ANSWERS */
	struct dns_rr an[DNS_MAX_ANSWERS];
	struct dns_edns edns;
	bool malformed;      /* something did not parse; what did is kept */
	uint32_t end;        /* offset past the last section when not malformed */
};

/*
 * Scan a whole message (RFC 1035 4.1). Returns false when it is not
 * even a header; otherwise true with m->malformed telling whether the
 * walk stopped early.
 */
bool gcp_dns_msg_scan(struct dns_msg *m, const uint8_t *buf, uint32_t len);

/* Header plausibility for probing; qdcount and sizes vs len. */
bool gcp_dns_hdr_plausible(const uint8_t *buf, uint32_t len);

enum { DNS_PLAUSIBLE_NO = 0, DNS_PLAUSIBLE_MORE = 1, DNS_PLAUSIBLE_YES = 2 };
/*
 * The same on the first avail bytes of a total-byte message (TCP body
 * still arriving): DNS_PLAUSIBLE_MORE when the bytes at hand cannot tell.
 */
int gcp_dns_hdr_probe(const uint8_t *buf, uint32_t avail, uint32_t total);

/*
 * TCP resynchronisation after a gap: the first offset of buf[0..n) where
 * a two-byte length prefix frames a plausible message (RFC 1035 4.2.2
 * has no marker to find). True with *off there; false when none is sure
 * yet: bytes before *off can go, *needed more bytes may decide. fin: no
 * more bytes will come.
 */
bool gcp_dns_tcp_sync(const uint8_t *buf, uint32_t n, bool fin, uint32_t *off, uint32_t *needed);

#endif /* GCP_DNS_INT_H */
