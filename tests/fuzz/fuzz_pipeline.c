/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz the whole engine: input = frames, each [u8 linktype-sel][u16 len][bytes],
 * 1 ms apart (every dissector, flow table, reassembly, hsid, records). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every link type the engine accepts, in pcap2seeds.py's LINK_SEL order. */
static const int links[] = { GCP_LINK_ETHERNET, GCP_LINK_RAW,  GCP_LINK_LINUX_SLL,
			     GCP_LINK_LINUX_SLL2, GCP_LINK_NULL, GCP_LINK_LOOP,
			     GCP_LINK_IPV4,	  GCP_LINK_IPV6 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gcp_engine *eng = fuzz_engine();
	uint64_t ts = 1700000000ull * 1000000000ull;

	while (size >= 3) {
		int link = links[data[0] % (sizeof(links) / sizeof(links[0]))];
		size_t len = (size_t)data[1] << 8 | data[2];

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		/* Exact-size copy so ASan sees any read past the frame. */
		uint8_t *frame = malloc(len ? len : 1);

		if (!frame)
			break;
		memcpy(frame, data, len);
		struct gcp_packet p = { frame, (uint32_t)len, (uint32_t)len, ts, link };

		gcp_engine_feed(eng, &p);
		free(frame);
		data += len;
		size -= len;
		ts += 1000000;
	}
	fuzz_engine_rewind(eng);
	return 0;
}
