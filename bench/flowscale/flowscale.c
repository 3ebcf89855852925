/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow-table scale benchmark (issue 12): N concurrent TCP flows built in
 * memory (SYN, SYN-ACK, ACK per flow, distinct 5-tuples) fed through the
 * public engine API in flow mode (no subscriber). Measures insert Mpps
 * (the SYNs: every one creates a flow), lookup Mpps (SYN-ACKs and ACKs
 * of live flows, in a scrambled order so the table is walked at random
 * as with real interleaved traffic), and the resident memory the engine
 * adds for N live flows: RSS of the process after all flows are live
 * minus RSS before gcp_engine_create(). Prints one JSON object; fails
 * (exit 1) when not every flow is live at the end, since the memory
 * figure would then not be one for N flows.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../gen/gen_wire.h"
#include "gcprobe/gcprobe.h"

#define BURST 64
#define FRAME_LEN 60         /* 14 Ethernet + 20 IPv4 + 20 TCP + 6 padding: 64 B on the wire */
#define CHUNK (64u * 1024u)  /* packets built between two timed feeds */
#define TS0 1700000000000000000ull
#define TS_STEP_NS 100u      /* 12M packets span 1.2 s: no timer (30 s, 300 s) fires */
/* Two primes above any table size: j -> j * P mod N is then a bijection. */
#define SCRAMBLE_SYNACK 2147483647ull
#define SCRAMBLE_ACK 4294967291ull

enum kind { K_SYN, K_SYNACK, K_ACK };

struct scale {
	uint32_t flows, max_flows;
	uint8_t *frames;            /* CHUNK frames of FRAME_LEN bytes */
	struct gcp_packet *pkts;    /* CHUNK descriptors pointing into frames */
	uint64_t next_ts;
	uint64_t ns[2], cpu_ns[2];  /* wall and thread CPU time: insert, lookup */
	uint64_t pkts_fed[2];
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Resident set of this process in bytes (/proc/self/statm, 2nd field). */
static uint64_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long size = 0, res = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	return x ^ (x >> 16);
}

/* Flow i: client 10.0.0.0/8 + i / 16, source port 20000 + i % 16, one
 * of 4096 servers in 172.16.0.0/12 on port 443. Unique for i < 2^28. */
static void flow_addrs(uint32_t i, uint32_t *cli, uint32_t *srv, uint16_t *cport)
{
	*cli = 0x0a000000u | (i >> 4);
	*srv = 0xac100000u | (mix32(i) & 0xfffu);
	*cport = (uint16_t)(20000u + (i & 15u));
}

static void build_frame(uint8_t *p, uint32_t i, enum kind k)
{
	static const uint8_t mac_c[6] = { 2, 0, 0, 0, 0, 1 }, mac_s[6] = { 2, 0, 0, 0, 0, 2 };
	uint32_t cli, srv, isn_c = mix32(i ^ 0x5eed), isn_s = mix32(i ^ 0xbeef);
	uint16_t cport;
	bool c2s = k != K_SYNACK;
	static const uint8_t flags[] = { 0x02, 0x12, 0x10 }; /* SYN, SYN|ACK, ACK */
	uint8_t *ip = p + 14, *tcp = ip + 20;

	flow_addrs(i, &cli, &srv, &cport);
	memset(p, 0, FRAME_LEN);
	memcpy(p, c2s ? mac_s : mac_c, 6);
	memcpy(p + 6, c2s ? mac_c : mac_s, 6);
	put16(p + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, 40);
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;
	put32(ip + 12, c2s ? cli : srv);
	put32(ip + 16, c2s ? srv : cli);
	ip4_csum(ip);
	put16(tcp, c2s ? cport : 443);
	put16(tcp + 2, c2s ? 443 : cport);
	put32(tcp + 4, k == K_SYN ? isn_c : k == K_SYNACK ? isn_s : isn_c + 1);
	put32(tcp + 8, k == K_SYN ? 0 : k == K_SYNACK ? isn_c + 1 : isn_s + 1);
	tcp[12] = 0x50;
	tcp[13] = flags[k];
	put16(tcp + 14, 65535);
}

