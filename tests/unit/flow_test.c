/* SPDX-License-Identifier: BSD-3-Clause */
/* Flow table unit tests: symmetric lookup, orientation, timers,
 * eviction, flush order, Zeek conn_state, conn_count, random churn. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "dissect.h"
#include "flow.h"

#define S(x) ((uint64_t)(x) * 1000000000ull)
#define MS(x) ((uint64_t)(x) * 1000000ull)

enum { F = GCP_TH_FIN, SY = GCP_TH_SYN, R = GCP_TH_RST, A = GCP_TH_ACK, P = GCP_TH_PSH };

static struct gcp_pkt pkt4(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t proto,
			   uint8_t flags, uint32_t paylen, uint64_t ts)
{
	struct gcp_pkt p;

	memset(&p, 0, sizeof(p));
	p.ts_ns = ts;
	p.ip_version = 4;
	p.l4proto = proto;
	p.src.b[0] = (uint8_t)(src >> 24);
	p.src.b[1] = (uint8_t)(src >> 16);
	p.src.b[2] = (uint8_t)(src >> 8);
	p.src.b[3] = (uint8_t)src;
	p.dst.b[0] = (uint8_t)(dst >> 24);
	p.dst.b[1] = (uint8_t)(dst >> 16);
	p.dst.b[2] = (uint8_t)(dst >> 8);
	p.dst.b[3] = (uint8_t)dst;
	p.sport = sport;
	p.dport = dport;
	p.tcp_flags = flags;
	p.payload_len = p.payload_wire_len = paylen;
	p.ip_len = 40 + paylen;
	return p;
}

/* Records ended flows (id, and a copy of the conn_state). */
struct ended {
	uint32_t n;
	uint64_t ids[256];
	uint64_t first_ts[256];
	const char *state[256];
};


static struct gcp_flow_table tab;
static struct gcp_flow_table *cur = &tab; /* the table M() and on_end() read */

static struct gcp_flow_meta *M(const struct gcp_flow *f)
{
	return gcp_flow_meta(cur, f);
}

static void on_end(void *ctx, struct gcp_flow *f)
{
	struct ended *e = ctx;

	if (e->n < 256) {
		e->ids[e->n] = M(f)->id;
		e->first_ts[e->n] = M(f)->first_ts;
		e->state[e->n] = gcp_tcp_conn_state(f);
	}
	e->n++;
}

static struct ended ends;

static void setup_small(void)
{
	memset(&ends, 0, sizeof(ends));
	cr_assert_eq(gcp_flow_table_init(&tab, 64, 60), 0);
}

static void teardown(void)
{
	gcp_flow_table_fini(&tab);
}

/* Lookup + update with timeouts tcp 100 s, udp 30 s, close 5 s. */
static struct gcp_flow *feed(const struct gcp_pkt *p, int *dir, bool *created)
{
	int d;
	bool c;
	struct gcp_flow *f = gcp_flow_lookup(&tab, p, &d, &c, on_end, &ends);

	if (f)
		gcp_flow_update(&tab, f, p, d, 100, 30, 5);
	if (dir)
		*dir = d;
	if (created)
		*created = c;
	return f;
}

#define CLI 0x0a000001u
#define SRV 0x0a000002u

/* One TCP packet from client (c2s) or server (s2c). */
static struct gcp_flow *tc(uint8_t flags, uint32_t len, uint64_t ts)
{
	struct gcp_pkt p = pkt4(CLI, 40000, SRV, 80, IPPROTO_TCP, flags, len, ts);

	return feed(&p, NULL, NULL);
}

static struct gcp_flow *ts_(uint8_t flags, uint32_t len, uint64_t ts)
{
	struct gcp_pkt p = pkt4(SRV, 80, CLI, 40000, IPPROTO_TCP, flags, len, ts);

	return feed(&p, NULL, NULL);
}

/* ---- lookup ------------------------------------------------------------ */

TestSuite(flow, .init = setup_small, .fini = teardown);

