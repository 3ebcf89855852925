/* SPDX-License-Identifier: BSD-3-Clause */
/* Certificate names as RFC 2253 text: a DER walker for the common case,
 * OpenSSL for the rest (see dn.h). */
#include "dn.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

/* ---- the OpenSSL path --------------------------------------------------------- */

static uint16_t name_print(const X509_NAME *name, char *out, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	uint16_t n = 0;
	char *data = NULL;

	if (!b)
		return 0;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
		long k = BIO_get_mem_data(b, &data);

		if (k > 0 && data) {
			n = (uint16_t)((size_t)k < cap ? (size_t)k : cap);
			memcpy(out, data, n);
		}
	}
	BIO_free(b);
	return n;
}

uint16_t gcp_tls_dn_openssl(const uint8_t *der, uint32_t len, char *out, size_t cap)
{
	const unsigned char *p = der;
	X509_NAME *name = d2i_X509_NAME(NULL, &p, (long)len);
	uint16_t n;

	if (!name)
		return 0;
	n = name_print(name, out, cap);
	X509_NAME_free(name);
	return n;
}

/* ---- attributes the walker knows ------------------------------------------------ */

/*
 * OID contents (X.690 8.19) of the attributes seen in certificates. The
 * text printed for each is OpenSSL's own short name, looked up once from
 * the same bytes (OBJ_obj2nid, OBJ_nid2sn, as X509_NAME_print_ex does),
 * so it cannot differ; one OpenSSL does not know is left to it.
 */
struct dn_attr {
	uint8_t len;
	uint8_t oid[11];
};

static const struct dn_attr dn_attrs[] = {
	{ 3, { 0x55, 0x04, 0x03 } },             /* 2.5.4.3 commonName */
	{ 3, { 0x55, 0x04, 0x04 } },             /* surname */
	{ 3, { 0x55, 0x04, 0x05 } },             /* serialNumber */
	{ 3, { 0x55, 0x04, 0x06 } },             /* countryName */
	{ 3, { 0x55, 0x04, 0x07 } },             /* localityName */
	{ 3, { 0x55, 0x04, 0x08 } },             /* stateOrProvinceName */
	{ 3, { 0x55, 0x04, 0x09 } },             /* streetAddress */
	{ 3, { 0x55, 0x04, 0x0a } },             /* organizationName */
	{ 3, { 0x55, 0x04, 0x0b } },             /* organizationalUnitName */
	{ 3, { 0x55, 0x04, 0x0c } },             /* title */
	{ 3, { 0x55, 0x04, 0x0d } },             /* description */
	{ 3, { 0x55, 0x04, 0x0f } },             /* businessCategory */
	{ 3, { 0x55, 0x04, 0x11 } },             /* postalCode */
	{ 3, { 0x55, 0x04, 0x2a } },             /* givenName */
	{ 3, { 0x55, 0x04, 0x2b } },             /* initials */
	{ 3, { 0x55, 0x04, 0x2e } },             /* dnQualifier */
	{ 3, { 0x55, 0x04, 0x41 } },             /* pseudonym */
	{ 3, { 0x55, 0x04, 0x61 } },             /* organizationIdentifier */
	{ 9, { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01 } }, /* emailAddress */
	{ 10, { 0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19 } }, /* domainComponent */
	{ 10, { 0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01 } }, /* userId */
	{ 11, { 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x01 } }, /* jurisdictionL */
	{ 11, { 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x02 } }, /* jurisdictionST */
	{ 11, { 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x03 } }, /* jurisdictionC */
};

#define DN_NATTR (sizeof(dn_attrs) / sizeof(dn_attrs[0]))

static const char *dn_sn[DN_NATTR];  /* OpenSSL's short names; NULL: unknown to it */
static uint8_t dn_sn_len[DN_NATTR];
static pthread_once_t dn_once = PTHREAD_ONCE_INIT;

static void dn_classes(void);

