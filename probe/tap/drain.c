/* SPDX-License-Identifier: BSD-3-Clause */
/* Inventory drain: flip cfg.slot, let in-flight programs finish, sum and delete the old slot. */
#include "tap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* Programs run to completion within microseconds; 10 ms is far beyond any in flight. */
#define DRAIN_GRACE_NS 10000000L
#define PATH_MAX_TAP 256

typedef void (*to_item_fn)(const void *key, struct tap_inv_item *it);

static void proto_item(const void *key, struct tap_inv_item *it)
{
	const struct gcp_tap_proto_key *k = key;

	it->k.proto.l4 = k->l4;
	it->k.proto.ip_version = k->ip_version;
}

static void ip_item(const void *key, struct tap_inv_item *it)
{
	const struct gcp_tap_ip_key *k = key;

	memcpy(it->k.addr, k->addr, sizeof(it->k.addr));
}

static void svc_item(const void *key, struct tap_inv_item *it)
{
	const struct gcp_tap_svc_key *k = key;

	it->k.svc.port = k->port;
	it->k.svc.l4 = k->l4;
}

static void dir_item(const void *key, struct tap_inv_item *it)
{
	const struct gcp_tap_dir_key *k = key;

	it->k.dir.dir = k->dir;
	it->k.dir.locality = k->locality;
}

static __u32 max_entries(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.max_entries;
}

/* Every key of the old slot (the first byte of every inventory key). */
static size_t old_keys(int fd, size_t ksz, __u8 old, __u8 *keys, size_t max)
{
	__u8 cur[32], next[32];
	const void *prev = NULL;
	size_t n = 0;

	/* Nothing deletes during the walk (programs only insert new-slot keys),
	 * so each key comes once; the step cap bounds it regardless. */
	for (size_t steps = 0; n < max && steps < 4 * max + 16; steps++) {
		if (bpf_map_get_next_key(fd, prev, next))
			break;
		memcpy(cur, next, ksz);
		prev = cur;
		if (cur[0] != old)
			continue;
		memcpy(keys + n++ * ksz, cur, ksz);
	}
	return n;
}

static int drain_map(int fd, size_t ksz, __u8 old, to_item_fn conv, struct tap_inv_list *l,
		     int ncpu)
{
	size_t max = max_entries(fd);
	__u8 *keys = max ? malloc(max * ksz) : NULL;
	struct gcp_tap_counter *v = calloc((size_t)ncpu, sizeof(*v));
	int rc = -1;

	if (!keys || !v)
		goto out;
	size_t n = old_keys(fd, ksz, old, keys, max);
	for (size_t i = 0; i < n; i++) {
		const __u8 *k = keys + i * ksz;
		struct tap_inv_item it;
		memset(&it, 0, sizeof(it));
		if (bpf_map_lookup_elem(fd, k, v))
			continue;
		for (int c = 0; c < ncpu; c++) {
			it.pkts += v[c].pkts;
			it.bytes += v[c].bytes;
		}
		conv(k, &it);
		bpf_map_delete_elem(fd, k);
		if (it.pkts && tap_inv_add(l, &it))
			goto out;
	}
	rc = 0;
out:
	free(keys);
	free(v);
	return rc;
}

/*
 * Counters at the last drain, by whoever drained (a run, `tap inventory`):
 * TAP_META_DIR/KEY.drained, so an interval's mirrored/policy_hits/
 * overflow cover the same packets as its lists (0 before the first drain).
 */
static void drained_path(const struct tap *t, char *p, size_t n)
{
	tap_state_path(p, n, t->meta.key, "drained");
}

/*
 * Counters and time of the last drain. Before the first drain the period
 * starts at attach: the meta file's modification time.
 */
static void prev_load(const struct tap *t, uint64_t prev[GCP_TAP_ST__MAX], uint64_t *since_ns)
{
	char p[PATH_MAX_TAP];
	struct stat st;
	FILE *f;

	memset(prev, 0, sizeof(uint64_t) * GCP_TAP_ST__MAX);
	*since_ns = 0;
	tap_state_path(p, sizeof(p), t->meta.key, "meta");
	if (!stat(p, &st))
		*since_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
	drained_path(t, p, sizeof(p));
	if (!(f = fopen(p, "r")))
		return;
	for (int i = 0; i < GCP_TAP_ST__MAX; i++)
		if (fscanf(f, "%" SCNu64, &prev[i]) != 1)
			prev[i] = 0;
	uint64_t last;
	if (fscanf(f, "%" SCNu64, &last) == 1 && last)
		*since_ns = last;
	fclose(f);
}

