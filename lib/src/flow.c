/* SPDX-License-Identifier: BSD-3-Clause */
/* Flow table: symmetric open-addressing index over preallocated flows,
 * a 1-second timing wheel driven by packet time, Zeek's conn_state, and
 * the bounded conn_count window. No allocation after init. */
#include "flow.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "dissect.h"

/*
 * Conventions used throughout:
 *  - Flow links (index slots, wheel heads, wheel_next/prev, free list)
 *    hold flow index + 1, so 0 means "none" and a zeroed flow is unlinked.
 *  - wheel_slot holds the absolute second the flow is queued under (low
 *    32 bits; fine until 2106), 0 when not queued. The slot index is
 *    wheel_slot & (wheel_size - 1). Valid queue seconds are always
 *    > wheel_now_s >= 0, so 0 is never a real queue second.
 *  - Timers are lazy: a packet that pushes the expiry later leaves the
 *    flow where it is; when its slot comes up it is moved forward. Only
 *    a shorter expiry (FIN/RST linger) relinks at once. This keeps the
 *    per-packet cost to a compare in the common case.
 *  - Expiry is rounded up to the next second, so flows end at most one
 *    second late, never early.
 */

#define NS_PER_S 1000000000ull
#define WHEEL_SIZE 4096u            /* 68 min horizon; longer timers wrap */
#define NEW_FLOW_TIMEOUT_S 30u      /* until the first gcp_flow_update */
#define MAX_CAPACITY (1u << 30)     /* keeps nslots and index + 1 in 32 bits */
#define FLOW_HASH_SEED 0x2d358dccaa6c78a5ull
#define CW_HASH_SEED 0x8bb84b93962eacc9ull
#define ID_SALT_DEFAULT 0x9e3779b97f4a7c15ull
#define CW_WAYS 8u                  /* conn window: set-associative, 8 ways */
#define CW_MAX_BUCKETS 64u          /* per-entry ring; exact for windows <= 64 s */
#define CW_MIN_ENTRIES 1024u

_Static_assert(sizeof(struct gcp_flow_key) == 44, "flow key must have no padding");

/* ---- hashing ------------------------------------------------------------ */

static inline uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* Murmur3's 64-bit finalizer: a bijection with full avalanche. */
static inline uint64_t fmix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* Multiplicative inverse mod 2^64 of an odd number (Newton: each step
 * doubles the correct low bits, 3 -> 96). */
static uint64_t inv64(uint64_t c)
{
	uint64_t y = c;

	for (int i = 0; i < 5; i++)
		y *= 2 - c * y;
	return y;
}

/* Inverse of fmix64 (x ^= x >> 33 is its own inverse as 33 >= 32). */
static uint64_t unfmix64(uint64_t x)
{
	x ^= x >> 33;
	x *= inv64(0xc4ceb9fe1a85ec53ull);
	x ^= x >> 33;
	x *= inv64(0xff51afd7ed558ccdull);
	x ^= x >> 33;
	return x;
}

/* Word-at-a-time multiply/rotate mixing (murmur-style) plus fmix64.
 * Unaligned loads go through memcpy. */
static uint64_t hash_bytes(const void *data, size_t n, uint64_t seed)
{
	const uint8_t *b = data;
	uint64_t h = seed ^ (n * 0x87c37b91114253d5ull);
	uint64_t w;

	for (; n >= 8; b += 8, n -= 8) {
		memcpy(&w, b, 8);
		h ^= rotl64(w * 0x4cf5ad432745937full, 31) * 0x87c37b91114253d5ull;
		h = rotl64(h, 27) * 5 + 0x52dce729;
	}
	if (n) {
		w = 0;
		memcpy(&w, b, n);
		h ^= rotl64(w * 0x4cf5ad432745937full, 31) * 0x87c37b91114253d5ull;
	}
	return fmix64(h);
}

uint32_t gcp_flow_hash(const struct gcp_flow_table *t, const struct gcp_flow_key *k)
{
	return gcp_flow_hash_inline(t->hash_seed, k);
}

void gcp_flow_table_seed(struct gcp_flow_table *t, uint64_t seed)
{
	t->hash_seed = seed;
}

/* ---- key and orientation ------------------------------------------------ */

/* Registered service ports >= 1024 that clients rarely use as source
 * ports (databases, brokers, proxies, tunnels). Sorted for bsearch. */
static const uint16_t service_ports[] = {
	1080, 1194, 1433, 1521, 1723, 1812, 1813, 1883, 2049, 2123, 2152, 2181,
	2375, 2376, 2379, 2380, 3128, 3260, 3306, 3389, 3478, 4789, 5060, 5061,
	5222, 5432, 5671, 5672, 5683, 5900, 6081, 6379, 6443, 6514, 6653, 8000,
	8008, 8080, 8081, 8088, 8443, 8883, 8888, 9042, 9090, 9092, 9200, 9300,
	9418, 10250, 11211, 15672, 27017, 50051,
};

