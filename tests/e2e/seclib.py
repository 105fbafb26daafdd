"""Helpers shared by the t_security_*.py modules: tokens, the admin CLI, psql as a role, raw HTTP, file scans.

Builds on lib.py (request(), psql(), reset(), the Zadig assertions); nothing here sends a secret to psql or a log.
"""

import base64
import binascii
import concurrent.futures
import hashlib
import json
import os
import secrets
import socket
import subprocess
import tempfile
import time
import urllib.parse

from lib import SECRET_MARK, base_url, psql, short

NO_AUTH = {"Authorization": None}
CMD_TIMEOUT = 60


def need_env(name):
    """The value of a variable the stack exports; a clear error when it is missing."""
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set (source the output of tests/stack-up.sh first)")
    return value


def rand_hex(nbytes=8):
    """Random lowercase hex, 2*nbytes characters."""
    return secrets.token_hex(nbytes)


def bearer(token):
    """Headers sending token with the Bearer scheme."""
    return {"Authorization": f"Bearer {token}"}


def write_headers():
    return bearer(need_env("IMAGEREG_TOKEN"))


def read_headers():
    return bearer(need_env("IMAGEREG_READ_TOKEN"))


def unknown_token():
    """A token shaped like a real one (irt_ + 64 hex) that was never issued."""
    return "irt_" + rand_hex(32)


def new_secrets():
    """A distinctive (access_key, secret_key) pair; both carry lib.SECRET_MARK, so lib.request() also watches them."""
    tag = rand_hex(8)
    return f"AKIA-{SECRET_MARK}-{tag}", f"SECRET-{SECRET_MARK}-{tag}-{rand_hex(12)}"


def encodings(text):
    """The forms in which a leaked text could show up: as is, hex (bytea output), base64, and its SHA-256 hex."""
    raw = text.encode()
    return {
        "text": raw,
        "hex": binascii.hexlify(raw),
        "base64": base64.b64encode(raw),
    }


def leaks(blob, named_texts):
    """Which of {label: text} occur in blob (bytes) in any of their encodings(); a list of 'label (encoding)'."""
    found = []
    lower = blob.lower()
    for label, text in named_texts.items():
        for enc, needle in encodings(text).items():
            hay = lower if enc == "hex" else blob
            if needle in hay:
                found.append(f"{label} ({enc})")
    return found


# -------------------------------------------------------------------------------------------------------------------
# Full table state, audit rows
# -------------------------------------------------------------------------------------------------------------------

def state_dump():
    """A canonical text of every registry row (all columns, sealed bytes included) and of registry_audit: its row
    count, its last id and its newest 20 rows whole. A request never changes a committed audit row (imagereg_app may
    not write the table; the owner's trigger merges only into a row of its own transaction), so what a request did
    to the audit shows there, and the dump stays quick after t_load has left thousands of rows."""
    out = psql("SELECT json_build_object("
               " 'registry', (SELECT coalesce(json_agg(to_jsonb(r) ORDER BY r.id), '[]'::json) FROM registry r),"
               " 'audit_rows', (SELECT count(*) FROM registry_audit),"
               " 'audit_last', (SELECT max(id) FROM registry_audit),"
               " 'audit_newest', (SELECT coalesce(json_agg(to_jsonb(a) ORDER BY a.id), '[]'::json)"
               "                  FROM (SELECT * FROM registry_audit ORDER BY id DESC LIMIT 20) a));")
    return json.dumps(json.loads(out), sort_keys=True)


def audit_rows(registry_id):
    """registry_audit rows of one registry, oldest first, as dicts (changed_fields a list)."""
    out = psql("SELECT coalesce(json_agg(to_jsonb(a) ORDER BY a.id), '[]'::json) FROM registry_audit a"
               " WHERE registry_id = :'p1';", registry_id)
    return json.loads(out)


def audit_count():
    return int(psql("SELECT count(*) FROM registry_audit;").strip())


def audit_table_text():
    """Every registry_audit row as PostgreSQL's row text, one a line."""
    return psql("SELECT a::text FROM registry_audit a ORDER BY id;")


def sealed_hex(registry_id):
    """(access_key_sealed, secret_key_sealed) of a registry as hex ('' when NULL): ciphertext, never plaintext."""
    out = psql("SELECT coalesce(encode(access_key_sealed, 'hex'), '') || '|' ||"
               " coalesce(encode(secret_key_sealed, 'hex'), '') FROM registry WHERE id = :'p1';", registry_id)
    access, _, secret = out.strip().partition("|")
    return access, secret


