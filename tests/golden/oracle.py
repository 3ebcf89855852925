#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Golden oracle: expected C.4 records (tcp, http, dns) from tshark.

http covers HTTP/1.x, HTTPS (TLS ClientHello), HTTP/2 streams (h2c) and
QUIC connections (their decrypted Initial ClientHello).

Runs tshark (4.0.x) over every capture of the corpus folders listed in
FOLDERS and writes tests/golden/expected/<folder>/<file>.exp: a header
line "#types ..." naming the record types that are checked, then one
line per expected record, sorted:

    type<TAB>key=value<TAB>key=value...

Only keys that tshark establishes reliably are written; the C harness
(golden_test.c) checks that every expected line matches one distinct
record and that the number of records of each checked type is equal.
Values escape backslash, tab and newline as \\\\, \\t and \\n.

Usage: oracle.py [--corpus DIR] [--out DIR] [capture ...]
Python standard library only.
"""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CORPUS = os.path.normpath(os.path.join(HERE, "..", "..", "..",
                                               "shared", "corpus"))
FOLDERS = ["tcp", "encap", "ipv6", "frag", "malformed", "http", "tls",
           "dns", "mixed", "http2", "quic"]
CAPTURE_EXT = (".pcap", ".pcapng")

# Preferences applied to every run. Out-of-order reassembly is off by
# default in tshark 4.0; the engine reassembles out-of-order segments,
# so the oracle must too or HTTP/DNS-over-TCP split out of order is lost.
# tshark flags a repeated DNS query as a retransmission only within 5 s
# (dns.retransmission_timer); the engine keeps a query pending until its
# answer (the harness turns timeouts off), so any repeat of an
# id + tuple is the same transaction.
TSHARK_PREFS = ["-o", "tcp.reassemble_out_of_order:TRUE",
                "-o", "tcp.desegment_tcp_streams:TRUE",
                "-o", "dns.retransmission_timer:3600"]

# Our DNS dissector runs on these ports (UDP and TCP). tshark calls the
# same wire format "mdns" on 5353 and "llmnr" on 5355: both are taken.
DNS_PORTS = {53, 5353, 5355}
DNS_LAYERS = ("dns", "mdns", "llmnr")

# ---------------------------------------------------------------------------
# Per-file overrides for documented tshark quirks. Keys are
# "<folder>/<file>". Entries:
#   types:     record types checked for this file (replaces the default)
#   decode_as: extra tshark "-d" arguments (protocol on a non-standard port)
#   drop_keys: {type: [keys]} keys removed from every line of that type
# Each entry says why.
# ---------------------------------------------------------------------------
OVERRIDES = {
    # Malformed captures: the point is that the engine survives them
    # (ASan does the rest); tshark's view of broken DNS/HTTP payloads is
    # not a contract, TCP connections are.
    "malformed/*": {"types": ["tcp"]},
    # SSLv2-compatible ClientHello: tshark decodes it (ssl2 record) but
    # fills no tls.handshake.* fields (no JA3, no SNI), so whether an
    # https record is due is not something tshark can say.
    "tls/zeek-tls-sslv2-hello.pcap": {"types": ["tcp", "dns"]},
    # h2c with prior knowledge on ports tshark has no HTTP/2 heuristic
    # for (4.0 only finds it after an HTTP/1.1 upgrade or on its
    # configured ports): the engine finds it by the connection preface.
    "http2/suricata-http2-keywords.pcap": {"decode_as": ["tcp.port==3000,http2"]},
    "http2/suricata-http2-bugfixes.pcap": {"decode_as": ["tcp.port==443,http2"]},
}

DEFAULT_TYPES = ["tcp", "http", "dns"]

QTYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX",
          16: "TXT", 28: "AAAA", 33: "SRV", 35: "NAPTR", 41: "OPT",
          43: "DS", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 50: "NSEC3",
          52: "TLSA", 64: "SVCB", 65: "HTTPS", 99: "SPF", 249: "TKEY",
          250: "TSIG", 251: "IXFR", 252: "AXFR", 255: "ANY", 257: "CAA"}
QCLASSES = {1: "IN", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY"}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN",
          4: "NOTIMP", 5: "REFUSED", 6: "YXDOMAIN", 7: "YXRRSET",
          8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE", 16: "BADVERS",
          17: "BADKEY", 18: "BADTIME", 19: "BADMODE", 20: "BADNAME",
          21: "BADALG", 22: "BADTRUNC", 23: "BADCOOKIE"}
OPCODES = {0: "QUERY", 1: "IQUERY", 2: "STATUS", 4: "NOTIFY", 5: "UPDATE"}


def tshark(path, args):
    cmd = ["tshark", "-n", "-r", path] + TSHARK_PREFS + args
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         check=False)
    if res.returncode not in (0, 2):  # 2: capture cut short (malformed)
        sys.stderr.write("tshark failed on %s: %s\n"
                         % (path, res.stderr.decode(errors="replace")))
        sys.exit(1)
    return res.stdout.decode("utf-8", errors="surrogateescape")


def tshark_json(path, layers, dfilter, extra):
    out = tshark(path, ["-2", "-T", "json", "--no-duplicate-keys",
                        "-J", " ".join(layers), "-Y", dfilter] + extra)
    out = out.strip()
    return json.loads(out) if out else []


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def find_key(obj, key):
    """First value of key anywhere in a JSON subtree (depth first)."""
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for v in obj.values():
            r = find_key(v, key)
            if r is not None:
                return r
    elif isinstance(obj, list):
        for v in obj:
            r = find_key(v, key)
            if r is not None:
                return r
    return None


def escape(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def fmt_line(rtype, keys):
    parts = [rtype] + ["%s=%s" % (k, escape(str(v)))
                       for k, v in sorted(keys.items())]
    return "\t".join(parts)


def endpoint(ip, port):
    return ("[%s]:%s" % (ip, port)) if ":" in ip else ("%s:%s" % (ip, port))


# ---- tcp ------------------------------------------------------------------

TCP_FIELDS = ["frame.protocols", "tcp.stream", "tcp.flags", "tcp.srcport",
              "tcp.dstport", "ip.src", "ip.dst", "ip.len", "ip.hdr_len",
              "ip.frag_offset", "ip.reassembled.length", "ipv6.src", "ipv6.dst", "ipv6.plen"]


def innermost_ip(protos):
    """('ip'|'ipv6', index among that family) of the header carrying TCP,
    or None when the TCP header sits inside an ICMP error."""
    toks = protos.split(":")
    if "tcp" not in toks:
        return None
    toks = toks[:toks.index("tcp")]
    if "icmp" in toks or "icmpv6" in toks:
        return None
    fam, counts = None, {"ip": 0, "ipv6": 0}
    for t in toks:
        if t in counts:
            fam = t
            counts[t] += 1
    if fam is None:
        return None
    return fam, counts[fam] - 1


def pick(csv, idx):
    vals = csv.split(",") if csv else []
    return vals[idx] if idx < len(vals) else (vals[-1] if vals else "")


def tcp_packets(path):
    args = ["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
            "-Y", "tcp"]
    for f in TCP_FIELDS:
        args += ["-e", f]
    for line in tshark(path, args).splitlines():
        cols = line.split("\t")
        cols += [""] * (len(TCP_FIELDS) - len(cols))
        row = dict(zip(TCP_FIELDS, cols))
        where = innermost_ip(row["frame.protocols"])
        if where is None or not row["tcp.stream"]:
            continue
        yield tcp_packet(row, where)


def tcp_packet(row, where):
    fam, idx = where
    if fam == "ip":
        src, dst = pick(row["ip.src"], idx), pick(row["ip.dst"], idx)
        length = int(pick(row["ip.len"], idx))
        if row["ip.reassembled.length"] and \
                pick(row["ip.frag_offset"], idx) not in ("", "0"):
            # This header was reassembled (it is the last fragment; an
            # outer tunnel header may be the fragmented one instead):
            # count the datagram's IP length, header + whole payload,
            # where tshark's ip.len is the last fragment's.
            length = (int(pick(row["ip.hdr_len"], idx))
                      + int(row["ip.reassembled.length"].split(",")[-1]))
    else:
        src, dst = pick(row["ipv6.src"], idx), pick(row["ipv6.dst"], idx)
        length = int(pick(row["ipv6.plen"], idx)) + 40
    return {"stream": int(row["tcp.stream"].split(",")[0]),
            "flags": int(row["tcp.flags"].split(",")[0], 16),
            "src": src, "sport": int(row["tcp.srcport"].split(",")[0]),
            "dst": dst, "dport": int(row["tcp.dstport"].split(",")[0]),
            "len": length}


FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10


def tcp_state(pkts):
    """Zeek conn_state where the flags leave no doubt, else None."""
    first = pkts[0]
    pure_syn = lambda p: p["flags"] & (SYN | ACK | RST) == SYN
    synack = lambda p: p["flags"] & (SYN | ACK) == (SYN | ACK)
    if not pure_syn(first):
        if any(p["flags"] & (SYN | FIN | RST) for p in pkts):
            return None
        return "OTH"  # mid-stream data only: no SYN, SYN-ACK, FIN, RST
    cli = (first["src"], first["sport"])
    orig = [p for p in pkts if (p["src"], p["sport"]) == cli]
    resp = [p for p in pkts if (p["src"], p["sport"]) != cli]
    o_only_syn = all(pure_syn(p) for p in orig)
    o_rst = any(p["flags"] & RST for p in orig)
    r_rst = any(p["flags"] & RST for p in resp)
    o_fin = any(p["flags"] & FIN for p in orig)
    r_fin = any(p["flags"] & FIN for p in resp)
    has_synack = any(synack(p) for p in resp)
    # established: SYN-ACK answered by a bare ACK from the originator
    est = has_synack and any(p["flags"] & (SYN | ACK) == ACK for p in orig)
    if (o_rst or r_rst) and (o_fin or r_fin):
        return None  # FIN and RST: depends on the order of endpoint states
    if not resp:
        return "S0" if o_only_syn else None
    if r_rst:
        if o_only_syn and not has_synack:
            return "REJ"
        return "RSTR" if est else None
    if o_rst:
        return "RSTO" if est else None
    if o_fin and r_fin:
        return "SF" if est else None
    if not o_fin and not r_fin and est:
        return "S1"
    return None


def tcp_records(path):
    streams = {}
    for p in tcp_packets(path):
        streams.setdefault(p["stream"], []).append(p)
    lines = []
    for pkts in streams.values():
        first = pkts[0]
        eps = sorted([endpoint(first["src"], first["sport"]),
                      endpoint(first["dst"], first["dport"])])
        keys = {"endpoints": ",".join(eps), "pkts": len(pkts),
                "session_bytes": sum(p["len"] for p in pkts)}
        if first["flags"] & (SYN | ACK | RST) == SYN:
            keys["src_ip"] = first["src"]
            keys["src_port"] = first["sport"]
        state = tcp_state(pkts)
        if state:
            keys["state"] = state
        lines.append(fmt_line("tcp", keys))
    return lines


# ---- http -----------------------------------------------------------------

def http_str(layer, field):
    v = find_key(layer, field)
    # A repeated header shows as a list: which one the record keeps is
    # not tshark's to say, so the key is left out; so is an empty value
    # (the schema omits unknown keys, an empty header may be either).
    return v if isinstance(v, str) and v != "" else None


def http_messages(path, extra):
    msgs = []
    for pkt in tshark_json(path, ["frame", "http", "tcp"], "http", extra):
        layers = pkt["_source"]["layers"]
        frame = int(find_key(layers.get("frame", {}), "frame.number") or 0)
        tcp = as_list(layers.get("tcp"))
        stream = find_key(tcp[-1], "tcp.stream") if tcp else None
        for i, h in enumerate(as_list(layers.get("http"))):
            msgs.append({"frame": frame, "idx": i, "stream": stream,
                         "layer": h})
    return msgs


def http_request_keys(h):
    keys = {}
    for key, field in (("method", "http.request.method"),
                       ("url", "http.request.uri"),
                       ("host", "http.host"),
                       ("version", "http.request.version"),
                       ("cookie", "http.cookie"),
                       ("user_agent", "http.user_agent"),
                       ("referer", "http.referer")):
        v = http_str(h, field)
        if v is not None:
            keys[key] = v
    xff = http_str(h, "http.x_forwarded_for")
    if xff:
        keys["real_ip"] = xff.split(",")[0].strip()
    return keys


def http_response_keys(h, with_version):
    keys = {}
    code = http_str(h, "http.response.code")
    if code is not None:
        keys["status"] = code
    server = http_str(h, "http.server")
    if server is not None:
        keys["server"] = server
    ver = http_str(h, "http.response.version")
    if with_version and ver is not None:
        keys["version"] = ver
    return keys


def http_records(path, extra):
    msgs = http_messages(path, extra)
    reqs = [m for m in msgs if "http.request" in m["layer"]]
    resps = [m for m in msgs if "http.response" in m["layer"]]
    # 1xx are interim responses, not transactions (RFC 9110 15.2); tshark
    # dissects a request only once its body is complete, after the
    # "100 Continue" it provoked, and shows that 100 as unanswered.
    resps = [m for m in resps
             if not (http_str(m["layer"], "http.response.code") or "0")
             .startswith("1")]
    used = set()
    lines = []
    for q in reqs:
        keys = http_request_keys(q["layer"])
        r = pair_response(q, resps, used)
        if r is not None:
            keys.update(http_response_keys(r["layer"], False))
        lines.append(fmt_line("http", keys))
    for r in resps:
        if id(r) not in used:
            lines.append(fmt_line("http", http_response_keys(r["layer"],
                                                             True)))
    return lines


def pair_response(q, resps, used):
    """The response whose http.request_in names q's frame (first unused,
    so pipelined requests in one frame pair in order)."""
    for r in resps:
        if id(r) in used or r["stream"] != q["stream"]:
            continue
        if http_str(r["layer"], "http.request_in") == str(q["frame"]):
            used.add(id(r))
            return r
    return None


# ---- https (http records for TLS) ------------------------------------------

TLS_FIELDS = ["frame.protocols", "tcp.stream",
              "tls.handshake.extensions_server_name", "tls.handshake.ja3",
              "tls.handshake.extensions_alpn_str"]


def tshark_rows(path, fields, dfilter, extra):
    """One dict per packet matching dfilter: every occurrence of a field,
    joined by |."""
    args = ["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
            "-E", "aggregator=|", "-Y", dfilter]
    for f in fields:
        args += ["-e", f]
    for line in tshark(path, args + extra).splitlines():
        cols = line.split("\t")
        cols += [""] * (len(fields) - len(cols))
        yield dict(zip(fields, cols))


def https_records(path, extra):
    seen = {}
    for row in tshark_rows(path, TLS_FIELDS, "tcp && tls.handshake.type == 1", extra):
        if innermost_ip(row["frame.protocols"]) is None:
            continue
        stream = row["tcp.stream"].split("|")[0]
        if stream in seen:
            continue  # a second ClientHello (HelloRetryRequest): first wins
        seen[stream] = fmt_line("http", hello_keys(row))
    return list(seen.values())


def hello_keys(row):
    """The https keys of a ClientHello (TLS over TCP or in QUIC)."""
    keys = {"scheme": "https"}
    sni = row["tls.handshake.extensions_server_name"].split("|")[0]
    if sni:
        keys["host"] = sni
        keys["tls.sni"] = sni
    ja3 = row["tls.handshake.ja3"].split("|")[0]
    if ja3:
        keys["tls.ja3"] = ja3
    if row["tls.handshake.extensions_alpn_str"]:
        keys["tls.alpn"] = row["tls.handshake.extensions_alpn_str"]
    return keys


# ---- http2 (h2c) -------------------------------------------------------------
#
# One line per HTTP/2 stream that carried a header block: the request's
# (client to server HEADERS, or a server's PUSH_PROMISE for the promised
# stream) and the response's (the first one without a 1xx :status; later
# blocks are trailers). A block's fields are gathered over its HEADERS/
# PUSH_PROMISE and CONTINUATION frames up to END_HEADERS. The stream of
# an HTTP/1.1 upgrade (stream 1) has only its response in HTTP/2.

H2_END_HEADERS = 0x4
H2_REQ_KEYS = ((":method", "method"), (":path", "url"), ("user-agent", "user_agent"),
               ("cookie", "cookie"), ("referer", "referer"))
H2_RESP_KEYS = ((":status", "status"), ("server", "server"))


def h2_value(fields, name):
    """The field's value when it occurs once and is not empty (as
    http_str: which of several the record keeps is not tshark's to say)."""
    vals = [v for n, v in fields if n == name]
    return vals[0] if len(vals) == 1 and vals[0] != "" else None


