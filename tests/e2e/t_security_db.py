"""Security in PostgreSQL: the least-privilege roles imagereg_readonly and imagereg_app (generated tests, one
statement each, run after SET ROLE in the superuser's psql), and the registry_audit trail.
"""

import shutil
import tempfile

from lib import (COLLECTION, assert_created, assert_error, assert_success, body, create, item_path, psql, request,
                 reset)
from seclib import (assert_allowed, assert_denied, audit_count, audit_rows, audit_table_text, cli_ok, leaks,
                    make_key_file, need_env, new_secrets, sealed_hex, state_dump)

PUBLIC_COLUMNS = ("id, address, provider, namespace, region, is_default, enable_tls, created_at, updated_at,"
                  " credentials_updated_at")
FORGED_AUDIT = ("INSERT INTO registry_audit (actor, operation, registry_id, changed_fields)"
                " VALUES ('forged', 'delete', '000000000000000000000000', '{}')")

# (test name, role, statement, allowed?, what it proves)
ROLE_CASES = [
    ("readonly_cannot_select_access_key_sealed", "imagereg_readonly",
     "SELECT access_key_sealed FROM registry", False, "the sealed access keys are hidden from readers"),
    ("readonly_cannot_select_secret_key_sealed", "imagereg_readonly",
     "SELECT secret_key_sealed FROM registry", False, "the sealed secret keys are hidden from readers"),
    ("readonly_cannot_select_star_from_registry", "imagereg_readonly",
     "SELECT * FROM registry", False, "SELECT * cannot reach the sealed columns"),
    ("readonly_cannot_select_token_hash", "imagereg_readonly",
     "SELECT token_hash FROM api_token", False, "token hashes are hidden from readers"),
    ("readonly_cannot_update_registry", "imagereg_readonly",
     "UPDATE registry SET namespace = 'readonly-was-here'", False, "readers cannot write"),
    ("readonly_cannot_delete_registry", "imagereg_readonly",
     "DELETE FROM registry", False, "readers cannot delete"),
    ("app_cannot_truncate_registry", "imagereg_app",
     "TRUNCATE registry", False, "the responder's role cannot TRUNCATE (which would bypass the audit trigger)"),
    ("app_cannot_create_a_table", "imagereg_app",
     "CREATE TABLE x ()", False, "the responder's role has no DDL"),
    ("app_cannot_select_api_token", "imagereg_app",
     "SELECT * FROM api_token", False, "the responder's role reaches tokens only through imagereg_token_check()"),
    ("app_cannot_select_registry_audit", "imagereg_app",
     "SELECT * FROM registry_audit", False, "the responder's role cannot read the audit trail"),
    ("app_cannot_insert_into_registry_audit", "imagereg_app",
     FORGED_AUDIT, False, "the responder's role cannot forge audit rows"),
    ("app_cannot_delete_from_registry_audit", "imagereg_app",
     "DELETE FROM registry_audit", False, "the responder's role cannot erase the audit trail"),
    ("app_cannot_update_api_token", "imagereg_app",
     "UPDATE api_token SET revoked_at = NULL", False, "the responder's role cannot un-revoke tokens"),
    ("readonly_can_select_public_registry_columns", "imagereg_readonly",
     f"SELECT {PUBLIC_COLUMNS} FROM registry", True, "readers see every non-secret registry column"),
    ("readonly_can_select_registry_audit", "imagereg_readonly",
     "SELECT * FROM registry_audit", True, "readers see the audit trail"),
    ("readonly_can_select_token_name_and_scope", "imagereg_readonly",
     "SELECT name, scope FROM api_token", True, "readers see token names and scopes"),
    ("app_can_select_registry", "imagereg_app",
     "SELECT * FROM registry", True, "the responder's role reads registry (control for the denials above)"),
]


def _setup():
    """One registry with credentials, written through the API; returns its id."""
    reset()
    access, secret = new_secrets()
    return create(access_key=access, secret_key=secret)


def _make_role_test(name, role, sql, allowed, proves):
    def test():
        registry_id = _setup()
        if allowed:
            out = assert_allowed(role, sql + ";")
            if "registry_audit" in sql:
                assert registry_id in out, f"{role} sees no audit row of {registry_id}"
            elif "api_token" in sql:
                assert need_env("IMAGEREG_TOKEN_NAME") in out, f"{role} does not see the token names"
            else:
                assert registry_id in out, f"{role} does not see the registry row"
        else:
            before, audits = state_dump(), audit_count()
            assert_denied(role, sql + ";")
            assert state_dump() == before and audit_count() == audits, f"refused {sql!r} changed something"

    test.__name__ = f"test_{name}"
    test.__qualname__ = test.__name__
    verdict = "works" if allowed else "is refused with permission denied and changes nothing"
    test.__doc__ = f"As {role}, `{sql}` {verdict}: {proves}."
    return test


for _case in ROLE_CASES:
    _t = _make_role_test(*_case)
    globals()[_t.__name__] = _t
del _t, _case


# -------------------------------------------------------------------------------------------------------------------
# The audit trail
# -------------------------------------------------------------------------------------------------------------------

def _ops(rows):
    return [r["operation"] for r in rows]


def test_audit_post_writes_one_insert_row_naming_the_token():
    """A POST with the write token adds exactly one registry_audit row for the new registry: operation insert,
    actor the token's name, the fields set listed by name."""
    reset()
    registry_id = assert_created(request("POST", COLLECTION, body(namespace="audited")))
    rows = audit_rows(registry_id)
    assert _ops(rows) == ["insert"], f"audit rows after POST: {rows}"
    assert rows[0]["actor"] == need_env("IMAGEREG_TOKEN_NAME"), f"actor is {rows[0]['actor']!r}"
    assert {"address", "provider", "namespace"} <= set(rows[0]["changed_fields"]), rows[0]


