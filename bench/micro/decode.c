/* SPDX-License-Identifier: BSD-3-Clause */
/* Micro benchmark: link/IP/L4 decoder over a fixed frame set (IPv4 TCP
 * 64 B and 1518 B, IPv6 TCP in VLAN, VXLAN-encapsulated IPv4 UDP). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode.h"

#define NFR 4

static const uint8_t eth_v4[] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 };
static const uint8_t eth_v6_vlan[] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1,
				       0x81, 0x00, 0x00, 0x0a, 0x86, 0xdd };
static const uint8_t ip4_tcp[] = { 0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0,
				   10, 1, 2, 3, 198, 51, 100, 7 };
static const uint8_t ip4_udp[] = { 0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0,
				   172, 31, 0, 1, 172, 31, 0, 2 };
static const uint8_t tcp[] = { 0xc8, 0x22, 0, 80, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x18, 0xfa, 0xf0,
			       0, 0, 0, 0 };

static void set16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ethernet + IPv4 (+ TCP) frame of total captured length len. */
static size_t v4_tcp(uint8_t *f, size_t len)
{
	memcpy(f, eth_v4, 14);
	memcpy(f + 14, ip4_tcp, 20);
	set16(f + 16, len - 14);
	memcpy(f + 34, tcp, 20);
	return len;
}

static size_t v6_vlan_tcp(uint8_t *f, size_t len)
{
	static const uint8_t ip6[8] = { 0x60, 0, 0, 0, 0, 0, 6, 64 };

	memcpy(f, eth_v6_vlan, 18);
	memcpy(f + 18, ip6, 8);
	set16(f + 22, len - 58);
	for (int i = 0; i < 32; i++)
		f[26 + i] = (uint8_t)(i < 16 ? 0x20 + (i == 15) : 0x30 + (i == 31));
	memcpy(f + 58, tcp, 20);
	return len;
}

/* VXLAN (RFC 7348) around an IPv4/TCP frame of inner bytes. */
static size_t vxlan(uint8_t *f, size_t inner)
{
	static const uint8_t udp_vx[16] = { 0xc0, 0x00, 0x12, 0xb5, 0, 0, 0, 0,
					    0x08, 0, 0, 0, 0, 0x13, 0x88, 0 };

	memcpy(f, eth_v4, 14);
	memcpy(f + 14, ip4_udp, 20);
	set16(f + 16, 36 + inner);
	memcpy(f + 34, udp_vx, 16);
	set16(f + 38, 16 + inner);
	return 50 + v4_tcp(f + 50, inner);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static uint8_t buf[NFR][1600];
	struct gcp_packet pk[NFR];
	size_t len[NFR] = { v4_tcp(buf[0], 60), v4_tcp(buf[1], 1514), v6_vlan_tcp(buf[2], 594),
			    vxlan(buf[3], 200) };
	double sec = argc > 1 && strcmp(argv[1], "--quick") == 0 ? 0.1 : 0.5;
	struct gcp_decode_limits lim = { 1024, 30 };
	struct gcp_decoder dec;
	struct gcp_pkt out;
	uint64_t n = 0, bytes = 0, ok = 0, t0, el;

	if (gcp_decoder_init(&dec, &lim) != 0)
		return 1;
	for (int i = 0; i < NFR; i++) {
		pk[i] = (struct gcp_packet){ buf[i], (uint32_t)len[i], (uint32_t)len[i], 1, 1 };
		bytes += len[i];
	}
	t0 = now_ns();
	do {
		for (int k = 0; k < 4096; k++)
			for (int i = 0; i < NFR; i++)
				ok += gcp_decode(&dec, &pk[i], &out) == GCP_DEC_OK;
		n += 4096;
		el = now_ns() - t0;
	} while ((double)el / 1e9 < sec);
	printf("{\"bench\":\"micro\",\"name\":\"decode_mix\",\"frames_per_iter\":%d,"
	       "\"frames\":%llu,\"decoded_ok\":%llu,\"seconds\":%.3f,\"mbytes_per_s\":%.1f,"
	       "\"mpps\":%.2f,\"ns_per_frame\":%.2f}\n",
	       NFR, (unsigned long long)(n * NFR), (unsigned long long)ok, (double)el / 1e9,
	       (double)(n * bytes) / ((double)el / 1e9) / 1e6, (double)(n * NFR) / ((double)el / 1e3),
	       (double)el / (double)(n * NFR));
	gcp_decoder_fini(&dec);
	return 0;
}
