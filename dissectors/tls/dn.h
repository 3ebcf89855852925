/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * X.509 Name (RFC 5280 4.1.2.4) as RFC 2253 text, exactly what
 * d2i_X509_NAME + X509_NAME_print_ex(XN_FLAG_RFC2253) print, truncated
 * to cap bytes. Decoding through OpenSSL was a quarter of all the work
 * on a TLS-heavy mix (d2i builds and re-encodes a canonical copy, the
 * printer writes a BIO a character at a time), so the common case is
 * walked here: single-valued RDNs of well-known attributes whose values
 * are printable ASCII strings. Anything else goes to OpenSSL, so the
 * text never differs (tests/unit/tls_dn_test.c runs both on every
 * certificate of the corpus and on crafted names).
 */
#ifndef GCP_TLS_DN_H
#define GCP_TLS_DN_H

#include <stddef.h>
#include <stdint.h>

/* The DER Name element (tag, length, value) at der; returns the length. */
uint16_t gcp_tls_dn_text(const uint8_t *der, uint32_t len, char *out, size_t cap);

/* The two paths, for the test: the walker returns -1 where it declines. */
int gcp_tls_dn_fast(const uint8_t *der, uint32_t len, char *out, size_t cap);
uint16_t gcp_tls_dn_openssl(const uint8_t *der, uint32_t len, char *out, size_t cap);

#endif /* GCP_TLS_DN_H */
