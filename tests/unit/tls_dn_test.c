/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Certificate name text (dissectors/tls/dn.c): the DER walker against
 * d2i_X509_NAME + X509_NAME_print_ex(XN_FLAG_RFC2253) on every
 * certificate name found in the corpus captures, on every Name-shaped
 * element in them, and on crafted names (escaping of every byte at every
 * position, multi-valued RDNs, BMPString, unknown OIDs, empty and long
 * names, BER forms). Whatever the walker accepts must print the same;
 * gcp_tls_dn_text must always equal OpenSSL.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509.h>

#include "../../dissectors/tls/dn.h"

#define CAP 256 /* what the tls record keeps (TLS_NAME_MAX) */

struct tally {
	unsigned names, fast;
};

/* Both paths on one element; returns true when the walker took it. */
static bool same(const uint8_t *der, uint32_t len, size_t cap)
{
	char a[4096], b[4096];
	uint16_t na = gcp_tls_dn_openssl(der, len, a, cap);
	int nb = gcp_tls_dn_fast(der, len, b, cap);
	uint16_t nc = gcp_tls_dn_text(der, len, b, cap);

	cr_assert_eq(nc, na, "dn_text %u bytes, OpenSSL %u", nc, na);
	cr_assert(memcmp(a, b, na) == 0, "dn_text '%.*s', OpenSSL '%.*s'", (int)nc, b, (int)na, a);
	if (nb < 0)
		return false;
	cr_assert_eq((uint16_t)nb, na, "walker length %d, OpenSSL %u ('%.*s')", nb, na, (int)na, a);
	return true;
}

static void same_x509(X509_NAME *nm, bool want_fast, const char *what)
{
	unsigned char *der = NULL;
	int len = i2d_X509_NAME(nm, &der);

	cr_assert_gt(len, 0);
	bool fast = same(der, (uint32_t)len, CAP);
	bool fast_big = same(der, (uint32_t)len, 4096);
	cr_assert_eq(fast, fast_big);
	if (want_fast)
		cr_assert(fast, "%s: the walker should take it", what);
	OPENSSL_free(der);
}

/* ---- the corpus ------------------------------------------------------------------ */

/* One DER header (lenient: this reads captures, garbage included). */
static const uint8_t *hdr(const uint8_t *p, const uint8_t *end, uint8_t *tag, uint32_t *len)
{
	if (end - p < 2)
		return NULL;
	*tag = p[0];
	uint32_t n = p[1];
	p += 2;
	if (n & 0x80) {
		unsigned nb = n & 0x7f;
		if (nb == 0 || nb > 3 || (size_t)(end - p) < nb)
			return NULL;
		n = 0;
		while (nb--)
			n = n << 8 | *p++;
	}
	if ((size_t)(end - p) < n)
		return NULL;
	*len = n;
	return p;
}

/* A certificate at p (SEQUENCE { tbsCertificate SEQUENCE { [0] version ...): its two names. */
static void cert_at(const uint8_t *p, const uint8_t *end, struct tally *t)
{
	uint8_t tag;
	uint32_t n;
	const uint8_t *c = hdr(p, end, &tag, &n);

	if (!c || tag != 0x30)
		return;
	const uint8_t *tbs = hdr(c, c + n, &tag, &n);
	if (!tbs || tag != 0x30)
		return;
	const uint8_t *q = tbs, *te = tbs + n;
	for (int field = 0; field < 6 && q < te; field++) {
		const uint8_t *start = q, *v = hdr(q, te, &tag, &n);
		if (!v)
			return;
		if (field == 0 && tag == 0xa0) {
			field = -1;
			q = v + n;
			continue;
		}
		if ((field == 2 || field == 4) && tag == 0x30) {
			t->names++;
			t->fast += same(start, (uint32_t)(v + n - start), CAP);
		}
		q = v + n;
	}
}

