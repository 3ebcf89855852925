/* SPDX-License-Identifier: BSD-3-Clause */
/* Tap policy at runtime: entries in the pinned policy maps, cfg.match_dims kept in step. */
#include "tap.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#define NKINDS 5

static int kind_fd(const struct tap *t, enum tap_pol_kind k)
{
	switch (k) {
	case TAP_POL_CIDR: return t->fd.policy_cidr;
	case TAP_POL_PORT: return t->fd.policy_ports;
	case TAP_POL_PROTO: return t->fd.policy_protos;
	case TAP_POL_VLAN: return t->fd.policy_vlans;
	case TAP_POL_VNI: return t->fd.policy_vnis;
	}
	return -1;
}

static const char *const kind_names[NKINDS] = { "cidr", "port", "proto", "vlan", "vni" };

/* Dimension bit of each kind: enum gcp_tap_dim follows enum tap_pol_kind. */
static __u32 kind_dim(enum tap_pol_kind k)
{
	return 1u << (unsigned)k;
}

static size_t key_size(enum tap_pol_kind k)
{
	return k == TAP_POL_CIDR ? sizeof(struct gcp_tap_lpm_key) :
	       k == TAP_POL_PORT ? sizeof(struct gcp_tap_port_key) : sizeof(__u32);
}

static const void *entry_key(const struct tap_pol_entry *e)
{
	return e->kind == TAP_POL_CIDR ? (const void *)&e->u.cidr :
	       e->kind == TAP_POL_PORT ? (const void *)&e->u.port : (const void *)&e->u.id;
}

static bool map_empty(int fd)
{
	__u8 next[sizeof(struct gcp_tap_lpm_key)];

	return bpf_map_get_next_key(fd, NULL, next) != 0;
}

/* A dimension is active while its map holds entries. */
static __u32 active_dims(const struct tap *t)
{
	__u32 dims = 0;

	for (int k = 0; k < NKINDS; k++)
		if (!map_empty(kind_fd(t, (enum tap_pol_kind)k)))
			dims |= kind_dim((enum tap_pol_kind)k);
	return dims;
}

/*
 * tap_cfg is one array entry that a running drain also rewrites (slot
 * flips): write, give a concurrent read-modify-write time to land, read
 * back, and redo ours when it was overwritten.
 */
static int update_cfg(const struct tap *t, int mode, char *err, size_t errsz)
{
	struct timespec settle = { 0, 20000000L };
	struct gcp_tap_cfg cfg;
	__u32 want_dims = active_dims(t);

	errno = 0;
	for (int tries = 0; tries < 5; tries++) {
		if (tap_cfg_get(t, &cfg))
			break;
		if (tries && cfg.match_dims == want_dims &&
		    (mode < 0 || cfg.policy_mode == (__u32)mode))
			return 0;
		cfg.match_dims = want_dims;
		if (mode >= 0)
			cfg.policy_mode = (__u32)mode;
		if (tap_cfg_set(t, &cfg))
			break;
		nanosleep(&settle, NULL);
	}
	snprintf(err, errsz, "%s: tap_cfg: %s", t->meta.dev,
		 errno ? strerror(errno) : "keeps being overwritten");
	return -1;
}

static void entry_str(const struct tap_pol_entry *e, char *buf, size_t n)
{
	char l4[16];

	switch (e->kind) {
	case TAP_POL_CIDR: tap_cidr_str(&e->u.cidr, buf, n); break;
	case TAP_POL_PORT:
		snprintf(buf, n, "%s/%u", tap_l4_name(e->u.port.l4, l4, sizeof(l4)), e->u.port.port);
		break;
	case TAP_POL_PROTO: snprintf(buf, n, "%s", tap_l4_name(e->u.id, l4, sizeof(l4))); break;
	default: snprintf(buf, n, "%u", e->u.id); break;
	}
}

