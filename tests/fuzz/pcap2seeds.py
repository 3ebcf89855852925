#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Turn classic pcap files into fuzz_pipeline seeds: per capture, frames as
[u8 linktype-selector][u16 len][bytes] (at most 64 frames a seed)."""
import os
import struct
import sys

SEL = {1: 0, 101: 1, 113: 2, 276: 3, 0: 4, 108: 5}


def frames(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return None, []
        magic = struct.unpack("<I", hdr[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            end = "<"
        elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
            end = ">"
        else:
            return None, []
        link = struct.unpack(end + "I", hdr[20:24])[0]
        out = []
        while len(out) < 64:
            rh = f.read(16)
            if len(rh) < 16:
                break
            caplen = struct.unpack(end + "I", rh[8:12])[0]
            data = f.read(caplen)
            if len(data) < caplen:
                break
            out.append(data[:65535])
        return link, out


def main(src, dst):
    n = 0
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith(".pcap"):
                continue
            link, fr = frames(os.path.join(root, name))
            if link not in SEL or not fr:
                continue
            blob = b"".join(bytes([SEL[link]]) + struct.pack(">H", len(x)) + x for x in fr)
            with open(os.path.join(dst, name + ".seed"), "wb") as o:
                o.write(blob)
            n += 1
    print("%d seeds" % n)


main(sys.argv[1], sys.argv[2])
