/* SPDX-License-Identifier: BSD-3-Clause */
/* gcp_attack: deterministic adversarial traffic (SYN flood, fragment
 * flood, overlapping fragments, endless out-of-order TCP, huge HTTP
 * headers and chunk sizes, DNS compression loops, millions of tiny
 * flows) written as a classic pcap, with legitimate HTTP and DNS
 * sessions (host/qname legit-N.example) interleaved through the attack
 * so a test can check that their records survive it. IPv4 only; IP
 * header checksums valid, TCP/UDP checksums 0 (the probe ignores them). */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_wire.h"

#define FRAME_MAX 1514
#define MSS 1448
#define LEGIT_CONC 4        /* legitimate sessions in progress at once */
#define OOO_CONNS 64        /* connections the out-of-order attack keeps open */
#define HTTP_SEG_PKTS 720   /* ~1 MiB header line = this many MSS segments */

enum attack { A_SYN, A_FRAG, A_OVERLAP, A_OOO, A_HTTP, A_DNS, A_TINY, A_NONE, A_COUNT };

static const char *const attack_names[A_COUNT] = {
	"synflood", "fragflood", "overlap", "ooo", "httphuge", "dnsloop", "tinyflows", "none",
};

/* One TCP connection as the generator drives it. */
struct conn {
	uint32_t ip[2];     /* [0] client, [1] server */
	uint16_t port[2];
	uint32_t seq[2];
};

struct legit {
	bool active, dns;
	unsigned id, step;
	struct conn c;
};

struct gen {
	enum attack kind;
	uint64_t rng, ts_ns;
	uint64_t attack_pkts, emitted, legit_pkts;
	unsigned nlegit, legit_next;
	struct legit lg[LEGIT_CONC];
	struct conn ooo[OOO_CONNS];
	uint32_t ooo_ahead[OOO_CONNS];
	unsigned ooo_open;
	/* httphuge: the connection being streamed and how far it is. */
	struct conn hc;
	unsigned h_kind, h_left;
	uint16_t ip_id;
	FILE *out;
	uint8_t frame[FRAME_MAX + 64];
	uint8_t buf[65536];
};

/* ---- PRNG (splitmix64: deterministic for a seed) ------------------- */

static uint64_t rnd(struct gen *g)
{
	return gen_splitmix64(&g->rng);
}

static uint32_t rnd_n(struct gen *g, uint32_t n)
{
	return (uint32_t)(rnd(g) % n);
}

/* Random address in 100.64.0.0/10: never one of the legit 10/8 hosts. */
static uint32_t rnd_ip(struct gen *g)
{
	return 0x64400000u | rnd_n(g, 1u << 22);
}

/* ---- frames ------------------------------------------------------- */

/* pcap record header + frame; time advances 1 us a packet. */
static void write_frame(struct gen *g, unsigned len)
{
	g->ts_ns += 1000;
	gen_pcap_record(g->out, g->ts_ns, g->frame, len);
	g->emitted++;
}

/* Ethernet + IPv4 header; frag is the flags/offset field. Returns the L4 start. */
static uint8_t *put_ip(struct gen *g, uint32_t src, uint32_t dst, unsigned proto, unsigned l4len,
		       uint16_t id, uint16_t frag)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
	uint8_t *p = g->frame, *ip;

	memcpy(p, macs, 12);
	p = put16(p + 12, 0x0800);
	ip = p;
	*p++ = 0x45;
	*p++ = 0;
	p = put16(p, 20 + l4len);
	p = put16(p, id);
	p = put16(p, frag);
	*p++ = 64;
	*p++ = (uint8_t)proto;
	p = put16(p, 0);
	p = put32(p, src);
	p = put32(p, dst);
	ip4_csum(ip);
	return p;
}

static void udp_pkt(struct gen *g, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
		    const uint8_t *d, unsigned n)
{
	uint8_t *p = put_ip(g, src, dst, 17, 8 + n, g->ip_id++, 0x4000);

	p = put16(p, sport);
	p = put16(p, dport);
	p = put16(p, 8 + n);
	p = put16(p, 0);
	memcpy(p, d, n);
	write_frame(g, (unsigned)(p + n - g->frame));
}

enum { F_FIN = 1, F_SYN = 2, F_RST = 4, F_PSH = 8, F_ACK = 16 };

