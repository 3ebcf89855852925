/* SPDX-License-Identifier: BSD-3-Clause */
/* DNS over UDP and TCP (RFC 1035 4.2): query/response pairing into dns records. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "dissect.h"
#include "dns_int.h"
#include "fmt.h"

#define DNS_MAX_PENDING 32       /* outstanding queries per flow */
#define DNS_DEFAULT_TIMEOUT_S 10 /* gcp_engine_opts.dns_timeout_s default */
#define DNS_TCP_MSG_MAX 65535    /* RFC 1035 4.2.2: two-byte length prefix */
#define DNS_ANSWERED_MAX 8       /* answered transactions remembered per flow */

/* An outstanding query: what its record needs once the answer comes (or not). */
struct dns_pending {
	struct dns_pending *next;
	uint64_t ts;
	uint16_t id, flags, qdcount, ancount, nscount, arcount;
	uint16_t qtype, qclass;
	bool has_q, malformed;
	uint8_t qname_len;
	uint8_t qname[DNS_NAME_MAX];
	struct dns_edns edns;
};

/* TCP framing per direction: the prefix is consumed first, then the body. */
struct dns_tcp_dir {
	uint32_t msglen; /* body length announced by the consumed prefix */
	bool in_msg;     /* prefix consumed, waiting for the body */
	bool lost;       /* a gap broke the framing: look for the next message */
};

/*
 * An answered transaction: a later response with the same id and question
 * (an mDNS announcement repeated, RFC 6762 8.3; a duplicated datagram)
 * repeats its answer and is no new transaction (tshark: retransmission).
 */
struct dns_answered {
	uint16_t id, qtype, qclass;
	bool has_q;
	uint32_t qhash; /* of the lower-cased wire qname */
};

struct dns_state {
	struct dns_pending *head, *tail; /* oldest first */
	uint32_t npending;
	struct dns_answered done[DNS_ANSWERED_MAX]; /* ring, ndone used */
	uint8_t ndone, done_next;
	bool is_tcp, is_mdns;
	struct dns_tcp_dir tcp[2];
};

/* ---- record emission -------------------------------------------------- */

static void kv_mnem(struct gcp_rb *rb, const char *key, const char *name, unsigned v)
{
	char num[GCP_FMT_U64_LEN];

	gcp_rb_key(rb, key);
	if (name)
		gcp_rb_cstr(rb, name);
	else
		gcp_rb_str(rb, num, gcp_fmt_u64(num, v));
}

static void emit_question(struct gcp_rb *rb, const uint8_t *qname, size_t qlen, uint16_t qtype,
			  uint16_t qclass)
{
	char text[DNS_NAME_TEXT_MAX];
	size_t n = gcp_dns_name_text(qname, qlen, text, sizeof(text), true);

	gcp_rb_kv_str(rb, "qname", text, n);
	kv_mnem(rb, "qtype", gcp_dns_type_name(qtype), qtype);
	kv_mnem(rb, "qclass", gcp_dns_class_name(qclass), qclass);
	gcp_rb_kv_uint(rb, "domain_level", gcp_dns_name_labels(qname, qlen));
	int last = gcp_dns_name_last_label(qname, qlen);
	if (last >= 0) {
		uint8_t lbl[DNS_NAME_MAX];
		size_t l = (size_t)qname[last] + 1;
		memcpy(lbl, qname + last, l);
		lbl[l] = 0;
		n = gcp_dns_name_text(lbl, l + 1, text, sizeof(text), true);
		gcp_rb_kv_str(rb, "tld", text, n);
	}
}

static void emit_header(struct gcp_rb *rb, uint16_t id, uint16_t flags, const uint16_t counts[4])
{
	gcp_rb_kv_uint(rb, "id", id);
	kv_mnem(rb, "opcode", gcp_dns_opcode_name(DNS_OPCODE(flags)), DNS_OPCODE(flags));
	gcp_rb_kv_uint(rb, "qdcount", counts[0]);
	gcp_rb_kv_uint(rb, "ancount", counts[1]);
	gcp_rb_kv_uint(rb, "nscount", counts[2]);
	gcp_rb_kv_uint(rb, "arcount", counts[3]);
	gcp_rb_key(rb, "flags");
	gcp_rb_map_begin(rb);
	gcp_rb_kv_bool(rb, "aa", flags & DNS_F_AA);
	gcp_rb_kv_bool(rb, "tc", flags & DNS_F_TC);
	gcp_rb_kv_bool(rb, "rd", flags & DNS_F_RD);
	gcp_rb_kv_bool(rb, "ra", flags & DNS_F_RA);
	gcp_rb_kv_bool(rb, "ad", flags & DNS_F_AD);
	gcp_rb_kv_bool(rb, "cd", flags & DNS_F_CD);
	gcp_rb_end(rb);
}

