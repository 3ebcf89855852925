/* SPDX-License-Identifier: BSD-3-Clause */
/* Pipeline benchmark: a capture held in memory is fed to N engines (one
 * thread each, flows split by a symmetric 5-tuple hash, shared-nothing)
 * many times, addresses rewritten per loop so every loop makes new flows.
 * Prints one JSON object; no assertions (figures go to PERFORMANCE.md). */
#include <getopt.h>
#include <stdbool.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "decode.h"
#include "gcprobe/gcprobe.h"

#define BURST 64
#define MAX_WORKERS 64
/* Past the longest default timeout (TCP idle 300 s): every flow ends. */
#define DRAIN_S 400ull
/* Fixed flow-table hash key: runs repeat instruction for instruction. */
#define DEFAULT_HASH_SEED 0x5bd1e9955bd1e995ull

struct frame {
	uint8_t *data;
	struct gcp_packet pkt;
	uint64_t ts0;             /* original timestamp */
	int32_t src_off, dst_off; /* innermost addresses in the frame, -1 unknown */
	uint8_t addr_len;
};

/* One worker: its share of the frames (own copies, rewritten per loop). */
struct worker {
	struct frame *frames;
	size_t n, cap;
	uint64_t wire_bytes;
	uint64_t records, record_bytes;
	uint64_t elapsed_ns, cpu_ns; /* wall and thread CPU time, replay only */
	uint64_t flush_ns, flush_cpu_ns; /* gcp_engine_flush() at the end, not in the rates */
	struct gcp_stats st;
	const struct bench *b;
	unsigned idx;
	pthread_t thr;
};

struct bench {
	struct frame *frames; /* the capture as loaded */
	size_t n, cap;
	uint64_t wire_bytes;
	uint64_t t_first, t_last;   /* capture time span */
	const char *file;
	unsigned loops, workers;
	unsigned types;
	uint64_t hash_seed;
	bool pin;
	const char *mode;
	struct worker w[MAX_WORKERS];
	pthread_barrier_t start;
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
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

/* Symmetric hash of the innermost 5-tuple: both directions give one value. */
static uint32_t sym_hash(const struct gcp_pkt *p)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ p->l4proto;
	uint64_t a = 0, c = 0;

	for (int i = 0; i < 16; i++) {
		a = a * 131 + p->src.b[i];
		c = c * 131 + p->dst.b[i];
	}
	h ^= (a ^ c) + ((uint64_t)(p->sport ^ p->dport) << 32) + (a + c);
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return (uint32_t)(h ^ (h >> 29));
}

/* Locate the innermost IP addresses so each loop can rewrite them;
 * returns the worker the frame's flow belongs to. */
static unsigned locate_addrs(struct gcp_decoder *dec, struct frame *fr, unsigned workers)
{
	struct gcp_pkt p;

	fr->src_off = fr->dst_off = -1;
	if (gcp_decode(dec, &fr->pkt, &p) != GCP_DEC_OK)
		return 0;
	unsigned w = sym_hash(&p) % workers;

	if (!p.payload)
		return w;
	const uint8_t *lo = fr->data, *hi = p.payload;

	if (hi < lo || hi > lo + fr->pkt.caplen)
		return w; /* reassembled datagram: not in the frame */
	fr->addr_len = p.ip_version == 6 ? 16 : 4;
	fr->src_off = find_last(lo, lo, hi, p.src.b, fr->addr_len);
	fr->dst_off = find_last(lo, lo, hi, p.dst.b, fr->addr_len);
	return w;
}

static struct frame *frame_add(struct frame **v, size_t *n, size_t *cap)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 4096;
		*v = realloc(*v, *cap * sizeof(**v));
		if (!*v)
			return NULL;
	}
	return &(*v)[(*n)++];
}

