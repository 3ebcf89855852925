/* SPDX-License-Identifier: BSD-3-Clause */
/* gcprobe command line parsing (getopt_long, one error line on misuse). */
#include "options.h"
#include "tap/tap_run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: gcprobe --read FILE [options]\n"
	"       gcprobe --iface IF [--queues N] [--xdp-mode zc|copy|auto] [options]\n"
	"       gcprobe --dpdk \"EAL ARGS\" [--port P] [--queues N] [options]\n"
	"       gcprobe tap attach|detach|list|policy|inventory ...  (docs/TAPS.md)\n"
	"       gcprobe --version | --help\n"
	"\n"
	"Reads a pcap or pcapng file, or captures live (AF_XDP, DPDK), and\n"
	"writes C.4 records.\n"
	"\n"
	"  -r, --read FILE          capture file to read\n"
	"  -i, --iface IF           capture live on IF with AF_XDP\n"
	"      --xdp-mode M         zc (zero-copy or fail), copy, auto (default:\n"
	"                           zero-copy where the driver has it, else copy)\n"
	"      --xdp-attach A       native, generic or auto (default: native, else generic)\n"
	"      --busy-poll          AF_XDP: busy-poll the queue instead of sleeping\n"
	"      --umem-frames N      AF_XDP: UMEM frames (4 KiB each) per queue (default 4096)\n"
	"      --dpdk ARGS          capture live with DPDK; ARGS are EAL arguments,\n"
	"                           e.g. \"-l 0-3 -a 0000:3b:00.0\" or \"--vdev=net_pcap0,iface=eth1\"\n"
	"      --port P             DPDK port id (default 0)\n"
	"      --queues N           live: RX queues, one worker each (default 1)\n"
	"      --workers N          spread one capture queue (or --read) over N workers\n"
	"      --cores LIST         pin workers to these CPUs, e.g. 2,3,4,5 (round robin)\n"
	"                           with a symmetric software hash (default 1)\n"
	"      --duration S         stop after S seconds\n"
	"      --count N            stop after N packets\n"
	"  -f, --format FMT         json (default, one object per line) or msgpack\n"
	"  -o, --output PATH        write records to PATH (default: stdout)\n"
	"      --sink SPEC          where records go (repeatable; default: --output):\n"
	"                           stdout, file:PATH[?format=json|msgpack],\n"
	"                           rotate:DIR?max_bytes=N&max_secs=S&prefix=P,\n"
	"                           tcp:HOST:PORT, unix:PATH, kafka:BROKERS?topic_prefix=P\n"
	"                           (docs/OPERATIONS.md, \"Sinks\")\n"
	"      --node-name N        collector node name (default: host name)\n"
	"      --node-type T        physical (default) or virtual\n"
	"      --agent-ip IP        management IP of the probe node\n"
	"      --engine NAME        engine name (default: gcprobe/<version>)\n"
	"      --tenant T           tenant label put on every record\n"
	"      --types LIST         record types, comma-separated (default: all):\n"
	"                           tcp,http,dns,mail,ftp,inventory,stats\n"
	"      --max-flows N        flow table capacity (default 65536)\n"
	"      --body-cap N         HTTP body bytes kept per message (default 4096)\n"
	"      --stats              print engine counters as JSON to stderr at the end,\n"
	"                           then (live, workers) per-queue capture counters\n"
	"      --rules FILE         content rules (docs/RULES.md) tagging records\n"
	"      --no-hs-ident        identify protocols by port hint and probes only\n"
	"      --config FILE        read options from FILE (docs/gcprobe.conf.example);\n"
	"                           command-line options override it\n"
	"      --check-config FILE  validate FILE (and its rules), print ok, exit\n"
	"      --stats-interval S   with --types ...,stats: a stats record every S\n"
	"                           seconds (default 10; 0: only at exit)\n"
	"      --tap DEV[:tc|:xdp]  eBPF tap on DEV for the run (repeatable): inventory\n"
	"                           records, detached at exit; alone: inventory only\n"
	"      --tap-monitor IF     tc taps clone what their policy selects to IF\n"
	"      --tap-policy P       all or none (default: all with --tap-monitor or xdp)\n"
	"      --tap-local CIDRS    local prefixes: east-west when both ends are local\n"
	"      --inventory-interval S  inventory record per tap every S s (default 10)\n"
	"      --inventory-top N    entries per inventory list (default 1000)\n"
	"  -V, --version            print the version and exit\n"
	"  -h, --help               print this help and exit\n";