/* A segment from side dir of c at sequence seq (c->seq untouched). */
static void tcp_raw(struct gen *g, const struct conn *c, int dir, uint32_t seq, unsigned flags,
		    const uint8_t *d, unsigned n)
{
	uint8_t *p = put_ip(g, c->ip[dir], c->ip[!dir], 6, 20 + n, g->ip_id++, 0x4000);

	p = put16(p, c->port[dir]);
	p = put16(p, c->port[!dir]);
	p = put32(p, seq);
	p = put32(p, (flags & F_ACK) ? c->seq[!dir] : 0);
	*p++ = 5 << 4;
	*p++ = (uint8_t)flags;
	p = put16(p, 65535);
	p = put32(p, 0);
	if (n)
		memcpy(p, d, n);
	write_frame(g, (unsigned)(p + n - g->frame));
}

/* An in-order segment: sequence advances by n (and 1 for SYN/FIN). */
static void tcp_pkt(struct gen *g, struct conn *c, int dir, unsigned flags, const uint8_t *d,
		    unsigned n)
{
	tcp_raw(g, c, dir, c->seq[dir], flags, d, n);
	c->seq[dir] += n + ((flags & (F_SYN | F_FIN)) ? 1 : 0);
}

static void tcp_open(struct gen *g, struct conn *c)
{
	c->seq[0] = (uint32_t)rnd(g);
	c->seq[1] = (uint32_t)rnd(g);
	tcp_pkt(g, c, 0, F_SYN, NULL, 0);
	tcp_pkt(g, c, 1, F_SYN | F_ACK, NULL, 0);
	tcp_pkt(g, c, 0, F_ACK, NULL, 0);
}

static void tcp_close(struct gen *g, struct conn *c)
{
	tcp_pkt(g, c, 0, F_FIN | F_ACK, NULL, 0);
	tcp_pkt(g, c, 1, F_FIN | F_ACK, NULL, 0);
	tcp_pkt(g, c, 0, F_ACK, NULL, 0);
}

/* Stream n bytes of d from dir in MSS-sized segments. */
static void tcp_send(struct gen *g, struct conn *c, int dir, const uint8_t *d, size_t n)
{
	for (size_t off = 0; off < n; off += MSS) {
		unsigned len = n - off < MSS ? (unsigned)(n - off) : MSS;

		tcp_pkt(g, c, dir, F_ACK | F_PSH, d + off, len);
	}
}

/* ---- legitimate sessions ----------------------------------------- */

/* DNS query (qr = 0) or answer (A 192.0.2.1) for legit-<id>.example. */
static unsigned dns_msg(uint8_t *b, unsigned id, bool answer)
{
	char name[32];
	uint8_t *p = b;
	int n = snprintf(name, sizeof(name), "legit-%u", id);

	p = put16(p, id & 0xffff);
	p = put16(p, answer ? 0x8180 : 0x0100);
	p = put16(p, 1);
	p = put16(p, answer ? 1 : 0);
	p = put32(p, 0);
	*p++ = (uint8_t)n;
	memcpy(p, name, (size_t)n);
	p += n;
	*p++ = 7;
	memcpy(p, "example", 7);
	p += 7;
	*p++ = 0;
	p = put16(p, 1);
	p = put16(p, 1);
	if (answer) {
		static const uint8_t rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1 };

		memcpy(p, rr, sizeof(rr));
		p += sizeof(rr);
	}
	return (unsigned)(p - b);
}

static void legit_start(struct gen *g, struct legit *l)
{
	l->active = true;
	l->id = g->legit_next++;
	l->dns = l->id & 1;
	l->step = 0;
	l->c.ip[0] = 0x0a630000u | (l->id & 0xffff);          /* 10.99.x.y */
	l->c.ip[1] = l->dns ? 0x0a620035u : 0x0a620050u;       /* 10.98.0.53 / .80 */
	l->c.port[0] = (uint16_t)(20000 + l->id % 40000);
	l->c.port[1] = l->dns ? 53 : 80;
}

