/* SPDX-License-Identifier: BSD-3-Clause */
/* pcap/pcapng file capture: corpus counts and timestamps against tshark, synthetic edge cases. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gcprobe/gcprobe.h"

#define BURST 64

/* ---- helpers -------------------------------------------------------- */

/* Run a shell command and return its first line as a number (or -1). */
static long long cmd_number(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	long long v = -1;

	cr_assert_not_null(p, "popen %s", cmd);
	if (fscanf(p, "%lld", &v) != 1)
		v = -1;
	pclose(p);
	return v;
}

static int open_ok(const char *path, struct gcp_capture **cap)
{
	int rc = gcp_capture_open_file(path, cap);
	cr_assert_eq(rc, 0, "open %s: %d %s", path, rc, gcp_capture_error(NULL));
	return rc;
}

/* Read everything; returns the packet count, *last_rc the final rx return. */
static long count_packets(struct gcp_capture *cap, int *last_rc)
{
	struct gcp_packet pkts[BURST];
	long total = 0;
	int n;

	while ((n = gcp_capture_rx_burst(cap, pkts, BURST)) > 0) {
		for (int i = 0; i < n; i++) {
			cr_assert_leq(pkts[i].caplen, pkts[i].wirelen);
			/* Touch every byte so ASan sees any view outside the mapping. */
			volatile uint8_t sink = 0;
			for (uint32_t j = 0; j < pkts[i].caplen; j++)
				sink ^= pkts[i].data[j];
			(void)sink;
		}
		total += n;
	}
	*last_rc = n;
	return total;
}

static char tmp_path[64];

static void write_tmp(const void *data, size_t len)
{
	strcpy(tmp_path, "/tmp/gcp_capture_test_XXXXXX");
	int fd = mkstemp(tmp_path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	void *p = malloc(*len ? *len : 1);
	cr_assert_eq(fread(p, 1, *len, f), *len);
	fclose(f);
	return p;
}

/* ---- corpus: every file against capinfos / tshark ------------------- */

static int files_checked;

static int check_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag != FTW_F || !strstr(path, ".pcap")) /* .pcap and .pcapng */
		return 0;
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "capinfos -c -M '%s' 2>/dev/null | awk '/Number of packets/{print $NF}'", path);
	long long want = cmd_number(cmd);
	cr_assert_geq(want, 0, "capinfos failed on %s", path);

	struct gcp_capture *cap;
	int last;
	open_ok(path, &cap);
	long got = count_packets(cap, &last);
	cr_expect_eq(got, want, "%s: %ld packets, capinfos says %lld", path, got, want);
	cr_expect_eq(last, 0, "%s: rx ended with %d (%s)", path, last, gcp_capture_error(cap));
	struct gcp_capture_stats st = { .sz = sizeof(st) };
	cr_assert_eq(gcp_capture_stats(cap, &st), 0);
	cr_expect_eq(st.pkts, (uint64_t)got);
	cr_expect_eq(st.truncated, 0, "%s: unexpected truncation", path);
	gcp_capture_close(cap);
	files_checked++;
	return 0;
}

Test(capture, corpus_counts_match_capinfos)
{
	cr_assert_eq(nftw(GCP_CORPUS_DIR, check_one, 16, FTW_PHYS), 0);
	cr_assert_geq(files_checked, 80, "only %d corpus files found", files_checked);
}

/*
 * Compare every packet's time (exact ns), caplen and wirelen with
 * tshark's frame.time_epoch/cap_len/len.
 */
static void compare_with_tshark(const char *path)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -T fields -e frame.time_epoch -e frame.cap_len -e frame.len "
		 "2>/dev/null", path);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);

	struct gcp_capture *cap;
	struct gcp_packet pkt;
	unsigned long long sec, frac;
	unsigned cl, wl;
	char fracs[16];
	int i = 0;
	open_ok(path, &cap);
	while (fscanf(p, "%llu.%15[0-9] %u %u", &sec, fracs, &cl, &wl) == 4) {
		cr_assert_eq(strlen(fracs), 9, "tshark prints ns");
		frac = strtoull(fracs, NULL, 10);
		cr_assert_eq(gcp_capture_rx_burst(cap, &pkt, 1), 1, "%s: packet %d missing", path, i);
		cr_expect_eq(pkt.ts_ns, sec * 1000000000ull + frac,
			     "%s #%d: ts %llu, tshark %llu.%09llu", path, i,
			     (unsigned long long)pkt.ts_ns, sec, frac);
		cr_expect_eq(pkt.caplen, cl, "%s #%d caplen", path, i);
		cr_expect_eq(pkt.wirelen, wl, "%s #%d len", path, i);
		i++;
	}
	pclose(p);
	cr_assert_gt(i, 0, "tshark read nothing from %s", path);
	cr_expect_eq(gcp_capture_rx_burst(cap, &pkt, 1), 0, "%s: more packets than tshark", path);
	gcp_capture_close(cap);
}

