/* SPDX-License-Identifier: BSD-3-Clause */
/* Test and fuzz helper: build a protected QUIC Initial packet (RFC 9001
 * 5.3, 5.4) around a plaintext payload of frames, with OpenSSL and the
 * Initial keys of dissectors/quic (proven by the RFC vectors in
 * quic_test.c). The library only ever opens packets; this seals them. */
#ifndef GCP_TEST_QUIC_SEAL_H
#define GCP_TEST_QUIC_SEAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "../../dissectors/quic/quic_int.h"

#define QUIC_SEAL_MAX 1500

/*
 * Into out (QUIC_SEAL_MAX bytes): an Initial of version for dcid (dl
 * bytes, no SCID, no token), packet number pn in 2 bytes, protected
 * with the keys derived from kdcid (kl bytes) for role (0 client, 1
 * server), payload zero-padded so the packet is total bytes long.
 * Returns total, or 0 when it does not fit or the crypto fails.
 */
static inline size_t quic_seal_initial(uint8_t *out, uint32_t version, const uint8_t *dcid,
				       size_t dl, const uint8_t *kdcid, size_t kl, int role,
				       uint16_t pn, const uint8_t *payload, size_t pl, size_t total)
{
	struct quic_keys k[2];
	uint8_t plain[QUIC_SEAL_MAX] = { 0 }, nonce[QUIC_IV_LEN], mask[5];
	size_t hl = 0;
	int n = 0;
	if (total > QUIC_SEAL_MAX || dl > QUIC_CID_MAX || total < 1 + 4 + 1 + dl + 1 + 1 + 2 + 2 + 16 ||
	    !gcp_quic_initial_keys(version, kdcid, kl, k))
		return 0;
	out[hl++] = (uint8_t)(0xc0 | (version == QUIC_V2 ? 1 : 0) << 4 | 0x01);
	for (int i = 3; i >= 0; i--)
		out[hl++] = (uint8_t)(version >> (8 * i));
	out[hl++] = (uint8_t)dl;
	memcpy(out + hl, dcid, dl);
	hl += dl;
	out[hl++] = 0; /* SCID length */
	out[hl++] = 0; /* token length */
	size_t plen = total - hl - 2; /* after the 2-byte length: pn, ciphertext, tag */
	if (plen > 0x3fff || pl > plen - 2 - QUIC_TAG_LEN || plen < 4 + QUIC_TAG_LEN)
		return 0;
	out[hl++] = (uint8_t)(0x40 | plen >> 8);
	out[hl++] = (uint8_t)plen;
	size_t pn_off = hl;
	out[hl++] = (uint8_t)(pn >> 8);
	out[hl++] = (uint8_t)pn;
	memcpy(plain, payload, pl);
	memcpy(nonce, k[role].iv, QUIC_IV_LEN);
	nonce[QUIC_IV_LEN - 2] ^= (uint8_t)(pn >> 8);
	nonce[QUIC_IV_LEN - 1] ^= (uint8_t)pn;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	bool ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, k[role].key, nonce) &&
		  EVP_EncryptUpdate(c, NULL, &n, out, (int)hl) &&
		  EVP_EncryptUpdate(c, out + hl, &n, plain, (int)(plen - 2 - QUIC_TAG_LEN)) &&
		  EVP_EncryptFinal_ex(c, out + hl + n, &n) &&
		  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, QUIC_TAG_LEN, out + total - QUIC_TAG_LEN) &&
		  gcp_quic_hp_mask(&k[role], out + pn_off + 4, mask);
	EVP_CIPHER_CTX_free(c);
	if (!ok)
		return 0;
	out[0] ^= mask[0] & 0x0f;
	out[pn_off] ^= mask[1];
	out[pn_off + 1] ^= mask[2];
	return total;
}

#endif /* GCP_TEST_QUIC_SEAL_H */