static void legit_http_step(struct gen *g, struct legit *l)
{
	static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				  "Content-Length: 5\r\n\r\nhello";
	char req[160];
	int n;

	switch (l->step++) {
	case 0: l->c.seq[0] = (uint32_t)rnd(g); l->c.seq[1] = (uint32_t)rnd(g);
		tcp_pkt(g, &l->c, 0, F_SYN, NULL, 0); return;
	case 1: tcp_pkt(g, &l->c, 1, F_SYN | F_ACK, NULL, 0); return;
	case 2: tcp_pkt(g, &l->c, 0, F_ACK, NULL, 0); return;
	case 3:
		n = snprintf(req, sizeof(req),
			     "GET /item/%u HTTP/1.1\r\nHost: legit-%u.example\r\n"
			     "User-Agent: gcp-attack\r\n\r\n", l->id, l->id);
		tcp_pkt(g, &l->c, 0, F_ACK | F_PSH, (const uint8_t *)req, (unsigned)n);
		return;
	case 4: tcp_pkt(g, &l->c, 1, F_ACK | F_PSH, (const uint8_t *)rsp, sizeof(rsp) - 1); return;
	case 5: tcp_pkt(g, &l->c, 0, F_FIN | F_ACK, NULL, 0); return;
	case 6: tcp_pkt(g, &l->c, 1, F_FIN | F_ACK, NULL, 0); return;
	default: tcp_pkt(g, &l->c, 0, F_ACK, NULL, 0); l->active = false; return;
	}
}

static void legit_dns_step(struct gen *g, struct legit *l)
{
	uint8_t b[128];
	unsigned n = dns_msg(b, l->id, l->step == 1);

	udp_pkt(g, l->c.ip[l->step], l->c.port[l->step], l->c.ip[!l->step], l->c.port[!l->step],
		b, n);
	if (++l->step == 2)
		l->active = false;
}

/* One packet of some legitimate session; false when none is left. */
static bool legit_step(struct gen *g)
{
	for (unsigned k = 0; k < LEGIT_CONC; k++) {
		struct legit *l = &g->lg[(g->legit_pkts + k) % LEGIT_CONC];

		if (!l->active && g->legit_next < g->nlegit)
			legit_start(g, l);
		if (!l->active)
			continue;
		if (l->dns)
			legit_dns_step(g, l);
		else
			legit_http_step(g, l);
		g->legit_pkts++;
		return true;
	}
	return false;
}

/* ---- attacks ------------------------------------------------------- */

static void syn_flood(struct gen *g)
{
	struct conn c = { { rnd_ip(g), 0x0a010001u + rnd_n(g, 4) },
			  { (uint16_t)(1024 + rnd_n(g, 64000)), 80 }, { (uint32_t)rnd(g), 0 } };

	tcp_raw(g, &c, 0, c.seq[0], F_SYN, NULL, 0);
}

/* One packet per flow: random 5-tuple, TCP with a byte or UDP. */
static void tiny_flow(struct gen *g)
{
	uint32_t src = rnd_ip(g), dst = rnd_ip(g);
	uint16_t sp = (uint16_t)(1024 + rnd_n(g, 64000)), dp = (uint16_t)(1 + rnd_n(g, 65000));
	uint8_t d[16];

	memset(d, 'x', sizeof(d));
	if (rnd(g) & 1) {
		struct conn c = { { src, dst }, { sp, dp }, { (uint32_t)rnd(g), 0 } };

		tcp_raw(g, &c, 0, c.seq[0], F_ACK | F_PSH, d, 1);
	} else {
		udp_pkt(g, src, sp, dst, dp, d, sizeof(d));
	}
}

static void frag_pkt(struct gen *g, uint32_t src, uint32_t dst, uint16_t id, unsigned off8,
		     bool more, const uint8_t *d, unsigned n)
{
	uint8_t *p = put_ip(g, src, dst, 17, n, id, (uint16_t)((more ? 0x2000 : 0) | off8));

	memcpy(p, d, n);
	write_frame(g, (unsigned)(p + n - g->frame));
}

/* Datagrams that never complete: a first or a middle fragment only. */
static void frag_flood(struct gen *g)
{
	uint8_t d[64];

	memset(d, 'f', sizeof(d));
	frag_pkt(g, rnd_ip(g), 0x0a010001u, (uint16_t)rnd(g), rnd_n(g, 2) ? 0 : 1 + rnd_n(g, 100),
		 true, d, sizeof(d));
}

/*
 * A complete UDP datagram (to port 7777) sent as fragments that overlap
 * with conflicting bytes: Teardrop (a later fragment inside an earlier
 * one), a partial overlap, and a duplicate with different data.
 */
