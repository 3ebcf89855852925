/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-engine flow table (open addressing over a preallocated flow array,
 * symmetric key), idle timers on a timing wheel, TCP connection state in
 * Zeek's conn_state vocabulary, and the conn_count window. */
#ifndef GCP_FLOW_H
#define GCP_FLOW_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

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
	GCP_APP_DONE,        /* dissector finished or failed, or nothing subscribed: no more parsing */
	GCP_APP_NONE,        /* no dissector matched */
};

/*
 * A flow's state in three parts, so that a packet touches as few cache
 * lines as it can:
 *  - struct gcp_flow, hot (two lines): what every packet reads or
 *    writes: the key and timer links (line 0, all a lookup and a timer
 *    walk touch), then counters, TCP facts and flags (line 1).
 *  - struct gcp_flow_meta, warm (32 B, parallel array): written when the
 *    flow is created, read when its records are written.
 *  - struct gcp_flow_app, cold (pool block): payload, reassembly and
 *    dissector state, allocated by the engine on the flow's first payload
 *    (or FIN, or an expected-connection attach), so flows that never
 *    carry data (scans, SYN floods, most of a 64-byte mix) neither pay
 *    for it in memory nor zero it when they end.
 */
struct gcp_flow_app;

struct gcp_flow {
	/* line 0: lookup and timers */
	struct gcp_flow_key key;
	uint32_t wheel_next, wheel_prev; /* timer wheel links (flow indexes + 1) */
	uint32_t wheel_slot;
	uint32_t isn[2];      /* next_seq from a SYN, by dir, until app state exists */
	/* line 1: per packet */
	uint64_t expire_ts, last_ts;
	uint64_t pkts[2], bytes[2]; /* indexed by enum gcp_dir */
	struct gcp_flow_app *ap;    /* NULL until the flow carries payload */
	struct gcp_tcp_half th[2];
	uint8_t cli_is_a : 1;       /* key.a is the client */
	uint8_t in_use : 1;
	uint8_t closing : 1;        /* FIN/RST seen: short linger timer */
	uint8_t syn_seen_first : 1; /* first packet was a SYN (origin known) */
	uint8_t isn_set : 2;        /* bit per dir: isn[dir] is valid */
	uint8_t app_state;    /* enum gcp_app_state */
	uint8_t hs_app;       /* enum gcp_hsid_app once named */
	uint8_t fin_sent;     /* bit per dir: dissector was told of FIN */
	uint8_t probe_pkts;   /* payload packets probed so far */
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct gcp_flow) == 128, "hot flow state must stay two cache lines");

struct gcp_flow_meta {
	uint64_t id;
	uint64_t first_ts;
	uint32_t conn_count;
	uint16_t vlan[GCP_MAX_VLAN];
	uint8_t nvlan;
	uint8_t tunnel;       /* enum gcp_tunnel */
	uint8_t has_vni;      /* the VNI is key.vni */
};

_Static_assert(sizeof(struct gcp_flow_meta) == 32, "flow meta is 32 bytes");

struct gcp_flow_app {
	uint64_t payload[2];  /* payload bytes by dir */
	uint32_t retrans, ooo;
	const struct gcp_dissector *dis;
	void *app;            /* dissector state (pool) */
	struct gcp_reasm_dir rd[2];
	struct gcp_pending pend[2];
	struct gcp_hsid_dir hs[2]; /* Hyperscan identification (hsid.c), TCP only */
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

/*
 * Index bucket: one cache line of (hash signature, flow index + 1)
 * pairs, separate from the flows (as DPDK's rte_hash and Swiss tables
 * do), so a lookup reads one line of signatures and then only the flow
 * whose signature matches. A full bucket spills into the next one; ovf
 * counts the entries that probed past it, so a lookup stops at the
 * first bucket nothing passed (Folly F14's outbound overflow count) and
 * deletion needs no tombstones.
 */
#define GCP_FT_WAYS 7

struct gcp_ft_bucket {
	uint32_t sig[GCP_FT_WAYS];
	uint32_t ovf;
	uint32_t ref[GCP_FT_WAYS]; /* flow index + 1, 0 = empty */
	uint32_t spare;
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct gcp_ft_bucket) == 64, "an index bucket is one cache line");

