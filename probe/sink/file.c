/* SPDX-License-Identifier: BSD-3-Clause */
/* file:PATH sink (and stdout): JSON lines or MessagePack, whole records per write(2), never clobbering. */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT_BUF (1u << 20)
#define MAX_SUFFIX 9999u

/*
 * Records collect in a buffer of whole records that goes out with one
 * write(2) when full, on flush and at close (no stdio: its buffer would
 * split a record at an arbitrary byte). The kernel keeps what write()
 * returned even if the process is then killed, so a crash leaves whole
 * records and at most one torn record at the end.
 *
 * An existing non-empty PATH is never overwritten or appended to at
 * start (a restart after a crash must not lose the records before it):
 * the run writes PATH.1 (or the first free PATH.N) instead, with an
 * info line. ?exists=truncate restores overwriting. SIGHUP reopens the
 * same name in append mode (log rotation moves the file first).
 */
struct file_sink {
	int fd;
	char *path;          /* NULL: stdout */
	uint8_t *buf;
	size_t blen;
	uint64_t pending;    /* records in buf */
};

/* ?format=json|msgpack, else --format. */
static int file_format(struct gcp_sink *s, const char *query, char *err, size_t errlen)
{
	char fmt[16];

	s->json = !s->msgpack_default;
	if (!query || !gcp_sink_param(query, "format", fmt, sizeof(fmt)))
		return 0;
	if (strcmp(fmt, "json") && strcmp(fmt, "msgpack")) {
		snprintf(err, errlen, "format: '%s' is not json or msgpack", fmt);
		return -1;
	}
	s->json = !strcmp(fmt, "json");
	return 0;
}

/* ?exists=new (default) | truncate. */
static int file_exists_mode(const char *query, bool *truncate, char *err, size_t errlen)
{
	char v[16];

	*truncate = false;
	if (!query || !gcp_sink_param(query, "exists", v, sizeof(v)))
		return 0;
	if (strcmp(v, "new") && strcmp(v, "truncate")) {
		snprintf(err, errlen, "exists: '%s' is not new or truncate", v);
		return -1;
	}
	*truncate = !strcmp(v, "truncate");
	return 0;
}

/* PATH if it is absent, empty or not a regular file (a pipe, /dev/null),
 * else the first PATH.N that does not exist. */
static int open_fresh(struct file_sink *f, char *err, size_t errlen)
{
	char name[PATH_MAX] = "";
	struct stat sb;

	f->fd = open(f->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (f->fd >= 0 && (fstat(f->fd, &sb) || !S_ISREG(sb.st_mode) || !sb.st_size))
		return 0;
	if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
		for (unsigned i = 1; i <= MAX_SUFFIX && f->fd < 0; i++) {
			snprintf(name, sizeof(name), "%s.%u", f->path, i);
			f->fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (f->fd < 0 && errno != EEXIST)
				break;
		}
	}
	if (f->fd < 0) {
		snprintf(err, errlen, "cannot open output %s: %s", name[0] ? name : f->path,
			 strerror(errno));
		return -1;
	}
	fprintf(stderr, "gcprobe: info: %s exists: records go to %s\n", f->path, name);
	free(f->path);
	if (!(f->path = strdup(name))) {
		close(f->fd);
		f->fd = -1;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int file_open(struct gcp_sink *s, const char *arg, char *err, size_t errlen)
{
	struct file_sink *f = calloc(1, sizeof(*f));
	const char *q = strchr(arg, '?');
	size_t n = q ? (size_t)(q - arg) : strlen(arg);
	bool truncate;

	if (!f || !(f->buf = malloc(OUT_BUF)) || file_format(s, q ? q + 1 : NULL, err, errlen) ||
	    file_exists_mode(q ? q + 1 : NULL, &truncate, err, errlen))
		goto fail;
	f->fd = STDOUT_FILENO;
	if (n && !(n == 1 && arg[0] == '-')) {
		if (!(f->path = strndup(arg, n)))
			goto fail;
		if (truncate)
			f->fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (truncate ? f->fd < 0 : open_fresh(f, err, errlen)) {
			if (!err[0])
				snprintf(err, errlen, "cannot open output %s: %s", f->path,
					 strerror(errno));
			goto fail;
		}
	}
	s->priv = f;
	return 0;
fail:
	if (!err[0])
		snprintf(err, errlen, "out of memory");
	if (f) {
		free(f->path);
		free(f->buf);
	}
	free(f);
	return -1;
}

/* The buffer out in one write: its records count as written, or all as errors. */
static void file_drain(struct gcp_sink *s)
{
	struct file_sink *f = s->priv;

	if (!f->blen)
		return;
	if (s->err || gcp_sink_write_all(f->fd, f->buf, f->blen)) {
		if (!s->err)
			s->err = errno ? errno : EIO;
		s->st.dropped_error += f->pending;
	} else {
		s->st.written += f->pending;
		s->st.bytes += f->blen;
	}
	f->blen = 0;
	f->pending = 0;
}

static void file_write(struct gcp_sink *s, const struct gcp_sink_rec *r)
{
	struct file_sink *f = s->priv;
	const uint8_t *p = s->json ? (const uint8_t *)r->json : r->mp;
	size_t n = s->json ? r->json_len : r->mp_len;

	if (s->err) {
		s->st.dropped_error++;
		return;
	}
	if (f->blen + n > OUT_BUF)
		file_drain(s);
	if (n > OUT_BUF) { /* larger than the buffer: straight out */
		if (s->err || gcp_sink_write_all(f->fd, p, n)) {
			if (!s->err)
				s->err = errno ? errno : EIO;
			s->st.dropped_error++;
			return;
		}
		s->st.written++;
		s->st.bytes += n;
		return;
	}
	memcpy(f->buf + f->blen, p, n);
	f->blen += n;
	f->pending++;
}

static void file_flush(struct gcp_sink *s)
{
	file_drain(s);
}

/* SIGHUP: a rotated-away file is closed and PATH opened again (appending). */
static void file_reopen(struct gcp_sink *s)
{
	struct file_sink *f = s->priv;

	if (!f->path || s->err)
		return;
	file_drain(s);
	close(f->fd);
	f->fd = open(f->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (f->fd < 0)
		s->err = errno ? errno : EIO;
}

static void file_stats(struct gcp_sink *s)
{
	struct file_sink *f = s->priv;

	s->st.queued = f->pending;
}

static int file_close(struct gcp_sink *s)
{
	struct file_sink *f = s->priv;

	file_drain(s);
	if (f->path && f->fd >= 0 && close(f->fd) && !s->err)
		s->err = errno ? errno : EIO;
	free(f->path);
	free(f->buf);
	free(f);
	s->priv = NULL;
	return s->err ? -1 : 0;
}

const struct gcp_sink_ops gcp_sink_file = {
	.name = "file",
	.open = file_open,
	.write = file_write,
	.flush = file_flush,
	.reopen = file_reopen,
	.close = file_close,
	.stats = file_stats,
};