static void overlap_dgram(struct gen *g)
{
	uint32_t src = rnd_ip(g), dst = 0x0a010002u;
	uint16_t id = (uint16_t)rnd(g);
	uint8_t d[200], x[200];
	unsigned kind = rnd_n(g, 3);

	memset(d, 'A', sizeof(d));
	memset(x, 'Z', sizeof(x));
	put16(d, 40000);
	put16(d + 2, 7777);
	put16(d + 4, 120);
	put16(d + 6, 0);
	frag_pkt(g, src, dst, id, 0, true, d, 48);
	if (kind == 0) /* Teardrop: inside the first, ending before its end */
		frag_pkt(g, src, dst, id, 1, true, x, 16);
	else if (kind == 1) /* partial overlap of units 4..9 */
		frag_pkt(g, src, dst, id, 4, true, x, 48);
	else /* same offset, other data */
		frag_pkt(g, src, dst, id, 0, true, x, 48);
	frag_pkt(g, src, dst, id, 6, true, d + 48, 48);
	frag_pkt(g, src, dst, id, 12, false, d + 96, 24);
}

/*
 * Endless out-of-order TCP: OOO_CONNS connections whose first data byte
 * never arrives; segments keep coming further and further ahead, many
 * of them tiny (the per-segment overhead is what a pool must bound).
 */
static void ooo_step(struct gen *g)
{
	unsigned i = rnd_n(g, OOO_CONNS);
	struct conn *c = &g->ooo[i];

	if (i >= g->ooo_open) {
		i = g->ooo_open++;
		c = &g->ooo[i];
		c->ip[0] = rnd_ip(g);
		c->ip[1] = 0x0a010003u;
		c->port[0] = (uint16_t)(1024 + i);
		c->port[1] = 80;
		tcp_open(g, c);
		g->ooo_ahead[i] = 1 + rnd_n(g, 1000);
		return;
	}
	unsigned len = rnd_n(g, 4) ? 1 + rnd_n(g, 8) : 1 + rnd_n(g, MSS);

	memset(g->buf, 'o', len);
	if (rnd_n(g, 4) == 0) {
		/* into the small holes left behind the front: inserts mid-list */
		tcp_raw(g, c, 0, c->seq[0] + 1 + rnd_n(g, g->ooo_ahead[i]), F_ACK | F_PSH, g->buf,
			len);
		return;
	}
	tcp_raw(g, c, 0, c->seq[0] + g->ooo_ahead[i], F_ACK | F_PSH, g->buf, len);
	/* mostly march forward past the hole, sometimes jump far ahead */
	g->ooo_ahead[i] += rnd_n(g, 64) ? len + rnd_n(g, 16) : 1u << (20 + rnd_n(g, 9));
}

/* httphuge kinds: 1 MiB header line, 5000 headers, huge chunk size, garbage chunk size. */
enum { H_LONGLINE, H_MANY, H_CHUNK_HUGE, H_CHUNK_GARBAGE, H_KINDS };

static void http_begin(struct gen *g)
{
	static unsigned n;
	struct conn *c = &g->hc;
	int len;

	c->ip[0] = rnd_ip(g);
	c->ip[1] = 0x0a010004u;
	c->port[0] = (uint16_t)(1024 + (n++ % 60000));
	c->port[1] = 80;
	g->h_kind = rnd_n(g, H_KINDS);
	tcp_open(g, c);
	switch (g->h_kind) {
	case H_LONGLINE:
		len = snprintf((char *)g->buf, sizeof(g->buf),
			       "GET /long HTTP/1.1\r\nHost: attack.example\r\nX-Long: ");
		tcp_send(g, c, 0, g->buf, (size_t)len);
		g->h_left = HTTP_SEG_PKTS;
		return;
	case H_MANY:
		len = snprintf((char *)g->buf, sizeof(g->buf),
			       "GET /many HTTP/1.1\r\nHost: attack.example\r\n");
		tcp_send(g, c, 0, g->buf, (size_t)len);
		g->h_left = 5000 * 16 / MSS + 1;
		return;
	default:
		len = snprintf((char *)g->buf, sizeof(g->buf),
			       "GET /chunk HTTP/1.1\r\nHost: attack.example\r\n\r\n");
		tcp_send(g, c, 0, g->buf, (size_t)len);
		len = snprintf((char *)g->buf, sizeof(g->buf),
			       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s\r\n",
			       g->h_kind == H_CHUNK_HUGE ? "ffffffffffffffffffffffff" : "zz;%%\x01");
		tcp_send(g, c, 1, g->buf, (size_t)len);
		g->h_left = 200;
		return;
	}
}