def h2_frames(layer):
    """The frame dicts of one http2 layer (one per frame)."""
    for part in as_list(layer):
        for fr in as_list(part.get("http2.stream") if isinstance(part, dict) else None):
            if isinstance(fr, dict):
                yield fr


def h2_fields(fr):
    out = []
    for h in as_list(fr.get("http2.header")):
        if isinstance(h, dict) and isinstance(h.get("http2.header.name"), str):
            v = h.get("http2.header.value")
            out.append((h["http2.header.name"], v if isinstance(v, str) else ""))
    return out


def tcp_clients(path):
    """tcp.stream -> (ip, port) of the SYN sender."""
    out = {}
    for p in tcp_packets(path):
        if p["stream"] not in out and p["flags"] & (SYN | ACK | RST) == SYN:
            out[p["stream"]] = (p["src"], p["sport"])
    return out


def h2_packet_src(layers):
    ip = as_list(layers.get("ipv6")) or as_list(layers.get("ip"))
    tcp = as_list(layers.get("tcp"))
    if not ip or not tcp:
        return None, None
    src = find_key(ip[-1], "ipv6.src") or find_key(ip[-1], "ip.src")
    return find_key(tcp[-1], "tcp.stream"), (src, int(find_key(tcp[-1], "tcp.srcport") or 0))


