/* SPDX-License-Identifier: BSD-3-Clause */
/* HTTP/1.x dissector tests: transactions, pipelining, chunked and
 * compressed bodies, caps, real_ip, gaps, and a byte-at-a-time replay
 * that must produce the same records as the one-shot feed. */

#include <zlib.h>

#include "stream_drv.h"

extern const struct gcp_dissector gcp_dissector_http;

/* The engine-like feeder of every stream dissector test (stream_drv.h). */
static void http_open(struct drv *d, const struct gcp_engine_opts *o)
{
	drv_open(d, &gcp_dissector_http, 80, o);
}

/* ---- compression helpers -------------------------------------------------- */

static size_t zcompress(const void *in, size_t n, uint8_t *out, size_t cap, int wbits)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	cr_assert_eq(deflateInit2(&z, 9, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	size_t r = cap - z.avail_out;
	deflateEnd(&z);
	return r;
}

/* Response with a compressed body; returns the message length. */
static size_t resp_with(char *buf, size_t cap, const char *ce, const uint8_t *body, size_t n)
{
	int h = snprintf(buf, cap,
			 "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %zu\r\n\r\n",
			 ce, n);
	cr_assert_lt((size_t)h + n, cap);
	memcpy(buf + h, body, n);
	return (size_t)h + n;
}

/* ---- tests ---------------------------------------------------------------- */

static const char GET1[] = "GET /index.html?q=1 HTTP/1.1\r\n"
			   "Host: example.com\r\n"
			   "User-Agent: curl/8.0\r\n"
			   "Cookie: a=b; c=d\r\n"
			   "Referer: http://example.com/\r\n"
			   "\r\n";
static const char RESP1[] = "HTTP/1.1 200 OK\r\n"
			    "Server: nginx\r\n"
			    "Content-Type: text/html\r\n"
			    "Content-Length: 5\r\n"
			    "\r\n"
			    "hello";

Test(http, probe)
{
	const struct gcp_dissector *h = &gcp_dissector_http;
	cr_assert_eq(h->probe((const uint8_t *)"GET / HTTP/1.1\r\n", 16, GCP_DIR_C2S), GCP_PROBE_YES);
	cr_assert_eq(h->probe((const uint8_t *)"PROPFIND /x HTTP/1.1", 20, GCP_DIR_C2S),
		     GCP_PROBE_YES);
	cr_assert_eq(h->probe((const uint8_t *)"CONNECT a:443 HTTP/1.1", 22, GCP_DIR_C2S),
		     GCP_PROBE_YES);
	cr_assert_eq(h->probe((const uint8_t *)"GE", 2, GCP_DIR_C2S), GCP_PROBE_MAYBE);
	cr_assert_eq(h->probe((const uint8_t *)"GET /very/long", 14, GCP_DIR_C2S), GCP_PROBE_MAYBE);
	cr_assert_eq(h->probe((const uint8_t *)"GET /\r\n", 7, GCP_DIR_C2S), GCP_PROBE_NO);
	cr_assert_eq(h->probe((const uint8_t *)"\x16\x03\x01", 3, GCP_DIR_C2S), GCP_PROBE_NO);
	cr_assert_eq(h->probe((const uint8_t *)"HTTP/1.1 200 OK", 15, GCP_DIR_S2C), GCP_PROBE_YES);
	cr_assert_eq(h->probe((const uint8_t *)"HTT", 3, GCP_DIR_S2C), GCP_PROBE_MAYBE);
	cr_assert_eq(h->probe((const uint8_t *)"SSH-2.0", 7, GCP_DIR_S2C), GCP_PROBE_NO);
}

Test(http, get_200_content_length)
{
	struct drv d;
	http_open(&d, NULL);
	drv_s(&d, GCP_DIR_C2S, GET1);
	drv_s(&d, GCP_DIR_S2C, RESP1);
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 1);
	expect_str(&d, 0, "type", "http");
	expect_str(&d, 0, "method", "GET");
	expect_str(&d, 0, "url", "/index.html?q=1");
	expect_str(&d, 0, "host", "example.com");
	expect_str(&d, 0, "scheme", "http");
	expect_str(&d, 0, "version", "HTTP/1.1");
	expect_str(&d, 0, "user_agent", "curl/8.0");
	expect_str(&d, 0, "cookie", "a=b; c=d");
	expect_str(&d, 0, "referer", "http://example.com/");
	expect_str(&d, 0, "server", "nginx");
	expect_str(&d, 0, "content_type", "text/html");
	cr_assert_eq(get_uint(&d, 0, "status"), 200);
	expect_bin(&d, 0, "resp_body", "hello", 5);
	cr_assert_eq(get_uint(&d, 0, "resp_body_len"), 5);
	cr_assert_not(get_bool(&d, 0, "resp_body_truncated"));
	cr_assert_eq(get_uint(&d, 0, "req_body_len"), 0);
	expect_absent(&d, 0, "req_body");
	expect_absent(&d, 0, "real_ip");
	cr_assert_eq(get_uint(&d, 0, "bytes_in"), strlen(GET1));
	cr_assert_eq(get_uint(&d, 0, "bytes_out"), strlen(RESP1));
	const msgpack_object *rh = get(&d, 0, "req_headers");
	cr_assert_not_null(rh);
	cr_assert_eq(rh->type, MSGPACK_OBJECT_ARRAY);
	cr_assert_eq(rh->via.array.size, 4);
	const msgpack_object *p0 = &rh->via.array.ptr[0];
	cr_assert_eq(p0->via.array.size, 2);
	cr_assert_arr_eq(p0->via.array.ptr[0].via.str.ptr, "Host", 4);
	cr_assert_arr_eq(p0->via.array.ptr[1].via.str.ptr, "example.com", 11);
	cr_assert_eq(get(&d, 0, "resp_headers")->via.array.size, 3);
	cr_assert_eq(anomalies(&d), 0);
	drv_fini(&d);
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 1);
	drv_free(&d);
}

