/* SPDX-License-Identifier: BSD-3-Clause */
/* eBPF taps (issue 7): attach/detach/pins, runtime policy, inventory drain and records. */
#ifndef GCPROBE_TAP_H
#define GCPROBE_TAP_H

#include <linux/bpf.h> /* enum xdp_action */
#include <linux/types.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tap_common.h"
#include "tap_pin.h"

/* Clocks of the tap code: wall time for record timestamps, monotonic for intervals. */
static inline uint64_t tap_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t tap_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#define TAP_TC_HANDLE 0x6763u
#define TAP_TC_PRIO 1u
#define TAP_MAX_LOCAL 64 /* --local prefixes */

enum tap_mode { TAP_MODE_TC, TAP_MODE_XDP };
enum tap_xdp_attach { TAP_XDP_AUTO, TAP_XDP_NATIVE, TAP_XDP_GENERIC };

/* ---- arguments (policy_arg.c, no BPF: unit-tested) ---- */

/* One policy entry: `policy DEV add KIND VALUE`. */
enum tap_pol_kind { TAP_POL_CIDR, TAP_POL_PORT, TAP_POL_PROTO, TAP_POL_VLAN, TAP_POL_VNI };

struct tap_pol_entry {
	enum tap_pol_kind kind;
	union {
		struct gcp_tap_lpm_key cidr;
		struct gcp_tap_port_key port;
		__u32 id; /* proto number, vlan id, vni */
	} u;
};

/* Parse KIND VALUE; 0, or -1 with one line (no prefix) in err. */
int tap_pol_parse(const char *kind, const char *value, struct tap_pol_entry *e, char *err,
		  size_t errsz);

/* "10.0.0.0/8", "fd00::/64", "192.0.2.1" (a host) into a v4-mapped LPM key. */
int tap_parse_cidr(const char *s, struct gcp_tap_lpm_key *k);

/* "A/n,B/m": at most max prefixes; -1 with one line in err. */
int tap_parse_cidr_list(const char *list, struct gcp_tap_lpm_key *keys, unsigned max,
			unsigned *n, char *err, size_t errsz);

/* Text of an LPM key ("10.0.0.0/8", "fd00::/64") and of a 16-byte address. */
void tap_cidr_str(const struct gcp_tap_lpm_key *k, char *buf, size_t n);
void tap_addr_str(const __u8 addr[16], char *buf, size_t n);

/* "tcp", "udp", "icmp", "ipv6-icmp", "sctp", "gre", else the number. */
const char *tap_l4_name(unsigned l4, char *buf, size_t n);
/* Name or number 0..255 -> protocol; -1 when neither. */
int tap_l4_parse(const char *s);

/* Bits of enum gcp_tap_dim as "cidr,port" ("-" when none). */
void tap_dims_str(__u32 dims, char *buf, size_t n);
const char *tap_policy_mode_name(__u32 mode);

/* ---- inventory lists and the record (inventory.c, no BPF: unit-tested) ---- */

struct tap_inv_item {
	union {
		struct { __u8 l4, ip_version; } proto;
		__u8 addr[16];
		struct { __u16 port; __u8 l4; } svc;
		struct { __u8 dir, locality; } dir;
	} k;
	uint64_t pkts, bytes;
};

struct tap_inv_list {
	struct tap_inv_item *v;
	size_t n, cap;
};

/* One interval of one tap. */
struct tap_inventory {
	char dev[IF_NAMESIZE];
	enum tap_mode mode;
	uint64_t ts_ns;          /* interval start (wall clock) */
	uint32_t interval_s;
	struct tap_inv_list protos, src_ips, dst_ips, ports, dirs;
	uint64_t mirrored, policy_hits, overflow;
};

/* Record identity: common keys of every record. */
struct tap_ident {
	const char *engine;      /* NULL: gcprobe/<version> */
	const char *node_name;   /* NULL: host name */
	const char *node_type;   /* NULL: "virtual" */
	const char *agent_ip;    /* NULL: left out */
	const char *tenant;      /* NULL: left out */
};

/* Append (a drain hands each key once); -1 when out of memory. */
int tap_inv_add(struct tap_inv_list *l, const struct tap_inv_item *it);
void tap_inv_clear(struct tap_inventory *inv); /* lists emptied, memory kept */
void tap_inv_free(struct tap_inventory *inv);

/*
 * Build the `inventory` record (docs/SCHEMA.md) into *data / *len, valid
 * until the next call on rb. Lists sorted by bytes descending, each cut
 * to top entries plus one "other" entry summing the rest. 0 or -1.
 */
struct gcp_rb;
int tap_inv_encode(struct gcp_rb *rb, const struct tap_inventory *inv, const struct tap_ident *id,
		   unsigned top, const uint8_t **data, size_t *len);

/* ---- BPF side (tap.c, policy.c, drain.c) ---- */

struct tap_attach_opts {
	enum tap_mode mode;
	const char *monitor;          /* TC clone target, NULL: none */
	int policy_mode;              /* enum gcp_tap_policy_mode, -1: default */
	const struct gcp_tap_lpm_key *local;
	unsigned nlocal;
	enum tap_xdp_attach xdp_attach;
	__u32 xdp_miss_action;        /* XDP_PASS / XDP_DROP */
};

