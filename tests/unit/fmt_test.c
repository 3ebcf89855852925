/* SPDX-License-Identifier: BSD-3-Clause */
/* Record text helpers (lib/src/fmt.c) against snprintf and glibc's inet_ntop. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "fmt.h"

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static void ip6_case(const uint8_t a[16])
{
	char want[INET6_ADDRSTRLEN], got[GCP_FMT_IP6_LEN];

	cr_assert_not_null(inet_ntop(AF_INET6, a, want, sizeof(want)));
	size_t n = gcp_fmt_ip6(a, got);
	cr_assert_str_eq(got, want);
	cr_assert_eq(n, strlen(want));
}

static void ip6_words(const uint16_t w[8])
{
	uint8_t a[16];

	for (int i = 0; i < 8; i++) {
		a[2 * i] = (uint8_t)(w[i] >> 8);
		a[2 * i + 1] = (uint8_t)w[i];
	}
	ip6_case(a);
}

Test(fmt, ip6_edges_match_inet_ntop)
{
	static const uint16_t cases[][8] = {
		{ 0 },                                        /* :: */
		{ 0, 0, 0, 0, 0, 0, 0, 1 },                   /* ::1 */
		{ 1, 0, 0, 0, 0, 0, 0, 0 },                   /* 1:: */
		{ 0, 0, 0, 0, 0, 0, 0x0102, 0x0304 },         /* ::1.2.3.4 (compatible) */
		{ 0, 0, 0, 0, 0, 0, 0, 0x0304 },              /* ::304, not ::0.0.3.4 */
		{ 0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304 },    /* ::ffff:1.2.3.4 (mapped) */
		{ 0, 0, 0, 0, 0, 0xffff, 0, 0 },              /* ::ffff:0.0.0.0 */
		{ 0, 0, 0, 0, 0xffff, 0, 0x0102, 0x0304 },    /* SIIT: not mapped */
		{ 0, 0, 0, 0, 0, 0xfffe, 0x0102, 0x0304 },
		{ 0x64, 0xff9b, 0, 0, 0, 0, 0x0102, 0x0304 }, /* NAT64 prefix: plain hex */
		{ 0x2001, 0xdb8, 0, 0, 1, 0, 0, 1 },          /* first of two equal runs */
		{ 0x2001, 0xdb8, 0, 1, 0, 0, 0, 1 },          /* the longer, later run */
		{ 0x2001, 0xdb8, 0, 1, 1, 1, 1, 1 },          /* one zero group: no :: */
		{ 0x2001, 0, 0x1, 0, 0x1, 0, 0x1, 0 },
		{ 0xfe80, 0, 0, 0, 0x0202, 0xb3ff, 0xfe1e, 0x8329 },
		{ 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff },
		{ 0, 0, 0, 0, 0, 0, 0xffff, 0xffff },
		{ 0, 0, 0, 0, 0, 1, 0, 0 },
		{ 0, 0xabcd, 0, 0, 0, 0, 0, 0 },
		{ 0x0abc, 0x00de, 0x000f, 0x1000, 0x0100, 0x0010, 0x0001, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ip6_words(cases[i]);
}

/* Random groups, biased to zero so every run shape and the v4 forms occur. */
Test(fmt, ip6_random_match_inet_ntop)
{
	uint64_t s = 99;
	uint16_t w[8];

	for (int t = 0; t < 300000; t++) {
		for (int i = 0; i < 8; i++) {
			uint64_t r = rnd(&s);
			switch (r % 4) {
			case 0:
			case 1: w[i] = 0; break;
			case 2: w[i] = (r >> 8) % 3 ? (uint16_t)(r >> 16) : 0xffff; break;
			default: w[i] = (uint16_t)((r >> 16) & ((1u << ((r >> 8) % 17)) - 1)); break;
			}
		}
		ip6_words(w);
	}
}

Test(fmt, ip4_all_octets)
{
	uint8_t a[4];
	char want[INET_ADDRSTRLEN], got[GCP_FMT_IP4_LEN];
	uint64_t s = 5;

	for (unsigned v = 0; v < 256; v++) {
		a[0] = (uint8_t)v;
		a[1] = (uint8_t)(255 - v);
		a[2] = (uint8_t)(v * 7);
		a[3] = (uint8_t)(v / 3);
		inet_ntop(AF_INET, a, want, sizeof(want));
		cr_assert_eq(gcp_fmt_ip4(a, got), strlen(want));
		cr_assert_str_eq(got, want);
	}
	for (int t = 0; t < 100000; t++) {
		uint32_t r = (uint32_t)rnd(&s);
		memcpy(a, &r, 4);
		inet_ntop(AF_INET, a, want, sizeof(want));
		cr_assert_eq(gcp_fmt_ip4(a, got), strlen(want));
		cr_assert_str_eq(got, want);
	}
}

static void u64_case(uint64_t v)
{
	char want[32], got[GCP_FMT_U64_LEN + 1];
	size_t n = gcp_fmt_u64(got, v);

	snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
	got[n] = '\0';
	cr_assert_str_eq(got, want);
	cr_assert_eq(gcp_fmt_u64_len(v), n);
}

Test(fmt, u64_matches_printf)
{
	uint64_t s = 3, p = 1;

	for (int i = 0; i < 20; i++, p *= 10) {
		u64_case(p);
		u64_case(p - 1);
		u64_case(p + 1);
	}
	u64_case(UINT64_MAX);
	for (int t = 0; t < 200000; t++)
		u64_case(rnd(&s) >> (rnd(&s) % 64));
}

Test(fmt, hex_matches_printf)
{
	char want[32], got[32];
	uint64_t s = 11;
	const uint8_t b[4] = { 0x00, 0x0f, 0xa0, 0xff };

	for (int t = 0; t < 100000; t++) {
		uint64_t v = rnd(&s) >> (rnd(&s) % 64);
		unsigned w = (unsigned)(rnd(&s) % 17);
		size_t n = gcp_fmt_hex_u64(got, v, w);
		got[n] = '\0';
		snprintf(want, sizeof(want), "%0*llx", (int)w, (unsigned long long)v);
		cr_assert_str_eq(got, want);
	}
	size_t n = gcp_fmt_hex_bytes(got, b, 4);
	got[n] = '\0';
	cr_assert_str_eq(got, "000fa0ff");
}