/* Once per process: OpenSSL's names for the table, the byte classes. */
static void dn_names(void)
{
	dn_classes();
	for (size_t i = 0; i < DN_NATTR; i++) {
		unsigned char der[2 + sizeof(dn_attrs[i].oid)];
		const unsigned char *p = der;

		der[0] = 0x06;
		der[1] = dn_attrs[i].len;
		memcpy(der + 2, dn_attrs[i].oid, dn_attrs[i].len);
		ASN1_OBJECT *o = d2i_ASN1_OBJECT(NULL, &p, 2 + dn_attrs[i].len);
		int nid = o ? OBJ_obj2nid(o) : NID_undef;
		const char *sn = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;

		ASN1_OBJECT_free(o);
		if (sn && strlen(sn) < 64) {
			dn_sn[i] = sn;
			dn_sn_len[i] = (uint8_t)strlen(sn);
		}
	}
}

static int dn_attr_find(const uint8_t *oid, uint32_t n)
{
	for (size_t i = 0; i < DN_NATTR; i++) {
		const struct dn_attr *a = &dn_attrs[i];

		/* last byte first: the 2.5.4.x entries differ only there */
		if (a->len == n && a->oid[n - 1] == oid[n - 1] && memcmp(a->oid, oid, n - 1) == 0)
			return dn_sn[i] ? (int)i : -1;
	}
	return -1;
}

/* ---- the walker ---------------------------------------------------------------- */

#define DN_MAX_RDN 64

struct dn_ava {
	uint8_t attr;
	bool esc;        /* some byte may need a backslash */
	const uint8_t *v;
	uint32_t n;
};

/*
 * A DER header with tag at p: single-byte tag, definite length in the
 * shortest form (X.690 10.1), value inside end. Returns the value, or
 * NULL for anything else (left to OpenSSL, which also takes BER forms).
 */
static const uint8_t *dn_hdr(const uint8_t *p, const uint8_t *end, uint8_t tag, uint32_t *len)
{
	if (end - p < 2 || p[0] != tag)
		return NULL;
	uint32_t n = p[1];

	p += 2;
	if (n & 0x80) {
		unsigned nb = n & 0x7f;

		if (nb == 0 || nb > 2 || (size_t)(end - p) < nb)
			return NULL;
		n = nb == 1 ? p[0] : (uint32_t)p[0] << 8 | p[1];
		p += nb;
		if (n < 0x80 || (nb == 2 && n < 0x100))
			return NULL;
	}
	if ((size_t)(end - p) < n)
		return NULL;
	*len = n;
	return p;
}

/*
 * String types whose ASCII bytes X509_NAME_print_ex(ASN1_STRFLGS_RFC2253)
 * prints one for one: UTF8String (read as bytes), PrintableString,
 * T61String and IA5String (converted to UTF-8, a no-op below 0x80).
 */
static bool dn_str_tag(uint8_t t)
{
	return t == 0x0c || t == 0x13 || t == 0x14 || t == 0x16;
}

/*
 * Byte classes for values: printable ASCII as is (0), the RFC 2253
 * specials OpenSSL always escapes (1), ' ' and '#' that it escapes at
 * the edges only (2), and what the walker leaves to OpenSSL (3: control
 * bytes, DEL and bytes >= 0x80, which print as \XX).
 */
enum { DN_PLAIN, DN_ESC, DN_EDGE, DN_NO };

static uint8_t dn_class[256];

static void dn_classes(void)
{
	for (int c = 0; c < 256; c++)
		dn_class[c] = c < 0x20 || c > 0x7e ? DN_NO : DN_PLAIN;
	for (const char *e = ",+\"\\<>;"; *e; e++)
		dn_class[(uint8_t)*e] = DN_ESC;
	dn_class[' '] = dn_class['#'] = DN_EDGE;
}

/* Printable ASCII only; true also when some byte needs a backslash. */
static bool dn_ascii(const uint8_t *v, uint32_t n, bool *esc)
{
	unsigned or = 0;

	for (uint32_t i = 0; i < n; i++)
		or |= 1u << dn_class[v[i]];
	*esc = or & (1u << DN_ESC | 1u << DN_EDGE);
	return !(or & 1u << DN_NO);
}

