/* SPDX-License-Identifier: BSD-3-Clause */
/* Expected connections: a per-engine table of flows announced by a
 * control protocol (FTP PASV/EPSV/PORT/EPRT) that get their dissector
 * attached at creation, without probing, and share a small payload with
 * the announcing flow (after Zeek's expected connections / Suricata's
 * app-layer-expectation.c). */
#ifndef GCP_EXPECT_H
#define GCP_EXPECT_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"
#include "dissect.h"

#define GCP_EXPECT_MAX 1024        /* entries per engine; more are counted in st_full */
#define GCP_EXPECT_BUCKETS 2048    /* hash heads (power of two) */
#define GCP_EXPECT_TIMEOUT_S 60    /* default life of an unmatched entry */

enum gcp_expect_state {
	GCP_EXP_FREE = 0,
	GCP_EXP_PENDING, /* announced, waiting for its connection (hashed) */
	GCP_EXP_BOUND,   /* its flow exists and owns it until release */
};

struct gcp_expect_ent {
	struct gcp_addr orig, resp;
	uint16_t resp_port;
	uint8_t l4proto, ip_version;
	uint8_t state;           /* enum gcp_expect_state */
	uint32_t gen;            /* handle check: bumped on every reuse */
	uint32_t next;           /* hash chain or free list: index + 1, 0 = end */
	uint64_t expire_ns;
	const struct gcp_dissector *dis;
	uint8_t data[GCP_EXPECT_DATA_MAX] __attribute__((aligned(8)));
};

struct gcp_expect_table {
	struct gcp_expect_ent ents[GCP_EXPECT_MAX];
	uint32_t buckets[GCP_EXPECT_BUCKETS];
	uint32_t free_head;
	uint32_t live;           /* PENDING + BOUND */
	uint64_t st_added, st_matched, st_full, st_expired;
};

struct gcp_engine;
struct gcp_flow;

struct gcp_expect_table *gcp_expect_table_new(void);
/* Heap bytes of one table (fixed size, made on first use) and of what
 * the flows holding its entries allocate outside the pools. */
uint64_t gcp_expect_table_mem(void);
void gcp_expect_table_free(struct gcp_expect_table *t);

/* Announce a connection; replaces a pending entry with the same key.
 * Returns a handle, 0 when the table is full (counted). */
uint64_t gcp_expect_add(struct gcp_expect_table *t, const struct gcp_expect *x, uint64_t now_ns);
/* The entry behind a handle, NULL once it was released or expired. */
struct gcp_expect_ent *gcp_expect_get(struct gcp_expect_table *t, uint64_t h);
/* Drop a still pending entry (a bound one belongs to its flow). */
void gcp_expect_cancel(struct gcp_expect_table *t, uint64_t h);
/* Free an entry whatever its state (the bound flow ends). */
void gcp_expect_release(struct gcp_expect_table *t, uint64_t h);
/*
 * A flow was just created: if it was expected (either orientation, so
 * midstream pickup works too), bind the entry and attach its dissector.
 */
void gcp_expect_on_new_flow(struct gcp_engine *e, struct gcp_flow *f, uint64_t now_ns);

#endif /* GCP_EXPECT_H */
