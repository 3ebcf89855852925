/* SPDX-License-Identifier: BSD-3-Clause */
/* tcp:HOST:PORT and unix:PATH sinks: msgpack stream from a bounded queue, non-blocking, reconnecting. */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 100u
#define BACKOFF_MAX_MS 5000u

/*
 * Records go into a byte ring of queue_bytes (default 4 MiB); a record
 * that does not fit is dropped (dropped_full). The ring is sent with
 * non-blocking writes whenever a record comes in or at flush. A record
 * counts as written once its last byte went to the socket. When the
 * connection breaks, sending resumes at the first record not fully
 * sent, on a new connection, after a backoff (100 ms doubling to 5 s).
 */
struct stream {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int fd;                     /* -1: not connected */
	bool connecting;            /* tcp connect in progress */
	uint64_t retry_at_ms, backoff_ms, close_ms;
	uint8_t *q;                 /* ring of cap bytes */
	size_t cap;
	uint64_t head, tail;        /* bytes in at head, sent up to tail */
	uint64_t *ends;             /* ring of record end offsets */
	size_t ecap;
	uint64_t ehead, etail;
	uint64_t done;              /* end of the last record fully sent */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int parse_unix(struct stream *st, const char *path, size_t n, char *err, size_t errlen)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&st->addr;

	if (!n || n >= sizeof(un->sun_path)) {
		snprintf(err, errlen, "socket path empty or too long");
		return -1;
	}
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, path, n);
	st->addrlen = (socklen_t)sizeof(*un);
	return 0;
}

