#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Writes data/demo.pcap: a small deterministic capture for the demo
(HTTP GET over TCP, DNS over UDP, a TLS 1.2 handshake start). Addresses
are documentation ranges (RFC 5737)."""
import struct
import sys

T0 = 1700000000
frames = []


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(s):
    return bytes(int(x) for x in s.split("."))


def ipv4(src, dst, proto, payload, ident):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64,
                      proto, 0, ip4(src), ip4(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def eth(payload):
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + payload


def add(t, pkt):
    frames.append((t, eth(pkt)))


class Tcp:
    def __init__(self, cli, cport, srv, sport, isn_c, isn_s):
        self.ep = [(cli, cport), (srv, sport)]
        self.seq = [isn_c, isn_s]
        self.ident = 100

    def send(self, t, d, flags, data=b""):
        (src, sp), (dst, dp) = self.ep[d], self.ep[1 - d]
        ack = self.seq[1 - d] if flags & 0x10 else 0
        seg = struct.pack("!HHIIBBHHH", sp, dp, self.seq[d], ack, 5 << 4, flags, 65535, 0, 0)
        self.seq[d] = (self.seq[d] + len(data) + (1 if flags & 0x03 else 0)) & 0xFFFFFFFF
        self.ident += 1
        add(t, ipv4(src, dst, 6, seg + data, self.ident))

    def handshake(self, t):
        self.send(t, 0, 0x02)
        self.send(t + 0.001, 1, 0x12)
        self.send(t + 0.002, 0, 0x10)

    def close(self, t):
        self.send(t, 0, 0x11)
        self.send(t + 0.001, 1, 0x11)
        self.send(t + 0.002, 0, 0x10)


def http_session(t, cport=50000):
    c = Tcp("192.0.2.10", cport, "198.51.100.20", 80, 1000, 5000)
    c.handshake(t)
    req = (b"GET /index.html?q=1 HTTP/1.1\r\nHost: www.example.gov\r\n"
           b"User-Agent: curl/7.88.1\r\nCookie: sid=abc123\r\n"
           b"X-Forwarded-For: 203.0.113.7, 10.0.0.1\r\nAccept: */*\r\n\r\n")
    c.send(t + 0.003, 0, 0x18, req)
    body = b"<html><body>hello, supervisor</body></html>\n"
    resp = (b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body
    c.send(t + 0.010, 1, 0x18, resp)
    c.send(t + 0.011, 0, 0x10)
    c.close(t + 0.020)


def dns_name(n):
    return b"".join(bytes([len(p)]) + p.encode() for p in n.split(".")) + b"\0"


def udp(src, sp, dst, dp, payload, ident):
    seg = struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload
    return ipv4(src, dst, 17, seg, ident)


def dns_exchange(t):
    q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + dns_name("www.example.gov") + \
        struct.pack("!HH", 1, 1)
    a = struct.pack("!HHHHHH", 0x1234, 0x8180, 1, 1, 0, 0) + dns_name("www.example.gov") + \
        struct.pack("!HH", 1, 1) + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + ip4("198.51.100.20")
    add(t, udp("192.0.2.10", 40000, "192.0.2.53", 53, q, 7))
    add(t + 0.002, udp("192.0.2.53", 53, "192.0.2.10", 40000, a, 8))


def ext(typ, data):
    return struct.pack("!HH", typ, len(data)) + data


def client_hello():
    sni = b"portal.example.gov"
    exts = ext(0, struct.pack("!HBH", len(sni) + 3, 0, len(sni)) + sni)
    exts += ext(10, struct.pack("!HHH", 4, 29, 23))
    exts += ext(11, b"\x01\x00")
    exts += ext(13, struct.pack("!HHH", 4, 0x0403, 0x0804))
    alpn = b"\x02h2\x08http/1.1"
    exts += ext(16, struct.pack("!H", len(alpn)) + alpn)
    body = b"\x03\x03" + bytes(range(32)) + b"\x00" + struct.pack("!HHH", 4, 0xC02F, 0xC030) + \
        b"\x01\x00" + struct.pack("!H", len(exts)) + exts
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def server_hello():
    body = b"\x03\x03" + bytes(range(32, 64)) + b"\x00" + struct.pack("!H", 0xC02F) + b"\x00"
    exts = ext(16, struct.pack("!H", 3) + b"\x02h2")
    body += struct.pack("!H", len(exts)) + exts
    hs = b"\x02" + struct.pack("!I", len(body))[1:] + body
    done = b"\x0e\x00\x00\x00"
    return b"\x16\x03\x03" + struct.pack("!H", len(hs + done)) + hs + done


def tls_session(t, cport=50001):
    c = Tcp("192.0.2.10", cport, "198.51.100.30", 443, 7000, 9000)
    c.handshake(t)
    c.send(t + 0.003, 0, 0x18, client_hello())
    c.send(t + 0.010, 1, 0x18, server_hello())
    c.send(t + 0.011, 0, 0x10)
    c.close(t + 0.050)


def write(path):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, fr in sorted(frames, key=lambda x: x[0]):
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            f.write(struct.pack("<IIII", sec, usec, len(fr), len(fr)) + fr)


# Optional second argument: repeat the sessions N times (long captures for
# shutdown tests); the default writes the three-session demo.
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 1
for i in range(reps):
    dns_exchange(T0 + i * 0.5)
    http_session(T0 + i * 0.5 + 0.1, 1024 + (48976 + 2 * i) % 64000)
    tls_session(T0 + i * 0.5 + 0.2, 1024 + (48977 + 2 * i) % 64000)
write(sys.argv[1] if len(sys.argv) > 1 else "data/demo.pcap")
