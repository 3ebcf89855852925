/* SPDX-License-Identifier: BSD-3-Clause */
/* Public capture API: dispatch through the backend's ops table. */
#include "capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A failed open returns no handle, yet the caller still wants to know
 * why ("foo.pcap: not a pcap..."): keep that text per thread and hand it
 * out for gcp_capture_error(NULL).
 */
static _Thread_local char open_err[sizeof(((struct gcp_capture *)0)->err)];

static int capture_open(const struct gcp_capture_ops *ops, const char *spec,
			struct gcp_capture **out)
{
	struct gcp_capture *cap = calloc(1, sizeof(*cap));

	if (!cap) {
		snprintf(open_err, sizeof(open_err), "%s: out of memory", spec);
		return GCP_ERR_NOMEM;
	}
	cap->ops = ops;
	cap->st.sz = sizeof(cap->st);
	int rc = ops->open(cap, spec);
	if (rc) {
		memcpy(open_err, cap->err, sizeof(open_err));
		free(cap);
		return rc;
	}
	open_err[0] = '\0';
	*out = cap;
	return 0;
}

GCP_API int gcp_capture_open_file(const char *path, struct gcp_capture **out)
{
	if (!out)
		return GCP_ERR_INVAL;
	*out = NULL;
	if (!path) {
		snprintf(open_err, sizeof(open_err), "no capture file given");
		return GCP_ERR_INVAL;
	}
	return capture_open(&gcp_capture_pcapfile_ops, path, out);
}

GCP_API int gcp_capture_rx_burst(struct gcp_capture *cap, struct gcp_packet *pkts,
				 unsigned n)
{
	if (!cap || (!pkts && n))
		return GCP_ERR_INVAL;
	if (n > INT32_MAX)
		n = INT32_MAX; /* the count comes back as an int */
	return n ? cap->ops->rx_burst(cap, pkts, n) : 0;
}

/* Copy only as much as the caller's struct holds (it may be older). */
GCP_API int gcp_capture_stats(const struct gcp_capture *cap, struct gcp_capture_stats *st)
{
	if (!cap || !st || st->sz < sizeof(st->sz))
		return GCP_ERR_INVAL;
	size_t sz = st->sz < sizeof(*st) ? st->sz : sizeof(*st);
	memcpy((char *)st + sizeof(st->sz), (const char *)&cap->st + sizeof(st->sz),
	       sz - sizeof(st->sz));
	return 0;
}

GCP_API const char *gcp_capture_error(const struct gcp_capture *cap)
{
	return cap ? cap->err : open_err;
}

GCP_API void gcp_capture_close(struct gcp_capture *cap)
{
	if (!cap)
		return;
	cap->ops->close(cap);
	free(cap);
}
