/* SPDX-License-Identifier: BSD-3-Clause */
/* pcap/pcapng file backend: zero-copy reader over a read-only mapping. */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Formats: classic pcap (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap)
 * and pcapng (draft-ietf-opsawg-pcapng). Both may be written in either
 * byte order; all reads go through rd16/rd32 so the host order never
 * matters and nothing is read through a cast pointer.
 */
#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAPNG_SHB 0x0a0d0d0au
#define PCAPNG_BOM 0x1a2b3c4du
#define PCAPNG_IDB 1u
#define PCAPNG_PB 2u  /* obsolete Packet Block */
#define PCAPNG_SPB 3u
#define PCAPNG_EPB 6u

#define PCAP_FILE_HDR 24
#define PCAP_REC_HDR 16
#define PCAPNG_MIN_BLOCK 12
/* Larger captured lengths are corrupt, not jumbo frames (Wireshark's limit too). */
#define PF_MAX_CAPLEN (256u * 1024u)

/* One pcapng interface (IDB); classic pcap files have exactly one. */
struct pf_if {
	int linktype;
	uint32_t snaplen;
	uint8_t tsexp;     /* if_tsresol exponent */
	bool tspow2;       /* base 2 instead of 10 */
	int64_t tsoffset;  /* if_tsoffset, seconds */
};

struct pf {
	const uint8_t *map;
	size_t size;
	size_t pos;
	size_t released;   /* pages before this offset were given back */
	char *path;
	bool pcapng;
	bool be;           /* file (pcap) or current section (pcapng) is big-endian */
	bool eof;
	int status;        /* sticky error, reported after the packets before it */
	struct pf_if *ifs; /* pcap: ifs[0]; pcapng: current section's IDBs */
	uint32_t n_if;
	uint32_t cap_if;
};

