/* SPDX-License-Identifier: BSD-3-Clause */
/* gcp_gen: deterministic traffic generator writing classic pcaps of
 * realistic mixes (enterprise, IMIX, 64-byte, fixed size) over many
 * concurrent flows with clean TCP streams. IPv4 header checksums are
 * valid; TCP/UDP checksums are left 0 (the probe does not verify them). */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/payloads.h"
#include "gen_wire.h"

enum proto { P_HTTP, P_TLS, P_DNS, P_SMTP, P_POP3, P_IMAP, P_FTP, P_FTPDATA, P_BULK, P_RAW };
enum profile { PR_ENTERPRISE, PR_IMIX, PR_64B, PR_SIZE };
enum state { S_SYN, S_SYNACK, S_ACK, S_DATA, S_FIN1, S_FIN2, S_FIN3, S_DONE };

struct msg {
	uint32_t off, len;
	uint8_t dir, spawn;
};

struct sess {
	bool used, udp, v6, vlan, vxlan;
	uint8_t proto, state;
	uint8_t cli[16], srv[16];
	uint16_t cport, sport, vid, spawn_port;
	uint32_t vni, raw_left;
	uint32_t seq[2];
	uint8_t unacked[2];
	struct pbuf data;
	struct msg *msgs;
	unsigned nmsg, mcap, mi;
	uint32_t moff;
};

struct gen {
	enum profile prof;
	unsigned flows, size;
	uint64_t packets, emitted, bytes;
	double v6_share, vlan_share, vxlan_share;
	uint64_t rng, ts_ns;
	uint32_t next_id;
	bool draining;
	struct sess *s;
	FILE *out;
	const char *path;
	uint8_t frame[2048];
};

/* ---- PRNG (splitmix64: deterministic for a seed) ------------------- */

static uint64_t rnd(struct gen *g)
{
	return gen_splitmix64(&g->rng);
}

static unsigned rnd_n(struct gen *g, unsigned n)
{
	return (unsigned)(rnd(g) % n);
}

static bool chance(struct gen *g, double p)
{
	return (double)(rnd(g) >> 11) / 9007199254740992.0 < p;
}

/* Pick an index from integer weights. */
static unsigned pick(struct gen *g, const unsigned *w, unsigned n)
{
	unsigned tot = 0, r;

	for (unsigned i = 0; i < n; i++)
		tot += w[i];
	r = rnd_n(g, tot);
	for (unsigned i = 0; i < n; i++) {
		if (r < w[i])
			return i;
		r -= w[i];
	}
	return n - 1;
}

/* ---- session scripts ------------------------------------------------ */

static void add_msg(struct sess *s, int dir, size_t start, bool spawn)
{
	if (s->nmsg == s->mcap) {
		s->mcap = s->mcap ? s->mcap * 2 : 16;
		s->msgs = realloc(s->msgs, s->mcap * sizeof(*s->msgs));
		if (!s->msgs)
			abort();
	}
	s->msgs[s->nmsg++] = (struct msg){ (uint32_t)start, (uint32_t)(s->data.n - start),
					   (uint8_t)dir, spawn };
}

/* Append formatted text as one message from dir. */
#define SAY(s, dir, ...)                            \
	do {                                        \
		size_t st_ = (s)->data.n;           \
		pb_fmt(&(s)->data, __VA_ARGS__);    \
		add_msg((s), (dir), st_, false);    \
	} while (0)

static size_t body_size(struct gen *g)
{
	static const unsigned w[] = { 30, 30, 20, 12, 6, 2 };
	static const size_t sz[] = { 400, 2000, 8000, 30000, 120000, 600000 };
	size_t base = sz[pick(g, w, 6)];

	return base / 2 + rnd_n(g, (unsigned)base);
}

static void script_http(struct gen *g, struct sess *s, unsigned id)
{
	unsigned n = 1 + rnd_n(g, 4);

	for (unsigned i = 0; i < n; i++) {
		size_t st = s->data.n;

		pl_http_req(&s->data, "www.example.com", id + i);
		add_msg(s, 0, st, false);
		st = s->data.n;
		pl_http_resp(&s->data, body_size(g), id + i);
		add_msg(s, 1, st, false);
	}
}