static void emit_edns(struct gcp_rb *rb, const struct dns_edns *e)
{
	if (!e->present)
		return;
	gcp_rb_key(rb, "edns");
	gcp_rb_map_begin(rb);
	gcp_rb_kv_uint(rb, "udp_size", e->udp_size);
	gcp_rb_kv_bool(rb, "do", e->do_bit);
	if (e->ecs[0])
		gcp_rb_kv_cstr(rb, "ecs", e->ecs);
	gcp_rb_end(rb);
}

/* Answer section: rdata text and TTLs in order (RFC 1035 4.1.3). */
static void emit_answers(struct gcp_rb *rb, struct gcp_dissect_ctx *ctx, const struct dns_msg *m)
{
	char buf[DNS_ANSWER_TEXT_MAX];
	struct dns_txt t = { buf, 0, sizeof(buf), false };

	if (!m->nans)
		return;
	gcp_rb_key(rb, "answers");
	gcp_rb_array_begin(rb);
	for (unsigned i = 0; i < m->nans; i++) {
		const struct dns_rr *rr = &m->an[i];
		if (!gcp_dns_rdata_text(&t, m->buf, m->len, rr->type, rr->rdoff, rr->rdlen))
			gcp_dctx_anomaly(ctx);
		gcp_rb_str(rb, t.p, t.len);
	}
	gcp_rb_end(rb);
	gcp_rb_key(rb, "ttl");
	gcp_rb_array_begin(rb);
	for (unsigned i = 0; i < m->nans; i++)
		gcp_rb_uint(rb, m->an[i].ttl);
	gcp_rb_end(rb);
	if (m->ans_dropped)
		gcp_rb_kv_uint(rb, "answers_dropped", m->ans_dropped);
}

/* RFC 6891 6.1.3: the OPT TTL holds the upper 8 bits of a 12-bit RCODE. */
static void emit_rcode(struct gcp_rb *rb, const struct dns_msg *m)
{
	unsigned rc = DNS_RCODE(m->flags);

	if (m->edns.present)
		rc |= (unsigned)m->edns.ext_rcode << 4;
	kv_mnem(rb, "rcode", gcp_dns_rcode_name(rc), rc);
}

/* A query nobody answered (flow end, timeout, table overflow). */
static void emit_query(struct gcp_dissect_ctx *ctx, const struct dns_pending *q)
{
	struct gcp_rb *rb = gcp_dctx_record_begin(ctx, GCP_REC_DNS, q->ts);
	const uint16_t counts[4] = { q->qdcount, q->ancount, q->nscount, q->arcount };

	if (!rb)
		return;
	gcp_rb_kv_cstr(rb, "msg_type", "query");
	emit_header(rb, q->id, q->flags, counts);
	if (q->has_q)
		emit_question(rb, q->qname, q->qname_len, q->qtype, q->qclass);
	emit_edns(rb, &q->edns);
	if (q->malformed)
		gcp_rb_kv_bool(rb, "malformed", true);
	gcp_dctx_record_end(ctx);
}

