/* SPDX-License-Identifier: BSD-3-Clause */
/* Micro benchmark: HTTP/1.1 dissector over keep-alive request/response
 * pairs (small page, 16 KiB body) fed whole, records counted. */
#include "../common/payloads.h"
#include "micro.h"

static int one(const char *name, size_t body, double sec)
{
	struct pbuf req = { 0 }, resp = { 0 };

	pl_http_req(&req, "www.example.com", 7);
	pl_http_resp(&resp, body, 7);
	struct micro_msg msgs[6];

	for (int i = 0; i < 6; i += 2) { /* three transactions per connection */
		msgs[i] = (struct micro_msg){ 0, req.p, (uint32_t)req.n };
		msgs[i + 1] = (struct micro_msg){ 1, resp.p, (uint32_t)resp.n };
	}
	struct micro m = { .name = name, .dissector = "http", .l4proto = IPPROTO_TCP,
			   .sport = 80, .msgs = msgs, .nmsgs = 6, .seconds = sec };
	int rc = micro_run(&m);

	free(req.p);
	free(resp.p);
	return rc;
}

int main(int argc, char **argv)
{
	double sec = micro_seconds(argc, argv);

	return one("http_small", 512, sec) | one("http_16k_body", 16384, sec);
}
