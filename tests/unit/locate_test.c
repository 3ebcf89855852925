/* SPDX-License-Identifier: BSD-3-Clause */
/* gcp_locate_outer_ip (lib/src/locate.c): every link type, tag stacks,
 * frames cut short, and agreement with gcp_decode() on corpus captures. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "decode.h"
#include "locate.h"

static const uint8_t ip4[20] = { 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0,
				 10, 0, 0, 1, 10, 0, 0, 2 };

static uint8_t ip6[40] = { 0x60, 0, 0, 0, 0, 0, 17, 64 };

static void ip6_init(void)
{
	for (int i = 0; i < 16; i++) {
		ip6[8 + i] = (uint8_t)(0x20 + i);  /* src */
		ip6[24 + i] = (uint8_t)(0x40 + i); /* dst */
	}
}

/* A frame of link header hdr (n bytes) and then the IP header ip (m bytes). */
static size_t frame(uint8_t *buf, const uint8_t *hdr, size_t n, const uint8_t *ip, size_t m)
{
	memcpy(buf, hdr, n);
	memcpy(buf + n, ip, m);
	return n + m;
}

static int locate(int link, const uint8_t *buf, size_t len, struct gcp_ip_pair *ip)
{
	struct gcp_packet p = { buf, (uint32_t)len, (uint32_t)len, 0, link };

	return gcp_locate_outer_ip(&p, ip);
}

static void is_v4_at(const struct gcp_ip_pair *ip, const uint8_t *iphdr)
{
	cr_assert_eq(ip->alen, 4);
	cr_assert_eq(ip->src, iphdr + 12);
	cr_assert_eq(ip->dst, iphdr + 16);
}

static void is_v6_at(const struct gcp_ip_pair *ip, const uint8_t *iphdr)
{
	cr_assert_eq(ip->alen, 16);
	cr_assert_eq(ip->src, iphdr + 8);
	cr_assert_eq(ip->dst, iphdr + 24);
}

Test(locate, ethernet_and_tag_stacks)
{
	uint8_t eth[14 + 12] = { [12] = 0x08, [13] = 0x00 };
	uint8_t buf[128];
	struct gcp_ip_pair ip;
	size_t n = frame(buf, eth, 14, ip4, sizeof(ip4));

	cr_assert_eq(locate(GCP_LINK_ETHERNET, buf, n, &ip), 0);
	is_v4_at(&ip, buf + 14);
	/* 802.1ad, 802.1Q and the old 0x9100: three tags, then IPv6 */
	static const uint8_t tags[] = { 0x88, 0xa8, 0, 100, 0x81, 0x00, 0, 200,
					0x91, 0x00, 0, 7, 0x86, 0xdd };
	memcpy(eth + 12, tags, sizeof(tags));
	ip6_init();
	n = frame(buf, eth, 12 + sizeof(tags), ip6, sizeof(ip6));
	cr_assert_eq(locate(GCP_LINK_ETHERNET, buf, n, &ip), 0);
	is_v6_at(&ip, buf + 12 + sizeof(tags));
}

/* A link header, then the IP header: the pair is found right after the header. */
struct hdr_case {
	int link;
	uint8_t hdr[20];
	size_t n;
	bool v6;
};

Test(locate, cooked_raw_and_loopback)
{
	static const struct hdr_case cases[] = {
		{ GCP_LINK_LINUX_SLL, { [14] = 0x08, [15] = 0x00 }, 16, false },
		{ GCP_LINK_LINUX_SLL2, { [0] = 0x86, [1] = 0xdd }, 20, true },
		{ GCP_LINK_NULL, { 2, 0, 0, 0 }, 4, false },
		{ GCP_LINK_LOOP, { 0, 0, 0, 30 }, 4, true },
		{ GCP_LINK_RAW, { 0 }, 0, false },   { GCP_LINK_RAW, { 0 }, 0, true },
		{ GCP_LINK_IPV4, { 0 }, 0, false },  { GCP_LINK_IPV4, { 0 }, 0, true },
		{ GCP_LINK_IPV6, { 0 }, 0, false },  { GCP_LINK_IPV6, { 0 }, 0, true },
	};
	uint8_t buf[128];
	struct gcp_ip_pair ip;

	ip6_init();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hdr_case *c = &cases[i];
		size_t n = c->v6 ? frame(buf, c->hdr, c->n, ip6, sizeof(ip6)) :
				   frame(buf, c->hdr, c->n, ip4, sizeof(ip4));

		cr_assert_eq(locate(c->link, buf, n, &ip), 0, "case %zu", i);
		if (c->v6)
			is_v6_at(&ip, buf + c->n);
		else
			is_v4_at(&ip, buf + c->n);
	}
}

