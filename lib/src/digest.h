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

#endif /* GCP_DIGEST_H */
