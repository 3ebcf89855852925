/* SPDX-License-Identifier: BSD-3-Clause */
/* DNS message scan: header, question, answer RRs, EDNS(0) OPT (RFC 1035 4.1, RFC 6891). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cursor.h"
#include "dns_int.h"
#include "fmt.h"

/* RFC 7871 6: FAMILY, SOURCE PREFIX-LENGTH, SCOPE PREFIX-LENGTH, ADDRESS. */
static void edns_ecs(struct dns_edns *e, const uint8_t *p, uint16_t n)
{
	uint8_t addr[16] = { 0 };
	char buf[GCP_FMT_IP6_LEN + 4]; /* "/128" */

	if (n < 4)
		return;
	uint16_t fam = gcp_be16(p);
	uint8_t src = p[2];
	size_t alen = fam == 1 ? 4 : fam == 2 ? 16 : 0;
	size_t have = (size_t)n - 4;
	if (!alen || src > alen * 8 || have > alen || have != ((size_t)src + 7) / 8)
		return;
	memcpy(addr, p + 4, have);
	/* "%s/%u" of inet_ntop's text, without either */
	size_t k = fam == 1 ? gcp_fmt_ip4(addr, buf) : gcp_fmt_ip6(addr, buf);
	buf[k++] = '/';
	k += gcp_fmt_u64(buf + k, src);
	if (k >= sizeof(e->ecs))
		k = sizeof(e->ecs) - 1; /* snprintf's truncation */
	memcpy(e->ecs, buf, k);
	e->ecs[k] = '\0';
}

/* RFC 6891 6.1.2: CLASS = UDP payload size, TTL = ext-rcode, version, DO, Z. */
static void edns_parse(struct dns_edns *e, uint16_t cls, uint32_t ttl, const uint8_t *rd,
		       uint16_t rdlen)
{
	struct gcp_cur c = gcp_cur_make(rd, rdlen);

	e->present = true;
	e->udp_size = cls;
	e->ext_rcode = (uint8_t)(ttl >> 24);
	e->version = (uint8_t)(ttl >> 16);
	e->do_bit = (ttl & 0x8000) != 0;
	while (gcp_cur_left(&c) >= 4) { /* RFC 6891 6.1.2: {code, length, data} */
		uint16_t code = gcp_cur_be16(&c);
		uint16_t olen = gcp_cur_be16(&c);
		const uint8_t *od = gcp_cur_bytes(&c, olen);
		if (!od)
			break;
		if (code == 8 && !e->ecs[0])
			edns_ecs(e, od, olen);
	}
}

/* Type, class, TTL, RDLENGTH after an owner name (RFC 1035 4.1.3). */
static bool rr_fixed(struct dns_msg *m, size_t *off, struct dns_rr *rr)
{
	if (m->len - *off < 10)
		return false;
	const uint8_t *p = m->buf + *off;
	rr->type = gcp_be16(p);
	rr->cls = gcp_be16(p + 2);
	rr->ttl = gcp_be32(p + 4);
	rr->rdlen = gcp_be16(p + 8);
	rr->rdoff = (uint16_t)(*off + 10);
	if ((size_t)rr->rdoff + rr->rdlen > m->len)
		return false;
	*off += 10 + (size_t)rr->rdlen;
	return true;
}

static bool question(struct dns_msg *m, size_t *off, bool first)
{
	uint8_t wire[DNS_NAME_MAX];
	size_t wlen;
	int rc = gcp_dns_name_decode(m->buf, m->len, off, first ? m->qname : wire, &wlen);

	if (first) { /* a partly decoded name is kept when it has labels */
		m->has_q = rc == DNS_NAME_OK || wlen > 1;
		m->qname_len = (uint8_t)wlen;
	}
	if (rc != DNS_NAME_OK || m->len - *off < 4)
		return false;
	if (first) {
		m->qtype = gcp_be16(m->buf + *off);
		m->qclass = gcp_be16(m->buf + *off + 2);
	}
	*off += 4;
	return true;
}

/* One RR of section sec (0 answer, 1 authority, 2 additional). */
static bool resource(struct dns_msg *m, size_t *off, int sec)
{
	uint8_t wire[DNS_NAME_MAX];
	size_t wlen;
	struct dns_rr rr;

	if (gcp_dns_name_decode(m->buf, m->len, off, wire, &wlen) != DNS_NAME_OK)
		return false;
	if (!rr_fixed(m, off, &rr))
		return false;
	if (sec == 0) {
		if (m->nans < DNS_MAX_ANSWERS)
			m->an[m->nans++] = rr;
		else
			m->ans_dropped++;
	} else if (sec == 2 && rr.type == DNS_T_OPT) {
		/* RFC 6891 6.1.1: one OPT, owner root; more is FORMERR. */
		if (m->edns.present || wlen != 1)
			return false;
		edns_parse(&m->edns, rr.cls, rr.ttl, m->buf + rr.rdoff, rr.rdlen);
	}
	return true;
}

