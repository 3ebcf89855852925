#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Small SMTP server for mail_e2e.sh whose TLS is `openssl s_server`.

OpenSMTPD's server TLS fails on some hosts ("EVP lib"), so the TLS
sessions the e2e test checks are held by openssl s_server instead: for
STARTTLS (RFC 3207) on the submission port and for implicit TLS
(RFC 8314) on 465, the client's socket is relayed to a one-shot
s_server on the loopback, and the SMTP dialogue goes on through
s_server's stdin/stdout, which carry the decrypted bytes. So a client
that finishes its transaction has completed a real handshake with
OpenSSL's server side.

It checks credentials (AUTH PLAIN, LOGIN, CRAM-MD5 per RFC 4954,
RFC 4616, RFC 2195) and advertises PIPELINING (RFC 2920). Each session
is logged to stdout as "SESSION <client port> <tls|clear> <what>".

Usage: smtp_tls_front.py ADDR CERT KEY USER PASSWORD
"""
import base64
import hashlib
import hmac
import os
import select
import socket
import subprocess
import sys
import threading
import time

SUBMISSION, SMTPS = 587, 465
ADDR, CERT, KEY, USER, PASSWORD = sys.argv[1:6]


class Clear:
    """Line I/O on the client socket; keeps what was read past a line."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def readline(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                line, self.buf = self.buf, b""
                return line
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def write(self, data):
        self.sock.sendall(data)


def pump(src, dst):
    """Copy bytes one way until EOF, then pass the EOF on."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


class Tls:
    """Line I/O through a one-shot s_server that holds the client's TLS."""

    port = 24000

    def __init__(self, client, pending):
        Tls.port += 1
        self.proc = subprocess.Popen(
            ["openssl", "s_server", "-quiet", "-naccept", "1", "-accept",
             "127.0.0.1:%d" % Tls.port, "-cert", CERT, "-key", KEY],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sys.stderr)
        for _ in range(200):
            try:
                self.up = socket.create_connection(("127.0.0.1", Tls.port))
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("s_server did not listen")
        if pending:
            self.up.sendall(pending)  # bytes of the handshake already read
        self.relays = [threading.Thread(target=pump, args=(client, self.up)),
                       threading.Thread(target=pump, args=(self.up, client))]
        for t in self.relays:
            t.start()

    def readline(self):
        return self.proc.stdout.readline()

    def write(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close(self):
        for t in self.relays:
            t.join(10)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def b64(data):
    return base64.b64encode(data) + b"\r\n"


def unb64(line):
    try:
        return base64.b64decode(line.strip(), validate=True)
    except ValueError:
        return b""


def auth(io, args):
    """RFC 4954: run one AUTH exchange; True when the credentials are right."""
    mech, _, ir = args.partition(b" ")
    mech = mech.upper()
    user, pw = USER.encode(), PASSWORD.encode()
    if mech == b"PLAIN":
        if not ir:
            io.write(b"334 \r\n")
            ir = io.readline()
        parts = unb64(ir).split(b"\0")
        return len(parts) == 3 and parts[1:] == [user, pw]
    if mech == b"LOGIN":
        if not ir:
            io.write(b"334 " + b64(b"Username:"))
            ir = io.readline()
        io.write(b"334 " + b64(b"Password:"))
        return unb64(ir) == user and unb64(io.readline()) == pw
    if mech == b"CRAM-MD5":
        challenge = b"<%d.%d@mail.test>" % (os.getpid(), time.time_ns())
        io.write(b"334 " + b64(challenge))
        name, _, digest = unb64(io.readline()).rpartition(b" ")
        want = hmac.new(pw, challenge, hashlib.md5).hexdigest().encode()
        return name == user and hmac.compare_digest(digest, want)
    return False


def ehlo(io, starttls):
    caps = [b"mail.test", b"PIPELINING", b"AUTH PLAIN LOGIN CRAM-MD5"]
    if starttls:
        caps.append(b"STARTTLS")
    for i, c in enumerate(caps):
        io.write(b"250%s%s\r\n" % (b" " if i == len(caps) - 1 else b"-", c))


def session(io, starttls, greet=True):
    """One SMTP dialogue; returns "starttls", "quit" or "eof"."""
    if greet:  # RFC 3207 4.2: after STARTTLS the client speaks first (EHLO)
        io.write(b"220 mail.test ESMTP e2e\r\n")
    while True:
        line = io.readline()
        if not line:
            return "eof"
        verb, _, args = line.rstrip(b"\r\n").partition(b" ")
        verb = verb.upper()
        if verb in (b"EHLO", b"HELO"):
            ehlo(io, starttls)
        elif verb == b"STARTTLS" and starttls:
            io.write(b"220 2.0.0 Ready to start TLS\r\n")
            return "starttls"
        elif verb == b"AUTH":
            ok = auth(io, args)
            io.write(b"235 2.7.0 ok\r\n" if ok else b"535 5.7.8 bad credentials\r\n")
        elif verb == b"DATA":
            io.write(b"354 go ahead\r\n")
            while io.readline() not in (b".\r\n", b".\n", b""):
                pass
            io.write(b"250 2.0.0 queued\r\n")
        elif verb == b"QUIT":
            io.write(b"221 2.0.0 bye\r\n")
            return "quit"
        elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
            io.write(b"250 2.0.0 ok\r\n")
        else:
            io.write(b"502 5.5.1 not implemented\r\n")


def serve(client, port):
    cport = client.getpeername()[1]
    clear = Clear(client)
    if port == SMTPS:
        tls = Tls(client, b"")
        end = session(tls, False)
        tls.close()
        print("SESSION %d tls %s" % (cport, end), flush=True)
        return
    end = session(clear, True)
    if end == "starttls":
        tls = Tls(client, clear.buf)
        end = session(tls, False, greet=False)
        tls.close()
        print("SESSION %d starttls %s" % (cport, end), flush=True)
    else:
        print("SESSION %d clear %s" % (cport, end), flush=True)


def main():
    listeners = {}
    for port in (SUBMISSION, SMTPS):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((ADDR, port))
        s.listen(8)
        listeners[s] = port
    print("READY", flush=True)
    while True:
        ready, _, _ = select.select(list(listeners), [], [])
        for s in ready:
            client, _ = s.accept()
            try:
                serve(client, listeners[s])
            except Exception as e:  # one bad session must not stop the server
                print("SESSION error %r" % e, flush=True)
            finally:
                client.close()


if __name__ == "__main__":
    main()
