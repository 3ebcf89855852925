/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for TCP stream reassembly (lib/src/reasm.c). */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "mempool.h"
#include "reasm.h"

#define GAP_FILL 0xEE
#define MAX_EV 4096

/* One callback invocation. */
struct ev {
	const uint8_t *data; /* NULL: gap */
	uint32_t len;
};

/* Recording callback context: the reassembled stream (gaps filled with
 * GAP_FILL) plus each event, to check zero copy and gap sizes. */
struct rec {
	uint8_t *buf;
	size_t len, cap;
	struct ev ev[MAX_EV];
	size_t nev;
	uint64_t gap_bytes;
};

static struct gcp_pool pool;
static struct gcp_reasm r;
static struct gcp_reasm_dir dir;
static struct rec rec;

static void on_data(void *ctx, const uint8_t *data, uint32_t len)
{
	struct rec *rc = ctx;

	cr_assert(len > 0, "empty delivery");
	if (rc->len + len > rc->cap) {
		rc->cap = (rc->len + len) * 2;
		rc->buf = realloc(rc->buf, rc->cap);
		cr_assert_not_null(rc->buf);
	}
	if (data)
		memcpy(rc->buf + rc->len, data, len);
	else
		memset(rc->buf + rc->len, GAP_FILL, len);
	rc->len += len;
	if (!data)
		rc->gap_bytes += len;
	if (rc->nev < MAX_EV)
		rc->ev[rc->nev] = (struct ev){ data, len };
	rc->nev++;
}

static void setup(void)
{
	gcp_pool_init(&pool, 0);
	gcp_reasm_init(&r, &pool, 1u << 20, 1u << 24);
	memset(&dir, 0, sizeof(dir));
	memset(&rec, 0, sizeof(rec));
}

static void teardown(void)
{
	gcp_reasm_release(&r, &dir);
	cr_expect_eq(pool.used, 0);
	cr_expect_eq(r.total_used, 0);
	gcp_pool_fini(&pool);
	free(rec.buf);
}

static struct gcp_reasm_seg_info seg(uint32_t seq, const uint8_t *data, uint32_t len)
{
	struct gcp_reasm_seg_info info;

	gcp_reasm_segment(&r, &dir, seq, data, len, false, on_data, &rec, &info);
	return info;
}

/* xorshift64*: reproducible per seed. */
static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ull) >> 33) % n;
}

static void fill_pattern(uint8_t *p, size_t n, uint32_t salt)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 131u + salt + (i >> 8)) & 0xff);
}

TestSuite(reasm, .init = setup, .fini = teardown);

Test(reasm, inorder_zero_copy)
{
	uint8_t data[300];
	struct gcp_reasm_seg_info info;

	fill_pattern(data, sizeof(data), 1);
	gcp_reasm_set_isn(&dir, 1000);
	info = seg(1000, data, 100);
	cr_expect(!info.retrans && !info.out_of_order);
	info = seg(1100, data + 100, 200);
	cr_expect(!info.retrans && !info.out_of_order);
	cr_assert_eq(rec.nev, 2);
	cr_expect_eq(rec.ev[0].data, data, "first slice must point at the input");
	cr_expect_eq(rec.ev[1].data, data + 100, "second slice must point at the input");
	cr_expect_eq(rec.ev[1].len, 200);
	cr_expect_eq(dir.next_seq, 1300);
	cr_expect_eq(dir.delivered, 300);
	cr_expect_eq(r.st_ooo_bytes, 0, "in-order data is never copied");
	cr_expect_eq(pool.used, 0);
}

Test(reasm, midstream_init)
{
	uint8_t data[50];

	fill_pattern(data, sizeof(data), 2);
	seg(0xdeadbeef, data, 20);
	cr_expect(dir.init);
	seg(0xdeadbeef + 20, data + 20, 30);
	cr_assert_eq(rec.len, 50);
	cr_expect_arr_eq(rec.buf, data, 50);
	cr_expect_eq(rec.ev[0].data, data);
}

