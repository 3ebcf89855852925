/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz the whole engine: input = frames, each [u8 linktype-sel][u16 len][bytes]. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gcprobe/gcprobe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int links[] = { GCP_LINK_ETHERNET, GCP_LINK_RAW, GCP_LINK_LINUX_SLL,
			     GCP_LINK_LINUX_SLL2, GCP_LINK_NULL, GCP_LINK_LOOP };

static void sink(const struct gcp_record *rec, void *user)
{
	char buf[8192];

	(void)user;
	(void)gcp_record_to_json(rec->data, rec->len, buf, sizeof(buf), 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gcp_engine_opts o = GCP_ENGINE_OPTS_INIT;
	struct gcp_engine *eng;
	uint64_t ts = 1700000000ull * 1000000000ull;

	o.node_name = "fuzz";
	o.max_flows = 64;
	o.max_frag_datagrams = 8;
	o.reasm_total_bytes = 1 << 20;
	if (gcp_engine_create(&o, &eng) != 0)
		return 0;
	gcp_engine_subscribe(eng, GCP_REC_ALL, sink, NULL);
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
	gcp_engine_flush(eng);
	gcp_engine_destroy(eng);
	return 0;
}