/* Copy a frame (own bytes) to the end of a frame array. */
static int frame_copy(struct frame **v, size_t *n, size_t *cap, const struct frame *src)
{
	struct frame *fr = frame_add(v, n, cap);

	if (!fr)
		return -1;
	*fr = *src;
	fr->data = malloc(src->pkt.caplen ? src->pkt.caplen : 1);
	if (!fr->data)
		return -1;
	memcpy(fr->data, src->data, src->pkt.caplen);
	fr->pkt.data = fr->data;
	return 0;
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
			struct frame tmp = { .data = (uint8_t *)pk[i].data, .pkt = pk[i],
					     .ts0 = pk[i].ts_ns };

			if (frame_copy(&b->frames, &b->n, &b->cap, &tmp) != 0)
				return -1;
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

/* Pre-pass: decode once, find addresses, hand each flow to one worker. */
static int split(struct bench *b)
{
	struct gcp_decoder dec;
	struct gcp_decode_limits lim = { 1024, 30 };

	if (gcp_decoder_init(&dec, &lim) != 0)
		return -1;
	for (size_t i = 0; i < b->n; i++) {
		struct frame *fr = &b->frames[i];
		struct worker *w = &b->w[locate_addrs(&dec, fr, b->workers)];

		if (frame_copy(&w->frames, &w->n, &w->cap, fr) != 0)
			return -1;
		w->wire_bytes += fr->pkt.wirelen;
	}
	gcp_decoder_fini(&dec);
	return 0;
}

/*
 * Each loop replays the capture later in time (span + 10 s), so closed
 * flows leave the table through their timers as in live traffic and the
 * table reaches a steady state instead of growing with the loop count.
 */
static void shift_time(struct worker *w, unsigned loop)
{
	const struct bench *b = w->b;
	uint64_t step = (b->t_last - b->t_first) + 10ull * 1000000000ull;

	for (size_t i = 0; i < w->n; i++)
		w->frames[i].pkt.ts_ns = w->frames[i].ts0 + step * loop;
}

static void rewrite(struct worker *w, unsigned loop)
{
	uint8_t x0 = (uint8_t)(loop >> 8), x1 = (uint8_t)loop;

	for (size_t i = 0; i < w->n; i++) {
		struct frame *fr = &w->frames[i];
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
	struct worker *w = user;

	w->records++;
	w->record_bytes += rec->len;
}

static int usage(void)
{
	fprintf(stderr, "usage: gcp_bench_pipeline --read FILE [--loops N] [--mode flow|full]\n"
			"                          [--workers N] [--no-pin] [--hash-seed N] [--json]\n"
			"  --hash-seed N  flow table hash key (default fixed; 0 = random per engine)\n");
	return 2;
}

static int parse_args(struct bench *b, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "read", required_argument, NULL, 'r' },
		{ "loops", required_argument, NULL, 'l' },
		{ "mode", required_argument, NULL, 'm' },
		{ "workers", required_argument, NULL, 'w' },
		{ "no-pin", no_argument, NULL, 'P' },
		{ "hash-seed", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' }, /* the only output format */
		{ NULL, 0, NULL, 0 },
	};
	int c;

	b->loops = 200;
	b->workers = 1;
	b->pin = true;
	b->mode = "flow";
	b->hash_seed = DEFAULT_HASH_SEED;
	while ((c = getopt_long(argc, argv, "r:l:m:w:", opts, NULL)) != -1) {
		if (c == 'r')
			b->file = optarg;
		else if (c == 'l')
			b->loops = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 'm')
			b->mode = optarg;
		else if (c == 'w')
			b->workers = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 'P')
			b->pin = false;
		else if (c == 's')
			b->hash_seed = strtoull(optarg, NULL, 0);
		else if (c != 'j')
			return -1;
	}
	if (!b->file || !b->loops || !b->workers || b->workers > MAX_WORKERS)
		return -1;
	if (strcmp(b->mode, "flow") == 0)
		b->types = 0; /* decode + flow + reassembly, no records */
	else if (strcmp(b->mode, "full") == 0)
		b->types = GCP_REC_ALL;
	else
		return -1;
	return 0;
}

