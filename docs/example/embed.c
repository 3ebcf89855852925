/* SPDX-License-Identifier: BSD-3-Clause */
/* Embedding libgcprobe: read a capture, print every http and dns record
 * as a JSON line. Build against the installed library:
 *   cc embed.c $(pkg-config --cflags --libs gcprobe) -o embed
 */
#include <gcprobe/gcprobe.h>
#include <stdio.h>

static void on_record(const struct gcp_record *rec, void *user)
{
	char line[65536];
	int n = gcp_record_to_json(rec->data, rec->len, line, sizeof(line), 0);

	(void)user;
	if (n > 0)
		fputs(line, stdout);
}

int main(int argc, char **argv)
{
	struct gcp_engine_opts opts = GCP_ENGINE_OPTS_INIT;
	struct gcp_engine *eng = NULL;
	struct gcp_capture *cap = NULL;
	struct gcp_packet pkts[64];
	int n, rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE.pcap\n", argv[0]);
		return 2;
	}
	opts.node_name = "embed-example";
	if (gcp_engine_create(&opts, &eng) != 0 || gcp_capture_open_file(argv[1], &cap) != 0) {
		fprintf(stderr, "embed: error: %s\n", cap ? gcp_capture_error(cap) : "cannot start");
		goto out;
	}
	gcp_engine_subscribe(eng, GCP_REC_HTTP | GCP_REC_DNS, on_record, NULL);
	while ((n = gcp_capture_rx_burst(cap, pkts, 64)) > 0)
		gcp_engine_feed_burst(eng, pkts, (unsigned)n);
	gcp_engine_flush(eng);
	rc = n < 0;
out:
	gcp_capture_close(cap);
	gcp_engine_destroy(eng);
	return rc;
}
