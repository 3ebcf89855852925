/* SPDX-License-Identifier: BSD-3-Clause */
/* Number and address text for records (see fmt.h). */
#include "fmt.h"

#define D2(x) #x "0" #x "1" #x "2" #x "3" #x "4" #x "5" #x "6" #x "7" #x "8" #x "9"
const char gcp_fmt_digits2[200] = D2(0) D2(1) D2(2) D2(3) D2(4) D2(5) D2(6) D2(7) D2(8) D2(9);
#undef D2
const char gcp_fmt_hexl[16] = "0123456789abcdef";

/* One octet in decimal without leading zeros. */
static char *fmt_octet(char *p, unsigned v)
{
	if (v >= 100) {
		*p++ = (char)('0' + v / 100);
		v %= 100;
		*p++ = gcp_fmt_digits2[v * 2];
		*p++ = gcp_fmt_digits2[v * 2 + 1];
	} else if (v >= 10) {
		*p++ = gcp_fmt_digits2[v * 2];
		*p++ = gcp_fmt_digits2[v * 2 + 1];
	} else {
		*p++ = (char)('0' + v);
	}
	return p;
}

size_t gcp_fmt_ip4(const uint8_t b[4], char out[GCP_FMT_IP4_LEN])
{
	char *p = out;

	for (int i = 0; i < 4; i++) {
		p = fmt_octet(p, b[i]);
		*p++ = '.';
	}
	*--p = '\0';
	return (size_t)(p - out);
}

/* The longest run of zero groups (first one on ties), as glibc's inet_ntop6 picks it. */
static void zero_run(const unsigned w[8], int *base, int *len)
{
	int cur = -1, cl = 0;

	*base = -1;
	*len = 0;
	for (int i = 0; i <= 8; i++) {
		if (i < 8 && w[i] == 0) {
			if (cur < 0)
				cur = i, cl = 0;
			cl++;
			continue;
		}
		if (cur >= 0 && (*base < 0 || cl > *len)) {
			*base = cur;
			*len = cl;
		}
		cur = -1;
	}
	if (*len < 2)
		*base = -1;
}

size_t gcp_fmt_ip6(const uint8_t b[16], char out[GCP_FMT_IP6_LEN])
{
	unsigned w[8];
	int base, len;
	char *p = out;

	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	zero_run(w, &base, &len);
	for (int i = 0; i < 8; i++) {
		if (base >= 0 && i >= base && i < base + len) {
			if (i == base)
				*p++ = ':';
			continue;
		}
		if (i != 0)
			*p++ = ':';
		/* IPv4-compatible (::a.b.c.d) or IPv4-mapped (::ffff:a.b.c.d). */
		if (i == 6 && base == 0 && (len == 6 || (len == 5 && w[5] == 0xffff)))
			return (size_t)(p - out) + gcp_fmt_ip4(b + 12, p);
		p += gcp_fmt_hex_u64(p, w[i], 1);
	}
	if (base >= 0 && base + len == 8)
		*p++ = ':';
	*p = '\0';
	return (size_t)(p - out);
}