/* Builds packets [from, from + n) of one kind into the chunk. */
static void build_chunk(struct scale *s, enum kind k, uint32_t from, uint32_t n)
{
	uint64_t mul = k == K_SYN ? 1 : k == K_SYNACK ? SCRAMBLE_SYNACK : SCRAMBLE_ACK;

	for (uint32_t j = 0; j < n; j++) {
		uint32_t i = (uint32_t)(((uint64_t)(from + j) * mul) % s->flows);
		uint8_t *fr = s->frames + (size_t)j * FRAME_LEN;

		build_frame(fr, i, k);
		s->pkts[j] = (struct gcp_packet){ .data = fr, .caplen = FRAME_LEN,
						  .wirelen = FRAME_LEN, .ts_ns = s->next_ts,
						  .linktype = GCP_LINK_ETHERNET };
		s->next_ts += TS_STEP_NS;
	}
}

/* Feeds n built packets in bursts; only this is timed. */
static void feed_chunk(struct scale *s, struct gcp_engine *eng, uint32_t n, int phase)
{
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);

	for (uint32_t i = 0; i < n; i += BURST)
		gcp_engine_feed_burst(eng, s->pkts + i, n - i < BURST ? n - i : BURST);
	s->cpu_ns[phase] += clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	s->ns[phase] += clock_ns(CLOCK_MONOTONIC) - t0;
	s->pkts_fed[phase] += n;
}

static void run_kind(struct scale *s, struct gcp_engine *eng, enum kind k)
{
	for (uint32_t from = 0; from < s->flows; from += CHUNK) {
		uint32_t n = s->flows - from < CHUNK ? s->flows - from : CHUNK;

		build_chunk(s, k, from, n);
		feed_chunk(s, eng, n, k == K_SYN ? 0 : 1);
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: gcp_bench_flowscale [--flows N] [--max-flows M] [--json]\n"
			"  --flows N      concurrent TCP flows (default 1048576, at most 2^28)\n"
			"  --max-flows M  engine max_flows (default N)\n");
	return 2;
}

static int parse_args(struct scale *s, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "flows", required_argument, NULL, 'n' },
		{ "max-flows", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' }, /* the only output format */
		{ NULL, 0, NULL, 0 },
	};
	int c;

	s->flows = 1u << 20;
	while ((c = getopt_long(argc, argv, "n:m:", opts, NULL)) != -1) {
		if (c == 'n')
			s->flows = (uint32_t)strtoul(optarg, NULL, 0);
		else if (c == 'm')
			s->max_flows = (uint32_t)strtoul(optarg, NULL, 0);
		else if (c != 'j')
			return -1;
	}
	if (!s->max_flows)
		s->max_flows = s->flows;
	return s->flows && s->flows <= (1u << 28) && s->max_flows >= s->flows ? 0 : -1;
}

static double mpps(const struct scale *s, int phase, const uint64_t *ns)
{
	return ns[phase] ? (double)s->pkts_fed[phase] * 1e3 / (double)ns[phase] : 0;
}

