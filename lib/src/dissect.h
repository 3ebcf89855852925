/* SPDX-License-Identifier: BSD-3-Clause */
/* The dissector interface: one const descriptor per protocol, found in
 * dissectors/<name>/ and listed by CMake (dissectors_gen.c). The parse
 * contract follows Suricata's AppLayerResult: status, bytes consumed,
 * bytes still needed; probe answers yes/maybe/no (Retina). */
#ifndef GCP_DISSECT_H
#define GCP_DISSECT_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"
#include "gcprobe/gcprobe.h"
#include "record.h"

enum gcp_dir {
	GCP_DIR_C2S = 0, /* client (initiator) to server */
	GCP_DIR_S2C = 1,
};

enum gcp_l4_mask {
	GCP_L4_TCP = 1u << 0,
	GCP_L4_UDP = 1u << 1,
};

enum gcp_probe_result {
	GCP_PROBE_NO = 0,
	GCP_PROBE_MAYBE = 1, /* not enough bytes to tell yet */
	GCP_PROBE_YES = 2,
};

enum gcp_parse_status {
	GCP_PARSE_OK = 0,     /* consumed what it could; call again with more */
	GCP_PARSE_ERROR = 1,  /* protocol violation: stop parsing this flow */
	GCP_PARSE_DONE = 2,   /* nothing more wanted from this flow (e.g. TLS after handshake) */
};

/* Flags passed to parse(). */
enum gcp_parse_flags {
	GCP_PF_GAP = 1u << 0, /* data == NULL, len bytes are missing from the stream */
	GCP_PF_FIN = 1u << 1, /* no more data in this direction (data may be NULL, len 0) */
};

struct gcp_parse_result {
	uint8_t status;    /* enum gcp_parse_status */
	uint32_t consumed; /* bytes of data the dissector is done with */
	uint32_t needed;   /* hint: call again when this many more bytes are there (0: any) */
};

/* What a dissector may know about its flow (orientation already resolved). */
struct gcp_flow_info {
	uint64_t flow_id;
	uint64_t first_ts;      /* ns */
	const struct gcp_addr *cli, *srv;
	uint16_t cport, sport;
	uint8_t ip_version;
	uint8_t l4proto;        /* IPPROTO_TCP / IPPROTO_UDP */
};

/* Opaque: the engine's per-call context (engine + flow + current packet). */
struct gcp_dissect_ctx;

enum gcp_dissector_flags {
	GCP_DIS_PORT_ONLY = 1u << 0, /* only probed on its own ports (DNS) */
};

struct gcp_dissector {
	const char *name;        /* folder name; also the tcp record "app" value */
	unsigned flags;          /* enum gcp_dissector_flags */
	unsigned record_types;   /* enum gcp_record_type bits it emits */
	unsigned l4_mask;        /* enum gcp_l4_mask */
	const uint16_t *ports;   /* server ports tried first */
	unsigned nports;
	uint32_t state_size;     /* per-flow state, zeroed before init */
	/* Look at the first payload of a direction (dir) and say whether it is ours. */
	enum gcp_probe_result (*probe)(const uint8_t *data, uint32_t len, int dir);
	/* Optional: set up state (already zeroed). */
	void (*init)(void *state, struct gcp_dissect_ctx *ctx);
	/*
	 * TCP: in-order stream bytes of one direction. Unconsumed bytes are
	 * kept (bounded by stream_pending_bytes) and offered again with the
	 * next data. UDP: one whole datagram per call.
	 */
	struct gcp_parse_result (*parse)(void *state, struct gcp_dissect_ctx *ctx, int dir,
					 const uint8_t *data, uint32_t len, unsigned flags);
	/* Flow end: emit what is still pending, free what init/parse took. */
	void (*fini)(void *state, struct gcp_dissect_ctx *ctx);
};

/* ---- services the engine gives dissectors --------------------------- */

const struct gcp_flow_info *gcp_dctx_flow(const struct gcp_dissect_ctx *ctx);
/* Timestamp (ns) of the packet being processed (or of flow end). */
uint64_t gcp_dctx_now(const struct gcp_dissect_ctx *ctx);
const struct gcp_engine_opts *gcp_dctx_opts(const struct gcp_dissect_ctx *ctx);
/* Is anyone subscribed to this record type? Skip work when not. */
bool gcp_dctx_wants(const struct gcp_dissect_ctx *ctx, enum gcp_record_type type);
/*
 * Begin a record: the common keys (type, ts, ingest_ts, engine, node,
 * endpoints with the client as src, flow_id, vlan/vni/tenant,
 * ip_version, l4) are written; add type keys, then call
 * gcp_dctx_record_end(). Returns NULL when the type is not subscribed.
 */
