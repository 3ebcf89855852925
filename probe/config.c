/* SPDX-License-Identifier: BSD-3-Clause */
/* gcprobe configuration: INI sections and keys onto probe_opts, the command line over them
 * (probe_parse_options); --check-config. */
#include "config.h"
#include "readfile.h"
#include "rules.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind {
	K_OPT,      /* same as the command-line option named opt */
	K_BOOL_OPT, /* yes/no: "yes" applies the option named opt */
	K_SECS,     /* seconds (10, 10s, 5m, 1h) into eng at off (uint32_t) */
	K_U32,      /* count or bytes (K/M/G suffix) into eng at off */
	K_U64,
	K_HS_IDENT, /* yes/no -> eng.hs_ident 1/-1 */
	K_SINK,     /* [output] sink = SPEC, repeatable */
	K_RULES,    /* [rules] file = PATH */
};

struct key {
	const char *section, *name;
	enum kind kind;
	const char *opt;
	size_t off;
};

#define ENG(f) offsetof(struct gcp_engine_opts, f)

static const struct key keys[] = {
	{ "probe", "node_name", K_OPT, "node-name", 0 },
	{ "probe", "node_type", K_OPT, "node-type", 0 },
	{ "probe", "engine", K_OPT, "engine", 0 },
	{ "probe", "agent_ip", K_OPT, "agent-ip", 0 },
	{ "probe", "tenant", K_OPT, "tenant", 0 },
	{ "probe", "stats_interval", K_OPT, "stats-interval", 0 },
	{ "probe", "inventory_interval", K_OPT, "inventory-interval", 0 },
	{ "probe", "inventory_top", K_OPT, "inventory-top", 0 },
	{ "capture", "read", K_OPT, "read", 0 },
	{ "capture", "iface", K_OPT, "iface", 0 },
	{ "capture", "dpdk", K_OPT, "dpdk", 0 },
	{ "capture", "port", K_OPT, "port", 0 },
	{ "capture", "queues", K_OPT, "queues", 0 },
	{ "capture", "workers", K_OPT, "workers", 0 },
	{ "capture", "cores", K_OPT, "cores", 0 },
	{ "capture", "xdp_mode", K_OPT, "xdp-mode", 0 },
	{ "capture", "xdp_attach", K_OPT, "xdp-attach", 0 },
	{ "capture", "busy_poll", K_BOOL_OPT, "busy-poll", 0 },
	{ "capture", "umem_frames", K_OPT, "umem-frames", 0 },
	{ "capture", "duration", K_OPT, "duration", 0 },
	{ "capture", "count", K_OPT, "count", 0 },
	{ "capture", "hs_ident", K_HS_IDENT, NULL, 0 },
	{ "capture", "tap", K_OPT, "tap", 0 }, /* repeatable, as --tap */
	{ "capture", "tap_monitor", K_OPT, "tap-monitor", 0 },
	{ "capture", "tap_policy", K_OPT, "tap-policy", 0 },
	{ "capture", "tap_local", K_OPT, "tap-local", 0 },
	{ "limits", "max_flows", K_OPT, "max-flows", 0 },
	{ "limits", "body_cap", K_OPT, "body-cap", 0 },
	{ "limits", "tcp_idle", K_SECS, NULL, ENG(tcp_idle_s) },
	{ "limits", "udp_idle", K_SECS, NULL, ENG(udp_idle_s) },
	{ "limits", "tcp_close", K_SECS, NULL, ENG(tcp_close_s) },
	{ "limits", "conn_window", K_SECS, NULL, ENG(conn_window_s) },
	{ "limits", "frag_timeout", K_SECS, NULL, ENG(frag_timeout_s) },
	{ "limits", "dns_timeout", K_SECS, NULL, ENG(dns_timeout_s) },
	{ "limits", "max_frag_datagrams", K_U32, NULL, ENG(max_frag_datagrams) },
	{ "limits", "reasm_flow_bytes", K_U32, NULL, ENG(reasm_flow_bytes) },
	{ "limits", "reasm_total_bytes", K_U64, NULL, ENG(reasm_total_bytes) },
	{ "limits", "stream_pending_bytes", K_U32, NULL, ENG(stream_pending_bytes) },
	{ "limits", "hs_streams", K_U32, NULL, ENG(hs_streams) },
	{ "limits", "app_mem_bytes", K_U64, NULL, ENG(app_mem_bytes) },
	{ "limits", "hash_seed", K_U64, NULL, ENG(hash_seed) },
	{ "output", "format", K_OPT, "format", 0 },
	{ "output", "output", K_OPT, "output", 0 },
	{ "output", "types", K_OPT, "types", 0 },
	{ "output", "sink", K_SINK, NULL, 0 },
	{ "rules", "file", K_RULES, NULL, 0 },
};

