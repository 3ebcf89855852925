/* SPDX-License-Identifier: BSD-3-Clause */
/* FTP over the corpus through the public API: transfers, names, modes and
 * the MD5 of each data stream against tshark's reassembly (follow,tcp,raw). */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcprobe/gcprobe.h"

#define MAX_RECS 16

struct recs {
	char *json[MAX_RECS];
	unsigned n;
};

static void keep(const struct gcp_record *rec, void *user)
{
	struct recs *r = user;
	char buf[8192];
	int n = gcp_record_to_json(rec->data, rec->len, buf, sizeof(buf), 0);

	cr_assert(n > 0);
	cr_assert(r->n < MAX_RECS);
	r->json[r->n++] = strdup(buf);
}

static int by_ts(const void *a, const void *b)
{
	const char *x = strstr(*(char *const *)a, "\"ts\":");
	const char *y = strstr(*(char *const *)b, "\"ts\":");

	return strncmp(x, y, 40);
}

static void run(const char *name, struct recs *r)
{
	char path[512];
	struct gcp_capture *cap;
	struct gcp_engine *eng;
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;
	struct gcp_packet pkts[64];
	int n;

	snprintf(path, sizeof(path), "%s/ftp/%s", GCP_CORPUS_DIR, name);
	cr_assert_eq(gcp_capture_open_file(path, &cap), 0, "%s", gcp_capture_error(NULL));
	o.node_name = "test";
	cr_assert_eq(gcp_engine_create(&o, &eng), 0);
	cr_assert_eq(gcp_engine_subscribe(eng, GCP_REC_FTP, keep, r), 0);
	while ((n = gcp_capture_rx_burst(cap, pkts, 64)) > 0)
		cr_assert_eq(gcp_engine_feed_burst(eng, pkts, (unsigned)n), 0);
	cr_assert_eq(n, 0);
	gcp_engine_flush(eng);
	gcp_engine_destroy(eng);
	gcp_capture_close(cap);
	qsort(r->json, r->n, sizeof(r->json[0]), by_ts);
}

static void free_recs(struct recs *r)
{
	for (unsigned i = 0; i < r->n; i++)
		free(r->json[i]);
}

/* Value of "key" in a flat JSON object: string contents or a bare number. */
static bool field(const char *j, const char *key, char *out, size_t cap)
{
	char pat[64];

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = strstr(j, pat);

	if (!p)
		return false;
	p += strlen(pat);
	bool quoted = *p == '"';
	size_t i = 0;

	if (quoted)
		p++;
	while (*p && i + 1 < cap && (quoted ? *p != '"' : (*p != ',' && *p != '}')))
		out[i++] = *p++;
	out[i] = 0;
	return true;
}

static uint64_t field_u(const char *j, const char *key)
{
	char v[32] = "";

	cr_assert(field(j, key, v, sizeof(v)), "no %s in %s", key, j);
	return strtoull(v, NULL, 10);
}

