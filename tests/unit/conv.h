/* SPDX-License-Identifier: BSD-3-Clause */
/* Test helper: records kept as JSON lines, and TCP/UDP conversations
 * built as Ethernet/IPv4 frames and fed through gcp_engine_feed(). */
#ifndef GCP_TEST_CONV_H
#define GCP_TEST_CONV_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcprobe/gcprobe.h"

/* ---- records kept as JSON lines ------------------------------------------ */

#define MAX_RECS 64

struct sink {
	char *json[MAX_RECS];
	unsigned n;
};

static inline void keep(const struct gcp_record *rec, void *user)
{
	struct sink *s = user;
	char buf[16384];

	cr_assert_lt(s->n, MAX_RECS);
	cr_assert_geq(gcp_record_to_json(rec->data, rec->len, buf, sizeof(buf), 0), 0);
	s->json[s->n++] = strdup(buf);
}

static inline void sink_free(struct sink *s)
{
	for (unsigned i = 0; i < s->n; i++)
		free(s->json[i]);
	s->n = 0;
}

/* The first record of a type ("\"type\":\"tcp\""), or NULL. */
static inline const char *find_rec(const struct sink *s, const char *type)
{
	char pat[64];

	snprintf(pat, sizeof(pat), "\"type\":\"%s\"", type);
	for (unsigned i = 0; i < s->n; i++)
		if (strstr(s->json[i], pat))
			return s->json[i];
	return NULL;
}

/* An engine (64 flows, defaults otherwise) whose records all go to s. */
static inline struct gcp_engine *conv_engine(struct sink *s)
{
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;
	struct gcp_engine *e;

	o.node_name = "test";
	o.max_flows = 64;
	cr_assert_eq(gcp_engine_create(&o, &e), 0);
	cr_assert_eq(gcp_engine_subscribe(e, GCP_REC_ALL, keep, s), 0);
	return e;
}

/* ---- frames ----------------------------------------------------------------- */

enum { SYN = 0x02, ACK = 0x10, PSH = 0x08, FIN = 0x01 };

struct conn {
	struct gcp_engine *e;
	uint8_t ip[2][4];      /* [0] client, [1] server */
	uint16_t port[2];
	uint32_t seq[2];
	uint64_t ts;
};

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* One TCP segment from side dir (0 client, 1 server) carrying data. */
static inline void seg(struct conn *c, int dir, uint8_t flags, const void *data, size_t n)
{
	uint8_t f[2048] = { 0 };
	uint8_t *ip = f + 14, *tcp = ip + 20;

	cr_assert_leq(n, sizeof(f) - 54);
	f[12] = 0x08; /* IPv4 */
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(40 + n));
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, c->ip[dir], 4);
	memcpy(ip + 16, c->ip[!dir], 4);
	put16(tcp, c->port[dir]);
	put16(tcp + 2, c->port[!dir]);
	put32(tcp + 4, c->seq[dir]);
	put32(tcp + 8, c->seq[!dir]);
	tcp[12] = 0x50;
	tcp[13] = flags;
	put16(tcp + 14, 65535);
	if (n)
		memcpy(tcp + 20, data, n);
	c->seq[dir] += (uint32_t)n + ((flags & (SYN | FIN)) ? 1 : 0);
	c->ts += 1000000;
	struct gcp_packet p = { f, (uint32_t)(54 + n), (uint32_t)(54 + n), c->ts, GCP_LINK_ETHERNET };

	cr_assert_eq(gcp_engine_feed(c->e, &p), 0);
}

static inline void conn_open(struct conn *c, struct gcp_engine *e, uint8_t host, uint16_t sport)
{
	*c = (struct conn){ .e = e, .ip = { { 10, 0, 0, host }, { 10, 0, 1, 1 } },
			    .port = { (uint16_t)(40000 + host), sport },
			    .seq = { 1000, 5000 }, .ts = 1700000000ull * 1000000000ull };
	seg(c, 0, SYN, NULL, 0);
	seg(c, 1, SYN | ACK, NULL, 0);
	seg(c, 0, ACK, NULL, 0);
}

static inline void say(struct conn *c, int dir, const char *s)
{
	seg(c, dir, PSH | ACK, s, strlen(s));
}

static inline void conn_close(struct conn *c)
{
	seg(c, 0, FIN | ACK, NULL, 0);
	seg(c, 1, FIN | ACK, NULL, 0);
	seg(c, 0, ACK, NULL, 0);
}

/* One UDP datagram from side dir. */
static inline void dgram(struct conn *c, int dir, const void *data, size_t n)
{
	uint8_t f[2048] = { 0 };
	uint8_t *ip = f + 14, *udp = ip + 20;

	cr_assert_leq(n, sizeof(f) - 42);
	f[12] = 0x08;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(28 + n));
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, c->ip[dir], 4);
	memcpy(ip + 16, c->ip[!dir], 4);
	put16(udp, c->port[dir]);
	put16(udp + 2, c->port[!dir]);
	put16(udp + 4, (uint16_t)(8 + n));
	if (n)
		memcpy(udp + 8, data, n);
	c->ts += 1000000;
	struct gcp_packet p = { f, (uint32_t)(42 + n), (uint32_t)(42 + n), c->ts, GCP_LINK_ETHERNET };

	cr_assert_eq(gcp_engine_feed(c->e, &p), 0);
}

static inline void udp_open(struct conn *c, struct gcp_engine *e, uint8_t host, uint16_t sport)
{
	*c = (struct conn){ .e = e, .ip = { { 10, 0, 0, host }, { 10, 0, 1, 1 } },
			    .port = { (uint16_t)(40000 + host), sport },
			    .ts = 1700000000ull * 1000000000ull };
}

#endif /* GCP_TEST_CONV_H */