/* HOST:PORT, HOST may be [v6]. Resolved once, at open. */
static int parse_tcp(struct stream *st, const char *arg, size_t n, char *err, size_t errlen)
{
	char hp[512], *host = hp, *port;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;

	if (n >= sizeof(hp) || !(port = memrchr(arg, ':', n))) {
		snprintf(err, errlen, "want HOST:PORT");
		return -1;
	}
	memcpy(hp, arg, n);
	hp[n] = '\0';
	port = hp + (port - arg);
	*port++ = '\0';
	if (*host == '[' && port[-2] == ']') {
		host++;
		port[-2] = '\0';
	}
	int rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "%s: %s", hp, gai_strerror(rc));
		return -1;
	}
	memcpy(&st->addr, ai->ai_addr, ai->ai_addrlen);
	st->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int stream_params(struct stream *st, const char *q, char *err, size_t errlen)
{
	uint64_t qb = 4u << 20, cms = 2000;

	if (q && (!gcp_sink_param_u64(q, "queue_bytes", &qb, err, errlen) ||
		  !gcp_sink_param_u64(q, "close_ms", &cms, err, errlen)))
		return -1;
	if (qb < 4096 || qb > (1ull << 32)) {
		snprintf(err, errlen, "queue_bytes: %llu is not 4096..4 GiB", (unsigned long long)qb);
		return -1;
	}
	st->cap = (size_t)qb;
	st->ecap = st->cap / 16 > 1024 ? st->cap / 16 : 1024;
	st->close_ms = cms;
	st->q = malloc(st->cap);
	st->ends = malloc(st->ecap * sizeof(*st->ends));
	if (!st->q || !st->ends) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static void stream_free(struct stream *st)
{
	if (st->fd >= 0)
		close(st->fd);
	free(st->q);
	free(st->ends);
	free(st);
}

static int stream_open(struct gcp_sink *s, const char *arg, bool is_unix, char *err,
		       size_t errlen)
{
	struct stream *st = calloc(1, sizeof(*st));
	const char *q = strchr(arg, '?');
	size_t n = q ? (size_t)(q - arg) : strlen(arg);

	if (!st) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->fd = -1;
	st->backoff_ms = BACKOFF_MIN_MS;
	if ((is_unix ? parse_unix(st, arg, n, err, errlen) : parse_tcp(st, arg, n, err, errlen)) ||
	    stream_params(st, q ? q + 1 : NULL, err, errlen)) {
		stream_free(st);
		return -1;
	}
	s->priv = st;
	return 0;
}

static int unix_open(struct gcp_sink *s, const char *arg, char *err, size_t errlen)
{
	return stream_open(s, arg, true, err, errlen);
}

static int tcp_open(struct gcp_sink *s, const char *arg, char *err, size_t errlen)
{
	return stream_open(s, arg, false, err, errlen);
}

/* Drop the connection; resend from the first record not fully sent. */
static void disconnect(struct stream *st)
{
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
	st->connecting = false;
	st->tail = st->done;
	st->retry_at_ms = now_ms() + st->backoff_ms;
	st->backoff_ms = st->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : st->backoff_ms * 2;
}

static void try_connect(struct stream *st)
{
	if (st->fd >= 0 || now_ms() < st->retry_at_ms)
		return;
	st->fd = socket(st->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (st->fd < 0) {
		disconnect(st);
		return;
	}
	if (!connect(st->fd, (struct sockaddr *)&st->addr, st->addrlen))
		return;
	if (errno == EINPROGRESS)
		st->connecting = true;
	else
		disconnect(st);
}

/* Has a tcp connect finished? true when the socket can be written. */
static bool connected(struct stream *st)
{
	if (st->fd < 0)
		return false;
	if (!st->connecting)
		return true;
	struct pollfd p = { .fd = st->fd, .events = POLLOUT };
	if (poll(&p, 1, 0) <= 0)
		return false;
	int e = 0;
	socklen_t l = sizeof(e);
	if (getsockopt(st->fd, SOL_SOCKET, SO_ERROR, &e, &l) || e) {
		disconnect(st);
		return false;
	}
	st->connecting = false;
	return true;
}

/* Count records whose last byte is out. */
static void settle(struct gcp_sink *s)
{
	struct stream *st = s->priv;

	while (st->etail != st->ehead) {
		uint64_t end = st->ends[st->etail % st->ecap];
		if (end > st->tail)
			break;
		s->st.written++;
		s->st.bytes += end - st->done;
		st->done = end;
		st->etail++;
	}
	st->backoff_ms = BACKOFF_MIN_MS;
}

/* Non-blocking send of what is queued, until the socket would block. */
static void pump(struct gcp_sink *s)
{
	struct stream *st = s->priv;

	try_connect(st);
	while (st->tail < st->head && connected(st)) {
		size_t off = st->tail % st->cap;
		size_t n = st->head - st->tail;
		if (n > st->cap - off)
			n = st->cap - off;
		ssize_t k = send(st->fd, st->q + off, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (k <= 0) {
			disconnect(st);
			break;
		}
		st->tail += (uint64_t)k;
		settle(s);
	}
}

static void stream_write(struct gcp_sink *s, const struct gcp_sink_rec *r)
{
	struct stream *st = s->priv;

	pump(s);
	uint64_t done = st->done;
	/* Bytes of records not fully sent stay queued, sent or not. */
	if (st->head - done + r->mp_len > st->cap || st->ehead - st->etail == st->ecap) {
		s->st.dropped_full++;
		return;
	}
	for (size_t i = 0; i < r->mp_len;) {
		size_t off = (st->head + i) % st->cap;
		size_t n = r->mp_len - i < st->cap - off ? r->mp_len - i : st->cap - off;
		memcpy(st->q + off, r->mp + i, n);
		i += n;
	}
	st->head += r->mp_len;
	st->ends[st->ehead++ % st->ecap] = st->head;
	if (st->head - done > s->st.queued_max)
		s->st.queued_max = st->head - done;
	pump(s);
}

static void stream_flush(struct gcp_sink *s)
{
	pump(s);
}

static void stream_reopen(struct gcp_sink *s)
{
	struct stream *st = s->priv;

	disconnect(st);
	st->retry_at_ms = 0;
	st->backoff_ms = BACKOFF_MIN_MS;
	pump(s);
}

static void stream_stats(struct gcp_sink *s)
{
	struct stream *st = s->priv;

	s->st.queued = st->ehead - st->etail;
}

/* Send for up to close_ms; what is still queued then counts as dropped_error. */
static int stream_close(struct gcp_sink *s)
{
	struct stream *st = s->priv;
	uint64_t deadline = now_ms() + st->close_ms;

	for (;;) {
		pump(s);
		uint64_t t = now_ms();
		if (st->etail == st->ehead || t >= deadline)
			break;
		if (st->fd >= 0) {
			struct pollfd p = { .fd = st->fd, .events = POLLOUT };
			poll(&p, 1, (int)(deadline - t < 50 ? deadline - t : 50));
		} else {
			struct timespec ts = { 0, 20 * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	s->st.dropped_error += st->ehead - st->etail;
	stream_free(st);
	s->priv = NULL;
	return 0;
}

const struct gcp_sink_ops gcp_sink_tcp = {
	.name = "tcp",
	.open = tcp_open,
	.write = stream_write,
	.flush = stream_flush,
	.reopen = stream_reopen,
	.close = stream_close,
	.stats = stream_stats,
};

const struct gcp_sink_ops gcp_sink_unix = {
	.name = "unix",
	.open = unix_open,
	.write = stream_write,
	.flush = stream_flush,
	.reopen = stream_reopen,
	.close = stream_close,
	.stats = stream_stats,
};