/* tshark's reassembled bytes of the TCP stream between the two ports, as MD5. */
static void tshark_md5(const char *name, uint64_t p1, uint64_t p2, char hex[33], uint64_t *size)
{
	char cmd[1024], line[70000];
	FILE *f;
	int stream = -1;

	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s/ftp/%s -Y 'tcp.port==%llu && tcp.port==%llu' -T fields "
		 "-e tcp.stream 2>/dev/null | head -1",
		 GCP_CORPUS_DIR, name, (unsigned long long)p1, (unsigned long long)p2);
	f = popen(cmd, "r");
	cr_assert(f);
	cr_assert(fscanf(f, "%d", &stream) == 1, "tshark found no stream for %s", cmd);
	pclose(f);
	snprintf(cmd, sizeof(cmd), "tshark -r %s/ftp/%s -q -z follow,tcp,raw,%d 2>/dev/null",
		 GCP_CORPUS_DIR, name, stream);
	f = popen(cmd, "r");
	cr_assert(f);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_md5(), NULL);
	*size = 0;
	while (fgets(line, sizeof(line), f)) {
		const char *p = line + (line[0] == '\t');

		if (strchr("=FN", line[0]))
			continue; /* banner lines: ====, Follow:, Filter:, Node */
		for (; p[0] && p[1] && p[0] != '\n'; p += 2) {
			unsigned b;

			cr_assert(sscanf(p, "%2x", &b) == 1);
			uint8_t c = (uint8_t)b;
			EVP_DigestUpdate(md, &c, 1);
			(*size)++;
		}
	}
	pclose(f);
	unsigned char d[16];
	unsigned dl;

	EVP_DigestFinal_ex(md, d, &dl);
	EVP_MD_CTX_free(md);
	for (unsigned i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* What each capture holds (SOURCES.md, checked by reading the control channel). */
struct want {
	const char *cmd, *mode, *direction, *filename; /* filename NULL: absent */
	uint64_t size;
	bool complete;
};

static void check(const char *name, const struct want *w, unsigned nw)
{
	struct recs r = { 0 };
	char v[512], hex[33];
	uint64_t tsize;

	run(name, &r);
	cr_assert_eq(r.n, nw, "%s: %u records, want %u", name, r.n, nw);
	for (unsigned i = 0; i < nw; i++) {
		const char *j = r.json[i];

		cr_assert(field(j, "command", v, sizeof(v)) && !strcmp(v, w[i].cmd), "%s", j);
		cr_assert(field(j, "mode", v, sizeof(v)) && !strcmp(v, w[i].mode), "%s", j);
		cr_assert(field(j, "direction", v, sizeof(v)) && !strcmp(v, w[i].direction), "%s", j);
		if (w[i].filename)
			cr_assert(field(j, "filename", v, sizeof(v)) && !strcmp(v, w[i].filename),
				  "%s", j);
		else
			cr_assert(!field(j, "filename", v, sizeof(v)), "%s", j);
		cr_assert_eq(field_u(j, "size"), w[i].size, "%s", j);
		tshark_md5(name, field_u(j, "data_src_port"), field_u(j, "data_dst_port"), hex,
			   &tsize);
		cr_assert_eq(tsize, w[i].size, "%s: tshark has %llu bytes", j,
			     (unsigned long long)tsize);
		if (w[i].complete) {
			cr_assert(strstr(j, "\"md5_complete\":true"), "%s", j);
			cr_assert(field(j, "md5", v, sizeof(v)) && !strcmp(v, hex),
				  "%s: tshark md5 %s", j, hex);
		} else {
			cr_assert(strstr(j, "\"md5_complete\":false"), "%s", j);
			cr_assert(!field(j, "md5", v, sizeof(v)), "wrong md5 emitted: %s", j);
		}
		cr_assert(field(j, "control_flow_id", v, sizeof(v)), "%s", j);
	}
	free_recs(&r);
}

#define CHECK(name, ...)                                                        \
	do {                                                                    \
		static const struct want w_[] = { __VA_ARGS__ };                \
		check(name, w_, sizeof(w_) / sizeof(w_[0]));                    \
	} while (0)

Test(ftp_corpus, ipv4_pasv_port_nat)
{
	CHECK("zeek-ftp-ipv4-pasv-port.pcap",
	      { "LIST", "passive", "download", NULL, 342, true },
	      { "RETR", "passive", "download", "robots.txt", 77, true },
	      { "LIST", "active", "download", NULL, 342, true },
	      { "RETR", "active", "download", "robots.txt", 77, true });
}

Test(ftp_corpus, ipv6_epsv_eprt)
{
	CHECK("zeek-ftp-ipv6-epsv-eprt.pcap",
	      { "LIST", "passive", "download", "/", 342, true },
	      { "NLST", "passive", "download", "/", 43, true },
	      { "RETR", "passive", "download", "/robots.txt", 77, true },
	      { "RETR", "active", "download", "/robots.txt", 77, true },
	      { "LIST", "active", "download", "/", 342, true });
}

Test(ftp_corpus, retr_epsv_data_before_command)
{
	/* The data connection opens before RETR is sent (command bound later). */
	CHECK("zeek-ftp-retr-epsv.pcap", { "RETR", "passive", "download", "/README", 16557, true });
}

Test(ftp_corpus, partial_retr_is_incomplete)
{
	/* 1MB.zip announced, 109440 bytes captured, no FIN: no MD5. */
	CHECK("ndpi-ftp-pasv-retr-list.pcap",
	      { "LIST", "passive", "download", "/", 1205, true },
	      { "RETR", "passive", "download", "/1MB.zip", 109440, false });
}

Test(ftp_corpus, active_stor_from_port_20)
{
	CHECK("suricata-ftp-upload-active-stor.pcap",
	      { "NLST", "active", "download", NULL, 25, true },
	      { "STOR", "active", "upload", "index.html", 39, true },
	      { "NLST", "active", "download", NULL, 25, true });
}

Test(ftp_corpus, no_data_connections_no_records)
{
	struct recs r = { 0 };

	run("zeek-ftp-cwd-navigation.pcap", &r);
	cr_assert_eq(r.n, 0);
	run("ndpi-ftp-auth-tls-stor.pcap", &r);
	cr_assert_eq(r.n, 0);
}

/* Every ftp-data stream tshark finds is one of our transfers, same command. */
Test(ftp_corpus, tshark_transfers_are_found)
{
	static const char *const files[] = {
		"zeek-ftp-ipv4-pasv-port.pcap", "zeek-ftp-ipv6-epsv-eprt.pcap",
		"ndpi-ftp-pasv-retr-list.pcap", "suricata-ftp-upload-active-stor.pcap",
	};

	for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
		struct recs r = { 0 };
		char cmd[512], line[512];

		run(files[k], &r);
		snprintf(cmd, sizeof(cmd),
			 "tshark -r %s/ftp/%s -Y ftp-data -T fields -e tcp.srcport -e tcp.dstport "
			 "-e ftp-data.command 2>/dev/null | sort -u",
			 GCP_CORPUS_DIR, files[k]);
		FILE *f = popen(cmd, "r");
		unsigned sport, dport, seen = 0;
		char verb[8];

		cr_assert(f);
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%u\t%u\t%7s", &sport, &dport, verb) != 3)
				continue;
			bool found = false;

			for (unsigned i = 0; i < r.n && !found; i++) {
				char v[16];

				found = (field_u(r.json[i], "data_src_port") == sport ||
					 field_u(r.json[i], "data_dst_port") == sport) &&
					(field_u(r.json[i], "data_src_port") == dport ||
					 field_u(r.json[i], "data_dst_port") == dport) &&
					field(r.json[i], "command", v, sizeof(v)) && !strcmp(v, verb);
			}
			cr_assert(found, "%s: tshark ftp-data %u-%u %s not in our records", files[k],
				  sport, dport, verb);
			seen++;
		}
		pclose(f);
		cr_assert(seen > 0, "%s: tshark found no ftp-data", files[k]);
		free_recs(&r);
	}
}
