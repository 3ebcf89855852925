/* SPDX-License-Identifier: BSD-3-Clause */
/* Golden matcher: parse .exp lines, render record values, match multisets. */
#include "golden_match.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <gcprobe/gcprobe.h>

/* ---- .exp parsing ----------------------------------------------------- */

/* Undo the oracle's escapes (\\ \t \n) in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*w++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

static int parse_types(struct gm_file *f, char *s)
{
	char *save = NULL;

	for (char *t = strtok_r(s, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (f->ntypes == GM_MAX_TYPES)
			return -1;
		f->types[f->ntypes++] = strdup(t);
	}
	return 0;
}

static int parse_expect(struct gm_expect *e, const char *line)
{
	char *save = NULL, *tok;

	memset(e, 0, sizeof(*e));
	e->line = strdup(line);
	char *copy = strdup(line);
	if (!e->line || !copy)
		goto fail;
	tok = strtok_r(copy, "\t", &save);
	e->type = strdup(tok ? tok : "");
	while ((tok = strtok_r(NULL, "\t", &save))) {
		char *eq = strchr(tok, '=');
		if (!eq || e->nkeys == GM_MAX_KEYS)
			goto fail;
		*eq = '\0';
		e->key[e->nkeys] = strdup(tok);
		e->val[e->nkeys] = strdup(eq + 1);
		unescape(e->val[e->nkeys++]);
	}
	free(copy);
	return 0;
fail:
	free(copy);
	return -1;
}

static struct gm_expect *file_push(struct gm_file *f)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct gm_expect *p = realloc(f->exp, cap * sizeof(*p));
		if (!p)
			return NULL;
		f->exp = p;
		f->cap = cap;
	}
	return &f->exp[f->n++];
}

int gm_file_parse(struct gm_file *f, const char *text)
{
	char *copy = strdup(text), *save = NULL;
	int rc = 0;

	memset(f, 0, sizeof(*f));
	if (!copy)
		return -1;
	for (char *l = strtok_r(copy, "\n", &save); l && !rc;
	     l = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(l, "#types", 6)) {
			rc = parse_types(f, l + 6);
		} else if (l[0] != '#' && l[0] != '\0') {
			struct gm_expect *e = file_push(f);
			rc = e ? parse_expect(e, l) : -1;
		}
	}
	free(copy);
	return rc;
}

int gm_file_load(struct gm_file *f, const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *text = NULL;
	size_t n = 0;
	int rc = -1;

	memset(f, 0, sizeof(*f));
	if (!fp)
		return -1;
	if (fseek(fp, 0, SEEK_END) || (n = (size_t)ftell(fp), fseek(fp, 0, SEEK_SET)))
		goto out;
	text = calloc(1, n + 1);
	if (text && fread(text, 1, n, fp) == n)
		rc = gm_file_parse(f, text);
out:
	free(text);
	fclose(fp);
	return rc;
}

void gm_file_free(struct gm_file *f)
{
	for (int i = 0; i < f->ntypes; i++)
		free(f->types[i]);
	for (size_t i = 0; i < f->n; i++) {
		struct gm_expect *e = &f->exp[i];
		for (int k = 0; k < e->nkeys; k++) {
			free(e->key[k]);
			free(e->val[k]);
		}
		free(e->type);
		free(e->line);
	}
	free(f->exp);
	memset(f, 0, sizeof(*f));
}

/* ---- actual records --------------------------------------------------- */

static bool obj_is(const msgpack_object *o, const char *s, size_t n)
{
	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	       !memcmp(o->via.str.ptr, s, n);
}

static const msgpack_object *map_get(const msgpack_object *m, const char *k, size_t n)
{
	if (m->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < m->via.map.size; i++)
		if (obj_is(&m->via.map.ptr[i].key, k, n))
			return &m->via.map.ptr[i].val;
	return NULL;
}

int gm_actuals_add(struct gm_actuals *a, const uint8_t *data, size_t len)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		struct gm_actual *p = realloc(a->rec, cap * sizeof(*p));
		if (!p)
			return -1;
		a->rec = p;
		a->cap = cap;
	}
	struct gm_actual *r = &a->rec[a->n];
	memset(r, 0, sizeof(*r));
	r->raw = malloc(len ? len : 1);
	if (!r->raw)
		return -1;
	memcpy(r->raw, data, len);
	r->len = len;
	msgpack_unpacked_init(&r->up);
	size_t off = 0;
	if (msgpack_unpack_next(&r->up, (const char *)r->raw, len, &off) !=
	    MSGPACK_UNPACK_SUCCESS || r->up.data.type != MSGPACK_OBJECT_MAP) {
		msgpack_unpacked_destroy(&r->up);
		free(r->raw);
		return -1;
	}
	const msgpack_object *t = map_get(&r->up.data, "type", 4);
	if (t && t->type == MSGPACK_OBJECT_STR && t->via.str.size < sizeof(r->type))
		memcpy(r->type, t->via.str.ptr, t->via.str.size);
	a->n++;
	return 0;
}