static void script_tls(struct gen *g, struct sess *s, unsigned id)
{
	char sni[64];
	size_t st = s->data.n;

	snprintf(sni, sizeof(sni), "api%u.example.com", id % 500);
	pl_tls_client_hello(&s->data, sni, id);
	add_msg(s, 0, st, false);
	st = s->data.n;
	pl_tls_server_flight(&s->data, id);
	add_msg(s, 1, st, false);
	st = s->data.n;
	pl_tls_client_finish(&s->data, id);
	add_msg(s, 0, st, false);
	st = s->data.n;
	pl_tls_server_finish(&s->data, id);
	add_msg(s, 1, st, false);
	for (unsigned i = 0, n = 1 + rnd_n(g, 3); i < n; i++) {
		st = s->data.n;
		pl_tls_appdata(&s->data, 300 + rnd_n(g, 900), id + i);
		add_msg(s, 0, st, false);
		st = s->data.n;
		pl_tls_appdata(&s->data, body_size(g), id + i);
		add_msg(s, 1, st, false);
	}
}

static void script_dns(struct gen *g, struct sess *s, unsigned id)
{
	char name[64];

	for (unsigned i = 0, n = 1 + (rnd_n(g, 4) == 0); i < n; i++) {
		size_t st = s->data.n;

		snprintf(name, sizeof(name), "host%u.svc%u.example.com", (id + i) % 2000, id % 37);
		pl_dns_query(&s->data, id + i, name);
		add_msg(s, 0, st, false);
		st = s->data.n;
		pl_dns_response(&s->data, id + i, name);
		add_msg(s, 1, st, false);
	}
}

/* An RFC 5322 message with CRLF lines; dot-stuffing not needed (no "."). */
static void mail_body(struct pbuf *b, size_t n, unsigned id)
{
	pb_fmt(b, "From: Alice <alice@example.org>\r\nTo: Bob <bob@example.com>\r\n"
		  "Subject: quarterly report %u\r\nDate: Mon, 4 Mar 2024 10:00:00 +0000\r\n"
		  "Message-ID: <%u.%08x@example.org>\r\nMIME-Version: 1.0\r\n"
		  "Content-Type: text/plain; charset=utf-8\r\n\r\n",
	       id, id, id * 2654435761u);
	for (size_t done = 0; done < n; done += 78) {
		pb_fill(b, 76, id + done, 1);
		for (size_t i = b->n - 76; i < b->n; i++)
			if (b->p[i] == '\n' || b->p[i] == '.')
				b->p[i] = ' ';
		pb_put(b, "\r\n", 2);
	}
}

static size_t mail_size(struct gen *g)
{
	return 1000 + rnd_n(g, 40000);
}

static void script_smtp(struct gen *g, struct sess *s, unsigned id)
{
	SAY(s, 1, "220 mail.example.com ESMTP Postfix\r\n");
	SAY(s, 0, "EHLO client%u.example.org\r\n", id % 100);
	SAY(s, 1, "250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
		  "250-8BITMIME\r\n250 SMTPUTF8\r\n");
	SAY(s, 0, "MAIL FROM:<alice%u@example.org>\r\n", id % 300);
	SAY(s, 1, "250 2.1.0 Ok\r\n");
	SAY(s, 0, "RCPT TO:<bob%u@example.com>\r\n", id % 700);
	SAY(s, 1, "250 2.1.5 Ok\r\n");
	SAY(s, 0, "DATA\r\n");
	SAY(s, 1, "354 End data with <CR><LF>.<CR><LF>\r\n");
	size_t st = s->data.n;

	mail_body(&s->data, mail_size(g), id);
	pb_put(&s->data, ".\r\n", 3);
	add_msg(s, 0, st, false);
	SAY(s, 1, "250 2.0.0 Ok: queued as %08X\r\n", id);
	SAY(s, 0, "QUIT\r\n");
	SAY(s, 1, "221 2.0.0 Bye\r\n");
}

