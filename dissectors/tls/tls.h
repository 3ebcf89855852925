/* SPDX-License-Identifier: BSD-3-Clause */
/* TLS dissector: what other dissectors (mail STARTTLS) may ask of its state. */
#ifndef GCP_TLS_H
#define GCP_TLS_H

#include <stdbool.h>

/* True once a ClientHello or ServerHello was parsed on this flow. */
bool gcp_tls_handshake_seen(const void *state);

#endif /* GCP_TLS_H */
