/* SPDX-License-Identifier: BSD-3-Clause */
/* The "stats" record (docs/SCHEMA.md), the books, the --stats counters line. */
#include "stats_rec.h"
#include "record.h"
#include "sink/sink.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NS 1000000000ull

static uint64_t stats_records;

bool probe_stats_wanted(const struct probe_stats_cfg *c)
{
	return c->wanted;
}

bool probe_stats_due(const struct probe_stats_cfg *c, uint64_t *next_ns, uint64_t now_ns)
{
	uint64_t iv = (uint64_t)c->interval_s * NS;

	if (!iv || !probe_stats_wanted(c))
		return false;
	if (!*next_ns) {
		*next_ns = now_ns + iv;
		return false;
	}
	if (now_ns < *next_ns)
		return false;
	*next_ns += iv;
	if (*next_ns <= now_ns) /* a gap in the capture: no burst of records */
		*next_ns = now_ns + iv;
	return true;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static void identity(struct gcp_rb *rb, const struct gcp_engine_opts *id)
{
	char host[256] = "unknown";

	if (!id->node_name && gethostname(host, sizeof(host) - 1))
		snprintf(host, sizeof(host), "unknown");
	gcp_rb_kv_cstr(rb, "engine", id->engine_name ? id->engine_name :
			"gcprobe/" GCP_VERSION_STRING);
	gcp_rb_kv_cstr(rb, "node_name", id->node_name ? id->node_name : host);
	gcp_rb_kv_cstr(rb, "node_type",
		       id->node_type == GCP_NODE_VIRTUAL ? "virtual" : "physical");
	if (id->agent_ip)
		gcp_rb_kv_cstr(rb, "agent_ip", id->agent_ip);
}

static void engine_counters(struct gcp_rb *rb, const struct gcp_stats *st)
{
	gcp_rb_kv_uint(rb, "pkts", st->pkts);
	gcp_rb_kv_uint(rb, "bytes", st->bytes);
	gcp_rb_kv_uint(rb, "decode_errors", st->decode_errors);
	gcp_rb_kv_uint(rb, "truncated", st->truncated);
	gcp_rb_kv_uint(rb, "flows_created", st->flows_created);
	gcp_rb_kv_uint(rb, "flows_evicted", st->flows_evicted);
	gcp_rb_kv_uint(rb, "flow_table_full", st->flow_table_full);
	gcp_rb_kv_uint(rb, "reasm_limit_hits", st->reasm_limit_hits);
	gcp_rb_kv_uint(rb, "frags_dropped", st->frags_dropped);
	gcp_rb_kv_uint(rb, "records_emitted", st->records);
	gcp_rb_kv_uint(rb, "stream_resyncs", st->stream_resyncs);
	gcp_rb_kv_uint(rb, "expect_added", st->expect_added);
	gcp_rb_kv_uint(rb, "expect_matched", st->expect_matched);
	gcp_rb_kv_uint(rb, "expect_full", st->expect_full);
	gcp_rb_kv_uint(rb, "expect_expired", st->expect_expired);
	gcp_rb_kv_uint(rb, "hs_identified", st->hs_identified);
	gcp_rb_kv_uint(rb, "hs_streams_full", st->hs_streams_full);
	gcp_rb_kv_uint(rb, "hs_scan_errors", st->hs_scan_errors);
	gcp_rb_kv_uint(rb, "rules_tagged", st->rules_tagged);
	gcp_rb_kv_uint(rb, "rules_hits_dropped", st->rules_hits_dropped);
	gcp_rb_kv_uint(rb, "rules_swaps", st->rules_swaps);
	gcp_rb_kv_uint(rb, "rules_scan_errors", st->rules_scan_errors);
}

static void queues(struct gcp_rb *rb, const struct probe_stats_in *in)
{
	gcp_rb_key(rb, "queues");
	gcp_rb_array_begin(rb);
	for (unsigned i = 0; i < in->nq; i++) {
		gcp_rb_map_begin(rb);
		gcp_rb_kv_uint(rb, "queue", i);
		gcp_rb_kv_uint(rb, "received", in->q[i].received);
		gcp_rb_kv_uint(rb, "bytes", in->q[i].bytes);
		gcp_rb_kv_uint(rb, "dropped", in->q[i].dropped);
		gcp_rb_kv_uint(rb, "kernel_dropped", in->q[i].kernel_dropped);
		gcp_rb_end(rb);
	}
	gcp_rb_end(rb);
}

/* ---- no-loss books ---- */

uint64_t probe_stats_records(void)
{
	return stats_records;
}

static uint64_t pkts_dropped(const struct probe_books *b)
{
	return b->drop_kernel + b->drop_ring_full + b->drop_truncated + b->drop_too_large +
	       b->drop_count_limit;
}

static uint64_t records_reached(const struct probe_books *b)
{
	return b->set->produced + b->records_lost;
}

/* In flight may be above zero only while running (rings, worker buffers). */
bool probe_books_balanced(struct probe_books *b)
{
	uint64_t done = b->pkts_processed + pkts_dropped(b);
	bool ok = gcp_sinkset_balanced(b->set);

	if (b->final)
		return ok && b->pkts_received == done && b->records_produced == records_reached(b);
	return ok && b->pkts_received >= done;
}

static void books_print_drops(const struct probe_books *b, FILE *f)
{
	fprintf(f, "\"pkts_dropped\":{\"kernel\":%llu,\"rx_ring_full\":%llu,\"truncated\":%llu,"
		"\"too_large\":%llu,\"count_limit\":%llu}",
		(unsigned long long)b->drop_kernel, (unsigned long long)b->drop_ring_full,
		(unsigned long long)b->drop_truncated, (unsigned long long)b->drop_too_large,
		(unsigned long long)b->drop_count_limit);
}

void probe_books_print(struct probe_books *b, FILE *f)
{
	bool ok = probe_books_balanced(b);

	fprintf(f, "{\"books\":{\"pkts_received\":%llu,\"pkts_processed\":%llu,",
		(unsigned long long)b->pkts_received, (unsigned long long)b->pkts_processed);
	books_print_drops(b, f);
	fprintf(f, ",\"records_produced\":%llu,\"records_lost\":{\"no_memory\":%llu},"
		"\"records_to_sinks\":%llu,\"sinks\":[",
		(unsigned long long)b->records_produced, (unsigned long long)b->records_lost,
		(unsigned long long)b->set->produced);
	for (unsigned i = 0; i < b->set->n; i++) {
		const struct gcp_sink *s = &b->set->v[i];
		fprintf(f, "%s{\"spec\":\"", i ? "," : "");
		for (const char *c = s->spec; *c; c++) { /* a JSON string */
			if (*c == '"' || *c == '\\')
				fputc('\\', f);
			fputc((unsigned char)*c < 0x20 ? '?' : *c, f);
		}
		fprintf(f, "\",\"written\":%llu,\"dropped_full\":%llu,\"dropped_error\":%llu,"
			"\"queued\":%llu}", (unsigned long long)s->st.written,
			(unsigned long long)s->st.dropped_full, (unsigned long long)s->st.dropped_error,
			(unsigned long long)s->st.queued);
	}
	fprintf(f, "],\"balanced\":%s}}\n", ok ? "true" : "false");
}

static void books_put_sinks(struct gcp_rb *rb, const struct gcp_sinkset *set)
{
	gcp_rb_key(rb, "sinks");
	gcp_rb_array_begin(rb);
	for (unsigned i = 0; i < set->n; i++) {
		const struct gcp_sink *s = &set->v[i];
		gcp_rb_map_begin(rb);
		gcp_rb_kv_cstr(rb, "spec", s->spec);
		gcp_rb_kv_uint(rb, "written", s->st.written);
		gcp_rb_kv_uint(rb, "dropped_full", s->st.dropped_full);
		gcp_rb_kv_uint(rb, "dropped_error", s->st.dropped_error);
		gcp_rb_kv_uint(rb, "queued", s->st.queued);
		gcp_rb_end(rb);
	}
	gcp_rb_end(rb);
}

static void books_put(struct gcp_rb *rb, struct probe_books *b)
{
	bool ok = probe_books_balanced(b);

	gcp_rb_key(rb, "books");
	gcp_rb_map_begin(rb);
	gcp_rb_kv_uint(rb, "pkts_received", b->pkts_received);
	gcp_rb_kv_uint(rb, "pkts_processed", b->pkts_processed);
	gcp_rb_key(rb, "pkts_dropped");
	gcp_rb_map_begin(rb);
	gcp_rb_kv_uint(rb, "kernel", b->drop_kernel);
	gcp_rb_kv_uint(rb, "rx_ring_full", b->drop_ring_full);
	gcp_rb_kv_uint(rb, "truncated", b->drop_truncated);
	gcp_rb_kv_uint(rb, "too_large", b->drop_too_large);
	gcp_rb_kv_uint(rb, "count_limit", b->drop_count_limit);
	gcp_rb_end(rb);
	gcp_rb_kv_uint(rb, "records_produced", b->records_produced);
	gcp_rb_key(rb, "records_lost");
	gcp_rb_map_begin(rb);
	gcp_rb_kv_uint(rb, "no_memory", b->records_lost);
	gcp_rb_end(rb);
	gcp_rb_kv_uint(rb, "records_to_sinks", b->set->produced);
	books_put_sinks(rb, b->set);
	gcp_rb_kv_bool(rb, "balanced", ok);
	gcp_rb_end(rb);
}

/* VmRSS and VmHWM of this process in KiB (0 where unknown). */
static void memory(struct gcp_rb *rb)
{
	char line[128];
	unsigned long long rss = 0, hwm = 0;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %llu", &rss);
		sscanf(line, "VmHWM: %llu", &hwm);
	}
	if (f)
		fclose(f);
	gcp_rb_kv_uint(rb, "vm_rss_kb", rss);
	gcp_rb_kv_uint(rb, "vm_hwm_kb", hwm);
}

