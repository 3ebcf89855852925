/* SPDX-License-Identifier: BSD-3-Clause */
/* Taps of a capture run: attached for the run, drained every interval into inventory records. */
#include "tap_run.h"
#include "tap.h"
#include "log.h"
#include "record.h"

#include <linux/if_link.h>
#include <string.h>
#include <time.h>

struct run_tap {
	char dev[IF_NAMESIZE];
	struct tap t;
	struct tap_inventory inv;
	uint64_t start_ns;      /* wall clock: start of the interval being counted */
	bool attached, opened, warned;
};

static struct {
	struct probe_taps_cfg c;
	struct run_tap v[PROBE_MAX_TAPS];
	unsigned n;
	uint64_t next_ms;
	struct gcp_rb rb;
	bool rb_ok;
} rt;

int probe_tap_policy_parse(const char *s)
{
	if (!strcmp(s, "all"))
		return GCP_TAP_POLICY_ALL;
	if (!strcmp(s, "none"))
		return GCP_TAP_POLICY_NONE;
	if (!strcmp(s, "match"))
		return GCP_TAP_POLICY_MATCH;
	return -1;
}

/* "DEV", "DEV:tc", "DEV:xdp" -> name and mode; -1 when malformed. */
static int split_spec(const char *spec, char dev[IF_NAMESIZE], enum tap_mode *mode)
{
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);

	*mode = TAP_MODE_TC;
	if (n == 0 || n >= IF_NAMESIZE || memchr(spec, '/', n))
		return -1;
	if (colon && !strcmp(colon + 1, "xdp"))
		*mode = TAP_MODE_XDP;
	else if (colon && strcmp(colon + 1, "tc"))
		return -1;
	memcpy(dev, spec, n);
	dev[n] = '\0';
	return 0;
}

int probe_taps_check(const char *const *specs, unsigned n, const char *local)
{
	struct gcp_tap_lpm_key keys[TAP_MAX_LOCAL];
	char dev[IF_NAMESIZE], err[256];
	enum tap_mode mode;
	unsigned nlocal;

	for (unsigned i = 0; i < n; i++) {
		if (split_spec(specs[i], dev, &mode)) {
			probe_msg("error", "--tap: '%s' is not DEV, DEV:tc or DEV:xdp", specs[i]);
			return -1;
		}
		for (unsigned j = 0; j < i; j++) {
			char other[IF_NAMESIZE];
			enum tap_mode m2;
			if (!split_spec(specs[j], other, &m2) && !strcmp(dev, other)) {
				probe_msg("error", "--tap: %s given twice", dev);
				return -1;
			}
		}
	}
	if (local && tap_parse_cidr_list(local, keys, TAP_MAX_LOCAL, &nlocal, err, sizeof(err))) {
		probe_msg("error", "--tap-local: %s", err);
		return -1;
	}
	return 0;
}

static int start_one(const struct probe_taps_cfg *c, struct run_tap *r, const char *spec,
		     const struct tap_attach_opts *base)
{
	struct tap_attach_opts ao = *base;
	char dev[IF_NAMESIZE], err[512];

	split_spec(spec, dev, &ao.mode); /* checked by probe_taps_check */
	if (ao.mode == TAP_MODE_XDP)
		ao.monitor = NULL; /* XDP taps feed the AF_XDP socket, they cannot clone */
	ao.xdp_attach = c->xdp_attach == PROBE_ATTACH_NATIVE ? TAP_XDP_NATIVE :
			c->xdp_attach == PROBE_ATTACH_GENERIC ? TAP_XDP_GENERIC : TAP_XDP_AUTO;
	if (tap_attach(dev, &ao, err, sizeof(err))) {
		probe_msg("error", "--tap %s: %s", spec, err);
		return -1;
	}
	r->attached = true;
	snprintf(r->dev, sizeof(r->dev), "%s", dev);
	if (tap_open(dev, &r->t, err, sizeof(err))) {
		probe_msg("error", "--tap %s: %s", spec, err);
		return -1;
	}
	r->opened = true;
	r->start_ns = tap_wall_ns();
	r->inv.interval_s = c->interval_s;
	return 0;
}

int probe_taps_start(const struct probe_taps_cfg *c)
{
	struct gcp_tap_lpm_key local[TAP_MAX_LOCAL];
	struct tap_attach_opts base = { .monitor = c->monitor, .policy_mode = c->policy,
					.local = local, .xdp_miss_action = XDP_PASS };
	char err[256];

	if (!c->n)
		return 0;
	rt.c = *c;
	if (c->local &&
	    tap_parse_cidr_list(c->local, local, TAP_MAX_LOCAL, &base.nlocal, err, sizeof(err))) {
		probe_msg("error", "--tap-local: %s", err);
		return -1;
	}
	if (gcp_rb_init(&rt.rb)) {
		probe_msg("error", "out of memory");
		return -1;
	}
	rt.rb_ok = true;
	for (unsigned i = 0; i < c->n; i++) {
		rt.n = i + 1;
		if (start_one(c, &rt.v[i], c->specs[i], &base)) {
			probe_taps_stop();
			return -1;
		}
	}
	rt.next_ms = tap_mono_ms() + (uint64_t)c->interval_s * 1000u;
	return 0;
}

static void ident(const struct probe_taps_cfg *c, struct tap_ident *id)
{
	id->engine = c->id->engine_name;
	id->node_name = c->id->node_name;
	/* Taps are virtual-network interfaces unless --node-type says otherwise. */
	id->node_type = !c->node_type_given ? "virtual" :
			c->id->node_type == GCP_NODE_VIRTUAL ? "virtual" : "physical";
	id->agent_ip = c->id->agent_ip;
	id->tenant = c->id->tenant;
}

static void drain_one(struct run_tap *r, gcp_record_cb cb, void *user)
{
	struct gcp_record rec = { .type = GCP_REC_INVENTORY };
	struct tap_ident id;
	char err[512];

	if (!r->opened)
		return;
	r->inv.ts_ns = r->start_ns; /* the drain replaces it with the last drain's time */
	r->inv.interval_s = rt.c.interval_s;
	if (tap_drain(&r->t, &r->inv, err, sizeof(err))) {
		if (!r->warned)
			probe_msg("warning", "--tap %s: %s", r->dev, err);
		r->warned = true;
		return;
	}
	r->start_ns = tap_wall_ns();
	if (!rt.c.records)
		return;
	ident(&rt.c, &id);
	if (!tap_inv_encode(&rt.rb, &r->inv, &id, rt.c.top, &rec.data, &rec.len))
		cb(&rec, user);
}

void probe_taps_drain(bool final, gcp_record_cb cb, void *user)
{
	if (!rt.n)
		return;
	uint64_t now = tap_mono_ms();
	if (!final && (!rt.c.interval_s || now < rt.next_ms))
		return;
	for (unsigned i = 0; i < rt.n; i++)
		drain_one(&rt.v[i], cb, user);
	rt.next_ms = tap_mono_ms() + (uint64_t)rt.c.interval_s * 1000u;
}

void probe_taps_stop(void)
{
	char err[512];

	for (unsigned i = 0; i < rt.n; i++) {
		struct run_tap *r = &rt.v[i];
		if (r->opened)
			tap_close(&r->t);
		if (r->attached && tap_detach(r->dev, err, sizeof(err)))
			probe_msg("warning", "--tap %s: %s", r->dev, err);
		tap_inv_free(&r->inv);
		memset(r, 0, sizeof(*r));
	}
	rt.n = 0;
	if (rt.rb_ok)
		gcp_rb_fini(&rt.rb);
	rt.rb_ok = false;
}
