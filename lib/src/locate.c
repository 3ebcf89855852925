/* SPDX-License-Identifier: BSD-3-Clause */
/* The outer IP address pair of a frame (locate.h). */
#include <stdbool.h>

#include "cursor.h"
#include "locate.h"

enum { ET_IPV4 = 0x0800, ET_IPV6 = 0x86dd };

static bool is_vlan_tpid(uint16_t type)
{
	return type == 0x8100 || type == 0x88a8 || type == 0x9100;
}

/*
 * The EtherType of the network header after the link header, with c
 * left on that header; 0 when there is none. Raw IP and loopback carry
 * no EtherType: the version nibble stands for it.
 */
static uint16_t link_ethertype(int linktype, struct gcp_cur *c)
{
	uint16_t type;

	switch (linktype) {
	case GCP_LINK_ETHERNET:
		gcp_cur_skip(c, 12);
		type = gcp_cur_be16(c);
		/* 802.1Q/802.1ad tags: the TCI, then the next EtherType */
		while (!c->err && is_vlan_tpid(type) && gcp_cur_left(c) >= 4) {
			gcp_cur_skip(c, 2);
			type = gcp_cur_be16(c);
		}
		return c->err ? 0 : type;
	case GCP_LINK_LINUX_SLL: /* 16 bytes, protocol last */
		gcp_cur_skip(c, 14);
		type = gcp_cur_be16(c);
		return c->err ? 0 : type;
	case GCP_LINK_LINUX_SLL2: /* 20 bytes, protocol first */
		type = gcp_cur_be16(c);
		gcp_cur_skip(c, 18);
		return c->err ? 0 : type;
	case GCP_LINK_NULL:
	case GCP_LINK_LOOP:
		gcp_cur_skip(c, 4); /* address family: the IP version says the same */
		/* fall through */
	case GCP_LINK_RAW:
	case GCP_LINK_IPV4:
	case GCP_LINK_IPV6:
		if (gcp_cur_left(c) < 1)
			return 0;
		return (c->p[0] >> 4) == 6 ? ET_IPV6 : ET_IPV4;
	default:
		return 0;
	}
}

int gcp_locate_outer_ip(const struct gcp_packet *p, struct gcp_ip_pair *out)
{
	struct gcp_cur c = gcp_cur_make(p->data, p->caplen);
	uint16_t type = link_ethertype(p->linktype, &c);
	size_t left = gcp_cur_left(&c);

	/* RFC 791 3.1: addresses at 12 and 16; RFC 8200 3: at 8 and 24. */
	if (type == ET_IPV4 && left >= 20 && (c.p[0] >> 4) == 4)
		*out = (struct gcp_ip_pair){ c.p + 12, c.p + 16, 4 };
	else if (type == ET_IPV6 && left >= 40 && (c.p[0] >> 4) == 6)
		*out = (struct gcp_ip_pair){ c.p + 8, c.p + 24, 16 };
	else
		return -1;
	return 0;
}