static void pin(unsigned idx)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(idx % (unsigned)(n > 0 ? n : 1), &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* Wall and thread CPU clocks read together at a region's edges. */
struct stamp {
	uint64_t mono, cpu;
};

static struct stamp stamp_now(void)
{
	return (struct stamp){ mono_ns(), clock_ns(CLOCK_THREAD_CPUTIME_ID) };
}

static void stamp_add(uint64_t *wall, uint64_t *cpu, struct stamp from)
{
	struct stamp to = stamp_now();

	*wall += to.mono - from.mono;
	*cpu += to.cpu - from.cpu;
}

/* Feeds one loop of the worker's frames; the only bench work per packet
 * is the 32-byte descriptor copy into the burst array. */
static void feed_loop(struct worker *w, struct gcp_engine *eng)
{
	struct gcp_packet burst[BURST];

	for (size_t i = 0; i < w->n; i += BURST) {
		unsigned k = w->n - i < BURST ? (unsigned)(w->n - i) : BURST;

		for (unsigned j = 0; j < k; j++)
			burst[j] = w->frames[i + j].pkt;
		gcp_engine_feed_burst(eng, burst, k);
	}
}

/*
 * Timed: the feeds, then the end of the flows still open, which expire
 * through their timers as in live traffic (engine clock advanced past
 * the longest idle timeout). Not timed: rewriting addresses and times
 * between loops, and gcp_engine_flush() at the end, which then finds an
 * empty table but still clears the whole index (reported on its own).
 */
static void replay(struct worker *w, struct gcp_engine *eng)
{
	uint64_t last_ts = 0;

	for (unsigned loop = 0; loop < w->b->loops; loop++) {
		if (loop)
			rewrite(w, loop - 1); /* XOR again: back to the original bytes */
		rewrite(w, loop);
		shift_time(w, loop);
		struct stamp t = stamp_now();

		feed_loop(w, eng);
		stamp_add(&w->elapsed_ns, &w->cpu_ns, t);
	}
	for (size_t i = 0; i < w->n; i++)
		if (w->frames[i].pkt.ts_ns > last_ts)
			last_ts = w->frames[i].pkt.ts_ns;
	struct stamp t = stamp_now();

	gcp_engine_advance(eng, last_ts + DRAIN_S * 1000000000ull);
	stamp_add(&w->elapsed_ns, &w->cpu_ns, t);
	t = stamp_now();
	gcp_engine_flush(eng);
	stamp_add(&w->flush_ns, &w->flush_cpu_ns, t);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;
	struct gcp_engine *eng = NULL;

	if (w->b->pin)
		pin(w->idx);
	o.node_name = "bench";
	o.max_flows = 1u << 18;
	o.hash_seed = w->b->hash_seed;
	int rc = gcp_engine_create(&o, &eng);

	pthread_barrier_wait(&((struct bench *)w->b)->start);
	if (rc != 0)
		return NULL;
	gcp_engine_subscribe(eng, w->b->types, w->b->types ? count_record : NULL, w);
	replay(w, eng);
	w->st.sz = sizeof(w->st);
	gcp_engine_stats(eng, &w->st);
	gcp_engine_destroy(eng);
	return NULL;
}

static int run(struct bench *b, uint64_t *wall)
{
	pthread_barrier_init(&b->start, NULL, b->workers + 1);
	for (unsigned i = 0; i < b->workers; i++) {
		b->w[i].b = b;
		b->w[i].idx = i;
		if (pthread_create(&b->w[i].thr, NULL, worker_main, &b->w[i]) != 0)
			return -1;
	}
	pthread_barrier_wait(&b->start);
	uint64_t t0 = mono_ns();

	for (unsigned i = 0; i < b->workers; i++)
		pthread_join(b->w[i].thr, NULL);
	*wall = mono_ns() - t0;
	pthread_barrier_destroy(&b->start);
	return 0;
}

/* Nominal clock from /proc/cpuinfo "cpu MHz" (first CPU); 0 if unknown. */
static double cpu_mhz(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];
	double mhz = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "cpu MHz", 7) == 0 && sscanf(strchr(line, ':') + 1, "%lf", &mhz) == 1)
			break;
	fclose(f);
	return mhz;
}

struct totals {
	double pkts, bytes, busy_s, cpu_s, wall_s, records, record_bytes, flush_s, flush_cpu_s;
	uint64_t flows, table_full, evicted, dec_err;
};

static void sum(const struct bench *b, uint64_t wall, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	t->wall_s = (double)wall / 1e9;
	for (unsigned i = 0; i < b->workers; i++) {
		const struct worker *w = &b->w[i];

		t->pkts += (double)w->n * b->loops;
		t->bytes += (double)w->wire_bytes * b->loops;
		t->busy_s += (double)w->elapsed_ns / 1e9;
		t->cpu_s += (double)w->cpu_ns / 1e9;
		t->flush_s += (double)w->flush_ns / 1e9;
		t->flush_cpu_s += (double)w->flush_cpu_ns / 1e9;
		t->records += (double)w->records;
		t->record_bytes += (double)w->record_bytes;
		t->flows += w->st.flows_created;
		t->table_full += w->st.flow_table_full;
		t->evicted += w->st.flows_evicted;
		t->dec_err += w->st.decode_errors;
	}
}