/* One segment of the current huge-HTTP connection (a new one when done). */
static void http_step(struct gen *g)
{
	struct conn *c = &g->hc;

	if (!g->h_left) {
		http_begin(g);
		return;
	}
	if (g->h_kind == H_LONGLINE) {
		memset(g->buf, 'L', MSS);
		tcp_pkt(g, c, 0, F_ACK, g->buf, MSS);
	} else if (g->h_kind == H_MANY) {
		for (unsigned i = 0; i < MSS / 16; i++)
			snprintf((char *)g->buf + i * 16, 17, "X-h%07u: v\r\n",
				 (g->h_left * 100 + i) % 10000000);
		tcp_pkt(g, c, 0, F_ACK, g->buf, MSS / 16 * 16);
	} else {
		memset(g->buf, g->h_kind == H_CHUNK_HUGE ? 'C' : 0xff, MSS);
		tcp_pkt(g, c, 1, F_ACK, g->buf, MSS);
	}
	if (--g->h_left == 0)
		tcp_close(g, c);
}

/*
 * DNS compression loops (RFC 1035 4.1.4 only allows pointers to earlier
 * names): a name pointing at itself, two names pointing at each other,
 * a forward pointer, and a long chain of backward pointers; over UDP
 * and over TCP (2-byte length prefix, RFC 1035 4.2.2).
 */
static unsigned dns_loop_msg(struct gen *g, uint8_t *b)
{
	uint8_t *p = b;
	unsigned kind = rnd_n(g, 4);

	p = put16(p, (unsigned)rnd(g) & 0xffff);
	p = put16(p, 0x8180);
	p = put16(p, 1);
	p = put16(p, kind == 3 ? 40 : 1);
	p = put32(p, 0);
	switch (kind) {
	case 0: /* question name = pointer to itself */
		p = put16(p, 0xc00c);
		break;
	case 1: /* label, then a pointer to the start of the name */
		*p++ = 1;
		*p++ = 'a';
		p = put16(p, 0xc00c);
		break;
	default: /* forward pointer to the answer's name */
		p = put16(p, 0xc000 | 18); /* the answer's name, which points back */
		break;
	}
	p = put16(p, 1);
	p = put16(p, 1);
	if (kind == 1 || kind == 2) {
		/* answer name points back to the question's name */
		p = put16(p, 0xc00c);
		p = put16(p, 1);
		p = put16(p, 1);
		p = put32(p, 60);
		p = put16(p, 4);
		p = put32(p, 0xc0000201u);
	} else if (kind == 3) {
		/* each answer's name points at the previous one: a 40-hop chain */
		for (unsigned i = 0; i < 40; i++) {
			p = put16(p, 0xc000 | (unsigned)(i ? p - b - 16 : 12));
			p = put16(p, 1);
			p = put16(p, 1);
			p = put32(p, 60);
			p = put16(p, 4);
			p = put32(p, 0xc0000201u);
		}
	}
	return (unsigned)(p - b);
}

static void dns_loop(struct gen *g)
{
	uint8_t m[2048];
	unsigned n = dns_loop_msg(g, m + 2);
	uint32_t cli = rnd_ip(g), srv = 0x0a010035u;

	if (rnd_n(g, 4)) {
		udp_pkt(g, srv, 53, cli, (uint16_t)(1024 + rnd_n(g, 64000)), m + 2, n);
		return;
	}
	struct conn c = { { cli, srv }, { (uint16_t)(1024 + rnd_n(g, 64000)), 53 }, { 0, 0 } };

	put16(m, n);
	tcp_open(g, &c);
	tcp_pkt(g, &c, 1, F_ACK | F_PSH, m, n + 2);
	tcp_close(g, &c);
}

