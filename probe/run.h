/* SPDX-License-Identifier: BSD-3-Clause */
/* gcprobe run: wires the modules of one run from the options (the top of probe/). */
#ifndef GCPROBE_RUN_H
#define GCPROBE_RUN_H

#include "options.h"

/* Exit status for main: 0 done, 1 runtime error (one line on stderr). */
int probe_run(const struct probe_opts *o);

#endif /* GCPROBE_RUN_H */