def h2_block_done(streams, key, blk, client):
    tstream, sid, src = key
    push = blk["promised"] is not None
    target = (tstream, blk["promised"] if push else sid)
    role = "req" if push or src == client else "resp"
    fields = blk["fields"]
    if role == "resp" and (h2_value(fields, ":status") or "").startswith("1"):
        return  # interim response (RFC 9110 15.2)
    st = streams.setdefault(target, {})
    st.setdefault(role, fields)  # a later block is trailers


def h2_keys(st):
    keys = {"version": "HTTP/2"}
    req, resp = st.get("req"), st.get("resp")
    if req is not None:
        for name, key in H2_REQ_KEYS:
            v = h2_value(req, name)
            if v is not None:
                keys[key] = v
        host = h2_value(req, ":authority") or h2_value(req, "host")
        if host:
            keys["host"] = host
        xff = h2_value(req, "x-forwarded-for")
        if xff:
            keys["real_ip"] = xff.split(",")[0].strip()
    if resp is not None:
        for name, key in H2_RESP_KEYS:
            v = h2_value(resp, name)
            if v is not None:
                keys[key] = v
    return keys


def http2_records(path, extra):
    clients = tcp_clients(path)
    streams, open_blocks = {}, {}
    for pkt in tshark_json(path, ["frame", "ip", "ipv6", "tcp", "http2"], "http2",
                           extra):
        layers = pkt["_source"]["layers"]
        tstream, src = h2_packet_src(layers)
        if tstream is None:
            continue
        client = clients.get(int(tstream))
        for fr in h2_frames(layers.get("http2")):
            ftype = fr.get("http2.type")
            if ftype not in ("1", "5", "9"):
                continue
            key = (tstream, int(fr.get("http2.streamid", "0")), src)
            blk = open_blocks.get(key)
            if ftype != "9" or blk is None:
                prom = fr.get("http2.push_promise.promised_stream_id")
                blk = {"fields": [], "promised": int(prom) if ftype == "5" and prom
                       else None}
            blk["fields"] += h2_fields(fr)
            open_blocks[key] = blk
            if int(fr.get("http2.flags", "0"), 16) & H2_END_HEADERS:
                del open_blocks[key]
                h2_block_done(streams, key, blk, client)
    return [fmt_line("http", h2_keys(st)) for st in streams.values()]


