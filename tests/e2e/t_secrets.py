"""access_key, secret_key and tls_cert are stored but never returned, echoed in errors, or written to logs.

Besides these tests, lib.request() fails any test whose response contains a secret value (SECRET_MARK).
"""

import os

from lib import (COLLECTION, SECRET_MARK, assert_created, assert_error, assert_success, body, cert_pem, create,
                 expect_error, get_registry, item_path, list_registries, request, reset, secret,
                 stored_credentials)

SECRET_FIELDS = {"access_key", "secret_key", "tls_cert", "enable_tls"}


def secret_fields():
    """Fresh access_key, secret_key and tls_cert values, with TLS on."""
    return {"access_key": secret("ak"), "secret_key": secret("sk"), "enable_tls": True, "tls_cert": cert_pem()}


def with_secrets(**fields):
    """body(**fields) carrying fresh secret fields."""
    return body(**secret_fields(), **fields)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def test_secrets_are_stored():
    """POSTed access_key, secret_key, enable_tls and tls_cert are in the table row."""
    reset()
    payload = with_secrets()
    registry_id = assert_created(request("POST", COLLECTION, payload))
    want = tuple(payload[k] for k in ("access_key", "secret_key", "enable_tls", "tls_cert"))
    assert stored_credentials(registry_id) == want, "stored secret fields differ from what was sent"


def test_get_and_list_hide_secret_fields():
    """Neither GET of the item nor the list has access_key, secret_key, tls_cert or enable_tls keys."""
    reset()
    registry_id = create(**secret_fields())
    assert not SECRET_FIELDS & set(get_registry(registry_id)), "GET shows a secret field"
    for entry in list_registries():
        assert not SECRET_FIELDS & set(entry), "list shows a secret field"


def test_put_response_hides_secrets():
    """PUT with new secrets answers exactly {"message":"success"}."""
    reset()
    registry_id = create()
    assert_success(request("PUT", item_path(registry_id), with_secrets(namespace="x")))


def test_validation_error_does_not_echo_secrets():
    """A 400 for a body carrying secrets names the problem without quoting the secret values."""
    reset()
    expect_error("POST", COLLECTION, 400, "namespace", body=with_secrets(namespace=""))


def test_wrong_type_secret_is_not_echoed():
    """A secret_key of the wrong type is 400 naming secret_key, and the value is not quoted back."""
    reset()
    expect_error("POST", COLLECTION, 400, "secret_key", body=body(secret_key=[secret("sk")]))


def test_invalid_json_error_does_not_echo_secrets():
    """A syntax error right after a secret value is reported without quoting the body around it."""
    reset()
    raw = ('{"address":"https://x.example.com","provider":"harbor","namespace":"n","secret_key":"%s" oops}'
           % secret("sk")).encode()
    resp = request("POST", COLLECTION, raw=raw, headers={"Content-Type": "application/json"})
    assert_error(resp, 400)


def _log_files():
    """Every *.log file under IMAGEREG_LOGS (nginx, responder, PostgreSQL server log; not the database's data files)."""
    root = os.environ.get("IMAGEREG_LOGS")
    assert root and os.path.isdir(root), f"IMAGEREG_LOGS is not a directory: {root!r}"
    found = []
    for dirpath, _, names in os.walk(root):
        found += [os.path.join(dirpath, n) for n in sorted(names) if n.endswith(".log")]
    return [p for p in found if os.path.isfile(p)]


def test_logs_never_contain_secrets():
    """After secrets went through create, update, failing requests and this whole run, no log file contains one."""
    reset()
    registry_id = create(**secret_fields())
    assert_success(request("PUT", item_path(registry_id), with_secrets()))
    request("POST", COLLECTION, with_secrets(provider="bogus"))
    request("POST", COLLECTION, raw=b'{"secret_key":"%s",' % secret("sk").encode())
    request("PATCH", item_path(registry_id), with_secrets())
    files = _log_files()
    contents = {path: read_bytes(path) for path in files}
    assert any(COLLECTION.encode() in data for data in contents.values()), \
        f"no log under IMAGEREG_LOGS mentions {COLLECTION}: wrong directory? files: {files}"
    leaking = [os.path.relpath(p, os.environ["IMAGEREG_LOGS"]) for p, data in contents.items()
               if SECRET_MARK.encode() in data]
    assert not leaking, f"secret values found in log files: {leaking}"