static void scan_file(const char *path, struct tally *certs, struct tally *blind)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc((size_t)sz + 1);
	cr_assert_eq(fread(buf, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	const uint8_t *end = buf + sz;

	for (const uint8_t *p = buf; p + 16 < end; p++) {
		/* Certificate: 30 82 LL LL 30 82 LL LL a0 03 02 01 (v3) */
		if (p[0] == 0x30 && p[1] == 0x82 && p[4] == 0x30 && p[5] == 0x82 && p[8] == 0xa0 &&
		    p[9] == 0x03 && p[10] == 0x02 && p[11] == 0x01)
			cert_at(p, end, certs);
		/* Any Name-shaped element: SEQUENCE whose value opens with a SET. */
		uint8_t tag;
		uint32_t n;
		const uint8_t *v = hdr(p, end, &tag, &n);
		if (v && tag == 0x30 && n > 0 && v[0] == 0x31) {
			blind->names++;
			blind->fast += same(p, (uint32_t)(v + n - p), CAP);
		}
	}
	free(buf);
}

static void scan_dir(const char *dir, struct tally *certs, struct tally *blind, unsigned *files)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	cr_assert_not_null(d, "%s", dir);
	while ((e = readdir(d))) {
		char path[1024];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		size_t l = strlen(e->d_name);
		if (e->d_type == DT_DIR) {
			scan_dir(path, certs, blind, files);
		} else if ((l > 5 && !strcmp(e->d_name + l - 5, ".pcap")) ||
			   (l > 7 && !strcmp(e->d_name + l - 7, ".pcapng"))) {
			scan_file(path, certs, blind);
			(*files)++;
		}
	}
	closedir(d);
}

Test(tls_dn, corpus_certificates_and_name_shapes)
{
	struct tally certs = { 0 }, blind = { 0 };
	unsigned files = 0;

	scan_dir(GCP_CORPUS_DIR, &certs, &blind, &files);
	cr_log_info("%u captures: %u certificate names (%u by the walker), %u Name-shaped "
		    "elements (%u by the walker)", files, certs.names, certs.fast, blind.names,
		    blind.fast);
	cr_assert_geq(files, 80);
	/* The corpus holds a few dozen certificates; most names are plain. */
	cr_assert_geq(certs.names, 20);
	cr_assert_geq(certs.fast * 10, certs.names * 8, "the walker takes the common case");
}

/* ---- crafted names --------------------------------------------------------------- */

/* A DER writer for names OpenSSL's own API would refuse to build
 * (size limits, PrintableString's alphabet, invalid UTF-8). */
struct der {
	uint8_t b[65536];
	size_t n;
};

static size_t der_len(uint8_t *p, size_t n)
{
	if (n < 0x80) {
		p[0] = (uint8_t)n;
		return 1;
	}
	if (n < 0x100) {
		p[0] = 0x81;
		p[1] = (uint8_t)n;
		return 2;
	}
	p[0] = 0x82;
	p[1] = (uint8_t)(n >> 8);
	p[2] = (uint8_t)n;
	return 3;
}

/* Wrap b[from..n) in a TLV of tag. */
static void der_wrap(struct der *d, size_t from, uint8_t tag)
{
	uint8_t h[4];
	size_t body = d->n - from, hl = 1 + der_len(h + 1, body);

	h[0] = tag;
	memmove(d->b + from + hl, d->b + from, body);
	memcpy(d->b + from, h, hl);
	d->n += hl;
}

static void der_raw(struct der *d, const void *p, size_t n)
{
	memcpy(d->b + d->n, p, n);
	d->n += n;
}

/* One AttributeTypeAndValue: OID text, string tag, value bytes. */
static void der_ava(struct der *d, const char *oid, uint8_t tag, const void *v, size_t n)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 0);
	unsigned char *od = NULL;
	int ol;

	cr_assert_not_null(o, "%s", oid);
	ol = i2d_ASN1_OBJECT(o, &od);
	cr_assert_gt(ol, 0);
	size_t at = d->n;
	der_raw(d, od, (size_t)ol);
	size_t vat = d->n;
	der_raw(d, v, n);
	der_wrap(d, vat, tag);
	der_wrap(d, at, 0x30);
	OPENSSL_free(od);
	ASN1_OBJECT_free(o);
}

/* A name of single-valued RDNs. */
static void der_rdn(struct der *d, const char *oid, uint8_t tag, const void *v, size_t n)
{
	size_t at = d->n;

	der_ava(d, oid, tag, v, n);
	der_wrap(d, at, 0x31);
}

static void check(struct der *d, bool want_fast, const char *what)
{
	der_wrap(d, 0, 0x30);
	bool fast = same(d->b, (uint32_t)d->n, CAP);
	cr_assert_eq(same(d->b, (uint32_t)d->n, 4096), fast);
	if (want_fast)
		cr_assert(fast, "%s: the walker should take it", what);
	d->n = 0;
}

