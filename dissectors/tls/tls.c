/* SPDX-License-Identifier: BSD-3-Clause */
/* TLS (HTTPS) dissector: record layer, handshake reassembly, ClientHello /
 * ServerHello / Certificate, JA3 and JA4; one http record per connection. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../smtp/mail_common.h"
#include "cursor.h"
#include "digest.h"
#include "dissect.h"
#include "dn.h"
#include "fmt.h"
#include "tls.h"

/* RFC 5246 6.2.1 / RFC 8446 5.1 content types. */
enum {
	TLS_CT_CCS = 20,
	TLS_CT_ALERT = 21,
	TLS_CT_HANDSHAKE = 22,
	TLS_CT_APPDATA = 23,
	TLS_CT_HEARTBEAT = 24,
};

/* RFC 8446 4 / RFC 5246 7.4 handshake types we look at. */
enum {
	TLS_HS_CLIENT_HELLO = 1,
	TLS_HS_SERVER_HELLO = 2,
	TLS_HS_CERTIFICATE = 11,
	TLS_HS_SERVER_HELLO_DONE = 14,
};

/* IANA TLS ExtensionType values. */
enum {
	TLS_EXT_SNI = 0x0000,
	TLS_EXT_GROUPS = 0x000a,
	TLS_EXT_EC_POINT_FORMATS = 0x000b,
	TLS_EXT_SIG_ALGS = 0x000d,
	TLS_EXT_ALPN = 0x0010,
	TLS_EXT_SUPPORTED_VERSIONS = 0x002b,
	TLS_EXT_ECH = 0xfe0d,
};

#define TLS_REC_HDR 5
/* RFC 5246 6.2.3: TLSCiphertext.length <= 2^14 + 2048. */
#define TLS_REC_MAX ((1u << 14) + 2048)
/* Largest handshake message we reassemble; bigger ones are skipped. */
#define TLS_HS_CAP (64u * 1024)
/* Bounds for the JA3/JA4 work arrays (real hellos stay far below). */
#define TLS_MAX_CIPHERS 512
#define TLS_MAX_EXTS 256
#define TLS_FP_TEXT 8192

#define TLS_SNI_MAX 255
#define TLS_ALPN_MAX 128
#define TLS_ALPN_SEL_MAX 64
#define TLS_NAME_MAX 256

/* Handshake reassembly for one direction (RFC 8446 5.1: messages may
 * span records and records may hold several messages). */
struct tls_dir {
	uint8_t *buf;      /* gcp_dctx_alloc'd, cap bytes */
	uint32_t cap;
	uint32_t have;     /* bytes of the current message buffered (header included) */
	uint32_t want;     /* its total size; 0 while the header is incomplete */
	uint32_t skip;     /* bytes of an ignored message still to pass over */
	uint8_t hdr[4];
	uint8_t hdr_len;
	uint8_t nrec;      /* records seen, saturating */
	bool encrypted;    /* after ChangeCipherSpec (TLS <= 1.2) */
	uint8_t lost;      /* enum tls_lost: what a gap took */
};

/* After a gap (tls_resync): the record framing, then, once records are
 * framed again, the start of a handshake message (fragments in between
 * continue a lost one). Off the common path: tls_parse checks lost once. */
enum tls_lost { TLS_LOST_NONE = 0, TLS_LOST_RECORD, TLS_LOST_HANDSHAKE };

struct tls_state {
	bool handshake_seen; /* first member: read by gcp_tls_handshake_seen() */
	bool ch_seen, sh_seen, hrr, ech, cert_done, emitted, done, want;
	bool quic;           /* the handshake comes in QUIC CRYPTO frames */
	gcp_tls_extra_fn extra; /* more keys on the record (QUIC) */
	void *extra_arg;
	uint16_t client_legacy, client_max, server_version;
	uint32_t cipher;     /* 16-bit suite, or 24-bit SSLv2 cipher kind */
	bool sslv2_cipher;
	uint64_t ts;
	struct tls_dir dir[2];
	uint8_t sni_len, alpn_len, alpn_sel_len;
	uint16_t subj_len, iss_len;
	char sni[TLS_SNI_MAX];
	uint8_t alpn[TLS_ALPN_MAX]; /* offered list, wire format, whole entries */
	char alpn_sel[TLS_ALPN_SEL_MAX];
	char ja3[33];
	char ja4[40];
	char subject[TLS_NAME_MAX];
	char issuer[TLS_NAME_MAX];
};

bool gcp_tls_handshake_seen(const void *state)
{
	return ((const struct tls_state *)state)->handshake_seen;
}

/* ---- small helpers --------------------------------------------------------- */

/* RFC 8701: GREASE values are 0x?a?a with equal bytes. */
static bool tls_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* "0x%0*x" into buf (n >= 3 + width: v fits width digits). */
static const char *tls_hex_text(char *buf, size_t n, unsigned v, unsigned width)
{
	(void)n;
	buf[0] = '0';
	buf[1] = 'x';
	buf[2 + gcp_fmt_hex_u64(buf + 2, v, width)] = '\0';
	return buf;
}

static const char *tls_version_text(uint16_t v, char *buf, size_t n)
{
	switch (v) {
	case 0x0002: return "SSLv2";
	case 0x0300: return "SSLv3";
	case 0x0301: return "TLSv1.0";
	case 0x0302: return "TLSv1.1";
	case 0x0303: return "TLSv1.2";
	case 0x0304: return "TLSv1.3";
	default:
		return tls_hex_text(buf, n, v, 4);
	}
}

struct tls_suite {
	uint16_t id;
	const char *name;
};

