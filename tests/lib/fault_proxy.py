#!/usr/bin/python3
"""HTTP/1.1 reverse proxy that injects faults, for tests (in front of a plain registry).

    fault_proxy.py --target HOST:PORT --rules FILE --log FILE --port-file FILE
                   [--tls-cert CRT --tls-key KEY] [--upstream-ca CA] [--idle-exit S]

Listens on 127.0.0.1 on a port the kernel picks (written to --port-file once listening) and
forwards every request to TARGET: bodies streamed both ways (Content-Length or chunked,
re-chunked when needed), keep-alive (one upstream connection per client connection), HEAD and
bodiless statuses, `Expect: 100-continue` answered by the proxy. An absolute Location header
pointing at TARGET is rewritten to point at the proxy. HTTP/1.1 only, plain HTTP by default;
--tls-cert/--tls-key: serve HTTPS; --upstream-ca: TARGET speaks HTTPS, verified with CA.

Rules: FILE holds one rule per line (blank lines and #comments ignored); it is re-read when it
changes, and the counts start afresh then. A rule is

    METHOD PATH_REGEX ACTION... [times=N|times=always]

METHOD is an HTTP method or `*`; PATH_REGEX a Python regex searched in the request target
(path and query, as the client sent it). ACTIONs:
    status=CODE      answer CODE (a registry-style JSON error body) without forwarding; the
                     request body is read and thrown away first, the connection kept
    retry-after=S    with status=: add `Retry-After: S`
    drop=K           forward the request, then cut both connections (TCP reset) after K
                     bytes of its body (at the end of the body if it is shorter; K=0: right
                     after the headers): "the connection dropped in the middle of a PATCH"
    delay=S          wait S seconds (a float) before forwarding (or before answering status=)
    redirect=URL     answer 307 (or status=) with `Location: URL` + the request target, as a
                     registry sends blob GETs to a storage host (URL: e.g. another proxy's)
    trickle=S        forward the request; send the response's status and headers at once, then
                     its body one byte every S seconds (a float): "progress", but no speed
    rate=B           forward the request body at most B bytes a second (a slow uplink)
times=N: the rule applies to the first N matching requests, then no more (default 1);
times=always: to every matching request (a permanent fault). For each request the first rule
that matches and has applications left is used. Examples:
    PATCH /blobs/uploads/ drop=1048576
    * /v2/.+/blobs/ status=500 times=2
    PUT /manifests/ status=429 retry-after=1
    GET /manifests/ delay=2
    GET /manifests/ trickle=1 times=always
    PATCH /blobs/uploads/ rate=10000000

The log gets one line per event, space-separated:
    TIME connect CONN PEER
    TIME request CONN METHOD TARGET STATUS BODY_BYTES FAULT AUTH
(STATUS "dropped" for drop=; FAULT the rule applied, spaces as "_", or "-"; AUTH the scheme of
the request's Authorization header, e.g. "Bearer", or "-" when it had none)
    TIME close CONN
The proxy exits by itself after --idle-exit seconds without a new connection, or once the
directory holding --log is gone.
"""
import argparse
import http.client
import http.server
import json
import os
import re
import select
import socket
import ssl
import struct
import sys
import threading
import time
import traceback

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "transfer-encoding", "upgrade", "expect", "proxy-connection"}
PIECE = 64 * 1024


class Dropped(Exception):
    pass


class Rule:
    def __init__(self, line):
        fields = line.split()
        if len(fields) < 3:
            raise ValueError("rule needs METHOD PATH_REGEX ACTION: %r" % line)
        self.text = "_".join(fields)
        self.method, self.path = fields[0], re.compile(fields[1])
        self.status = self.retry_after = self.drop = self.redirect = None
        self.delay = self.trickle = 0.0
        self.rate = None
        self.left = 1
        for f in fields[2:]:
            key, _, val = f.partition("=")
            if key == "status":
                self.status = int(val)
            elif key == "redirect":
                self.redirect = val
            elif key == "retry-after":
                self.retry_after = val
            elif key == "drop":
                self.drop = int(val)
            elif key == "delay":
                self.delay = float(val)
            elif key == "trickle":
                self.trickle = float(val)
            elif key == "rate":
                self.rate = int(val)
            elif key == "times":
                self.left = None if val == "always" else int(val)
            else:
                raise ValueError("unknown rule action %r in %r" % (f, line))

    def matches(self, method, target):
        return ((self.method == "*" or self.method == method) and
                (self.left is None or self.left > 0) and self.path.search(target))


