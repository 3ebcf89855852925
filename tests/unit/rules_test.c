/* SPDX-License-Identifier: BSD-3-Clause */
/* Content rules: text format errors, tagging of host/url/qname, and
 * swapping rule sets into a running engine (also from another thread). */

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "conv.h"

static struct gcp_rules *compile_ok(const char *text)
{
	struct gcp_rules *r = NULL;
	char err[256];
	int rc = gcp_rules_compile(text, &r, err, sizeof(err));

	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_not_null(r);
	return r;
}

/* Compile must fail and its message must contain want. */
static void compile_bad(const char *text, const char *want)
{
	struct gcp_rules *r = (struct gcp_rules *)1;
	char err[256];
	int rc = gcp_rules_compile(text, &r, err, sizeof(err));

	cr_expect_eq(rc, GCP_ERR_FORMAT, "%s", text);
	cr_expect_null(r);
	cr_expect(strstr(err, want), "error '%s' lacks '%s'", err, want);
}

static struct gcp_engine *engine(struct sink *s)
{
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;
	struct gcp_engine *e;

	o.node_name = "test";
	o.max_flows = 256;
	cr_assert_eq(gcp_engine_create(&o, &e), 0);
	cr_assert_eq(gcp_engine_subscribe(e, GCP_REC_ALL, keep, s), 0);
	return e;
}

