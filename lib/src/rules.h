/* SPDX-License-Identifier: BSD-3-Clause */
/* User content rules: a Hyperscan block-mode database over record string
 * fields (host, url, qname, account), swapped into a running engine
 * through an atomic pending slot and picked up at a burst boundary. */
#ifndef GCP_RULES_H
#define GCP_RULES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>

#include "gcprobe/gcprobe.h"
#include "record.h"

/* Rule ids kept per record; more matches are counted, not written. */
#define GCP_RULES_MAX_HITS 16

struct gcp_rules_slot; /* a rule set + scratch prepared by gcp_engine_set_rules */

/* One engine's view of the rules (worker side except .next). */
struct gcp_rules_run {
	struct gcp_rules *rules;   /* active set, NULL: none */
	hs_scratch_t *scratch;     /* for the active set */
	_Atomic(struct gcp_rules_slot *) next; /* pending set from any thread */
	uint32_t hits[GCP_RULES_MAX_HITS];     /* sorted rule ids of this record */
	unsigned nhits;
	uint64_t st_tagged;        /* records that got a "rules" key */
	uint64_t st_dropped;       /* rule ids over GCP_RULES_MAX_HITS */
	uint64_t st_swaps;         /* rule sets picked up */
	uint64_t st_errors;        /* hs_scan failed: value not tagged */
};

void gcp_rules_run_init(struct gcp_rules_run *run);
void gcp_rules_run_fini(struct gcp_rules_run *run);
/* Any thread: prepare (scratch) and post a new set (NULL: none). */
int gcp_rules_run_set(struct gcp_rules_run *run, struct gcp_rules *r);
/* Worker, between bursts: adopt a posted set; true when it changed. */
bool gcp_rules_run_pickup(struct gcp_rules_run *run);
/* Record builder hook: a top-level string value. */
void gcp_rules_on_str(const char *key, const char *val, size_t len, void *user);
/* Before the record closes: write "rules" when something matched. */
void gcp_rules_put(struct gcp_rules_run *run, struct gcp_rb *rb);

#endif /* GCP_RULES_H */
