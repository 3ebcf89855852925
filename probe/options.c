/* SPDX-License-Identifier: BSD-3-Clause */
/* gcprobe command line parsing (getopt_long, one error line on misuse). */
#include "options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: gcprobe --read FILE [options]\n"
	"       gcprobe --version | --help\n"
	"\n"
	"Reads a pcap or pcapng file and writes C.4 records.\n"
	"\n"
	"  -r, --read FILE          capture file to read (required)\n"
	"  -f, --format FMT         json (default, one object per line) or msgpack\n"
	"  -o, --output PATH        write records to PATH (default: stdout)\n"
	"      --node-name N        collector node name (default: host name)\n"
	"      --node-type T        physical (default) or virtual\n"
	"      --agent-ip IP        management IP of the probe node\n"
	"      --engine NAME        engine name (default: gcprobe/<version>)\n"
	"      --tenant T           tenant label put on every record\n"
	"      --types LIST         record types, comma-separated (default: all):\n"
	"                           tcp,http,dns,mail,ftp,inventory,stats\n"
	"      --max-flows N        flow table capacity (default 65536)\n"
	"      --body-cap N         HTTP body bytes kept per message (default 4096)\n"
	"      --stats              print engine counters as JSON to stderr at the end\n"
	"      --rules FILE         content rules (docs/RULES.md) tagging records\n"
	"      --no-hs-ident        identify protocols by port hint and probes only\n"
	"  -V, --version            print the version and exit\n"
	"  -h, --help               print this help and exit\n";

enum {
	OPT_NODE_NAME = 256, OPT_NODE_TYPE, OPT_AGENT_IP, OPT_ENGINE, OPT_TENANT,
	OPT_TYPES, OPT_MAX_FLOWS, OPT_BODY_CAP, OPT_STATS,
	OPT_RULES, OPT_NO_HS_IDENT,
};

static const struct option long_opts[] = {
	{ "read", required_argument, NULL, 'r' },
	{ "format", required_argument, NULL, 'f' },
	{ "output", required_argument, NULL, 'o' },
	{ "node-name", required_argument, NULL, OPT_NODE_NAME },
	{ "node-type", required_argument, NULL, OPT_NODE_TYPE },
	{ "agent-ip", required_argument, NULL, OPT_AGENT_IP },
	{ "engine", required_argument, NULL, OPT_ENGINE },
	{ "tenant", required_argument, NULL, OPT_TENANT },
	{ "types", required_argument, NULL, OPT_TYPES },
	{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
	{ "body-cap", required_argument, NULL, OPT_BODY_CAP },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "no-hs-ident", no_argument, NULL, OPT_NO_HS_IDENT },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

__attribute__((format(printf, 1, 2)))
static enum probe_action usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("gcprobe: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return PROBE_EXIT_USAGE;
}

static bool parse_u32(const char *s, uint32_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false; /* strtoul would take "-1" and " 5" */
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool parse_types(const char *list, unsigned *mask)
{
	static const unsigned all[] = { GCP_REC_TCP, GCP_REC_HTTP, GCP_REC_DNS, GCP_REC_MAIL,
					GCP_REC_FTP, GCP_REC_INVENTORY, GCP_REC_STATS };
	const char *p = list;

	*mask = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		size_t i;
		for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
			const char *name = gcp_record_type_name(all[i]);
			if (strlen(name) == n && !strncmp(p, name, n))
				break;
		}
		if (i == sizeof(all) / sizeof(all[0]))
			return false;
		*mask |= all[i];
		p += n;
		if (*p == ',' && *++p == '\0')
			return false; /* trailing comma */
	}
	return *mask != 0;
}

static bool valid_ip(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* One option with its argument; PROBE_RUN means "keep going". */
static enum probe_action apply_opt(int c, const char *arg, struct probe_opts *o)
{
	switch (c) {
	case 'r': o->read_path = arg; break;
	case 'o': o->output_path = arg; break;
	case OPT_NODE_NAME: o->eng.node_name = arg; break;
	case OPT_ENGINE: o->eng.engine_name = arg; break;
	case OPT_TENANT: o->eng.tenant = arg; break;
	case OPT_STATS: o->stats = true; break;
	case OPT_RULES: o->rules_path = arg; break;
	case OPT_NO_HS_IDENT: o->eng.hs_ident = -1; break;
	case 'f':
		if (!strcmp(arg, "json"))
			o->format = PROBE_FMT_JSON;
		else if (!strcmp(arg, "msgpack"))
			o->format = PROBE_FMT_MSGPACK;
		else
			return usage_error("--format: '%s' is not json or msgpack", arg);
		break;
	case OPT_NODE_TYPE:
		if (!strcmp(arg, "physical"))
			o->eng.node_type = GCP_NODE_PHYSICAL;
		else if (!strcmp(arg, "virtual"))
			o->eng.node_type = GCP_NODE_VIRTUAL;
		else
			return usage_error("--node-type: '%s' is not physical or virtual", arg);
		break;
	case OPT_AGENT_IP:
		if (!valid_ip(arg))
			return usage_error("--agent-ip: '%s' is not an IPv4 or IPv6 address", arg);
		o->eng.agent_ip = arg;
		break;
	case OPT_TYPES:
		if (!parse_types(arg, &o->types))
			return usage_error("--types: bad list '%s' (names: tcp,http,dns,mail,"
					   "ftp,inventory,stats)", arg);
		break;
	case OPT_MAX_FLOWS:
		if (!parse_u32(arg, &o->eng.max_flows) || o->eng.max_flows == 0)
			return usage_error("--max-flows: '%s' is not a positive integer", arg);
		break;
	case OPT_BODY_CAP:
		if (!parse_u32(arg, &o->eng.body_cap))
			return usage_error("--body-cap: '%s' is not a non-negative integer", arg);
		break;
	default:
		return PROBE_EXIT_USAGE;
	}
	return PROBE_RUN;
}

static void opts_init(struct probe_opts *o)
{
	struct gcp_engine_opts eng = GCP_ENGINE_OPTS_INIT;

	memset(o, 0, sizeof(*o));
	o->eng = eng;
	o->format = PROBE_FMT_JSON;
	o->types = GCP_REC_ALL;
}

/* getopt_long's own messages would not match our one-line format. */
static enum probe_action bad_option(int c, int argc, char **argv)
{
	const char *arg = optind - 1 < argc ? argv[optind - 1] : "?";

	if (c == ':')
		return usage_error("option '%s' needs a value", arg);
	if (optopt)
		return usage_error("unknown option '-%c' (see --help)", optopt);
	return usage_error("unknown option '%s' (see --help)", arg);
}

enum probe_action probe_parse_options(int argc, char **argv, struct probe_opts *o)
{
	int c;

	opts_init(o);
	if (argc < 2) {
		fputs(usage_text, stderr);
		return PROBE_EXIT_USAGE;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:f:o:Vh", long_opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return PROBE_EXIT_OK;
		}
		if (c == 'V') {
			printf("gcprobe %s (libgcprobe %s)\n", GCP_VERSION_STRING, gcp_version());
			return PROBE_EXIT_OK;
		}
		if (c == '?' || c == ':')
			return bad_option(c, argc, argv);
		if (apply_opt(c, optarg, o) != PROBE_RUN)
			return PROBE_EXIT_USAGE;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s' (see --help)", argv[optind]);
	if (!o->read_path)
		return usage_error("missing --read FILE (see --help)");
	return PROBE_RUN;
}
