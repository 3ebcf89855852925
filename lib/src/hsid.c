/* SPDX-License-Identifier: BSD-3-Clause */
/* Protocol identification with Hyperscan: anchored first-bytes signatures
 * scanned in stream mode, so a signature split across segments matches. */
#include "hsid.h"

#include <pthread.h>
#include <stdlib.h>

#include "gcprobe/gcprobe.h"

/*
 * The signatures are a constant of the library: compiled once per process
 * (about 30 ms) on the first engine's create, then shared read-only by
 * every engine and kept until exit, so short-lived engines (tests, fuzz
 * inputs, reloads) never pay for it again. Each engine has its own scratch.
 */
struct gcp_hsdb {
	hs_database_t *db;
};

static pthread_once_t db_once = PTHREAD_ONCE_INIT;
static struct gcp_hsdb db_shared;

/*
 * Signatures. All are anchored at the start of a direction (\A), so a
 * stream is dead after a few bytes unless one can still match. Server
 * greetings require the whole line so that "220 ... ESMTP" and
 * "220 ... FTP" end at the same byte and the priority below decides.
 */
struct sig {
	const char *re;
	unsigned app;
	unsigned flags;
};

#define CI HS_FLAG_CASELESS

static const struct sig sigs[] = {
	/* HTTP/1.x request line (not HTTP/2's preface line); response status line. */
	{ "\\A[A-Z][A-Z_-]{2,15} [^ \\r\\n]+ HTTP/(?:[013-9]\\.[0-9]|2\\.[1-9])\\r?\\n",
	  GCP_HSID_HTTP, 0 },
	{ "\\AHTTP/[0-9]\\.[0-9] [1-5][0-9][0-9][ \\r\\n]", GCP_HSID_HTTP, 0 },
	/* TLS handshake record: ClientHello/ServerHello, version 3.x (RFC 8446 5.1). */
	{ "\\A\\x16\\x03[\\x00-\\x04][\\x00-\\x48].[\\x01\\x02]\\x00..\\x03[\\x00-\\x04]",
	  GCP_HSID_TLS, 0 },
	/* SSH identification string (RFC 4253 4.2). */
	{ "\\ASSH-(?:2\\.0|1\\.99|1\\.5)-[\\x21-\\x7e]", GCP_HSID_SSH, 0 },
	/* SMTP greeting naming (E)SMTP; client EHLO/HELO. */
	{ "\\A220[ -][^\\r\\n]*SMTP[^\\r\\n]*\\r?\\n", GCP_HSID_SMTP, CI },
	{ "\\A(?:EHLO|HELO) [^\\r\\n]+\\r?\\n", GCP_HSID_SMTP, CI },
	/* POP3 greeting (a space: a bare "+OK" is also Redis); client CAPA/STLS. */
	{ "\\A\\+OK [^\\r\\n]*\\r?\\n", GCP_HSID_POP3, 0 },
	{ "\\A(?:CAPA|STLS)\\r?\\n", GCP_HSID_POP3, CI },
	/* IMAP untagged greeting; tagged first client command. */
	{ "\\A\\* (?:OK|PREAUTH)[ \\[][^\\r\\n]*\\r?\\n", GCP_HSID_IMAP, CI },
	{ "\\A[A-Za-z0-9.]{1,16} (?:CAPABILITY|STARTTLS|LOGIN|AUTHENTICATE)[ \\r\\n]",
	  GCP_HSID_IMAP, CI },
	/* FTP greeting naming FTP; client AUTH TLS (RFC 4217). */
	{ "\\A220[ -][^\\r\\n]*FTP[^\\r\\n]*\\r?\\n", GCP_HSID_FTP, CI },
	{ "\\AAUTH (?:TLS|SSL)\\r?\\n", GCP_HSID_FTP, CI },
	/*
	 * DNS over TCP (RFC 1035 4.2.2): length, id, a standard query with
	 * one question and no answers, then a label length; or a response
	 * (QR set, opcode 0) with one question.
	 */
	{ "\\A[\\x00-\\x01][\\x00-\\xff]..[\\x00\\x01][\\x00\\x10\\x20\\x30]\\x00\\x01"
	  "\\x00\\x00\\x00\\x00\\x00[\\x00\\x01][\\x00-\\x3f]",
	  GCP_HSID_DNS, 0 },
	{ "\\A[\\x00-\\xff]{4}[\\x80-\\x87][\\x00-\\x0f\\x20-\\x2f\\x80-\\x8f\\xa0-\\xaf]\\x00\\x01",
	  GCP_HSID_DNS, 0 },
	/* HTTP/2 client connection preface, h2c with prior knowledge (RFC 9113 3.4). */
	{ "\\APRI \\* HTTP/2\\.0\\r\\n\\r\\nSM\\r\\n\\r\\n", GCP_HSID_HTTP2, 0 },
};

#define NSIGS (sizeof(sigs) / sizeof(sigs[0]))

static const char *const names[GCP_HSID_COUNT] = {
	[GCP_HSID_HTTP] = "http", [GCP_HSID_TLS] = "tls",   [GCP_HSID_SSH] = "ssh",
	[GCP_HSID_SMTP] = "smtp", [GCP_HSID_POP3] = "pop3", [GCP_HSID_IMAP] = "imap",
	[GCP_HSID_FTP] = "ftp",   [GCP_HSID_DNS] = "dns",   [GCP_HSID_HTTP2] = "http2",
};

const char *gcp_hsid_name(unsigned app)
{
	return app < GCP_HSID_COUNT ? names[app] : NULL;
}

