"""The registry check: POST /openapi/system/registry/validate (a body's settings) and POST .../:id/validate (a stored
registry), against fake registries on loopback (tests/e2e/fakereg.py), through nginx; the SSRF guard with its default
(empty) allow-list through the CGI binary; `imagereg check` from the command line.

The stack's responder allows 127.0.0.0/8 (tests/lib/stack.sh) so that the fakes can be reached at all. Every secret
(access_key, secret_key, tls_cert, the fake's bearer token) carries SECRET_MARK, and lib.request fails any response
that contains one.
"""

import json
import os
import subprocess
import tempfile
import time

from fakereg import FakeRegistry, closed_port
from lib import (COLLECTION, SECRET_MARK, TEST_CERT, assert_error, assert_ok_json, body, create, db_dump,
                 expect_error, item_path, list_registries, request, reset, secret, short)
from t_cgi import run_cgi

CHECK_PATH = f"{COLLECTION}/validate"
RESULT_KEYS = {"checked_address", "reachable", "tls_verified", "registry_api", "authenticated", "namespace_visible",
               "cert_expires_in_days", "latency_ms", "error", "error_kind", "warning"}
KINDS = {None, "dns", "connect", "tls", "not_a_registry", "auth", "timeout", "unsupported"}
# The stack's check_timeout (the default): a hanging registry must be given up on by then, plus this margin.
DEFAULT_TIMEOUT_MS = 5000
MARGIN_S = 2.0


def stored_validate_path(registry_id):
    return f"{item_path(registry_id)}/validate"


def assert_result(resp, stored_id=None):
    """A 200 check result of the documented shape; returns it."""
    assert_ok_json(resp)
    got = resp.json
    keys = RESULT_KEYS | ({"registry_id"} if stored_id else set())
    assert isinstance(got, dict) and set(got) == keys, f"result keys {sorted(got)} != {sorted(keys)}"
    if stored_id:
        assert got["registry_id"] == stored_id, f"registry_id {got['registry_id']!r}, expected {stored_id}"
    checked = got["error_kind"] != "unsupported"
    for key in ("reachable", "tls_verified", "registry_api", "authenticated"):
        assert isinstance(got[key], bool) if checked else got[key] is None, f"{key} is {got[key]!r}: {got}"
    assert type(got["latency_ms"]) is int and got["latency_ms"] >= 0, f"latency_ms {got['latency_ms']!r}"
    assert got["error_kind"] in KINDS, f"error_kind {got['error_kind']!r}"
    assert (got["error"] is None) == (got["error_kind"] is None), f"error and error_kind disagree: {got}"
    assert got["error"] is None or (isinstance(got["error"], str) and got["error"]), f"error {got['error']!r}"
    assert got["warning"] is None or isinstance(got["warning"], str), f"warning {got['warning']!r}"
    return got


def check(address, base=None, **fields):
    """POST /validate with a valid body for address; returns the result."""
    return assert_result(request("POST", CHECK_PATH, body(address=address, provider="native", **fields), base=base))


def check_stored(registry_id):
    return assert_result(request("POST", stored_validate_path(registry_id)), stored_id=registry_id)


def expect(result, **want):
    """The result has these field values (error_kind=None means it passed)."""
    wrong = {k: (result[k], v) for k, v in want.items() if result[k] != v}
    assert not wrong, f"fields (got, wanted) {wrong}; result {result}"


def passed(result):
    expect(result, reachable=True, registry_api=True, authenticated=True, error=None, error_kind=None)


def creds():
    """A fake registry's user and password and the matching body fields."""
    user, password = secret("ak"), secret("sk")
    return user, password, {"access_key": user, "secret_key": password}


def tls_fields(reg):
    """Body fields that make a stored registry trust a TLS fake's certificate."""
    return {"enable_tls": True, "tls_cert": reg.cert_pem}


def no_request_reached(reg):
    assert reg.requests == [], f"the fake registry was contacted: {reg.requests}"


# ---------------------------------------------------------------------------------------------------------------
# What the check finds (POST /validate through nginx; the stack allows loopback)
# ---------------------------------------------------------------------------------------------------------------