Test(capture, ns_pcap_timestamps_exact)
{
	const char *f = GCP_CORPUS_DIR "/tcp/tcpdump-tcp-handshake-nanosec.pcap";
	struct gcp_capture *cap;
	struct gcp_packet pkts[4];

	compare_with_tshark(f);
	open_ok(f, &cap);
	cr_assert_eq(gcp_capture_rx_burst(cap, pkts, 4), 3);
	cr_assert_eq(pkts[0].ts_ns, 1418145369924505488ull);
	cr_assert_eq(pkts[2].ts_ns, 1418145370052115157ull);
	cr_assert_eq(pkts[0].linktype, GCP_LINK_LINUX_SLL);
	gcp_capture_close(cap);
}

Test(capture, pcapng_multi_interface_resolution)
{
	const char *f = GCP_CORPUS_DIR "/mixed/zeek-pcapng-multi-interface.pcapng";
	struct gcp_capture *cap;
	struct gcp_packet pkts[8];

	compare_with_tshark(f);
	open_ok(f, &cap);
	cr_assert_eq(gcp_capture_rx_burst(cap, pkts, 8), 6);
	cr_assert_eq(pkts[0].ts_ns, 1767663089500330493ull); /* if 0: ns */
	cr_assert_eq(pkts[2].ts_ns, 1767663437111897000ull); /* if 1: µs */
	cr_assert_eq(pkts[0].linktype, GCP_LINK_ETHERNET);
	cr_assert_eq(pkts[2].linktype, GCP_LINK_ETHERNET);
	gcp_capture_close(cap);
}

Test(capture, other_pcapng_and_link_types_match_tshark)
{
	compare_with_tshark(GCP_CORPUS_DIR "/mail/ndpi-imaps-993.pcapng");
	compare_with_tshark(GCP_CORPUS_DIR "/mail/ndpi-pops-995.pcapng");
	compare_with_tshark(GCP_CORPUS_DIR "/mail/ndpi-smtps-465.pcapng");
	compare_with_tshark(GCP_CORPUS_DIR "/mail/zeek-pop3-stls.pcap");
	compare_with_tshark(GCP_CORPUS_DIR "/malformed/zeek-http-chunk-2pow64-overflow.pcap");
	compare_with_tshark(GCP_CORPUS_DIR "/malformed/zeek-trunc-record-header.pcap");

	struct gcp_capture *cap;
	struct gcp_packet pkt;
	open_ok(GCP_CORPUS_DIR "/mail/zeek-pop3-stls.pcap", &cap);
	cr_assert_eq(gcp_capture_rx_burst(cap, &pkt, 1), 1);
	cr_assert_eq(pkt.linktype, GCP_LINK_NULL);
	gcp_capture_close(cap);
	open_ok(GCP_CORPUS_DIR "/malformed/zeek-http-chunk-2pow64-overflow.pcap", &cap);
	cr_assert_eq(gcp_capture_rx_burst(cap, &pkt, 1), 1);
	cr_assert_eq(pkt.linktype, GCP_LINK_IPV4);
	gcp_capture_close(cap);
}

/* ---- truncation ------------------------------------------------------ */

/* Cut `cut` bytes off a corpus file; expect one packet fewer and one truncation. */
static void truncated_copy(const char *path, size_t cut)
{
	size_t len;
	uint8_t *buf = read_file(path, &len);
	struct gcp_capture *cap;
	int last;

	open_ok(path, &cap);
	long full = count_packets(cap, &last);
	gcp_capture_close(cap);

	write_tmp(buf, len - cut);
	open_ok(tmp_path, &cap);
	long got = count_packets(cap, &last);
	cr_expect_eq(got, full - 1, "%s cut by %zu: %ld of %ld", path, cut, got, full);
	cr_expect_eq(last, 0);
	struct gcp_capture_stats st = { .sz = sizeof(st) };
	gcp_capture_stats(cap, &st);
	cr_expect_eq(st.truncated, 1);
	cr_expect_eq(st.pkts, (uint64_t)got);
	cr_expect(strstr(gcp_capture_error(cap), "past end of file"), "%s",
		  gcp_capture_error(cap));
	/* Input stays ended. */
	struct gcp_packet pkt;
	cr_expect_eq(gcp_capture_rx_burst(cap, &pkt, 1), 0);
	gcp_capture_close(cap);
	unlink(tmp_path);
	free(buf);
}

