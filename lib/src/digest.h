/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Message digests fetched once per process. OpenSSL 3's legacy
 * EVP_md5()/EVP_sha256() make every EVP_DigestInit fetch the
 * implementation from the provider again (a locked, hashed lookup: a
 * third of a JA3's cost); an explicitly fetched EVP_MD skips that.
 * Thread-safe (pthread_once) and shared read-only by every engine.
 */
#ifndef GCP_DIGEST_H
#define GCP_DIGEST_H

#include <openssl/evp.h>

/* NULL when the default provider lacks it (e.g. MD5 under FIPS). */
const EVP_MD *gcp_md_md5(void);
const EVP_MD *gcp_md_sha256(void);

/*
 * EVP_Digest with a context kept per thread (EVP_Digest allocates,
 * resets and frees one per call: a fifth of a short digest's cost).
 * Returns 1 on success like EVP_Digest; md NULL fails.
 */
int gcp_md_digest(const EVP_MD *md, const void *data, size_t n, unsigned char *out,
		  unsigned int *outlen);

#endif /* GCP_DIGEST_H */
