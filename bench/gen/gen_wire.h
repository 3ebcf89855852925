/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by the generators (gcp_gen, gcp_attack): PRNG, byte order, IPv4 checksum, pcap records. */
#ifndef GCPROBE_GEN_WIRE_H
#define GCPROBE_GEN_WIRE_H

#include <stdint.h>
#include <stdio.h>

/* splitmix64: deterministic for a seed, good enough for traffic shapes. */
static inline uint64_t gen_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint8_t *put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static inline uint8_t *put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	return put16(p + 2, v & 0xffff);
}

static inline void put32le(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Header checksum of the 20-byte IPv4 header at h. */
static inline void ip4_csum(uint8_t *h)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(h + 10, ~sum & 0xffff);
}

/* One classic-pcap record (nanosecond file): header, then the frame. */
static inline void gen_pcap_record(FILE *out, uint64_t ts_ns, const uint8_t *frame, unsigned len)
{
	uint8_t rec[16];

	put32le(rec, (uint32_t)(ts_ns / 1000000000u));
	put32le(rec + 4, (uint32_t)(ts_ns % 1000000000u));
	put32le(rec + 8, len);
	put32le(rec + 12, len);
	fwrite(rec, 1, sizeof(rec), out);
	fwrite(frame, 1, len, out);
}

#endif