bool gcp_dns_msg_scan(struct dns_msg *m, const uint8_t *buf, uint32_t len)
{
	memset(m, 0, offsetof(struct dns_msg, an));
	memset(&m->edns, 0, sizeof(m->edns));
	m->malformed = false;
	m->end = 0;
	m->buf = buf;
	m->len = len;
	if (len < DNS_HDR_LEN)
		return false;
	m->id = gcp_be16(buf);
	m->flags = gcp_be16(buf + 2);
	m->qdcount = gcp_be16(buf + 4);
	m->ancount = gcp_be16(buf + 6);
	m->nscount = gcp_be16(buf + 8);
	m->arcount = gcp_be16(buf + 10);

	size_t off = DNS_HDR_LEN;
	for (unsigned i = 0; i < m->qdcount; i++)
		if (!question(m, &off, i == 0))
			goto bad;
	const uint16_t counts[3] = { m->ancount, m->nscount, m->arcount };
	for (int sec = 0; sec < 3; sec++)
		for (unsigned i = 0; i < counts[sec]; i++)
			if (!resource(m, &off, sec))
				goto bad;
	m->end = (uint32_t)off;
	return true;
bad:
	m->malformed = true;
	return true;
}

/*
 * Probe heuristics: a known opcode, a question count of 0..4, section
 * counts that fit in the message at their minimum sizes (question 5
 * bytes, RR 11 bytes), and a decodable first question with a sane class.
 * avail bytes of a total-byte message are at hand (TCP: the body may
 * still be arriving); DNS_PLAUSIBLE_MORE when the first question runs
 * past avail, so that more bytes can tell.
 *
 * Queries may carry answers and authority records: mDNS known answers
 * (RFC 6762 7.1) and probe proposals (RFC 6762 8.2). A question count of
 * 0 is an error response, an answer-only response (RFC 6762 6), or a
 * query whose sections all parse and fill the message exactly (judged
 * on the whole message only): a DNS Cookie query (RFC 7873 5.4) or a
 * known-answer continuation (RFC 6762 7.2).
 */
int gcp_dns_hdr_probe(const uint8_t *buf, uint32_t avail, uint32_t total)
{
	if (avail > total)
		avail = total;
	if (avail < DNS_HDR_LEN)
		return DNS_PLAUSIBLE_NO;
	uint16_t flags = gcp_be16(buf + 2);
	unsigned op = DNS_OPCODE(flags), qd = gcp_be16(buf + 4);
	unsigned an = gcp_be16(buf + 6), ns = gcp_be16(buf + 8), ar = gcp_be16(buf + 10);
	bool resp = flags & DNS_F_QR;

	if (op == 3 || op > 6 || (op == 6 && qd))
		return DNS_PLAUSIBLE_NO;
	if (qd > 4 || (qd == 0 && resp && DNS_RCODE(flags) == 0 && an == 0))
		return DNS_PLAUSIBLE_NO;
	if (!resp && DNS_RCODE(flags) != 0)
		return DNS_PLAUSIBLE_NO;
	if ((size_t)qd * 5 + ((size_t)an + ns + ar) * 11 > total - DNS_HDR_LEN)
		return DNS_PLAUSIBLE_NO;
	if (qd == 0 && !resp) {
		struct dns_msg m;
		if (avail < total) /* such queries are small: judged whole only */
			return DNS_PLAUSIBLE_NO;
		gcp_dns_msg_scan(&m, buf, total);
		return !m.malformed && m.end == total ? DNS_PLAUSIBLE_YES : DNS_PLAUSIBLE_NO;
	}
	if (qd == 0)
		return DNS_PLAUSIBLE_YES;

	uint8_t wire[DNS_NAME_MAX];
	size_t wlen, off = DNS_HDR_LEN;
	int rc = gcp_dns_name_decode(buf, avail, &off, wire, &wlen);
	if (rc == DNS_NAME_TRUNC && avail < total)
		return DNS_PLAUSIBLE_MORE;
	if (rc != DNS_NAME_OK)
		return DNS_PLAUSIBLE_NO;
	if (avail - off < 4)
		return avail < total ? DNS_PLAUSIBLE_MORE : DNS_PLAUSIBLE_NO;
	uint16_t qtype = gcp_be16(buf + off), qclass = gcp_be16(buf + off + 2) & 0x7fff;
	return qtype != 0 && (qclass == 1 || qclass == 3 || qclass == 4 || qclass == 254 ||
			      qclass == 255)
		       ? DNS_PLAUSIBLE_YES
		       : DNS_PLAUSIBLE_NO;
}

bool gcp_dns_hdr_plausible(const uint8_t *buf, uint32_t len)
{
	return gcp_dns_hdr_probe(buf, len, len) == DNS_PLAUSIBLE_YES;
}
