"""Security: bearer tokens.

The 401/403 matrix over every endpoint (generated tests, one per endpoint and kind of credential), revocation that
takes effect on the next request in every worker, and tokens that are stored only as SHA-256 and never listed.
"""

import hashlib
import os
import re

from lib import (COLLECTION, assert_created, assert_error, assert_ok_json, assert_registry_shape,
                 assert_success, body, create, get_registry, item_path, psql, request, reset)
from seclib import (NO_AUTH, assert_bearer_challenge, bearer, cli, cli_ok, need_env, new_token, parallel, rand_hex,
                    read_bytes, read_headers, state_dump, unknown_token)

TOKEN_RE = re.compile(r"^irt_[0-9a-f]{64}$")
_TIME = r"(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|-)"
# name, scope, created, last used, revoked: nothing else
LIST_LINE = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._@-]* +(read|write) +{_TIME} +{_TIME} +{_TIME} *$")


# -------------------------------------------------------------------------------------------------------------------
# The matrix: every endpoint x {no header, unknown token, Basic scheme, read token, write token}
# -------------------------------------------------------------------------------------------------------------------

def _setup():
    """A clean table with two registries; returns the id the item endpoints act on (not the default)."""
    reset()
    create(namespace="first")
    return create(namespace="target", address="https://target.example.com")


ENDPOINTS = {
    # name: (method, path(id), body, is_write)
    "list": ("GET", lambda rid: COLLECTION, None, False),
    "get": ("GET", item_path, None, False),
    "post": ("POST", lambda rid: COLLECTION, body(namespace="matrix-new", address="https://new.example.com"), True),
    "put": ("PUT", item_path, body(namespace="matrix-changed", address="https://target.example.com"), True),
    "delete": ("DELETE", item_path, None, True),
}

CASES = {
    # name: (description, headers())
    "without_authorization": ("no Authorization header", lambda: NO_AUTH),
    "with_unknown_bearer_token": ("Authorization: Bearer <a token never issued>",
                                  lambda: bearer(unknown_token())),
    "with_basic_scheme": ("the valid write token sent as Authorization: Basic <token>",
                          lambda: {"Authorization": f"Basic {need_env('IMAGEREG_TOKEN')}"}),
    "with_read_token": ("the read-scope token", read_headers),
    "with_write_token": ("the write-scope token", lambda: bearer(need_env("IMAGEREG_TOKEN"))),
}


def _expect_refused(method, path, payload, headers, status):
    """The request is refused with status in Zadig shape (401s with a Bearer challenge) and changes nothing."""
    before = state_dump()
    resp = request(method, path, payload, headers=headers)
    assert_error(resp, status)
    if status == 401:
        assert_bearer_challenge(resp)
    assert state_dump() == before, f"refused {method} {path} changed registry or registry_audit"


def _expect_allowed(endpoint, method, path, payload, headers, target):
    resp = request(method, path, payload, headers=headers)
    if endpoint == "list":
        assert_ok_json(resp)
        assert target in [r["registry_id"] for r in resp.json], "list lacks the registry"
    elif endpoint == "get":
        assert_ok_json(resp)
        assert_registry_shape(resp.json)
        assert resp.json["registry_id"] == target
    elif endpoint == "post":
        new_id = assert_created(resp)
        assert get_registry(new_id)["namespace"] == "matrix-new"
    elif endpoint == "put":
        assert_success(resp)
        assert get_registry(target)["namespace"] == "matrix-changed"
    elif endpoint == "delete":
        assert_success(resp)
        assert_error(request("GET", item_path(target)), 404)


def _make_matrix_test(endpoint, case):
    method, path_of, payload, is_write = ENDPOINTS[endpoint]
    what, headers_of = CASES[case]
    if case in ("without_authorization", "with_unknown_bearer_token", "with_basic_scheme"):
        expected = "401 with WWW-Authenticate: Bearer in Zadig shape, registry and audit tables unchanged"
    elif case == "with_read_token":
        expected = ("403 in Zadig shape, registry and audit tables unchanged" if is_write
                    else "200 with the registry")
    else:
        expected = "success, and the change is visible" if is_write else "200 with the registry"

    def test():
        target = _setup()
        path = path_of(target)
        headers = headers_of()
        if case in ("without_authorization", "with_unknown_bearer_token", "with_basic_scheme"):
            _expect_refused(method, path, payload, headers, 401)
        elif case == "with_read_token" and is_write:
            _expect_refused(method, path, payload, headers, 403)
        else:
            _expect_allowed(endpoint, method, path, payload, headers, target)

    test.__name__ = f"test_{endpoint}_{case}"
    test.__qualname__ = test.__name__
    test.__doc__ = f"{method} {'collection' if endpoint in ('list', 'post') else 'item'} with {what}: {expected}."
    return test


