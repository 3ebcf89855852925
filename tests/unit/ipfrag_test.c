/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for IPv4/IPv6 fragment reassembly (ipfrag.c). */

#include <criterion/criterion.h>
#include <string.h>

#include "decode.h"

#define NS 1000000000ull

static struct gcp_frag_table *tab;
static struct gcp_decode_stats st;
static uint8_t data[65536];

static void setup(void)
{
	uint32_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + (i >> 8));
	memset(&st, 0, sizeof(st));
	tab = gcp_frag_create(4, 30);
	cr_assert_not_null(tab);
}

static void teardown(void)
{
	gcp_frag_destroy(tab);
}

TestSuite(ipfrag, .init = setup, .fini = teardown);

static struct gcp_frag_in frag(uint32_t id, uint32_t off, uint32_t len, bool more)
{
	struct gcp_frag_in f;

	memset(&f, 0, sizeof(f));
	f.ip_version = 4;
	f.src.b[0] = 10;
	f.src.b[3] = 1;
	f.dst.b[0] = 10;
	f.dst.b[3] = 2;
	f.id = id;
	f.proto = 17;
	f.offset = off;
	f.more = more;
	f.data = data + off;
	f.len = len;
	f.ts_ns = 100 * NS;
	return f;
}

static int offer(const struct gcp_frag_in *f, const uint8_t **dg, uint32_t *len)
{
	return gcp_frag_offer(tab, f, dg, len, &st);
}

Test(ipfrag, in_order)
{
	struct gcp_frag_in a = frag(1, 0, 1480, true), b = frag(1, 1480, 1480, true);
	struct gcp_frag_in c = frag(1, 2960, 100, false);
	const uint8_t *dg = NULL;
	uint32_t len = 0;

	cr_assert_eq(offer(&a, &dg, &len), 0);
	cr_assert_eq(offer(&b, &dg, &len), 0);
	cr_assert_eq(offer(&c, &dg, &len), 1);
	cr_assert_eq(len, 3060);
	cr_assert_eq(memcmp(dg, data, len), 0);
	cr_assert_eq(st.frags_reassembled, 1);
	cr_assert_eq(st.frags_dropped, 0);
}

Test(ipfrag, reverse_order)
{
	struct gcp_frag_in a = frag(2, 0, 1000, true), b = frag(2, 1000, 1000, true);
	struct gcp_frag_in c = frag(2, 2000, 3, false);
	const uint8_t *dg = NULL;
	uint32_t len = 0;

	cr_assert_eq(offer(&c, &dg, &len), 0);
	cr_assert_eq(offer(&b, &dg, &len), 0);
	cr_assert_eq(offer(&a, &dg, &len), 1);
	cr_assert_eq(len, 2003);
	cr_assert_eq(memcmp(dg, data, len), 0);
}

Test(ipfrag, overlap_first_wins)
{
	static uint8_t other[64];
	struct gcp_frag_in a = frag(3, 0, 64, true), b = frag(3, 32, 64, true);
	struct gcp_frag_in c = frag(3, 96, 10, false);
	const uint8_t *dg = NULL;
	uint32_t len = 0;

	memset(other, 0xee, sizeof(other));
	b.data = other; /* bytes 32..63 differ from what a sent */
	cr_assert_eq(offer(&a, &dg, &len), 0);
	cr_assert_eq(offer(&b, &dg, &len), 0);
	cr_assert_eq(st.frags_overlap, 1);
	cr_assert_eq(offer(&c, &dg, &len), 1);
	cr_assert_eq(len, 106);
	cr_assert_eq(memcmp(dg, data, 64), 0, "first copy of the overlap kept");
	cr_assert_eq(dg[64], 0xee);
	cr_assert_eq(dg[95], 0xee);
	cr_assert_eq(memcmp(dg + 96, data + 96, 10), 0);
}

Test(ipfrag, duplicate_dropped)
{
	struct gcp_frag_in a = frag(4, 0, 64, true), c = frag(4, 64, 8, false);
	const uint8_t *dg = NULL;
	uint32_t len = 0;

	cr_assert_eq(offer(&a, &dg, &len), 0);
	cr_assert_eq(offer(&a, &dg, &len), -1);
	cr_assert_eq(st.frags_dropped, 1);
	cr_assert_eq(st.frags_overlap, 1);
	cr_assert_eq(offer(&c, &dg, &len), 1);
	cr_assert_eq(len, 72);
}

Test(ipfrag, timeout)
{
	struct gcp_frag_in a = frag(5, 0, 64, true), b = frag(5, 64, 64, true);
	struct gcp_frag_in c = frag(5, 128, 8, false);
	const uint8_t *dg = NULL;
	uint32_t len = 0;

	cr_assert_eq(offer(&a, &dg, &len), 0);
	cr_assert_eq(offer(&b, &dg, &len), 0);
	gcp_frag_expire(tab, 100 * NS + 30 * NS, &st);
	cr_assert_eq(st.frags_dropped, 0, "not older than the timeout yet");
	gcp_frag_expire(tab, 100 * NS + 31 * NS, &st);
	cr_assert_eq(st.frags_dropped, 2);
	/* the last fragment alone starts a new datagram */
	c.ts_ns = 131 * NS;
	cr_assert_eq(offer(&c, &dg, &len), 0);
}

