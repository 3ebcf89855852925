/* SPDX-License-Identifier: BSD-3-Clause */
/* FTP control-line parsers: PASV/PORT numbers (RFC 959 4.1.2, RFC 1123
 * 4.1.2.6), EPSV/EPRT (RFC 2428), LPSV/LPRT (RFC 1639), REST markers
 * (RFC 3659 5), 257 paths (RFC 959 appendix II), and directory
 * tracking. Pure functions over (pointer, length). */
#include <string.h>

#include "ftp.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 1123 4.1.2.6: reply text around the numbers varies; a list may
 * begin at any digit that does not continue a number. */
static bool number_starts(const char *s, size_t i)
{
	return is_digit(s[i]) && !(i && is_digit(s[i - 1]));
}

/* Decimal number of at most max, advancing *i; -1 when none or too big. */
static long number(const char *s, size_t n, size_t *i, long max)
{
	long v = 0;
	size_t start = *i;

	while (*i < n && is_digit(s[*i]) && *i - start < 6) {
		v = v * 10 + (s[*i] - '0');
		(*i)++;
	}
	if (*i == start || v > max || (*i < n && is_digit(s[*i])))
		return -1;
	return v;
}

/* Six comma-separated bytes at s[*i]: h1..h4 address, p1,p2 port. */
static int six(const char *s, size_t n, size_t i, uint8_t addr[4], uint16_t *port)
{
	long v[6];

	for (int k = 0; k < 6; k++) {
		while (i < n && s[i] == ' ')
			i++;
		v[k] = number(s, n, &i, 255);
		if (v[k] < 0)
			return -1;
		while (i < n && s[i] == ' ')
			i++;
		if (k < 5) {
			if (i >= n || s[i] != ',')
				return -1;
			i++;
		}
	}
	for (int k = 0; k < 4; k++)
		addr[k] = (uint8_t)v[k];
	*port = (uint16_t)(v[4] << 8 | v[5]);
	return *port ? 0 : -1;
}

int gcp_ftp_parse_pasv(const char *s, size_t n, uint8_t addr[4], uint16_t *port)
{
	for (size_t i = 0; i < n; i++)
		if (number_starts(s, i) && six(s, n, i, addr, port) == 0)
			return 0;
	return -1;
}

int gcp_ftp_parse_port(const char *s, size_t n, uint8_t addr[4], uint16_t *port)
{
	size_t i = 0;

	while (i < n && s[i] == ' ')
		i++;
	return six(s, n, i, addr, port);
}

