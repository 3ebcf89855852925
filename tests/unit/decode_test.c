/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for the packet decoder (decode.c): crafted frames and the corpus. */

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode.h"

/* ---- frame builder ------------------------------------------------------ */

struct fb {
	uint8_t b[4096];
	uint32_t n;
};

static void put(struct fb *f, const void *p, uint32_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void u8(struct fb *f, uint8_t v)
{
	f->b[f->n++] = v;
}

static void u16(struct fb *f, uint16_t v)
{
	u8(f, (uint8_t)(v >> 8));
	u8(f, (uint8_t)v);
}

static void u32(struct fb *f, uint32_t v)
{
	u16(f, (uint16_t)(v >> 16));
	u16(f, (uint16_t)v);
}

static void fill(struct fb *f, uint8_t v, uint32_t n)
{
	memset(f->b + f->n, v, n);
	f->n += n;
}

static void set16(struct fb *f, uint32_t at, uint32_t v)
{
	f->b[at] = (uint8_t)(v >> 8);
	f->b[at + 1] = (uint8_t)v;
}

static void eth(struct fb *f, uint16_t type)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };

	put(f, macs, 12);
	u16(f, type);
}

static void tag(struct fb *f, uint16_t tci, uint16_t type)
{
	u16(f, tci);
	u16(f, type);
}

/* IPv4 header with ihl_words 32-bit words (options are NOPs). */
static uint32_t ip4x(struct fb *f, uint8_t proto, uint32_t src, uint32_t dst, unsigned ihl)
{
	uint32_t at = f->n;

	u8(f, (uint8_t)(0x40 | ihl));
	u8(f, 0);
	u16(f, 0);          /* total length, set by ip4_done */
	u16(f, 0x1234);     /* id */
	u16(f, 0x4000);     /* DF */
	u8(f, 64);
	u8(f, proto);
	u16(f, 0);
	u32(f, src);
	u32(f, dst);
	fill(f, 1, (ihl - 5) * 4);
	return at;
}

static uint32_t ip4(struct fb *f, uint8_t proto, uint32_t src, uint32_t dst)
{
	return ip4x(f, proto, src, dst, 5);
}

static void ip4_done(struct fb *f, uint32_t at)
{
	set16(f, at + 2, f->n - at);
}

/* IPv6 header, addresses 2001:db8::s and 2001:db8::d. */
static uint32_t ip6(struct fb *f, uint8_t nh, uint8_t s, uint8_t d)
{
	uint32_t at = f->n;

	u32(f, 0x60000000);
	u16(f, 0);
	u8(f, nh);
	u8(f, 64);
	u16(f, 0x2001);
	u16(f, 0x0db8);
	fill(f, 0, 11);
	u8(f, s);
	u16(f, 0x2001);
	u16(f, 0x0db8);
	fill(f, 0, 11);
	u8(f, d);
	return at;
}

static void ip6_done(struct fb *f, uint32_t at)
{
	set16(f, at + 4, f->n - at - 40);
}

static void tcp(struct fb *f, uint16_t sport, uint16_t dport, uint8_t flags)
{
	u16(f, sport);
	u16(f, dport);
	u32(f, 1000);
	u32(f, 2000);
	u8(f, 5 << 4);
	u8(f, flags);
	u16(f, 512);
	u16(f, 0);
	u16(f, 0);
}

static uint32_t udp(struct fb *f, uint16_t sport, uint16_t dport)
{
	uint32_t at = f->n;

	u16(f, sport);
	u16(f, dport);
	u16(f, 0);
	u16(f, 0);
	return at;
}

static void udp_done(struct fb *f, uint32_t at)
{
	set16(f, at + 4, f->n - at);
}

/* Ethernet / IPv4 10.0.0.1 -> 10.0.0.2 / TCP 1234 -> 80 / "hello". */
static void simple_tcp4(struct fb *f)
{
	uint32_t ip = ip4(f, 6, 0x0a000001, 0x0a000002);

	tcp(f, 1234, 80, GCP_TH_SYN | GCP_TH_ACK);
	put(f, "hello", 5);
	ip4_done(f, ip);
}

/* ---- decoding helpers --------------------------------------------------- */

static struct gcp_decoder dec;
static uint8_t *frame; /* exact-size copy so ASan sees over-reads */

static void setup(void)
{
	struct gcp_decode_limits lim = { .max_datagrams = 16, .timeout_s = 30 };

	cr_assert_eq(gcp_decoder_init(&dec, &lim), 0);
}

static void teardown(void)
{
	gcp_decoder_fini(&dec);
	free(frame);
	frame = NULL;
}

TestSuite(decode, .init = setup, .fini = teardown);

static int run_n(const uint8_t *b, uint32_t n, int link, struct gcp_pkt *p)
{
	struct gcp_packet in = { 0 };

	free(frame);
	frame = malloc(n ? n : 1);
	cr_assert_not_null(frame);
	memcpy(frame, b, n);
	in.data = frame;
	in.caplen = n;
	in.wirelen = n;
	in.ts_ns = 1000000000ull;
	in.linktype = link;
	return gcp_decode(&dec, &in, p);
}

static int run(struct fb *f, int link, struct gcp_pkt *p)
{
	return run_n(f->b, f->n, link, p);
}

static void assert_tcp4(const struct gcp_pkt *p)
{
	cr_assert_eq(p->ip_version, 4);
	cr_assert_eq(p->l4proto, 6);
	cr_assert_eq(p->src.b[0], 10);
	cr_assert_eq(p->src.b[3], 1);
	cr_assert_eq(p->dst.b[3], 2);
	cr_assert_eq(p->sport, 1234);
	cr_assert_eq(p->dport, 80);
	cr_assert_eq(p->payload_len, 5);
	cr_assert_eq(memcmp(p->payload, "hello", 5), 0);
}

/* ---- link types ---------------------------------------------------------- */

Test(decode, ethernet_ipv4_tcp)
{
	struct fb f = { 0 };
	struct gcp_pkt p;
	char buf[64];

	eth(&f, 0x0800);
	simple_tcp4(&f);
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	assert_tcp4(&p);
	cr_assert_eq(p.tcp_flags, GCP_TH_SYN | GCP_TH_ACK);
	cr_assert_eq(p.tcp_seq, 1000);
	cr_assert_eq(p.tcp_ack, 2000);
	cr_assert_eq(p.tcp_win, 512);
	cr_assert_eq(p.ip_len, 45);
	cr_assert_eq(p.payload_wire_len, 5);
	cr_assert_eq(p.flags, 0);
	cr_assert_eq(p.tunnel, GCP_TUN_NONE);
	cr_assert_eq(p.nvlan, 0);
	cr_assert_eq(p.wire_len, f.n);
	cr_assert_eq(p.ts_ns, 1000000000ull);
	cr_assert_str_eq(gcp_addr_str(&p.src, 4, buf, sizeof(buf)), "10.0.0.1");
}