/* One RDN: a SET holding exactly one AttributeTypeAndValue (RFC 5280 4.1.2.4). */
static const uint8_t *dn_rdn(const uint8_t *p, const uint8_t *end, struct dn_ava *a)
{
	uint32_t sn, qn, on, vn;
	const uint8_t *s = dn_hdr(p, end, 0x31, &sn);
	const uint8_t *q = s ? dn_hdr(s, s + sn, 0x30, &qn) : NULL;

	if (!q || q + qn != s + sn)
		return NULL; /* empty or multi-valued RDN */
	const uint8_t *qe = q + qn, *o = dn_hdr(q, qe, 0x06, &on);
	int attr = o ? dn_attr_find(o, on) : -1;

	if (attr < 0 || o + on >= qe || !dn_str_tag(o[on]))
		return NULL;
	const uint8_t *v = dn_hdr(o + on, qe, o[on], &vn);

	if (!v || v + vn != qe || !dn_ascii(v, vn, &a->esc))
		return NULL;
	a->attr = (uint8_t)attr;
	a->v = v;
	a->n = vn;
	return qe;
}

/* Text sink: counts everything, keeps the first cap bytes. */
struct dn_out {
	char *p;
	size_t cap, len;
};

static void dn_put(struct dn_out *o, const void *s, size_t n)
{
	if (o->len < o->cap)
		memcpy(o->p + o->len, s, n < o->cap - o->len ? n : o->cap - o->len);
	o->len += n;
}

/*
 * RFC 2253 2.4 as OpenSSL applies it (a_strex.c do_buf/do_esc_char):
 * , + " \ < > ; anywhere, '#' first and ' ' last get a backslash. The
 * last-character rule replaces the first-character one, so a value that
 * is just "#" stays bare while " " alone is escaped.
 */
static bool dn_esc(uint8_t c, uint32_t i, uint32_t n)
{
	if (dn_class[c] == DN_ESC)
		return true;
	if (i + 1 == n)
		return c == ' ';
	return i == 0 && (c == ' ' || c == '#');
}

static void dn_value(struct dn_out *o, const uint8_t *v, uint32_t n, bool esc)
{
	uint32_t run = 0;

	for (uint32_t i = 0; esc && i < n; i++) {
		if (!dn_esc(v[i], i, n))
			continue;
		dn_put(o, v + run, i - run);
		dn_put(o, "\\", 1);
		run = i;
	}
	dn_put(o, v + run, n - run);
}

int gcp_tls_dn_fast(const uint8_t *der, uint32_t len, char *out, size_t cap)
{
	struct dn_ava a[DN_MAX_RDN];
	unsigned k = 0;
	uint32_t n;
	const uint8_t *end = der + len, *p = dn_hdr(der, end, 0x30, &n);

	pthread_once(&dn_once, dn_names);
	if (!p || p + n != end)
		return -1;
	while (p < end) {
		if (k == DN_MAX_RDN || !(p = dn_rdn(p, end, &a[k])))
			return -1;
		k++;
	}
	/* XN_FLAG_DN_REV: the last RDN first; "," between them, "=" in each. */
	struct dn_out o = { out, cap, 0 };

	while (k-- > 0) {
		dn_put(&o, dn_sn[a[k].attr], dn_sn_len[a[k].attr]);
		dn_put(&o, "=", 1);
		dn_value(&o, a[k].v, a[k].n, a[k].esc);
		if (k)
			dn_put(&o, ",", 1);
	}
	return (int)(o.len < cap ? o.len : cap);
}

uint16_t gcp_tls_dn_text(const uint8_t *der, uint32_t len, char *out, size_t cap)
{
	int n = gcp_tls_dn_fast(der, len, out, cap > UINT16_MAX ? UINT16_MAX : cap);

	return n >= 0 ? (uint16_t)n : gcp_tls_dn_openssl(der, len, out, cap);
}
