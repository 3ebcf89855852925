/* SPDX-License-Identifier: BSD-3-Clause */
/* QUIC Initial packet protection (RFC 9001 5, RFC 9369 3.3): what the
 * QUIC dissector and its tests use from quic_crypto.c. */
#ifndef GCP_QUIC_INT_H
#define GCP_QUIC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUIC_V1 0x00000001u
#define QUIC_V2 0x6b3343cfu       /* RFC 9369 */
#define QUIC_DRAFT29 0xff00001du  /* drafts 29..32 share the draft-29 salt */
#define QUIC_DRAFT32 0xff000020u

#define QUIC_KEY_LEN 16
#define QUIC_IV_LEN 12
#define QUIC_TAG_LEN 16
#define QUIC_CID_MAX 20           /* RFC 9000 17.2 */

/* AEAD_AES_128_GCM key, IV and header protection key of one direction. */
struct quic_keys {
	uint8_t key[QUIC_KEY_LEN];
	uint8_t iv[QUIC_IV_LEN];
	uint8_t hp[QUIC_KEY_LEN];
};

/* Does quic_crypto.c know this version's Initial salt and labels? */
bool gcp_quic_version_known(uint32_t version);

/*
 * Initial keys from the client's first Destination Connection ID
 * (RFC 9001 5.2; RFC 9369 3.3.1 for v2): k[0] protects the client's
 * packets, k[1] the server's. False when the version is unknown or the
 * crypto library refuses.
 */
bool gcp_quic_initial_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len,
			   struct quic_keys k[2]);

/* Header protection mask (RFC 9001 5.4.3): AES-ECB of the 16-byte sample. */
bool gcp_quic_hp_mask(const struct quic_keys *k, const uint8_t sample[16], uint8_t mask[5]);

/*
 * AEAD open (RFC 9001 5.3): nonce = iv XOR packet number; the associated
 * data is the unprotected header, given as up to three pieces (aad[i],
 * alen[i]) so the caller need not copy it; ct ends with the 16-byte tag.
 * Writes ctlen - 16 bytes to out. False when the tag does not verify.
 */
bool gcp_quic_open(const struct quic_keys *k, uint64_t pn, const uint8_t *const aad[3],
		   const size_t alen[3], const uint8_t *ct, size_t ctlen, uint8_t *out);

#endif /* GCP_QUIC_INT_H */