Test(decode, ethernet_padding_trimmed)
{
	struct fb f = { 0 };
	struct gcp_pkt p;
	uint32_t ip;

	eth(&f, 0x0800);
	ip = ip4(&f, 6, 0x0a000001, 0x0a000002);
	tcp(&f, 1234, 80, GCP_TH_ACK);
	ip4_done(&f, ip);
	fill(&f, 0, 6); /* 60-byte minimum frame */
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	cr_assert_eq(p.payload_len, 0);
	cr_assert_eq(p.payload_wire_len, 0);
	cr_assert_eq(p.ip_len, 40);
}

Test(decode, ipv4_options)
{
	struct fb f = { 0 };
	struct gcp_pkt p;
	uint32_t ip;

	eth(&f, 0x0800);
	ip = ip4x(&f, 6, 0x0a000001, 0x0a000002, 7);
	tcp(&f, 1234, 80, 0);
	put(&f, "hello", 5);
	ip4_done(&f, ip);
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	assert_tcp4(&p);
	cr_assert_eq(p.ip_len, 53);
}

Test(decode, bsd_null_both_orders)
{
	struct fb le = { 0 }, be = { 0 }, v6 = { 0 };
	struct gcp_pkt p;
	uint32_t ip;

	u32(&le, 0x02000000); /* AF_INET written little-endian */
	simple_tcp4(&le);
	cr_assert_eq(run(&le, GCP_LINK_NULL, &p), GCP_DEC_OK);
	assert_tcp4(&p);
	u32(&be, 2);
	simple_tcp4(&be);
	cr_assert_eq(run(&be, GCP_LINK_NULL, &p), GCP_DEC_OK);
	assert_tcp4(&p);
	u32(&v6, 0x1e000000); /* AF_INET6 = 30 (macOS), little-endian */
	ip = ip6(&v6, 17, 1, 2);
	udp_done(&v6, udp(&v6, 5353, 53));
	ip6_done(&v6, ip);
	cr_assert_eq(run(&v6, GCP_LINK_NULL, &p), GCP_DEC_OK);
	cr_assert_eq(p.ip_version, 6);
	cr_assert_eq(p.dport, 53);
}

Test(decode, openbsd_loop)
{
	struct fb f = { 0 };
	struct gcp_pkt p;
	uint32_t ip;

	u32(&f, 24); /* AF_INET6 on OpenBSD, network order */
	ip = ip6(&f, 6, 1, 2);
	tcp(&f, 1234, 80, GCP_TH_SYN);
	ip6_done(&f, ip);
	cr_assert_eq(run(&f, GCP_LINK_LOOP, &p), GCP_DEC_OK);
	cr_assert_eq(p.ip_version, 6);
	cr_assert_eq(p.ip_len, 60);
	cr_assert_eq(p.src.b[15], 1);
	cr_assert_eq(p.dst.b[15], 2);
	cr_assert_eq(p.dst.b[0], 0x20);
}

Test(decode, raw_link_types)
{
	static const int links[] = { GCP_LINK_RAW, GCP_LINK_IPV4, 12, 14 };
	struct fb f = { 0 }, f6 = { 0 };
	struct gcp_pkt p;
	uint32_t ip;
	size_t i;

	simple_tcp4(&f);
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		cr_assert_eq(run(&f, links[i], &p), GCP_DEC_OK);
		assert_tcp4(&p);
	}
	ip = ip6(&f6, 58, 1, 2);
	u32(&f6, 0x80000000); /* ICMPv6 echo request */
	ip6_done(&f6, ip);
	cr_assert_eq(run(&f6, GCP_LINK_IPV6, &p), GCP_DEC_OK);
	cr_assert_eq(p.l4proto, 58);
	cr_assert_eq(p.sport, 0);
	cr_assert_eq(p.payload_len, 4);
	cr_assert_eq(run(&f6, GCP_LINK_RAW, &p), GCP_DEC_OK);
}

Test(decode, linux_sll_and_sll2)
{
	struct fb f = { 0 }, g = { 0 };
	struct gcp_pkt p;

	u16(&f, 0);        /* packet type */
	u16(&f, 1);        /* ARPHRD_ETHER */
	u16(&f, 6);
	fill(&f, 0xaa, 8);
	u16(&f, 0x0800);
	simple_tcp4(&f);
	cr_assert_eq(run(&f, GCP_LINK_LINUX_SLL, &p), GCP_DEC_OK);
	assert_tcp4(&p);

	u16(&g, 0x8100);   /* SLL2 with a VLAN tag left in the payload */
	u16(&g, 0);
	u32(&g, 3);        /* ifindex */
	u16(&g, 1);
	u8(&g, 0);
	u8(&g, 6);
	fill(&g, 0xaa, 8);
	tag(&g, 42, 0x0800);
	simple_tcp4(&g);
	cr_assert_eq(run(&g, GCP_LINK_LINUX_SLL2, &p), GCP_DEC_OK);
	assert_tcp4(&p);
	cr_assert_eq(p.nvlan, 1);
	cr_assert_eq(p.vlan[0], 42);
}

Test(decode, unsupported_link)
{
	struct fb f = { 0 };
	struct gcp_pkt p;

	simple_tcp4(&f);
	cr_assert_eq(run(&f, 105 /* 802.11 */, &p), GCP_DEC_SKIP);
	cr_assert_eq(dec.st.unsupported_link, 1);
}

/* ---- Ethernet: VLAN, MPLS, non-IP ---------------------------------------- */

Test(decode, vlan_depth_3)
{
	struct fb f = { 0 };
	struct gcp_pkt p;

	eth(&f, 0x8100);
	tag(&f, 0x2000 | 100, 0x8100); /* PCP bits are masked off */
	tag(&f, 200, 0x8100);
	tag(&f, 300, 0x0800);
	simple_tcp4(&f);
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	assert_tcp4(&p);
	cr_assert_eq(p.nvlan, 3);
	cr_assert_eq(p.vlan[0], 100);
	cr_assert_eq(p.vlan[1], 200);
	cr_assert_eq(p.vlan[2], 300);
}

