/* SPDX-License-Identifier: BSD-3-Clause */
/* Tap attach/detach/open: load the skeleton, pin maps and programs under NETNS:IFINDEX, meta file. */
#include "tap.h"
#include "gcp_tap.skel.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

#define PATH_SZ TAP_PATH_SZ

/* Every map of tap.bpf.c, pinned by its name; its fd slot in struct tap_maps. */
#define MAP(n) { #n, offsetof(struct tap_maps, n) }
static const struct {
	const char *name;
	size_t off;
} map_pins[] = {
	MAP(tap_cfg), MAP(tap_stats), MAP(policy_cidr), MAP(policy_ports), MAP(policy_protos),
	MAP(policy_vlans), MAP(policy_vnis), MAP(local_prefixes), MAP(inv_protos),
	MAP(inv_src_ips), MAP(inv_dst_ips), MAP(inv_ports), MAP(inv_dirs), MAP(xsks),
};
#undef MAP
#define NMAPS (sizeof(map_pins) / sizeof(map_pins[0]))

/* State files of a tap in TAP_META_DIR, with the .tmp of their atomic rewrite. */
static const char *const state_files[] = { "meta", "meta.tmp", "drained", "drained.tmp" };

int tap_fail(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return -1;
}

/* Errors are one line of ours; libbpf's own log (verifier output
 * included) only with GCP_BPF_DEBUG set. */
static int bpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (!getenv("GCP_BPF_DEBUG"))
		return 0;
	fputs("gcprobe: libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

static void pin_path(char *buf, const char *key, const char *name)
{
	tap_pin_path(buf, PATH_SZ, key, name);
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_SZ];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0700) && errno != EEXIST ? -1 : 0;
}

/* bpffs at /sys/fs/bpf, mounted here when absent (it is not by default). */
static int ensure_bpffs(char *err, size_t errsz)
{
	struct statfs sf;

	if (!statfs(TAP_BPFFS, &sf) && sf.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir_p(TAP_BPFFS) || mount("bpf", TAP_BPFFS, "bpf", 0, "mode=0700"))
		return tap_fail(err, errsz, "cannot mount bpffs at " TAP_BPFFS ": %s%s",
				strerror(errno), errno == EPERM ? " (needs root / CAP_SYS_ADMIN)" : "");
	return 0;
}

static bool exists(const char *key, const char *name)
{
	char p[PATH_SZ];

	pin_path(p, key, name);
	return access(p, F_OK) == 0;
}

/* "NETNS:IFINDEX"; false for anything else (an older version's name-keyed directory). */
static bool key_parse(const char *s, unsigned long long *netns, int *ifindex)
{
	int end = 0;

	return sscanf(s, "%llu:%d%n", netns, ifindex, &end) == 2 && !s[end] && *netns &&
	       *ifindex > 0;
}

/* ---- meta: TAP_META_DIR/KEY.meta, key=value lines ---- */

static int meta_write(const struct tap_meta *m, char *err, size_t errsz)
{
	char p[PATH_SZ], tmp[PATH_SZ];

	if (mkdir_p(TAP_META_DIR))
		return tap_fail(err, errsz, TAP_META_DIR ": %s", strerror(errno));
	tap_state_path(p, sizeof(p), m->key, "meta");
	tap_state_path(tmp, sizeof(tmp), m->key, "meta.tmp");
	FILE *f = fopen(tmp, "w");
	if (!f)
		return tap_fail(err, errsz, "%s: %s", tmp, strerror(errno));
	fprintf(f, "dev=%s\nnetns=%llu\nifindex=%d\nmode=%s\nmonitor=%s\nxdp_flags=%u\n"
		"tc_created_qdisc=%d\nprog_ids=%u,%u\n", m->dev, m->netns, m->ifindex,
		m->mode == TAP_MODE_XDP ? "xdp" : "tc", m->monitor, m->xdp_flags,
		m->tc_created_qdisc, m->prog_ids[0], m->prog_ids[1]);
	if (fclose(f) || rename(tmp, p)) {
		unlink(tmp);
		return tap_fail(err, errsz, "%s: %s", p, strerror(errno));
	}
	return 0;
}

