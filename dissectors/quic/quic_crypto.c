/* SPDX-License-Identifier: BSD-3-Clause */
/* QUIC Initial secrets and packet protection with OpenSSL: HKDF (EVP_KDF
 * "HKDF"), AES-128-ECB header protection and AES-128-GCM. The cipher
 * and KDF contexts are made once per thread and reused (an engine is
 * single-threaded), so decrypting a packet does not allocate. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "quic_int.h"

/* RFC 9001 5.2. */
static const uint8_t salt_v1[20] = { 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
				     0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a };
/* RFC 9369 3.3.1. */
static const uint8_t salt_v2[20] = { 0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
				     0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9 };
/* draft-ietf-quic-tls-29 5.2 (drafts 29 to 32). */
static const uint8_t salt_d29[20] = { 0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
				      0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99 };

struct quic_ver {
	const uint8_t *salt;
	const char *key, *iv, *hp; /* packet protection labels */
};

static bool version_params(uint32_t v, struct quic_ver *out)
{
	if (v == QUIC_V2) {
		*out = (struct quic_ver){ salt_v2, "quicv2 key", "quicv2 iv", "quicv2 hp" };
		return true;
	}
	if (v == QUIC_V1 || (v >= QUIC_DRAFT29 && v <= QUIC_DRAFT32)) {
		*out = (struct quic_ver){ v == QUIC_V1 ? salt_v1 : salt_d29, "quic key", "quic iv",
					  "quic hp" };
		return true;
	}
	return false;
}

bool gcp_quic_version_known(uint32_t version)
{
	struct quic_ver p;
	return version_params(version, &p);
}

/* ---- per-thread OpenSSL objects -------------------------------------------- */

struct qc_cache {
	EVP_CIPHER *ecb, *gcm;
	EVP_KDF *kdf;
	EVP_CIPHER_CTX *ecb_ctx, *gcm_ctx;
	EVP_KDF_CTX *kctx;
};

static pthread_key_t qc_key;
static pthread_once_t qc_once = PTHREAD_ONCE_INIT;
static bool qc_key_ok;

static void qc_free(void *arg)
{
	struct qc_cache *c = arg;
	if (!c)
		return;
	EVP_CIPHER_CTX_free(c->ecb_ctx);
	EVP_CIPHER_CTX_free(c->gcm_ctx);
	EVP_KDF_CTX_free(c->kctx);
	EVP_CIPHER_free(c->ecb);
	EVP_CIPHER_free(c->gcm);
	EVP_KDF_free(c->kdf);
	free(c);
}

/* The thread that calls exit() runs no key destructor: free its cache. */
static void qc_atexit(void)
{
	struct qc_cache *c = pthread_getspecific(qc_key);
	pthread_setspecific(qc_key, NULL);
	qc_free(c);
}

static void qc_make_key(void)
{
	qc_key_ok = pthread_key_create(&qc_key, qc_free) == 0;
	if (qc_key_ok)
		atexit(qc_atexit);
}

static struct qc_cache *qc_new(void)
{
	struct qc_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
	c->gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	c->kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	c->ecb_ctx = EVP_CIPHER_CTX_new();
	c->gcm_ctx = EVP_CIPHER_CTX_new();
	c->kctx = c->kdf ? EVP_KDF_CTX_new(c->kdf) : NULL;
	if (!c->ecb || !c->gcm || !c->kctx || !c->ecb_ctx || !c->gcm_ctx ||
	    !EVP_EncryptInit_ex2(c->ecb_ctx, c->ecb, NULL, NULL, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(c->ecb_ctx, 0) ||
	    !EVP_DecryptInit_ex2(c->gcm_ctx, c->gcm, NULL, NULL, NULL)) {
		qc_free(c);
		return NULL;
	}
	return c;
}

/* Made on a thread's first QUIC packet (warm-up), then reused. */
static struct qc_cache *qc_get(void)
{
	pthread_once(&qc_once, qc_make_key);
	if (!qc_key_ok)
		return NULL;
	struct qc_cache *c = pthread_getspecific(qc_key);
	if (!c && (c = qc_new()) != NULL && pthread_setspecific(qc_key, c) != 0) {
		qc_free(c);
		c = NULL;
	}
	return c;
}

/* ---- HKDF (RFC 5869) and HKDF-Expand-Label (RFC 8446 7.1) ------------------- */

static bool hkdf(EVP_KDF_CTX *k, int mode, const uint8_t *key, size_t klen, const uint8_t *salt,
		 size_t slen, const uint8_t *info, size_t ilen, uint8_t *out, size_t olen)
{
	OSSL_PARAM p[6], *q = p;
	*q++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, klen);
	if (salt)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, slen);
	if (info)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, ilen);
	*q = OSSL_PARAM_construct_end();
	return EVP_KDF_derive(k, out, olen, p) > 0;
}