# ---- quic (http records for QUIC Initials) ------------------------------------
#
# One line per UDP conversation whose client Initial tshark decrypts to a
# TLS ClientHello (the first one: after a Retry the client sends another).

QUIC_FIELDS = ["udp.stream", "quic.version", "tls.handshake.extensions_server_name",
               "tls.handshake.ja3", "tls.handshake.extensions_alpn_str"]


def quic_records(path, extra):
    seen = {}
    for row in tshark_rows(path, QUIC_FIELDS, "quic && tls.handshake.type == 1", extra):
        stream = row["udp.stream"].split("|")[0]
        if stream in seen:
            continue
        keys = hello_keys(row)
        keys["quic_version"] = row["quic.version"].split("|")[0]
        seen[stream] = fmt_line("http", keys)
    return list(seen.values())


# ---- dns ------------------------------------------------------------------

def dns_messages(path, extra):
    msgs = []
    pkts = tshark_json(path, ["frame", "udp", "tcp"] + list(DNS_LAYERS),
                       " || ".join(DNS_LAYERS), extra)
    for pkt in pkts:
        layers = pkt["_source"]["layers"]
        frame = find_key(layers.get("frame", {}), "frame.number")
        protos = find_key(layers.get("frame", {}), "frame.protocols") or ""
        if ":icmp:" in protos or ":icmpv6:" in protos:
            continue  # a DNS message quoted in an ICMP error
        l4 = as_list(layers.get("udp")) or as_list(layers.get("tcp"))
        if not l4:
            continue
        l4 = l4[-1]
        ports = {int(find_key(l4, k) or 0) for k in
                 ("udp.srcport", "udp.dstport", "tcp.srcport", "tcp.dstport")}
        if not ports & DNS_PORTS:
            continue
        for name in DNS_LAYERS:
            for m in as_list(layers.get(name)):
                # A retransmitted query (same id and tuple) or a repeated
                # response belongs to the transaction already seen.
                if "dns.retransmission" in m:
                    continue
                msgs.append({"frame": frame, "dns": m})
    return msgs