static void meta_line(struct tap_meta *m, const char *k, const char *v)
{
	if (!strcmp(k, "dev"))
		snprintf(m->dev, sizeof(m->dev), "%s", v);
	else if (!strcmp(k, "netns"))
		m->netns = strtoull(v, NULL, 10);
	else if (!strcmp(k, "ifindex"))
		m->ifindex = atoi(v);
	else if (!strcmp(k, "mode"))
		m->mode = !strcmp(v, "xdp") ? TAP_MODE_XDP : TAP_MODE_TC;
	else if (!strcmp(k, "monitor"))
		snprintf(m->monitor, sizeof(m->monitor), "%s", v);
	else if (!strcmp(k, "xdp_flags"))
		m->xdp_flags = (__u32)strtoul(v, NULL, 10);
	else if (!strcmp(k, "tc_created_qdisc"))
		m->tc_created_qdisc = atoi(v) != 0;
	else if (!strcmp(k, "prog_ids"))
		sscanf(v, "%u,%u", &m->prog_ids[0], &m->prog_ids[1]);
}

static int meta_read(const char *key, struct tap_meta *m)
{
	char p[PATH_SZ], line[256];

	memset(m, 0, sizeof(*m));
	snprintf(m->key, sizeof(m->key), "%s", key);
	tap_state_path(p, sizeof(p), key, "meta");
	FILE *f = fopen(p, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		eq[strcspn(eq + 1, "\n") + 1] = '\0';
		meta_line(m, line, eq + 1);
	}
	fclose(f);
	return 0;
}

/* Pins without a meta file (an attach killed before its last step): what the pins tell. */
static void meta_from_pins(const struct tap_ref *r, struct tap_meta *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->key, sizeof(m->key), "%s", r->key);
	snprintf(m->dev, sizeof(m->dev), "%s", r->dev);
	m->netns = r->netns;
	m->ifindex = r->legacy ? (int)if_nametoindex(r->key) : r->ifindex;
	m->mode = exists(r->key, "prog_xdp") ? TAP_MODE_XDP : TAP_MODE_TC;
	m->prog_ids[0] = tap_pinned_prog_id(r->key, m->mode == TAP_MODE_XDP ? "prog_xdp" :
					   "prog_tc_ingress");
	m->prog_ids[1] = m->mode == TAP_MODE_XDP ? 0 : tap_pinned_prog_id(r->key, "prog_tc_egress");
}

/* ---- pins ---- */

/* Everything in the tap's directory (pins, the qdisc marker), then the directory. */
static void unpin_all(const char *key)
{
	char dir[PATH_SZ], p[2 * PATH_SZ + 8];
	DIR *d;

	pin_path(dir, key, NULL);
	if ((d = opendir(dir))) {
		for (struct dirent *e; (e = readdir(d));) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
	rmdir(TAP_PIN_ROOT);          /* fail (ENOTEMPTY) while other taps are pinned */
	rmdir(TAP_BPFFS "/gcprobe");
}

static void unlink_state(const char *key)
{
	char p[PATH_SZ];

	for (size_t i = 0; i < sizeof(state_files) / sizeof(state_files[0]); i++) {
		tap_state_path(p, sizeof(p), key, state_files[i]);
		unlink(p);
	}
}

static int pin_maps(struct gcp_tap *skel, const char *key, char *err, size_t errsz)
{
	char p[PATH_SZ];

	for (size_t i = 0; i < NMAPS; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(skel->obj, map_pins[i].name);
		pin_path(p, key, map_pins[i].name);
		if (!m)
			return tap_fail(err, errsz, "BPF object has no map '%s'", map_pins[i].name);
		if (bpf_obj_pin(bpf_map__fd(m), p))
			return tap_fail(err, errsz, "pin %s: %s", p, strerror(errno));
	}
	return 0;
}

static int pin_prog(struct bpf_program *prog, const char *key, const char *name, char *err,
		    size_t errsz)
{
	char p[PATH_SZ];

	pin_path(p, key, name);
	if (bpf_obj_pin(bpf_program__fd(prog), p))
		return tap_fail(err, errsz, "pin %s: %s", p, strerror(errno));
	return 0;
}

/* ---- attach ---- */

static int init_maps(struct gcp_tap *skel, const struct tap_attach_opts *ao, int mon_ifindex,
		     char *err, size_t errsz)
{
	struct gcp_tap_cfg cfg = {
		.monitor_ifindex = (__u32)mon_ifindex,
		.policy_mode = ao->policy_mode >= 0 ? (__u32)ao->policy_mode :
			       mon_ifindex ? GCP_TAP_POLICY_ALL : GCP_TAP_POLICY_NONE,
		.xdp_miss_action = ao->xdp_miss_action ? ao->xdp_miss_action : XDP_PASS,
	};
	__u32 zero = 0, one = 1;

	if (ao->mode == TAP_MODE_XDP && ao->policy_mode < 0)
		cfg.policy_mode = GCP_TAP_POLICY_ALL; /* XDP taps exist to feed an XSK */
	/* Before the programs run and anyone else can open the map: one write is fine here. */
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.tap_cfg), &zero, &cfg, BPF_ANY))
		return tap_fail(err, errsz, "tap_cfg: %s", strerror(errno));
	for (unsigned i = 0; i < ao->nlocal; i++)
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.local_prefixes), &ao->local[i], &one,
					BPF_ANY))
			return tap_fail(err, errsz, "local_prefixes: %s", strerror(errno));
	return 0;
}

