/* SPDX-License-Identifier: BSD-3-Clause */
/* Capture backends: control calls apart from the fast-path rx_burst,
 * as DPDK separates eth_dev_ops from rte_eth_fp_ops. The pcap-file
 * backend is an ordinary backend so golden tests use the real path. */
#ifndef GCP_CAPTURE_H
#define GCP_CAPTURE_H

#include "gcprobe/gcprobe.h"

struct gcp_capture;

struct gcp_capture_ops {
	const char *name;
	int (*open)(struct gcp_capture *cap, const char *spec);
	int (*rx_burst)(struct gcp_capture *cap, struct gcp_packet *pkts, unsigned n);
	void (*close)(struct gcp_capture *cap);
	/* Optional, for live backends whose packets point into frames the
	 * kernel or NIC lends (AF_XDP UMEM, DPDK mbufs): */
	/* give back the frames of the last rx_burst once the engine is done
	 * with them (fill ring, mbuf free); rx_burst does it too if not called */
	void (*release)(struct gcp_capture *cap);
	/* refresh st from kernel/NIC counters (ring drops, imissed) */
	int (*stats)(struct gcp_capture *cap);
	/* block up to timeout_ms for packets (poll on the socket); absent:
	 * the caller sleeps */
	int (*wait)(struct gcp_capture *cap, int timeout_ms);
};

struct gcp_capture {
	const struct gcp_capture_ops *ops;
	void *priv;
	struct gcp_capture_stats st;
	char err[256];
};

extern const struct gcp_capture_ops gcp_capture_pcapfile_ops;

#endif /* GCP_CAPTURE_H */