def test_basic_registry_with_right_credentials_passes():
    user, password, fields = creds()
    with FakeRegistry("basic", user=user, password=password) as reg:
        got = check(reg.address, **fields)
        passed(got)
        expect(got, tls_verified=False, checked_address=reg.address)
        assert "plain http" in (got["warning"] or ""), f"no warning about credentials over http: {got}"
        # Then the namespace probe (GET /v2/_catalog), which the fake does not offer.
        assert [r[2] is not None and r[2].startswith("Basic ") for r in reg.requests if r[1] == "/v2/"] == \
            [False, True], \
            f"expected an anonymous /v2/, then one with Basic credentials: {reg.requests}"


def test_basic_registry_with_wrong_credentials_is_auth():
    user, password, fields = creds()
    with FakeRegistry("basic", user=user, password=password + "x") as reg:
        got = check(reg.address, **fields)
        expect(got, reachable=True, registry_api=True, authenticated=False, error_kind="auth")


def test_basic_registry_without_credentials_is_auth():
    with FakeRegistry("basic") as reg:
        got = check(reg.address)
        expect(got, reachable=True, registry_api=True, authenticated=False, error_kind="auth")
        assert "none are set" in got["error"], got


def test_bearer_registry_with_right_credentials_passes():
    user, password, fields = creds()
    token = secret("token")
    with FakeRegistry("bearer", user=user, password=password, token=token) as reg:
        got = check(reg.address, **fields)
        passed(got)
        paths = [(path.split("?")[0], (auth or "").split(" ")[0]) for _, path, auth in reg.requests]
        assert paths[:3] == [("/v2/", ""), ("/token", "Basic"), ("/v2/", "Bearer")], f"requests: {reg.requests}"
        # Then the namespace probe: the catalog asks for a token of its own scope, which is fetched.
        assert paths[3:] == [("/v2/_catalog", ""), ("/token", "Basic"), ("/v2/_catalog", "Bearer")], reg.requests
        assert "scope=registry%3acatalog%3a%2a" in reg.requests[4][1].lower(), f"catalog scope not asked: {reg.requests}"
        assert got["namespace_visible"] is True, got
        assert "service=fake" in reg.requests[1][1], f"the challenge's service was not passed on: {reg.requests}"
        assert reg.requests[2][2] == f"Bearer {token}", "the registry did not get the token the service issued"


def test_bearer_registry_with_wrong_credentials_is_auth():
    user, password, fields = creds()
    with FakeRegistry("bearer", user=user, password=password + "x", token=secret("token")) as reg:
        got = check(reg.address, **fields)
        expect(got, reachable=True, registry_api=True, authenticated=False, error_kind="auth")
        assert "token service" in got["error"], got


def test_tls_registry_with_its_certificate_as_tls_cert_passes():
    user, password, fields = creds()
    with FakeRegistry("basic", user=user, password=password, tls=True) as reg:
        # Text before the PEM block (allowed in tls_cert) carries the marker, so a leak of tls_cert shows.
        got = check(reg.address, enable_tls=True, tls_cert=f"{secret('cert')}\n{reg.cert_pem}", **fields)
        passed(got)
        # The fake's certificate is made for 2 days: under 14, a warning; the fake has no catalog to probe.
        expect(got, tls_verified=True)
        assert got["cert_expires_in_days"] in (1, 2), got
        assert "certificate expires in" in got["warning"], got


def test_tls_registry_without_its_certificate_is_tls():
    with FakeRegistry("basic", tls=True) as reg:
        got = check(reg.address)
        expect(got, reachable=False, tls_verified=False, registry_api=False, error_kind="tls")
        assert "system CA store" in got["error"], got
        no_request_reached(reg)


def test_tls_registry_with_another_certificate_is_tls():
    """enable_tls makes tls_cert the only trust anchor: another certificate does not verify the registry."""
    user, password, fields = creds()
    with FakeRegistry("basic", user=user, password=password, tls=True) as reg:
        got = check(reg.address, enable_tls=True, tls_cert=TEST_CERT, **fields)
        expect(got, reachable=False, tls_verified=False, error_kind="tls")
        assert "tls_cert" in got["error"], got
        no_request_reached(reg)


def test_plain_web_server_is_not_a_registry():
    with FakeRegistry("plain") as reg:
        got = check(reg.address)
        expect(got, reachable=True, registry_api=False, authenticated=False, error_kind="not_a_registry")


