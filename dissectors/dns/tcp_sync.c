/* SPDX-License-Identifier: BSD-3-Clause */
/* DNS over TCP after a reassembly gap: find the next length-prefixed
 * message (RFC 1035 4.2.2 frames messages with no marker to search for). */
#include "cursor.h"
#include "dns_int.h"

#define DNS_TCP_FRAME_MIN (2 + DNS_HDR_LEN) /* prefix + header */

/*
 * Is there a plausible message framed at p (avail bytes)? The probe's
 * header and first-question checks; queries without a question are passed
 * over, since judging one means scanning the whole message, and a stream
 * of such candidates must not cost a scan each.
 */
static int sync_frame(const uint8_t *p, uint32_t avail)
{
	if (avail < DNS_TCP_FRAME_MIN)
		return DNS_PLAUSIBLE_MORE;
	uint32_t len = gcp_be16(p);
	const uint8_t *h = p + 2;

	if (len < DNS_HDR_LEN || (!(gcp_be16(h + 2) & DNS_F_QR) && gcp_be16(h + 4) == 0))
		return DNS_PLAUSIBLE_NO;
	return gcp_dns_hdr_probe(h, avail - 2, len);
}

/* The whole message parses and fills its frame exactly. */
static bool sync_clean(const uint8_t *msg, uint32_t len)
{
	struct dns_msg m;

	return gcp_dns_msg_scan(&m, msg, len) && !m.malformed && m.end == len;
}

/*
 * A candidate is taken when the frame after it is plausible too, or, when
 * it is the last whole message at hand, when it parses cleanly: one
 * lookalike header in lost bytes is not enough. Each candidate costs one
 * header check (and at most one clean-parse check), so a flood of
 * lookalikes stays linear.
 */
bool gcp_dns_tcp_sync(const uint8_t *buf, uint32_t n, bool fin, uint32_t *off, uint32_t *needed)
{
	uint32_t i = 0;

	for (; i + DNS_TCP_FRAME_MIN <= n; i++) {
		int r = sync_frame(buf + i, n - i);

		if (r == DNS_PLAUSIBLE_NO || (r == DNS_PLAUSIBLE_MORE && fin))
			continue;
		uint32_t end = i + 2 + gcp_be16(buf + i);

		*off = i;
		*needed = 1;
		if (r == DNS_PLAUSIBLE_MORE)
			return false; /* the first question runs past the bytes at hand */
		if (end > n) {
			if (fin)
				continue;
			*needed = end - n;
			return false;
		}
		if (n - end >= DNS_TCP_FRAME_MIN) {
			if (sync_frame(buf + end, n - end) != DNS_PLAUSIBLE_NO)
				return true;
			continue;
		}
		if (sync_clean(buf + i + 2, end - i - 2))
			return true;
	}
	*off = fin ? n : i;
	*needed = i + DNS_TCP_FRAME_MIN - n;
	return false;
}
