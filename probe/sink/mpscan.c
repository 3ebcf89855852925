/* SPDX-License-Identifier: BSD-3-Clause */
/* MessagePack stream scan (msgpack-c): whole records, then a torn tail or corruption. */
#include "sink.h"

#include <msgpack.h>

/*
 * Used after a crash (rotate recovery) and by the checker tool: a file
 * the process was killed while writing ends in at most one record cut
 * short; anything else (bytes that do not decode, a top-level value
 * that is not a map) is corruption.
 */
void gcp_mp_scan(const uint8_t *p, size_t n, struct gcp_mp_scan *out)
{
	msgpack_unpacked u;
	size_t off = 0;

	*out = (struct gcp_mp_scan){ 0 };
	msgpack_unpacked_init(&u);
	while (off < n) {
		size_t at = off;
		msgpack_unpack_return r = msgpack_unpack_next(&u, (const char *)p, n, &off);
		if (r == MSGPACK_UNPACK_CONTINUE) {
			off = at; /* cut short: the torn tail */
			break;
		}
		if ((r != MSGPACK_UNPACK_SUCCESS && r != MSGPACK_UNPACK_EXTRA_BYTES) ||
		    u.data.type != MSGPACK_OBJECT_MAP) {
			off = at;
			out->bad = true;
			break;
		}
		out->records++;
	}
	msgpack_unpacked_destroy(&u);
	out->whole = off;
	out->tail = n - off;
}
