"""Shared helpers for the imagereg end-to-end tests: HTTP client, psql access, Zadig-shape assertions."""

import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
from collections import namedtuple

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pgwire  # noqa: E402  (tests/lib, shared with other suites)

COLLECTION = "/openapi/system/registry"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
# Zadig's six fields, then the two the security work added (has_credentials: a secret_key is stored;
# credentials_updated_at: when credentials were last set, ISO 8601, or null). Neither reveals a credential.
ZADIG_KEYS = {"registry_id", "address", "provider", "region", "namespace", "is_default"}
ITEM_KEYS = ZADIG_KEYS | {"has_credentials", "credentials_updated_at"}
ERROR_KEYS = {"type", "code", "message", "description", "extra"}
PROVIDERS = ("acr", "tcr", "swr", "ecr", "dockerhub", "harbor", "nexus", "native")
ID_RE = re.compile(r"^[0-9a-f]{24}$")
REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    412: "Precondition Failed",
    413: "Payload Too Large",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

# Every secret value a test sends contains this marker, and nothing else ever does: request() fails the test that
# receives a response containing it, so "never returned by any endpoint" is checked on every response of the suite.
SECRET_MARK = "S3CR3T"
_secret_seq = [0]

# A self-signed certificate (EC P-256, valid until 2126) for tls_cert, which must be PEM X.509.
TEST_CERT = """-----BEGIN CERTIFICATE-----
MIIBpzCCAU2gAwIBAgIUIk1KpyVPEBKxYsefzLBWZDjYmJswCgYIKoZIzj0EAwIw
KDEmMCQGA1UEAwwdaW1hZ2VyZWcgZTJlIHRlc3QgY2VydGlmaWNhdGUwIBcNMjYx
MTI5MjIxNDQ4WhgPMjEyNjExMDUyMjE0NDhaMCgxJjAkBgNVBAMMHWltYWdlcmVn
IGUyZSB0ZXN0IGNlcnRpZmljYXRlMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE
zvK3ZuEJSrGylfpWKCZ0A1/Q43ceccaewIM6ttma5xTnNxUHObxIjZgodY1sWyv9
kI7jqt2HFkQ/5fj8Ceh5y6NTMFEwHQYDVR0OBBYEFAb74Ad/hMREuljkhZbUYVSy
NF3JMB8GA1UdIwQYMBaAFAb74Ad/hMREuljkhZbUYVSyNF3JMA8GA1UdEwEB/wQF
MAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgajRM3UlrrKHnDAFkT+m0EES0Xt2k1+l1
MugyVuG8k3ICIQDLWFdkoVwouGpzSyMHFKonbs6407dKhD9FC0f1DWIs1A==
-----END CERTIFICATE-----
"""

# Passing DROP as a field value in body() removes that field from the default body.
DROP = object()

Resp = namedtuple("Resp", "status headers raw json")


def item_path(registry_id):
    """Path of one registry."""
    return f"{COLLECTION}/{registry_id}"


def secret(kind):
    """A distinctive secret value (for access_key, secret_key, tls_cert) that carries SECRET_MARK."""
    _secret_seq[0] += 1
    return f"{kind}-{SECRET_MARK}-{os.getpid()}-{_secret_seq[0]}"


def cert_pem():
    """A distinct tls_cert value: an explanatory line carrying SECRET_MARK (RFC 7468 allows text before the
    block), then TEST_CERT. The marker makes "tls_cert is never returned" checkable like the keys."""
    return f"{secret('cert')}\n{TEST_CERT}"


def base_url():
    """The stack's root URL (app mounted at /)."""
    url = os.environ.get("IMAGEREG_URL")
    if not url:
        raise RuntimeError("IMAGEREG_URL is not set (eval the output of tests/stack-up.sh first)")
    return url


def prefix_url():
    """The same app mounted below a path prefix."""
    url = os.environ.get("IMAGEREG_PREFIX_URL")
    if not url:
        raise RuntimeError("IMAGEREG_PREFIX_URL is not set")
    return url


def auth_headers():
    """The one place that adds credentials: Authorization: Bearer $IMAGEREG_TOKEN when the harness sets it."""
    token = os.environ.get("IMAGEREG_TOKEN")
    return {"Authorization": f"Bearer {token}"} if token else {}


def _connection(base):
    parts = urllib.parse.urlsplit(base)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    return cls(parts.hostname, parts.port, timeout=60), parts.path.rstrip("/")