static int cmp_port(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static bool is_service_port(uint16_t port)
{
	if (port == 0)
		return false;
	if (port < 1024)
		return true;
	return bsearch(&port, service_ports, sizeof(service_ports) / sizeof(service_ports[0]),
		       sizeof(service_ports[0]), cmp_port) != NULL;
}

/* Midstream pickup: a service port talking to an ephemeral one is the
 * server's side. Two service ports (8080 -> 3306) stay as seen. */
static bool sender_looks_like_server(const struct gcp_pkt *p)
{
	return is_service_port(p->sport) && p->dport >= 1024 && !is_service_port(p->dport);
}

/* Decides the client of a new flow from its first packet. */
static bool sender_is_client(const struct gcp_pkt *p, bool *syn_first)
{
	*syn_first = false;
	if (p->l4proto == IPPROTO_TCP) {
		if (p->tcp_flags & GCP_TH_SYN) {
			if (!(p->tcp_flags & GCP_TH_ACK)) {
				*syn_first = true;
				return true;
			}
			return false; /* SYN-ACK: we missed the SYN */
		}
		return !sender_looks_like_server(p);
	}
	if (p->l4proto == IPPROTO_UDP)
		return !sender_looks_like_server(p);
	return true;
}

/* ---- bucket index ------------------------------------------------------ */

static uint32_t flow_ref(const struct gcp_flow_table *t, const struct gcp_flow *f)
{
	return (uint32_t)(f - t->flows) + 1;
}

/* The key has no padding (asserted above): compare it as words (SSE2:
 * bytes 0-15, 16-31 and 28-43, the last two overlapping). */
static inline bool key_eq(const struct gcp_flow_key *x, const struct gcp_flow_key *y)
{
	const uint8_t *a = (const uint8_t *)x, *b = (const uint8_t *)y;
#ifdef __SSE2__
	__m128i d0 = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)a),
				    _mm_loadu_si128((const __m128i *)b));
	__m128i d1 = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(a + 16)),
				    _mm_loadu_si128((const __m128i *)(b + 16)));
	__m128i d2 = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(a + 28)),
				    _mm_loadu_si128((const __m128i *)(b + 28)));

	return _mm_movemask_epi8(_mm_and_si128(_mm_and_si128(d0, d1), d2)) == 0xffff;
#else
	uint64_t d = 0, u, v;
	uint32_t s, w;

	for (int i = 0; i < 40; i += 8) {
		memcpy(&u, a + i, 8);
		memcpy(&v, b + i, 8);
		d |= u ^ v;
	}
	memcpy(&s, a + 40, 4);
	memcpy(&w, b + 40, 4);
	return (d | (s ^ w)) == 0;
#endif
}

static inline uint32_t next_bucket(const struct gcp_flow_table *t, uint32_t b)
{
	return (b + 1) & t->bmask;
}

/* Bit i set: way i's signature is h (empty ways may match too: their
 * ref is 0). SSE2 is in every x86-64; elsewhere a plain loop. */
static inline unsigned sig_match(const struct gcp_ft_bucket *bk, uint32_t h)
{
#ifdef __SSE2__
	__m128i v = _mm_set1_epi32((int)h);
	__m128i lo = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)bk->sig), v);
	__m128i hi = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)bk->sig + 1), v);

	return (unsigned)(_mm_movemask_ps(_mm_castsi128_ps(lo)) |
			  _mm_movemask_ps(_mm_castsi128_ps(hi)) << 4) & 0x7fu;
#else
	unsigned m = 0;

	for (unsigned i = 0; i < GCP_FT_WAYS; i++)
		m |= (unsigned)(bk->sig[i] == h) << i;
	return m;
#endif
}

/* Returns flow index + 1 or 0. Reads the signature line of each bucket
 * on the probe path, then only flows whose signature matches. */
static uint32_t idx_find(const struct gcp_flow_table *t, const struct gcp_flow_key *k, uint32_t h)
{
	for (uint32_t b = h & t->bmask;; b = next_bucket(t, b)) {
		const struct gcp_ft_bucket *bk = &t->buckets[b];

		for (unsigned m = sig_match(bk, h); m; m &= m - 1) {
			uint32_t r = bk->ref[__builtin_ctz(m)];

			if (r && key_eq(&t->flows[r - 1].key, k))
				return r;
		}
		if (!bk->ovf)
			return 0;
	}
}

static int free_way(const struct gcp_ft_bucket *bk)
{
	for (unsigned i = 0; i < GCP_FT_WAYS; i++)
		if (!bk->ref[i])
			return (int)i;
	return -1;
}

/* There is always room: the index has more ways than the table flows. */
static void idx_insert(struct gcp_flow_table *t, uint32_t ref, uint32_t h)
{
	for (uint32_t b = h & t->bmask;; b = next_bucket(t, b)) {
		struct gcp_ft_bucket *bk = &t->buckets[b];
		int w = free_way(bk);

		if (w >= 0) {
			bk->sig[w] = h;
			bk->ref[w] = ref;
			return;
		}
		bk->ovf++;
	}
}

static void idx_remove(struct gcp_flow_table *t, const struct gcp_flow *f)
{
	uint32_t ref = flow_ref(t, f), home = gcp_flow_hash(t, &f->key) & t->bmask;

	for (uint32_t b = home;; b = next_bucket(t, b)) {
		struct gcp_ft_bucket *bk = &t->buckets[b];

		for (unsigned i = 0; i < GCP_FT_WAYS; i++) {
			if (bk->ref[i] != ref)
				continue;
			bk->ref[i] = 0;
			bk->sig[i] = 0;
			/* Its probe passed the buckets from home to here. */
			for (uint32_t p = home; p != b; p = next_bucket(t, p))
				t->buckets[p].ovf--;
			return;
		}
	}
}

void gcp_flow_prefetch_flow(const struct gcp_flow_table *t, const struct gcp_flow_probe *q)
{
	const struct gcp_ft_bucket *bk = &t->buckets[q->hash & t->bmask];

	for (unsigned m = sig_match(bk, q->hash); m; m &= m - 1) {
		uint32_t r = bk->ref[__builtin_ctz(m)];

		if (r) {
			const struct gcp_flow *f = &t->flows[r - 1];

			__builtin_prefetch(f);
			__builtin_prefetch((const uint8_t *)f + 64);
		}
	}
}