static hs_database_t *compile_sigs(void)
{
	const char *re[NSIGS];
	unsigned flags[NSIGS], ids[NSIGS];
	hs_database_t *db = NULL;
	hs_compile_error_t *cerr = NULL;

	for (unsigned i = 0; i < NSIGS; i++) {
		re[i] = sigs[i].re;
		flags[i] = sigs[i].flags | HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH;
		ids[i] = sigs[i].app;
	}
	if (hs_compile_multi(re, flags, ids, NSIGS, HS_MODE_STREAM, NULL, &db, &cerr) !=
	    HS_SUCCESS) {
		hs_free_compile_error(cerr);
		return NULL;
	}
	return db;
}

static void db_compile(void)
{
	db_shared.db = compile_sigs();
}

/* NULL when Hyperscan cannot run here (e.g. a CPU without SSSE3). */
static struct gcp_hsdb *hsdb_get(void)
{
	pthread_once(&db_once, db_compile);
	return db_shared.db ? &db_shared : NULL;
}

/* Malloc's header on each Hyperscan allocation. */
#define HS_MALLOC_HDR 16u

uint64_t gcp_hsid_mem(uint32_t nstreams)
{
	struct gcp_hsdb *db = hsdb_get();
	hs_scratch_t *scratch = NULL;
	size_t stream_sz = 0, scratch_sz = 0;

	if (!db)
		return 0;
	if (hs_stream_size(db->db, &stream_sz) != HS_SUCCESS ||
	    hs_alloc_scratch(db->db, &scratch) != HS_SUCCESS ||
	    hs_scratch_size(scratch, &scratch_sz) != HS_SUCCESS)
		stream_sz = scratch_sz = 0;
	hs_free_scratch(scratch);
	return scratch_sz + HS_MALLOC_HDR +
	       (uint64_t)nstreams * (stream_sz + HS_MALLOC_HDR + sizeof(hs_stream_t *) +
				     sizeof(uint32_t));
}

int gcp_hsid_init(struct gcp_hsid *h, uint32_t nstreams)
{
	*h = (struct gcp_hsid){ 0 };
	h->db = hsdb_get();
	if (!h->db)
		return GCP_ERR_UNSUPPORTED;
	if (hs_alloc_scratch(h->db->db, &h->scratch) != HS_SUCCESS)
		goto fail;
	h->streams = calloc(nstreams, sizeof(*h->streams));
	h->free_ids = calloc(nstreams, sizeof(*h->free_ids));
	if (!h->streams || !h->free_ids)
		goto fail;
	h->max = nstreams;
	return GCP_OK;
fail:
	gcp_hsid_fini(h);
	return GCP_ERR_NOMEM;
}

/*
 * A free stream: recycled (reset when released), else opened while the
 * pool is below its cap (warm-up only, like the engine's mempool).
 */
static uint32_t stream_get(struct gcp_hsid *h)
{
	if (h->nfree)
		return h->free_ids[--h->nfree] + 1;
	if (h->cap == h->max || hs_open_stream(h->db->db, 0, &h->streams[h->cap]) != HS_SUCCESS)
		return 0;
	return ++h->cap;
}

void gcp_hsid_fini(struct gcp_hsid *h)
{
	for (uint32_t i = 0; i < h->cap; i++)
		hs_close_stream(h->streams[i], NULL, NULL, NULL);
	free(h->streams);
	free(h->free_ids);
	hs_free_scratch(h->scratch);
	*h = (struct gcp_hsid){ 0 };
}

void gcp_hsid_stop(struct gcp_hsid *h, struct gcp_hsid_dir *hd)
{
	hd->seen = GCP_HSID_SCAN_MAX;
	if (!hd->sid)
		return;
	hs_reset_stream(h->streams[hd->sid - 1], 0, NULL, NULL, NULL);
	h->free_ids[h->nfree++] = hd->sid - 1;
	hd->sid = 0;
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
		    unsigned int flags, void *ctx)
{
	(void)from, (void)to, (void)flags;
	*(unsigned *)ctx |= 1u << id;
	return 0; /* keep going: matches ending on the same byte are ranked */
}

unsigned gcp_hsid_scan(struct gcp_hsid *h, struct gcp_hsid_dir *hd, const uint8_t *d,
		       uint32_t n)
{
	unsigned mask = 0;

	if (!gcp_hsid_live(h, hd) || !n)
		return GCP_HSID_NONE;
	if (!hd->sid && !(hd->sid = stream_get(h))) {
		h->st_full++;
		hd->seen = GCP_HSID_SCAN_MAX;
		return GCP_HSID_NONE;
	}
	if (n > GCP_HSID_SCAN_MAX - hd->seen)
		n = GCP_HSID_SCAN_MAX - hd->seen;
	hs_error_t rc = hs_scan_stream(h->streams[hd->sid - 1], (const char *)d, n, 0, h->scratch,
				       on_match, &mask);

	hd->seen = (uint16_t)(hd->seen + n);
	if (rc != HS_SUCCESS) {
		/* The stream is in an unknown state: stop rather than guess. */
		h->st_errors++;
		mask = 0;
		hd->seen = GCP_HSID_SCAN_MAX;
	}
	if (mask || hd->seen >= GCP_HSID_SCAN_MAX)
		gcp_hsid_stop(h, hd);
	if (!mask)
		return GCP_HSID_NONE;
	h->st_ident++;
	/* Lowest id wins: the enum lists SMTP before FTP on purpose. */
	return (unsigned)__builtin_ctz(mask);
}
