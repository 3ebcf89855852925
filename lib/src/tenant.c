/* SPDX-License-Identifier: BSD-3-Clause */
/* Tenant map: a flow's VNI or outermost VLAN id picks its tenant label. */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct gcp_tenant_ent {
	uint32_t key;   /* kind << 24 | id */
	char *tenant;
};

static uint32_t tkey(unsigned kind, uint32_t id)
{
	return (uint32_t)kind << 24 | id;
}

static int ent_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct gcp_tenant_ent *)a)->key;
	uint32_t y = ((const struct gcp_tenant_ent *)b)->key;

	return x < y ? -1 : x > y;
}

static bool ent_valid(const struct gcp_tenant_map *m)
{
	if (!m->tenant || !m->tenant[0])
		return false;
	if (m->kind == GCP_TENANT_VLAN)
		return m->id < 4096;
	return m->kind == GCP_TENANT_VNI && m->id < (1u << 24);
}

/* Copy the caller's map (e->opts holds it as far as the caller's sz reached). */
int gcp_tenant_init(struct gcp_engine *e)
{
	const struct gcp_tenant_map *m = e->opts.tenants;
	unsigned n = e->opts.ntenants;

	e->opts.tenants = NULL;
	e->opts.ntenants = 0;
	if (!n)
		return GCP_OK;
	if (!m)
		return GCP_ERR_INVAL;
	e->tenants = calloc(n, sizeof(*e->tenants));
	if (!e->tenants)
		return GCP_ERR_NOMEM;
	for (unsigned i = 0; i < n; i++) {
		if (!ent_valid(&m[i]))
			return GCP_ERR_INVAL;
		e->tenants[i].key = tkey(m[i].kind, m[i].id);
		e->tenants[i].tenant = strdup(m[i].tenant);
		e->ntenants = i + 1;
		if (!e->tenants[i].tenant)
			return GCP_ERR_NOMEM;
	}
	qsort(e->tenants, n, sizeof(*e->tenants), ent_cmp);
	return GCP_OK;
}

static const char *find(const struct gcp_engine *e, uint32_t key)
{
	struct gcp_tenant_ent k = { .key = key };
	const struct gcp_tenant_ent *t =
		bsearch(&k, e->tenants, e->ntenants, sizeof(k), ent_cmp);

	return t ? t->tenant : NULL;
}

const char *gcp_tenant_of(const struct gcp_engine *e, const struct gcp_flow *f)
{
	const char *t = NULL;

	const struct gcp_flow_meta *m = gcp_flow_meta(&e->ft, f);

	if (e->ntenants && m->has_vni)
		t = find(e, tkey(GCP_TENANT_VNI, f->key.vni & 0xffffffu));
	if (!t && e->ntenants && m->nvlan)
		t = find(e, tkey(GCP_TENANT_VLAN, m->vlan[0] & 0xfffu));
	return t ? t : e->opts.tenant;
}

void gcp_tenant_fini(struct gcp_engine *e)
{
	for (unsigned i = 0; i < e->ntenants; i++)
		free(e->tenants[i].tenant);
	free(e->tenants);
	e->tenants = NULL;
	e->ntenants = 0;
}
