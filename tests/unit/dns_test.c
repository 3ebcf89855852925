/* SPDX-License-Identifier: BSD-3-Clause */
/* DNS dissector: pairing, rdata presentation, EDNS, hostile names, TCP framing, tshark cross-check. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/dns/dns_int.h"
#include "dissect.h"
#include "engine.h"

extern const struct gcp_dissector gcp_dissector_dns;
#define D (&gcp_dissector_dns)
#define MS 1000000ull
#define T0 (1700000000ull * 1000000000ull)

/* ---- message builder ---------------------------------------------------- */

struct mb {
	uint8_t b[8192];
	size_t n;
	size_t rdlen_at; /* offset of the RDLENGTH being written */
};

static void u8(struct mb *m, unsigned v)
{
	m->b[m->n++] = (uint8_t)v;
}

static void u16(struct mb *m, unsigned v)
{
	u8(m, v >> 8);
	u8(m, v & 0xff);
}

static void u32(struct mb *m, uint32_t v)
{
	u16(m, v >> 16);
	u16(m, v & 0xffff);
}

static void raw(struct mb *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

/* Uncompressed name from dotted text ("" is the root). */
static void name(struct mb *m, const char *s)
{
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		u8(m, (unsigned)l);
		raw(m, s, l);
		s += l + (dot ? 1 : 0);
	}
	u8(m, 0);
}

static void ptr(struct mb *m, unsigned off)
{
	u16(m, 0xc000 | off);
}

static void cstr(struct mb *m, const char *s)
{
	u8(m, (unsigned)strlen(s));
	raw(m, s, strlen(s));
}

static void hdr(struct mb *m, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns,
		unsigned ar)
{
	m->n = 0;
	u16(m, id);
	u16(m, flags);
	u16(m, qd);
	u16(m, an);
	u16(m, ns);
	u16(m, ar);
}

static void question(struct mb *m, const char *qname, unsigned type)
{
	name(m, qname);
	u16(m, type);
	u16(m, 1);
}

/* RR whose owner is a pointer to the question name (offset 12). */
static void rr_begin(struct mb *m, unsigned type, uint32_t ttl)
{
	ptr(m, 12);
	u16(m, type);
	u16(m, 1);
	u32(m, ttl);
	m->rdlen_at = m->n;
	u16(m, 0);
}

static void rr_end(struct mb *m)
{
	size_t l = m->n - m->rdlen_at - 2;
	m->b[m->rdlen_at] = (uint8_t)(l >> 8);
	m->b[m->rdlen_at + 1] = (uint8_t)l;
}

/* EDNS OPT (RFC 6891 6.1.2), optionally with a Client Subnet option. */
static void opt(struct mb *m, unsigned udp, unsigned ext_rcode, bool do_bit, const uint8_t *ecs,
		size_t ecslen)
{
	u8(m, 0);
	u16(m, 41);
	u16(m, udp);
	u32(m, (uint32_t)ext_rcode << 24 | (do_bit ? 0x8000u : 0));
	u16(m, ecslen ? 4 + ecslen : 0);
	if (ecslen) {
		u16(m, 8);
		u16(m, (unsigned)ecslen);
		raw(m, ecs, ecslen);
	}
}

/* ---- driving the dissector ----------------------------------------------- */

struct fx {
	struct gcp_dissect_ctx *ctx;
	void *st;
	uint8_t pend[2][70000]; /* engine-like unconsumed tail per direction */
	uint32_t plen[2];
};

static struct fx *fx_new_at(uint8_t l4, const char *cli, uint16_t cport, const char *srv,
			    uint16_t sport)
{
	struct fx *f = calloc(1, sizeof(*f));
	cr_assert_not_null(f);
	f->ctx = gcp_test_dctx_new(NULL, l4, cli, cport, srv, sport);
	cr_assert_not_null(f->ctx);
	f->st = calloc(1, D->state_size);
	gcp_test_dctx_set_now(f->ctx, T0);
	D->init(f->st, f->ctx);
	return f;
}

static struct fx *fx_new(uint8_t l4)
{
	return fx_new_at(l4, "10.0.0.1", 40000, "10.0.0.53", 53);
}

static void fx_fini(struct fx *f)
{
	D->fini(f->st, f->ctx);
}

static void fx_free(struct fx *f)
{
	gcp_test_dctx_free(f->ctx);
	free(f->st);
	free(f);
}

static void udp(struct fx *f, uint64_t t, int dir, const struct mb *m)
{
	uint8_t *copy = malloc(m->n); /* exact size: ASan sees over-reads */
	memcpy(copy, m->b, m->n);
	gcp_test_dctx_set_now(f->ctx, t);
	struct gcp_parse_result r = D->parse(f->st, f->ctx, dir, copy, (uint32_t)m->n, 0);
	cr_assert_eq(r.status, GCP_PARSE_OK);
	free(copy);
}

/* Stream bytes as the engine offers them: kept tail + new bytes, consumed honoured. */
static void tcp(struct fx *f, uint64_t t, int dir, const uint8_t *p, size_t n)
{
	memcpy(f->pend[dir] + f->plen[dir], p, n);
	f->plen[dir] += (uint32_t)n;
	uint8_t *copy = malloc(f->plen[dir] ? f->plen[dir] : 1);
	memcpy(copy, f->pend[dir], f->plen[dir]);
	gcp_test_dctx_set_now(f->ctx, t);
	struct gcp_parse_result r = D->parse(f->st, f->ctx, dir, copy, f->plen[dir], 0);
	free(copy);
	cr_assert_eq(r.status, GCP_PARSE_OK);
	cr_assert_leq(r.consumed, f->plen[dir]);
	memmove(f->pend[dir], f->pend[dir] + r.consumed, f->plen[dir] - r.consumed);
	f->plen[dir] -= r.consumed;
}

static unsigned nrec(const struct fx *f)
{
	return gcp_test_dctx_nrecords(f->ctx);
}

static const char *rec(const struct fx *f, unsigned i)
{
	const char *j = gcp_test_dctx_json(f->ctx, i);
	cr_assert_not_null(j);
	return j;
}

static uint64_t anomalies(const struct fx *f)
{
	return f->ctx->eng->dissector_errors;
}

#define HAS(json, frag) cr_expect_not_null(strstr((json), (frag)), "missing %s in %s", (frag), (json))
#define LACKS(json, frag) cr_expect_null(strstr((json), (frag)), "unexpected %s in %s", (frag), (json))

/* Query for qname/qtype at T0, its response (answers built by fn) at T0 + 50 ms. */
typedef void (*answer_fn)(struct mb *m);

static struct fx *pair(const char *qname, unsigned qtype, unsigned ancount, unsigned nscount,
		       unsigned rcode, answer_fn fn)
{
	struct fx *f = fx_new(IPPROTO_UDP);
	struct mb m;

	hdr(&m, 0x1234, 0x0100, 1, 0, 0, 0);
	question(&m, qname, qtype);
	udp(f, T0, GCP_DIR_C2S, &m);
	cr_assert_eq(nrec(f), 0);
	hdr(&m, 0x1234, 0x8180 | rcode, 1, ancount, nscount, 0);
	question(&m, qname, qtype);
	if (fn)
		fn(&m);
	udp(f, T0 + 50 * MS, GCP_DIR_S2C, &m);
	cr_assert_eq(nrec(f), 1);
	return f;
}

/* ---- pairing and basic keys ---------------------------------------------- */