Test(decode, qinq_8021ad_and_extra_tags)
{
	struct fb f = { 0 }, g = { 0 };
	struct gcp_pkt p;
	uint16_t i;

	eth(&f, 0x88a8);
	tag(&f, 10, 0x8100);
	tag(&f, 20, 0x0800);
	simple_tcp4(&f);
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	cr_assert_eq(p.nvlan, 2);
	cr_assert_eq(p.vlan[0], 10);
	cr_assert_eq(p.vlan[1], 20);

	eth(&g, 0x9100);
	for (i = 1; i < 6; i++)
		tag(&g, i, i < 5 ? 0x8100 : 0x0800);
	simple_tcp4(&g);
	cr_assert_eq(run(&g, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	assert_tcp4(&p);
	cr_assert_eq(p.nvlan, GCP_MAX_VLAN, "tags past GCP_MAX_VLAN skipped");
	cr_assert_eq(p.vlan[3], 4);
}

Test(decode, mpls_stack)
{
	struct fb f = { 0 };
	struct gcp_pkt p;

	eth(&f, 0x8100);
	tag(&f, 7, 0x8847);
	u32(&f, 1000u << 12 | 64);        /* label 1000 */
	u32(&f, 2000u << 12 | 0x100 | 64); /* label 2000, bottom of stack */
	simple_tcp4(&f);
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	assert_tcp4(&p);
	cr_assert_eq(p.tunnel, GCP_TUN_MPLS);
	cr_assert_eq(p.vlan[0], 7);
	cr_assert_eq(dec.st.tunnels, 1);
}

Test(decode, mpls_pseudowire_ethernet)
{
	struct fb f = { 0 };
	struct gcp_pkt p;
	uint32_t ip;

	eth(&f, 0x8847);
	u32(&f, 16u << 12 | 0x100 | 64);
	u32(&f, 0);                       /* RFC 4385 control word */
	eth(&f, 0x86dd);
	ip = ip6(&f, 6, 1, 2);
	tcp(&f, 1, 2, 0);
	ip6_done(&f, ip);
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	cr_assert_eq(p.ip_version, 6);
	cr_assert_eq(p.sport, 1);
}

Test(decode, arp_and_llc_skipped)
{
	struct fb f = { 0 }, g = { 0 };
	struct gcp_pkt p;

	eth(&f, 0x0806);
	fill(&f, 0, 28);
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_SKIP);
	eth(&g, 46); /* 802.3 length field */
	fill(&g, 0x42, 46);
	cr_assert_eq(run(&g, GCP_LINK_ETHERNET, &p), GCP_DEC_SKIP);
	cr_assert_eq(dec.st.non_ip, 2);
	cr_assert_eq(dec.st.errors, 0);
}

Test(decode, pppoe_session)
{
	struct fb f = { 0 };
	struct gcp_pkt p;

	eth(&f, 0x8864);
	u8(&f, 0x11);
	u8(&f, 0);
	u16(&f, 1);
	u16(&f, 47);
	u16(&f, 0x0021);
	simple_tcp4(&f);
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	assert_tcp4(&p);
}

/* ---- IPv6 extension headers ------------------------------------------------ */

Test(decode, ipv6_extension_chain)
{
	struct fb f = { 0 };
	struct gcp_pkt p;
	uint32_t ip;

	eth(&f, 0x86dd);
	ip = ip6(&f, 0, 1, 2);
	u8(&f, 43);                     /* hop-by-hop, 8 bytes */
	u8(&f, 0);
	fill(&f, 1, 6);
	u8(&f, 60);                     /* routing type 0, one address */
	u8(&f, 2);
	u8(&f, 0);
	u8(&f, 1);
	u32(&f, 0);
	u16(&f, 0x2001);
	u16(&f, 0x0db8);
	fill(&f, 0, 11);
	u8(&f, 9);
	u8(&f, 51);                     /* destination options, 16 bytes */
	u8(&f, 1);
	fill(&f, 1, 14);
	u8(&f, 6);                      /* AH with 12 bytes of ICV: 24 bytes */
	u8(&f, 4);
	fill(&f, 0, 22);
	tcp(&f, 1234, 80, GCP_TH_FIN);
	put(&f, "hello", 5);
	ip6_done(&f, ip);
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	cr_assert_eq(p.l4proto, 6);
	cr_assert_eq(p.sport, 1234);
	cr_assert_eq(p.payload_len, 5);
	cr_assert_eq(p.ip_len, f.n - 14);
	cr_assert_eq(p.dst.b[15], 9, "final destination of the type 0 routing header");
}

Test(decode, ipv6_esp_and_no_next)
{
	struct fb f = { 0 }, g = { 0 };
	struct gcp_pkt p;
	uint32_t ip;

	ip = ip6(&f, 60, 1, 2);
	u8(&f, 50);
	u8(&f, 0);
	fill(&f, 0, 6);
	fill(&f, 0x55, 32);             /* ESP: opaque */
	ip6_done(&f, ip);
	cr_assert_eq(run(&f, GCP_LINK_RAW, &p), GCP_DEC_OK);
	cr_assert_eq(p.l4proto, 50);
	cr_assert_eq(p.payload_len, 32);
	ip = ip6(&g, 59, 1, 2);
	ip6_done(&g, ip);
	cr_assert_eq(run(&g, GCP_LINK_RAW, &p), GCP_DEC_OK);
	cr_assert_eq(p.l4proto, 59);
	cr_assert_eq(p.payload_len, 0);
}

Test(decode, ipv6_atomic_fragment)
{
	struct fb f = { 0 };
	struct gcp_pkt p;
	uint32_t ip;

	ip = ip6(&f, 44, 1, 2);
	u8(&f, 6);
	u8(&f, 0);
	u16(&f, 0);                     /* offset 0, M = 0 */
	u32(&f, 0xabcd);
	tcp(&f, 1234, 80, 0);
	ip6_done(&f, ip);
	cr_assert_eq(run(&f, GCP_LINK_RAW, &p), GCP_DEC_OK);
	cr_assert_eq(p.l4proto, 6);
	cr_assert_eq(p.dport, 80);
	cr_assert_eq(p.flags & GCP_PKT_REASSEMBLED, 0);
	cr_assert_eq(dec.st.frags, 0);
}

/* ---- fragments through the decoder ------------------------------------------ */

static void frag4(struct fb *f, uint16_t fo, const uint8_t *data, uint32_t len)
{
	uint32_t ip;

	eth(f, 0x0800);
	ip = ip4(f, 17, 0x0a000001, 0x0a000002);
	set16(f, ip + 6, fo);
	put(f, data, len);
	ip4_done(f, ip);
}

Test(decode, ipv4_fragments)
{
	uint8_t dgram[8 + 100];
	struct fb a = { 0 }, b = { 0 };
	struct gcp_pkt p;

	memset(dgram, 'x', sizeof(dgram));
	dgram[0] = 0x04;                /* UDP 1234 -> 53, length 108 */
	dgram[1] = 0xd2;
	dgram[2] = 0;
	dgram[3] = 53;
	dgram[4] = 0;
	dgram[5] = sizeof(dgram);
	frag4(&a, 0x2000, dgram, 56);   /* MF, offset 0 */
	frag4(&b, 7, dgram + 56, 52);   /* offset 56 */
	cr_assert_eq(run(&b, GCP_LINK_ETHERNET, &p), GCP_DEC_HELD);
	cr_assert_eq(run(&a, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	cr_assert_eq(p.flags & GCP_PKT_REASSEMBLED, GCP_PKT_REASSEMBLED);
	cr_assert_eq(p.l4proto, 17);
	cr_assert_eq(p.sport, 1234);
	cr_assert_eq(p.dport, 53);
	cr_assert_eq(p.payload_len, 100);
	cr_assert_eq(p.ip_len, 20 + sizeof(dgram));
	cr_assert_eq(dec.st.frags, 2);
	cr_assert_eq(dec.st.frags_reassembled, 1);
}

Test(decode, ipv4_snapped_fragment_dropped)
{
	uint8_t data[64] = { 0 };
	struct fb a = { 0 };
	struct gcp_pkt p;

	frag4(&a, 0x2000, data, 64);
	cr_assert_eq(run_n(a.b, a.n - 10, GCP_LINK_ETHERNET, &p), GCP_DEC_ERROR);
	cr_assert_eq(dec.st.frags_dropped, 1);
	cr_assert_eq(dec.st.truncated, 1);
}

static void frag6(struct fb *f, uint16_t fo, const uint8_t *data, uint32_t len)
{
	uint32_t ip = ip6(f, 0, 1, 2);

	u8(f, 44);                      /* hop-by-hop before (unfragmentable) */
	u8(f, 0);
	fill(f, 1, 6);
	u8(f, 17);
	u8(f, 0);
	u16(f, fo);
	u32(f, 0x01020304);
	put(f, data, len);
	ip6_done(f, ip);
}

Test(decode, ipv6_fragments_and_expiry)
{
	uint8_t dgram[8 + 40];
	struct fb a = { 0 }, b = { 0 };
	struct gcp_pkt p;

	memset(dgram, 'y', sizeof(dgram));
	memcpy(dgram, "\x00\x35\x04\xd2\x00\x30\x00\x00", 8);
	frag6(&a, 0x0001, dgram, 32);
	frag6(&b, 32, dgram + 32, 16);
	cr_assert_eq(run(&a, GCP_LINK_RAW, &p), GCP_DEC_HELD);
	cr_assert_eq(run(&b, GCP_LINK_RAW, &p), GCP_DEC_OK);
	cr_assert_eq(p.flags & GCP_PKT_REASSEMBLED, GCP_PKT_REASSEMBLED);
	cr_assert_eq(p.ip_version, 6);
	cr_assert_eq(p.sport, 53);
	cr_assert_eq(p.dport, 1234);
	cr_assert_eq(p.payload_len, 40);
	cr_assert_eq(p.ip_len, 48 + sizeof(dgram));

	cr_assert_eq(run(&a, GCP_LINK_RAW, &p), GCP_DEC_HELD);
	gcp_decoder_expire(&dec, 1000000000ull * 100);
	cr_assert_eq(dec.st.frags_dropped, 1);
}

/* ---- tunnels ------------------------------------------------------------------ */

/* Outer Ethernet (VLAN outer_vlan unless 0) / IPv4 / UDP sport -> dport. */
static void outer_udp(struct fb *f, uint16_t outer_vlan, uint16_t dport, uint32_t *ip,
		      uint32_t *u)
{
	if (outer_vlan) {
		eth(f, 0x8100);
		tag(f, outer_vlan, 0x0800);
	} else {
		eth(f, 0x0800);
	}
	*ip = ip4(f, 17, 0xc0a80001, 0xc0a80002);
	*u = udp(f, 40000, dport);
}

static void inner_eth_tcp4(struct fb *f, uint16_t inner_vlan)
{
	if (inner_vlan) {
		eth(f, 0x8100);
		tag(f, inner_vlan, 0x0800);
	} else {
		eth(f, 0x0800);
	}
	simple_tcp4(f);
}

static void vxlan_frame(struct fb *f, uint16_t outer_vlan, uint16_t inner_vlan,
			uint16_t port)
{
	uint32_t ip, u;

	outer_udp(f, outer_vlan, port, &ip, &u);
	u32(f, 0x08000000);
	u32(f, 0x12345600);
	inner_eth_tcp4(f, inner_vlan);
	udp_done(f, u);
	ip4_done(f, ip);
}

Test(decode, vxlan)
{
	struct fb f = { 0 }, g = { 0 }, h = { 0 };
	struct gcp_pkt p;

	vxlan_frame(&f, 100, 200, 4789);
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	assert_tcp4(&p);
	cr_assert_eq(p.tunnel, GCP_TUN_VXLAN);
	cr_assert_eq(p.has_vni, 1);
	cr_assert_eq(p.vni, 0x123456);
	cr_assert_eq(p.nvlan, 1, "outer VLANs win");
	cr_assert_eq(p.vlan[0], 100);

	vxlan_frame(&g, 0, 200, 8472);
	cr_assert_eq(run(&g, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	assert_tcp4(&p);
	cr_assert_eq(p.nvlan, 1, "no outer VLAN: inner kept");
	cr_assert_eq(p.vlan[0], 200);

	vxlan_frame(&h, 0, 0, 4789);
	h.b[14 + 20 + 8] = 0;           /* I flag clear: not VXLAN, plain UDP */
	cr_assert_eq(run(&h, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	cr_assert_eq(p.l4proto, 17);
	cr_assert_eq(p.dport, 4789);
	cr_assert_eq(p.tunnel, GCP_TUN_NONE);
}

/* VXLAN-GPE with next protocol Ethernet (3), and with P clear but next 0. */
Test(decode, vxlan_gpe)
{
	struct fb f = { 0 }, g = { 0 };
	struct gcp_pkt p;

	vxlan_frame(&f, 0, 0, 4790);
	f.b[14 + 20 + 8] = 0x0c;        /* I and P */
	f.b[14 + 20 + 8 + 3] = 3;       /* next protocol: Ethernet */
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	assert_tcp4(&p);
	cr_assert_eq(p.tunnel, GCP_TUN_VXLAN);
	cr_assert_eq(p.vni, 0x123456);

	vxlan_frame(&g, 0, 0, 4790);
	g.b[14 + 20 + 8 + 3] = 9;       /* unknown next protocol: plain UDP */
	cr_assert_eq(run(&g, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	cr_assert_eq(p.l4proto, 17);
	cr_assert_eq(p.tunnel, GCP_TUN_NONE);
}

static void geneve_frame(struct fb *f, uint16_t port, bool options)
{
	uint32_t ip, u;

	outer_udp(f, 0, port, &ip, &u);
	u8(f, options ? 2 : 0);         /* version 0, option length in words */
	u8(f, 0);
	u16(f, 0x6558);
	u32(f, 0x00abcd00);
	if (options) {
		u16(f, 0x0104);         /* class, type, length 1 word */
		u8(f, 0x80);
		u8(f, 1);
		u32(f, 0xdeadbeef);
	}
	inner_eth_tcp4(f, 0);
	udp_done(f, u);
	ip4_done(f, ip);
}

Test(decode, geneve)
{
	struct fb f = { 0 }, g = { 0 };
	struct gcp_pkt p;

	geneve_frame(&f, 6081, true);
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	assert_tcp4(&p);
	cr_assert_eq(p.tunnel, GCP_TUN_GENEVE);
	cr_assert_eq(p.vni, 0xabcd);

	geneve_frame(&g, 47101, false);
	cr_assert_eq(run(&g, GCP_LINK_ETHERNET, &p), GCP_DEC_OK, "found by header sanity");
	assert_tcp4(&p);
	cr_assert_eq(p.tunnel, GCP_TUN_GENEVE);
}

Test(decode, geneve_heuristic_not_fooled)
{
	static const uint8_t dns[] = {
		0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		3, 'w', 'w', 'w', 0, 0, 1, 0, 1,
	};
	struct fb f = { 0 }, g = { 0 };
	struct gcp_pkt p;
	uint32_t ip, u;

	outer_udp(&f, 0, 53, &ip, &u);
	put(&f, dns, sizeof(dns));
	udp_done(&f, u);
	ip4_done(&f, ip);
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	cr_assert_eq(p.tunnel, GCP_TUN_NONE);
	cr_assert_eq(p.payload_len, sizeof(dns));

	/* Geneve-like start but the "inner Ethernet" has no sane EtherType */
	geneve_frame(&g, 47101, false);
	g.b[14 + 20 + 8 + 8 + 12] = 0x12;
	cr_assert_eq(run(&g, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	cr_assert_eq(p.tunnel, GCP_TUN_NONE);
	cr_assert_eq(p.dport, 47101);
}

Test(decode, gre_with_all_flags)
{
	struct fb f = { 0 };
	struct gcp_pkt p;
	uint32_t ip;

	eth(&f, 0x0800);
	ip = ip4(&f, 47, 0xc0a80001, 0xc0a80002);
	u16(&f, 0xb000);                /* C, K, S */
	u16(&f, 0x0800);
	u32(&f, 0);
	u32(&f, 0x1111);
	u32(&f, 0x2222);
	simple_tcp4(&f);
	ip4_done(&f, ip);
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	assert_tcp4(&p);
	cr_assert_eq(p.tunnel, GCP_TUN_GRE);
}

Test(decode, gre_teb_and_mpls)
{
	struct fb f = { 0 }, g = { 0 };
	struct gcp_pkt p;
	uint32_t ip;

	eth(&f, 0x0800);
	ip = ip4(&f, 47, 0xc0a80001, 0xc0a80002);
	u16(&f, 0x2000);                /* key (NVGRE-like) */
	u16(&f, 0x6558);
	u32(&f, 0x00001100);
	inner_eth_tcp4(&f, 33);
	ip4_done(&f, ip);
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	assert_tcp4(&p);
	cr_assert_eq(p.tunnel, GCP_TUN_GRE);
	cr_assert_eq(p.vlan[0], 33);

	eth(&g, 0x0800);
	ip = ip4(&g, 47, 0xc0a80001, 0xc0a80002);
	u16(&g, 0);
	u16(&g, 0x8847);
	u32(&g, 5u << 12 | 0x100);
	simple_tcp4(&g);
	ip4_done(&g, ip);
	cr_assert_eq(run(&g, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	assert_tcp4(&p);
	cr_assert_eq(p.tunnel, GCP_TUN_GRE);
}

Test(decode, gre_keepalive_stays_gre)
{
	struct fb f = { 0 };
	struct gcp_pkt p;
	uint32_t ip;

	eth(&f, 0x0800);
	ip = ip4(&f, 47, 0xc0a80001, 0xc0a80002);
	u16(&f, 0);
	u16(&f, 0x880b);                /* PPP: not decapsulated */
	fill(&f, 0, 8);
	ip4_done(&f, ip);
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	cr_assert_eq(p.l4proto, 47);
	cr_assert_eq(p.payload_len, 12);
	cr_assert_eq(p.tunnel, GCP_TUN_NONE);
}

Test(decode, erspan_type2)
{
	struct fb f = { 0 };
	struct gcp_pkt p;
	uint32_t ip;

	eth(&f, 0x0800);
	ip = ip4(&f, 47, 0xc0a80001, 0xc0a80002);
	u16(&f, 0x1000);                /* S */
	u16(&f, 0x88be);
	u32(&f, 7);
	u32(&f, 0x10640001);            /* version 1, VLAN 100 */
	u32(&f, 0);
	inner_eth_tcp4(&f, 0);
	ip4_done(&f, ip);
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	assert_tcp4(&p);
	cr_assert_eq(p.tunnel, GCP_TUN_ERSPAN);
}

Test(decode, erspan_type3_with_subheader)
{
	struct fb f = { 0 };
	struct gcp_pkt p;
	uint32_t ip;

	eth(&f, 0x0800);
	ip = ip4(&f, 47, 0xc0a80001, 0xc0a80002);
	u16(&f, 0x1000);
	u16(&f, 0x22eb);
	u32(&f, 9);
	u32(&f, 0x20000001);            /* version 2 */
	u32(&f, 0x12345678);            /* timestamp */
	u16(&f, 0);                     /* SGT */
	u8(&f, 0);                      /* P, FT = 0 (Ethernet) */
	u8(&f, 0x01);                   /* O: platform sub-header follows */
	fill(&f, 0, 8);
	inner_eth_tcp4(&f, 0);
	ip4_done(&f, ip);
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	assert_tcp4(&p);
	cr_assert_eq(p.tunnel, GCP_TUN_ERSPAN);
}

Test(decode, six_in_four_and_ipip)
{
	struct fb f = { 0 }, g = { 0 }, h = { 0 };
	struct gcp_pkt p;
	uint32_t o, i;

	eth(&f, 0x0800);
	o = ip4(&f, 41, 0xc0a80001, 0xc0a80002);
	i = ip6(&f, 6, 1, 2);
	tcp(&f, 1234, 80, 0);
	ip6_done(&f, i);
	ip4_done(&f, o);
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	cr_assert_eq(p.ip_version, 6);
	cr_assert_eq(p.tunnel, GCP_TUN_IPIP);
	cr_assert_eq(p.ip_len, 60);

	eth(&g, 0x0800);
	o = ip4(&g, 4, 0xc0a80001, 0xc0a80002);
	simple_tcp4(&g);
	ip4_done(&g, o);
	cr_assert_eq(run(&g, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	assert_tcp4(&p);
	cr_assert_eq(p.tunnel, GCP_TUN_IPIP);

	o = ip6(&h, 41, 7, 8);          /* 6in6 */
	i = ip6(&h, 17, 1, 2);
	udp_done(&h, udp(&h, 1, 2));
	ip6_done(&h, i);
	ip6_done(&h, o);
	cr_assert_eq(run(&h, GCP_LINK_RAW, &p), GCP_DEC_OK);
	cr_assert_eq(p.src.b[15], 1);
	cr_assert_eq(p.l4proto, 17);
}

Test(decode, decap_depth_capped)
{
	struct fb f = { 0 };
	struct gcp_pkt p;
	uint32_t at[12];
	int k;

	for (k = 0; k < 12; k++)
		at[k] = ip4(&f, k < 11 ? 4 : 6, 0x0a000001, 0x0a000002);
	tcp(&f, 1, 2, 0);
	for (k = 11; k >= 0; k--)
		ip4_done(&f, at[k]);
	cr_assert_eq(run(&f, GCP_LINK_RAW, &p), GCP_DEC_ERROR);
	cr_assert_eq(dec.st.errors, 1);
}

static void teredo_frame(struct fb *f, bool auth, bool origin)
{
	uint32_t o, u, i;

	eth(f, 0x0800);
	o = ip4(f, 17, 0xc0a80001, 0xc0a80002);
	u = udp(f, 3544, 50000);
	if (auth) {
		u16(f, 0x0001);
		u8(f, 2);
		u8(f, 3);
		fill(f, 0x77, 2 + 3 + 8 + 1);
	}
	if (origin) {
		u16(f, 0);
		u16(f, 0x1234);
		u32(f, 0x01020304);
	}
	i = ip6(f, 6, 1, 2);
	tcp(f, 1234, 80, GCP_TH_SYN);
	ip6_done(f, i);
	udp_done(f, u);
	ip4_done(f, o);
}

Test(decode, teredo)
{
	struct fb f = { 0 }, g = { 0 }, h = { 0 };
	struct gcp_pkt p;

	teredo_frame(&f, false, false);
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	cr_assert_eq(p.tunnel, GCP_TUN_TEREDO);
	cr_assert_eq(p.ip_version, 6);
	cr_assert_eq(p.dport, 80);

	teredo_frame(&g, true, true);
	cr_assert_eq(run(&g, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	cr_assert_eq(p.tunnel, GCP_TUN_TEREDO);
	cr_assert_eq(p.sport, 1234);

	/* wrong IPv6 payload length: plain UDP on port 3544 */
	teredo_frame(&h, false, true);
	h.b[14 + 20 + 8 + 8 + 5] += 1;
	cr_assert_eq(run(&h, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	cr_assert_eq(p.tunnel, GCP_TUN_NONE);
	cr_assert_eq(p.sport, 3544);
}

/* ---- malformed and truncated ---------------------------------------------- */

Test(decode, truncated_headers)
{
	struct fb f = { 0 };
	struct gcp_pkt p;
	uint32_t n;

	eth(&f, 0x0800);
	simple_tcp4(&f);
	/* every cut inside the headers is truncation, never a crash */
	for (n = 0; n < 14 + 20 + 20; n++)
		cr_assert_eq(run_n(f.b, n, GCP_LINK_ETHERNET, &p), GCP_DEC_ERROR, "cut %u", n);
	cr_assert_eq(dec.st.truncated, 14 + 20 + 20);
	cr_assert_eq(dec.st.errors, 0);
}

Test(decode, snapped_payload_flagged)
{
	struct fb f = { 0 };
	struct gcp_pkt p;

	eth(&f, 0x0800);
	simple_tcp4(&f);
	cr_assert_eq(run_n(f.b, f.n - 3, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	cr_assert_eq(p.payload_len, 2);
	cr_assert_eq(p.payload_wire_len, 5);
	cr_assert_eq(p.flags & GCP_PKT_L4_TRUNC, GCP_PKT_L4_TRUNC);
	cr_assert_eq(p.ip_len, 45);
}

Test(decode, bogus_ipv4)
{
	struct fb f = { 0 }, g = { 0 }, h = { 0 };
	struct gcp_pkt p;

	eth(&f, 0x0800);
	simple_tcp4(&f);
	f.b[14] = 0x44;                 /* IHL 4 < 5 */
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_ERROR);
	eth(&g, 0x0800);
	simple_tcp4(&g);
	g.b[14 + 3] = 10;               /* total length < header length */
	cr_assert_eq(run(&g, GCP_LINK_ETHERNET, &p), GCP_DEC_ERROR);
	eth(&h, 0x0800);
	simple_tcp4(&h);
	h.b[14] = 0x55;                 /* version 5 */
	cr_assert_eq(run(&h, GCP_LINK_ETHERNET, &p), GCP_DEC_ERROR);
	cr_assert_eq(dec.st.errors, 3);
}

Test(decode, bogus_tcp_udp)
{
	struct fb f = { 0 }, g = { 0 }, h = { 0 };
	struct gcp_pkt p;
	uint32_t ip, u;

	eth(&f, 0x0800);
	simple_tcp4(&f);
	f.b[14 + 20 + 12] = 4 << 4;     /* data offset 4 */
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_ERROR);
	f.b[14 + 20 + 12] = 15 << 4;    /* 60 bytes > segment */
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_ERROR);
	eth(&g, 0x0800);
	ip = ip4(&g, 17, 1, 2);
	u = udp(&g, 1, 2);
	fill(&g, 0, 10);
	udp_done(&g, u);
	ip4_done(&g, ip);
	g.b[14 + 20 + 5] = 200;         /* UDP length beyond the IP payload */
	cr_assert_eq(run(&g, GCP_LINK_ETHERNET, &p), GCP_DEC_ERROR);
	g.b[14 + 20 + 5] = 4;           /* shorter than the header */
	cr_assert_eq(run(&g, GCP_LINK_ETHERNET, &p), GCP_DEC_ERROR);
	eth(&h, 0x0800);
	ip = ip4(&h, 17, 1, 2);
	u = udp(&h, 1, 2);
	fill(&h, 'z', 10);
	udp_done(&h, u);
	put(&h, "trailer", 7);          /* bytes past the UDP length are ignored */
	ip4_done(&h, ip);
	cr_assert_eq(run(&h, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	cr_assert_eq(p.payload_len, 10);
	cr_assert_eq(dec.st.errors, 4);
}

Test(decode, zero_lengths)
{
	struct fb f = { 0 }, g = { 0 }, h = { 0 };
	struct gcp_pkt p;
	uint32_t ip;

	eth(&f, 0x0800);                /* TSO: IPv4 total length 0 on TCP */
	simple_tcp4(&f);
	f.b[14 + 2] = f.b[14 + 3] = 0;
	cr_assert_eq(run(&f, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	assert_tcp4(&p);
	cr_assert_eq(p.ip_len, 45);

	eth(&g, 0x0800);                /* total length 0 on anything else: bogus */
	ip4(&g, 1, 1, 2);
	fill(&g, 0, 26);
	cr_assert_eq(run(&g, GCP_LINK_ETHERNET, &p), GCP_DEC_ERROR);
	cr_assert_eq(dec.st.errors, 1);

	eth(&h, 0x0800);                /* UDP length 0: as long as the IP payload */
	ip = ip4(&h, 17, 1, 2);
	udp(&h, 1, 2);              /* length left 0 */
	fill(&h, 'z', 10);
	ip4_done(&h, ip);
	cr_assert_eq(run(&h, GCP_LINK_ETHERNET, &p), GCP_DEC_OK);
	cr_assert_eq(p.payload_len, 10);
}

Test(decode, ipv6_truncated_ext_chain)
{
	struct fb f = { 0 };
	struct gcp_pkt p;
	uint32_t ip;

	ip = ip6(&f, 0, 1, 2);
	u8(&f, 6);
	u8(&f, 5);                      /* claims 48 bytes */
	fill(&f, 1, 6);
	ip6_done(&f, ip);
	cr_assert_eq(run(&f, GCP_LINK_RAW, &p), GCP_DEC_ERROR);
	cr_assert_eq(dec.st.errors, 1, "past the payload length: malformed");
}

Test(decode, addr_str)
{
	struct gcp_addr a = { { 0x20, 0x01, 0x0d, 0xb8 } };
	char buf[64];

	a.b[15] = 1;
	cr_assert_str_eq(gcp_addr_str(&a, 6, buf, sizeof(buf)), "2001:db8::1");
	cr_assert_str_eq(gcp_addr_str(&a, 4, buf, sizeof(buf)), "32.1.13.184");
	cr_assert_str_eq(gcp_addr_str(&a, 5, buf, sizeof(buf)), "");
}

/* Random mutations of every crafted frame kind: no crash, no ASan report. */
Test(decode, mutation_smoke)
{
	struct fb base[6];
	struct gcp_pkt p;
	unsigned seed = 12345, i, k;

	memset(base, 0, sizeof(base));
	vxlan_frame(&base[0], 100, 200, 4789);
	geneve_frame(&base[1], 6081, true);
	teredo_frame(&base[2], true, true);
	frag6(&base[3], 0x0001, (const uint8_t *)"0123456789abcdef", 16);
	frag4(&base[4], 0x2000, (const uint8_t *)"0123456789abcdef", 16);
	eth(&base[5], 0x8847);
	u32(&base[5], 0x100);
	simple_tcp4(&base[5]);
	for (i = 0; i < 20000; i++) {
		struct fb m = base[i % 6];

		for (k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245 + 12345;
			m.b[(seed >> 8) % m.n] ^= (uint8_t)(1u << (seed >> 4) % 8);
		}
		seed = seed * 1103515245 + 12345;
		(void)run_n(m.b, m.n - (seed >> 8) % 8, i % 6 == 3 ? GCP_LINK_RAW :
			    GCP_LINK_ETHERNET, &p);
		gcp_decoder_expire(&dec, 1000000000ull * (2 + i / 1000));
	}
}

/* ---- corpus ------------------------------------------------------------------ */

struct corpus_file {
	uint64_t pkts, ok, tcp, held, skip, err;
};

static uint32_t rd32(const uint8_t *p, bool swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

/* Decode a copy of the packet cut short (exact-size buffer for ASan). */
static void decode_cut(struct gcp_decoder *d, const struct gcp_packet *in, uint64_t i)
{
	struct gcp_packet cut = *in;
	struct gcp_pkt p;
	uint8_t *copy;

	if (in->caplen == 0)
		return;
	cut.caplen = (uint32_t)((i * 2654435761u) % in->caplen);
	copy = malloc(cut.caplen ? cut.caplen : 1);
	cr_assert_not_null(copy);
	memcpy(copy, in->data, cut.caplen);
	cut.data = copy;
	(void)gcp_decode(d, &cut, &p);
	free(copy);
}

/* Decode every packet of a classic pcap file; false if not one. */
static bool decode_pcap(const char *path, struct corpus_file *cf)
{
	struct gcp_decoder d, dcut;
	uint8_t gh[24], rh[16], *buf = malloc(1u << 18);
	FILE *fp = fopen(path, "rb");
	bool swap, nsec;
	uint32_t magic;
	int link;

	cr_assert_not_null(buf);
	cr_assert_not_null(fp, "%s", path);
	memset(cf, 0, sizeof(*cf));
	if (fread(gh, 1, 24, fp) != 24) {
		fclose(fp);
		free(buf);
		return false;
	}
	memcpy(&magic, gh, 4);
	swap = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
	nsec = magic == 0xa1b23c4d || magic == 0x4d3cb2a1;
	if (!swap && !nsec && magic != 0xa1b2c3d4) {
		fclose(fp);
		free(buf);
		return false;
	}
	link = (int)(rd32(gh + 20, swap) & 0xffff);
	cr_assert_eq(gcp_decoder_init(&d, NULL), 0);
	cr_assert_eq(gcp_decoder_init(&dcut, NULL), 0);
	while (fread(rh, 1, 16, fp) == 16) {
		struct gcp_packet in = { 0 };
		struct gcp_pkt p;
		uint32_t cap = rd32(rh + 8, swap);
		uint8_t *pkt;
		int r;

		if (cap > (1u << 18))
			break;
		pkt = malloc(cap ? cap : 1);
		if (fread(pkt, 1, cap, fp) != cap) {
			free(pkt);
			break;
		}
		in.data = pkt;
		in.caplen = cap;
		in.wirelen = rd32(rh + 12, swap);
		in.ts_ns = (uint64_t)rd32(rh, swap) * 1000000000ull +
			   (uint64_t)rd32(rh + 4, swap) * (nsec ? 1 : 1000);
		in.linktype = link;
		r = gcp_decode(&d, &in, &p);
		decode_cut(&dcut, &in, cf->pkts);
		cf->pkts++;
		cf->ok += r == GCP_DEC_OK;
		cf->tcp += r == GCP_DEC_OK && p.l4proto == 6;
		cf->held += r == GCP_DEC_HELD;
		cf->skip += r == GCP_DEC_SKIP;
		cf->err += r == GCP_DEC_ERROR;
		free(pkt);
	}
	gcp_decoder_fini(&d);
	gcp_decoder_fini(&dcut);
	fclose(fp);
	free(buf);
	return true;
}

static long tshark_tcp_count(const char *path)
{
	char cmd[2300];
	long n = 0;
	int c;
	FILE *fp;

	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -Y tcp -T fields -e frame.number 2>/dev/null | wc -l", path);
	fp = popen(cmd, "r");
	if (!fp || fscanf(fp, "%ld", &n) != 1)
		n = -1;
	while (fp && (c = fgetc(fp)) != EOF)
		;
	if (fp)
		pclose(fp);
	return n;
}

/*
 * Files where tshark's count legitimately differs from ours, with the
 * number of frames tshark counts as "tcp" that we do not, and why.
 */
static const struct {
	const char *file;
	long extra;
	const char *why;
} tshark_diff[] = {
	{ "ndpi-6in4-tunnel-http-dns-tls.pcap", 2,
	  "two ICMPv6 Packet Too Big errors quote a TCP segment; tshark dissects "
	  "the quoted header as tcp, we report the ICMPv6 packet (l4proto 58)" },
	{ NULL, 0, NULL },
};

static long tshark_extra(const char *name)
{
	size_t i;

	for (i = 0; tshark_diff[i].file; i++) {
		if (strcmp(tshark_diff[i].file, name) == 0)
			return tshark_diff[i].extra;
	}
	return 0;
}

static bool compare_dir(const char *dir)
{
	static const char *const dirs[] = { "tcp", "encap", "ipv6", "frag" };
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (strcmp(dir, dirs[i]) == 0)
			return true;
	}
	return false;
}

static void corpus_file(const char *dir, const char *name, unsigned *nfiles)
{
	char path[2048];
	struct corpus_file cf;
	long want;

	snprintf(path, sizeof(path), "%s/%s/%s", GCP_CORPUS_DIR, dir, name);
	if (!decode_pcap(path, &cf))
		return; /* pcapng */
	(*nfiles)++;
	cr_log_info("%s/%s: %lu pkts, ok %lu (tcp %lu), held %lu, skip %lu, err %lu", dir,
		    name, (unsigned long)cf.pkts, (unsigned long)cf.ok,
		    (unsigned long)cf.tcp, (unsigned long)cf.held, (unsigned long)cf.skip,
		    (unsigned long)cf.err);
	if (!compare_dir(dir))
		return;
	want = tshark_tcp_count(path);
	cr_assert_geq(want, 0, "tshark failed on %s", path);
	cr_expect_eq((long)cf.tcp, want - tshark_extra(name),
		     "%s/%s: we decode %lu TCP packets, tshark %ld", dir, name,
		     (unsigned long)cf.tcp, want);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(decode, corpus_walk, .timeout = 300)
{
	char *subs[64], *files[128];
	unsigned nsub = 0, nfiles = 0, i, j, nf, decoded = 0;
	struct dirent *e;
	DIR *top = opendir(GCP_CORPUS_DIR), *sub;

	cr_assert_not_null(top, "corpus %s", GCP_CORPUS_DIR);
	while ((e = readdir(top)) && nsub < 64) {
		if (e->d_name[0] != '.')
			subs[nsub++] = strdup(e->d_name);
	}
	closedir(top);
	qsort(subs, nsub, sizeof(subs[0]), name_cmp);
	for (i = 0; i < nsub; i++) {
		char path[1024];

		snprintf(path, sizeof(path), "%s/%s", GCP_CORPUS_DIR, subs[i]);
		sub = opendir(path);
		nf = 0;
		while (sub && (e = readdir(sub)) && nf < 128) {
			size_t l = strlen(e->d_name);

			if (l > 5 && strcmp(e->d_name + l - 5, ".pcap") == 0)
				files[nf++] = strdup(e->d_name);
		}
		if (sub)
			closedir(sub);
		qsort(files, nf, sizeof(files[0]), name_cmp);
		for (j = 0; j < nf; j++) {
			corpus_file(subs[i], files[j], &decoded);
			free(files[j]);
		}
		nfiles += nf;
		free(subs[i]);
	}
	cr_assert_gt(decoded, 50, "decoded %u of %u pcap files", decoded, nfiles);
}