Test(reasm, zero_length_segments)
{
	uint8_t data[10] = { 0 };
	struct gcp_reasm_seg_info info;

	gcp_reasm_set_isn(&dir, 5);
	info = seg(5, data, 0);
	cr_expect(!info.retrans && !info.out_of_order);
	info = seg(500, NULL, 0);
	cr_expect(!info.retrans && !info.out_of_order);
	cr_expect_eq(rec.nev, 0);
	cr_expect_eq(dir.next_seq, 5);
}

Test(reasm, reverse_order)
{
	enum { N = 64, SZ = 100 };
	uint8_t data[N * SZ];
	struct gcp_reasm_seg_info info;

	fill_pattern(data, sizeof(data), 3);
	gcp_reasm_set_isn(&dir, 0);
	for (int i = N - 1; i >= 0; i--) {
		info = seg((uint32_t)i * SZ, data + i * SZ, SZ);
		cr_expect(!info.retrans);
		cr_expect_eq(info.out_of_order, i != 0);
		if (i)
			cr_expect_eq(rec.len, 0);
	}
	cr_assert_eq(rec.len, sizeof(data));
	cr_expect_arr_eq(rec.buf, data, sizeof(data));
	cr_expect_eq(rec.ev[0].data, data, "the in-order head is not copied");
	cr_expect_eq(r.st_ooo_bytes, (N - 1) * SZ);
	cr_expect_eq(dir.ooo_bytes, 0);
	cr_expect_eq(dir.nsegs, 0);
	cr_expect_eq(pool.used, 0);
}

Test(reasm, retransmission_flags)
{
	uint8_t data[400];
	struct gcp_reasm_seg_info info;

	fill_pattern(data, sizeof(data), 4);
	gcp_reasm_set_isn(&dir, 0);
	seg(0, data, 100);
	info = seg(0, data, 100); /* full duplicate of delivered data */
	cr_expect(info.retrans && !info.out_of_order);
	info = seg(50, data + 50, 50);
	cr_expect(info.retrans);
	cr_expect_eq(rec.nev, 1);

	/* Partial overlap: only the new tail, straight from the input. */
	info = seg(60, data + 60, 90);
	cr_expect(!info.retrans && !info.out_of_order);
	cr_assert_eq(rec.nev, 2);
	cr_expect_eq(rec.ev[1].data, data + 100);
	cr_expect_eq(rec.ev[1].len, 50);

	/* Held data resent: a retransmission, not new out-of-order data. */
	info = seg(300, data + 300, 100);
	cr_expect(info.out_of_order && !info.retrans);
	info = seg(300, data + 300, 100);
	cr_expect(info.retrans && !info.out_of_order);
	info = seg(320, data + 320, 30);
	cr_expect(info.retrans);
	cr_expect_eq(r.st_ooo_bytes, 100);

	seg(150, data + 150, 150);
	cr_assert_eq(rec.len, 400);
	cr_expect_arr_eq(rec.buf, data, 400);
}

Test(reasm, first_received_wins)
{
	uint8_t a[100], b[100];

	memset(a, 'A', sizeof(a));
	memset(b, 'B', sizeof(b));
	gcp_reasm_set_isn(&dir, 0);
	seg(40, a + 40, 20);    /* held [40,60) = A */
	seg(20, b + 20, 60);    /* fills [20,40) and [60,80) with B */
	seg(0, b, 100);         /* in order: B except where A is held */
	cr_assert_eq(rec.len, 100);
	for (int i = 0; i < 100; i++)
		cr_expect_eq(rec.buf[i], i >= 40 && i < 60 ? 'A' : 'B', "byte %d", i);
}

/* A random segmentation of a 64 KiB stream with duplicates and
 * overlapping resends, delivered in random order from a random ISN. */
