/* SPDX-License-Identifier: BSD-3-Clause */
/* Tap attach/detach: load the skeleton, pin maps and programs, TC clsact or XDP, meta file. */
#include "tap.h"
#include "gcp_tap.skel.h"

#include <dirent.h>
#include <errno.h>
#include <linux/if_link.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

#define PATH_SZ 256

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

static const char *const prog_pins[] = { "prog_tc_ingress", "prog_tc_egress", "prog_xdp" };

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return -1;
}

/* libbpf talks on stderr: keep its warnings (verifier logs), drop the chatter. */
static int bpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN && !getenv("GCP_BPF_DEBUG"))
		return 0;
	fputs("gcprobe: libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

static void pin_path(char *buf, const char *dev, const char *name)
{
	snprintf(buf, PATH_SZ, TAP_PIN_ROOT "/%s%s%s", dev, name ? "/" : "", name ? name : "");
}

static void meta_path(char *buf, const char *dev)
{
	snprintf(buf, PATH_SZ, TAP_META_DIR "/%s.meta", dev);
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
		return fail(err, errsz, "cannot mount bpffs at " TAP_BPFFS ": %s%s", strerror(errno),
			    errno == EPERM ? " (needs root / CAP_SYS_ADMIN)" : "");
	return 0;
}

bool tap_is_pinned(const char *dev)
{
	char p[PATH_SZ];

	pin_path(p, dev, "tap_cfg");
	return access(p, F_OK) == 0;
}

/* ---- meta: /run/gcprobe/tap/<dev>.meta, key=value lines ---- */

static int meta_write(const struct tap_meta *m, char *err, size_t errsz)
{
	char p[PATH_SZ], tmp[PATH_SZ + 8];

	if (mkdir_p(TAP_META_DIR))
		return fail(err, errsz, TAP_META_DIR ": %s", strerror(errno));
	meta_path(p, m->dev);
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return fail(err, errsz, "%s: %s", tmp, strerror(errno));
	fprintf(f, "dev=%s\nifindex=%d\nmode=%s\nmonitor=%s\nxdp_flags=%u\ntc_created_qdisc=%d\n"
		"prog_ids=%u,%u\n", m->dev, m->ifindex, m->mode == TAP_MODE_XDP ? "xdp" : "tc",
		m->monitor, m->xdp_flags, m->tc_created_qdisc, m->prog_ids[0], m->prog_ids[1]);
	if (fclose(f) || rename(tmp, p)) {
		unlink(tmp);
		return fail(err, errsz, "%s: %s", p, strerror(errno));
	}
	return 0;
}

static void meta_line(struct tap_meta *m, const char *k, const char *v)
{
	if (!strcmp(k, "ifindex"))
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

static int meta_read(const char *dev, struct tap_meta *m)
{
	char p[PATH_SZ], line[256];

	memset(m, 0, sizeof(*m));
	snprintf(m->dev, sizeof(m->dev), "%s", dev);
	meta_path(p, dev);
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

/* ---- TC and XDP hooks ---- */

static int prog_id(int fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : (int)info.id;
}

static int tc_attach(struct tap_meta *m, int fd_in, int fd_eg, char *err, size_t errsz)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = m->ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int fds[2] = { fd_in, fd_eg };
	int rc = bpf_tc_hook_create(&hook);

	if (rc && rc != -EEXIST)
		return fail(err, errsz, "%s: cannot create clsact qdisc: %s", m->dev, strerror(-rc));
	m->tc_created_qdisc = rc == 0; /* -EEXIST: someone else's, left in place at detach */
	for (int i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_tc_opts, to, .handle = TAP_TC_HANDLE, .priority = TAP_TC_PRIO,
			    .prog_fd = fds[i]);
		hook.attach_point = i ? BPF_TC_EGRESS : BPF_TC_INGRESS;
		rc = bpf_tc_attach(&hook, &to);
		if (rc)
			return fail(err, errsz, "%s: TC %s attach: %s%s", m->dev,
				    i ? "egress" : "ingress", strerror(-rc),
				    rc == -EEXIST ? " (a filter with handle 0x6763 prio 1 exists)" : "");
		m->prog_ids[i] = to.prog_id;
	}
	return 0;
}

static void tc_detach(const struct tap_meta *m)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = m->ifindex);

	for (int i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_tc_opts, q, .handle = TAP_TC_HANDLE, .priority = TAP_TC_PRIO);
		hook.attach_point = i ? BPF_TC_EGRESS : BPF_TC_INGRESS;
		/* Only our own program: the slot may have been taken over since. */
		if (bpf_tc_query(&hook, &q) || (m->prog_ids[i] && q.prog_id != m->prog_ids[i]))
			continue;
		LIBBPF_OPTS(bpf_tc_opts, d, .handle = TAP_TC_HANDLE, .priority = TAP_TC_PRIO);
		bpf_tc_detach(&hook, &d);
	}
	if (m->tc_created_qdisc) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
}