struct gcp_rb *gcp_dctx_record_begin(struct gcp_dissect_ctx *ctx, enum gcp_record_type type,
				     uint64_t ts_ns);
void gcp_dctx_record_end(struct gcp_dissect_ctx *ctx);
/* Count a protocol anomaly (goes to gcp_stats.dissector_errors). */
void gcp_dctx_anomaly(struct gcp_dissect_ctx *ctx);
/* A TCP direction found its message framing again after losing it to a
 * gap (gcp_stats.stream_resyncs). Call once per regained direction. */
void gcp_dctx_resync(struct gcp_dissect_ctx *ctx);
/* Engine pool for per-transaction memory (recycled, bounded). */
void *gcp_dctx_alloc(struct gcp_dissect_ctx *ctx, size_t size);
void gcp_dctx_free(struct gcp_dissect_ctx *ctx, void *p, size_t size);

/*
 * Is the sender's FIN of direction dir seen (a TCP stream that really
 * ended, as opposed to one cut off by the capture or the flow timeout)?
 */
bool gcp_dctx_fin_seen(const struct gcp_dissect_ctx *ctx, int dir);

/* ---- expected connections (expect.c) --------------------------------- */

#define GCP_EXPECT_DATA_MAX 512 /* payload shared by announcer and expected flow */

/*
 * A connection announced by a control protocol (FTP PASV/PORT): the flow
 * orig -> resp:resp_port gets dis attached when it is created, without
 * probing. Any source port matches (active FTP servers connect from 20
 * or from anywhere). Both flows must be seen by the same engine: see
 * docs/ARCHITECTURE.md, "Expected connections".
 */
struct gcp_expect {
	const struct gcp_addr *orig, *resp;
	uint16_t resp_port;
	uint8_t ip_version, l4proto;
	const struct gcp_dissector *dis;
	const void *data;   /* copied into the entry (len <= GCP_EXPECT_DATA_MAX) */
	uint32_t len;
	uint32_t timeout_s; /* life while unmatched; 0: 60 s */
};

/* Register; returns a handle, 0 when the table is full (counted). */
uint64_t gcp_dctx_expect(struct gcp_dissect_ctx *ctx, const struct gcp_expect *x);
/* The entry's payload (both sides may write it), NULL once gone. */
void *gcp_dctx_expect_data(struct gcp_dissect_ctx *ctx, uint64_t h);
/* Drop an entry that no flow has matched yet (no-op once matched). */
void gcp_dctx_expect_cancel(struct gcp_dissect_ctx *ctx, uint64_t h);
/* In init() of an expected flow: its entry's handle (0 otherwise). The
 * flow owns the entry from then on and releases it in fini(). */
uint64_t gcp_dctx_expect_taken(const struct gcp_dissect_ctx *ctx);
void gcp_dctx_expect_release(struct gcp_dissect_ctx *ctx, uint64_t h);

/* ---- test support (engine.c): drive one dissector without packets ---- */

/*
 * A context around one synthetic flow (client cli:cport, server
 * srv:sport, l4proto IPPROTO_TCP/UDP) whose records are kept in memory
 * for the test to inspect. The engine options apply (body_cap, ...).
 */
struct gcp_dissect_ctx *gcp_test_dctx_new(const struct gcp_engine_opts *opts, uint8_t l4proto,
					  const char *cli, uint16_t cport, const char *srv,
					  uint16_t sport);
void gcp_test_dctx_set_now(struct gcp_dissect_ctx *ctx, uint64_t ts_ns);
unsigned gcp_test_dctx_nrecords(const struct gcp_dissect_ctx *ctx);
/* Record i rendered as JSON (NUL-terminated, owned by ctx). */
const char *gcp_test_dctx_json(const struct gcp_dissect_ctx *ctx, unsigned i);
/* Record i as MessagePack. */
const uint8_t *gcp_test_dctx_msgpack(const struct gcp_dissect_ctx *ctx, unsigned i, size_t *len);
/*
 * Start over with the same context: records dropped, flow facts and
 * expectations cleared. Returns the engine pool bytes still outstanding
 * (non-zero after fini: the dissector leaked pool memory).
 */
uint64_t gcp_test_dctx_reset(struct gcp_dissect_ctx *ctx);
void gcp_test_dctx_free(struct gcp_dissect_ctx *ctx);

/* The generated list (dissectors_gen.c). */
extern const struct gcp_dissector *const gcp_dissectors[];
extern const unsigned gcp_dissector_count;

#endif /* GCP_DISSECT_H */