Test(flow, symmetric_lookup)
{
	struct gcp_pkt a = pkt4(CLI, 40000, SRV, 80, IPPROTO_TCP, SY, 0, S(1));
	struct gcp_pkt b = pkt4(SRV, 80, CLI, 40000, IPPROTO_TCP, SY | A, 0, S(1) + 1);
	struct gcp_pkt c = pkt4(CLI, 40001, SRV, 80, IPPROTO_TCP, SY, 0, S(1) + 2);
	int d1, d2, d3;
	bool c1, c2, c3;
	struct gcp_flow *f1 = feed(&a, &d1, &c1);
	struct gcp_flow *f2 = feed(&b, &d2, &c2);
	struct gcp_flow *f3 = feed(&c, &d3, &c3);
	struct gcp_flow_key k1, k2;

	cr_assert(c1 && !c2 && c3);
	cr_assert_eq(f1, f2);
	cr_assert_neq(f1, f3);
	cr_assert_eq(d1, GCP_DIR_C2S);
	cr_assert_eq(d2, GCP_DIR_S2C);
	cr_assert_eq(f1->pkts[0], 1);
	cr_assert_eq(f1->pkts[1], 1);
	cr_assert_eq(tab.count, 2);
	cr_assert_neq(M(f1)->id, M(f3)->id);
	cr_assert_neq(M(f1)->id, 0);
	/* The canonical key hashes the same whichever way it was built. */
	memset(&k1, 0, sizeof(k1));
	memset(&k2, 0, sizeof(k2));
	k1 = f1->key;
	k2 = f2->key;
	cr_assert_eq(gcp_flow_hash(&tab, &k1), gcp_flow_hash(&tab, &k2));
}

Test(flow, key_separates_vlan_vni_and_ipv6)
{
	struct gcp_pkt a = pkt4(CLI, 40000, SRV, 53, IPPROTO_UDP, 0, 10, S(1));
	struct gcp_pkt b = a, c = a, d = a;
	struct gcp_flow *fa, *fb, *fc, *fd;

	b.nvlan = 1;
	b.vlan[0] = 100;
	c.has_vni = 1;
	c.vni = 7;
	d.ip_version = 6;
	fa = feed(&a, NULL, NULL);
	fb = feed(&b, NULL, NULL);
	fc = feed(&c, NULL, NULL);
	fd = feed(&d, NULL, NULL);
	cr_assert(fa != fb && fa != fc && fa != fd && fb != fc);
	cr_assert_eq(fb->key.vlan, 100);
	cr_assert_eq(M(fb)->nvlan, 1);
	cr_assert_eq(fc->key.vni, 7);
	cr_assert_eq(tab.count, 4);
}

/* ---- orientation --------------------------------------------------------- */

static const struct gcp_flow *first(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
				    uint8_t proto, uint8_t flags, int *dir)
{
	struct gcp_pkt p = pkt4(src, sport, dst, dport, proto, flags, 0, S(1));

	return feed(&p, dir, NULL);
}

Test(flow, orientation_syn)
{
	int dir;
	/* SYN from a "server-looking" port is still the client. */
	const struct gcp_flow *f = first(SRV, 443, CLI, 50000, IPPROTO_TCP, SY, &dir);

	cr_assert_eq(dir, GCP_DIR_C2S);
	cr_assert(f->syn_seen_first);
	cr_assert_eq(gcp_flow_cport(f), 443);
	cr_assert_eq(gcp_flow_cli(f)->b[3], SRV & 0xff);
}

Test(flow, orientation_synack_first)
{
	int dir;
	const struct gcp_flow *f = first(SRV, 80, CLI, 40000, IPPROTO_TCP, SY | A, &dir);

	cr_assert_eq(dir, GCP_DIR_S2C);
	cr_assert(!f->syn_seen_first);
	cr_assert_eq(gcp_flow_cport(f), 40000);
	cr_assert_eq(gcp_flow_sport(f), 80);
	cr_assert_eq(gcp_flow_srv(f)->b[3], SRV & 0xff);
}

