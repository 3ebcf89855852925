/* SPDX-License-Identifier: BSD-3-Clause */
/* Tap arguments: policy KIND VALUE, CIDR lists, protocol names (no BPF here: unit-tested). */
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { unsigned num; const char *name; } l4_names[] = {
	{ 1, "icmp" }, { 6, "tcp" }, { 17, "udp" }, { 47, "gre" }, { 58, "ipv6-icmp" },
	{ 132, "sctp" },
};

const char *tap_l4_name(unsigned l4, char *buf, size_t n)
{
	for (size_t i = 0; i < sizeof(l4_names) / sizeof(l4_names[0]); i++)
		if (l4_names[i].num == l4)
			return l4_names[i].name;
	snprintf(buf, n, "%u", l4);
	return buf;
}

/* Decimal 0..max, digits only (strtoul would take "-1", " 5", "0x10"). */
static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

int tap_l4_parse(const char *s)
{
	unsigned long v;

	for (size_t i = 0; i < sizeof(l4_names) / sizeof(l4_names[0]); i++)
		if (!strcmp(s, l4_names[i].name))
			return (int)l4_names[i].num;
	if (!strcmp(s, "icmp6") || !strcmp(s, "icmpv6"))
		return 58;
	return parse_uint(s, 255, &v) ? -1 : (int)v;
}

int tap_parse_cidr(const char *s, struct gcp_tap_lpm_key *k)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t iplen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long plen;
	__u8 a4[4];

	if (iplen == 0 || iplen >= sizeof(ip))
		return -1;
	memcpy(ip, s, iplen);
	ip[iplen] = '\0';
	memset(k, 0, sizeof(*k));
	if (inet_pton(AF_INET, ip, a4) == 1) {
		if (slash ? parse_uint(slash + 1, 32, &plen) : (plen = 32, 0))
			return -1;
		/* v4-mapped: ::ffff:a.b.c.d, the first 96 bits always match */
		k->addr[10] = k->addr[11] = 0xff;
		memcpy(k->addr + 12, a4, 4);
		k->prefixlen = 96 + (__u32)plen;
	} else if (inet_pton(AF_INET6, ip, k->addr) == 1) {
		if (slash ? parse_uint(slash + 1, 128, &plen) : (plen = 128, 0))
			return -1;
		k->prefixlen = (__u32)plen;
	} else {
		return -1;
	}
	/* Host bits cleared: the trie would keep them and `del` must find the key. */
	for (unsigned bit = k->prefixlen; bit < 128; bit++)
		k->addr[bit / 8] &= (__u8)~(0x80u >> (bit % 8));
	return 0;
}

int tap_parse_cidr_list(const char *list, struct gcp_tap_lpm_key *keys, unsigned max,
			unsigned *n, char *err, size_t errsz)
{
	char one[128];
	const char *p = list;

	*n = 0;
	if (!*p) {
		snprintf(err, errsz, "empty prefix list");
		return -1;
	}
	while (*p) {
		size_t len = strcspn(p, ",");
		if (len == 0 || len >= sizeof(one)) {
			snprintf(err, errsz, "bad prefix list '%s'", list);
			return -1;
		}
		memcpy(one, p, len);
		one[len] = '\0';
		if (*n == max) {
			snprintf(err, errsz, "more than %u prefixes in '%s'", max, list);
			return -1;
		}
		if (tap_parse_cidr(one, &keys[*n])) {
			snprintf(err, errsz, "'%s' is not an IPv4 or IPv6 prefix (e.g. 10.0.0.0/8)",
				 one);
			return -1;
		}
		(*n)++;
		p += len;
		if (*p == ',' && !*++p) {
			snprintf(err, errsz, "bad prefix list '%s' (trailing comma)", list);
			return -1;
		}
	}
	return 0;
}

static int parse_port(const char *v, struct gcp_tap_port_key *pk)
{
	const char *slash = strchr(v, '/');
	char l4[16];
	unsigned long port;

	if (!slash || slash == v || (size_t)(slash - v) >= sizeof(l4))
		return -1;
	memcpy(l4, v, (size_t)(slash - v));
	l4[slash - v] = '\0';
	memset(pk, 0, sizeof(*pk));
	if (!strcmp(l4, "tcp"))
		pk->l4 = 6;
	else if (!strcmp(l4, "udp"))
		pk->l4 = 17;
	else if (!strcmp(l4, "sctp"))
		pk->l4 = 132;
	else
		return -1;
	if (parse_uint(slash + 1, 65535, &port))
		return -1;
	pk->port = (__u16)port;
	return 0;
}

