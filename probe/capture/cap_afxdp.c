/* SPDX-License-Identifier: BSD-3-Clause */
/* AF_XDP capture backend (libxdp xsk API): one socket and UMEM per queue, zero-copy hand-off. */
#include "live.h"
#include "log.h"
#include "tap/tap_pin.h"

#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

#define AX_FRAME_SIZE 4096u /* one page: native XDP on most drivers wants it */
#define AX_RX_MAX 2048u
#define AX_BURST_MAX 256u

/* One queue: its socket, its UMEM and the frames lent to the engine. */
struct axq {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq;
	struct xsk_ring_cons rx;
	void *area;
	size_t area_sz;
	uint32_t nframes;
	int fd;
	bool busy_poll;
	unsigned queue;
	uint64_t held[AX_BURST_MAX]; /* frames handed out by the last rx_burst */
	unsigned nheld;
	uint64_t fq_short;           /* frames that did not fit the fill ring (never) */
};

static void ax_release(struct gcp_capture *cap)
{
	struct axq *q = cap->priv;
	uint32_t idx;

	if (!q->nheld)
		return;
	/* The fill ring is as large as the UMEM, so this cannot come up short. */
	uint32_t n = xsk_ring_prod__reserve(&q->fq, q->nheld, &idx);
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&q->fq, idx + i) = q->held[i];
	xsk_ring_prod__submit(&q->fq, n);
	q->fq_short += q->nheld - n;
	q->nheld = 0;
}

static void kick(struct axq *q)
{
	/* A zero-length recvfrom drives the kernel side: need_wakeup asks
	 * for it, busy-poll uses it to run the driver's NAPI in our context. */
	recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

static int ax_rx_burst(struct gcp_capture *cap, struct gcp_packet *pkts, unsigned n)
{
	struct axq *q = cap->priv;
	uint32_t idx;
	struct timespec ts;

	ax_release(cap);
	if (n > AX_BURST_MAX)
		n = AX_BURST_MAX;
	uint32_t got = xsk_ring_cons__peek(&q->rx, n, &idx);
	if (!got) {
		if (q->busy_poll || xsk_ring_prod__needs_wakeup(&q->fq))
			kick(q);
		return 0;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	for (uint32_t i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->rx, idx + i);
		/* Packet bytes stay in the UMEM frame: no copy. */
		pkts[i].data = xsk_umem__get_data(q->area, d->addr);
		pkts[i].caplen = d->len;
		pkts[i].wirelen = d->len;
		pkts[i].ts_ns = now;
		pkts[i].linktype = GCP_LINK_ETHERNET;
		q->held[i] = xsk_umem__extract_addr(d->addr);
		cap->st.bytes += d->len;
	}
	/* The descriptors are read; the frames stay ours until ax_release. */
	xsk_ring_cons__release(&q->rx, got);
	q->nheld = got;
	cap->st.pkts += got;
	return (int)got;
}

static int ax_wait(struct gcp_capture *cap, int timeout_ms)
{
	struct axq *q = cap->priv;
	struct pollfd pfd = { .fd = q->fd, .events = POLLIN };

	return poll(&pfd, 1, timeout_ms);
}

static int ax_stats(struct gcp_capture *cap)
{
	struct axq *q = cap->priv;
	struct xdp_statistics xs;
	socklen_t len = sizeof(xs);

	if (getsockopt(q->fd, SOL_XDP, XDP_STATISTICS, &xs, &len))
		return GCP_ERR_IO;
	cap->st.dropped = xs.rx_dropped + xs.rx_ring_full;
	return 0;
}

static void ax_qstats(struct gcp_capture *cap, struct live_qstats *qs)
{
	struct axq *q = cap->priv;
	struct xdp_statistics xs;
	socklen_t len = sizeof(xs);

	memset(qs, 0, sizeof(*qs));
	if (getsockopt(q->fd, SOL_XDP, XDP_STATISTICS, &xs, &len))
		return;
	qs->kernel_dropped = xs.rx_dropped;
	qs->ring_full = xs.rx_ring_full;
	qs->fill_empty = xs.rx_fill_ring_empty_descs;
	qs->invalid = xs.rx_invalid_descs;
}

static void ax_close(struct gcp_capture *cap)
{
	struct axq *q = cap->priv;

	if (!q)
		return;
	if (q->xsk)
		xsk_socket__delete(q->xsk); /* libxdp detaches its program with the last socket */
	if (q->umem)
		xsk_umem__delete(q->umem);
	if (q->area)
		munmap(q->area, q->area_sz);
	free(q);
	cap->priv = NULL;
}

static int ax_open(struct gcp_capture *cap, const char *spec)
{
	(void)spec; /* set up by afxdp_open_queue, which knows the options */
	(void)cap;
	return GCP_ERR_UNSUPPORTED;
}

static const struct gcp_capture_ops afxdp_ops = {
	.name = "afxdp",
	.open = ax_open,
	.rx_burst = ax_rx_burst,
	.close = ax_close,
	.release = ax_release,
	.stats = ax_stats,
	.wait = ax_wait,
};

/* ---- setup ------------------------------------------------------------- */

static const char *ifdriver(const char *ifname, char *buf, size_t n)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	snprintf(buf, n, "unknown driver");
	if (fd < 0)
		return buf;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&di;
	if (!ioctl(fd, SIOCETHTOOL, &ifr))
		snprintf(buf, n, "driver %s", di.driver);
	close(fd);
	return buf;
}