Test(http, pipelined_three_requests)
{
	struct drv d;
	http_open(&d, NULL);
	drv_s(&d, GCP_DIR_C2S, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
			       "HEAD /b HTTP/1.1\r\nHost: h\r\n\r\n"
			       "GET /c HTTP/1.1\r\nHost: h\r\n\r\n");
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 0);
	drv_s(&d, GCP_DIR_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
			       "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" /* HEAD: no body */
			       "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nCCC");
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 3);
	expect_str(&d, 0, "url", "/a");
	expect_bin(&d, 0, "resp_body", "A", 1);
	expect_str(&d, 1, "url", "/b");
	expect_str(&d, 1, "method", "HEAD");
	cr_assert_eq(get_uint(&d, 1, "resp_body_len"), 0);
	expect_str(&d, 2, "url", "/c");
	cr_assert_eq(get_uint(&d, 2, "status"), 404);
	expect_bin(&d, 2, "resp_body", "CCC", 3);
	cr_assert_eq(get_uint(&d, 2, "bytes_in"), strlen("GET /c HTTP/1.1\r\nHost: h\r\n\r\n"));
	drv_fini(&d);
	drv_free(&d);
}

/* More outstanding requests than the queue holds: the oldest leave early
 * (counted), their late responses are dropped, the rest still pair. */
Test(http, pipeline_queue_overflow)
{
	struct drv d;
	char req[64], resp[96];
	http_open(&d, NULL);
	for (int i = 0; i < 20; i++) {
		snprintf(req, sizeof(req), "GET /%d HTTP/1.1\r\n\r\n", i);
		drv_s(&d, GCP_DIR_C2S, req);
	}
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 4);
	cr_assert_eq(anomalies(&d), 4);
	expect_str(&d, 0, "url", "/0");
	expect_absent(&d, 0, "status");
	for (int i = 0; i < 20; i++) {
		snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%*d",
			 i < 10 ? 1 : 2, i < 10 ? 1 : 2, i);
		drv_s(&d, GCP_DIR_S2C, resp);
	}
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 20);
	for (unsigned i = 4; i < 20; i++) {
		char want[8];
		snprintf(want, sizeof(want), "/%u", i);
		expect_str(&d, i, "url", want);
		snprintf(want, sizeof(want), "%u", i);
		expect_bin(&d, i, "resp_body", want, strlen(want));
	}
	drv_fini(&d);
	drv_free(&d);
}

static const char POST_HDR[] = "POST /upload HTTP/1.1\r\n"
			       "Host: up.example\r\n"
			       "Expect: 100-continue\r\n"
			       "Transfer-Encoding: chunked\r\n"
			       "Content-Type: text/plain\r\n"
			       "\r\n";