Test(capture, truncated_last_packet)
{
	const char *pcap = GCP_CORPUS_DIR "/tcp/zeek-tcp-fast-open.pcap";
	const char *ng = GCP_CORPUS_DIR "/mixed/zeek-pcapng-multi-interface.pcapng";

	truncated_copy(pcap, 1);   /* body cut */
	truncated_copy(pcap, 60);  /* cut inside a 54..74-byte packet */
	truncated_copy(ng, 4);     /* block trailer cut */
	truncated_copy(ng, 30);
}

Test(capture, truncated_record_header)
{
	size_t len;
	uint8_t *buf = read_file(GCP_CORPUS_DIR "/malformed/zeek-empty-header-only.pcap", &len);
	uint8_t tmp[40];
	struct gcp_capture *cap;
	int last;

	cr_assert_eq(len, 24);
	memcpy(tmp, buf, 24);
	memset(tmp + 24, 0, 10); /* 10 of 16 record header bytes */
	write_tmp(tmp, 34);
	open_ok(tmp_path, &cap);
	cr_assert_eq(count_packets(cap, &last), 0);
	struct gcp_capture_stats st = { .sz = sizeof(st) };
	gcp_capture_stats(cap, &st);
	cr_assert_eq(st.truncated, 1);
	gcp_capture_close(cap);
	unlink(tmp_path);
	free(buf);
}

/* ---- errors ------------------------------------------------------------ */

Test(capture, garbage_file_error_text)
{
	static const char junk[] = "hello, this is not a capture file at all\n";
	struct gcp_capture *cap = (void *)1;
	char want[160];

	write_tmp(junk, sizeof(junk) - 1);
	cr_assert_eq(gcp_capture_open_file(tmp_path, &cap), GCP_ERR_FORMAT);
	cr_assert_null(cap);
	snprintf(want, sizeof(want), "%s: not a pcap or pcapng file (magic 0x68656c6c)", tmp_path);
	cr_assert_str_eq(gcp_capture_error(NULL), want);
	unlink(tmp_path);

	write_tmp("ab", 2);
	cr_assert_eq(gcp_capture_open_file(tmp_path, &cap), GCP_ERR_FORMAT);
	cr_assert(strstr(gcp_capture_error(NULL), tmp_path));
	unlink(tmp_path);

	write_tmp("", 0);
	cr_assert_eq(gcp_capture_open_file(tmp_path, &cap), GCP_ERR_FORMAT);
	unlink(tmp_path);
}

Test(capture, missing_file_is_io_error)
{
	struct gcp_capture *cap;

	cr_assert_eq(gcp_capture_open_file("/nonexistent/x.pcap", &cap), GCP_ERR_IO);
	cr_assert_str_eq(gcp_capture_error(NULL), "/nonexistent/x.pcap: No such file or directory");
	cr_assert_eq(gcp_capture_open_file("/tmp", &cap), GCP_ERR_IO);
	cr_assert_eq(gcp_capture_open_file(NULL, &cap), GCP_ERR_INVAL);
}

/* ---- synthetic files: byte orders, pcapng block kinds ------------------ */

struct wbuf {
	uint8_t b[4096];
	size_t n;
	bool be;
};

static void w8(struct wbuf *w, uint8_t v)
{
	w->b[w->n++] = v;
}

static void w16(struct wbuf *w, uint16_t v)
{
	w8(w, w->be ? v >> 8 : v & 0xff);
	w8(w, w->be ? v & 0xff : v >> 8);
}

static void w32(struct wbuf *w, uint32_t v)
{
	w16(w, w->be ? v >> 16 : v & 0xffff);
	w16(w, w->be ? v & 0xffff : v >> 16);
}

