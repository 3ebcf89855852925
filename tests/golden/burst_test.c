/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The staged burst path (gcp_engine_feed_burst) gives exactly the
 * records of frame-by-frame feeding: every capture of the corpus is fed
 * one frame per call, in bursts of 64 and in bursts of 7 (stages that
 * straddle second boundaries, reassembled datagrams and burst ends at
 * odd places), and the MessagePack records must be byte-identical
 * (ingest_ts, the wall clock, masked).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcprobe/gcprobe.h"

struct out {
	uint8_t *buf;
	size_t len, cap;
	unsigned n;
};

/* "ingest_ts" (fixstr 9) then a timestamp ext: fixext 4/8 or ext8 12. */
static void mask_ingest_ts(uint8_t *p, size_t len)
{
	static const uint8_t key[] = "\xa9ingest_ts";
	const size_t klen = sizeof(key) - 1;

	for (size_t i = 0; i + klen + 2 < len; i++) {
		if (memcmp(p + i, key, klen) != 0)
			continue;
		uint8_t *v = p + i + klen;
		size_t n = v[0] == 0xd6 ? 6 : v[0] == 0xd7 ? 10 : v[0] == 0xc7 ? 15 : 0;

		if (n && i + klen + n <= len)
			memset(v, 'X', n);
	}
}

static void keep(const struct gcp_record *rec, void *user)
{
	struct out *o = user;

	if (o->len + rec->len > o->cap) {
		o->cap = (o->len + rec->len) * 2;
		o->buf = realloc(o->buf, o->cap);
		cr_assert_not_null(o->buf);
	}
	memcpy(o->buf + o->len, rec->data, rec->len);
	mask_ingest_ts(o->buf + o->len, rec->len);
	o->len += rec->len;
	o->n++;
}

/* Feed a whole capture in calls of `burst` frames (0: gcp_engine_feed). */
static void run(const char *path, unsigned burst, struct out *o)
{
	struct gcp_engine_opts eo = GCP_ENGINE_OPTS_INIT;
	struct gcp_engine *e;
	struct gcp_capture *cap;
	struct gcp_packet pk[64];
	int n;

	eo.node_name = "burst";
	eo.hash_seed = 0x5eed;
	cr_assert_eq(gcp_engine_create(&eo, &e), 0);
	gcp_engine_subscribe(e, GCP_REC_ALL, keep, o);
	cr_assert_eq(gcp_capture_open_file(path, &cap), 0, "%s", path);
	while ((n = gcp_capture_rx_burst(cap, pk, burst ? burst : 1)) > 0) {
		if (burst)
			cr_assert_eq(gcp_engine_feed_burst(e, pk, (unsigned)n), 0);
		else
			cr_assert_eq(gcp_engine_feed(e, &pk[0]), 0);
	}
	gcp_engine_flush(e);
	gcp_capture_close(cap);
	gcp_engine_destroy(e);
}

static bool same(const struct out *a, const struct out *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->buf, b->buf, a->len) == 0);
}

static unsigned check_file(const char *path)
{
	struct out one = { 0 }, b64 = { 0 }, b7 = { 0 };

	run(path, 0, &one);
	run(path, 64, &b64);
	run(path, 7, &b7);
	cr_assert_eq(b64.n, one.n, "%s: %u records in bursts of 64, %u one by one", path, b64.n,
		     one.n);
	cr_assert_eq(b7.n, one.n, "%s: %u records in bursts of 7, %u one by one", path, b7.n,
		     one.n);
	cr_assert(same(&b64, &one), "%s: bursts of 64 change the records", path);
	cr_assert(same(&b7, &one), "%s: bursts of 7 change the records", path);
	free(one.buf);
	free(b64.buf);
	free(b7.buf);
	return one.n;
}

static int is_capture(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && strcmp(name + n - 5, ".pcap") == 0) ||
	       (n > 7 && strcmp(name + n - 7, ".pcapng") == 0);
}

Test(burst, corpus_records_identical_to_one_by_one, .timeout = 300)
{
	DIR *top = opendir(GCP_CORPUS_DIR);
	struct dirent *d;
	unsigned files = 0, records = 0;

	cr_assert_not_null(top, "corpus %s", GCP_CORPUS_DIR);
	while ((d = readdir(top))) {
		char dir[4096];
		DIR *sub;
		struct dirent *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", GCP_CORPUS_DIR, d->d_name);
		if (!(sub = opendir(dir)))
			continue;
		while ((f = readdir(sub))) {
			char path[8192];

			if (!is_capture(f->d_name))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, f->d_name);
			records += check_file(path);
			files++;
		}
		closedir(sub);
	}
	closedir(top);
	cr_assert_gt(files, 50, "only %u captures found", files);
	cr_assert_gt(records, 500, "only %u records", records);
}
