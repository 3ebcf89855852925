/* SPDX-License-Identifier: BSD-3-Clause */
/* Where a frame's outer IP addresses are, without decoding it. */
#ifndef GCP_LOCATE_H
#define GCP_LOCATE_H

#include <stdint.h>

#include "gcprobe/gcprobe.h"

/* The outer IP address pair of a frame: views into the frame. */
struct gcp_ip_pair {
	const uint8_t *src, *dst;
	uint8_t alen; /* 4 (IPv4) or 16 (IPv6) */
};

/*
 * Find the outermost IP header after the link header (Ethernet with any
 * stack of 802.1Q/802.1ad tags, Linux cooked v1 and v2, raw IP, BSD
 * loopback) and point at its two addresses. Stateless and read-only: no
 * counters, no tunnels, no fragments, so any thread may call it on any
 * frame (the workers' software distributor hashes the pair before a
 * decoder sees the packet). 0, or -1 when the frame has no complete
 * outer IPv4/IPv6 header: not IP, an unknown link type, cut short.
 */
int gcp_locate_outer_ip(const struct gcp_packet *p, struct gcp_ip_pair *out);

#endif /* GCP_LOCATE_H */
