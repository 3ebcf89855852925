/* SPDX-License-Identifier: BSD-3-Clause */
/* Pipeline benchmark: a capture held in memory is fed to one engine many
 * times, addresses rewritten per loop so every loop makes new flows.
 * Prints one JSON object; no assertions (figures go to PERFORMANCE.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode.h"
#include "gcprobe/gcprobe.h"

#define BURST 64

struct frame {
	uint8_t *data;
	struct gcp_packet pkt;
	uint64_t ts0;             /* original timestamp */
	int32_t src_off, dst_off; /* innermost addresses in the frame, -1 unknown */
	uint8_t addr_len;
};

struct bench {
	struct frame *frames;
	size_t n, cap;
	uint64_t wire_bytes;
	uint64_t t_first, t_last;   /* capture time span */
	uint64_t records, record_bytes;
	const char *file;
	unsigned loops;
	unsigned types;
	const char *mode;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Last occurrence of needle in [lo, hi), as an offset from base. */
static int32_t find_last(const uint8_t *base, const uint8_t *lo, const uint8_t *hi,
			 const uint8_t *needle, size_t len)
{
	for (const uint8_t *p = hi - len; p >= lo; p--)
		if (memcmp(p, needle, len) == 0)
			return (int32_t)(p - base);
	return -1;
}

/* Locate the innermost IP addresses so each loop can rewrite them. */
static void locate_addrs(struct gcp_decoder *dec, struct frame *fr)
{
	struct gcp_pkt p;

	fr->src_off = fr->dst_off = -1;
	if (gcp_decode(dec, &fr->pkt, &p) != GCP_DEC_OK || !p.payload)
		return;
	const uint8_t *lo = fr->data, *hi = p.payload;

	if (hi < lo || hi > lo + fr->pkt.caplen)
		return; /* reassembled datagram: not in the frame */
	fr->addr_len = p.ip_version == 6 ? 16 : 4;
	fr->src_off = find_last(lo, lo, hi, p.src.b, fr->addr_len);
	fr->dst_off = find_last(lo, lo, hi, p.dst.b, fr->addr_len);
}

static int load(struct bench *b)
{
	struct gcp_capture *cap;
	struct gcp_packet pk[BURST];
	int n;

	if (gcp_capture_open_file(b->file, &cap) != 0) {
		fprintf(stderr, "gcp_bench_pipeline: error: cannot open %s\n", b->file);
		return -1;
	}
	while ((n = gcp_capture_rx_burst(cap, pk, BURST)) > 0) {
		for (int i = 0; i < n; i++) {
			if (b->n == b->cap) {
				b->cap = b->cap ? b->cap * 2 : 4096;
				b->frames = realloc(b->frames, b->cap * sizeof(*b->frames));
				if (!b->frames)
					return -1;
			}
			struct frame *fr = &b->frames[b->n++];

			fr->data = malloc(pk[i].caplen ? pk[i].caplen : 1);
			if (!fr->data)
				return -1;
			memcpy(fr->data, pk[i].data, pk[i].caplen);
			fr->pkt = pk[i];
			fr->ts0 = pk[i].ts_ns;
			fr->pkt.data = fr->data;
			b->wire_bytes += pk[i].wirelen;
			if (!b->t_first || pk[i].ts_ns < b->t_first)
				b->t_first = pk[i].ts_ns;
			if (pk[i].ts_ns > b->t_last)
				b->t_last = pk[i].ts_ns;
		}
	}
	gcp_capture_close(cap);
	return b->n ? 0 : -1;
}

/*
 * Each loop replays the capture later in time (span + 10 s), so closed
 * flows leave the table through their timers as in live traffic and the
 * table reaches a steady state instead of growing with the loop count.
 */
static void shift_time(struct bench *b, unsigned loop)
{
	uint64_t step = (b->t_last - b->t_first) + 10ull * 1000000000ull;

	for (size_t i = 0; i < b->n; i++)
		b->frames[i].pkt.ts_ns = b->frames[i].ts0 + step * loop;
}

static void rewrite(struct bench *b, unsigned loop)
{
	uint8_t x0 = (uint8_t)(loop >> 8), x1 = (uint8_t)loop;

	for (size_t i = 0; i < b->n; i++) {
		struct frame *fr = &b->frames[i];
		int32_t offs[2] = { fr->src_off, fr->dst_off };

		for (int k = 0; k < 2; k++) {
			if (offs[k] < 0)
				continue;
			/* XOR keeps the mapping a bijection, both directions alike. */
			fr->data[offs[k] + fr->addr_len - 2] ^= x0;
			fr->data[offs[k] + fr->addr_len - 3] ^= x1;
		}
	}
}

static void count_record(const struct gcp_record *rec, void *user)
{
	struct bench *b = user;

	b->records++;
	b->record_bytes += rec->len;
}

static int usage(void)
{
	fprintf(stderr, "usage: gcp_bench_pipeline --read FILE [--loops N] [--mode flow|full]\n");
	return 2;
}

static int parse_args(struct bench *b, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "read", required_argument, NULL, 'r' },
		{ "loops", required_argument, NULL, 'l' },
		{ "mode", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	b->loops = 200;
	b->mode = "flow";
	while ((c = getopt_long(argc, argv, "r:l:m:", opts, NULL)) != -1) {
		if (c == 'r')
			b->file = optarg;
		else if (c == 'l')
			b->loops = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 'm')
			b->mode = optarg;
		else
			return -1;
	}
	if (!b->file || !b->loops)
		return -1;
	if (strcmp(b->mode, "flow") == 0)
		b->types = 0; /* decode + flow + reassembly, no records */
	else if (strcmp(b->mode, "full") == 0)
		b->types = GCP_REC_ALL;
	else
		return -1;
	return 0;
}

