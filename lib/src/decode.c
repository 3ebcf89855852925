/* SPDX-License-Identifier: BSD-3-Clause */
/* Link, network and transport decoding with tunnel decapsulation. */

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "cursor.h"
#include "decode.h"
#include "fmt.h"

/*
 * Every decoder below gets a pointer and the number of bytes present
 * there; "avail" is what the capture holds, "wire" what the enclosing
 * header announces. A header cut off by the capture counts as
 * truncated, a header that contradicts its own length fields as an
 * error. Results are enum gcp_decode_result; a tunnel decoder that finds
 * its payload implausible answers NOT_TUNNEL and the UDP/GRE packet is
 * kept as it is.
 */

#define GCP_MAX_DECAP 8    /* tunnel layers (incl. MPLS) before we give up */
#define GCP_MAX_MPLS 16    /* labels in one stack */
#define GCP_MAX_V6EXT 16   /* IPv6 extension headers in one chain */
#define NOT_TUNNEL (-1)

enum {
	ETH_IPV4 = 0x0800,
	ETH_TEB = 0x6558,     /* transparent Ethernet bridging */
	ETH_VLAN = 0x8100,
	ETH_IPV6 = 0x86dd,
	ETH_MPLS = 0x8847,
	ETH_MPLS_MC = 0x8848,
	ETH_PPPOE = 0x8864,
	ETH_QINQ = 0x88a8,
	ETH_ERSPAN2 = 0x88be,
	ETH_QINQ_OLD = 0x9100,
	ETH_ERSPAN3 = 0x22eb,
	ETH_ARP = 0x0806,
};

enum {
	P_HOPOPTS = 0,
	P_IPIP = 4,
	P_TCP = 6,
	P_UDP = 17,
	P_IPV6 = 41,
	P_ROUTING = 43,
	P_FRAGMENT = 44,
	P_GRE = 47,
	P_AH = 51,
	P_DSTOPTS = 60,
};

enum {
	PORT_TEREDO = 3544,
	PORT_VXLAN = 4789,
	PORT_VXLAN_LINUX = 8472,
	PORT_VXLAN_GPE = 4790,
	PORT_GENEVE = 6081,
};

struct dctx {
	struct gcp_decoder *d;
	struct gcp_pkt *pkt;
	unsigned depth;      /* decapsulations so far */
	unsigned eth_layer;  /* Ethernet (or SLL) headers seen */
	unsigned vlan_layer; /* the layer whose tags fill pkt->vlan */
};

static int dec_eth(struct dctx *x, const uint8_t *p, uint32_t len);
static int dec_ip(struct dctx *x, const uint8_t *p, uint32_t len);
static int dec_ip4(struct dctx *x, const uint8_t *p, uint32_t len);
static int dec_ip6(struct dctx *x, const uint8_t *p, uint32_t len);
static int dec_ip6_ext(struct dctx *x, uint8_t nh, const uint8_t *p, uint32_t off,
		       uint32_t avail, uint32_t tot, bool reasm);
static int dec_l4(struct dctx *x, uint8_t proto, const uint8_t *p, uint32_t avail,
		  uint32_t wire);
static int dec_tcp(struct dctx *x, const uint8_t *p, uint32_t avail, uint32_t wire);

static int dec_err(struct dctx *x)
{
	x->d->st.errors++;
	return GCP_DEC_ERROR;
}

static int dec_trunc(struct dctx *x)
{
	x->d->st.truncated++;
	return GCP_DEC_ERROR;
}

/* Too short: the capture's fault when it was snapped, else the header's. */
static int dec_short(struct dctx *x, bool snapped)
{
	return snapped ? dec_trunc(x) : dec_err(x);
}