/* HkdfLabel = length, "tls13 " + label, empty context. */
static bool expand_label(EVP_KDF_CTX *k, const uint8_t secret[32], const char *label,
			 uint8_t *out, size_t olen)
{
	uint8_t info[2 + 1 + 255 + 1];
	size_t ln = strlen(label), n = 0;
	info[n++] = (uint8_t)(olen >> 8);
	info[n++] = (uint8_t)olen;
	info[n++] = (uint8_t)(6 + ln);
	memcpy(info + n, "tls13 ", 6);
	memcpy(info + n + 6, label, ln);
	n += 6 + ln;
	info[n++] = 0;
	return hkdf(k, EVP_KDF_HKDF_MODE_EXPAND_ONLY, secret, 32, NULL, 0, info, n, out, olen);
}

static bool dir_keys(EVP_KDF_CTX *k, const struct quic_ver *v, const uint8_t initial[32],
		     const char *who, struct quic_keys *out)
{
	uint8_t secret[32];
	return expand_label(k, initial, who, secret, sizeof(secret)) &&
	       expand_label(k, secret, v->key, out->key, QUIC_KEY_LEN) &&
	       expand_label(k, secret, v->iv, out->iv, QUIC_IV_LEN) &&
	       expand_label(k, secret, v->hp, out->hp, QUIC_KEY_LEN);
}

bool gcp_quic_initial_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len,
			   struct quic_keys k[2])
{
	struct quic_ver v;
	struct qc_cache *c = qc_get();
	uint8_t initial[32];
	if (!c || !version_params(version, &v) || dcid_len == 0 || dcid_len > QUIC_CID_MAX)
		return false;
	return hkdf(c->kctx, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, dcid, dcid_len, v.salt, 20, NULL, 0,
		    initial, sizeof(initial)) &&
	       dir_keys(c->kctx, &v, initial, "client in", &k[0]) &&
	       dir_keys(c->kctx, &v, initial, "server in", &k[1]);
}

/* ---- packet protection ---------------------------------------------------------- */

bool gcp_quic_hp_mask(const struct quic_keys *k, const uint8_t sample[16], uint8_t mask[5])
{
	struct qc_cache *c = qc_get();
	uint8_t out[32];
	int n = 0;
	if (!c || !EVP_EncryptInit_ex2(c->ecb_ctx, NULL, k->hp, NULL, NULL) ||
	    !EVP_EncryptUpdate(c->ecb_ctx, out, &n, sample, 16) || n != 16)
		return false;
	memcpy(mask, out, 5);
	return true;
}

bool gcp_quic_open(const struct quic_keys *k, uint64_t pn, const uint8_t *const aad[3],
		   const size_t alen[3], const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	struct qc_cache *c = qc_get();
	uint8_t nonce[QUIC_IV_LEN];
	int n = 0;
	if (!c || ctlen < QUIC_TAG_LEN || ctlen - QUIC_TAG_LEN > INT32_MAX)
		return false;
	memcpy(nonce, k->iv, QUIC_IV_LEN);
	for (int i = 0; i < 8; i++)
		nonce[QUIC_IV_LEN - 1 - i] ^= (uint8_t)(pn >> (8 * i));
	EVP_CIPHER_CTX *g = c->gcm_ctx;
	if (!EVP_DecryptInit_ex2(g, NULL, k->key, nonce, NULL))
		return false;
	for (int i = 0; i < 3; i++)
		if (alen[i] && !EVP_DecryptUpdate(g, NULL, &n, aad[i], (int)alen[i]))
			return false;
	size_t plen = ctlen - QUIC_TAG_LEN;
	if (!EVP_DecryptUpdate(g, out, &n, ct, (int)plen) ||
	    !EVP_CIPHER_CTX_ctrl(g, EVP_CTRL_GCM_SET_TAG, QUIC_TAG_LEN, (void *)(ct + plen)))
		return false;
	return EVP_DecryptFinal_ex(g, out + n, &n) > 0;
}
