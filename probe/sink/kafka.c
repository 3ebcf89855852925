/* SPDX-License-Identifier: BSD-3-Clause */
/* kafka:BROKERS sink: librdkafka producer, topic per record type, key = flow id, delivery reports counted. */
#include "sink.h"

#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#define NTYPES 32

/*
 * Record of type T goes to topic <topic_prefix>T (default prefix
 * "gcp."), key = flow_id as 8 bytes big-endian (no key when 0).
 * librdkafka's queue is bounded by queue_kbytes (queue.buffering.max.kbytes,
 * default 16384) and queue.buffering.max.messages; a record it refuses
 * (queue full) is dropped_full at once, never waited for. written and
 * dropped_error come from delivery reports; at close the producer is
 * flushed for flush_ms (default 10000) and what is still undelivered
 * counts as dropped_error. Any "kafka.NAME=VALUE" parameter is passed
 * to librdkafka as NAME=VALUE.
 */
struct kafka {
	rd_kafka_t *rk;
	rd_kafka_topic_t *topics[NTYPES];
	char prefix[128];
	uint64_t flush_ms;
	uint64_t produced;          /* accepted by rd_kafka_produce */
	uint64_t reported;          /* delivery reports seen */
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct gcp_sink *s = opaque;
	struct kafka *k = s->priv;

	(void)rk;
	k->reported++;
	if (m->err) {
		s->st.dropped_error++;
		return;
	}
	s->st.written++;
	s->st.bytes += m->len;
}

/* librdkafka's log lines in gcprobe's form, errors and warnings only. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	if (level <= 4)
		fprintf(stderr, "gcprobe: warning: kafka: %s: %s\n", fac, buf);
}

static int conf_set(rd_kafka_conf_t *c, const char *k, const char *v, char *err, size_t errlen)
{
	char why[256];

	if (rd_kafka_conf_set(c, k, v, why, sizeof(why)) == RD_KAFKA_CONF_OK)
		return 0;
	snprintf(err, errlen, "%s=%s: %s", k, v, why);
	return -1;
}

/* kafka.NAME=VALUE parameters, passed through. */
static int pass_through(rd_kafka_conf_t *c, const char *q, char *err, size_t errlen)
{
	char kv[512];

	while (q && *q) {
		size_t n = strcspn(q, "&");
		if (n > 6 && n < sizeof(kv) && !strncmp(q, "kafka.", 6)) {
			memcpy(kv, q + 6, n - 6);
			kv[n - 6] = '\0';
			char *eq = strchr(kv, '=');
			if (!eq) {
				snprintf(err, errlen, "'%s': want kafka.NAME=VALUE", kv);
				return -1;
			}
			*eq = '\0';
			if (conf_set(c, kv, eq + 1, err, errlen))
				return -1;
		}
		q += n;
		if (*q == '&')
			q++;
	}
	return 0;
}

static rd_kafka_conf_t *make_conf(struct gcp_sink *s, const char *brokers, const char *q,
				  char *err, size_t errlen)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	uint64_t kb = 16384;
	char num[32];

	if (q && !gcp_sink_param_u64(q, "queue_kbytes", &kb, err, errlen))
		goto fail;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)kb);
	if ((brokers[0] && conf_set(c, "bootstrap.servers", brokers, err, errlen)) ||
	    conf_set(c, "queue.buffering.max.kbytes", num, err, errlen) ||
	    conf_set(c, "linger.ms", "20", err, errlen) ||
	    pass_through(c, q, err, errlen))
		goto fail;
	rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
	rd_kafka_conf_set_log_cb(c, on_log);
	rd_kafka_conf_set_opaque(c, s);
	return c;
fail:
	rd_kafka_conf_destroy(c);
	return NULL;
}

static int kafka_open(struct gcp_sink *s, const char *arg, char *err, size_t errlen)
{
	struct kafka *k = calloc(1, sizeof(*k));
	const char *q = strchr(arg, '?');
	char brokers[1024];
	size_t n = q ? (size_t)(q - arg) : strlen(arg);

	if (!k || n >= sizeof(brokers)) {
		snprintf(err, errlen, k ? "broker list too long" : "out of memory");
		free(k);
		return -1;
	}
	memcpy(brokers, arg, n);
	brokers[n] = '\0';
	q = q ? q + 1 : NULL;
	snprintf(k->prefix, sizeof(k->prefix), "gcp.");
	if (q)
		gcp_sink_param(q, "topic_prefix", k->prefix, sizeof(k->prefix));
	k->flush_ms = 10000;
	rd_kafka_conf_t *c = NULL;
	if ((q && !gcp_sink_param_u64(q, "flush_ms", &k->flush_ms, err, errlen)) ||
	    !(c = make_conf(s, brokers, q, err, errlen))) {
		free(k);
		return -1;
	}
	char why[512];
	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, why, sizeof(why));
	if (!k->rk) {
		rd_kafka_conf_destroy(c);
		snprintf(err, errlen, "%s", why);
		free(k);
		return -1;
	}
	s->priv = k;
	return 0;
}

static rd_kafka_topic_t *topic_for(struct kafka *k, enum gcp_record_type type)
{
	unsigned i = (unsigned)__builtin_ctz((unsigned)type | 0x80000000u);

	if (!k->topics[i]) {
		char name[256];
		snprintf(name, sizeof(name), "%s%s", k->prefix, gcp_record_type_name(type));
		k->topics[i] = rd_kafka_topic_new(k->rk, name, NULL);
	}
	return k->topics[i];
}

static void kafka_write(struct gcp_sink *s, const struct gcp_sink_rec *r)
{
	struct kafka *k = s->priv;
	rd_kafka_topic_t *t = topic_for(k, r->type);
	uint8_t key[8];

	for (int i = 0; i < 8; i++)
		key[i] = (uint8_t)(r->flow_id >> (56 - 8 * i));
	if (!t) {
		s->st.dropped_error++;
		return;
	}
	if (rd_kafka_produce(t, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)r->mp,
			     r->mp_len, r->flow_id ? key : NULL, r->flow_id ? 8 : 0, NULL)) {
		if (rd_kafka_last_error() == RD_KAFKA_RESP_ERR__QUEUE_FULL)
			s->st.dropped_full++;
		else
			s->st.dropped_error++;
	} else {
		k->produced++;
	}
	rd_kafka_poll(k->rk, 0); /* delivery reports */
}

static void kafka_flush(struct gcp_sink *s)
{
	struct kafka *k = s->priv;

	rd_kafka_poll(k->rk, 0);
}

static void kafka_stats(struct gcp_sink *s)
{
	struct kafka *k = s->priv;

	s->st.queued = k->produced - k->reported; /* awaiting a delivery report */
}

static int kafka_close(struct gcp_sink *s)
{
	struct kafka *k = s->priv;

	rd_kafka_flush(k->rk, (int)k->flush_ms);
	/* Undelivered after the flush: purged, reported failed, counted. */
	rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_poll(k->rk, 0);
	if (k->produced > k->reported)
		s->st.dropped_error += k->produced - k->reported;
	for (unsigned i = 0; i < NTYPES; i++)
		if (k->topics[i])
			rd_kafka_topic_destroy(k->topics[i]);
	rd_kafka_destroy(k->rk);
	free(k);
	s->priv = NULL;
	return 0;
}

const struct gcp_sink_ops gcp_sink_kafka = {
	.name = "kafka",
	.open = kafka_open,
	.write = kafka_write,
	.flush = kafka_flush,
	.close = kafka_close,
	.stats = kafka_stats,
};
