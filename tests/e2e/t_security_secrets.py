"""Security: registry credentials are write-only over HTTP, sealed at rest, absent from dumps and logs, readable
with the CLI by whoever holds the key, and survive a key rotation round trip.

Secrets here are fresh random values per test ('AKIA-...' / 'SECRET-...'); they never go to psql, so finding one
in a dump or a log means the product put it there.
"""

import base64
import datetime
import json
import os
import shutil
import subprocess
import tempfile

from lib import (COLLECTION, assert_created, assert_error, assert_success, body, create, get_registry, item_path,
                 list_registries, request, reset, short)
from seclib import (NO_AUTH, cli, cli_credentials, cli_ok, files_under, key_id, leaks, make_key_file, need_env,
                    new_secrets, read_bytes, sealed_hex, sealed_key_ids)


def _create_with_secrets(**fields):
    """POST a registry with fresh access_key/secret_key; (id, access_key, secret_key)."""
    access, secret = new_secrets()
    registry_id = create(access_key=access, secret_key=secret, **fields)
    return registry_id, access, secret


# -------------------------------------------------------------------------------------------------------------------
# Never returned, never dumped, never logged
# -------------------------------------------------------------------------------------------------------------------

def test_no_http_response_contains_the_credentials():
    """After a POST with credentials, the POST answer and GET of the list and of the item contain neither value
    (as text, hex or base64)."""
    reset()
    access, secret = new_secrets()
    resp = request("POST", COLLECTION, body(access_key=access, secret_key=secret))
    registry_id = assert_created(resp)
    answers = [resp, request("GET", COLLECTION), request("GET", item_path(registry_id))]
    for answer in answers:
        blob = answer.raw + json.dumps(answer.headers).encode()
        found = leaks(blob, {"access_key": access, "secret_key": secret})
        assert not found, f"HTTP answer {answer.status} contains {found}: {short(answer.raw)}"


def _pg_dump():
    proc = subprocess.run(["pg_dump", "--no-owner", need_env("PGDATABASE")], capture_output=True, timeout=120)
    assert proc.returncode == 0, f"pg_dump failed: {proc.stderr.decode(errors='replace').strip()}"
    return proc.stdout


def test_pg_dump_contains_no_credential_and_no_token():
    """pg_dump of the whole database (as superuser) contains neither credential (text, hex or base64), even after a
    PUT replaced them, nor the text of any API token."""
    reset()
    registry_id, access, secret = _create_with_secrets()
    new_access, new_secret = new_secrets()
    assert_success(request("PUT", item_path(registry_id),
                           body(access_key=new_access, secret_key=new_secret, is_default=True)))
    dump = _pg_dump()
    assert b"registry_audit" in dump and registry_id.encode() in dump, "pg_dump lacks the registry: wrong database?"
    watched = {"access_key": access, "secret_key": secret, "new access_key": new_access,
               "new secret_key": new_secret, "IMAGEREG_TOKEN": need_env("IMAGEREG_TOKEN"),
               "IMAGEREG_READ_TOKEN": need_env("IMAGEREG_READ_TOKEN")}
    found = leaks(dump, watched)
    assert not found, f"pg_dump contains {found}"