/* File descriptors of a tap's pinned maps (tap_open). */
struct tap_maps {
	int tap_cfg, tap_stats, policy_cidr, policy_ports, policy_protos, policy_vlans, policy_vnis,
	    local_prefixes, inv_protos, inv_src_ips, inv_dst_ips, inv_ports, inv_dirs, xsks;
};

/* What TAP_META_DIR/KEY.meta records. */
struct tap_meta {
	char key[TAP_KEY_SZ];         /* pin directory: NETNS:IFINDEX (older versions: the name) */
	char dev[IF_NAMESIZE];        /* the interface's name at attach */
	unsigned long long netns;     /* inode of its network namespace */
	int ifindex;
	enum tap_mode mode;
	char monitor[IF_NAMESIZE];
	__u32 xdp_flags;
	bool tc_created_qdisc;        /* informational: detach goes by the pin directory's marker */
	__u32 prog_ids[2];            /* tc: ingress, egress; xdp: [0] */
};

struct tap {
	struct tap_meta meta;
	struct tap_maps fd;
	struct gcp_tap_cfg *cfg;      /* tap_cfg, mapped: fields are stored one at a time */
};

/* A pinned tap as tap_list / tap_find see it. */
struct tap_ref {
	char key[TAP_KEY_SZ];         /* its directory under TAP_PIN_ROOT */
	char dev[IF_NAMESIZE];        /* current name (here), else the name at attach */
	char meta_dev[IF_NAMESIZE];   /* the name at attach (meta file; "" without one) */
	unsigned long long netns;
	int ifindex;
	bool here;                    /* in the caller's network namespace */
	bool legacy;                  /* keyed by name (an older gcprobe's): detach only */
	bool complete;                /* every map pinned (not mid-attach or a crashed one) */
};

/* Attach and pin; the tap persists after the process. 0 or -1 (err set). */
int tap_attach(const char *dev, const struct tap_attach_opts *ao, char *err, size_t errsz);

/*
 * DEV of the caller's network namespace (also when renamed or gone since
 * attach: by the meta file's name), an older name-keyed tap DEV, or a key
 * NETNS:IFINDEX as `tap list` shows for taps of other namespaces. 0, or
 * -1 (err set).
 */
int tap_find(const char *dev, struct tap_ref *r, char *err, size_t errsz);
/* Every pinned tap of every namespace; returns the count (<= max). */
#define TAP_LIST_MAX 256
int tap_list(struct tap_ref *v, int max);

/* Remove programs, the qdisc we created, pins and meta. 0 or -1 (err set). */
int tap_detach(const char *dev, char *err, size_t errsz);
int tap_detach_ref(const struct tap_ref *r, char *err, size_t errsz);

/* Open a pinned tap's maps and meta. 0, or -1 (err set). */
int tap_open(const char *dev, struct tap *t, char *err, size_t errsz);
int tap_open_ref(const struct tap_ref *r, struct tap *t, char *err, size_t errsz);
void tap_close(struct tap *t);

/* A snapshot of tap_cfg. */
int tap_cfg_get(const struct tap *t, struct gcp_tap_cfg *cfg);
/* tap_stats summed over CPUs. */
int tap_stats_get(const struct tap *t, uint64_t st[GCP_TAP_ST__MAX]);

/* printf-style into err; returns -1. */
__attribute__((format(printf, 3, 4)))
int tap_fail(char *err, size_t errsz, const char *fmt, ...);

/* Hooks (hook.c), by program id: never someone else's program or qdisc. */
int tap_tc_attach(struct tap_meta *m, int fd_in, int fd_eg, char *err, size_t errsz);
void tap_tc_detach(const struct tap_meta *m);
int tap_xdp_attach(struct tap_meta *m, int fd, enum tap_xdp_attach how, char *err, size_t errsz);
void tap_xdp_detach(const struct tap_meta *m);
__u32 tap_pinned_prog_id(const char *key, const char *name);

/* Policy (policy.c): runtime updates of the pinned maps. */
int tap_policy_add(const struct tap *t, const struct tap_pol_entry *e, char *err, size_t errsz);
int tap_policy_del(const struct tap *t, const struct tap_pol_entry *e, char *err, size_t errsz);
int tap_policy_clear(const struct tap *t, char *err, size_t errsz);
int tap_policy_set_mode(const struct tap *t, __u32 mode, char *err, size_t errsz);
void tap_policy_show(const struct tap *t, FILE *f);

/*
 * Drain (drain.c): flip the slot, wait for in-flight programs, move the
 * old slot's counters into inv (cleared first) and delete them; mirrored,
 * policy_hits and overflow since the previous drain (by any process:
 * TAP_META_DIR/KEY.drained). 0 or -1 (err set).
 */
int tap_drain(const struct tap *t, struct tap_inventory *inv, char *err, size_t errsz);

#endif /* GCPROBE_TAP_H */
