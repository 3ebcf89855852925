/* SPDX-License-Identifier: BSD-3-Clause */
/* rotate: sink: size rotation, every visible file whole msgpack maps, no .tmp left, counts balance. */
#include <dirent.h>
#include <unistd.h>

#include "sink_drv.h"

static char dir[] = "/tmp/gcp_rotXXXXXX";

/* Sums the maps of every visible file; counts files and leftover dot files. */
static long count_dir(unsigned *files, unsigned *hidden)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long total = 0;

	*files = *hidden = 0;
	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		char path[512];
		size_t len;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (e->d_name[0] == '.') {
			(*hidden)++;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		char *b = drv_slurp(path, &len);
		long n = drv_count_maps(b, len);
		cr_assert_gt(n, 0, "%s: not whole msgpack maps", path);
		free(b);
		total += n;
		(*files)++;
	}
	closedir(d);
	return total;
}

static void open_set(struct gcp_sinkset *set, const char *query)
{
	char spec[512], err[512] = "";
	const char *specs[1] = { spec };

	cr_assert_not_null(mkdtemp(dir));
	snprintf(spec, sizeof(spec), "rotate:%s?%s", dir, query);
	cr_assert_eq(gcp_sinkset_open(set, specs, 1, true, err, sizeof(err)), 0, "%s", err);
}

Test(sink_rotate, size_rotation_whole_files)
{
	struct gcp_sinkset set;
	unsigned files, hidden;
	const unsigned n = 5000;

	open_set(&set, "max_bytes=8192&prefix=t");
	drv_write_n(&set, n);
	FILE *stats = tmpfile();
	cr_assert_eq(gcp_sinkset_close(&set, stats), 0);
	long total = count_dir(&files, &hidden);
	cr_expect_eq(total, (long)n);
	cr_expect_gt(files, 10u, "only %u files", files);
	cr_expect_eq(hidden, 0u, "a .tmp file was left");
	rewind(stats);
	char line[1024];
	cr_assert_not_null(fgets(line, sizeof(line), stats));
	char want[64];
	snprintf(want, sizeof(want), "\"written\":%u,", n);
	cr_expect_not_null(strstr(line, want), "%s", line);
	fclose(stats);
}

Test(sink_rotate, open_file_is_hidden_until_rotated)
{
	struct gcp_sinkset set;
	unsigned files, hidden;

	open_set(&set, "max_bytes=1000000");
	drv_write_n(&set, 100);
	gcp_sinkset_flush(&set);
	cr_expect_eq(count_dir(&files, &hidden), 0);
	cr_expect_eq(files, 0u);
	cr_expect_eq(hidden, 1u);
	gcp_sinkset_reopen(&set); /* SIGHUP: the file goes into view */
	cr_expect_eq(count_dir(&files, &hidden), 100);
	cr_expect_eq(hidden, 0u);
	drv_write_n(&set, 10);
	cr_assert_eq(gcp_sinkset_close(&set, NULL), 0);
	cr_expect_eq(count_dir(&files, &hidden), 110);
	cr_expect_eq(files, 2u);
}

Test(sink_rotate, bad_specs)
{
	struct gcp_sinkset set;
	char err[512];
	const char *s1[] = { "rotate:/nonexistent/dir" };
	const char *s2[] = { "rotate:/tmp?max_bytes=abc" };
	const char *s3[] = { "bogus:x" };

	cr_expect_neq(gcp_sinkset_open(&set, s1, 1, true, err, sizeof(err)), 0);
	cr_expect_neq(gcp_sinkset_open(&set, s2, 1, true, err, sizeof(err)), 0);
	cr_expect(strstr(err, "max_bytes") != NULL, "%s", err);
	cr_expect_neq(gcp_sinkset_open(&set, s3, 1, true, err, sizeof(err)), 0);
}
