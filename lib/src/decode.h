/* SPDX-License-Identifier: BSD-3-Clause */
/* Link, network and transport decoding into a flat packet view. */
#ifndef GCP_DECODE_H
#define GCP_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "gcprobe/gcprobe.h"

#define GCP_MAX_VLAN 4

/* IPv4 lives in b[0..3] (rest zero); ip_version tells which. */
struct gcp_addr {
	uint8_t b[16];
};

enum gcp_tunnel {
	GCP_TUN_NONE = 0,
	GCP_TUN_VXLAN,
	GCP_TUN_GENEVE,
	GCP_TUN_GRE,
	GCP_TUN_ERSPAN,
	GCP_TUN_IPIP,   /* IPv4/IPv6 in IPv4/IPv6, incl. 6in4 */
	GCP_TUN_TEREDO,
	GCP_TUN_MPLS,
};

enum gcp_pkt_flags {
	GCP_PKT_REASSEMBLED = 1u << 0, /* payload is a reassembled IP datagram */
	GCP_PKT_L4_TRUNC = 1u << 1,    /* payload shorter than the IP length says */
};

/* TCP flag bits as on the wire (byte 13 of the header). */
enum {
	GCP_TH_FIN = 0x01,
	GCP_TH_SYN = 0x02,
	GCP_TH_RST = 0x04,
	GCP_TH_PSH = 0x08,
	GCP_TH_ACK = 0x10,
	GCP_TH_URG = 0x20,
};

/*
 * One decoded packet: the innermost IP/L4 headers after decapsulation.
 * All pointers are views into the frame (or into the decoder's
 * reassembly buffer for a reassembled datagram, valid until the next
 * gcp_decode call).
 */
struct gcp_pkt {
	uint64_t ts_ns;
	uint32_t wire_len;     /* frame length on the wire */
	uint32_t ip_len;       /* innermost IP datagram length (v4 total length; v6 40 + payload length) */
	struct gcp_addr src, dst;
	uint16_t sport, dport; /* 0 for protocols without ports */
	uint8_t ip_version;    /* 4 or 6 */
	uint8_t l4proto;       /* IPPROTO_* */
	uint8_t tcp_flags;
	uint8_t nvlan;         /* outer VLAN ids kept, outermost first */
	uint16_t vlan[GCP_MAX_VLAN];
	uint8_t tunnel;        /* enum gcp_tunnel of the outermost tunnel */
	uint8_t has_vni;
	uint16_t flags;        /* enum gcp_pkt_flags */
	uint32_t vni;          /* VXLAN/Geneve VNI */
	uint32_t tcp_seq, tcp_ack;
	uint16_t tcp_win;
	const uint8_t *payload; /* L4 payload */
	uint32_t payload_len;   /* bytes present at payload */
	uint32_t payload_wire_len; /* payload length the headers announce */
};

/* Decoder counters (folded into gcp_stats by the engine). */
struct gcp_decode_stats {
	uint64_t errors;
	uint64_t non_ip;
	uint64_t truncated;
	uint64_t unsupported_link;
	uint64_t tunnels;
	uint64_t frags;
	uint64_t frags_reassembled;
	uint64_t frags_dropped;
	uint64_t frags_overlap;    /* fragments that overlapped held data (first wins) */
};

enum gcp_decode_result {
	GCP_DEC_OK = 0,     /* *out describes an IP packet */
	GCP_DEC_HELD = 1,   /* a fragment was stored; nothing to process yet */
	GCP_DEC_SKIP = 2,   /* not IP (ARP, LLDP, ...), counted */
	GCP_DEC_ERROR = 3,  /* malformed or truncated, counted */
};

struct gcp_frag_table; /* IPv4/IPv6 fragment reassembly, ipfrag.c */

struct gcp_decoder {
	struct gcp_frag_table *frags;
	struct gcp_decode_stats st;
};

struct gcp_decode_limits {
	uint32_t max_datagrams;  /* concurrent datagrams in reassembly */
	uint32_t timeout_s;
};

int gcp_decoder_init(struct gcp_decoder *d, const struct gcp_decode_limits *lim);
void gcp_decoder_fini(struct gcp_decoder *d);

/* Decode one frame. Returns enum gcp_decode_result. */
int gcp_decode(struct gcp_decoder *d, const struct gcp_packet *in, struct gcp_pkt *out);

/* Drop fragment state older than the timeout. */
void gcp_decoder_expire(struct gcp_decoder *d, uint64_t now_ns);

/* ---- ipfrag.c ------------------------------------------------------- */

struct gcp_frag_table *gcp_frag_create(uint32_t max_datagrams, uint32_t timeout_s);
/* Heap bytes a table for max_datagrams takes (its whole life: preallocated). */
uint64_t gcp_frag_mem(uint32_t max_datagrams);
void gcp_frag_destroy(struct gcp_frag_table *t);

/*
 * Offer one fragment (the IP header + fragment payload). key fields come
 * from the IP header. Returns 1 and sets *dgram and *len to the complete
 * datagram's L4 bytes (valid until the next call) when this fragment
 * completes it, 0 when held, -1 when dropped (counted in st).
 */
struct gcp_frag_in {
	uint8_t ip_version;
	struct gcp_addr src, dst;
	uint32_t id;           /* IPv4 16-bit id or IPv6 32-bit id */
	uint8_t proto;         /* upper-layer protocol */
	uint32_t offset;       /* byte offset of this fragment's data */
	bool more;             /* MF flag */
	const uint8_t *data;   /* fragment data (after IP/frag header) */
	uint32_t len;
	uint64_t ts_ns;
};

int gcp_frag_offer(struct gcp_frag_table *t, const struct gcp_frag_in *f,
		   const uint8_t **dgram, uint32_t *len, struct gcp_decode_stats *st);
void gcp_frag_expire(struct gcp_frag_table *t, uint64_t now_ns, struct gcp_decode_stats *st);

/* Text form of an address (inet_ntop); buf >= 46 bytes. */
const char *gcp_addr_str(const struct gcp_addr *a, int ip_version, char *buf, size_t len);

#endif /* GCP_DECODE_H */
