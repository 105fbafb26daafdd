"""Fake Docker registries on 127.0.0.1 for the registry-check tests (Python 3 standard library only).

Each fake runs in a thread of the test process on a free port and is a context manager:

    with FakeRegistry("basic", user="u", password="p") as reg:
        reg.address          # "http://127.0.0.1:PORT" (https:// with tls=True)
        reg.requests         # [(method, path, Authorization header or None)] as received
        reg.connected_at     # time.monotonic() of each connection the raw kinds (hang, badrequest) accepted

tls=True serves any kind over TLS with a self-signed certificate for IP 127.0.0.1 (made with the openssl CLI);
reg.cert_pem is that certificate.  realm= replaces the bearer kind's token service URL.

Kinds:
  basic      /v2/ answers 401 with `WWW-Authenticate: Basic realm="fake"` and the registry header; 200 with the
             right Basic credentials.
  bearer     /v2/ answers 401 with `Bearer realm="http://127.0.0.1:P/token",service="fake"`; /token takes the Basic
             credentials and answers {"token": ...}; /v2/ with that bearer token answers 200.
  plain      a web server: 200 text/html for every path, no registry header.
  password   a web server behind Basic auth: 401 Basic without the registry header, 200 HTML with the credentials.
  anonymous  a registry without authentication: /v2/ answers 200 with the registry header.
  redirect   /v2/ answers 301 to https://registry.example.invalid/v2/.
  hang       accepts connections and never answers.
  badrequest reads what arrives (a TLS ClientHello, say) and answers HTTP 400 at once, then closes: a plain-HTTP
             port as nginx keeps one.  Each connection it answered is recorded as ("ANSWERED", None, None).
"""

import base64
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time

API_HEADER = ("Docker-Distribution-API-Version", "registry/2.0")
KINDS = ("basic", "bearer", "plain", "password", "anonymous", "redirect", "hang", "badrequest")
# The kinds served by a bare accept loop instead of http.server.
RAW_KINDS = ("hang", "badrequest")


def make_cert(directory):
    """A self-signed EC certificate and key for 127.0.0.1 in directory; returns (cert path, key path)."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=imagereg fake registry",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: the test output is the runner's
        pass

    def _send(self, status, body=b"", headers=(), content_type="application/json"):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _basic_ok(self):
        fake = self.server.fake
        want = base64.b64encode(f"{fake.user}:{fake.password}".encode()).decode()
        return self.headers.get("Authorization") == f"Basic {want}"

    def do_GET(self):  # noqa: N802 (http.server's name)
        fake = self.server.fake
        fake.requests.append(("GET", self.path, self.headers.get("Authorization")))
        kind = fake.kind
        path = self.path.split("?", 1)[0]
        if kind == "plain":
            return self._send(200, b"<html><body>It works!</body></html>", content_type="text/html")
        if kind == "password":
            if self._basic_ok():
                return self._send(200, b"<html>private</html>", content_type="text/html")
            return self._send(401, b"", [("WWW-Authenticate", 'Basic realm="intranet"')], "text/html")
        if kind == "redirect":
            return self._send(301, b"", [("Location", "https://registry.example.invalid/v2/")], "text/html")
        if kind == "anonymous":
            return self._send(200, b"{}", [API_HEADER])
        if kind == "basic":
            if path != "/v2/":
                return self._send(404, b"{}", [API_HEADER])
            if self._basic_ok():
                return self._send(200, b"{}", [API_HEADER])
            return self._send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                              [("WWW-Authenticate", 'Basic realm="fake"'), API_HEADER])
        if kind == "bearer":
            if path == "/token":
                if self._basic_ok():
                    return self._send(200, json.dumps({"token": fake.token, "expires_in": 300}).encode())
                return self._send(401, b'{"details":"incorrect username or password"}')
            # Browsing: the catalog and one tag list, each behind a token for its own scope, as Docker's token
            # protocol has it; the token service issues the same token whatever the scope, and records it.
            listings = {"/v2/_catalog": ("registry:catalog:*", {"repositories": ["team/app", "team/web"]}),
                        "/v2/team/app/tags/list": ("repository:team/app:pull", {"name": "team/app", "tags": ["v1"]})}
            if path != "/v2/" and path not in listings:
                return self._send(404, b"{}", [API_HEADER])
            scope = listings[path][0] if path in listings else None
            if self.headers.get("Authorization") == f"Bearer {fake.token}":
                return self._send(200, json.dumps(listings[path][1]).encode() if scope else b"{}", [API_HEADER])
            realm = f'Bearer realm="{fake.realm}",service="fake"' + (f',scope="{scope}"' if scope else "")
            return self._send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', [("WWW-Authenticate", realm), API_HEADER])
        return self._send(500, b"{}")


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that refuses our certificate is part of the tests, not news


class FakeRegistry:
    """One fake registry of the given kind; credentials user/password; token is what the bearer kind hands out."""

    def __init__(self, kind, user="user", password="password", token="token", tls=False, realm=None):
        assert kind in KINDS, f"unknown fake registry kind {kind}"
        self.kind, self.user, self.password, self.token = kind, user, password, token
        self.tls, self._realm = tls, realm
        self.requests = []
        self.connected_at = []
        self.port = None
        self.cert_pem = None
        self._server = self._thread = self._tmp = None
        self._raw_sock = None
        self._held_conns = []
        self._stop = threading.Event()

    @property
    def address(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def realm(self):
        return self._realm or f"{self.address}/token"

    def __enter__(self):
        if self.kind in RAW_KINDS:
            self._start_raw()
        else:
            self._start_http()
        return self

    def __exit__(self, *exc):
        self.stop()

    def _start_http(self):
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.port = self._server.server_address[1]
        if self.tls:
            self._tmp = tempfile.mkdtemp(prefix="imagereg-fakereg-")
            cert, key = make_cert(self._tmp)
            with open(cert, encoding="ascii") as f:
                self.cert_pem = f.read()
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            # The handshake happens in the handler thread, so a client that fails it does not stall the others.
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True,
                                                  do_handshake_on_connect=False)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)
        self._thread.start()

    def _start_raw(self):
        self._raw_sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._raw_sock.bind(("127.0.0.1", 0))
        self._raw_sock.listen(16)
        self._raw_sock.settimeout(0.1)
        self.port = self._raw_sock.getsockname()[1]

        def accept_forever():
            while not self._stop.is_set():
                try:
                    conn, _ = self._raw_sock.accept()
                except OSError:
                    continue
                self.connected_at.append(time.monotonic())
                self.requests.append(("CONNECT", None, None))
                if self.kind == "hang":
                    self._held_conns.append(conn)  # held open, never read, never answered
                    continue
                with conn:
                    conn.settimeout(5)
                    try:
                        if conn.recv(4096):
                            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                            self.requests.append(("ANSWERED", None, None))
                    except OSError:
                        pass

        self._thread = threading.Thread(target=accept_forever, daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for conn in self._held_conns:
            conn.close()
        if self._raw_sock is not None:
            self._raw_sock.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


def closed_port():
    """A loopback port nothing listens on (bound and released again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
