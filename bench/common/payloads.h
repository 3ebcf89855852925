/* SPDX-License-Identifier: BSD-3-Clause */
/* Realistic application payloads (HTTP, TLS 1.2 handshake, DNS) shared by
 * the traffic generator and the micro benchmarks. */
#ifndef GCP_BENCH_PAYLOADS_H
#define GCP_BENCH_PAYLOADS_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert_der.h"

/* A growable byte buffer (aborts on allocation failure: tools, not lib). */
struct pbuf {
	uint8_t *p;
	size_t n, cap;
};

static inline void pb_reserve(struct pbuf *b, size_t more)
{
	if (b->n + more <= b->cap)
		return;
	size_t ncap = b->cap ? b->cap : 256;

	while (ncap < b->n + more)
		ncap *= 2;
	b->p = realloc(b->p, ncap);
	if (!b->p)
		abort();
	b->cap = ncap;
}

static inline void pb_put(struct pbuf *b, const void *d, size_t n)
{
	if (!n)
		return;
	pb_reserve(b, n);
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static inline void pb_u8(struct pbuf *b, unsigned v)
{
	uint8_t x = (uint8_t)v;

	pb_put(b, &x, 1);
}

static inline void pb_u16(struct pbuf *b, unsigned v)
{
	pb_u8(b, v >> 8);
	pb_u8(b, v);
}

static inline void pb_u24(struct pbuf *b, unsigned v)
{
	pb_u8(b, v >> 16);
	pb_u16(b, v & 0xffff);
}

/* Patch a big-endian length of `bytes` bytes at off. */
static inline void pb_patch(struct pbuf *b, size_t off, unsigned bytes, size_t v)
{
	for (unsigned i = 0; i < bytes; i++)
		b->p[off + i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

static inline void pb_fmt(struct pbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline void pb_fmt(struct pbuf *b, const char *fmt, ...)
{
	va_list ap;
	char tmp[2048];

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);

	va_end(ap);
	if (n > 0)
		pb_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Deterministic filler: printable text for bodies, xorshift for ciphertext. */
static inline void pb_fill(struct pbuf *b, size_t n, uint64_t seed, int text)
{
	static const char words[] = "the quick brown fox jumps over the lazy dog <p>lorem ipsum</p>\n";
	uint64_t x = seed | 1;

	pb_reserve(b, n);
	for (size_t i = 0; i < n; i++) {
		if (text) {
			b->p[b->n + i] = (uint8_t)words[(i + seed) % (sizeof(words) - 1)];
			continue;
		}
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b->p[b->n + i] = (uint8_t)x;
	}
	b->n += n;
}

/* ---- HTTP/1.1 ------------------------------------------------------- */

static inline void pl_http_req(struct pbuf *b, const char *host, unsigned id)
{
	pb_fmt(b, "GET /static/app/%u/index.html?session=%08x HTTP/1.1\r\n"
		  "Host: %s\r\n"
		  "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
		  "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
		  "Accept-Language: en-US,en;q=0.5\r\n"
		  "Accept-Encoding: identity\r\n"
		  "Referer: http://%s/\r\n"
		  "Cookie: sid=%08x%08x; theme=dark\r\n"
		  "Connection: keep-alive\r\n\r\n",
	       id % 977, id * 2654435761u, host, host, id, ~id);
}

static inline void pl_http_resp(struct pbuf *b, size_t body, unsigned id)
{
	pb_fmt(b, "HTTP/1.1 200 OK\r\n"
		  "Server: nginx/1.24.0\r\n"
		  "Date: Mon, 04 Mar 2024 10:00:00 GMT\r\n"
		  "Content-Type: text/html; charset=utf-8\r\n"
		  "Content-Length: %zu\r\n"
		  "Cache-Control: max-age=600\r\n"
		  "ETag: \"%08x\"\r\n"
		  "Connection: keep-alive\r\n\r\n",
	       body, id);
	pb_fill(b, body, id, 1);
}

/* ---- TLS 1.2 handshake (RFC 5246 7.4) ------------------------------ */

/* Open a record (type) and a handshake message (hs); returns offsets to patch. */
static inline size_t pl_tls_open(struct pbuf *b, unsigned type)
{
	size_t off = b->n;

	pb_u8(b, type);
	pb_u16(b, 0x0303);
	pb_u16(b, 0);
	return off;
}

static inline void pl_tls_close(struct pbuf *b, size_t rec)
{
	pb_patch(b, rec + 3, 2, b->n - rec - 5);
}

static inline void pl_tls_ext(struct pbuf *b, unsigned type, const uint8_t *d, size_t n)
{
	pb_u16(b, type);
	pb_u16(b, (unsigned)n);
	pb_put(b, d, n);
}

static inline void pl_tls_ch_exts(struct pbuf *b, const char *sni)
{
	static const uint8_t groups[] = { 0, 8, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, 0x01, 0x00 };
	static const uint8_t ecpf[] = { 1, 0 };
	static const uint8_t sigs[] = { 0, 16, 0x04, 0x03, 0x05, 0x03, 0x06, 0x03, 0x08, 0x04,
					0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01 };
	static const uint8_t alpn[] = { 0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
	size_t sl = strlen(sni);

	pb_u16(b, 0x0000); /* server_name (RFC 6066 3) */
	pb_u16(b, (unsigned)sl + 5);
	pb_u16(b, (unsigned)sl + 3);
	pb_u8(b, 0);
	pb_u16(b, (unsigned)sl);
	pb_put(b, sni, sl);
	pl_tls_ext(b, 0x0017, NULL, 0); /* extended_master_secret */
	pl_tls_ext(b, 0xff01, (const uint8_t *)"", 1);
	pl_tls_ext(b, 0x000a, groups, sizeof(groups));
	pl_tls_ext(b, 0x000b, ecpf, sizeof(ecpf));
	pl_tls_ext(b, 0x0023, NULL, 0); /* session_ticket */
	pl_tls_ext(b, 0x0010, alpn, sizeof(alpn));
	pl_tls_ext(b, 0x0005, (const uint8_t *)"\x01\x00\x00\x00\x00", 5);
	pl_tls_ext(b, 0x000d, sigs, sizeof(sigs));
}

static inline void pl_tls_client_hello(struct pbuf *b, const char *sni, unsigned id)
{
	static const uint16_t suites[] = { 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030,
					   0xc00a, 0xc009, 0xc013, 0xc014, 0x009c, 0x009d,
					   0x002f, 0x0035 };
	size_t rec = pl_tls_open(b, 22), hs;

	pb_u8(b, 1);
	hs = b->n;
	pb_u24(b, 0);
	pb_u16(b, 0x0303);
	pb_fill(b, 32, id, 0); /* random */
	pb_u8(b, 32);
	pb_fill(b, 32, id + 1, 0); /* session id */
	pb_u16(b, sizeof(suites));
	for (size_t i = 0; i < sizeof(suites) / 2; i++)
		pb_u16(b, suites[i]);
	pb_u8(b, 1);
	pb_u8(b, 0);
	size_t ext = b->n;

	pb_u16(b, 0);
	pl_tls_ch_exts(b, sni);
	pb_patch(b, ext, 2, b->n - ext - 2);
	pb_patch(b, hs, 3, b->n - hs - 3);
	pl_tls_close(b, rec);
}

/* ServerHello + Certificate + ServerKeyExchange + ServerHelloDone. */
static inline void pl_tls_server_flight(struct pbuf *b, unsigned id)
{
	size_t rec = pl_tls_open(b, 22), hs;

	pb_u8(b, 2);
	hs = b->n;
	pb_u24(b, 0);
	pb_u16(b, 0x0303);
	pb_fill(b, 32, id + 2, 0);
	pb_u8(b, 32);
	pb_fill(b, 32, id + 3, 0);
	pb_u16(b, 0xc02f);
	pb_u8(b, 0);
	pb_u16(b, 9);
	pl_tls_ext(b, 0xff01, (const uint8_t *)"", 1);
	pl_tls_ext(b, 0x0017, NULL, 0);
	pb_patch(b, hs, 3, b->n - hs - 3);
	pb_u8(b, 11); /* Certificate */
	hs = b->n;
	pb_u24(b, 0);
	pb_u24(b, sizeof(bench_cert_der) + 3);
	pb_u24(b, sizeof(bench_cert_der));
	pb_put(b, bench_cert_der, sizeof(bench_cert_der));
	pb_patch(b, hs, 3, b->n - hs - 3);
	pb_u8(b, 12); /* ServerKeyExchange: x25519 + RSA signature */
	pb_u24(b, 4 + 32 + 4 + 256);
	pb_u8(b, 3);
	pb_u16(b, 0x001d);
	pb_u8(b, 32);
	pb_fill(b, 32, id + 4, 0);
	pb_u16(b, 0x0401);
	pb_u16(b, 256);
	pb_fill(b, 256, id + 5, 0);
	pb_u8(b, 14); /* ServerHelloDone */
	pb_u24(b, 0);
	pl_tls_close(b, rec);
}

/* ClientKeyExchange, ChangeCipherSpec, encrypted Finished. */
static inline void pl_tls_client_finish(struct pbuf *b, unsigned id)
{
	size_t rec = pl_tls_open(b, 22);

	pb_u8(b, 16);
	pb_u24(b, 33);
	pb_u8(b, 32);
	pb_fill(b, 32, id + 6, 0);
	pl_tls_close(b, rec);
	pb_put(b, "\x14\x03\x03\x00\x01\x01", 6);
	rec = pl_tls_open(b, 22);
	pb_fill(b, 40, id + 7, 0);
	pl_tls_close(b, rec);
}

static inline void pl_tls_server_finish(struct pbuf *b, unsigned id)
{
	pb_put(b, "\x14\x03\x03\x00\x01\x01", 6);
	size_t rec = pl_tls_open(b, 22);

	pb_fill(b, 40, id + 8, 0);
	pl_tls_close(b, rec);
}

/* Encrypted application data: records of up to 16 KiB + AEAD overhead. */
static inline void pl_tls_appdata(struct pbuf *b, size_t n, unsigned id)
{
	while (n) {
		size_t k = n > 16408 ? 16408 : n;
		size_t rec = pl_tls_open(b, 23);

		pb_fill(b, k, id + n, 0);
		pl_tls_close(b, rec);
		n -= k;
	}
}

/* ---- DNS (RFC 1035 4.1) --------------------------------------------- */

static inline void pl_dns_name(struct pbuf *b, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		pb_u8(b, (unsigned)l);
		pb_put(b, name, l);
		name += l + (dot ? 1 : 0);
	}
	pb_u8(b, 0);
}

static inline void pl_dns_query(struct pbuf *b, unsigned id, const char *name)
{
	pb_u16(b, id & 0xffff);
	pb_u16(b, 0x0100); /* RD */
	pb_u16(b, 1);
	pb_u16(b, 0);
	pb_u16(b, 0);
	pb_u16(b, 1); /* EDNS OPT */
	pl_dns_name(b, name);
	pb_u16(b, 1);
	pb_u16(b, 1);
	pb_put(b, "\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00", 11);
}

/* Answer: CNAME to a CDN name, then two A records (compression pointers). */
static inline void pl_dns_response(struct pbuf *b, unsigned id, const char *name)
{
	size_t base = b->n;

	pb_u16(b, id & 0xffff);
	pb_u16(b, 0x8180);
	pb_u16(b, 1);
	pb_u16(b, 3);
	pb_u16(b, 0);
	pb_u16(b, 0);
	pl_dns_name(b, name);
	pb_u16(b, 1);
	pb_u16(b, 1);
	pb_put(b, "\xc0\x0c\x00\x05\x00\x01\x00\x00\x0e\x10", 10);
	size_t rd = b->n, cname = b->n + 2 - base;

	pb_u16(b, 0);
	pl_dns_name(b, "edge-7.cdn.example.net");
	pb_patch(b, rd, 2, b->n - rd - 2);
	for (unsigned i = 0; i < 2; i++) {
		pb_u16(b, 0xc000 | (unsigned)cname);
		pb_put(b, "\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04", 10);
		pb_u8(b, 203);
		pb_u8(b, 0);
		pb_u8(b, 113);
		pb_u8(b, (id + i) & 0xff);
	}
}

#endif /* GCP_BENCH_PAYLOADS_H */