/*
 * Line-rate accounting: pcap lengths exclude the 4-byte FCS; the wire
 * adds it plus 8 bytes preamble/SFD and 12 bytes inter-frame gap, so a
 * 64-byte frame (60 captured) costs 84 bytes: 14.88 Mpps at 10 Gbit/s.
 */
#define WIRE_EXTRA 24.0

static void print_json(const struct bench *b, uint64_t wall)
{
	struct totals t;
	double mhz = cpu_mhz();

	sum(b, wall, &t);
	double slowest = 0, avg = t.bytes / t.pkts;
	for (unsigned i = 0; i < b->workers; i++)
		if ((double)b->w[i].elapsed_ns / 1e9 > slowest)
			slowest = (double)b->w[i].elapsed_ns / 1e9;
	double mpps = t.pkts / slowest / 1e6, ns_core = t.busy_s * 1e9 / t.pkts;
	double line_10g = 10e9 / ((avg + WIRE_EXTRA) * 8) / 1e6;

	printf("{\"bench\":\"pipeline\",\"file\":\"%s\",\"mode\":\"%s\",\"workers\":%u,"
	       "\"cores\":%u,\"loops\":%u,\"packets\":%.0f,\"seconds\":%.6f,\"wall_seconds\":%.6f,"
	       "\"cpu_seconds\":%.6f,\"mpps\":%.3f,\"mpps_per_core\":%.3f,"
	       "\"mpps_per_core_cpu\":%.3f,\"gbps\":%.3f,\"gbps_line\":%.3f,"
	       "\"ns_per_pkt\":%.1f,\"ns_per_pkt_cpu\":%.1f,\"cpu_mhz\":%.0f,\"cycles_per_pkt_est\":%.0f,"
	       "\"avg_frame\":%.1f,\"line_mpps_10g\":%.3f,\"line_mpps_40g\":%.3f,"
	       "\"records\":%.0f,\"records_per_s\":%.0f,\"record_bytes\":%.0f,"
	       "\"flows\":%llu,\"flow_table_full\":%llu,\"flows_evicted\":%llu,"
	       "\"decode_errors\":%llu,\"flush_seconds\":%.6f,\"flush_cpu_seconds\":%.6f,"
	       "\"per_worker_mpps\":[",
	       b->file, b->mode, b->workers, b->workers, b->loops, t.pkts, slowest, t.wall_s,
	       t.cpu_s, mpps, 1e3 / ns_core, t.pkts / t.cpu_s / 1e6, t.bytes * 8 / slowest / 1e9,
	       (t.bytes + WIRE_EXTRA * t.pkts) * 8 / slowest / 1e9, ns_core,
	       t.cpu_s * 1e9 / t.pkts, mhz, t.cpu_s * 1e9 / t.pkts * mhz / 1e3, avg, line_10g, line_10g * 4, t.records, t.records / slowest,
	       t.record_bytes, (unsigned long long)t.flows, (unsigned long long)t.table_full,
	       (unsigned long long)t.evicted, (unsigned long long)t.dec_err, t.flush_s, t.flush_cpu_s);
	for (unsigned i = 0; i < b->workers; i++)
		printf("%s%.3f", i ? "," : "",
		       (double)b->w[i].n * b->loops / ((double)b->w[i].elapsed_ns / 1e3));
	printf("]}\n");
}

static void free_frames(struct frame *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].data);
	free(v);
}

int main(int argc, char **argv)
{
	static struct bench b;
	uint64_t wall;

	if (parse_args(&b, argc, argv) != 0)
		return usage();
	if (load(&b) != 0 || split(&b) != 0)
		return 1;
	free_frames(b.frames, b.n);
	b.frames = NULL;
	if (run(&b, &wall) != 0)
		return 1;
	print_json(&b, wall);
	for (unsigned i = 0; i < b.workers; i++)
		free_frames(b.w[i].frames, b.w[i].n);
	return 0;
}
