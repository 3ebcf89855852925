/* SPDX-License-Identifier: BSD-3-Clause */
/* Crash-safety of the sinks: stream scan (torn tail vs corruption), rotate recovery of .tmp leftovers, file sink never clobbers. */
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "sink_drv.h"

/* n synthetic records back to back in *len bytes (caller frees). */
static uint8_t *records(unsigned n, size_t *len)
{
	msgpack_sbuffer sb, all;

	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_init(&all);
	for (unsigned i = 0; i < n; i++) {
		drv_record(i, &sb);
		msgpack_sbuffer_write(&all, sb.data, sb.size);
	}
	msgpack_sbuffer_destroy(&sb);
	*len = all.size;
	return (uint8_t *)all.data;
}

static void put(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void open_one(struct gcp_sinkset *set, const char *spec)
{
	char err[512] = "";
	const char *specs[1] = { spec };

	cr_assert_eq(gcp_sinkset_open(set, specs, 1, true, err, sizeof(err)), 0, "%s", err);
}

Test(sink_crash, scan_every_cut_is_whole_records_plus_torn_tail)
{
	size_t len, one;
	uint8_t *b = records(50, &len);
	uint8_t *first = records(1, &one);
	struct gcp_mp_scan sc;

	for (size_t cut = 0; cut <= len; cut++) {
		gcp_mp_scan(b, cut, &sc);
		cr_assert(!sc.bad, "cut at %zu reported as corrupt", cut);
		cr_assert_eq(sc.whole + sc.tail, cut);
		cr_assert_lt(sc.records, 51u);
		cr_assert(cut < one ? sc.records == 0 : sc.records >= 1, "cut %zu", cut);
	}
	gcp_mp_scan(b, len, &sc);
	cr_expect_eq(sc.records, 50u);
	cr_expect_eq(sc.tail, 0u);
	free(b);
	free(first);
}

Test(sink_crash, scan_reports_corruption_and_non_maps)
{
	size_t len;
	uint8_t *b = records(3, &len);
	uint8_t *bad = malloc(len + 1);
	struct gcp_mp_scan sc;

	cr_assert_not_null(bad);
	memcpy(bad, b, len);
	bad[len] = 0xc1; /* never used in MessagePack */
	gcp_mp_scan(bad, len + 1, &sc);
	cr_expect(sc.bad);
	cr_expect_eq(sc.records, 3u);
	cr_expect_eq(sc.whole, len);
	bad[len] = 0x01; /* a whole value, but not a map */
	gcp_mp_scan(bad, len + 1, &sc);
	cr_expect(sc.bad);
	free(bad);
	free(b);
}

/* A .tmp left by a dead writer is cut to its whole records and renamed
 * into view; one a live writer holds (flock) is left alone. */
Test(sink_crash, rotate_recovers_leftovers_not_live_files)
{
	char dir[] = "/tmp/gcp_crashXXXXXX", orphan[512], held[512], fin[512], spec[600];
	size_t len, rlen;
	struct gcp_sinkset set;

	cr_assert_not_null(mkdtemp(dir));
	uint8_t *b = records(20, &len);
	snprintf(orphan, sizeof(orphan), "%s/.t-20000101T000000Z-1-000001.mp.tmp", dir);
	snprintf(held, sizeof(held), "%s/.t-20000101T000000Z-2-000001.mp.tmp", dir);
	snprintf(fin, sizeof(fin), "%s/t-20000101T000000Z-1-000001.mp", dir);
	put(orphan, b, len - 7); /* the last record torn */
	put(held, b, len);
	/* Empty: removed when its writer (pid in the name) is gone, kept while
	 * it runs (it may not have locked its new file yet). */
	char empty_dead[512], empty_live[512];
	snprintf(empty_dead, sizeof(empty_dead), "%s/.t-20000101T000000Z-4194303-000009.mp.tmp", dir);
	snprintf(empty_live, sizeof(empty_live), "%s/.t-20000101T000000Z-%ld-000009.mp.tmp", dir,
		 (long)getpid());
	put(empty_dead, "", 0);
	put(empty_live, "", 0);
	int hfd = open(held, O_RDONLY);
	cr_assert(hfd >= 0 && !flock(hfd, LOCK_EX));

	snprintf(spec, sizeof(spec), "rotate:%s?prefix=t", dir);
	open_one(&set, spec);
	cr_assert_eq(gcp_sinkset_close(&set, NULL), 0);

	cr_expect_neq(access(orphan, F_OK), 0, "the orphan .tmp is still there");
	char *got = drv_slurp(fin, &rlen);
	cr_assert_not_null(got, "not recovered into %s", fin);
	cr_expect_eq(drv_count_maps(got, rlen), 19, "the whole records, no torn tail");
	cr_expect_eq(memcmp(got, b, rlen), 0);
	cr_expect_eq(access(held, F_OK), 0, "a held .tmp was touched");
	cr_expect_neq(access(empty_dead, F_OK), 0, "an empty leftover of a dead writer stayed");
	cr_expect_eq(access(empty_live, F_OK), 0, "a live writer's empty file was removed");
	unlink(empty_live);
	close(hfd);
	free(got);
	free(b);
	unlink(fin);
	unlink(held);
	rmdir(dir);
}

/* file:PATH with PATH holding records: they stay, the run writes PATH.1. */
Test(sink_crash, file_sink_never_clobbers)
{
	char dir[] = "/tmp/gcp_crashXXXXXX", path[512], path1[512], spec[600];
	size_t len, got_len;
	struct gcp_sinkset set;

	cr_assert_not_null(mkdtemp(dir));
	uint8_t *b = records(5, &len);
	snprintf(path, sizeof(path), "%s/out.mp", dir);
	snprintf(path1, sizeof(path1), "%s/out.mp.1", dir);
	put(path, b, len - 3);
	snprintf(spec, sizeof(spec), "file:%s", path);
	open_one(&set, spec);
	drv_write_n(&set, 10);
	cr_assert_eq(gcp_sinkset_finish(&set), 0);
	cr_expect_eq(set.v[0].st.written, 10u);
	cr_assert_eq(gcp_sinkset_close(&set, NULL), 0);

	char *old = drv_slurp(path, &got_len);
	cr_expect_eq(got_len, len - 3, "the earlier file changed");
	cr_expect_eq(memcmp(old, b, got_len), 0);
	char *now = drv_slurp(path1, &got_len);
	cr_assert_not_null(now);
	cr_expect_eq(drv_count_maps(now, got_len), 10);

	snprintf(spec, sizeof(spec), "file:%s?exists=truncate", path);
	open_one(&set, spec);
	drv_write_n(&set, 2);
	cr_assert_eq(gcp_sinkset_close(&set, NULL), 0);
	free(old);
	old = drv_slurp(path, &got_len);
	cr_expect_eq(drv_count_maps(old, got_len), 2, "exists=truncate overwrites");
	free(old);
	free(now);
	free(b);
	unlink(path);
	unlink(path1);
	rmdir(dir);
}