def num(v, base=10):
    return int(v, 16) if isinstance(v, str) and v.startswith("0x") \
        else int(v, base)


def dns_question(m):
    keys = {}
    q = m.get("Queries")
    if not isinstance(q, dict) or len(q) != 1:
        q = m.get("Zone")  # UPDATE (RFC 2136 2.3): the zone section
    if not isinstance(q, dict) or not q:
        return keys
    q = next(iter(q.values()))
    if not isinstance(q, dict):
        return keys
    name = q.get("dns.qry.name") or q.get("dns.zone.name")
    if isinstance(name, str) and name != "<Root>":
        keys["qname"] = name.lower().rstrip(".")
    qtype = q.get("dns.qry.type") or q.get("dns.zone.type")
    if isinstance(qtype, str) and num(qtype) in QTYPES:
        # Outside the agreed list (QTYPES) the mnemonic is a vocabulary
        # choice (NXT, LOC, ...), not a fact tshark can vouch for.
        keys["qtype"] = QTYPES[num(qtype)]
    qclass = q.get("dns.qry.class") or q.get("dns.zone.class")
    if isinstance(qclass, str) and num(qclass) < 0x8000:
        # mDNS sets the top bit (unicast response, RFC 6762 5.4): whether
        # the record keeps it is not tshark's to say, so left out then.
        keys["qclass"] = QCLASSES.get(num(qclass), str(num(qclass)))
    return keys