static void ans_a(struct mb *m)
{
	rr_begin(m, 1, 300);
	raw(m, "\x5d\xb8\xd8\x22", 4);
	rr_end(m);
}

Test(dns, a_query_response)
{
	struct fx *f = pair("WWW.Example.COM", 1, 1, 0, 0, ans_a);
	const char *j = rec(f, 0);

	HAS(j, "\"type\":\"dns\"");
	HAS(j, "\"msg_type\":\"query_response\"");
	HAS(j, "\"qname\":\"www.example.com\"");
	HAS(j, "\"qtype\":\"A\"");
	HAS(j, "\"qclass\":\"IN\"");
	HAS(j, "\"opcode\":\"QUERY\"");
	HAS(j, "\"rcode\":\"NOERROR\"");
	HAS(j, "\"answers\":[\"93.184.216.34\"]");
	HAS(j, "\"ttl\":[300]");
	HAS(j, "\"domain_level\":3");
	HAS(j, "\"tld\":\"com\"");
	HAS(j, "\"id\":4660");
	HAS(j, "\"ancount\":1");
	HAS(j, "\"qdcount\":1");
	HAS(j, "\"rtt\":0.05");
	HAS(j, "\"rd\":true");
	HAS(j, "\"ra\":true");
	HAS(j, "\"aa\":false");
	LACKS(j, "malformed");
	cr_expect_eq(anomalies(f), 0);
	fx_fini(f);
	cr_expect_eq(nrec(f), 1, "nothing left pending");
	fx_free(f);
}

Test(dns, resp_len_and_ts_is_query_time)
{
	struct fx *f = pair("example.com", 1, 1, 0, 0, ans_a);
	const char *j = rec(f, 0);

	/* 12 header + 17 question + 16 answer */
	HAS(j, "\"resp_len\":45");
	HAS(j, "\"ts\":\"2023-11-14T22:13:20.000000Z\"");
	fx_free(f);
}

