#!/usr/bin/python3
"""TCP pass-through for tests: counts connections, can model a remote host's latency.

    tcp_proxy.py --target HOST:PORT --log FILE --port-file FILE [--delay-ms N] [--idle-exit S]

Listens on 127.0.0.1 on a port the kernel picks (written to --port-file once listening) and
copies bytes both ways to TARGET, untouched (TLS, HTTP/2 and anything else go through).
--delay-ms N delays every client->server burst by N ms, as a delay line: each burst is
delivered N ms after it arrived, without slowing the bursts behind it, so throughput is kept
and each request/response exchange costs one extra N ms (one "round trip" to a remote
registry; a TLS handshake costs one or two more).

The log gets one line per event, space-separated:
    TIME connect CONN PEER
    TIME close CONN UP_BYTES DOWN_BYTES
The proxy exits by itself after --idle-exit seconds without a new connection, or once the
directory holding --log is gone.
"""
import argparse
import collections
import os
import socket
import sys
import threading
import time

PIECE = 64 * 1024


class Proxy:
    def __init__(self, args):
        host, _, port = args.target.rpartition(":")
        self.target = (host.strip("[]"), int(port))
        self.delay = args.delay_ms / 1000.0
        self.logf = open(args.log, "a")
        self.lock = threading.Lock()
        self.conns = 0
        self.last_activity = time.monotonic()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)

    def log(self, line):
        t = time.time()
        with self.lock:
            self.logf.write("%s.%03dZ %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)),
                                               int(t * 1000) % 1000, line))
            self.logf.flush()

    def serve(self):
        while True:
            client, peer = self.sock.accept()
            with self.lock:
                self.conns += 1
                n = self.conns
            self.last_activity = time.monotonic()
            self.log("connect %d %s:%d" % (n, *peer[:2]))
            threading.Thread(target=self.connection, args=(n, client), daemon=True).start()

    def connection(self, n, client):
        counts = [0, 0]
        try:
            upstream = socket.create_connection(self.target)
        except OSError:
            client.close()
            self.log("close %d 0 0 upstream-refused" % n)
            return
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        down = threading.Thread(target=self.pump, args=(upstream, client, counts, 1, 0))
        down.start()
        self.pump(client, upstream, counts, 0, self.delay)
        down.join()
        client.close()
        upstream.close()
        self.log("close %d %d %d" % (n, counts[0], counts[1]))

    def pump(self, src, dst, counts, i, delay):
        """Copies src to dst until EOF, then half-closes dst (so the far side sees EOF too)."""
        if delay:
            return self.delayed_pump(src, dst, counts, i, delay)
        try:
            while True:
                data = src.recv(PIECE)
                if not data:
                    break
                dst.sendall(data)
                counts[i] += len(data)
        except OSError:
            pass
        shut(dst)

    def delayed_pump(self, src, dst, counts, i, delay):
        line = collections.deque()
        cond = threading.Condition()

        def writer():
            while True:
                with cond:
                    while not line:
                        cond.wait()
                    due, data = line.popleft()
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                if data is None:
                    break
                try:
                    dst.sendall(data)
                except OSError:
                    break
            shut(dst)

        w = threading.Thread(target=writer)
        w.start()
        try:
            while True:
                data = src.recv(PIECE)
                if not data:
                    break
                counts[i] += len(data)
                with cond:
                    line.append((time.monotonic() + delay, data))
                    cond.notify()
        except OSError:
            pass
        with cond:
            line.append((time.monotonic() + delay, None))
            cond.notify()
        w.join()


def shut(sock):
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def main():
    p = argparse.ArgumentParser()
    for opt in ("target", "log", "port-file"):
        p.add_argument("--" + opt, required=True)
    p.add_argument("--delay-ms", type=float, default=0)
    p.add_argument("--idle-exit", type=float, default=900)
    args = p.parse_args()
    proxy = Proxy(args)
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % proxy.sock.getsockname()[1])
    os.rename(args.port_file + ".tmp", args.port_file)
    threading.Thread(target=proxy.serve, daemon=True).start()
    # A test that forgot to stop us: give up when idle, or when our directory is gone
    # (bats removes its temp dirs at the end of the run).
    home = os.path.dirname(os.path.abspath(args.log))
    while time.monotonic() - proxy.last_activity < args.idle_exit and os.path.isdir(home):
        time.sleep(1)
    print("tcp_proxy: idle or orphaned, exiting", file=sys.stderr)


if __name__ == "__main__":
    main()
