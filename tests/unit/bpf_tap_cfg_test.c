/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tap_cfg under concurrent writers (issue 14): the inventory drain flips
 * slot while policy commands change policy_mode and match_dims, through
 * the real probe/tap/ code on a real (tc) tap in private namespaces.
 *
 * A lost update needs one writer to be preempted between reading tap_cfg
 * and writing it back, for longer than the other's read-back check
 * waits; on an idle machine that is rare, so a plain hammering test
 * passes whether the design is racy or not. The first two tests force
 * that preemption instead: bpf_map_lookup_elem is wrapped (-Wl,--wrap),
 * and a thread that arms `hold` stops inside its next lookup of tap_cfg,
 * after the read, until the other side's update has returned. A design
 * that never reads tap_cfg back to rewrite it never stops there (the
 * test then only runs the two updates at once).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "tap.h"

#define DEV "gtcfg0"

/* ---- the forced preemption ---- */

int __real_bpf_map_lookup_elem(int fd, const void *key, void *value);
int __wrap_bpf_map_lookup_elem(int fd, const void *key, void *value);

static __thread int hold_fd = -1; /* this thread's tap_cfg fd to stop at, once */
static sem_t held, released;

static void wait_ms(sem_t *s, long ms, bool *got)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (ms % 1000) * 1000000L;
	ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	int rc;
	while ((rc = sem_timedwait(s, &ts)) && errno == EINTR)
		;
	if (got)
		*got = rc == 0;
}

int __wrap_bpf_map_lookup_elem(int fd, const void *key, void *value)
{
	int rc = __real_bpf_map_lookup_elem(fd, key, value);

	if (fd == hold_fd) {
		hold_fd = -1;
		sem_post(&held);                 /* read done: let the other side update */
		wait_ms(&released, 5000, NULL);  /* ... and return the copy read before it */
	}
	return rc;
}

/* ---- a tap in private network and mount namespaces ---- */

static struct tap td, tp; /* as two processes would: the drainer's and the policy command's */
static struct tap_inventory inv;

