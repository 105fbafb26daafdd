"""ETag and If-Match: safe concurrent edits of one registry.

GET of one registry sends a strong ETag, the row version "N" that a trigger bumps on every change (the API's, a DBA's,
a default move). PUT and DELETE with If-Match write only when it names the current version, else 412 and nothing
changes; `*` matches any existing registry; weak tags never match; a malformed If-Match is a 400; a missing registry is
a 404 whatever If-Match says. Without If-Match, PUT and DELETE behave as before.
"""

import re
import time
from concurrent.futures import ThreadPoolExecutor

from lib import (assert_error, assert_success, body, create, db_dump, db_row, expect_error, get_registry, item_path,
                 psql, request, reset)

ETAG_RE = re.compile(r'^"[1-9][0-9]*"$')
UNKNOWN = "0123456789abcdef01234567"


def etag(registry_id):
    """The ETag GET of one registry answers (asserting a well-formed strong one)."""
    resp = request("GET", item_path(registry_id))
    assert resp.status == 200, f"GET {registry_id}: {resp.status} {resp.raw[:200]}"
    tag = resp.headers.get("etag")
    assert tag is not None and ETAG_RE.match(tag), f"GET {registry_id}: ETag is {tag!r}"
    return tag


def put(registry_id, if_match=None, **fields):
    return request("PUT", item_path(registry_id), body(**fields), headers={"If-Match": if_match})


def delete(registry_id, if_match=None):
    return request("DELETE", item_path(registry_id), headers={"If-Match": if_match})


def version(registry_id):
    return int(psql("SELECT version FROM registry WHERE id = :'p1';", registry_id).strip())