Test(flow, orientation_midstream)
{
	int dir;
	const struct gcp_flow *f;

	/* Server speaks first after pickup: well-known -> ephemeral flips. */
	f = first(SRV, 80, CLI, 40000, IPPROTO_TCP, A | P, &dir);
	cr_assert_eq(dir, GCP_DIR_S2C);
	cr_assert_eq(gcp_flow_sport(f), 80);
	/* Registered service port (MySQL) to ephemeral flips too. */
	f = first(SRV, 3306, CLI, 51000, IPPROTO_TCP, A, &dir);
	cr_assert_eq(dir, GCP_DIR_S2C);
	cr_assert_eq(gcp_flow_sport(f), 3306);
	/* Client speaking first keeps its role. */
	f = first(CLI, 41000, SRV, 443, IPPROTO_TCP, A | P, &dir);
	cr_assert_eq(dir, GCP_DIR_C2S);
	cr_assert_eq(gcp_flow_sport(f), 443);
	/* Two ephemeral ports, or two service ports: the sender is client. */
	f = first(SRV, 30000, CLI, 40000, IPPROTO_TCP, A, &dir);
	cr_assert_eq(dir, GCP_DIR_C2S);
	f = first(SRV, 8080, CLI, 3306, IPPROTO_TCP, A, &dir);
	cr_assert_eq(dir, GCP_DIR_C2S);
	cr_assert_eq(gcp_flow_cport(f), 8080);
	/* UDP: a DNS reply seen first. */
	f = first(SRV, 53, CLI, 45000, IPPROTO_UDP, 0, &dir);
	cr_assert_eq(dir, GCP_DIR_S2C);
	cr_assert_eq(gcp_flow_sport(f), 53);
	cr_assert(!f->syn_seen_first);
	/* VXLAN 4789 source to ephemeral. */
	f = first(SRV, 4789, CLI, 50000, IPPROTO_UDP, 0, &dir);
	cr_assert_eq(dir, GCP_DIR_S2C);
	/* UDP query first. */
	f = first(CLI, 45001, SRV, 53, IPPROTO_UDP, 0, &dir);
	cr_assert_eq(dir, GCP_DIR_C2S);
}

/* ---- counters and timers ------------------------------------------------- */

Test(flow, counters)
{
	struct gcp_flow *f;

	tc(SY, 0, S(1));
	ts_(SY | A, 0, S(1) + MS(10));
	tc(A | P, 100, S(1) + MS(20));
	f = ts_(A | P, 1000, S(1) + MS(30));
	cr_assert_eq(f->pkts[0], 2);
	cr_assert_eq(f->pkts[1], 2);
	cr_assert_eq(f->bytes[0], 40 + 140);
	cr_assert_eq(f->bytes[1], 40 + 1040);
	cr_assert_null(f->ap); /* payload counts are the engine's (cold state) */
	cr_assert_eq(M(f)->first_ts, S(1));
	cr_assert_eq(f->last_ts, S(1) + MS(30));
	cr_assert(f->th[0].syn && !f->th[0].synack && f->th[0].data);
	cr_assert(f->th[1].synack && !f->th[1].syn && f->th[1].data);
	cr_assert(!f->closing);
	/* A reordered (older) packet does not move last_ts back. */
	f = tc(A, 0, S(1));
	cr_assert_eq(f->last_ts, S(1) + MS(30));
	cr_assert(f->th[0].pure_ack);
}

Test(flow, idle_timeout)
{
	struct gcp_pkt u = pkt4(CLI, 45000, SRV, 53, IPPROTO_UDP, 0, 30, S(10));

	tc(SY, 0, S(10));
	feed(&u, NULL, NULL);
	gcp_flow_expire(&tab, S(39), on_end, &ends);
	cr_assert_eq(ends.n, 0);
	/* udp idle 30 s: due at 40 s exactly. */
	gcp_flow_expire(&tab, S(40), on_end, &ends);
	cr_assert_eq(ends.n, 1);
	cr_assert_eq(tab.count, 1);
	/* Activity pushes the TCP timer (lazy re-arm must still be exact). */
	tc(A, 0, S(50));
	gcp_flow_expire(&tab, S(110) + MS(999), on_end, &ends);
	cr_assert_eq(ends.n, 1);
	gcp_flow_expire(&tab, S(150) - 1, on_end, &ends);
	cr_assert_eq(ends.n, 1);
	gcp_flow_expire(&tab, S(150), on_end, &ends);
	cr_assert_eq(ends.n, 2);
	cr_assert_eq(tab.count, 0);
	cr_assert_eq(tab.st_ended, 2);
	cr_assert_eq(tab.st_created, 2);
	/* Time going backwards is harmless. */
	gcp_flow_expire(&tab, S(5), on_end, &ends);
	cr_assert_eq(ends.n, 2);
}

