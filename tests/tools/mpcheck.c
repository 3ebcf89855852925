/* SPDX-License-Identifier: BSD-3-Clause */
/* mpcheck: is each file a MessagePack record stream (whole maps, at most a torn tail)? */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * usage: mpcheck FILE...
 * One JSON line per file: {"file","records","bytes","whole","torn_tail","ok"}.
 * A torn tail (the last record cut short, as a crash leaves it) is
 * reported and allowed; bytes that do not decode, or a value that is
 * not a map, make the file bad. Exit 0 when every file is ok, 1 if not,
 * 2 on a usage or I/O error.
 */
static int check(const char *path)
{
	struct gcp_mp_scan sc = { 0 };
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &sb)) {
		fprintf(stderr, "mpcheck: error: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 2;
	}
	if (sb.st_size) {
		void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED) {
			fprintf(stderr, "mpcheck: error: %s: %s\n", path, strerror(errno));
			close(fd);
			return 2;
		}
		gcp_mp_scan(m, (size_t)sb.st_size, &sc);
		munmap(m, (size_t)sb.st_size);
	}
	close(fd);
	printf("{\"file\":\"%s\",\"records\":%llu,\"bytes\":%lld,\"whole\":%zu,\"torn_tail\":%zu,"
	       "\"ok\":%s}\n", path, (unsigned long long)sc.records, (long long)sb.st_size, sc.whole,
	       sc.bad ? 0 : sc.tail, sc.bad ? "false" : "true");
	if (sc.bad)
		fprintf(stderr, "mpcheck: %s: not a MessagePack map at byte %zu\n", path, sc.whole);
	return sc.bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: mpcheck FILE...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		int r = check(argv[i]);
		if (r > rc)
			rc = r;
	}
	return rc;
}