static void print_json(const struct scale *s, const struct gcp_stats *st, uint64_t rss0,
		       uint64_t rss_created, uint64_t rss_live, uint64_t budget)
{
	double delta = (double)rss_live - (double)rss0;

	printf("{\"bench\":\"flowscale\",\"flows\":%u,\"max_flows\":%u,\"mode\":\"flow\","
	       "\"insert_packets\":%llu,\"lookup_packets\":%llu,"
	       "\"insert_mpps_cpu\":%.3f,\"lookup_mpps_cpu\":%.3f,"
	       "\"insert_mpps_wall\":%.3f,\"lookup_mpps_wall\":%.3f,"
	       "\"insert_ns_per_pkt_cpu\":%.1f,\"lookup_ns_per_pkt_cpu\":%.1f,"
	       "\"rss_before_create_bytes\":%llu,\"rss_after_create_bytes\":%llu,"
	       "\"rss_live_bytes\":%llu,\"rss_delta_bytes\":%.0f,\"rss_delta_mib\":%.1f,"
	       "\"rss_create_delta_mib\":%.1f,\"rss_bytes_per_flow\":%.1f,"
	       "\"mem_budget_bytes\":%llu,\"flows_created\":%llu,\"flows_ended\":%llu,"
	       "\"flow_table_full\":%llu,\"flows_evicted\":%llu,\"decode_errors\":%llu}\n",
	       s->flows, s->max_flows, (unsigned long long)s->pkts_fed[0],
	       (unsigned long long)s->pkts_fed[1], mpps(s, 0, s->cpu_ns), mpps(s, 1, s->cpu_ns),
	       mpps(s, 0, s->ns), mpps(s, 1, s->ns),
	       s->pkts_fed[0] ? (double)s->cpu_ns[0] / (double)s->pkts_fed[0] : 0,
	       s->pkts_fed[1] ? (double)s->cpu_ns[1] / (double)s->pkts_fed[1] : 0,
	       (unsigned long long)rss0, (unsigned long long)rss_created,
	       (unsigned long long)rss_live, delta, delta / 1048576.0,
	       ((double)rss_created - (double)rss0) / 1048576.0, delta / s->flows,
	       (unsigned long long)budget, (unsigned long long)st->flows_created,
	       (unsigned long long)st->flows_ended, (unsigned long long)st->flow_table_full,
	       (unsigned long long)st->flows_evicted, (unsigned long long)st->decode_errors);
}

/* Buffers of the bench itself, allocated and touched before the baseline. */
static int alloc_chunk(struct scale *s)
{
	s->frames = calloc(CHUNK, FRAME_LEN);
	s->pkts = calloc(CHUNK, sizeof(*s->pkts));
	if (!s->frames || !s->pkts)
		return -1;
	build_chunk(s, K_SYN, 0, s->flows < CHUNK ? s->flows : CHUNK);
	s->next_ts = TS0;
	return 0;
}

int main(int argc, char **argv)
{
	struct scale s = { .next_ts = TS0 };
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;
	struct gcp_engine *eng = NULL;
	struct gcp_stats st = { .sz = sizeof(st) };
	int rc = 1;

	if (parse_args(&s, argc, argv) != 0)
		return usage();
	if (alloc_chunk(&s) != 0)
		goto out;
	o.node_name = "bench";
	o.max_flows = s.max_flows;
	uint64_t rss0 = rss_bytes();

	if (gcp_engine_create(&o, &eng) != 0) {
		fprintf(stderr, "gcp_bench_flowscale: error: gcp_engine_create(max_flows=%u)\n",
			s.max_flows);
		goto out;
	}
	uint64_t rss_created = rss_bytes();

	run_kind(&s, eng, K_SYN);
	run_kind(&s, eng, K_SYNACK);
	run_kind(&s, eng, K_ACK);
	uint64_t rss_live = rss_bytes();

	gcp_engine_stats(eng, &st);
	print_json(&s, &st, rss0, rss_created, rss_live, gcp_engine_mem_budget(&o));
	/* Exactly N created and none ended: every SYN-ACK and ACK found its flow. */
	if (st.flows_created == s.flows && !st.flows_ended && !st.flow_table_full)
		rc = 0;
	else
		fprintf(stderr, "gcp_bench_flowscale: error: %llu flows created, %llu ended, "
			"expected %u live\n", (unsigned long long)st.flows_created,
			(unsigned long long)st.flows_ended, s.flows);
out:
	gcp_engine_destroy(eng);
	free(s.frames);
	free(s.pkts);
	return rc;
}
