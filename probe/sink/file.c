/* SPDX-License-Identifier: BSD-3-Clause */
/* file:PATH sink (and stdout): JSON lines or MessagePack, as --output always wrote. */
#include "sink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define OUT_BUF (1u << 20)

struct file_sink {
	FILE *out;
	char *path;          /* NULL: stdout */
	uint64_t pending;    /* records in the stdio buffer since the last flush */
	uint64_t pending_bytes;
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

static int file_open(struct gcp_sink *s, const char *arg, char *err, size_t errlen)
{
	struct file_sink *f = calloc(1, sizeof(*f));
	const char *q = strchr(arg, '?');
	size_t n = q ? (size_t)(q - arg) : strlen(arg);

	if (!f || file_format(s, q ? q + 1 : NULL, err, errlen)) {
		if (!f)
			snprintf(err, errlen, "out of memory");
		free(f);
		return -1;
	}
	if (n && !(n == 1 && arg[0] == '-'))
		f->path = strndup(arg, n);
	f->out = f->path ? fopen(f->path, "wb") : stdout;
	if (!f->out) {
		snprintf(err, errlen, "cannot open output %s: %s", f->path, strerror(errno));
		free(f->path);
		free(f);
		return -1;
	}
	setvbuf(f->out, NULL, _IOFBF, OUT_BUF);
	s->priv = f;
	return 0;
}

/* Records in the stdio buffer count as written once it reached the file. */
static void file_settle(struct gcp_sink *s, bool ok)
{
	struct file_sink *f = s->priv;

	if (ok) {
		s->st.written += f->pending;
		s->st.bytes += f->pending_bytes;
	} else {
		s->st.dropped_error += f->pending;
	}
	f->pending = f->pending_bytes = 0;
}

static void file_write(struct gcp_sink *s, const struct gcp_sink_rec *r)
{
	struct file_sink *f = s->priv;
	const void *p = s->json ? (const void *)r->json : (const void *)r->mp;
	size_t n = s->json ? r->json_len : r->mp_len;

	if (s->err) {
		s->st.dropped_error++;
		return;
	}
	if (fwrite(p, 1, n, f->out) != n) {
		s->err = errno ? errno : EIO;
		s->st.dropped_error++;
		file_settle(s, false);
		return;
	}
	f->pending++;
	f->pending_bytes += n;
	if (f->pending_bytes >= OUT_BUF)
		file_settle(s, true); /* the buffer has gone out at least once */
}

static void file_flush(struct gcp_sink *s)
{
	struct file_sink *f = s->priv;

	if (s->err)
		return;
	if (fflush(f->out)) {
		s->err = errno ? errno : EIO;
		file_settle(s, false);
		return;
	}
	file_settle(s, true);
}

/* SIGHUP: a rotated-away file is closed and PATH opened again (appending). */
static void file_reopen(struct gcp_sink *s)
{
	struct file_sink *f = s->priv;

	if (!f->path || s->err)
		return;
	file_flush(s);
	FILE *nf = freopen(f->path, "ab", f->out);
	if (!nf) {
		s->err = errno ? errno : EIO;
		f->out = NULL;
		return;
	}
	f->out = nf;
	setvbuf(f->out, NULL, _IOFBF, OUT_BUF);
}

static int file_close(struct gcp_sink *s)
{
	struct file_sink *f = s->priv;
	int rc = 0;

	if (f->out)
		rc = f->out == stdout ? fflush(f->out) : fclose(f->out);
	if (rc && !s->err)
		s->err = errno ? errno : EIO;
	file_settle(s, !s->err);
	free(f->path);
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
};
