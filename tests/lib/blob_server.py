#!/usr/bin/python3
"""A registry that redirects blob downloads to a storage host, like S3- or Azure-backed ones.

    blob_server.py --dir DIR --log FILE --port-file FILE [--cut-once BYTES] [--idle-exit S]

Listens on 127.0.0.1 (port written to --port-file). Basic auth (any user, password "pw") is
required on /v2/...; GET /v2/NAME/blobs/DIGEST answers 307 to
http://localhost:PORT/storage/DIGEST?X-Amz-Signature=s3cr3t-sig — another host name, so the
client must not send the registry's Authorization there; the storage answers 400 when it gets
one (as S3 does), serves DIR/HEX otherwise, honours "Range: bytes=N-" with 206, and with
--cut-once cuts the first storage download after BYTES bytes. The log gets one line per
request: METHOD PATH auth=yes|no range=VALUE|-.
"""
import argparse
import base64
import http.server
import os
import socket
import sys
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--cut-once", type=int, default=-1)
    ap.add_argument("--idle-exit", type=float, default=600)
    args = ap.parse_args()
    state = {"cut": args.cut_once, "last": time.monotonic()}
    lock = threading.Lock()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def note(self):
            with lock:
                state["last"] = time.monotonic()
                with open(args.log, "a") as f:
                    f.write("%s %s auth=%s range=%s\n" % (
                        self.command, self.path.split("?")[0],
                        "yes" if self.headers.get("Authorization") else "no",
                        self.headers.get("Range") or "-"))

        def reply(self, code, body=b"", headers=()):
            self.send_response(code)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            self.note()
            path = self.path.split("?")[0]
            if path.startswith("/storage/"):
                return self.storage(path[len("/storage/"):])
            auth = self.headers.get("Authorization", "")
            ok = False
            if auth.startswith("Basic "):
                try:
                    ok = base64.b64decode(auth[6:]).decode().split(":", 1)[1] == "pw"
                except Exception:
                    ok = False
            if not ok:
                return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                                  [("WWW-Authenticate", 'Basic realm="blob-server"'),
                                   ("Content-Type", "application/json")])
            parts = path.split("/")
            if path == "/v2/" or len(parts) < 5 or parts[-2] != "blobs":
                return self.reply(200, b"{}")
            port = self.server.server_address[1]
            self.reply(307, headers=[("Location", "http://localhost:%d/storage/%s?X-Amz-Signature=s3cr3t-sig" % (port, parts[-1]))])

        def storage(self, digest):
            if self.headers.get("Authorization"):
                return self.reply(400, b"<Error><Code>InvalidArgument</Code></Error>")
            try:
                with open(os.path.join(args.dir, digest.split(":")[-1]), "rb") as f:
                    data = f.read()
            except OSError:
                return self.reply(404)
            start = 0
            rng = self.headers.get("Range")
            if rng and rng.startswith("bytes=") and rng.endswith("-"):
                start = int(rng[6:-1])
            body = data[start:]
            self.send_response(206 if start else 200)
            if start:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with lock:
                cut = state["cut"]
                state["cut"] = -1
            if cut >= 0 and self.command == "GET":
                self.wfile.write(body[:cut])
                self.wfile.flush()
                # the file objects keep the socket open: shut it down for the client to see
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if self.command == "GET":
                self.wfile.write(body)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(args.port_file + ".tmp", args.port_file)

    def idle():
        while time.monotonic() - state["last"] < args.idle_exit:
            time.sleep(1)
        os._exit(0)
    threading.Thread(target=idle, daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
