/* SPDX-License-Identifier: BSD-3-Clause */
/* Golden matcher: expected record lines (.exp) against MessagePack records. */
#ifndef GCP_GOLDEN_MATCH_H
#define GCP_GOLDEN_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <msgpack.h>

#define GM_MAX_KEYS 32
#define GM_MAX_TYPES 8
#define GM_VAL_MAX 4096

/* One expected line: type<TAB>key=value<TAB>... (values unescaped). */
struct gm_expect {
	char *type;
	int nkeys;
	char *key[GM_MAX_KEYS];
	char *val[GM_MAX_KEYS];
	char *line;  /* the line as written, for reports */
};

/* One .exp file: the checked types and the expected lines. */
struct gm_file {
	int ntypes;
	char *types[GM_MAX_TYPES];
	size_t n, cap;
	struct gm_expect *exp;
};

/* One actual record: a private copy of its bytes, decoded once. */
struct gm_actual {
	uint8_t *raw;
	size_t len;
	msgpack_unpacked up;
	char type[32];
};

struct gm_actuals {
	size_t n, cap;
	struct gm_actual *rec;
};

/* Parse .exp text (NUL-terminated) / a file. Return 0 or -1 (format). */
int gm_file_parse(struct gm_file *f, const char *text);
int gm_file_load(struct gm_file *f, const char *path);
void gm_file_free(struct gm_file *f);

/* Append a copy of one record; -1 when it is not a MessagePack map. */
int gm_actuals_add(struct gm_actuals *a, const uint8_t *data, size_t len);
void gm_actuals_free(struct gm_actuals *a);

/*
 * Value of key in a record as canonical text (strings as is, integers
 * in decimal, arrays joined by '|', "a.b" nested). Pseudo keys:
 * endpoints ("ip:port,ip:port" sorted, IPv6 in brackets) and pkts
 * (pkts_c2s + pkts_s2c). Returns false when the key is absent.
 */
bool gm_value(const msgpack_object *map, const char *key, char *buf, size_t sz);

/* Number of expected keys the record has with equal values. */
int gm_score(const struct gm_expect *e, const struct gm_actual *r);

/*
 * Match every expected line to a distinct record (maximum bipartite
 * matching) and compare per-type counts for the checked types. Writes
 * a report of each problem to out (may be NULL); returns the number of
 * problems (0: the file passes).
 */
int gm_check(const struct gm_file *f, const struct gm_actuals *a, FILE *out);

#endif /* GCP_GOLDEN_MATCH_H */