Test(flow, close_linger)
{
	/* FIN both ways: close_s (5 s) instead of the 100 s idle. */
	tc(SY, 0, S(1));
	ts_(SY | A, 0, S(1));
	tc(A, 0, S(1));
	tc(F | A, 0, S(2));
	gcp_flow_expire(&tab, S(2) + MS(500), on_end, &ends);
	cr_assert_eq(tab.flows[0].expire_ts, S(102), "one FIN is a half close: idle timer");
	ts_(F | A, 0, S(3));
	cr_assert(tab.flows[0].closing);
	gcp_flow_expire(&tab, S(8) - 1, on_end, &ends);
	cr_assert_eq(ends.n, 0);
	gcp_flow_expire(&tab, S(8), on_end, &ends);
	cr_assert_eq(ends.n, 1);
	cr_assert_str_eq(ends.state[0], "SF");
}

Test(flow, rst_linger)
{
	tc(SY, 0, S(20));
	ts_(R | A, 0, S(20) + MS(1));
	gcp_flow_expire(&tab, S(25), on_end, &ends);
	cr_assert_eq(ends.n, 0);
	gcp_flow_expire(&tab, S(26), on_end, &ends);
	cr_assert_eq(ends.n, 1);
	cr_assert_str_eq(ends.state[0], "REJ");
}

Test(flow, long_jump_and_horizon)
{
	struct gcp_pkt p = pkt4(CLI, 1, SRV, 2, IPPROTO_TCP, A, 0, S(1700000000));
	struct gcp_flow *f;
	int d;
	bool c;

	/* Real epoch time after a wheel at 0: one sweep. */
	feed(&p, NULL, NULL);
	gcp_flow_expire(&tab, S(1700000050), on_end, &ends);
	cr_assert_eq(ends.n, 0);
	/* A timer far beyond the wheel horizon (4096 s) survives wraps. */
	f = gcp_flow_lookup(&tab, &p, &d, &c, on_end, &ends);
	gcp_flow_update(&tab, f, &p, d, 10000, 30, 5);
	for (uint64_t s = 1700000051; s < 1700010000; s += 7)
		gcp_flow_expire(&tab, S(s), on_end, &ends);
	cr_assert_eq(ends.n, 0);
	gcp_flow_expire(&tab, S(1700010000), on_end, &ends);
	cr_assert_eq(ends.n, 1);
}

/* ---- eviction and flush --------------------------------------------------- */

Test(flow, evict_when_full)
{
	struct gcp_flow_table t4;
	struct gcp_pkt p[6];
	struct gcp_flow *f[6];
	int d;
	bool c;

	memset(&ends, 0, sizeof(ends));
	cr_assert_eq(gcp_flow_table_init(&t4, 4, 0), 0);
	cur = &t4;
	for (int i = 0; i < 6; i++)
		p[i] = pkt4(CLI, (uint16_t)(40000 + i), SRV, 80, IPPROTO_TCP, SY, 0, S(1 + i));
	for (int i = 0; i < 4; i++) {
		f[i] = gcp_flow_lookup(&t4, &p[i], &d, &c, on_end, &ends);
		gcp_flow_update(&t4, f[i], &p[i], d, 60, 60, 5);
	}
	/* Flow 0 refreshed: flow 1 is now the nearest to expiry. */
	p[0].ts_ns = S(4) + MS(500);
	p[0].tcp_flags = A;
	gcp_flow_update(&t4, f[0], &p[0], GCP_DIR_C2S, 60, 60, 5);
	uint64_t id1 = M(f[1])->id;
	struct gcp_flow *n = gcp_flow_lookup(&t4, &p[4], &d, &c, on_end, &ends);

	cr_assert_not_null(n);
	cr_assert(c);
	gcp_flow_update(&t4, n, &p[4], d, 60, 60, 5);
	cr_assert_eq(t4.st_evicted, 1);
	cr_assert_eq(ends.n, 1);
	cr_assert_eq(ends.ids[0], id1);
	cr_assert_eq(t4.count, 4);
	/* Next victim: flow 2. */
	n = gcp_flow_lookup(&t4, &p[5], &d, &c, on_end, &ends);
	cr_assert_not_null(n);
	cr_assert_eq(ends.n, 2);
	cr_assert_eq(ends.first_ts[1], S(3));
	cr_assert_eq(t4.st_full, 0);
	gcp_flow_table_fini(&t4);
}

