/* SPDX-License-Identifier: BSD-3-Clause */
/* DPDK capture backend (22.11, shared): EAL args passed through, symmetric RSS, mbufs handed over without copying. */
#include "live.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#define DP_BURST_MAX 256u
#define DP_NB_RXD 1024u
#define DP_MBUFS 8191u  /* per queue: 2^n - 1 suits the ring mempool */
#define DP_MBUF_CACHE 256u
#define DP_SCRATCH (64u * 1024u)

/*
 * 0x6D5A repeated: Toeplitz with this key gives the same hash for
 * (src, dst) and (dst, src), so both directions of a flow land on one
 * queue (Woo & Park, "Scalable TCP Session Monitoring with Symmetric
 * Receive-side Scaling", 2012).
 */
static uint8_t sym_rss_key[52];

static bool eal_up;
static bool port_started;
static uint16_t dp_port;

/* One RX queue of the port, owned by one worker. */
struct dpq {
	uint16_t port;
	uint16_t queue;
	struct rte_mbuf *held[DP_BURST_MAX];
	unsigned nheld;
	uint8_t *scratch; /* multi-segment mbufs are linearised here (rare) */
	size_t scratch_used;
};

static void dp_release(struct gcp_capture *cap)
{
	struct dpq *q = cap->priv;

	if (!q->nheld)
		return;
	rte_pktmbuf_free_bulk(q->held, q->nheld);
	q->nheld = 0;
	q->scratch_used = 0;
}

static int dp_rx_burst(struct gcp_capture *cap, struct gcp_packet *pkts, unsigned n)
{
	static _Thread_local bool registered;
	struct dpq *q = cap->priv;
	struct timespec ts;

	/* A worker thread is not an EAL lcore: registering gives it a
	 * mempool cache. Failure only costs speed. */
	if (!registered) {
		registered = true;
		if (rte_lcore_id() == LCORE_ID_ANY)
			rte_thread_register();
	}
	dp_release(cap);
	if (n > DP_BURST_MAX)
		n = DP_BURST_MAX;
	uint16_t got = rte_eth_rx_burst(q->port, q->queue, q->held, (uint16_t)n);
	if (!got)
		return 0;
	q->nheld = got;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	for (uint16_t i = 0; i < got; i++) {
		struct rte_mbuf *m = q->held[i];
		pkts[i].wirelen = m->pkt_len;
		pkts[i].ts_ns = now;
		pkts[i].linktype = GCP_LINK_ETHERNET;
		if (m->nb_segs == 1) {
			/* The packet stays in the mbuf: no copy. */
			pkts[i].data = rte_pktmbuf_mtod(m, const uint8_t *);
			pkts[i].caplen = m->data_len;
		} else {
			uint32_t len = m->pkt_len;
			if (len > DP_SCRATCH - q->scratch_used)
				len = (uint32_t)(DP_SCRATCH - q->scratch_used);
			uint8_t *dst = q->scratch + q->scratch_used;
			const void *p = rte_pktmbuf_read(m, 0, len, dst);
			pkts[i].data = p ? p : dst;
			pkts[i].caplen = p ? len : 0;
			q->scratch_used += len;
		}
		cap->st.bytes += m->pkt_len;
	}
	cap->st.pkts += got;
	return got;
}

static int dp_stats(struct gcp_capture *cap)
{
	struct dpq *q = cap->priv;
	struct rte_eth_stats es;

	if (rte_eth_stats_get(q->port, &es))
		return GCP_ERR_IO;
	/* Port-wide: the NIC does not split misses by queue. Shown on queue 0. */
	cap->st.dropped = q->queue == 0 ? es.imissed + es.rx_nombuf : 0;
	return 0;
}

static void dp_qstats(struct gcp_capture *cap, struct live_qstats *qs)
{
	struct dpq *q = cap->priv;
	struct rte_eth_stats es;

	memset(qs, 0, sizeof(*qs));
	if (q->queue != 0 || rte_eth_stats_get(q->port, &es))
		return;
	qs->kernel_dropped = es.imissed;
	qs->nombuf = es.rx_nombuf;
	qs->invalid = es.ierrors;
}