struct gcp_flow_table {
	struct gcp_flow *flows;   /* capacity entries, preallocated (hot) */
	struct gcp_flow_meta *meta; /* capacity entries, same index */
	struct gcp_ft_bucket *buckets;
	uint32_t bmask;           /* buckets - 1 (a power of two) */
	uint32_t capacity;
	uint32_t count;
	uint32_t free_head;       /* recycled flows, linked through wheel_next */
	uint32_t fresh;           /* flows [fresh, capacity) were never used */
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

static inline struct gcp_flow_meta *gcp_flow_meta(const struct gcp_flow_table *t,
						  const struct gcp_flow *f)
{
	return &t->meta[f - t->flows];
}

/* Called for every flow that ends (timeout, eviction, flush, port
 * reuse). The callee emits records and must release what hangs off the
 * flow (f->ap and everything in it: the flow is reset afterwards) and
 * must not touch the table. May be NULL (then f->ap must be NULL). */
typedef void (*gcp_flow_end_fn)(void *ctx, struct gcp_flow *f);

/* A packet's canonical key and index hash, computed once per packet
 * (before the lookup, so a burst can prefetch). */
struct gcp_flow_probe {
	struct gcp_flow_key key;
	uint32_t hash;
	bool src_is_a;        /* the packet's sender is key.a */
};

/* ---- per packet, inline: the canonical key and its hash ---------------- */

/* 64 x 64 -> 128-bit multiply, folded (wyhash's "mum"). */
static inline uint64_t gcp_mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t gcp_load64(const uint8_t *b)
{
	uint64_t v;

	memcpy(&v, b, 8);
	return v;
}

/*
 * The key is already canonical (a <= b), so hashing its bytes is
 * symmetric. The seed is the table's key: random per engine unless a
 * test fixes it, so nobody can craft keys that collide (hash flooding
 * would turn the index into long probe chains). Four independent
 * folded multiplies over the 44 bytes (wyhash's construction): a third
 * of the instructions of a word-at-a-time loop, on every packet.
 */
static inline uint32_t gcp_flow_hash_inline(uint64_t s, const struct gcp_flow_key *k)
{
	const uint8_t *b = (const uint8_t *)k;
	uint32_t tail;

	memcpy(&tail, b + 40, 4);
	uint64_t x = gcp_mum(gcp_load64(b) ^ s ^ 0xa0761d6478bd642full,
			     gcp_load64(b + 8) ^ 0xe7037ed1a0b428dbull);
	uint64_t y = gcp_mum(gcp_load64(b + 16) ^ s ^ 0x8ebc6af09c88c6e3ull,
			     gcp_load64(b + 24) ^ 0x589965cc75374cc3ull);
	uint64_t z = gcp_mum(gcp_load64(b + 32) ^ s ^ 0x1d8e4e27c47d124full,
			     ((uint64_t)tail | (44ull << 32)) ^ 0xeb44accab455d165ull);
	uint64_t h = gcp_mum(x ^ y ^ 0xa0761d6478bd642full, z ^ s);

	return (uint32_t)(h ^ (h >> 32));
}

static inline uint64_t gcp_load_be64(const uint8_t *b)
{
	uint64_t v;

	memcpy(&v, b, 8);
	return __builtin_bswap64(v);
}

/* memcmp(a, b, 16) < 0 without the call: two big-endian word compares. */
static inline int gcp_addr_cmp(const struct gcp_addr *a, const struct gcp_addr *b)
{
	uint64_t a0 = gcp_load_be64(a->b), b0 = gcp_load_be64(b->b);

	if (a0 != b0)
		return a0 < b0 ? -1 : 1;
	uint64_t a1 = gcp_load_be64(a->b + 8), b1 = gcp_load_be64(b->b + 8);

	return a1 < b1 ? -1 : a1 > b1;
}

/* Builds the canonical key; returns whether the packet's sender is a. */
static inline bool gcp_flow_key_build(const struct gcp_pkt *p, struct gcp_flow_key *k)
{
	int c = gcp_addr_cmp(&p->src, &p->dst);
	bool src_is_a = c < 0 || (c == 0 && p->sport <= p->dport);

	k->a = src_is_a ? p->src : p->dst;
	k->b = src_is_a ? p->dst : p->src;
	k->pa = src_is_a ? p->sport : p->dport;
	k->pb = src_is_a ? p->dport : p->sport;
	k->vni = p->has_vni ? p->vni : 0;
	k->vlan = p->nvlan ? p->vlan[0] : 0;
	k->proto = p->l4proto;
	k->ip_version = p->ip_version;
	return src_is_a;
}

static inline void gcp_flow_probe_init(const struct gcp_flow_table *t, const struct gcp_pkt *p,
				       struct gcp_flow_probe *q)
{
	q->src_is_a = gcp_flow_key_build(p, &q->key);
	q->hash = gcp_flow_hash_inline(t->hash_seed, &q->key);
}

/* Bring the bucket of q into the cache (first stage of a burst). */
static inline void gcp_flow_prefetch_bucket(const struct gcp_flow_table *t,
					    const struct gcp_flow_probe *q)
{
	__builtin_prefetch(&t->buckets[q->hash & t->bmask]);
}

/* Bring the flows whose signature matches q into the cache (second
 * stage; the bucket should already be there). */
void gcp_flow_prefetch_flow(const struct gcp_flow_table *t, const struct gcp_flow_probe *q);

/*
 * Find or create the flow of a packet. *dir receives the packet's
 * direction (enum gcp_dir). A new flow decides its client: the sender of
 * the first packet, except a SYN-ACK (receiver is the client) and
 * midstream pickup where the sender uses a well-known port and the
 * receiver an ephemeral one. When the table is full, the flow closest
 * to expiry is evicted through end_fn (counted); returns NULL only when
 * that is impossible (counted in st_full).
 */
struct gcp_flow *gcp_flow_lookup_probe(struct gcp_flow_table *t, const struct gcp_pkt *p,
				       const struct gcp_flow_probe *q, int *dir, bool *created,
				       gcp_flow_end_fn end_fn, void *ctx);
/* The same, computing the probe. */
struct gcp_flow *gcp_flow_lookup(struct gcp_flow_table *t, const struct gcp_pkt *p, int *dir,
				 bool *created, gcp_flow_end_fn end_fn, void *ctx);

/* What gcp_flow_packet() calls back and the timeouts it arms. */
struct gcp_flow_hooks {
	gcp_flow_end_fn end_fn;
	/* A flow was created for p (before its first update). May be NULL. */
	void (*new_fn)(void *ctx, struct gcp_flow *f, const struct gcp_pkt *p);
	void *ctx;
	uint32_t tcp_idle_s, udp_idle_s, close_s;
};

/* Lookup or create, then update: one packet's whole flow-table step.
 * NULL when the table is full and nothing can be evicted. */
struct gcp_flow *gcp_flow_packet(struct gcp_flow_table *t, const struct gcp_pkt *p,
				 const struct gcp_flow_probe *q, const struct gcp_flow_hooks *h,
				 int *dir);

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