Test(flow, flush_in_creation_order)
{
	struct gcp_pkt p;
	uint64_t want[5];
	int k = 0;

	/* Free and reuse slots so array order differs from creation order. */
	for (int i = 0; i < 3; i++) {
		p = pkt4(CLI, (uint16_t)(1000 + i), SRV, 9, IPPROTO_UDP, 0, 1, S(1));
		feed(&p, NULL, NULL);
	}
	gcp_flow_expire(&tab, S(40), on_end, &ends);
	cr_assert_eq(ends.n, 3);
	memset(&ends, 0, sizeof(ends));
	/* Same timestamp for three flows: creation order breaks the tie. */
	uint64_t tss[5] = { S(50), S(50), S(50), S(49), S(51) };

	for (int i = 0; i < 5; i++) {
		p = pkt4(CLI, (uint16_t)(2000 + i), SRV, 9, IPPROTO_UDP, 0, 1, tss[i]);
		want[i] = M(feed(&p, NULL, NULL))->id;
	}
	gcp_flow_flush(&tab, on_end, &ends);
	cr_assert_eq(ends.n, 5);
	cr_assert_eq(ends.ids[k++], want[3]);
	cr_assert_eq(ends.ids[k++], want[0]);
	cr_assert_eq(ends.ids[k++], want[1]);
	cr_assert_eq(ends.ids[k++], want[2]);
	cr_assert_eq(ends.ids[k++], want[4]);
	cr_assert_eq(tab.count, 0);
	/* The table is usable after a flush. */
	cr_assert_not_null(feed(&p, NULL, NULL));
	cr_assert_eq(tab.count, 1);
}

Test(flow, port_reuse_after_close)
{
	struct gcp_flow *f;
	uint64_t id;
	bool c;
	int d;

	tc(SY, 0, S(1));
	f = ts_(R | A, 0, S(1));
	id = M(f)->id;
	struct gcp_pkt p = pkt4(CLI, 40000, SRV, 80, IPPROTO_TCP, SY, 0, S(2));

	f = feed(&p, &d, &c);
	cr_assert(c);
	cr_assert_neq(M(f)->id, id);
	cr_assert_eq(ends.n, 1);
	cr_assert_str_eq(ends.state[0], "REJ");
	cr_assert_eq(tab.st_reused, 1);
	cr_assert_eq(tab.count, 1);
}

/* ---- Zeek conn_state ------------------------------------------------------- */

static const char *state_now(void)
{
	cr_assert_eq(tab.count, 1);
	for (uint32_t i = 0; i < tab.capacity; i++)
		if (tab.flows[i].in_use)
			return gcp_tcp_conn_state(&tab.flows[i]);
	return NULL;
}

static void handshake(void)
{
	tc(SY, 0, S(1));
	ts_(SY | A, 0, S(1) + 1);
	tc(A, 0, S(1) + 2);
}

Test(flow, state_S0) { tc(SY, 0, S(1)); tc(SY, 0, S(2)); cr_assert_str_eq(state_now(), "S0"); }

Test(flow, state_S0_resp_bare_ack)
{
	tc(SY, 0, S(1));
	ts_(A, 0, S(1) + 1);
	cr_assert_str_eq(state_now(), "S0");
}

Test(flow, state_S1) { handshake(); tc(A | P, 10, S(2)); cr_assert_str_eq(state_now(), "S1"); }

Test(flow, state_SF)
{
	handshake();
	tc(A | P, 10, S(2));
	ts_(A | P, 20, S(2));
	tc(F | A, 0, S(3));
	ts_(F | A, 0, S(3));
	tc(A, 0, S(3));
	cr_assert_str_eq(state_now(), "SF");
}

Test(flow, state_SF_then_rst)
{
	/* A RST after the FIN exchange keeps SF (Zeek's CLOSED state). */
	handshake();
	tc(F | A, 0, S(3));
	ts_(F | A, 0, S(3));
	tc(R, 0, S(3));
	cr_assert_str_eq(state_now(), "SF");
}

Test(flow, state_SF_missing_syn)
{
	/* SYN lost: SYN-ACK, then the originator's ACK establishes. */
	ts_(SY | A, 0, S(1));
	tc(A, 0, S(1));
	tc(A | P, 5, S(1));
	tc(F | A, 0, S(2));
	ts_(F | A, 0, S(2));
	cr_assert_str_eq(state_now(), "SF");
}