static const char CONT100[] = "HTTP/1.1 100 Continue\r\n\r\n";
static const char POST_BODY[] = "5;name=val\r\nhello\r\n"
				"7\r\n, world\r\n"
				"0\r\nX-Trailer: t\r\n\r\n";
static const char POST_RESP[] = "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";

Test(http, continue_100_chunked_post)
{
	struct drv d;
	http_open(&d, NULL);
	drv_s(&d, GCP_DIR_C2S, POST_HDR);
	drv_s(&d, GCP_DIR_S2C, CONT100);
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 0);
	drv_s(&d, GCP_DIR_C2S, POST_BODY);
	drv_s(&d, GCP_DIR_S2C, POST_RESP);
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 1);
	cr_assert_eq(get_uint(&d, 0, "status"), 201);
	expect_str(&d, 0, "method", "POST");
	expect_bin(&d, 0, "req_body", "hello, world", 12);
	cr_assert_eq(get_uint(&d, 0, "req_body_len"), 12);
	expect_str(&d, 0, "content_type", "text/plain");
	cr_assert_eq(get_uint(&d, 0, "bytes_in"), strlen(POST_HDR) + strlen(POST_BODY));
	cr_assert_eq(get_uint(&d, 0, "bytes_out"), strlen(CONT100) + strlen(POST_RESP));
	cr_assert_eq(anomalies(&d), 0);
	drv_fini(&d);
	drv_free(&d);
}

static void compressed_case(int wbits, const char *ce)
{
	static uint8_t plain[3000], z[4096];
	static char msg[8192];
	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)("abcdefgh"[i % 8] + (i / 500));
	size_t zn = zcompress(plain, sizeof(plain), z, sizeof(z), wbits);
	size_t mn = resp_with(msg, sizeof(msg), ce, z, zn);
	struct drv d;
	http_open(&d, NULL);
	drv_s(&d, GCP_DIR_C2S, "GET /z HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n");
	drv_feed(&d, GCP_DIR_S2C, msg, mn, 7);
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 1);
	expect_bin(&d, 0, "resp_body", plain, sizeof(plain));
	cr_assert_eq(get_uint(&d, 0, "resp_body_len"), zn);
	cr_assert_not(get_bool(&d, 0, "resp_body_truncated"));
	cr_assert_eq(anomalies(&d), 0);
	drv_fini(&d);
	drv_free(&d);
}

Test(http, gzip_body)
{
	compressed_case(15 + 16, "gzip");
}

Test(http, x_gzip_body)
{
	compressed_case(15 + 16, "x-gzip");
}

Test(http, raw_deflate_body)
{
	compressed_case(-15, "deflate");
}

Test(http, zlib_deflate_body)
{
	compressed_case(15, "deflate");
}

Test(http, decompress_off_keeps_wire_bytes)
{
	uint8_t z[256];
	char msg[512];
	size_t zn = zcompress("hello hello hello", 17, z, sizeof(z), 31);
	size_t mn = resp_with(msg, sizeof(msg), "gzip", z, zn);
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;
	o.node_name = "test";
	o.decompress = -1;
	struct drv d;
	http_open(&d, &o);
	drv_s(&d, GCP_DIR_C2S, "GET / HTTP/1.1\r\n\r\n");
	drv_feed(&d, GCP_DIR_S2C, msg, mn, 0);
	expect_bin(&d, 0, "resp_body", z, zn);
	drv_fini(&d);
	drv_free(&d);
}

Test(http, body_cap_truncation)
{
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;
	o.node_name = "test";
	o.body_cap = 16;
	struct drv d;
	http_open(&d, &o);
	drv_s(&d, GCP_DIR_C2S, "POST /p HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789");
	drv_s(&d, GCP_DIR_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n"
			       "abcdefghijklmnopqrstuvwxyz0123456789ABCD");
	expect_bin(&d, 0, "req_body", "0123456789", 10);
	cr_assert_not(get_bool(&d, 0, "req_body_truncated"));
	expect_bin(&d, 0, "resp_body", "abcdefghijklmnop", 16);
	cr_assert(get_bool(&d, 0, "resp_body_truncated"));
	cr_assert_eq(get_uint(&d, 0, "resp_body_len"), 40);
	drv_fini(&d);
	drv_free(&d);
}