/* One HTTP exchange on port 80; its http record is emitted during feed. */
static void http_get(struct gcp_engine *e, uint8_t host_id, const char *host, const char *url)
{
	struct conn c;
	char req[512];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", url, host);
	conn_open(&c, e, host_id, 80);
	say(&c, 0, req);
	say(&c, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	conn_close(&c);
}

/* The "rules" array of the first http record (or "" when absent). */
static const char *rules_of(const struct sink *s, const char *type, char *buf, size_t n)
{
	const char *r = find_rec(s, type);
	const char *p = r ? strstr(r, "\"rules\":[") : NULL;

	buf[0] = '\0';
	if (p) {
		const char *end = strchr(p, ']');

		snprintf(buf, n, "%.*s", (int)(end - p + 1), p);
	}
	return buf;
}

Test(rules, compile_errors_name_line_and_id)
{
	compile_bad("id=1 field=host pattern=/a(/", "line 1 (id 1)");
	compile_bad("# c\n\nid=5 field=url pattern=/ok/\nid=6 field=url pattern=/[z-a]/\n",
		    "line 4 (id 6)");
	compile_bad("id=1 field=mail pattern=/x/", "unknown field 'mail'");
	compile_bad("field=host pattern=/x/", "line 1: missing id=");
	compile_bad("id=3 field=host", "line 1 (id 3): missing pattern=");
	compile_bad("id=3 pattern=/x/q", "unknown pattern flag 'q'");
	compile_bad("id=3 pattern=x", "pattern must be /regex/flags");
	compile_bad("id=0 pattern=/x/", "id must be");
	compile_bad("id=9 pattern=/x/\nid=9 pattern=/y/", "line 2 (id 9): duplicate id (first on line 1)");
	compile_bad("id=4 colour=red pattern=/x/", "unknown key 'colour'");
	compile_bad("id=4 flag", "expected key=value");
	compile_bad("pattern=/x/ id=4", "pattern= must be last on the line");
	compile_bad("id=8 pattern=/a*/", "line 1 (id 8): ");
}

Test(rules, bad_regex_reports_hyperscan_text)
{
	struct gcp_rules *r;
	char err[256];

	cr_assert_eq(gcp_rules_compile("id=42 field=host pattern=/(?<=a)b\\/", &r, err,
				       sizeof(err)),
		     GCP_ERR_FORMAT);
	cr_expect(strstr(err, "line 1 (id 42): "), "%s", err);
	cr_expect_gt(strlen(err), strlen("line 1 (id 42): "), "%s", err);
	cr_assert_eq(gcp_rules_compile(NULL, &r, err, sizeof(err)), GCP_ERR_INVAL);
}

Test(rules, compile_counts)
{
	struct gcp_rules *r = compile_ok("");

	cr_expect_eq(gcp_rules_count(r), 0);
	gcp_rules_free(r);
	r = compile_ok("# only a comment\n\n  id=1 field=any pattern=/a b/i  \r\n"
		       "id=2 field=account pattern=/^root$/\n");
	cr_expect_eq(gcp_rules_count(r), 2);
	gcp_rules_free(r);
	gcp_rules_free(NULL);
}

static const char *rule_text = "id=1001 field=host pattern=/\\.example\\.gov$/i\n"
			       "id=1002 field=url pattern=/^\\/admin\\//\n"
			       "id=1003 field=qname pattern=/(^|\\.)example\\.com$/\n"
			       "id=7 field=any pattern=/ADMIN/i\n";

Test(rules, tags_host_and_url)
{
	struct sink s = { 0 };
	struct gcp_engine *e = engine(&s);
	struct gcp_rules *r = compile_ok(rule_text);
	char buf[128];

	cr_assert_eq(gcp_engine_set_rules(e, r), 0);
	gcp_rules_free(r); /* the engine keeps its own reference */
	http_get(e, 2, "WWW.Example.GOV", "/admin/panel");
	gcp_engine_flush(e);
	cr_expect_str_eq(rules_of(&s, "http", buf, sizeof(buf)), "\"rules\":[7,1001,1002]");
	cr_expect_str_eq(rules_of(&s, "tcp", buf, sizeof(buf)), "");
	sink_free(&s);

	http_get(e, 3, "www.example.org", "/index.html");
	gcp_engine_flush(e);
	cr_expect_str_eq(rules_of(&s, "http", buf, sizeof(buf)), "");
	struct gcp_stats st = { .sz = sizeof(st) };

	gcp_engine_stats(e, &st);
	cr_expect_eq(st.rules_tagged, 1);
	cr_expect_eq(st.rules_swaps, 1);
	gcp_engine_destroy(e);
	sink_free(&s);
}

Test(rules, tags_qname)
{
	static const uint8_t q[] = { 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
				     0x00, 0x00, 4,    'e',  'v',  'i',  'l',  7,    'e',  'x',
				     'a',  'm',  'p',  'l',  'e',  3,    'c',  'o',  'm',  0,
				     0x00, 0x01, 0x00, 0x01 };
	struct sink s = { 0 };
	struct gcp_engine *e = engine(&s);
	struct gcp_rules *r = compile_ok(rule_text);
	struct conn c;
	char buf[128];

	gcp_engine_set_rules(e, r);
	gcp_rules_free(r);
	udp_open(&c, e, 9, 53);
	dgram(&c, 0, q, sizeof(q));
	gcp_engine_flush(e);
	const char *dns = find_rec(&s, "dns");

	cr_assert_not_null(dns);
	cr_expect(strstr(dns, "\"qname\":\"evil.example.com\""), "%s", dns);
	cr_expect_str_eq(rules_of(&s, "dns", buf, sizeof(buf)), "\"rules\":[1003]");
	gcp_engine_destroy(e);
	sink_free(&s);
}

/* feed, swap, feed: the new set applies from the next burst on. */
Test(rules, swap_between_bursts)
{
	struct sink s = { 0 };
	struct gcp_engine *e = engine(&s);
	struct gcp_rules *a = compile_ok("id=1 field=host pattern=/^a\\.example$/");
	struct gcp_rules *b = compile_ok("id=2 field=host pattern=/^b\\.example$/");
	char buf[128];

	gcp_engine_set_rules(e, a);
	http_get(e, 2, "a.example", "/");
	cr_expect_str_eq(rules_of(&s, "http", buf, sizeof(buf)), "\"rules\":[1]");
	sink_free(&s);

	gcp_engine_set_rules(e, b);
	gcp_rules_free(a); /* the engine still holds a until it takes b */
	http_get(e, 3, "a.example", "/");
	cr_expect_str_eq(rules_of(&s, "http", buf, sizeof(buf)), "");
	sink_free(&s);
	http_get(e, 4, "b.example", "/");
	cr_expect_str_eq(rules_of(&s, "http", buf, sizeof(buf)), "\"rules\":[2]");
	sink_free(&s);

	gcp_engine_set_rules(e, NULL);
	http_get(e, 5, "b.example", "/");
	cr_expect_str_eq(rules_of(&s, "http", buf, sizeof(buf)), "");
	struct gcp_stats st = { .sz = sizeof(st) };

	gcp_engine_stats(e, &st);
	cr_expect_eq(st.rules_swaps, 3);
	gcp_rules_free(b);
	gcp_engine_flush(e);
	gcp_engine_destroy(e);
	sink_free(&s);
}

/* A set posted twice before the worker looks: only the last one counts. */
Test(rules, repost_replaces_pending)
{
	struct sink s = { 0 };
	struct gcp_engine *e = engine(&s);
	struct gcp_rules *a = compile_ok("id=1 field=host pattern=/x/");
	struct gcp_rules *b = compile_ok("id=2 field=host pattern=/x/");
	char buf[128];

	gcp_engine_set_rules(e, a);
	gcp_engine_set_rules(e, b);
	gcp_rules_free(a);
	gcp_rules_free(b);
	http_get(e, 2, "x", "/");
	cr_expect_str_eq(rules_of(&s, "http", buf, sizeof(buf)), "\"rules\":[2]");
	gcp_engine_destroy(e); /* without flush: nothing leaks */
	sink_free(&s);
}

struct swapper {
	struct gcp_engine *e;
	struct gcp_rules *set[3];
	atomic_bool stop;
	atomic_uint posts;
};

static void *swap_loop(void *arg)
{
	struct swapper *w = arg;

	while (!atomic_load(&w->stop)) {
		cr_assert_eq(gcp_engine_set_rules(w->e, w->set[atomic_load(&w->posts) % 3]), 0);
		atomic_fetch_add(&w->posts, 1);
	}
	return NULL;
}

/* A control thread swaps sets while the worker feeds. */
Test(rules, swap_from_another_thread)
{
	struct sink s = { 0 };
	struct gcp_engine *e = engine(&s);
	struct swapper w = { .e = e };
	pthread_t th;
	char buf[128];

	w.set[0] = compile_ok("id=1 field=host pattern=/example/");
	w.set[1] = compile_ok("id=2 field=url pattern=/^\\//");
	w.set[2] = NULL;
	cr_assert_eq(pthread_create(&th, NULL, swap_loop, &w), 0);
	/* Feed only once swaps are under way: on a busy machine the thread may
	 * not have run before 200 short flows are done. */
	while (atomic_load(&w.posts) == 0)
		sched_yield();
	for (unsigned i = 0; i < 200; i++) {
		http_get(e, (uint8_t)(i % 200 + 2), "www.example.net", "/");
		gcp_engine_flush(e);
		sink_free(&s);
	}
	atomic_store(&w.stop, true);
	pthread_join(th, NULL);
	gcp_engine_set_rules(e, w.set[0]);
	for (int i = 0; i < 2; i++)
		gcp_rules_free(w.set[i]);
	http_get(e, 250, "www.example.net", "/");
	cr_expect_str_eq(rules_of(&s, "http", buf, sizeof(buf)), "\"rules\":[1]");
	struct gcp_stats st = { .sz = sizeof(st) };

	gcp_engine_stats(e, &st);
	cr_expect_gt(atomic_load(&w.posts), 0);
	cr_expect_geq(st.rules_swaps, 1);
	gcp_engine_destroy(e);
	sink_free(&s);
}
