/* SPDX-License-Identifier: BSD-3-Clause */
/* HTTP/2 dissector: what the HTTP/1.x dissector needs to hand a
 * connection over after "Upgrade: h2c" and 101 (RFC 7540 3.2). */
#ifndef GCP_HTTP2_H
#define GCP_HTTP2_H

#include <stdint.h>

#include "../http/http_int.h"
#include "dissect.h"

extern const struct gcp_dissector gcp_dissector_http2;

/*
 * After init(): the connection was upgraded from HTTP/1.1. Stream 1 is
 * the request that asked for the upgrade (RFC 7540 3.2): req (a stored
 * header block, now owned by the HTTP/2 state; may be NULL) received at
 * ts, half-closed by the client; its response comes in HTTP/2.
 */
void gcp_h2_upgraded(void *state, struct gcp_dissect_ctx *ctx, struct http_head *req,
		     uint64_t ts);

#endif /* GCP_HTTP2_H */
