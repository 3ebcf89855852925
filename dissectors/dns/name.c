/* SPDX-License-Identifier: BSD-3-Clause */
/* DNS domain names: decompression (RFC 1035 4.1.4) and presentation form. */
#include <stdio.h>

#include "dns_int.h"

/*
 * RFC 1035 4.1.4: a pointer replaces "a list of labels at the end of a
 * domain name" with "a prior occurrence". Like c-ares ares_dns_name.c
 * and BIND, a pointer must go strictly backwards: before the start of
 * the segment being read (the name itself or the last pointer target).
 * Segment starts thus strictly decrease, so decoding terminates; the
 * hop cap bounds the work anyway.
 */
int gcp_dns_name_decode(const uint8_t *msg, size_t len, size_t *off, uint8_t *out,
			size_t *outlen)
{
	size_t pos = *off, seg = *off, end = 0, o = 0;
	unsigned hops = 0;
	int rc = DNS_NAME_OK;

	for (;;) {
		if (pos >= len) {
			rc = DNS_NAME_TRUNC;
			break;
		}
		uint8_t c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= len) {
				rc = DNS_NAME_TRUNC;
				break;
			}
			size_t target = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
			if (target >= seg || ++hops > DNS_MAX_HOPS) {
				rc = DNS_NAME_LOOP;
				break;
			}
			if (!end)
				end = pos + 2;
			pos = seg = target;
			continue;
		}
		if (c & 0xc0) { /* 01: extended label (RFC 6891 5), 10: reserved */
			rc = DNS_NAME_BADLABEL;
			break;
		}
		if (c == 0) {
			out[o++] = 0;
			*outlen = o;
			*off = end ? end : pos + 1;
			return DNS_NAME_OK;
		}
		if (pos + 1 + c > len) {
			rc = DNS_NAME_TRUNC;
			break;
		}
		if (o + 1 + c + 1 > DNS_NAME_MAX) { /* RFC 1035 2.3.4 */
			rc = DNS_NAME_TOOLONG;
			break;
		}
		for (size_t i = 0; i <= c; i++)
			out[o + i] = msg[pos + i];
		o += 1 + (size_t)c;
		pos += 1 + (size_t)c;
	}
	out[o++] = 0;
	*outlen = o;
	return rc;
}

/* RFC 4343 2.1: ASCII case folding only. */
static uint8_t fold(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* dig's escaping (RFC 1035 5.1): specials get a backslash, others \DDD. */
static size_t put_label_byte(char *out, size_t o, size_t cap, uint8_t c)
{
	if (c > 0x20 && c < 0x7f) {
		bool special = c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' ||
			       c == ';' || c == '@' || c == '$';
		if (o + (special ? 2 : 1) >= cap)
			return o;
		if (special)
			out[o++] = '\\';
		out[o++] = (char)c;
		return o;
	}
	if (o + 4 >= cap)
		return o;
	out[o] = '\\'; /* "\\%03u" */
	out[o + 1] = (char)('0' + c / 100);
	out[o + 2] = (char)('0' + c / 10 % 10);
	out[o + 3] = (char)('0' + c % 10);
	out[o + 4] = '\0';
	return o + 4;
}

size_t gcp_dns_name_text(const uint8_t *wire, size_t wlen, char *out, size_t cap, bool lower)
{
	size_t o = 0, i = 0;

	while (i < wlen && wire[i] != 0) {
		size_t l = wire[i++];
		if (o && o + 1 < cap)
			out[o++] = '.';
		for (size_t k = 0; k < l && i < wlen; k++, i++)
			o = put_label_byte(out, o, cap, lower ? fold(wire[i]) : wire[i]);
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	return o;
}

unsigned gcp_dns_name_labels(const uint8_t *wire, size_t wlen)
{
	unsigned n = 0;

	for (size_t i = 0; i < wlen && wire[i] != 0; i += 1 + (size_t)wire[i])
		n++;
	return n;
}

int gcp_dns_name_last_label(const uint8_t *wire, size_t wlen)
{
	int last = -1;

	for (size_t i = 0; i < wlen && wire[i] != 0; i += 1 + (size_t)wire[i])
		last = (int)i;
	return last;
}

bool gcp_dns_name_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (fold(a[i]) != fold(b[i]))
			return false;
	return true;
}