static struct der d; /* 64 KiB: not on the stack */

Test(tls_dn, every_byte_at_every_position)
{
	const uint8_t tags[] = { 0x0c, 0x13, 0x14, 0x16, 0x1e /* BMP */, 0x12 /* Numeric */,
				 0x1a /* Visible */, 0x1c /* Universal */, 0x04 /* OCTET STRING */ };
	char what[64];

	for (size_t t = 0; t < sizeof(tags); t++) {
		for (int c = 0; c < 256; c++) {
			const uint8_t forms[][4] = {
				{ (uint8_t)c }, { (uint8_t)c, 'a', 'b' }, { 'a', (uint8_t)c, 'b' },
				{ 'a', 'b', (uint8_t)c }, { (uint8_t)c, (uint8_t)c, (uint8_t)c },
				{ (uint8_t)c, ' ', (uint8_t)c, '#' },
			};
			for (size_t f = 0; f < 6; f++) {
				bool plain = tags[t] == 0x0c || tags[t] == 0x13 || tags[t] == 0x14 ||
					     tags[t] == 0x16;
				snprintf(what, sizeof(what), "tag 0x%02x byte 0x%02x form %zu", tags[t], c, f);
				der_rdn(&d, "2.5.4.10", 0x13, "Org", 3);
				der_rdn(&d, "2.5.4.3", tags[t], forms[f], f == 0 ? 1 : f == 5 ? 4 : 3);
				check(&d, plain && c >= 0x20 && c < 0x7f, what);
			}
		}
	}
}

Test(tls_dn, every_known_attribute)
{
	const char *oids[] = { "2.5.4.3", "2.5.4.4", "2.5.4.5", "2.5.4.6", "2.5.4.7", "2.5.4.8",
			       "2.5.4.9", "2.5.4.10", "2.5.4.11", "2.5.4.12", "2.5.4.13",
			       "2.5.4.15", "2.5.4.17", "2.5.4.42", "2.5.4.43", "2.5.4.46",
			       "2.5.4.65", "2.5.4.97", "1.2.840.113549.1.9.1",
			       "0.9.2342.19200300.100.1.25", "0.9.2342.19200300.100.1.1",
			       "1.3.6.1.4.1.311.60.2.1.1", "1.3.6.1.4.1.311.60.2.1.2",
			       "1.3.6.1.4.1.311.60.2.1.3" };
	const size_t n = sizeof(oids) / sizeof(oids[0]);

	for (size_t i = 0; i < n; i++) {
		der_rdn(&d, oids[i], 0x0c, "v a=l#", 6);
		check(&d, true, oids[i]);
	}
	for (size_t i = 0; i < n; i++) /* all of them in one name: truncated at the cap */
		der_rdn(&d, oids[i], 0x13, "value, escaped; <here> \"too\"", 28);
	check(&d, true, "all attributes");
}