static void script_pop3(struct gen *g, struct sess *s, unsigned id)
{
	struct pbuf m = { 0 };

	mail_body(&m, mail_size(g), id);
	SAY(s, 1, "+OK Dovecot ready.\r\n");
	SAY(s, 0, "USER bob%u\r\n", id % 700);
	SAY(s, 1, "+OK\r\n");
	SAY(s, 0, "PASS secret\r\n");
	SAY(s, 1, "+OK Logged in.\r\n");
	SAY(s, 0, "RETR 1\r\n");
	size_t st = s->data.n;

	pb_fmt(&s->data, "+OK %zu octets\r\n", m.n);
	pb_put(&s->data, m.p, m.n);
	pb_put(&s->data, ".\r\n", 3);
	add_msg(s, 1, st, false);
	SAY(s, 0, "QUIT\r\n");
	SAY(s, 1, "+OK Logging out.\r\n");
	free(m.p);
}

static void script_imap(struct gen *g, struct sess *s, unsigned id)
{
	struct pbuf m = { 0 };

	mail_body(&m, mail_size(g), id);
	SAY(s, 1, "* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE AUTH=PLAIN] "
		  "Dovecot ready.\r\n");
	SAY(s, 0, "a1 LOGIN bob%u secret\r\n", id % 700);
	SAY(s, 1, "a1 OK Logged in\r\n");
	SAY(s, 0, "a2 SELECT INBOX\r\n");
	SAY(s, 1, "* 1 EXISTS\r\n* 0 RECENT\r\na2 OK [READ-WRITE] Select completed.\r\n");
	SAY(s, 0, "a3 FETCH 1 BODY[]\r\n");
	size_t st = s->data.n;

	pb_fmt(&s->data, "* 1 FETCH (BODY[] {%zu}\r\n", m.n);
	pb_put(&s->data, m.p, m.n);
	pb_fmt(&s->data, ")\r\na3 OK Fetch completed.\r\n");
	add_msg(s, 1, st, false);
	SAY(s, 0, "a4 LOGOUT\r\n");
	SAY(s, 1, "* BYE Logging out\r\na4 OK Logout completed.\r\n");
	free(m.p);
}

/* FTP control (RFC 959); the data connection starts after the 227/229 reply. */
static void script_ftp(struct gen *g, struct sess *s, unsigned id)
{
	unsigned port = 30000 + rnd_n(g, 30000);
	size_t st;

	s->spawn_port = (uint16_t)port;
	SAY(s, 1, "220 ProFTPD Server (Example) ready.\r\n");
	SAY(s, 0, "USER anonymous\r\n");
	SAY(s, 1, "331 Anonymous login ok, send your complete email address as your password\r\n");
	SAY(s, 0, "PASS guest@example.org\r\n");
	SAY(s, 1, "230 Anonymous access granted, restrictions apply\r\n");
	SAY(s, 0, "TYPE I\r\n");
	SAY(s, 1, "200 Type set to I\r\n");
	SAY(s, 0, s->v6 ? "EPSV\r\n" : "PASV\r\n");
	st = s->data.n;
	if (s->v6)
		pb_fmt(&s->data, "229 Entering Extended Passive Mode (|||%u|)\r\n", port);
	else
		pb_fmt(&s->data, "227 Entering Passive Mode (%u,%u,%u,%u,%u,%u).\r\n", s->srv[0],
		       s->srv[1], s->srv[2], s->srv[3], port >> 8, port & 0xff);
	add_msg(s, 1, st, true);
	SAY(s, 0, "RETR pub/file-%u.bin\r\n", id);
	SAY(s, 1, "150 Opening BINARY mode data connection for file-%u.bin\r\n", id);
	SAY(s, 1, "226 Transfer complete\r\n");
	SAY(s, 0, "QUIT\r\n");
	SAY(s, 1, "221 Goodbye.\r\n");
}

static void script_bulk(struct gen *g, struct sess *s, unsigned id, size_t n)
{
	size_t st = s->data.n;

	pb_fill(&s->data, n, id, 0);
	add_msg(s, g->prof == PR_ENTERPRISE && rnd_n(g, 3) == 0 ? 0 : 1, st, false);
}

/* ---- session setup ---------------------------------------------------- */