/* libxdp and libbpf talk on stderr themselves: keep warnings (libxdp
 * says so when it falls back from its dispatcher), drop the chatter
 * unless GCP_XDP_DEBUG is set. */
static int xdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBXDP_DEBUG && !getenv("GCP_XDP_DEBUG"))
		return 0;
	fputs("gcprobe: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

static int bpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN && !getenv("GCP_XDP_DEBUG"))
		return 0;
	/* libxdp's program objects carry sections libbpf does not know */
	if (!getenv("GCP_XDP_DEBUG") && strstr(fmt, "skipping unrecognized data section"))
		return 0;
	fputs("gcprobe: libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

/* -1 when IF has no gcprobe xdp tap (the usual case: libxdp loads its own program). */
static int tap_xsks_fd = -1;

static int try_socket_once(struct axq *q, const char *ifname, uint32_t xdp_flags,
			   uint16_t bind_flags);

/*
 * A socket that just closed on this queue (a probe restarted at once) is
 * torn down by the kernel after a grace period; until then binding says
 * EBUSY. Wait for it a little (up to 2 s) rather than fail the start.
 */
static int try_socket(struct axq *q, const char *ifname, uint32_t xdp_flags, uint16_t bind_flags)
{
	int rc;

	for (int tries = 0; (rc = try_socket_once(q, ifname, xdp_flags, bind_flags)) == -EBUSY &&
			    tries < 20; tries++)
		nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	return rc;
}

static int try_socket_once(struct axq *q, const char *ifname, uint32_t xdp_flags,
			   uint16_t bind_flags)
{
	struct xsk_socket_config cfg = {
		.rx_size = q->nframes < AX_RX_MAX ? q->nframes : AX_RX_MAX,
		.tx_size = 0,
		/* libxdp loads its redirect-to-xskmap program, unless a tap's program
		 * already redirects into its own xsks map (the XSKMAP steering path) */
		.libxdp_flags = tap_xsks_fd >= 0 ? XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD : 0,
		.xdp_flags = xdp_flags,
		.bind_flags = bind_flags | XDP_USE_NEED_WAKEUP,
	};
	int rc = xsk_socket__create(&q->xsk, ifname, q->queue, q->umem, &q->rx, NULL, &cfg);

	if (rc || tap_xsks_fd < 0)
		return rc;
	/* Keyed by queue id, as the tap redirects by rx_queue_index. The kernel
	 * drops the entry itself when the socket closes. */
	rc = xsk_socket__update_xskmap(q->xsk, tap_xsks_fd);
	if (rc) {
		xsk_socket__delete(q->xsk);
		q->xsk = NULL;
	}
	return rc;
}

/* A gcprobe xdp tap pinned on IF: receive through its xsks map. (A tc
 * tap pins an xsks map too, but nothing redirects into it.) */
static void find_tap_xsks(const char *ifname)
{
	char key[TAP_KEY_SZ], path[TAP_PATH_SZ];

	if (tap_key_of(ifname, key))
		return;
	tap_pin_path(path, sizeof(path), key, "prog_xdp");
	if (access(path, F_OK))
		return;
	tap_pin_path(path, sizeof(path), key, "xsks");
	tap_xsks_fd = bpf_obj_get(path);
	if (tap_xsks_fd >= 0)
		probe_msg("info", "%s: gcprobe xdp tap found: sockets join its xsks map (%s), "
			  "no libxdp program", ifname, path);
}

static int afxdp_open_queue(const struct live_opts *o, unsigned queue, struct gcp_capture *cap,
			    uint32_t *xdp_flags, char *err, size_t errsz)
{
	struct axq *q = calloc(1, sizeof(*q));
	char drv[64];
	int rc;

	if (!q) {
		snprintf(err, errsz, "out of memory");
		return GCP_ERR_NOMEM;
	}
	cap->priv = q;
	q->queue = queue;
	q->nframes = o->umem_frames;
	q->busy_poll = o->busy_poll;
	q->area_sz = (size_t)q->nframes * AX_FRAME_SIZE;
	q->area = mmap(NULL, q->area_sz, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (q->area == MAP_FAILED) {
		q->area = NULL;
		snprintf(err, errsz, "%s: UMEM of %zu bytes: %s", o->iface, q->area_sz, strerror(errno));
		return GCP_ERR_NOMEM;
	}
	struct xsk_umem_config ucfg = {
		.fill_size = q->nframes, /* every frame fits: release never comes up short */
		.comp_size = 64,
		.frame_size = AX_FRAME_SIZE,
		.frame_headroom = 0,
	};
	rc = xsk_umem__create(&q->umem, q->area, q->area_sz, &q->fq, &q->cq, &ucfg);
	if (rc) {
		snprintf(err, errsz, "%s queue %u: UMEM (%u frames): %s%s", o->iface, queue,
			 q->nframes, strerror(-rc),
			 rc == -ENOMEM || rc == -EPERM ? " (RLIMIT_MEMLOCK? try a smaller --umem-frames)" : "");
		return GCP_ERR_NOMEM;
	}

	uint16_t bind = o->xdp_mode == PROBE_XDP_ZC ? XDP_ZEROCOPY :
			o->xdp_mode == PROBE_XDP_COPY ? XDP_COPY : 0;
	if (*xdp_flags) {
		rc = try_socket(q, o->iface, *xdp_flags, bind); /* as asked, or as queue 0 decided */
	} else {
		rc = try_socket(q, o->iface, XDP_FLAGS_DRV_MODE, bind);
		if (!rc) {
			*xdp_flags = XDP_FLAGS_DRV_MODE;
		} else if (o->xdp_attach == PROBE_ATTACH_AUTO && o->xdp_mode != PROBE_XDP_ZC) {
			/* zero-copy needs native XDP: no fallback for zc */
			probe_msg("info", "%s: native XDP refused (%s); attaching generic (skb) XDP",
				  o->iface, strerror(-rc));
			rc = try_socket(q, o->iface, XDP_FLAGS_SKB_MODE, bind);
			if (!rc)
				*xdp_flags = XDP_FLAGS_SKB_MODE;
		}
	}
	if (rc) {
		if (o->xdp_mode == PROBE_XDP_ZC && (rc == -EOPNOTSUPP || rc == -EINVAL ||
						    rc == -EPROTONOSUPPORT))
			snprintf(err, errsz,
				 "%s queue %u: --xdp-mode zc: zero-copy AF_XDP is not supported "
				 "(%s, %s XDP): %s; use --xdp-mode copy or auto",
				 o->iface, queue, ifdriver(o->iface, drv, sizeof(drv)),
				 *xdp_flags == XDP_FLAGS_SKB_MODE ? "generic" : "native", strerror(-rc));
		else
			snprintf(err, errsz, "%s queue %u: AF_XDP socket: %s", o->iface, queue,
				 strerror(-rc));
		return GCP_ERR_IO;
	}
	q->fd = xsk_socket__fd(q->xsk);

	/* Say what the kernel actually gave us: copy vs zero-copy. */
	struct xdp_options xo = { 0 };
	socklen_t len = sizeof(xo);
	bool zc = !getsockopt(q->fd, SOL_XDP, XDP_OPTIONS, &xo, &len) &&
		  (xo.flags & XDP_OPTIONS_ZEROCOPY);
	if (queue == 0 || zc != (o->xdp_mode == PROBE_XDP_ZC))
		probe_msg("info", "%s queue %u: AF_XDP %s mode, %s XDP, %u x %u B UMEM frames (%s%s)",
			  o->iface, queue, zc ? "zero-copy" : "copy",
			  tap_xsks_fd >= 0 ? "gcprobe tap" :
			  *xdp_flags == XDP_FLAGS_SKB_MODE ? "generic" : "native", q->nframes,
			  AX_FRAME_SIZE, ifdriver(o->iface, drv, sizeof(drv)),
			  o->xdp_mode == PROBE_XDP_AUTO && !zc ? ": no zero-copy support, copy chosen" :
			  o->xdp_mode == PROBE_XDP_COPY ? ": copy as asked" : "");

	if (o->busy_poll) {
		int one = 1, usec = 20, budget = 64;
		if (setsockopt(q->fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) ||
		    setsockopt(q->fd, SOL_SOCKET, SO_BUSY_POLL, &usec, sizeof(usec)) ||
		    setsockopt(q->fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget)))
			probe_msg("info", "%s queue %u: busy-poll socket options refused (%s); "
				  "polling anyway", o->iface, queue, strerror(errno));
	}

	/* Lend every frame to the kernel. */
	uint32_t idx;
	uint32_t n = xsk_ring_prod__reserve(&q->fq, q->nframes, &idx);
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&q->fq, idx + i) = (uint64_t)i * AX_FRAME_SIZE;
	xsk_ring_prod__submit(&q->fq, n);
	return 0;
}