/* 8 MiB of zeros gzip to ~8 KiB: only body_cap bytes are inflated. */
Test(http, gzip_bomb_capped)
{
	size_t pn = 8u << 20, zcap = 64 * 1024;
	uint8_t *plain = calloc(1, pn), *z = malloc(zcap);
	char *msg = malloc(zcap + 256);
	size_t zn = zcompress(plain, pn, z, zcap, 31);
	size_t mn = resp_with(msg, zcap + 256, "gzip", z, zn);
	struct drv d;
	http_open(&d, NULL);
	drv_s(&d, GCP_DIR_C2S, "GET /bomb HTTP/1.1\r\n\r\n");
	drv_feed(&d, GCP_DIR_S2C, msg, mn, 1000);
	expect_bin(&d, 0, "resp_body", plain, 4096);
	cr_assert(get_bool(&d, 0, "resp_body_truncated"));
	cr_assert_eq(get_uint(&d, 0, "resp_body_len"), zn);
	drv_fini(&d);
	drv_free(&d);
	free(plain);
	free(z);
	free(msg);
}

static void real_ip_case(const char *hdr, const char *want)
{
	char req[512];
	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: h\r\n%s\r\n\r\n", hdr);
	struct drv d;
	http_open(&d, NULL);
	drv_s(&d, GCP_DIR_C2S, req);
	drv_s(&d, GCP_DIR_S2C, "HTTP/1.1 204 No Content\r\n\r\n");
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 1);
	expect_str(&d, 0, "real_ip", want);
	drv_fini(&d);
	drv_free(&d);
}

Test(http, real_ip)
{
	real_ip_case("X-Forwarded-For:  203.0.113.5 , 10.1.1.1, 10.2.2.2", "203.0.113.5");
	real_ip_case("X-Real-IP: 198.51.100.7", "198.51.100.7");
	real_ip_case("X-Real-IP: 198.51.100.7\r\nX-Forwarded-For: 192.0.2.1", "192.0.2.1");
	real_ip_case("Forwarded: for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60");
	real_ip_case("Forwarded: for=\"192.0.2.61:8080\", for=198.51.100.17", "192.0.2.61");
	real_ip_case("Forwarded: proto=https; For=\"[2001:db8:cafe::17]:4711\"",
		     "2001:db8:cafe::17");
}

Test(http, request_without_response_at_fini)
{
	struct drv d;
	http_open(&d, NULL);
	drv_s(&d, GCP_DIR_C2S, GET1);
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 0);
	drv_fini(&d);
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 1);
	expect_str(&d, 0, "url", "/index.html?q=1");
	expect_absent(&d, 0, "status");
	expect_absent(&d, 0, "bytes_out");
	expect_absent(&d, 0, "resp_headers");
	drv_free(&d);
}

Test(http, response_without_request)
{
	struct drv d;
	http_open(&d, NULL);
	drv_s(&d, GCP_DIR_S2C, RESP1);
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 1);
	cr_assert_eq(get_uint(&d, 0, "status"), 200);
	expect_str(&d, 0, "version", "HTTP/1.1");
	expect_absent(&d, 0, "method");
	expect_absent(&d, 0, "url");
	expect_absent(&d, 0, "bytes_in");
	drv_fini(&d);
	drv_free(&d);
}

Test(http, chunk_size_overflow)
{
	struct drv d;
	http_open(&d, NULL);
	drv_s(&d, GCP_DIR_C2S, "GET / HTTP/1.1\r\n\r\n");
	drv_s(&d, GCP_DIR_S2C, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			       "4\r\nabcd\r\n10000000000000000\r\nxxxx");
	cr_assert_eq(d.status, GCP_PARSE_ERROR);
	cr_assert_gt(anomalies(&d), 0);
	drv_fini(&d);
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 1);
	expect_bin(&d, 0, "resp_body", "abcd", 4);
	cr_assert(get_bool(&d, 0, "resp_body_truncated"));
	drv_free(&d);
}

Test(http, header_block_cap)
{
	struct drv d;
	http_open(&d, NULL);
	drv_s(&d, GCP_DIR_C2S, "GET / HTTP/1.1\r\n");
	char line[1024];
	memset(line, 'a', sizeof(line));
	memcpy(line, "X-Pad: ", 7);
	line[1022] = '\r';
	line[1023] = '\n';
	for (int i = 0; i < 40 && d.status == GCP_PARSE_OK; i++)
		drv_feed(&d, GCP_DIR_C2S, line, sizeof(line), 0);
	cr_assert_eq(d.status, GCP_PARSE_ERROR);
	cr_assert_gt(anomalies(&d), 0);
	drv_fini(&d);
	drv_free(&d);
}