def test_web_server_behind_a_password_is_not_a_registry_even_with_right_credentials():
    """The check does not pass a URL that only asks for a password: the answer must say it is a registry."""
    user, password, fields = creds()
    with FakeRegistry("password", user=user, password=password) as reg:
        got = check(reg.address, **fields)
        expect(got, reachable=True, registry_api=False, authenticated=False, error_kind="not_a_registry")


def test_open_registry_passes_and_says_the_credentials_were_not_tested():
    user, password, fields = creds()
    with FakeRegistry("anonymous") as reg:
        passed(check(reg.address))
        got = check(reg.address, **fields)
        passed(got)
        assert "not tested" in (got["warning"] or ""), got


def test_redirect_is_reported_not_followed():
    with FakeRegistry("redirect") as reg:
        got = check(reg.address)
        expect(got, reachable=True, registry_api=False, error_kind="not_a_registry")
        assert "registry.example.invalid" in got["error"], got
        assert len(reg.requests) == 1, f"the redirect was followed: {reg.requests}"


def test_hanging_server_times_out_within_check_timeout():
    with FakeRegistry("hang") as reg:
        start = time.monotonic()
        got = check(reg.address)
        elapsed = time.monotonic() - start
        expect(got, reachable=False, registry_api=False, error_kind="timeout")
        assert DEFAULT_TIMEOUT_MS - 200 <= got["latency_ms"] <= DEFAULT_TIMEOUT_MS + 500, got
        assert elapsed <= DEFAULT_TIMEOUT_MS / 1000 + MARGIN_S, f"answered after {elapsed:.1f} s"
        assert reg.requests, "the hanging server was never connected to"


def test_unresolvable_name_is_dns():
    got = check("http://registry.nonexistent.invalid:5000")
    expect(got, reachable=False, registry_api=False, error_kind="dns")


def test_closed_port_is_connect():
    got = check(f"http://127.0.0.1:{closed_port()}")
    expect(got, reachable=False, registry_api=False, error_kind="connect")
    assert "SSRF" not in got["error"], got


def test_ecr_is_unsupported_and_not_contacted():
    user, password, fields = creds()
    with FakeRegistry("basic", user=user, password=password) as reg:
        got = assert_result(request("POST", CHECK_PATH, body(address=reg.address, provider="ecr", region="eu-west-1",
                                                           namespace=None, **fields)))
        expect(got, reachable=None, tls_verified=None, registry_api=None, authenticated=None,
               error_kind="unsupported")
        assert "ecr" in got["error"] and "SigV4" in got["error"], got
        no_request_reached(reg)


def test_metadata_address_is_refused_even_when_loopback_is_allowed():
    got = check("http://169.254.169.254/latest/meta-data/")
    expect(got, reachable=False, error_kind="connect")
    assert "SSRF guard" in got["error"] and "no setting" in got["error"], got


def test_token_service_gets_the_same_ssrf_guard():
    """A registry may name any realm: the token service address is vetted like the registry's."""
    user, password, fields = creds()
    with FakeRegistry("bearer", user=user, password=password, realm="http://169.254.169.254/token") as reg:
        got = check(reg.address, **fields)
        expect(got, reachable=True, registry_api=True, authenticated=False, error_kind="connect")
        assert "token service" in got["error"] and "SSRF guard" in got["error"], got


def test_https_registry_does_not_send_credentials_to_a_plain_http_token_service():
    user, password, fields = creds()
    with FakeRegistry("basic") as plain_token_service:
        realm = f"{plain_token_service.address}/token"
        with FakeRegistry("bearer", user=user, password=password, tls=True, realm=realm) as reg:
            got = check(reg.address, enable_tls=True, tls_cert=reg.cert_pem, **fields)
            expect(got, reachable=True, tls_verified=True, authenticated=False, error_kind="auth")
            assert "plain http" in got["error"], got
        no_request_reached(plain_token_service)


def test_invalid_body_is_400_like_post():
    reset()
    expect_error("POST", CHECK_PATH, 400, "namespace", body=body(namespace=""))
    expect_error("POST", CHECK_PATH, 400, "address", body=body(address="ftp://x"))
    expect_error("POST", CHECK_PATH, 400, "tls_cert", body=body(enable_tls=True))


