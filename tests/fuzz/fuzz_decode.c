/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz the decoder (lib/src/decode.c), IP fragment reassembly
 * (ipfrag.c) and the outer-IP locator (locate.c) without the flow
 * table: byte 0 picks the link type (bits 0-2) and the framing (bit 3
 * clear: the rest is one frame; set: frames [u16 len][bytes], for
 * fragment trains). Each decoded packet's views must lie inside its
 * frame or the reassembly buffer, and so must the outer address pair
 * the locator finds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "locate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int links[] = { GCP_LINK_ETHERNET, GCP_LINK_RAW,  GCP_LINK_LINUX_SLL,
			     GCP_LINK_LINUX_SLL2, GCP_LINK_NULL, GCP_LINK_LOOP,
			     GCP_LINK_IPV4,	  GCP_LINK_IPV6 };

/* Views inside the frame are checked exactly; a reassembled payload
 * lives in the decoder's buffer and is read in full so ASan checks it. */
static void check(const struct gcp_packet *in, const struct gcp_pkt *p)
{
	if (p->ip_version != 4 && p->ip_version != 6)
		abort();
	if (!p->payload_len)
		return;
	if (!p->payload)
		abort();
	if (p->flags & GCP_PKT_REASSEMBLED) {
		volatile uint8_t sum = 0;

		for (uint32_t i = 0; i < p->payload_len; i++)
			sum = (uint8_t)(sum + p->payload[i]);
		(void)sum;
		return;
	}
	if (p->payload < in->data || p->payload_len > in->caplen ||
	    (size_t)(p->payload - in->data) > in->caplen - p->payload_len)
		abort();
}

static void check_outer(const struct gcp_packet *in)
{
	struct gcp_ip_pair ip;

	if (gcp_locate_outer_ip(in, &ip))
		return;
	if ((ip.alen != 4 && ip.alen != 16) || ip.src < in->data || ip.dst <= ip.src ||
	    (size_t)(ip.dst - in->data) > in->caplen - ip.alen)
		abort();
}

static void decode_one(struct gcp_decoder *d, const uint8_t *frame, size_t len, int link,
		       uint64_t ts)
{
	uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees over-reads */
	struct gcp_pkt p;

	if (!copy)
		abort();
	memcpy(copy, frame, len);
	struct gcp_packet in = { copy, (uint32_t)len, (uint32_t)len, ts, link };

	check_outer(&in);
	if (gcp_decode(d, &in, &p) == GCP_DEC_OK)
		check(&in, &p);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gcp_decoder dec;
	static int ready;
	uint64_t ts = 1700000000ull * 1000000000ull;

	if (!ready) {
		struct gcp_decode_limits lim = { 8, 30 };

		if (gcp_decoder_init(&dec, &lim) != 0)
			abort();
		ready = 1;
	}
	if (size < 1)
		return 0;
	int link = links[data[0] & 7];
	int framed = data[0] & 8;

	data++;
	size--;
	if (!framed) {
		decode_one(&dec, data, size, link, ts);
	} else {
		while (size >= 2) {
			size_t len = (size_t)data[0] << 8 | data[1];

			data += 2;
			size -= 2;
			if (len > size)
				len = size;
			decode_one(&dec, data, len, link, ts);
			data += len;
			size -= len;
			ts += 1000000; /* 1 ms apart: inside the fragment timeout */
		}
	}
	/* Forget held fragments: the next input starts empty. */
	gcp_decoder_expire(&dec, UINT64_MAX);
	memset(&dec.st, 0, sizeof(dec.st));
	return 0;
}