Test(http, close_delimited_and_gap)
{
	struct drv d;
	http_open(&d, NULL);
	drv_s(&d, GCP_DIR_C2S, "GET /1 HTTP/1.0\r\n\r\n");
	drv_s(&d, GCP_DIR_S2C, "HTTP/1.0 200 OK\r\n\r\nfirst part ");
	drv_gap(&d, GCP_DIR_S2C, 100);
	drv_s(&d, GCP_DIR_S2C, "after gap");
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 0);
	drv_fin(&d, GCP_DIR_S2C);
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 1);
	expect_str(&d, 0, "version", "HTTP/1.0");
	expect_bin(&d, 0, "resp_body", "first part ", 11);
	cr_assert(get_bool(&d, 0, "resp_body_truncated"));
	cr_assert_eq(get_uint(&d, 0, "resp_body_len"), 11 + 100 + 9);
	drv_fini(&d);
	drv_free(&d);
}

Test(http, gap_in_length_body)
{
	struct drv d;
	http_open(&d, NULL);
	drv_s(&d, GCP_DIR_C2S, "GET /g HTTP/1.1\r\n\r\nGET /h HTTP/1.1\r\n\r\n");
	drv_s(&d, GCP_DIR_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nhello");
	drv_gap(&d, GCP_DIR_S2C, 10);
	drv_s(&d, GCP_DIR_S2C, "world"
			       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 2);
	expect_bin(&d, 0, "resp_body", "hello", 5);
	cr_assert(get_bool(&d, 0, "resp_body_truncated"));
	cr_assert_eq(get_uint(&d, 0, "resp_body_len"), 20);
	expect_str(&d, 1, "url", "/h");
	expect_bin(&d, 1, "resp_body", "ok", 2);
	drv_fini(&d);
	drv_free(&d);
}

Test(http, gap_in_headers_resyncs)
{
	struct drv d;
	http_open(&d, NULL);
	drv_s(&d, GCP_DIR_C2S, "GET /lost HTTP/1.1\r\nHo");
	drv_gap(&d, GCP_DIR_C2S, 50);
	drv_s(&d, GCP_DIR_C2S, "garbage tail\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n");
	drv_s(&d, GCP_DIR_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 1);
	expect_str(&d, 0, "url", "/next");
	cr_assert_eq(get_uint(&d, 0, "status"), 200);
	drv_fini(&d);
	drv_free(&d);
}

static uint64_t resyncs(struct drv *d)
{
	struct gcp_stats st = { .sz = sizeof(st) };
	cr_assert_eq(gcp_engine_stats(d->ctx->eng, &st), 0);
	return st.stream_resyncs;
}

/*
 * Each direction loses its first message to a gap; what survives of it
 * ends in binary bytes without a line end, and the next start line
 * follows on that same line: found there, whole or byte at a time.
 */
Test(http, gap_then_start_line_mid_line)
{
	static const char req_tail[] = "\x1f\x8b\x08\x00\x01\x02zz"
				       "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char resp_tail[] = "\x00\x01\x02\xff tail"
					"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
	for (size_t step = 0; step < 2; step++) {
		struct drv d;
		http_open(&d, NULL);
		drv_s(&d, GCP_DIR_C2S, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Le");
		drv_gap(&d, GCP_DIR_C2S, 20);
		drv_feed(&d, GCP_DIR_C2S, req_tail, sizeof(req_tail) - 1, step);
		drv_s(&d, GCP_DIR_S2C, "HTTP/1.1 200 OK\r\nContent-Le");
		drv_gap(&d, GCP_DIR_S2C, 20);
		drv_feed(&d, GCP_DIR_S2C, resp_tail, sizeof(resp_tail) - 1, step);
		cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 1, "step %zu", step);
		expect_str(&d, 0, "method", "GET");
		expect_str(&d, 0, "url", "/next");
		cr_assert_eq(get_uint(&d, 0, "status"), 404);
		cr_assert_eq(resyncs(&d), 2);
		drv_fini(&d);
		drv_free(&d);
	}
}

/* After a gap the data starts mid-line: the tail of the lost request line
 * ("ath HTTP/1.1") is no request of its own. */
Test(http, gap_tail_of_lost_line_not_a_request)
{
	struct drv d;
	http_open(&d, NULL);
	drv_s(&d, GCP_DIR_C2S, "GET /a/very/long/p");
	drv_gap(&d, GCP_DIR_C2S, 5);
	drv_s(&d, GCP_DIR_C2S, "ath HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
	drv_s(&d, GCP_DIR_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	drv_fin(&d, GCP_DIR_C2S);
	drv_fin(&d, GCP_DIR_S2C);
	drv_fini(&d);
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 1);
	expect_str(&d, 0, "method", "GET");
	expect_str(&d, 0, "url", "/b");
	cr_assert_eq(get_uint(&d, 0, "status"), 200);
	cr_assert_eq(resyncs(&d), 1);
	drv_free(&d);
}

Test(http, connect_tunnel_done)
{
	struct drv d;
	http_open(&d, NULL);
	drv_s(&d, GCP_DIR_C2S, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
			       "\x16\x03\x01\x02\x00");
	cr_assert_eq(d.status, GCP_PARSE_OK);
	drv_s(&d, GCP_DIR_S2C, "HTTP/1.1 200 Connection established\r\n\r\n");
	cr_assert_eq(d.status, GCP_PARSE_DONE);
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 1);
	expect_str(&d, 0, "method", "CONNECT");
	expect_str(&d, 0, "url", "example.com:443");
	drv_fini(&d);
	drv_free(&d);
}

Test(http, obs_fold_and_lenient_lines)
{
	struct drv d;
	http_open(&d, NULL);
	drv_s(&d, GCP_DIR_C2S, "\r\nGET /f HTTP/1.1\nHost: h\nX-Long: a\n  b\n\n");
	drv_s(&d, GCP_DIR_S2C, "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n");
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 1);
	const msgpack_object *rh = get(&d, 0, "req_headers");
	cr_assert_eq(rh->via.array.size, 2);
	const msgpack_object *v = &rh->via.array.ptr[1].via.array.ptr[1];
	cr_assert_eq(v->via.str.size, 3);
	cr_assert_arr_eq(v->via.str.ptr, "a b", 3);
	drv_fini(&d);
	drv_free(&d);
}