Test(flow, state_REJ) { tc(SY, 0, S(1)); ts_(R | A, 0, S(1)); cr_assert_str_eq(state_now(), "REJ"); }

Test(flow, state_S2) { handshake(); tc(F | A, 0, S(2)); cr_assert_str_eq(state_now(), "S2"); }

Test(flow, state_S3) { handshake(); ts_(F | A, 0, S(2)); cr_assert_str_eq(state_now(), "S3"); }

Test(flow, state_RSTO)
{
	handshake();
	tc(A | P, 10, S(2));
	tc(R | A, 0, S(2));
	cr_assert_str_eq(state_now(), "RSTO");
}

Test(flow, state_RSTO_syn_scan)
{
	/* Half-open scan of an open port: SYN, SYN-ACK, originator RST. */
	tc(SY, 0, S(1));
	ts_(SY | A, 0, S(1));
	tc(R, 0, S(1));
	cr_assert_str_eq(state_now(), "RSTO");
}

Test(flow, state_RSTR)
{
	handshake();
	tc(A | P, 10, S(2));
	ts_(R | A, 0, S(2));
	cr_assert_str_eq(state_now(), "RSTR");
}

Test(flow, state_RSTOS0) { tc(SY, 0, S(1)); tc(R, 0, S(2)); cr_assert_str_eq(state_now(), "RSTOS0"); }

Test(flow, state_RSTO_without_syn_is_OTH)
{
	/* Originator's pure ACK then RST, responder silent: Zeek's regex fails. */
	tc(SY, 0, S(1));
	tc(A, 0, S(1));
	tc(R, 0, S(2));
	cr_assert_str_eq(state_now(), "OTH");
}

Test(flow, state_RSTRH)
{
	ts_(SY | A, 0, S(1));
	ts_(R, 0, S(2));
	cr_assert_str_eq(state_now(), "RSTRH");
}

Test(flow, state_SH) { tc(SY, 0, S(1)); tc(F, 0, S(2)); cr_assert_str_eq(state_now(), "SH"); }

Test(flow, state_SHR)
{
	ts_(SY | A, 0, S(1));
	ts_(F | A, 0, S(2));
	cr_assert_str_eq(state_now(), "SHR");
}

Test(flow, state_OTH)
{
	tc(A | P, 100, S(1));
	ts_(A | P, 100, S(1));
	cr_assert_str_eq(state_now(), "OTH");
}

Test(flow, state_udp)
{
	struct gcp_pkt q = pkt4(CLI, 45000, SRV, 53, IPPROTO_UDP, 0, 30, S(1));
	struct gcp_pkt r = pkt4(SRV, 53, CLI, 45000, IPPROTO_UDP, 0, 60, S(1));

	feed(&q, NULL, NULL);
	cr_assert_str_eq(state_now(), "S0");
	feed(&r, NULL, NULL);
	cr_assert_str_eq(state_now(), "SF");
}

/* ---- conn_count ------------------------------------------------------------ */

static uint32_t conn_at(uint16_t cport, uint16_t sport, uint64_t ts)
{
	struct gcp_pkt p = pkt4(CLI, cport, SRV, sport, IPPROTO_TCP, SY, 0, ts);

	return M(feed(&p, NULL, NULL))->conn_count;
}

Test(flow, conn_count_window)
{
	cr_assert_eq(conn_at(40001, 22, S(100)), 1);
	cr_assert_eq(conn_at(40002, 22, S(110)), 2);
	cr_assert_eq(conn_at(40003, 22, S(159)), 3);
	/* Another service port is another counter. */
	cr_assert_eq(conn_at(40004, 23, S(159)), 1);
	/* 100 s and 110 s have left the 60 s window (111, 171]. */
	cr_assert_eq(conn_at(40005, 22, S(171)), 2);
	/* Long after: only this one. */
	cr_assert_eq(conn_at(40006, 22, S(400)), 1);
	cr_assert_eq(tab.st_cw_evicted, 0);
}