static int hook_up(struct gcp_tap *skel, struct tap_meta *m, const struct tap_attach_opts *ao,
		   char *err, size_t errsz)
{
	if (ao->mode == TAP_MODE_XDP) {
		if (pin_prog(skel->progs.tap_xdp, m->key, "prog_xdp", err, errsz))
			return -1;
		return tap_xdp_attach(m, bpf_program__fd(skel->progs.tap_xdp), ao->xdp_attach, err,
				      errsz);
	}
	if (pin_prog(skel->progs.tap_tc_ingress, m->key, "prog_tc_ingress", err, errsz) ||
	    pin_prog(skel->progs.tap_tc_egress, m->key, "prog_tc_egress", err, errsz))
		return -1;
	return tap_tc_attach(m, bpf_program__fd(skel->progs.tap_tc_ingress),
			     bpf_program__fd(skel->progs.tap_tc_egress), err, errsz);
}

/* The hooks of the caller's namespace that hold our programs (or our qdisc). */
static void unhook(const struct tap_meta *m)
{
	if (m->ifindex <= 0)
		return;
	if (m->mode == TAP_MODE_XDP) {
		if (m->prog_ids[0])
			tap_xdp_detach(m);
	} else {
		tap_tc_detach(m);
	}
}

/* Undo whatever part of an attach happened; hooks only where they can be reached. */
static void teardown(const struct tap_meta *m, bool hooks)
{
	if (hooks)
		unhook(m);
	unpin_all(m->key);
	unlink_state(m->key);
}

static int check_dev(const char *dev, const char *what, int *ifindex, char *err, size_t errsz)
{
	if (!dev || !*dev || strlen(dev) >= IF_NAMESIZE || strchr(dev, '/') || strchr(dev, ':'))
		return tap_fail(err, errsz, "%s: '%s' is not an interface name", what, dev ? dev : "");
	*ifindex = (int)if_nametoindex(dev);
	if (!*ifindex)
		return tap_fail(err, errsz, "%s: no such interface '%s'", what, dev);
	return 0;
}

/* An older gcprobe's tap on this very interface (name-keyed pins, same ifindex in its meta). */
static bool legacy_on(const char *dev, int ifindex)
{
	struct tap_meta lm;

	return exists(dev, NULL) && !meta_read(dev, &lm) && lm.ifindex == ifindex;
}

/* The tap's directory, made exclusively: of two attaches of one interface, one wins. */
static int claim(const struct tap_meta *m, char *err, size_t errsz)
{
	char p[PATH_SZ];

	if (legacy_on(m->dev, m->ifindex))
		return tap_fail(err, errsz, "%s: tapped by an older gcprobe (pins keyed by name in "
				TAP_PIN_ROOT "/%s): gcprobe tap detach %s first", m->dev, m->dev,
				m->dev);
	if (mkdir_p(TAP_PIN_ROOT))
		return tap_fail(err, errsz, TAP_PIN_ROOT ": %s", strerror(errno));
	pin_path(p, m->key, NULL);
	if (mkdir(p, 0700))
		return errno == EEXIST ?
		       tap_fail(err, errsz, "%s: already tapped (gcprobe tap detach %s first)", m->dev,
				m->dev) :
		       tap_fail(err, errsz, "%s: %s", p, strerror(errno));
	unlink_state(m->key); /* a crashed run's counters are not this tap's */
	return 0;
}

