/* SPDX-License-Identifier: BSD-3-Clause */
/* Tenant map (public API): a flow's VLAN or VNI picks the record's tenant. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "gcprobe/gcprobe.h"

static char got[8][64];
static unsigned ngot;

/* Keep the "tenant" value of each record ("-" when absent). */
static void on_rec(const struct gcp_record *rec, void *user)
{
	char json[4096];
	(void)user;
	int n = gcp_record_to_json(rec->data, rec->len, json, sizeof(json), GCP_JSON_DEFAULT);
	cr_assert_gt(n, 0);
	const char *t = strstr(json, "\"tenant\":\"");
	cr_assert_lt(ngot, 8);
	if (!t) {
		snprintf(got[ngot++], sizeof(got[0]), "-");
		return;
	}
	t += strlen("\"tenant\":\"");
	snprintf(got[ngot++], sizeof(got[0]), "%.*s", (int)strcspn(t, "\""), t);
}

/* Ethernet, optional 802.1Q tag, IPv4, TCP SYN from port sport. */
static size_t syn_frame(uint8_t *b, int vlan, uint16_t sport)
{
	static const uint8_t ip[20] = { 0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0,
					192, 0, 2, 1, 198, 51, 100, 2 };
	size_t o = 12;

	memset(b, 0, 128);
	b[0] = 2;
	b[6] = 4;
	if (vlan >= 0) {
		b[o++] = 0x81, b[o++] = 0x00;
		b[o++] = (uint8_t)(vlan >> 8), b[o++] = (uint8_t)vlan;
	}
	b[o++] = 0x08, b[o++] = 0x00;
	memcpy(b + o, ip, sizeof(ip));
	o += sizeof(ip);
	b[o] = (uint8_t)(sport >> 8), b[o + 1] = (uint8_t)sport;
	b[o + 2] = 0, b[o + 3] = 80;
	b[o + 12] = 5 << 4;
	b[o + 13] = 0x02; /* SYN */
	b[o + 15] = 0xff;
	return o + 20;
}

static void run(const struct gcp_engine_opts *eo, const int *vlans, unsigned n)
{
	struct gcp_engine *eng;
	uint8_t frame[128];

	ngot = 0;
	cr_assert_eq(gcp_engine_create(eo, &eng), 0);
	cr_assert_eq(gcp_engine_subscribe(eng, GCP_REC_TCP, on_rec, NULL), 0);
	for (unsigned i = 0; i < n; i++) {
		size_t len = syn_frame(frame, vlans[i], (uint16_t)(40000 + i));
		struct gcp_packet p = { .data = frame, .caplen = (uint32_t)len,
					.wirelen = (uint32_t)len,
					.ts_ns = 1700000000000000000ull + i * 1000ull,
					.linktype = GCP_LINK_ETHERNET };
		cr_assert_eq(gcp_engine_feed(eng, &p), 0);
	}
	gcp_engine_flush(eng);
	gcp_engine_destroy(eng);
	cr_assert_eq(ngot, n);
}

static bool has(const char *t)
{
	for (unsigned i = 0; i < ngot; i++)
		if (!strcmp(got[i], t))
			return true;
	return false;
}

Test(tenant, by_vlan_with_default)
{
	char name[16];
	strcpy(name, "tenantA");
	struct gcp_tenant_map map[] = {
		{ .id = 5001, .kind = GCP_TENANT_VNI, .tenant = "overlay" },
		{ .id = 100, .kind = GCP_TENANT_VLAN, .tenant = name },
	};
	struct gcp_engine_opts eo = GCP_ENGINE_OPTS_INIT;
	eo.tenant = "dflt";
	eo.tenants = map;
	eo.ntenants = 2;
	const int vlans[] = { 100, 200, -1 };

	run(&eo, vlans, 3);
	cr_assert(has("tenantA"));
	cr_assert(has("dflt"));
	cr_assert(!has("-"));
	cr_assert_eq(ngot, 3);
	unsigned d = 0;
	for (unsigned i = 0; i < ngot; i++)
		d += !strcmp(got[i], "dflt");
	cr_assert_eq(d, 2, "untagged and vlan 200 take the default");
}

Test(tenant, no_default_no_key)
{
	struct gcp_tenant_map map[] = { { .id = 100, .kind = GCP_TENANT_VLAN, .tenant = "A" } };
	struct gcp_engine_opts eo = GCP_ENGINE_OPTS_INIT;
	eo.tenants = map;
	eo.ntenants = 1;
	const int vlans[] = { 100, 7 };

	run(&eo, vlans, 2);
	cr_assert(has("A"));
	cr_assert(has("-"));
}

Test(tenant, invalid_entries)
{
	struct gcp_engine *eng = NULL;
	struct gcp_tenant_map bad_vlan[] = { { .id = 4096, .kind = GCP_TENANT_VLAN, .tenant = "x" } };
	struct gcp_tenant_map bad_kind[] = { { .id = 1, .kind = 9, .tenant = "x" } };
	struct gcp_tenant_map no_name[] = { { .id = 1, .kind = GCP_TENANT_VNI, .tenant = "" } };
	struct gcp_engine_opts eo = GCP_ENGINE_OPTS_INIT;

	eo.ntenants = 1;
	eo.tenants = bad_vlan;
	cr_assert_eq(gcp_engine_create(&eo, &eng), GCP_ERR_INVAL);
	eo.tenants = bad_kind;
	cr_assert_eq(gcp_engine_create(&eo, &eng), GCP_ERR_INVAL);
	eo.tenants = no_name;
	cr_assert_eq(gcp_engine_create(&eo, &eng), GCP_ERR_INVAL);
	eo.tenants = NULL;
	cr_assert_eq(gcp_engine_create(&eo, &eng), GCP_ERR_INVAL);
}
