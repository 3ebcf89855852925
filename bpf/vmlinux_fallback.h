/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checked-in stand-in for vmlinux.h, used when the build machine's kernel
 * has no BTF (/sys/kernel/btf/vmlinux) and no -DGCP_VMLINUX_H is given.
 * tap.bpf.c reads only wire headers and the __sk_buff/xdp_md context, so
 * the UAPI headers (linux-libc-dev) carry every layout it needs; the two
 * kernel-internal wire structs are declared here. The object still loads
 * on any kernel with the hooks: nothing it reads is a kernel-internal
 * struct that CO-RE would have to relocate.
 */
#ifndef GCPROBE_VMLINUX_FALLBACK_H
#define GCPROBE_VMLINUX_FALLBACK_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

/* include/linux/if_vlan.h */
struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

/* include/net/ipv6.h */
struct frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

#endif