static int meta_init(struct tap_meta *m, const char *dev, const struct tap_attach_opts *ao,
		     int *mon, char *err, size_t errsz)
{
	memset(m, 0, sizeof(*m));
	m->mode = ao->mode;
	if (check_dev(dev, "device", &m->ifindex, err, errsz))
		return -1;
	if (ao->monitor && check_dev(ao->monitor, "--monitor", mon, err, errsz))
		return -1;
	if (*mon == m->ifindex)
		return tap_fail(err, errsz, "--monitor %s: the tapped device itself", ao->monitor);
	if (*mon && ao->mode == TAP_MODE_XDP)
		return tap_fail(err, errsz,
				"--monitor is for tc mode (XDP cannot clone; it feeds AF_XDP)");
	if (!(m->netns = tap_netns_self()))
		return tap_fail(err, errsz, "/proc/self/ns/net: %s (is /proc mounted?)",
				strerror(errno));
	tap_key(m->netns, m->ifindex, m->key);
	snprintf(m->dev, sizeof(m->dev), "%s", dev);
	snprintf(m->monitor, sizeof(m->monitor), "%s", ao->monitor ? ao->monitor : "");
	return 0;
}

int tap_attach(const char *dev, const struct tap_attach_opts *ao, char *err, size_t errsz)
{
	struct tap_meta m;
	struct gcp_tap *skel = NULL;
	int mon = 0, rc = -1;

	if (meta_init(&m, dev, ao, &mon, err, errsz) || ensure_bpffs(err, errsz) ||
	    claim(&m, err, errsz))
		return -1;
	libbpf_set_print(bpf_print);
	if (!(skel = gcp_tap__open())) {
		tap_fail(err, errsz, "cannot open the tap BPF object: %s", strerror(errno));
		goto out;
	}
	if ((rc = gcp_tap__load(skel))) {
		tap_fail(err, errsz, "cannot load the tap BPF programs: %s%s", strerror(-rc),
			 rc == -EPERM ? " (needs root / CAP_BPF+CAP_NET_ADMIN)" :
			 " (GCP_BPF_DEBUG=1 shows libbpf's log)");
		goto out;
	}
	rc = -1;
	if (init_maps(skel, ao, mon, err, errsz) || pin_maps(skel, m.key, err, errsz) ||
	    hook_up(skel, &m, ao, err, errsz) || meta_write(&m, err, errsz))
		goto out;
	rc = 0;
out:
	if (rc)
		teardown(&m, true);
	gcp_tap__destroy(skel); /* pins and hooks keep programs and maps alive */
	return rc ? -1 : 0;
}

/* ---- find, list ---- */

static void ref_fill(const char *key, unsigned long long self, struct tap_ref *r)
{
	struct tap_meta m;
	char now[IF_NAMESIZE];
	bool have = !meta_read(key, &m);

	memset(r, 0, sizeof(*r));
	snprintf(r->key, sizeof(r->key), "%s", key);
	if ((r->legacy = !key_parse(key, &r->netns, &r->ifindex))) {
		r->netns = 0;
		r->ifindex = have ? m.ifindex : 0;
	}
	r->here = !r->legacy && r->netns == self;
	snprintf(r->meta_dev, sizeof(r->meta_dev), "%s", have ? m.dev : "");
	if (r->legacy)
		snprintf(r->dev, sizeof(r->dev), "%s", key);
	else if (r->here && if_indextoname((unsigned)r->ifindex, now))
		snprintf(r->dev, sizeof(r->dev), "%s", now);
	else
		snprintf(r->dev, sizeof(r->dev), "%s", have && m.dev[0] ? m.dev : "?");
	r->complete = exists(key, "tap_cfg");
}

int tap_list(struct tap_ref *v, int max)
{
	unsigned long long self = tap_netns_self();
	DIR *d = opendir(TAP_PIN_ROOT);
	int n = 0;

	if (!d)
		return 0;
	for (struct dirent *e; n < max && (e = readdir(d));) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= TAP_KEY_SZ)
			continue;
		ref_fill(e->d_name, self, &v[n++]);
	}
	closedir(d);
	return n;
}

/* A tap of this namespace attached to an interface then named DEV that is now gone or renamed. */
static int find_by_meta(const char *dev, int ifindex, struct tap_ref *r)
{
	struct tap_ref *v = calloc(TAP_LIST_MAX, sizeof(*v));
	int n = v ? tap_list(v, TAP_LIST_MAX) : 0, rc = -1;

	for (int i = 0; i < n && rc; i++) {
		if (v[i].here && !strcmp(v[i].meta_dev, dev) && v[i].ifindex != ifindex) {
			*r = v[i];
			rc = 0;
		}
	}
	free(v);
	return rc;
}

