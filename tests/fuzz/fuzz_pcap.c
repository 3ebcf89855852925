/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz the whole pipeline from a capture file: the input is a pcap or
 * pcapng file, read by the file backend (cap_pcapfile.c) from a memfd,
 * every packet fed to one engine with all dissectors, every record
 * rendered as JSON (fuzz_engine.h). Note: the backend maps the file, so
 * a read past its end but inside the last page is not seen by ASan. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_engine.h"
#include "fuzz_memfd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gcp_engine *eng = fuzz_engine();
	struct gcp_capture *cap = NULL;
	struct gcp_packet pkts[32];
	int n;

	if (gcp_capture_open_file(fuzz_input_path(data, size), &cap) != 0) {
		if (cap || !gcp_capture_error(NULL))
			abort(); /* a failed open says why and returns nothing */
		return 0;
	}
	while ((n = gcp_capture_rx_burst(cap, pkts, 32)) > 0) {
		for (int i = 0; i < n; i++)
			if (pkts[i].caplen > pkts[i].wirelen && pkts[i].wirelen)
				abort(); /* the backend must clamp what it reports */
		gcp_engine_feed_burst(eng, pkts, (unsigned)n);
	}
	struct gcp_capture_stats st = { .sz = sizeof(st) };

	if (gcp_capture_stats(cap, &st) != 0)
		abort();
	gcp_capture_close(cap);
	fuzz_engine_rewind(eng);
	return 0;
}
