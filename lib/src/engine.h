/* SPDX-License-Identifier: BSD-3-Clause */
/* Engine internals shared by engine.c, app.c and emit.c. */
#ifndef GCP_ENGINE_H
#define GCP_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"
#include "dissect.h"
#include "flow.h"
#include "gcprobe/gcprobe.h"
#include "hsid.h"
#include "mempool.h"
#include "reasm.h"
#include "record.h"
#include "rules.h"

struct gcp_dissect_ctx {
	struct gcp_engine *eng;
	struct gcp_flow *flow;
	struct gcp_flow_info fi;
	uint64_t now;
	int dir;               /* direction being delivered (reassembly callback) */
	bool fi_ok;            /* fi describes flow (filled on first use) */
	bool in_record;
	enum gcp_record_type rec_type; /* of the record being built */
	uint64_t exp_taken;    /* expect.c: entry of the flow being attached */
};

struct gcp_test_sink; /* records kept by the test-support context */

/* Frames staged at once by gcp_engine_feed_burst(). */
#define GCP_STAGE_MAX 64

/* One staged frame: decoded, its flow key hashed, its bucket prefetched. */
struct gcp_stage_slot {
	struct gcp_pkt p;
	struct gcp_flow_probe q;
	bool flow;            /* a TCP/UDP packet that goes to the flow table */
};

struct gcp_engine {
	struct gcp_engine_opts opts;
	char node_name[256];
	char engine_name[128];
	char agent_ip[64];
	char tenant[128];
	struct gcp_decoder dec;
	struct gcp_flow_table ft;
	struct gcp_flow_hooks hooks;  /* engine callbacks and timeouts for the flow table */
	struct gcp_pool pool;         /* application memory (app_mem_bytes) */
	struct gcp_pool reasm_pool;   /* out-of-order segments (reasm_total_bytes) */
	struct gcp_pool ap_pool;      /* flows' cold state: one block per flow at most */
	struct gcp_reasm reasm;
	struct gcp_rb rb;
	struct gcp_dissect_ctx ctx;   /* reused for every dissector call */
	unsigned sub_mask;
	uint32_t dis_tcp, dis_udp;    /* bit i: gcp_dissectors[i] is subscribed for TCP/UDP */
	bool app_tcp, app_udp;        /* a subscribed record needs TCP/UDP payload dissected */
	bool cold_tcp;                /* ... or TCP payload counted and reassembled */
	gcp_record_cb cb;
	void *cb_user;
	uint64_t now_ns;
	uint64_t last_tick_s;
	uint64_t next_tick_ns;        /* start of the second after last_tick_s */
	bool dec_ok, ft_ok, rb_ok;
	bool silent;                  /* destroy: release flows, emit nothing */
	/* Counters not kept by a module. */
	uint64_t pkts, bytes;
	uint64_t records;
	uint64_t records_failed;      /* gcp_rb_finish refused: never reached the callback */
	uint64_t records_by_type[8];
	uint64_t pending_limit_hits;
	uint64_t dissector_errors;
	uint64_t stream_resyncs;      /* gcp_dctx_resync() */
	uint64_t mem_budget;          /* gcp_engine_mem_budget() of opts */
	struct gcp_expect_table *exp; /* expect.c: created on first use */
	struct gcp_hsid hsid;         /* protocol identification (db NULL: off) */
	struct gcp_rules_run rules;   /* content rules */
	struct gcp_tenant_ent *tenants; /* tenant.c: sorted copy of opts.tenants */
	unsigned ntenants;
	struct gcp_stage_slot stage[GCP_STAGE_MAX];
};

/* app.c: application layer. */
void gcp_engine_tcp_segment(struct gcp_engine *e, struct gcp_flow *f, const struct gcp_pkt *p,
			    int dir);
void gcp_engine_udp_datagram(struct gcp_engine *e, struct gcp_flow *f, const struct gcp_pkt *p,
			     int dir);
/* Flow end: drain reassembly, finish the dissector, release its memory. */
void gcp_engine_app_end(struct gcp_engine *e, struct gcp_flow *f);
/* Then, after the records that read it: free the flow's cold state. */
void gcp_engine_app_release(struct gcp_engine *e, struct gcp_flow *f);
/* The flow's cold state, allocated on first use; NULL when the pool refuses. */
struct gcp_flow_app *gcp_engine_flow_app(struct gcp_engine *e, struct gcp_flow *f);
/* Dissector d runs on l4 flows and emits a subscribed record type. */
static inline bool gcp_engine_dissector_wanted(const struct gcp_engine *e,
					       const struct gcp_dissector *d, unsigned l4)
{
	return (d->l4_mask & l4) && (d->record_types & e->sub_mask);
}
/* Attach dissector d to flow f without probing (expected flows). */
void gcp_engine_app_attach(struct gcp_engine *e, struct gcp_flow *f,
			   const struct gcp_dissector *d, uint64_t now);
/* Point the shared context at flow f. */
struct gcp_dissect_ctx *gcp_engine_ctx(struct gcp_engine *e, struct gcp_flow *f, uint64_t now);
/* Fill ctx->fi from its flow (gcp_dctx_flow() does when needed). */
void gcp_engine_ctx_fill(struct gcp_dissect_ctx *c);

/* tenant.c: VLAN/VNI -> tenant map. */
int gcp_tenant_init(struct gcp_engine *e);
const char *gcp_tenant_of(const struct gcp_engine *e, const struct gcp_flow *f);
void gcp_tenant_fini(struct gcp_engine *e);

/* emit.c: records. */
void gcp_engine_flow_end(void *eng, struct gcp_flow *f);
/* Begin a record with the common keys; NULL when not subscribed. */
struct gcp_rb *gcp_engine_record_begin(struct gcp_engine *e, const struct gcp_flow *f,
				       enum gcp_record_type type, uint64_t ts_ns);
void gcp_engine_record_end(struct gcp_engine *e, enum gcp_record_type type, uint64_t flow_id);

#endif /* GCP_ENGINE_H */