static void run_permutation(uint64_t seed, uint32_t isn)
{
	enum { LEN = 65536 };
	static uint8_t stream[LEN];
	static struct span { uint32_t off, len; } sg[2 * LEN];
	uint32_t maxseg = seed % 2 ? 3000 : 500;
	size_t n = 0, extra;

	rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
	fill_pattern(stream, LEN, (uint32_t)seed);
	for (uint32_t off = 0; off < LEN; off += sg[n++].len) {
		sg[n].off = off;
		sg[n].len = 1 + rnd(maxseg);
		if (sg[n].len > LEN - off)
			sg[n].len = LEN - off;
	}
	/* Overlapping resends at random offsets, some exact duplicates. */
	for (extra = 1 + rnd((uint32_t)n); extra > 0; extra--, n++) {
		if (rnd(4) == 0) {
			sg[n] = sg[rnd((uint32_t)n)];
			continue;
		}
		sg[n].off = rnd(LEN);
		sg[n].len = 1 + rnd(maxseg);
		if (sg[n].len > LEN - sg[n].off)
			sg[n].len = LEN - sg[n].off;
	}
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rnd((uint32_t)i + 1);
		struct span t = sg[i];

		sg[i] = sg[j];
		sg[j] = t;
	}

	gcp_reasm_release(&r, &dir);
	memset(&dir, 0, sizeof(dir));
	rec.len = 0;
	rec.nev = 0;
	rec.gap_bytes = 0;
	gcp_reasm_set_isn(&dir, isn);
	for (size_t i = 0; i < n; i++) {
		/* Exact-size copy so ASan catches any read past the segment. */
		uint8_t *p = malloc(sg[i].len);

		memcpy(p, stream + sg[i].off, sg[i].len);
		seg(isn + sg[i].off, p, sg[i].len);
		free(p);
	}
	cr_assert_eq(rec.gap_bytes, 0, "seed %llu", (unsigned long long)seed);
	cr_assert_eq(rec.len, LEN, "seed %llu: got %zu", (unsigned long long)seed, rec.len);
	cr_assert_arr_eq(rec.buf, stream, LEN, "seed %llu", (unsigned long long)seed);
	cr_assert_eq(dir.next_seq, isn + LEN);
	cr_assert_eq(dir.ooo_bytes, 0);
	cr_assert_eq(dir.nsegs, 0);
	cr_assert_eq(pool.used, 0);
	cr_assert_eq(r.st_limit_hits, 0);
}

Test(reasm, random_permutations)
{
	for (uint64_t seed = 1; seed <= 200; seed++)
		run_permutation(seed, (uint32_t)(seed * 2654435761u));
	/* The shuffles must really have exercised the out-of-order path. */
	cr_expect_gt(r.st_ooo_bytes, 200 * 65536 / 4);
}

Test(reasm, random_permutations_wraparound)
{
	/* ISNs just below 2^32 so the stream crosses the wrap. */
	for (uint64_t seed = 1000; seed < 1050; seed++)
		run_permutation(seed, 0u - 1 - (uint32_t)(seed * 997 % 65536));
}

Test(reasm, seq_wraparound)
{
	uint8_t data[512];
	const uint32_t isn = 0xffffff00u;

	fill_pattern(data, sizeof(data), 5);
	gcp_reasm_set_isn(&dir, isn);
	seg(isn + 300, data + 300, 212);  /* past the wrap: held */
	seg(isn + 200, data + 200, 100);  /* straddles 2^32: held */
	cr_expect_eq(rec.len, 0);
	seg(isn, data, 200);
	cr_assert_eq(rec.len, 512);
	cr_expect_arr_eq(rec.buf, data, 512);
	cr_expect_eq(dir.next_seq, 0x100u);
	cr_expect(seg(isn + 10, data + 10, 20).retrans, "old data across the wrap");
}

Test(reasm, budget_hit_forces_gap)
{
	uint8_t data[2000];
	struct gcp_reasm_seg_info info;

	fill_pattern(data, sizeof(data), 6);
	r.flow_budget = 1000;
	gcp_reasm_set_isn(&dir, 0);
	seg(100, data + 100, 500);           /* held: 500 */
	info = seg(1000, data + 1000, 600);  /* 1100 > 1000: gap [0,100) */
	cr_expect(info.out_of_order);
	cr_expect_eq(r.st_limit_hits, 1);
	cr_assert_eq(rec.nev, 2);
	cr_expect_null(rec.ev[0].data);
	cr_expect_eq(rec.ev[0].len, 100, "gap covers exactly the hole");
	cr_expect_eq(rec.ev[1].len, 500);
	cr_expect_eq(dir.next_seq, 600);
	cr_expect_eq(dir.ooo_bytes, 600, "the new segment fits after the gap");
	cr_expect_eq(dir.missed, 100);
	cr_expect_eq(r.st_missed_bytes, 100);

	seg(600, data + 600, 400);           /* fills the hole: rest delivered */
	cr_assert_eq(rec.len, 1600);
	cr_expect_arr_eq(rec.buf + 100, data + 100, 1500);
	cr_expect_eq(dir.ooo_bytes, 0);
	cr_expect_eq(pool.used, 0);
}

