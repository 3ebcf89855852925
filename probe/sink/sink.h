/* SPDX-License-Identifier: BSD-3-Clause */
/* Record sinks: file, rotating msgpack files, tcp/unix stream, Kafka; bounded, with counted drops. */
#ifndef GCPROBE_SINK_H
#define GCPROBE_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gcprobe/gcprobe.h"

/*
 * Books: every record handed to a sink ends up in exactly one of
 * written, dropped_full (bounded queue full) or dropped_error (I/O or
 * delivery failure, or still queued at close). After close,
 * written + dropped_full + dropped_error == records handed in.
 */
struct gcp_sink_stats {
	uint64_t written;
	uint64_t dropped_full;
	uint64_t dropped_error;
	uint64_t bytes;        /* bytes of written records */
	uint64_t queued_max;   /* high-water mark of queued bytes (bounded sinks) */
	uint64_t queued;       /* records held, not yet written or dropped (refreshed by stats) */
};

/* One record as a sink sees it; json is set when a sink asked for JSON. */
struct gcp_sink_rec {
	const uint8_t *mp;
	size_t mp_len;
	const char *json;      /* one line with '\n', or NULL */
	size_t json_len;
	enum gcp_record_type type;
	uint64_t flow_id;
};

struct gcp_sink;

struct gcp_sink_ops {
	const char *name;      /* spec scheme: "file", "rotate", ... */
	/* arg: the spec after "scheme:"; err gets one line on failure. */
	int (*open)(struct gcp_sink *s, const char *arg, char *err, size_t errlen);
	void (*write)(struct gcp_sink *s, const struct gcp_sink_rec *r);
	void (*flush)(struct gcp_sink *s);
	void (*reopen)(struct gcp_sink *s);   /* SIGHUP: new file / reconnect */
	/* Final flush; what could not be written is counted dropped_error.
	 * Returns 0, or -1 with s->err set when the sink's output failed. */
	int (*close)(struct gcp_sink *s);
	void (*stats)(struct gcp_sink *s);    /* optional: refresh s->st */
};

struct gcp_sink {
	const struct gcp_sink_ops *ops;
	const char *spec;
	bool json;             /* wants rec->json */
	bool msgpack_default;  /* --format msgpack: file sinks default to it */
	int err;               /* first fatal errno (file sinks end the run) */
	struct gcp_sink_stats st;
	void *priv;
};

/* The sinks of one run; writes go to all, under the caller's lock. */
struct gcp_sinkset {
	struct gcp_sink *v;
	unsigned n;
	bool want_json;        /* some sink takes JSON: render it */
	bool finished;         /* gcp_sinkset_finish ran: counters final */
	uint64_t produced;
};

/* write(2) all of p (EINTR retried): 0, or -1 with errno set (0 on a zero-length write). */
int gcp_sink_write_all(int fd, const uint8_t *p, size_t n);

/* Opens each spec; def_msgpack: --format msgpack. One error line in err. */
int gcp_sinkset_open(struct gcp_sinkset *set, const char *const *specs, unsigned n,
		     bool def_msgpack, char *err, size_t errlen);
void gcp_sinkset_write(struct gcp_sinkset *set, const struct gcp_sink_rec *r);
void gcp_sinkset_flush(struct gcp_sinkset *set);
void gcp_sinkset_reopen(struct gcp_sinkset *set);
/* First fatal errno of a sink that ends the run (file output), else 0. */
int gcp_sinkset_failed(const struct gcp_sinkset *set, const char **name);
/* Closes every sink (what is still queued becomes dropped_error); the
 * counters stay readable until gcp_sinkset_close. -1 on failure, after
 * one error line each on stderr. */
int gcp_sinkset_finish(struct gcp_sinkset *set);
/* Finishes (if not yet), prints the final counters to stats when not
 * NULL (see below) and frees; returns -1 on failure. */
int gcp_sinkset_close(struct gcp_sinkset *set, FILE *stats);
/* Refreshes every sink's counters; true when each one's books balance:
 * written + dropped_full + dropped_error + queued == produced. */
bool gcp_sinkset_balanced(struct gcp_sinkset *set);
/* {"sinks":[{"sink":SPEC,"written":..,...}]} on one line. */
void gcp_sinkset_print_stats(struct gcp_sinkset *set, FILE *f);

/* JSON of one record into *buf (grown as needed); length or GCP_ERR_*. */
int gcp_sink_render_json(const uint8_t *mp, size_t len, char **buf, size_t *cap);

/* Spec parameters: "k=v&k=v" after '?'. Returns false on a bad value. */
bool gcp_sink_param(const char *query, const char *key, char *val, size_t vlen);
bool gcp_sink_param_u64(const char *query, const char *key, uint64_t *v, char *err,
			size_t errlen);

/* What a MessagePack stream holds: whole records (top-level maps), then
 * at most a torn tail (a record cut short), or corrupt bytes at bad_at. */
struct gcp_mp_scan {
	uint64_t records;
	size_t whole;          /* bytes of whole records from the start */
	size_t tail;           /* bytes after them: a torn record (bad == false) */
	bool bad;              /* not a torn tail: undecodable or not a map */
};
void gcp_mp_scan(const uint8_t *p, size_t n, struct gcp_mp_scan *out);

extern const struct gcp_sink_ops gcp_sink_file;
extern const struct gcp_sink_ops gcp_sink_rotate;
extern const struct gcp_sink_ops gcp_sink_tcp;
extern const struct gcp_sink_ops gcp_sink_unix;
#ifdef GCP_WITH_KAFKA
extern const struct gcp_sink_ops gcp_sink_kafka;
#endif

#endif /* GCPROBE_SINK_H */
