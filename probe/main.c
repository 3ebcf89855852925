/* SPDX-License-Identifier: BSD-3-Clause */
/* gcprobe: read a capture file and write C.4 records (JSON lines or MessagePack). */
#include "options.h"
#include "run.h"

int main(int argc, char **argv)
{
	struct probe_opts o;

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
