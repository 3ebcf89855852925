/* SPDX-License-Identifier: BSD-3-Clause */
/* gcp_stats counters through the public engine API: stream resyncs after
 * reassembly gaps, the expectation table (FTP data), and Hyperscan scan
 * failures of identification and content rules. */

#include "conv.h"
#include "engine.h"
#include "tls_vectors.h"

#define S_NS 1000000000ull

static void count_rec(const struct gcp_record *rec, void *user)
{
	(void)rec;
	++*(unsigned *)user;
}

static struct gcp_engine *engine_counting(unsigned *nrec)
{
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;
	struct gcp_engine *e;

	o.node_name = "test";
	o.max_flows = 4096;
	cr_assert_eq(gcp_engine_create(&o, &e), 0);
	cr_assert_eq(gcp_engine_subscribe(e, GCP_REC_ALL, count_rec, nrec), 0);
	return e;
}

static struct gcp_stats stats(struct gcp_engine *e)
{
	struct gcp_stats st = { .sz = sizeof(st) };

	cr_assert_eq(gcp_engine_stats(e, &st), 0);
	cr_assert_eq(st.sz, sizeof(st));
	return st;
}

/* A connection opened like conn_open(), from any client port, at time ts. */
static void open_at(struct conn *c, struct gcp_engine *e, uint16_t cport, uint16_t sport,
		    uint64_t ts)
{
	*c = (struct conn){ .e = e, .ip = { { 10, 0, 0, 1 }, { 10, 0, 1, 1 } },
			    .port = { cport, sport }, .seq = { 1000, 5000 }, .ts = ts };
	seg(c, 0, SYN, NULL, 0);
	seg(c, 1, SYN | ACK, NULL, 0);
	seg(c, 0, ACK, NULL, 0);
}

/* Bytes from side dir in segments of at most 1400 bytes. */
static void send_all(struct conn *c, int dir, const uint8_t *p, size_t n)
{
	for (size_t o = 0; o < n; o += 1400)
		seg(c, dir, PSH | ACK, p + o, n - o < 1400 ? n - o : 1400);
}

/* Leave a hole of n bytes in side dir's sequence space (never sent). */
static void hole(struct conn *c, int dir, uint32_t n)
{
	c->seq[dir] += n;
}

/* ---- stream resyncs ---------------------------------------------------------- */

static const uint8_t dns_q[] = { 0x00, 0x22, 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00,
				 0x00, 0x00, 0x00, 0x00, 4,    'e',  'v',  'i',  'l',  7,
				 'e',  'x',  'a',  'm',  'p',  'l',  'e',  3,    'c',  'o',
				 'm',  0,    0x00, 0x01, 0x00, 0x01 };

/*
 * One hole per protocol in the middle of a stream: the reassembly reports
 * it at flow end (missed bytes), the dissector finds the next message and
 * stream_resyncs counts it.
 */