Test(flow, conn_count_long_window)
{
	struct gcp_flow_table t2;
	struct gcp_pkt p;
	int d;
	bool c;
	struct gcp_flow *f = NULL;

	/* 600 s window: 10 s buckets. */
	cr_assert_eq(gcp_flow_table_init(&t2, 16, 600), 0);
	cur = &t2;
	for (int i = 0; i < 5; i++) {
		p = pkt4(CLI, (uint16_t)(1000 + i), SRV, 443, IPPROTO_TCP, SY, 0, S(1000 + 100 * i));
		f = gcp_flow_lookup(&t2, &p, &d, &c, NULL, NULL);
	}
	cr_assert_eq(M(f)->conn_count, 5);
	p = pkt4(CLI, 2000, SRV, 443, IPPROTO_TCP, SY, 0, S(1950));
	f = gcp_flow_lookup(&t2, &p, &d, &c, NULL, NULL);
	cr_assert_eq(M(f)->conn_count, 2, "window (1350, 1950]: 1400 s and this one");
	gcp_flow_table_fini(&t2);
}

Test(flow, conn_count_bounded)
{
	/* 64-flow table -> 1024 window entries; 5000 distinct servers overflow it. */
	for (uint32_t i = 0; i < 5000; i++) {
		struct gcp_pkt p = pkt4(CLI, 40000, SRV + 1 + i, 80, IPPROTO_TCP, SY, 0, S(1));

		cr_assert_eq(M(feed(&p, NULL, NULL))->conn_count, 1);
	}
	cr_assert_gt(tab.st_cw_evicted, 0);
	cr_assert_gt(tab.st_evicted, 0);
}

/* ---- random churn against a brute-force model -------------------------------- */

#define NKEYS 100000u

struct model {
	struct gcp_pkt pkt;    /* a packet of the flow, client to server */
	uint64_t id;           /* 0: not in the table */
	uint64_t expire;
	bool dup;              /* same 4-tuple as an earlier key */
};

static struct model *mdl;
static uint32_t *owner;    /* flow index -> model index + 1 */
static uint64_t expire_now; /* set while gcp_flow_expire runs */

static void churn_end(void *ctx, struct gcp_flow *f)
{
	uint32_t m = owner[f - tab.flows];

	(void)ctx;
	cr_assert_neq(m, 0);
	cr_assert_eq(mdl[m - 1].id, M(f)->id);
	if (expire_now)
		cr_assert_leq(mdl[m - 1].expire, expire_now, "ended before its time");
	mdl[m - 1].id = 0;
	owner[f - tab.flows] = 0;
}

static uint64_t rng = 0x1234567887654321ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t brute_count(void)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < tab.capacity; i++)
		n += tab.flows[i].in_use;
	return n;
}

/* Every bucket's overflow count equals the number of entries whose
 * probe from their home bucket passed it (recomputed from scratch). */
static uint32_t spills_seen; /* overflow counts > 0 met by the checks */

static void check_overflow_counts(void)
{
	uint32_t nb = tab.bmask + 1;
	uint32_t *ovf = calloc(nb, sizeof(*ovf));

	cr_assert_not_null(ovf);
	for (uint32_t b = 0; b < nb; b++) {
		for (unsigned w = 0; w < GCP_FT_WAYS; w++) {
			uint32_t r = tab.buckets[b].ref[w];

			if (!r)
				continue;
			uint32_t h = gcp_flow_hash(&tab, &tab.flows[r - 1].key);

			cr_assert_eq(tab.buckets[b].sig[w], h);
			for (uint32_t x = h & tab.bmask; x != b; x = (x + 1) & tab.bmask)
				ovf[x]++;
		}
	}
	for (uint32_t b = 0; b < nb; b++) {
		cr_assert_eq(tab.buckets[b].ovf, ovf[b], "bucket %u", b);
		spills_seen += ovf[b] != 0;
	}
	free(ovf);
}

static void check_all(uint32_t limit)
{
	uint32_t present = 0, used_slots = 0;

	for (uint32_t i = 0; i < limit; i++) {
		const struct gcp_flow *f = NULL;

		if (!mdl[i].id)
			continue;
		present++;
		/* Brute force: scan the array for the id. */
		for (uint32_t j = 0; j < tab.capacity && !f; j++)
			if (tab.flows[j].in_use && tab.meta[j].id == mdl[i].id)
				f = &tab.flows[j];
		cr_assert_not_null(f);
		cr_assert_eq(owner[f - tab.flows], i + 1);
	}
	for (uint32_t b = 0; b <= tab.bmask; b++)
		for (unsigned w = 0; w < GCP_FT_WAYS; w++)
			used_slots += tab.buckets[b].ref[w] != 0;
	cr_assert_eq(present, tab.count);
	cr_assert_eq(brute_count(), tab.count);
	cr_assert_eq(used_slots, tab.count);
	check_overflow_counts();
}