static int xdp_try(struct tap_meta *m, int fd, __u32 mode_flag)
{
	int rc = bpf_xdp_attach(m->ifindex, fd, mode_flag | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);

	if (!rc)
		m->xdp_flags = mode_flag;
	return rc;
}

static int xdp_attach(struct tap_meta *m, int fd, enum tap_xdp_attach how, char *err,
		      size_t errsz)
{
	int rc;

	if (how == TAP_XDP_GENERIC) {
		rc = xdp_try(m, fd, XDP_FLAGS_SKB_MODE);
	} else {
		rc = xdp_try(m, fd, XDP_FLAGS_DRV_MODE);
		if (rc && rc != -EBUSY && how == TAP_XDP_AUTO)
			rc = xdp_try(m, fd, XDP_FLAGS_SKB_MODE);
	}
	if (rc)
		return fail(err, errsz, "%s: XDP attach: %s%s", m->dev, strerror(-rc),
			    rc == -EBUSY || rc == -EEXIST ? " (another XDP program is attached)" : "");
	m->prog_ids[0] = (__u32)prog_id(fd);
	return 0;
}

static void xdp_detach(const struct tap_meta *m)
{
	__u32 cur = 0;

	/* Only our own program, by id: never someone else's. */
	if (bpf_xdp_query_id(m->ifindex, (int)m->xdp_flags, &cur) || !cur || cur != m->prog_ids[0])
		return;
	int fd = bpf_prog_get_fd_by_id(cur);
	if (fd < 0)
		return;
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo, .old_prog_fd = fd);
	bpf_xdp_detach(m->ifindex, m->xdp_flags, &xo);
	close(fd);
}

/* ---- pins ---- */

static void rmdir_if_empty(const char *p)
{
	rmdir(p); /* fails (ENOTEMPTY) while other taps are pinned */
}

static void unpin_all(const char *dev)
{
	char p[PATH_SZ];

	for (size_t i = 0; i < NMAPS; i++) {
		pin_path(p, dev, map_pins[i].name);
		unlink(p);
	}
	for (size_t i = 0; i < sizeof(prog_pins) / sizeof(prog_pins[0]); i++) {
		pin_path(p, dev, prog_pins[i]);
		unlink(p);
	}
	pin_path(p, dev, NULL);
	rmdir(p);
	rmdir_if_empty(TAP_PIN_ROOT);
	rmdir_if_empty(TAP_BPFFS "/gcprobe");
}

static int pin_maps(struct gcp_tap *skel, const char *dev, char *err, size_t errsz)
{
	char p[PATH_SZ];

	for (size_t i = 0; i < NMAPS; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(skel->obj, map_pins[i].name);
		pin_path(p, dev, map_pins[i].name);
		if (!m)
			return fail(err, errsz, "BPF object has no map '%s'", map_pins[i].name);
		int rc = bpf_obj_pin(bpf_map__fd(m), p);
		if (rc)
			return fail(err, errsz, "pin %s: %s", p, strerror(errno));
	}
	return 0;
}

