/* SPDX-License-Identifier: BSD-3-Clause */
/* Golden tests: every capture with an expected/<folder>/<file>.exp runs
 * through the production path (pcap backend + engine) and its records
 * must match the tshark oracle's lines (see README.md). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <gcprobe/gcprobe.h>

#include "golden_match.h"

#define BURST 64
#define NO_TIMEOUT_S (365u * 24 * 3600) /* longer than any capture */

/* One capture: "<folder>/<file>" (no pointers: params cross processes). */
struct golden_case {
	char rel[256];
};

static void update_golden(void)
{
	const char *env = getenv("GCP_UPDATE_GOLDEN");
	char cmd[1024];

	if (!env || strcmp(env, "1"))
		return;
	snprintf(cmd, sizeof(cmd), "python3 '%s/oracle.py' --corpus '%s' --out '%s/expected'",
		 GCP_GOLDEN_DIR, GCP_CORPUS_DIR, GCP_GOLDEN_DIR);
	if (system(cmd) != 0)
		fprintf(stderr, "golden: oracle run failed: %s\n", cmd);
}

static int cmp_case(const void *a, const void *b)
{
	return strcmp(((const struct golden_case *)a)->rel,
		      ((const struct golden_case *)b)->rel);
}

/* Append the .exp files of one folder under expected/ to the list. */
static size_t scan_folder(const char *folder, struct golden_case *out, size_t n, size_t cap)
{
	char dir[512];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/expected/%s", GCP_GOLDEN_DIR, folder);
	d = opendir(dir);
	while (d && (de = readdir(d)) && n < cap) {
		size_t len = strlen(de->d_name);
		if (len <= 4 || strcmp(de->d_name + len - 4, ".exp"))
			continue;
		int w = snprintf(out[n].rel, sizeof(out[n].rel), "%s/%.*s", folder,
				 (int)(len - 4), de->d_name);
		if (w > 0 && (size_t)w < sizeof(out[n].rel))
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

static size_t scan_cases(struct golden_case *out, size_t cap)
{
	char dir[512];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/expected", GCP_GOLDEN_DIR);
	d = opendir(dir);
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			n = scan_folder(de->d_name, out, n, cap);
	if (d)
		closedir(d);
	qsort(out, n, sizeof(*out), cmp_case);
	return n;
}

static void free_cases(struct criterion_test_params *ctp)
{
	cr_free(ctp->params);
}

#define MAX_CASES 1024

ParameterizedTestParameters(golden, capture)
{
	static struct golden_case found[MAX_CASES];
	struct golden_case *cases;
	size_t n;

	update_golden();
	n = scan_cases(found, MAX_CASES);
	cases = cr_calloc(n ? n : 1, sizeof(*cases));
	if (!cases)
		n = 0;
	else
		memcpy(cases, found, n * sizeof(*cases));
	return cr_make_param_array(struct golden_case, cases, n, free_cases);
}

static void on_record(const struct gcp_record *rec, void *user)
{
	if (gm_actuals_add(user, rec->data, rec->len))
		cr_log_error("record of type %d is not a MessagePack map", rec->type);
}

/* Run one capture through an engine; records land in *acts. */
static int run_capture(const char *path, struct gm_actuals *acts)
{
	struct gcp_engine_opts opts = GCP_ENGINE_OPTS_INIT;
	struct gcp_packet pkts[BURST];
	struct gcp_capture *cap = NULL;
	struct gcp_engine *eng = NULL;
	int rc, n;

	opts.node_name = "golden";
	/* tshark pairs and groups without timeouts: none may fire here. */
	opts.dns_timeout_s = NO_TIMEOUT_S;
	opts.tcp_idle_s = NO_TIMEOUT_S;
	opts.udp_idle_s = NO_TIMEOUT_S;
	opts.tcp_close_s = NO_TIMEOUT_S;
	rc = gcp_capture_open_file(path, &cap);
	if (rc)
		return rc;
	rc = gcp_engine_create(&opts, &eng);
	if (!rc)
		rc = gcp_engine_subscribe(eng, GCP_REC_ALL, on_record, acts);
	while (!rc && (n = gcp_capture_rx_burst(cap, pkts, BURST)) != 0)
		rc = n < 0 ? n : gcp_engine_feed_burst(eng, pkts, (unsigned)n);
	if (!rc)
		rc = gcp_engine_flush(eng);
	gcp_engine_destroy(eng);
	gcp_capture_close(cap);
	return rc;
}

ParameterizedTest(struct golden_case *gc, golden, capture, .timeout = 120)
{
	char path[768];
	struct gm_file exp;
	struct gm_actuals acts = { 0 };
	char *report = NULL;
	size_t report_len = 0;
	int rc, problems;

	snprintf(path, sizeof(path), "%s/expected/%s.exp", GCP_GOLDEN_DIR, gc->rel);
	cr_assert_eq(gm_file_load(&exp, path), 0, "%s: cannot parse", path);
	snprintf(path, sizeof(path), "%s/%s", GCP_CORPUS_DIR, gc->rel);
	rc = run_capture(path, &acts);
	cr_assert_eq(rc, 0, "%s: %s", gc->rel, gcp_strerror(rc));

	FILE *out = open_memstream(&report, &report_len);
	problems = gm_check(&exp, &acts, out);
	fclose(out);
	if (problems)
		fprintf(stderr, "golden %s: %d problem(s)\n%s", gc->rel, problems, report);
	free(report);
	gm_file_free(&exp);
	gm_actuals_free(&acts);
	cr_assert_eq(problems, 0, "golden %s: records differ from the oracle", gc->rel);
}