void probe_stats_emit(const struct probe_stats_cfg *c, const struct probe_stats_in *in,
		      gcp_record_cb cb, void *user)
{
	struct gcp_rb rb;
	struct gcp_record rec = { .type = GCP_REC_STATS };

	if (!probe_stats_wanted(c) || gcp_rb_init(&rb))
		return;
	gcp_rb_reset(&rb);
	gcp_rb_kv_cstr(&rb, "type", "stats");
	gcp_rb_kv_ts(&rb, "ts", in->ts_ns ? in->ts_ns : wall_ns());
	gcp_rb_kv_ts(&rb, "ingest_ts", wall_ns());
	identity(&rb, c->id);
	gcp_rb_kv_uint(&rb, "interval", c->interval_s);
	gcp_rb_key(&rb, "final");
	gcp_rb_bool(&rb, in->final);
	gcp_rb_kv_uint(&rb, "workers", in->workers);
	engine_counters(&rb, in->eng);
	gcp_rb_kv_uint(&rb, "records_dropped", in->records_dropped);
	queues(&rb, in);
	memory(&rb);
	if (in->books)
		books_put(&rb, in->books);
	if (!gcp_rb_finish(&rb, &rec.data, &rec.len)) {
		stats_records++;
		cb(&rec, user);
	}
	gcp_rb_fini(&rb);
}

