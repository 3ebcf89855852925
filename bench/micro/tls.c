/* SPDX-License-Identifier: BSD-3-Clause */
/* Micro benchmark: TLS dissector over a TLS 1.2 handshake (ClientHello
 * with SNI/ALPN, ServerHello + X.509 certificate), JA3/JA4 included. */
#include "../common/payloads.h"
#include "micro.h"

int main(int argc, char **argv)
{
	struct pbuf m[4] = { { 0 } };

	pl_tls_client_hello(&m[0], "api.example.com", 7);
	pl_tls_server_flight(&m[1], 7);
	pl_tls_client_finish(&m[2], 7);
	pl_tls_server_finish(&m[3], 7);
	struct micro_msg msgs[4];

	for (int i = 0; i < 4; i++)
		msgs[i] = (struct micro_msg){ i & 1, m[i].p, (uint32_t)m[i].n };
	struct micro b = { .name = "tls12_handshake", .dissector = "tls", .l4proto = IPPROTO_TCP,
			   .sport = 443, .msgs = msgs, .nmsgs = 4,
			   .seconds = micro_seconds(argc, argv) };
	int rc = micro_run(&b);

	for (int i = 0; i < 4; i++)
		free(m[i].p);
	return rc;
}
