"""POST /openapi/system/registry with an Idempotency-Key: a retried create returns the first answer, creates nothing.

The same token sending the same key within 24 hours gets the first body back with `Idempotency-Replayed: true`; the
same key with other fields is a 422; keys are per token; an expired key (24 h) creates anew; a malformed key is a 400.
"""

from concurrent.futures import ThreadPoolExecutor

from lib import (COLLECTION, assert_created, assert_error, body, db_dump, db_row, db_rows, expect_error, item_path,
                 psql, request, reset, secret, stored_credentials)
from seclib import bearer, new_token, rand_hex, read_headers


def fresh_key():
    return f"key-{rand_hex(8)}"


def post(key, headers=None, **fields):
    return request("POST", COLLECTION, body(**fields), headers={"Idempotency-Key": key, **(headers or {})})


def replayed(resp):
    return resp.headers.get("idempotency-replayed")


def test_same_key_twice_returns_the_same_id_and_creates_one_registry():
    reset()
    key = fresh_key()
    first = post(key, namespace="once")
    rid = assert_created(first)
    assert replayed(first) is None, "the first answer says replayed"
    again = post(key, namespace="once")
    assert assert_created(again) == rid, "the retry got another id"
    assert replayed(again) == "true", f"Idempotency-Replayed is {replayed(again)!r}"
    assert again.raw == first.raw, "the replayed body differs from the first"
    assert len(db_rows()) == 1, f"{len(db_rows())} registries after a retried POST"


def test_many_retries_are_all_replays():
    reset()
    key = fresh_key()
    rid = assert_created(post(key))
    for _ in range(10):
        resp = post(key)
        assert assert_created(resp) == rid and replayed(resp) == "true"
    assert len(db_rows()) == 1


def test_same_key_with_other_fields_is_422_and_changes_nothing():
    reset()
    key = fresh_key()
    assert_created(post(key, namespace="first"))
    for fields in ({"namespace": "second"}, {"address": "https://other.example.com"}, {"provider": "nexus"},
                   {"is_default": True}, {"region": "eu"}):
        _, got = expect_error("POST", COLLECTION, 422, "Idempotency-Key", body=body(**{"namespace": "first", **fields}),
                              headers={"Idempotency-Key": key})
        assert "different request" in got["description"], got["description"]
    assert len(db_rows()) == 1


def test_same_fields_with_new_credentials_replay_without_storing_them():
    """Credentials are left out of the fingerprint (they are never hashed or kept for comparison): a retry that
    sends other credentials is the same request, replayed, and the first request's credentials stay."""
    reset()
    key = fresh_key()
    ak, sk = secret("ak"), secret("sk")
    rid = assert_created(post(key, access_key=ak, secret_key=sk))
    resp = post(key, access_key=secret("ak"), secret_key=secret("sk"))
    assert assert_created(resp) == rid and replayed(resp) == "true"
    assert stored_credentials(rid)[:2] == (ak, sk), "the replay changed the stored credentials"


def test_keys_are_per_token():
    reset()
    key = fresh_key()
    mine = assert_created(post(key, namespace="mine"))
    _, token = new_token("write", prefix="idem")
    theirs = post(key, headers=bearer(token), namespace="theirs")
    assert assert_created(theirs) != mine and replayed(theirs) is None, "another token's key was replayed"
    # Even with other fields: another token's key is no conflict.
    assert len(db_rows()) == 2
    again = post(key, headers=bearer(token), namespace="theirs")
    assert replayed(again) == "true" and assert_created(again) == assert_created(theirs)


def test_an_expired_key_creates_anew():
    reset()
    key = fresh_key()
    old = assert_created(post(key, namespace="yesterday"))
    psql("UPDATE registry_idempotency SET created_at = now() - interval '25 hours' WHERE key = :'p1';", key)
    fresh = post(key, namespace="today")
    new = assert_created(fresh)
    assert new != old and replayed(fresh) is None, "an expired key was replayed"
    assert len(db_rows()) == 2
    # The record now names the new registry.
    again = post(key, namespace="today")
    assert assert_created(again) == new and replayed(again) == "true"