def test_check_stores_nothing():
    reset()
    create(namespace="existing")
    before = db_dump()
    with FakeRegistry("anonymous") as reg:
        passed(check(reg.address, is_default=True))
    check("http://registry.nonexistent.invalid")
    assert db_dump() == before, "a check changed the table"


def test_saving_never_requires_a_passing_check():
    reset()
    registry_id = create(address="https://registry.nonexistent.invalid", access_key=secret("ak"),
                         secret_key=secret("sk"))
    got = check_stored(registry_id)
    expect(got, error_kind="dns")
    assert [r["registry_id"] for r in list_registries()] == [registry_id]


# ---------------------------------------------------------------------------------------------------------------
# A stored registry: POST /:id/validate
# ---------------------------------------------------------------------------------------------------------------

def test_stored_basic_registry_uses_its_stored_credentials():
    reset()
    user, password, fields = creds()
    with FakeRegistry("basic", user=user, password=password, tls=True) as reg:
        registry_id = create(address=reg.address, provider="native", **fields, **tls_fields(reg))
        got = check_stored(registry_id)
        passed(got)
        expect(got, checked_address=reg.address)


def test_stored_credentials_never_go_over_plain_http():
    """A write token can point a registry at http:// on its host (credentials kept): the check must not send them."""
    reset()
    user, password, fields = creds()
    with FakeRegistry("basic", user=user, password=password) as reg:
        got = check_stored(create(address=reg.address, **fields))
        expect(got, reachable=True, authenticated=False, error_kind="auth")
        assert "plain http" in got["error"], got
        assert all(auth is None for _, _, auth in reg.requests), f"credentials were sent: {reg.requests}"
    with FakeRegistry("bearer", user=user, password=password, token=secret("token")) as reg:
        got = check_stored(create(address=reg.address, **fields))
        expect(got, reachable=True, authenticated=False, error_kind="auth")
        assert all(auth is None for _, _, auth in reg.requests), f"credentials were sent: {reg.requests}"
        rc, lines, _ = run_cli_check(got["registry_id"])
        assert rc == 1 and lines[0]["error_kind"] == "auth", lines
        assert all(auth is None for _, _, auth in reg.requests), f"the CLI sent credentials: {reg.requests}"
    # A body's own credentials are the caller's to send: the POST check still does, with a warning.
    with FakeRegistry("basic", user=user, password=password) as reg:
        got = check(reg.address, **fields)
        passed(got)
        assert "plain http" in got["warning"], got


def test_stored_bearer_registry_passes():
    reset()
    user, password, fields = creds()
    with FakeRegistry("bearer", user=user, password=password, token=secret("token"), tls=True) as reg:
        passed(check_stored(create(address=reg.address, provider="harbor", **fields, **tls_fields(reg))))


def test_stored_tls_registry_uses_its_stored_certificate():
    reset()
    user, password, fields = creds()
    with FakeRegistry("basic", user=user, password=password, tls=True) as reg:
        registry_id = create(address=reg.address, enable_tls=True, tls_cert=f"{secret('cert')}\n{reg.cert_pem}",
                             **fields)
        got = check_stored(registry_id)
        passed(got)
        expect(got, tls_verified=True)


def test_stored_registry_with_wrong_stored_credentials_is_auth():
    reset()
    user, password, fields = creds()
    with FakeRegistry("basic", user=user, password=password, tls=True) as reg:
        fields["secret_key"] = secret("sk-wrong")
        got = check_stored(create(address=reg.address, **fields, **tls_fields(reg)))
        expect(got, authenticated=False, error_kind="auth")


def test_stored_check_takes_no_body_so_a_body_cannot_redirect_the_credentials():
    """Whatever a body says (another address, other credentials), the stored check is refused, nobody contacted."""
    reset()
    user, password, fields = creds()
    with FakeRegistry("basic", user=user, password=password, tls=True) as reg, \
            FakeRegistry("anonymous") as attacker:
        registry_id = create(address=reg.address, **fields, **tls_fields(reg))
        before = db_dump()
        for payload in (body(address=attacker.address), {"address": attacker.address}, {}):
            resp = request("POST", stored_validate_path(registry_id), payload)
            assert_error(resp, 400, "no body")
        resp = request("POST", stored_validate_path(registry_id), raw=b"x", headers={"Content-Type": "text/plain"})
        assert_error(resp, 400, "no body")
        no_request_reached(attacker)
        no_request_reached(reg)
        assert db_dump() == before, "a refused check changed the table"
        passed(check_stored(registry_id))