static void wbytes(struct wbuf *w, const void *p, size_t n)
{
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void pcap_hdr(struct wbuf *w, uint32_t magic, uint32_t snap, uint32_t link)
{
	w32(w, magic);
	w16(w, 2);
	w16(w, 4);
	w32(w, 0);
	w32(w, 0);
	w32(w, snap);
	w32(w, link);
}

static void pcap_rec(struct wbuf *w, uint32_t sec, uint32_t frac, uint32_t cl, uint32_t wl)
{
	w32(w, sec);
	w32(w, frac);
	w32(w, cl);
	w32(w, wl);
	for (uint32_t i = 0; i < cl; i++)
		w8(w, (uint8_t)i);
}

static struct gcp_capture *open_buf(const struct wbuf *w)
{
	struct gcp_capture *cap;
	write_tmp(w->b, w->n);
	open_ok(tmp_path, &cap);
	return cap;
}

Test(capture, pcap_big_endian_us_and_ns)
{
	for (int ns = 0; ns < 2; ns++) {
		struct wbuf w = { .be = true };
		struct gcp_packet p[4];
		pcap_hdr(&w, ns ? 0xa1b23c4d : 0xa1b2c3d4, 65535, 101);
		pcap_rec(&w, 1000, 999999, 20, 20);
		pcap_rec(&w, 1001, 5, 10, 1500);
		struct gcp_capture *cap = open_buf(&w);
		cr_assert_eq(gcp_capture_rx_burst(cap, p, 4), 2);
		cr_assert_eq(p[0].ts_ns, 1000000000000ull + 999999ull * (ns ? 1 : 1000));
		cr_assert_eq(p[1].ts_ns, 1001000000000ull + 5ull * (ns ? 1 : 1000));
		cr_assert_eq(p[1].caplen, 10);
		cr_assert_eq(p[1].wirelen, 1500);
		cr_assert_eq(p[0].linktype, GCP_LINK_RAW);
		cr_assert_eq(p[1].data[9], 9);
		cr_assert_eq(gcp_capture_rx_burst(cap, p, 4), 0);
		gcp_capture_close(cap);
		/* tshark agrees on the count */
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "tshark -r %s 2>/dev/null | wc -l", tmp_path);
		cr_assert_eq(cmd_number(cmd), 2);
		unlink(tmp_path);
	}
}

Test(capture, absurd_caplen_is_format_error_after_good_packets)
{
	struct wbuf w = { .be = false };
	struct gcp_packet p[4];

	pcap_hdr(&w, 0xa1b2c3d4, 65535, 1);
	pcap_rec(&w, 1, 0, 14, 14);
	w32(&w, 2);
	w32(&w, 0);
	w32(&w, 300000); /* caplen > 256 KiB */
	w32(&w, 300000);
	struct gcp_capture *cap = open_buf(&w);
	cr_assert_eq(gcp_capture_rx_burst(cap, p, 4), 1, "good packet first");
	cr_assert_eq(gcp_capture_rx_burst(cap, p, 4), GCP_ERR_FORMAT);
	cr_assert(strstr(gcp_capture_error(cap), "capture length 300000"), "%s",
		  gcp_capture_error(cap));
	cr_assert(strstr(gcp_capture_error(cap), tmp_path));
	cr_assert_eq(gcp_capture_rx_burst(cap, p, 4), GCP_ERR_FORMAT, "sticky");
	gcp_capture_close(cap);
	unlink(tmp_path);
}

Test(capture, pcap_bad_version)
{
	struct wbuf w = { .be = false };
	struct gcp_capture *cap;

	pcap_hdr(&w, 0xa1b2c3d4, 65535, 1);
	w.b[4] = 3;
	write_tmp(w.b, w.n);
	cr_assert_eq(gcp_capture_open_file(tmp_path, &cap), GCP_ERR_FORMAT);
	cr_assert(strstr(gcp_capture_error(NULL), "unsupported pcap version 3.4"));
	unlink(tmp_path);
}

/* pcapng block with body bytes; total length and padding filled in. */
static void ng_block(struct wbuf *w, uint32_t type, const struct wbuf *body)
{
	uint32_t pad = (4 - body->n % 4) % 4;
	uint32_t len = 12 + (uint32_t)body->n + pad;
	w32(w, type);
	w32(w, len);
	wbytes(w, body->b, body->n);
	for (uint32_t i = 0; i < pad; i++)
		w8(w, 0);
	w32(w, len);
}

