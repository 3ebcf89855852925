/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where a tap lives (docs/TAPS.md, "Pinning layout"): its pins under
 * TAP_PIN_ROOT/KEY/ and its state files TAP_META_DIR/KEY.*, KEY being
 * "NETNS:IFINDEX" (the inode of the network namespace, the interface's
 * index in it). Interface names are per namespace, so a name alone lets
 * the taps of two same-named interfaces (two containers' eth0) collide.
 * ':' never occurs in an interface name (the kernel's dev_valid_name), so
 * a key is never mistaken for the name-keyed directories of older
 * versions. Header-only: the AF_XDP backend finds an xdp tap's xsks map
 * with it too.
 */
#ifndef GCPROBE_TAP_PIN_H
#define GCPROBE_TAP_PIN_H

#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

#define TAP_BPFFS "/sys/fs/bpf"
#define TAP_PIN_ROOT TAP_BPFFS "/gcprobe/tap"
#define TAP_META_DIR "/run/gcprobe/tap"
#define TAP_KEY_SZ 32
#define TAP_PATH_SZ 256

/* Inode of the caller's network namespace; 0 when /proc cannot say. */
static inline unsigned long long tap_netns_self(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (unsigned long long)st.st_ino;
}

static inline void tap_key(unsigned long long netns, int ifindex, char key[TAP_KEY_SZ])
{
	snprintf(key, TAP_KEY_SZ, "%llu:%d", netns, ifindex);
}

/* Key of interface DEV of the caller's network namespace; -1 when there is none. */
static inline int tap_key_of(const char *dev, char key[TAP_KEY_SZ])
{
	unsigned long long netns = tap_netns_self();
	int ifindex = (int)if_nametoindex(dev);

	if (!netns || !ifindex)
		return -1;
	tap_key(netns, ifindex, key);
	return 0;
}

/* TAP_PIN_ROOT/KEY/NAME, or the directory itself when name is NULL. */
static inline void tap_pin_path(char *buf, size_t n, const char *key, const char *name)
{
	snprintf(buf, n, TAP_PIN_ROOT "/%s%s%s", key, name ? "/" : "", name ? name : "");
}

/* TAP_META_DIR/KEY.SUFFIX: "meta" (attach options, program ids), "drained" (last drain). */
static inline void tap_state_path(char *buf, size_t n, const char *key, const char *suffix)
{
	snprintf(buf, n, TAP_META_DIR "/%s.%s", key, suffix);
}

#endif /* GCPROBE_TAP_PIN_H */