def sealed_key_ids():
    """The set of key ids that sealed the credentials in the table."""
    out = psql("SELECT DISTINCT imagereg_sealed_key_id(v) FROM registry,"
               " LATERAL (VALUES (access_key_sealed), (secret_key_sealed)) s(v) WHERE v IS NOT NULL;")
    return {line.strip() for line in out.splitlines() if line.strip()}


# -------------------------------------------------------------------------------------------------------------------
# psql without raising: for statements that must be refused
# -------------------------------------------------------------------------------------------------------------------

def psql_try(sql):
    """Run sql in one psql session with ON_ERROR_STOP; return (returncode, stdout, stderr)."""
    cmd = ["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"]
    proc = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=CMD_TIMEOUT)
    return proc.returncode, proc.stdout, proc.stderr


def psql_as(role, sql):
    """Run sql after SET ROLE role (the superuser session of the PG* variables); (returncode, stdout, stderr)."""
    return psql_try(f"SET ROLE {role};\n{sql}\n")


def assert_denied(role, sql):
    """sql as role fails with "permission denied" (and nothing else went wrong)."""
    rc, out, err = psql_as(role, sql)
    assert rc != 0, f"{role} was allowed: {sql!r} -> {out.strip()!r}"
    assert "permission denied" in err, f"{role}: {sql!r} failed for another reason: {err.strip()!r}"


def assert_allowed(role, sql):
    """sql as role succeeds; returns its output."""
    rc, out, err = psql_as(role, sql)
    assert rc == 0, f"{role} was refused {sql!r}: {err.strip()!r}"
    return out


# -------------------------------------------------------------------------------------------------------------------
# The admin CLI
# -------------------------------------------------------------------------------------------------------------------

def cli(*args, key_file=None, timeout=CMD_TIMEOUT):
    """Run $IMAGEREG_CLI with args (IMAGEREG_KEY_FILE=key_file when given); the CompletedProcess (text)."""
    env = dict(os.environ)
    if key_file is not None:
        env["IMAGEREG_KEY_FILE"] = key_file
    return subprocess.run([need_env("IMAGEREG_CLI"), *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def cli_ok(*args, key_file=None):
    """cli() that must exit 0; returns stdout."""
    proc = cli(*args, key_file=key_file)
    assert proc.returncode == 0, f"imagereg {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}"
    return proc.stdout


def cli_credentials(registry_id, key_file=None):
    """{'access_key': ..., 'secret_key': ...} as `imagereg credentials ID` prints them (must succeed)."""
    out = cli_ok("credentials", registry_id, key_file=key_file)
    lines = out.splitlines()
    values = dict(line.split("=", 1) for line in lines if "=" in line)
    assert set(values) == {"access_key", "secret_key"} and len(lines) == 2, f"unexpected credentials output: {out!r}"
    return values


def new_token(scope, prefix="sec"):
    """Create a token with the CLI under a fresh name; (name, token)."""
    name = f"{prefix}-{scope}-{rand_hex(6)}"
    proc = cli("token", "create", name, "--scope", scope)
    assert proc.returncode == 0, f"token create {name} exited {proc.returncode}: {proc.stderr.strip()}"
    token = proc.stdout.strip()
    assert token, "token create printed no token"
    return name, token


def make_key_file(directory, name="key"):
    """A fresh at-rest key in directory: 32 random bytes as 64 hex characters, mode 0600. Returns its path."""
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(rand_hex(32))
    os.chmod(path, 0o600)
    return path


def key_id(path):
    """The key id the product gives a key file: first 8 bytes of SHA-256 of the 32 key bytes, in hex."""
    with open(path, "rb") as f:
        data = f.read().strip()
    raw = bytes.fromhex(data.decode()) if len(data) == 64 else data
    return hashlib.sha256(raw).hexdigest()[:16]


# -------------------------------------------------------------------------------------------------------------------
# OpenSSL material, made once per run
# -------------------------------------------------------------------------------------------------------------------

_pki = {}


def _pki_dir():
    if "dir" not in _pki:
        _pki["dir"] = tempfile.mkdtemp(prefix="imagereg-sec-pki-")
    return _pki["dir"]


def openssl(*args):
    proc = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=CMD_TIMEOUT, cwd=_pki_dir())
    assert proc.returncode == 0, f"openssl {' '.join(args)} failed: {proc.stderr.strip()}"
    return proc.stdout


def self_signed_cert():
    """A real self-signed EC certificate (PEM text), generated once."""
    if "cert" not in _pki:
        path = os.path.join(_pki_dir(), "cert.pem")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "/dev/null", "-out", path, "-days", "30", "-subj", "/CN=t")
        with open(path) as f:
            _pki["cert"] = f.read()
    return _pki["cert"]