/* A response, paired with its query when q is not NULL. */
static void emit_response(struct gcp_dissect_ctx *ctx, const struct dns_msg *m,
			  const struct dns_pending *q)
{
	uint64_t now = gcp_dctx_now(ctx);
	struct gcp_rb *rb = gcp_dctx_record_begin(ctx, GCP_REC_DNS, q ? q->ts : now);
	const uint16_t counts[4] = { m->qdcount, m->ancount, m->nscount, m->arcount };

	if (!rb)
		return;
	gcp_rb_kv_cstr(rb, "msg_type", q ? "query_response" : "response");
	emit_header(rb, m->id, m->flags, counts);
	if (m->has_q)
		emit_question(rb, m->qname, m->qname_len, m->qtype, m->qclass);
	else if (q && q->has_q)
		emit_question(rb, q->qname, q->qname_len, q->qtype, q->qclass);
	emit_rcode(rb, m);
	gcp_rb_kv_uint(rb, "resp_len", m->len);
	if (q) {
		gcp_rb_key(rb, "rtt");
		gcp_rb_double(rb, now > q->ts ? (double)(now - q->ts) / 1e9 : 0.0);
	}
	emit_answers(rb, ctx, m);
	emit_edns(rb, m->edns.present || !q ? &m->edns : &q->edns);
	if (m->malformed || (q && q->malformed))
		gcp_rb_kv_bool(rb, "malformed", true);
	gcp_dctx_record_end(ctx);
}

/* ---- pending queries --------------------------------------------------- */

static void pending_free(struct gcp_dissect_ctx *ctx, struct dns_pending *q)
{
	gcp_dctx_free(ctx, q, sizeof(*q));
}

static struct dns_pending *pending_pop(struct dns_state *s)
{
	struct dns_pending *q = s->head;

	s->head = q->next;
	if (!s->head)
		s->tail = NULL;
	s->npending--;
	return q;
}

/* Emit and drop queries older than the DNS timeout (the list is in time order). */
static void pending_expire(struct dns_state *s, struct gcp_dissect_ctx *ctx)
{
	const struct gcp_engine_opts *o = gcp_dctx_opts(ctx);
	uint64_t tmo = (uint64_t)(o && o->dns_timeout_s ? o->dns_timeout_s : DNS_DEFAULT_TIMEOUT_S) *
		       1000000000ull;
	uint64_t now = gcp_dctx_now(ctx);

	while (s->head && now > s->head->ts && now - s->head->ts > tmo) {
		struct dns_pending *q = pending_pop(s);
		emit_query(ctx, q);
		pending_free(ctx, q);
	}
}

static bool pending_match(const struct dns_pending *q, const struct dns_msg *m)
{
	if (q->id != m->id)
		return false;
	if (!m->has_q || !q->has_q) /* e.g. FORMERR without a question */
		return true;
	return q->qtype == m->qtype && q->qclass == m->qclass &&
	       gcp_dns_name_eq(q->qname, q->qname_len, m->qname, m->qname_len);
}

/* Find and unlink the query a response answers. */
static struct dns_pending *pending_take(struct dns_state *s, const struct dns_msg *m)
{
	struct dns_pending *prev = NULL;

	for (struct dns_pending *q = s->head; q; prev = q, q = q->next) {
		if (!pending_match(q, m))
			continue;
		if (prev)
			prev->next = q->next;
		else
			s->head = q->next;
		if (s->tail == q)
			s->tail = prev;
		s->npending--;
		return q;
	}
	return NULL;
}

static void pending_fill(struct dns_pending *q, const struct dns_msg *m, uint64_t now)
{
	q->next = NULL;
	q->ts = now;
	q->id = m->id;
	q->flags = m->flags;
	q->qdcount = m->qdcount;
	q->ancount = m->ancount;
	q->nscount = m->nscount;
	q->arcount = m->arcount;
	q->has_q = m->has_q;
	q->qtype = m->qtype;
	q->qclass = m->qclass;
	q->qname_len = m->qname_len;
	memcpy(q->qname, m->qname, m->qname_len);
	q->edns = m->edns;
	q->malformed = m->malformed;
}

/* ---- answered transactions ---------------------------------------------- */

/* FNV-1a over the name, ASCII letters folded (RFC 4343). */
static uint32_t qname_hash(const uint8_t *name, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = name[i];
		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + 32);
		h = (h ^ c) * 16777619u;
	}
	return h;
}