/* ---- byte-at-a-time ------------------------------------------------------- */

struct seg {
	int dir;
	const void *p;
	size_t n;
};

static unsigned conversation(struct seg *s, uint8_t *zbuf, size_t zcap, char *gzmsg, size_t gcap)
{
	static const char *plain = "compressible compressible compressible text";
	size_t zn = zcompress(plain, strlen(plain), zbuf, zcap, 31);
	size_t gn = resp_with(gzmsg, gcap, "gzip", zbuf, zn);
	static const char reqs[] = "GET /one HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n"
				   "GET /two HTTP/1.1\r\nHost: a\r\nX-Fold: x\r\n\ty\r\n\r\n";
	static const char resps[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				    "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n";
	unsigned k = 0;
	s[k++] = (struct seg){ GCP_DIR_C2S, reqs, strlen(reqs) };
	s[k++] = (struct seg){ GCP_DIR_S2C, resps, strlen(resps) };
	s[k++] = (struct seg){ GCP_DIR_S2C, gzmsg, gn };
	s[k++] = (struct seg){ GCP_DIR_C2S, POST_HDR, strlen(POST_HDR) };
	s[k++] = (struct seg){ GCP_DIR_S2C, CONT100, strlen(CONT100) };
	s[k++] = (struct seg){ GCP_DIR_C2S, POST_BODY, strlen(POST_BODY) };
	s[k++] = (struct seg){ GCP_DIR_S2C, POST_RESP, strlen(POST_RESP) };
	s[k++] = (struct seg){ GCP_DIR_C2S, GET1, strlen(GET1) };
	s[k++] = (struct seg){ GCP_DIR_S2C, "HTTP/1.0 200 OK\r\n\r\nuntil close", 30 };
	return k;
}

static void replay(struct drv *d, size_t step)
{
	struct seg s[16];
	uint8_t z[256];
	char gz[512];
	unsigned n = conversation(s, z, sizeof(z), gz, sizeof(gz));
	http_open(d, NULL);
	for (unsigned i = 0; i < n; i++)
		drv_feed(d, s[i].dir, s[i].p, s[i].n, step);
	drv_fin(d, GCP_DIR_S2C);
	drv_fin(d, GCP_DIR_C2S);
	drv_fini(d);
}

Test(http, byte_at_a_time_matches_one_shot)
{
	struct drv one, byte;
	replay(&one, 0);
	cr_assert_eq(gcp_test_dctx_nrecords(one.ctx), 4);
	expect_str(&one, 0, "real_ip", "1.2.3.4");
	expect_bin(&one, 0, "resp_body", "abcde", 5);
	expect_bin(&one, 1, "resp_body", "compressible compressible compressible text", 43);
	expect_bin(&one, 3, "resp_body", "until close", 11);
	static const size_t steps[] = { 1, 2, 3, 7, 13 };
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		replay(&byte, steps[i]);
		expect_same_records(&one, &byte);
		cr_assert_eq(anomalies(&one), anomalies(&byte));
		drv_free(&byte);
	}
	drv_free(&one);
}