def dns_counts(m):
    keys = {}
    for key, fields in (("qdcount", ("dns.count.queries", "dns.count.zones")),
                        ("ancount", ("dns.count.answers",
                                     "dns.count.prerequisites")),
                        ("nscount", ("dns.count.auth_rr",
                                     "dns.count.updates")),
                        ("arcount", ("dns.count.add_rr",))):
        for f in fields:
            if isinstance(m.get(f), str):
                keys[key] = num(m[f])
                break
    return keys


def dns_ttls(m):
    ans = m.get("Answers")
    if not isinstance(ans, dict):
        return None
    ttls = []
    for rr in ans.values():
        # identical RR texts get merged into one list by
        # --no-duplicate-keys, which loses their order: leave ttl out
        if not isinstance(rr, dict) or not isinstance(rr.get("dns.resp.ttl"),
                                                       str):
            return None
        ttls.append(rr["dns.resp.ttl"])
    return "|".join(ttls) if ttls else None


# Answer rdata in our presentation form (dig's, RFC 1035 5.1): written
# only for the types whose tshark fields give every byte of it. Names:
# as on the wire (case kept), no trailing dot, the root as "."; only
# names of plain characters, since how tshark escapes the others is not
# ours to mirror (a label holding a '.' itself, "\\." for us, cannot be
# told apart in tshark's text; the corpus has none). Our limits:
# DNS_MAX_ANSWERS answers per record and DNS_ANSWER_TEXT_MAX - 1 bytes
# of text per answer (dissectors/dns).
DNS_MAX_ANSWERS = 64
DNS_ANSWER_TEXT_MAX = 2048
PLAIN_NAME = re.compile(r"[A-Za-z0-9_*-]+(\.[A-Za-z0-9_*-]+)*")
PLAIN_TEXT = re.compile(r"[\x20-\x7e]*")