static void answered_add(struct dns_state *s, const struct dns_pending *q, const struct dns_msg *m)
{
	struct dns_answered *a = &s->done[s->done_next];

	a->id = m->id;
	a->has_q = q->has_q || m->has_q;
	if (q->has_q) {
		a->qtype = q->qtype;
		a->qclass = q->qclass;
		a->qhash = qname_hash(q->qname, q->qname_len);
	} else if (m->has_q) {
		a->qtype = m->qtype;
		a->qclass = m->qclass;
		a->qhash = qname_hash(m->qname, m->qname_len);
	}
	s->done_next = (uint8_t)((s->done_next + 1) % DNS_ANSWERED_MAX);
	if (s->ndone < DNS_ANSWERED_MAX)
		s->ndone++;
}

static bool answered_seen(const struct dns_state *s, const struct dns_msg *m)
{
	uint32_t h = m->has_q ? qname_hash(m->qname, m->qname_len) : 0;

	for (unsigned i = 0; i < s->ndone; i++) {
		const struct dns_answered *a = &s->done[i];
		if (a->id != m->id)
			continue;
		if (!a->has_q || !m->has_q)
			return true;
		if (a->qtype == m->qtype && a->qclass == m->qclass && a->qhash == h)
			return true;
	}
	return false;
}

static void on_query(struct dns_state *s, struct gcp_dissect_ctx *ctx, const struct dns_msg *m)
{
	struct dns_pending tmp;

	for (struct dns_pending *q = s->head; q; q = q->next)
		if (pending_match(q, m)) /* retransmission: keep the first */
			return;
	if (s->npending >= DNS_MAX_PENDING) {
		struct dns_pending *old = pending_pop(s);
		emit_query(ctx, old);
		pending_free(ctx, old);
	}
	struct dns_pending *q = gcp_dctx_alloc(ctx, sizeof(*q));
	if (!q) { /* pool exhausted: report it unanswered now */
		pending_fill(&tmp, m, gcp_dctx_now(ctx));
		emit_query(ctx, &tmp);
		return;
	}
	pending_fill(q, m, gcp_dctx_now(ctx));
	if (s->tail)
		s->tail->next = q;
	else
		s->head = q;
	s->tail = q;
	s->npending++;
}

static void on_message(struct dns_state *s, struct gcp_dissect_ctx *ctx, const uint8_t *buf,
		       uint32_t len)
{
	struct dns_msg m;

	if (!gcp_dctx_wants(ctx, GCP_REC_DNS))
		return;
	pending_expire(s, ctx);
	if (!gcp_dns_msg_scan(&m, buf, len)) {
		gcp_dctx_anomaly(ctx);
		return;
	}
	if (m.malformed)
		gcp_dctx_anomaly(ctx);
	if (s->is_mdns)
		m.qclass &= 0x7fff; /* RFC 6762 5.4: top bit is unicast-response */
	if (!(m.flags & DNS_F_QR)) {
		on_query(s, ctx, &m);
		return;
	}
	struct dns_pending *q = pending_take(s, &m);
	if (!q && answered_seen(s, &m))
		return; /* a repeat of an answer already reported */
	emit_response(ctx, &m, q);
	if (q) {
		answered_add(s, q, &m);
		pending_free(ctx, q);
	}
}

/* ---- dissector entry points ------------------------------------------- */

static enum gcp_probe_result dns_probe(const uint8_t *data, uint32_t len, int dir)
{
	(void)dir;
	if (len < 2)
		return GCP_PROBE_MAYBE;
	/*
	 * TCP form first (RFC 1035 4.2.2): a length prefix that frames a sane
	 * header. The body may span segments (a GSS-TSIG TKEY query is kBs):
	 * judge the bytes at hand against the announced length.
	 */
	uint32_t mlen = gcp_be16(data);
	int tcp = DNS_PLAUSIBLE_NO;
	if (mlen >= DNS_HDR_LEN) {
		if (len - 2 < DNS_HDR_LEN)
			return GCP_PROBE_MAYBE;
		tcp = gcp_dns_hdr_probe(data + 2, len - 2, mlen);
		if (tcp == DNS_PLAUSIBLE_YES)
			return GCP_PROBE_YES;
	}
	/* UDP form (a datagram is never cut short: "more" cannot apply to it). */
	if (gcp_dns_hdr_plausible(data, len))
		return GCP_PROBE_YES;
	return tcp == DNS_PLAUSIBLE_MORE ? GCP_PROBE_MAYBE : GCP_PROBE_NO;
}

