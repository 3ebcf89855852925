/* SPDX-License-Identifier: BSD-3-Clause */
/* DNS rdata in presentation form, as dig prints it (RFC 1035 5.1, RFC 3597 5). */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "cursor.h"
#include "dns_int.h"
#include "fmt.h"

/* ---- text buffer ---------------------------------------------------- */

static void put(struct dns_txt *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		n = t->cap - 1 - t->len;
		t->trunc = true;
	}
	for (size_t i = 0; i < n; i++)
		t->p[t->len + i] = s[i];
	t->len += n;
	t->p[t->len] = '\0';
}

static void puts_(struct dns_txt *t, const char *s)
{
	put(t, s, strlen(s));
}

/* One integer conversion of putf: zero-padded to width, as printf does. */
static void put_int(struct dns_txt *t, int64_t v, unsigned width)
{
	char tmp[GCP_FMT_U64_LEN + 1];
	uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	size_t n = gcp_fmt_u64_len(mag), sign = v < 0;

	if (sign)
		put(t, "-", 1);
	for (size_t w = n + sign; w < width; w++)
		put(t, "0", 1);
	put(t, tmp, gcp_fmt_u64(tmp, mag));
}

/*
 * printf for the few conversions rdata text uses (%u, %d, %c, with a
 * zero-pad width): vsnprintf was most of a record's text cost. The
 * format attribute keeps the compiler checking every call; an unknown
 * conversion is a bug caught by the tests (it prints nothing).
 */
__attribute__((format(printf, 2, 3))) static void putf(struct dns_txt *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++) {
		const char *lit = f;

		while (*f && *f != '%')
			f++;
		put(t, lit, (size_t)(f - lit));
		if (!*f)
			break;
		unsigned width = 0;

		for (f++; *f >= '0' && *f <= '9'; f++)
			width = width * 10 + (unsigned)(*f - '0');
		if (*f == 'u') {
			put_int(t, va_arg(ap, unsigned), width);
		} else if (*f == 'd') {
			put_int(t, va_arg(ap, int), width);
		} else if (*f == 'c') {
			char c = (char)va_arg(ap, int);
			put(t, &c, 1);
		} else {
			break;
		}
	}
	va_end(ap);
}

static void put_hex(struct dns_txt *t, const uint8_t *p, size_t n)
{
	static const char hx[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n && !t->trunc; i++) {
		char b[2] = { hx[p[i] >> 4], hx[p[i] & 15] };
		put(t, b, 2);
	}
}

/* RFC 4648 4. */
static void put_b64(struct dns_txt *t, const uint8_t *p, size_t n)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n && !t->trunc; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char b[4] = { al[v >> 18 & 63], al[v >> 12 & 63], i + 1 < n ? al[v >> 6 & 63] : '=',
			      i + 2 < n ? al[v & 63] : '=' };
		put(t, b, 4);
	}
}