def rr_name(rr, field):
    v = rr.get(field)
    if v == "<Root>":
        return "."
    if isinstance(v, str) and PLAIN_NAME.fullmatch(v):
        return v
    return None


def rr_int(rr, field):
    v = rr.get(field)
    return str(num(v)) if isinstance(v, str) else None


def rr_txt(rr):
    """TXT: each <character-string> quoted; only printable ASCII without
    '"' or '\\' (no escape to mirror), each as long as its length byte."""
    txt, lens = as_list(rr.get("dns.txt")), as_list(rr.get("dns.txt.length"))
    if not txt or len(txt) != len(lens):
        return None
    out = []
    for t, n in zip(txt, lens):
        if not isinstance(t, str) or not isinstance(n, str) or \
                not PLAIN_TEXT.fullmatch(t) or '"' in t or "\\" in t or \
                len(t) != num(n):
            return None
        out.append('"%s"' % t)
    return " ".join(out)


def rr_join(*parts):
    return None if any(p is None for p in parts) else " ".join(parts)


def rr_text(rr):
    """Presentation text of one answer RR, or None when tshark's fields
    do not fix it exactly."""
    rtype = rr.get("dns.resp.type")
    rdlen = rr.get("dns.resp.len")
    if not isinstance(rtype, str) or not isinstance(rdlen, str):
        return None
    rtype, rdlen = num(rtype), num(rdlen)
    if rtype == 1:
        v = rr.get("dns.a")
        return v if rdlen == 4 and isinstance(v, str) else None
    if rtype == 28:
        v = rr.get("dns.aaaa")
        # tshark prints AAAA with inet_ntop's canonical form (RFC 5952)
        return v if rdlen == 16 and isinstance(v, str) else None
    if rtype == 5:
        return rr_name(rr, "dns.cname")
    if rtype == 2:
        return rr_name(rr, "dns.ns")
    if rtype == 12:
        return rr_name(rr, "dns.ptr.domain_name")
    if rtype == 15:
        return rr_join(rr_int(rr, "dns.mx.preference"),
                       rr_name(rr, "dns.mx.mail_exchange"))
    if rtype == 16:
        return rr_txt(rr)
    if rtype == 33:
        return rr_join(rr_int(rr, "dns.srv.priority"),
                       rr_int(rr, "dns.srv.weight"),
                       rr_int(rr, "dns.srv.port"),
                       rr_name(rr, "dns.srv.target"))
    if rtype == 6:
        return rr_join(rr_name(rr, "dns.soa.mname"),
                       rr_name(rr, "dns.soa.rname"),
                       rr_int(rr, "dns.soa.serial_number"),
                       rr_int(rr, "dns.soa.refresh_interval"),
                       rr_int(rr, "dns.soa.retry_interval"),
                       rr_int(rr, "dns.soa.expire_limit"),
                       rr_int(rr, "dns.soa.minimum_ttl"))
    return None


def dns_answers(m):
    """The answer section's rdata texts in order, or None unless every
    answer RR is shown by tshark and of a type rr_text renders."""
    ans = m.get("Answers")
    count = m.get("dns.count.answers")
    if not isinstance(ans, dict) or not isinstance(count, str):
        return None
    count = num(count)
    # identical RR summaries are merged into one list by
    # --no-duplicate-keys (order lost): any list means leave it out
    rrs = list(ans.values())
    if count == 0 or count > DNS_MAX_ANSWERS or len(rrs) != count or \
            not all(isinstance(rr, dict) for rr in rrs):
        return None
    texts = [rr_text(rr) for rr in rrs]
    if any(t is None or len(t.encode()) >= DNS_ANSWER_TEXT_MAX
           for t in texts):
        return None
    return "|".join(texts)


