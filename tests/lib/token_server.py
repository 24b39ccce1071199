#!/usr/bin/python3
"""Test token server for docker-registry's `auth: token:` mode (Docker token auth spec).

    token_server.py --cert C --key K --sign-cert SC --sign-key SK --issuer I --service S
                    --users FILE --log FILE --conn-log FILE --port-file FILE [--idle-exit S]

HTTPS on 127.0.0.1, a free port chosen by the kernel (written to --port-file once listening).

GET /token?service=S&scope=T:NAME:ACTIONS&scope=...  with Basic credentials or none, and
POST /token (OAuth2 form: grant_type=password with username/password, or
grant_type=refresh_token with refresh_token) answer
    {"token": JWT, "access_token": JWT, "expires_in": 300, "issued_at": ...}
(+ "refresh_token" for GET ...&offline_token=true with credentials, and for every POST).
The JWT is RS256, its header carries x5c = [the signing certificate], which the registry
verifies against its rootcertbundle (the test CA).

Grants (--users: lines "USER PASSWORD RIGHTS", RIGHTS "push" or "pull"):
- a "push" user gets every action asked (pull, push, delete, *), on every repository;
- a "pull" user gets only pull;
- anonymous gets pull on repositories whose name starts with "public/", nothing else.
Wrong credentials: 401. A wrong service: 400. A scope not granted is left out of the token
(the registry then answers 401 insufficient_scope), like real token servers do.

--log gets one line per token request, space-separated:
    TIME METHOD STATUS ACCOUNT SERVICE SCOPE...
(ACCOUNT is "anonymous" without credentials, SCOPE "-" when none asked). --conn-log gets one
line per accepted TCP connection (the TLS handshakes a client made to the token server).
The server exits by itself after --idle-exit seconds without a connection, or once the
directory holding --log is gone.
"""
import argparse
import base64
import http.server
import json
import os
import secrets
import ssl
import sys
import threading
import time
import traceback
import urllib.parse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

EXPIRES_IN = 300


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.last_activity = time.monotonic()
        with open(args.sign_key, "rb") as f:
            self.sign_key = f.read()
        with open(args.sign_cert, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        self.x5c = [base64.b64encode(cert.public_bytes(Encoding.DER)).decode()]
        self.users = {}
        with open(args.users) as f:
            for line in f:
                fields = line.split()
                if len(fields) == 3:
                    self.users[fields[0]] = (fields[1], fields[2])
        self.refresh_tokens = {}

    def log(self, path, line):
        with self.lock, open(path, "a") as f:
            f.write(line + "\n")


def parse_scope(scope):
    # TYPE:NAME:ACTIONS; NAME may itself hold ':' (never in practice, but cheap to allow).
    head, _, actions = scope.rpartition(":")
    rtype, _, name = head.partition(":")
    if not rtype or not name:
        return None
    return rtype, name, [a for a in actions.split(",") if a]


def grant(rights, rtype, name, actions):
    if rights == "push":
        return actions
    if rtype != "repository":
        return []
    if rights == "pull" or name.startswith("public/"):
        return [a for a in actions if a == "pull"]
    return []


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ocinoco-test-token/1"

    def log_message(self, format, *args):  # the request log is our own, below
        pass

    def setup(self):
        super().setup()
        st = self.server.state
        st.last_activity = time.monotonic()
        st.log(st.args.conn_log, "%s connect %s:%d" % (now(), *self.client_address[:2]))

    def reply(self, status, body, extra=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        account, password = None, None
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            try:
                account, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                account, password = "", None
        self.issue(url.path, q, account, password, None, q.get("offline_token") == ["true"])

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(n).decode(errors="replace"))
        if "scope" in form:  # OAuth2 sends the scopes space-separated in one field
            form["scope"] = " ".join(form["scope"]).split()
        grant_type = form.get("grant_type", [""])[0]
        account = form.get("username", [None])[0]
        if grant_type == "password":
            self.issue(url.path, form, account, form.get("password", [""])[0], None, True)
        elif grant_type == "refresh_token":
            self.issue(url.path, form, account, None, form.get("refresh_token", [""])[0], True)
        else:
            self.finish_request(400, {"error": "unsupported_grant_type"}, "-", form)

    def finish_request(self, status, body, account, q, extra=()):
        st = self.server.state
        scopes = q.get("scope") or ["-"]
        service = q.get("service", ["-"])[0]
        st.log(st.args.log, " ".join([now(), self.command, str(status), account or "anonymous",
                                      service] + scopes))
        self.reply(status, body, extra)

    def issue(self, path, q, account, password, refresh, want_refresh):
        st = self.server.state
        if path.rstrip("/") != "/token":
            return self.finish_request(404, {"error": "not found"}, account, q)
        if q.get("service", [""])[0] != st.args.service:
            return self.finish_request(400, {"error": "unknown service"}, account, q)
        rights = "anonymous"
        if refresh is not None:
            account = st.refresh_tokens.get(refresh)
            if account is None:
                return self.finish_request(401, {"error": "invalid_grant"}, "-", q)
            rights = st.users[account][1]
        elif account is not None:
            user = st.users.get(account)
            if user is None or not secrets.compare_digest(user[0], password or ""):
                return self.finish_request(
                    401, {"details": "incorrect username or password"}, account, q,
                    [("WWW-Authenticate", 'Basic realm="ocinoco-test-token"')])
            rights = user[1]
        access = []
        for scope in q.get("scope", []):
            for one in scope.split():
                parsed = parse_scope(one)
                if parsed is None:
                    return self.finish_request(400, {"error": "bad scope"}, account, q)
                actions = grant(rights, *parsed)
                if actions:
                    access.append({"type": parsed[0], "name": parsed[1], "actions": actions})
        t = int(time.time())
        claims = {"iss": st.args.issuer, "sub": account or "", "aud": st.args.service,
                  "exp": t + EXPIRES_IN, "nbf": t - 10, "iat": t,
                  "jti": secrets.token_hex(16), "access": access}
        token = jwt.encode(claims, st.sign_key, algorithm="RS256",
                           headers={"x5c": st.x5c, "typ": "JWT"})
        body = {"token": token, "access_token": token, "expires_in": EXPIRES_IN,
                "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))}
        if want_refresh and account:
            r = secrets.token_hex(16)
            with st.lock:
                st.refresh_tokens[r] = account
            body["refresh_token"] = r
        self.finish_request(200, body, account, q)


def now():
    t = time.time()
    return "%s.%03dZ" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)), int(t * 1000) % 1000)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state, ctx):
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state
        self.ctx = ctx

    def get_request(self):
        sock, addr = super().get_request()
        # The handshake runs in the handler thread, so a stuck client cannot block accept().
        return self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):  # a client hanging up is no news
            traceback.print_exc()


def main():
    p = argparse.ArgumentParser()
    for opt in ("cert", "key", "sign-cert", "sign-key", "issuer", "service", "users", "log",
                "conn-log", "port-file"):
        p.add_argument("--" + opt, required=True)
    p.add_argument("--idle-exit", type=float, default=900)
    p.add_argument("--tag", help="ignored; marks the process for cleanup")
    args = p.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv = Server(State(args), ctx)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    # A test that forgot to stop us: give up when idle, or when our directory is gone
    # (bats removes its temp dirs at the end of the run).
    home = os.path.dirname(os.path.abspath(args.log))
    while time.monotonic() - srv.state.last_activity < args.idle_exit and os.path.isdir(home):
        time.sleep(1)
    print("token_server: idle or orphaned, exiting", file=sys.stderr)


if __name__ == "__main__":
    main()
