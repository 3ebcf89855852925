/* SPDX-License-Identifier: BSD-3-Clause */
/* `gcprobe tap attach|detach|list|policy|inventory`: taps that outlive the command (pinned). */
#include "tap.h"
#include "tap_run.h"
#include "record.h"

#include "gcprobe/gcprobe.h"

#include <errno.h>
#include <linux/if_link.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define ERR_SZ 512

static const char tap_usage[] =
	"usage: gcprobe tap attach DEV [--mode tc|xdp] [--monitor IF] [--policy all|none|match]\n"
	"                              [--local CIDR[,CIDR...]] [--xdp-attach native|generic|auto]\n"
	"                              [--miss pass|drop]\n"
	"       gcprobe tap detach DEV | KEY | --all\n"
	"       gcprobe tap list\n"
	"       gcprobe tap policy DEV show | all | none | match | clear\n"
	"       gcprobe tap policy DEV add|del KIND VALUE\n"
	"       gcprobe tap inventory DEV [--interval S] [--count N] [--top N]\n"
	"\n"
	"eBPF taps on virtual interfaces (veth of a VM/container, bridge port, OVS\n"
	"internal port): per-tap inventory of protocols, addresses, service ports and\n"
	"directions, and policy-selected traffic steered to the probe. A tap is pinned\n"
	"under " TAP_PIN_ROOT "/KEY/ (bpffs, mounted when absent) with its state in\n"
	TAP_META_DIR "/KEY.meta, KEY being NETNS:IFINDEX (network namespace inode,\n"
	"interface index); it stays attached after the command until detached. DEV\n"
	"names an interface of the current network namespace.\n"
	"The tapped traffic itself always continues unchanged (tc mode).\n"
	"\n"
	"attach DEV          load and attach the tap programs, pin them, exit\n"
	"  --mode tc         (default) clsact ingress+egress on DEV; matches are cloned\n"
	"                    to --monitor IF (bpf_clone_redirect), the original continues\n"
	"  --mode xdp        XDP on DEV (ingress only); matches go to the AF_XDP socket\n"
	"                    of their RX queue (xsks map: `gcprobe --iface DEV` fills it).\n"
	"                    For interfaces that already carry a copy: a monitor veth fed\n"
	"                    by tc taps, an OVS mirror output port, a SPAN NIC\n"
	"  --monitor IF      tc: clone matching packets to IF (e.g. one end of a veth\n"
	"                    pair whose peer the probe captures)\n"
	"  --policy P        all: every packet matches; none: nothing (inventory only);\n"
	"                    match: what `policy DEV add` selects. Default: all with\n"
	"                    --monitor or in xdp mode, else none\n"
	"  --local CIDRS     local prefixes: traffic with both ends inside counts as\n"
	"                    east-west, else north-south (e.g. 10.0.0.0/8,fd00::/8)\n"
	"  --xdp-attach A    xdp: native, generic (skb) or auto (native, else generic)\n"
	"  --miss M          xdp: verdict for packets that do not match: pass (default)\n"
	"                    or drop\n"
	"detach DEV|KEY      remove the programs, the clsact qdisc when the tap made it\n"
	"                    (and no other filter is on it), the pins and the meta file.\n"
	"                    KEY (from list): a tap of another network namespace\n"
	"  --all             every tap of the current network namespace\n"
	"list                one line per tap: DEV mode= monitor= policy= dims= pkts=\n"
	"                    mirrored= overflow= (counters since attach); those of other\n"
	"                    network namespaces after them, with netns= key=\n"
	"policy DEV ...      runtime changes, no reload:\n"
	"  show              mode, policy, active dimensions, entries, local prefixes\n"
	"  all|none|match    set the policy mode (match needs entries)\n"
	"  add KIND VALUE    add an entry and switch to match mode. A packet matches\n"
	"                    when it matches every dimension that has entries (AND),\n"
	"                    any entry within one (OR). KIND VALUE:\n"
	"                      cidr 10.0.0.0/8 | fd00::/64 | 192.0.2.1  (source or dest)\n"
	"                      port tcp/80 | udp/53 | sctp/3868          (source or dest)\n"
	"                      proto tcp | udp | icmp | ipv6-icmp | sctp | gre | 0..255\n"
	"                      vlan 0..4095            (outermost 802.1Q tag)\n"
	"                      vni 0..16777215         (VXLAN, UDP port 4789)\n"
	"  del KIND VALUE    remove an entry (its dimension goes when it empties)\n"
	"  clear             remove every entry; the policy becomes none\n"
	"inventory DEV       print `inventory` records (JSON lines, docs/SCHEMA.md)\n"
	"  --interval S      seconds per record (default 10)\n"
	"  --count N         stop after N records (default: until SIGINT/SIGTERM, which\n"
	"                    drains and prints the partial interval)\n"
	"  --top N           entries per list, the rest summed as \"other\" (default 1000)\n"
	"\n"
	"Errors are one line \"gcprobe: tap: ...\"; exit 2 for usage, 1 at runtime.\n"
	"GCP_BPF_DEBUG=1 in the environment adds libbpf's log (verifier output).\n"
	"In a capture run, --tap DEV[:tc|:xdp] attaches for the run only (gcprobe --help).\n";