def test_no_file_under_the_logs_directory_contains_a_credential_or_token():
    """After credentials went through POST, PUT, a 400, a 401 and a 403, no file under IMAGEREG_LOGS (recursively:
    imagereg.log, nginx logs, PostgreSQL's server.log and data directory) contains a credential or an API token."""
    reset()
    registry_id, access, secret = _create_with_secrets()
    new_access, new_secret = new_secrets()
    assert_success(request("PUT", item_path(registry_id), body(access_key=new_access, secret_key=new_secret)))
    assert_error(request("POST", COLLECTION, body(access_key=access, secret_key=secret, provider="bogus")), 400)
    assert_error(request("POST", COLLECTION, raw=b'{"secret_key":"%s",' % secret.encode()), 400)
    assert_error(request("PUT", item_path(registry_id), body(secret_key=secret), headers=NO_AUTH), 401)
    read = {"Authorization": f"Bearer {need_env('IMAGEREG_READ_TOKEN')}"}
    assert_error(request("POST", COLLECTION, body(secret_key=secret), headers=read), 403)
    assert_error(request("GET", COLLECTION, headers={"Authorization": f"Basic {need_env('IMAGEREG_TOKEN')}"}), 401)

    root = need_env("IMAGEREG_LOGS")
    files = files_under(root)
    names = {os.path.relpath(p, root) for p in files}
    for expected in ("imagereg.log", "nginx-access.log", os.path.join("pg", "server.log")):
        assert expected in names, f"{expected} not under IMAGEREG_LOGS ({root})"
    responder_log = read_bytes(os.path.join(root, "imagereg.log"))
    assert registry_id.encode() in responder_log, "imagereg.log does not show the requests: wrong directory?"
    assert need_env("IMAGEREG_TOKEN_NAME").encode() in responder_log, "imagereg.log does not name the token"
    watched = {"access_key": access, "secret_key": secret, "new access_key": new_access,
               "new secret_key": new_secret, "IMAGEREG_TOKEN": need_env("IMAGEREG_TOKEN"),
               "IMAGEREG_READ_TOKEN": need_env("IMAGEREG_READ_TOKEN")}
    leaking = {}
    for path in files:
        found = leaks(read_bytes(path), watched)
        if found:
            leaking[os.path.relpath(path, root)] = found
    assert not leaking, f"files under IMAGEREG_LOGS contain secrets: {leaking}"


def test_get_reports_whether_credentials_are_set_without_showing_them():
    """GET shows has_credentials true and an ISO-8601 credentials_updated_at for a registry with credentials, and
    has_credentials false with credentials_updated_at null for one without; the list agrees."""
    reset()
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    with_id, _, _ = _create_with_secrets(address="https://with.example.com")
    without_id = create(address="https://without.example.com")
    item = get_registry(with_id)
    assert item["has_credentials"] is True, f"has_credentials is {item['has_credentials']!r}"
    stamp = item["credentials_updated_at"]
    assert isinstance(stamp, str), f"credentials_updated_at is {stamp!r}"
    parsed = datetime.datetime.fromisoformat(stamp)
    assert parsed.tzinfo is not None, f"credentials_updated_at {stamp!r} has no time zone"
    assert before <= parsed <= datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5), \
        f"credentials_updated_at {stamp!r} is not about now"
    bare = get_registry(without_id)
    assert bare["has_credentials"] is False and bare["credentials_updated_at"] is None, f"without credentials: {bare}"
    listed = {r["registry_id"]: r for r in list_registries()}
    assert listed[with_id] == item and listed[without_id] == bare, "list and GET disagree"


# -------------------------------------------------------------------------------------------------------------------
# The CLI, for whoever holds the key
# -------------------------------------------------------------------------------------------------------------------

def test_cli_credentials_prints_the_stored_values():
    """`imagereg credentials ID` prints access_key=<value> and secret_key=<value> as POSTed and as later PUT."""
    reset()
    registry_id, access, secret = _create_with_secrets()
    create(address="https://other.example.com", access_key="other-ak", secret_key="other-sk")
    assert cli_credentials(registry_id) == {"access_key": access, "secret_key": secret}
    new_access, new_secret = new_secrets()
    assert_success(request("PUT", item_path(registry_id), body(access_key=new_access, secret_key=new_secret)))
    assert cli_credentials(registry_id) == {"access_key": new_access, "secret_key": new_secret}


def test_cli_credentials_of_registry_without_credentials_prints_empty_values():
    """`imagereg credentials ID` of a registry without credentials prints empty access_key= and secret_key=."""
    reset()
    registry_id = create()
    assert cli_credentials(registry_id) == {"access_key": "", "secret_key": ""}


def test_cli_credentials_of_unknown_registry_fails():
    """`imagereg credentials ID` of an id that does not exist exits non-zero and prints no values."""
    reset()
    create(access_key="x-ak", secret_key="x-sk")
    proc = cli("credentials", "0" * 24)
    assert proc.returncode != 0, "credentials of an unknown id succeeded"
    assert "x-ak" not in proc.stdout and "x-sk" not in proc.stdout, "credentials of an unknown id printed values"


def _docker_auths(out):
    config = json.loads(out)
    assert set(config) == {"auths"} and isinstance(config["auths"], dict), f"not a Docker config: {out!r}"
    return config["auths"]