static const char *const pol_want[] = {
	[TAP_POL_CIDR] = "an IPv4 or IPv6 prefix, e.g. 10.0.0.0/8 or fd00::/64",
	[TAP_POL_PORT] = "L4/PORT, e.g. tcp/80, udp/53, sctp/3868",
	[TAP_POL_PROTO] = "a protocol name (tcp, udp, icmp, ipv6-icmp, sctp, gre) or 0..255",
	[TAP_POL_VLAN] = "a VLAN id 0..4095",
	[TAP_POL_VNI] = "a VXLAN VNI 0..16777215",
};

int tap_pol_parse(const char *kind, const char *value, struct tap_pol_entry *e, char *err,
		  size_t errsz)
{
	unsigned long id;
	int l4;

	memset(e, 0, sizeof(*e));
	if (!kind || !value) {
		snprintf(err, errsz, "policy add/del: needs KIND VALUE (cidr, port, proto, vlan, vni)");
		return -1;
	}
	if (!strcmp(kind, "cidr")) {
		e->kind = TAP_POL_CIDR;
		if (tap_parse_cidr(value, &e->u.cidr))
			goto bad;
	} else if (!strcmp(kind, "port")) {
		e->kind = TAP_POL_PORT;
		if (parse_port(value, &e->u.port))
			goto bad;
	} else if (!strcmp(kind, "proto")) {
		e->kind = TAP_POL_PROTO;
		if ((l4 = tap_l4_parse(value)) < 0)
			goto bad;
		e->u.id = (__u32)l4;
	} else if (!strcmp(kind, "vlan")) {
		e->kind = TAP_POL_VLAN;
		if (parse_uint(value, 4095, &id))
			goto bad;
		e->u.id = (__u32)id;
	} else if (!strcmp(kind, "vni")) {
		e->kind = TAP_POL_VNI;
		if (parse_uint(value, (1ul << 24) - 1, &id))
			goto bad;
		e->u.id = (__u32)id;
	} else {
		snprintf(err, errsz, "unknown policy kind '%s' (cidr, port, proto, vlan, vni)", kind);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errsz, "policy %s: '%s' is not %s", kind, value, pol_want[e->kind]);
	return -1;
}

static bool is_v4_mapped(const __u8 a[16])
{
	static const __u8 pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return !memcmp(a, pfx, sizeof(pfx));
}

void tap_addr_str(const __u8 addr[16], char *buf, size_t n)
{
	if (!inet_ntop(is_v4_mapped(addr) ? AF_INET : AF_INET6,
		       is_v4_mapped(addr) ? addr + 12 : addr, buf, (socklen_t)n))
		snprintf(buf, n, "?");
}

void tap_cidr_str(const struct gcp_tap_lpm_key *k, char *buf, size_t n)
{
	char ip[INET6_ADDRSTRLEN];
	bool v4 = is_v4_mapped(k->addr) && k->prefixlen >= 96;

	tap_addr_str(k->addr, ip, sizeof(ip));
	snprintf(buf, n, "%s/%u", ip, v4 ? k->prefixlen - 96 : k->prefixlen);
}

void tap_dims_str(__u32 dims, char *buf, size_t n)
{
	static const char *const names[] = { "cidr", "port", "proto", "vlan", "vni" };
	size_t at = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < 5; i++)
		if (dims & (1u << i) && at < n)
			at += (size_t)snprintf(buf + at, n - at, "%s%s", at ? "," : "", names[i]);
	if (!at)
		snprintf(buf, n, "-");
}

const char *tap_policy_mode_name(__u32 mode)
{
	switch (mode) {
	case GCP_TAP_POLICY_NONE: return "none";
	case GCP_TAP_POLICY_ALL: return "all";
	case GCP_TAP_POLICY_MATCH: return "match";
	default: return "?";
	}
}