static void set_addrs(struct gen *g, struct sess *s, uint32_t id)
{
	memset(s->cli, 0, 16);
	memset(s->srv, 0, 16);
	if (s->v6) {
		static const uint8_t c6[] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 };
		static const uint8_t s6[] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff };

		memcpy(s->cli, c6, 6);
		memcpy(s->srv, s6, 6);
		pb_patch(&(struct pbuf){ s->cli, 16, 16 }, 12, 4, id);
		s->srv[15] = (uint8_t)(1 + rnd_n(g, 250));
		s->srv[14] = (uint8_t)rnd_n(g, 4);
		return;
	}
	s->cli[0] = (uint8_t)(10 + (id >> 24));
	s->cli[1] = (uint8_t)(id >> 16);
	s->cli[2] = (uint8_t)(id >> 8);
	s->cli[3] = (uint8_t)id;
	s->srv[0] = 198;
	s->srv[1] = 51;
	s->srv[2] = (uint8_t)(100 + rnd_n(g, 4));
	s->srv[3] = (uint8_t)(1 + rnd_n(g, 250));
}

static void sess_base(struct gen *g, struct sess *s, enum proto p)
{
	uint32_t id = ++g->next_id;

	free(s->data.p);
	free(s->msgs);
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->proto = (uint8_t)p;
	s->v6 = chance(g, g->v6_share);
	s->vxlan = chance(g, g->vxlan_share);
	s->vlan = !s->vxlan && chance(g, g->vlan_share);
	s->vid = (uint16_t)(10 + rnd_n(g, 50));
	s->vni = 5000 + rnd_n(g, 16);
	set_addrs(g, s, id);
	s->cport = (uint16_t)(32768 + (id * 7919u) % 28000);
	s->seq[0] = (uint32_t)rnd(g);
	s->seq[1] = (uint32_t)rnd(g);
}

static void script(struct gen *g, struct sess *s)
{
	static const uint16_t port[] = { 80, 443, 53, 25, 110, 143, 21, 0, 5201, 5201 };
	unsigned id = g->next_id;

	s->sport = port[s->proto];
	s->udp = s->proto == P_DNS;
	s->state = s->udp ? S_DATA : S_SYN;
	switch (s->proto) {
	case P_HTTP: script_http(g, s, id); break;
	case P_TLS: script_tls(g, s, id); break;
	case P_DNS: script_dns(g, s, id); break;
	case P_SMTP: script_smtp(g, s, id); break;
	case P_POP3: script_pop3(g, s, id); break;
	case P_IMAP: script_imap(g, s, id); break;
	case P_FTP: script_ftp(g, s, id); break;
	case P_BULK: script_bulk(g, s, id, 50000 + rnd_n(g, 1500000)); break;
	default: break;
	}
}

static void sess_new(struct gen *g, struct sess *s)
{
	static const unsigned w[] = { 25, 25, 35, 3, 2, 3, 2, 0, 5 };

	if (g->prof == PR_ENTERPRISE) {
		sess_base(g, s, (enum proto)pick(g, w, 9));
		script(g, s);
		return;
	}
	sess_base(g, s, P_RAW);
	s->udp = chance(g, 0.2);
	s->sport = 5201;
	s->state = s->udp ? S_DATA : S_SYN;
	s->raw_left = g->prof == PR_64B ? 2 + rnd_n(g, 20) : 20 + rnd_n(g, 400);
}

/* FTP data connection: same hosts, client port new, server port from PASV. */
static void spawn_ftpdata(struct gen *g, const struct sess *ctl)
{
	for (unsigned i = 0; i < g->flows * 2; i++) {
		struct sess *s = &g->s[i];

		if (s->used)
			continue;
		bool v6 = ctl->v6, vx = ctl->vxlan, vl = ctl->vlan;

		sess_base(g, s, P_FTPDATA);
		s->v6 = v6;
		s->vxlan = vx;
		s->vlan = vl;
		s->vid = ctl->vid;
		s->vni = ctl->vni;
		memcpy(s->cli, ctl->cli, 16);
		memcpy(s->srv, ctl->srv, 16);
		s->sport = ctl->spawn_port;
		s->state = S_SYN;
		script_bulk(g, s, g->next_id, 20000 + rnd_n(g, 800000));
		s->msgs[0].dir = 1;
		return;
	}
}

/* ---- frames ----------------------------------------------------------- */

static uint8_t *put_eth(uint8_t *p, int dir, bool vlan, uint16_t vid, unsigned etype)
{
	static const uint8_t mac[2][6] = { { 0x02, 0, 0, 0, 0, 1 }, { 0x02, 0, 0, 0, 0, 2 } };

	memcpy(p, mac[!dir], 6);
	memcpy(p + 6, mac[dir], 6);
	p += 12;
	if (vlan) {
		p = put16(p, 0x8100);
		p = put16(p, vid);
	}
	return put16(p, etype);
}