def _basic(access, secret):
    return base64.b64encode(f"{access}:{secret}".encode()).decode()


def test_cli_docker_config_for_an_id():
    """`imagereg docker-config ID` prints {"auths":{"<host>":{"auth":base64("access:secret")}}} for that registry."""
    reset()
    create(address="https://default.example.com", access_key="d-ak", secret_key="d-sk")
    registry_id, access, secret = _create_with_secrets(address="https://docker.example.com/v2/team")
    auths = _docker_auths(cli_ok("docker-config", registry_id))
    assert auths == {"docker.example.com": {"auth": _basic(access, secret)}}, f"docker-config: {auths}"


def test_cli_docker_config_without_id_uses_the_default_registry():
    """`imagereg docker-config` without ID prints the auths entry of the default registry, following the default
    when it moves."""
    reset()
    first_id, first_access, first_secret = _create_with_secrets(address="https://first.example.com")
    second_id, second_access, second_secret = _create_with_secrets(address="https://second.example.com",
                                                                   is_default=True)
    assert get_registry(second_id)["is_default"] is True
    auths = _docker_auths(cli_ok("docker-config"))
    assert auths == {"second.example.com": {"auth": _basic(second_access, second_secret)}}, f"default: {auths}"
    assert_success(request("PUT", item_path(first_id), body(address="https://first.example.com", is_default=True)))
    auths = _docker_auths(cli_ok("docker-config"))
    assert auths == {"first.example.com": {"auth": _basic(first_access, first_secret)}}, f"moved default: {auths}"


# -------------------------------------------------------------------------------------------------------------------
# The key
# -------------------------------------------------------------------------------------------------------------------