static int dec_skip(struct dctx *x)
{
	x->d->st.non_ip++;
	return GCP_DEC_SKIP;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static uint32_t cur_left(const struct gcp_cur *c)
{
	return (uint32_t)gcp_cur_left(c);
}

/* Enter one more tunnel layer; the outermost kind is the one kept. */
static bool decap(struct dctx *x, enum gcp_tunnel kind)
{
	if (++x->depth > GCP_MAX_DECAP)
		return false;
	if (x->pkt->tunnel == GCP_TUN_NONE)
		x->pkt->tunnel = (uint8_t)kind;
	return true;
}

static void set_vni(struct dctx *x, const uint8_t *p)
{
	if (x->pkt->has_vni)
		return;
	x->pkt->has_vni = 1;
	x->pkt->vni = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static int set_payload(struct gcp_pkt *pkt, const uint8_t *p, uint32_t avail, uint32_t wire)
{
	pkt->payload = p;
	pkt->payload_len = avail;
	pkt->payload_wire_len = wire;
	if (avail < wire)
		pkt->flags |= GCP_PKT_L4_TRUNC;
	return GCP_DEC_OK;
}

/* ---- link layer ------------------------------------------------------ */

/*
 * VLAN ids come from the outermost Ethernet header that has tags; an
 * inner header's tags are kept only when no outer one had any.
 */
static void add_vlan(struct dctx *x, uint16_t tci)
{
	struct gcp_pkt *pkt = x->pkt;

	if (pkt->nvlan == 0)
		x->vlan_layer = x->eth_layer;
	if (x->vlan_layer != x->eth_layer || pkt->nvlan >= GCP_MAX_VLAN)
		return;
	pkt->vlan[pkt->nvlan++] = tci & 0x0fff;
}

/* RFC 3032 gives the payload no type: guess by the first nibble; a zero
 * nibble is the RFC 4385 pseudowire control word before Ethernet. */
static int dec_mpls_payload(struct dctx *x, const uint8_t *p, uint32_t len)
{
	if (len < 1)
		return dec_trunc(x);
	switch (p[0] >> 4) {
	case 4:
		return dec_ip4(x, p, len);
	case 6:
		return dec_ip6(x, p, len);
	case 0:
		if (len < 4)
			return dec_trunc(x);
		return dec_eth(x, p + 4, len - 4);
	default:
		return dec_skip(x);
	}
}

/* RFC 3032 2.1: 4-byte label stack entries, S bit ends the stack. */
static int dec_mpls(struct dctx *x, struct gcp_cur *c)
{
	unsigned n;

	if (!decap(x, GCP_TUN_MPLS))
		return dec_err(x);
	for (n = 0;; n++) {
		uint32_t lse = gcp_cur_be32(c);

		if (c->err)
			return dec_trunc(x);
		if (lse & 0x100)
			break;
		if (n + 1 >= GCP_MAX_MPLS)
			return dec_err(x);
	}
	return dec_mpls_payload(x, c->p, cur_left(c));
}

/* RFC 2516 session stage: 6-byte PPPoE header, then the PPP protocol. */
static int dec_pppoe(struct dctx *x, struct gcp_cur *c)
{
	uint16_t proto;

	gcp_cur_skip(c, 6);
	proto = gcp_cur_be16(c);
	if (c->err)
		return dec_trunc(x);
	if (proto == 0x0021)
		return dec_ip4(x, c->p, cur_left(c));
	if (proto == 0x0057)
		return dec_ip6(x, c->p, cur_left(c));
	return dec_skip(x);
}

static bool is_vlan_tpid(uint16_t type)
{
	return type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD;
}

/* Dispatch on an EtherType; 802.1Q/802.1ad tags may nest to any depth. */
static int dec_ethertype(struct dctx *x, uint16_t type, struct gcp_cur *c)
{
	while (is_vlan_tpid(type)) {
		uint16_t tci = gcp_cur_be16(c);

		type = gcp_cur_be16(c);
		if (c->err)
			return dec_trunc(x);
		add_vlan(x, tci);
	}
	switch (type) {
	case ETH_IPV4:
		return dec_ip4(x, c->p, cur_left(c));
	case ETH_IPV6:
		return dec_ip6(x, c->p, cur_left(c));
	case ETH_MPLS:
	case ETH_MPLS_MC:
		return dec_mpls(x, c);
	case ETH_PPPOE:
		return dec_pppoe(x, c);
	default:
		/* ARP, LLDP, 802.3 length fields (< 0x0600), ... */
		return dec_skip(x);
	}
}

/* A link header whose EtherType sits at type_off, payload at hdr_len. */
static int dec_link_ethertype(struct dctx *x, const uint8_t *p, uint32_t len,
			      uint32_t type_off, uint32_t hdr_len)
{
	struct gcp_cur c = gcp_cur_make(p, len);
	uint16_t type;

	x->eth_layer++;
	gcp_cur_skip(&c, type_off);
	type = gcp_cur_be16(&c);
	gcp_cur_skip(&c, hdr_len - type_off - 2);
	if (c.err)
		return dec_trunc(x);
	return dec_ethertype(x, type, &c);
}

static int dec_eth(struct dctx *x, const uint8_t *p, uint32_t len)
{
	return dec_link_ethertype(x, p, len, 12, 14);
}

/* Linux cooked v1: 16-byte header, protocol in the last two bytes. */
static int dec_sll(struct dctx *x, const uint8_t *p, uint32_t len)
{
	return dec_link_ethertype(x, p, len, 14, 16);
}

/* Linux cooked v2: 20-byte header, protocol first. */
static int dec_sll2(struct dctx *x, const uint8_t *p, uint32_t len)
{
	return dec_link_ethertype(x, p, len, 0, 20);
}

/*
 * BSD loopback: a 4-byte address family, in the byte order of the host
 * that wrote the capture (LINKTYPE_NULL) or big-endian (LINKTYPE_LOOP).
 * Families are small, so the order that gives a value < 65536 is right.
 * IPv6 is 24, 28 or 30 depending on the BSD.
 */
static int dec_null(struct dctx *x, const uint8_t *p, uint32_t len, bool host_order)
{
	uint32_t fam;

	if (len < 4)
		return dec_trunc(x);
	fam = gcp_be32(p);
	if (host_order && fam > 0xffff)
		fam = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
	switch (fam) {
	case 2:
		return dec_ip4(x, p + 4, len - 4);
	case 24:
	case 28:
	case 30:
		return dec_ip6(x, p + 4, len - 4);
	default:
		return dec_skip(x);
	}
}

static int dec_link(struct dctx *x, int link, const uint8_t *p, uint32_t len)
{
	switch (link) {
	case GCP_LINK_ETHERNET:
		return dec_eth(x, p, len);
	case GCP_LINK_NULL:
		return dec_null(x, p, len, true);
	case GCP_LINK_LOOP:
		return dec_null(x, p, len, false);
	case GCP_LINK_RAW:
	case GCP_LINK_IPV4:
	case GCP_LINK_IPV6:
	case 12: /* DLT_RAW as some BSDs wrote it */
	case 14:
		return dec_ip(x, p, len);
	case GCP_LINK_LINUX_SLL:
		return dec_sll(x, p, len);
	case GCP_LINK_LINUX_SLL2:
		return dec_sll2(x, p, len);
	default:
		x->d->st.unsupported_link++;
		return GCP_DEC_SKIP;
	}
}

/* ---- network layer --------------------------------------------------- */

static int dec_ip(struct dctx *x, const uint8_t *p, uint32_t len)
{
	if (len < 1)
		return dec_trunc(x);
	switch (p[0] >> 4) {
	case 4:
		return dec_ip4(x, p, len);
	case 6:
		return dec_ip6(x, p, len);
	default:
		return dec_err(x);
	}
}

/* Hand a fragment to the reassembler; decode the datagram if complete. */
static int dec_frag_offer(struct dctx *x, const struct gcp_frag_in *f, uint32_t hdr_len)
{
	const uint8_t *dg = NULL;
	uint32_t dlen = 0;
	int r;

	r = gcp_frag_offer(x->d->frags, f, &dg, &dlen, &x->d->st);
	if (r == 0)
		return GCP_DEC_HELD;
	if (r < 0)
		return GCP_DEC_ERROR; /* counted in frags_dropped */
	x->pkt->flags |= GCP_PKT_REASSEMBLED;
	x->pkt->ip_len = hdr_len + dlen;
	if (f->ip_version == 4)
		return dec_l4(x, f->proto, dg, dlen, dlen);
	return dec_ip6_ext(x, f->proto, dg, 0, dlen, dlen, true);
}

static void frag_in_init(struct gcp_frag_in *f, const struct gcp_pkt *pkt)
{
	memset(f, 0, sizeof(*f));
	f->ip_version = pkt->ip_version;
	f->src = pkt->src;
	f->dst = pkt->dst;
	f->ts_ns = pkt->ts_ns;
}

/* RFC 791 3.1: 13-bit offset in 8-byte units, MF flag. */
static int dec_ip4_frag(struct dctx *x, const uint8_t *p, uint32_t hl, uint32_t avail,
			uint32_t tot)
{
	uint16_t fo = gcp_be16(p + 6);
	struct gcp_frag_in f;

	x->d->st.frags++;
	if (avail < tot) {
		/* a snapped fragment cannot be reassembled */
		x->d->st.frags_dropped++;
		return dec_trunc(x);
	}
	frag_in_init(&f, x->pkt);
	f.id = gcp_be16(p + 4);
	f.proto = p[9];
	f.offset = (fo & 0x1fffu) * 8u;
	f.more = (fo & 0x2000) != 0;
	f.data = p + hl;
	f.len = tot - hl;
	return dec_frag_offer(x, &f, hl);
}

static void set_addr4(struct gcp_addr *a, const uint8_t *p)
{
	memset(a, 0, sizeof(*a));
	memcpy(a->b, p, 4);
}

/* RFC 791 3.1. The total length trims link-layer padding. */
static int dec_ip4(struct dctx *x, const uint8_t *p, uint32_t len)
{
	struct gcp_pkt *pkt = x->pkt;
	uint32_t hl, tot, avail;

	if (len < 20)
		return dec_trunc(x);
	hl = (p[0] & 0x0fu) * 4u;
	tot = gcp_be16(p + 2);
	/*
	 * Total length 0 on TCP: a TSO segment captured on the sending host
	 * before the NIC filled the length in (Wireshark assumes the same).
	 * Anything else with a length below the header is bogus.
	 */
	if (tot == 0 && p[9] == P_TCP && !(gcp_be16(p + 6) & 0x3fff))
		tot = min_u32(len, 0xffff);
	if (p[0] >> 4 != 4 || hl < 20 || tot < hl)
		return dec_err(x);
	if (len < hl)
		return dec_trunc(x);
	avail = min_u32(len, tot);
	pkt->ip_version = 4;
	set_addr4(&pkt->src, p + 12);
	set_addr4(&pkt->dst, p + 16);
	pkt->ip_len = tot;
	if (gcp_be16(p + 6) & 0x3fff)
		return dec_ip4_frag(x, p, hl, avail, tot);
	if (p[9] == P_TCP) {
		/* The common case without dec_l4's dispatch: dec_tcp sets every
		 * transport field dec_l4 would clear (it only matters for
		 * headers that are not TCP). Not recursive, so it inlines. */
		pkt->l4proto = P_TCP;
		return dec_tcp(x, p + hl, avail - hl, tot - hl);
	}
	return dec_l4(x, p[9], p + hl, avail - hl, tot - hl);
}

/* RFC 8200 4.5. Offset 0 with M clear is atomic (RFC 6946): not here. */
static int dec_ip6_frag(struct dctx *x, const uint8_t *p, uint32_t off, uint32_t avail,
			uint32_t tot, bool reasm)
{
	uint16_t fo = gcp_be16(p + off + 2);
	struct gcp_frag_in f;

	if (reasm)
		return dec_err(x); /* a fragment inside a reassembled datagram */
	x->d->st.frags++;
	if (avail < tot) {
		x->d->st.frags_dropped++;
		return dec_trunc(x);
	}
	frag_in_init(&f, x->pkt);
	f.id = gcp_be32(p + off + 4);
	f.proto = p[off];
	f.offset = fo & 0xfff8u;
	f.more = (fo & 1) != 0;
	f.data = p + off + 8;
	f.len = tot - off - 8;
	return dec_frag_offer(x, &f, off);
}

/*
 * Routing header type 0 (RFC 2460 4.4, deprecated by RFC 5095): with
 * segments left, the final destination is the last address listed; use
 * it, as Zeek does, so both directions of a flow match.
 */
static void ip6_rh0_dst(struct dctx *x, const uint8_t *h, uint32_t hlen)
{
	uint32_t naddr = h[1] / 2u;

	if (h[2] != 0 || h[3] == 0 || naddr == 0 || 8 + naddr * 16 > hlen)
		return;
	memcpy(x->pkt->dst.b, h + 8 + (naddr - 1) * 16, 16);
}

static bool ip6_is_ext(uint8_t nh)
{
	return nh == P_HOPOPTS || nh == P_ROUTING || nh == P_DSTOPTS || nh == P_AH ||
	       nh == P_FRAGMENT;
}

/* Length of extension header nh at h (at least 8 bytes present). */
static uint32_t ip6_ext_len(uint8_t nh, const uint8_t *h)
{
	if (nh == P_FRAGMENT)
		return 8;
	if (nh == P_AH)
		return (h[1] + 2u) * 4u;  /* RFC 4302 2.2 */
	return (h[1] + 1u) * 8u;          /* RFC 8200 4.3, 4.4, 4.6 */
}

/*
 * Walk the extension header chain from p[off]. ESP, "no next header"
 * and anything unknown end the walk like an upper-layer protocol.
 */
static int dec_ip6_ext(struct dctx *x, uint8_t nh, const uint8_t *p, uint32_t off,
		       uint32_t avail, uint32_t tot, bool reasm)
{
	unsigned n;

	for (n = 0; n < GCP_MAX_V6EXT; n++) {
		uint32_t hlen;

		if (!ip6_is_ext(nh))
			return dec_l4(x, nh, p + off, avail - off, tot - off);
		if (avail - off < 8)
			return dec_short(x, avail < tot && tot - off >= 8);
		hlen = ip6_ext_len(nh, p + off);
		if (avail - off < hlen)
			return dec_short(x, avail < tot && tot - off >= hlen);
		if (nh == P_FRAGMENT && (gcp_be16(p + off + 2) & 0xfff9u))
			return dec_ip6_frag(x, p, off, avail, tot, reasm);
		if (nh == P_ROUTING)
			ip6_rh0_dst(x, p + off, hlen);
		nh = p[off];
		off += hlen;
	}
	return dec_err(x);
}

/* RFC 8200 3. The payload length trims link-layer padding. */
static int dec_ip6(struct dctx *x, const uint8_t *p, uint32_t len)
{
	struct gcp_pkt *pkt = x->pkt;
	uint32_t tot;

	if (len < 40)
		return dec_trunc(x);
	if (p[0] >> 4 != 6)
		return dec_err(x);
	tot = 40u + gcp_be16(p + 4);
	/* Payload length 0 straight on TCP: TSO, as for IPv4 above. */
	if (tot == 40 && p[6] == P_TCP)
		tot = len;
	pkt->ip_version = 6;
	memcpy(pkt->src.b, p + 8, 16);
	memcpy(pkt->dst.b, p + 24, 16);
	pkt->ip_len = tot;
	return dec_ip6_ext(x, p[6], p, 40, min_u32(len, tot), tot, false);
}

/* ---- tunnels ------------------------------------------------------------ */

/* RFC 7348 5: flags (I = 0x08), 24 reserved bits, VNI, 8 reserved bits. */
static int dec_vxlan(struct dctx *x, const uint8_t *p, uint32_t avail)
{
	if (avail < 8 || !(p[0] & 0x08))
		return NOT_TUNNEL;
	if (!decap(x, GCP_TUN_VXLAN))
		return dec_err(x);
	set_vni(x, p + 4);
	return dec_eth(x, p + 8, avail - 8);
}

/*
 * VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe-12 3.3): flags (I = 0x08, P =
 * 0x04), 16 reserved bits, next protocol (1 IPv4, 2 IPv6, 3 Ethernet),
 * VNI, 8 reserved bits. Senders that leave P clear still fill next
 * protocol (as Wireshark also assumes); a zero there means Ethernet.
 */
static int dec_vxlan_gpe(struct dctx *x, const uint8_t *p, uint32_t avail)
{
	uint8_t next;

	if (avail < 8 || p[0] >> 6 != 0)
		return NOT_TUNNEL;
	next = p[3] ? p[3] : 3;
	if (next < 1 || next > 3)
		return NOT_TUNNEL;
	if (!decap(x, GCP_TUN_VXLAN))
		return dec_err(x);
	if (p[0] & 0x08)
		set_vni(x, p + 4);
	if (next == 1)
		return dec_ip4(x, p + 8, avail - 8);
	if (next == 2)
		return dec_ip6(x, p + 8, avail - 8);
	return dec_eth(x, p + 8, avail - 8);
}

/*
 * Geneve on a port other than 6081: demand version 0, zero reserved
 * bits, Ethernet payload, all options present and a common EtherType in
 * the inner Ethernet header, which ordinary UDP payloads do not mimic.
 */
static bool geneve_plausible(const uint8_t *p, uint32_t avail, uint32_t hlen)
{
	uint16_t type;

	if ((p[1] & 0x3f) != 0 || p[7] != 0 || gcp_be16(p + 2) != ETH_TEB)
		return false;
	if (avail < hlen + 14)
		return false;
	type = gcp_be16(p + hlen + 12);
	return type == ETH_IPV4 || type == ETH_IPV6 || type == ETH_ARP ||
	       is_vlan_tpid(type);
}

/* RFC 8926 3.4: ver(2) opt len(6) | O C rsvd | protocol | VNI | rsvd | options. */
static int dec_geneve(struct dctx *x, const uint8_t *p, uint32_t avail, bool guess)
{
	uint32_t hlen;
	uint16_t proto;

	if (avail < 8 || p[0] >> 6 != 0)
		return NOT_TUNNEL;
	hlen = 8u + (p[0] & 0x3fu) * 4u;
	proto = gcp_be16(p + 2);
	if (guess && !geneve_plausible(p, avail, hlen))
		return NOT_TUNNEL;
	if (proto != ETH_TEB && proto != ETH_IPV4 && proto != ETH_IPV6)
		return NOT_TUNNEL;
	if (!decap(x, GCP_TUN_GENEVE))
		return dec_err(x);
	set_vni(x, p + 4);
	if (avail < hlen)
		return dec_trunc(x);
	if (proto == ETH_TEB)
		return dec_eth(x, p + hlen, avail - hlen);
	if (proto == ETH_IPV4)
		return dec_ip4(x, p + hlen, avail - hlen);
	return dec_ip6(x, p + hlen, avail - hlen);
}

/*
 * RFC 4380 5.1.1: optional authentication (0x0001, id len, auth len,
 * client id, auth value, 8-byte nonce, confirmation byte) and origin
 * indication (0x0000, port, address) headers, then IPv6 that fills the
 * rest of the UDP payload exactly.
 */
static int dec_teredo(struct dctx *x, const uint8_t *p, uint32_t avail, uint32_t wire)
{
	uint32_t off = 0;

	if (avail >= 4 && p[0] == 0 && p[1] == 1)
		off = 4u + p[2] + p[3] + 9u;
	if (avail >= off + 8 && p[off] == 0 && p[off + 1] == 0)
		off += 8;
	if (avail < off + 40 || p[off] >> 4 != 6)
		return NOT_TUNNEL;
	if (40u + gcp_be16(p + off + 4) != wire - off)
		return NOT_TUNNEL;
	if (!decap(x, GCP_TUN_TEREDO))
		return dec_err(x);
	return dec_ip6(x, p + off, avail - off);
}

static int dec_udp_tunnel(struct dctx *x, uint16_t sport, uint16_t dport,
			  const uint8_t *p, uint32_t avail, uint32_t wire)
{
	if (dport == PORT_VXLAN || dport == PORT_VXLAN_LINUX)
		return dec_vxlan(x, p, avail);
	if (dport == PORT_VXLAN_GPE || sport == PORT_VXLAN_GPE)
		return dec_vxlan_gpe(x, p, avail);
	if (dport == PORT_GENEVE)
		return dec_geneve(x, p, avail, false);
	if (sport == PORT_TEREDO || dport == PORT_TEREDO)
		return dec_teredo(x, p, avail, wire);
	return dec_geneve(x, p, avail, true);
}

/*
 * ERSPAN (draft-foschiano-erspan-03): type I has no sequence number and
 * no header; type II sets S and has an 8-byte header, version 1.
 */
static int dec_erspan2(struct dctx *x, const uint8_t *p, uint32_t n, bool seq)
{
	if (!seq)
		return dec_eth(x, p, n);
	if (n < 8)
		return dec_trunc(x);
	if (p[0] >> 4 != 1)
		return dec_err(x);
	return dec_eth(x, p + 8, n - 8);
}

/*
 * ERSPAN type III: 12-byte header, version 2; the O bit adds an 8-byte
 * platform sub-header; frame type 0 is Ethernet, 2 is IP.
 */
static int dec_erspan3(struct dctx *x, const uint8_t *p, uint32_t n)
{
	uint32_t hl = 12;
	unsigned ft;

	if (n < 12)
		return dec_trunc(x);
	if (p[0] >> 4 != 2)
		return dec_err(x);
	if (p[11] & 1)
		hl += 8;
	if (n < hl)
		return dec_trunc(x);
	ft = (p[10] >> 2) & 0x1f;
	if (ft == 0)
		return dec_eth(x, p + hl, n - hl);
	if (ft == 2)
		return dec_ip(x, p + hl, n - hl);
	return dec_skip(x);
}

static int dec_gre_payload(struct dctx *x, uint16_t proto, uint16_t fl, const uint8_t *p,
			   uint32_t n)
{
	struct gcp_cur c;

	switch (proto) {
	case ETH_IPV4:
		return dec_ip4(x, p, n);
	case ETH_IPV6:
		return dec_ip6(x, p, n);
	case ETH_TEB:
		return dec_eth(x, p, n);
	case ETH_ERSPAN2:
		return dec_erspan2(x, p, n, (fl & 0x1000) != 0);
	case ETH_ERSPAN3:
		return dec_erspan3(x, p, n);
	default: /* MPLS */
		c = gcp_cur_make(p, n);
		return dec_mpls(x, &c);
	}
}

/*
 * RFC 2784 / RFC 2890: version 0, C K S flags add checksum, key and
 * sequence words in that order. Version 1 (PPTP), RFC 1701 source
 * routing and payloads we do not decode stay a plain GRE packet.
 */
static int dec_gre(struct dctx *x, const uint8_t *p, uint32_t avail, uint32_t wire)
{
	uint32_t hlen = 4;
	uint16_t fl, proto;

	if (avail < 4)
		return dec_short(x, wire >= 4);
	fl = gcp_be16(p);
	proto = gcp_be16(p + 2);
	if ((fl & 0x4007) != 0)
		return set_payload(x->pkt, p, avail, wire);
	hlen += (fl & 0x8000 ? 4 : 0) + (fl & 0x2000 ? 4 : 0) + (fl & 0x1000 ? 4 : 0);
	if (avail < hlen)
		return dec_short(x, wire >= hlen);
	switch (proto) {
	case ETH_IPV4:
	case ETH_IPV6:
	case ETH_TEB:
	case ETH_MPLS:
	case ETH_MPLS_MC:
		if (!decap(x, GCP_TUN_GRE))
			return dec_err(x);
		break;
	case ETH_ERSPAN2:
	case ETH_ERSPAN3:
		if (!decap(x, GCP_TUN_ERSPAN))
			return dec_err(x);
		break;
	default:
		return set_payload(x->pkt, p, avail, wire);
	}
	return dec_gre_payload(x, proto, fl, p + hlen, avail - hlen);
}

/* ---- transport layer ---------------------------------------------------- */

/* RFC 9293 3.1. A capture cut inside the options keeps the header fields. */
static int dec_tcp(struct dctx *x, const uint8_t *p, uint32_t avail, uint32_t wire)
{
	struct gcp_pkt *pkt = x->pkt;
	uint32_t doff;

	if (wire < 20)
		return dec_err(x);
	if (avail < 20)
		return dec_trunc(x);
	doff = (p[12] >> 4) * 4u;
	if (doff < 20 || doff > wire)
		return dec_err(x);
	pkt->sport = gcp_be16(p);
	pkt->dport = gcp_be16(p + 2);
	pkt->tcp_seq = gcp_be32(p + 4);
	pkt->tcp_ack = gcp_be32(p + 8);
	pkt->tcp_flags = p[13];
	pkt->tcp_win = gcp_be16(p + 14);
	if (avail < doff) {
		pkt->flags |= GCP_PKT_L4_TRUNC;
		return set_payload(pkt, p + avail, 0, wire - doff);
	}
	return set_payload(pkt, p + doff, avail - doff, wire - doff);
}

/*
 * RFC 768: the UDP length must cover the header and fit the IP payload.
 * Length 0 means "as long as the IP payload": RFC 2675 jumbograms, and
 * UDP GSO super-packets captured on the sending host.
 */
static int dec_udp(struct dctx *x, const uint8_t *p, uint32_t avail, uint32_t wire)
{
	struct gcp_pkt *pkt = x->pkt;
	uint32_t ulen;
	int r;

	if (wire < 8)
		return dec_err(x);
	if (avail < 8)
		return dec_trunc(x);
	ulen = gcp_be16(p + 4);
	if (ulen == 0)
		ulen = wire;
	if (ulen < 8 || ulen > wire)
		return dec_err(x);
	pkt->sport = gcp_be16(p);
	pkt->dport = gcp_be16(p + 2);
	avail = min_u32(avail, ulen);
	r = dec_udp_tunnel(x, pkt->sport, pkt->dport, p + 8, avail - 8, ulen - 8);
	if (r != NOT_TUNNEL)
		return r;
	return set_payload(pkt, p + 8, avail - 8, ulen - 8);
}

static int dec_l4(struct dctx *x, uint8_t proto, const uint8_t *p, uint32_t avail,
		  uint32_t wire)
{
	struct gcp_pkt *pkt = x->pkt;

	pkt->l4proto = proto;
	pkt->sport = pkt->dport = 0;
	pkt->tcp_flags = 0;
	pkt->tcp_seq = pkt->tcp_ack = 0;
	pkt->tcp_win = 0;
	switch (proto) {
	case P_TCP:
		return dec_tcp(x, p, avail, wire);
	case P_UDP:
		return dec_udp(x, p, avail, wire);
	case P_IPIP:
		if (!decap(x, GCP_TUN_IPIP))
			return dec_err(x);
		return dec_ip4(x, p, avail);
	case P_IPV6:
		if (!decap(x, GCP_TUN_IPIP))
			return dec_err(x);
		return dec_ip6(x, p, avail);
	case P_GRE:
		return dec_gre(x, p, avail, wire);
	default: /* ICMP, ICMPv6, ESP, SCTP, ...: no ports */
		return set_payload(pkt, p, avail, wire);
	}
}

/* ---- API ----------------------------------------------------------------- */

int gcp_decoder_init(struct gcp_decoder *d, const struct gcp_decode_limits *lim)
{
	memset(d, 0, sizeof(*d));
	d->frags = gcp_frag_create(lim ? lim->max_datagrams : 0, lim ? lim->timeout_s : 0);
	return d->frags ? GCP_OK : GCP_ERR_NOMEM;
}

void gcp_decoder_fini(struct gcp_decoder *d)
{
	gcp_frag_destroy(d->frags);
	d->frags = NULL;
}

void gcp_decoder_expire(struct gcp_decoder *d, uint64_t now_ns)
{
	gcp_frag_expire(d->frags, now_ns, &d->st);
}

int gcp_decode(struct gcp_decoder *d, const struct gcp_packet *in, struct gcp_pkt *out)
{
	static const struct gcp_pkt zero;
	struct dctx x = { .d = d, .pkt = out };
	int r;

	*out = zero; /* plain stores: memset's rep stos costs more at this size */
	out->ts_ns = in->ts_ns;
	out->wire_len = in->wirelen;
	if (!in->data)
		return dec_trunc(&x);
	if (in->linktype == GCP_LINK_ETHERNET && in->caplen >= 14 + 20 &&
	    gcp_be16(in->data + 12) == ETH_IPV4) {
		/* Untagged Ethernet + IPv4, most of any mirror port: what
		 * dec_eth() would do, without the link-layer dispatch. */
		x.eth_layer = 1;
		r = dec_ip4(&x, in->data + 14, in->caplen - 14);
	} else {
		r = dec_link(&x, in->linktype, in->data, in->caplen);
	}
	if (out->tunnel != GCP_TUN_NONE && (r == GCP_DEC_OK || r == GCP_DEC_HELD))
		d->st.tunnels++;
	return r;
}

/* Record text: digit loops (fmt.c), not inet_ntop, which formats with
 * sprintf: with two addresses per record that was a tenth of a
 * one-packet flow's cost under a SYN flood. Same bytes as inet_ntop,
 * including its failure (empty text) when buf is too small. */
const char *gcp_addr_str(const struct gcp_addr *a, int ip_version, char *buf, size_t len)
{
	char tmp[GCP_FMT_IP6_LEN];
	size_t n;

	if (!buf || len == 0)
		return buf;
	if (ip_version == 4)
		n = gcp_fmt_ip4(a->b, tmp);
	else if (ip_version == 6)
		n = gcp_fmt_ip6(a->b, tmp);
	else
		n = len; /* unknown version: empty text */
	if (n >= len)
		buf[0] = '\0';
	else
		memcpy(buf, tmp, n + 1);
	return buf;
}