static void ans_cname_aaaa(struct mb *m)
{
	rr_begin(m, 5, 60);
	name(m, "edge.cdn.example.net");
	rr_end(m);
	size_t target = m->rdlen_at + 2;
	rr_begin(m, 5, 30);
	u8(m, 2);
	raw(m, "e1", 2);
	ptr(m, (unsigned)target + 5); /* "cdn.example.net" inside the first rdata */
	rr_end(m);
	rr_begin(m, 28, 20);
	raw(m, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	rr_end(m);
}

Test(dns, aaaa_cname_chain)
{
	struct fx *f = pair("www.example.com", 28, 3, 0, 0, ans_cname_aaaa);
	const char *j = rec(f, 0);

	HAS(j, "\"qtype\":\"AAAA\"");
	HAS(j, "\"answers\":[\"edge.cdn.example.net\",\"e1.cdn.example.net\",\"2001:db8::1\"]");
	HAS(j, "\"ttl\":[60,30,20]");
	fx_free(f);
}

/* One answer of type t whose rdata is written by fn; expect its JSON text. */
static void one_answer(unsigned t, answer_fn fn, const char *expect)
{
	struct fx *f = pair("example.com", t, 1, 0, 0, fn);
	char frag[1024];

	snprintf(frag, sizeof(frag), "\"answers\":[%s]", expect);
	HAS(rec(f, 0), frag);
	LACKS(rec(f, 0), "malformed");
	cr_expect_eq(anomalies(f), 0);
	fx_free(f);
}

static void ans_mx(struct mb *m)
{
	rr_begin(m, 15, 3600);
	u16(m, 10);
	u8(m, 4);
	raw(m, "mail", 4);
	ptr(m, 12);
	rr_end(m);
}

Test(dns, mx)
{
	one_answer(15, ans_mx, "\"10 mail.example.com\"");
}

static void ans_txt(struct mb *m)
{
	rr_begin(m, 16, 3600);
	cstr(m, "v=spf1 -all");
	cstr(m, "say \"hi\"");
	u8(m, 1);
	u8(m, 7);
	rr_end(m);
}

Test(dns, txt_multiple_strings)
{
	one_answer(16, ans_txt, "\"\\\"v=spf1 -all\\\" \\\"say \\\\\\\"hi\\\\\\\"\\\" \\\"\\\\007\\\"\"");
}

static void ans_srv(struct mb *m)
{
	rr_begin(m, 33, 86400);
	u16(m, 10);
	u16(m, 60);
	u16(m, 5060);
	name(m, "sip.example.com");
	rr_end(m);
}

Test(dns, srv)
{
	one_answer(33, ans_srv, "\"10 60 5060 sip.example.com\"");
}

static void ans_caa(struct mb *m)
{
	rr_begin(m, 257, 300);
	u8(m, 0);
	cstr(m, "issue");
	raw(m, "letsencrypt.org", 15);
	rr_end(m);
}

Test(dns, caa)
{
	one_answer(257, ans_caa, "\"0 issue \\\"letsencrypt.org\\\"\"");
}

static void ans_https(struct mb *m)
{
	rr_begin(m, 65, 300);
	u16(m, 1);
	u8(m, 0); /* target "." */
	u16(m, 1);
	u16(m, 6);
	cstr(m, "h3");
	cstr(m, "h2");
	u16(m, 3);
	u16(m, 2);
	u16(m, 8443);
	u16(m, 4);
	u16(m, 8);
	raw(m, "\xc0\x00\x02\x01\xc0\x00\x02\x02", 8);
	u16(m, 5);
	u16(m, 3);
	raw(m, "abc", 3);
	u16(m, 99);
	u16(m, 2);
	raw(m, "zz", 2);
	rr_end(m);
}

Test(dns, https_svcparams)
{
	one_answer(65, ans_https,
		   "\"1 . alpn=\\\"h3,h2\\\" port=8443 ipv4hint=192.0.2.1,192.0.2.2 "
		   "ech=YWJj key99=\\\"zz\\\"\"");
}

static void ans_naptr(struct mb *m)
{
	rr_begin(m, 35, 300);
	u16(m, 100);
	u16(m, 10);
	cstr(m, "S");
	cstr(m, "SIP+D2U");
	cstr(m, "");
	name(m, "_sip._udp.example.com");
	rr_end(m);
}

Test(dns, naptr)
{
	one_answer(35, ans_naptr,
		   "\"100 10 \\\"S\\\" \\\"SIP+D2U\\\" \\\"\\\" _sip._udp.example.com\"");
}

static void ans_rrsig(struct mb *m)
{
	rr_begin(m, 46, 300);
	u16(m, 1);
	u8(m, 13);
	u8(m, 2);
	u32(m, 300);
	u32(m, 1700000000); /* 2023-11-14 22:13:20 */
	u32(m, 1699000000); /* 2023-11-03 08:26:40 */
	u16(m, 12345);
	ptr(m, 12);
	raw(m, "\x01\x02\x03\x04", 4);
	rr_end(m);
}

Test(dns, rrsig)
{
	one_answer(46, ans_rrsig,
		   "\"A 13 2 300 20231114221320 20231103082640 12345 example.com AQIDBA==\"");
}

static void ans_ds_dnskey(struct mb *m)
{
	rr_begin(m, 43, 300);
	u16(m, 2371);
	u8(m, 13);
	u8(m, 2);
	raw(m, "\xab\xcd", 2);
	rr_end(m);
}

Test(dns, ds)
{
	one_answer(43, ans_ds_dnskey, "\"2371 13 2 ABCD\"");
}

static void ans_unknown(struct mb *m)
{
	rr_begin(m, 4321, 300);
	raw(m, "\x01\xff", 2);
	rr_end(m);
}

Test(dns, unknown_type_rfc3597)
{
	struct fx *f = pair("example.com", 4321, 1, 0, 0, ans_unknown);

	HAS(rec(f, 0), "\"qtype\":\"4321\"");
	HAS(rec(f, 0), "\"answers\":[\"\\\\# 2 01FF\"]");
	fx_free(f);
}

static void auth_soa(struct mb *m)
{
	rr_begin(m, 6, 900);
	name(m, "ns1.example.com");
	u8(m, 10);
	raw(m, "hostmaster", 10);
	ptr(m, 12);
	u32(m, 2024010101);
	u32(m, 7200);
	u32(m, 3600);
	u32(m, 1209600);
	u32(m, 300);
	rr_end(m);
}

Test(dns, nxdomain_soa_in_authority)
{
	struct fx *f = pair("nope.example.com", 1, 0, 1, 3, auth_soa);
	const char *j = rec(f, 0);

	HAS(j, "\"rcode\":\"NXDOMAIN\"");
	HAS(j, "\"nscount\":1");
	HAS(j, "\"ancount\":0");
	LACKS(j, "\"answers\"");
	LACKS(j, "malformed");
	fx_free(f);
}

Test(dns, soa_answer_text)
{
	one_answer(6, auth_soa,
		   "\"ns1.example.com hostmaster.example.com 2024010101 7200 3600 1209600 300\"");
}

/* ---- EDNS ------------------------------------------------------------------ */

Test(dns, edns_do_and_ecs)
{
	struct fx *f = fx_new(IPPROTO_UDP);
	struct mb m;
	const uint8_t ecs_q[] = { 0, 1, 24, 0, 192, 0, 2 };
	const uint8_t ecs_r[] = { 0, 1, 24, 16, 192, 0, 2 };

	hdr(&m, 7, 0x0100, 1, 0, 0, 1);
	question(&m, "example.org", 1);
	opt(&m, 4096, 0, true, ecs_q, sizeof(ecs_q));
	udp(f, T0, GCP_DIR_C2S, &m);
	hdr(&m, 7, 0x81a0, 1, 0, 0, 1);
	question(&m, "example.org", 1);
	opt(&m, 1232, 0, true, ecs_r, sizeof(ecs_r));
	udp(f, T0 + MS, GCP_DIR_S2C, &m);
	cr_assert_eq(nrec(f), 1);
	HAS(rec(f, 0), "\"edns\":{\"udp_size\":1232,\"do\":true,\"ecs\":\"192.0.2.0/24\"}");
	HAS(rec(f, 0), "\"ad\":true");
	HAS(rec(f, 0), "\"arcount\":1");
	fx_free(f);
}

Test(dns, edns_query_only_and_badvers)
{
	struct fx *f = fx_new(IPPROTO_UDP);
	struct mb m;

	hdr(&m, 8, 0x0100, 1, 0, 0, 1);
	question(&m, "example.org", 1);
	opt(&m, 1400, 0, false, NULL, 0);
	udp(f, T0, GCP_DIR_C2S, &m);
	hdr(&m, 8, 0x8180, 1, 0, 0, 1);
	question(&m, "example.org", 1);
	opt(&m, 1232, 1, false, NULL, 0); /* ext-rcode 1 << 4 = 16 */
	udp(f, T0 + MS, GCP_DIR_S2C, &m);
	HAS(rec(f, 0), "\"rcode\":\"BADVERS\"");
	HAS(rec(f, 0), "\"edns\":{\"udp_size\":1232,\"do\":false}");
	fx_free(f);
}

/* ---- hostile names ------------------------------------------------------------ */

Test(dns, pointer_loop_terminates)
{
	struct fx *f = fx_new(IPPROTO_UDP);
	struct mb m;

	/* Question name: label "a" then a pointer back to itself. */
	hdr(&m, 9, 0x8180, 1, 0, 0, 0);
	u8(&m, 1);
	u8(&m, 'a');
	ptr(&m, 12);
	u16(&m, 1);
	u16(&m, 1);
	udp(f, T0, GCP_DIR_S2C, &m);
	cr_assert_eq(nrec(f), 1);
	HAS(rec(f, 0), "\"msg_type\":\"response\"");
	HAS(rec(f, 0), "\"qname\":\"a\"");
	HAS(rec(f, 0), "\"malformed\":true");
	cr_expect_geq(anomalies(f), 1);
	fx_free(f);
}

static void ans_cname_cycle(struct mb *m)
{
	/* rdata = ptr to the next 2 bytes' later twin: two pointers that point at each other. */
	rr_begin(m, 5, 60);
	size_t a = m->n;
	ptr(m, (unsigned)a + 2); /* forward: rejected */
	ptr(m, (unsigned)a);     /* backward to a, which points forward again */
	rr_end(m);
	rr_begin(m, 5, 60);
	ptr(m, (unsigned)a + 2); /* backwards into the cycle */
	rr_end(m);
}

Test(dns, pointer_cycle_and_forward_pointer_in_rdata)
{
	struct fx *f = pair("example.com", 5, 2, 0, 0, ans_cname_cycle);
	const char *j = rec(f, 0);

	/* Both rdata names fail: they fall back to the RFC 3597 form. */
	HAS(j, "\"answers\":[\"\\\\# 4 C02BC029\",\"\\\\# 2 C02B\"]");
	cr_expect_eq(anomalies(f), 2);
	fx_free(f);
}

Test(dns, forward_pointer_in_question_rejected)
{
	struct fx *f = fx_new(IPPROTO_UDP);
	struct mb m;

	hdr(&m, 10, 0x0100, 1, 0, 0, 0);
	ptr(&m, 18); /* forward, to the name that follows */
	u16(&m, 1);
	u16(&m, 1);
	name(&m, "evil.example");
	udp(f, T0, GCP_DIR_C2S, &m);
	fx_fini(f);
	cr_assert_eq(nrec(f), 1);
	HAS(rec(f, 0), "\"msg_type\":\"query\"");
	LACKS(rec(f, 0), "evil");
	LACKS(rec(f, 0), "\"qname\"");
	HAS(rec(f, 0), "\"malformed\":true");
	cr_expect_eq(anomalies(f), 1);
	fx_free(f);
}

Test(dns, name_over_255_bytes)
{
	struct fx *f = fx_new(IPPROTO_UDP);
	struct mb m;

	hdr(&m, 11, 0x8180, 1, 0, 0, 0);
	for (int i = 0; i < 5; i++) {
		u8(&m, 63);
		for (int k = 0; k < 63; k++)
			u8(&m, 'x');
	}
	u8(&m, 0);
	u16(&m, 1);
	u16(&m, 1);
	udp(f, T0, GCP_DIR_S2C, &m);
	cr_assert_eq(nrec(f), 1);
	HAS(rec(f, 0), "\"domain_level\":3");
	HAS(rec(f, 0), "\"malformed\":true");
	cr_expect_eq(anomalies(f), 1);
	fx_free(f);
}

Test(dns, name_escapes)
{
	uint8_t wire[] = { 4, 'a', '.', ' ', 0xff, 3, 'C', 'o', 'M', 0 };
	char out[DNS_NAME_TEXT_MAX];

	gcp_dns_name_text(wire, sizeof(wire), out, sizeof(out), true);
	cr_expect_str_eq(out, "a\\.\\032\\255.com");
	gcp_dns_name_text((const uint8_t *)"", 1, out, sizeof(out), true);
	cr_expect_str_eq(out, ".");
}

/* ---- lifecycle ------------------------------------------------------------------ */

Test(dns, unanswered_query_at_fini)
{
	struct fx *f = fx_new(IPPROTO_UDP);
	struct mb m;

	hdr(&m, 0x4242, 0x0100, 1, 0, 0, 0);
	question(&m, "lonely.example", 15);
	udp(f, T0, GCP_DIR_C2S, &m);
	cr_assert_eq(nrec(f), 0);
	gcp_test_dctx_set_now(f->ctx, T0 + 60000 * MS);
	fx_fini(f);
	cr_assert_eq(nrec(f), 1);
	const char *j = rec(f, 0);
	HAS(j, "\"msg_type\":\"query\"");
	HAS(j, "\"qname\":\"lonely.example\"");
	HAS(j, "\"qtype\":\"MX\"");
	HAS(j, "\"ts\":\"2023-11-14T22:13:20.000000Z\"");
	LACKS(j, "\"rcode\"");
	LACKS(j, "\"rtt\"");
	LACKS(j, "\"resp_len\"");
	fx_free(f);
}

Test(dns, response_without_query)
{
	struct fx *f = fx_new(IPPROTO_UDP);
	struct mb m;

	hdr(&m, 1, 0x8180, 1, 1, 0, 0);
	question(&m, "example.com", 1);
	ans_a(&m);
	udp(f, T0 + 5 * MS, GCP_DIR_S2C, &m);
	cr_assert_eq(nrec(f), 1);
	HAS(rec(f, 0), "\"msg_type\":\"response\"");
	HAS(rec(f, 0), "\"ts\":\"2023-11-14T22:13:20.005000Z\"");
	LACKS(rec(f, 0), "\"rtt\"");
	fx_free(f);
}

Test(dns, id_match_but_other_name_not_paired)
{
	struct fx *f = fx_new(IPPROTO_UDP);
	struct mb m;

	hdr(&m, 5, 0x0100, 1, 0, 0, 0);
	question(&m, "a.example", 1);
	udp(f, T0, GCP_DIR_C2S, &m);
	hdr(&m, 5, 0x8180, 1, 0, 0, 0);
	question(&m, "b.example", 1);
	udp(f, T0 + MS, GCP_DIR_S2C, &m);
	fx_fini(f);
	cr_assert_eq(nrec(f), 2);
	HAS(rec(f, 0), "\"msg_type\":\"response\"");
	HAS(rec(f, 1), "\"msg_type\":\"query\"");
	fx_free(f);
}

Test(dns, timeout_and_overflow)
{
	struct fx *f = fx_new(IPPROTO_UDP);
	struct mb m;

	for (unsigned i = 0; i < 33; i++) {
		hdr(&m, 100 + i, 0x0100, 1, 0, 0, 0);
		question(&m, "q.example", 1);
		udp(f, T0 + i * MS, GCP_DIR_C2S, &m);
	}
	cr_assert_eq(nrec(f), 1, "the 33rd query pushes the oldest out");
	HAS(rec(f, 0), "\"id\":100,");
	/* 11 s later (default timeout 10 s) everything left expires. */
	hdr(&m, 999, 0x0100, 1, 0, 0, 0);
	question(&m, "late.example", 1);
	udp(f, T0 + 11000 * MS, GCP_DIR_C2S, &m);
	cr_assert_eq(nrec(f), 33);
	fx_fini(f);
	cr_assert_eq(nrec(f), 34);
	HAS(rec(f, 33), "late.example");
	fx_free(f);
}

Test(dns, retransmitted_query_kept_once)
{
	struct fx *f = fx_new(IPPROTO_UDP);
	struct mb m;

	hdr(&m, 77, 0x0100, 1, 0, 0, 0);
	question(&m, "example.com", 1);
	udp(f, T0, GCP_DIR_C2S, &m);
	udp(f, T0 + 1000 * MS, GCP_DIR_C2S, &m);
	hdr(&m, 77, 0x8180, 1, 1, 0, 0);
	question(&m, "example.com", 1);
	ans_a(&m);
	udp(f, T0 + 1100 * MS, GCP_DIR_S2C, &m);
	fx_fini(f);
	cr_assert_eq(nrec(f), 1);
	HAS(rec(f, 0), "\"rtt\":1.1");
	fx_free(f);
}

/* ---- probe --------------------------------------------------------------------- */

Test(dns, probe)
{
	struct mb m;
	uint8_t junk[64];

	hdr(&m, 1, 0x0100, 1, 0, 0, 0);
	question(&m, "example.com", 1);
	cr_expect_eq(D->probe(m.b, (uint32_t)m.n, 0), GCP_PROBE_YES);
	uint8_t tcpq[600];
	tcpq[0] = (uint8_t)(m.n >> 8);
	tcpq[1] = (uint8_t)m.n;
	memcpy(tcpq + 2, m.b, m.n);
	cr_expect_eq(D->probe(tcpq, (uint32_t)m.n + 2, 0), GCP_PROBE_YES);
	cr_expect_eq(D->probe(tcpq, 6, 0), GCP_PROBE_MAYBE);
	srand(1);
	unsigned yes = 0;
	for (int i = 0; i < 10000; i++) {
		for (size_t k = 0; k < sizeof(junk); k++)
			junk[k] = (uint8_t)rand();
		yes += D->probe(junk, sizeof(junk), 0) == GCP_PROBE_YES;
	}
	cr_expect_eq(yes, 0, "random payloads claimed: %u", yes);
	hdr(&m, 0, 0x8400, 0, 1, 0, 0); /* mDNS announcement: answers only */
	rr_begin(&m, 1, 120);
	raw(&m, "\xc0\xa8\x01\x02", 4);
	rr_end(&m);
	cr_expect_eq(D->probe(m.b, (uint32_t)m.n, 0), GCP_PROBE_YES);
	hdr(&m, 1, 0x1900, 1, 0, 0, 0); /* opcode 3 */
	question(&m, "example.com", 1);
	cr_expect_eq(D->probe(m.b, (uint32_t)m.n, 0), GCP_PROBE_NO);
}

/* Queries may carry answers (RFC 6762 7.1) and authority records (RFC 6762 8.2). */
Test(dns, probe_mdns_queries_with_records)
{
	struct mb m;

	hdr(&m, 0, 0x0000, 1, 1, 0, 0); /* known-answer query */
	question(&m, "gomez._sftp-ssh._tcp.local", 16);
	rr_begin(&m, 16, 4500);
	cstr(&m, "txtvers=1");
	rr_end(&m);
	cr_expect_eq(D->probe(m.b, (uint32_t)m.n, 0), GCP_PROBE_YES);
	hdr(&m, 0, 0x0000, 1, 0, 1, 0); /* probe: proposed record in authority */
	question(&m, "linux.local", 255);
	rr_begin(&m, 28, 120);
	raw(&m, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	rr_end(&m);
	cr_expect_eq(D->probe(m.b, (uint32_t)m.n, 0), GCP_PROBE_YES);
}

/* QDCOUNT 0 in a query: only when every section parses and fills the message. */
Test(dns, probe_query_without_question)
{
	struct mb m;

	hdr(&m, 0, 0x0000, 0, 0, 0, 0); /* bare header (cf. RFC 7873 5.4) */
	cr_expect_eq(D->probe(m.b, (uint32_t)m.n, 0), GCP_PROBE_YES);
	hdr(&m, 0x1234, 0x0000, 0, 0, 0, 1); /* DNS Cookie query: OPT only */
	opt(&m, 1232, 0, false, NULL, 0);
	cr_expect_eq(D->probe(m.b, (uint32_t)m.n, 0), GCP_PROBE_YES);
	u8(&m, 0x42); /* trailing byte: not a clean message */
	cr_expect_eq(D->probe(m.b, (uint32_t)m.n, 0), GCP_PROBE_NO);
	/* answer count but no answer (id < 12: no TCP length-prefix reading) */
	hdr(&m, 5, 0x0000, 0, 1, 0, 0);
	u16(&m, 0);
	u16(&m, 0);
	cr_expect_eq(D->probe(m.b, (uint32_t)m.n, 0), GCP_PROBE_NO);
}

/* A TCP message spanning segments is judged on the bytes at hand. */
Test(dns, probe_tcp_message_larger_than_first_segment)
{
	struct mb m;
	uint8_t seg[1460];

	hdr(&m, 0xcda0, 0x0000, 1, 0, 0, 1); /* GSS-TSIG TKEY query (RFC 3645) */
	question(&m, "1068-ms-7.309-2c6e448.7a9463b8-b109-11ed-26a3-080027f220e5", 249);
	name(&m, "1068-ms-7.309-2c6e448.7a9463b8-b109-11ed-26a3-080027f220e5");
	u16(&m, 249);
	u16(&m, 255);
	u32(&m, 0);
	u16(&m, 3000);
	memset(m.b + m.n, 0x60, 3000);
	m.n += 3000;
	seg[0] = (uint8_t)(m.n >> 8);
	seg[1] = (uint8_t)m.n;
	memcpy(seg + 2, m.b, sizeof(seg) - 2);
	cr_expect_eq(D->probe(seg, sizeof(seg), 0), GCP_PROBE_YES);
	cr_expect_eq(D->probe(seg, 30, 0), GCP_PROBE_MAYBE, "question still arriving");
	cr_expect_eq(D->probe(seg, 14, 0), GCP_PROBE_MAYBE, "header only");
	seg[2 + 12] = 0xc0; /* the question name turned into a forward pointer */
	cr_expect_eq(D->probe(seg, sizeof(seg), 0), GCP_PROBE_NO);
}

/* ---- mDNS ---------------------------------------------------------------------- */

static struct fx *fx_mdns(const char *src)
{
	return fx_new_at(IPPROTO_UDP, src, 5353, "224.0.0.251", 5353);
}

static void mdns_answer_only(struct mb *m, unsigned nans)
{
	hdr(m, 0, 0x8400, 0, nans, 0, 0);
	for (unsigned i = 0; i < nans; i++) {
		name(m, "linux.local");
		u16(m, 28);
		u16(m, 0x8001); /* cache flush */
		u32(m, 120);
		u16(m, 16);
		raw(m, "\x20\x01\x06\xf8\x10\x2d\0\0\0\0\0\0\0\0\0", 15);
		u8(m, i);
	}
}

/*
 * RFC 6762 6: a response has no question; tshark pairs it with the query
 * of the same id in the conversation (here both go to the group address,
 * same direction). A later response with that id repeats the answer.
 */
Test(dns, mdns_qdcount0_response_paired_and_repeat_dropped)
{
	struct fx *f = fx_mdns("10.0.0.7");
	struct mb m;

	hdr(&m, 0, 0x0000, 2, 0, 0, 0);
	question(&m, "7.0.0.10.in-addr.arpa", 255);
	question(&m, "linux.local", 255);
	udp(f, T0, GCP_DIR_C2S, &m);
	mdns_answer_only(&m, 4);
	udp(f, T0 + 2 * MS, GCP_DIR_C2S, &m);
	cr_assert_eq(nrec(f), 1);
	const char *j = rec(f, 0);
	HAS(j, "\"msg_type\":\"query_response\"");
	HAS(j, "\"id\":0,");
	HAS(j, "\"qdcount\":0");
	HAS(j, "\"ancount\":4");
	HAS(j, "\"ttl\":[120,120,120,120]");
	HAS(j, "\"rcode\":\"NOERROR\"");
	HAS(j, "\"qname\":\"7.0.0.10.in-addr.arpa\"");
	mdns_answer_only(&m, 2); /* announcements with the same id */
	udp(f, T0 + 700 * MS, GCP_DIR_C2S, &m);
	mdns_answer_only(&m, 5);
	udp(f, T0 + 1700 * MS, GCP_DIR_C2S, &m);
	cr_expect_eq(nrec(f), 1, "repeats of an answered id make no record");
	/* A new query with the id pairs again. */
	hdr(&m, 0, 0x0000, 1, 0, 0, 0);
	question(&m, "linux.local", 28);
	udp(f, T0 + 2000 * MS, GCP_DIR_C2S, &m);
	mdns_answer_only(&m, 4);
	udp(f, T0 + 2001 * MS, GCP_DIR_C2S, &m);
	fx_fini(f);
	cr_assert_eq(nrec(f), 2);
	HAS(rec(f, 1), "\"msg_type\":\"query_response\"");
	HAS(rec(f, 1), "\"qtype\":\"AAAA\"");
	cr_expect_eq(anomalies(f), 0);
	fx_free(f);
}

/* An unsolicited answer-only response is still reported (no transaction to repeat). */
Test(dns, mdns_unsolicited_response_reported)
{
	struct fx *f = fx_mdns("10.0.0.8");
	struct mb m;

	mdns_answer_only(&m, 1);
	udp(f, T0, GCP_DIR_C2S, &m);
	cr_assert_eq(nrec(f), 1);
	HAS(rec(f, 0), "\"msg_type\":\"response\"");
	HAS(rec(f, 0), "\"qdcount\":0");
	fx_free(f);
}

/* A repeated response to an answered unicast query is not a second transaction. */
Test(dns, duplicated_response_dropped_other_question_kept)
{
	struct fx *f = pair("example.com", 1, 1, 0, 0, ans_a);
	struct mb m;

	hdr(&m, 0x1234, 0x8180, 1, 1, 0, 0);
	question(&m, "EXAMPLE.com", 1);
	ans_a(&m);
	udp(f, T0 + 60 * MS, GCP_DIR_S2C, &m);
	cr_expect_eq(nrec(f), 1, "duplicate dropped");
	hdr(&m, 0x1234, 0x8180, 1, 1, 0, 0);
	question(&m, "other.example", 1);
	ans_a(&m);
	udp(f, T0 + 70 * MS, GCP_DIR_S2C, &m);
	cr_assert_eq(nrec(f), 2, "same id, other question: its own record");
	HAS(rec(f, 1), "\"msg_type\":\"response\"");
	HAS(rec(f, 1), "\"qname\":\"other.example\"");
	fx_free(f);
}

/*
 * RFC 6762 7.1: a query listing known answers is a query. It never
 * completes the pending query with the same id, and makes its own record.
 */
Test(dns, mdns_known_answer_query_not_merged)
{
	struct fx *f = fx_mdns("10.0.0.9");
	struct mb m;

	hdr(&m, 0, 0x0000, 1, 0, 0, 0);
	question(&m, "gemini._sftp-ssh._tcp.local", 33);
	udp(f, T0, GCP_DIR_C2S, &m);
	hdr(&m, 0, 0x0000, 1, 1, 0, 0);
	question(&m, "gomez._sftp-ssh._tcp.local", 16);
	rr_begin(&m, 16, 4500);
	cstr(&m, "txtvers=1");
	rr_end(&m);
	cr_assert_eq(D->probe(m.b, (uint32_t)m.n, 0), GCP_PROBE_YES);
	udp(f, T0 + 3000 * MS, GCP_DIR_C2S, &m);
	cr_expect_eq(nrec(f), 0, "a query completes nothing");
	fx_fini(f);
	cr_assert_eq(nrec(f), 2);
	HAS(rec(f, 0), "\"qname\":\"gemini._sftp-ssh._tcp.local\"");
	HAS(rec(f, 0), "\"msg_type\":\"query\"");
	HAS(rec(f, 1), "\"qname\":\"gomez._sftp-ssh._tcp.local\"");
	HAS(rec(f, 1), "\"msg_type\":\"query\"");
	HAS(rec(f, 1), "\"qtype\":\"TXT\"");
	HAS(rec(f, 1), "\"ancount\":1");
	for (unsigned i = 0; i < nrec(f); i++)
		LACKS(rec(f, i), "query_response");
	fx_free(f);
}

/* A query without a question is reported once (its repeat is a retransmission). */
Test(dns, query_without_question_reported)
{
	struct fx *f = fx_new(IPPROTO_UDP);
	struct mb m;

	hdr(&m, 0, 0x0000, 0, 0, 0, 0);
	udp(f, T0, GCP_DIR_C2S, &m);
	udp(f, T0 + MS, GCP_DIR_S2C, &m);
	fx_fini(f);
	cr_assert_eq(nrec(f), 1);
	HAS(rec(f, 0), "\"msg_type\":\"query\"");
	HAS(rec(f, 0), "\"qdcount\":0");
	LACKS(rec(f, 0), "\"qname\"");
	cr_expect_eq(anomalies(f), 0);
	fx_free(f);
}

/* ---- TCP ----------------------------------------------------------------------- */

/* Two queries (C2S) and two responses (S2C), each pair in one segment. */
static size_t tcp_stream(uint8_t *out, int dir)
{
	size_t n = 0;

	for (unsigned i = 0; i < 2; i++) {
		struct mb m;
		hdr(&m, 0x100 + i, dir ? 0x8180 : 0x0100, 1, dir ? 1 : 0, 0, 0);
		question(&m, i ? "two.example" : "one.example", 1);
		if (dir)
			ans_a(&m);
		out[n++] = (uint8_t)(m.n >> 8);
		out[n++] = (uint8_t)m.n;
		memcpy(out + n, m.b, m.n);
		n += m.n;
	}
	return n;
}

/* JSON of every record with the volatile ingest_ts cut out. */
static char *records_text(const struct fx *f)
{
	size_t cap = 1 << 16, n = 0;
	char *s = calloc(1, cap);

	for (unsigned i = 0; i < nrec(f); i++) {
		const char *j = rec(f, i);
		const char *it = strstr(j, "\"ingest_ts\":\"");
		size_t pre = it ? (size_t)(it - j) : strlen(j);
		memcpy(s + n, j, pre);
		n += pre;
		if (it) {
			const char *rest = strchr(it + 13, '"') + 1;
			memcpy(s + n, rest, strlen(rest));
			n += strlen(rest);
		}
	}
	return s;
}

Test(dns, tcp_two_messages_per_segment_and_byte_at_a_time)
{
	uint8_t q[1024], r[1024];
	size_t qn = tcp_stream(q, 0), rn = tcp_stream(r, 1);

	struct fx *a = fx_new(IPPROTO_TCP);
	tcp(a, T0, GCP_DIR_C2S, q, qn);
	tcp(a, T0 + 20 * MS, GCP_DIR_S2C, r, rn);
	cr_assert_eq(a->plen[0] + a->plen[1], 0, "all bytes consumed");
	fx_fini(a);
	cr_assert_eq(nrec(a), 2);
	HAS(rec(a, 0), "\"qname\":\"one.example\"");
	HAS(rec(a, 1), "\"qname\":\"two.example\"");
	HAS(rec(a, 1), "\"msg_type\":\"query_response\"");
	HAS(rec(a, 1), "\"resp_len\":45");
	HAS(rec(a, 1), "\"l4\":\"tcp\"");

	struct fx *b = fx_new(IPPROTO_TCP);
	for (size_t i = 0; i < qn; i++)
		tcp(b, T0, GCP_DIR_C2S, q + i, 1);
	for (size_t i = 0; i < rn; i++)
		tcp(b, T0 + 20 * MS, GCP_DIR_S2C, r + i, 1);
	fx_fini(b);
	cr_assert_eq(nrec(b), 2);
	char *sa = records_text(a), *sb = records_text(b);
	cr_expect_str_eq(sa, sb);
	free(sa);
	free(sb);
	cr_expect_eq(anomalies(a), 0);
	cr_expect_eq(anomalies(b), 0);
	fx_free(a);
	fx_free(b);
}

Test(dns, tcp_needed_hint_and_gap)
{
	uint8_t q[1024];
	size_t qn = tcp_stream(q, 0);
	struct fx *f = fx_new(IPPROTO_TCP);

	struct gcp_parse_result res = D->parse(f->st, f->ctx, 0, q, 1, 0);
	cr_expect_eq(res.consumed, 0);
	cr_expect_eq(res.needed, 1);
	res = D->parse(f->st, f->ctx, 0, q, 5, 0);
	cr_expect_eq(res.consumed, 2, "the length prefix is taken first");
	cr_expect_eq(res.needed, (uint32_t)(q[1] - 3));
	res = D->parse(f->st, f->ctx, 0, NULL, 100, GCP_PF_GAP);
	cr_expect_eq(res.status, GCP_PARSE_OK);
	cr_expect_eq(anomalies(f), 1);
	res = D->parse(f->st, f->ctx, 0, q, (uint32_t)qn, 0);
	cr_expect_eq(res.consumed, qn, "framing found again on the next message");
	fx_fini(f);
	cr_expect_eq(nrec(f), 2, "both queries after the gap, unanswered");
	fx_free(f);
}

/* ---- resynchronisation after a gap ------------------------------------------ */

/* A gap as the engine reports it: the kept tail goes first. */
static void tcp_gap(struct fx *f, int dir, uint32_t len)
{
	f->plen[dir] = 0;
	struct gcp_parse_result r = D->parse(f->st, f->ctx, dir, NULL, len, GCP_PF_GAP);
	cr_assert_eq(r.status, GCP_PARSE_OK);
}

/* n bytes in pieces of step (0: at once). */
static void tcp_steps(struct fx *f, uint64_t t, int dir, const uint8_t *p, size_t n, size_t step)
{
	if (!step)
		step = n;
	for (size_t o = 0; o < n; o += step)
		tcp(f, t, dir, p + o, n - o < step ? n - o : step);
}

static const char *rec_with(const struct fx *f, const char *frag)
{
	for (unsigned i = 0; i < nrec(f); i++)
		if (strstr(rec(f, i), frag))
			return rec(f, i);
	return NULL;
}

static uint64_t resyncs(const struct fx *f)
{
	struct gcp_stats st = { .sz = sizeof(st) };
	cr_assert_eq(gcp_engine_stats(f->ctx->eng, &st), 0);
	return st.stream_resyncs;
}

/*
 * A gap inside the first response: the rest of it is passed over and the
 * second response, found again by its length prefix, pairs with its query
 * (whole, byte at a time, in odd pieces).
 */
Test(dns, tcp_gap_resyncs_on_next_message)
{
	uint8_t q[1024], r[1024];
	size_t qn = tcp_stream(q, 0), rn = tcp_stream(r, 1);
	size_t r1 = 2 + ((size_t)r[0] << 8 | r[1]);
	const size_t steps[] = { 0, 1, 5 };

	cr_assert_gt(r1, 29);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct fx *f = fx_new(IPPROTO_TCP);
		tcp(f, T0, GCP_DIR_C2S, q, qn);
		tcp(f, T0 + 10 * MS, GCP_DIR_S2C, r, 9);
		tcp_gap(f, GCP_DIR_S2C, 20);
		tcp_steps(f, T0 + 20 * MS, GCP_DIR_S2C, r + 29, rn - 29, steps[i]);
		fx_fini(f);
		cr_assert_eq(nrec(f), 2, "step %zu", steps[i]);
		const char *two = rec_with(f, "\"qname\":\"two.example\"");
		const char *one = rec_with(f, "\"qname\":\"one.example\"");
		cr_assert(two && one);
		HAS(two, "\"msg_type\":\"query_response\"");
		HAS(two, "\"resp_len\":45");
		HAS(one, "\"msg_type\":\"query\"");
		cr_expect_eq(resyncs(f), 1);
		fx_free(f);
	}
}

/*
 * Lost bytes holding message lookalikes: a length prefix and a header
 * (question included) the probe would take, but the next frame is no
 * message, or, last at hand, the message does not parse. Neither is
 * taken: the lookalike answering query 2 would make a bogus response and
 * swallow the real one.
 */
Test(dns, tcp_gap_lookalike_header_not_taken)
{
	uint8_t q[1024], r[1024], junk[256];
	size_t qn = tcp_stream(q, 0), rn = tcp_stream(r, 1), jn = 0;
	size_t r1 = 2 + ((size_t)r[0] << 8 | r[1]);
	struct mb m;
	struct fx *f = fx_new(IPPROTO_TCP);

	tcp(f, T0, GCP_DIR_C2S, q, qn);
	tcp_gap(f, GCP_DIR_S2C, 100);
	/* Plausible frame for query 2, then bytes that frame nothing. */
	hdr(&m, 0x101, 0x8180, 1, 1, 0, 0);
	question(&m, "two.example", 1);
	memset(m.b + m.n, 0xee, 48 - m.n);
	junk[jn++] = 0;
	junk[jn++] = 48;
	memcpy(junk + jn, m.b, 48);
	jn += 48;
	memset(junk + jn, 0xee, 20);
	jn += 20;
	tcp(f, T0 + 10 * MS, GCP_DIR_S2C, junk, jn);
	/* Last at hand: a frame for query 1 whose answer does not parse. */
	hdr(&m, 0x100, 0x8180, 1, 1, 0, 0);
	question(&m, "one.example", 1);
	memset(m.b + m.n, 0xee, 16);
	m.n += 16;
	jn = 0;
	junk[jn++] = (uint8_t)(m.n >> 8);
	junk[jn++] = (uint8_t)m.n;
	memcpy(junk + jn, m.b, m.n);
	jn += m.n;
	tcp(f, T0 + 15 * MS, GCP_DIR_S2C, junk, jn);
	cr_expect_eq(nrec(f), 0, "no record from lookalikes");
	cr_expect_eq(resyncs(f), 0);
	tcp(f, T0 + 20 * MS, GCP_DIR_S2C, r + r1, rn - r1); /* the real response 2 */
	fx_fini(f);
	cr_assert_eq(nrec(f), 2);
	const char *two = rec_with(f, "\"qname\":\"two.example\"");
	const char *one = rec_with(f, "\"qname\":\"one.example\"");
	cr_assert(two && one);
	HAS(two, "\"msg_type\":\"query_response\"");
	HAS(two, "\"resp_len\":45");
	LACKS(two, "\"malformed\"");
	HAS(one, "\"msg_type\":\"query\"");
	cr_expect_eq(resyncs(f), 1);
	fx_free(f);
}

/*
 * GSS-TSIG (RFC 3645): a TKEY query of kBs over TCP, split at 1460 bytes,
 * its answer carrying TKEY and TSIG. The probe takes the first segment,
 * the stream yields one paired record.
 */
static size_t tkey_msg(uint8_t *out, bool resp, size_t blob)
{
	struct mb *m = calloc(1, sizeof(*m));
	const char *kn = "1068-ms-7.309-2c6e448.7a9463b8-b109-11ed-26a3-080027f220e5";

	hdr(m, 0xcda0, resp ? 0x8000 : 0x0000, 1, resp ? 1 : 0, 0, 1);
	question(m, kn, 249);
	for (int sec = resp ? 0 : 1; sec < 2; sec++) {
		ptr(m, 12);
		u16(m, sec ? (resp ? 250 : 249) : 249);
		u16(m, 255);
		u32(m, 0);
		u16(m, (unsigned)blob);
		memset(m->b + m->n, 0x60 + sec, blob);
		m->n += blob;
	}
	out[0] = (uint8_t)(m->n >> 8);
	out[1] = (uint8_t)m->n;
	memcpy(out + 2, m->b, m->n);
	size_t n = m->n + 2;
	free(m);
	return n;
}

Test(dns, tcp_tkey_query_over_segments)
{
	static uint8_t q[4096], r[1024];
	size_t qn = tkey_msg(q, false, 3100), rn = tkey_msg(r, true, 200);
	struct fx *f = fx_new(IPPROTO_TCP);

	cr_assert_gt(qn, 2 * 1460);
	cr_expect_eq(D->probe(q, 1460, GCP_DIR_C2S), GCP_PROBE_YES);
	cr_expect_eq(D->probe(r, (uint32_t)rn, GCP_DIR_S2C), GCP_PROBE_YES);
	for (size_t off = 0; off < qn; off += 1460)
		tcp(f, T0 + off, GCP_DIR_C2S, q + off, qn - off < 1460 ? qn - off : 1460);
	cr_expect_eq(nrec(f), 0);
	tcp(f, T0 + 2 * MS, GCP_DIR_S2C, r, rn);
	cr_assert_eq(nrec(f), 1);
	const char *j = rec(f, 0);
	HAS(j, "\"msg_type\":\"query_response\"");
	HAS(j, "\"qtype\":\"TKEY\"");
	HAS(j, "\"id\":52640");
	HAS(j, "\"arcount\":1");
	HAS(j, "\"ttl\":[0]");
	cr_expect_eq(anomalies(f), 0);
	fx_fini(f);
	cr_expect_eq(nrec(f), 1);
	fx_free(f);
}

/* ---- cross-check with tshark on the corpus ------------------------------------- */

static int hexval(int c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

struct tsh_row {
	char qname[256];
	unsigned qtype, rcode, ancount, id;
};

static char *field(char **s)
{
	char *f = *s, *tab = strchr(f, '\t');
	if (tab) {
		*tab = 0;
		*s = tab + 1;
	} else {
		f[strcspn(f, "\n")] = 0;
		*s = f + strlen(f);
	}
	return f;
}

static bool json_has_row(const struct fx *f, const struct tsh_row *r)
{
	char qn[300], qt[64], rc[64], an[64], id[64];
	const char *tn = gcp_dns_type_name((uint16_t)r->qtype);
	const char *rn = gcp_dns_rcode_name(r->rcode);

	for (char *p = (char *)r->qname; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	snprintf(qn, sizeof(qn), "\"qname\":\"%s\"", r->qname);
	if (tn)
		snprintf(qt, sizeof(qt), "\"qtype\":\"%s\"", tn);
	else
		snprintf(qt, sizeof(qt), "\"qtype\":\"%u\"", r->qtype);
	snprintf(rc, sizeof(rc), "\"rcode\":\"%s\"", rn ? rn : "?");
	snprintf(an, sizeof(an), "\"ancount\":%u,", r->ancount);
	snprintf(id, sizeof(id), "\"id\":%u,", r->id);
	for (unsigned i = 0; i < nrec(f); i++) {
		const char *j = rec(f, i);
		if (strstr(j, qn) && strstr(j, qt) && strstr(j, rc) && strstr(j, an) && strstr(j, id))
			return true;
	}
	return false;
}

/* Feed every UDP DNS payload of a capture; each response tshark sees must be a record. */
static void crosscheck(const char *file)
{
	char cmd[1024], line[70000];
	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s/dns/%s -Y 'dns && udp && !icmp' -T fields -e frame.time_epoch "
		 "-e dns.flags.response -e dns.id -e dns.qry.name -e dns.qry.type "
		 "-e dns.flags.rcode -e dns.count.answers -e dns.count.prerequisites "
		 "-e udp.payload 2>/dev/null",
		 GCP_CORPUS_DIR, file);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	struct fx *f = fx_new(IPPROTO_UDP);
	struct tsh_row *rows = calloc(256, sizeof(*rows));
	unsigned nrows = 0, nmsgs = 0;

	while (fgets(line, sizeof(line), p)) {
		char *s = line;
		double t = atof(field(&s));
		bool resp = atoi(field(&s)) == 1;
		struct tsh_row r = { 0 };
		r.id = (unsigned)strtoul(field(&s), NULL, 16);
		snprintf(r.qname, sizeof(r.qname), "%s", field(&s));
		r.qtype = (unsigned)atoi(field(&s));
		r.rcode = (unsigned)atoi(field(&s));
		char *an = field(&s), *pr = field(&s);
		r.ancount = (unsigned)atoi(*an ? an : pr); /* UPDATE: PRCOUNT (RFC 2136 2.2) */
		char *hex = field(&s);
		struct mb m = { .n = strlen(hex) / 2 };
		cr_assert_leq(m.n, sizeof(m.b));
		for (size_t i = 0; i < m.n; i++)
			m.b[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
		udp(f, (uint64_t)(t * 1e9), resp, &m);
		nmsgs++;
		if (resp && nrows < 256)
			rows[nrows++] = r;
	}
	pclose(p);
	fx_fini(f);
	cr_assert_gt(nmsgs, 0, "tshark gave nothing for %s", file);
	if (getenv("DNS_TEST_DUMP")) /* eyeball the records */
		for (unsigned i = 0; i < nrec(f); i++)
			fputs(rec(f, i), stderr);
	for (unsigned i = 0; i < nrows; i++)
		cr_expect(json_has_row(f, &rows[i]), "%s: no record for response id %u %s type %u",
			  file, rows[i].id, rows[i].qname, rows[i].qtype);
	free(rows);
	fx_free(f);
}

Test(dns_tshark, caa)
{
	crosscheck("zeek-dns-caa.pcap");
}

Test(dns_tshark, https_rr)
{
	crosscheck("zeek-dns-https-rr.pcap");
}

Test(dns_tshark, txt_multiple_cname)
{
	crosscheck("zeek-dns-txt-multiple-cname.pcap");
}

Test(dns_tshark, edns_opts)
{
	crosscheck("tcpdump-dns-edns-opts.pcap");
}

Test(dns_tshark, ecs_dnssec)
{
	crosscheck("zeek-dns-edns-ecs-dnssec-tcp-frag.pcap");
}

Test(dns_tshark, dynamic_update)
{
	crosscheck("zeek-dns-dynamic-update.pcap");
}

Test(dns_tshark, notify_vlan)
{
	crosscheck("zeek-dns-notify-vlan.pcap");
}

/* TCP: feed each stream's segments by direction; every response tshark decodes must be a record. */
static void crosscheck_tcp(const char *file)
{
	char cmd[1024], line[70000];
	struct fx *fs[16] = { 0 };
	unsigned nseg = 0;

	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s/dns/%s -Y 'tcp.len>0' -T fields -e tcp.stream -e tcp.srcport "
		 "-e frame.time_epoch -e tcp.payload 2>/dev/null",
		 GCP_CORPUS_DIR, file);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p)) {
		char *s = line;
		unsigned st = (unsigned)atoi(field(&s));
		int dir = atoi(field(&s)) == 53 ? GCP_DIR_S2C : GCP_DIR_C2S;
		double t = atof(field(&s));
		char *hex = field(&s);
		size_t n = strlen(hex) / 2;
		uint8_t *b = malloc(n + 1);
		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
		cr_assert_lt(st, 16);
		if (!fs[st])
			fs[st] = fx_new(IPPROTO_TCP);
		tcp(fs[st], (uint64_t)(t * 1e9), dir, b, n);
		free(b);
		nseg++;
	}
	pclose(p);
	cr_assert_gt(nseg, 0);
	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s/dns/%s -Y 'dns && tcp && dns.flags.response==1' -T fields "
		 "-e tcp.stream -e dns.id -e dns.qry.name -e dns.qry.type -e dns.flags.rcode "
		 "-e dns.count.answers 2>/dev/null",
		 GCP_CORPUS_DIR, file);
	p = popen(cmd, "r");
	unsigned nresp = 0;
	while (fgets(line, sizeof(line), p)) {
		char *s = line;
		unsigned st = (unsigned)atoi(field(&s));
		struct tsh_row r = { 0 };
		r.id = (unsigned)strtoul(field(&s), NULL, 16);
		snprintf(r.qname, sizeof(r.qname), "%s", field(&s));
		r.qtype = (unsigned)atoi(field(&s));
		r.rcode = (unsigned)atoi(field(&s));
		r.ancount = (unsigned)atoi(field(&s));
		cr_assert(st < 16 && fs[st]);
		cr_expect(json_has_row(fs[st], &r), "%s: no record for id %u %s", file, r.id,
			  r.qname);
		nresp++;
	}
	pclose(p);
	cr_assert_gt(nresp, 0);
	for (unsigned i = 0; i < 16; i++) {
		if (!fs[i])
			continue;
		fx_fini(fs[i]);
		if (getenv("DNS_TEST_DUMP"))
			for (unsigned k = 0; k < nrec(fs[i]); k++)
				fputs(rec(fs[i], k), stderr);
		fx_free(fs[i]);
	}
}

Test(dns_tshark, tcp_simple)
{
	crosscheck_tcp("tcpdump-dns-tcp.pcap");
}

Test(dns_tshark, tcp_tkey_multi_segment)
{
	crosscheck_tcp("zeek-dns-tkey-tcp.pcap");
}

Test(dns_tshark, tcp_dnssec_large)
{
	crosscheck_tcp("zeek-dns-edns-ecs-dnssec-tcp-frag.pcap");
}

static void ans_70(struct mb *m)
{
	for (unsigned i = 0; i < 70; i++) {
		rr_begin(m, 1, i);
		u32(m, 0x0a000000u | i);
		rr_end(m);
	}
}

Test(dns, answers_capped)
{
	struct fx *f = pair("many.example", 1, 70, 0, 0, ans_70);
	const char *j = rec(f, 0);

	HAS(j, "\"ancount\":70");
	HAS(j, "\"answers_dropped\":6");
	HAS(j, "\"10.0.0.63\"]");
	LACKS(j, "\"10.0.0.64\"");
	HAS(j, ",63],");
	fx_free(f);
}