/* RFC 4648 7 (NSEC3 next hashed owner, RFC 5155 3.3). */
static void put_b32hex(struct dns_txt *t, const uint8_t *p, size_t n)
{
	static const char al[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
	uint32_t acc = 0;
	unsigned bits = 0;

	for (size_t i = 0; i < n && !t->trunc; i++) {
		acc = acc << 8 | p[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			put(t, &al[acc >> bits & 31], 1);
		}
	}
	if (bits)
		put(t, &al[acc << (5 - bits) & 31], 1);
}

/* <character-string> quoted (RFC 1035 5.1): \" \\ escaped, others \DDD. */
static void put_qstr(struct dns_txt *t, const uint8_t *p, size_t n)
{
	put(t, "\"", 1);
	for (size_t i = 0; i < n && !t->trunc; i++) {
		uint8_t c = p[i];
		if (c == '"' || c == '\\') {
			char b[2] = { '\\', (char)c };
			put(t, b, 2);
		} else if (c >= 0x20 && c < 0x7f) {
			put(t, (const char *)&c, 1);
		} else {
			putf(t, "\\%03u", c);
		}
	}
	put(t, "\"", 1);
}

static void put_type(struct dns_txt *t, uint16_t type)
{
	const char *s = gcp_dns_type_name(type);
	if (s)
		puts_(t, s);
	else
		putf(t, "TYPE%u", type);
}

/* RFC 4034 3.2: YYYYMMDDHHmmSS in UTC. */
static void put_time(struct dns_txt *t, uint32_t v)
{
	time_t tt = (time_t)v;
	struct tm tm;

	if (!gmtime_r(&tt, &tm)) {
		putf(t, "%u", v);
		return;
	}
	putf(t, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* ---- rdata readers: each returns false on malformed rdata ------------- */

/* What the per-type renderers see: the message and the rdata window. */
struct rd {
	const uint8_t *msg;
	size_t len;
	size_t pos, end; /* cursor inside rdata */
};

static bool rd_left(const struct rd *r, size_t n)
{
	return r->end - r->pos >= n;
}

static bool rd_u8(struct rd *r, uint8_t *v)
{
	if (!rd_left(r, 1))
		return false;
	*v = r->msg[r->pos++];
	return true;
}

static bool rd_u16(struct rd *r, uint16_t *v)
{
	if (!rd_left(r, 2))
		return false;
	*v = gcp_be16(r->msg + r->pos);
	r->pos += 2;
	return true;
}

static bool rd_u32(struct rd *r, uint32_t *v)
{
	if (!rd_left(r, 4))
		return false;
	*v = gcp_be32(r->msg + r->pos);
	r->pos += 4;
	return true;
}

/* A name inside rdata: its in-line part must end within the rdata. */
static bool rd_name(struct rd *r, struct dns_txt *t)
{
	uint8_t wire[DNS_NAME_MAX];
	char text[DNS_NAME_TEXT_MAX];
	size_t wlen, off = r->pos;

	if (gcp_dns_name_decode(r->msg, r->end, &off, wire, &wlen) != DNS_NAME_OK)
		return false;
	r->pos = off;
	gcp_dns_name_text(wire, wlen, text, sizeof(text), false);
	puts_(t, text);
	return true;
}

static bool rd_qstr(struct rd *r, struct dns_txt *t)
{
	uint8_t n;

	if (!rd_u8(r, &n) || !rd_left(r, n))
		return false;
	put_qstr(t, r->msg + r->pos, n);
	r->pos += n;
	return true;
}

static bool rd_done(const struct rd *r)
{
	return r->pos == r->end;
}

/* An address as inet_ntop prints it (fmt.c: same text, no sprintf). */
static size_t addr_text(int af, const uint8_t *a, char buf[GCP_FMT_IP6_LEN])
{
	return af == AF_INET ? gcp_fmt_ip4(a, buf) : gcp_fmt_ip6(a, buf);
}

static bool r_addr(struct rd *r, struct dns_txt *t, int af, size_t n)
{
	char buf[GCP_FMT_IP6_LEN];

	if (r->end - r->pos != n)
		return false;
	put(t, buf, addr_text(af, r->msg + r->pos, buf));
	r->pos += n;
	return true;
}

static bool r_name(struct rd *r, struct dns_txt *t)
{
	return rd_name(r, t) && rd_done(r);
}

/* MX, AFSDB, RT, KX: preference + name. */
static bool r_pref_name(struct rd *r, struct dns_txt *t)
{
	uint16_t pref;

	if (!rd_u16(r, &pref))
		return false;
	putf(t, "%u ", pref);
	return r_name(r, t);
}

/* TXT, SPF, HINFO: one or more <character-string>s, space separated. */
static bool r_strings(struct rd *r, struct dns_txt *t)
{
	if (rd_done(r))
		return false;
	for (bool first = true; !rd_done(r); first = false) {
		if (!first)
			put(t, " ", 1);
		if (!rd_qstr(r, t))
			return false;
	}
	return true;
}

/* RFC 1035 3.3.13. */
static bool r_soa(struct rd *r, struct dns_txt *t)
{
	uint32_t v[5];

	if (!rd_name(r, t))
		return false;
	put(t, " ", 1);
	if (!rd_name(r, t))
		return false;
	for (int i = 0; i < 5; i++)
		if (!rd_u32(r, &v[i]))
			return false;
	putf(t, " %u %u %u %u %u", v[0], v[1], v[2], v[3], v[4]);
	return rd_done(r);
}

/* RFC 2782. */
static bool r_srv(struct rd *r, struct dns_txt *t)
{
	uint16_t prio, weight, port;

	if (!rd_u16(r, &prio) || !rd_u16(r, &weight) || !rd_u16(r, &port))
		return false;
	putf(t, "%u %u %u ", prio, weight, port);
	return r_name(r, t);
}

/* RFC 8659 4.1: flags tag "value". */
static bool r_caa(struct rd *r, struct dns_txt *t)
{
	uint8_t flags, taglen;

	if (!rd_u8(r, &flags) || !rd_u8(r, &taglen) || taglen == 0 || !rd_left(r, taglen))
		return false;
	putf(t, "%u ", flags);
	put(t, (const char *)r->msg + r->pos, taglen);
	r->pos += taglen;
	put(t, " ", 1);
	put_qstr(t, r->msg + r->pos, r->end - r->pos);
	r->pos = r->end;
	return true;
}

/* RFC 3403 4.1. */
static bool r_naptr(struct rd *r, struct dns_txt *t)
{
	uint16_t order, pref;

	if (!rd_u16(r, &order) || !rd_u16(r, &pref))
		return false;
	putf(t, "%u %u", order, pref);
	for (int i = 0; i < 3; i++) {
		put(t, " ", 1);
		if (!rd_qstr(r, t))
			return false;
	}
	put(t, " ", 1);
	return r_name(r, t);
}

/* DS, CDS, DLV (RFC 4034 5.3): keytag alg digesttype HEX. */
static bool r_ds(struct rd *r, struct dns_txt *t)
{
	uint16_t tag;
	uint8_t alg, dt;

	if (!rd_u16(r, &tag) || !rd_u8(r, &alg) || !rd_u8(r, &dt))
		return false;
	putf(t, "%u %u %u ", tag, alg, dt);
	put_hex(t, r->msg + r->pos, r->end - r->pos);
	r->pos = r->end;
	return true;
}

/* DNSKEY, CDNSKEY, KEY (RFC 4034 2.2): flags proto alg base64. */
static bool r_dnskey(struct rd *r, struct dns_txt *t)
{
	uint16_t flags;
	uint8_t proto, alg;

	if (!rd_u16(r, &flags) || !rd_u8(r, &proto) || !rd_u8(r, &alg))
		return false;
	putf(t, "%u %u %u ", flags, proto, alg);
	put_b64(t, r->msg + r->pos, r->end - r->pos);
	r->pos = r->end;
	return true;
}

/* RRSIG, SIG (RFC 4034 3.2). */
static bool r_rrsig(struct rd *r, struct dns_txt *t)
{
	uint16_t covered, tag;
	uint8_t alg, labels;
	uint32_t ottl, exp, inc;

	if (!rd_u16(r, &covered) || !rd_u8(r, &alg) || !rd_u8(r, &labels) || !rd_u32(r, &ottl) ||
	    !rd_u32(r, &exp) || !rd_u32(r, &inc) || !rd_u16(r, &tag))
		return false;
	put_type(t, covered);
	putf(t, " %u %u %u ", alg, labels, ottl);
	put_time(t, exp);
	put(t, " ", 1);
	put_time(t, inc);
	putf(t, " %u ", tag);
	if (!rd_name(r, t))
		return false;
	put(t, " ", 1);
	put_b64(t, r->msg + r->pos, r->end - r->pos);
	r->pos = r->end;
	return true;
}

/* RFC 4034 4.1.2: window blocks of type bits. */
static bool rd_type_bitmap(struct rd *r, struct dns_txt *t)
{
	while (!rd_done(r)) {
		uint8_t win, blen;
		if (!rd_u8(r, &win) || !rd_u8(r, &blen) || blen == 0 || blen > 32 ||
		    !rd_left(r, blen))
			return false;
		for (unsigned i = 0; i < (unsigned)blen * 8; i++) {
			if (r->msg[r->pos + i / 8] & (0x80 >> (i % 8))) {
				put(t, " ", 1);
				put_type(t, (uint16_t)(win << 8 | i));
			}
		}
		r->pos += blen;
	}
	return true;
}

static bool r_nsec(struct rd *r, struct dns_txt *t)
{
	return rd_name(r, t) && rd_type_bitmap(r, t);
}

/* RFC 5155 3.3. */
static bool r_nsec3(struct rd *r, struct dns_txt *t)
{
	uint8_t alg, flags, slen, hlen;
	uint16_t iter;

	if (!rd_u8(r, &alg) || !rd_u8(r, &flags) || !rd_u16(r, &iter) || !rd_u8(r, &slen) ||
	    !rd_left(r, slen))
		return false;
	putf(t, "%u %u %u ", alg, flags, iter);
	if (slen)
		put_hex(t, r->msg + r->pos, slen);
	else
		put(t, "-", 1);
	r->pos += slen;
	if (!rd_u8(r, &hlen) || hlen == 0 || !rd_left(r, hlen))
		return false;
	put(t, " ", 1);
	put_b32hex(t, r->msg + r->pos, hlen);
	r->pos += hlen;
	return rd_type_bitmap(r, t);
}

/* TLSA (RFC 6698 2.2) and SSHFP (RFC 4255 3.2): small ints then HEX. */
static bool r_ints_hex(struct rd *r, struct dns_txt *t, int nints)
{
	for (int i = 0; i < nints; i++) {
		uint8_t v;
		if (!rd_u8(r, &v))
			return false;
		putf(t, "%u ", v);
	}
	if (rd_done(r))
		return false;
	put_hex(t, r->msg + r->pos, r->end - r->pos);
	r->pos = r->end;
	return true;
}

/* ---- SVCB / HTTPS (RFC 9460 2.2, 7) ------------------------------------ */

static const char *const svc_keys[] = { "mandatory", "alpn", "no-default-alpn", "port",
					"ipv4hint", "ech", "ipv6hint", "dohpath", "ohttp" };

static void put_svc_key(struct dns_txt *t, uint16_t key)
{
	if (key < sizeof(svc_keys) / sizeof(svc_keys[0]))
		puts_(t, svc_keys[key]);
	else
		putf(t, "key%u", key);
}

/* Value bytes as a quoted string, commas escaped (RFC 9460 A.1). */
static void put_svc_str(struct dns_txt *t, const uint8_t *p, size_t n)
{
	put_qstr(t, p, n);
}

static bool svc_alpn(struct rd *v, struct dns_txt *t)
{
	put(t, "\"", 1);
	for (bool first = true; !rd_done(v); first = false) {
		uint8_t n;
		if (!rd_u8(v, &n) || n == 0 || !rd_left(v, n))
			return false;
		if (!first)
			put(t, ",", 1);
		for (size_t i = 0; i < n; i++) {
			uint8_t c = v->msg[v->pos + i];
			if (c == ',' || c == '\\' || c == '"')
				putf(t, "\\%c", c);
			else if (c >= 0x20 && c < 0x7f)
				put(t, (const char *)&c, 1);
			else
				putf(t, "\\%03u", c);
		}
		v->pos += n;
	}
	put(t, "\"", 1);
	return true;
}

static bool svc_addrs(struct rd *v, struct dns_txt *t, int af, size_t n)
{
	char buf[GCP_FMT_IP6_LEN];

	if (rd_done(v) || (v->end - v->pos) % n)
		return false;
	for (bool first = true; !rd_done(v); first = false, v->pos += n) {
		if (!first)
			put(t, ",", 1);
		put(t, buf, addr_text(af, v->msg + v->pos, buf));
	}
	return true;
}

static bool svc_mandatory(struct rd *v, struct dns_txt *t)
{
	uint16_t key;

	if (rd_done(v))
		return false;
	for (bool first = true; !rd_done(v); first = false) {
		if (!rd_u16(v, &key))
			return false;
		if (!first)
			put(t, ",", 1);
		put_svc_key(t, key);
	}
	return true;
}

static bool svc_value(struct rd *v, struct dns_txt *t, uint16_t key)
{
	uint16_t port;

	switch (key) {
	case 0:
		return svc_mandatory(v, t);
	case 1:
		return svc_alpn(v, t);
	case 3:
		if (!rd_u16(v, &port) || !rd_done(v))
			return false;
		putf(t, "%u", port);
		return true;
	case 4:
		return svc_addrs(v, t, AF_INET, 4);
	case 5:
	case 8:
		put_b64(t, v->msg + v->pos, v->end - v->pos);
		break;
	case 6:
		return svc_addrs(v, t, AF_INET6, 16);
	default:
		put_svc_str(t, v->msg + v->pos, v->end - v->pos);
		break;
	}
	v->pos = v->end;
	return true;
}

static bool r_svcb(struct rd *r, struct dns_txt *t)
{
	uint16_t prio;

	if (!rd_u16(r, &prio))
		return false;
	putf(t, "%u ", prio);
	if (!rd_name(r, t))
		return false;
	while (!rd_done(r)) {
		uint16_t key, vlen;
		if (!rd_u16(r, &key) || !rd_u16(r, &vlen) || !rd_left(r, vlen))
			return false;
		struct rd v = { r->msg, r->len, r->pos, r->pos + vlen };
		put(t, " ", 1);
		put_svc_key(t, key);
		if (vlen) {
			put(t, "=", 1);
			if (!svc_value(&v, t, key))
				return false;
		} else if (key == 1 || key == 4 || key == 6 || key == 0) {
			return false;
		}
		r->pos += vlen;
	}
	return true;
}

/* ---- dispatch ---------------------------------------------------------- */

/* 1: rendered, 0: malformed for its type, -1: no presentation format known. */
static int render(struct rd *r, struct dns_txt *t, uint16_t type)
{
	switch (type) {
	case 1:
		return r_addr(r, t, AF_INET, 4);
	case 28:
		return r_addr(r, t, AF_INET6, 16);
	case 2: case 3: case 4: case 5: case 7: case 8: case 9: case 12: case 39:
		return r_name(r, t);
	case 15: case 18: case 21: case 36:
		return r_pref_name(r, t);
	case 13: case 16: case 99:
		return r_strings(r, t);
	case 6:
		return r_soa(r, t);
	case 33:
		return r_srv(r, t);
	case 35:
		return r_naptr(r, t);
	case 257:
		return r_caa(r, t);
	case 43: case 59: case 32769:
		return r_ds(r, t);
	case 25: case 48: case 60:
		return r_dnskey(r, t);
	case 24: case 46:
		return r_rrsig(r, t);
	case 47:
		return r_nsec(r, t);
	case 50:
		return r_nsec3(r, t);
	case 52: case 53:
		return r_ints_hex(r, t, 3);
	case 44:
		return r_ints_hex(r, t, 2);
	case 64: case 65:
		return r_svcb(r, t);
	default:
		return -1;
	}
}

/* RFC 3597 5: \# len HEX. */
static void generic(struct dns_txt *t, const uint8_t *p, uint16_t n)
{
	putf(t, "\\# %u", n);
	if (n) {
		put(t, " ", 1);
		put_hex(t, p, n);
	}
}

bool gcp_dns_rdata_text(struct dns_txt *t, const uint8_t *msg, size_t len, uint16_t type,
			size_t rdoff, uint16_t rdlen)
{
	struct rd r = { msg, len, rdoff, rdoff + rdlen };

	t->len = 0;
	t->trunc = false;
	t->p[0] = '\0';
	if (rdoff + rdlen > len)
		return false;
	if (rdlen == 0) /* RFC 2136 2.4: UPDATE prerequisites carry no rdata */
		return true;
	int rc = render(&r, t, type);
	if (rc > 0)
		return true;
	t->len = 0;
	t->trunc = false;
	t->p[0] = '\0';
	generic(t, msg + rdoff, rdlen);
	return rc < 0;
}