static void ng_shb(struct wbuf *w)
{
	struct wbuf b = { .be = w->be };
	w32(&b, 0x1a2b3c4d);
	w16(&b, 1);
	w16(&b, 0);
	w32(&b, 0xffffffff);
	w32(&b, 0xffffffff);
	ng_block(w, 0x0a0d0d0a, &b);
}

static void ng_idb(struct wbuf *w, uint16_t link, uint32_t snap, int tsresol)
{
	struct wbuf b = { .be = w->be };
	w16(&b, link);
	w16(&b, 0);
	w32(&b, snap);
	if (tsresol >= 0) {
		w16(&b, 9);
		w16(&b, 1);
		w32(&b, (uint32_t)tsresol << (w->be ? 24 : 0)); /* value byte + padding */
	}
	w16(&b, 0);
	w16(&b, 0);
	ng_block(w, 1, &b);
}

static void ng_epb(struct wbuf *w, uint32_t ifid, uint64_t ts, uint32_t cl, uint32_t wl)
{
	struct wbuf b = { .be = w->be };
	w32(&b, ifid);
	w32(&b, (uint32_t)(ts >> 32));
	w32(&b, (uint32_t)ts);
	w32(&b, cl);
	w32(&b, wl);
	for (uint32_t i = 0; i < cl; i++)
		w8(&b, (uint8_t)(0x40 + i));
	ng_block(w, 6, &b);
}

static void ng_spb(struct wbuf *w, uint32_t wl, uint32_t cl)
{
	struct wbuf b = { .be = w->be };
	w32(&b, wl);
	for (uint32_t i = 0; i < cl; i++)
		w8(&b, 0x55);
	ng_block(w, 3, &b);
}

static void ng_pb(struct wbuf *w, uint16_t ifid, uint64_t ts, uint32_t cl)
{
	struct wbuf b = { .be = w->be };
	w16(&b, ifid);
	w16(&b, 0);
	w32(&b, (uint32_t)(ts >> 32));
	w32(&b, (uint32_t)ts);
	w32(&b, cl);
	w32(&b, cl);
	for (uint32_t i = 0; i < cl; i++)
		w8(&b, 0x66);
	ng_block(w, 2, &b);
}

/*
 * Two sections, the first big-endian with a 2^-20 s interface, an SPB,
 * an obsolete PB and a block we skip (ISB); the second little-endian with
 * fresh interface ids.
 */
Test(capture, pcapng_sections_block_kinds_resolutions)
{
	struct wbuf w = { .be = true };
	struct gcp_packet p[16];
	struct wbuf junk = { .be = true };

	ng_shb(&w);
	ng_idb(&w, 1, 12, 0x80 | 20);     /* if 0: 2^-20 s, snaplen 12 */
	ng_idb(&w, 101, 0, 3);            /* if 1: ms */
	ng_epb(&w, 0, (5ull << 20) | (1u << 19), 8, 8); /* 5.5 s */
	ng_spb(&w, 100, 12);              /* 12 of 100 captured (snaplen) */
	w32(&junk, 0);
	w32(&junk, 0);
	w32(&junk, 0);
	ng_block(&w, 5, &junk);           /* Interface Statistics: skipped */
	ng_pb(&w, 1, 1234567, 6);         /* 1234.567 s */
	w.be = false;
	ng_shb(&w);
	ng_idb(&w, 113, 0, -1);           /* default µs */
	ng_epb(&w, 0, 1500000, 4, 60);    /* 1.5 s */
	ng_spb(&w, 3, 4);                 /* padding beyond wire length */

	struct gcp_capture *cap = open_buf(&w);
	cr_assert_eq(gcp_capture_rx_burst(cap, p, 16), 5);
	cr_assert_eq(p[0].ts_ns, 5500000000ull);
	cr_assert_eq(p[0].linktype, 1);
	cr_assert_eq(p[0].caplen, 8);
	cr_assert_eq(p[0].data[7], 0x47);
	cr_assert_eq(p[1].caplen, 12);
	cr_assert_eq(p[1].wirelen, 100);
	cr_assert_eq(p[1].linktype, 1, "SPB uses interface 0");
	cr_assert_eq(p[2].ts_ns, 1234567000000ull);
	cr_assert_eq(p[2].linktype, 101);
	cr_assert_eq(p[3].ts_ns, 1500000000ull);
	cr_assert_eq(p[3].linktype, 113);
	cr_assert_eq(p[3].wirelen, 60);
	cr_assert_eq(p[4].caplen, 3);
	cr_assert_eq(gcp_capture_rx_burst(cap, p, 16), 0);
	gcp_capture_close(cap);

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "tshark -r %s 2>/dev/null | wc -l", tmp_path);
	cr_assert_eq(cmd_number(cmd), 5, "tshark count differs");
	unlink(tmp_path);
}

