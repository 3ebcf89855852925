/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Text for records: decimal and hex numbers, IPv4 and IPv6 addresses.
 * Each writes exactly what the printf format or inet_ntop named beside
 * it prints, without the cost: snprintf and inet_ntop were a tenth of
 * the packet path on the record side (format parsing, stdio setup).
 * Nothing here writes a NUL unless it says so; each returns the length.
 */
#ifndef GCP_FMT_H
#define GCP_FMT_H

#include <stddef.h>
#include <stdint.h>

#define GCP_FMT_U64_LEN 20  /* digits of UINT64_MAX */
#define GCP_FMT_IP4_LEN 16  /* "255.255.255.255" + NUL */
#define GCP_FMT_IP6_LEN 46  /* INET6_ADDRSTRLEN */

extern const char gcp_fmt_digits2[200]; /* "00" "01" ... "99" */
extern const char gcp_fmt_hexl[16];     /* "0123456789abcdef" */

/* Decimal digits of v (1..20). */
static inline unsigned gcp_fmt_u64_len(uint64_t v)
{
	unsigned n = 1;

	while (v >= 10000) {
		v /= 10000;
		n += 4;
	}
	return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/* "%llu": at most GCP_FMT_U64_LEN bytes. */
static inline size_t gcp_fmt_u64(char *out, uint64_t v)
{
	unsigned n = gcp_fmt_u64_len(v);
	char *p = out + n;

	while (v >= 100) {
		unsigned r = (unsigned)(v % 100) * 2;

		v /= 100;
		*--p = gcp_fmt_digits2[r + 1];
		*--p = gcp_fmt_digits2[r];
	}
	if (v >= 10) {
		*--p = gcp_fmt_digits2[v * 2 + 1];
		*--p = gcp_fmt_digits2[v * 2];
	} else {
		*--p = (char)('0' + v);
	}
	return n;
}

/* "%0*x" with at least width digits (width <= 16), lower case. */
static inline size_t gcp_fmt_hex_u64(char *out, uint64_t v, unsigned width)
{
	unsigned n = 1;

	for (uint64_t t = v >> 4; t; t >>= 4)
		n++;
	if (n < width)
		n = width;
	for (unsigned i = n; i-- > 0; v >>= 4)
		out[i] = gcp_fmt_hexl[v & 15];
	return n;
}

/* Bytes as lower-case hex, two digits each ("%02x" per byte). */
static inline size_t gcp_fmt_hex_bytes(char *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = gcp_fmt_hexl[p[i] >> 4];
		out[2 * i + 1] = gcp_fmt_hexl[p[i] & 15];
	}
	return 2 * n;
}

/* Dotted quad, as inet_ntop(AF_INET) prints it; NUL-terminated. */
size_t gcp_fmt_ip4(const uint8_t b[4], char out[GCP_FMT_IP4_LEN]);

/*
 * IPv6 text exactly as glibc's inet_ntop(AF_INET6) prints it: lower-case
 * hex without leading zeros, the first longest run of two or more zero
 * groups as "::" (RFC 5952 4.2), and ::a.b.c.d / ::ffff:a.b.c.d for
 * IPv4-compatible and IPv4-mapped addresses. NUL-terminated.
 */
size_t gcp_fmt_ip6(const uint8_t b[16], char out[GCP_FMT_IP6_LEN]);

#endif /* GCP_FMT_H */