def test_stored_check_after_moving_the_address_checks_the_new_one_without_the_old_credentials():
    reset()
    user, password, fields = creds()
    with FakeRegistry("basic", user=user, password=password) as old, FakeRegistry("basic") as new:
        registry_id = create(address=old.address, **fields)
        # A new host without a new secret_key: the stored credentials are cleared (handlers.c), never sent to it.
        resp = request("PUT", item_path(registry_id), body(address=new.address.replace("127.0.0.1", "localhost")))
        assert_ok_json(resp)
        got = check_stored(registry_id)
        expect(got, authenticated=False)
        assert all(auth is None for _, _, auth in new.requests), f"credentials reached the new host: {new.requests}"
        no_request_reached(old)


def test_stored_check_unknown_id_is_404_and_malformed_id_is_400():
    reset()
    expect_error("POST", stored_validate_path("0123456789abcdef01234567"), 404, "not found")
    expect_error("POST", stored_validate_path("not-an-id"), 400, "invalid registry id")
    expect_error("POST", f"{COLLECTION}/VALIDATE/validate", 400, "invalid registry id")


def test_read_token_is_403_and_no_token_is_401():
    reset()
    registry_id = create()
    read = {"Authorization": f"Bearer {os.environ['IMAGEREG_READ_TOKEN']}"}
    expect_error("POST", CHECK_PATH, 403, "write", body=body(), headers=read)
    expect_error("POST", stored_validate_path(registry_id), 403, "write", headers=read)
    expect_error("POST", CHECK_PATH, 401, body=body(), headers={"Authorization": None})
    expect_error("POST", stored_validate_path(registry_id), 401, headers={"Authorization": None})


def test_other_methods_on_the_check_paths_are_405_not_malformed_ids():
    reset()
    registry_id = create()
    before = db_dump()
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        for path in (CHECK_PATH, stored_validate_path(registry_id)):
            payload = body() if method in ("PUT", "PATCH") else None
            resp = request(method, path, payload)
            assert_error(resp, 405)
            assert resp.headers.get("allow") == "POST", f"{method} {path}: Allow {resp.headers.get('allow')!r}"
    assert db_dump() == before, "a refused method changed the table"


# ---------------------------------------------------------------------------------------------------------------
# The SSRF guard with its default (empty) allow-list: the responder run as a CGI program with a clean environment
# ---------------------------------------------------------------------------------------------------------------

def cgi_check(address, extra_env=None, path=CHECK_PATH, payload=None):
    raw = json.dumps(payload if payload is not None else body(address=address, provider="native")).encode()
    env = {"PATH_INFO": path, "CONTENT_LENGTH": str(len(raw)), "CONTENT_TYPE": "application/json"}
    if path != CHECK_PATH:
        raw, env["CONTENT_LENGTH"] = None, "0"
    env.update(extra_env or {})
    status, _, data = run_cgi("POST", raw, env)
    assert status == 200, f"CGI status {status}: {short(data)}"
    return json.loads(data)


def test_default_guard_refuses_loopback_in_every_spelling_without_a_packet():
    with FakeRegistry("anonymous") as reg:
        port = reg.port
        for address in (reg.address, f"http://localhost:{port}", f"http://[::1]:{port}",
                        f"http://[::ffff:127.0.0.1]:{port}", f"http://2130706433:{port}",
                        f"http://0x7f.1:{port}", f"http://127.1:{port}", f"http://0.0.0.0:{port}"):
            got = cgi_check(address)
            expect(got, reachable=False, registry_api=False, error_kind="connect")
            assert "SSRF guard" in got["error"] and "check_allow_networks" in got["error"], \
                f"{address}: {got['error']}"
        no_request_reached(reg)


def test_default_guard_refuses_link_local_and_metadata():
    for address in ("http://169.254.169.254/", "http://169.254.10.1:5000", "http://[fe80::1]:5000",
                    "http://[fd00:ec2::254]/", "http://100.100.100.200/"):
        got = cgi_check(address)
        expect(got, reachable=False, error_kind="connect")
        assert "SSRF guard" in got["error"], f"{address}: {got['error']}"