def test_a_key_just_under_24_hours_still_replays():
    reset()
    key = fresh_key()
    rid = assert_created(post(key))
    psql("UPDATE registry_idempotency SET created_at = now() - interval '23 hours 59 minutes' WHERE key = :'p1';", key)
    resp = post(key)
    assert assert_created(resp) == rid and replayed(resp) == "true"


def test_replay_after_the_registry_was_deleted_creates_nothing():
    """The first answer is replayed as it was: a late retry must not bring a deleted registry back."""
    reset()
    key = fresh_key()
    rid = assert_created(post(key))
    assert request("DELETE", item_path(rid)).status == 200
    resp = post(key)
    assert assert_created(resp) == rid and replayed(resp) == "true"
    assert db_rows() == [], "the retry created a registry again"


def test_a_refused_request_records_no_key():
    reset()
    key = fresh_key()
    expect_error("POST", COLLECTION, 400, "provider", body=body(provider="quay"), headers={"Idempotency-Key": key})
    resp = post(key)
    assert_created(resp)
    assert replayed(resp) is None, "a key of a refused request was recorded"


def test_without_a_key_every_post_creates():
    reset()
    ids = {assert_created(request("POST", COLLECTION, body())) for _ in range(3)}
    assert len(ids) == 3 and len(db_rows()) == 3


def test_parallel_posts_with_one_key_create_one_registry():
    for round_ in range(3):
        reset()
        key = fresh_key()
        n = 16
        with ThreadPoolExecutor(max_workers=n) as pool:
            responses = list(pool.map(lambda i: post(key, namespace="parallel"), range(n)))
        ids = {assert_created(r) for r in responses}
        assert len(ids) == 1, f"round {round_}: {len(ids)} different ids"
        fresh = [r for r in responses if replayed(r) is None]
        assert len(fresh) == 1, f"round {round_}: {len(fresh)} answers were not replays"
        assert len(db_rows()) == 1, f"round {round_}: {len(db_rows())} registries"


def test_parallel_posts_with_distinct_keys_all_create():
    reset()
    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(lambda i: post(fresh_key(), namespace=f"k{i}"), range(16)))
    assert len({assert_created(r) for r in responses}) == 16 and len(db_rows()) == 16


BAD_KEYS = [("empty", ""), ("too_long", "k" * 129), ("tab", "a\tb"), ("non_ascii", "cl\u00e9")]


def _make_bad_key_test(name, key):
    def test():
        reset()
        expect_error("POST", COLLECTION, 400, "Idempotency-Key", body=body(), headers={"Idempotency-Key": key})

    test.__name__ = f"test_bad_key_{name}_is_400"
    test.__qualname__ = test.__name__
    test.__doc__ = f"An Idempotency-Key that is {name.replace('_', ' ')} is a 400 naming the header; nothing created."
    return test


for _case in BAD_KEYS:
    _t = _make_bad_key_test(*_case)
    globals()[_t.__name__] = _t
del _t, _case


def test_longest_and_odd_printable_keys_work():
    reset()
    tag = rand_hex(4)       # 8 characters: keys of earlier runs are still recorded
    for key in ("k" * 120 + tag, f"a b {tag}", f'"quoted-{tag}"', f"~!@#$%^&*()_+{{}}|:<>?{tag}", tag):
        first = post(key, namespace="odd")
        again = post(key, namespace="odd")
        assert replayed(first) is None, f"key {key!r} was replayed at once"
        assert assert_created(first) == assert_created(again) and replayed(again) == "true", f"key {key!r}"
    assert len(db_rows()) == 5


def test_a_read_token_with_a_key_is_403():
    reset()
    before = db_dump()
    resp = request("POST", COLLECTION, body(), headers={**read_headers(), "Idempotency-Key": fresh_key()})
    assert_error(resp, 403)
    assert db_dump() == before


def test_the_key_is_ignored_on_put_and_delete():
    reset()
    rid = assert_created(post(fresh_key()))
    key = fresh_key()
    for _ in range(2):
        resp = request("PUT", item_path(rid), body(namespace="x"), headers={"Idempotency-Key": key})
        assert resp.status == 200 and replayed(resp) is None
    assert db_row(rid)["namespace"] == "x"
