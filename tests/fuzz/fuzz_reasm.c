/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz TCP reassembly (lib/src/reasm.c) with arbitrary sequence numbers,
 * lengths and FIN flags. Input: [u8 budget selector] then segments
 * [u8 op][u32 seq offset][u16 len]. The payload byte at sequence number
 * s is always pattern_at(s)[0], so whatever overlap policy applies, every
 * delivered byte must equal the pattern of its position; deliveries
 * (data and gaps) must be contiguous; nothing may be held after flush. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mempool.h"
#include "reasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PERIOD (1u << 16) /* divides 2^32: the pattern survives wrap-around */
#define SEG_MAX (65535u * 16)

/* pattern[i] is the byte at every sequence number s with s % PERIOD == i,
 * stored with a tail so that any segment is one contiguous view. */
static uint8_t pattern[PERIOD + SEG_MAX];

static void pattern_init(void)
{
	uint32_t x = 2463534242u;

	for (uint32_t i = 0; i < PERIOD; i++) {
		x ^= x << 13; /* xorshift32: no byte repeats at a short distance */
		x ^= x >> 17;
		x ^= x << 5;
		pattern[i] = (uint8_t)x;
	}
	for (uint32_t i = PERIOD; i < sizeof(pattern); i++)
		pattern[i] = pattern[i % PERIOD];
}

static const uint8_t *pattern_at(uint32_t seq)
{
	return pattern + seq % PERIOD;
}

struct model {
	uint32_t next;        /* sequence number the next delivery must start at */
	bool started;
	uint64_t data_bytes, gap_bytes;
};

static void deliver(void *ctx, const uint8_t *p, uint32_t len)
{
	struct model *m = ctx;

	if (len == 0)
		abort(); /* empty deliveries are noise for every dissector */
	if (!m->started)
		abort(); /* the caller sets next before the first segment */
	if (p) {
		if (len > SEG_MAX || memcmp(p, pattern_at(m->next), len) != 0)
			abort(); /* a byte delivered at the wrong position */
		m->data_bytes += len;
	} else {
		m->gap_bytes += len;
	}
	m->next += len;
}

/* A segment's bytes: small ones in an exact-size heap copy so ASan sees
 * over-reads; large ones (rare, and a fresh mapping per input under ASan
 * costs more than the rest of the run) as a view into the pattern. */
#define COPY_MAX 4096u

static const uint8_t *payload_get(uint32_t seq, uint32_t len)
{
	if (len > COPY_MAX)
		return pattern_at(seq);
	uint8_t *b = malloc(len ? len : 1);

	if (!b)
		abort();
	memcpy(b, pattern_at(seq), len);
	return b;
}

static void payload_put(const uint8_t *p, uint32_t len)
{
	if (len <= COPY_MAX)
		free((void *)p);
}

/*
 * op bits 0-1: 0 data, 1 data+FIN, 2 SYN (set_isn to seq), 3 data with a
 * length times 16 (large segments); bit 7: seq is absolute (else an
 * offset from the ISN, which keeps most segments near each other).
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t flow_budgets[] = { 256, 4096, 65536, 256 * 1024 };
	static bool ready;
	struct gcp_pool pool;
	struct gcp_reasm r;
	struct gcp_reasm_dir d;
	struct model m = { 0 };

	if (!ready) {
		pattern_init();
		ready = true;
	}
	if (size < 1)
		return 0;
	gcp_pool_init(&pool, data[0] & 4 ? 64 * 1024 : 0);
	gcp_reasm_init(&r, &pool, flow_budgets[data[0] & 3], data[0] & 8 ? 8192 : 1u << 20);
	memset(&d, 0, sizeof(d));
	const uint32_t isn = 0xfffff000u; /* wraps 2^32 within a few KiB */

	data++;
	size--;
	while (size >= 7) {
		uint8_t op = data[0];
		uint32_t off = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 |
			       (uint32_t)data[3] << 8 | data[4];
		uint32_t len = (uint32_t)data[5] << 8 | data[6];
		uint32_t seq = op & 0x80 ? off : isn + (off & 0xffff);

		data += 7;
		size -= 7;
		if ((op & 3) == 3)
			len *= 16;
		if ((op & 3) == 2) {
			gcp_reasm_set_isn(&d, seq);
			m.next = seq;
			m.started = true;
			continue;
		}
		if (!d.init) {
			m.next = seq; /* midstream pickup starts at the first segment */
			m.started = true;
		}
		const uint8_t *p = payload_get(seq, len);
		struct gcp_reasm_seg_info info;

		gcp_reasm_segment(&r, &d, seq, p, len, (op & 3) == 1, deliver, &m, &info);
		payload_put(p, len);
		if (d.ooo_bytes > r.flow_budget || r.total_used > r.total_budget ||
		    d.nsegs > GCP_REASM_MAX_SEGS)
			abort(); /* a budget exceeded */
		if (m.started && m.next != d.next_seq)
			abort(); /* deliveries and next_seq disagree */
	}
	if (m.started) {
		gcp_reasm_flush(&r, &d, deliver, &m);
		if (d.segs || d.ooo_bytes || d.nsegs || m.next != d.next_seq)
			abort(); /* flush must drain everything */
		if (d.delivered != m.data_bytes)
			abort();
	}
	gcp_reasm_release(&r, &d);
	if (r.total_used || pool.used)
		abort(); /* memory not given back */
	gcp_pool_fini(&pool);
	return 0;
}