Test(ipfrag, lazy_timeout_on_offer)
{
	struct gcp_frag_in a = frag(6, 0, 64, true), c = frag(6, 64, 8, false);
	const uint8_t *dg = NULL;
	uint32_t len = 0;

	cr_assert_eq(offer(&a, &dg, &len), 0);
	c.ts_ns = a.ts_ns + 60 * NS;
	cr_assert_eq(offer(&c, &dg, &len), 0, "stale first fragment was expired");
	cr_assert_eq(st.frags_dropped, 1);
}

Test(ipfrag, table_full)
{
	const uint8_t *dg = NULL;
	uint32_t len = 0, id;

	for (id = 10; id < 14; id++) {
		struct gcp_frag_in f = frag(id, 0, 16, true);

		cr_assert_eq(offer(&f, &dg, &len), 0);
	}
	struct gcp_frag_in g = frag(99, 0, 16, true);

	cr_assert_eq(offer(&g, &dg, &len), -1);
	cr_assert_eq(st.frags_dropped, 1);
	/* completing one frees a slot */
	struct gcp_frag_in done = frag(10, 16, 4, false);

	cr_assert_eq(offer(&done, &dg, &len), 1);
	cr_assert_eq(offer(&g, &dg, &len), 0);
}

Test(ipfrag, max_datagram)
{
	const uint8_t *dg = NULL;
	uint32_t len = 0, off;

	for (off = 0; off + 1480 < 65535; off += 1480) {
		struct gcp_frag_in f = frag(20, off, 1480, true);

		cr_assert_eq(offer(&f, &dg, &len), 0);
	}
	struct gcp_frag_in last = frag(20, off, 65535 - off, false);

	cr_assert_eq(offer(&last, &dg, &len), 1);
	cr_assert_eq(len, 65535);
	cr_assert_eq(memcmp(dg, data, len), 0);
}

Test(ipfrag, too_large_dropped)
{
	struct gcp_frag_in f = frag(21, 65528, 16, false);
	const uint8_t *dg = NULL;
	uint32_t len = 0;

	cr_assert_eq(offer(&f, &dg, &len), -1);
	cr_assert_eq(st.frags_dropped, 1);
}

Test(ipfrag, bad_lengths_dropped)
{
	struct gcp_frag_in odd = frag(22, 0, 13, true);     /* not a multiple of 8 */
	struct gcp_frag_in empty = frag(22, 0, 0, false);
	struct gcp_frag_in a = frag(23, 0, 16, true), end1 = frag(23, 16, 8, false);
	struct gcp_frag_in end2 = frag(23, 16, 16, false), past = frag(23, 24, 8, true);
	const uint8_t *dg = NULL;
	uint32_t len = 0;

	cr_assert_eq(offer(&odd, &dg, &len), -1);
	cr_assert_eq(offer(&empty, &dg, &len), -1);
	cr_assert_eq(offer(&end1, &dg, &len), 0);
	cr_assert_eq(offer(&end2, &dg, &len), -1, "second, different end");
	cr_assert_eq(offer(&past, &dg, &len), -1, "data past the end");
	cr_assert_eq(offer(&a, &dg, &len), 1);
	cr_assert_eq(len, 24);
	cr_assert_eq(st.frags_dropped, 4);
}

Test(ipfrag, keys_separate)
{
	struct gcp_frag_in a = frag(30, 0, 16, true), b = frag(30, 16, 8, false);
	const uint8_t *dg = NULL;
	uint32_t len = 0;

	b.ip_version = 6; /* same id, other family: another datagram */
	cr_assert_eq(offer(&a, &dg, &len), 0);
	cr_assert_eq(offer(&b, &dg, &len), 0);
	b.ip_version = 4;
	b.proto = 6; /* other protocol: another datagram (RFC 791) */
	cr_assert_eq(offer(&b, &dg, &len), 0);
	b.proto = 17;
	cr_assert_eq(offer(&b, &dg, &len), 1);
}

Test(ipfrag, block_pool_reuse)
{
	const uint8_t *dg = NULL;
	uint32_t len = 0, round, off;

	/* 4 slots x 2 blocks: large datagrams in turn must not leak blocks */
	for (round = 0; round < 20; round++) {
		for (off = 0; off < 8 * 1480; off += 1480) {
			struct gcp_frag_in f = frag(40 + round, off, 1480, true);

			cr_assert_eq(offer(&f, &dg, &len), 0);
		}
		struct gcp_frag_in l = frag(40 + round, off, 8, false);

		cr_assert_eq(offer(&l, &dg, &len), 1);
		cr_assert_eq(len, off + 8);
	}
	cr_assert_eq(st.frags_dropped, 0);
}

Test(ipfrag, pool_exhaustion_drops_datagram)
{
	const uint8_t *dg = NULL;
	uint32_t len = 0, off;
	int r = 0;

	/* 4 slots get 32 blocks (one 64 KiB datagram); two big ones compete */
	for (off = 0; off < 40000; off += 1000) {
		struct gcp_frag_in f = frag(50, off, 1000, true);

		cr_assert_eq(offer(&f, &dg, &len), 0);
	}
	for (off = 0; off < 40000 && r == 0; off += 1000) {
		struct gcp_frag_in f = frag(51, off, 1000, true);

		r = offer(&f, &dg, &len);
	}
	cr_assert_eq(r, -1);
	cr_assert_gt(st.frags_dropped, 1);
}

Test(ipfrag, create_limits)
{
	struct gcp_frag_table *t = gcp_frag_create(0, 0);

	cr_assert_not_null(t, "zero means default");
	gcp_frag_destroy(t);
	cr_assert_null(gcp_frag_create(UINT32_MAX, 1));
	gcp_frag_destroy(NULL);
}