/* ---- timing wheel ------------------------------------------------------- */

static uint64_t ceil_s(uint64_t ns)
{
	return ns / NS_PER_S + (ns % NS_PER_S != 0);
}

static void wheel_unlink(struct gcp_flow_table *t, struct gcp_flow *f)
{
	if (f->wheel_slot == 0)
		return;
	if (f->wheel_prev)
		t->flows[f->wheel_prev - 1].wheel_next = f->wheel_next;
	else
		t->wheel[f->wheel_slot & (t->wheel_size - 1)] = f->wheel_next;
	if (f->wheel_next)
		t->flows[f->wheel_next - 1].wheel_prev = f->wheel_prev;
	f->wheel_next = f->wheel_prev = 0;
	f->wheel_slot = 0;
}

/* Pushes at the head, so a list walk in progress does not see it again. */
static void wheel_link(struct gcp_flow_table *t, struct gcp_flow *f, uint64_t sec)
{
	uint32_t *head = &t->wheel[sec & (t->wheel_size - 1)];
	uint32_t ref = flow_ref(t, f);

	f->wheel_slot = (uint32_t)sec;
	f->wheel_prev = 0;
	f->wheel_next = *head;
	if (*head)
		t->flows[*head - 1].wheel_prev = ref;
	*head = ref;
}

/* Second a flow should be queued under: its expiry rounded up, but
 * always ahead of the last processed second (late timestamps). */
static uint64_t target_s(const struct gcp_flow *f, uint64_t min_s)
{
	uint64_t s = ceil_s(f->expire_ts);

	return s < min_s ? min_s : s;
}

static void arm_relink(struct gcp_flow_table *t, struct gcp_flow *f, uint64_t expire_ts);

static inline void arm(struct gcp_flow_table *t, struct gcp_flow *f, uint64_t expire_ts)
{
	/* A later expiry of a queued flow never needs a move: it is queued
	 * no later than its old target, which is no later than the new. */
	if (f->wheel_slot != 0 && expire_ts >= f->expire_ts) {
		f->expire_ts = expire_ts;
		return;
	}
	arm_relink(t, f, expire_ts);
}

static __attribute__((noinline)) void arm_relink(struct gcp_flow_table *t, struct gcp_flow *f,
						 uint64_t expire_ts)
{
	uint64_t s;

	f->expire_ts = expire_ts;
	s = target_s(f, t->wheel_now_s + 1);
	/* Lazy: queued no later than needed, the slot walk moves it on. */
	if (f->wheel_slot != 0 && (uint64_t)f->wheel_slot <= s)
		return;
	wheel_unlink(t, f);
	wheel_link(t, f, s);
}

/* ---- flow lifecycle ----------------------------------------------------- */

/* Resets only the hot and meta parts: the cold part is the engine's. */
static void flow_free(struct gcp_flow_table *t, struct gcp_flow *f)
{
	uint32_t ref = flow_ref(t, f);

	idx_remove(t, f);
	wheel_unlink(t, f);
	memset(f, 0, sizeof(*f));
	memset(gcp_flow_meta(t, f), 0, sizeof(struct gcp_flow_meta));
	f->wheel_next = t->free_head;
	t->free_head = ref;
	t->count--;
}

/* end_fn must release what the engine hung on the flow (reassembly
 * segments, pending buffers, dissector state): the struct is zeroed. */
static void flow_end(struct gcp_flow_table *t, struct gcp_flow *f, gcp_flow_end_fn end_fn, void *ctx)
{
	if (end_fn)
		end_fn(ctx, f);
	t->st_ended++;
	flow_free(t, f);
}

/* Ids: a counter pushed through a bijection, so they are unique per
 * table yet do not look sequential. Engines running several tables
 * should give each a distinct next_id range (e.g. worker << 56) or salt
 * after init. 0 is never handed out. */
static uint64_t new_id(struct gcp_flow_table *t)
{
	uint64_t id;

	do
		id = fmix64(t->next_id++ + t->id_salt);
	while (id == 0);
	return id;
}

/* Creation sequence number of a flow (inverts new_id), for flush order. */
static uint64_t flow_seq(const struct gcp_flow_table *t, uint32_t i)
{
	return unfmix64(t->meta[i].id) - t->id_salt;
}

/* ---- conn_count window -------------------------------------------------- */

struct cw_key {
	struct gcp_addr cli, srv;
	uint32_t vni;
	uint16_t port, vlan;
	uint8_t proto, ip_version;
	uint8_t pad[2];
};

_Static_assert(sizeof(struct cw_key) == 44, "cw key must have no padding");

/* An entry names its key by the key's 64-bit keyed hash: the set index
 * comes from the low bits, so two keys of one set that share all 64
 * bits are needed to confuse them (about 2^-40 per lookup with 2^20
 * sets), and 16 bytes instead of 56 keep the window to 68 MiB for a
 * million flows. */
struct cw_entry {
	uint64_t fp;      /* hash_bytes() of the cw_key */
	uint32_t total;   /* sum of the entry's buckets; 0: free */
	uint32_t last_b;  /* bucket number (second / width) of the newest bucket */
};

/*
 * Set-associative cache of (client, server, server port) entries, each
 * a ring of per-bucket connection counts. A miss replaces a free or
 * aged-out way, else the way touched longest ago (counted in
 * st_cw_evicted). Buckets are one second wide for windows up to 64 s
 * (exact); longer windows use ceil(window / 64) s buckets.
 */