Test(capture, pcapng_fine_resolutions)
{
	struct wbuf w = { .be = false };
	struct gcp_packet p[4];

	ng_shb(&w);
	ng_idb(&w, 1, 0, 12);         /* ps */
	ng_idb(&w, 1, 0, 0x80 | 40);  /* 2^-40 s */
	ng_epb(&w, 0, 1234567890123456ull, 1, 1);  /* 1234.567890123456 s */
	ng_epb(&w, 1, (7ull << 40) | (1ull << 39) | (1ull << 38), 1, 1); /* 7.75 s */
	struct gcp_capture *cap = open_buf(&w);
	cr_assert_eq(gcp_capture_rx_burst(cap, p, 4), 2);
	cr_assert_eq(p[0].ts_ns, 1234567890123ull);
	cr_assert_eq(p[1].ts_ns, 7750000000ull);
	gcp_capture_close(cap);
	unlink(tmp_path);
}

Test(capture, pcapng_corrupt_blocks)
{
	struct wbuf w = { .be = false };
	struct gcp_packet p[4];
	struct gcp_capture *cap;

	/* SPB whose block is shorter than the packet it claims (snaplen 0) */
	ng_shb(&w);
	ng_idb(&w, 1, 0, -1);
	ng_spb(&w, 100, 12);
	cap = open_buf(&w);
	cr_assert_eq(gcp_capture_rx_burst(cap, p, 4), GCP_ERR_FORMAT);
	gcp_capture_close(cap);
	unlink(tmp_path);

	/* EPB referring to an interface that was never described */
	w.n = 0;
	ng_shb(&w);
	ng_idb(&w, 1, 0, -1);
	ng_epb(&w, 0, 1, 4, 4);
	ng_epb(&w, 3, 1, 4, 4);
	cap = open_buf(&w);
	cr_assert_eq(gcp_capture_rx_burst(cap, p, 4), 1);
	cr_assert_eq(gcp_capture_rx_burst(cap, p, 4), GCP_ERR_FORMAT);
	cr_assert(strstr(gcp_capture_error(cap), "undefined interface 3"), "%s",
		  gcp_capture_error(cap));
	gcp_capture_close(cap);
	unlink(tmp_path);

	/* bad byte-order magic in the first section: fails at open */
	w.n = 0;
	ng_shb(&w);
	w.b[8] ^= 0xff;
	write_tmp(w.b, w.n);
	cr_assert_eq(gcp_capture_open_file(tmp_path, &cap), GCP_ERR_FORMAT);
	cr_assert(strstr(gcp_capture_error(NULL), "byte-order magic"));
	unlink(tmp_path);

	/* trailing length that disagrees with the leading one */
	w.n = 0;
	ng_shb(&w);
	ng_idb(&w, 1, 0, -1);
	w.b[w.n - 4] = 0x40;
	cap = open_buf(&w);
	cr_assert_eq(gcp_capture_rx_burst(cap, p, 4), GCP_ERR_FORMAT);
	cr_assert(strstr(gcp_capture_error(cap), "trailing length"));
	gcp_capture_close(cap);
	unlink(tmp_path);
}

Test(capture, stats_respects_caller_size)
{
	struct gcp_capture *cap;
	struct gcp_packet p[BURST];
	int last;

	open_ok(GCP_CORPUS_DIR "/tcp/zeek-tcp-fast-open.pcap", &cap);
	long n = count_packets(cap, &last);
	struct gcp_capture_stats st = { .sz = sizeof(size_t) + sizeof(uint64_t), .bytes = 77 };
	cr_assert_eq(gcp_capture_stats(cap, &st), 0);
	cr_assert_eq(st.pkts, (uint64_t)n);
	cr_assert_eq(st.bytes, 77, "field beyond the caller's sz untouched");
	st.sz = 0;
	cr_assert_eq(gcp_capture_stats(cap, &st), GCP_ERR_INVAL);
	cr_assert_eq(gcp_capture_rx_burst(cap, p, 0), 0);
	cr_assert_eq(gcp_capture_rx_burst(NULL, p, 1), GCP_ERR_INVAL);
	gcp_capture_close(cap);
}
