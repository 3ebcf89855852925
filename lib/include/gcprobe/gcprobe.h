/* SPDX-License-Identifier: BSD-3-Clause */
/** @file gcprobe.h
 * @brief libgcprobe public API: feed packets, receive C.4 records.
 *
 * One engine is one worker: it owns its flow table, reassembly buffers
 * and dissector state, and is not thread-safe. Run one engine per core
 * (shared-nothing) and steer both directions of a flow to the same one.
 *
 * Records are MessagePack maps laid out as ../shared/spec/C4-SCHEMA.md
 * says; gcp_record_to_json() renders the same record as one JSON line.
 */
#ifndef GCPROBE_GCPROBE_H
#define GCPROBE_GCPROBE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(GCP_BUILDING_LIB)
#define GCP_API __attribute__((visibility("default")))
#else
#define GCP_API
#endif

#define GCP_VERSION_MAJOR 0
#define GCP_VERSION_MINOR 1
#define GCP_VERSION_PATCH 0
#define GCP_VERSION_STRING "0.1.0"

/** Status codes: 0 is success, failures are negative. */
enum gcp_status {
	GCP_OK = 0,
	GCP_ERR_INVAL = -1,       /**< bad argument or option */
	GCP_ERR_NOMEM = -2,       /**< allocation failed */
	GCP_ERR_IO = -3,          /**< read/write/open failed */
	GCP_ERR_FORMAT = -4,      /**< corrupt or unknown file format */
	GCP_ERR_UNSUPPORTED = -5, /**< feature or link type not supported */
	GCP_ERR_TRUNCATED = -6,   /**< input ended inside a record/packet */
	GCP_ERR_EOF = -7,         /**< no more packets */
	GCP_ERR_FULL = -8,        /**< a configured limit was reached */
};

/** Human-readable text for a gcp_status value (never NULL). */
GCP_API const char *gcp_strerror(int status);

/** Library version string, e.g. "0.1.0". */
GCP_API const char *gcp_version(void);

/** Record types; combine as a bit mask for subscriptions. */
enum gcp_record_type {
	GCP_REC_TCP = 1u << 0,
	GCP_REC_HTTP = 1u << 1,
	GCP_REC_DNS = 1u << 2,
	GCP_REC_MAIL = 1u << 3,
	GCP_REC_FTP = 1u << 4,
	GCP_REC_INVENTORY = 1u << 5,
	GCP_REC_STATS = 1u << 6,
	GCP_REC_ALL = 0x7fu,
};

/** Name of one record type as written in the record's "type" key. */
GCP_API const char *gcp_record_type_name(enum gcp_record_type type);

/** One encoded record, valid only during the callback. */
struct gcp_record {
	enum gcp_record_type type;
	uint64_t flow_id;      /**< 0 when the record belongs to no flow */
	const uint8_t *data;   /**< one MessagePack map */
	size_t len;
};

/** Called for every record of a subscribed type. */
typedef void (*gcp_record_cb)(const struct gcp_record *rec, void *user);

/** What a tenant map entry matches on. */
enum gcp_tenant_kind { GCP_TENANT_VLAN = 0, GCP_TENANT_VNI = 1 };

/**
 * One tenant map entry: flows whose outermost VLAN id (GCP_TENANT_VLAN)
 * or VXLAN/Geneve VNI (GCP_TENANT_VNI) equals id get this tenant label.
 */
struct gcp_tenant_map {
	uint32_t id;
	uint8_t kind;       /**< enum gcp_tenant_kind */
	const char *tenant;
};

/** Collector node kind (C.4 node_type). */
enum gcp_node_type { GCP_NODE_PHYSICAL = 0, GCP_NODE_VIRTUAL = 1 };

/**
 * Engine options. Set .sz = sizeof(struct gcp_engine_opts) so that the
 * library can tell which fields a caller compiled against; zeroed
 * fields take the documented defaults. Use GCP_ENGINE_OPTS_INIT.
 */