static uint16_t rd16(const struct pf *f, const uint8_t *p)
{
	return f->be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static uint32_t rd32(const struct pf *f, const uint8_t *p)
{
	if (f->be)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint32_t rd32le(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

__attribute__((format(printf, 3, 4)))
static int pf_fail(struct gcp_capture *cap, int status, const char *fmt, ...)
{
	struct pf *f = cap->priv;
	va_list ap;
	int n = snprintf(cap->err, sizeof(cap->err), "%s: ", f->path);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < sizeof(cap->err))
		vsnprintf(cap->err + n, sizeof(cap->err) - (size_t)n, fmt, ap);
	va_end(ap);
	f->status = status;
	return status;
}

/* The input ends inside a record: count it, keep what came before. */
static void pf_truncated(struct gcp_capture *cap, const char *what)
{
	struct pf *f = cap->priv;

	cap->st.truncated++;
	f->eof = true;
	snprintf(cap->err, sizeof(cap->err), "%s: %s at offset %zu runs past end of file",
		 f->path, what, f->pos);
}

static const uint64_t pow10_tab[20] = {
	1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
	100000000ull, 1000000000ull, 10000000000ull, 100000000000ull,
	1000000000000ull, 10000000000000ull, 100000000000000ull,
	1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
	1000000000000000000ull, 10000000000000000000ull,
};

/* Timestamp units of one interface to ns since the epoch. */
static uint64_t pf_ts_ns(const struct pf_if *ifc, uint64_t t)
{
	uint64_t ns;
	unsigned e = ifc->tsexp;

	if (!ifc->tspow2) {
		ns = e <= 9 ? t * pow10_tab[9 - e] : t / pow10_tab[e - 9];
	} else {
		uint64_t frac = t & ((1ull << e) - 1);
		/* frac * 1e9 must fit in 64 bits: 1e9 < 2^30, so frac < 2^34. */
		if (e > 34) {
			frac >>= e - 34;
			e = 34;
		}
		ns = (t >> ifc->tsexp) * 1000000000ull + ((frac * 1000000000ull) >> e);
	}
	return ns + (uint64_t)ifc->tsoffset * 1000000000ull;
}

static int pf_add_if(struct gcp_capture *cap, const struct pf_if *ifc)
{
	struct pf *f = cap->priv;

	if (f->n_if == f->cap_if) {
		uint32_t n = f->cap_if ? f->cap_if * 2 : 4;
		struct pf_if *p = realloc(f->ifs, n * sizeof(*p));
		if (!p)
			return pf_fail(cap, GCP_ERR_NOMEM, "out of memory for interfaces");
		f->ifs = p;
		f->cap_if = n;
	}
	f->ifs[f->n_if++] = *ifc;
	return 0;
}

/* ---- classic pcap -------------------------------------------------- */

static int pcap_open_hdr(struct gcp_capture *cap, uint32_t magic_le)
{
	struct pf *f = cap->priv;
	const uint8_t *h = f->map;
	struct pf_if ifc = { .tsexp = 6 };

	f->be = magic_le == __builtin_bswap32(PCAP_MAGIC_US) ||
		magic_le == __builtin_bswap32(PCAP_MAGIC_NS);
	if (rd32(f, h) == PCAP_MAGIC_NS)
		ifc.tsexp = 9;
	if (f->size < PCAP_FILE_HDR)
		return pf_fail(cap, GCP_ERR_FORMAT, "pcap file header truncated (%zu bytes)",
			       f->size);
	uint16_t major = rd16(f, h + 4), minor = rd16(f, h + 6);
	if (major != 2)
		return pf_fail(cap, GCP_ERR_FORMAT, "unsupported pcap version %u.%u",
			       major, minor);
	ifc.snaplen = rd32(f, h + 16);
	/* The upper bits carry the FCS length; the link type is the low 16. */
	ifc.linktype = (int)(rd32(f, h + 20) & 0xffff);
	f->pos = PCAP_FILE_HDR;
	return pf_add_if(cap, &ifc);
}

/*
 * caplen above the header's snaplen is tolerated as Wireshark does
 * (old writers got snaplen wrong); only an absurd caplen is corrupt.
 */
static int pf_check_caplen(struct gcp_capture *cap, uint32_t caplen)
{
	struct pf *f = cap->priv;

	if (caplen > PF_MAX_CAPLEN)
		return pf_fail(cap, GCP_ERR_FORMAT,
			       "packet at offset %zu: capture length %u exceeds %u",
			       f->pos, caplen, PF_MAX_CAPLEN);
	return 0;
}

static void pf_emit(struct gcp_capture *cap, struct gcp_packet *pkt, const uint8_t *data,
		    uint32_t caplen, uint32_t wirelen, uint64_t ts_ns, int linktype)
{
	pkt->data = data;
	pkt->caplen = caplen;
	pkt->wirelen = wirelen < caplen ? caplen : wirelen;
	pkt->ts_ns = ts_ns;
	pkt->linktype = linktype;
	cap->st.pkts++;
	cap->st.bytes += pkt->wirelen;
}

/* Returns 1 with *pkt filled, 0 at end of input, or a negative status. */
static int pcap_next(struct gcp_capture *cap, struct gcp_packet *pkt)
{
	struct pf *f = cap->priv;
	size_t left = f->size - f->pos;
	const uint8_t *r = f->map + f->pos;

	if (left == 0)
		return 0;
	if (left < PCAP_REC_HDR) {
		pf_truncated(cap, "packet header");
		return 0;
	}
	uint32_t caplen = rd32(f, r + 8);
	int rc = pf_check_caplen(cap, caplen);
	if (rc)
		return rc;
	if (caplen > left - PCAP_REC_HDR) {
		pf_truncated(cap, "packet data");
		return 0;
	}
	uint64_t ts = (uint64_t)rd32(f, r) * 1000000000ull +
		      (uint64_t)rd32(f, r + 4) * (f->ifs[0].tsexp == 9 ? 1u : 1000u);
	pf_emit(cap, pkt, r + PCAP_REC_HDR, caplen, rd32(f, r + 12), ts, f->ifs[0].linktype);
	f->pos += PCAP_REC_HDR + caplen;
	return 1;
}

/* ---- pcapng -------------------------------------------------------- */

/* Section Header Block: sets the byte order for the blocks that follow. */
static int shb_parse(struct gcp_capture *cap, const uint8_t *b, size_t left)
{
	struct pf *f = cap->priv;

	if (left < PCAPNG_MIN_BLOCK)
		return 0; /* caller reports truncation */
	uint32_t bom = rd32le(b + 8);
	if (bom == PCAPNG_BOM)
		f->be = false;
	else if (bom == __builtin_bswap32(PCAPNG_BOM))
		f->be = true;
	else
		return pf_fail(cap, GCP_ERR_FORMAT,
			       "pcapng section at offset %zu: bad byte-order magic 0x%08x",
			       f->pos, bom);
	f->n_if = 0; /* interface ids are per section */
	return 0;
}

static int shb_body(struct gcp_capture *cap, const uint8_t *body, uint32_t blen)
{
	struct pf *f = cap->priv;

	if (blen < 8)
		return pf_fail(cap, GCP_ERR_FORMAT, "pcapng section header too short");
	uint16_t major = rd16(f, body + 4);
	if (major != 1)
		return pf_fail(cap, GCP_ERR_FORMAT, "unsupported pcapng version %u.%u",
			       major, rd16(f, body + 6));
	return 0;
}

/* if_tsresol: high bit set = negative power of 2, else of 10. */
static int idb_tsresol(struct gcp_capture *cap, struct pf_if *ifc, uint8_t v)
{
	ifc->tspow2 = v & 0x80;
	ifc->tsexp = v & 0x7f;
	if (ifc->tspow2 ? ifc->tsexp > 63 : ifc->tsexp > 19)
		return pf_fail(cap, GCP_ERR_FORMAT, "interface %u: unsupported if_tsresol 0x%02x",
			       ((struct pf *)cap->priv)->n_if, v);
	return 0;
}

static int idb_options(struct gcp_capture *cap, struct pf_if *ifc, const uint8_t *o,
		       size_t n)
{
	struct pf *f = cap->priv;

	while (n >= 4) {
		uint16_t code = rd16(f, o), len = rd16(f, o + 2);
		size_t padded = ((size_t)len + 3) & ~(size_t)3;
		if (code == 0)
			break;
		if (padded > n - 4)
			return pf_fail(cap, GCP_ERR_FORMAT, "interface %u: option %u overruns block",
				       f->n_if, code);
		int rc = 0;
		if (code == 9 && len >= 1)
			rc = idb_tsresol(cap, ifc, o[4]);
		else if (code == 14 && len == 8)
			ifc->tsoffset = (int64_t)((uint64_t)rd32(f, o + (f->be ? 4 : 8)) << 32 |
						  rd32(f, o + (f->be ? 8 : 4)));
		if (rc)
			return rc;
		o += 4 + padded;
		n -= 4 + padded;
	}
	return 0;
}

static int idb_body(struct gcp_capture *cap, const uint8_t *body, uint32_t blen)
{
	struct pf *f = cap->priv;
	struct pf_if ifc = { .tsexp = 6 };

	if (blen < 8)
		return pf_fail(cap, GCP_ERR_FORMAT, "interface description block too short");
	ifc.linktype = rd16(f, body);
	ifc.snaplen = rd32(f, body + 4);
	int rc = idb_options(cap, &ifc, body + 8, blen - 8);
	return rc ? rc : pf_add_if(cap, &ifc);
}

static const struct pf_if *pf_iface(struct gcp_capture *cap, uint32_t id)
{
	struct pf *f = cap->priv;

	if (id >= f->n_if) {
		pf_fail(cap, GCP_ERR_FORMAT, "packet at offset %zu: undefined interface %u",
			f->pos, id);
		return NULL;
	}
	return &f->ifs[id];
}

/* EPB (id 32 bits) and obsolete PB (id 16 bits + drops) share the layout after the id. */
static int epb_body(struct gcp_capture *cap, struct gcp_packet *pkt, const uint8_t *body,
		    uint32_t blen, bool obsolete)
{
	struct pf *f = cap->priv;

	if (blen < 20)
		return pf_fail(cap, GCP_ERR_FORMAT, "packet block at offset %zu too short", f->pos);
	const struct pf_if *ifc = pf_iface(cap, obsolete ? rd16(f, body) : rd32(f, body));
	if (!ifc)
		return f->status;
	uint32_t caplen = rd32(f, body + 12);
	int rc = pf_check_caplen(cap, caplen);
	if (rc)
		return rc;
	if (caplen > blen - 20)
		return pf_fail(cap, GCP_ERR_FORMAT,
			       "packet block at offset %zu: capture length %u exceeds block",
			       f->pos, caplen);
	uint64_t t = (uint64_t)rd32(f, body + 4) << 32 | rd32(f, body + 8);
	pf_emit(cap, pkt, body + 20, caplen, rd32(f, body + 16), pf_ts_ns(ifc, t),
		ifc->linktype);
	return 1;
}

/*
 * SPB: interface 0, no timestamp; the captured length is the original
 * length clipped to the interface's snaplen (pcapng draft 4.4), and the
 * block must hold it.
 */
static int spb_body(struct gcp_capture *cap, struct gcp_packet *pkt, const uint8_t *body,
		    uint32_t blen)
{
	struct pf *f = cap->priv;

	if (blen < 4)
		return pf_fail(cap, GCP_ERR_FORMAT, "simple packet block too short");
	const struct pf_if *ifc = pf_iface(cap, 0);
	if (!ifc)
		return f->status;
	uint32_t wire = rd32(f, body), caplen = wire;
	if (ifc->snaplen && caplen > ifc->snaplen)
		caplen = ifc->snaplen;
	int rc = pf_check_caplen(cap, caplen);
	if (rc)
		return rc;
	if (caplen > blen - 4)
		return pf_fail(cap, GCP_ERR_FORMAT,
			       "simple packet block at offset %zu: %u bytes of packet data do not fit",
			       f->pos, caplen);
	pf_emit(cap, pkt, body + 4, caplen, wire, 0, ifc->linktype);
	return 1;
}

static int pcapng_block(struct gcp_capture *cap, struct gcp_packet *pkt, uint32_t type,
			const uint8_t *body, uint32_t blen)
{
	switch (type) {
	case PCAPNG_SHB: return shb_body(cap, body, blen);
	case PCAPNG_IDB: return idb_body(cap, body, blen);
	case PCAPNG_EPB: return epb_body(cap, pkt, body, blen, false);
	case PCAPNG_PB: return epb_body(cap, pkt, body, blen, true);
	case PCAPNG_SPB: return spb_body(cap, pkt, body, blen);
	default: return 0; /* NRB, ISB, DSB, custom...: nothing for us */
	}
}

/* Returns 1 with *pkt filled, 0 at end of input, or a negative status. */
static int pcapng_next(struct gcp_capture *cap, struct gcp_packet *pkt)
{
	struct pf *f = cap->priv;

	for (;;) {
		size_t left = f->size - f->pos;
		const uint8_t *b = f->map + f->pos;
		if (left == 0)
			return 0;
		if (left < 8) {
			pf_truncated(cap, "block header");
			return 0;
		}
		uint32_t type = rd32(f, b);
		int rc = type == PCAPNG_SHB ? shb_parse(cap, b, left) : 0;
		if (rc)
			return rc;
		uint32_t len = rd32(f, b + 4);
		if (len < PCAPNG_MIN_BLOCK || len % 4)
			return pf_fail(cap, GCP_ERR_FORMAT,
				       "block at offset %zu: bad total length %u", f->pos, len);
		if (len > left) {
			pf_truncated(cap, "block");
			return 0;
		}
		if (rd32(f, b + len - 4) != len)
			return pf_fail(cap, GCP_ERR_FORMAT,
				       "block at offset %zu: trailing length mismatch", f->pos);
		rc = pcapng_block(cap, pkt, type, b + 8, len - PCAPNG_MIN_BLOCK);
		if (rc < 0)
			return rc;
		f->pos += len;
		if (rc == 1)
			return 1;
	}
}

/* ---- backend ops --------------------------------------------------- */

static int pf_map(struct gcp_capture *cap, const char *path)
{
	struct pf *f = cap->priv;
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return pf_fail(cap, GCP_ERR_IO, "%s", strerror(errno));
	int rc = 0;
	if (fstat(fd, &sb) < 0)
		rc = pf_fail(cap, GCP_ERR_IO, "%s", strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		rc = pf_fail(cap, GCP_ERR_IO, "not a regular file");
	else if (sb.st_size == 0)
		rc = pf_fail(cap, GCP_ERR_FORMAT, "not a pcap or pcapng file (empty)");
	if (rc)
		goto out;
	f->size = (size_t)sb.st_size;
	void *m = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		rc = pf_fail(cap, GCP_ERR_IO, "mmap: %s", strerror(errno));
		goto out;
	}
	f->map = m;
	/* One forward pass: let the kernel read ahead aggressively. */
	(void)madvise(m, f->size, MADV_SEQUENTIAL);
out:
	close(fd);
	return rc;
}

static int pf_detect(struct gcp_capture *cap)
{
	struct pf *f = cap->priv;

	if (f->size < 4)
		return pf_fail(cap, GCP_ERR_FORMAT, "not a pcap or pcapng file (%zu bytes)",
			       f->size);
	uint32_t m = rd32le(f->map);
	if (m == PCAP_MAGIC_US || m == PCAP_MAGIC_NS || m == __builtin_bswap32(PCAP_MAGIC_US) ||
	    m == __builtin_bswap32(PCAP_MAGIC_NS))
		return pcap_open_hdr(cap, m);
	if (m != PCAPNG_SHB)
		return pf_fail(cap, GCP_ERR_FORMAT, "not a pcap or pcapng file (magic 0x%02x%02x%02x%02x)",
			       f->map[0], f->map[1], f->map[2], f->map[3]);
	f->pcapng = true;
	if (f->size < 28)
		return pf_fail(cap, GCP_ERR_FORMAT, "pcapng section header truncated (%zu bytes)",
			       f->size);
	/* Validate the first section now so a bad file fails at open. */
	struct gcp_packet none;
	int rc = shb_parse(cap, f->map, f->size);
	uint32_t len = rc ? 0 : rd32(f, f->map + 4);
	if (!rc && (len < 28 || len % 4 || len > f->size || rd32(f, f->map + len - 4) != len))
		rc = pf_fail(cap, GCP_ERR_FORMAT, "pcapng section header: bad length %u", len);
	if (!rc)
		rc = pcapng_block(cap, &none, PCAPNG_SHB, f->map + 8, len - PCAPNG_MIN_BLOCK);
	f->pos = len;
	return rc;
}

static void pf_close(struct gcp_capture *cap)
{
	struct pf *f = cap->priv;

	if (!f)
		return;
	if (f->map)
		munmap((void *)f->map, f->size);
	free(f->ifs);
	free(f->path);
	free(f);
	cap->priv = NULL;
}

static int pf_open(struct gcp_capture *cap, const char *path)
{
	struct pf *f = calloc(1, sizeof(*f));

	if (!f) {
		snprintf(cap->err, sizeof(cap->err), "%s: out of memory", path);
		return GCP_ERR_NOMEM;
	}
	cap->priv = f;
	f->path = strdup(path);
	if (!f->path) {
		snprintf(cap->err, sizeof(cap->err), "%s: out of memory", path);
		pf_close(cap);
		return GCP_ERR_NOMEM;
	}
	int rc = pf_map(cap, path);
	if (!rc)
		rc = pf_detect(cap);
	if (rc)
		pf_close(cap);
	return rc;
}

/* Give back the mapping in steps of this many bytes (a multiple of any page size). */
#define PF_RELEASE_STEP (4u << 20)

/*
 * The previous burst's views end with this call, and a replay never
 * reads behind it: drop those pages from the process (they stay in the
 * page cache) so that a capture's size does not add to resident memory.
 */
static void pf_release_behind(struct pf *f)
{
	size_t upto = f->pos & ~((size_t)PF_RELEASE_STEP - 1);

	if (upto <= f->released)
		return;
	(void)madvise((uint8_t *)f->map + f->released, upto - f->released, MADV_DONTNEED);
	f->released = upto;
}

static int pf_rx_burst(struct gcp_capture *cap, struct gcp_packet *pkts, unsigned n)
{
	struct pf *f = cap->priv;
	unsigned got = 0;

	pf_release_behind(f);
	if (f->status)
		return f->status;
	while (got < n && !f->eof) {
		int rc = f->pcapng ? pcapng_next(cap, &pkts[got]) : pcap_next(cap, &pkts[got]);
		if (rc < 0)
			return got ? (int)got : rc; /* f->status keeps it for the next call */
		if (rc == 0) {
			f->eof = true;
			break;
		}
		got++;
	}
	return (int)got;
}

const struct gcp_capture_ops gcp_capture_pcapfile_ops = {
	.name = "pcapfile",
	.open = pf_open,
	.rx_burst = pf_rx_burst,
	.close = pf_close,
};
