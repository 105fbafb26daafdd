"""Request body size: up to 1 MiB is read, anything larger is 413 in Zadig shape."""

import json

from lib import COLLECTION, assert_created, body, create, db_row, expect_error, item_path, request, reset

MIB = 1024 * 1024


def padded_body(size, **fields):
    """A valid registry body of exactly `size` bytes, padded with an unknown field."""
    base = body(pad="", **fields)
    empty = len(json.dumps(base).encode())
    base["pad"] = "p" * (size - empty)
    raw = json.dumps(base).encode()
    assert len(raw) == size, f"padding arithmetic: {len(raw)} != {size}"
    return raw


def test_post_body_of_exactly_one_mib_is_accepted():
    """A valid POST body of exactly 1 MiB is not over the limit and creates the registry."""
    reset()
    resp = request("POST", COLLECTION, raw=padded_body(MIB, namespace="big"),
                   headers={"Content-Type": "application/json"})
    registry_id = assert_created(resp)
    assert db_row(registry_id)["namespace"] == "big"


def test_post_body_over_one_mib_is_413():
    """A POST body of 1 MiB + 1 byte is 413 Payload Too Large and creates nothing."""
    reset()
    create()
    expect_error("POST", COLLECTION, 413, raw=padded_body(MIB + 1), headers={"Content-Type": "application/json"})


def test_post_body_of_two_mib_is_413():
    """A much larger POST body (2 MiB) is 413 as well."""
    reset()
    expect_error("POST", COLLECTION, 413, raw=padded_body(2 * MIB), headers={"Content-Type": "application/json"})


def test_put_body_over_one_mib_is_413():
    """A PUT body over 1 MiB is 413 and leaves the registry as it was."""
    reset()
    registry_id = create()
    expect_error("PUT", item_path(registry_id), 413, raw=padded_body(MIB + 1, namespace="changed"),
                 headers={"Content-Type": "application/json"})