def _encode_body(body, raw, headers):
    """Bytes to send; a dict/list body is JSON-encoded and labelled application/json unless headers say otherwise."""
    if raw is not None:
        return raw
    if body is None:
        return None
    headers.setdefault("Content-Type", "application/json")
    return json.dumps(body).encode()


def _parse_json(raw):
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def check_no_secret(raw, headers, where="response"):
    """Fail if a response (body or headers) carries any secret value sent by the suite."""
    blob = raw + json.dumps(headers).encode()
    assert SECRET_MARK.encode() not in blob, f"{where} leaks a secret: {short(raw)}"


def request(method, path, body=None, headers=None, raw=None, base=None):
    """Send one HTTP request on a fresh connection; return Resp(status, lower-cased headers, raw bytes, json or None).

    body: a JSON value to encode; raw: exact bytes to send instead. A header given with value None is not sent.
    """
    hdrs = {**auth_headers(), **(headers or {})}
    payload = _encode_body(body, raw, hdrs)
    hdrs = {k: v for k, v in hdrs.items() if v is not None}
    conn, prefix = _connection(base or base_url())
    try:
        conn.request(method, prefix + path, body=payload, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        got = {}
        for name, value in resp.getheaders():
            key = name.lower()
            got[key] = f"{got[key]}, {value}" if key in got else value
    finally:
        conn.close()
    check_no_secret(data, got, f"{method} {path}")
    return Resp(resp.status, got, data, _parse_json(data))


def short(raw, limit=300):
    """A printable one-line excerpt of a body for failure messages."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[:limit] + "..."


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------------------------

def psql(sql, *params, database=None):
    """Run a psql script; params become psql variables p1, p2, ... to be used as :'p1' in sql. Returns what
    `psql -A -t` prints; raises RuntimeError (pgwire.PgError) on the first error, as ON_ERROR_STOP does.

    The script runs in a session this process keeps open (tests/lib/pgwire.py: same statements, same output, a clean
    session each time), not in a new psql process: that cost about 70 ms of CPU a call on this machine.
    database: connect to this database instead of $PGDATABASE (for statements about the test database itself).
    """
    return pgwire.run(sql, *params, database=database)


# How long the tests that repeat rounds under load may run: LOAD_SECONDS (default 30; tests/run.sh: 10, 3 under
# ASan) scales them all, so that make test stays bounded whatever the machine's load, and a long run proves more.
LOAD_SECONDS = float(os.environ.get("LOAD_SECONDS", "30"))

# Which idle worker takes a connection: while requests come back to back, the one that served last (warm); after a
# pause of 1 ms or more in the traffic they take turns (cgi/worker.c, the idle queue). A test that must reach every
# worker, or read on another worker than the one that wrote, pauses this long before each request.
TURN_PAUSE_S = 0.002


def turn_pause():
    time.sleep(TURN_PAUSE_S)


def rounds_within(limit, seconds):
    """Round numbers 0, 1, ... below limit, for as long as seconds have not passed since the first."""
    deadline = time.monotonic() + seconds
    for i in range(limit):
        if i > 0 and time.monotonic() >= deadline:
            return
        yield i


def responder_env():
    """What a responder run by a test needs from the suite's environment: the PG* connection variables, and the
    config files tests/run.sh names (so that a deployment's /etc/imagereg on the machine is never read)."""
    return {k: v for k, v in os.environ.items()
            if k.startswith("PG") or k in ("IMAGEREG_CONFIG", "IMAGEREG_ADMIN_CONFIG")}


# A reset deletes up to this many rows through the API, more in SQL.
RESET_BY_API = 20


def reset():
    """Empty the registry table, and make every worker of this host forget its list before its next request.

    A write in psql reaches the workers through NOTIFY, which a loaded machine delivers some milliseconds after the
    commit: a test that reads right after its reset could see the rows it just deleted. So a few rows are deleted
    through the API (each DELETE moves this host's shared counters, which every worker checks on each request), and
    many, or any the API would not delete, in SQL followed by `imagereg cache flush`, which moves the counters too
    (a process and a database session: about 50 ms of CPU here, and most tests reset). An empty table: nothing."""
    ids = psql("SELECT id FROM registry;").split()
    if not ids:
        return
    if len(ids) <= RESET_BY_API and os.environ.get("IMAGEREG_TOKEN"):
        try:
            if all(request("DELETE", item_path(rid)).status in (200, 404) for rid in ids) and \
                    psql("SELECT count(*) FROM registry;").strip() == "0":
                return
        except OSError:
            pass        # the stack is not answering: SQL below
    psql("DELETE FROM registry;")
    cli = os.environ.get("IMAGEREG_CLI")
    if cli:
        subprocess.run([cli, "cache", "flush"], capture_output=True, timeout=60, check=True)


def db_rows():
    """Every row of the registry table as a dict of all its columns (schema-agnostic: to_jsonb of the row)."""
    out = psql("SELECT coalesce(json_agg(to_jsonb(r)), '[]'::json) FROM registry r;")
    return json.loads(out)


def db_dump():
    """A canonical text of the whole table, for comparing before and after a request."""
    rows = [json.dumps(r, sort_keys=True) for r in db_rows()]
    return "\n".join(sorted(rows))


def row_id(row):
    """The registry id of a table row, whatever the id column is called and however it is typed."""
    for key in ("registry_id", "id"):
        if key in row:
            value = str(row[key])
            return value[2:] if value.startswith("\\x") else value
    raise AssertionError(f"registry row has no id column: {sorted(row)}")


def db_row(registry_id):
    """The table row of one registry, or None."""
    for row in db_rows():
        if row_id(row) == registry_id:
            return row
    return None


def stored_credentials(registry_id):
    """(access_key, secret_key, enable_tls, tls_cert) as stored for a registry; a key that is not stored is None.

    The one place that knows how credentials sit in the table: plain columns access_key/secret_key, or (since they
    are sealed at rest) access_key_sealed/secret_key_sealed, opened with `$IMAGEREG_CLI credentials ID`.
    """
    row = db_row(registry_id)
    assert row is not None, f"no row for {registry_id}"
    if "access_key" in row:
        keys = row["access_key"], row["secret_key"]
    else:
        keys = _unsealed_keys(registry_id, row)
    return keys + (row.get("enable_tls"), row.get("tls_cert"))


def _unsealed_keys(registry_id, row):
    cli = os.environ.get("IMAGEREG_CLI")
    if not cli:
        raise RuntimeError("credentials are sealed and IMAGEREG_CLI is not set")
    proc = subprocess.run([cli, "credentials", registry_id], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"{cli} credentials failed ({proc.returncode}): {proc.stderr.strip()}")
    values = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    return tuple(values.get(k) if row.get(f"{k}_sealed") is not None else None for k in ("access_key", "secret_key"))


def db_defaults():
    """Ids of the rows flagged default in the table."""
    return sorted(row_id(r) for r in db_rows() if r.get("is_default") is True)


# ---------------------------------------------------------------------------------------------------------------
# Request bodies and common calls
# ---------------------------------------------------------------------------------------------------------------

def body(**fields):
    """A valid registry body (harbor, with namespace) with fields overridden; a value of DROP removes the field."""
    out = {"address": "https://reg.example.com", "provider": "harbor", "namespace": "team"}
    for key, value in fields.items():
        if value is DROP:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def create(base=None, **fields):
    """POST a registry built by body(**fields), assert success, return its id."""
    return assert_created(request("POST", COLLECTION, body(**fields), base=base))


def list_registries(base=None):
    """GET the collection, assert a well-formed 200 list, return it."""
    resp = request("GET", COLLECTION, base=base)
    assert_ok_json(resp)
    assert isinstance(resp.json, list), f"list is not a JSON array: {short(resp.raw)}"
    for entry in resp.json:
        assert_registry_shape(entry)
    return resp.json


def get_registry(registry_id, base=None):
    """GET one registry, assert a well-formed 200 object, return it."""
    resp = request("GET", item_path(registry_id), base=base)
    assert_ok_json(resp)
    assert_registry_shape(resp.json)
    return resp.json


def api_defaults():
    """Ids the API reports as default."""
    return sorted(r["registry_id"] for r in list_registries() if r["is_default"])


def assert_one_default(expected=None):
    """Exactly one default, in the table and in the API (and it is `expected` when given)."""
    in_db = db_defaults()
    assert len(in_db) == 1, f"table has {len(in_db)} defaults: {in_db}"
    in_api = api_defaults()
    assert in_api == in_db, f"API defaults {in_api} != table defaults {in_db}"
    if expected is not None:
        assert in_db == [expected], f"default is {in_db[0]}, expected {expected}"


# ---------------------------------------------------------------------------------------------------------------
# Assertions
# ---------------------------------------------------------------------------------------------------------------

def assert_status(resp, status):
    """The response has the given status (the body is shown otherwise)."""
    assert resp.status == status, f"status {resp.status}, expected {status}: {short(resp.raw)}"


def assert_json_content_type(resp):
    """Content-Type is exactly application/json; charset=utf-8."""
    ctype = resp.headers.get("content-type", "")
    assert ctype.lower().replace(" ", "") == JSON_CONTENT_TYPE.replace(" ", ""), f"Content-Type is {ctype!r}"


def assert_ok_json(resp):
    """200 with a JSON body and the JSON content type."""
    assert_status(resp, 200)
    assert_json_content_type(resp)
    assert resp.json is not None, f"200 body is not JSON: {short(resp.raw)}"


def assert_success(resp):
    """200 {"message":"success"} exactly."""
    assert_ok_json(resp)
    assert resp.json == {"message": "success"}, f"expected {{'message':'success'}}, got {short(resp.raw)}"


def assert_created(resp):
    """200 {"message":"success","registry_id":"<24 hex>"} exactly, plus a "warning" sentence when the save would
    surprise (t_warnings.py tests when); returns the id."""
    assert_ok_json(resp)
    got = resp.json
    assert isinstance(got, dict) and set(got) - {"warning"} == {"message", "registry_id"}, \
        f"bad create body: {short(resp.raw)}"
    assert "warning" not in got or (isinstance(got["warning"], str) and got["warning"]), f"warning {got['warning']!r}"
    assert got["message"] == "success", f"message is {got['message']!r}"
    assert isinstance(got["registry_id"], str) and ID_RE.match(got["registry_id"]), f"bad id {got['registry_id']!r}"
    return got["registry_id"]


def assert_registry_shape(entry):
    """A registry as the API shows it: exactly the six public keys with the right JSON types."""
    assert isinstance(entry, dict), f"registry is not an object: {entry!r}"
    assert set(entry) == ITEM_KEYS, f"registry keys {sorted(entry)} != {sorted(ITEM_KEYS)}"
    assert isinstance(entry["registry_id"], str) and ID_RE.match(entry["registry_id"]), f"bad id {entry!r}"
    for key in ("address", "provider", "region", "namespace"):
        assert isinstance(entry[key], str), f"{key} is not a string: {entry!r}"
    assert isinstance(entry["is_default"], bool), f"is_default is not a boolean: {entry!r}"
    assert isinstance(entry["has_credentials"], bool), f"has_credentials is not a boolean: {entry!r}"
    assert entry["credentials_updated_at"] is None or isinstance(entry["credentials_updated_at"], str), \
        f"credentials_updated_at is neither null nor a string: {entry!r}"


def _description_mentions(description, expect):
    wanted = (expect,) if isinstance(expect, str) else tuple(expect)
    return any(w.lower() in description.lower() for w in wanted)


def assert_error(resp, status, mentions=None):
    """The exact Zadig error shape with HTTP status == code; description names one of `mentions` when given."""
    assert_status(resp, status)
    assert_json_content_type(resp)
    got = resp.json
    assert isinstance(got, dict), f"error body is not a JSON object: {short(resp.raw)}"
    assert set(got) == ERROR_KEYS, f"error keys {sorted(got)} != {sorted(ERROR_KEYS)}"
    assert got["type"] == "error", f"type is {got['type']!r}"
    assert type(got["code"]) is int and got["code"] == status, f"code {got['code']!r} != HTTP status {status}"
    assert got["message"] == REASONS[status], f"message {got['message']!r} != {REASONS[status]!r}"
    assert isinstance(got["description"], str) and got["description"].strip(), "description is empty"
    assert got["extra"] == {}, f"extra is {got['extra']!r}"
    if mentions:
        assert _description_mentions(got["description"], mentions), \
            f"description {got['description']!r} does not mention {mentions!r}"
    return got


def expect_error(method, path, status, mentions=None, body=None, raw=None, headers=None, base=None):
    """Send a request that must fail: assert the error shape and that the table is unchanged by it."""
    before = db_dump()
    resp = request(method, path, body=body, headers=headers, raw=raw, base=base)
    got = assert_error(resp, status, mentions)
    after = db_dump()
    assert before == after, f"failed {method} {path} changed the table"
    return resp, got


def allowed_methods(resp):
    """The set of methods in an Allow header."""
    return {m.strip().upper() for m in resp.headers.get("allow", "").split(",") if m.strip()}