def test_audit_put_writes_one_update_row_naming_what_changed():
    """A PUT that changes only namespace adds exactly one update row, actor the token's name, whose changed_fields
    is ['namespace']."""
    reset()
    registry_id = create(namespace="before", is_default=True)
    assert_success(request("PUT", item_path(registry_id), body(namespace="after", is_default=True)))
    rows = audit_rows(registry_id)
    assert _ops(rows) == ["insert", "update"], f"audit rows after PUT: {rows}"
    assert rows[1]["actor"] == need_env("IMAGEREG_TOKEN_NAME"), f"actor is {rows[1]['actor']!r}"
    assert rows[1]["changed_fields"] == ["namespace"], f"changed_fields is {rows[1]['changed_fields']}"


def test_audit_never_holds_a_credential_value():
    """Credentials set by POST and replaced by PUT are named (access_key, secret_key) in changed_fields, but neither
    the values nor their sealed bytes appear anywhere in the text of registry_audit."""
    reset()
    access, secret = new_secrets()
    registry_id = create(access_key=access, secret_key=secret, is_default=True)
    sealed_before = sealed_hex(registry_id)
    new_access, new_secret = new_secrets()
    assert_success(request("PUT", item_path(registry_id),
                           body(access_key=new_access, secret_key=new_secret, is_default=True)))
    rows = audit_rows(registry_id)
    assert _ops(rows) == ["insert", "update"], f"audit rows: {rows}"
    assert {"access_key", "secret_key"} <= set(rows[1]["changed_fields"]), f"update row: {rows[1]}"
    text = audit_table_text()
    found = leaks(text.encode(), {"access_key": access, "secret_key": secret, "new access_key": new_access,
                                  "new secret_key": new_secret})
    assert not found, f"registry_audit contains {found}"
    for sealed in sealed_before + sealed_hex(registry_id):
        assert sealed and sealed[-32:] not in text.lower(), "registry_audit contains sealed credential bytes"


def test_audit_delete_writes_one_delete_row():
    """A DELETE adds exactly one delete row for the registry, actor the token's name."""
    reset()
    create(namespace="stays")
    registry_id = create(namespace="goes")
    assert_success(request("DELETE", item_path(registry_id)))
    rows = audit_rows(registry_id)
    assert _ops(rows) == ["insert", "delete"], f"audit rows after DELETE: {rows}"
    assert rows[1]["actor"] == need_env("IMAGEREG_TOKEN_NAME"), f"actor is {rows[1]['actor']!r}"


def test_audit_names_a_psql_writer_as_sql_role():
    """Writes made directly in psql by the superuser are recorded with actor sql:postgres."""
    reset()
    registry_id = psql("INSERT INTO registry (address, provider, namespace)"
                       " VALUES ('https://psql.example.com', 'native', 'ops') RETURNING id;").strip()
    psql("UPDATE registry SET namespace = 'ops2' WHERE id = :'p1';", registry_id)
    psql("DELETE FROM registry WHERE id = :'p1';", registry_id)
    rows = audit_rows(registry_id)
    assert _ops(rows) == ["insert", "update", "delete"], f"audit rows: {rows}"
    role = psql("SELECT session_user;").strip()
    assert {r["actor"] for r in rows} == {f"sql:{role}"}, f"actors: {[r['actor'] for r in rows]}"


def test_audit_names_the_cli_for_a_key_rotation():
    """A key rotation re-sealing a registry's credentials adds one update row with actor cli:key-rotate (and rotating
    back one more); no credential value appears in the audit trail."""
    reset()
    access, secret = new_secrets()
    registry_id = create(access_key=access, secret_key=secret)
    start = audit_count()
    keydir = tempfile.mkdtemp(prefix="imagereg-sec-audit-")
    old = need_env("IMAGEREG_KEY_FILE")
    try:
        new = make_key_file(keydir)
        cli_ok("key", "rotate", new, key_file=old)
        try:
            rows = audit_rows(registry_id)
            assert _ops(rows) == ["insert", "update"], f"audit rows after rotation: {rows}"
            assert rows[1]["actor"] == "cli:key-rotate", f"rotation actor is {rows[1]['actor']!r}"
        finally:
            cli_ok("key", "rotate", old, key_file=new)
    finally:
        shutil.rmtree(keydir, ignore_errors=True)
    assert audit_count() == start + 2, "rotating there and back wrote other than one row each"
    assert not leaks(audit_table_text().encode(), {"a": access, "s": secret}), "audit shows a credential"


def test_audit_failed_requests_add_no_row():
    """Requests that fail (400 on POST and PUT, 404 on PUT and DELETE, 403 with the read token) add no audit row."""
    reset()
    registry_id = create()
    start = audit_count()
    assert_error(request("POST", COLLECTION, body(provider="bogus")), 400)
    assert_error(request("PUT", item_path(registry_id), body(namespace="")), 400)
    assert_error(request("PUT", item_path("0" * 24), body()), 404)
    assert_error(request("DELETE", item_path("0" * 24)), 404)
    read = {"Authorization": f"Bearer {need_env('IMAGEREG_READ_TOKEN')}"}
    assert_error(request("DELETE", item_path(registry_id), headers=read), 403)
    assert audit_count() == start, f"failed requests added {audit_count() - start} audit row(s)"