for _endpoint in ENDPOINTS:
    for _case in CASES:
        _t = _make_matrix_test(_endpoint, _case)
        globals()[_t.__name__] = _t
del _t, _endpoint, _case


def test_401_does_not_reveal_whether_an_id_exists():
    """Without a token, GET of an existing id and of a well-formed unknown id give the same 401 body."""
    target = _setup()
    known = request("GET", item_path(target), headers=NO_AUTH)
    unknown = request("GET", item_path("0" * 24), headers=NO_AUTH)
    assert_error(known, 401)
    assert_error(unknown, 401)
    assert known.json == unknown.json, f"401 bodies differ: {known.raw!r} vs {unknown.raw!r}"


def test_empty_bearer_token_is_401():
    """Authorization: Bearer with nothing after it is 401 with a Bearer challenge."""
    _setup()
    _expect_refused("GET", COLLECTION, None, {"Authorization": "Bearer "}, 401)
    _expect_refused("POST", COLLECTION, body(), {"Authorization": "Bearer"}, 401)


def test_token_with_a_changed_character_is_401():
    """The write token with its last hex digit changed is 401 (the whole token is compared, not a prefix)."""
    _setup()
    token = need_env("IMAGEREG_TOKEN")
    altered = token[:-1] + ("0" if token[-1] != "0" else "1")
    _expect_refused("POST", COLLECTION, body(), bearer(altered), 401)
    _expect_refused("POST", COLLECTION, body(), bearer(token[:-1]), 401)


# -------------------------------------------------------------------------------------------------------------------
# Revocation
# -------------------------------------------------------------------------------------------------------------------

LOG_LINE = re.compile(r"imagereg\[(\d+)\]: (\S+) (\S+) (\d{3}) ")


def _workers_answering(path, status):
    """PIDs of responder processes that logged `<method> path status` in imagereg.log."""
    log = read_bytes(os.path.join(need_env("IMAGEREG_LOGS"), "imagereg.log")).decode("utf-8", "replace")
    return {m.group(1) for m in LOG_LINE.finditer(log) if m.group(3) == path and m.group(4) == str(status)}


def _live_workers():
    """PIDs of the responder's workers (children of the supervisor in imagereg.pid), or None when unknown."""
    try:
        with open(os.path.join(need_env("IMAGEREG_LOGS"), "imagereg.pid")) as f:
            supervisor = f.read().strip()
        children = set()
        task_dir = f"/proc/{supervisor}/task"
        for task in os.listdir(task_dir):
            with open(os.path.join(task_dir, task, "children")) as f:
                children |= set(f.read().split())
        return children or None
    except OSError:
        return None


def _reached_all(pids, workers):
    return workers <= pids if workers else len(pids) >= 2


def _spread(path, headers, status, batches=10, per_batch=24):
    """Send batches of parallel GETs of path until every live worker (at least two when the workers cannot be
    listed) logged an answer with status; return (statuses seen, PIDs that answered, live worker PIDs)."""
    workers = _live_workers()
    seen = []
    for _ in range(batches):
        seen += [r.status for r in parallel(lambda: request("GET", path, headers=headers), per_batch)]
        if _reached_all(_workers_answering(path, status), workers):
            break
    return seen, _workers_answering(path, status), workers


def test_revocation_takes_effect_on_the_next_request_in_every_worker():
    """A CLI-made write token works (200) and is accepted by every responder worker; after `token revoke` the very
    next request and every later one, answered by every worker, is 401."""
    reset()
    registry_id = create()
    name, token = new_token("write", "sec-revoke")
    assert TOKEN_RE.match(token), f"token is not irt_ + 64 hex: {len(token)} characters"
    assert_ok_json(request("GET", COLLECTION, headers=bearer(token)))
    assert get_registry(registry_id)  # the write token of the stack is untouched
    # Warm several workers with the token (an unknown id: authenticated, then 404).
    warm_path = item_path(rand_hex(12))
    statuses, pids, workers = _spread(warm_path, bearer(token), 404)
    assert set(statuses) == {404}, f"valid token got {sorted(set(statuses))} before revocation"
    assert _reached_all(pids, workers), f"only worker(s) {pids} of {workers} served the token before revocation"

    cli_ok("token", "revoke", name)
    first = request("GET", COLLECTION, headers=bearer(token))
    assert_error(first, 401)
    assert_bearer_challenge(first)
    probe_path = item_path(rand_hex(12))
    statuses, pids, workers = _spread(probe_path, bearer(token), 401)
    assert set(statuses) == {401}, f"revoked token got statuses {sorted(set(statuses))}"
    assert _reached_all(pids, workers), f"only worker(s) {pids} of {workers} were reached after revocation"
    # The stack's own tokens still work.
    assert_ok_json(request("GET", COLLECTION))