Test(tls_dn, declined_shapes_still_match)
{
	const uint8_t bmp[] = { 0, 'B', 0, 'M', 0, 'P' };
	static char v[70000];

	check(&d, true, "empty name"); /* SEQUENCE {} */

	size_t at = d.n; /* multi-valued RDN: CN=a+OU=b, then O=c */
	der_ava(&d, "2.5.4.3", 0x0c, "a", 1);
	der_ava(&d, "2.5.4.11", 0x0c, "b", 1);
	der_wrap(&d, at, 0x31);
	der_rdn(&d, "2.5.4.10", 0x0c, "c", 1);
	check(&d, false, "multi-valued");

	der_rdn(&d, "2.5.4.3", 0x1e, bmp, sizeof(bmp));
	check(&d, false, "BMPString");
	der_rdn(&d, "2.5.4.3", 0x1e, bmp, 5); /* odd length: d2i refuses */
	check(&d, false, "BMPString, odd");

	der_rdn(&d, "1.2.3.4.5", 0x0c, "x", 1); /* unknown OID: dumped as #hex */
	der_rdn(&d, "2.5.4.3", 0x0c, "y", 1);
	check(&d, false, "unknown OID");
	der_rdn(&d, "2.5.29.17", 0x0c, "z", 1); /* known to OpenSSL, not a name attribute */
	check(&d, false, "other OID");

	der_rdn(&d, "2.5.4.3", 0x0c, "M\xc3\xbcnchen \xe2\x82\xac", 12);
	check(&d, false, "UTF-8");
	der_rdn(&d, "2.5.4.3", 0x0c, "bad \xc3(", 6);
	check(&d, false, "invalid UTF-8");
	der_rdn(&d, "2.5.4.3", 0x13, "Latin-1 \xe9", 9);
	check(&d, false, "PrintableString above ASCII");

	der_rdn(&d, "2.5.4.3", 0x0c, "", 0);
	der_rdn(&d, "2.5.4.10", 0x13, "", 0);
	check(&d, false, "empty values");

	memset(v, 'x', sizeof(v));
	for (int i = 0; i < 70; i++) /* more RDNs than the walker keeps */
		der_rdn(&d, i % 2 ? "2.5.4.11" : "2.5.4.3", 0x0c, v, (size_t)(i * 37) % 290);
	check(&d, false, "70 RDNs");

	der_rdn(&d, "2.5.4.3", 0x0c, v, 127); /* length forms around 128 and 256 */
	der_rdn(&d, "2.5.4.3", 0x0c, v, 128);
	der_rdn(&d, "2.5.4.3", 0x0c, v, 255);
	der_rdn(&d, "2.5.4.3", 0x0c, v, 256);
	check(&d, true, "long values: truncated at the cap");
	der_rdn(&d, "2.5.4.3", 0x0c, v, 60000); /* three-byte lengths */
	check(&d, false, "60000-byte value");
}

/* Hand-made DER: BER length forms, tags and junk the walker must leave to OpenSSL. */
Test(tls_dn, crafted_der)
{
	/* SEQUENCE { SET { SEQUENCE { OID 2.5.4.3, PrintableString "ab" } } } */
	const uint8_t ok[] = { 0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03,
			       0x13, 0x02, 'a', 'b' };
	uint8_t b[64];

	cr_assert(same(ok, sizeof(ok), CAP));
	/* Long-form length where the short form fits (BER, not DER). */
	const uint8_t nonmin[] = { 0x30, 0x81, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55,
				   0x04, 0x03, 0x13, 0x02, 'a', 'b' };
	cr_assert_not(same(nonmin, sizeof(nonmin), CAP));
	/* Indefinite length. */
	const uint8_t indef[] = { 0x30, 0x80, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03,
				  0x13, 0x02, 'a', 'b', 0x00, 0x00 };
	cr_assert_not(same(indef, sizeof(indef), CAP));
	/* Every single-byte change and every truncation of the good one. */
	for (size_t i = 0; i < sizeof(ok); i++) {
		for (int c = 0; c < 256; c++) {
			memcpy(b, ok, sizeof(ok));
			b[i] = (uint8_t)c;
			same(b, sizeof(ok), CAP);
		}
		same(ok, (uint32_t)i, CAP);
	}
	/* An extra element in the AVA, and an empty SET. */
	const uint8_t extra[] = { 0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03,
				  0x13, 0x02, 'a', 'b', 0x05, 0x00 };
	cr_assert_not(same(extra, sizeof(extra), CAP));
	const uint8_t empty_set[] = { 0x30, 0x02, 0x31, 0x00 };
	cr_assert_not(same(empty_set, sizeof(empty_set), CAP));
}

/* Names as OpenSSL itself builds them (the types it picks per attribute). */
Test(tls_dn, openssl_built_names)
{
	X509_NAME *nm = X509_NAME_new();

	cr_assert(X509_NAME_add_entry_by_txt(nm, "C", MBSTRING_ASC, (const unsigned char *)"US",
					     -1, -1, 0));
	cr_assert(X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC,
					     (const unsigned char *)"Let's Encrypt, Inc.", -1, -1, 0));
	cr_assert(X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8,
					     (const unsigned char *)" *.example.com ", -1, -1, 0));
	cr_assert(X509_NAME_add_entry_by_txt(nm, "emailAddress", MBSTRING_ASC,
					     (const unsigned char *)"#admin@example.com", -1, -1, 0));
	same_x509(nm, true, "typical");
	cr_assert(X509_NAME_add_entry_by_txt(nm, "OU", MBSTRING_UTF8,
					     (const unsigned char *)"b\xc3\xbcro", -1, -1, 0));
	same_x509(nm, false, "with UTF-8");
	X509_NAME_free(nm);
}
