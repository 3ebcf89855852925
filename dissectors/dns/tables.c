/* SPDX-License-Identifier: BSD-3-Clause */
/* DNS mnemonics: RR types, classes, RCODEs, opcodes (IANA dns-parameters). */
#include "dns_int.h"

struct dns_mnem {
	uint16_t v;
	const char *s;
};

static const struct dns_mnem types[] = {
	{ 1, "A" },          { 2, "NS" },        { 3, "MD" },         { 4, "MF" },
	{ 5, "CNAME" },      { 6, "SOA" },       { 7, "MB" },         { 8, "MG" },
	{ 9, "MR" },         { 10, "NULL" },     { 11, "WKS" },       { 12, "PTR" },
	{ 13, "HINFO" },     { 14, "MINFO" },    { 15, "MX" },        { 16, "TXT" },
	{ 17, "RP" },        { 18, "AFSDB" },    { 19, "X25" },       { 20, "ISDN" },
	{ 21, "RT" },        { 22, "NSAP" },     { 23, "NSAP-PTR" },  { 24, "SIG" },
	{ 25, "KEY" },       { 26, "PX" },       { 27, "GPOS" },      { 28, "AAAA" },
	{ 29, "LOC" },       { 30, "NXT" },      { 33, "SRV" },       { 35, "NAPTR" },
	{ 36, "KX" },        { 37, "CERT" },     { 38, "A6" },        { 39, "DNAME" },
	{ 41, "OPT" },       { 42, "APL" },      { 43, "DS" },        { 44, "SSHFP" },
	{ 45, "IPSECKEY" },  { 46, "RRSIG" },    { 47, "NSEC" },      { 48, "DNSKEY" },
	{ 49, "DHCID" },     { 50, "NSEC3" },    { 51, "NSEC3PARAM" }, { 52, "TLSA" },
	{ 53, "SMIMEA" },    { 55, "HIP" },      { 59, "CDS" },       { 60, "CDNSKEY" },
	{ 61, "OPENPGPKEY" }, { 62, "CSYNC" },   { 63, "ZONEMD" },    { 64, "SVCB" },
	{ 65, "HTTPS" },     { 99, "SPF" },      { 108, "EUI48" },    { 109, "EUI64" },
	{ 249, "TKEY" },     { 250, "TSIG" },    { 251, "IXFR" },     { 252, "AXFR" },
	{ 253, "MAILB" },    { 254, "MAILA" },   { 255, "ANY" },      { 256, "URI" },
	{ 257, "CAA" },      { 32768, "TA" },    { 32769, "DLV" },
};

static const struct dns_mnem classes[] = {
	{ 1, "IN" }, { 3, "CH" }, { 4, "HS" }, { 254, "NONE" }, { 255, "ANY" },
};

/* RFC 6895 2.3; 16 is BADVERS in an OPT-extended RCODE (RFC 6891 9). */
static const struct dns_mnem rcodes[] = {
	{ 0, "NOERROR" },   { 1, "FORMERR" },  { 2, "SERVFAIL" }, { 3, "NXDOMAIN" },
	{ 4, "NOTIMP" },    { 5, "REFUSED" },  { 6, "YXDOMAIN" }, { 7, "YXRRSET" },
	{ 8, "NXRRSET" },   { 9, "NOTAUTH" },  { 10, "NOTZONE" }, { 11, "DSOTYPENI" },
	{ 16, "BADVERS" },  { 17, "BADKEY" },  { 18, "BADTIME" }, { 19, "BADMODE" },
	{ 20, "BADNAME" },  { 21, "BADALG" },  { 22, "BADTRUNC" }, { 23, "BADCOOKIE" },
};

static const struct dns_mnem opcodes[] = {
	{ 0, "QUERY" }, { 1, "IQUERY" }, { 2, "STATUS" }, { 4, "NOTIFY" }, { 5, "UPDATE" },
	{ 6, "DSO" },
};

static const char *lookup(const struct dns_mnem *t, size_t n, unsigned v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].v == v)
			return t[i].s;
	return NULL;
}

#define LOOKUP(t, v) lookup((t), sizeof(t) / sizeof((t)[0]), (v))

const char *gcp_dns_type_name(uint16_t type)
{
	return LOOKUP(types, type);
}

const char *gcp_dns_class_name(uint16_t cls)
{
	return LOOKUP(classes, cls);
}

const char *gcp_dns_rcode_name(unsigned rcode)
{
	return LOOKUP(rcodes, rcode);
}

const char *gcp_dns_opcode_name(unsigned opcode)
{
	return LOOKUP(opcodes, opcode);
}
