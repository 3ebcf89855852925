/* SPDX-License-Identifier: BSD-3-Clause */
/* The `inventory` record: per-tap lists sorted by bytes, capped, "other" summed (no BPF here). */
#include "tap.h"
#include "record.h"

#include "gcprobe/gcprobe.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum inv_kind { INV_PROTO, INV_IP, INV_SVC, INV_DIR };

int tap_inv_add(struct tap_inv_list *l, const struct tap_inv_item *it)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct tap_inv_item *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *it;
	return 0;
}

void tap_inv_clear(struct tap_inventory *inv)
{
	inv->protos.n = inv->src_ips.n = inv->dst_ips.n = inv->ports.n = inv->dirs.n = 0;
	inv->mirrored = inv->policy_hits = inv->overflow = 0;
}

void tap_inv_free(struct tap_inventory *inv)
{
	free(inv->protos.v);
	free(inv->src_ips.v);
	free(inv->dst_ips.v);
	free(inv->ports.v);
	free(inv->dirs.v);
	memset(&inv->protos, 0, sizeof(inv->protos));
	memset(&inv->src_ips, 0, sizeof(inv->src_ips));
	memset(&inv->dst_ips, 0, sizeof(inv->dst_ips));
	memset(&inv->ports, 0, sizeof(inv->ports));
	memset(&inv->dirs, 0, sizeof(inv->dirs));
}

/* Bytes descending, then packets, then key: the same input gives the same record. */
static int by_bytes(const void *pa, const void *pb)
{
	const struct tap_inv_item *a = pa, *b = pb;

	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	if (a->pkts != b->pkts)
		return a->pkts > b->pkts ? -1 : 1;
	return memcmp(&a->k, &b->k, sizeof(a->k));
}

static void counters(struct gcp_rb *rb, uint64_t pkts, uint64_t bytes)
{
	gcp_rb_kv_uint(rb, "pkts", pkts);
	gcp_rb_kv_uint(rb, "bytes", bytes);
}

static void item_keys(struct gcp_rb *rb, enum inv_kind kind, const struct tap_inv_item *it)
{
	char buf[64];

	switch (kind) {
	case INV_PROTO:
		gcp_rb_kv_cstr(rb, "l4", tap_l4_name(it->k.proto.l4, buf, sizeof(buf)));
		gcp_rb_kv_uint(rb, "ip_version", it->k.proto.ip_version);
		break;
	case INV_IP:
		tap_addr_str(it->k.addr, buf, sizeof(buf));
		gcp_rb_kv_cstr(rb, "ip", buf);
		break;
	case INV_SVC:
		gcp_rb_kv_uint(rb, "port", it->k.svc.port);
		gcp_rb_kv_cstr(rb, "l4", tap_l4_name(it->k.svc.l4, buf, sizeof(buf)));
		break;
	case INV_DIR:
		gcp_rb_kv_cstr(rb, "direction", it->k.dir.dir == GCP_TAP_EGRESS ? "egress" : "ingress");
		gcp_rb_kv_cstr(rb, "locality",
			       it->k.dir.locality == GCP_TAP_EAST_WEST ? "east-west" : "north-south");
		break;
	}
}

/* Entries past top are summed into one "other" entry with their count. */
static void other_entry(struct gcp_rb *rb, enum inv_kind kind, const struct tap_inv_list *l,
			size_t top)
{
	uint64_t pkts = 0, bytes = 0;

	for (size_t i = top; i < l->n; i++) {
		pkts += l->v[i].pkts;
		bytes += l->v[i].bytes;
	}
	gcp_rb_map_begin(rb);
	if (kind == INV_IP) {
		gcp_rb_kv_cstr(rb, "ip", "other");
	} else if (kind == INV_DIR) {
		gcp_rb_kv_cstr(rb, "direction", "other");
	} else {
		if (kind == INV_SVC)
			gcp_rb_kv_uint(rb, "port", 0);
		gcp_rb_kv_cstr(rb, "l4", "other");
	}
	gcp_rb_kv_uint(rb, "entries", l->n - top);
	counters(rb, pkts, bytes);
	gcp_rb_end(rb);
}

static void list_out(struct gcp_rb *rb, const char *key, enum inv_kind kind,
		     const struct tap_inv_list *l, unsigned top)
{
	size_t shown = l->n > top ? top : l->n;

	if (l->n > 1)
		qsort(l->v, l->n, sizeof(l->v[0]), by_bytes);
	gcp_rb_key(rb, key);
	gcp_rb_array_begin(rb);
	for (size_t i = 0; i < shown; i++) {
		gcp_rb_map_begin(rb);
		item_keys(rb, kind, &l->v[i]);
		counters(rb, l->v[i].pkts, l->v[i].bytes);
		gcp_rb_end(rb);
	}
	if (shown < l->n)
		other_entry(rb, kind, l, shown);
	gcp_rb_end(rb);
}

static void identity(struct gcp_rb *rb, const struct tap_ident *id)
{
	char host[256] = "unknown";

	if (!id->node_name && gethostname(host, sizeof(host) - 1))
		snprintf(host, sizeof(host), "unknown");
	gcp_rb_kv_cstr(rb, "engine", id->engine ? id->engine : "gcprobe/" GCP_VERSION_STRING);
	gcp_rb_kv_cstr(rb, "node_name", id->node_name ? id->node_name : host);
	gcp_rb_kv_cstr(rb, "node_type", id->node_type ? id->node_type : "virtual");
	if (id->agent_ip)
		gcp_rb_kv_cstr(rb, "agent_ip", id->agent_ip);
	if (id->tenant)
		gcp_rb_kv_cstr(rb, "tenant", id->tenant);
}

int tap_inv_encode(struct gcp_rb *rb, const struct tap_inventory *inv, const struct tap_ident *id,
		   unsigned top, const uint8_t **data, size_t *len)
{
	if (top == 0)
		top = 1;
	gcp_rb_reset(rb);
	gcp_rb_kv_cstr(rb, "type", "inventory");
	gcp_rb_kv_ts(rb, "ts", inv->ts_ns ? inv->ts_ns : tap_wall_ns());
	gcp_rb_kv_ts(rb, "ingest_ts", tap_wall_ns());
	identity(rb, id);
	gcp_rb_kv_cstr(rb, "tap", inv->dev);
	gcp_rb_kv_cstr(rb, "tap_mode", inv->mode == TAP_MODE_XDP ? "xdp" : "tc");
	gcp_rb_kv_uint(rb, "interval_s", inv->interval_s);
	list_out(rb, "protocols", INV_PROTO, &inv->protos, top);
	list_out(rb, "src_ips", INV_IP, &inv->src_ips, top);
	list_out(rb, "dst_ips", INV_IP, &inv->dst_ips, top);
	list_out(rb, "service_ports", INV_SVC, &inv->ports, top);
	list_out(rb, "directions", INV_DIR, &inv->dirs, top);
	gcp_rb_kv_uint(rb, "mirrored_pkts", inv->mirrored);
	gcp_rb_kv_uint(rb, "policy_hits", inv->policy_hits);
	gcp_rb_kv_uint(rb, "overflow", inv->overflow);
	return gcp_rb_finish(rb, data, len);
}
