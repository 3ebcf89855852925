/* SPDX-License-Identifier: BSD-3-Clause */
/* Tap policy at runtime: entries in the pinned policy maps, cfg.match_dims kept in step. */
#include "tap.h"

#include <errno.h>
#include <string.h>
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
 * tap_cfg fields are stored one at a time into the mapped map, each by
 * its owner: policy commands store policy_mode and match_dims, the drain
 * flips slot. Nothing rewrites the whole entry, so no read-modify-write
 * can put back a stale copy of another owner's field (issue 14: a slot
 * flip and a policy change used to undo each other).
 *
 * match_dims follows the policy maps. Two policy commands at once may
 * store dims computed before the other's map change; whoever stores
 * checks the maps again afterwards and stores again when they moved, so
 * the last store always matches the final maps.
 */
#define DIMS_TRIES 64

static int store_dims(const struct tap *t, char *err, size_t errsz)
{
	for (int tries = 0; tries < DIMS_TRIES; tries++) {
		__u32 dims = active_dims(t);
		__atomic_store_n(&t->cfg->match_dims, dims, __ATOMIC_SEQ_CST);
		if (active_dims(t) == dims)
			return 0;
	}
	snprintf(err, errsz, "%s: policy maps keep changing (another policy command?)",
		 t->meta.dev);
	return -1;
}

static void store_mode(const struct tap *t, __u32 mode)
{
	__atomic_store_n(&t->cfg->policy_mode, mode, __ATOMIC_SEQ_CST);
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
	/* The first entry switches the tap to match mode, once its dimension is active. */
	if (store_dims(t, err, errsz))
		return -1;
	store_mode(t, GCP_TAP_POLICY_MATCH);
	return 0;
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
	return store_dims(t, err, errsz);
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
	store_mode(t, GCP_TAP_POLICY_NONE); /* mirror nothing before the entries go */
	for (int k = 0; k < NKINDS; k++)
		map_clear(kind_fd(t, (enum tap_pol_kind)k));
	return store_dims(t, err, errsz);
}

int tap_policy_set_mode(const struct tap *t, __u32 mode, char *err, size_t errsz)
{
	if (mode == GCP_TAP_POLICY_MATCH && !active_dims(t)) {
		snprintf(err, errsz, "%s: policy match: no entries (add some: policy %s add KIND VALUE)",
			 t->meta.dev, t->meta.dev);
		return -1;
	}
	if (store_dims(t, err, errsz))
		return -1;
	store_mode(t, mode);
	return 0;
}

static void show_map(FILE *f, enum tap_pol_kind k, int fd, const char *label)
{
	struct tap_pol_entry e = { .kind = k };
	__u8 key[sizeof(struct gcp_tap_lpm_key)], next[sizeof(key)];
	void *prev = NULL;
	char s[64];

	for (unsigned guard = 0; guard < 1u << 20 && !bpf_map_get_next_key(fd, prev, next); guard++) {
		memcpy(key, next, sizeof(key));
		prev = key;
		memcpy(&e.u, key, key_size(k)); /* every union member starts at offset 0 */
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
		show_map(f, (enum tap_pol_kind)k, kind_fd(t, (enum tap_pol_kind)k), kind_names[k]);
	show_map(f, TAP_POL_CIDR, t->fd.local_prefixes, "local");
}