def test_revoked_write_token_cannot_write():
    """After revocation a write token's POST, PUT and DELETE are 401 and change nothing."""
    reset()
    registry_id = create()
    name, token = new_token("write", "sec-revoke")
    assert_success(request("PUT", item_path(registry_id), body(namespace="before"), headers=bearer(token)))
    cli_ok("token", "revoke", name)
    _expect_refused("POST", COLLECTION, body(namespace="after"), bearer(token), 401)
    _expect_refused("PUT", item_path(registry_id), body(namespace="after"), bearer(token), 401)
    _expect_refused("DELETE", item_path(registry_id), None, bearer(token), 401)
    assert get_registry(registry_id)["namespace"] == "before"


def test_revoked_token_is_listed_as_revoked():
    """`token list` shows a revoked token with a revocation time; a fresh one shows '-'."""
    reset()
    name, _ = new_token("read", "sec-list")
    line = [l for l in cli_ok("token", "list").splitlines() if l.split()[:1] == [name]]
    assert len(line) == 1 and line[0].rstrip().endswith("-"), f"fresh token line: {line}"
    cli_ok("token", "revoke", name)
    line = [l for l in cli_ok("token", "list").splitlines() if l.split()[:1] == [name]]
    assert len(line) == 1 and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s*$", line[0]), f"revoked line: {line}"


# -------------------------------------------------------------------------------------------------------------------
# How tokens are kept
# -------------------------------------------------------------------------------------------------------------------

def _hash_forms(token):
    digest = hashlib.sha256(token.encode()).digest()
    return {"token": token, "token hex part": token[4:], "sha256 hex": digest.hex()}


def test_token_list_shows_names_and_scopes_but_no_token_or_hash():
    """`token list` lists each token's name and scope, and no token text or SHA-256 of one."""
    reset()
    name, token = new_token("read", "sec-list")
    out = cli_ok("token", "list")
    rows = {l.split()[0]: l.split()[1] for l in out.splitlines()[1:] if l.strip()}
    assert rows.get(name) == "read", f"{name} not listed with scope read: {out!r}"
    assert rows.get(need_env("IMAGEREG_TOKEN_NAME")) == "write", "stack write token not listed with scope write"
    assert rows.get(need_env("IMAGEREG_READ_TOKEN_NAME")) == "read", "stack read token not listed with scope read"
    for tok in (token, need_env("IMAGEREG_TOKEN"), need_env("IMAGEREG_READ_TOKEN")):
        for label, text in _hash_forms(tok).items():
            assert text not in out.lower(), f"token list shows a {label}"
    assert not re.search(r"irt_[0-9a-f]{64}", out), "token list shows something token-shaped"
    for line in out.splitlines()[1:]:
        assert LIST_LINE.match(line), f"token list line has other columns than name, scope and times: {line!r}"


def test_api_token_stores_only_a_sha256_of_the_token():
    """api_token.token_hash is 32 bytes, the SHA-256 of the token text, and no column of api_token holds the
    token (compared in Python: the token is never sent to PostgreSQL)."""
    reset()
    name, token = new_token("write", "sec-hash")
    assert psql("SELECT count(*) FROM api_token WHERE octet_length(token_hash) <> 32;").strip() == "0", \
        "a token_hash is not 32 bytes"
    stored = psql("SELECT encode(token_hash, 'hex') FROM api_token WHERE name = :'p1';", name).strip()
    assert stored == hashlib.sha256(token.encode()).hexdigest(), "token_hash is not the SHA-256 of the token"
    table = psql("SELECT t::text FROM api_token t;").lower()
    cols = psql("SELECT string_agg(column_name || ':' || data_type, ',') FROM information_schema.columns"
                " WHERE table_name = 'api_token';")
    for tok in (token, need_env("IMAGEREG_TOKEN"), need_env("IMAGEREG_READ_TOKEN")):
        assert tok.lower() not in table and tok[4:].lower() not in table, f"api_token holds a token ({cols.strip()})"
        assert tok.encode().hex() not in table, "api_token holds a token as bytes"


def test_token_names_are_unique_and_a_duplicate_prints_no_token():
    """`token create` with a name already used (even revoked) fails and prints no token."""
    reset()
    name, _ = new_token("read", "sec-dup")
    proc = cli("token", "create", name, "--scope", "write")
    assert proc.returncode != 0, "a duplicate token name was accepted"
    assert "irt_" not in proc.stdout + proc.stderr, "a refused token create printed a token"
    cli_ok("token", "revoke", name)
    proc = cli("token", "create", name, "--scope", "write")
    assert proc.returncode != 0, "the name of a revoked token was reused"
