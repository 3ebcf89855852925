/* SPDX-License-Identifier: BSD-3-Clause */
/* --xdp-mode and --xdp-attach: named by the options, used by the AF_XDP backend and the XDP taps. */
#ifndef GCPROBE_XDP_H
#define GCPROBE_XDP_H

enum probe_xdp_mode { PROBE_XDP_AUTO, PROBE_XDP_ZC, PROBE_XDP_COPY };
enum probe_xdp_attach { PROBE_ATTACH_AUTO, PROBE_ATTACH_NATIVE, PROBE_ATTACH_GENERIC };

#endif /* GCPROBE_XDP_H */