def test_allow_list_lets_loopback_through_and_check_timeout_is_honoured():
    with FakeRegistry("hang") as reg:
        start = time.monotonic()
        got = cgi_check(reg.address, {"IMAGEREG_CHECK_ALLOW_NETWORKS": "127.0.0.0/8",
                                      "IMAGEREG_CHECK_TIMEOUT": "300"})
        elapsed = time.monotonic() - start
        expect(got, error_kind="timeout")
        assert 250 <= got["latency_ms"] <= 800, got
        assert elapsed < 5, f"the CGI check took {elapsed:.1f} s"


def test_stored_credentials_under_another_key_are_reported_not_sent():
    """A responder whose key cannot open the stored credentials says so (auth) and sends none."""
    reset()
    user, password, fields = creds()
    with FakeRegistry("basic", user=user, password=password) as reg, tempfile.TemporaryDirectory() as tmp:
        registry_id = create(address=reg.address, **fields)
        key = os.path.join(tmp, "other.key")
        with open(os.open(key, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("ab" * 32)
        got = cgi_check(None, {"IMAGEREG_KEY_FILE": key, "IMAGEREG_CHECK_ALLOW_NETWORKS": "127.0.0.0/8"},
                        path=stored_validate_path(registry_id))
        expect(got, reachable=True, authenticated=False, error_kind="auth")
        assert "cannot be opened" in got["error"], got
        assert all(auth is None for _, _, auth in reg.requests), f"credentials were sent: {reg.requests}"


# ---------------------------------------------------------------------------------------------------------------
# imagereg check [ID]
# ---------------------------------------------------------------------------------------------------------------

def run_cli_check(*args, allow="127.0.0.0/8"):
    env = dict(os.environ, IMAGEREG_CHECK_ALLOW_NETWORKS=allow)
    proc = subprocess.run([os.environ["IMAGEREG_CLI"], "check", *args], env=env, capture_output=True, text=True,
                          timeout=60)
    assert SECRET_MARK not in proc.stdout + proc.stderr, "imagereg check leaks a secret"
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines()], proc.stderr


def test_cli_check_one_registry():
    reset()
    user, password, fields = creds()
    with FakeRegistry("bearer", user=user, password=password, token=secret("token"), tls=True) as reg:
        registry_id = create(address=reg.address, **fields, **tls_fields(reg))
        rc, lines, err = run_cli_check(registry_id)
        assert rc == 0, f"exit {rc}: {err}"
        assert len(lines) == 1 and lines[0]["registry_id"] == registry_id, lines
        assert set(lines[0]) == RESULT_KEYS | {"registry_id"}, lines[0]
        passed(lines[0])


def test_cli_check_every_registry_fails_when_one_fails():
    reset()
    with FakeRegistry("anonymous") as good, FakeRegistry("plain") as bad:
        ids = [create(address=good.address), create(address=bad.address),
               create(address="https://1.dkr.ecr.eu-west-1.amazonaws.com", provider="ecr", region="eu-west-1")]
        rc, lines, _ = run_cli_check()
        assert rc == 1, f"exit {rc} with a failing registry"
        assert [line["registry_id"] for line in lines] == ids, lines
        assert [line["error_kind"] for line in lines] == [None, "not_a_registry", "unsupported"], lines
        # ecr cannot be checked, which is not a failure: without the web server, all is well.
        request("DELETE", item_path(ids[1]))
        rc, lines, _ = run_cli_check()
        assert rc == 0 and len(lines) == 2, f"exit {rc}: {lines}"


def test_cli_check_uses_the_default_guard_and_unknown_id_is_an_error():
    reset()
    with FakeRegistry("anonymous") as reg:
        registry_id = create(address=reg.address)
        rc, lines, _ = run_cli_check(registry_id, allow="")
        assert rc == 1 and lines[0]["error_kind"] == "connect" and "SSRF" in lines[0]["error"], lines
        no_request_reached(reg)
    rc, lines, err = run_cli_check("0123456789abcdef01234567")
    assert rc == 1 and lines == [] and "no registry" in err, f"exit {rc}: {lines} {err}"


def test_no_secret_in_the_responder_log():
    log = os.path.join(os.environ["IMAGEREG_LOGS"], "imagereg.log")
    with open(log, encoding="utf-8", errors="replace") as f:
        assert SECRET_MARK not in f.read(), "the responder log holds a secret"