def dns_flags(m):
    """(is_response, opcode, rcode); the rcode includes the upper 8 bits
    an OPT record carries (RFC 6891 6.1.3), which tshark shows apart."""
    fl = m.get("dns.flags_tree", {})
    ext = find_key(m.get("Additional records", {}), "dns.resp.ext_rcode")
    ext = num(ext) if isinstance(ext, str) else 0
    return (fl.get("dns.flags.response") == "1",
            int(fl.get("dns.flags.opcode", "0")),
            (ext << 4) | int(fl.get("dns.flags.rcode", "0")))


def dns_keys(q, r):
    base = r if r is not None else q
    keys = dns_question(q["dns"] if q is not None else r["dns"])
    _, opcode, rcode = dns_flags(base["dns"])
    keys["opcode"] = OPCODES.get(opcode, str(opcode))
    keys["id"] = num(base["dns"]["dns.id"])
    keys.update(dns_counts(base["dns"]))
    if r is not None:
        keys["rcode"] = RCODES.get(rcode, str(rcode))
        ttl = dns_ttls(r["dns"])
        if ttl:
            keys["ttl"] = ttl
        answers = dns_answers(r["dns"])
        if answers is not None:
            keys["answers"] = answers
    keys["msg_type"] = ("query_response" if q is not None and r is not None
                        else "query" if q is not None else "response")
    return keys


def dns_records(path, extra):
    msgs = dns_messages(path, extra)
    queries = [m for m in msgs if not dns_flags(m["dns"])[0]]
    resps = [m for m in msgs if dns_flags(m["dns"])[0]]
    used = set()
    lines = []
    for q in queries:
        r = None
        for cand in resps:
            if id(cand) in used:
                continue
            if (cand["dns"].get("dns.response_to") == q["frame"]
                    and cand["dns"].get("dns.id") == q["dns"].get("dns.id")):
                r = cand
                used.add(id(cand))
                break
        lines.append(fmt_line("dns", dns_keys(q, r)))
    for r in resps:
        if id(r) not in used:
            lines.append(fmt_line("dns", dns_keys(None, r)))
    return lines


# ---- driver ---------------------------------------------------------------

def overrides_for(rel):
    ov = {}
    ov.update(OVERRIDES.get(rel.split("/")[0] + "/*", {}))
    ov.update(OVERRIDES.get(rel, {}))
    return ov


def expected_lines(path, rel):
    ov = overrides_for(rel)
    types = ov.get("types", DEFAULT_TYPES)
    extra = []
    for d in ov.get("decode_as", []):
        extra += ["-d", d]
    lines = []
    if "tcp" in types:
        lines += tcp_records(path)
    if "http" in types:
        lines += http_records(path, extra) + https_records(path, extra)
        lines += http2_records(path, extra) + quic_records(path, extra)
    if "dns" in types:
        lines += dns_records(path, extra)
    lines = [drop_keys(l, ov.get("drop_keys", {})) for l in lines]
    return ["#types " + " ".join(types)] + sorted(lines)


def drop_keys(line, drops):
    parts = line.split("\t")
    gone = set(drops.get(parts[0], []))
    return "\t".join([parts[0]] + [p for p in parts[1:]
                                   if p.split("=", 1)[0] not in gone])


def captures(corpus, only):
    for folder in FOLDERS:
        d = os.path.join(corpus, folder)
        for name in sorted(os.listdir(d)):
            rel = folder + "/" + name
            if name.endswith(CAPTURE_EXT) and (not only or rel in only):
                yield rel


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=os.environ.get("GCP_CORPUS_DIR",
                                                       DEFAULT_CORPUS))
    ap.add_argument("--out", default=os.path.join(HERE, "expected"))
    ap.add_argument("only", nargs="*", help="folder/file to regenerate")
    args = ap.parse_args()
    for rel in captures(args.corpus, set(args.only)):
        lines = expected_lines(os.path.join(args.corpus, rel), rel)
        out = os.path.join(args.out, rel + ".exp")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w", encoding="utf-8",
                  errors="surrogateescape") as f:
            f.write("\n".join(lines) + "\n")
        print("%-60s %d records" % (rel, len(lines) - 1))


if __name__ == "__main__":
    main()