void gm_actuals_free(struct gm_actuals *a)
{
	for (size_t i = 0; i < a->n; i++) {
		msgpack_unpacked_destroy(&a->rec[i].up);
		free(a->rec[i].raw);
	}
	free(a->rec);
	memset(a, 0, sizeof(*a));
}

/* ---- values as text --------------------------------------------------- */

struct sbuf {
	char *p;
	size_t sz, len;
	bool over;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n >= b->sz) {
		b->over = true;
		n = b->sz - 1 - b->len;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static bool obj_text(const msgpack_object *o, struct sbuf *b)
{
	char num[32];

	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		sb_put(b, o->via.str.ptr, o->via.str.size);
		return true;
	case MSGPACK_OBJECT_BIN:
		sb_put(b, o->via.bin.ptr, o->via.bin.size);
		return true;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		snprintf(num, sizeof(num), "%" PRIu64, o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		snprintf(num, sizeof(num), "%" PRId64, o->via.i64);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		snprintf(num, sizeof(num), "%s", o->via.boolean ? "true" : "false");
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		snprintf(num, sizeof(num), "%g", o->via.f64);
		break;
	case MSGPACK_OBJECT_NIL:
		return true;
	case MSGPACK_OBJECT_ARRAY:
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			if (i)
				sb_put(b, "|", 1);
			if (!obj_text(&o->via.array.ptr[i], b))
				return false;
		}
		return true;
	default:
		return false; /* maps, extensions (timestamps): not comparable */
	}
	sb_put(b, num, strlen(num));
	return true;
}

/* Exact key first, then "a.b.c" as nested maps (any split point). */
static const msgpack_object *lookup(const msgpack_object *m, const char *key)
{
	const msgpack_object *v = map_get(m, key, strlen(key));

	for (const char *dot = strchr(key, '.'); !v && dot; dot = strchr(dot + 1, '.')) {
		const msgpack_object *sub = map_get(m, key, (size_t)(dot - key));
		if (sub && sub->type == MSGPACK_OBJECT_MAP)
			v = lookup(sub, dot + 1);
	}
	return v;
}

static bool endpoint(const msgpack_object *m, const char *ipk, const char *portk,
		     char *out, size_t sz)
{
	char ip[128] = "", port[32] = "";
	struct sbuf bi = { ip, sizeof(ip), 0, false }, bp = { port, sizeof(port), 0, false };
	const msgpack_object *vi = map_get(m, ipk, strlen(ipk));
	const msgpack_object *vp = map_get(m, portk, strlen(portk));

	if (!vi || !vp || !obj_text(vi, &bi) || !obj_text(vp, &bp))
		return false;
	snprintf(out, sz, strchr(ip, ':') ? "[%s]:%s" : "%s:%s", ip, port);
	return true;
}

static bool pseudo_endpoints(const msgpack_object *m, char *buf, size_t sz)
{
	char a[160], b[160];

	if (!endpoint(m, "src_ip", "src_port", a, sizeof(a)) ||
	    !endpoint(m, "dst_ip", "dst_port", b, sizeof(b)))
		return false;
	if (strcmp(a, b) > 0)
		snprintf(buf, sz, "%s,%s", b, a);
	else
		snprintf(buf, sz, "%s,%s", a, b);
	return true;
}