static void setup(void)
{
	struct tap_attach_opts ao = { .mode = TAP_MODE_TC, .policy_mode = GCP_TAP_POLICY_NONE,
				      .xdp_miss_action = 2 /* XDP_PASS */ };
	char err[512];

	if (geteuid() != 0) {
		printf("SKIP: taps need root\n");
		cr_skip_test("needs root");
	}
	cr_assert_eq(unshare(CLONE_NEWNS | CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	/* A bpffs and /run/gcprobe of our own: no pin of another test or host tap is seen. */
	cr_assert_eq(mount("bpf", TAP_BPFFS, "bpf", 0, "mode=0700"), 0, "bpffs: %s", strerror(errno));
	mkdir("/run/gcprobe", 0700);
	cr_assert_eq(mount("gtcfg", "/run/gcprobe", "tmpfs", 0, "mode=0700"), 0);
	cr_assert_eq(system("ip link add " DEV " type veth peer name gtcfg1 && ip link set " DEV
			    " up"), 0);
	int rc = tap_attach(DEV, &ao, err, sizeof(err));
	if (rc && strstr(err, "not permitted")) {
		printf("SKIP: %s\n", err);
		cr_skip_test("BPF refused");
	}
	cr_assert_eq(rc, 0, "tap_attach: %s", err);
	cr_assert_eq(tap_open(DEV, &td, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tap_open(DEV, &tp, err, sizeof(err)), 0, "%s", err);
	sem_init(&held, 0, 0);
	sem_init(&released, 0, 0);
}

static void teardown(void)
{
	char err[512];

	tap_close(&td);
	tap_close(&tp);
	tap_detach(DEV, err, sizeof(err));
	tap_inv_free(&inv);
}

TestSuite(bpf_tap_cfg, .init = setup, .fini = teardown, .timeout = 60);

static struct gcp_tap_cfg cfg_now(void)
{
	struct gcp_tap_cfg c;

	cr_assert_eq(tap_cfg_get(&tp, &c), 0);
	return c;
}

/* ---- one drain and one policy change, each stopped mid-update ---- */

struct op {
	bool hold;     /* stop in the next tap_cfg lookup of this thread */
	int rc;
	char err[512];
};

static void *drain_thread(void *arg)
{
	struct op *op = arg;

	if (op->hold)
		hold_fd = td.fd.tap_cfg;
	op->rc = tap_drain(&td, &inv, op->err, sizeof(op->err));
	hold_fd = -1;
	return NULL;
}

static void *policy_all_thread(void *arg)
{
	struct op *op = arg;

	if (op->hold)
		hold_fd = tp.fd.tap_cfg;
	op->rc = tap_policy_set_mode(&tp, GCP_TAP_POLICY_ALL, op->err, sizeof(op->err));
	hold_fd = -1;
	return NULL;
}

/*
 * Thread `held` runs its update and stops in its tap_cfg lookup; `other`
 * runs its update meanwhile, to the end; then `held` goes on. Both must
 * succeed. Returns whether `held` did stop (it reads tap_cfg to rewrite it).
 */
static bool interleave(void *(*held_fn)(void *), struct op *h, void *(*other_fn)(void *),
		       struct op *o)
{
	pthread_t th;
	bool stopped;

	h->hold = true;
	cr_assert_eq(pthread_create(&th, NULL, held_fn, h), 0);
	wait_ms(&held, 300, &stopped);
	other_fn(o);
	sem_post(&released);
	pthread_join(th, NULL);
	cr_assert_eq(h->rc, 0, "%s", h->err);
	cr_assert_eq(o->rc, 0, "%s", o->err);
	printf("%s\n", stopped ? "stopped mid-update" :
	       "never read tap_cfg to rewrite it: not stopped");
	return stopped;
}

/* The drain is preempted between reading tap_cfg and flipping its slot; the policy changes meanwhile. */
Test(bpf_tap_cfg, a_policy_change_during_a_drain_is_kept)
{
	struct op d = { 0 }, p = { 0 };
	bool stopped = interleave(drain_thread, &d, policy_all_thread, &p);
	struct gcp_tap_cfg c = cfg_now();

	cr_expect_eq(c.policy_mode, GCP_TAP_POLICY_ALL,
		     "policy_mode %u: the policy change was lost%s", c.policy_mode,
		     stopped ? " (the drain wrote back a copy of tap_cfg read before it)" : "");
	cr_expect_eq(c.slot, 1u, "slot %u after one drain", c.slot);
}

/* The policy command is preempted between reading tap_cfg and writing its mode; a drain runs meanwhile. */
Test(bpf_tap_cfg, a_drain_during_a_policy_change_keeps_its_slot)
{
	struct op d = { 0 }, p = { 0 };
	bool stopped = interleave(policy_all_thread, &p, drain_thread, &d);
	struct gcp_tap_cfg c = cfg_now();

	cr_expect_eq(c.slot, 1u, "slot %u after one drain: the flip was lost%s", c.slot,
		     stopped ? " (the policy command wrote back a copy of tap_cfg read before it)" :
		     "");
	cr_expect_eq(c.policy_mode, GCP_TAP_POLICY_ALL, "policy_mode %u", c.policy_mode);
}

/* ---- hammering: drains and policy changes for two seconds ---- */

#define HAMMER_MS 2000

static volatile int stop;

struct hammer {
	unsigned n;            /* completed operations */
	__u32 last;            /* drains: slot expected; policy: last mode stored */
	int rc;
	char err[512];
};

static void *drainer(void *arg)
{
	struct hammer *h = arg;

	while (!stop && !h->rc) {
		if ((h->rc = tap_drain(&td, &inv, h->err, sizeof(h->err))))
			break;
		h->n++;
		h->last = h->n & 1u;
	}
	return NULL;
}

static void *moder(void *arg)
{
	static const __u32 modes[] = { GCP_TAP_POLICY_ALL, GCP_TAP_POLICY_MATCH,
				       GCP_TAP_POLICY_NONE };
	struct hammer *h = arg;

	while (!stop && !h->rc) {
		__u32 m = modes[h->n % 3];
		if ((h->rc = tap_policy_set_mode(&tp, m, h->err, sizeof(h->err))))
			break;
		h->n++;
		h->last = m;
	}
	return NULL;
}

Test(bpf_tap_cfg, concurrent_drains_and_policy_changes_lose_no_update)
{
	struct tap_pol_entry e;
	struct hammer d = { 0 }, p = { 0 };
	char err[512];
	pthread_t a, b;

	cr_assert_eq(tap_pol_parse("port", "tcp/80", &e, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tap_policy_add(&tp, &e, err, sizeof(err)), 0, "%s", err); /* match allowed */
	cr_assert_eq(pthread_create(&a, NULL, drainer, &d), 0);
	cr_assert_eq(pthread_create(&b, NULL, moder, &p), 0);
	usleep(HAMMER_MS * 1000);
	stop = 1;
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	cr_assert_eq(d.rc, 0, "drain: %s", d.err);
	cr_assert_eq(p.rc, 0, "policy: %s", p.err);
	cr_assert_gt(d.n, 10);
	cr_assert_gt(p.n, 10);
	struct gcp_tap_cfg c = cfg_now();
	printf("%u drains, %u policy changes\n", d.n, p.n);
	cr_expect_eq(c.slot, d.last, "slot %u, the drains' last %u (%u drains)", c.slot, d.last,
		     d.n);
	cr_expect_eq(c.policy_mode, p.last, "policy_mode %u, the last stored %u", c.policy_mode,
		     p.last);
	cr_expect_eq(c.match_dims, (__u32)GCP_TAP_DIM_PORT, "match_dims %#x", c.match_dims);
}

/* Two policy commands on different dimensions at once: the dims end as the maps say. */
struct dimmer {
	const char *kind, *value;
	int rc;
	char err[512];
};

static void *dim_churn(void *arg)
{
	struct dimmer *w = arg;
	struct tap_pol_entry e;

	if ((w->rc = tap_pol_parse(w->kind, w->value, &e, w->err, sizeof(w->err))))
		return NULL;
	for (int i = 0; i < 300 && !w->rc; i++)
		w->rc = tap_policy_add(&tp, &e, w->err, sizeof(w->err)) ||
			tap_policy_del(&tp, &e, w->err, sizeof(w->err));
	if (!w->rc)
		w->rc = tap_policy_add(&tp, &e, w->err, sizeof(w->err)); /* ends present */
	return NULL;
}

Test(bpf_tap_cfg, concurrent_policy_commands_leave_the_dims_of_the_maps)
{
	struct dimmer x = { .kind = "cidr", .value = "10.0.0.0/8" };
	struct dimmer y = { .kind = "proto", .value = "udp" };
	pthread_t a, b;

	cr_assert_eq(pthread_create(&a, NULL, dim_churn, &x), 0);
	cr_assert_eq(pthread_create(&b, NULL, dim_churn, &y), 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	cr_assert_eq(x.rc, 0, "%s", x.err);
	cr_assert_eq(y.rc, 0, "%s", y.err);
	struct gcp_tap_cfg c = cfg_now();
	cr_expect_eq(c.match_dims, (__u32)(GCP_TAP_DIM_CIDR | GCP_TAP_DIM_PROTO), "match_dims %#x",
		     c.match_dims);
	cr_expect_eq(c.policy_mode, GCP_TAP_POLICY_MATCH, "policy_mode %u", c.policy_mode);
}