static void attack_step(struct gen *g)
{
	switch (g->kind) {
	case A_SYN: syn_flood(g); return;
	case A_FRAG: frag_flood(g); return;
	case A_OVERLAP: overlap_dgram(g); return;
	case A_OOO: ooo_step(g); return;
	case A_HTTP: http_step(g); return;
	case A_DNS: dns_loop(g); return;
	case A_TINY: tiny_flow(g); return;
	default: return;
	}
}

/* ---- main ---------------------------------------------------------- */

static int usage(const char *why, const char *arg)
{
	fprintf(stderr, "gcp_attack: error: %s%s%s\n", why, arg ? ": " : "", arg ? arg : "");
	fprintf(stderr,
		"usage: gcp_attack --attack NAME --out FILE [--packets N] [--legit N] [--seed N]\n"
		"  NAME: synflood fragflood overlap ooo httphuge dnsloop tinyflows none\n"
		"  --packets: attack packets (default 100000); --legit: legitimate\n"
		"  sessions interleaved (default 600: half HTTP, half DNS; at most 60000)\n");
	return 2;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	*v = strtoull(s, &end, 10);
	return *end == '\0';
}

static int parse_args(struct gen *g, int argc, char **argv, const char **path)
{
	static const struct option opts[] = {
		{ "attack", 1, NULL, 'a' }, { "out", 1, NULL, 'o' }, { "packets", 1, NULL, 'n' },
		{ "legit", 1, NULL, 'l' },  { "seed", 1, NULL, 's' }, { NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "a:o:n:l:s:", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			for (g->kind = 0; g->kind < A_COUNT; g->kind++)
				if (!strcmp(optarg, attack_names[g->kind]))
					break;
			if (g->kind == A_COUNT)
				return usage("unknown attack", optarg);
			break;
		case 'o': *path = optarg; break;
		case 'n':
			if (!parse_u64(optarg, &g->attack_pkts))
				return usage("--packets is not a number", optarg);
			break;
		case 'l':
			if (!parse_u64(optarg, &v) || v > 60000)
				return usage("--legit is not 0..60000", optarg);
			g->nlegit = (unsigned)v;
			break;
		case 's':
			if (!parse_u64(optarg, &g->rng))
				return usage("--seed is not a number", optarg);
			break;
		default: return usage("bad option", NULL);
		}
	}
	if (optind < argc)
		return usage("unexpected argument", argv[optind]);
	if (g->kind == A_COUNT)
		return usage("--attack is required", NULL);
	if (!*path)
		return usage("--out is required", NULL);
	return 0;
}

int main(int argc, char **argv)
{
	static struct gen g = { .kind = A_COUNT, .attack_pkts = 100000, .nlegit = 600, .rng = 1,
				.ts_ns = 1709546400ull * 1000000000ull };
	static const uint8_t hdr[24] = { 0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0,
					 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0 };
	const char *path = NULL;

	if (parse_args(&g, argc, argv, &path) != 0)
		return 2;
	g.out = fopen(path, "wb");
	if (!g.out) {
		fprintf(stderr, "gcp_attack: error: cannot write %s\n", path);
		return 1;
	}
	setvbuf(g.out, NULL, _IOFBF, 1 << 20);
	fwrite(hdr, 1, sizeof(hdr), g.out);
	/* One legitimate packet every `every` packets, spread over the whole attack. */
	uint64_t legit_total = (uint64_t)g.nlegit * 5; /* 8 (HTTP) + 2 (DNS) per pair / 2 */
	uint64_t every = g.kind == A_NONE || !legit_total ? 1 : g.attack_pkts / legit_total + 1;
	uint64_t attack_done = 0, next_legit = 0;

	while (g.kind != A_NONE && attack_done < g.attack_pkts) {
		uint64_t before = g.emitted;

		if (g.emitted >= next_legit) {
			next_legit += every;
			if (legit_step(&g))
				continue;
		}
		attack_step(&g);
		attack_done += g.emitted - before;
	}
	while (legit_step(&g))
		;
	int rc = fclose(g.out) == 0 ? 0 : 1;

	printf("{\"attack\":\"%s\",\"out\":\"%s\",\"packets\":%llu,\"attack_packets\":%llu,"
	       "\"legit_http\":%u,\"legit_dns\":%u}\n",
	       attack_names[g.kind], path, (unsigned long long)g.emitted,
	       (unsigned long long)attack_done, g.nlegit - g.nlegit / 2, g.nlegit / 2);
	return rc;
}
