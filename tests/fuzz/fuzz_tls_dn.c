/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz the certificate name walker (dissectors/tls/dn.c) against OpenSSL:
 * input = one DER element. Whatever the walker accepts must print what
 * d2i_X509_NAME + X509_NAME_print_ex print, at both a small and the
 * record's cap; gcp_tls_dn_text must always equal OpenSSL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/tls/dn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *data, uint32_t n, size_t cap)
{
	char a[256], b[256], c[256];
	uint16_t na = gcp_tls_dn_openssl(data, n, a, cap);
	int nb = gcp_tls_dn_fast(data, n, b, cap);
	uint16_t nc = gcp_tls_dn_text(data, n, c, cap);

	if (nb >= 0 && ((uint16_t)nb != na || memcmp(a, b, na) != 0))
		abort(); /* the walker printed something else */
	if (nc != na || memcmp(a, c, na) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	check(data, (uint32_t)size, 256);
	check(data, (uint32_t)size, 17);
	return 0;
}