/* ---- malformed request lines (tshark's reading) -------------------------- */

Test(http, probe_malformed_request_lines)
{
	const struct gcp_dissector *h = &gcp_dissector_http;
#define P(s) h->probe((const uint8_t *)(s), (uint32_t)(sizeof(s) - 1), GCP_DIR_C2S)
	cr_assert_eq(P("GET /HTTP/1.1\r\n"), GCP_PROBE_YES);
	cr_assert_eq(P("OPTIONS HTTP/1.1\n"), GCP_PROBE_YES);
	cr_assert_eq(P("OPTIONSHTTP/1.1\n"), GCP_PROBE_YES);
	cr_assert_eq(P("GET/ HTTP/1.1\n"), GCP_PROBE_YES);
	cr_assert_eq(P("\xc3\x83\xc3\x82 / HTTP/1.\n"), GCP_PROBE_YES);
	cr_assert_eq(P("OPTIONS\nHost: h\n\n"), GCP_PROBE_YES);
	cr_assert_eq(P("OPTIONS"), GCP_PROBE_MAYBE);
	cr_assert_eq(P("PING\r\n"), GCP_PROBE_NO); /* only known methods alone */
	cr_assert_eq(P("hello world\r\n"), GCP_PROBE_NO);
	cr_assert_eq(P("\x00\x01HTTP/1.1"), GCP_PROBE_NO);
#undef P
}

/* One flow: request bytes, then the response; returns records made. */
static unsigned one_flow(struct drv *d, const char *req, const char *resp, size_t step)
{
	http_open(d, NULL);
	drv_feed(d, GCP_DIR_C2S, req, strlen(req), step);
	drv_feed(d, GCP_DIR_S2C, resp, strlen(resp), step);
	drv_fin(d, GCP_DIR_C2S);
	drv_fin(d, GCP_DIR_S2C);
	drv_fini(d);
	return gcp_test_dctx_nrecords(d->ctx);
}

static const char R400[] = "HTTP/1.0 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad";

Test(http, request_line_without_version)
{
	static const struct {
		const char *req, *method, *url;
	} c[] = {
		{ "GET /HTTP/1.1\nHost: h\n\n", "GET", "/HTTP/1.1" },
		{ "OPTIONS HTTP/1.1\r\nHost: h\r\n\r\n", "OPTIONS", "HTTP/1.1" },
		{ "PUT /a b\r\n\r\n", "PUT", "/a b" },
		{ "CCM_POST /HTTP/1.1 \r\n\r\n", "CCM_POST", "/HTTP/1.1" },
		{ "OPTIONS\nHost: h\n\n", "OPTIONS", NULL },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct drv d;
		cr_assert_eq(one_flow(&d, c[i].req, R400, 0), 1, "case %zu", i);
		expect_str(&d, 0, "method", c[i].method);
		if (c[i].url)
			expect_str(&d, 0, "url", c[i].url);
		else
			expect_absent(&d, 0, "url");
		expect_absent(&d, 0, "version");
		cr_assert_eq(get_uint(&d, 0, "status"), 400);
		cr_assert_gt(anomalies(&d), 0, "case %zu: no anomaly", i);
		drv_free(&d);
	}
}

Test(http, request_line_partial_version_kept)
{
	struct drv d;
	cr_assert_eq(one_flow(&d, "GET / HTTP/1.\r\nHost: h\r\n\r\n", R400, 0), 1);
	expect_str(&d, 0, "url", "/");
	expect_str(&d, 0, "version", "HTTP/1.");
	cr_assert_eq(anomalies(&d), 1);
	drv_free(&d);
}

