/* SPDX-License-Identifier: BSD-3-Clause */
/* rotate:DIR sink: msgpack files by size/age, written hidden and renamed whole into view; crash leftovers recovered. */
#include "sink.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RBUF (256u * 1024u)

/*
 * A file is written as DIR/.P-<utc>-<pid>-<seq>.mp.tmp and renamed to
 * DIR/P-<utc>-<pid>-<seq>.mp (rename(2) is atomic) when it reaches
 * max_bytes, is max_secs old, on SIGHUP and at close. A reader that
 * ignores dot files therefore only sees complete files of whole records.
 * Records count as written when their file is renamed into view.
 *
 * The writer holds flock(LOCK_EX) on its .tmp file. A .tmp that nobody
 * holds was left by a process that died (SIGKILL, power loss): at open
 * it is cut back to its last whole record and renamed into view, so the
 * records written before a crash reach the reader. A new run never
 * opens an existing file (O_EXCL, and the pid is in the name).
 */
struct rot {
	char *dir, *prefix;
	uint64_t max_bytes, max_secs;
	int fd;                   /* -1: no file open */
	char tmp[PATH_MAX], fin[PATH_MAX];
	time_t opened;
	unsigned seq;
	uint64_t file_bytes, file_recs;   /* on disk in the open file */
	uint8_t *buf;
	size_t blen;
	uint64_t buf_recs;
};

static int rot_params(struct rot *r, const char *q, char *err, size_t errlen)
{
	char prefix[64] = "gcp";

	r->max_bytes = 64u << 20;
	r->max_secs = 0;
	if (q && (!gcp_sink_param_u64(q, "max_bytes", &r->max_bytes, err, errlen) ||
		  !gcp_sink_param_u64(q, "max_secs", &r->max_secs, err, errlen)))
		return -1;
	if (q)
		gcp_sink_param(q, "prefix", prefix, sizeof(prefix));
	if (!prefix[0] || strchr(prefix, '/')) {
		snprintf(err, errlen, "prefix: '%s' is not a file name prefix", prefix);
		return -1;
	}
	r->prefix = strdup(prefix);
	return r->prefix ? 0 : -1;
}

/* Is the pid in ".P-<utc>-<pid>-<seq>.mp.tmp" a running process? */
static bool writer_alive(const char *name)
{
	char buf[NAME_MAX + 1], *dash;

	snprintf(buf, sizeof(buf), "%s", name);
	if (!(dash = strrchr(buf, '-')))
		return false;
	*dash = '\0';
	if (!(dash = strrchr(buf, '-')))
		return false;
	long pid = strtol(dash + 1, NULL, 10);
	return pid > 0 && (!kill((pid_t)pid, 0) || errno == EPERM);
}

/* Cut an orphaned .tmp to its whole records and give it its visible name. */
static void recover_one(const char *dir, const char *name)
{
	char tmp[PATH_MAX], fin[PATH_MAX];
	struct stat sb;
	struct gcp_mp_scan sc = { 0 };
	size_t nl = strlen(name) - strlen(".tmp");

	snprintf(tmp, sizeof(tmp), "%s/%s", dir, name);
	snprintf(fin, sizeof(fin), "%s/%.*s", dir, (int)(nl - 1), name + 1);
	int fd = open(tmp, O_RDWR | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) || fstat(fd, &sb))
		goto out; /* a live writer holds it, or it went away */
	if (sb.st_size) {
		void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED)
			goto out;
		gcp_mp_scan(m, (size_t)sb.st_size, &sc);
		munmap(m, (size_t)sb.st_size);
	}
	if (sc.bad) {
		fprintf(stderr, "gcprobe: warning: rotate: %s: not MessagePack records after "
			"byte %zu; left as it is\n", tmp, sc.whole);
		goto out;
	}
	if (!sc.records) {
		/* A writer creates its file, then locks it: an empty one may be
		 * another live run's, between the two. */
		if (!writer_alive(name))
			unlink(tmp);
		goto out;
	}
	if ((sc.tail && ftruncate(fd, (off_t)sc.whole)) || (fsync(fd) && errno != EINVAL) ||
	    !access(fin, F_OK) || rename(tmp, fin)) {
		fprintf(stderr, "gcprobe: warning: rotate: cannot recover %s: %s\n", tmp,
			strerror(errno ? errno : EEXIST));
		goto out;
	}
	fprintf(stderr, "gcprobe: info: rotate: recovered %llu record(s) left by a crash "
		"into %s (torn tail of %zu bytes cut)\n", (unsigned long long)sc.records, fin,
		sc.tail);
out:
	if (fd >= 0)
		close(fd); /* releases the lock */
}

/* .P-*.mp.tmp files in DIR that no running writer holds. */
static void recover_orphans(const struct rot *r)
{
	DIR *d = opendir(r->dir);
	struct dirent *de;
	size_t pl = strlen(r->prefix);

	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n > pl + 9 && de->d_name[0] == '.' && !strncmp(de->d_name + 1, r->prefix, pl) &&
		    de->d_name[pl + 1] == '-' && !strcmp(de->d_name + n - 7, ".mp.tmp"))
			recover_one(r->dir, de->d_name);
	}
	closedir(d);
}

