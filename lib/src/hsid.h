/* SPDX-License-Identifier: BSD-3-Clause */
/* Port-independent protocol identification: one Hyperscan stream-mode
 * database of anchored signatures (shared read-only by all engines),
 * per-engine scratch and a bounded pool of streams recycled by reset. */
#ifndef GCP_HSID_H
#define GCP_HSID_H

#include <stdbool.h>
#include <stdint.h>

#include <hs/hs.h>

/* Bytes of each direction scanned before identification gives up. */
#define GCP_HSID_SCAN_MAX 512u

/* Identified protocols (0: none). gcp_hsid_name() gives the app name. */
enum gcp_hsid_app {
	GCP_HSID_NONE = 0,
	GCP_HSID_HTTP,
	GCP_HSID_TLS,
	GCP_HSID_SSH,
	GCP_HSID_SMTP,
	GCP_HSID_POP3,
	GCP_HSID_IMAP,
	GCP_HSID_FTP,
	GCP_HSID_DNS,
	GCP_HSID_HTTP2,
	GCP_HSID_COUNT,
};

struct gcp_hsdb; /* compiled signatures: once per process, shared read-only */

/* One engine's identification state. */
struct gcp_hsid {
	struct gcp_hsdb *db;     /* NULL: identification off */
	hs_scratch_t *scratch;
	hs_stream_t **streams;   /* pool: [0, cap) opened, at most max */
	uint32_t *free_ids;      /* stack of free pool indexes */
	uint32_t nfree, cap, max;
	uint64_t st_full;        /* a direction not scanned: pool empty */
	uint64_t st_ident;       /* flows identified */
	uint64_t st_errors;      /* hs_scan_stream failed: direction given up */
};

/* Per flow direction: pool index + 1 (0: none) and bytes scanned. */
struct gcp_hsid_dir {
	uint32_t sid;
	uint16_t seen;           /* >= GCP_HSID_SCAN_MAX: direction finished */
};

/* Take the shared database (compiled on first use); up to nstreams streams. */
int gcp_hsid_init(struct gcp_hsid *h, uint32_t nstreams);
/* Most heap bytes an identifier with nstreams streams takes (0: Hyperscan off). */
uint64_t gcp_hsid_mem(uint32_t nstreams);
void gcp_hsid_fini(struct gcp_hsid *h);

/*
 * Scan the next n in-order bytes of one direction. Returns the protocol
 * once identified (the stream is then released), else GCP_HSID_NONE.
 */
unsigned gcp_hsid_scan(struct gcp_hsid *h, struct gcp_hsid_dir *hd, const uint8_t *d,
		       uint32_t n);
/* Stop scanning a direction (hole, dissector chosen, flow end). */
void gcp_hsid_stop(struct gcp_hsid *h, struct gcp_hsid_dir *hd);

static inline bool gcp_hsid_live(const struct gcp_hsid *h, const struct gcp_hsid_dir *hd)
{
	return h->db && hd->seen < GCP_HSID_SCAN_MAX;
}

/* "http", "tls", ... (the dissector name where one exists); NULL for 0. */
const char *gcp_hsid_name(unsigned app);

#endif /* GCP_HSID_H */
