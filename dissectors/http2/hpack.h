/* SPDX-License-Identifier: BSD-3-Clause */
/* HPACK decoder (RFC 7541): static and dynamic tables, size updates,
 * Huffman strings; one per direction of an HTTP/2 connection. */
#ifndef GCP_HPACK_H
#define GCP_HPACK_H

#include <stdbool.h>
#include <stdint.h>

#include "dissect.h"

/*
 * Largest dynamic table we keep (RFC 7541 4.2 maximum size). Browsers
 * announce SETTINGS_HEADER_TABLE_SIZE 65536; a size update above this
 * leaves the decoder unable to follow the peer's table: counted, and the
 * direction's header blocks are no longer decoded.
 */
#define HPACK_TABLE_CAP (64u * 1024)
/* RFC 7540 6.5.2 / RFC 7541 4.2: the initial maximum size. */
#define HPACK_TABLE_DEFAULT 4096u

struct hpack_ent {
	uint32_t off;          /* first byte in the ring */
	uint16_t nlen, vlen;
};

struct hpack {
	uint8_t *ring;         /* pool block: cap bytes, then the entry ring */
	struct hpack_ent *ent; /* inside the same block: nslots entries */
	uint32_t cap, nslots;  /* ring bytes; entry slots */
	uint32_t bhead, bused; /* oldest byte, bytes stored */
	uint32_t ehead, n;     /* oldest entry, entries */
	uint32_t size;         /* RFC 7541 4.1: sum of name + value + 32 */
	uint32_t max;          /* current maximum size */
	bool broken;           /* lost sync with the encoder: stop decoding */
};

/*
 * One decoded field: name and value point into the caller's out buffer
 * and stay valid until the next hpack_decode() call.
 */
typedef void (*hpack_field_fn)(void *arg, const uint8_t *name, uint32_t nlen,
			       const uint8_t *value, uint32_t vlen);

void gcp_hpack_init(struct hpack *hp);
void gcp_hpack_fini(struct hpack *hp, struct gcp_dissect_ctx *ctx);

/*
 * Decode one complete field block (RFC 7541 3). Fields go to fn while
 * they fit in the first list_cap bytes of out; the rest of out (at least
 * HPACK_TABLE_CAP more bytes) is work space for fields not listed, which
 * still update the dynamic table. Returns the number of fields left out
 * of the list, or -1 when the block is malformed or the table cannot be
 * followed (hp->broken is then set; each case is counted by the caller).
 */
int gcp_hpack_decode(struct hpack *hp, struct gcp_dissect_ctx *ctx, const uint8_t *p,
		     uint32_t n, uint8_t *out, uint32_t list_cap, uint32_t out_cap,
		     hpack_field_fn fn, void *arg);

/*
 * Huffman-decode src (RFC 7541 5.2, Appendix B) into dst (room bytes).
 * Returns the decoded length (bytes past room are counted, not written),
 * or -1 on an invalid code, EOS, or padding that is not a short run of 1s.
 */
int64_t gcp_hpack_huffman(const uint8_t *src, uint32_t n, uint8_t *dst, uint32_t room);

#endif /* GCP_HPACK_H */