static int pin_prog(struct bpf_program *prog, const char *dev, const char *name, char *err,
		    size_t errsz)
{
	char p[PATH_SZ];

	pin_path(p, dev, name);
	if (bpf_obj_pin(bpf_program__fd(prog), p))
		return fail(err, errsz, "pin %s: %s", p, strerror(errno));
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
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.tap_cfg), &zero, &cfg, BPF_ANY))
		return fail(err, errsz, "tap_cfg: %s", strerror(errno));
	for (unsigned i = 0; i < ao->nlocal; i++)
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.local_prefixes), &ao->local[i], &one,
					BPF_ANY))
			return fail(err, errsz, "local_prefixes: %s", strerror(errno));
	return 0;
}

static int hook_up(struct gcp_tap *skel, struct tap_meta *m, const struct tap_attach_opts *ao,
		   char *err, size_t errsz)
{
	if (ao->mode == TAP_MODE_XDP) {
		if (pin_prog(skel->progs.tap_xdp, m->dev, "prog_xdp", err, errsz))
			return -1;
		return xdp_attach(m, bpf_program__fd(skel->progs.tap_xdp), ao->xdp_attach, err,
				  errsz);
	}
	if (pin_prog(skel->progs.tap_tc_ingress, m->dev, "prog_tc_ingress", err, errsz) ||
	    pin_prog(skel->progs.tap_tc_egress, m->dev, "prog_tc_egress", err, errsz))
		return -1;
	return tc_attach(m, bpf_program__fd(skel->progs.tap_tc_ingress),
			 bpf_program__fd(skel->progs.tap_tc_egress), err, errsz);
}

/* Undo whatever part of an attach happened. */
static void teardown(const struct tap_meta *m)
{
	char p[PATH_SZ];

	if (m->ifindex && (int)if_nametoindex(m->dev) == m->ifindex) {
		if (m->mode == TAP_MODE_XDP)
			xdp_detach(m);
		else
			tc_detach(m);
	}
	unpin_all(m->dev);
	meta_path(p, m->dev);
	unlink(p);
	snprintf(p, sizeof(p), TAP_META_DIR "/%s.drained", m->dev);
	unlink(p);
}

static int check_dev(const char *dev, const char *what, int *ifindex, char *err, size_t errsz)
{
	if (!dev || !*dev || strlen(dev) >= IF_NAMESIZE || strchr(dev, '/'))
		return fail(err, errsz, "%s: '%s' is not an interface name", what, dev ? dev : "");
	*ifindex = (int)if_nametoindex(dev);
	if (!*ifindex)
		return fail(err, errsz, "%s: no such interface '%s'", what, dev);
	return 0;
}

int tap_attach(const char *dev, const struct tap_attach_opts *ao, char *err, size_t errsz)
{
	struct tap_meta m = { .mode = ao->mode };
	int mon = 0, rc = -1;
	char p[PATH_SZ];

	if (check_dev(dev, "device", &m.ifindex, err, errsz))
		return -1;
	if (ao->monitor && check_dev(ao->monitor, "--monitor", &mon, err, errsz))
		return -1;
	if (mon == m.ifindex)
		return fail(err, errsz, "--monitor %s: the tapped device itself", ao->monitor);
	if (mon && ao->mode == TAP_MODE_XDP)
		return fail(err, errsz, "--monitor is for tc mode (XDP cannot clone; it feeds AF_XDP)");
	snprintf(m.dev, sizeof(m.dev), "%s", dev);
	snprintf(m.monitor, sizeof(m.monitor), "%s", ao->monitor ? ao->monitor : "");
	if (ensure_bpffs(err, errsz))
		return -1;
	if (tap_is_pinned(dev))
		return fail(err, errsz, "%s: already tapped (gcprobe tap detach %s first)", dev, dev);
	snprintf(p, sizeof(p), TAP_META_DIR "/%s.drained", dev);
	unlink(p); /* a crashed run's counters are not this tap's */
	pin_path(p, dev, NULL);
	if (mkdir_p(p))
		return fail(err, errsz, "%s: %s", p, strerror(errno));
	libbpf_set_print(bpf_print);
	struct gcp_tap *skel = gcp_tap__open();
	if (!skel) {
		fail(err, errsz, "cannot open the tap BPF object: %s", strerror(errno));
		goto out;
	}
	if ((rc = gcp_tap__load(skel))) {
		fail(err, errsz, "cannot load the tap BPF programs: %s%s", strerror(-rc),
		     rc == -EPERM ? " (needs root / CAP_BPF+CAP_NET_ADMIN)" : "");
		goto out;
	}
	rc = -1;
	if (init_maps(skel, ao, mon, err, errsz) || pin_maps(skel, dev, err, errsz) ||
	    hook_up(skel, &m, ao, err, errsz) || meta_write(&m, err, errsz))
		goto out;
	rc = 0;
out:
	if (rc)
		teardown(&m);
	gcp_tap__destroy(skel); /* pins and hooks keep programs and maps alive */
	return rc ? -1 : 0;
}

