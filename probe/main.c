/* SPDX-License-Identifier: BSD-3-Clause */
/* gcprobe: read a capture file and write C.4 records (JSON lines or MessagePack). */
#include "config.h"
#include "run.h"
#include "tap/tap_run.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct probe_opts o;

	if (argc >= 2 && !strcmp(argv[1], "tap")) {
#ifdef GCP_WITH_BPF
		return probe_tap_main(argc - 1, argv + 1);
#else
		fputs("gcprobe: tap: built without eBPF taps (GCP_WITH_BPF=OFF)\n", stderr);
		return 2;
#endif
	}

	switch (probe_parse_options(argc, argv, &o)) {
	case PROBE_EXIT_OK:
		return 0;
	case PROBE_EXIT_USAGE:
		return 2;
	case PROBE_RUN:
		break;
	}
	return probe_run(&o);
}
