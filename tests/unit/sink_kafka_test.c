/* SPDX-License-Identifier: BSD-3-Clause */
/* kafka: sink against librdkafka's mock cluster: every record of demo.pcap consumed back, keyed by flow id. */
#include "sink_drv.h"

#ifdef GCP_WITH_KAFKA
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static rd_kafka_t *new_handle(rd_kafka_type_t type, const char *bootstraps)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	char err[256];

	if (bootstraps) {
		rd_kafka_conf_set(c, "bootstrap.servers", bootstraps, err, sizeof(err));
		rd_kafka_conf_set(c, "group.id", "gcp-test", err, sizeof(err));
		rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof(err));
	}
	rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof(err));
	cr_assert_not_null(rk, "%s", err);
	return rk;
}

/* Assigns every partition of topic from the beginning. */
static void assign_all(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *tl, const char *topic)
{
	rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md;

	cr_assert_eq(rd_kafka_metadata(rk, 0, t, &md, 5000), RD_KAFKA_RESP_ERR_NO_ERROR);
	cr_assert_eq(md->topic_cnt, 1);
	for (int p = 0; p < md->topics[0].partition_cnt; p++)
		rd_kafka_topic_partition_list_add(tl, topic, md->topics[0].partitions[p].id)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(t);
}

/* Flow id of the record as the sink keys it: 8 bytes big-endian. */
static uint64_t key_id(const rd_kafka_message_t *m)
{
	uint64_t v = 0;

	cr_assert(m->key_len == 8 || m->key_len == 0);
	for (size_t i = 0; i < m->key_len; i++)
		v = v << 8 | ((const uint8_t *)m->key)[i];
	return v;
}

Test(sink_kafka, demo_consumed_back)
{
	rd_kafka_t *mrk = new_handle(RD_KAFKA_PRODUCER, NULL);
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 1);
	cr_assert_not_null(mc);
	const char *bs = rd_kafka_mock_cluster_bootstraps(mc);
	char spec[512], err[512] = "";
	const char *specs[1] = { spec };
	struct gcp_sinkset set;
	static struct drv_demo d;

	snprintf(spec, sizeof(spec), "kafka:%s?topic_prefix=t.&flush_ms=20000", bs);
	cr_assert_eq(gcp_sinkset_open(&set, specs, 1, true, err, sizeof(err)), 0, "%s", err);
	d.set = &set;
	drv_demo(&d);
	cr_assert_eq(d.n, 5u);
	struct drv_counts c = drv_close(&set);
	cr_expect_eq(c.written, 5u, "delivery reports: %llu delivered", c.written);

	/* Consume back: each type topic holds its records, keyed by flow id. */
	rd_kafka_t *cons = new_handle(RD_KAFKA_CONSUMER, bs);
	rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(4);
	assign_all(cons, tl, "t.tcp");
	assign_all(cons, tl, "t.http");
	assign_all(cons, tl, "t.dns");
	cr_assert_eq(rd_kafka_assign(cons, tl), RD_KAFKA_RESP_ERR_NO_ERROR);
	rd_kafka_topic_partition_list_destroy(tl);
	bool seen[5] = { 0 };
	unsigned got = 0;
	for (int tries = 0; got < d.n && tries < 300; tries++) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(cons, 100);
		if (!m)
			continue;
		if (!m->err) {
			const char *topic = rd_kafka_topic_name(m->rkt);
			cr_expect_eq(drv_count_maps(m->payload, m->len), 1);
			for (unsigned i = 0; i < d.n; i++) {
				if (seen[i] || key_id(m) != d.flow_ids[i] ||
				    strcmp(topic + 2, gcp_record_type_name(d.types[i])))
					continue;
				seen[i] = true;
				got++;
				break;
			}
		}
		rd_kafka_message_destroy(m);
	}
	cr_expect_eq(got, d.n, "consumed back %u of %u records", got, d.n);
	rd_kafka_consumer_close(cons);
	rd_kafka_destroy(cons);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(mrk);
}

Test(sink_kafka, unreachable_broker_counted)
{
	struct gcp_sinkset set;
	char err[512] = "";
	const char *specs[1] = { "kafka:127.0.0.1:1?flush_ms=300&kafka.message.timeout.ms=200" };

	cr_assert_eq(gcp_sinkset_open(&set, specs, 1, true, err, sizeof(err)), 0, "%s", err);
	drv_write_n(&set, 100);
	struct drv_counts c = drv_close(&set);
	cr_expect_eq(c.written, 0u);
	cr_expect_eq(c.error, 100u);
}
#else
Test(sink_kafka, built_without_kafka)
{
	cr_skip_test("built without librdkafka (GCP_WITH_KAFKA=OFF)");
}
#endif
