/* SPDX-License-Identifier: BSD-3-Clause */
/* HTTP/2 dissector (dissectors/http2): h2c with prior knowledge and after
 * an HTTP/1.1 upgrade, the http record keys per stream, CONTINUATION,
 * padding, PRIORITY, RST_STREAM, GOAWAY, concurrent streams and the
 * stream cap, dynamic-table references across streams, gzip bodies,
 * gaps, and byte-at-a-time feeding that must match the one-shot feed. */
#include <zlib.h>

#include "conv.h"
#include "stream_drv.h"

extern const struct gcp_dissector gcp_dissector_http2;
extern const struct gcp_dissector gcp_dissector_http;

static const char PREFACE[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum { DATA = 0, HEADERS = 1, PRIORITY = 2, RST = 3, SETTINGS = 4, PUSH = 5, GOAWAY = 7,
       CONT = 9 };
enum { END_STREAM = 1, END_HEADERS = 4, PADDED = 8, PRIO = 0x20 };

/* ---- building a conversation ------------------------------------------------ */

struct buf {
	uint8_t b[64 * 1024];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	cr_assert_leq(b->n + n, sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void frame(struct buf *b, uint8_t type, uint8_t flags, uint32_t sid, const void *p,
		  size_t n)
{
	uint8_t h[9] = { (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
			 (uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8),
			 (uint8_t)sid };
	put(b, h, 9);
	put(b, p, n);
}

/* HPACK literal field without indexing, new name (RFC 7541 6.2.2). */
static void lit(struct buf *b, const char *name, const char *value)
{
	uint8_t nl = (uint8_t)strlen(name), vl = (uint8_t)strlen(value);
	cr_assert_lt(nl, 127);
	cr_assert_lt(vl, 127);
	uint8_t z = 0;
	put(b, &z, 1);
	put(b, &nl, 1);
	put(b, name, nl);
	put(b, &vl, 1);
	put(b, value, vl);
}

/* A request block: :method, :scheme http, :path, :authority and extras. */
static void req_block(struct buf *b, const char *method, const char *path, const char *auth)
{
	lit(b, ":method", method);
	static const uint8_t scheme_http = 0x86; /* static index 6 */
	put(b, &scheme_http, 1);
	lit(b, ":path", path);
	if (auth)
		lit(b, ":authority", auth);
}

struct conv {
	struct buf c2s, s2c;
};

static void settings(struct buf *b)
{
	static const uint8_t s[] = { 0, 3, 0, 0, 0, 100 }; /* MAX_CONCURRENT_STREAMS 100 */
	frame(b, SETTINGS, 0, 0, s, sizeof(s));
}

/* One GET with its 200 response and a 5-byte body. */
static void simple_exchange(struct conv *cv)
{
	struct buf blk = { .n = 0 };
	memset(cv, 0, sizeof(*cv));
	put(&cv->c2s, PREFACE, 24);
	settings(&cv->c2s);
	settings(&cv->s2c);
	req_block(&blk, "GET", "/index.html?q=1", "example.com");
	lit(&blk, "user-agent", "curl/8.0");
	lit(&blk, "cookie", "a=b");
	lit(&blk, "referer", "http://example.com/");
	frame(&cv->c2s, HEADERS, END_HEADERS | END_STREAM, 1, blk.b, blk.n);
	blk.n = 0;
	static const uint8_t st200 = 0x88; /* :status 200, static index 8 */
	put(&blk, &st200, 1);
	lit(&blk, "server", "nginx");
	lit(&blk, "content-type", "text/html");
	frame(&cv->s2c, HEADERS, END_HEADERS, 1, blk.b, blk.n);
	frame(&cv->s2c, DATA, END_STREAM, 1, "hello", 5);
}

/* Feed client then server bytes (pieces of step bytes, 0: at once). */
static void play(struct drv *d, const struct conv *cv, size_t step)
{
	drv_init(d, &gcp_dissector_http2, 8080);
	drv_feed(d, C2S, cv->c2s.b, cv->c2s.n, step);
	drv_feed(d, S2C, cv->s2c.b, cv->s2c.n, step);
	drv_end(d);
}

/* The record of the stream whose url is url. */
static unsigned by_url(struct drv *d, const char *url)
{
	for (unsigned i = 0; i < nrec(d); i++) {
		const msgpack_object *o = get(d, i, "url");
		if (o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(url) &&
		    !memcmp(o->via.str.ptr, url, strlen(url)))
			return i;
	}
	cr_assert_fail("no record with url %s", url);
	return 0;
}

/* ---- tests ------------------------------------------------------------------------ */

Test(http2, probe)
{
	const struct gcp_dissector *h = &gcp_dissector_http2;
	const uint8_t *p = (const uint8_t *)PREFACE;
	cr_assert_eq(h->probe(p, 24, GCP_DIR_C2S), GCP_PROBE_YES);
	cr_assert_eq(h->probe(p, 10, GCP_DIR_C2S), GCP_PROBE_MAYBE);
	cr_assert_eq(h->probe((const uint8_t *)"PRI / HTTP/1.1\r\n", 16, GCP_DIR_C2S),
		     GCP_PROBE_NO);
	cr_assert_eq(h->probe((const uint8_t *)"GET / HTTP/1.1\r\n", 16, GCP_DIR_C2S),
		     GCP_PROBE_NO);
	/* a server SETTINGS frame: the client's preface decides */
	static const uint8_t s[] = { 0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100 };
	cr_assert_eq(h->probe(s, sizeof(s), GCP_DIR_S2C), GCP_PROBE_MAYBE);
	cr_assert_eq(h->probe((const uint8_t *)"HTTP/1.1 200", 12, GCP_DIR_S2C), GCP_PROBE_NO);
}

Test(http2, prior_knowledge_get_keys)
{
	struct conv cv;
	struct drv d;
	simple_exchange(&cv);
	play(&d, &cv, 0);
	cr_assert_eq(nrec(&d), 1);
	expect_str(&d, 0, "scheme", "http");
	expect_str(&d, 0, "method", "GET");
	expect_str(&d, 0, "url", "/index.html?q=1");
	expect_str(&d, 0, "host", "example.com");
	expect_str(&d, 0, "version", "HTTP/2");
	cr_assert_eq(get_uint(&d, 0, "status"), 200);
	expect_str(&d, 0, "user_agent", "curl/8.0");
	expect_str(&d, 0, "cookie", "a=b");
	expect_str(&d, 0, "referer", "http://example.com/");
	expect_str(&d, 0, "server", "nginx");
	expect_str(&d, 0, "content_type", "text/html");
	expect_bin(&d, 0, "resp_body", "hello", 5);
	cr_assert_eq(get_uint(&d, 0, "resp_body_len"), 5);
	cr_assert_eq(get_bool(&d, 0, "resp_body_truncated"), false);
	cr_assert_gt(get_uint(&d, 0, "bytes_in"), 9);
	/* HEADERS: 9 + :status (1) + server (14) + content-type (24); DATA: 9 + 5 */
	cr_assert_eq(get_uint(&d, 0, "bytes_out"), 9 + 1 + 14 + 24 + 9 + 5);
	/* headers arrays hold the fields, not the pseudo-header fields */
	const char *j = gcp_test_dctx_json(d.ctx, 0);
	cr_assert(strstr(j, "\"req_headers\":[[\"user-agent\",\"curl/8.0\"],[\"cookie\",\"a=b\"]"),
		  "%s", j);
	cr_assert_null(strstr(j, ":path"), "%s", j);
	cr_assert_eq(anomalies(&d), 0);
	drv_free(&d);
}

Test(http2, byte_at_a_time_matches_one_shot)
{
	static const size_t steps[] = { 1, 2, 3, 7, 9, 10, 64 };
	struct conv cv;
	struct drv one, piece;
	simple_exchange(&cv);
	/* a second stream with CONTINUATION, padding and priority */
	struct buf blk = { .n = 0 };
	req_block(&blk, "POST", "/upload", "example.com");
	lit(&blk, "content-type", "application/json");
	uint8_t hp[512];
	size_t n = 0;
	hp[n++] = 3; /* pad length */
	memcpy(hp + n, "\x80\x00\x00\x01\x0f", 5); /* exclusive dep on 1, weight 16 */
	n += 5;
	memcpy(hp + n, blk.b, 10);
	n += 10;
	memset(hp + n, 0, 3);
	n += 3;
	frame(&cv.c2s, HEADERS, PADDED | PRIO, 3, hp, n);
	frame(&cv.c2s, CONT, 0, 3, blk.b + 10, 7);
	frame(&cv.c2s, CONT, END_HEADERS, 3, blk.b + 17, blk.n - 17);
	uint8_t dp[16] = { 4, '{', '}', 0, 0, 0, 0 };
	frame(&cv.c2s, DATA, PADDED | END_STREAM, 3, dp, 7);
	blk.n = 0;
	lit(&blk, ":status", "201");
	frame(&cv.s2c, HEADERS, END_HEADERS | END_STREAM, 3, blk.b, blk.n);
	play(&one, &cv, 0);
	cr_assert_eq(nrec(&one), 2);
	unsigned p = by_url(&one, "/upload");
	expect_str(&one, p, "method", "POST");
	expect_str(&one, p, "content_type", "application/json");
	expect_bin(&one, p, "req_body", "{}", 2);
	cr_assert_eq(get_uint(&one, p, "status"), 201);
	cr_assert_eq(anomalies(&one), 0);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		play(&piece, &cv, steps[i]);
		expect_same_records(&one, &piece);
		cr_assert_eq(anomalies(&piece), 0, "step %zu", steps[i]);
		drv_free(&piece);
	}
	drv_free(&one);
}

/* Streams interleave; responses come in another order; each pairs by id. */
Test(http2, concurrent_streams_pair_by_id)
{
	struct conv cv = { 0 };
	struct drv d;
	put(&cv.c2s, PREFACE, 24);
	for (uint32_t sid = 1; sid <= 9; sid += 2) {
		struct buf blk = { .n = 0 };
		char path[16];
		snprintf(path, sizeof(path), "/s%u", sid);
		req_block(&blk, "GET", path, "h.example");
		frame(&cv.c2s, HEADERS, END_HEADERS | END_STREAM, sid, blk.b, blk.n);
	}
	for (int k = 9; k >= 1; k -= 2) {
		uint32_t sid = (uint32_t)k;
		struct buf blk = { .n = 0 };
		char st[16], body[16];
		snprintf(st, sizeof(st), "%u", 200 + sid);
		snprintf(body, sizeof(body), "b%u", sid);
		lit(&blk, ":status", st);
		frame(&cv.s2c, HEADERS, END_HEADERS, sid, blk.b, blk.n);
		frame(&cv.s2c, DATA, 0, sid, body, strlen(body));
	}
	for (uint32_t sid = 1; sid <= 9; sid += 2)
		frame(&cv.s2c, DATA, END_STREAM, sid, "", 0);
	play(&d, &cv, 0);
	cr_assert_eq(nrec(&d), 5);
	for (uint32_t sid = 1; sid <= 9; sid += 2) {
		char path[16], body[16];
		snprintf(path, sizeof(path), "/s%u", sid);
		snprintf(body, sizeof(body), "b%u", sid);
		unsigned i = by_url(&d, path);
		cr_assert_eq(get_uint(&d, i, "status"), 200 + sid);
		expect_bin(&d, i, "resp_body", body, strlen(body));
	}
	drv_free(&d);
}

/* A header block may use what an earlier stream's block put in the table. */
Test(http2, dynamic_table_across_streams)
{
	struct conv cv = { 0 };
	struct drv d;
	put(&cv.c2s, PREFACE, 24);
	struct buf blk = { .n = 0 };
	req_block(&blk, "GET", "/a", NULL);
	static const uint8_t inc[] = { 0x41, 0x05, 'h', '.', 'e', 'x', 'y' }; /* :authority h.exy */
	put(&blk, inc, sizeof(inc));
	frame(&cv.c2s, HEADERS, END_HEADERS | END_STREAM, 1, blk.b, blk.n);
	blk.n = 0;
	req_block(&blk, "GET", "/b", NULL);
	static const uint8_t idx62 = 0xbe;
	put(&blk, &idx62, 1);
	frame(&cv.c2s, HEADERS, END_HEADERS | END_STREAM, 3, blk.b, blk.n);
	play(&d, &cv, 0);
	cr_assert_eq(nrec(&d), 2);
	expect_str(&d, by_url(&d, "/a"), "host", "h.exy");
	expect_str(&d, by_url(&d, "/b"), "host", "h.exy");
	cr_assert_eq(anomalies(&d), 0);
	drv_free(&d);
}

/* RST_STREAM ends a stream at once; GOAWAY ends those it will not answer. */
Test(http2, rst_stream_and_goaway)
{
	struct conv cv = { 0 };
	struct drv d;
	put(&cv.c2s, PREFACE, 24);
	for (uint32_t sid = 1; sid <= 5; sid += 2) {
		struct buf blk = { .n = 0 };
		char path[16];
		snprintf(path, sizeof(path), "/r%u", sid);
		req_block(&blk, "GET", path, "h");
		frame(&cv.c2s, HEADERS, END_HEADERS | END_STREAM, sid, blk.b, blk.n);
	}
	drv_init(&d, &gcp_dissector_http2, 8080);
	drv_feed(&d, C2S, cv.c2s.b, cv.c2s.n, 0);
	cr_assert_eq(nrec(&d), 0);
	static const uint8_t cancel[4] = { 0, 0, 0, 8 };
	frame(&cv.s2c, RST, 0, 3, cancel, 4);
	drv_feed(&d, S2C, cv.s2c.b, cv.s2c.n, 0);
	cr_assert_eq(nrec(&d), 1);
	expect_str(&d, 0, "url", "/r3");
	expect_absent(&d, 0, "status");
	cv.s2c.n = 0;
	static const uint8_t ga[8] = { 0, 0, 0, 1, 0, 0, 0, 0 }; /* last stream 1 */
	frame(&cv.s2c, GOAWAY, 0, 0, ga, 8);
	drv_feed(&d, S2C, cv.s2c.b, cv.s2c.n, 0);
	cr_assert_eq(nrec(&d), 2);
	expect_str(&d, 1, "url", "/r5");
	drv_end(&d);
	cr_assert_eq(nrec(&d), 3); /* stream 1 at flow end */
	expect_str(&d, 2, "url", "/r1");
	drv_free(&d);
}

/* More open streams than the cap: the oldest goes out as it is, counted. */
Test(http2, stream_cap_counted)
{
	static struct conv cv;
	struct drv d;
	memset(&cv, 0, sizeof(cv));
	put(&cv.c2s, PREFACE, 24);
	for (uint32_t k = 0; k < 130; k++) {
		struct buf blk = { .n = 0 };
		req_block(&blk, "GET", "/", "h");
		frame(&cv.c2s, HEADERS, END_HEADERS | END_STREAM, 1 + 2 * k, blk.b, blk.n);
	}
	drv_init(&d, &gcp_dissector_http2, 8080);
	drv_feed(&d, C2S, cv.c2s.b, cv.c2s.n, 0);
	cr_assert_eq(nrec(&d), 2);
	cr_assert_eq(anomalies(&d), 2);
	drv_end(&d);
	cr_assert_eq(nrec(&d), 130);
	drv_free(&d);
}

Test(http2, interim_and_trailers)
{
	struct conv cv;
	struct drv d;
	memset(&cv, 0, sizeof(cv));
	put(&cv.c2s, PREFACE, 24);
	struct buf blk = { .n = 0 };
	req_block(&blk, "GET", "/t", "h");
	frame(&cv.c2s, HEADERS, END_HEADERS | END_STREAM, 1, blk.b, blk.n);
	blk.n = 0;
	lit(&blk, ":status", "103");
	lit(&blk, "link", "</s.css>");
	frame(&cv.s2c, HEADERS, END_HEADERS, 1, blk.b, blk.n);
	blk.n = 0;
	lit(&blk, ":status", "200");
	frame(&cv.s2c, HEADERS, END_HEADERS, 1, blk.b, blk.n);
	frame(&cv.s2c, DATA, 0, 1, "xy", 2);
	blk.n = 0;
	lit(&blk, "grpc-status", "0");
	frame(&cv.s2c, HEADERS, END_HEADERS | END_STREAM, 1, blk.b, blk.n);
	play(&d, &cv, 0);
	cr_assert_eq(nrec(&d), 1);
	cr_assert_eq(get_uint(&d, 0, "status"), 200);
	expect_bin(&d, 0, "resp_body", "xy", 2);
	const char *j = gcp_test_dctx_json(d.ctx, 0);
	cr_assert_null(strstr(j, "grpc-status"), "trailers are not response headers: %s", j);
	cr_assert_null(strstr(j, "link"), "%s", j);
	drv_free(&d);
}

Test(http2, gzip_body_decoded)
{
	static const char text[] = "compressible compressible compressible text";
	uint8_t gz[256];
	z_stream z;
	memset(&z, 0, sizeof(z));
	cr_assert_eq(deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)text;
	z.avail_in = sizeof(text) - 1;
	z.next_out = gz;
	z.avail_out = sizeof(gz);
	cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	size_t gn = sizeof(gz) - z.avail_out;
	deflateEnd(&z);
	struct conv cv = { 0 };
	struct drv d;
	put(&cv.c2s, PREFACE, 24);
	struct buf blk = { .n = 0 };
	req_block(&blk, "GET", "/z", "h");
	frame(&cv.c2s, HEADERS, END_HEADERS | END_STREAM, 1, blk.b, blk.n);
	blk.n = 0;
	lit(&blk, ":status", "200");
	lit(&blk, "content-encoding", "gzip");
	frame(&cv.s2c, HEADERS, END_HEADERS, 1, blk.b, blk.n);
	frame(&cv.s2c, DATA, 0, 1, gz, 10);
	frame(&cv.s2c, DATA, END_STREAM, 1, gz + 10, gn - 10);
	play(&d, &cv, 0);
	expect_bin(&d, 0, "resp_body", text, sizeof(text) - 1);
	cr_assert_eq(get_uint(&d, 0, "resp_body_len"), gn);
	drv_free(&d);
}

/* A gap in the server's bytes: its framing is lost, the client's is not. */
Test(http2, gap_kills_one_direction)
{
	struct conv cv;
	struct drv d;
	simple_exchange(&cv);
	drv_init(&d, &gcp_dissector_http2, 8080);
	drv_feed(&d, C2S, cv.c2s.b, cv.c2s.n, 0);
	drv_feed(&d, S2C, cv.s2c.b, 20, 0);
	drv_gap(&d, S2C, 100);
	cr_assert_eq(d.status, GCP_PARSE_OK);
	struct buf blk = { .n = 0 };
	req_block(&blk, "GET", "/after", "h");
	struct buf more = { .n = 0 };
	frame(&more, HEADERS, END_HEADERS | END_STREAM, 3, blk.b, blk.n);
	drv_feed(&d, C2S, more.b, more.n, 0);
	drv_end(&d);
	cr_assert_eq(nrec(&d), 2);
	expect_str(&d, by_url(&d, "/after"), "method", "GET");
	drv_free(&d);
}

/* Malformed frames are counted and do not stop the connection. */
Test(http2, malformed_frames_counted)
{
	struct conv cv = { 0 };
	struct drv d;
	put(&cv.c2s, PREFACE, 24);
	uint8_t pad_too_long[4] = { 9, 'a', 'b', 'c' };
	frame(&cv.c2s, HEADERS, PADDED | END_HEADERS, 1, pad_too_long, 4); /* padding > payload */
	frame(&cv.c2s, CONT, END_HEADERS, 5, "x", 1);                     /* stray CONTINUATION */
	frame(&cv.c2s, RST, 0, 1, "ab", 2);                              /* RST of 2 bytes */
	play(&d, &cv, 0);
	cr_assert_geq(anomalies(&d), 3);
	drv_free(&d);
}

/* A block larger than the cap is skipped whole (CONTINUATIONs included). */
Test(http2, header_block_over_cap_skipped)
{
	static struct conv cv;
	struct drv d;
	memset(&cv, 0, sizeof(cv));
	put(&cv.c2s, PREFACE, 24);
	static uint8_t big[16384];
	memset(big, 0, sizeof(big));
	frame(&cv.c2s, HEADERS, 0, 1, big, sizeof(big));
	frame(&cv.c2s, CONT, 0, 1, big, sizeof(big));
	frame(&cv.c2s, CONT, END_HEADERS, 1, big, sizeof(big));
	frame(&cv.c2s, PRIORITY, 0, 1, "\0\0\0\0\x10", 5);
	play(&d, &cv, 0);
	cr_assert_eq(anomalies(&d), 1);
	drv_free(&d);
}

/* ---- HTTP/1.1 upgrade (RFC 7540 3.2), through the HTTP/1 dissector --------------- */

static const char UPG_REQ[] = "GET /up HTTP/1.1\r\nHost: up.example\r\n"
			      "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
			      "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nUser-Agent: ua/1\r\n\r\n";
static const char UPG_101[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
			      "Upgrade: h2c\r\n\r\n";

static void upgrade_conv(struct conv *cv)
{
	memset(cv, 0, sizeof(*cv));
	put(&cv->c2s, UPG_REQ, strlen(UPG_REQ));
	put(&cv->s2c, UPG_101, strlen(UPG_101));
	settings(&cv->s2c);
	struct buf blk = { .n = 0 };
	lit(&blk, ":status", "200");
	lit(&blk, "server", "h2srv");
	frame(&cv->s2c, HEADERS, END_HEADERS, 1, blk.b, blk.n);
	frame(&cv->s2c, DATA, END_STREAM, 1, "up!", 3);
}

static void upgrade_play(struct drv *d, struct conv *cv, size_t step, bool preface_first)
{
	struct buf c2 = { .n = 0 };
	put(&c2, PREFACE, 24);
	settings(&c2);
	struct buf blk = { .n = 0 };
	req_block(&blk, "GET", "/second", "up.example");
	frame(&c2, HEADERS, END_HEADERS | END_STREAM, 3, blk.b, blk.n);
	drv_init(d, &gcp_dissector_http, 80);
	drv_feed(d, C2S, cv->c2s.b, cv->c2s.n, step);
	if (preface_first) /* the preface is held until the 101 is read */
		drv_feed(d, C2S, c2.b, c2.n, step);
	drv_feed(d, S2C, cv->s2c.b, cv->s2c.n, step);
	if (!preface_first)
		drv_feed(d, C2S, c2.b, c2.n, step);
	else
		drv_feed(d, C2S, "", 0, 0);
	cr_assert_eq(d->status, GCP_PARSE_OK);
	drv_end(d);
}

static void check_upgrade(struct drv *d)
{
	cr_assert_eq(nrec(d), 3);
	/* the HTTP/1.1 exchange */
	expect_str(d, 0, "version", "HTTP/1.1");
	cr_assert_eq(get_uint(d, 0, "status"), 101);
	/* stream 1: the upgraded request, answered in HTTP/2 */
	expect_str(d, 1, "url", "/up");
	expect_str(d, 1, "host", "up.example");
	expect_str(d, 1, "user_agent", "ua/1");
	expect_str(d, 1, "version", "HTTP/2");
	cr_assert_eq(get_uint(d, 1, "status"), 200);
	expect_str(d, 1, "server", "h2srv");
	expect_bin(d, 1, "resp_body", "up!", 3);
	/* stream 3: a request made in HTTP/2, never answered */
	expect_str(d, 2, "url", "/second");
	expect_absent(d, 2, "status");
}

Test(http2, upgrade_from_http1)
{
	struct conv cv;
	struct drv one, piece;
	upgrade_conv(&cv);
	upgrade_play(&one, &cv, 0, false);
	check_upgrade(&one);
	cr_assert_eq(anomalies(&one), 0);
	static const size_t steps[] = { 1, 3, 7, 64 };
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		upgrade_play(&piece, &cv, steps[i], false);
		expect_same_records(&one, &piece);
		drv_free(&piece);
	}
	drv_free(&one);
}

Test(http2, upgrade_preface_before_101)
{
	struct conv cv;
	struct drv d;
	upgrade_conv(&cv);
	upgrade_play(&d, &cv, 0, true);
	check_upgrade(&d);
	drv_free(&d);
}

/* A 101 to another protocol (WebSocket) still ends HTTP parsing. */
Test(http2, websocket_101_not_h2)
{
	struct drv d;
	drv_init(&d, &gcp_dissector_http, 80);
	drv_s(&d, C2S, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n");
	drv_s(&d, S2C, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello");
	cr_assert_eq(d.status, GCP_PARSE_DONE);
	drv_end(&d);
	cr_assert_eq(nrec(&d), 1);
	drv_free(&d);
}

/* ---- through the engine: the preface signature on any port ----------------------- */

Test(http2, engine_prior_knowledge_any_port)
{
	struct sink s = { 0 };
	struct gcp_engine *e = conv_engine(&s);
	struct conv cv;
	struct conn c;
	simple_exchange(&cv);
	conn_open(&c, e, 2, 5555);
	seg(&c, 1, PSH | ACK, cv.s2c.b, 15); /* the server's SETTINGS first */
	seg(&c, 0, PSH | ACK, cv.c2s.b, cv.c2s.n);
	seg(&c, 1, PSH | ACK, cv.s2c.b + 15, cv.s2c.n - 15);
	conn_close(&c);
	cr_assert_eq(gcp_engine_flush(e), 0);
	const char *tcp = find_rec(&s, "tcp");
	cr_assert_not_null(tcp);
	cr_assert(strstr(tcp, "\"app\":\"http2\""), "%s", tcp);
	const char *http = find_rec(&s, "http");
	cr_assert_not_null(http);
	cr_assert(strstr(http, "\"url\":\"/index.html?q=1\""), "%s", http);
	cr_assert(strstr(http, "\"status\":200"), "%s", http);
	cr_assert(strstr(http, "\"server\":\"nginx\""), "%s", http);
	gcp_engine_destroy(e);
	sink_free(&s);
}