/* IANA TLS Cipher Suites registry, common entries, sorted by id. */
static const struct tls_suite tls_suites[] = {
	{ 0x0001, "TLS_RSA_WITH_NULL_MD5" },
	{ 0x0002, "TLS_RSA_WITH_NULL_SHA" },
	{ 0x0004, "TLS_RSA_WITH_RC4_128_MD5" },
	{ 0x0005, "TLS_RSA_WITH_RC4_128_SHA" },
	{ 0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA" },
	{ 0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA" },
	{ 0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA" },
	{ 0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA" },
	{ 0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA" },
	{ 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA" },
	{ 0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA" },
	{ 0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA" },
	{ 0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256" },
	{ 0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA" },
	{ 0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256" },
	{ 0x0084, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA" },
	{ 0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV" },
	{ 0x1301, "TLS_AES_128_GCM_SHA256" },
	{ 0x1302, "TLS_AES_256_GCM_SHA384" },
	{ 0x1303, "TLS_CHACHA20_POLY1305_SHA256" },
	{ 0x1304, "TLS_AES_128_CCM_SHA256" },
	{ 0x1305, "TLS_AES_128_CCM_8_SHA256" },
	{ 0x5600, "TLS_FALLBACK_SCSV" },
	{ 0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA" },
	{ 0xc008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA" },
	{ 0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" },
	{ 0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" },
	{ 0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA" },
	{ 0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA" },
	{ 0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" },
	{ 0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" },
	{ 0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256" },
	{ 0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384" },
	{ 0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384" },
	{ 0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" },
	{ 0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" },
	{ 0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
};

static const char *tls_cipher_text(const struct tls_state *st, char *buf, size_t n)
{
	size_t lo = 0, hi = sizeof(tls_suites) / sizeof(tls_suites[0]);

	if (st->sslv2_cipher)
		return tls_hex_text(buf, n, st->cipher & 0xffffff, 6);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (tls_suites[mid].id == st->cipher)
			return tls_suites[mid].name;
		if (tls_suites[mid].id < st->cipher)
			lo = mid + 1;
		else
			hi = mid;
	}
	return tls_hex_text(buf, n, st->cipher & 0xffff, 4);
}

/* Bounded text builder: overflow sets err and keeps what fit. */
struct tls_sb {
	char *p;
	size_t len, cap;
	bool err;
};

static void sb_put(struct tls_sb *sb, const char *s, size_t n)
{
	if (sb->err || sb->cap - sb->len < n + 1) {
		sb->err = true;
		return;
	}
	memcpy(sb->p + sb->len, s, n);
	sb->len += n;
	sb->p[sb->len] = '\0';
}

/* Fingerprint text is numbers joined by separators: "%u" and "%04x" by
 * hand, snprintf was a quarter of a ClientHello's cost. */
/* Room for n bytes and the NUL: written in place (what sb_put would do). */
static char *sb_room(struct tls_sb *sb, size_t n)
{
	return !sb->err && sb->cap - sb->len >= n + 1 ? sb->p + sb->len : NULL;
}

static void sb_dec(struct tls_sb *sb, unsigned v)
{
	char tmp[GCP_FMT_U64_LEN], *p = sb_room(sb, GCP_FMT_U64_LEN);

	if (!p) { /* near the end: the exact length decides */
		sb_put(sb, tmp, gcp_fmt_u64(tmp, v));
		return;
	}
	sb->len += gcp_fmt_u64(p, v);
	sb->p[sb->len] = '\0';
}

/* Separator sep (none when 0), then v (16 bits) as "%04x". */
static void sb_hex4(struct tls_sb *sb, char sep, unsigned v)
{
	char tmp[5], *p = sb_room(sb, 5);
	size_t k = 0;

	if (!p)
		p = tmp;
	if (sep)
		p[k++] = sep;
	p[k] = gcp_fmt_hexl[v >> 12 & 15];
	p[k + 1] = gcp_fmt_hexl[v >> 8 & 15];
	p[k + 2] = gcp_fmt_hexl[v >> 4 & 15];
	p[k + 3] = gcp_fmt_hexl[v & 15];
	if (p == tmp) {
		sb_put(sb, tmp, k + 4);
		return;
	}
	sb->len += k + 4;
	sb->p[sb->len] = '\0';
}

/* md: fetched once (digest.h); NULL (not in the provider) leaves out empty. */
static void tls_hex_digest(const EVP_MD *md, const char *s, size_t n, char *out, size_t nhex)
{
	static const char hx[] = "0123456789abcdef";
	unsigned char dg[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	size_t i;

	out[0] = '\0';
	if (!gcp_md_digest(md, s, n, dg, &dlen))
		return;
	for (i = 0; i < nhex && i / 2 < dlen; i++)
		out[i] = hx[(i & 1) ? dg[i / 2] & 15 : dg[i / 2] >> 4];
	out[i] = '\0';
}

/* ---- ClientHello (RFC 8446 4.1.2, RFC 5246 7.4.1.2) ------------------------- */

struct tls_list {
	const uint8_t *p;
	uint32_t n; /* bytes */
};

struct tls_ch {
	uint16_t legacy_version;
	uint16_t max_version; /* supported_versions, highest non-GREASE; 0: absent */
	struct tls_list ciphers, exts, groups, pf, sigalgs, alpn, sni;
	bool has_sni, ech;
};

/* server_name (RFC 6066 3): first host_name entry. */
static void ch_ext_sni(struct tls_ch *ch, struct gcp_cur c)
{
	struct gcp_cur l = gcp_cur_sub(&c, gcp_cur_be16(&c));

	while (gcp_cur_left(&l) >= 3) {
		uint8_t type = gcp_cur_u8(&l);
		uint16_t n = gcp_cur_be16(&l);
		const uint8_t *name = gcp_cur_bytes(&l, n);

		if (name && type == 0 && n > 0) {
			ch->sni.p = name;
			ch->sni.n = n;
			return;
		}
	}
}

/* A vector with a length prefix of lenbytes (1 or 2) filling the extension. */
static struct tls_list ch_vec(struct gcp_cur c, int lenbytes, unsigned unit)
{
	struct tls_list l = { NULL, 0 };
	uint32_t n = lenbytes == 1 ? gcp_cur_u8(&c) : gcp_cur_be16(&c);
	const uint8_t *p = gcp_cur_bytes(&c, n);

	if (p && n % unit == 0) {
		l.p = p;
		l.n = n;
	}
	return l;
}

/* supported_versions (RFC 8446 4.2.1), ClientHello form. */
static uint16_t ch_max_version(struct gcp_cur c)
{
	struct tls_list l = ch_vec(c, 1, 2);
	uint16_t best = 0;

	for (uint32_t i = 0; l.p && i < l.n; i += 2) {
		uint16_t v = gcp_be16(l.p + i);

		if (!tls_grease(v) && v > best)
			best = v;
	}
	return best;
}

static void ch_ext(struct tls_ch *ch, uint16_t type, struct gcp_cur c)
{
	switch (type) {
	case TLS_EXT_SNI:
		ch->has_sni = true;
		ch_ext_sni(ch, c);
		break;
	case TLS_EXT_GROUPS: ch->groups = ch_vec(c, 2, 2); break;
	case TLS_EXT_EC_POINT_FORMATS: ch->pf = ch_vec(c, 1, 1); break;
	case TLS_EXT_SIG_ALGS: ch->sigalgs = ch_vec(c, 2, 2); break;
	case TLS_EXT_ALPN: ch->alpn = ch_vec(c, 2, 1); break;
	case TLS_EXT_SUPPORTED_VERSIONS: ch->max_version = ch_max_version(c); break;
	case TLS_EXT_ECH: ch->ech = true; break;
	default: break;
	}
}

/* Returns 0, or -1 when the body is malformed. */
static int ch_parse(struct tls_ch *ch, const uint8_t *body, uint32_t n)
{
	struct gcp_cur c = gcp_cur_make(body, n);

	memset(ch, 0, sizeof(*ch));
	ch->legacy_version = gcp_cur_be16(&c);
	gcp_cur_skip(&c, 32);                  /* random */
	gcp_cur_skip(&c, gcp_cur_u8(&c));      /* legacy_session_id */
	uint16_t cn = gcp_cur_be16(&c);

	ch->ciphers.p = gcp_cur_bytes(&c, cn);
	ch->ciphers.n = cn;
	gcp_cur_skip(&c, gcp_cur_u8(&c));      /* legacy_compression_methods */
	if (c.err || cn % 2)
		return -1;
	if (gcp_cur_left(&c) < 2)              /* RFC 5246 7.4.1.2: extensions optional */
		return 0;
	struct gcp_cur e = gcp_cur_sub(&c, gcp_cur_be16(&c));

	if (e.err)
		return -1;
	ch->exts.p = e.p;
	ch->exts.n = (uint32_t)(e.end - e.p);
	while (gcp_cur_left(&e) > 0) {
		uint16_t type = gcp_cur_be16(&e);
		struct gcp_cur x = gcp_cur_sub(&e, gcp_cur_be16(&e));

		if (e.err)
			return -1;
		ch_ext(ch, type, x);
	}
	return 0;
}

/* Next extension type of a block ch_parse() validated; false at the end. */
static bool ch_next_ext(const struct tls_ch *ch, uint32_t *off, uint16_t *type)
{
	if (*off + 4 > ch->exts.n)
		return false;
	*type = gcp_be16(ch->exts.p + *off);
	*off += 4u + gcp_be16(ch->exts.p + *off + 2);
	return true;
}

static void sb_dec_list(struct tls_sb *sb, struct tls_list l, unsigned unit)
{
	bool first = true;

	for (uint32_t i = 0; l.p && i + unit <= l.n; i += unit) {
		unsigned v = unit == 2 ? gcp_be16(l.p + i) : l.p[i];

		if (unit == 2 && tls_grease((uint16_t)v))
			continue;
		if (!first)
			sb_put(sb, "-", 1);
		sb_dec(sb, v);
		first = false;
	}
}

/* JA3 (salesforce/ja3): SSLVersion,Ciphers,Extensions,Curves,PointFormats. */
static void tls_ja3(struct tls_state *st, const struct tls_ch *ch, char *text, size_t cap)
{
	struct tls_sb sb = { text, 0, cap, false };
	bool first = true;
	uint16_t t;

	text[0] = '\0';
	sb_dec(&sb, ch->legacy_version);
	sb_put(&sb, ",", 1);
	sb_dec_list(&sb, ch->ciphers, 2);
	sb_put(&sb, ",", 1);
	for (uint32_t o = 0; ch_next_ext(ch, &o, &t);) {
		if (tls_grease(t))
			continue;
		if (!first)
			sb_put(&sb, "-", 1);
		sb_dec(&sb, t);
		first = false;
	}
	sb_put(&sb, ",", 1);
	sb_dec_list(&sb, ch->groups, 2);
	sb_put(&sb, ",", 1);
	sb_dec_list(&sb, ch->pf, 1);
	if (!sb.err)
		tls_hex_digest(gcp_md_md5(), text, sb.len, st->ja3, 32);
}

/* ---- JA4 (FoxIO JA4 spec, technical_details/JA4.md) ------------------------- */

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Ascending; insertion sort for the usual few dozen values (qsort's
 * callback per comparison cost more than the sorting). */
static void sort_u16(uint16_t *v, unsigned n)
{
	if (n > 64) {
		qsort(v, n, sizeof(*v), cmp_u16);
		return;
	}
	for (unsigned i = 1; i < n; i++) {
		uint16_t x = v[i];
		unsigned j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static const char *ja4_version(uint16_t v)
{
	switch (v) {
	case 0x0304: return "13";
	case 0x0303: return "12";
	case 0x0302: return "11";
	case 0x0301: return "10";
	case 0x0300: return "s3";
	case 0x0002: return "s2";
	case 0xfeff: return "d1";
	case 0xfefd: return "d2";
	case 0xfefc: return "d3";
	default: return "00";
	}
}

static bool ja4_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* First and last character of the first ALPN value, hex when not alnum. */
static void ja4_alpn(const struct tls_ch *ch, char out[3])
{
	static const char hx[] = "0123456789abcdef";
	struct tls_list l = ch->alpn;

	out[0] = out[1] = '0';
	out[2] = '\0';
	if (!l.p || l.n < 2 || l.p[0] == 0 || 1u + l.p[0] > l.n)
		return;
	uint8_t f = l.p[1], z = l.p[l.p[0]];

	if (ja4_alnum(f) && ja4_alnum(z)) {
		out[0] = (char)f;
		out[1] = (char)z;
	} else {
		out[0] = hx[f >> 4];
		out[1] = hx[z & 15];
	}
}

/* Sorted 4-hex list of n values, or "000000000000" when empty. */
static bool ja4_hash_list(uint16_t *v, unsigned n, struct tls_list sig, char *text,
			  size_t cap, char out[13])
{
	struct tls_sb sb = { text, 0, cap, false };

	sort_u16(v, n);
	text[0] = '\0';
	for (unsigned i = 0; i < n; i++)
		sb_hex4(&sb, i ? ',' : 0, v[i]);
	bool first = true;

	for (uint32_t i = 0; sig.p && i + 2 <= sig.n; i += 2) {
		uint16_t a = gcp_be16(sig.p + i);

		if (tls_grease(a))
			continue;
		sb_hex4(&sb, first ? '_' : ',', a);
		first = false;
	}
	if (sb.err)
		return false;
	if (n == 0)
		memcpy(out, "000000000000", 13);
	else
		tls_hex_digest(gcp_md_sha256(), text, sb.len, out, 12);
	return true;
}

/* "t%s%c%02u%02u%s_%s_%s" (version, d/i, counts <= 99, ALPN, two hashes):
 * at most 1 + 2 + 1 + 2 + 2 + 2 + 1 + 12 + 1 + 12 = 36 bytes and the NUL. */
static void ja4_text(char out[40], char proto, const char *ver, char sni, unsigned nc,
		     unsigned ne, const char alpn[3], const char b[13], const char c[13])
{
	char *p = out;

	*p++ = proto;
	*p++ = ver[0];
	*p++ = ver[1];
	*p++ = sni;
	memcpy(p, gcp_fmt_digits2 + 2 * nc, 2);
	memcpy(p + 2, gcp_fmt_digits2 + 2 * ne, 2);
	p += 4;
	*p++ = alpn[0];
	*p++ = alpn[1];
	*p++ = '_';
	size_t bl = strlen(b), cl = strlen(c); /* 12, or 0 when the digest failed */
	memcpy(p, b, bl);
	p += bl;
	*p++ = '_';
	memcpy(p, c, cl);
	p[cl] = '\0';
}

static void tls_ja4(struct tls_state *st, const struct tls_ch *ch, char *text, size_t cap)
{
	uint16_t ciph[TLS_MAX_CIPHERS], ext[TLS_MAX_EXTS];
	unsigned nc = 0, ne = 0, next = 0;
	struct tls_list none = { NULL, 0 };
	char alpn[3], b[13], c[13];
	uint16_t t;

	for (uint32_t i = 0; i + 2 <= ch->ciphers.n; i += 2) {
		uint16_t v = gcp_be16(ch->ciphers.p + i);

		if (tls_grease(v))
			continue;
		if (nc == TLS_MAX_CIPHERS)
			return;
		ciph[nc++] = v;
	}
	for (uint32_t o = 0; ch_next_ext(ch, &o, &t);) {
		if (tls_grease(t))
			continue;
		next++;
		if (t == TLS_EXT_SNI || t == TLS_EXT_ALPN)
			continue;
		if (ne == TLS_MAX_EXTS)
			return;
		ext[ne++] = t;
	}
	ja4_alpn(ch, alpn);
	if (!ja4_hash_list(ciph, nc, none, text, cap, b) ||
	    !ja4_hash_list(ext, ne, ch->sigalgs, text, cap, c))
		return;
	/* JA4 section a: "q" for QUIC, "t" for TLS over TCP */
	ja4_text(st->ja4, st->quic ? 'q' : 't',
		 ja4_version(ch->max_version ? ch->max_version : ch->legacy_version),
		 ch->has_sni ? 'd' : 'i', nc > 99 ? 99 : nc, next > 99 ? 99 : next, alpn, b, c);
}

/* ---- what the ClientHello leaves in the state ------------------------------ */

static void ch_keep_alpn(struct tls_state *st, struct tls_list l)
{
	uint32_t o = 0;

	/* Whole entries only (RFC 7301 3.1: ProtocolName<1..2^8-1>). */
	while (l.p && o < l.n && o + 1u + l.p[o] <= l.n && o + 1u + l.p[o] <= TLS_ALPN_MAX)
		o += 1u + l.p[o];
	memcpy(st->alpn, l.p ? l.p : st->alpn, o);
	st->alpn_len = (uint8_t)o;
}

static void ch_keep(struct tls_state *st, const struct tls_ch *ch)
{
	st->client_legacy = ch->legacy_version;
	st->client_max = ch->max_version;
	st->ech = ch->ech;
	if (ch->sni.p) {
		uint32_t n = ch->sni.n < TLS_SNI_MAX ? ch->sni.n : TLS_SNI_MAX;

		memcpy(st->sni, ch->sni.p, n);
		st->sni_len = (uint8_t)n;
	}
	ch_keep_alpn(st, ch->alpn);
}

static void tls_client_hello(struct tls_state *st, struct gcp_dissect_ctx *ctx,
			     const uint8_t *body, uint32_t n)
{
	struct tls_ch ch;
	char text[TLS_FP_TEXT];

	if (st->ch_seen) /* second ClientHello after HelloRetryRequest: keep the first */
		return;
	if (ch_parse(&ch, body, n) < 0) {
		gcp_dctx_anomaly(ctx);
		return;
	}
	st->ch_seen = st->handshake_seen = true;
	st->ts = gcp_dctx_now(ctx);
	ch_keep(st, &ch);
	if (!st->want)
		return;
	tls_ja3(st, &ch, text, sizeof(text));
	tls_ja4(st, &ch, text, sizeof(text));
}

/* ---- ServerHello (RFC 8446 4.1.3, RFC 5246 7.4.1.3) ------------------------- */

/* RFC 8446 4.1.3: a HelloRetryRequest carries SHA-256("HelloRetryRequest"). */
static const uint8_t tls_hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* ALPN in a ServerHello: exactly one ProtocolName (RFC 7301 3.1). */
static void sh_ext_alpn(struct tls_state *st, struct gcp_cur c)
{
	struct gcp_cur l = gcp_cur_sub(&c, gcp_cur_be16(&c));
	uint8_t n = gcp_cur_u8(&l);
	const uint8_t *p = gcp_cur_bytes(&l, n);

	if (!p || n == 0)
		return;
	if (n >= TLS_ALPN_SEL_MAX)
		n = TLS_ALPN_SEL_MAX - 1;
	memcpy(st->alpn_sel, p, n);
	st->alpn_sel_len = n;
}

static void sh_exts(struct tls_state *st, struct gcp_cur e)
{
	while (gcp_cur_left(&e) >= 4) {
		uint16_t type = gcp_cur_be16(&e);
		struct gcp_cur x = gcp_cur_sub(&e, gcp_cur_be16(&e));

		if (e.err)
			return;
		if (type == TLS_EXT_SUPPORTED_VERSIONS) {
			uint16_t v = gcp_cur_be16(&x); /* RFC 8446 4.2.1: selected_version */

			if (!x.err)
				st->server_version = v;
		} else if (type == TLS_EXT_ALPN) {
			sh_ext_alpn(st, x);
		}
	}
}

/* Returns true when the server's side of the handshake is now known. */
static bool tls_server_hello(struct tls_state *st, struct gcp_dissect_ctx *ctx,
			     const uint8_t *body, uint32_t n)
{
	struct gcp_cur c = gcp_cur_make(body, n);
	uint16_t version = gcp_cur_be16(&c);
	const uint8_t *random = gcp_cur_bytes(&c, 32);

	gcp_cur_skip(&c, gcp_cur_u8(&c)); /* legacy_session_id_echo */
	uint16_t cipher = gcp_cur_be16(&c);

	gcp_cur_skip(&c, 1);              /* legacy_compression_method */
	if (c.err) {
		gcp_dctx_anomaly(ctx);
		return false;
	}
	st->handshake_seen = true;
	st->server_version = version;
	st->cipher = cipher;
	st->sslv2_cipher = false;
	if (gcp_cur_left(&c) >= 2)
		sh_exts(st, gcp_cur_sub(&c, gcp_cur_be16(&c)));
	if (memcmp(random, tls_hrr_random, 32) == 0) {
		st->hrr = true; /* a second ClientHello and ServerHello follow */
		return false;
	}
	st->sh_seen = true;
	/* TLS 1.3: everything after the ServerHello is encrypted (RFC 8446 2). */
	return st->server_version >= 0x0304 && st->server_version != 0xffff;
}

/* ---- Certificate (RFC 5246 7.4.2) -------------------------------------------- */

/*
 * One DER TLV (X.690 8.1): *tlv and *tlv_len cover tag, length and value so
 * the element can be handed to OpenSSL whole. Definite lengths only, as
 * DER requires. Returns the tag, or -1 when malformed.
 */
static int der_next(struct gcp_cur *c, const uint8_t **tlv, uint32_t *tlv_len,
		    struct gcp_cur *val)
{
	const uint8_t *start = c->p;
	int tag = gcp_cur_u8(c);
	uint32_t len = gcp_cur_u8(c);

	if (len & 0x80) {
		unsigned nb = len & 0x7f;

		if (nb == 0 || nb > 3)
			return -1;
		len = 0;
		while (nb--)
			len = len << 8 | gcp_cur_u8(c);
	}
	*val = gcp_cur_sub(c, len);
	if (c->err || val->err)
		return -1;
	*tlv = start;
	*tlv_len = (uint32_t)(val->end - start);
	return tag;
}

/*
 * Subject and issuer of one DER certificate, RFC 2253 text. Only the two
 * Name elements of tbsCertificate (RFC 5280 4.1) are decoded: a full
 * d2i_X509() also decodes the public key, which costs far more than the
 * rest of the handshake. dn.c turns them into text.
 */
static void tls_cert_names(struct tls_state *st, const uint8_t *der, uint32_t n)
{
	struct gcp_cur c = gcp_cur_make(der, n), cert, tbs, v;
	const uint8_t *tlv, *issuer = NULL;
	uint32_t tlv_len, issuer_len = 0;
	int i = 0;

	if (der_next(&c, &tlv, &tlv_len, &cert) != 0x30 ||
	    der_next(&cert, &tlv, &tlv_len, &tbs) != 0x30)
		return;
	/* [0] version (optional), serial, signature, issuer, validity, subject */
	for (int tag; (tag = der_next(&tbs, &tlv, &tlv_len, &v)) >= 0; i++) {
		if (i == 0 && tag == 0xa0) {
			i = -1; /* the version does not count as a field */
			continue;
		}
		if (i == 2 && tag == 0x30) {
			issuer = tlv;
			issuer_len = tlv_len;
		} else if (i == 4 && tag == 0x30) {
			st->subj_len = gcp_tls_dn_text(tlv, tlv_len, st->subject, sizeof(st->subject));
			break;
		}
	}
	if (issuer)
		st->iss_len = gcp_tls_dn_text(issuer, issuer_len, st->issuer, sizeof(st->issuer));
}

static void tls_certificate(struct tls_state *st, struct gcp_dissect_ctx *ctx,
			    const uint8_t *body, uint32_t n)
{
	struct gcp_cur c = gcp_cur_make(body, n);
	struct gcp_cur list = gcp_cur_sub(&c, gcp_cur_be24(&c));
	uint32_t len = gcp_cur_be24(&list);
	const uint8_t *der = gcp_cur_bytes(&list, len);

	if (!der) {
		gcp_dctx_anomaly(ctx);
		return;
	}
	st->cert_done = true;
	if (st->want)
		tls_cert_names(st, der, len);
}

/* ---- the record -------------------------------------------------------------- */

static void emit_tls_map(struct gcp_rb *rb, const struct tls_state *st, const char *version)
{
	char vbuf[8], cbuf[12];

	gcp_rb_key(rb, "tls");
	gcp_rb_map_begin(rb);
	if (st->sni_len)
		gcp_rb_kv_str(rb, "sni", st->sni, st->sni_len);
	if (st->alpn_len) {
		gcp_rb_key(rb, "alpn");
		gcp_rb_array_begin(rb);
		for (unsigned o = 0; o < st->alpn_len; o += 1u + st->alpn[o])
			gcp_rb_str(rb, (const char *)st->alpn + o + 1, st->alpn[o]);
		gcp_rb_end(rb);
	}
	if (st->alpn_sel_len)
		gcp_rb_kv_str(rb, "alpn_selected", st->alpn_sel, st->alpn_sel_len);
	if (version)
		gcp_rb_kv_cstr(rb, "version", version);
	if (st->sh_seen || st->sslv2_cipher)
		gcp_rb_kv_cstr(rb, "cipher", tls_cipher_text(st, cbuf, sizeof(cbuf)));
	if (st->ja3[0])
		gcp_rb_kv_cstr(rb, "ja3", st->ja3);
	if (st->ja4[0])
		gcp_rb_kv_cstr(rb, "ja4", st->ja4);
	if (st->ech)
		gcp_rb_kv_bool(rb, "ech", true);
	if (st->subj_len)
		gcp_rb_kv_str(rb, "cert_subject", st->subject, st->subj_len);
	if (st->iss_len)
		gcp_rb_kv_str(rb, "cert_issuer", st->issuer, st->iss_len);
	if (st->ch_seen) {
		uint16_t cv = st->client_max ? st->client_max : st->client_legacy;

		gcp_rb_kv_cstr(rb, "client_version", tls_version_text(cv, vbuf, sizeof(vbuf)));
	}
	gcp_rb_end(rb);
}

/* RFC 7301 / IANA ALPN ids: the HTTP version the server chose, if HTTP. */
static const char *tls_http_version(const struct tls_state *st)
{
	static const struct {
		const char *id, *version;
	} m[] = { { "h2", "HTTP/2" }, { "http/1.1", "HTTP/1.1" }, { "http/1.0", "HTTP/1.0" },
		  { "h3", "HTTP/3" } };

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (st->alpn_sel_len == strlen(m[i].id) &&
		    memcmp(st->alpn_sel, m[i].id, st->alpn_sel_len) == 0)
			return m[i].version;
	return NULL;
}

/* One http record per connection (C4-SCHEMA: scheme https, host = SNI). */
static void tls_emit(struct tls_state *st, struct gcp_dissect_ctx *ctx)
{
	char vbuf[8];
	const char *version = NULL, *http_version;

	if (st->emitted || !st->handshake_seen || (st->quic && !st->ch_seen))
		return;
	st->emitted = true;
	uint64_t ts = st->ts ? st->ts : gcp_dctx_flow(ctx)->first_ts;

	gcp_mail_implicit_tls(ctx, ts); /* SMTPS/IMAPS/POP3S: a mail record too */
	struct gcp_rb *rb = gcp_dctx_record_begin(ctx, GCP_REC_HTTP, ts);

	if (!rb)
		return;
	if (st->sh_seen || st->sslv2_cipher)
		version = tls_version_text(st->server_version, vbuf, sizeof(vbuf));
	else if (st->ch_seen)
		version = tls_version_text(st->client_max ? st->client_max : st->client_legacy,
					   vbuf, sizeof(vbuf));
	gcp_rb_kv_cstr(rb, "scheme", "https");
	if (st->sni_len)
		gcp_rb_kv_str(rb, "host", st->sni, st->sni_len);
	if (version)
		gcp_rb_kv_cstr(rb, "version", version);
	if ((http_version = tls_http_version(st)) != NULL)
		gcp_rb_kv_cstr(rb, "http_version", http_version);
	emit_tls_map(rb, st, version);
	if (st->extra)
		st->extra(rb, st->extra_arg);
	gcp_dctx_record_end(ctx);
}

static void tls_finish(struct tls_state *st, struct gcp_dissect_ctx *ctx)
{
	tls_emit(st, ctx);
	st->done = true;
}

/* ---- handshake message reassembly ---------------------------------------------- */

static bool hs_wanted(int dir, uint8_t type)
{
	if (dir == GCP_DIR_C2S)
		return type == TLS_HS_CLIENT_HELLO;
	return type == TLS_HS_SERVER_HELLO || type == TLS_HS_CERTIFICATE ||
	       type == TLS_HS_SERVER_HELLO_DONE;
}

static void hs_message(struct tls_state *st, struct gcp_dissect_ctx *ctx, const uint8_t *m,
		       uint32_t n)
{
	const uint8_t *body = m + 4;
	uint32_t blen = n - 4;

	switch (m[0]) {
	case TLS_HS_CLIENT_HELLO:
		tls_client_hello(st, ctx, body, blen);
		break;
	case TLS_HS_SERVER_HELLO:
		if (!st->sh_seen && tls_server_hello(st, ctx, body, blen))
			tls_finish(st, ctx);
		break;
	case TLS_HS_CERTIFICATE:
		if (!st->cert_done)
			tls_certificate(st, ctx, body, blen);
		if (st->sh_seen)
			tls_finish(st, ctx);
		break;
	case TLS_HS_SERVER_HELLO_DONE:
		if (st->sh_seen)
			tls_finish(st, ctx);
		break;
	default:
		break;
	}
}

/* Make room for a message of total bytes; false (message skipped) if not. */
static bool hs_reserve(struct gcp_dissect_ctx *ctx, struct tls_dir *d, uint32_t total)
{
	if (d->cap >= total)
		return true;
	uint32_t cap = total < 4096 ? 4096 : total;
	uint8_t *nb = gcp_dctx_alloc(ctx, cap);

	if (!nb)
		return false;
	if (d->buf) {
		memcpy(nb, d->buf, d->have);
		gcp_dctx_free(ctx, d->buf, d->cap);
	}
	d->buf = nb;
	d->cap = cap;
	return true;
}

/* A complete 4-byte header: decide to skip, or to buffer the message. */
static void hs_start(struct tls_state *st, struct gcp_dissect_ctx *ctx, int dir,
		     const uint8_t hdr[4])
{
	struct tls_dir *d = &st->dir[dir];
	uint32_t total = 4u + ((uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3]);

	d->have = d->want = 0;
	if (!hs_wanted(dir, hdr[0])) {
		d->skip = total - 4;
		return;
	}
	if (total > TLS_HS_CAP || !hs_reserve(ctx, d, total)) {
		gcp_dctx_anomaly(ctx);
		d->skip = total - 4;
		return;
	}
	memcpy(d->buf, hdr, 4);
	d->have = 4;
	d->want = total;
}

/* Feed one handshake record's fragment (zero-copy when a message fits).
 * inline, as tls_record: the resync path calls them too, and they must
 * stay inlined in tls_parse's loop (callgrind, gcp_bench_tls). */
static inline void hs_feed(struct tls_state *st, struct gcp_dissect_ctx *ctx, int dir,
			   const uint8_t *p, uint32_t n)
{
	struct tls_dir *d = &st->dir[dir];

	while (n > 0 && !st->done) {
		uint32_t k;

		if (d->skip) {
			k = d->skip < n ? d->skip : n;
			d->skip -= k;
		} else if (d->want) {
			k = d->want - d->have < n ? d->want - d->have : n;
			memcpy(d->buf + d->have, p, k);
			d->have += k;
			if (d->have == d->want) {
				d->want = 0;
				hs_message(st, ctx, d->buf, d->have);
				d->have = 0;
			}
		} else if (d->hdr_len == 0 && n >= 4 && hs_wanted(dir, p[0]) &&
			   4u + ((uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]) <= n) {
			k = 4u + ((uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
			hs_message(st, ctx, p, k);
		} else {
			k = 4u - d->hdr_len < n ? 4u - d->hdr_len : n;
			memcpy(d->hdr + d->hdr_len, p, k);
			d->hdr_len = (uint8_t)(d->hdr_len + k);
			if (d->hdr_len == 4) {
				d->hdr_len = 0;
				hs_start(st, ctx, dir, d->hdr);
			}
		}
		p += k;
		n -= k;
	}
}

/* ---- record layer (RFC 5246 6.2.1, RFC 8446 5.1) ------------------------------- */

static inline void tls_record(struct tls_state *st, struct gcp_dissect_ctx *ctx, int dir,
			      uint8_t type, const uint8_t *p, uint32_t n)
{
	struct tls_dir *d = &st->dir[dir];

	switch (type) {
	case TLS_CT_HANDSHAKE:
		if (!d->encrypted)
			hs_feed(st, ctx, dir, p, n);
		break;
	case TLS_CT_CCS:
		/* TLS <= 1.2: what follows is encrypted. TLS 1.3 sends CCS only
		 * for middlebox compatibility (RFC 8446 D.4), e.g. before the
		 * second ClientHello. */
		if (st->sh_seen && st->server_version < 0x0304) {
			d->encrypted = true;
			if (dir == GCP_DIR_S2C)
				tls_finish(st, ctx); /* abbreviated handshake: no Certificate */
		}
		break;
	case TLS_CT_ALERT:
		if (!d->encrypted)
			tls_finish(st, ctx);
		break;
	case TLS_CT_APPDATA:
		/* Client early data (RFC 8446 4.2.10) may precede the ServerHello. */
		if (dir == GCP_DIR_S2C || st->sh_seen)
			tls_finish(st, ctx);
		break;
	default:
		break;
	}
}

/* SSLv2 CLIENT-HELLO (RFC 6101 E.1 / SSL 2.0 draft 2.5), body after the header. */
static void v2_client_hello(struct tls_state *st, struct gcp_dissect_ctx *ctx,
			    struct gcp_cur c)
{
	uint16_t version = gcp_cur_be16(&c);

	gcp_cur_skip(&c, 6); /* cipher_spec, session_id and challenge lengths */
	if (c.err || st->ch_seen) {
		gcp_dctx_anomaly(ctx);
		return;
	}
	st->ch_seen = st->handshake_seen = true;
	st->ts = gcp_dctx_now(ctx);
	st->client_legacy = version;
}

/* SSLv2 SERVER-HELLO: the server speaks SSL 2.0, and sends its certificate. */
static void v2_server_hello(struct tls_state *st, struct gcp_dissect_ctx *ctx,
			    struct gcp_cur c)
{
	gcp_cur_skip(&c, 2); /* session_id_hit, certificate_type */
	uint16_t version = gcp_cur_be16(&c);
	uint16_t cert_len = gcp_cur_be16(&c), specs_len = gcp_cur_be16(&c);

	gcp_cur_skip(&c, 2); /* connection_id_length */
	const uint8_t *cert = gcp_cur_bytes(&c, cert_len);
	const uint8_t *spec = gcp_cur_bytes(&c, specs_len);

	if (c.err || specs_len < 3) {
		gcp_dctx_anomaly(ctx);
		return;
	}
	st->handshake_seen = true;
	st->server_version = version;
	st->cipher = (uint32_t)spec[0] << 16 | (uint32_t)spec[1] << 8 | spec[2];
	st->sslv2_cipher = true;
	if (st->want && cert_len)
		tls_cert_names(st, cert, cert_len);
	tls_finish(st, ctx);
}

static void v2_record(struct tls_state *st, struct gcp_dissect_ctx *ctx, int dir,
		      const uint8_t *p, uint32_t n)
{
	struct gcp_cur c = gcp_cur_make(p, n);
	uint8_t type = gcp_cur_u8(&c);

	if (type == 1 && dir == GCP_DIR_C2S)
		v2_client_hello(st, ctx, c);
	else if (type == 4 && dir == GCP_DIR_S2C)
		v2_server_hello(st, ctx, c);
}

static bool rec_header_ok(const uint8_t *h)
{
	uint16_t len = gcp_be16(h + 3);

	return h[0] >= TLS_CT_CCS && h[0] <= TLS_CT_HEARTBEAT && h[1] == 3 && h[2] <= 4 &&
	       len <= TLS_REC_MAX;
}

/* One whole record at p (avail bytes there); returns its size, 0: need more, -1: bad. */
static int64_t tls_frame(struct tls_state *st, struct gcp_dissect_ctx *ctx, int dir,
			 const uint8_t *p, uint32_t avail, uint32_t *needed)
{
	struct tls_dir *d = &st->dir[dir];

	if (d->nrec == 0 && (p[0] & 0x80)) {
		/* SSLv2 two-byte header (RFC 6101 E.1): first record only. */
		if (avail < 2) {
			*needed = 2 - avail;
			return 0;
		}
		uint32_t len = ((uint32_t)(p[0] & 0x7f) << 8 | p[1]);

		if (avail < 2 + len) {
			*needed = 2 + len - avail;
			return 0;
		}
		d->nrec = 1;
		v2_record(st, ctx, dir, p + 2, len);
		return 2 + len;
	}
	if (avail < TLS_REC_HDR) {
		*needed = TLS_REC_HDR - avail;
		return 0;
	}
	if (!rec_header_ok(p))
		return -1;
	uint32_t len = gcp_be16(p + 3);

	if (avail < TLS_REC_HDR + len) {
		*needed = TLS_REC_HDR + len - avail;
		return 0;
	}
	if (d->nrec < 255)
		d->nrec++;
	tls_record(st, ctx, dir, p[0], p + TLS_REC_HDR, len);
	return TLS_REC_HDR + len;
}

/* ---- resynchronisation after a gap -------------------------------------------- */

enum { SYNC_NO, SYNC_MORE, SYNC_YES };

/* Handshake types of RFC 8446 4 and RFC 5246 7.4 (with RFC 6066 8, 4.2). */
static bool hs_type_known(uint8_t t)
{
	return t <= 2 || (t >= 4 && t <= 6) || t == 8 || (t >= 11 && t <= 16) ||
	       (t >= 20 && t <= 24) || t == 254;
}

/*
 * Does a handshake fragment (have bytes of it at p) start with a message
 * header rather than continue a message lost in a gap? The messages we
 * parse must look like themselves: hellos carry a 3.x legacy_version, a
 * TLS 1.2 Certificate's list fills it, ServerHelloDone is empty.
 */
static int hs_start_plausible(const uint8_t *p, uint32_t have)
{
	if (have < 4)
		return SYNC_MORE;
	uint32_t len = (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];

	if (!hs_type_known(p[0]) || len > TLS_HS_CAP)
		return SYNC_NO;
	switch (p[0]) {
	case TLS_HS_CLIENT_HELLO:
	case TLS_HS_SERVER_HELLO: /* RFC 8446 4.1.2: version, 32-byte random, ... */
		if (len < 38)
			return SYNC_NO;
		if (have < 6)
			return SYNC_MORE;
		return p[4] == 3 && p[5] <= 4 ? SYNC_YES : SYNC_NO;
	case TLS_HS_CERTIFICATE:
		if (have < 7)
			return SYNC_MORE;
		return len >= 3 && ((uint32_t)p[4] << 16 | (uint32_t)p[5] << 8 | p[6]) + 3 == len
			       ? SYNC_YES
			       : SYNC_NO;
	case TLS_HS_SERVER_HELLO_DONE:
		return len == 0 ? SYNC_YES : SYNC_NO;
	default:
		return SYNC_YES;
	}
}

/* A record header as peers send them: TLS 1.x content type (heartbeat
 * aside), version 3.x, a fragment of legal, non-zero size. */
static bool sync_header(const uint8_t *h)
{
	uint16_t len = gcp_be16(h + 3);

	return h[0] >= TLS_CT_CCS && h[0] <= TLS_CT_APPDATA && h[1] == 3 && h[2] <= 4 && len > 0 &&
	       len <= TLS_REC_MAX;
}

/* What a candidate record's first have bytes (of len) say about it. */
static int sync_content(const struct tls_dir *d, uint8_t type, const uint8_t *p, uint32_t have,
			uint32_t len)
{
	switch (type) {
	case TLS_CT_CCS: /* RFC 5246 7.1: one byte, 1 */
		if (len != 1)
			return SYNC_NO;
		return have < 1 ? SYNC_MORE : p[0] == 1 ? SYNC_YES : SYNC_NO;
	case TLS_CT_ALERT: /* a plaintext alert is level (1, 2) + description */
		if (len != 2 || d->encrypted)
			return SYNC_MORE; /* encrypted (the CCS may be what was lost) */
		return have < 1 ? SYNC_MORE : p[0] == 1 || p[0] == 2 ? SYNC_YES : SYNC_NO;
	case TLS_CT_HANDSHAKE:
		/* No message start: a continuation or an encrypted Finished. */
		if (d->encrypted)
			return SYNC_MORE;
		return hs_start_plausible(p, have) == SYNC_YES ? SYNC_YES : SYNC_MORE;
	default:
		return SYNC_MORE;
	}
}

/*
 * A candidate header at p (avail bytes): taken when its content shows
 * what it is, or when the next header follows where its length says; a
 * lookalike alone in lost bytes is passed over.
 */
static int sync_record(const struct tls_dir *d, const uint8_t *p, uint32_t avail,
		       uint32_t *needed)
{
	if (!sync_header(p))
		return SYNC_NO;
	uint32_t len = gcp_be16(p + 3), end = TLS_REC_HDR + len;
	uint32_t have = avail - TLS_REC_HDR < len ? avail - TLS_REC_HDR : len;
	int c = sync_content(d, p[0], p + TLS_REC_HDR, have, len);

	if (c != SYNC_MORE)
		return c;
	if (avail >= end + TLS_REC_HDR)
		return sync_header(p + end) ? SYNC_YES : SYNC_NO;
	*needed = end + TLS_REC_HDR - avail;
	return SYNC_MORE;
}

/* After a gap: skip to the next record header; true with *off at it. */
static bool sync_records(struct tls_dir *d, const uint8_t *data, uint32_t len, bool fin,
			 uint32_t *off, struct gcp_parse_result *r)
{
	uint32_t i = *off;

	for (; i + TLS_REC_HDR <= len; i++) {
		uint32_t needed = 1;
		int c = sync_record(d, data + i, len - i, &needed);

		if (c == SYNC_YES) {
			*off = i;
			return true;
		}
		if (c == SYNC_MORE && !fin) {
			*off = i;
			r->needed = needed;
			return false;
		}
	}
	*off = fin ? len : i;
	r->needed = i + TLS_REC_HDR - len;
	return false;
}

/*
 * Records framed again: handshake fragments that start no message
 * continue a lost one and are passed over; other records are taken as
 * usual. True once a fragment starts a message (at *off), or when
 * tls_parse must judge the bytes at *off (not TLS) or the work is done.
 */
static bool sync_handshake(struct tls_state *st, struct gcp_dissect_ctx *ctx, int dir,
			   const uint8_t *data, uint32_t len, uint32_t *off,
			   struct gcp_parse_result *r)
{
	struct tls_dir *d = &st->dir[dir];

	while (*off < len && !st->done) {
		const uint8_t *h = data + *off;
		uint32_t avail = len - *off;

		if (avail < TLS_REC_HDR) {
			r->needed = TLS_REC_HDR - avail;
			return false;
		}
		if (!rec_header_ok(h))
			return true;
		uint32_t rl = gcp_be16(h + 3);

		if (avail < TLS_REC_HDR + rl) {
			r->needed = TLS_REC_HDR + rl - avail;
			return false;
		}
		if (h[0] != TLS_CT_HANDSHAKE || d->encrypted) {
			tls_record(st, ctx, dir, h[0], h + TLS_REC_HDR, rl);
		} else if (hs_start_plausible(h + TLS_REC_HDR, rl) == SYNC_YES) {
			d->lost = TLS_LOST_NONE;
			return true;
		}
		*off += TLS_REC_HDR + rl;
	}
	return st->done;
}

/*
 * After a gap: the next record, then the next handshake message start.
 * True when tls_parse goes on at r->consumed (framing back, or the work
 * done); false while waiting (r: what to keep, how much more to wait for).
 * Out of line so that tls_parse's common path compiles as before.
 */
__attribute__((noinline)) static bool tls_resync(struct tls_state *st, struct gcp_dissect_ctx *ctx,
					     int dir, const uint8_t *data, uint32_t len, bool fin,
					     struct gcp_parse_result *r)
{
	struct tls_dir *d = &st->dir[dir];
	uint32_t off = 0;
	bool ok = true;

	if (d->lost == TLS_LOST_RECORD) {
		ok = sync_records(d, data, len, fin, &off, r);
		if (ok) {
			d->lost = TLS_LOST_HANDSHAKE;
			gcp_dctx_resync(ctx);
		}
	}
	if (ok)
		ok = sync_handshake(st, ctx, dir, data, len, &off, r);
	r->consumed = off;
	return ok;
}

/* ---- the dissector ------------------------------------------------------------- */

static enum gcp_probe_result tls_probe_v2(const uint8_t *p, uint32_t len)
{
	if (len < 5)
		return GCP_PROBE_MAYBE;
	uint16_t rlen = (uint16_t)((p[0] & 0x7f) << 8 | p[1]);
	uint16_t v = gcp_be16(p + 3);

	if (p[2] == 1 && rlen >= 9 && (v == 0x0002 || (v >= 0x0300 && v <= 0x0304)))
		return GCP_PROBE_YES;
	return GCP_PROBE_NO;
}

static enum gcp_probe_result tls_probe(const uint8_t *data, uint32_t len, int dir)
{
	(void)dir;
	if (len == 0)
		return GCP_PROBE_MAYBE;
	if (data[0] & 0x80)
		return tls_probe_v2(data, len);
	if (data[0] != TLS_CT_HANDSHAKE || (len > 1 && data[1] != 3) || (len > 2 && data[2] > 4))
		return GCP_PROBE_NO;
	if (len < 5)
		return GCP_PROBE_MAYBE;
	uint16_t rlen = gcp_be16(data + 3);

	if (rlen < 4 || rlen > TLS_REC_MAX)
		return GCP_PROBE_NO;
	if (len > 5 && data[5] != TLS_HS_CLIENT_HELLO && data[5] != TLS_HS_SERVER_HELLO)
		return GCP_PROBE_NO;
	return GCP_PROBE_YES;
}

static void tls_init(void *state, struct gcp_dissect_ctx *ctx)
{
	struct tls_state *st = state;

	st->want = gcp_dctx_wants(ctx, GCP_REC_HTTP);
}

/*
 * A gap loses this direction's framing: drop its partial message and look
 * for the next record (tls_resync). Once the ServerHello is in, only a
 * TLS <= 1.2 Certificate can still add to the record: without one to
 * wait for, a server-side gap ends the work.
 */
static void tls_gap(struct tls_state *st, struct gcp_dissect_ctx *ctx, int dir)
{
	struct tls_dir *d = &st->dir[dir];

	d->lost = TLS_LOST_RECORD;
	d->have = d->want = d->skip = 0;
	d->hdr_len = 0;
	if (d->nrec == 0)
		d->nrec = 1; /* SSLv2 framing is for a connection's first record only */
	if (dir == GCP_DIR_S2C && st->sh_seen && (st->cert_done || !st->want))
		tls_finish(st, ctx);
}

static struct gcp_parse_result tls_parse(void *state, struct gcp_dissect_ctx *ctx, int dir,
					 const uint8_t *data, uint32_t len, unsigned flags)
{
	struct tls_state *st = state;
	struct gcp_parse_result r = { GCP_PARSE_OK, 0, 0 };
	uint32_t off = 0;

	dir = dir == GCP_DIR_S2C ? GCP_DIR_S2C : GCP_DIR_C2S;
	if (flags & GCP_PF_GAP)
		tls_gap(st, ctx, dir);
	if (st->done || st->dir[dir].lost || !data) {
		if (st->done || !data) {
			r.status = st->done ? GCP_PARSE_DONE : GCP_PARSE_OK;
			r.consumed = len;
			return r;
		}
		if (!tls_resync(st, ctx, dir, data, len, flags & GCP_PF_FIN, &r))
			return r;
		off = r.consumed;
	}
	while (off < len && !st->done) {
		int64_t k = tls_frame(st, ctx, dir, data + off, len - off, &r.needed);

		if (k < 0) {
			r.status = GCP_PARSE_ERROR; /* not TLS (any more): fini emits */
			r.consumed = len;
			return r;
		}
		if (k == 0)
			break;
		off += (uint32_t)k;
	}
	r.consumed = off;
	if (st->done) {
		r.status = GCP_PARSE_DONE;
		r.consumed = len;
		r.needed = 0;
	}
	return r;
}

static void tls_fini(void *state, struct gcp_dissect_ctx *ctx)
{
	struct tls_state *st = state;

	tls_emit(st, ctx);
	for (int i = 0; i < 2; i++) {
		struct tls_dir *d = &st->dir[i];

		if (d->buf)
			gcp_dctx_free(ctx, d->buf, d->cap);
		d->buf = NULL;
		d->cap = 0;
	}
}

/* ---- the handshake carried by QUIC (RFC 9001 4) ----------------------------- */

void gcp_tls_quic_setup(void *state, gcp_tls_extra_fn extra, void *arg)
{
	struct tls_state *st = state;

	st->quic = true;
	st->extra = extra;
	st->extra_arg = arg;
}

void gcp_tls_handshake_msg(void *state, struct gcp_dissect_ctx *ctx, const uint8_t *m,
			   uint32_t n)
{
	struct tls_state *st = state;

	if (!st->done && n >= 4 && 4u + ((uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3]) == n)
		hs_message(st, ctx, m, n);
}

bool gcp_tls_done(const void *state)
{
	return ((const struct tls_state *)state)->done;
}

static const uint16_t tls_ports[] = { 443, 8443, 465, 993, 995, 636, 990, 5061 };

const struct gcp_dissector gcp_dissector_tls = {
	.name = "tls",
	.record_types = GCP_REC_HTTP | GCP_REC_MAIL, /* mail: implicit TLS ports */
	.l4_mask = GCP_L4_TCP,
	.ports = tls_ports,
	.nports = sizeof(tls_ports) / sizeof(tls_ports[0]),
	.state_size = sizeof(struct tls_state),
	.probe = tls_probe,
	.init = tls_init,
	.parse = tls_parse,
	.fini = tls_fini,
};
