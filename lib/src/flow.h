/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-engine flow table (open addressing over a preallocated flow array,
 * symmetric key), idle timers on a timing wheel, TCP connection state in
 * Zeek's conn_state vocabulary, and the conn_count window. */
#ifndef GCP_FLOW_H
#define GCP_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"
#include "hsid.h"
#include "reasm.h"

struct gcp_dissector;

/* Canonical key: endpoint a is the lower (addr, port), so both
 * directions of a connection hash and compare the same. */
struct gcp_flow_key {
	struct gcp_addr a, b;
	uint16_t pa, pb;
	uint32_t vni;
	uint16_t vlan;       /* outermost VLAN id (0 if none) */
	uint8_t proto;
	uint8_t ip_version;
};

/* TCP facts seen per direction (index enum gcp_dir). */
struct gcp_tcp_half {
	uint8_t syn : 1;      /* SYN without ACK */
	uint8_t synack : 1;   /* SYN with ACK */
	uint8_t fin : 1;
	uint8_t rst : 1;
	uint8_t ack : 1;      /* any ACK (for establishment) */
	uint8_t data : 1;     /* payload seen */
	uint8_t pure_ack : 1; /* ACK without SYN/FIN/RST or payload (Zeek history 'A') */
};

/* Dissector data kept for one direction's unconsumed tail. */
struct gcp_pending {
	uint8_t *buf;        /* pool block or NULL */
	uint32_t len, cap;
	uint32_t needed;     /* don't call parse until len >= needed */
};

enum gcp_app_state {
	GCP_APP_UNKNOWN = 0, /* still probing */
	GCP_APP_ACTIVE,      /* dissector chosen and fed */
	GCP_APP_DONE,        /* dissector finished or failed: no more parsing */
	GCP_APP_NONE,        /* no dissector matched */
};

struct gcp_flow {
	struct gcp_flow_key key;
	uint32_t hash;
	uint32_t wheel_next, wheel_prev; /* timer wheel links (flow indexes) */
	uint32_t wheel_slot;
	uint64_t id;
	uint64_t first_ts, last_ts;
	uint64_t expire_ts;
	/* Orientation: cli_is_a says whether key.a is the client. */
	bool cli_is_a;
	bool in_use;
	uint8_t ip_version, l4proto;
	uint8_t tunnel;
	uint8_t has_vni;
	uint8_t nvlan;
	uint16_t vlan[GCP_MAX_VLAN];
	uint32_t vni;
	/* Counters indexed by enum gcp_dir. */
	uint64_t pkts[2], bytes[2], payload[2];
	uint32_t retrans, ooo;
	uint32_t conn_count;
	struct gcp_tcp_half th[2];
	bool syn_seen_first;  /* first packet was a SYN (origin known) */
	bool closing;         /* FIN/RST seen: short linger timer */
	/* Application layer. */
	uint8_t app_state;    /* enum gcp_app_state */
	uint8_t probe_pkts;   /* payload packets probed so far */
	const struct gcp_dissector *dis;
	void *app;            /* dissector state (pool) */
	struct gcp_reasm_dir rd[2];
	struct gcp_pending pend[2];
	uint8_t fin_sent;     /* bit per dir: dissector was told of FIN */
	/* Hyperscan identification (hsid.c), TCP only. */
	struct gcp_hsid_dir hs[2];
	uint8_t hs_app;       /* enum gcp_hsid_app once named */
};

/* Client and server of a flow. */
static inline const struct gcp_addr *gcp_flow_cli(const struct gcp_flow *f)
{
	return f->cli_is_a ? &f->key.a : &f->key.b;
}

static inline const struct gcp_addr *gcp_flow_srv(const struct gcp_flow *f)
{
	return f->cli_is_a ? &f->key.b : &f->key.a;
}

static inline uint16_t gcp_flow_cport(const struct gcp_flow *f)
{
	return f->cli_is_a ? f->key.pa : f->key.pb;
}