static int rot_open(struct gcp_sink *s, const char *arg, char *err, size_t errlen)
{
	struct rot *r = calloc(1, sizeof(*r));
	const char *q = strchr(arg, '?');
	size_t n = q ? (size_t)(q - arg) : strlen(arg);

	if (!r || !(r->buf = malloc(RBUF)) || !(r->dir = strndup(arg, n)) ||
	    rot_params(r, q ? q + 1 : NULL, err, errlen)) {
		if (!err[0])
			snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!n || access(r->dir, W_OK | X_OK)) {
		snprintf(err, errlen, "directory '%s': %s", r->dir, n ? strerror(errno) : "missing");
		goto fail;
	}
	r->fd = -1;
	recover_orphans(r);
	s->priv = r;
	return 0;
fail:
	if (r) {
		free(r->buf);
		free(r->dir);
		free(r->prefix);
	}
	free(r);
	return -1;
}

static int new_file(struct rot *r)
{
	char ts[32];
	struct tm tm;

	r->opened = time(NULL);
	gmtime_r(&r->opened, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	r->seq++;
	snprintf(r->fin, sizeof(r->fin), "%s/%s-%s-%ld-%06u.mp", r->dir, r->prefix, ts,
		 (long)getpid(), r->seq);
	snprintf(r->tmp, sizeof(r->tmp), "%s/.%s-%s-%ld-%06u.mp.tmp", r->dir, r->prefix, ts,
		 (long)getpid(), r->seq);
	r->fd = open(r->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	r->file_bytes = r->file_recs = 0;
	if (r->fd >= 0 && flock(r->fd, LOCK_EX | LOCK_NB)) {
		close(r->fd); /* cannot happen: the file is new */
		unlink(r->tmp);
		r->fd = -1;
	}
	return r->fd < 0 ? -1 : 0;
}

/* Buffer to disk; on failure the file is cut back to its last whole record. */
static void rot_drain(struct gcp_sink *s)
{
	struct rot *r = s->priv;

	if (!r->blen)
		return;
	if (r->fd < 0 || gcp_sink_write_all(r->fd, r->buf, r->blen)) {
		s->st.dropped_error += r->buf_recs;
		if (r->fd >= 0 && ftruncate(r->fd, (off_t)r->file_bytes))
			s->st.dropped_error += r->file_recs, r->file_recs = 0;
	} else {
		r->file_bytes += r->blen;
		r->file_recs += r->buf_recs;
	}
	r->blen = 0;
	r->buf_recs = 0;
}

/* Close the open file and rename it into view (empty files are removed). */
static void rot_finish(struct gcp_sink *s)
{
	struct rot *r = s->priv;

	rot_drain(s);
	if (r->fd < 0)
		return;
	bool ok = !fsync(r->fd) || errno == EINVAL;
	ok = !close(r->fd) && ok;
	r->fd = -1;
	if (!r->file_recs || !ok || rename(r->tmp, r->fin)) {
		s->st.dropped_error += r->file_recs;
		unlink(r->tmp);
	} else {
		s->st.written += r->file_recs;
		s->st.bytes += r->file_bytes;
	}
	r->file_recs = r->file_bytes = 0;
}

static bool rot_due(const struct rot *r, size_t add)
{
	if (r->fd < 0)
		return false;
	uint64_t size = r->file_bytes + r->blen;
	if (r->max_bytes && size && size + add > r->max_bytes)
		return true;
	return r->max_secs && (uint64_t)(time(NULL) - r->opened) >= r->max_secs;
}

static void rot_write(struct gcp_sink *s, const struct gcp_sink_rec *rec)
{
	struct rot *r = s->priv;

	if (rot_due(r, rec->mp_len))
		rot_finish(s);
	if (r->fd < 0 && new_file(r)) {
		s->st.dropped_error++;
		return;
	}
	if (r->blen + rec->mp_len > RBUF)
		rot_drain(s);
	if (rec->mp_len > RBUF) { /* larger than the buffer: straight out */
		if (gcp_sink_write_all(r->fd, rec->mp, rec->mp_len)) {
			s->st.dropped_error++;
			if (ftruncate(r->fd, (off_t)r->file_bytes))
				s->st.dropped_error += r->file_recs, r->file_recs = 0;
			return;
		}
		r->file_bytes += rec->mp_len;
		r->file_recs++;
		return;
	}
	memcpy(r->buf + r->blen, rec->mp, rec->mp_len);
	r->blen += rec->mp_len;
	r->buf_recs++;
}

static void rot_flush(struct gcp_sink *s)
{
	struct rot *r = s->priv;

	rot_drain(s);
	if (rot_due(r, 0))
		rot_finish(s);
}

static void rot_reopen(struct gcp_sink *s)
{
	rot_finish(s);
}

static void rot_stats(struct gcp_sink *s)
{
	struct rot *r = s->priv;

	s->st.queued = r->file_recs + r->buf_recs;
}

static int rot_close(struct gcp_sink *s)
{
	struct rot *r = s->priv;

	rot_finish(s);
	free(r->buf);
	free(r->dir);
	free(r->prefix);
	free(r);
	s->priv = NULL;
	return 0;
}

const struct gcp_sink_ops gcp_sink_rotate = {
	.name = "rotate",
	.open = rot_open,
	.write = rot_write,
	.flush = rot_flush,
	.reopen = rot_reopen,
	.close = rot_close,
	.stats = rot_stats,
};