/* ---- detach, list, open ---- */

int tap_detach(const char *dev, char *err, size_t errsz)
{
	struct tap_meta m;
	char p[PATH_SZ];

	if (!dev || !*dev || strlen(dev) >= IF_NAMESIZE || strchr(dev, '/'))
		return fail(err, errsz, "'%s' is not an interface name", dev ? dev : "");
	bool have_meta = !meta_read(dev, &m);
	pin_path(p, dev, NULL);
	if (!have_meta && access(p, F_OK)) {
		/* Detached behind a run's back: its last drain may have left this. */
		snprintf(p, sizeof(p), TAP_META_DIR "/%s.drained", dev);
		unlink(p);
		return fail(err, errsz, "%s: no gcprobe tap (see gcprobe tap list)", dev);
	}
	if (!have_meta) {
		/* Pins without meta (a crash between the two): hooks by pinned program. */
		pin_path(p, dev, "prog_xdp");
		m.mode = access(p, F_OK) ? TAP_MODE_TC : TAP_MODE_XDP;
		m.ifindex = (int)if_nametoindex(dev);
		m.xdp_flags = XDP_FLAGS_SKB_MODE;
	}
	teardown(&m);
	return 0;
}

int tap_list_devs(char (*devs)[IF_NAMESIZE], int max)
{
	DIR *d = opendir(TAP_PIN_ROOT);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while (n < max && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len >= IF_NAMESIZE)
			continue;
		memcpy(devs[n], e->d_name, len + 1);
		n++;
	}
	closedir(d);
	return n;
}

void tap_close(struct tap *t)
{
	for (size_t i = 0; i < NMAPS; i++) {
		int *fd = (int *)((char *)&t->fd + map_pins[i].off);
		if (*fd > 0)
			close(*fd);
		*fd = -1;
	}
}

int tap_open(const char *dev, struct tap *t, char *err, size_t errsz)
{
	char p[PATH_SZ];

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < NMAPS; i++)
		*(int *)((char *)&t->fd + map_pins[i].off) = -1;
	if (!dev || !*dev || strlen(dev) >= IF_NAMESIZE || strchr(dev, '/'))
		return fail(err, errsz, "'%s' is not an interface name", dev ? dev : "");
	if (!tap_is_pinned(dev))
		return fail(err, errsz, "%s: no gcprobe tap (see gcprobe tap list)", dev);
	if (meta_read(dev, &t->meta)) {
		pin_path(p, dev, "prog_xdp");
		t->meta.mode = access(p, F_OK) ? TAP_MODE_TC : TAP_MODE_XDP;
	}
	for (size_t i = 0; i < NMAPS; i++) {
		int *fd = (int *)((char *)&t->fd + map_pins[i].off);
		pin_path(p, dev, map_pins[i].name);
		*fd = bpf_obj_get(p);
		if (*fd < 0) {
			fail(err, errsz, "%s: %s%s", p, strerror(errno),
			     errno == EACCES || errno == EPERM ? " (needs root)" : "");
			tap_close(t);
			return -1;
		}
	}
	return 0;
}

int tap_cfg_get(const struct tap *t, struct gcp_tap_cfg *cfg)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(t->fd.tap_cfg, &zero, cfg) ? -1 : 0;
}

int tap_cfg_set(const struct tap *t, const struct gcp_tap_cfg *cfg)
{
	__u32 zero = 0;

	return bpf_map_update_elem(t->fd.tap_cfg, &zero, cfg, BPF_ANY) ? -1 : 0;
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