Test(counters, stream_resyncs_after_reassembly_gaps)
{
	unsigned nrec = 0;
	struct gcp_engine *e = engine_counting(&nrec);
	struct conn c;

	uint8_t q2[sizeof(dns_q)];

	memcpy(q2, dns_q, sizeof(q2));
	q2[3] = 0x35; /* another id: not a retransmission of the first */
	open_at(&c, e, 40001, 53, 1700000000ull * S_NS); /* DNS over TCP */
	send_all(&c, 0, dns_q, sizeof(dns_q));
	hole(&c, 0, 30);
	send_all(&c, 0, q2, sizeof(q2));
	conn_close(&c);
	cr_assert_eq(gcp_engine_flush(e), 0);
	struct gcp_stats st = stats(e);

	cr_expect_eq(st.reasm_missed_bytes, 30);
	cr_expect_eq(st.stream_resyncs, 1, "dns: %llu", (unsigned long long)st.stream_resyncs);
	cr_expect_eq(st.records_by_type[__builtin_ctz(GCP_REC_DNS)], 2);

	static const char after_hole[] = "\x01\x02GET /b HTTP/1.1\r\nHost: h\r\n\r\n";

	open_at(&c, e, 40002, 80, 1700000001ull * S_NS); /* HTTP */
	say(&c, 0, "GET /a HTTP/1.1\r\nHost: h\r\n");
	hole(&c, 0, 10);
	seg(&c, 0, PSH | ACK, after_hole, sizeof(after_hole) - 1);
	say(&c, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	conn_close(&c);
	cr_assert_eq(gcp_engine_flush(e), 0);
	st = stats(e);
	cr_expect_eq(st.stream_resyncs, 2, "http: %llu", (unsigned long long)st.stream_resyncs);

	open_at(&c, e, 40003, 443, 1700000002ull * S_NS); /* TLS: Certificate partly lost */
	send_all(&c, 0, tls12_c2s, sizeof(tls12_c2s));
	send_all(&c, 1, tls12_s2c, 86);
	hole(&c, 1, 900);
	send_all(&c, 1, tls12_s2c + 986, sizeof(tls12_s2c) - 986);
	conn_close(&c);
	cr_assert_eq(gcp_engine_flush(e), 0);
	st = stats(e);
	cr_expect_eq(st.stream_resyncs, 3, "tls: %llu", (unsigned long long)st.stream_resyncs);
	gcp_engine_destroy(e);
}

/* ---- expectation table ------------------------------------------------------- */

/* An FTP control connection whose server offers passive port dport. */
static void ftp_pasv(struct gcp_engine *e, uint16_t cport, uint16_t dport, uint64_t ts)
{
	struct conn c;
	char reply[96];

	snprintf(reply, sizeof(reply), "227 Entering Passive Mode (10,0,1,1,%u,%u).\r\n",
		 dport >> 8, dport & 0xff);
	open_at(&c, e, cport, 21, ts);
	say(&c, 1, "220 ready\r\n");
	say(&c, 0, "PASV\r\n");
	say(&c, 1, reply);
}

Test(counters, expectation_table)
{
	unsigned nrec = 0;
	struct gcp_engine *e = engine_counting(&nrec);
	uint64_t t0 = 1700000000ull * S_NS;
	struct conn d;

	ftp_pasv(e, 30000, 50000, t0);
	struct gcp_stats st = stats(e);

	cr_expect_eq(st.expect_added, 1);
	cr_expect_eq(st.expect_matched, 0);
	open_at(&d, e, 30001, 50000, t0 + S_NS); /* the data connection comes */
	st = stats(e);
	cr_expect_eq(st.expect_matched, 1);

	ftp_pasv(e, 30002, 50001, t0 + 2 * S_NS);
	open_at(&d, e, 30003, 50001, t0 + 200 * S_NS); /* too late: past 60 s */
	st = stats(e);
	cr_expect_eq(st.expect_added, 2);
	cr_expect_eq(st.expect_matched, 1);
	cr_expect_eq(st.expect_expired, 1);

	/* 1024 entries, one still held by the first data connection: the
	 * last two of 1025 announcements find the table full. */
	for (unsigned i = 0; i < 1025; i++)
		ftp_pasv(e, (uint16_t)(31000 + i), (uint16_t)(52000 + i), t0 + 300 * S_NS);
	st = stats(e);
	cr_expect_eq(st.expect_added, 2 + 1023, "%llu", (unsigned long long)st.expect_added);
	cr_expect_eq(st.expect_full, 2, "%llu", (unsigned long long)st.expect_full);
	cr_expect_eq(st.expect_matched, 1);
	gcp_engine_destroy(e);
}

/* ---- Hyperscan scan failures ------------------------------------------------- */

/*
 * A scan that fails (here: no scratch, HS_INVALID) is counted instead of
 * passing silently; identification gives the direction up.
 */
Test(counters, hs_scan_errors)
{
	unsigned nrec = 0;
	struct gcp_engine *e = engine_counting(&nrec);
	struct conn c;
	hs_scratch_t *keep_scratch = e->hsid.scratch;

	cr_assert_not_null(keep_scratch, "Hyperscan identification is on by default");
	e->hsid.scratch = NULL;
	open_at(&c, e, 40001, 5555, 1700000000ull * S_NS);
	say(&c, 0, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
	e->hsid.scratch = keep_scratch;
	struct gcp_stats st = stats(e);

	cr_expect_eq(st.hs_scan_errors, 1);
	cr_expect_eq(st.hs_identified, 0);
	gcp_engine_destroy(e);
}

Test(counters, rules_scan_errors)
{
	unsigned nrec = 0;
	struct gcp_engine *e = engine_counting(&nrec);
	struct gcp_rules *r = NULL;
	char err[256];
	struct conn c;

	cr_assert_eq(gcp_rules_compile("id=7 field=host pattern=/example/\n", &r, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(gcp_engine_set_rules(e, r), 0);
	gcp_rules_free(r);
	open_at(&c, e, 40001, 80, 1700000000ull * S_NS); /* the set is taken up here */
	hs_scratch_t *keep_scratch = e->rules.scratch;

	cr_assert_not_null(keep_scratch);
	e->rules.scratch = NULL;
	say(&c, 0, "GET / HTTP/1.1\r\nHost: www.example.org\r\n\r\n");
	say(&c, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	e->rules.scratch = keep_scratch;
	struct gcp_stats st = stats(e);

	cr_expect_geq(st.rules_scan_errors, 1);
	cr_expect_eq(st.rules_tagged, 0);
	gcp_engine_destroy(e);
}