static bool pseudo_pkts(const msgpack_object *m, char *buf, size_t sz)
{
	const msgpack_object *c = map_get(m, "pkts_c2s", 8), *s = map_get(m, "pkts_s2c", 8);
	uint64_t sum = 0;

	if (!c && !s)
		return false;
	if (c && c->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		sum += c->via.u64;
	if (s && s->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		sum += s->via.u64;
	snprintf(buf, sz, "%" PRIu64, sum);
	return true;
}

bool gm_value(const msgpack_object *map, const char *key, char *buf, size_t sz)
{
	struct sbuf b = { buf, sz, 0, false };
	const msgpack_object *v;

	buf[0] = '\0';
	if (!strcmp(key, "endpoints"))
		return pseudo_endpoints(map, buf, sz);
	if (!strcmp(key, "pkts") && !map_get(map, "pkts", 4))
		return pseudo_pkts(map, buf, sz);
	v = lookup(map, key);
	return v && obj_text(v, &b) && !b.over;
}

/* ---- matching --------------------------------------------------------- */

int gm_score(const struct gm_expect *e, const struct gm_actual *r)
{
	static char buf[GM_VAL_MAX];
	int score = 0;

	for (int k = 0; k < e->nkeys; k++)
		if (gm_value(&r->up.data, e->key[k], buf, sizeof(buf)) &&
		    !strcmp(buf, e->val[k]))
			score++;
	return score;
}

static bool compatible(const struct gm_expect *e, const struct gm_actual *r)
{
	return !strcmp(e->type, r->type) && gm_score(e, r) == e->nkeys;
}

struct matching {
	size_t ne, na;
	const bool *ok;       /* ne x na compatibility */
	long *owner;          /* per actual: expected index or -1 */
	bool *seen;           /* per actual, one augmenting search */
};

/* Kuhn's augmenting path: can expected i get a record? */
static bool augment(struct matching *m, size_t i)
{
	for (size_t j = 0; j < m->na; j++) {
		if (!m->ok[i * m->na + j] || m->seen[j])
			continue;
		m->seen[j] = true;
		if (m->owner[j] < 0 || augment(m, (size_t)m->owner[j])) {
			m->owner[j] = (long)i;
			return true;
		}
	}
	return false;
}

static void print_json(FILE *out, const struct gm_actual *r)
{
	static char buf[1 << 16];
	int n = gcp_record_to_json(r->raw, r->len, buf, sizeof(buf), GCP_JSON_DEFAULT);

	if (n < 0)
		fprintf(out, "    (record not renderable: %s)\n", gcp_strerror(n));
	else
		fprintf(out, "    %s", buf);
}

static void report_unmatched(FILE *out, const struct gm_file *f, size_t i,
			     const struct gm_actuals *a, const long *owner)
{
	const struct gm_expect *e = &f->exp[i];
	const struct gm_actual *best = NULL;
	int best_score = -1;

	for (size_t j = 0; j < a->n; j++) {
		int s = strcmp(e->type, a->rec[j].type) ? -1 : gm_score(e, &a->rec[j]);
		if (s > best_score) {
			best_score = s;
			best = &a->rec[j];
		}
	}
	fprintf(out, "  unmatched expected: %s\n", e->line);
	if (!best || best_score < 0) {
		fprintf(out, "    closest actual: none of type %s\n", e->type);
		return;
	}
	long taken = owner[best - a->rec];
	fprintf(out, "    closest actual (%d/%d keys equal%s):\n", best_score, e->nkeys,
		taken >= 0 ? ", matched to another line" : "");
	print_json(out, best);
}

static int check_counts(const struct gm_file *f, const struct gm_actuals *a,
			const long *owner, FILE *out)
{
	int problems = 0;

	for (int t = 0; t < f->ntypes; t++) {
		size_t ne = 0, na = 0;
		for (size_t i = 0; i < f->n; i++)
			ne += !strcmp(f->exp[i].type, f->types[t]);
		for (size_t j = 0; j < a->n; j++)
			na += !strcmp(a->rec[j].type, f->types[t]);
		if (ne == na)
			continue;
		problems++;
		if (!out)
			continue;
		fprintf(out, "  type %s: expected %zu records, got %zu; unmatched actual:\n",
			f->types[t], ne, na);
		for (size_t j = 0; j < a->n; j++)
			if (owner[j] < 0 && !strcmp(a->rec[j].type, f->types[t]))
				print_json(out, &a->rec[j]);
	}
	return problems;
}

int gm_check(const struct gm_file *f, const struct gm_actuals *a, FILE *out)
{
	size_t ne = f->n, na = a->n;
	bool *ok = calloc(ne * na + 1, sizeof(*ok));
	long *owner = malloc((na + 1) * sizeof(*owner));
	bool *seen = malloc(na + 1);
	int problems = 0;

	if (!ok || !owner || !seen) {
		problems = 1;
		goto out;
	}
	for (size_t i = 0; i < ne; i++)
		for (size_t j = 0; j < na; j++)
			ok[i * na + j] = compatible(&f->exp[i], &a->rec[j]);
	for (size_t j = 0; j < na; j++)
		owner[j] = -1;
	struct matching m = { ne, na, ok, owner, seen };
	for (size_t i = 0; i < ne; i++) {
		memset(seen, 0, na + 1);
		if (augment(&m, i))
			continue;
		problems++;
		if (out)
			report_unmatched(out, f, i, a, owner);
	}
	problems += check_counts(f, a, owner, out);
out:
	free(ok);
	free(owner);
	free(seen);
	return problems;
}