struct gcp_conn_window {
	struct cw_entry *ent;
	uint16_t *cnt;       /* nbuckets saturating counters per entry */
	uint32_t nsets;      /* power of two */
	uint32_t nbuckets;
	uint32_t width_s;
};

static uint32_t pow2_ceil(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

#define HUGE_PAGE (2u << 20)

/*
 * Zeroed memory with every page touched now, keeping page faults off the
 * packet path and RSS flat from the start (the tables are used at
 * random; a soak run once saw RSS creep up for ten minutes while calloc's
 * pages arrived one by one). Cache-line aligned; tables of 2 MiB and
 * more are asked for transparent huge pages: flows, buckets and the
 * conn_count window are looked up at random, and with 4 KiB pages nearly
 * every lookup of a large table also missed the TLB.
 */
static size_t table_align(size_t n)
{
	return n >= HUGE_PAGE ? HUGE_PAGE : 64;
}

/* What alloc_table(n) takes. */
static size_t table_bytes(size_t n)
{
	size_t align = table_align(n);

	return n ? (n + align - 1) / align * align : align;
}

static void *alloc_table(size_t n)
{
	size_t align = table_align(n), sz = table_bytes(n);
	void *p = NULL;

	if (posix_memalign(&p, align, sz) != 0)
		return NULL;
#ifdef MADV_HUGEPAGE
	if (align == HUGE_PAGE)
		(void)madvise(p, sz, MADV_HUGEPAGE); /* a hint: 4 KiB pages still work */
#endif
	memset(p, 0, sz);
	return p;
}

static int cw_init(struct gcp_flow_table *t, uint32_t capacity, uint32_t window_s)
{
	struct gcp_conn_window *w;
	uint32_t entries = pow2_ceil(capacity / 2);

	if (entries < CW_MIN_ENTRIES)
		entries = CW_MIN_ENTRIES;
	w = calloc(1, sizeof(*w));
	if (!w)
		return GCP_ERR_NOMEM;
	w->width_s = (window_s + CW_MAX_BUCKETS - 1) / CW_MAX_BUCKETS;
	w->nbuckets = (window_s + w->width_s - 1) / w->width_s;
	w->nsets = entries / CW_WAYS;
	w->ent = alloc_table((size_t)entries * sizeof(*w->ent));
	w->cnt = alloc_table((size_t)entries * w->nbuckets * sizeof(*w->cnt));
	t->cw = w;
	if (!w->ent || !w->cnt)
		return GCP_ERR_NOMEM;
	return 0;
}

static void cw_fini(struct gcp_conn_window *w)
{
	if (!w)
		return;
	free(w->ent);
	free(w->cnt);
	free(w);
}

static bool cw_live(const struct gcp_conn_window *w, const struct cw_entry *e, uint64_t nb)
{
	return e->total && (uint64_t)e->last_b + w->nbuckets > nb;
}

/* Finds the entry of k in its set, or claims a way for it. */
static struct cw_entry *cw_get(struct gcp_flow_table *t, const struct cw_key *k, uint64_t nb)
{
	struct gcp_conn_window *w = t->cw;
	uint64_t fp = hash_bytes(k, sizeof(*k), t->hash_seed ^ CW_HASH_SEED);
	uint32_t set = (uint32_t)fp & (w->nsets - 1);
	struct cw_entry *e = &w->ent[(size_t)set * CW_WAYS], *dead = NULL, *oldest = NULL;

	/* The key's way; else the first free or aged-out way; else the live
	 * way touched longest ago (the first of equals). */
	for (uint32_t i = 0; i < CW_WAYS; i++) {
		if (e[i].total && e[i].fp == fp)
			return &e[i];
		if (!cw_live(w, &e[i], nb)) {
			if (!dead)
				dead = &e[i];
		} else if (!oldest || e[i].last_b < oldest->last_b) {
			oldest = &e[i];
		}
	}
	struct cw_entry *victim = dead ? dead : oldest;

	if (!dead)
		t->st_cw_evicted++;
	victim->fp = fp;
	victim->total = 0;
	victim->last_b = (uint32_t)nb;
	memset(&w->cnt[(size_t)(victim - w->ent) * w->nbuckets], 0, w->nbuckets * sizeof(*w->cnt));
	return victim;
}

/* Slides the ring forward to bucket nb, dropping counts that left it. */
static void cw_advance(struct gcp_conn_window *w, struct cw_entry *e, uint16_t *cnt, uint64_t nb)
{
	uint64_t d;

	if (nb <= e->last_b)
		return;
	d = nb - e->last_b;
	if (d >= w->nbuckets) {
		memset(cnt, 0, w->nbuckets * sizeof(*cnt));
		e->total = 0;
	} else {
		for (uint64_t b = e->last_b + 1; b <= nb; b++) {
			e->total -= cnt[b % w->nbuckets];
			cnt[b % w->nbuckets] = 0;
		}
	}
	e->last_b = (uint32_t)nb;
}

/* Counts this connection and returns how many the window holds. */
static uint32_t cw_count(struct gcp_flow_table *t, const struct gcp_flow *f, uint64_t first_ts)
{
	struct gcp_conn_window *w = t->cw;
	struct cw_key k;
	struct cw_entry *e;
	uint16_t *cnt;
	uint64_t nb;

	if (!w || (f->key.proto != IPPROTO_TCP && f->key.proto != IPPROTO_UDP))
		return 1;
	memset(&k, 0, sizeof(k));
	k.cli = *gcp_flow_cli(f);
	k.srv = *gcp_flow_srv(f);
	k.port = gcp_flow_sport(f);
	k.vni = f->key.vni;
	k.vlan = f->key.vlan;
	k.proto = f->key.proto;
	k.ip_version = f->key.ip_version;
	nb = first_ts / NS_PER_S / w->width_s;
	e = cw_get(t, &k, nb);
	cnt = &w->cnt[(size_t)(e - w->ent) * w->nbuckets];
	cw_advance(w, e, cnt, nb);
	if (e->last_b - nb >= w->nbuckets)
		return e->total + 1; /* older than the ring (reordered capture) */
	if (cnt[nb % w->nbuckets] < UINT16_MAX) {
		cnt[nb % w->nbuckets]++;
		e->total++;
	}
	return e->total;
}

/* ---- init / fini -------------------------------------------------------- */

/* Index buckets for a table: 7 ways each, at most 4 flows per bucket
 * (57% load when the table is full). */
static uint32_t nbuckets(uint32_t capacity)
{
	return pow2_ceil((capacity + 3) / 4);
}

static uint64_t cw_mem(uint32_t capacity, uint32_t conn_window_s)
{
	uint64_t entries = pow2_ceil(capacity / 2);
	uint32_t width = (conn_window_s + CW_MAX_BUCKETS - 1) / CW_MAX_BUCKETS;
	uint32_t nb = (conn_window_s + width - 1) / width;

	if (entries < CW_MIN_ENTRIES)
		entries = CW_MIN_ENTRIES;
	return sizeof(struct gcp_conn_window) + table_bytes(entries * sizeof(struct cw_entry)) +
	       table_bytes(entries * nb * sizeof(uint16_t));
}

uint64_t gcp_flow_table_mem(uint32_t capacity, uint32_t conn_window_s)
{
	uint64_t n = table_bytes((size_t)capacity * sizeof(struct gcp_flow)) +
		     table_bytes((size_t)capacity * sizeof(struct gcp_flow_meta)) +
		     table_bytes((size_t)nbuckets(capacity) * sizeof(struct gcp_ft_bucket)) +
		     table_bytes((size_t)WHEEL_SIZE * sizeof(uint32_t));

	return n + (conn_window_s ? cw_mem(capacity, conn_window_s) : 0);
}

int gcp_flow_table_init(struct gcp_flow_table *t, uint32_t capacity, uint32_t conn_window_s)
{
	int rc = GCP_ERR_NOMEM;

	memset(t, 0, sizeof(*t));
	if (capacity == 0 || capacity > MAX_CAPACITY)
		return GCP_ERR_INVAL;
	t->capacity = capacity;
	t->bmask = nbuckets(capacity) - 1;
	t->wheel_size = WHEEL_SIZE;
	t->id_salt = ID_SALT_DEFAULT;
	t->hash_seed = FLOW_HASH_SEED;
	t->next_id = 1;
	t->conn_window_s = conn_window_s;
	/* The probe's largest allocations, used at random: touched now. */
	t->flows = alloc_table((size_t)capacity * sizeof(*t->flows));
	t->meta = alloc_table((size_t)capacity * sizeof(*t->meta));
	t->buckets = alloc_table((size_t)(t->bmask + 1) * sizeof(*t->buckets));
	t->wheel = alloc_table((size_t)t->wheel_size * sizeof(*t->wheel));
	if (!t->flows || !t->meta || !t->buckets || !t->wheel)
		goto out;
	if (conn_window_s && (rc = cw_init(t, capacity, conn_window_s)) < 0)
		goto out;
	return 0;
out:
	gcp_flow_table_fini(t);
	return rc;
}

void gcp_flow_table_fini(struct gcp_flow_table *t)
{
	free(t->flows);
	free(t->meta);
	free(t->buckets);
	free(t->wheel);
	cw_fini(t->cw);
	memset(t, 0, sizeof(*t));
}

/* ---- eviction ----------------------------------------------------------- */

/* Walks one wheel slot for an eviction victim, moving lazily queued
 * flows to their real second on the way. */
static struct gcp_flow *evict_scan_slot(struct gcp_flow_table *t, uint64_t s, uint64_t min_s)
{
	uint32_t ref = t->wheel[s & (t->wheel_size - 1)];

	while (ref) {
		struct gcp_flow *f = &t->flows[ref - 1];
		uint64_t ts = target_s(f, min_s);

		ref = f->wheel_next;
		if (ts <= s)
			return f;
		if (ts != f->wheel_slot) {
			wheel_unlink(t, f);
			wheel_link(t, f, ts);
		}
	}
	return NULL;
}

/* The flow closest to expiry (to the second): walk the wheel from now.
 * Flows all beyond the horizon fall back to a scan of the array. */
static struct gcp_flow *evict_pick(struct gcp_flow_table *t, uint64_t now_ns)
{
	uint64_t min_s = t->wheel_now_s + 1;
	uint64_t start = now_ns / NS_PER_S;
	struct gcp_flow *best = NULL;

	if (start < min_s)
		start = min_s;
	for (uint64_t s = start; s < start + t->wheel_size; s++) {
		struct gcp_flow *f = evict_scan_slot(t, s, min_s);

		if (f)
			return f;
	}
	for (uint32_t i = 0; i < t->capacity; i++) {
		struct gcp_flow *f = &t->flows[i];

		if (f->in_use && (!best || f->expire_ts < best->expire_ts))
			best = f;
	}
	return best;
}

/* ---- lookup ------------------------------------------------------------- */

/* A new SYN on a TCP flow that already closed (RST, or FIN both ways)
 * is a new connection on the same 4-tuple (port reuse). */
static bool is_reuse(const struct gcp_flow *f, const struct gcp_pkt *p)
{
	if (f->key.proto != IPPROTO_TCP || (p->tcp_flags & (GCP_TH_SYN | GCP_TH_ACK)) != GCP_TH_SYN)
		return false;
	return f->th[0].rst || f->th[1].rst || (f->th[0].fin && f->th[1].fin);
}

/* The flow freed last (likely still in cache), else a never-used one;
 * NULL when all are live. */
static struct gcp_flow *take_free(struct gcp_flow_table *t)
{
	struct gcp_flow *f;

	if (!t->free_head)
		return t->fresh < t->capacity ? &t->flows[t->fresh++] : NULL;
	f = &t->flows[t->free_head - 1];
	t->free_head = f->wheel_next;
	f->wheel_next = 0;
	return f;
}

static struct gcp_flow *flow_create(struct gcp_flow_table *t, struct gcp_flow *f,
				    const struct gcp_pkt *p, const struct gcp_flow_probe *q)
{
	struct gcp_flow_meta *m = gcp_flow_meta(t, f);
	bool syn_first;

	f->key = q->key;
	f->last_ts = p->ts_ns;
	f->cli_is_a = sender_is_client(p, &syn_first) == q->src_is_a;
	f->syn_seen_first = syn_first;
	f->in_use = true;
	m->id = new_id(t);
	m->first_ts = p->ts_ns;
	m->tunnel = p->tunnel;
	m->has_vni = p->has_vni;
	m->nvlan = p->nvlan > GCP_MAX_VLAN ? GCP_MAX_VLAN : p->nvlan;
	memcpy(m->vlan, p->vlan, sizeof(m->vlan));
	idx_insert(t, flow_ref(t, f), q->hash);
	t->count++;
	t->st_created++;
	arm(t, f, p->ts_ns + (uint64_t)NEW_FLOW_TIMEOUT_S * NS_PER_S);
	m->conn_count = cw_count(t, f, p->ts_ns);
	return f;
}


/* Not found, or a closed flow's port reused: end, evict, create. Out of
 * line so the hit path stays small enough to inline. */
static __attribute__((noinline)) struct gcp_flow *
lookup_miss(struct gcp_flow_table *t, const struct gcp_pkt *p, const struct gcp_flow_probe *q,
	    struct gcp_flow *f, gcp_flow_end_fn end_fn, void *ctx)
{
	if (f) {
		t->st_reused++;
		flow_end(t, f, end_fn, ctx);
	}
	f = take_free(t);
	if (!f) {
		f = evict_pick(t, p->ts_ns);
		if (!f) {
			t->st_full++;
			return NULL;
		}
		t->st_evicted++;
		flow_end(t, f, end_fn, ctx);
		f = take_free(t);
	}
	return flow_create(t, f, p, q);
}

static inline struct gcp_flow *lookup(struct gcp_flow_table *t, const struct gcp_pkt *p,
				      const struct gcp_flow_probe *q, int *dir, bool *created,
				      gcp_flow_end_fn end_fn, void *ctx)
{
	uint32_t ref = idx_find(t, &q->key, q->hash);
	struct gcp_flow *f = ref ? &t->flows[ref - 1] : NULL;

	*created = !f || is_reuse(f, p);
	if (*created) {
		f = lookup_miss(t, p, q, f, end_fn, ctx);
		if (!f)
			return NULL;
	}
	*dir = q->src_is_a == f->cli_is_a ? GCP_DIR_C2S : GCP_DIR_S2C;
	return f;
}

struct gcp_flow *gcp_flow_lookup_probe(struct gcp_flow_table *t, const struct gcp_pkt *p,
				       const struct gcp_flow_probe *q, int *dir, bool *created,
				       gcp_flow_end_fn end_fn, void *ctx)
{
	return lookup(t, p, q, dir, created, end_fn, ctx);
}

struct gcp_flow *gcp_flow_lookup(struct gcp_flow_table *t, const struct gcp_pkt *p, int *dir,
				 bool *created, gcp_flow_end_fn end_fn, void *ctx)
{
	struct gcp_flow_probe q;

	gcp_flow_probe_init(t, p, &q);
	return gcp_flow_lookup_probe(t, p, &q, dir, created, end_fn, ctx);
}

/* ---- update ------------------------------------------------------------- */

/* Forced inline: once per TCP packet, and a call costs as much as it does. */
static inline __attribute__((always_inline)) void
tcp_facts(struct gcp_flow *f, const struct gcp_pkt *p, int dir)
{
	struct gcp_tcp_half *h = &f->th[dir];
	uint8_t fl = p->tcp_flags;

	if (fl & GCP_TH_SYN) {
		if (fl & GCP_TH_ACK)
			h->synack = 1;
		else
			h->syn = 1;
	}
	if (fl & GCP_TH_FIN)
		h->fin = 1;
	if (fl & GCP_TH_RST)
		h->rst = 1;
	if (fl & GCP_TH_ACK)
		h->ack = 1;
	if (p->payload_wire_len)
		h->data = 1;
	else if ((fl & (GCP_TH_ACK | GCP_TH_SYN | GCP_TH_FIN | GCP_TH_RST)) == GCP_TH_ACK)
		h->pure_ack = 1;
	if (fl & (GCP_TH_FIN | GCP_TH_RST))
		f->closing = true;
}

/* RST, or FIN from both sides, leaves only stragglers: short linger.
 * A one-sided FIN is a half close; the other side may still send. */
static uint32_t tcp_timeout(const struct gcp_flow *f, uint32_t idle_s, uint32_t close_s)
{
	const struct gcp_tcp_half *h = f->th;

	if (h[0].rst || h[1].rst || (h[0].fin && h[1].fin))
		return close_s;
	return idle_s;
}

static inline void update(struct gcp_flow_table *t, struct gcp_flow *f, const struct gcp_pkt *p,
			  int dir, uint32_t tcp_idle_s, uint32_t udp_idle_s, uint32_t close_s)
{
	uint32_t to = udp_idle_s;

	dir &= 1;
	/* Reordered captures: never move last_ts (and the timer) back. Only
	 * then can the packet predate the first one (meta is not touched
	 * in order). */
	if (p->ts_ns > f->last_ts) {
		f->last_ts = p->ts_ns;
	} else {
		struct gcp_flow_meta *m = gcp_flow_meta(t, f);

		if (p->ts_ns < m->first_ts)
			m->first_ts = p->ts_ns;
	}
	f->pkts[dir]++;
	f->bytes[dir] += p->ip_len;
	if (f->key.proto == IPPROTO_TCP) {
		tcp_facts(f, p, dir);
		to = tcp_timeout(f, tcp_idle_s, close_s);
	}
	arm(t, f, f->last_ts + (uint64_t)to * NS_PER_S);
}

void gcp_flow_update(struct gcp_flow_table *t, struct gcp_flow *f, const struct gcp_pkt *p, int dir,
		     uint32_t tcp_idle_s, uint32_t udp_idle_s, uint32_t close_s)
{
	update(t, f, p, dir, tcp_idle_s, udp_idle_s, close_s);
}

struct gcp_flow *gcp_flow_packet(struct gcp_flow_table *t, const struct gcp_pkt *p,
				 const struct gcp_flow_probe *q, const struct gcp_flow_hooks *h,
				 int *dir)
{
	bool created;
	struct gcp_flow *f = lookup(t, p, q, dir, &created, h->end_fn, h->ctx);

	if (!f)
		return NULL;
	if (created && h->new_fn)
		h->new_fn(h->ctx, f, p);
	update(t, f, p, *dir, h->tcp_idle_s, h->udp_idle_s, h->close_s);
	return f;
}

/* ---- expiry ------------------------------------------------------------- */

/* Ends the due flows of one slot and moves the others to their second
 * (lazily queued ones, and those beyond the horizon stay put). */
static void run_slot(struct gcp_flow_table *t, uint32_t idx, uint64_t now_ns, uint64_t min_s,
		     gcp_flow_end_fn end_fn, void *ctx)
{
	uint32_t ref = t->wheel[idx];

	while (ref) {
		struct gcp_flow *f = &t->flows[ref - 1];
		uint64_t s;

		ref = f->wheel_next;
		if (f->expire_ts <= now_ns) {
			flow_end(t, f, end_fn, ctx);
			continue;
		}
		s = target_s(f, min_s);
		if (s != f->wheel_slot) {
			wheel_unlink(t, f);
			wheel_link(t, f, s);
		}
	}
}

void gcp_flow_expire(struct gcp_flow_table *t, uint64_t now_ns, gcp_flow_end_fn end_fn, void *ctx)
{
	uint64_t now_s = now_ns / NS_PER_S;

	if (now_s <= t->wheel_now_s)
		return; /* same second, or time went back: nothing new is due */
	if (now_s - t->wheel_now_s > t->wheel_size) {
		/* Long gap (or first call): one pass over every slot. */
		t->wheel_now_s = now_s;
		for (uint32_t i = 0; i < t->wheel_size; i++)
			run_slot(t, i, now_ns, now_s + 1, end_fn, ctx);
		return;
	}
	for (uint64_t s = t->wheel_now_s + 1; s <= now_s; s++)
		run_slot(t, (uint32_t)(s & (t->wheel_size - 1)), now_ns, s + 1, end_fn, ctx);
	t->wheel_now_s = now_s;
}

/* ---- flush -------------------------------------------------------------- */

static bool flush_before(const struct gcp_flow_table *t, uint32_t a, uint32_t b)
{
	const struct gcp_flow_meta *ma = &t->meta[a], *mb = &t->meta[b];

	if (ma->first_ts != mb->first_ts)
		return ma->first_ts < mb->first_ts;
	return flow_seq(t, a) < flow_seq(t, b);
}

static void sift_down(const struct gcp_flow_table *t, uint32_t *v, uint32_t i, uint32_t n)
{
	for (;;) {
		uint32_t c = 2 * i + 1, tmp;

		if (c >= n)
			return;
		if (c + 1 < n && flush_before(t, v[c], v[c + 1]))
			c++;
		if (!flush_before(t, v[i], v[c]))
			return;
		tmp = v[i];
		v[i] = v[c];
		v[c] = tmp;
		i = c;
	}
}

/* In-place heapsort: flush must not allocate. */
static void sort_flows(const struct gcp_flow_table *t, uint32_t *v, uint32_t n)
{
	for (uint32_t i = n / 2; i-- > 0;)
		sift_down(t, v, i, n);
	for (uint32_t end = n; end-- > 1;) {
		uint32_t tmp = v[0];

		v[0] = v[end];
		v[end] = tmp;
		sift_down(t, v, 0, end);
	}
}

/* Ends flows in creation order (first_ts, then creation sequence) so
 * shutdown output is deterministic. The bucket array doubles as sort
 * space (16 words per bucket, at least 4 * capacity); the table is
 * rebuilt empty after, touching only the flows that were in use. */
void gcp_flow_flush(struct gcp_flow_table *t, gcp_flow_end_fn end_fn, void *ctx)
{
	uint32_t *order = (uint32_t *)t->buckets;
	uint32_t n = 0;

	for (uint32_t i = 0; i < t->fresh; i++)
		if (t->flows[i].in_use)
			order[n++] = i;
	sort_flows(t, order, n);
	for (uint32_t i = 0; i < n; i++) {
		if (end_fn)
			end_fn(ctx, &t->flows[order[i]]);
		t->st_ended++;
	}
	for (uint32_t i = 0; i < t->fresh; i++) {
		memset(&t->flows[i], 0, sizeof(t->flows[i]));
		memset(&t->meta[i], 0, sizeof(t->meta[i]));
	}
	memset(t->buckets, 0, (size_t)(t->bmask + 1) * sizeof(*t->buckets));
	memset(t->wheel, 0, t->wheel_size * sizeof(*t->wheel));
	t->free_head = 0;
	t->fresh = 0;
	t->count = 0;
}

/* ---- Zeek conn_state ---------------------------------------------------- */

/* Zeek's TCP endpoint states (analyzer/protocol/tcp/TCP_Endpoint.h). */
enum ep_state {
	EP_INACTIVE,
	EP_SYN_SENT,
	EP_SYN_ACK_SENT,
	EP_PARTIAL,
	EP_ESTABLISHED,
	EP_CLOSED,
	EP_RESET,
};

static bool sent_syn(const struct gcp_tcp_half *h)
{
	return h->syn || h->synack;
}

/*
 * Zeek's final endpoint state reconstructed from the per-direction
 * facts. RST wins unless both sides had sent FIN (Zeek keeps CLOSED for
 * a RST after a FIN exchange, and turns FIN-RST-FIN back into CLOSED).
 */
static enum ep_state ep_final(const struct gcp_flow *f, int d)
{
	const struct gcp_tcp_half *e = &f->th[d], *peer = &f->th[!d];

	if (f->pkts[d] == 0)
		return EP_INACTIVE;
	if (e->rst && !(e->fin && peer->fin))
		return EP_RESET;
	if (e->fin)
		return EP_CLOSED;
	if (d == GCP_DIR_C2S) {
		if (e->syn)
			return sent_syn(peer) ? EP_ESTABLISHED : EP_SYN_SENT;
		if (e->synack)
			return EP_SYN_ACK_SENT;
		/* Missed SYN: an ACK after the responder's SYN-ACK establishes. */
		return e->ack && sent_syn(peer) ? EP_ESTABLISHED : EP_PARTIAL;
	}
	if (sent_syn(e))
		return EP_ESTABLISHED;
	/* Bare ACKs to an unanswered SYN leave the responder inactive. */
	return !e->data && f->th[GCP_DIR_C2S].syn ? EP_INACTIVE : EP_PARTIAL;
}

/* Zeek's history regex for RSTOS0, ^?S[^HAFGIQ]*R: the connection began
 * with the originator's SYN and the originator sent no SYN-ACK, pure
 * ACK or FIN before its RST. */
static bool hist_rstos0(const struct gcp_flow *f)
{
	const struct gcp_tcp_half *o = &f->th[GCP_DIR_C2S];

	return f->syn_seen_first && o->syn && !o->synack && !o->pure_ack && !o->fin;
}

static bool inactive(enum ep_state s)
{
	return s == EP_INACTIVE || s == EP_PARTIAL;
}

/* Zeek's UDP mapping (active = sent at least one packet). */
static const char *udp_state(const struct gcp_flow *f)
{
	bool o = f->pkts[GCP_DIR_C2S] != 0, r = f->pkts[GCP_DIR_S2C] != 0;

	if (o)
		return r ? "SF" : "S0";
	return r ? "SHR" : "OTH";
}

static const char *tcp_reset_state(const struct gcp_flow *f, enum ep_state os, enum ep_state rs)
{
	if (rs == EP_RESET) {
		if (os == EP_SYN_SENT || os == EP_SYN_ACK_SENT ||
		    (os == EP_RESET && (!f->ap || (f->ap->payload[0] == 0 && f->ap->payload[1] == 0))))
			return "REJ";
		return inactive(os) ? "RSTRH" : "RSTR";
	}
	if (inactive(rs))
		return hist_rstos0(f) ? "RSTOS0" : "OTH";
	return "RSTO";
}

/* Mirrors conn_state() in Zeek's base/protocols/conn/main.zeek. */
const char *gcp_tcp_conn_state(const struct gcp_flow *f)
{
	enum ep_state os, rs;

	if (f->key.proto == IPPROTO_UDP)
		return udp_state(f);
	if (f->key.proto != IPPROTO_TCP)
		return "OTH";
	os = ep_final(f, GCP_DIR_C2S);
	rs = ep_final(f, GCP_DIR_S2C);
	if (rs == EP_RESET || os == EP_RESET)
		return tcp_reset_state(f, os, rs);
	if (os == EP_CLOSED && rs == EP_CLOSED)
		return "SF";
	if (os == EP_CLOSED)
		return inactive(rs) ? "SH" : "S2";
	if (rs == EP_CLOSED)
		return inactive(os) ? "SHR" : "S3";
	if (os == EP_SYN_SENT && rs == EP_INACTIVE)
		return "S0";
	if (os == EP_ESTABLISHED && rs == EP_ESTABLISHED)
		return "S1";
	return "OTH";
}