int tap_find(const char *dev, struct tap_ref *r, char *err, size_t errsz)
{
	unsigned long long self = tap_netns_self(), netns;
	char key[TAP_KEY_SZ];
	int ifindex;

	memset(r, 0, sizeof(*r));
	if (!dev || !*dev || strlen(dev) >= TAP_KEY_SZ || strchr(dev, '/') || dev[0] == '.')
		return tap_fail(err, errsz, "'%s' is not an interface name", dev ? dev : "");
	if (key_parse(dev, &netns, &ifindex)) { /* a key from `tap list` */
		if (!exists(dev, NULL))
			return tap_fail(err, errsz, "%s: no gcprobe tap (see gcprobe tap list)", dev);
		ref_fill(dev, self, r);
		return 0;
	}
	if (strlen(dev) >= IF_NAMESIZE || strchr(dev, ':'))
		return tap_fail(err, errsz, "'%s' is not an interface name", dev);
	if (!self)
		return tap_fail(err, errsz, "/proc/self/ns/net: %s (is /proc mounted?)",
				strerror(errno));
	ifindex = (int)if_nametoindex(dev);
	tap_key(self, ifindex, key);
	if (ifindex && exists(key, NULL)) {
		ref_fill(key, self, r);
		return 0;
	}
	if (!find_by_meta(dev, ifindex, r))
		return 0;
	if (exists(dev, NULL)) { /* an older gcprobe's, keyed by name */
		ref_fill(dev, self, r);
		return 0;
	}
	return tap_fail(err, errsz, "%s: no gcprobe tap (see gcprobe tap list)", dev);
}

/* ---- detach ---- */

/* A file that names network namespace INO: one of `ip netns`'s, or a process's. */
static int netns_open(unsigned long long ino)
{
	static const char *const dirs[] = { "/run/netns", "/proc" };
	char p[2 * PATH_SZ];
	struct stat st;
	int fd = -1;

	for (size_t i = 0; i < 2 && fd < 0; i++) {
		DIR *d = opendir(dirs[i]);
		for (struct dirent *e; d && fd < 0 && (e = readdir(d));) {
			if (e->d_name[0] == '.' || (i == 1 && (e->d_name[0] < '0' || e->d_name[0] > '9')))
				continue;
			snprintf(p, sizeof(p), i ? "%s/%s/ns/net" : "%s/%s", dirs[i], e->d_name);
			if (!stat(p, &st) && (unsigned long long)st.st_ino == ino)
				fd = open(p, O_RDONLY | O_CLOEXEC);
		}
		if (d)
			closedir(d);
	}
	return fd;
}

/* Unhook a tap of another namespace from inside it; none to find: it is gone, and its hooks. */
static int unhook_in(unsigned long long netns, const struct tap_meta *m, char *err,
		     size_t errsz)
{
	int there = netns_open(netns), self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (there >= 0 && self >= 0 && !setns(there, CLONE_NEWNET)) {
		unhook(m);
		if (setns(self, CLONE_NEWNET))
			rc = tap_fail(err, errsz, "cannot return to our network namespace: %s",
				      strerror(errno));
	} else if (there >= 0) {
		rc = tap_fail(err, errsz, "%s: cannot enter network namespace %llu: %s", m->key,
			      netns, strerror(errno));
	}
	if (there >= 0)
		close(there);
	if (self >= 0)
		close(self);
	return rc;
}

int tap_detach_ref(const struct tap_ref *r, char *err, size_t errsz)
{
	struct tap_meta m;

	libbpf_set_print(bpf_print); /* a hook already gone is no error of ours */
	if (meta_read(r->key, &m))
		meta_from_pins(r, &m);
	if (r->legacy) /* its meta's ifindex: hooks by program id, if here at all */
		teardown(&m, m.ifindex && (int)if_nametoindex(r->key) == m.ifindex);
	else if (r->here)
		teardown(&m, true);
	else if (unhook_in(r->netns, &m, err, errsz))
		return -1;
	else
		teardown(&m, false);
	return 0;
}

