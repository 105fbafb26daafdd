"""POST /openapi/system/registry: what a valid create returns and stores."""

from lib import (COLLECTION, DROP, PROVIDERS, assert_created, body, create, db_row, db_rows, get_registry,
                 list_registries, request, reset, stored_credentials)


def test_create_returns_success_and_new_id():
    """A valid POST answers 200 {"message":"success","registry_id":<24 hex>} and adds exactly one row with that id."""
    reset()
    registry_id = assert_created(request("POST", COLLECTION, body()))
    rows = db_rows()
    assert len(rows) == 1, f"table has {len(rows)} rows"
    assert db_row(registry_id) is not None, "returned id is not the stored row's id"


def test_create_stores_the_given_fields():
    """Address, provider, namespace and region sent are what GET and the table show."""
    reset()
    registry_id = create(address="https://harbor.example.com:8443/v2", provider="harbor", namespace="ops",
                         region="eu-west")
    got = get_registry(registry_id)
    want = {"registry_id": registry_id, "address": "https://harbor.example.com:8443/v2", "provider": "harbor",
            "region": "eu-west", "namespace": "ops"}
    assert {k: got[k] for k in want} == want, f"GET shows {got}"
    row = db_row(registry_id)
    assert (row["address"], row["provider"], row["namespace"], row["region"]) == \
        ("https://harbor.example.com:8443/v2", "harbor", "ops", "eu-west"), f"row is {row}"


def test_create_accepts_every_provider():
    """Each of the eight providers is accepted (ecr with a region) and shown back as sent."""
    reset()
    for provider in PROVIDERS:
        fields = {"provider": provider, "namespace": f"ns-{provider}"}
        if provider == "ecr":
            fields["region"] = "us-east-1"
        registry_id = create(**fields)
        assert get_registry(registry_id)["provider"] == provider, f"provider {provider} not stored"
    assert len(list_registries()) == len(PROVIDERS)


def test_create_accepts_http_address():
    """A plain http:// address is valid, not only https://."""
    reset()
    registry_id = create(address="http://registry.local:5000")
    assert get_registry(registry_id)["address"] == "http://registry.local:5000"


def test_create_trims_address():
    """Surrounding white space (spaces, tabs, newlines) around the address is removed before storing."""
    reset()
    registry_id = create(address=" \t https://trim.example.com/x \n ")
    assert get_registry(registry_id)["address"] == "https://trim.example.com/x"
    assert db_row(registry_id)["address"] == "https://trim.example.com/x", "address stored untrimmed"


def test_create_address_of_2048_bytes_is_accepted():
    """An address of exactly 2048 bytes is within the limit."""
    reset()
    address = "https://long.example.com/" + "a" * (2048 - len("https://long.example.com/"))
    assert len(address.encode()) == 2048
    registry_id = create(address=address)
    assert get_registry(registry_id)["address"] == address


def test_create_ecr_without_namespace():
    """provider ecr needs no namespace; the namespace then reads back as an empty string."""
    reset()
    registry_id = create(provider="ecr", region="ap-south-1", namespace=DROP)
    got = get_registry(registry_id)
    assert got["region"] == "ap-south-1" and got["namespace"] == "", f"GET shows {got}"


def test_create_region_defaults_to_empty_string():
    """A non-ecr registry created without region reads back with region ""."""
    reset()
    registry_id = create(provider="dockerhub")
    assert get_registry(registry_id)["region"] == "", "region of a registry without one is not \"\""


def test_create_null_optional_fields_mean_absent():
    """JSON null for region, is_default, enable_tls, access_key, secret_key, tls_cert means the field is absent."""
    reset()
    first = create()
    registry_id = create(region=None, is_default=None, enable_tls=None, access_key=None, secret_key=None,
                         tls_cert=None)
    got = get_registry(registry_id)
    assert got["region"] == "" and got["is_default"] is False, f"GET shows {got}"
    assert get_registry(first)["is_default"] is True, "null is_default moved the default"
    assert stored_credentials(registry_id)[2] is False, "enable_tls null is not stored as false"


def test_create_ignores_unknown_fields():
    """Unknown fields (scalars, objects, arrays) are accepted and never shown back."""
    reset()
    registry_id = create(color="blue", nested={"a": [1, 2, {"b": None}]}, registry_name="x", count=3.5)
    assert get_registry(registry_id)["namespace"] == "team"


def test_create_without_is_default_is_not_default():
    """is_default defaults to false: a second registry created without it does not become default."""
    reset()
    first = create()
    second = create(is_default=DROP)
    assert get_registry(first)["is_default"] is True
    assert get_registry(second)["is_default"] is False


def test_create_enable_tls_defaults_to_false():
    """enable_tls left out is stored as false."""
    reset()
    registry_id = create()
    assert stored_credentials(registry_id)[2] is False, "enable_tls left out is not stored as false"


def test_create_round_trips_unicode_and_escapes():
    """Non-ASCII text, \\u escapes, quotes and backslashes survive storage and come back as valid JSON."""
    reset()
    namespace = 'team-\u00e9\u547d\u540d "q" \\ back/slash \U0001f433'
    registry_id = create(namespace=namespace)
    assert get_registry(registry_id)["namespace"] == namespace
    assert db_row(registry_id)["namespace"] == namespace


def test_create_raw_escaped_unicode_is_decoded():
    """A \\u00e9 escape in the request body is stored as the character it encodes."""
    reset()
    raw = b'{"address":"https://u.example.com","provider":"nexus","namespace":"caf\\u00e9"}'
    registry_id = assert_created(request("POST", COLLECTION, raw=raw, headers={"Content-Type": "application/json"}))
    assert db_row(registry_id)["namespace"] == "caf\u00e9"


def test_create_returns_distinct_ids():
    """Each create gets its own id."""
    reset()
    ids = {create(namespace=f"n{i}") for i in range(10)}
    assert len(ids) == 10, f"only {len(ids)} distinct ids for 10 creates"
