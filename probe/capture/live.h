/* SPDX-License-Identifier: BSD-3-Clause */
/* Live capture backends (AF_XDP, DPDK): one gcp_capture per queue. */
#ifndef GCPROBE_LIVE_H
#define GCPROBE_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "xdp.h"

/* What a backend opens; run.c fills it from the options. */
struct live_opts {
	const char *iface;                /* AF_XDP: the interface */
	enum probe_xdp_mode xdp_mode;
	enum probe_xdp_attach xdp_attach;
	bool busy_poll;
	uint32_t umem_frames;             /* AF_XDP frames per queue */
	const char *dpdk_args;            /* DPDK: EAL arguments */
	uint16_t dpdk_port;
};

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
	int (*open)(const struct live_opts *o, struct gcp_capture **caps, unsigned nq,
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

#endif /* GCPROBE_LIVE_H */