int tap_detach(const char *dev, char *err, size_t errsz)
{
	struct tap_ref r;
	char p[PATH_SZ];

	if (tap_find(dev, &r, err, errsz)) {
		/* Detached behind a run's back: its last drain may have left this. */
		unsigned long long self = tap_netns_self();
		int ifindex = dev && strlen(dev) < IF_NAMESIZE ? (int)if_nametoindex(dev) : 0;
		if (self && ifindex) {
			tap_key(self, ifindex, r.key);
			tap_state_path(p, sizeof(p), r.key, "drained");
			unlink(p);
		}
		return -1;
	}
	return tap_detach_ref(&r, err, errsz);
}

/* ---- open ---- */

void tap_close(struct tap *t)
{
	for (size_t i = 0; i < NMAPS; i++) {
		int *fd = (int *)((char *)&t->fd + map_pins[i].off);
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	if (t->cfg)
		munmap(t->cfg, (size_t)sysconf(_SC_PAGESIZE));
	t->cfg = NULL;
}

/* tap_cfg mapped (BPF_F_MMAPABLE): each field is stored by its owner alone, see policy.c. */
static int map_cfg(struct tap *t, char *err, size_t errsz)
{
	void *p = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED,
		       t->fd.tap_cfg, 0);

	if (p == MAP_FAILED)
		return tap_fail(err, errsz, "%s: cannot map tap_cfg: %s", t->meta.dev,
				strerror(errno));
	t->cfg = p;
	return 0;
}

int tap_open_ref(const struct tap_ref *r, struct tap *t, char *err, size_t errsz)
{
	char p[PATH_SZ];

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < NMAPS; i++)
		*(int *)((char *)&t->fd + map_pins[i].off) = -1;
	if (r->legacy)
		return tap_fail(err, errsz, "%s: tapped by an older gcprobe (pins keyed by name in "
				TAP_PIN_ROOT "/%s): gcprobe tap detach %s, then attach again",
				r->dev, r->key, r->dev);
	if (!r->complete)
		return tap_fail(err, errsz, "%s: tap incomplete (being attached now, or an attach "
				"that crashed: gcprobe tap detach %s)", r->dev, r->dev);
	if (meta_read(r->key, &t->meta))
		meta_from_pins(r, &t->meta);
	snprintf(t->meta.dev, sizeof(t->meta.dev), "%s", r->dev);
	for (size_t i = 0; i < NMAPS; i++) {
		int *fd = (int *)((char *)&t->fd + map_pins[i].off);
		pin_path(p, r->key, map_pins[i].name);
		*fd = bpf_obj_get(p);
		if (*fd < 0) {
			tap_fail(err, errsz, "%s: %s%s", p, strerror(errno),
				 errno == EACCES || errno == EPERM ? " (needs root)" : "");
			tap_close(t);
			return -1;
		}
	}
	if (map_cfg(t, err, errsz)) {
		tap_close(t);
		return -1;
	}
	return 0;
}

int tap_open(const char *dev, struct tap *t, char *err, size_t errsz)
{
	struct tap_ref r;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < NMAPS; i++)
		*(int *)((char *)&t->fd + map_pins[i].off) = -1;
	return tap_find(dev, &r, err, errsz) ? -1 : tap_open_ref(&r, t, err, errsz);
}

int tap_cfg_get(const struct tap *t, struct gcp_tap_cfg *cfg)
{
	const struct gcp_tap_cfg *c = t->cfg;

	if (!c)
		return -1;
	cfg->monitor_ifindex = __atomic_load_n(&c->monitor_ifindex, __ATOMIC_RELAXED);
	cfg->policy_mode = __atomic_load_n(&c->policy_mode, __ATOMIC_RELAXED);
	cfg->match_dims = __atomic_load_n(&c->match_dims, __ATOMIC_RELAXED);
	cfg->slot = __atomic_load_n(&c->slot, __ATOMIC_RELAXED);
	cfg->xdp_miss_action = __atomic_load_n(&c->xdp_miss_action, __ATOMIC_RELAXED);
	cfg->pad = 0;
	return 0;
}

int tap_stats_get(const struct tap *t, uint64_t st[GCP_TAP_ST__MAX])
{
	int ncpu = libbpf_num_possible_cpus();

	memset(st, 0, sizeof(uint64_t) * GCP_TAP_ST__MAX);
	if (ncpu <= 0)
		return -1;
	uint64_t *v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -1;
	for (__u32 k = 0; k < GCP_TAP_ST__MAX; k++) {
		if (bpf_map_lookup_elem(t->fd.tap_stats, &k, v))
			continue;
		for (int c = 0; c < ncpu; c++)
			st[k] += v[c];
	}
	free(v);
	return 0;
}