class Rules:
    def __init__(self, path):
        self.path = path
        self.stamp = None
        self.rules = []
        self.lock = threading.Lock()

    def take(self, method, target):
        """The rule that applies to this request (its count used up by one), or None."""
        with self.lock:
            try:
                st = os.stat(self.path)
                stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
            except FileNotFoundError:
                stamp = None
            if stamp != self.stamp:
                self.stamp = stamp
                self.rules = []
                if stamp is not None:
                    with open(self.path) as f:
                        for line in f:
                            line = line.split("#", 1)[0].strip()
                            if line:
                                self.rules.append(Rule(line))
            for r in self.rules:
                if r.matches(method, target):
                    if r.left is not None:
                        r.left -= 1
                    return r
        return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ocinoco-fault-proxy/1"

    def log_message(self, format, *args):
        pass

    def setup(self):
        super().setup()
        srv = self.server
        with srv.lock:
            srv.conns += 1
            self.conn_id = srv.conns
        srv.last_activity = time.monotonic()
        srv.log("connect %d %s:%d" % (self.conn_id, *self.client_address[:2]))
        self.upstream = None

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        if self.upstream is not None:
            self.upstream.close()
        self.server.log("close %d" % self.conn_id)

    def do_request(self):
        rule = self.server.rules.take(self.command, self.path)
        fault = rule.text if rule else "-"
        if rule and rule.delay:
            time.sleep(rule.delay)
        if rule and (rule.status is not None or rule.redirect is not None):
            n = sum(len(p) for p in self.body_pieces())
            self.log_request_line(rule.status or 307, n, fault)
            return self.answer_fault(rule)
        sent = [0]
        try:
            status = self.forward(rule, sent)
        except Dropped:
            self.log_request_line("dropped", sent[0], fault)
            self.reset_connection()
            return
        except (OSError, http.client.HTTPException) as e:
            self.log_request_line("error", sent[0], "%s:%s" % (fault, type(e).__name__))
            self.close_connection = True
            return
        self.log_request_line(status, sent[0], fault)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_request

    def log_request_line(self, status, nbytes, fault):
        auth = self.headers.get("Authorization", "-").split(" ", 1)[0] or "-"
        self.server.log("request %d %s %s %s %d %s %s" % (
            self.conn_id, self.command, self.path.replace(" ", "%20"), status, nbytes, fault,
            auth))

    def body_pieces(self):
        """The request body, as it arrives, de-chunked."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise ConnectionError("client closed inside a chunked body")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return
                while size > 0:
                    data = self.rfile.read(min(size, PIECE))
                    if not data:
                        raise ConnectionError("client closed inside a chunk")
                    size -= len(data)
                    yield data
                self.rfile.readline(1024)
        else:
            left = int(self.headers.get("Content-Length", "0") or 0)
            while left > 0:
                data = self.rfile.read(min(left, PIECE))
                if not data:
                    raise ConnectionError("client closed inside the body")
                left -= len(data)
                yield data

    def answer_fault(self, rule):
        codes = {429: "TOOMANYREQUESTS", 503: "UNAVAILABLE"}
        body = json.dumps({"errors": [{"code": codes.get(rule.status, "UNKNOWN"),
                                       "message": "injected by fault_proxy"}]}).encode()
        self.send_response_only(rule.status or 307)
        if rule.redirect is not None:
            self.send_header("Location", rule.redirect + self.path)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if rule.retry_after is not None:
            self.send_header("Retry-After", rule.retry_after)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def reset_connection(self):
        # SO_LINGER 0: close() sends a TCP reset, as a dying server or middlebox would.
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        if self.upstream is not None:
            self.upstream.close()
            self.upstream = None
        self.close_connection = True

    def forward(self, rule, sent):
        drop = rule.drop if rule else None
        rate = rule.rate if rule else None
        trickle = rule.trickle if rule else 0
        started = time.monotonic()
        target = self.server.target
        if self.upstream is None:
            if self.server.upstream_ctx is not None:
                self.upstream = http.client.HTTPSConnection(target, timeout=300,
                                                            context=self.server.upstream_ctx)
            else:
                self.upstream = http.client.HTTPConnection(target, timeout=300)
        up = self.upstream
        if up.sock is not None and select.select([up.sock], [], [], 0)[0]:
            up.close()  # the registry closed the idle connection: open a new one
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        up.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            lk = k.lower()
            if lk in HOP_BY_HOP:
                continue
            up.putheader(k, target if lk == "host" else v)
        if chunked:
            up.putheader("Transfer-Encoding", "chunked")
        up.endheaders()
        if drop == 0:
            raise Dropped()
        for data in self.body_pieces():
            if drop is not None and sent[0] + len(data) >= drop:
                data = data[:drop - sent[0]]
                up.send(b"%x\r\n%s\r\n" % (len(data), data) if chunked and data else data)
                sent[0] += len(data)
                raise Dropped()
            up.send(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            sent[0] += len(data)
            if rate:
                ahead = sent[0] / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
        if drop is not None:
            raise Dropped()
        if chunked:
            up.send(b"0\r\n\r\n")
        resp = up.getresponse()
        self.send_response_only(resp.status, resp.reason)
        length = resp.getheader("Content-Length")
        bodiless = self.command == "HEAD" or resp.status in (204, 304) or resp.status < 200
        rechunk = not bodiless and length is None
        proxy_host = self.headers.get("Host") or "%s:%d" % self.server.server_address[:2]
        for k, v in resp.getheaders():
            lk = k.lower()
            if lk in HOP_BY_HOP:
                continue
            up_prefix = ("https://" if self.server.upstream_ctx else "http://") + target
            if lk == "location" and v.startswith(up_prefix):
                v = self.server.scheme + proxy_host + v[len(up_prefix):]
            self.send_header(k, v)
        if rechunk:
            self.send_header("Transfer-Encoding", "chunked")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        while not bodiless:
            data = resp.read1(PIECE) if hasattr(resp, "read1") else resp.read(PIECE)
            if not data:
                break
            if trickle:
                for i in range(len(data)):
                    piece = data[i:i + 1]
                    self.wfile.write(b"1\r\n%s\r\n" % piece if rechunk else piece)
                    self.wfile.flush()
                    time.sleep(trickle)
                continue
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if rechunk else data)
        if rechunk:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        resp.close()
        if resp.will_close:
            up.close()
            self.upstream = None
        return resp.status


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, args):
        super().__init__(("127.0.0.1", 0), Handler)
        self.target = args.target
        self.ctx = self.upstream_ctx = None
        self.scheme = "http://"
        if args.tls_cert:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(args.tls_cert, args.tls_key)
            self.scheme = "https://"
        if args.upstream_ca:
            self.upstream_ctx = ssl.create_default_context(cafile=args.upstream_ca)
        self.rules = Rules(args.rules)
        self.rules.take("", "")  # a bad rule fails at start, not inside a test
        self.logf = open(args.log, "a")
        self.lock = threading.Lock()
        self.conns = 0
        self.last_activity = time.monotonic()

    def log(self, line):
        t = time.time()
        with self.lock:
            self.logf.write("%s.%03dZ %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)),
                                               int(t * 1000) % 1000, line))
            self.logf.flush()

    def get_request(self):
        sock, addr = super().get_request()
        if self.ctx is None:
            return sock, addr
        # The handshake runs in the handler thread, so a stuck client cannot block accept().
        return self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):  # a client hanging up is no news
            traceback.print_exc()


def main():
    p = argparse.ArgumentParser()
    for opt in ("target", "rules", "log", "port-file"):
        p.add_argument("--" + opt, required=True)
    for opt in ("tls-cert", "tls-key", "upstream-ca"):
        p.add_argument("--" + opt)
    p.add_argument("--idle-exit", type=float, default=900)
    args = p.parse_args()
    srv = Server(args)
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(args.port_file + ".tmp", args.port_file)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    # A test that forgot to stop us: give up when idle, or when our directory is gone
    # (bats removes its temp dirs at the end of the run).
    home = os.path.dirname(os.path.abspath(args.log))
    while time.monotonic() - srv.last_activity < args.idle_exit and os.path.isdir(home):
        time.sleep(1)
    print("fault_proxy: idle or orphaned, exiting", file=sys.stderr)


if __name__ == "__main__":
    main()
