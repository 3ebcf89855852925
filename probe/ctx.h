/* SPDX-License-Identifier: BSD-3-Clause */
/* The context of one run: what run.c shares with the modules it starts. */
#ifndef GCPROBE_CTX_H
#define GCPROBE_CTX_H

#include <stdatomic.h>
#include <stdbool.h>

/*
 * Set by run.c's signal handlers, read by the loop that serves the run
 * (run.c's own, or the workers' main thread); a module may end the run
 * too (--count, --duration, a failed queue). Lock-free atomics, so a
 * signal handler may set them and any thread may read them.
 */
struct probe_ctx {
	atomic_int stop; /* SIGINT/SIGTERM: finish what is queued, flush, exit */
	atomic_int hup;  /* SIGHUP: reload the rules, reopen the sinks */
};

static inline bool probe_ctx_stopping(struct probe_ctx *c)
{
	return atomic_load_explicit(&c->stop, memory_order_relaxed) != 0;
}

static inline void probe_ctx_stop(struct probe_ctx *c)
{
	atomic_store(&c->stop, 1);
}

/* True once per SIGHUP (or run of them): the caller does the reload. */
static inline bool probe_ctx_hup_take(struct probe_ctx *c)
{
	return atomic_exchange(&c->hup, 0) != 0;
}

#endif /* GCPROBE_CTX_H */