Test(reasm, budget_smaller_than_segment)
{
	uint8_t data[3000];

	fill_pattern(data, sizeof(data), 7);
	r.flow_budget = 0; /* nothing may be buffered */
	gcp_reasm_set_isn(&dir, 0);
	seg(1000, data + 1000, 2000);
	cr_assert_eq(rec.nev, 2);
	cr_expect_null(rec.ev[0].data);
	cr_expect_eq(rec.ev[0].len, 1000);
	cr_expect_eq(rec.ev[1].data, data + 1000, "delivered in place after the gap");
	cr_expect_eq(r.st_ooo_bytes, 0);
}

Test(reasm, total_budget_shared)
{
	uint8_t data[1000];
	struct gcp_reasm_dir other = { 0 };

	fill_pattern(data, sizeof(data), 8);
	r.total_budget = 300;
	gcp_reasm_set_isn(&other, 0);
	gcp_reasm_segment(&r, &other, 10, data, 200, false, on_data, &rec, NULL);
	cr_expect_eq(r.total_used, 200);
	gcp_reasm_set_isn(&dir, 0);
	seg(50, data, 200); /* 400 > 300: gap [0,50) in this direction */
	cr_expect_eq(r.st_limit_hits, 1);
	cr_expect_eq(dir.missed, 50);
	cr_expect_eq(r.total_used, 200);
	gcp_reasm_release(&r, &other);
	cr_expect_eq(r.total_used, 0);
}

Test(reasm, segment_count_cap)
{
	uint8_t data[4 * GCP_REASM_MAX_SEGS + 8];

	fill_pattern(data, sizeof(data), 9);
	gcp_reasm_set_isn(&dir, 0);
	/* 1-byte segments with a hole before each: one held segment apiece. */
	for (uint32_t i = 1; i <= GCP_REASM_MAX_SEGS; i++)
		seg(2 * i, data + 2 * i, 1);
	cr_expect_eq(dir.nsegs, GCP_REASM_MAX_SEGS);
	cr_expect_eq(r.st_limit_hits, 0);
	seg(2 * GCP_REASM_MAX_SEGS + 2, data, 1);
	cr_expect_eq(r.st_limit_hits, 1);
	cr_expect_eq(rec.ev[0].len, 2, "gap to the first held segment");
	cr_expect_null(rec.ev[0].data);
	cr_expect_eq(dir.nsegs, GCP_REASM_MAX_SEGS);
}

Test(reasm, pool_refusal_forces_gap)
{
	uint8_t data[600];

	fill_pattern(data, sizeof(data), 10);
	pool.limit = 256; /* one 256 B block */
	gcp_reasm_set_isn(&dir, 0);
	seg(100, data + 100, 200);
	cr_expect_eq(dir.nsegs, 1);
	seg(400, data + 400, 200); /* pool says no: gap [0,100), drain */
	cr_expect_eq(r.st_limit_hits, 1);
	cr_expect_eq(dir.missed, 100);
	cr_expect_eq(dir.next_seq, 300);
	cr_expect_eq(dir.nsegs, 1, "held after the pool had room again");
	pool.limit = 0;
}