enum {
	OPT_NODE_NAME = 256, OPT_NODE_TYPE, OPT_AGENT_IP, OPT_ENGINE, OPT_TENANT,
	OPT_TYPES, OPT_MAX_FLOWS, OPT_BODY_CAP, OPT_STATS,
	OPT_XDP_MODE, OPT_XDP_ATTACH, OPT_BUSY_POLL, OPT_UMEM_FRAMES, OPT_DPDK, OPT_PORT,
	OPT_QUEUES, OPT_WORKERS, OPT_DURATION, OPT_COUNT,
	OPT_RULES, OPT_NO_HS_IDENT,
	OPT_CONFIG, OPT_CHECK_CONFIG, OPT_STATS_INTERVAL,
	OPT_SINK = 400, /* sinks (probe/sink/) */
	OPT_CORES,
	OPT_TAP = 450, /* eBPF taps (probe/tap/) */
	OPT_TAP_MONITOR, OPT_TAP_POLICY, OPT_TAP_LOCAL, OPT_INVENTORY_INTERVAL, OPT_INVENTORY_TOP,
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
	{ "iface", required_argument, NULL, 'i' },
	{ "xdp-mode", required_argument, NULL, OPT_XDP_MODE },
	{ "xdp-attach", required_argument, NULL, OPT_XDP_ATTACH },
	{ "busy-poll", no_argument, NULL, OPT_BUSY_POLL },
	{ "umem-frames", required_argument, NULL, OPT_UMEM_FRAMES },
	{ "dpdk", required_argument, NULL, OPT_DPDK },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "queues", required_argument, NULL, OPT_QUEUES },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "cores", required_argument, NULL, OPT_CORES },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "no-hs-ident", no_argument, NULL, OPT_NO_HS_IDENT },
	{ "sink", required_argument, NULL, OPT_SINK },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "check-config", required_argument, NULL, OPT_CHECK_CONFIG },
	{ "stats-interval", required_argument, NULL, OPT_STATS_INTERVAL },
	{ "tap", required_argument, NULL, OPT_TAP },
	{ "tap-monitor", required_argument, NULL, OPT_TAP_MONITOR },
	{ "tap-policy", required_argument, NULL, OPT_TAP_POLICY },
	{ "tap-local", required_argument, NULL, OPT_TAP_LOCAL },
	{ "inventory-interval", required_argument, NULL, OPT_INVENTORY_INTERVAL },
	{ "inventory-top", required_argument, NULL, OPT_INVENTORY_TOP },
	{ NULL, 0, NULL, 0 },
};

static const char *err_where; /* "FILE:LINE" while applying a config file */

__attribute__((format(printf, 1, 2)))
static enum probe_action usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("gcprobe: error: ", stderr);
	if (err_where)
		fprintf(stderr, "%s: ", err_where);
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