/* Parsing state of one file. */
struct cfg {
	const char *path;
	unsigned line;
	char section[32];
	char where[4096];
	struct gcp_tenant_map *tenants;
	unsigned ntenants;
};

__attribute__((format(printf, 2, 3)))
static int cfg_error(const struct cfg *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "gcprobe: error: %s:%u: ", c->path, c->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && strchr(" \t\r", s[n - 1]))
		s[--n] = '\0';
	/* "quoted value": the quotes go */
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s[n - 1] = '\0';
		s++;
	}
	return s;
}

static int parse_bool(const char *v)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
		return 1;
	if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
		return 0;
	return -1;
}

/* [tenants] vlan:100 = tenantA, vni:5001 = tenantB */
static int tenant_line(struct cfg *c, const char *k, const char *v)
{
	uint8_t kind;
	uint64_t id;
	uint64_t max;

	if (!strncmp(k, "vlan:", 5))
		kind = GCP_TENANT_VLAN, k += 5, max = 4095;
	else if (!strncmp(k, "vni:", 4))
		kind = GCP_TENANT_VNI, k += 4, max = (1u << 24) - 1;
	else
		return cfg_error(c, "[tenants] key '%s' is not vlan:ID or vni:ID", k);
	if (!probe_parse_bytes(k, max, &id) || strpbrk(k, "KMG"))
		return cfg_error(c, "[tenants] '%s' is not an id 0..%llu", k,
				 (unsigned long long)max);
	if (!*v)
		return cfg_error(c, "[tenants] empty tenant name");
	for (unsigned i = 0; i < c->ntenants; i++)
		if (c->tenants[i].kind == kind && c->tenants[i].id == id)
			return cfg_error(c, "[tenants] %s %llu given twice",
					 kind == GCP_TENANT_VLAN ? "vlan" : "vni",
					 (unsigned long long)id);
	struct gcp_tenant_map *t = realloc(c->tenants, (c->ntenants + 1) * sizeof(*t));
	if (!t)
		return cfg_error(c, "out of memory");
	c->tenants = t;
	t[c->ntenants++] = (struct gcp_tenant_map){ .id = (uint32_t)id, .kind = kind, .tenant = v };
	return 0;
}

static int add_sink(struct cfg *c, struct probe_opts *o, const char *v)
{
	if (!*v)
		return cfg_error(c, "[output] sink: empty");
	if (o->nsinks == PROBE_MAX_SINKS)
		return cfg_error(c, "[output] sink: more than %d sinks", PROBE_MAX_SINKS);
	o->sinks[o->nsinks++] = v;
	return 0;
}

static int number_key(struct cfg *c, const struct key *k, const char *v, struct probe_opts *o)
{
	char *base = (char *)&o->eng + k->off;
	uint32_t secs;
	uint64_t n;

	if (k->kind == K_SECS) {
		if (!probe_parse_seconds(v, &secs) || !secs)
			return cfg_error(c, "%s: '%s' is not a positive number of seconds",
					 k->name, v);
		memcpy(base, &secs, sizeof(secs));
		return 0;
	}
	if (!probe_parse_bytes(v, k->kind == K_U32 ? UINT32_MAX : UINT64_MAX, &n) || !n)
		return cfg_error(c, "%s: '%s' is not a positive number (K, M, G suffixes)",
				 k->name, v);
	if (k->kind == K_U32) {
		uint32_t n32 = (uint32_t)n;
		memcpy(base, &n32, sizeof(n32));
	} else {
		memcpy(base, &n, sizeof(n));
	}
	return 0;
}

/* The file may name one capture source. */
static int source_key(struct cfg *c, const struct key *k, const struct probe_opts *o)
{
	if (strcmp(k->section, "capture") || (strcmp(k->name, "read") && strcmp(k->name, "iface") &&
					      strcmp(k->name, "dpdk")))
		return 0;
	if (o->read_path || o->iface || o->dpdk_args)
		return cfg_error(c, "%s: read, iface and dpdk are exclusive", k->name);
	return 0;
}