Test(http, request_line_not_a_request_keeps_response)
{
	static const char *const req[] = { "GET/ HTTP/1.1\nHost: h\n\n", "OPTIONSHTTP/1.1\n\n",
					   "\xc3\x83\xc3\x82 / HTTP/1.\n\n", "PING\r\n\r\n" };
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		struct drv d;
		cr_assert_eq(one_flow(&d, req[i], R400, 0), 1, "case %zu", i);
		expect_absent(&d, 0, "method");
		expect_absent(&d, 0, "url");
		expect_str(&d, 0, "version", "HTTP/1.0");
		cr_assert_eq(get_uint(&d, 0, "status"), 400);
		drv_free(&d);
	}
}

Test(http, malformed_lines_byte_at_a_time)
{
	static const char req[] = "GET /HTTP/1.1\r\n\r\n"
				  "OPTIONS\r\nHost: h\r\n\r\n"
				  "HEAD / HTTP/1.\r\n\r\n";
	static const char resp[] = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
				   "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
				   "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
	struct drv one, byte;
	cr_assert_eq(one_flow(&one, req, resp, 0), 3);
	expect_str(&one, 0, "url", "/HTTP/1.1");
	expect_absent(&one, 0, "version");
	cr_assert_eq(get_uint(&one, 0, "status"), 403);
	expect_str(&one, 1, "method", "OPTIONS");
	expect_absent(&one, 1, "url");
	expect_str(&one, 1, "host", "h");
	expect_str(&one, 2, "method", "HEAD");
	expect_str(&one, 2, "version", "HTTP/1.");
	cr_assert_eq(get_uint(&one, 2, "status"), 200);
	static const size_t steps[] = { 1, 2, 5 };
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		one_flow(&byte, req, resp, steps[i]);
		expect_same_records(&one, &byte);
		cr_assert_eq(anomalies(&one), anomalies(&byte));
		drv_free(&byte);
	}
	drv_free(&one);
}

/* ---- HTTP/2 connection preface (RFC 9113 3.4) ----------------------------- */

static const char H2_PREFACE[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

Test(http, h2_preface_probe)
{
	const struct gcp_dissector *h = &gcp_dissector_http;
	const uint8_t *p = (const uint8_t *)H2_PREFACE;
	cr_assert_eq(h->probe(p, (uint32_t)strlen(H2_PREFACE), GCP_DIR_C2S), GCP_PROBE_NO);
	cr_assert_eq(h->probe(p, 14, GCP_DIR_C2S), GCP_PROBE_NO);
	for (uint32_t n = 1; n < 14; n++)
		cr_assert_eq(h->probe(p, n, GCP_DIR_C2S), GCP_PROBE_MAYBE, "n=%u", n);
	/* other PRI requests stay HTTP/1 */
	cr_assert_eq(h->probe((const uint8_t *)"PRI /x HTTP/1.1\r\n", 17, GCP_DIR_C2S),
		     GCP_PROBE_YES);
}

static void h2_feed(size_t step)
{
	static const uint8_t settings[] = { 0, 0, 0, 4, 0, 0, 0, 0, 0 }; /* empty SETTINGS */
	struct drv d;
	http_open(&d, NULL);
	drv_feed(&d, GCP_DIR_C2S, H2_PREFACE, strlen(H2_PREFACE), step);
	drv_feed(&d, GCP_DIR_C2S, settings, sizeof(settings), step);
	cr_assert_eq(d.status, GCP_PARSE_DONE, "step %zu", step);
	drv_feed(&d, GCP_DIR_S2C, settings, sizeof(settings), step);
	cr_assert_eq(d.status, GCP_PARSE_DONE);
	drv_fini(&d);
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 0, "step %zu", step);
	cr_assert_eq(anomalies(&d), 0);
	drv_free(&d);
}

Test(http, h2_preface_parse_done)
{
	static const size_t steps[] = { 0, 1, 3, 7 };
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		h2_feed(steps[i]);
}

Test(http, h2_preface_after_http1_keeps_earlier_tx)
{
	struct drv d;
	http_open(&d, NULL);
	drv_s(&d, GCP_DIR_C2S, GET1);
	drv_s(&d, GCP_DIR_S2C, RESP1);
	drv_s(&d, GCP_DIR_C2S, H2_PREFACE);
	cr_assert_eq(d.status, GCP_PARSE_DONE);
	drv_fini(&d);
	cr_assert_eq(gcp_test_dctx_nrecords(d.ctx), 1);
	expect_str(&d, 0, "method", "GET");
	drv_free(&d);
}
