/* SPDX-License-Identifier: BSD-3-Clause */
/* Content rules: the text format (docs/RULES.md), compilation to one
 * Hyperscan block database, refcounted sharing and record tagging. */
#include "rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Watched top-level keys; a rule names one of them or all ("any"). */
enum rule_field {
	RF_HOST = 1u << 0,
	RF_URL = 1u << 1,
	RF_QNAME = 1u << 2,
	RF_ACCOUNT = 1u << 3,
	RF_ANY = 0xfu,
};

static const struct {
	const char *name;
	unsigned field;
} field_names[] = {
	{ "host", RF_HOST }, { "url", RF_URL }, { "qname", RF_QNAME },
	{ "account", RF_ACCOUNT }, { "any", RF_ANY },
};

struct rule {
	uint32_t id;
	unsigned field;
};

struct gcp_rules {
	hs_database_t *db;  /* NULL for an empty set */
	atomic_uint refs;
	unsigned n;
	unsigned fields;    /* union of the rules' fields */
	struct rule *r;     /* indexed by Hyperscan expression id */
};

struct gcp_rules_slot {
	struct gcp_rules *rules;
	hs_scratch_t *scratch;
};

/* ---- parsing ----------------------------------------------------------- */

struct parsed {
	char *re;
	unsigned flags;
	uint32_t id;
	unsigned field;
	unsigned line;
};

struct parse_state {
	struct parsed *v;
	unsigned n, cap;
	char *err;
	size_t errlen;
};

static int fail(struct parse_state *ps, unsigned line, uint32_t id, const char *fmt, ...)
{
	va_list ap;
	int off;

	if (!ps->err || !ps->errlen)
		return GCP_ERR_FORMAT;
	if (id)
		off = snprintf(ps->err, ps->errlen, "line %u (id %u): ", line, id);
	else
		off = snprintf(ps->err, ps->errlen, "line %u: ", line);
	if (off >= 0 && (size_t)off < ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err + off, ps->errlen - (size_t)off, fmt, ap);
		va_end(ap);
	}
	return GCP_ERR_FORMAT;
}

static int field_of(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++)
		if (strlen(field_names[i].name) == n && !memcmp(field_names[i].name, name, n))
			return (int)field_names[i].field;
	return 0;
}

/* "/body/flags": body stays in place (NUL-terminated), flags mapped. */
static int parse_pattern(struct parse_state *ps, struct parsed *p, char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	char *last = strrchr(s, '/');

	if (s[0] != '/' || last == s)
		return fail(ps, p->line, p->id, "pattern must be /regex/flags");
	*last = '\0';
	p->re = s + 1;
	if (!p->re[0])
		return fail(ps, p->line, p->id, "empty pattern");
	for (const char *f = last + 1; *f; f++) {
		if (*f == 'i')
			p->flags |= HS_FLAG_CASELESS;
		else if (*f == 's')
			p->flags |= HS_FLAG_DOTALL;
		else if (*f == 'm')
			p->flags |= HS_FLAG_MULTILINE;
		else if (*f == ' ' || *f == '\t')
			return fail(ps, p->line, p->id, "pattern= must be last on the line");
		else
			return fail(ps, p->line, p->id, "unknown pattern flag '%c'", *f);
	}
	return 0;
}

static int parse_token(struct parse_state *ps, struct parsed *p, const char *k, size_t kn,
		       const char *v, size_t vn)
{
	if (kn == 2 && !memcmp(k, "id", 2)) {
		char *end;
		unsigned long id = strtoul(v, &end, 10);

		if (end != v + vn || vn == 0 || v[0] == '-' || id == 0 || id > UINT32_MAX)
			return fail(ps, p->line, 0, "id must be an integer 1..4294967295");
		p->id = (uint32_t)id;
		return 0;
	}
	if (kn == 5 && !memcmp(k, "field", 5)) {
		p->field = (unsigned)field_of(v, vn);
		if (!p->field)
			return fail(ps, p->line, p->id, "unknown field '%.*s' (host, url, qname, "
				    "account or any)", (int)vn, v);
		return 0;
	}
	return fail(ps, p->line, p->id, "unknown key '%.*s'", (int)kn, k);
}

