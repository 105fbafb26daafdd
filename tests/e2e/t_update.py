"""PUT /openapi/system/registry/:id: replacement of fields, kept secrets, registry_id in the body."""

from lib import (DROP, assert_success, body, cert_pem, create, db_row, expect_error, get_registry, item_path,
                 request, reset, secret, stored_credentials)


def put(target, /, **fields):
    """PUT body(**fields) to the registry `target` and assert {"message":"success"}."""
    assert_success(request("PUT", item_path(target), body(**fields)))


def test_put_replaces_public_fields():
    """PUT answers {"message":"success"} and GET then shows the new address, provider, region and namespace."""
    reset()
    registry_id = create()
    put(registry_id, address="https://new.example.com", provider="ecr", region="eu-central-1", namespace="newns")
    got = get_registry(registry_id)
    assert (got["address"], got["provider"], got["region"], got["namespace"]) == \
        ("https://new.example.com", "ecr", "eu-central-1", "newns"), f"GET shows {got}"


def test_put_is_visible_to_psql():
    """The table row holds what the PUT sent."""
    reset()
    registry_id = create()
    put(registry_id, address="https://psql.example.com", provider="nexus", namespace="seen")
    row = db_row(registry_id)
    assert (row["address"], row["provider"], row["namespace"]) == \
        ("https://psql.example.com", "nexus", "seen"), f"row is {row}"


def test_put_trims_address():
    """PUT trims surrounding white space of the address like POST does."""
    reset()
    registry_id = create()
    put(registry_id, address="\n  https://trimmed.example.com  \t")
    assert db_row(registry_id)["address"] == "https://trimmed.example.com"


def test_put_keeps_secrets_and_tls_when_absent():
    """access_key, secret_key, enable_tls and tls_cert left out of a PUT keep their stored values."""
    reset()
    ak, sk, cert = secret("ak"), secret("sk"), cert_pem()
    registry_id = create(access_key=ak, secret_key=sk, enable_tls=True, tls_cert=cert)
    put(registry_id, namespace="other")
    assert stored_credentials(registry_id) == (ak, sk, True, cert), "PUT without secrets changed the stored secrets"
    assert db_row(registry_id)["namespace"] == "other"


def test_put_null_secrets_keep_stored_values():
    """null for access_key, secret_key, enable_tls, tls_cert counts as absent: stored values stay."""
    reset()
    ak, sk, cert = secret("ak"), secret("sk"), cert_pem()
    registry_id = create(access_key=ak, secret_key=sk, enable_tls=True, tls_cert=cert)
    put(registry_id, access_key=None, secret_key=None, enable_tls=None, tls_cert=None)
    assert stored_credentials(registry_id) == (ak, sk, True, cert), "PUT with null secrets changed the stored secrets"


def test_put_replaces_secrets_when_given():
    """access_key, secret_key, tls_cert sent in a PUT replace the stored values."""
    reset()
    registry_id = create(access_key=secret("ak"), secret_key=secret("sk"), enable_tls=True, tls_cert=cert_pem())
    ak, sk, cert = secret("ak"), secret("sk"), cert_pem()
    put(registry_id, access_key=ak, secret_key=sk, enable_tls=True, tls_cert=cert)
    assert stored_credentials(registry_id) == (ak, sk, True, cert), "new secrets not stored"


def test_put_can_disable_tls():
    """enable_tls false in a PUT turns TLS verification off in the table."""
    reset()
    registry_id = create(enable_tls=True, tls_cert=cert_pem())
    put(registry_id, enable_tls=False)
    assert stored_credentials(registry_id)[2] is False, "enable_tls still on"


def test_put_can_enable_tls_with_cert():
    """enable_tls true with a tls_cert in a PUT stores both."""
    reset()
    registry_id = create()
    cert = cert_pem()
    put(registry_id, enable_tls=True, tls_cert=cert)
    assert stored_credentials(registry_id)[2:] == (True, cert), "TLS settings of the PUT not stored"


def test_put_tls_on_without_cert_uses_stored_cert():
    """enable_tls true without tls_cert is valid in a PUT when a certificate is stored: the kept cert satisfies it."""
    reset()
    cert = cert_pem()
    registry_id = create(enable_tls=True, tls_cert=cert)
    put(registry_id, enable_tls=True, namespace="tls-kept")
    assert stored_credentials(registry_id)[2:] == (True, cert), "stored certificate lost"
    assert db_row(registry_id)["namespace"] == "tls-kept", "PUT not applied"


def test_put_with_equal_registry_id_in_body():
    """A registry_id in the body equal to the path id is accepted."""
    reset()
    registry_id = create()
    put(registry_id, registry_id=registry_id, namespace="same-id")
    assert get_registry(registry_id)["namespace"] == "same-id"


def test_put_with_different_registry_id_in_body_is_rejected():
    """A registry_id in the body that differs from the path id is 400 naming registry_id, and changes nothing."""
    reset()
    registry_id = create()
    other = create()
    expect_error("PUT", item_path(registry_id), 400, "registry_id", body=body(registry_id=other, namespace="x"))


def test_put_with_malformed_registry_id_in_body_is_rejected():
    """A registry_id in the body that is not even an id (and so differs from the path) is 400."""
    reset()
    registry_id = create()
    expect_error("PUT", item_path(registry_id), 400, "registry_id", body=body(registry_id="nope", namespace="x"))


def test_put_ecr_drops_namespace_requirement():
    """Switching a registry to ecr with a region and no namespace is valid, as in POST."""
    reset()
    registry_id = create()
    put(registry_id, provider="ecr", region="us-east-2", namespace=DROP)
    got = get_registry(registry_id)
    assert (got["provider"], got["region"]) == ("ecr", "us-east-2"), f"GET shows {got}"