static void dp_close(struct gcp_capture *cap)
{
	struct dpq *q = cap->priv;

	if (!q)
		return;
	dp_release(cap);
	free(q->scratch);
	free(q);
	cap->priv = NULL;
}

static int dp_open(struct gcp_capture *cap, const char *spec)
{
	(void)cap;
	(void)spec;
	return GCP_ERR_UNSUPPORTED; /* queues are set up by dpdk_open */
}

static const struct gcp_capture_ops dpdk_ops = {
	.name = "dpdk",
	.open = dp_open,
	.rx_burst = dp_rx_burst,
	.close = dp_close,
	.release = dp_release,
	.stats = dp_stats,
};

/* ---- port setup ----------------------------------------------------------- */

/* Split the --dpdk string on blanks ("..." and '...' group) into argv. */
static int split_args(const char *s, char *buf, char **argv, int max)
{
	int argc = 0;
	char *o = buf;

	argv[argc++] = (char *)"gcprobe";
	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		if (argc == max - 1)
			return -1;
		argv[argc++] = o;
		char quote = 0;
		while (*s && (quote || (*s != ' ' && *s != '\t'))) {
			if (!quote && (*s == '"' || *s == '\''))
				quote = *s;
			else if (quote && *s == quote)
				quote = 0;
			else
				*o++ = *s;
			s++;
		}
		*o++ = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

/* EAL keeps pointers into argv for the life of the process. */
static char *eal_argbuf;

static int dpdk_open(const struct live_opts *o, struct gcp_capture **caps, unsigned nq,
		     char *err, size_t errsz)
{
	char *buf = malloc(strlen(o->dpdk_args) + 1);
	char *argv[128];
	int rc;

	if (!buf) {
		snprintf(err, errsz, "out of memory");
		return GCP_ERR_NOMEM;
	}
	int argc = split_args(o->dpdk_args, buf, argv, 128);
	if (argc < 0) {
		free(buf);
		snprintf(err, errsz, "--dpdk: too many EAL arguments");
		return GCP_ERR_INVAL;
	}
	eal_argbuf = buf;
	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		snprintf(err, errsz, "DPDK EAL init (%s): %s", o->dpdk_args, rte_strerror(rte_errno));
		return GCP_ERR_IO;
	}
	eal_up = true;

	uint16_t port = o->dpdk_port;
	if (!rte_eth_dev_is_valid_port(port)) {
		snprintf(err, errsz, "DPDK port %u does not exist (%u port(s); bind a NIC to vfio-pci "
			 "or add --vdev)", port, (unsigned)rte_eth_dev_count_avail());
		return GCP_ERR_INVAL;
	}
	struct rte_eth_dev_info di;
	rc = rte_eth_dev_info_get(port, &di);
	if (rc) {
		snprintf(err, errsz, "DPDK port %u: device info: %s", port, rte_strerror(-rc));
		return GCP_ERR_IO;
	}
	if (nq > di.max_rx_queues) {
		snprintf(err, errsz, "DPDK port %u (%s): --queues %u but the device has at most %u",
			 port, di.driver_name, nq, di.max_rx_queues);
		return GCP_ERR_INVAL;
	}

	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	if (nq > 1) {
		/* IP pair only, like the software distributor: fragments
		 * without ports then reach the same worker as their flow. */
		uint64_t hf = RTE_ETH_RSS_IP & di.flow_type_rss_offloads;
		if (!hf) {
			snprintf(err, errsz, "DPDK port %u (%s) has no RSS on IP addresses: a flow's two "
				 "directions could reach different workers; use --queues 1 --workers %u",
				 port, di.driver_name, nq);
			return GCP_ERR_UNSUPPORTED;
		}
		for (size_t i = 0; i < sizeof(sym_rss_key); i += 2) {
			sym_rss_key[i] = 0x6d;
			sym_rss_key[i + 1] = 0x5a;
		}
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = sym_rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len =
			di.hash_key_size ? di.hash_key_size : 40;
		if (conf.rx_adv_conf.rss_conf.rss_key_len > sizeof(sym_rss_key))
			conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(sym_rss_key);
		conf.rx_adv_conf.rss_conf.rss_hf = hf;
	}
	if (di.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER; /* jumbo/TSO as chains */
	rc = rte_eth_dev_configure(port, (uint16_t)nq, 0, &conf);
	if (rc) /* some PMDs want a TX queue even when nothing is sent */
		rc = rte_eth_dev_configure(port, (uint16_t)nq, 1, &conf);
	if (rc) {
		snprintf(err, errsz, "DPDK port %u (%s): configure %u queue(s): %s", port,
			 di.driver_name, nq, rte_strerror(-rc));
		return GCP_ERR_IO;
	}
	uint16_t nb_rxd = DP_NB_RXD, nb_txd = 64;
	rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	int socket = rte_eth_dev_socket_id(port);
	if (socket < 0)
		socket = (int)rte_socket_id();
	for (unsigned i = 0; i < nq; i++) {
		char name[RTE_MEMPOOL_NAMESIZE];
		snprintf(name, sizeof(name), "gcp_rx_%u_%u", port, i);
		struct rte_mempool *mp = rte_pktmbuf_pool_create(name, DP_MBUFS, DP_MBUF_CACHE, 0,
								 RTE_MBUF_DEFAULT_BUF_SIZE, socket);
		if (!mp) {
			snprintf(err, errsz, "DPDK port %u queue %u: mbuf pool: %s (more -m memory?)",
				 port, i, rte_strerror(rte_errno));
			return GCP_ERR_NOMEM;
		}
		rc = rte_eth_rx_queue_setup(port, (uint16_t)i, nb_rxd, (unsigned)socket, NULL, mp);
		if (rc) {
			snprintf(err, errsz, "DPDK port %u queue %u: RX setup: %s", port, i,
				 rte_strerror(-rc));
			return GCP_ERR_IO;
		}
		struct gcp_capture *cap = calloc(1, sizeof(*cap));
		struct dpq *q = calloc(1, sizeof(*q));
		if (cap)
			caps[i] = cap;
		if (!cap || !q || !(q->scratch = malloc(DP_SCRATCH))) {
			free(q);
			snprintf(err, errsz, "out of memory");
			return GCP_ERR_NOMEM;
		}
		q->port = port;
		q->queue = (uint16_t)i;
		cap->ops = &dpdk_ops;
		cap->priv = q;
		cap->st.sz = sizeof(cap->st);
	}
	rc = rte_eth_dev_start(port);
	if (rc) {
		snprintf(err, errsz, "DPDK port %u (%s): start: %s", port, di.driver_name,
			 rte_strerror(-rc));
		return GCP_ERR_IO;
	}
	port_started = true;
	dp_port = port;
	rte_eth_promiscuous_enable(port); /* a mirror port carries others' traffic; vdevs may refuse */
	rte_eth_stats_reset(port);
	probe_msg("info", "DPDK port %u (%s): %u RX queue(s), %u descriptors, %s", port,
		  di.driver_name, nq, nb_rxd, nq > 1 ? "symmetric RSS on IP pair" : "single queue");
	return 0;
}

static void dpdk_fini(void)
{
	if (port_started) {
		rte_eth_dev_stop(dp_port);
		rte_eth_dev_close(dp_port);
		port_started = false;
	}
	if (eal_up) {
		rte_eal_cleanup();
		eal_up = false;
		free(eal_argbuf);
		eal_argbuf = NULL;
	}
}

const struct live_backend live_dpdk = {
	.name = "dpdk",
	.open = dpdk_open,
	.qstats = dp_qstats,
	.fini = dpdk_fini,
};
