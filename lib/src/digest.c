/* SPDX-License-Identifier: BSD-3-Clause */
/* Digests fetched once per process (see digest.h). */
#include "digest.h"

#include <pthread.h>

static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_md5, *md_sha256;

/* Kept until exit: a fetched EVP_MD is immutable and reference counted. */
static void md_fetch(void)
{
	md_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
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
