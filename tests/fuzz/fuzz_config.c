/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz the configuration file parser (probe/config.c with the option
 * table of probe/options.c, linked directly): the input is the file,
 * given as "gcprobe --config FILE" from a memfd. It either yields
 * options or one error line; either way nothing may crash or leak. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "options.h"
#include "fuzz_memfd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char arg0[] = "gcprobe", arg1[] = "--config";
	char *argv[] = { arg0, arg1, (char *)fuzz_input_path(data, size), NULL };
	struct probe_opts o;

	if (size > 65536)
		return 0;
	optind = 0; /* glibc: a full rescan for every input */
	enum probe_action a = probe_parse_options(3, argv, &o);

	if (a == PROBE_RUN && !o.read_path && !o.iface && !o.dpdk_args)
		abort(); /* accepted without a capture source */
	return 0;
}
