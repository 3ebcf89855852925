/* SPDX-License-Identifier: BSD-3-Clause */
/* Sink test helpers: synthetic msgpack records, demo.pcap through a sink set, msgpack file/stream decoding. */
#ifndef GCP_SINK_DRV_H
#define GCP_SINK_DRV_H

#include <criterion/criterion.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcprobe/gcprobe.h"
#include "sink.h"

#ifndef GCP_SRC_DIR
#define GCP_SRC_DIR "."
#endif

/* Record i: a map {"type":"tcp","i":i,"pad":<i % 200 bytes>}. */
static inline void drv_record(unsigned i, msgpack_sbuffer *sb)
{
	msgpack_packer pk;
	char pad[200];

	memset(pad, 'x', sizeof(pad));
	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str_with_body(&pk, "type", 4);
	msgpack_pack_str_with_body(&pk, "tcp", 3);
	msgpack_pack_str_with_body(&pk, "i", 1);
	msgpack_pack_unsigned_int(&pk, i);
	msgpack_pack_str_with_body(&pk, "pad", 3);
	msgpack_pack_str_with_body(&pk, pad, i % 200);
}

/* Writes n synthetic records to the set. */
static inline void drv_write_n(struct gcp_sinkset *set, unsigned n)
{
	msgpack_sbuffer sb;

	msgpack_sbuffer_init(&sb);
	for (unsigned i = 0; i < n; i++) {
		drv_record(i, &sb);
		struct gcp_sink_rec r = { .mp = (const uint8_t *)sb.data, .mp_len = sb.size,
					  .type = GCP_REC_TCP, .flow_id = i + 1 };
		gcp_sinkset_write(set, &r);
	}
	msgpack_sbuffer_destroy(&sb);
}

/* Counts whole maps in buf; -1 if anything else or a partial object is there. */
static inline long drv_count_maps(const char *buf, size_t len)
{
	msgpack_unpacked u;
	size_t off = 0;
	long n = 0;

	msgpack_unpacked_init(&u);
	while (off < len) {
		if (msgpack_unpack_next(&u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS ||
		    u.data.type != MSGPACK_OBJECT_MAP) {
			n = -1;
			break;
		}
		n++;
	}
	msgpack_unpacked_destroy(&u);
	return n;
}

/* Reads a whole file; *len its size. */
static inline char *drv_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	long n;

	cr_assert_not_null(f, "open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

struct drv_counts {
	unsigned long long produced, written, full, error;
};

/* Closes the set (one sink) and reads its final counters from the stats line. */
static inline struct drv_counts drv_close(struct gcp_sinkset *set)
{
	struct drv_counts c;
	FILE *f = tmpfile();
	char line[2048];

	cr_assert_eq(gcp_sinkset_close(set, f), 0);
	rewind(f);
	cr_assert_not_null(fgets(line, sizeof(line), f));
	fclose(f);
	cr_assert_eq(sscanf(strstr(line, "\"produced\""),
			    "\"produced\":%llu,\"written\":%llu,\"dropped_full\":%llu,"
			    "\"dropped_error\":%llu", &c.produced, &c.written, &c.full, &c.error),
		     4, "%s", line);
	cr_expect_eq(c.written + c.full + c.error, c.produced, "books: %s", line);
	return c;
}

struct drv_demo {
	struct gcp_sinkset *set;
	unsigned n;
	enum gcp_record_type types[64];
	uint64_t flow_ids[64];
};

static inline void drv_on_record(const struct gcp_record *rec, void *user)
{
	struct drv_demo *d = user;
	struct gcp_sink_rec r = { .mp = rec->data, .mp_len = rec->len, .type = rec->type,
				  .flow_id = rec->flow_id };

	if (d->n < 64) {
		d->types[d->n] = rec->type;
		d->flow_ids[d->n] = rec->flow_id;
	}
	d->n++;
	gcp_sinkset_write(d->set, &r);
}

/* data/demo.pcap through an engine into the set. */
static inline void drv_demo(struct drv_demo *d)
{
	struct gcp_engine_opts eo = GCP_ENGINE_OPTS_INIT;
	struct gcp_capture *cap;
	struct gcp_engine *eng;
	struct gcp_packet pkts[64];
	int n;

	cr_assert_eq(gcp_capture_open_file(GCP_SRC_DIR "/data/demo.pcap", &cap), 0);
	cr_assert_eq(gcp_engine_create(&eo, &eng), 0);
	gcp_engine_subscribe(eng, GCP_REC_ALL, drv_on_record, d);
	while ((n = gcp_capture_rx_burst(cap, pkts, 64)) > 0)
		gcp_engine_feed_burst(eng, pkts, (unsigned)n);
	gcp_engine_flush(eng);
	gcp_engine_destroy(eng);
	gcp_capture_close(cap);
}

#endif /* GCP_SINK_DRV_H */
