/* SPDX-License-Identifier: BSD-3-Clause */
/* A main for fuzz targets built without libFuzzer (fuzz_regress_* tests):
 * every file named, or found in a directory named, goes twice through
 * LLVMFuzzerTestOneInput (the second run meets whatever state the first
 * left, as under libFuzzer). A finding aborts; sanitizers report the rest. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto fail;
	buf = malloc(n ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		goto fail;
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
fail:
	fprintf(stderr, "replay: error: cannot read %s\n", path);
	if (f)
		fclose(f);
	free(buf);
	return -1;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Returns inputs replayed, -1 on a read error. */
static int replay_path(const char *path)
{
	struct stat st;
	struct dirent **ents;
	int n, done = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: error: no such file or directory: %s\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path) == 0 ? 1 : -1;
	n = scandir(path, &ents, NULL, by_name);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		char sub[4096];

		if (ents[i]->d_name[0] != '.' && done >= 0) {
			snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]->d_name);
			done = replay_file(sub) == 0 ? done + 1 : -1;
		}
		free(ents[i]);
	}
	free(ents);
	return done;
}

int main(int argc, char **argv)
{
	int total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		int n = replay_path(argv[i]);

		if (n < 0)
			return 1;
		total += n;
	}
	if (total == 0) {
		fprintf(stderr, "replay: error: no inputs found\n");
		return 1;
	}
	printf("replayed %d inputs\n", total);
	return 0;
}