int gcp_ftp_parse_epsv(const char *s, size_t n, uint16_t *port)
{
	const char *open = memchr(s, '(', n);

	if (!open)
		return -1;
	size_t i = (size_t)(open - s) + 1;

	if (i + 4 > n)
		return -1;
	char d = s[i];

	/* RFC 2428 3: the delimiter is one of ASCII 33-126, the same throughout. */
	if (d < 33 || d > 126 || is_digit(d) || s[i + 1] != d || s[i + 2] != d)
		return -1;
	i += 3;
	long v = number(s, n, &i, 65535);

	if (v <= 0 || i >= n || s[i] != d)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int gcp_ftp_parse_eprt(const char *s, size_t n, int *af, uint16_t *port)
{
	size_t i = 0;

	while (i < n && s[i] == ' ')
		i++;
	if (i >= n)
		return -1;
	char d = s[i++];

	if (d < 33 || d > 126 || is_digit(d))
		return -1;
	long a = number(s, n, &i, 2);

	if ((a != 1 && a != 2) || i >= n || s[i++] != d)
		return -1;
	const char *end = memchr(s + i, d, n - i); /* network address */

	if (!end || end == s + i)
		return -1;
	i = (size_t)(end - s) + 1;
	long v = number(s, n, &i, 65535);

	if (v <= 0 || i >= n || s[i] != d)
		return -1;
	*af = (int)a;
	*port = (uint16_t)v;
	return 0;
}

/*
 * RFC 1639 2: af,hal,h1..h<hal>,pal,p1..p<pal> at s[i], bytes in decimal.
 * Only the shapes in use: IPv4 (4,4,...) and IPv6 (6,16,...), 2-byte port.
 */
static int long_list(const char *s, size_t n, size_t i, int *af, uint16_t *port)
{
	long v[3 + 16 + 2];
	size_t want = 3;

	for (size_t k = 0; k < want; k++) {
		while (i < n && s[i] == ' ')
			i++;
		v[k] = number(s, n, &i, 255);
		if (v[k] < 0)
			return -1;
		if (k == 1) {
			if (!((v[0] == 4 && v[1] == 4) || (v[0] == 6 && v[1] == 16)))
				return -1;
			want = 2 + (size_t)v[1] + 1 + 2;
		}
		if (k >= 2 && k == 2 + (size_t)v[1] && v[k] != 2)
			return -1; /* pal: the port is two bytes */
		while (i < n && s[i] == ' ')
			i++;
		if (k + 1 < want) {
			if (i >= n || s[i] != ',')
				return -1;
			i++;
		}
	}
	*af = (int)v[0];
	*port = (uint16_t)(v[want - 2] << 8 | v[want - 1]);
	return *port ? 0 : -1;
}

int gcp_ftp_parse_lprt(const char *s, size_t n, int *af, uint16_t *port)
{
	size_t i = 0;

	while (i < n && s[i] == ' ')
		i++;
	return long_list(s, n, i, af, port);
}

int gcp_ftp_parse_lpsv(const char *s, size_t n, int *af, uint16_t *port)
{
	for (size_t i = 0; i < n; i++) /* like 227 */
		if (number_starts(s, i) && long_list(s, n, i, af, port) == 0)
			return 0;
	return -1;
}

int gcp_ftp_parse_rest(const char *s, size_t n, uint64_t *off)
{
	uint64_t v = 0;
	size_t i = 0;

	while (i < n && s[i] == ' ')
		i++;
	if (i == n)
		return -1;
	for (; i < n && s[i] != ' '; i++) {
		uint64_t dig = (uint64_t)(s[i] - '0');

		if (!is_digit(s[i]) || v > (UINT64_MAX - dig) / 10)
			return -1;
		v = v * 10 + dig;
	}
	*off = v;
	return 0;
}

int gcp_ftp_parse_257(const char *s, size_t n, char *out, size_t cap, size_t *outlen)
{
	const char *q = memchr(s, '"', n);
	size_t o = 0;

	if (!q || cap == 0)
		return -1;
	for (size_t i = (size_t)(q - s) + 1; i < n; i++) {
		if (s[i] == '"') {
			if (i + 1 < n && s[i + 1] == '"') {
				i++; /* "" is an embedded quote */
			} else {
				out[o] = 0;
				*outlen = o;
				return 0;
			}
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = s[i];
	}
	return -1; /* unterminated */
}

int gcp_ftp_parse_size(const char *s, size_t n, uint64_t *size)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] != '(' || !is_digit(s[i + 1]))
			continue;
		uint64_t v = 0;
		size_t j = i + 1;

		while (j < n && is_digit(s[j]) && v < (1ull << 56))
			v = v * 10 + (uint64_t)(s[j++] - '0');
		if (j + 6 <= n && !memcmp(s + j, " bytes", 6)) {
			*size = v;
			return 0;
		}
	}
	return -1;
}

/* Append component c to out (a path being built); false when full. */
static bool push(char *out, size_t cap, size_t *o, bool abs, const char *c, size_t cl)
{
	size_t need = cl + ((abs || *o) ? 1 : 0);

	if (*o + need + 1 > cap)
		return false;
	if (abs || *o)
		out[(*o)++] = '/';
	memcpy(out + *o, c, cl);
	*o += cl;
	out[*o] = 0;
	return true;
}

/* Drop the last component; false when there is none (relative path). */
static bool pop(char *out, size_t *o, bool abs)
{
	if (*o == 0)
		return abs; /* "/.." is "/" (RFC 959 leaves it to the server) */
	while (*o > 0 && out[*o - 1] != '/')
		(*o)--;
	if (*o > 0)
		(*o)--; /* the separator */
	out[*o] = 0;
	return true;
}

/* Walk the components of one input path into out. */
static bool walk(const char *p, size_t n, char *out, size_t cap, size_t *o, bool abs)
{
	size_t i = 0;

	while (i < n) {
		while (i < n && p[i] == '/')
			i++;
		size_t start = i;

		while (i < n && p[i] != '/')
			i++;
		size_t cl = i - start;

		if (cl == 0 || (cl == 1 && p[start] == '.'))
			continue;
		if (cl == 2 && p[start] == '.' && p[start + 1] == '.') {
			if (!pop(out, o, abs))
				return false;
			continue;
		}
		if (!push(out, cap, o, abs, p + start, cl))
			return false;
	}
	return true;
}

int gcp_ftp_path_join(const char *base, size_t blen, const char *arg, size_t alen, char *out,
		      size_t cap)
{
	bool arg_abs = alen && arg[0] == '/';
	bool abs = arg_abs || (blen && base[0] == '/');
	size_t o = 0;

	if (cap < 2)
		return -1;
	out[0] = 0;
	if (!arg_abs && !walk(base, blen, out, cap, &o, abs))
		return -1;
	if (!walk(arg, alen, out, cap, &o, abs))
		return -1;
	if (abs && o == 0) {
		out[o++] = '/';
		out[o] = 0;
	}
	return (int)o;
}
