/* SPDX-License-Identifier: BSD-3-Clause */
/* TLS dissector: what other dissectors (mail STARTTLS) may ask of its state. */
#ifndef GCP_TLS_H
#define GCP_TLS_H

#include <stdbool.h>
#include <stdint.h>

#include "dissect.h"

extern const struct gcp_dissector gcp_dissector_tls;

/* True once a ClientHello or ServerHello was parsed on this flow. */
bool gcp_tls_handshake_seen(const void *state);

/*
 * QUIC (RFC 9001 4): a TLS state (gcp_dissector_tls.state_size, after
 * its init) fed whole handshake messages from CRYPTO frames instead of
 * records. JA4 then starts with "q"; the record is written only once a
 * ClientHello was seen, and extra(rb, arg) adds keys to it.
 */
typedef void (*gcp_tls_extra_fn)(struct gcp_rb *rb, void *arg);
void gcp_tls_quic_setup(void *state, gcp_tls_extra_fn extra, void *arg);
/* One handshake message: type, 24-bit length, body (n = 4 + length). */
void gcp_tls_handshake_msg(void *state, struct gcp_dissect_ctx *ctx, const uint8_t *m,
			   uint32_t n);
/* Nothing more wanted: both hellos seen (the record is out) or gave up. */
bool gcp_tls_done(const void *state);

#endif /* GCP_TLS_H */
