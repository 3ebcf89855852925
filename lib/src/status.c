/* SPDX-License-Identifier: BSD-3-Clause */
/* Status texts, library version and record type names. */
#include "gcprobe/gcprobe.h"

GCP_API const char *gcp_strerror(int status)
{
	switch (status) {
	case GCP_OK: return "success";
	case GCP_ERR_INVAL: return "invalid argument";
	case GCP_ERR_NOMEM: return "out of memory";
	case GCP_ERR_IO: return "input/output error";
	case GCP_ERR_FORMAT: return "corrupt or unknown file format";
	case GCP_ERR_UNSUPPORTED: return "not supported";
	case GCP_ERR_TRUNCATED: return "input truncated";
	case GCP_ERR_EOF: return "end of input";
	case GCP_ERR_FULL: return "limit reached";
	default: return "unknown error";
	}
}

GCP_API const char *gcp_version(void)
{
	return GCP_VERSION_STRING;
}

GCP_API const char *gcp_record_type_name(enum gcp_record_type type)
{
	switch (type) {
	case GCP_REC_TCP: return "tcp";
	case GCP_REC_HTTP: return "http";
	case GCP_REC_DNS: return "dns";
	case GCP_REC_MAIL: return "mail";
	case GCP_REC_FTP: return "ftp";
	case GCP_REC_INVENTORY: return "inventory";
	case GCP_REC_STATS: return "stats";
	default: return "unknown";
	}
}