/* Decimal with an optional suffix scaled by the matching mult[]. */
static bool parse_scaled(const char *s, const char *suffixes, const uint64_t *mult, uint64_t max,
			 uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return false;
	if (*end) {
		const char *p = end[1] ? NULL : strchr(suffixes, *end);
		if (!p)
			return false;
		uint64_t m = mult[p - suffixes];
		if (v > max / m)
			return false;
		v *= m;
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

bool probe_parse_seconds(const char *s, uint32_t *out)
{
	static const uint64_t m[] = { 1, 60, 3600 };
	uint64_t v;

	if (!parse_scaled(s, "smh", m, UINT32_MAX, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

bool probe_parse_bytes(const char *s, uint64_t max, uint64_t *out)
{
	static const uint64_t m[] = { 1ull << 10, 1ull << 20, 1ull << 30 };

	return parse_scaled(s, "KMG", m, max, out);
}

/* "0,2,5": CPU ids for worker pinning (at most 128, each < 1024). */
static int parse_cores(const char *list, struct probe_opts *o)
{
	const char *p = list;

	o->ncores = 0;
	while (*p) {
		char *end;
		unsigned long v = *p >= '0' && *p <= '9' ? strtoul(p, &end, 10) : 1024;

		if (v >= 1024 || o->ncores == 128 || (*end && *end != ','))
			return -1;
		o->cores[o->ncores++] = (uint16_t)v;
		p = *end ? end + 1 : end;
	}
	return o->ncores ? 0 : -1;
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

/* --tap and its companions (probe/tap/); checked further by probe_taps_check. */
static enum probe_action apply_tap_opt(int c, const char *arg, struct probe_opts *o)
{
	switch (c) {
	case OPT_TAP:
		if (o->ntaps == PROBE_MAX_TAPS)
			return usage_error("--tap: at most %d taps", PROBE_MAX_TAPS);
		o->taps[o->ntaps++] = arg;
		break;
	case OPT_TAP_MONITOR: o->tap_monitor = arg; break;
	case OPT_TAP_LOCAL: o->tap_local = arg; break;
	case OPT_TAP_POLICY:
		if (strcmp(arg, "all") && strcmp(arg, "none"))
			return usage_error("--tap-policy: '%s' is not all or none", arg);
		o->tap_policy = arg[0] == 'a' ? 1 : 0; /* GCP_TAP_POLICY_ALL / _NONE */
		break;
	case OPT_INVENTORY_INTERVAL:
		if (!probe_parse_seconds(arg, &o->inventory_interval_s))
			return usage_error("--inventory-interval: '%s' is not a number of seconds", arg);
		break;
	case OPT_INVENTORY_TOP:
		if (!parse_u32(arg, &o->inventory_top) || o->inventory_top == 0)
			return usage_error("--inventory-top: '%s' is not a positive integer", arg);
		break;
	default:
		return PROBE_EXIT_USAGE;
	}
	return PROBE_RUN;
}

/* One option with its argument; PROBE_RUN means "keep going". */
static enum probe_action apply_opt(int c, const char *arg, struct probe_opts *o)
{
	if ((c == 'r' || c == 'i' || c == OPT_DPDK) && o->src_from_file && !err_where) {
		o->read_path = o->iface = o->dpdk_args = NULL; /* the command line wins */
		o->src_from_file = false;
	}
	switch (c) {
	case 'r': o->read_path = arg; break;
	case 'o': o->output_path = arg; break;
	case OPT_NODE_NAME: o->eng.node_name = arg; break;
	case OPT_ENGINE: o->eng.engine_name = arg; break;
	case OPT_TENANT: o->eng.tenant = arg; break;
	case OPT_STATS: o->stats = true; break;
	case OPT_RULES: o->rules_path = arg; break;
	case OPT_NO_HS_IDENT: o->eng.hs_ident = -1; break;
	case OPT_SINK:
		if (o->nsinks == PROBE_MAX_SINKS)
			return usage_error("--sink: at most %d sinks", PROBE_MAX_SINKS);
		o->sinks[o->nsinks++] = arg;
		break;
	case 'f':
		if (!strcmp(arg, "json"))
			o->format = PROBE_FMT_JSON;
		else if (!strcmp(arg, "msgpack"))
			o->format = PROBE_FMT_MSGPACK;
		else
			return usage_error("--format: '%s' is not json or msgpack", arg);
		break;
	case OPT_NODE_TYPE:
		o->node_type_given = true;
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
	case 'i': o->iface = arg; break;
	case OPT_DPDK: o->dpdk_args = arg; break;
	case OPT_BUSY_POLL: o->busy_poll = true; break;
	case OPT_XDP_MODE:
		if (!strcmp(arg, "auto"))
			o->xdp_mode = PROBE_XDP_AUTO;
		else if (!strcmp(arg, "zc"))
			o->xdp_mode = PROBE_XDP_ZC;
		else if (!strcmp(arg, "copy"))
			o->xdp_mode = PROBE_XDP_COPY;
		else
			return usage_error("--xdp-mode: '%s' is not zc, copy or auto", arg);
		break;
	case OPT_XDP_ATTACH:
		if (!strcmp(arg, "auto"))
			o->xdp_attach = PROBE_ATTACH_AUTO;
		else if (!strcmp(arg, "native"))
			o->xdp_attach = PROBE_ATTACH_NATIVE;
		else if (!strcmp(arg, "generic"))
			o->xdp_attach = PROBE_ATTACH_GENERIC;
		else
			return usage_error("--xdp-attach: '%s' is not native, generic or auto", arg);
		break;
	case OPT_UMEM_FRAMES:
		if (!parse_u32(arg, &o->umem_frames) || o->umem_frames < 64 ||
		    (o->umem_frames & (o->umem_frames - 1)))
			return usage_error("--umem-frames: '%s' is not a power of two >= 64", arg);
		break;
	case OPT_PORT: {
		uint32_t v;
		if (!parse_u32(arg, &v) || v > UINT16_MAX)
			return usage_error("--port: '%s' is not a port id", arg);
		o->dpdk_port = (uint16_t)v;
		break;
	}
	case OPT_QUEUES:
		if (!parse_u32(arg, &o->queues) || o->queues == 0 || o->queues > 128)
			return usage_error("--queues: '%s' is not 1..128", arg);
		break;
	case OPT_WORKERS:
		if (!parse_u32(arg, &o->workers) || o->workers == 0 || o->workers > 128)
			return usage_error("--workers: '%s' is not 1..128", arg);
		break;
	case OPT_CORES:
		if (parse_cores(arg, o))
			return usage_error("--cores: '%s' is not a list of CPU numbers (e.g. 0,2,3)", arg);
		break;
	case OPT_DURATION:
		if (!parse_u32(arg, &o->duration_s) || o->duration_s == 0)
			return usage_error("--duration: '%s' is not a positive number of seconds", arg);
		break;
	case OPT_COUNT: {
		char *end;
		errno = 0;
		unsigned long long v = *arg >= '0' && *arg <= '9' ? strtoull(arg, &end, 10) : 0;
		if (!v || errno || *end)
			return usage_error("--count: '%s' is not a positive integer", arg);
		o->count = v;
		break;
	}
	case OPT_BODY_CAP:
		if (!parse_u32(arg, &o->eng.body_cap) || o->eng.body_cap > 131072)
			return usage_error("--body-cap: '%s' is not 0..131072 bytes", arg);
		break;
	case OPT_CONFIG:
	case OPT_CHECK_CONFIG:
		break; /* taken by the first pass */
	case OPT_STATS_INTERVAL:
		if (!probe_parse_seconds(arg, &o->stats_interval_s))
			return usage_error("--stats-interval: '%s' is not a number of seconds", arg);
		break;
	default:
		return apply_tap_opt(c, arg, o);
	}
	return PROBE_RUN;
}

enum probe_action probe_apply_named(const char *name, const char *arg, struct probe_opts *o,
				    const char *where)
{
	enum probe_action a;

	for (const struct option *lo = long_opts; lo->name; lo++) {
		if (strcmp(lo->name, name))
			continue;
		err_where = where;
		a = apply_opt(lo->val, arg, o);
		err_where = NULL;
		return a;
	}
	fprintf(stderr, "gcprobe: error: %s: unknown key '%s'\n", where, name);
	return PROBE_EXIT_USAGE;
}

static void opts_init(struct probe_opts *o)
{
	struct gcp_engine_opts eng = GCP_ENGINE_OPTS_INIT;

	memset(o, 0, sizeof(*o));
	o->eng = eng;
	o->format = PROBE_FMT_JSON;
	o->types = GCP_REC_ALL & ~(unsigned)GCP_REC_STATS; /* stats: only when named */
	o->stats_interval_s = 10;
	o->tap_policy = -1;
	o->inventory_interval_s = 10;
	o->inventory_top = 1000;
	o->queues = 1;
	o->workers = 1;
	o->umem_frames = 4096;
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

static enum probe_action tap_opts_check(const struct probe_opts *o)
{
	bool companions = o->tap_monitor || o->tap_local || o->tap_policy >= 0;

#ifdef GCP_WITH_BPF
	if (!o->ntaps && companions)
		return usage_error("--tap-monitor, --tap-policy and --tap-local need --tap DEV");
	return probe_taps_check(o->taps, o->ntaps, o->tap_local) ? PROBE_EXIT_USAGE : PROBE_RUN;
#else
	if (o->ntaps || companions)
		return usage_error("--tap: built without eBPF taps (GCP_WITH_BPF=OFF)");
	return PROBE_RUN;
#endif
}

enum probe_action probe_argv_first(int argc, char **argv, struct probe_opts *o)
{
	int c;

	opts_init(o);
	if (argc < 2) {
		fputs(usage_text, stderr);
		return PROBE_EXIT_USAGE;
	}
	opterr = 0;
	/* Only --config / --check-config: the command line overrides the file. */
	while ((c = getopt_long(argc, argv, ":r:i:f:o:Vh", long_opts, NULL)) != -1) {
		if (c == OPT_CONFIG || c == OPT_CHECK_CONFIG) {
			o->config_path = optarg;
			o->check_config |= c == OPT_CHECK_CONFIG;
		}
	}
	return PROBE_RUN;
}

/* What no single option can tell: sources, sinks, queues against workers, build. */
static enum probe_action opts_check(const struct probe_opts *o)
{
	int sources = !!o->read_path + !!o->iface + !!o->dpdk_args;
	if (sources == 0 && !o->ntaps)
		return usage_error("missing --read FILE, --iface IF, --dpdk ARGS or --tap DEV "
				   "(see --help)");
	if (sources > 1)
		return usage_error("--read, --iface and --dpdk are exclusive");
	if (o->nsinks && o->output_path)
		return usage_error("--output and --sink: give the file as --sink file:PATH");
	if (o->read_path && o->queues > 1)
		return usage_error("--queues is for live capture; use --workers with --read");
	if (o->queues > 1 && o->workers > 1 && o->workers != o->queues)
		return usage_error("--queues %u: one worker per queue (drop --workers)",
				   (unsigned)o->queues);
#ifndef GCP_WITH_AFXDP
	if (o->iface)
		return usage_error("--iface: built without AF_XDP (GCP_WITH_AFXDP=OFF)");
#endif
#ifndef GCP_WITH_DPDK
	if (o->dpdk_args)
		return usage_error("--dpdk: built without DPDK (GCP_WITH_DPDK=OFF)");
#endif
	return tap_opts_check(o);
}

enum probe_action probe_argv_apply(int argc, char **argv, struct probe_opts *o)
{
	int c;

	optind = 0; /* glibc: full rescan */
	while ((c = getopt_long(argc, argv, ":r:i:f:o:Vh", long_opts, NULL)) != -1) {
		if (c == 'h') {
			signal(SIGPIPE, SIG_IGN); /* `--help | grep -q`: a closed pipe is no error */
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
	return opts_check(o);
}