__attribute__((format(printf, 2, 3)))
static int tap_err(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("gcprobe: tap: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]; NULL when argv[*i] is not --name. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	*missing = false;
	if (strncmp(a, name, n))
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

static int parse_pos_u32(const char *s, uint32_t min, uint32_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX || v < min)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* SIGINT/SIGTERM wait until an attach or detach is whole (pins, hooks, meta). */
static void hold_signals(bool hold)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(hold ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

/* ---- attach ---- */

static int attach_opt(const char *name, const char *v, struct tap_attach_opts *ao,
		      struct gcp_tap_lpm_key *local)
{
	char err[ERR_SZ];

	if (!strcmp(name, "--mode")) {
		if (!strcmp(v, "tc") || !strcmp(v, "xdp"))
			ao->mode = v[0] == 'x' ? TAP_MODE_XDP : TAP_MODE_TC;
		else
			return tap_err(EXIT_USAGE, "--mode: '%s' is not tc or xdp", v);
	} else if (!strcmp(name, "--monitor")) {
		ao->monitor = v;
	} else if (!strcmp(name, "--policy")) {
		if ((ao->policy_mode = probe_tap_policy_parse(v)) < 0)
			return tap_err(EXIT_USAGE, "--policy: '%s' is not all, none or match", v);
	} else if (!strcmp(name, "--local")) {
		if (tap_parse_cidr_list(v, local, TAP_MAX_LOCAL, &ao->nlocal, err, sizeof(err)))
			return tap_err(EXIT_USAGE, "--local: %s", err);
	} else if (!strcmp(name, "--xdp-attach")) {
		if (!strcmp(v, "auto"))
			ao->xdp_attach = TAP_XDP_AUTO;
		else if (!strcmp(v, "native"))
			ao->xdp_attach = TAP_XDP_NATIVE;
		else if (!strcmp(v, "generic"))
			ao->xdp_attach = TAP_XDP_GENERIC;
		else
			return tap_err(EXIT_USAGE, "--xdp-attach: '%s' is not native, generic or auto",
				       v);
	} else if (!strcmp(name, "--miss")) {
		if (strcmp(v, "pass") && strcmp(v, "drop"))
			return tap_err(EXIT_USAGE, "--miss: '%s' is not pass or drop", v);
		ao->xdp_miss_action = v[0] == 'd' ? XDP_DROP : XDP_PASS;
	}
	return 0;
}

static int cmd_attach(int argc, char **argv)
{
	static const char *const names[] = { "--mode", "--monitor", "--policy", "--local",
					     "--xdp-attach", "--miss" };
	struct gcp_tap_lpm_key local[TAP_MAX_LOCAL];
	struct tap_attach_opts ao = { .policy_mode = -1, .local = local };
	const char *dev = NULL;
	char err[ERR_SZ];

	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		size_t k;
		bool missing = false;
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if ((v = opt_value(argc, argv, &i, names[k], &missing)) || missing)
				break;
		if (missing)
			return tap_err(EXIT_USAGE, "attach: %s needs a value", names[k]);
		if (v) {
			int rc = attach_opt(names[k], v, &ao, local);
			if (rc)
				return rc;
		} else if (argv[i][0] == '-') {
			return tap_err(EXIT_USAGE, "attach: unknown option '%s' (see gcprobe tap --help)",
				       argv[i]);
		} else if (dev) {
			return tap_err(EXIT_USAGE, "attach: one device per call ('%s' and '%s')", dev,
				       argv[i]);
		} else {
			dev = argv[i];
		}
	}
	if (!dev)
		return tap_err(EXIT_USAGE, "attach: missing DEV (see gcprobe tap --help)");
	if (ao.xdp_miss_action == XDP_DROP && ao.mode != TAP_MODE_XDP)
		return tap_err(EXIT_USAGE, "attach: --miss is for --mode xdp (tc never drops)");
	hold_signals(true);
	int rc = tap_attach(dev, &ao, err, sizeof(err));
	hold_signals(false);
	return rc ? tap_err(EXIT_RUNTIME, "%s", err) : 0;
}

/* ---- detach, list ---- */

/* detach --all: this network namespace's taps; other namespaces' and older name-keyed ones stay. */
static int detach_all(void)
{
	struct tap_ref *v = calloc(TAP_LIST_MAX, sizeof(*v));
	char err[ERR_SZ];
	int status = 0;

	if (!v)
		return tap_err(EXIT_RUNTIME, "out of memory");
	int n = tap_list(v, TAP_LIST_MAX);
	for (int i = 0; i < n; i++) {
		if (v[i].legacy)
			tap_err(0, "%s: tapped by an older gcprobe (pins keyed by name), left: "
				"gcprobe tap detach %s", v[i].dev, v[i].dev);
		else if (v[i].here && tap_detach_ref(&v[i], err, sizeof(err)))
			status = tap_err(EXIT_RUNTIME, "%s", err);
	}
	free(v);
	return status;
}

static int cmd_detach(int argc, char **argv)
{
	char err[ERR_SZ];
	int status = 0;

	if (argc != 2)
		return tap_err(EXIT_USAGE, "detach: needs DEV or --all");
	hold_signals(true);
	if (!strcmp(argv[1], "--all"))
		status = detach_all();
	else if (argv[1][0] == '-')
		status = tap_err(EXIT_USAGE, "detach: unknown option '%s'", argv[1]);
	else if (tap_detach(argv[1], err, sizeof(err)))
		status = tap_err(EXIT_RUNTIME, "%s", err);
	hold_signals(false);
	return status;
}

/* One line per tap; taps of other network namespaces end in netns=INODE (detach them by KEY). */
static void list_one(const struct tap_ref *r)
{
	struct tap t;
	struct gcp_tap_cfg cfg = { 0 };
	uint64_t st[GCP_TAP_ST__MAX] = { 0 };
	char err[ERR_SZ], dims[64];

	if (r->legacy) {
		tap_err(0, "%s: tapped by an older gcprobe (pins keyed by name in " TAP_PIN_ROOT
			"/%s): gcprobe tap detach %s, then attach again", r->dev, r->key, r->dev);
		return;
	}
	if (!r->complete)
		return; /* being attached or detached right now */
	if (tap_open_ref(r, &t, err, sizeof(err))) {
		tap_err(0, "%s", err);
		return;
	}
	tap_cfg_get(&t, &cfg);
	tap_stats_get(&t, st);
	tap_dims_str(cfg.match_dims, dims, sizeof(dims));
	printf("%s mode=%s monitor=%s policy=%s dims=%s pkts=%llu mirrored=%llu overflow=%llu",
	       r->dev, t.meta.mode == TAP_MODE_XDP ? "xdp" : "tc",
	       t.meta.monitor[0] ? t.meta.monitor : "-", tap_policy_mode_name(cfg.policy_mode), dims,
	       (unsigned long long)st[GCP_TAP_ST_PKTS], (unsigned long long)st[GCP_TAP_ST_MIRRORED],
	       (unsigned long long)st[GCP_TAP_ST_INV_OVERFLOW]);
	if (!r->here)
		printf(" netns=%llu key=%s", r->netns, r->key);
	putchar('\n');
	tap_close(&t);
}

static int cmd_list(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return tap_err(EXIT_USAGE, "list: takes no arguments");
	struct tap_ref *v = calloc(TAP_LIST_MAX, sizeof(*v));
	if (!v)
		return tap_err(EXIT_RUNTIME, "out of memory");
	int n = tap_list(v, TAP_LIST_MAX);
	for (int pass = 0; pass < 2; pass++) /* this namespace's taps first */
		for (int i = 0; i < n; i++)
			if (v[i].here == !pass)
				list_one(&v[i]);
	free(v);
	return 0;
}

/* ---- policy ---- */

enum pol_act { PA_SHOW, PA_ADD, PA_DEL, PA_CLEAR, PA_MODE };

/* Checked before the tap is opened: bad usage is exit 2 whether or not DEV is tapped. */
static int policy_parse(int argc, char **argv, enum pol_act *act, struct tap_pol_entry *e,
			int *mode)
{
	const char *a = argv[2];
	char err[ERR_SZ];

	if (!strcmp(a, "add") || !strcmp(a, "del")) {
		*act = a[0] == 'a' ? PA_ADD : PA_DEL;
		if (argc != 5)
			return tap_err(EXIT_USAGE, "policy %s: needs KIND VALUE (cidr, port, proto, "
				       "vlan, vni)", a);
		return tap_pol_parse(argv[3], argv[4], e, err, sizeof(err)) ?
		       tap_err(EXIT_USAGE, "%s", err) : 0;
	}
	if (!strcmp(a, "show"))
		*act = PA_SHOW;
	else if (!strcmp(a, "clear"))
		*act = PA_CLEAR;
	else if ((*mode = probe_tap_policy_parse(a)) >= 0)
		*act = PA_MODE;
	else
		return tap_err(EXIT_USAGE, "policy: '%s' is not show, all, none, match, add, del or "
			       "clear", a);
	return argc == 3 ? 0 : tap_err(EXIT_USAGE, "policy %s: unexpected argument '%s'", a,
					 argv[3]);
}

static int cmd_policy(int argc, char **argv)
{
	struct tap_pol_entry e;
	enum pol_act act = PA_SHOW;
	struct tap t;
	char err[ERR_SZ];
	int mode = -1, rc;

	if (argc < 3)
		return tap_err(EXIT_USAGE, "policy: needs DEV and an action (see gcprobe tap --help)");
	if ((rc = policy_parse(argc, argv, &act, &e, &mode)))
		return rc;
	if (tap_open(argv[1], &t, err, sizeof(err)))
		return tap_err(EXIT_RUNTIME, "%s", err);
	switch (act) {
	case PA_SHOW: tap_policy_show(&t, stdout); break;
	case PA_ADD: rc = tap_policy_add(&t, &e, err, sizeof(err)); break;
	case PA_DEL: rc = tap_policy_del(&t, &e, err, sizeof(err)); break;
	case PA_CLEAR: rc = tap_policy_clear(&t, err, sizeof(err)); break;
	case PA_MODE: rc = tap_policy_set_mode(&t, (__u32)mode, err, sizeof(err)); break;
	}
	tap_close(&t);
	return rc ? tap_err(EXIT_RUNTIME, "%s", err) : 0;
}

/* ---- inventory ---- */

static volatile sig_atomic_t inv_stop;

static void inv_on_signal(int sig)
{
	(void)sig;
	inv_stop = 1;
}

/* Sleep until the interval ends or a signal asks to stop. */
static void wait_interval(uint32_t secs)
{
	uint64_t end = tap_mono_ms() + (uint64_t)secs * 1000u;
	struct timespec nap = { 0, 50000000L };

	while (!inv_stop && tap_mono_ms() < end)
		nanosleep(&nap, NULL);
}

static int print_record(struct gcp_rb *rb, struct tap_inventory *inv, unsigned top,
			char **buf, size_t *cap)
{
	struct tap_ident id = { 0 };
	const uint8_t *data;
	size_t len;
	int n;

	if (tap_inv_encode(rb, inv, &id, top, &data, &len))
		return -1;
	while ((n = gcp_record_to_json(data, len, *buf, *cap, GCP_JSON_DEFAULT)) == GCP_ERR_FULL) {
		char *p = realloc(*buf, *cap * 2);
		if (!p)
			return -1;
		*buf = p;
		*cap *= 2;
	}
	if (n < 0)
		return -1;
	fwrite(*buf, 1, (size_t)n, stdout);
	if (n && (*buf)[n - 1] != '\n')
		fputc('\n', stdout);
	return fflush(stdout) ? -1 : 0;
}

static int inv_args(int argc, char **argv, uint32_t *interval, uint32_t *count, uint32_t *top)
{
	for (int i = 2; i < argc; i++) {
		bool missing;
		const char *v;
		if ((v = opt_value(argc, argv, &i, "--interval", &missing)) || missing) {
			if (!v || parse_pos_u32(v, 1, interval))
				return tap_err(EXIT_USAGE, "--interval: '%s' is not a positive number of "
					       "seconds", v ? v : "");
		} else if ((v = opt_value(argc, argv, &i, "--count", &missing)) || missing) {
			if (!v || parse_pos_u32(v, 1, count))
				return tap_err(EXIT_USAGE, "--count: '%s' is not a positive integer",
					       v ? v : "");
		} else if ((v = opt_value(argc, argv, &i, "--top", &missing)) || missing) {
			if (!v || parse_pos_u32(v, 1, top))
				return tap_err(EXIT_USAGE, "--top: '%s' is not a positive integer",
					       v ? v : "");
		} else {
			return tap_err(EXIT_USAGE, "inventory: unexpected argument '%s'", argv[i]);
		}
	}
	return 0;
}

static int inventory_loop(struct tap *t, uint32_t interval, uint32_t count, uint32_t top)
{
	struct tap_inventory inv = { .interval_s = interval };
	struct gcp_rb rb;
	size_t cap = 16384;
	char *buf = malloc(cap);
	char err[ERR_SZ];
	int status = 0;

	if (!buf || gcp_rb_init(&rb)) {
		free(buf);
		return tap_err(EXIT_RUNTIME, "out of memory");
	}
	for (uint32_t n = 0; !count || n < count; n++) {
		uint64_t start = tap_wall_ns();
		wait_interval(interval);
		/* Fallback period; the drain knows the real one (last drain or attach). */
		inv.ts_ns = start;
		inv.interval_s = interval;
		if (tap_drain(t, &inv, err, sizeof(err))) {
			status = tap_err(EXIT_RUNTIME, "%s", err);
			break;
		}
		if (print_record(&rb, &inv, top, &buf, &cap)) {
			status = tap_err(EXIT_RUNTIME, "inventory: cannot write the record");
			break;
		}
		if (inv_stop)
			break;
	}
	tap_inv_free(&inv);
	gcp_rb_fini(&rb);
	free(buf);
	return status;
}

static int cmd_inventory(int argc, char **argv)
{
	uint32_t interval = 10, count = 0, top = 1000;
	struct tap t;
	char err[ERR_SZ];
	struct sigaction sa;

	if (argc < 2 || argv[1][0] == '-')
		return tap_err(EXIT_USAGE, "inventory: missing DEV (see gcprobe tap --help)");
	int rc = inv_args(argc, argv, &interval, &count, &top);
	if (rc)
		return rc;
	if (tap_open(argv[1], &t, err, sizeof(err)))
		return tap_err(EXIT_RUNTIME, "%s", err);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = inv_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = inventory_loop(&t, interval, count, top);
	tap_close(&t);
	return rc;
}

int probe_tap_main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "attach", cmd_attach }, { "detach", cmd_detach }, { "list", cmd_list },
		{ "policy", cmd_policy }, { "inventory", cmd_inventory },
	};

	if (argc < 2) {
		fputs(tap_usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		signal(SIGPIPE, SIG_IGN); /* `tap --help | grep -q`: a closed pipe is no error */
		fputs(tap_usage, stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	return tap_err(EXIT_USAGE, "unknown command '%s' (attach, detach, list, policy, inventory; "
		       "see gcprobe tap --help)", argv[1]);
}
