/* SPDX-License-Identifier: BSD-3-Clause */
/* Sink set: spec parsing, fan-out of each record to every sink, counters. */
#include "sink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JSON_BUF_MIN (64u * 1024u)
#define JSON_BUF_MAX (256u * 1024u * 1024u)

static const struct gcp_sink_ops *const all_ops[] = {
	&gcp_sink_file, &gcp_sink_rotate, &gcp_sink_tcp, &gcp_sink_unix,
#ifdef GCP_WITH_KAFKA
	&gcp_sink_kafka,
#endif
};

bool gcp_sink_param(const char *query, const char *key, char *val, size_t vlen)
{
	size_t kl = strlen(key);
	const char *p = query;

	while (p && *p) {
		size_t n = strcspn(p, "&");
		if (n > kl && p[kl] == '=' && !strncmp(p, key, kl)) {
			size_t vl = n - kl - 1;
			if (vl >= vlen)
				vl = vlen - 1;
			memcpy(val, p + kl + 1, vl);
			val[vl] = '\0';
			return true;
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return false;
}

bool gcp_sink_param_u64(const char *query, const char *key, uint64_t *v, char *err,
			size_t errlen)
{
	char buf[32], *end;

	if (!gcp_sink_param(query, key, buf, sizeof(buf)))
		return true;
	errno = 0;
	unsigned long long x = buf[0] >= '0' && buf[0] <= '9' ? strtoull(buf, &end, 10) : 0;
	if (buf[0] < '0' || buf[0] > '9' || errno || *end) {
		snprintf(err, errlen, "%s: '%s' is not a non-negative integer", key, buf);
		return false;
	}
	*v = x;
	return true;
}

int gcp_sink_render_json(const uint8_t *mp, size_t len, char **buf, size_t *cap)
{
	for (;;) {
		int n = gcp_record_to_json(mp, len, *buf, *cap, GCP_JSON_DEFAULT);
		if (n != GCP_ERR_FULL || *cap >= JSON_BUF_MAX)
			return n;
		size_t c = *cap ? *cap * 2 : JSON_BUF_MIN;
		char *p = realloc(*buf, c);
		if (!p)
			return GCP_ERR_NOMEM;
		*buf = p;
		*cap = c;
	}
}

int gcp_sink_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* "stdout" is file:- ; otherwise "scheme:arg". */
static const struct gcp_sink_ops *find_ops(const char *spec, const char **arg)
{
	if (!strcmp(spec, "stdout") || !strcmp(spec, "-")) {
		*arg = "-";
		return &gcp_sink_file;
	}
	size_t n = strcspn(spec, ":");
	if (!spec[n])
		return NULL;
	*arg = spec + n + 1;
	for (size_t i = 0; i < sizeof(all_ops) / sizeof(all_ops[0]); i++)
		if (strlen(all_ops[i]->name) == n && !strncmp(spec, all_ops[i]->name, n))
			return all_ops[i];
	return NULL;
}

static int open_one(struct gcp_sink *s, const char *spec, bool def_msgpack, char *err,
		    size_t errlen)
{
	const char *arg;
	char why[256] = "";

	s->spec = spec;
	s->msgpack_default = def_msgpack;
	s->ops = find_ops(spec, &arg);
	if (!s->ops) {
		snprintf(err, errlen, "--sink '%s': unknown kind (file:, rotate:, tcp:, unix:%s)",
			 spec,
#ifdef GCP_WITH_KAFKA
			 ", kafka:"
#else
			 "; built without Kafka"
#endif
		);
		return -1;
	}
	if (s->ops->open(s, arg, why, sizeof(why))) {
		snprintf(err, errlen, "--sink '%s': %s", spec, why);
		s->ops = NULL;
		return -1;
	}
	return 0;
}

int gcp_sinkset_open(struct gcp_sinkset *set, const char *const *specs, unsigned n,
		     bool def_msgpack, char *err, size_t errlen)
{
	memset(set, 0, sizeof(*set));
	set->v = calloc(n ? n : 1, sizeof(*set->v));
	if (!set->v) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		if (open_one(&set->v[i], specs[i], def_msgpack, err, errlen)) {
			set->n = i;
			gcp_sinkset_close(set, NULL);
			return -1;
		}
		set->n = i + 1;
		set->want_json |= set->v[i].json;
	}
	return 0;
}

void gcp_sinkset_write(struct gcp_sinkset *set, const struct gcp_sink_rec *r)
{
	set->produced++;
	for (unsigned i = 0; i < set->n; i++) {
		struct gcp_sink *s = &set->v[i];
		if (s->json && !r->json)
			s->st.dropped_error++; /* would not render */
		else
			s->ops->write(s, r);
	}
}

void gcp_sinkset_flush(struct gcp_sinkset *set)
{
	for (unsigned i = 0; i < set->n; i++)
		if (set->v[i].ops->flush)
			set->v[i].ops->flush(&set->v[i]);
}

void gcp_sinkset_reopen(struct gcp_sinkset *set)
{
	for (unsigned i = 0; i < set->n; i++)
		if (set->v[i].ops->reopen)
			set->v[i].ops->reopen(&set->v[i]);
}

int gcp_sinkset_failed(const struct gcp_sinkset *set, const char **name)
{
	for (unsigned i = 0; i < set->n; i++) {
		if (set->v[i].err) {
			if (name)
				*name = set->v[i].spec;
			return set->v[i].err;
		}
	}
	return 0;
}

int gcp_sinkset_finish(struct gcp_sinkset *set)
{
	int rc = 0;

	if (set->finished)
		return 0;
	set->finished = true;
	for (unsigned i = 0; i < set->n; i++) {
		struct gcp_sink *s = &set->v[i];
		if (s->ops->close(s) || s->err) {
			fprintf(stderr, "gcprobe: error: writing %s: %s\n", s->spec,
				strerror(s->err ? s->err : EIO));
			rc = -1;
		}
		s->st.queued = 0; /* close counted what was left as dropped_error */
	}
	return rc;
}

int gcp_sinkset_close(struct gcp_sinkset *set, FILE *stats)
{
	int rc = set->finished ? 0 : gcp_sinkset_finish(set);

	if (stats)
		gcp_sinkset_print_stats(set, stats);
	free(set->v);
	set->v = NULL;
	set->n = 0;
	return rc;
}

static void refresh(struct gcp_sink *s)
{
	if (s->ops->stats && s->priv)
		s->ops->stats(s); /* still open */
}

bool gcp_sinkset_balanced(struct gcp_sinkset *set)
{
	bool ok = true;

	for (unsigned i = 0; i < set->n; i++) {
		struct gcp_sink *s = &set->v[i];
		refresh(s);
		ok &= s->st.written + s->st.dropped_full + s->st.dropped_error + s->st.queued ==
		      set->produced;
	}
	return ok;
}

/* A JSON string: the spec as given, escaped. */
static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void gcp_sinkset_print_stats(struct gcp_sinkset *set, FILE *f)
{
	fprintf(f, "{\"sinks\":[");
	for (unsigned i = 0; i < set->n; i++) {
		struct gcp_sink *s = &set->v[i];
		refresh(s);
		fprintf(f, "%s{\"sink\":", i ? "," : "");
		put_str(f, s->spec);
		fprintf(f, ",\"kind\":\"%s\",\"produced\":%llu,\"written\":%llu,"
			"\"dropped_full\":%llu,\"dropped_error\":%llu,\"bytes\":%llu,"
			"\"queued\":%llu,\"queued_max\":%llu}",
			s->ops->name, (unsigned long long)set->produced,
			(unsigned long long)s->st.written, (unsigned long long)s->st.dropped_full,
			(unsigned long long)s->st.dropped_error, (unsigned long long)s->st.bytes,
			(unsigned long long)s->st.queued, (unsigned long long)s->st.queued_max);
	}
	fprintf(f, "]}\n");
}