static void dns_init(void *state, struct gcp_dissect_ctx *ctx)
{
	struct dns_state *s = state;
	const struct gcp_flow_info *f = gcp_dctx_flow(ctx);

	s->is_tcp = f && f->l4proto == IPPROTO_TCP;
	s->is_mdns = f && (f->sport == 5353 || f->cport == 5353);
}

/*
 * After a gap: pass over bytes up to the next plausible message, which
 * the framing loop then takes. False while none is found (r says what to
 * keep and how much more to wait for).
 */
static bool tcp_resync(struct gcp_dissect_ctx *ctx, struct dns_tcp_dir *d, const uint8_t *data,
		       uint32_t len, unsigned flags, struct gcp_parse_result *r)
{
	uint32_t off, needed;
	bool found = gcp_dns_tcp_sync(data, len, flags & GCP_PF_FIN, &off, &needed);

	r->consumed = off;
	if (!found) {
		r->needed = needed;
		return false;
	}
	d->lost = false;
	gcp_dctx_resync(ctx);
	return true;
}

static struct gcp_parse_result tcp_parse(struct dns_state *s, struct gcp_dissect_ctx *ctx,
					 int dir, const uint8_t *data, uint32_t len,
					 unsigned flags)
{
	struct gcp_parse_result r = { GCP_PARSE_OK, 0, 0 };
	struct dns_tcp_dir *d = &s->tcp[dir & 1];

	if (flags & GCP_PF_GAP) { /* framing lost: resync on the next data */
		if (!d->lost)
			gcp_dctx_anomaly(ctx);
		d->lost = true;
		d->in_msg = false;
		r.consumed = len;
		return r;
	}
	if (d->lost || !data) {
		if (!data) {
			if ((flags & GCP_PF_FIN) && d->in_msg && !d->lost)
				gcp_dctx_anomaly(ctx); /* truncated last message */
			return r;
		}
		if (!tcp_resync(ctx, d, data, len, flags, &r))
			return r;
	}
	for (;;) {
		uint32_t left = len - r.consumed;
		if (!d->in_msg) {
			if (left < 2) {
				r.needed = 2 - left;
				break;
			}
			d->msglen = gcp_be16(data + r.consumed);
			d->in_msg = true;
			r.consumed += 2;
			continue;
		}
		if (left < d->msglen) {
			r.needed = d->msglen - left;
			break;
		}
		on_message(s, ctx, data + r.consumed, d->msglen);
		r.consumed += d->msglen;
		d->in_msg = false;
	}
	if ((flags & GCP_PF_FIN) && (d->in_msg || r.consumed < len))
		gcp_dctx_anomaly(ctx);
	return r;
}

static struct gcp_parse_result dns_parse(void *state, struct gcp_dissect_ctx *ctx, int dir,
					 const uint8_t *data, uint32_t len, unsigned flags)
{
	struct dns_state *s = state;
	struct gcp_parse_result r = { GCP_PARSE_OK, len, 0 };

	if (s->is_tcp)
		return tcp_parse(s, ctx, dir, data, len, flags);
	if (!data || (flags & GCP_PF_GAP)) {
		r.consumed = data ? len : 0;
		return r;
	}
	if (len > DNS_TCP_MSG_MAX) {
		gcp_dctx_anomaly(ctx);
		return r;
	}
	on_message(s, ctx, data, len);
	return r;
}

static void dns_fini(void *state, struct gcp_dissect_ctx *ctx)
{
	struct dns_state *s = state;

	while (s->head) {
		struct dns_pending *q = pending_pop(s);
		emit_query(ctx, q);
		pending_free(ctx, q);
	}
}

static const uint16_t dns_ports[] = { 53, 5353, 5355 };

const struct gcp_dissector gcp_dissector_dns = {
	.name = "dns",
	.flags = GCP_DIS_PORT_ONLY, /* random UDP is never claimed off port */
	.record_types = GCP_REC_DNS,
	.l4_mask = GCP_L4_TCP | GCP_L4_UDP,
	.ports = dns_ports,
	.nports = sizeof(dns_ports) / sizeof(dns_ports[0]),
	.state_size = sizeof(struct dns_state),
	.probe = dns_probe,
	.init = dns_init,
	.parse = dns_parse,
	.fini = dns_fini,
};