struct gcp_engine_opts {
	size_t sz;
	const char *node_name;   /**< default: host name */
	enum gcp_node_type node_type;
	const char *engine_name; /**< default: "gcprobe/<version>" */
	const char *agent_ip;    /**< omitted from records when NULL */
	const char *tenant;      /**< tenant label put on every record */
	uint32_t max_flows;      /**< flow table capacity; default 65536 */
	uint32_t tcp_idle_s;     /**< TCP idle timeout; default 300 s */
	uint32_t udp_idle_s;     /**< UDP idle timeout; default 60 s */
	uint32_t tcp_close_s;    /**< linger after FIN/RST; default 5 s */
	uint32_t conn_window_s;  /**< conn_count window; default 60 s */
	uint32_t max_frag_datagrams; /**< IP datagrams in reassembly; default 1024 */
	uint32_t frag_timeout_s; /**< IP fragment timeout; default 30 s */
	uint32_t reasm_flow_bytes;   /**< out-of-order bytes per flow direction; default 256 KiB */
	uint64_t reasm_total_bytes;  /**< out-of-order bytes per engine; default 64 MiB */
	uint32_t stream_pending_bytes; /**< unparsed tail a dissector may hold; default 64 KiB */
	uint32_t body_cap;       /**< HTTP body bytes kept per message; default 4096, at most 128 KiB */
	int decompress;          /**< gunzip/inflate HTTP bodies: 1 yes (default), -1 no */
	uint32_t dns_timeout_s;  /**< unanswered DNS query timeout; default 10 s */
	uint32_t worker_id;      /**< index of this engine among workers: keeps flow_id unique across them */
	/**
	 * Port-independent protocol identification with Hyperscan
	 * signatures on the first bytes of each direction: 1 on (default),
	 * -1 off (dissectors are then chosen by port hint + content probe).
	 */
	int hs_ident;
	uint32_t hs_streams;     /**< flow directions identified at once; default 4096 */
	/**
	 * Tenant by VLAN/VNI (copied at create). A record's tenant is the
	 * entry for its flow's VNI, else for its outermost VLAN id, else
	 * .tenant. A VLAN entry's id must be < 4096, a VNI's < 2^24.
	 */
	const struct gcp_tenant_map *tenants;
	unsigned ntenants;
	/**
	 * Application memory: dissector state, unparsed tails, HTTP bodies,
	 * kept probe bytes (one pool; blocks are recycled, never freed on
	 * the packet path). Default 256 MiB. What the cap refuses is counted
	 * in gcp_stats.mem_limit_hits (the flow loses that state, records
	 * are cut short or skipped; the engine keeps going).
	 */
	uint64_t app_mem_bytes;
	/**
	 * Key of the flow table hash. 0 (default): random per engine
	 * (getrandom), so traffic cannot be crafted to collide in the
	 * table. Set it only for reproducible tests.
	 */
	uint64_t hash_seed;
};

#define GCP_ENGINE_OPTS_INIT { .sz = sizeof(struct gcp_engine_opts) }

/** Opaque engine handle (one per worker). */
struct gcp_engine;

/**
 * Worst-case heap memory in bytes of one engine created with opts (NULL:
 * defaults), whatever the traffic: the flow table, fragment table and
 * Hyperscan streams (allocated at create), the reassembly pool
 * (reasm_total_bytes) and the application pool (app_mem_bytes), both
 * with malloc's per-block overhead, the record builder (1 MiB) and the
 * expected-connection table. A content rule set's scratch is extra.
 * Every allocation that grows with traffic draws on one of these caps.
 * Returns 0 when opts are invalid. Formula: docs/RELIABILITY.md.
 */
GCP_API uint64_t gcp_engine_mem_budget(const struct gcp_engine_opts *opts);

/** Create an engine; *out receives it. Returns 0 or a gcp_status. */
GCP_API int gcp_engine_create(const struct gcp_engine_opts *opts,
			      struct gcp_engine **out);

/**
 * Subscribe to record types. Only the dissectors that produce a
 * subscribed type run; call again to change (replaces the previous
 * subscription). A NULL callback unsubscribes. A flow whose payload no
 * subscribed type needs (no dissector for it, and for TCP no tcp record)
 * is tracked without reassembly or protocol identification; a new
 * subscription applies to flows created after it.
 */
GCP_API int gcp_engine_subscribe(struct gcp_engine *eng, unsigned type_mask,
				 gcp_record_cb cb, void *user);