/* IP header for l4 bytes of payload (l4 includes the L4 header). */
static uint8_t *put_ip(uint8_t *p, bool v6, const uint8_t *src, const uint8_t *dst,
		       unsigned proto, unsigned l4)
{
	if (v6) {
		p = put32(p, 0x60000000);
		p = put16(p, l4);
		*p++ = (uint8_t)proto;
		*p++ = 64;
		memcpy(p, src, 16);
		memcpy(p + 16, dst, 16);
		return p + 32;
	}
	uint8_t *h = p;

	*p++ = 0x45;
	*p++ = 0;
	p = put16(p, 20 + l4);
	p = put32(p, 0x40000000); /* id 0, DF */
	*p++ = 64;
	*p++ = (uint8_t)proto;
	p = put16(p, 0);
	memcpy(p, src, 4);
	memcpy(p + 4, dst, 4);
	ip4_csum(h);
	return p + 8;
}

static unsigned hdr_len(const struct sess *s)
{
	unsigned n = 14 + (s->v6 ? 40 : 20) + (s->udp ? 8 : 20);

	return n + (s->vlan ? 4 : 0) + (s->vxlan ? 50 : 0);
}

static void write_frame(struct gen *g, unsigned len)
{
	if (len < 60) {
		memset(g->frame + len, 0, 60 - len);
		len = 60;
	}
	g->ts_ns += 200 + rnd_n(g, 1600); /* ~1 Mpps mean, jittered */
	gen_pcap_record(g->out, g->ts_ns, g->frame, len);
	g->emitted++;
	g->bytes += len;
}

/* Emit one packet of session s from dir with TCP flags and payload. */
static void emit(struct gen *g, struct sess *s, int dir, unsigned flags, const uint8_t *pl,
		 unsigned n)
{
	uint8_t *p = g->frame;
	const uint8_t *src = dir ? s->srv : s->cli, *dst = dir ? s->cli : s->srv;
	unsigned l4 = (s->udp ? 8 : 20) + n, inner = 14 + (s->v6 ? 40 : 20) + l4;

	if (s->vxlan) { /* RFC 7348: outer Ethernet/IPv4/UDP 4789/VXLAN */
		static const uint8_t vtep[2][4] = { { 172, 31, 0, 1 }, { 172, 31, 0, 2 } };

		p = put_eth(p, dir, false, 0, 0x0800);
		p = put_ip(p, false, vtep[dir], vtep[!dir], 17, 16 + inner);
		p = put16(p, 49152 + (s->cport & 0x3fff));
		p = put16(p, 4789);
		p = put16(p, 16 + inner);
		p = put16(p, 0);
		p = put32(p, 0x08000000);
		p = put32(p, s->vni << 8);
	}
	p = put_eth(p, dir, s->vlan, s->vid, s->v6 ? 0x86dd : 0x0800);
	p = put_ip(p, s->v6, src, dst, s->udp ? 17 : 6, l4);
	p = put16(p, dir ? s->sport : s->cport);
	p = put16(p, dir ? s->cport : s->sport);
	if (s->udp) {
		p = put16(p, l4);
		p = put16(p, 0);
	} else {
		p = put32(p, s->seq[dir]);
		p = put32(p, flags & 0x02 && !dir ? 0 : s->seq[!dir]);
		*p++ = 0x50;
		*p++ = (uint8_t)flags;
		p = put16(p, 64240);
		p = put32(p, 0);
	}
	if (n)
		memcpy(p, pl, n);
	write_frame(g, (unsigned)(p - g->frame) + n);
	s->seq[dir] += n + ((flags & 0x03) ? 1 : 0); /* SYN and FIN take one */
}

enum { F_FIN = 0x01, F_SYN = 0x02, F_PSH = 0x08, F_ACK = 0x10 };

