/* SPDX-License-Identifier: BSD-3-Clause */
/* Micro benchmark: DNS dissector over UDP query/response pairs (EDNS
 * query; CNAME + two A answers with compression pointers). */
#include "../common/payloads.h"
#include "micro.h"

int main(int argc, char **argv)
{
	struct pbuf q[4] = { { 0 } }, r[4] = { { 0 } };
	struct micro_msg msgs[8];
	char name[64];

	for (unsigned i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "host%u.svc.example.com", i);
		pl_dns_query(&q[i], 100 + i, name);
		pl_dns_response(&r[i], 100 + i, name);
		msgs[2 * i] = (struct micro_msg){ 0, q[i].p, (uint32_t)q[i].n };
		msgs[2 * i + 1] = (struct micro_msg){ 1, r[i].p, (uint32_t)r[i].n };
	}
	struct micro b = { .name = "dns_udp_query_response", .dissector = "dns",
			   .l4proto = IPPROTO_UDP, .sport = 53, .msgs = msgs, .nmsgs = 8,
			   .seconds = micro_seconds(argc, argv) };
	int rc = micro_run(&b);

	for (int i = 0; i < 4; i++) {
		free(q[i].p);
		free(r[i].p);
	}
	return rc;
}