def wait_for_etag_change(registry_id, old, seconds=2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        now = etag(registry_id)
        if now != old:
            return now
        time.sleep(0.01)
    raise AssertionError(f"ETag of {registry_id} still {old} after {seconds} s")


# ---------------------------------------------------------------------------------------------------------------
# The ETag
# ---------------------------------------------------------------------------------------------------------------

def test_get_sends_a_strong_etag_starting_at_1():
    reset()
    rid = create()
    assert etag(rid) == '"1"'


def test_etag_is_the_row_version():
    reset()
    rid = create()
    for _ in range(3):
        assert_success(put(rid, namespace=f"v{version(rid)}"))
    assert etag(rid) == f'"{version(rid)}"' == '"4"'


def test_the_body_keeps_zadig_shape():
    """The version travels in the header only: the body is the same object as before."""
    reset()
    rid = create()
    get_registry(rid)       # asserts exactly the item keys


def test_put_answers_the_new_etag_which_get_then_sends():
    reset()
    rid = create()
    resp = put(rid, namespace="after")
    assert_success(resp)
    assert resp.headers.get("etag") == '"2"', f"PUT ETag {resp.headers.get('etag')!r}"
    assert etag(rid) == '"2"'


def test_put_that_takes_the_default_answers_the_final_etag():
    """Becoming the default happens when the PUT's statement ends and bumps the version again: the ETag the PUT
    answers is the one the row has afterwards."""
    reset()
    first, second = create(), create(namespace="second")
    resp = put(second, namespace="second", is_default=True)
    assert_success(resp)
    assert resp.headers.get("etag") == etag(second), f"PUT said {resp.headers.get('etag')}, GET {etag(second)}"
    assert get_registry(second)["is_default"] and not get_registry(first)["is_default"]


def test_etag_changes_after_a_dba_update_in_psql():
    reset()
    rid = create()
    before = etag(rid)
    psql("UPDATE registry SET namespace = 'dba' WHERE id = :'p1';", rid)
    assert wait_for_etag_change(rid, before) == '"2"'


def test_etag_changes_when_another_registry_takes_the_default():
    reset()
    old_default = create(namespace="old")
    before = etag(old_default)
    new_default = create(namespace="new", is_default=True)
    assert etag(old_default) != before, "losing the default to a POST left the ETag"
    old_tag, new_tag = etag(old_default), etag(new_default)
    third = create(namespace="third")
    assert (etag(old_default), etag(new_default)) == (old_tag, new_tag), "a POST that took no default moved ETags"
    # A PUT elsewhere steals the default from new_default: its ETag moves, old_default's does not.
    assert_success(put(third, namespace="third", is_default=True))
    assert etag(new_default) != new_tag, "losing the default to a PUT left the ETag"
    assert etag(old_default) == old_tag, "a registry the move did not touch got a new ETag"


def test_etag_changes_when_the_default_is_deleted_and_this_one_promoted():
    reset()
    oldest = create(namespace="oldest")
    default = create(namespace="default", is_default=True)
    before = etag(oldest)
    assert_success(delete(default))
    assert get_registry(oldest)["is_default"]
    assert etag(oldest) != before, "promotion to default left the ETag"


def test_a_stale_etag_after_a_default_move_is_refused():
    """A client that read the old default, then someone else moved the default: its PUT would silently hand the
    default back (is_default false is ignored, but its other fields would overwrite): it gets 412."""
    reset()
    a = create(namespace="a")
    tag = etag(a)
    create(namespace="b", is_default=True)
    resp = put(a, if_match=tag, namespace="overwrite")
    assert_error(resp, 412, "changed since ETag")
    assert db_row(a)["namespace"] == "a"


# ---------------------------------------------------------------------------------------------------------------
# If-Match on PUT and DELETE
# ---------------------------------------------------------------------------------------------------------------

def test_put_with_the_current_etag_succeeds():
    reset()
    rid = create()
    resp = put(rid, if_match=etag(rid), namespace="matched")
    assert_success(resp)
    assert resp.headers.get("etag") == '"2"'
    assert db_row(rid)["namespace"] == "matched"


def test_put_with_a_stale_etag_is_412_and_changes_nothing():
    reset()
    rid = create(namespace="original")
    stale = etag(rid)
    assert_success(put(rid, namespace="second"))
    _, got = expect_error("PUT", item_path(rid), 412, f'changed since ETag {stale}', body=body(namespace="lost"),
                          headers={"If-Match": stale})
    assert f'it is now "{version(rid)}"' in got["description"], got["description"]
    assert db_row(rid)["namespace"] == "second"


def test_412_names_the_registry_and_its_current_etag():
    reset()
    rid = create()
    resp = put(rid, if_match='"7"', namespace="x")
    got = assert_error(resp, 412)
    assert rid in got["description"] and '"1"' in got["description"] and '"7"' in got["description"], got


def test_delete_with_the_current_etag_removes_the_registry():
    reset()
    rid = create()
    assert_success(delete(rid, etag(rid)))
    assert db_row(rid) is None


def test_delete_with_a_stale_etag_is_412_and_keeps_the_registry():
    reset()
    rid = create()
    stale = etag(rid)
    assert_success(put(rid, namespace="changed"))
    expect_error("DELETE", item_path(rid), 412, "changed since ETag", headers={"If-Match": stale})
    assert db_row(rid) is not None


def test_star_matches_any_existing_registry():
    reset()
    rid = create()
    assert_success(put(rid, namespace="two"))
    assert_success(put(rid, if_match="*", namespace="three"))
    assert_success(delete(rid, "*"))
    assert db_row(rid) is None


def test_a_list_matches_when_any_tag_matches():
    reset()
    rid = create()
    assert_success(put(rid, if_match='"9", "1", "5"', namespace="listed"))
    assert_success(put(rid, if_match='W/"2", "2"', namespace="listed-again"))
    assert_error(put(rid, if_match='"1", "2", "4"', namespace="none"), 412, "If-Match")
    assert_success(delete(rid, '"4","3"'))


def test_weak_tags_never_match():
    reset()
    rid = create()
    before = db_dump()
    resp = put(rid, if_match='W/"1"', namespace="weak")
    assert_error(resp, 412, "weak")
    assert_error(delete(rid, 'W/"1"'), 412, "weak")
    assert db_dump() == before


def test_strong_tags_compare_character_by_character():
    """ "01" is not "1": strong comparison is of the exact text."""
    reset()
    rid = create()
    assert_error(put(rid, if_match='"01"', namespace="x"), 412)
    assert_error(put(rid, if_match='"abc"', namespace="x"), 412)


MALFORMED = ["1", '"1', "W/1", 'w/"1"', '"1" "2"', "*, *", '*, "1"', "'1'", "", " , ", '"1"x']


def test_malformed_if_match_is_400_naming_the_header():
    reset()
    rid = create()
    for value in MALFORMED:
        expect_error("PUT", item_path(rid), 400, "If-Match", body=body(namespace="x"), headers={"If-Match": value})
        expect_error("DELETE", item_path(rid), 400, "If-Match", headers={"If-Match": value})


def test_too_many_entity_tags_is_400():
    reset()
    rid = create()
    many = ", ".join(f'"{i}"' for i in range(2, 35))
    expect_error("PUT", item_path(rid), 400, "If-Match", body=body(), headers={"If-Match": many})


def test_a_missing_registry_is_404_whatever_if_match_says():
    reset()
    create()
    for value in ('"1"', "*", 'W/"1"', '"1", "2"'):
        expect_error("PUT", item_path(UNKNOWN), 404, "not found", body=body(), headers={"If-Match": value})
        expect_error("DELETE", item_path(UNKNOWN), 404, "not found", headers={"If-Match": value})


def test_without_if_match_put_and_delete_behave_as_before():
    reset()
    rid = create()
    assert_success(put(rid, namespace="one"))
    assert_success(put(rid, namespace="two"))
    assert_success(delete(rid))
    assert_error(delete(rid), 404)


def test_body_errors_still_win_after_a_good_if_match():
    reset()
    rid = create()
    expect_error("PUT", item_path(rid), 400, "provider", body=body(provider="quay"), headers={"If-Match": '"1"'})


def test_read_token_is_still_403():
    from seclib import read_headers
    reset()
    rid = create()
    resp = request("PUT", item_path(rid), body(), headers={**read_headers(), "If-Match": '"1"'})
    assert_error(resp, 403)


# ---------------------------------------------------------------------------------------------------------------
# Concurrency: exactly one of many writers with the same ETag wins
# ---------------------------------------------------------------------------------------------------------------

def test_parallel_puts_with_the_same_if_match_one_wins():
    for round_ in range(3):
        reset()
        rid = create(namespace="start")
        tag = etag(rid)
        n = 16
        with ThreadPoolExecutor(max_workers=n) as pool:
            responses = list(pool.map(lambda i: put(rid, if_match=tag, namespace=f"writer-{i}"), range(n)))
        won = [i for i, r in enumerate(responses) if r.status == 200]
        lost = [r for r in responses if r.status == 412]
        assert len(won) == 1 and len(lost) == n - 1, \
            f"round {round_}: {len(won)} won, {len(lost)} got 412, others {[r.status for r in responses]}"
        for r in lost:
            assert_error(r, 412, "changed since ETag")
        assert db_row(rid)["namespace"] == f"writer-{won[0]}", "the row does not hold the winner's write"
        assert version(rid) == 2, f"round {round_}: version {version(rid)} after one write"


def test_parallel_deletes_with_the_same_if_match_one_wins():
    reset()
    rid = create()
    tag = etag(rid)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(r.status for r in pool.map(lambda _: delete(rid, tag), range(8)))
    assert statuses == [200] + [404] * 7, f"statuses {statuses}"


def test_read_modify_write_loop_never_loses_an_update():
    """Eight clients each add their mark to the namespace 5 times with GET, then PUT If-Match, retrying on 412:
    all 40 marks end up in the row, which a last-writer-wins PUT would not guarantee."""
    reset()
    rid = create(namespace="m")
    clients, rounds = 8, 5

    def client(c):
        for _ in range(rounds):
            while True:
                got = request("GET", item_path(rid))
                resp = put(rid, if_match=got.headers["etag"], namespace=got.json["namespace"] + f"{c:x}")
                if resp.status == 200:
                    break
                assert resp.status == 412, f"client {c}: {resp.status} {resp.raw[:200]}"
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))
    marks = db_row(rid)["namespace"][1:]
    assert sorted(marks) == sorted("".join(f"{c:x}" * rounds for c in range(clients))), \
        f"namespace holds marks {marks!r}: updates were lost"