static bool control(struct gen *g, struct sess *s)
{
	switch (s->state) {
	case S_SYN: emit(g, s, 0, F_SYN, NULL, 0); break;
	case S_SYNACK: emit(g, s, 1, F_SYN | F_ACK, NULL, 0); break;
	case S_ACK: emit(g, s, 0, F_ACK, NULL, 0); break;
	case S_FIN1: emit(g, s, 0, F_FIN | F_ACK, NULL, 0); break;
	case S_FIN2: emit(g, s, 1, F_FIN | F_ACK, NULL, 0); break;
	case S_FIN3: emit(g, s, 0, F_ACK, NULL, 0); break;
	default: return false;
	}
	s->state++;
	if (s->state == S_DONE)
		s->used = false;
	return true;
}

static void end_data(struct sess *s)
{
	if (s->udp)
		s->used = false;
	else
		s->state = S_FIN1;
}

static unsigned mss(const struct sess *s)
{
	return 1514 - hdr_len(s) + (s->vlan ? 4 : 0);
}

/* Next packet of a scripted session: a segment, or the ACK the peer owes. */
static void step_script(struct gen *g, struct sess *s)
{
	if (control(g, s))
		return;
	if (s->mi >= s->nmsg) {
		end_data(s);
		return;
	}
	struct msg *m = &s->msgs[s->mi];
	int d = m->dir;

	if (!s->udp && s->unacked[d] >= 2) {
		emit(g, s, !d, F_ACK, NULL, 0);
		s->unacked[d] = 0;
		return;
	}
	unsigned k = m->len - s->moff, max = s->udp ? 65000 : mss(s);

	k = k > max ? max : k;
	bool last = s->moff + k == m->len;

	emit(g, s, d, F_ACK | (last ? F_PSH : 0), s->data.p + m->off + s->moff, k);
	s->unacked[d]++;
	s->unacked[!d] = 0;
	s->moff += k;
	if (!last)
		return;
	s->mi++;
	s->moff = 0;
	if (m->spawn && !g->draining)
		spawn_ftpdata(g, s);
	if (s->mi == s->nmsg)
		end_data(s);
}

/* ---- IMIX / fixed-size sessions -------------------------------------- */

static uint8_t filler[1600];

static void raw_data(struct gen *g, struct sess *s, unsigned size)
{
	int d = rnd_n(g, 5) != 0; /* mostly downloads */
	unsigned h = hdr_len(s), cap = size - 4;
	unsigned n = cap > h ? cap - h : 0;

	emit(g, s, d, F_ACK | F_PSH, filler, n);
	if (--s->raw_left == 0)
		end_data(s);
}

/* One packet of class `size` (on-wire bytes incl. FCS) from session s. */
static void step_raw(struct gen *g, struct sess *s, unsigned size)
{
	if (control(g, s))
		return;
	if (size == 64 && g->prof != PR_64B && !s->udp) {
		emit(g, s, rnd_n(g, 5) == 0, F_ACK, NULL, 0); /* pure ACK */
		return;
	}
	raw_data(g, s, size);
}

/* ---- main loop -------------------------------------------------------- */

static struct sess *any_session(struct gen *g, bool want_data)
{
	unsigned n = g->flows * 2, start = rnd_n(g, n);

	for (unsigned i = 0; i < n; i++) {
		struct sess *s = &g->s[(start + i) % n];

		if (s->used && (!want_data || s->state == S_DATA))
			return s;
	}
	return NULL;
}

static void refill(struct gen *g)
{
	unsigned active = 0;

	for (unsigned i = 0; i < g->flows * 2; i++)
		active += g->s[i].used;
	for (unsigned i = 0; i < g->flows * 2 && active < g->flows; i++)
		if (!g->s[i].used) {
			sess_new(g, &g->s[i]);
			active++;
		}
}

static unsigned class_size(struct gen *g)
{
	static const unsigned w[] = { 7, 4, 1 };
	static const unsigned sz[] = { 64, 594, 1518 };

	if (g->prof == PR_IMIX)
		return sz[pick(g, w, 3)];
	return g->prof == PR_64B ? 64 : g->size;
}

static void step(struct gen *g)
{
	if (g->prof == PR_ENTERPRISE) {
		step_script(g, any_session(g, false));
		return;
	}
	unsigned size = class_size(g);
	struct sess *s = any_session(g, false);

	if (size > 64 && s->state != S_DATA) {
		struct sess *d = any_session(g, true);

		s = d ? d : s;
	}
	step_raw(g, s, size);
}

