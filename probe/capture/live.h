/* SPDX-License-Identifier: BSD-3-Clause */
/* Live capture backends (AF_XDP, DPDK) and the multi-worker runner. */
#ifndef GCPROBE_LIVE_H
#define GCPROBE_LIVE_H

#include "capture.h"
#include "options.h"

/* Backend-specific counters of one queue, beyond gcp_capture_stats. */
struct live_qstats {
	uint64_t kernel_dropped;   /* AF_XDP rx_dropped; DPDK imissed (port) */
	uint64_t ring_full;        /* AF_XDP rx_ring_full */
	uint64_t fill_empty;       /* AF_XDP rx_fill_ring_empty_descs */
	uint64_t invalid;          /* AF_XDP rx_invalid_descs; DPDK ierrors (port) */
	uint64_t nombuf;           /* DPDK rx_nombuf (port) */
};

/*
 * A live backend opens one gcp_capture per queue; each belongs to the
 * worker that polls it (shared-nothing). Errors are one line in err.
 */
struct live_backend {
	const char *name;
	int (*open)(const struct probe_opts *o, struct gcp_capture **caps, unsigned nq,
		    char *err, size_t errsz);
	void (*qstats)(struct gcp_capture *cap, struct live_qstats *qs);
	void (*fini)(void); /* after every queue's capture is closed */
};

#ifdef GCP_WITH_AFXDP
extern const struct live_backend live_afxdp;
#endif
#ifdef GCP_WITH_DPDK
extern const struct live_backend live_dpdk;
#endif

/* Run with worker threads: live capture, or --read with --workers N. */
int probe_run_workers(const struct probe_opts *o);

#endif /* GCPROBE_LIVE_H */
