/* SPDX-License-Identifier: BSD-3-Clause */
/* HPACK decoder (dissectors/http2/hpack.c): the RFC 7541 Appendix C
 * examples (requests and responses, with and without Huffman, table
 * contents and sizes after each block), Huffman strings, size updates,
 * malformed blocks and the caps. */
#include <criterion/criterion.h>

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/http2/hpack.h"
#include "dissect.h"
#include "engine.h"

#define LIST_CAP 4096u
#define OUT_CAP (LIST_CAP + HPACK_TABLE_CAP)

struct fields {
	char text[8192]; /* "name: value\n" per field */
	size_t len;
	unsigned n;
};

static void collect(void *arg, const uint8_t *name, uint32_t nlen, const uint8_t *value,
		    uint32_t vlen)
{
	struct fields *f = arg;
	int w = snprintf(f->text + f->len, sizeof(f->text) - f->len, "%.*s: %.*s\n", (int)nlen,
			 (const char *)name, (int)vlen, (const char *)value);
	cr_assert(w > 0 && (size_t)w < sizeof(f->text) - f->len);
	f->len += (size_t)w;
	f->n++;
}

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (; *s; s++) {
		if (*s == ' ' || *s == '\n')
			continue;
		cr_assert(s[1], "odd hex");
		cr_assert_lt(n, cap);
		unsigned v;
		cr_assert_eq(sscanf(s, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		s++;
	}
	return n;
}

struct hctx {
	struct gcp_dissect_ctx *ctx;
	struct hpack hp;
	uint8_t *out;
};

static void hctx_init(struct hctx *h)
{
	h->ctx = gcp_test_dctx_new(NULL, IPPROTO_TCP, "10.0.0.1", 40000, "10.0.0.2", 80);
	cr_assert_not_null(h->ctx);
	gcp_hpack_init(&h->hp);
	h->out = malloc(OUT_CAP);
	cr_assert_not_null(h->out);
}

static void hctx_fini(struct hctx *h)
{
	gcp_hpack_fini(&h->hp, h->ctx);
	cr_assert_eq(h->ctx->eng->pool.used, 0, "pool blocks leaked");
	free(h->out);
	gcp_test_dctx_free(h->ctx);
}

/* Decode one hex block; returns gcp_hpack_decode()'s result. */
static int decode_hex(struct hctx *h, const char *hex, struct fields *f)
{
	uint8_t blk[1024];
	size_t n = unhex(hex, blk, sizeof(blk));
	memset(f, 0, sizeof(*f));
	return gcp_hpack_decode(&h->hp, h->ctx, blk, (uint32_t)n, h->out, LIST_CAP, OUT_CAP,
				collect, f);
}

struct step {
	const char *hex;
	const char *fields;
	uint32_t size; /* dynamic table size after the block */
	unsigned entries;
};

static void run_series(const struct step *s, size_t n, const char *prefix)
{
	struct hctx h;
	hctx_init(&h);
	for (size_t i = 0; i < n; i++) {
		struct fields f;
		char hex[1024];
		snprintf(hex, sizeof(hex), "%s%s", i == 0 ? prefix : "", s[i].hex);
		cr_assert_eq(decode_hex(&h, hex, &f), 0, "step %zu", i);
		cr_assert_str_eq(f.text, s[i].fields, "step %zu", i);
		cr_assert_eq(h.hp.size, s[i].size, "step %zu: size %u", i, h.hp.size);
		cr_assert_eq(h.hp.n, s[i].entries, "step %zu: %u entries", i, h.hp.n);
	}
	hctx_fini(&h);
}

/* ---- RFC 7541 C.3 / C.4: requests, table size 4096 ------------------------------ */

static const char REQ1[] = ":method: GET\n:scheme: http\n:path: /\n:authority: www.example.com\n";
static const char REQ2[] = ":method: GET\n:scheme: http\n:path: /\n:authority: www.example.com\n"
			   "cache-control: no-cache\n";
static const char REQ3[] = ":method: GET\n:scheme: https\n:path: /index.html\n"
			   ":authority: www.example.com\ncustom-key: custom-value\n";

Test(hpack, rfc7541_c3_requests_plain)
{
	static const struct step s[] = {
		{ "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", REQ1, 57, 1 },
		{ "8286 84be 5808 6e6f 2d63 6163 6865", REQ2, 110, 2 },
		{ "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65", REQ3,
		  164, 3 },
	};
	run_series(s, 3, "");
}

Test(hpack, rfc7541_c4_requests_huffman)
{
	static const struct step s[] = {
		{ "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", REQ1, 57, 1 },
		{ "8286 84be 5886 a8eb 1064 9cbf", REQ2, 110, 2 },
		{ "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf", REQ3, 164, 3 },
	};
	run_series(s, 3, "");
}

/* ---- RFC 7541 C.5 / C.6: responses, table size 256 (evictions) ------------------ */

static const char RESP1[] = ":status: 302\ncache-control: private\n"
			    "date: Mon, 21 Oct 2013 20:13:21 GMT\nlocation: https://www.example.com\n";
static const char RESP2[] = ":status: 307\ncache-control: private\n"
			    "date: Mon, 21 Oct 2013 20:13:21 GMT\nlocation: https://www.example.com\n";
static const char RESP3[] = ":status: 200\ncache-control: private\n"
			    "date: Mon, 21 Oct 2013 20:13:22 GMT\nlocation: https://www.example.com\n"
			    "content-encoding: gzip\n"
			    "set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1\n";

/* The examples assume SETTINGS_HEADER_TABLE_SIZE 256: a size update
 * (RFC 7541 6.3, "3fe101" = 256) at the start of the first block says so. */
#define TABLE_256 "3fe101 "

Test(hpack, rfc7541_c5_responses_plain)
{
	static const struct step s[] = {
		{ "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133"
		  "2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70"
		  "6c65 2e63 6f6d",
		  RESP1, 222, 4 },
		{ "4803 3330 37c1 c0bf", RESP2, 222, 4 },
		{ "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d"
		  "54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049"
		  "5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e"
		  "3d31",
		  RESP3, 215, 3 },
	};
	run_series(s, 3, TABLE_256);
}

Test(hpack, rfc7541_c6_responses_huffman)
{
	static const struct step s[] = {
		{ "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6"
		  "2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
		  RESP1, 222, 4 },
		{ "4883 640e ffc1 c0bf", RESP2, 222, 4 },
		{ "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab"
		  "77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f"
		  "9587 3160 65c0 03ed 4ee5 b106 3d50 07",
		  RESP3, 215, 3 },
	};
	run_series(s, 3, TABLE_256);
}

/* ---- Huffman (RFC 7541 5.2, Appendix B) ------------------------------------------- */

Test(hpack, huffman_strings)
{
	static const struct {
		const char *hex, *text;
	} v[] = {
		{ "f1e3 c2e5 f23a 6ba0 ab90 f4ff", "www.example.com" },
		{ "a8eb 1064 9cbf", "no-cache" },
		{ "25a8 49e9 5ba9 7d7f", "custom-key" },
		{ "25a8 49e9 5bb8 e8b4 bf", "custom-value" },
		{ "6402", "302" },
		{ "aec3 771a 4b", "private" },
		{ "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff",
		  "Mon, 21 Oct 2013 20:13:21 GMT" },
		{ "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3", "https://www.example.com" },
		{ "9bd9 ab", "gzip" },
		{ "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587"
		  "3160 65c0 03ed 4ee5 b106 3d50 07",
		  "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t in[128], out[128];
		size_t n = unhex(v[i].hex, in, sizeof(in));
		int64_t k = gcp_hpack_huffman(in, (uint32_t)n, out, sizeof(out));
		cr_assert_eq(k, (int64_t)strlen(v[i].text), "vector %zu", i);
		cr_assert_arr_eq(out, v[i].text, (size_t)k, "vector %zu", i);
		/* too little room: the length is still right, nothing past room written */
		memset(out, 0xaa, sizeof(out));
		cr_assert_eq(gcp_hpack_huffman(in, (uint32_t)n, out, 2), k);
		cr_assert_eq(out[2], 0xaa);
	}
}

Test(hpack, huffman_invalid)
{
	uint8_t out[16];
	/* EOS (30 ones) inside a string: 5.2 says error */
	static const uint8_t eos[] = { 0xff, 0xff, 0xff, 0xfc };
	cr_assert_eq(gcp_hpack_huffman(eos, sizeof(eos), out, sizeof(out)), -1);
	/* padding of 8 bits (a whole 0xff byte after "0"=00000) */
	static const uint8_t pad8[] = { 0x07, 0xff };
	cr_assert_eq(gcp_hpack_huffman(pad8, sizeof(pad8), out, sizeof(out)), -1);
	/* padding that is not all ones: "0" (00000) then 000 */
	static const uint8_t pad0[] = { 0x00 };
	cr_assert_eq(gcp_hpack_huffman(pad0, sizeof(pad0), out, sizeof(out)), -1);
	/* "0" then 111 is fine */
	static const uint8_t ok[] = { 0x07 };
	cr_assert_eq(gcp_hpack_huffman(ok, sizeof(ok), out, sizeof(out)), 1);
	cr_assert_eq(out[0], '0');
	/* the empty string */
	cr_assert_eq(gcp_hpack_huffman(ok, 0, out, sizeof(out)), 0);
}

/* Codes of the shortest, a middle and the longest lengths (RFC 7541
 * Appendix B), each padded with 1s to a whole byte. */
Test(hpack, huffman_table_spot_checks)
{
	static const struct {
		uint8_t sym;
		const char *hex;
	} v[] = {
		{ ' ', "53" },      /* 010100 + 11 */
		{ 'a', "1f" },      /* 00011 + 111 */
		{ 0, "ffc7" },      /* 1111111111000 + 111 */
		{ 255, "fffffbbf" } /* 11111111111111111111101110 (26) + 111111 */
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t in[8], out[4];
		size_t n = unhex(v[i].hex, in, sizeof(in));
		cr_assert_eq(gcp_hpack_huffman(in, (uint32_t)n, out, sizeof(out)), 1, "sym %u",
			     v[i].sym);
		cr_assert_eq(out[0], v[i].sym);
	}
}

/* ---- size updates, caps, malformed blocks ----------------------------------------- */

Test(hpack, size_update_only_at_block_start)
{
	struct hctx h;
	struct fields f;
	hctx_init(&h);
	/* :method GET, then an update: not allowed after a field (RFC 7541 4.2) */
	cr_assert_eq(decode_hex(&h, "82 3f e1 01", &f), -1);
	cr_assert(h.hp.broken);
	/* once broken, nothing more is decoded */
	cr_assert_eq(decode_hex(&h, "82", &f), -1);
	hctx_fini(&h);
}

Test(hpack, size_update_evicts_and_zero_empties)
{
	struct hctx h;
	struct fields f;
	hctx_init(&h);
	cr_assert_eq(decode_hex(&h, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", &f), 0);
	cr_assert_eq(h.hp.n, 1);
	cr_assert_eq(decode_hex(&h, "20 82", &f), 0); /* max 0 */
	cr_assert_eq(h.hp.n, 0);
	cr_assert_eq(h.hp.size, 0);
	/* index 62 is gone */
	cr_assert_eq(decode_hex(&h, "be", &f), -1);
	hctx_fini(&h);
}

Test(hpack, size_update_over_cap_breaks)
{
	struct hctx h;
	struct fields f;
	hctx_init(&h);
	/* 3f + (65537 - 31 = 65506 = e2 ff 03): one byte over HPACK_TABLE_CAP */
	cr_assert_eq(decode_hex(&h, "3f e2ff 03 82", &f), -1);
	cr_assert(h.hp.broken);
	hctx_fini(&h);
	hctx_init(&h);
	/* exactly the cap is fine: 65536 - 31 = 65505 = e1 ff 03 */
	cr_assert_eq(decode_hex(&h, "3f e1ff 03 82", &f), 0);
	cr_assert_eq(h.hp.max, HPACK_TABLE_CAP);
	hctx_fini(&h);
}

Test(hpack, malformed)
{
	static const char *const bad[] = {
		"80",                   /* index 0 */
		"ff 00",                /* index 127: beyond static, empty dynamic */
		"0f",                   /* literal: index 15 then no value */
		"00 05 61 62",          /* name longer than the block */
		"40 ff ff ff ff ff 7f", /* integer with too many continuation bytes */
		"00 81 00 00",          /* Huffman name "0"+000: bad padding */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hctx h;
		struct fields f;
		hctx_init(&h);
		cr_assert_eq(decode_hex(&h, bad[i], &f), -1, "block %zu", i);
		hctx_fini(&h);
	}
}

/* An entry larger than the maximum size empties the table (RFC 7541 4.4). */
Test(hpack, oversized_entry_empties_table)
{
	struct hctx h;
	struct fields f;
	hctx_init(&h);
	cr_assert_eq(decode_hex(&h, "3f 11 4001 61 01 62", &f), 0); /* max 48; a: b (34) */
	cr_assert_eq(h.hp.n, 1);
	/* c: 20 bytes of x (53 > 48): empties the table, is still listed */
	cr_assert_eq(decode_hex(&h, "4001 63 14 7878787878787878787878787878787878787878", &f),
		     0);
	cr_assert_eq(h.hp.n, 0);
	cr_assert_eq(f.n, 1);
	hctx_fini(&h);
}

/* Fields past the list cap are left out but still enter the table, so the
 * next block that refers to them decodes. */
Test(hpack, list_cap_keeps_table_in_sync)
{
	struct hctx h;
	hctx_init(&h);
	uint8_t blk[8192];
	size_t n = 0;
	for (int i = 0; i < 3; i++) { /* three 2000-byte values, incremental indexing */
		blk[n++] = 0x40;
		blk[n++] = 1;
		blk[n++] = (uint8_t)('a' + i);
		blk[n++] = 0x7f; /* 2000 = 127 + 1873 = 127 + 0xd1 0x0e */
		blk[n++] = 0xd1;
		blk[n++] = 0x0e;
		memset(blk + n, 'v', 2000);
		n += 2000;
	}
	struct fields f = { 0 };
	int left = gcp_hpack_decode(&h.hp, h.ctx, blk, (uint32_t)n, h.out, LIST_CAP, OUT_CAP,
				    collect, &f);
	cr_assert_eq(left, 1);
	cr_assert_eq(f.n, 2);
	cr_assert_eq(h.hp.n, 2); /* 3 x 2033 > 4096: the oldest was evicted */
	uint8_t idx = 0xbe;      /* 62: the newest, "c" */
	memset(&f, 0, sizeof(f));
	cr_assert_eq(gcp_hpack_decode(&h.hp, h.ctx, &idx, 1, h.out, LIST_CAP, OUT_CAP, collect, &f),
		     0);
	cr_assert_eq(f.n, 1);
	cr_assert_eq(f.text[0], 'c');
	hctx_fini(&h);
}

/* A larger table grows the pool block; entries survive the move, wrapped. */
Test(hpack, table_growth_and_wrap)
{
	struct hctx h;
	struct fields f;
	hctx_init(&h);
	char hex[4096];
	for (int round = 0; round < 200; round++) {
		/* name "k", value of 40 bytes of one letter: many evictions, ring wraps */
		int w = snprintf(hex, sizeof(hex), "%s4001 6b 28", round == 100 ? "3f e1 7f " : "");
		for (int i = 0; i < 40; i++)
			w += snprintf(hex + w, sizeof(hex) - (size_t)w, "%02x", 'a' + round % 26);
		cr_assert_eq(decode_hex(&h, hex, &f), 0, "round %d", round);
		/* the newest entry reads back */
		cr_assert_eq(decode_hex(&h, "be", &f), 0);
		cr_assert_eq(f.text[3], 'a' + round % 26);
	}
	cr_assert_eq(h.hp.max, 16384); /* 31 + 0x61 + (0x7f << 7) */
	cr_assert_gt(h.hp.cap, HPACK_TABLE_DEFAULT);
	hctx_fini(&h);
}