/* One non-empty, non-comment line: key=value tokens, pattern= last. */
static int parse_line(struct parse_state *ps, struct parsed *p, char *s)
{
	for (;;) {
		s += strspn(s, " \t\r");
		if (!*s)
			break;
		if (!strncmp(s, "pattern=", 8)) {
			int rc = parse_pattern(ps, p, s + 8);

			if (rc)
				return rc;
			break;
		}
		size_t tn = strcspn(s, " \t\r");
		char *eq = memchr(s, '=', tn);

		if (!eq)
			return fail(ps, p->line, p->id, "expected key=value, got '%.*s'", (int)tn, s);
		int rc = parse_token(ps, p, s, (size_t)(eq - s), eq + 1, tn - (size_t)(eq - s) - 1);

		if (rc)
			return rc;
		s += tn;
	}
	if (!p->id)
		return fail(ps, p->line, 0, "missing id=");
	if (!p->re)
		return fail(ps, p->line, p->id, "missing pattern=");
	if (!p->field)
		p->field = RF_ANY;
	for (unsigned i = 0; i < ps->n; i++)
		if (ps->v[i].id == p->id)
			return fail(ps, p->line, p->id, "duplicate id (first on line %u)",
				    ps->v[i].line);
	return 0;
}

static int push(struct parse_state *ps, const struct parsed *p)
{
	if (ps->n == ps->cap) {
		unsigned ncap = ps->cap ? ps->cap * 2 : 16;
		struct parsed *nv = realloc(ps->v, ncap * sizeof(*nv));

		if (!nv)
			return GCP_ERR_NOMEM;
		ps->v = nv;
		ps->cap = ncap;
	}
	ps->v[ps->n++] = *p;
	return 0;
}