class KeyDir:
    """A temp dir with fresh key files; removed on exit. The original key is IMAGEREG_KEY_FILE."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="imagereg-sec-key-")
        self.old = need_env("IMAGEREG_KEY_FILE")
        return self

    def new_key(self, name="new.key"):
        return make_key_file(self.dir, name)

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)


def _assert_opens(registry_id, key_file, access, secret):
    got = cli_credentials(registry_id, key_file=key_file)
    assert got == {"access_key": access, "secret_key": secret}, f"credentials under {key_file}: wrong values"


def _assert_does_not_open(registry_id, key_file, access, secret):
    proc = cli("credentials", registry_id, key_file=key_file)
    assert proc.returncode != 0, f"credentials opened with the wrong key {key_file}"
    assert access not in proc.stdout + proc.stderr and secret not in proc.stdout + proc.stderr, \
        "a failed credentials run printed a value"


def _rotate(current, new):
    """`IMAGEREG_KEY_FILE=current imagereg key rotate new`, which must succeed; its stdout."""
    return cli_ok("key", "rotate", new, key_file=current)


def _two_registries_with_secrets():
    reset()
    first = _create_with_secrets(address="https://one.example.com")
    second = _create_with_secrets(address="https://two.example.com")
    return [first, second]


def test_cli_credentials_with_another_key_fails():
    """`imagereg credentials ID` with a key file other than the one that sealed the values exits non-zero and
    prints no value."""
    (registry_id, access, secret), _ = _two_registries_with_secrets()
    with KeyDir() as keys:
        _assert_does_not_open(registry_id, keys.new_key(), access, secret)


def test_key_rotate_moves_every_credential_to_the_new_key():
    """After `key rotate NEW`, the new key opens every credential with the right values, the old key opens none,
    every sealed value names the new key, and credentials_updated_at is unchanged; rotating back restores the old
    key (and the table is left as the responder needs it)."""
    registries = _two_registries_with_secrets()
    stamps = {rid: get_registry(rid)["credentials_updated_at"] for rid, _, _ in registries}
    with KeyDir() as keys:
        new = keys.new_key()
        assert sealed_key_ids() == {key_id(keys.old)}, "credentials are not all under the stack's key"
        try:
            _rotate(keys.old, new)
            assert sealed_key_ids() == {key_id(new)}, f"after rotation sealed under {sealed_key_ids()}"
            for rid, access, secret in registries:
                _assert_opens(rid, new, access, secret)
                _assert_does_not_open(rid, keys.old, access, secret)
                assert get_registry(rid)["credentials_updated_at"] == stamps[rid], "rotation changed the timestamp"
        finally:
            _rotate(new, keys.old)
        assert sealed_key_ids() == {key_id(keys.old)}, "rotating back left values under another key"
        for rid, access, secret in registries:
            _assert_opens(rid, keys.old, access, secret)
            _assert_does_not_open(rid, new, access, secret)


def test_key_rotate_run_again_is_a_no_op():
    """Rotating again to the key the values are already under (with IMAGEREG_KEY_FILE the new key, and with it the
    old key as after a reload race) succeeds and leaves every sealed byte as it was."""
    registries = _two_registries_with_secrets()
    with KeyDir() as keys:
        new = keys.new_key()
        try:
            _rotate(keys.old, new)
            sealed = {rid: sealed_hex(rid) for rid, _, _ in registries}
            _rotate(new, new)
            assert {rid: sealed_hex(rid) for rid, _, _ in registries} == sealed, "a no-op rotation re-sealed values"
            _rotate(keys.old, new)
            assert {rid: sealed_hex(rid) for rid, _, _ in registries} == sealed, "a repeated rotation re-sealed values"
            for rid, access, secret in registries:
                _assert_opens(rid, new, access, secret)
        finally:
            _rotate(new, keys.old)
        for rid, access, secret in registries:
            _assert_opens(rid, keys.old, access, secret)


def test_key_rotate_reseals_values_written_by_a_responder_with_the_old_key():
    """A credential POSTed after the rotation (by the responder, still on the old key) is re-sealed by running the
    rotation once more; values already under the new key are skipped."""
    (first_id, first_access, first_secret), _ = _two_registries_with_secrets()
    with KeyDir() as keys:
        new = keys.new_key()
        try:
            _rotate(keys.old, new)
            late_id, late_access, late_secret = _create_with_secrets(address="https://late.example.com")
            assert sealed_key_ids() == {key_id(new), key_id(keys.old)}, "expected a mix of keys"
            first_sealed = sealed_hex(first_id)
            _rotate(keys.old, new)
            assert sealed_key_ids() == {key_id(new)}, f"after the second run: {sealed_key_ids()}"
            assert sealed_hex(first_id) == first_sealed, "a value already under the new key was re-sealed"
            _assert_opens(late_id, new, late_access, late_secret)
            _assert_opens(first_id, new, first_access, first_secret)
        finally:
            _rotate(new, keys.old)
        _assert_opens(late_id, keys.old, late_access, late_secret)


def test_key_rotate_changes_nothing_when_a_value_cannot_be_opened():
    """`key rotate` with IMAGEREG_KEY_FILE a key that opens none of the values fails (non-zero) and leaves every
    sealed value as it was: one transaction."""
    registries = _two_registries_with_secrets()
    before = {rid: sealed_hex(rid) for rid, _, _ in registries}
    with KeyDir() as keys:
        stranger, target = keys.new_key("stranger.key"), keys.new_key("target.key")
        proc = cli("key", "rotate", target, key_file=stranger)
        assert proc.returncode != 0, "rotation with a key that opens nothing succeeded"
    assert {rid: sealed_hex(rid) for rid, _, _ in registries} == before, "a failed rotation changed sealed values"
    for rid, access, secret in registries:
        _assert_opens(rid, need_env("IMAGEREG_KEY_FILE"), access, secret)


def test_key_files_readable_by_others_are_refused():
    """The CLI refuses a key file readable by other users (mode 0644), for credentials and as a rotation target,
    and changes nothing."""
    registries = _two_registries_with_secrets()
    rid, access, secret = registries[0]
    before = {r: sealed_hex(r) for r, _, _ in registries}
    with KeyDir() as keys:
        loose = os.path.join(keys.dir, "loose.key")
        shutil.copyfile(need_env("IMAGEREG_KEY_FILE"), loose)
        os.chmod(loose, 0o644)
        _assert_does_not_open(rid, loose, access, secret)
        target = keys.new_key()
        os.chmod(target, 0o644)
        proc = cli("key", "rotate", target)
        assert proc.returncode != 0, "rotation to a world-readable key file succeeded"
    assert {r: sealed_hex(r) for r, _, _ in registries} == before, "a refused rotation changed sealed values"