def private_key_pem():
    """A PEM EC private key (PKCS#8), generated once."""
    if "key" not in _pki:
        _pki["key"] = openssl("genpkey", "-algorithm", "ec", "-pkeyopt", "ec_paramgen_curve:P-256")
    return _pki["key"]


def public_key_pem():
    """The PEM public key of private_key_pem()."""
    if "pub" not in _pki:
        path = os.path.join(_pki_dir(), "priv.pem")
        with open(path, "w") as f:
            f.write(private_key_pem())
        _pki["pub"] = openssl("pkey", "-in", path, "-pubout")
    return _pki["pub"]


# -------------------------------------------------------------------------------------------------------------------
# HTTP helpers
# -------------------------------------------------------------------------------------------------------------------

def assert_bearer_challenge(resp):
    """A 401 carries WWW-Authenticate naming the Bearer scheme."""
    challenge = resp.headers.get("www-authenticate", "")
    assert challenge.lower().startswith("bearer"), f"WWW-Authenticate is {challenge!r}"


def assert_hardening_headers(headers, what="response"):
    """Cache-Control: no-store and X-Content-Type-Options: nosniff (headers: lower-cased names)."""
    cache = headers.get("cache-control", "")
    assert "no-store" in [v.strip().lower() for v in cache.split(",")], f"{what}: Cache-Control is {cache!r}"
    sniff = headers.get("x-content-type-options", "")
    assert sniff.strip().lower() == "nosniff", f"{what}: X-Content-Type-Options is {sniff!r}"


def parallel(fn, count, workers=16):
    """Run fn() count times on a thread pool; the list of results."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda _: fn(), range(count)))


class RawResp:
    """A response read from a raw socket: status, lower-cased headers, body bytes, parsed JSON or None."""

    def __init__(self, status, headers, raw):
        self.status, self.headers, self.raw = status, headers, raw
        try:
            self.json = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self.json = None


def raw_exchange(head_lines, body=b"", timeout=10):
    """Send a request head (list of lines, no CRLFs) and body over a fresh socket to the stack; read the answer.

    Returns (RawResp, seconds until the whole answer was read). The socket is never given more than `body`, so an
    answer that arrives proves the server did not wait for the rest of a declared Content-Length.
    """
    parts = urllib.parse.urlsplit(base_url())
    started = time.monotonic()
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(("\r\n".join(head_lines) + "\r\n\r\n").encode("latin-1") + body)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, f"no complete response head within {timeout}s: {short(data)}"
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        length = int(headers.get("content-length", "-1"))
        while length < 0 or len(rest) < length:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            rest += chunk
        if length >= 0:
            rest = rest[:length]
    elapsed = time.monotonic() - started
    blob = rest + json.dumps(headers).encode()
    assert SECRET_MARK.encode() not in blob, f"raw response leaks a secret: {short(rest)}"
    return RawResp(status, headers, rest), elapsed


def request_head(method, path, headers):
    """Request-line and header lines for raw_exchange()."""
    parts = urllib.parse.urlsplit(base_url())
    lines = [f"{method} {parts.path.rstrip('/')}{path} HTTP/1.1", f"Host: {parts.hostname}:{parts.port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return lines


# -------------------------------------------------------------------------------------------------------------------
# Files
# -------------------------------------------------------------------------------------------------------------------

def files_under(root):
    """Every regular file below root, recursively (sockets, fifos and the like skipped)."""
    found = []
    for dirpath, _, names in os.walk(root):
        for name in sorted(names):
            path = os.path.join(dirpath, name)
            if os.path.isfile(path) and not os.path.islink(path):
                found.append(path)
    return found


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except (FileNotFoundError, PermissionError):
        return b""  # a temp file that vanished while we walked