static int apply_key(struct cfg *c, const struct key *k, char *v, struct probe_opts *o)
{
	int b;

	snprintf(c->where, sizeof(c->where), "%s:%u", c->path, c->line);
	switch (k->kind) {
	case K_OPT:
		if (source_key(c, k, o))
			return -1;
		return probe_apply_named(k->opt, v, o, c->where) == PROBE_RUN ? 0 : -1;
	case K_BOOL_OPT:
	case K_HS_IDENT:
		if ((b = parse_bool(v)) < 0)
			return cfg_error(c, "%s: '%s' is not yes or no", k->name, v);
		if (k->kind == K_HS_IDENT)
			o->eng.hs_ident = b ? 1 : -1;
		else if (b)
			return probe_apply_named(k->opt, NULL, o, c->where) == PROBE_RUN ? 0 : -1;
		return 0;
	case K_SINK:
		return add_sink(c, o, v);
	case K_RULES:
		if (!*v)
			return cfg_error(c, "[rules] file: empty");
		o->rules_path = v;
		o->rules_line = c->line;
		return 0;
	default:
		return number_key(c, k, v, o);
	}
}

static int section_line(struct cfg *c, char *s)
{
	char *end = strchr(s, ']');

	if (!end || end[1])
		return cfg_error(c, "bad section header (expected [name])");
	*end = '\0';
	s = trim(s + 1);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].section, s) || !strcmp(s, "tenants")) {
			snprintf(c->section, sizeof(c->section), "%s", s);
			return 0;
		}
	return cfg_error(c, "unknown section [%s] (probe, capture, limits, tenants, output, rules)",
			 s);
}

static int key_line(struct cfg *c, char *s, struct probe_opts *o)
{
	char *eq = strchr(s, '=');

	if (!eq)
		return cfg_error(c, "expected key = value");
	*eq = '\0';
	char *k = trim(s), *v = trim(eq + 1);
	if (!c->section[0])
		return cfg_error(c, "'%s' before any [section]", k);
	if (!strcmp(c->section, "tenants"))
		return tenant_line(c, k, v);
	for (char *p = k; *p; p++)
		if (*p == '-')
			*p = '_';
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].section, c->section) && !strcmp(keys[i].name, k))
			return apply_key(c, &keys[i], v, o);
	return cfg_error(c, "unknown key '%s' in [%s]", k, c->section);
}

/* What *o points into, freed at exit. */
static struct {
	char *text;
	struct gcp_tenant_map *tenants;
} held;

static void held_free(void)
{
	free(held.text);
	free(held.tenants);
}

static int parse_text(struct cfg *c, char *text, struct probe_opts *o)
{
	for (char *s = text, *nl; s; s = nl) {
		nl = strchr(s, '\n');
		if (nl)
			*nl++ = '\0';
		c->line++;
		s = trim(s);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[' ? section_line(c, s) : key_line(c, s, o))
			return -1;
	}
	return 0;
}

int probe_config_load(const char *path, struct probe_opts *o)
{
	struct cfg c = { .path = path };
	char err[512];
	char *text = probe_read_file(path, err, sizeof(err));

	if (!text) {
		fprintf(stderr, "gcprobe: error: %s\n", err);
		return -1;
	}
	int rc = parse_text(&c, text, o);
	if (!held.text)
		atexit(held_free);
	else
		held_free(); /* a second load replaces the first (found by fuzz_config) */
	held.text = text;
	held.tenants = c.tenants;
	if (rc)
		return -1;
	o->src_from_file = o->read_path || o->iface || o->dpdk_args;
	o->eng.tenants = c.tenants;
	o->eng.ntenants = c.ntenants;
	return 0;
}

enum probe_action probe_config_check(const struct probe_opts *o)
{
	struct gcp_engine *eng = NULL;
	char err[600];
	int rc;

	if (o->rules_path) {
		struct gcp_rules *r = probe_rules_load(o->rules_path, err, sizeof(err));
		if (!r) {
			if (o->rules_line)
				fprintf(stderr, "gcprobe: error: %s:%u: rules: %s\n", o->config_path,
					o->rules_line, err);
			else
				fprintf(stderr, "gcprobe: error: %s\n", err);
			return PROBE_EXIT_USAGE;
		}
		gcp_rules_free(r);
	}
	/* The engine checks what the file could not (limits that fit together). */
	rc = gcp_engine_create(&o->eng, &eng);
	gcp_engine_destroy(eng);
	if (rc) {
		fprintf(stderr, "gcprobe: error: %s: engine options: %s\n", o->config_path,
			gcp_strerror(rc));
		return PROBE_EXIT_USAGE;
	}
	puts("ok");
	return PROBE_EXIT_OK;
}

enum probe_action probe_parse_options(int argc, char **argv, struct probe_opts *o)
{
	enum probe_action a = probe_argv_first(argc, argv, o);

	if (a != PROBE_RUN)
		return a;
	if (o->config_path && probe_config_load(o->config_path, o))
		return PROBE_EXIT_USAGE;
	a = probe_argv_apply(argc, argv, o);
	if (a == PROBE_RUN && o->check_config)
		return probe_config_check(o);
	return a;
}