/* Stop starting flows; cut open transfers short so every flow closes. */
static void drain(struct gen *g)
{
	g->draining = true;
	for (unsigned i = 0; i < g->flows * 2; i++) {
		struct sess *s = &g->s[i];

		if (!s->used)
			continue;
		if (s->raw_left > 2)
			s->raw_left = 2;
		if (s->mi < s->nmsg) {
			struct msg *m = &s->msgs[s->mi];
			uint32_t rest = m->len - s->moff;

			m->len = s->moff + (rest > 1000 ? 1000 : rest);
			s->nmsg = s->mi + 1;
		}
	}
}

static bool any_used(const struct gen *g)
{
	for (unsigned i = 0; i < g->flows * 2; i++)
		if (g->s[i].used)
			return true;
	return false;
}

static void write_header(FILE *f)
{
	/* Classic pcap, nanosecond magic, LINKTYPE_ETHERNET, LE. */
	static const uint8_t h[24] = { 0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0,
				       0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0 };

	fwrite(h, 1, sizeof(h), f);
}

static int usage(void)
{
	fprintf(stderr,
		"usage: gcp_gen --out FILE [--profile enterprise|imix|64b|size] [--size BYTES]\n"
		"               [--flows N] [--packets N] [--ipv6-share F] [--vlan-share F]\n"
		"               [--vxlan-share F] [--seed N]\n");
	return 2;
}

static int parse_profile(struct gen *g, const char *s)
{
	static const char *const names[] = { "enterprise", "imix", "64b", "size" };

	for (unsigned i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			g->prof = (enum profile)i;
			return 0;
		}
	return -1;
}

static int parse_args(struct gen *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", 1, NULL, 'o' },        { "profile", 1, NULL, 'p' },
		{ "size", 1, NULL, 'z' },       { "flows", 1, NULL, 'f' },
		{ "packets", 1, NULL, 'n' },    { "ipv6-share", 1, NULL, '6' },
		{ "vlan-share", 1, NULL, 'v' }, { "vxlan-share", 1, NULL, 'x' },
		{ "seed", 1, NULL, 's' },       { NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "o:p:z:f:n:s:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': g->path = optarg; break;
		case 'p': if (parse_profile(g, optarg)) return -1; break;
		case 'z': g->size = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'f': g->flows = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': g->packets = strtoull(optarg, NULL, 10); break;
		case '6': g->v6_share = strtod(optarg, NULL); break;
		case 'v': g->vlan_share = strtod(optarg, NULL); break;
		case 'x': g->vxlan_share = strtod(optarg, NULL); break;
		case 's': g->rng = strtoull(optarg, NULL, 10); break;
		default: return -1;
		}
	}
	if (g->size < 64 || g->size > 1518)
		return -1;
	return g->path && g->flows && g->packets ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct gen g = { .prof = PR_ENTERPRISE, .flows = 2000, .size = 512, .packets = 200000,
			 .v6_share = 0.2, .vlan_share = 0.1, .vxlan_share = 0.05, .rng = 1,
			 .ts_ns = 1709546400ull * 1000000000ull };

	if (parse_args(&g, argc, argv) != 0)
		return usage();
	g.s = calloc(g.flows * 2, sizeof(*g.s));
	g.out = fopen(g.path, "wb");
	if (!g.s || !g.out) {
		fprintf(stderr, "gcp_gen: error: cannot write %s\n", g.path);
		return 1;
	}
	setvbuf(g.out, NULL, _IOFBF, 1 << 20);
	memset(filler, 0x5a, sizeof(filler));
	write_header(g.out);
	while (g.emitted < g.packets) {
		refill(&g);
		step(&g);
	}
	drain(&g);
	while (any_used(&g))
		step(&g);
	int rc = fclose(g.out) == 0 ? 0 : 1;

	printf("{\"gen\":\"%s\",\"packets\":%llu,\"bytes\":%llu,\"avg_frame\":%.1f,\"flows\":%u}\n",
	       g.path, (unsigned long long)g.emitted, (unsigned long long)g.bytes,
	       (double)g.bytes / (double)g.emitted + 4, g.next_id);
	for (unsigned i = 0; i < g.flows * 2; i++) {
		free(g.s[i].data.p);
		free(g.s[i].msgs);
	}
	free(g.s);
	return rc;
}