/* Every prefix of a valid frame shorter than its IP header has no pair. */
static void short_frames_fail(int link, const uint8_t *buf, size_t full)
{
	struct gcp_ip_pair ip;

	cr_assert_eq(locate(link, buf, full, &ip), 0);
	for (size_t len = 0; len < full; len++)
		cr_assert_eq(locate(link, buf, len, &ip), -1, "link %d, %zu of %zu bytes", link,
			     len, full);
}

Test(locate, cut_short)
{
	uint8_t eth[18] = { [12] = 0x81, [13] = 0x00, [16] = 0x08, [17] = 0x00 };
	uint8_t sll2[20] = { [0] = 0x08, [1] = 0x00 };
	uint8_t null[4] = { 0, 0, 0, 2 };
	uint8_t buf[128];

	ip6_init();
	short_frames_fail(GCP_LINK_ETHERNET, buf, frame(buf, eth, sizeof(eth), ip4, sizeof(ip4)));
	short_frames_fail(GCP_LINK_LINUX_SLL2, buf, frame(buf, sll2, sizeof(sll2), ip4, sizeof(ip4)));
	short_frames_fail(GCP_LINK_LOOP, buf, frame(buf, null, sizeof(null), ip6, sizeof(ip6)));
	short_frames_fail(GCP_LINK_RAW, ip6, sizeof(ip6));
}

Test(locate, not_ip)
{
	uint8_t arp[14 + 28] = { [12] = 0x08, [13] = 0x06 };
	uint8_t v6_as_v4[14 + 40] = { [12] = 0x08, [13] = 0x00 };
	uint8_t bad_raw[20] = { 0x55 };
	struct gcp_ip_pair ip;

	ip6_init();
	memcpy(v6_as_v4 + 14, ip6, sizeof(ip6)); /* EtherType and version disagree */
	cr_assert_eq(locate(GCP_LINK_ETHERNET, arp, sizeof(arp), &ip), -1);
	cr_assert_eq(locate(GCP_LINK_ETHERNET, v6_as_v4, sizeof(v6_as_v4), &ip), -1);
	cr_assert_eq(locate(GCP_LINK_RAW, bad_raw, sizeof(bad_raw), &ip), -1);
	cr_assert_eq(locate(147 /* DLT_USER0 */, ip4, sizeof(ip4), &ip), -1);
}

/*
 * Wherever the decoder finds an IP packet outside any tunnel, its
 * addresses are the outer pair the locator finds in the same frame.
 */
static unsigned agree_with_decode(const char *name)
{
	char path[512];
	struct gcp_capture *cap;
	struct gcp_decoder dec;
	struct gcp_decode_limits lim = { 64, 30 };
	struct gcp_packet pkts[64];
	unsigned checked = 0;
	int n;

	snprintf(path, sizeof(path), "%s/%s", GCP_CORPUS_DIR, name);
	cr_assert_eq(gcp_capture_open_file(path, &cap), 0, "%s: %s", path, gcp_capture_error(NULL));
	cr_assert_eq(gcp_decoder_init(&dec, &lim), 0);
	while ((n = gcp_capture_rx_burst(cap, pkts, 64)) > 0) {
		for (int i = 0; i < n; i++) {
			struct gcp_pkt pk;
			struct gcp_ip_pair ip;
			int found = gcp_locate_outer_ip(&pkts[i], &ip);

			if (gcp_decode(&dec, &pkts[i], &pk) != GCP_DEC_OK || pk.tunnel != GCP_TUN_NONE)
				continue;
			cr_assert_eq(found, 0, "%s: frame not located", name);
			cr_assert_eq(ip.alen, pk.ip_version == 4 ? 4 : 16, "%s", name);
			cr_assert_arr_eq(ip.src, pk.src.b, ip.alen, "%s: source differs", name);
			cr_assert_arr_eq(ip.dst, pk.dst.b, ip.alen, "%s: destination differs", name);
			checked++;
		}
	}
	gcp_decoder_fini(&dec);
	gcp_capture_close(cap);
	return checked;
}

Test(locate, agrees_with_decode_on_corpus)
{
	/* Ethernet, VLAN, QinQ, IPv6, fragments, Linux cooked, BSD null, raw IPv4 */
	static const char *const files[] = {
		"http/zeek-http-methods.pcap",       "dns/zeek-dns-notify-vlan.pcap",
		"encap/zeek-qinq-vlan0-http.pcap",   "encap/zeek-vlan-qinqinq-http.pcap",
		"ipv6/arkime-ipv6-http.pcap",        "frag/ndpi-dns-fragmented-v4-v6.pcap",
		"frag/zeek-ipv6-fragmented-dns.pcap", "tcp/tcpdump-tcp-handshake-nanosec.pcap",
		"mail/zeek-pop3-stls.pcap",          "malformed/zeek-http-chunk-2pow64-overflow.pcap",
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		cr_assert_gt(agree_with_decode(files[i]), 0, "%s: no packet compared", files[i]);
}
