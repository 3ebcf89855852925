/* SPDX-License-Identifier: BSD-3-Clause */
/* unix: stream sink: every record arrives; a listener that never reads fills the bounded queue, drops counted. */
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sink_drv.h"

struct listener {
	int lfd;
	bool read;         /* false: accept, never read */
	char *buf;
	size_t len;
	pthread_t th;
};

static void *serve(void *arg)
{
	struct listener *l = arg;
	int fd = accept(l->lfd, NULL, NULL);
	size_t cap = 1 << 20;
	ssize_t k;

	if (fd < 0 || !l->read)
		return NULL;
	l->buf = malloc(cap);
	while ((k = read(fd, l->buf + l->len, cap - l->len)) > 0) {
		l->len += (size_t)k;
		if (cap - l->len < 65536)
			l->buf = realloc(l->buf, cap *= 2);
	}
	close(fd);
	return NULL;
}

static void listen_on(struct listener *l, char *path, size_t plen, bool rd)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };

	snprintf(path, plen, "/tmp/gcp_sink_%ld.sock", (long)getpid());
	unlink(path);
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	l->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(l->lfd, (struct sockaddr *)&un, sizeof(un)), 0);
	cr_assert_eq(listen(l->lfd, 4), 0);
	l->read = rd;
	pthread_create(&l->th, NULL, serve, l);
}

static void open_set(struct gcp_sinkset *set, const char *path, const char *query)
{
	char spec[512], err[512] = "";
	const char *specs[1] = { spec };

	snprintf(spec, sizeof(spec), "unix:%s?%s", path, query);
	cr_assert_eq(gcp_sinkset_open(set, specs, 1, true, err, sizeof(err)), 0, "%s", err);
}

Test(sink_stream, all_records_arrive)
{
	struct listener l = { 0 };
	struct gcp_sinkset set;
	char path[108];
	const unsigned n = 20000;

	listen_on(&l, path, sizeof(path), true);
	open_set(&set, path, "close_ms=10000");
	drv_write_n(&set, n);
	cr_expect_eq(drv_close(&set).written, n);
	pthread_join(l.th, NULL);
	cr_expect_eq(drv_count_maps(l.buf, l.len), (long)n);
	unlink(path);
	free(l.buf);
}

Test(sink_stream, stalled_reader_bounded_and_counted)
{
	struct listener l = { 0 };
	struct gcp_sinkset set;
	char path[108];
	const unsigned n = 50000;
	const uint64_t qb = 65536;

	listen_on(&l, path, sizeof(path), false);
	open_set(&set, path, "queue_bytes=65536&close_ms=100");
	drv_write_n(&set, n);
	struct gcp_sink_stats mid = set.v[0].st;
	cr_expect_gt(mid.dropped_full, 0u, "no drops with a stalled reader");
	cr_expect_leq(mid.queued_max, qb, "queue grew to %llu", (unsigned long long)mid.queued_max);
	/* Close: what is still queued is counted, not lost silently. */
	struct drv_counts c = drv_close(&set);
	cr_expect_eq(c.produced, n);
	cr_expect_gt(c.error, 0u, "queued records at close not counted");
	pthread_join(l.th, NULL);
	unlink(path);
}

Test(sink_stream, no_listener_counts_every_record)
{
	struct gcp_sinkset set;

	open_set(&set, "/tmp/gcp_sink_nobody.sock", "queue_bytes=8192&close_ms=50");
	drv_write_n(&set, 1000);
	struct drv_counts c = drv_close(&set);
	cr_expect_eq(c.written, 0u);
	cr_expect_eq(c.produced, 1000u);
}