/** Link types are pcap LINKTYPE_* values. */
enum gcp_linktype {
	GCP_LINK_NULL = 0,       /**< BSD loopback, host byte order family */
	GCP_LINK_ETHERNET = 1,
	GCP_LINK_RAW = 101,      /**< raw IPv4/IPv6 */
	GCP_LINK_LOOP = 108,     /**< OpenBSD loopback, network byte order */
	GCP_LINK_LINUX_SLL = 113,
	GCP_LINK_IPV4 = 228,
	GCP_LINK_IPV6 = 229,
	GCP_LINK_LINUX_SLL2 = 276,
};

/** One packet as the embedder has it; the bytes are not copied. */
struct gcp_packet {
	const uint8_t *data;
	uint32_t caplen;   /**< bytes at data */
	uint32_t wirelen;  /**< length on the wire (>= caplen) */
	uint64_t ts_ns;    /**< capture time, ns since the Unix epoch (UTC) */
	int linktype;      /**< enum gcp_linktype value */
};

/**
 * Process one packet. Records that the packet completes are delivered
 * to the subscriber before this returns. Malformed packets are counted
 * (see gcp_engine_stats) and return 0: only misuse is an error.
 */
GCP_API int gcp_engine_feed(struct gcp_engine *eng, const struct gcp_packet *pkt);

/** Process a burst of packets (preferred: lets the engine prefetch). */
GCP_API int gcp_engine_feed_burst(struct gcp_engine *eng,
				  const struct gcp_packet *pkts, unsigned n);

/**
 * Advance the engine clock without a packet (idle capture): expires
 * flows, fragments and DNS queries whose timeouts passed.
 */
GCP_API int gcp_engine_advance(struct gcp_engine *eng, uint64_t now_ns);

/** End every open flow and emit its records (shutdown, end of file). */
GCP_API int gcp_engine_flush(struct gcp_engine *eng);

/** Free the engine. Does not flush: call gcp_engine_flush() first. */
GCP_API void gcp_engine_destroy(struct gcp_engine *eng);

/** Counters. Set .sz = sizeof(struct gcp_stats) before the call. */
struct gcp_stats {
	size_t sz;
	uint64_t pkts;             /**< packets fed */
	uint64_t bytes;            /**< wire bytes fed */
	uint64_t decode_errors;    /**< malformed at some layer */
	uint64_t non_ip;           /**< ARP, LLDP, ... (not errors) */
	uint64_t truncated;        /**< capture shorter than headers */
	uint64_t unsupported_link; /**< link type not decoded */
	uint64_t tunnels;          /**< packets decapsulated */
	uint64_t frags;            /**< IP fragments seen */
	uint64_t frags_reassembled;/**< datagrams completed */
	uint64_t frags_dropped;    /**< fragments dropped: table full, overlap, timeout */
	uint64_t flows_created;
	uint64_t flows_ended;
	uint64_t flows_evicted;    /**< ended early because the table was full */
	uint64_t flow_table_full;  /**< packets not tracked: no slot */
	uint64_t reasm_ooo_bytes;  /**< bytes buffered out of order */
	uint64_t reasm_limit_hits; /**< per-flow or engine budget hit (gap made) */
	uint64_t reasm_missed_bytes;
	uint64_t pending_limit_hits; /**< dissector tail exceeded stream_pending_bytes */
	uint64_t records;          /**< records emitted */
	uint64_t records_by_type[8]; /**< indexed by bit position of the type */
	uint64_t dissector_errors; /**< protocol violations seen by dissectors */
	uint64_t hs_identified;    /**< flows named by a Hyperscan signature */
	uint64_t hs_streams_full;  /**< flow directions not identified: stream pool empty */
	uint64_t rules_tagged;     /**< records that got a "rules" key */
	uint64_t rules_hits_dropped; /**< rule ids beyond the per-record cap (16) */
	uint64_t rules_swaps;      /**< rule sets taken up by the engine */
	uint64_t frags_overlap;    /**< fragments overlapping held data (first copy kept) */
	uint64_t mem_limit_hits;   /**< allocations refused by a memory cap (pools, record size) */
	uint64_t mem_budget;       /**< gcp_engine_mem_budget() of this engine, bytes */
	uint64_t records_failed;   /**< records not delivered: over the size cap or malformed build */
	/* Appended later (read them only when the returned sz covers them). */
	uint64_t stream_resyncs;   /**< TCP directions whose dissector found the next message
				    *   after a reassembly gap (DNS, TLS; HTTP also after a
				    *   malformed header block) */
	uint64_t expect_added;     /**< expected connections announced (FTP PASV/EPSV/PORT/EPRT) */
	uint64_t expect_matched;   /**< expected connections that arrived and were attached */
	uint64_t expect_full;      /**< announcements refused: expectation table full */
	uint64_t expect_expired;   /**< announcements that timed out unmatched */
	uint64_t hs_scan_errors;   /**< Hyperscan identification scans that failed (direction
				    *   not named) */
	uint64_t rules_scan_errors; /**< content-rule scans that failed (value not tagged) */
};

