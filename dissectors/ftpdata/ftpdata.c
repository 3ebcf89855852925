/* SPDX-License-Identifier: BSD-3-Clause */
/* FTP data connection (RFC 959 3.2): attached only through an expectation
 * set by the ftp dissector; streams the MD5 of the bytes (OpenSSL EVP)
 * without copying them and emits one ftp record when the connection ends. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "../ftp/ftp.h"
#include "digest.h"
#include "fmt.h"

struct ftpdata_state {
	uint64_t h;           /* expectation entry (struct ftp_xfer), owned */
	EVP_MD_CTX *md;
	uint64_t size;        /* bytes of the data direction, gaps included */
	uint64_t missed;      /* bytes of gaps in the data direction */
	int8_t ddir;          /* direction carrying the data; -1 until seen */
	uint8_t gap_mask;     /* directions with a gap */
	uint8_t fin_mask;     /* directions whose sender FIN was seen */
	bool both;            /* data in both directions: not an FTP transfer */
};

static enum gcp_probe_result ftpdata_probe(const uint8_t *d, uint32_t n, int dir)
{
	(void)d;
	(void)n;
	(void)dir;
	return GCP_PROBE_NO; /* only ever attached by expectation */
}

static void ftpdata_init(void *state, struct gcp_dissect_ctx *ctx)
{
	struct ftpdata_state *s = state;

	s->h = gcp_dctx_expect_taken(ctx);
	s->ddir = -1;
	s->md = EVP_MD_CTX_new();
	/* gcp_md_md5(): fetched once per process, not on every data connection. */
	if (s->md && (!gcp_md_md5() || EVP_DigestInit_ex(s->md, gcp_md_md5(), NULL) != 1)) {
		EVP_MD_CTX_free(s->md); /* e.g. MD5 disabled by a FIPS provider */
		s->md = NULL;
	}
}

static struct gcp_parse_result ftpdata_parse(void *state, struct gcp_dissect_ctx *ctx, int dir,
					     const uint8_t *data, uint32_t len, unsigned flags)
{
	struct ftpdata_state *s = state;
	struct gcp_parse_result r = { GCP_PARSE_OK, len, 0 };

	dir &= 1;
	if (flags & GCP_PF_GAP) {
		s->gap_mask |= (uint8_t)(1u << dir);
		if (s->ddir == dir) {
			s->size += len;
			s->missed += len;
		}
		return r;
	}
	if (len) {
		if (s->ddir < 0)
			s->ddir = (int8_t)dir;
		if (s->ddir != dir) {
			s->both = true;
		} else {
			if (s->md && EVP_DigestUpdate(s->md, data, len) != 1) {
				EVP_MD_CTX_free(s->md);
				s->md = NULL;
			}
			s->size += len;
		}
	}
	if ((flags & GCP_PF_FIN) && gcp_dctx_fin_seen(ctx, dir))
		s->fin_mask |= (uint8_t)(1u << dir);
	return r;
}

/*
 * The MD5 stands for the file only when every byte was seen: no gap,
 * the sender's FIN seen (not cut off by the capture), the size the
 * server announced (binary type), no failure reply, and the transfer
 * was the whole file (not resumed at a REST marker, not appended).
 */
static bool complete(const struct ftpdata_state *s, const struct ftp_xfer *x)
{
	unsigned dmask = s->ddir >= 0 ? 1u << s->ddir : 3u;

	if (!s->md || (s->gap_mask & dmask) || s->both)
		return false;
	if (s->ddir >= 0 ? !(s->fin_mask & dmask) : !s->fin_mask)
		return false;
	if (x && x->has_size && x->type == 'I' && x->announced_size != s->size)
		return false;
	if (x && x->partial)
		return false;
	return !(x && x->reply >= 400);
}

static void kv_md5(struct gcp_rb *rb, EVP_MD_CTX *md)
{
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	if (EVP_DigestFinal_ex(md, dig, &dl) != 1)
		return;
	gcp_rb_kv_str(rb, "md5", hex, gcp_fmt_hex_bytes(hex, dig, dl));
}

static void kv_endpoint(struct gcp_rb *rb, const char *ik, const char *pk,
			const struct gcp_addr *a, uint16_t port, int ver)
{
	char buf[64];

	gcp_rb_kv_cstr(rb, ik, gcp_addr_str(a, ver, buf, sizeof(buf)));
	gcp_rb_kv_uint(rb, pk, port);
}

static void kv_xfer(struct gcp_rb *rb, const struct ftp_xfer *x)
{
	char type[2] = { x->type ? x->type : 'A', 0 };

	gcp_rb_kv_cstr(rb, "mode", x->mode == FTP_MODE_ACTIVE ? "active" : "passive");
	gcp_rb_kv_cstr(rb, "transfer_type", type); /* "type" is the record type */
	if (x->has_cmd) {
		gcp_rb_kv_cstr(rb, "command", x->cmd);
		gcp_rb_kv_cstr(rb, "direction", x->upload ? "upload" : "download");
		if (x->name_len)
			gcp_rb_kv_str(rb, "filename", x->filename, x->name_len);
	}
	if (x->user[0])
		gcp_rb_kv_str(rb, "user", x->user, strnlen(x->user, sizeof(x->user)));
	if (x->reply)
		gcp_rb_kv_uint(rb, "reply_code", x->reply);
	if (x->has_size)
		gcp_rb_kv_uint(rb, "announced_size", x->announced_size);
	if (x->partial)
		gcp_rb_kv_bool(rb, "partial", true);
	if (x->rest_offset)
		gcp_rb_kv_uint(rb, "rest_offset", x->rest_offset);
	gcp_rb_kv_uint(rb, "control_flow_id", x->ctl_flow_id);
}

static void emit(struct ftpdata_state *s, struct gcp_dissect_ctx *ctx, const struct ftp_xfer *x)
{
	const struct gcp_flow_info *fi = gcp_dctx_flow(ctx);
	struct gcp_rb *rb = gcp_dctx_record_begin(ctx, GCP_REC_FTP, fi->first_ts);

	if (!rb)
		return;
	if (x)
		kv_xfer(rb, x);
	gcp_rb_kv_uint(rb, "size", s->size);
	bool ok = complete(s, x);

	if (ok)
		kv_md5(rb, s->md);
	gcp_rb_kv_bool(rb, "md5_complete", ok);
	if (s->missed)
		gcp_rb_kv_uint(rb, "missed_bytes", s->missed);
	kv_endpoint(rb, "data_src_ip", "data_src_port", fi->cli, fi->cport, fi->ip_version);
	kv_endpoint(rb, "data_dst_ip", "data_dst_port", fi->srv, fi->sport, fi->ip_version);
	gcp_dctx_record_end(ctx);
}

static void ftpdata_fini(void *state, struct gcp_dissect_ctx *ctx)
{
	struct ftpdata_state *s = state;
	const struct ftp_xfer *x = s->h ? gcp_dctx_expect_data(ctx, s->h) : NULL;

	emit(s, ctx, x);
	if (s->h)
		gcp_dctx_expect_release(ctx, s->h);
	EVP_MD_CTX_free(s->md);
	s->md = NULL;
}

const struct gcp_dissector gcp_dissector_ftpdata = {
	.name = "ftpdata",
	.record_types = GCP_REC_FTP,
	.l4_mask = GCP_L4_TCP,
	.state_size = sizeof(struct ftpdata_state),
	.probe = ftpdata_probe,
	.init = ftpdata_init,
	.parse = ftpdata_parse,
	.fini = ftpdata_fini,
};