static void prev_save(const struct tap *t, const uint64_t cur[GCP_TAP_ST__MAX], uint64_t now_ns)
{
	char p[PATH_MAX_TAP], tmp[PATH_MAX_TAP + 8];
	FILE *f;

	drained_path(t, p, sizeof(p));
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	if (!(f = fopen(tmp, "w")))
		return;
	for (int i = 0; i < GCP_TAP_ST__MAX; i++)
		fprintf(f, "%" PRIu64 "\n", cur[i]);
	fprintf(f, "%" PRIu64 "\n", now_ns);
	if (fclose(f) || rename(tmp, p))
		unlink(tmp);
}

/*
 * Per-interval counters, and the period the drained maps cover: from the
 * last drain (by anyone: a run or `tap inventory`) or from attach, so a
 * first record after a long pause says how long it really covers.
 */
static void stats_delta(const struct tap *t, struct tap_inventory *inv)
{
	uint64_t prev[GCP_TAP_ST__MAX], cur[GCP_TAP_ST__MAX], since, now = tap_wall_ns();

	if (tap_stats_get(t, cur))
		return;
	prev_load(t, prev, &since);
	inv->mirrored = cur[GCP_TAP_ST_MIRRORED] - prev[GCP_TAP_ST_MIRRORED];
	inv->policy_hits = cur[GCP_TAP_ST_POLICY_HIT] - prev[GCP_TAP_ST_POLICY_HIT];
	inv->overflow = cur[GCP_TAP_ST_INV_OVERFLOW] - prev[GCP_TAP_ST_INV_OVERFLOW];
	if (since && since < now) {
		inv->ts_ns = since;
		inv->interval_s = (uint32_t)((now - since + 500000000u) / 1000000000u);
	}
	prev_save(t, cur, now);
}

int tap_drain(const struct tap *t, struct tap_inventory *inv, char *err, size_t errsz)
{
	struct timespec grace = { 0, DRAIN_GRACE_NS };
	int ncpu = libbpf_num_possible_cpus();

	tap_inv_clear(inv);
	if (ncpu <= 0 || !t->cfg) {
		snprintf(err, errsz, "%s: tap_cfg: not open", t->meta.dev);
		return -1;
	}
	/*
	 * The drain alone writes slot, with one atomic flip of the mapped
	 * field: policy changes store their own fields of tap_cfg and never
	 * write this one back (they did, from a stale copy, when both
	 * rewrote the whole entry).
	 */
	__u8 old = (__u8)(__atomic_fetch_xor(&t->cfg->slot, 1u, __ATOMIC_SEQ_CST) & 1u);
	nanosleep(&grace, NULL);
	if (drain_map(t->fd.inv_protos, sizeof(struct gcp_tap_proto_key), old, proto_item,
		      &inv->protos, ncpu) ||
	    drain_map(t->fd.inv_src_ips, sizeof(struct gcp_tap_ip_key), old, ip_item,
		      &inv->src_ips, ncpu) ||
	    drain_map(t->fd.inv_dst_ips, sizeof(struct gcp_tap_ip_key), old, ip_item,
		      &inv->dst_ips, ncpu) ||
	    drain_map(t->fd.inv_ports, sizeof(struct gcp_tap_svc_key), old, svc_item, &inv->ports,
		      ncpu) ||
	    drain_map(t->fd.inv_dirs, sizeof(struct gcp_tap_dir_key), old, dir_item, &inv->dirs,
		      ncpu)) {
		snprintf(err, errsz, "%s: inventory drain: out of memory", t->meta.dev);
		return -1;
	}
	stats_delta(t, inv);
	inv->mode = t->meta.mode;
	snprintf(inv->dev, sizeof(inv->dev), "%s", t->meta.dev);
	return 0;
}