/** Copy the engine's counters into *st (st->sz must be set). */
GCP_API int gcp_engine_stats(const struct gcp_engine *eng, struct gcp_stats *st);

/** JSON rendering options. */
enum gcp_json_flags { GCP_JSON_DEFAULT = 0 };

/**
 * Render one MessagePack record as a JSON object followed by '\n'.
 * Timestamps become RFC 3339 UTC strings with microseconds; bin values
 * become strings when valid UTF-8, else base64 with a sibling key
 * "<key>_base64": true. Returns bytes written (excluding the NUL) or a
 * negative gcp_status; GCP_ERR_FULL when buf is too small.
 */
GCP_API int gcp_record_to_json(const uint8_t *data, size_t len, char *buf,
			       size_t bufsz, unsigned flags);

/* ---- content rules ------------------------------------------------- */

/**
 * A compiled set of content rules (docs/RULES.md): regular expressions
 * over the record keys host, url, qname and account. A record whose
 * watched value matches gets "rules": [ids...]. Reference counted and
 * read-only: one set may serve every engine.
 */
struct gcp_rules;

/**
 * Compile rules text, one rule a line:
 *   id=1001 field=host pattern=/\.example\.gov$/i
 * On error *out is NULL and err (when errlen > 0) says which line and
 * rule id failed and why; returns GCP_ERR_FORMAT (syntax or regex),
 * GCP_ERR_INVAL or GCP_ERR_NOMEM. Empty text gives an empty set.
 */
GCP_API int gcp_rules_compile(const char *text, struct gcp_rules **out, char *err,
			      size_t errlen);

/** Number of rules in a set. */
GCP_API unsigned gcp_rules_count(const struct gcp_rules *rules);

/**
 * Make rules the engine's active set (NULL: no rules). Unlike the other
 * engine calls this one may run on any thread while the engine's worker
 * feeds packets: scratch memory is allocated here, and the worker takes
 * the set up at its next burst boundary (feed, feed_burst, advance,
 * flush); records from then on are tagged with it. The engine keeps its
 * own reference; the previous set is released once no engine uses it.
 */
GCP_API int gcp_engine_set_rules(struct gcp_engine *eng, struct gcp_rules *rules);

/** Drop the caller's reference (engines keep theirs). NULL is a no-op. */
GCP_API void gcp_rules_free(struct gcp_rules *rules);

/* ---- capture sources ------------------------------------------------ */

/** Opaque capture source (pcap/pcapng file; live backends in probe/). */
struct gcp_capture;

/** Capture counters. */
struct gcp_capture_stats {
	size_t sz;
	uint64_t pkts;
	uint64_t bytes;
	uint64_t truncated;  /**< a packet cut short by end of file */
	uint64_t dropped;    /**< dropped by kernel/NIC where known */
};

/**
 * Open a pcap (µs or ns) or pcapng file. On failure *out is NULL and
 * gcp_capture_error(NULL) tells why.
 */
GCP_API int gcp_capture_open_file(const char *path, struct gcp_capture **out);

/**
 * Read up to n packets. Returns the number read (0 at end of input) or
 * a negative gcp_status. Packet bytes stay valid until the next call.
 * A truncated last packet is counted, not returned, and ends input.
 */
GCP_API int gcp_capture_rx_burst(struct gcp_capture *cap, struct gcp_packet *pkts,
				 unsigned n);

GCP_API int gcp_capture_stats(const struct gcp_capture *cap,
			      struct gcp_capture_stats *st);

/**
 * Last error text for the capture (file name and reason). With a NULL
 * capture: why this thread's last gcp_capture_open_file() failed.
 */
GCP_API const char *gcp_capture_error(const struct gcp_capture *cap);

GCP_API void gcp_capture_close(struct gcp_capture *cap);

#ifdef __cplusplus
}
#endif
#endif /* GCPROBE_GCPROBE_H */