static int run(struct bench *b, uint64_t *elapsed)
{
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;
	struct gcp_engine *eng;

	o.node_name = "bench";
	o.max_flows = 1u << 18;
	if (gcp_engine_create(&o, &eng) != 0)
		return -1;
	gcp_engine_subscribe(eng, b->types, b->types ? count_record : NULL, b);
	struct gcp_packet burst[BURST];
	uint64_t t0 = mono_ns(), total = 0;

	for (unsigned loop = 0; loop < b->loops; loop++) {
		uint64_t t1 = mono_ns();

		rewrite(b, loop); /* not timed: two bytes per address */
		shift_time(b, loop);
		total += mono_ns() - t1;
		for (size_t i = 0; i < b->n; i += BURST) {
			unsigned k = b->n - i < BURST ? (unsigned)(b->n - i) : BURST;

			for (unsigned j = 0; j < k; j++)
				burst[j] = b->frames[i + j].pkt;
			gcp_engine_feed_burst(eng, burst, k);
		}
		rewrite(b, loop);
	}
	gcp_engine_flush(eng);
	*elapsed = mono_ns() - t0 - total;
	gcp_engine_destroy(eng);
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	struct gcp_decoder dec;
	struct gcp_decode_limits lim = { 1024, 30 };
	uint64_t ns;

	if (parse_args(&b, argc, argv) != 0)
		return usage();
	if (load(&b) != 0 || gcp_decoder_init(&dec, &lim) != 0)
		return 1;
	for (size_t i = 0; i < b.n; i++)
		locate_addrs(&dec, &b.frames[i]);
	gcp_decoder_fini(&dec);
	if (run(&b, &ns) != 0)
		return 1;
	double pkts = (double)b.n * b.loops, sec = (double)ns / 1e9;
	double bytes = (double)b.wire_bytes * b.loops;

	printf("{\"bench\":\"pipeline\",\"file\":\"%s\",\"mode\":\"%s\",\"cores\":1,"
	       "\"loops\":%u,\"packets\":%.0f,\"seconds\":%.6f,\"mpps\":%.3f,"
	       "\"gbps\":%.3f,\"gbps_line\":%.3f,\"ns_per_pkt\":%.1f,"
	       "\"avg_frame\":%.1f,\"records\":%llu,\"records_per_s\":%.0f}\n",
	       b.file, b.mode, b.loops, pkts, sec, pkts / sec / 1e6, bytes * 8 / sec / 1e9,
	       (bytes + 20 * pkts) * 8 / sec / 1e9, (double)ns / pkts, bytes / pkts,
	       (unsigned long long)b.records, (double)b.records / sec);
	for (size_t i = 0; i < b.n; i++)
		free(b.frames[i].data);
	free(b.frames);
	return 0;
}
