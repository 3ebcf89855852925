/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Layouts shared by the tap programs (bpf/tap.bpf.c) and user space
 * (probe/tap/). Plain fixed-width types only: this header is included
 * both after vmlinux.h (BPF side) and after <linux/types.h> (user side).
 *
 * Addresses are 16 bytes everywhere; IPv4 is stored v4-mapped
 * (::ffff:a.b.c.d) so one LPM trie and one key type serve both families.
 */
#ifndef GCPROBE_BPF_TAP_COMMON_H
#define GCPROBE_BPF_TAP_COMMON_H

/* Default map sizes; user space may resize before load (bpf_map__set_max_entries). */
#define GCP_TAP_INV_IPS_MAX   8192u   /* src_ips, dst_ips (both slots together) */
#define GCP_TAP_INV_PORTS_MAX 4096u   /* service_ports */
#define GCP_TAP_POLICY_MAX    4096u   /* entries per policy map */
#define GCP_TAP_XSK_MAX       64u     /* AF_XDP sockets (one per RX queue) */

/* Hook direction as seen on the tapped interface. */
enum gcp_tap_dir { GCP_TAP_INGRESS = 0, GCP_TAP_EGRESS = 1 };

/* Locality by the configured local prefixes (map local_prefixes). */
enum gcp_tap_locality {
	GCP_TAP_EAST_WEST = 0,   /* both ends local */
	GCP_TAP_NORTH_SOUTH = 1, /* one end (or none) local */
};

/* cfg.policy_mode */
enum gcp_tap_policy_mode {
	GCP_TAP_POLICY_NONE = 0,  /* mirror nothing (inventory only) */
	GCP_TAP_POLICY_ALL = 1,   /* mirror every packet */
	GCP_TAP_POLICY_MATCH = 2, /* mirror what matches the active dimensions */
};

/*
 * cfg.match_dims: which policy dimensions are active in MATCH mode. A
 * packet is mirrored when it matches every active dimension (AND across
 * dimensions, OR within one). CIDR and PORT match either end.
 */
enum gcp_tap_dim {
	GCP_TAP_DIM_CIDR = 1u << 0,  /* policy_cidr: src or dst in a prefix */
	GCP_TAP_DIM_PORT = 1u << 1,  /* policy_ports: (l4, sport or dport) */
	GCP_TAP_DIM_PROTO = 1u << 2, /* policy_protos: IP protocol number */
	GCP_TAP_DIM_VLAN = 1u << 3,  /* policy_vlans: outermost 802.1Q id */
	GCP_TAP_DIM_VNI = 1u << 4,   /* policy_vnis: VXLAN (UDP 4789) VNI */
};

/*
 * Runtime configuration: ARRAY map "tap_cfg", one entry at key 0,
 * BPF_F_MMAPABLE. Each field has one writer after attach (slot: the
 * inventory drain; policy_mode, match_dims: policy commands), which
 * stores that field alone through the mapping: a whole-entry update
 * would write back the other writer's field from a stale copy.
 */
struct gcp_tap_cfg {
	__u32 monitor_ifindex; /* TC: clone matches here (0: no clone) */
	__u32 policy_mode;     /* enum gcp_tap_policy_mode */
	__u32 match_dims;      /* enum gcp_tap_dim bits */
	__u32 slot;            /* inventory slot being written (0 or 1) */
	__u32 xdp_miss_action; /* XDP: verdict for non-matching packets (XDP_PASS=2, XDP_DROP=1) */
	__u32 pad;
};

/* LPM trie key for policy_cidr and local_prefixes (prefixlen counts all 128 bits). */
struct gcp_tap_lpm_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* HASH key for policy_ports. */
struct gcp_tap_port_key {
	__u16 port;  /* host byte order */
	__u8 l4;     /* IPPROTO_TCP, IPPROTO_UDP, ... */
	__u8 pad;
};

/* Inventory keys: PERCPU_HASH maps; slot is cfg.slot at count time. */
struct gcp_tap_proto_key {   /* map inv_protos */
	__u8 slot;
	__u8 l4;                 /* IP protocol number */
	__u8 ip_version;         /* 4 or 6 */
	__u8 pad;
};

struct gcp_tap_ip_key {      /* maps inv_src_ips, inv_dst_ips */
	__u8 slot;
	__u8 pad[3];
	__u8 addr[16];
};

struct gcp_tap_svc_key {     /* map inv_ports */
	__u8 slot;
	__u8 l4;
	__u16 port;              /* host byte order */
};

struct gcp_tap_dir_key {     /* map inv_dirs */
	__u8 slot;
	__u8 dir;                /* enum gcp_tap_dir */
	__u8 locality;           /* enum gcp_tap_locality */
	__u8 pad;
};

struct gcp_tap_counter {     /* value of every inventory map (per CPU) */
	__u64 pkts;
	__u64 bytes;             /* L3 length (IP header + payload) */
};

/* PERCPU_ARRAY "tap_stats", indexed by these. */
enum gcp_tap_stat {
	GCP_TAP_ST_PKTS = 0,       /* packets seen by the program */
	GCP_TAP_ST_NON_IP,         /* not IPv4/IPv6 (ARP, LLDP, ...) */
	GCP_TAP_ST_PARSE_FAIL,     /* truncated or malformed headers */
	GCP_TAP_ST_POLICY_HIT,     /* selected by the policy */
	GCP_TAP_ST_MIRRORED,       /* TC: cloned; XDP: redirected to an XSK */
	GCP_TAP_ST_MIRROR_FAIL,    /* clone/redirect refused (no socket, bad ifindex) */
	GCP_TAP_ST_INV_OVERFLOW,   /* inventory entry not created: map full */
	GCP_TAP_ST__MAX
};

#endif
