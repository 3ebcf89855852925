/* SPDX-License-Identifier: BSD-3-Clause */
/* Tap hooks: TC clsact filters (and the clsact qdisc when we made it) or XDP, by program id. */
#include "tap.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/*
 * The clsact qdisc is ours when this marker (a symlink: bpffs holds no
 * files) is in the pin directory. It is made before the qdisc and
 * removed when the qdisc turns out to exist already, so a SIGKILL at any
 * point of an attach leaves it whenever we may have made the qdisc; the
 * meta file, written last, cannot say that.
 */
#define QDISC_MARK "clsact_ours"

static void mark_path(char *p, const char *key)
{
	tap_pin_path(p, TAP_PATH_SZ, key, QDISC_MARK);
}

static int prog_id(int fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : (int)info.id;
}

int tap_tc_attach(struct tap_meta *m, int fd_in, int fd_eg, char *err, size_t errsz)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = m->ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int fds[2] = { fd_in, fd_eg };
	char mark[TAP_PATH_SZ];

	mark_path(mark, m->key);
	if (symlink("created by this tap", mark))
		return tap_fail(err, errsz, "%s: %s", mark, strerror(errno));
	int rc = bpf_tc_hook_create(&hook);
	if (rc) {
		unlink(mark); /* -EEXIST: someone else's qdisc, left in place at detach */
		if (rc != -EEXIST)
			return tap_fail(err, errsz, "%s: cannot create clsact qdisc: %s", m->dev,
					strerror(-rc));
	}
	m->tc_created_qdisc = rc == 0;
	for (int i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_tc_opts, to, .handle = TAP_TC_HANDLE, .priority = TAP_TC_PRIO,
			    .prog_fd = fds[i]);
		hook.attach_point = i ? BPF_TC_EGRESS : BPF_TC_INGRESS;
		rc = bpf_tc_attach(&hook, &to);
		if (rc)
			return tap_fail(err, errsz, "%s: TC %s attach: %s%s", m->dev,
					i ? "egress" : "ingress", strerror(-rc),
					rc == -EEXIST ? " (a filter with handle 0x6763 prio 1 exists)" :
					"");
		m->prog_ids[i] = to.prog_id;
	}
	return 0;
}

/* Filters (of anyone) on one clsact hook: an RTM_GETTFILTER dump. -1 when it cannot tell. */
static int filters_on(int nl, int ifindex, __u32 parent)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETTFILTER,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = parent },
		.tc = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex, .tcm_parent = parent },
	};
	char buf[8192] __attribute__((aligned(4)));
	int n = 0;

	if (send(nl, &req, sizeof(req), 0) != (ssize_t)sizeof(req))
		return -1;
	for (;;) {
		int len = (int)recv(nl, buf, sizeof(buf), 0);
		if (len <= 0)
			return -1;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return n;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -1;
			n += h->nlmsg_type == RTM_NEWTFILTER;
		}
	}
}

/* No filter left on either hook: the qdisc carries nothing of anyone's. */
static bool clsact_empty(int ifindex)
{
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (nl < 0)
		return false;
	bool empty = filters_on(nl, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)) == 0 &&
		     filters_on(nl, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)) == 0;
	close(nl);
	return empty;
}

void tap_tc_detach(const struct tap_meta *m)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = m->ifindex);
	char mark[TAP_PATH_SZ];

	for (int i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_tc_opts, q, .handle = TAP_TC_HANDLE, .priority = TAP_TC_PRIO);
		hook.attach_point = i ? BPF_TC_EGRESS : BPF_TC_INGRESS;
		/* Only our own program: the slot may have been taken over since. */
		if (!m->prog_ids[i] || bpf_tc_query(&hook, &q) || q.prog_id != m->prog_ids[i])
			continue;
		LIBBPF_OPTS(bpf_tc_opts, d, .handle = TAP_TC_HANDLE, .priority = TAP_TC_PRIO);
		bpf_tc_detach(&hook, &d);
	}
	mark_path(mark, m->key);
	struct stat st;
	bool ours = m->tc_created_qdisc || !lstat(mark, &st);
	/* Filters someone added to our qdisc since keep it (and theirs) alive. */
	if (ours && clsact_empty(m->ifindex)) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	unlink(mark);
}

static int xdp_try(struct tap_meta *m, int fd, __u32 mode_flag)
{
	int rc = bpf_xdp_attach(m->ifindex, fd, mode_flag | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);

	if (!rc)
		m->xdp_flags = mode_flag;
	return rc;
}

int tap_xdp_attach(struct tap_meta *m, int fd, enum tap_xdp_attach how, char *err, size_t errsz)
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
		return tap_fail(err, errsz, "%s: XDP attach: %s%s", m->dev, strerror(-rc),
				rc == -EBUSY || rc == -EEXIST ? " (another XDP program is attached)" :
				"");
	m->prog_ids[0] = (__u32)prog_id(fd);
	return 0;
}

static void xdp_detach_mode(const struct tap_meta *m, __u32 mode_flag)
{
	__u32 cur = 0;

	/* Only our own program, by id: never someone else's. */
	if (bpf_xdp_query_id(m->ifindex, (int)mode_flag, &cur) || !cur || cur != m->prog_ids[0])
		return;
	int fd = bpf_prog_get_fd_by_id(cur);
	if (fd < 0)
		return;
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo, .old_prog_fd = fd);
	bpf_xdp_detach(m->ifindex, mode_flag, &xo);
	close(fd);
}

void tap_xdp_detach(const struct tap_meta *m)
{
	if (m->xdp_flags) {
		xdp_detach_mode(m, m->xdp_flags);
		return;
	}
	xdp_detach_mode(m, XDP_FLAGS_DRV_MODE); /* mode unknown (no meta): either */
	xdp_detach_mode(m, XDP_FLAGS_SKB_MODE);
}

__u32 tap_pinned_prog_id(const char *key, const char *name)
{
	char p[TAP_PATH_SZ];

	tap_pin_path(p, sizeof(p), key, name);
	int fd = bpf_obj_get(p);
	if (fd < 0)
		return 0;
	__u32 id = (__u32)prog_id(fd);
	close(fd);
	return id;
}
