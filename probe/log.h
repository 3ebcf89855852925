/* SPDX-License-Identifier: BSD-3-Clause */
/* Messages of the gcprobe command: every module logs through this one call. */
#ifndef GCPROBE_LOG_H
#define GCPROBE_LOG_H

/* One line on stderr: "gcprobe: LEVEL: ..." (LEVEL: error, warning, info). */
__attribute__((format(printf, 2, 3)))
void probe_msg(const char *level, const char *fmt, ...);

#endif /* GCPROBE_LOG_H */
