/* SPDX-License-Identifier: BSD-3-Clause */
/* A small file (configuration, rules) read whole as text. */
#ifndef GCPROBE_READFILE_H
#define GCPROBE_READFILE_H

#include <stddef.h>

/* NUL-terminated contents (free()), or NULL with "PATH: why" in err. */
char *probe_read_file(const char *path, char *err, size_t errsz);

#endif /* GCPROBE_READFILE_H */