static int parse_text(struct parse_state *ps, char *text)
{
	unsigned line = 0;

	for (char *s = text, *nl; s; s = nl) {
		nl = strchr(s, '\n');
		if (nl)
			*nl++ = '\0';
		line++;
		char *t = s + strspn(s, " \t\r");

		if (!*t || *t == '#')
			continue;
		struct parsed p = { .line = line };
		int rc = parse_line(ps, &p, t);

		if (!rc)
			rc = push(ps, &p);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- compile ------------------------------------------------------------ */

static int compile(struct parse_state *ps, struct gcp_rules *r)
{
	const char **re = calloc(ps->n, sizeof(*re));
	unsigned *flags = calloc(ps->n, sizeof(*flags));
	unsigned *ids = calloc(ps->n, sizeof(*ids));
	hs_compile_error_t *cerr = NULL;
	int rc = GCP_ERR_NOMEM;

	if (!re || !flags || !ids)
		goto out;
	for (unsigned i = 0; i < ps->n; i++) {
		re[i] = ps->v[i].re;
		flags[i] = ps->v[i].flags | HS_FLAG_SINGLEMATCH;
		ids[i] = i;
	}
	rc = 0;
	if (hs_compile_multi(re, flags, ids, ps->n, HS_MODE_BLOCK, NULL, &r->db, &cerr) !=
	    HS_SUCCESS) {
		int at = cerr && cerr->expression >= 0 ? cerr->expression : -1;
		const char *msg = cerr && cerr->message ? cerr->message : "compile failed";

		if (at >= 0 && (unsigned)at < ps->n)
			rc = fail(ps, ps->v[at].line, ps->v[at].id, "%s", msg);
		else
			rc = fail(ps, 0, 0, "%s", msg);
		hs_free_compile_error(cerr);
		r->db = NULL;
	}
out:
	free(re);
	free(flags);
	free(ids);
	return rc;
}

static void rules_destroy(struct gcp_rules *r)
{
	hs_free_database(r->db);
	free(r->r);
	free(r);
}

static int build(struct parse_state *ps, struct gcp_rules **out)
{
	struct gcp_rules *r = calloc(1, sizeof(*r));

	if (!r || (ps->n && !(r->r = calloc(ps->n, sizeof(*r->r))))) {
		free(r);
		return GCP_ERR_NOMEM;
	}
	atomic_init(&r->refs, 1);
	r->n = ps->n;
	for (unsigned i = 0; i < ps->n; i++) {
		r->r[i] = (struct rule){ ps->v[i].id, ps->v[i].field };
		r->fields |= ps->v[i].field;
	}
	int rc = ps->n ? compile(ps, r) : 0;

	if (rc) {
		rules_destroy(r);
		return rc;
	}
	*out = r;
	return 0;
}

int gcp_rules_compile(const char *text, struct gcp_rules **out, char *err, size_t errlen)
{
	struct parse_state ps = { .err = err, .errlen = errlen };
	char *copy = NULL;
	int rc = GCP_ERR_INVAL;

	if (err && errlen)
		err[0] = '\0';
	if (!text || !out)
		goto out;
	*out = NULL;
	rc = GCP_ERR_NOMEM;
	copy = strdup(text);
	if (!copy)
		goto out;
	rc = parse_text(&ps, copy);
	if (!rc)
		rc = build(&ps, out);
out:
	if (rc == GCP_ERR_NOMEM && err && errlen && !err[0])
		snprintf(err, errlen, "out of memory");
	free(ps.v);
	free(copy);
	return rc;
}

static void rules_ref(struct gcp_rules *r)
{
	atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
}

void gcp_rules_free(struct gcp_rules *r)
{
	if (r && atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1)
		rules_destroy(r);
}

unsigned gcp_rules_count(const struct gcp_rules *r)
{
	return r ? r->n : 0;
}

/* ---- per engine ------------------------------------------------------------ */

static void slot_free(struct gcp_rules_slot *s)
{
	if (!s)
		return;
	hs_free_scratch(s->scratch);
	gcp_rules_free(s->rules);
	free(s);
}

void gcp_rules_run_init(struct gcp_rules_run *run)
{
	memset(run, 0, sizeof(*run));
	atomic_init(&run->next, NULL);
}

void gcp_rules_run_fini(struct gcp_rules_run *run)
{
	slot_free(atomic_exchange(&run->next, NULL));
	hs_free_scratch(run->scratch);
	gcp_rules_free(run->rules);
	run->scratch = NULL;
	run->rules = NULL;
}

int gcp_rules_run_set(struct gcp_rules_run *run, struct gcp_rules *r)
{
	struct gcp_rules_slot *s = calloc(1, sizeof(*s));

	if (!s)
		return GCP_ERR_NOMEM;
	/* Scratch is sized for this database here, off the packet path. */
	if (r && r->db && hs_alloc_scratch(r->db, &s->scratch) != HS_SUCCESS) {
		free(s);
		return GCP_ERR_NOMEM;
	}
	if (r)
		rules_ref(r);
	s->rules = r;
	/* A set posted earlier and not yet picked up is simply replaced. */
	slot_free(atomic_exchange_explicit(&run->next, s, memory_order_acq_rel));
	return GCP_OK;
}

bool gcp_rules_run_pickup(struct gcp_rules_run *run)
{
	if (!atomic_load_explicit(&run->next, memory_order_relaxed))
		return false;
	struct gcp_rules_slot *s = atomic_exchange_explicit(&run->next, NULL, memory_order_acquire);

	if (!s)
		return false;
	hs_free_scratch(run->scratch);
	gcp_rules_free(run->rules);
	run->rules = s->rules;
	run->scratch = s->scratch;
	run->nhits = 0;
	run->st_swaps++;
	free(s);
	return true;
}

/* ---- tagging ---------------------------------------------------------------- */

static unsigned watched(const char *k)
{
	switch (k[0]) {
	case 'h':
		return strcmp(k, "host") ? 0 : RF_HOST;
	case 'u':
		return strcmp(k, "url") ? 0 : RF_URL;
	case 'q':
		return strcmp(k, "qname") ? 0 : RF_QNAME;
	case 'a':
		return strcmp(k, "account") ? 0 : RF_ACCOUNT;
	default:
		return 0;
	}
}

struct scan_ctx {
	struct gcp_rules_run *run;
	unsigned field;
};

/* Keep the record's ids sorted and unique. */
static void add_hit(struct gcp_rules_run *run, uint32_t id)
{
	unsigned i = 0;

	while (i < run->nhits && run->hits[i] < id)
		i++;
	if (i < run->nhits && run->hits[i] == id)
		return;
	if (run->nhits == GCP_RULES_MAX_HITS) {
		run->st_dropped++;
		return;
	}
	memmove(&run->hits[i + 1], &run->hits[i], (run->nhits - i) * sizeof(run->hits[0]));
	run->hits[i] = id;
	run->nhits++;
}

static int on_rule(unsigned int id, unsigned long long from, unsigned long long to,
		   unsigned int flags, void *arg)
{
	struct scan_ctx *sc = arg;
	const struct rule *r = &sc->run->rules->r[id];

	(void)from, (void)to, (void)flags;
	if (r->field & sc->field)
		add_hit(sc->run, r->id);
	return 0;
}

void gcp_rules_on_str(const char *key, const char *val, size_t len, void *user)
{
	struct gcp_rules_run *run = user;
	struct scan_ctx sc = { run, watched(key) };

	if (!sc.field || !run->rules || !run->rules->db || !(run->rules->fields & sc.field))
		return;
	if (len > UINT32_MAX)
		return;
	if (hs_scan(run->rules->db, len ? val : "", (unsigned)len, 0, run->scratch, on_rule, &sc) !=
	    HS_SUCCESS)
		run->st_errors++;
}

void gcp_rules_put(struct gcp_rules_run *run, struct gcp_rb *rb)
{
	if (!run->nhits)
		return;
	gcp_rb_key(rb, "rules");
	gcp_rb_array_begin(rb);
	for (unsigned i = 0; i < run->nhits; i++)
		gcp_rb_uint(rb, run->hits[i]);
	gcp_rb_end(rb);
	run->nhits = 0;
	run->st_tagged++;
}