static inline uint16_t gcp_flow_sport(const struct gcp_flow *f)
{
	return f->cli_is_a ? f->key.pb : f->key.pa;
}

struct gcp_conn_window; /* conn_count bookkeeping, flow.c */

struct gcp_flow_table {
	struct gcp_flow *flows;   /* capacity entries, preallocated */
	uint32_t *slots;          /* open-addressing index: flow index + 1, 0 = empty */
	uint32_t nslots;          /* power of two >= 2 * capacity */
	uint32_t capacity;
	uint32_t count;
	uint32_t free_head;       /* free list through wheel_next */
	uint64_t next_id;
	uint64_t id_salt;         /* mixes flow ids so they are not guessable counters */
	uint64_t hash_seed;       /* index hash key (gcp_flow_table_seed) */
	/* Timer wheel: 1 s slots. */
	uint32_t *wheel;          /* slot -> first flow index + 1 */
	uint32_t wheel_size;
	uint64_t wheel_now_s;     /* last second advanced to */
	struct gcp_conn_window *cw;
	uint32_t conn_window_s;
	/* Counters. */
	uint64_t st_created, st_ended, st_evicted, st_full;
	uint64_t st_reused;       /* closed TCP flow ended early by a new SYN (port reuse) */
	uint64_t st_cw_evicted;   /* live conn_count entries displaced (table full) */
};

int gcp_flow_table_init(struct gcp_flow_table *t, uint32_t capacity, uint32_t conn_window_s);
/* Heap bytes gcp_flow_table_init() takes (all of it up front). */
uint64_t gcp_flow_table_mem(uint32_t capacity, uint32_t conn_window_s);
void gcp_flow_table_fini(struct gcp_flow_table *t);

/* Called for every flow that ends (timeout, eviction, flush, port
 * reuse). The callee emits records, must release what hangs off the
 * flow (reassembly segments, pending buffers, app state: the struct is
 * zeroed afterwards) and must not touch the table. May be NULL. */
typedef void (*gcp_flow_end_fn)(void *ctx, struct gcp_flow *f);

/*
 * Find or create the flow of a packet. *dir receives the packet's
 * direction (enum gcp_dir). A new flow decides its client: the sender of
 * the first packet, except a SYN-ACK (receiver is the client) and
 * midstream pickup where the sender uses a well-known port and the
 * receiver an ephemeral one. When the table is full, the flow closest
 * to expiry is evicted through end_fn (counted); returns NULL only when
 * that is impossible (counted in st_full).
 */
struct gcp_flow *gcp_flow_lookup(struct gcp_flow_table *t, const struct gcp_pkt *p, int *dir,
				 bool *created, gcp_flow_end_fn end_fn, void *ctx);

/* Update counters, TCP facts and the timer for one packet of flow f. */
void gcp_flow_update(struct gcp_flow_table *t, struct gcp_flow *f, const struct gcp_pkt *p, int dir,
		     uint32_t tcp_idle_s, uint32_t udp_idle_s, uint32_t close_s);

/* End flows whose timer passed now_ns (calls end_fn, then frees them). */
void gcp_flow_expire(struct gcp_flow_table *t, uint64_t now_ns, gcp_flow_end_fn end_fn, void *ctx);

/* End every flow (shutdown). */
void gcp_flow_flush(struct gcp_flow_table *t, gcp_flow_end_fn end_fn, void *ctx);

/* Zeek conn_state of a TCP flow: "S0", "SF", "REJ", ... */
const char *gcp_tcp_conn_state(const struct gcp_flow *f);

/* Symmetric 32-bit hash of a key (same for both directions) under t's seed. */
uint32_t gcp_flow_hash(const struct gcp_flow_table *t, const struct gcp_flow_key *k);
/* Key the index hash (call before the first lookup; init sets a fixed one). */
void gcp_flow_table_seed(struct gcp_flow_table *t, uint64_t seed);

#endif /* GCP_FLOW_H */