int tap_policy_add(const struct tap *t, const struct tap_pol_entry *e, char *err, size_t errsz)
{
	__u32 one = 1;
	char s[64];

	if (bpf_map_update_elem(kind_fd(t, e->kind), entry_key(e), &one, BPF_ANY)) {
		entry_str(e, s, sizeof(s));
		snprintf(err, errsz, "%s: policy add %s %s: %s%s", t->meta.dev, kind_names[e->kind], s,
			 strerror(errno),
			 errno == E2BIG || errno == ENOSPC ? " (policy map full)" : "");
		return -1;
	}
	/* The first entry switches the tap to match mode. */
	return update_cfg(t, GCP_TAP_POLICY_MATCH, err, errsz);
}

int tap_policy_del(const struct tap *t, const struct tap_pol_entry *e, char *err, size_t errsz)
{
	char s[64];

	if (bpf_map_delete_elem(kind_fd(t, e->kind), entry_key(e))) {
		entry_str(e, s, sizeof(s));
		snprintf(err, errsz, "%s: policy del %s %s: %s", t->meta.dev, kind_names[e->kind], s,
			 errno == ENOENT ? "no such entry" : strerror(errno));
		return -1;
	}
	return update_cfg(t, -1, err, errsz);
}

static void map_clear(int fd)
{
	__u8 key[sizeof(struct gcp_tap_lpm_key)];

	/* Deleting the first key each time: safe while the map changes under us. */
	for (unsigned guard = 0; guard < 1u << 20; guard++) {
		if (bpf_map_get_next_key(fd, NULL, key) || bpf_map_delete_elem(fd, key))
			break;
	}
}

int tap_policy_clear(const struct tap *t, char *err, size_t errsz)
{
	for (int k = 0; k < NKINDS; k++)
		map_clear(kind_fd(t, (enum tap_pol_kind)k));
	return update_cfg(t, GCP_TAP_POLICY_NONE, err, errsz);
}

int tap_policy_set_mode(const struct tap *t, __u32 mode, char *err, size_t errsz)
{
	if (mode == GCP_TAP_POLICY_MATCH && !active_dims(t)) {
		snprintf(err, errsz, "%s: policy match: no entries (add some: policy %s add KIND VALUE)",
			 t->meta.dev, t->meta.dev);
		return -1;
	}
	return update_cfg(t, (int)mode, err, errsz);
}

static void show_map(FILE *f, const struct tap *t, enum tap_pol_kind k, int fd, const char *label)
{
	struct tap_pol_entry e = { .kind = k };
	__u8 key[sizeof(struct gcp_tap_lpm_key)], next[sizeof(key)];
	void *prev = NULL;
	char s[64];

	(void)t;
	for (unsigned guard = 0; guard < 1u << 20 && !bpf_map_get_next_key(fd, prev, next); guard++) {
		memcpy(key, next, sizeof(key));
		prev = key;
		memcpy((void *)entry_key(&e), key, key_size(k));
		entry_str(&e, s, sizeof(s));
		fprintf(f, "%s %s\n", label, s);
	}
}

void tap_policy_show(const struct tap *t, FILE *f)
{
	struct gcp_tap_cfg cfg = { 0 };
	char dims[64];

	tap_cfg_get(t, &cfg);
	tap_dims_str(cfg.match_dims, dims, sizeof(dims));
	fprintf(f, "dev %s\nmode %s\npolicy %s\ndims %s\nmonitor %s\n", t->meta.dev,
		t->meta.mode == TAP_MODE_XDP ? "xdp" : "tc", tap_policy_mode_name(cfg.policy_mode),
		dims, t->meta.monitor[0] ? t->meta.monitor : "-");
	for (int k = 0; k < NKINDS; k++)
		show_map(f, t, (enum tap_pol_kind)k, kind_fd(t, (enum tap_pol_kind)k), kind_names[k]);
	show_map(f, t, TAP_POL_CIDR, t->fd.local_prefixes, "local");
}