/* The --stats line's counters, in its order: each key is its field's name. */
#define STAT(f) { #f, offsetof(struct gcp_stats, f) }
static const struct {
	const char *name;
	size_t off;
} stat_fields[] = {
	STAT(pkts),
	STAT(bytes),
	STAT(decode_errors),
	STAT(non_ip),
	STAT(truncated),
	STAT(unsupported_link),
	STAT(tunnels),
	STAT(frags),
	STAT(frags_reassembled),
	STAT(frags_dropped),
	STAT(flows_created),
	STAT(flows_ended),
	STAT(flows_evicted),
	STAT(flow_table_full),
	STAT(reasm_ooo_bytes),
	STAT(reasm_limit_hits),
	STAT(reasm_missed_bytes),
	STAT(pending_limit_hits),
	STAT(records),
	STAT(dissector_errors),
	STAT(frags_overlap),
	STAT(mem_limit_hits),
	STAT(mem_budget),
	STAT(records_failed),
	STAT(stream_resyncs),
	STAT(expect_added),
	STAT(expect_matched),
	STAT(expect_full),
	STAT(expect_expired),
	STAT(hs_identified),
	STAT(hs_streams_full),
	STAT(hs_scan_errors),
	STAT(rules_tagged),
	STAT(rules_hits_dropped),
	STAT(rules_swaps),
	STAT(rules_scan_errors),
};
#undef STAT

/* One JSON line of engine counters (summed over workers by the caller). */
void probe_print_stats(const struct gcp_stats *st)
{
	const char *sep = "{";

	for (size_t i = 0; i < sizeof(stat_fields) / sizeof(stat_fields[0]); i++) {
		uint64_t v;

		memcpy(&v, (const char *)st + stat_fields[i].off, sizeof(v));
		fprintf(stderr, "%s\"%s\":%llu", sep, stat_fields[i].name, (unsigned long long)v);
		sep = ",";
	}
	fputs(",\"records_by_type\":{", stderr);
	/* Keyed by type name; bit i of the mask is records_by_type[i]. */
	for (unsigned i = 0; (1u << i) & GCP_REC_ALL; i++)
		fprintf(stderr, "%s\"%s\":%llu", i ? "," : "",
			gcp_record_type_name((enum gcp_record_type)(1u << i)),
			(unsigned long long)st->records_by_type[i]);
	fputs("}}\n", stderr);
}
