/* SPDX-License-Identifier: BSD-3-Clause */
/* Digests fetched once per process (see digest.h). */
#include "digest.h"

#include <pthread.h>

static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_md5, *md_sha256;
static pthread_key_t md_ctx_key; /* this thread's EVP_MD_CTX, freed at thread exit */
static int md_ctx_key_ok;

static void md_ctx_free(void *c)
{
	EVP_MD_CTX_free(c);
}

/* Kept until exit: a fetched EVP_MD is immutable and reference counted. */
static void md_fetch(void)
{
	md_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	md_ctx_key_ok = pthread_key_create(&md_ctx_key, md_ctx_free) == 0;
}

const EVP_MD *gcp_md_md5(void)
{
	pthread_once(&md_once, md_fetch);
	return md_md5;
}

const EVP_MD *gcp_md_sha256(void)
{
	pthread_once(&md_once, md_fetch);
	return md_sha256;
}

int gcp_md_digest(const EVP_MD *md, const void *data, size_t n, unsigned char *out,
		  unsigned int *outlen)
{
	EVP_MD_CTX *c;

	if (!md)
		return 0;
	pthread_once(&md_once, md_fetch);
	c = md_ctx_key_ok ? pthread_getspecific(md_ctx_key) : NULL;
	if (!c && md_ctx_key_ok && (c = EVP_MD_CTX_new()) && pthread_setspecific(md_ctx_key, c)) {
		EVP_MD_CTX_free(c);
		c = NULL;
	}
	if (!c)
		return EVP_Digest(data, n, out, outlen, md, NULL);
	return EVP_DigestInit_ex2(c, md, NULL) && EVP_DigestUpdate(c, data, n) &&
	       EVP_DigestFinal_ex(c, out, outlen);
}
