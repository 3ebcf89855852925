#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Fuzz seeds from the capture corpus, in each target's input format.

  pcap2seeds.py TARGET CORPUS_DIR OUT_DIR

TARGET: pipeline (frames [u8 link-sel][u16 len][bytes]), decode (one
frame after a link byte; fragment trains framed), pcap (small captures
as they are), or a stream target (http, http2, tls, dns, mail, ftp,
quic): TCP/UDP payloads of the corpus flows on the protocol's ports, in
the target's chunk format. Standard library only (no scapy/dpkt)."""
import hashlib
import os
import struct
import sys

LINK_SEL = {1: 0, 101: 1, 113: 2, 276: 3, 0: 4, 108: 5, 228: 6, 229: 7}
MAX_SEED = 65536
PORTS = {
    "http": {80, 8080, 8000, 3128},
    "http2": {80, 8080, 3000, 443},
    "quic": {443, 4433, 8443},
    "tls": {443, 465, 993, 995, 8443, 853},
    "dns": {53, 5353},
    "ftp": {21},
    "smtp": {25, 587},
    "pop3": {110},
    "imap": {143},
}


# ---- capture readers ------------------------------------------------------

def read_pcap(buf):
    magic = struct.unpack("<I", buf[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    link = struct.unpack(end + "I", buf[20:24])[0] & 0xFFFF
    pos = 24
    while pos + 16 <= len(buf):
        caplen = struct.unpack(end + "I", buf[pos + 8:pos + 12])[0]
        data = buf[pos + 16:pos + 16 + caplen]
        if len(data) < caplen:
            break
        yield link, data
        pos += 16 + caplen


def read_pcapng(buf):
    pos, end, links = 0, "<", []
    while pos + 12 <= len(buf):
        btype = struct.unpack(end + "I", buf[pos:pos + 4])[0]
        if btype == 0x0A0D0D0A:
            end = "<" if buf[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
        blen = struct.unpack(end + "I", buf[pos + 4:pos + 8])[0]
        if blen < 12 or pos + blen > len(buf):
            break
        body = buf[pos + 8:pos + blen - 4]
        if btype == 1 and len(body) >= 2:
            links.append(struct.unpack(end + "H", body[:2])[0])
        elif btype == 6 and len(body) >= 20:
            ifc, caplen = struct.unpack(end + "I", body[:4])[0], \
                struct.unpack(end + "I", body[12:16])[0]
            if ifc < len(links):
                yield links[ifc], body[20:20 + caplen]
        elif btype == 3 and len(body) >= 4 and links:
            yield links[0], body[4:]
        pos += blen


def packets(path):
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 24:
        return []
    if buf[:4] == b"\x0a\x0d\x0d\x0a":
        return list(read_pcapng(buf))
    if struct.unpack("<I", buf[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D, 0xD4C3B2A1, 0x4D3CB2A1):
        return list(read_pcap(buf))
    return []


def corpus_files(src):
    for root, _, files in sorted(os.walk(src)):
        for name in sorted(files):
            if name.endswith((".pcap", ".pcapng")):
                yield os.path.join(root, name)


# ---- minimal decoding: link, VLAN, IPv4/IPv6, TCP/UDP ---------------------

def l3(link, d):
    """(ethertype, offset) of the network header, or None."""
    if link == 1:
        off, et = 14, struct.unpack(">H", d[12:14])[0] if len(d) >= 14 else 0
        while et in (0x8100, 0x88A8) and len(d) >= off + 4:
            et, off = struct.unpack(">H", d[off + 2:off + 4])[0], off + 4
        return et, off
    if link == 113 and len(d) >= 16:
        return struct.unpack(">H", d[14:16])[0], 16
    if link == 276 and len(d) >= 20:
        return struct.unpack(">H", d[0:2])[0], 20
    if link in (101, 228, 229) and d:
        return (0x86DD if d[0] >> 4 == 6 else 0x0800), 0
    if link in (0, 108) and len(d) >= 4:
        return (0x86DD if d[4] >> 4 == 6 else 0x0800) if len(d) > 4 else 0, 4
    return None


def l4(link, d):
    """(proto, src, sport, dst, dport, seq, flags, payload) or None."""
    r = l3(link, d)
    if not r:
        return None
    et, off = r
    if et == 0x0800 and len(d) >= off + 20:
        ihl = (d[off] & 15) * 4
        tot = struct.unpack(">H", d[off + 2:off + 4])[0]
        if struct.unpack(">H", d[off + 6:off + 8])[0] & 0x3FFF:
            return None  # fragment
        proto, src, dst = d[off + 9], d[off + 12:off + 16], d[off + 16:off + 20]
        end = min(len(d), off + tot) if tot else len(d)
        off += ihl
    elif et == 0x86DD and len(d) >= off + 40:
        proto, src, dst = d[off + 6], d[off + 8:off + 24], d[off + 24:off + 40]
        end = min(len(d), off + 40 + struct.unpack(">H", d[off + 4:off + 6])[0])
        off += 40
    else:
        return None
    if proto == 6 and end >= off + 20:
        sp, dp, seq = struct.unpack(">HHI", d[off:off + 8])
        doff = (d[off + 12] >> 4) * 4
        return 6, src, sp, dst, dp, seq, d[off + 13], d[off + doff:end]
    if proto == 17 and end >= off + 8:
        sp, dp = struct.unpack(">HH", d[off:off + 4])
        return 17, src, sp, dst, dp, 0, 0, d[off + 8:end]
    return None


def flows(path, ports):
    """Per flow on one of ports: [(dir, payload)] in capture order, TCP
    retransmissions (same dir and seq) dropped; dir 0 = client."""
    out, seen = {}, set()
    for link, d in packets(path):
        p = l4(link, d)
        if not p:
            continue
        proto, src, sp, dst, dp, seq, flags, pay = p
        if dp in ports:
            key, direction = (proto, src, sp, dst, dp), 0
        elif sp in ports:
            key, direction = (proto, dst, dp, src, sp), 1
        else:
            continue
        if not pay:
            continue
        if proto == 6:
            tag = (key, direction, seq)
            if tag in seen:
                continue
            seen.add(tag)
        out.setdefault(key, []).append((direction, bytes(pay)))
    return list(out.values())


# ---- target encodings ------------------------------------------------------

def enc_u16_chunks(msgs, first_dir, max_chunk=65535):
    """[u16 len][bytes] chunks alternating direction; an empty chunk
    flips the direction where two messages go the same way."""
    out, cur = bytearray(), first_dir
    for direction, pay in msgs:
        for i in range(0, len(pay), max_chunk):
            if direction != cur:
                out += b"\x00\x00"
                cur ^= 1
            piece = pay[i:i + max_chunk]
            out += struct.pack(">H", len(piece)) + piece
            cur ^= 1
    return bytes(out)


def enc_http(msgs):
    """fuzz_http: [flags][u8 ctl][bytes]; ctl <= 0xfd is a chunk length."""
    out, cur = bytearray(b"\x00"), 0
    for direction, pay in msgs:
        for i in range(0, len(pay), 0xFD):
            if direction != cur:
                out += b"\x00"
                cur ^= 1
            piece = pay[i:i + 0xFD]
            out += bytes([len(piece)]) + piece
            cur ^= 1
    return bytes(out)


def tls_gap_seed(msgs, direction):
    """fuzz_tls, one direction (flags bit 2) with gaps on (bit 1): the
    direction's bytes with 100 of them lost a third of the way in (the
    empty chunk is the gap), so the rest goes through the resync path."""
    stream = b"".join(pay for d, pay in msgs if d == direction)
    if len(stream) < 300:
        return None
    cut = len(stream) // 3
    out = bytearray([4 | 2 | direction])
    for part in (stream[:cut], b"", stream[cut + 100:]):
        for i in range(0, max(len(part), 1), 65535):
            piece = part[i:i + 65535]
            out += struct.pack(">H", len(piece)) + piece
    return bytes(out)


def stream_seeds(target, src):
    if target == "mail":
        kinds = [("smtp", 16 | 0), ("pop3", 16 | 1), ("imap", 16 | 2)]
    else:
        kinds = [(target, None)]
    for proto, sel in kinds:
        for path in corpus_files(src):
            for msgs in flows(path, PORTS[proto]):
                if target == "http":
                    yield enc_http(msgs)
                elif target == "dns":
                    tcp = len(msgs[0][1]) > 1 and msgs[0][1][:2] == struct.pack(">H", len(msgs[0][1]) - 2)
                    yield bytes([1 if tcp else 0]) + enc_u16_chunks(msgs, 0)
                    if tcp:  # the flow thrice, every 7th 100-byte piece lost:
                        # framing found again on a later message
                        yield bytes([1 | 7 << 4]) + enc_u16_chunks(msgs * 3, 0, 100)
                elif target == "mail":
                    yield bytes([sel]) + enc_u16_chunks(msgs, 0)
                elif target == "http2":
                    if msgs[0][1].startswith(b"\x16\x03"):
                        continue  # TLS on 443: nothing for HTTP/2 to read
                    # prior knowledge straight to HTTP/2; else through HTTP/1
                    pk = msgs[0][1].startswith(b"PRI * HTTP/2.0")
                    yield bytes([0 if pk else 8]) + enc_u16_chunks(msgs, 0)
                elif target == "quic":
                    yield b"\x00" + b"".join(bytes([d]) + struct.pack(">H", len(p)) + p
                                             for d, p in msgs if len(p) <= 0xFFFF)
                else:  # tls, ftp: flags 0 = client first, alternating
                    yield b"\x00" + enc_u16_chunks(msgs, 0)
                    for d in (0, 1) if target == "tls" else ():
                        seed = tls_gap_seed(msgs, d)
                        if seed:
                            yield seed


def frame_seeds(target, src):
    for path in corpus_files(src):
        pk = [(l, d) for l, d in packets(path) if l in LINK_SEL]
        if not pk:
            continue
        if target == "pipeline":
            blob = b"".join(bytes([LINK_SEL[l]]) + struct.pack(">H", len(d[:65535])) + d[:65535]
                            for l, d in pk[:64])
            yield blob
        elif "/frag/" in path or "/encap/" in path:
            sel = LINK_SEL[pk[0][0]]
            yield bytes([sel | 8]) + b"".join(struct.pack(">H", len(d)) + d
                                              for l, d in pk[:32] if LINK_SEL.get(l) == sel)
        else:
            for l, d in pk[:8]:
                yield bytes([LINK_SEL[l]]) + d


def pcap_seeds(src):
    for path in corpus_files(src):
        if os.path.getsize(path) <= MAX_SEED:
            with open(path, "rb") as f:
                yield f.read()


def main(target, src, dst):
    if target in ("pipeline", "decode"):
        gen = frame_seeds(target, src)
    elif target == "pcap":
        gen = pcap_seeds(src)
    elif target in ("http", "http2", "tls", "dns", "mail", "ftp", "quic"):
        gen = stream_seeds(target, src)
    else:
        sys.exit("pcap2seeds: unknown target '%s'" % target)
    os.makedirs(dst, exist_ok=True)
    n = 0
    for seed in gen:
        seed = seed[:MAX_SEED]
        if len(seed) < 2:
            continue
        name = hashlib.sha1(seed).hexdigest()
        with open(os.path.join(dst, name), "wb") as o:
            o.write(seed)
        n += 1
    print("%s: %d seeds" % (target, n))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
