#!/usr/bin/python3
"""A registry that tries to get more than it should out of its clients.

    hostile_registry.py --cert FILE --key FILE --dir DIR --log FILE --port-file FILE
                        [--idle-exit S]

Two listeners on 127.0.0.1, MAIN (the registry) and OTHER; their ports go to --port-file as
"MAIN OTHER". Each speaks HTTPS (--cert/--key) and plain HTTP on the same port: the first byte
of a connection says which (0x16: a TLS handshake). The first component of a repository
name says how the registry behaves:

  basic-port/R, basic-scheme/R, bearer-port/R, bearer-scheme/R
      Authorization required on /v2/: Basic u:Pw-s3cret, or Bearer Tok-s3cret (from
      https://127.0.0.1:MAIN/token, anonymous). A blob GET answers 307 and an upload POST 202
      with a Location elsewhere: "port" to the same scheme on OTHER, "scheme" to the other
      scheme on MAIN. There, /storage/HEX serves DIR/HEX, /upload/ID takes PATCH and
      PUT ?digest= (verified, stored in DIR) with no Authorization asked: the log says
      whether one came all the same.
  crlf/R         Bearer, and the token handed out is "T\\r\\nX-Injected: yes".
  realm-loop/R   Bearer with a plain-HTTP realm on loopback (http://127.0.0.1:MAIN/token).
  realm-far/R    Bearer with a plain-HTTP realm elsewhere (http://registry.invalid/token, a
                 name that never resolves: nothing is ever sent there).
  chain/R        no auth; manifests: tag len-N is the top of a chain of N indexes (each lists
                 the next by its digest and size; the last lists nothing), wide-N an index of
                 N image manifests that do not exist; every document also by its digest.

The log gets one line per request:
    LISTENER SCHEME METHOD PATH auth=Basic|Bearer|- headers=NAME,NAME,...
The server exits after --idle-exit seconds without a request, or once the directory holding
--log is gone.
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import socket
import ssl
import sys
import threading
import time
import uuid

PASSWORD = "Pw-s3cret"
TOKEN = "Tok-s3cret"
INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.last = time.monotonic()
        self.ports = {}
        self.docs = {}  # digest -> bytes
        self.tops = {}  # tag -> digest
        self.uploads = {}  # id -> bytearray

    def note(self, line):
        with self.lock:
            self.last = time.monotonic()
            with open(self.args.log, "a") as f:
                f.write(line + "\n")

    def add(self, data):
        d = "sha256:" + hashlib.sha256(data).hexdigest()
        self.docs[d] = data
        return d

    def top(self, tag):
        with self.lock:
            if tag in self.tops:
                return self.tops[tag]
            kind, _, n = tag.partition("-")
            if not n.isdigit() or kind not in ("len", "wide"):
                return None
            if kind == "len":
                data = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": []})
                d = self.add(data.encode())
                for _ in range(int(n) - 1):
                    child = {"mediaType": INDEX, "digest": d, "size": len(self.docs[d])}
                    data = json.dumps({"schemaVersion": 2, "mediaType": INDEX,
                                       "manifests": [child]})
                    d = self.add(data.encode())
            else:
                kids = [{"mediaType": MANIFEST, "size": 100,
                         "digest": "sha256:" + hashlib.sha256(str(i).encode()).hexdigest()}
                        for i in range(int(n))]
                d = self.add(json.dumps({"schemaVersion": 2, "mediaType": INDEX,
                                         "manifests": kids}).encode())
            self.tops[tag] = d
            return d


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    @property
    def st(self):
        return self.server.state

    def scheme(self):
        return "https" if isinstance(self.connection, ssl.SSLSocket) else "http"

    def note(self):
        auth = self.headers.get("Authorization", "")
        self.st.note("%s %s %s %s auth=%s headers=%s" % (
            self.server.name, self.scheme(), self.command, self.path.split("?")[0],
            auth.split(" ")[0] if auth else "-", ",".join(self.headers.keys())))

    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n else b""

    def elsewhere(self, mode, path):
        main, other = self.st.ports["main"], self.st.ports["other"]
        s = self.scheme()
        if mode == "port":
            return "%s://127.0.0.1:%d%s" % (s, other, path)
        return "%s://127.0.0.1:%d%s" % ("http" if s == "https" else "https", main, path)

    def authorized(self, repo):
        kind = repo.split("-")[0]
        auth = self.headers.get("Authorization", "")
        if kind == "basic":
            try:
                ok = base64.b64decode(auth[6:]).decode() == "u:" + PASSWORD
            except ValueError:
                ok = False
            if auth.startswith("Basic ") and ok:
                return True
            challenge = 'Basic realm="hostile"'
        else:
            if auth == "Bearer " + TOKEN:
                return True
            realm = "%s://127.0.0.1:%d/token" % (self.scheme(), self.st.ports["main"])
            if kind == "crlf":
                realm += "?crlf=1"
            elif kind == "realm" and repo == "realm-loop":
                realm = "http://127.0.0.1:%d/token" % self.st.ports["main"]
            elif kind == "realm":
                realm = "http://registry.invalid/token"
            challenge = 'Bearer realm="%s",service="hostile"' % realm
        self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                   [("WWW-Authenticate", challenge), ("Content-Type", "application/json")])
        return False

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.note()
        path = self.path.split("?")[0]
        if path.startswith("/storage/"):
            return self.storage(path[len("/storage/"):])
        if path == "/token":
            tok = "T\r\nX-Injected: yes" if "crlf=1" in self.path else TOKEN
            return self.reply(200, json.dumps({"token": tok}).encode(),
                              [("Content-Type", "application/json")])
        parts = path.split("/")
        if path == "/v2/" or len(parts) < 5:
            return self.reply(200, b"{}")
        repo = parts[2]
        if repo == "chain":
            return self.manifest(parts[-1])
        if not self.authorized(repo):
            return
        if parts[-2] == "blobs" and self.command == "GET":
            mode = repo.split("-")[-1]
            return self.reply(307, headers=[("Location", self.elsewhere(
                mode, "/storage/" + parts[-1].split(":")[-1]))])
        if parts[-2] == "blobs":
            there = os.path.exists(os.path.join(self.st.args.dir, parts[-1].split(":")[-1]))
            return self.reply(200 if there else 404)
        self.reply(404)

    def manifest(self, ref):
        d = ref if ref.startswith("sha256:") else self.st.top(ref)
        data = self.st.docs.get(d)
        if data is None:
            return self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
        self.reply(200, data, [("Content-Type", INDEX), ("Docker-Content-Digest", d)])

    def storage(self, hexd):
        try:
            with open(os.path.join(self.st.args.dir, os.path.basename(hexd)), "rb") as f:
                data = f.read()
        except OSError:
            return self.reply(404)
        self.reply(200, data)

    def do_POST(self):
        self.note()
        self.body()
        parts = self.path.split("?")[0].split("/")
        if len(parts) < 6 or parts[-2] != "uploads":
            return self.reply(404)
        repo = parts[2]
        if not self.authorized(repo):
            return
        up = uuid.uuid4().hex
        self.st.uploads[up] = bytearray()
        mode = repo.split("-")[-1]
        self.reply(202, headers=[("Location", self.elsewhere(mode, "/upload/" + up))])

    def do_PATCH(self):
        self.note()
        data = self.body()
        path = self.path.split("?")[0]
        up = self.st.uploads.get(path.split("/")[-1]) if path.startswith("/upload/") else None
        if up is None:
            return self.reply(404)
        up += data
        self.reply(202, headers=[("Location", path), ("Range", "0-%d" % (len(up) - 1))])

    def do_PUT(self):
        self.note()
        data = self.body()
        path, _, query = self.path.partition("?")
        up = self.st.uploads.pop(path.split("/")[-1], None) if path.startswith("/upload/") else None
        if up is None:
            return self.reply(404)
        up += data
        digest = query.partition("digest=")[2].split("&")[0].replace("%3A", ":")
        if digest != "sha256:" + hashlib.sha256(up).hexdigest():
            return self.reply(400, b'{"errors":[{"code":"DIGEST_INVALID"}]}')
        with open(os.path.join(self.st.args.dir, digest.split(":")[1]), "wb") as f:
            f.write(up)
        self.reply(201, headers=[("Docker-Content-Digest", digest)])

    def do_DELETE(self):
        self.note()
        self.reply(204)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name, state, ctx):
        super().__init__(("127.0.0.1", 0), Handler)
        self.name, self.state, self.ctx = name, state, ctx

    def finish_request(self, request, client_address):
        # in the request's thread: a client that sends nothing blocks only itself
        request.settimeout(30)
        try:
            first = request.recv(1, socket.MSG_PEEK)
            if first == b"\x16":
                request = self.ctx.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    for opt in ("cert", "key", "dir", "log", "port-file"):
        ap.add_argument("--" + opt, required=True)
    ap.add_argument("--idle-exit", type=float, default=600)
    args = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    st = State(args)
    servers = [Server(n, st, ctx) for n in ("main", "other")]
    for s in servers:
        st.ports[s.name] = s.server_address[1]
        threading.Thread(target=s.serve_forever, daemon=True).start()
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d %d\n" % (st.ports["main"], st.ports["other"]))
    os.rename(args.port_file + ".tmp", args.port_file)
    home = os.path.dirname(os.path.abspath(args.log))
    while time.monotonic() - st.last < args.idle_exit and os.path.isdir(home):
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