Test(reasm, huge_jump_is_gap)
{
	uint8_t data[100];
	const uint32_t far = GCP_REASM_MAX_AHEAD + 5000;

	fill_pattern(data, sizeof(data), 11);
	gcp_reasm_set_isn(&dir, 0);
	seg(1000, data, 10);
	seg(far, data, 100);
	cr_expect_eq(r.st_limit_hits, 2, "held segment, then the jump");
	cr_expect_eq(dir.next_seq, far + 100);
	cr_expect_eq(dir.missed, (uint64_t)far - 10);
	cr_expect_eq(rec.ev[rec.nev - 1].data, data);
	/* More than 2^31 ahead reads as old data. */
	cr_expect(seg(far + 100 + 0x90000000u, data, 10).retrans);
}

Test(reasm, flush_with_holes)
{
	uint8_t data[100];

	fill_pattern(data, sizeof(data), 12);
	gcp_reasm_set_isn(&dir, 0);
	seg(10, data + 10, 10);
	seg(30, data + 30, 10);
	gcp_reasm_flush(&r, &dir, on_data, &rec);
	cr_assert_eq(rec.nev, 4);
	cr_expect_null(rec.ev[0].data);
	cr_expect_eq(rec.ev[0].len, 10);
	cr_expect_eq(rec.ev[1].len, 10);
	cr_expect_null(rec.ev[2].data);
	cr_expect_eq(rec.ev[2].len, 10);
	cr_expect_arr_eq(rec.buf + 30, data + 30, 10);
	cr_expect_eq(dir.next_seq, 40);
	cr_expect_eq(dir.missed, 20);
	cr_expect_eq(pool.used, 0);
	cr_expect_eq(dir.ooo_bytes, 0);
	/* Reusable afterwards. */
	seg(40, data + 40, 60);
	cr_expect_eq(rec.ev[4].data, data + 40);
	cr_expect_eq(dir.next_seq, 100);
}

Test(reasm, fin_completion)
{
	uint8_t data[100];
	struct gcp_reasm_seg_info info;

	fill_pattern(data, sizeof(data), 13);
	gcp_reasm_set_isn(&dir, 0);
	gcp_reasm_segment(&r, &dir, 50, data + 50, 50, true, on_data, &rec, &info);
	cr_expect(dir.fin && dir.fin_seq == 100);
	cr_expect(!gcp_reasm_complete(&dir));
	seg(0, data, 50);
	cr_expect(gcp_reasm_complete(&dir));
	cr_expect_arr_eq(rec.buf, data, 100);
	/* Data past FIN is dropped (RFC 9293 3.10.7.4). */
	info = seg(100, data, 10);
	cr_expect(!info.retrans && !info.out_of_order);
	cr_expect_eq(rec.len, 100);
}

Test(reasm, flush_gap_before_fin)
{
	uint8_t data[10] = { 0 };

	gcp_reasm_set_isn(&dir, 0);
	gcp_reasm_segment(&r, &dir, 200, NULL, 0, true, on_data, &rec, NULL);
	seg(0, data, 10);
	gcp_reasm_flush(&r, &dir, on_data, &rec);
	cr_expect(gcp_reasm_complete(&dir));
	cr_expect_eq(dir.missed, 190);
}

Test(reasm, release_frees_all)
{
	uint8_t data[20000];

	fill_pattern(data, sizeof(data), 14);
	gcp_reasm_set_isn(&dir, 0);
	for (uint32_t off = 100; off + 300 <= sizeof(data); off += 400)
		seg(off, data + off, 300);
	cr_expect_gt(pool.used, 0);
	gcp_reasm_release(&r, &dir);
	cr_expect_eq(pool.used, 0);
	cr_expect_eq(r.total_used, 0);
	cr_expect_eq(dir.ooo_bytes, 0);
	cr_expect_eq(dir.nsegs, 0);
	cr_expect_null(dir.segs);
	cr_expect_eq(rec.nev, 0, "release delivers nothing");
}

Test(reasm, large_segment_split)
{
	static uint8_t data[200000];

	fill_pattern(data, sizeof(data), 15);
	gcp_reasm_set_isn(&dir, 0);
	seg(1, data + 1, sizeof(data) - 1); /* over 128 KiB: held in pieces */
	cr_expect_eq(dir.nsegs, 4);
	seg(0, data, 1);
	cr_assert_eq(rec.len, sizeof(data));
	cr_expect_arr_eq(rec.buf, data, sizeof(data));
}