static void churn(uint32_t cap)
{
	uint64_t now = S(1000);

	cr_assert_eq(gcp_flow_table_init(&tab, cap, 60), 0);
	mdl = calloc(NKEYS, sizeof(*mdl));
	owner = calloc(cap, sizeof(*owner));
	cr_assert(mdl && owner);
	/* Small address and port spaces force collisions and clustering. */
	for (uint32_t i = 0; i < NKEYS; i++) {
		uint64_t r = rnd();

		mdl[i].pkt = pkt4(0x0a000000u | (uint32_t)(r & 0x3ff), (uint16_t)(1024 + ((r >> 10) & 0x3ff)),
				  0x0a000000u | (uint32_t)((r >> 20) & 0x3ff), (uint16_t)(1024 + ((r >> 30) & 0x7)),
				  IPPROTO_UDP, 0, 0, 0);
	}
	for (uint32_t i = 0; i < NKEYS; i++) {
		struct model *m = &mdl[i];
		struct gcp_flow *f;
		int d;
		bool c;
		uint32_t to = 1 + (uint32_t)(rnd() % 40);

		if (i % 500 == 0) {
			now += S(1);
			expire_now = now;
			gcp_flow_expire(&tab, now, churn_end, NULL);
			expire_now = 0;
			for (uint32_t j = 0; j < i; j++)
				cr_assert(!mdl[j].id || mdl[j].expire > now);
		}
		/* Alternate directions: both must land on the same flow. */
		m->pkt.ts_ns = now;
		if (i & 1) {
			struct gcp_pkt q = m->pkt;

			q.src = m->pkt.dst;
			q.dst = m->pkt.src;
			q.sport = m->pkt.dport;
			q.dport = m->pkt.sport;
			f = gcp_flow_lookup(&tab, &q, &d, &c, churn_end, NULL);
		} else {
			f = gcp_flow_lookup(&tab, &m->pkt, &d, &c, churn_end, NULL);
		}
		cr_assert_not_null(f);
		if (!c) {
			/* Existing 4-tuple: an earlier key with the same flow. */
			uint32_t o = owner[f - tab.flows];

			cr_assert_neq(o, 0);
			cr_assert(memcmp(&mdl[o - 1].pkt.src, &m->pkt.src, sizeof(m->pkt.src)) == 0 ||
				  memcmp(&mdl[o - 1].pkt.src, &m->pkt.dst, sizeof(m->pkt.dst)) == 0);
			mdl[o - 1].id = 0;
			m->dup = true;
		}
		owner[f - tab.flows] = i + 1;
		m->id = M(f)->id;
		gcp_flow_update(&tab, f, &m->pkt, d, 100, to, 5);
		m->expire = now + S(to);
		/* Re-find a random earlier live key (from the other side). */
		uint32_t j = (uint32_t)(rnd() % (i + 1));

		if (mdl[j].id) {
			struct gcp_pkt q = mdl[j].pkt;

			q.src = mdl[j].pkt.dst;
			q.dst = mdl[j].pkt.src;
			q.sport = mdl[j].pkt.dport;
			q.dport = mdl[j].pkt.sport;
			f = gcp_flow_lookup(&tab, &q, &d, &c, churn_end, NULL);
			cr_assert(!c);
			cr_assert_eq(M(f)->id, mdl[j].id);
		}
		if (i % (cap < 1024 ? 97 : 20000) == 0)
			check_all(i + 1);
	}
	check_all(NKEYS);
	gcp_flow_flush(&tab, churn_end, NULL);
	for (uint32_t i = 0; i < NKEYS; i++)
		cr_assert_eq(mdl[i].id, 0);
	cr_assert_eq(tab.st_created, tab.st_ended);
	free(mdl);
	free(owner);
	gcp_flow_table_fini(&tab);
}

Test(flow_churn, random_100k, .timeout = 120)
{
	churn(1u << 15);
}

/* 61 flows in 16 buckets: full buckets spill into their neighbours all
 * the time, and the table is full (evictions) for most of the run. */
Test(flow_churn, random_small_table_spills, .timeout = 120)
{
	churn(61);
	cr_assert_gt(spills_seen, 0, "the small table never spilled a bucket");
}