static int afxdp_open(const struct live_opts *o, struct gcp_capture **caps, unsigned nq,
		      char *err, size_t errsz)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	uint32_t xdp_flags = o->xdp_attach == PROBE_ATTACH_GENERIC ? XDP_FLAGS_SKB_MODE : 0;

	if (!if_nametoindex(o->iface)) {
		snprintf(err, errsz, "%s: no such interface", o->iface);
		return GCP_ERR_INVAL;
	}
	/* UMEM pages are locked; with CAP_IPC_LOCK the limit does not apply,
	 * so a refused raise is not an error (the UMEM create says if it is). */
	if (setrlimit(RLIMIT_MEMLOCK, &rl) && getenv("GCP_XDP_DEBUG"))
		probe_msg("info", "RLIMIT_MEMLOCK stays as it is: %s", strerror(errno));
	libxdp_set_print(xdp_print);
	libbpf_set_print(bpf_print);
	find_tap_xsks(o->iface);
	for (unsigned i = 0; i < nq; i++) {
		struct gcp_capture *cap = calloc(1, sizeof(*cap));
		if (!cap) {
			snprintf(err, errsz, "out of memory");
			return GCP_ERR_NOMEM;
		}
		cap->ops = &afxdp_ops;
		cap->st.sz = sizeof(cap->st);
		caps[i] = cap;
		int rc = afxdp_open_queue(o, i, cap, &xdp_flags, err, errsz);
		if (rc)
			return rc; /* the caller closes caps[0..i] */
	}
	return 0;
}

static void afxdp_fini(void)
{
	if (tap_xsks_fd >= 0)
		close(tap_xsks_fd);
	tap_xsks_fd = -1;
}

const struct live_backend live_afxdp = {
	.name = "afxdp",
	.open = afxdp_open,
	.qstats = ax_qstats,
	.fini = afxdp_fini,
};
