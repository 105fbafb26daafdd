"""GET /openapi/system/registry with filters and paging: provider, is_default, q, page, page_size, X-Total-Count.

All parameters are optional: without them the answer is the whole list, as Zadig's clients expect. Unknown
parameters are ignored; a known one that is empty, repeated, badly encoded or out of range is a 400 naming it.
"""

import json
import urllib.parse

from lib import (COLLECTION, DROP, assert_error, assert_ok_json, assert_registry_shape, create, expect_error,
                 item_path, list_registries, psql, request, reset)
from seclib import read_headers


def fleet():
    """Five registries, oldest first; the first is the default. Returns their ids in that order."""
    reset()
    return [
        create(address="https://harbor.example.com", provider="harbor", namespace="team-a"),
        create(address="https://acr.example.cn", provider="acr", namespace="Team-B"),
        create(address="https://123456789012.dkr.ecr.us-east-1.amazonaws.com", provider="ecr",
               region="us-east-1", namespace=DROP),
        create(address="https://HARBOR2.example.org", provider="harbor", namespace="ops"),
        create(address="http://10.0.0.5:5000", provider="native", namespace="teamwork"),
    ]


def listed(query, headers=None):
    """GET the collection with a raw query string; asserts a 200 list of registries; returns (ids, total, resp)."""
    resp = request("GET", f"{COLLECTION}?{query}" if query is not None else COLLECTION, headers=headers)
    assert_ok_json(resp)
    assert isinstance(resp.json, list), f"{query}: not a list: {resp.raw[:200]}"
    for entry in resp.json:
        assert_registry_shape(entry)
    total = resp.headers.get("x-total-count")
    assert total is not None and total.isdigit(), f"{query}: X-Total-Count is {total!r}"
    return [r["registry_id"] for r in resp.json], int(total), resp


def expect_listed(query, want, total=None):
    got, got_total, _ = listed(query)
    assert got == want, f"?{query} listed {got}, want {want}"
    want_total = len(want) if total is None else total
    assert got_total == want_total, f"?{query}: X-Total-Count {got_total}, want {want_total}"


# ---------------------------------------------------------------------------------------------------------------
# Without parameters nothing changes
# ---------------------------------------------------------------------------------------------------------------

def test_no_parameters_lists_everything_oldest_first_with_total():
    ids = fleet()
    expect_listed(None, ids)


def test_unknown_parameters_leave_the_answer_byte_identical():
    """Zadig's clients send parameters of their own (projectName, ...): the list answers exactly as without any."""
    fleet()
    plain = request("GET", COLLECTION)
    for query in ("projectName=zadig", "foo=bar&baz", "x=%zz", "Provider=quay", "", "&&", "page_size_x=0"):
        resp = request("GET", f"{COLLECTION}?{query}")
        assert resp.status == 200 and resp.raw == plain.raw, f"?{query} changed the answer: {resp.raw[:200]}"
        assert resp.headers.get("x-total-count") == "5", f"?{query}: X-Total-Count {resp.headers}"


def test_an_empty_table_lists_nothing_with_total_zero():
    reset()
    expect_listed(None, [])
    expect_listed("provider=harbor&page=1", [])


def test_list_items_keep_zadig_shape():
    """Filtered and paged answers hold the very same objects as the plain list."""
    fleet()
    plain = {r["registry_id"]: r for r in list_registries()}
    _, _, resp = listed("q=example&page_size=2&page=2")
    for entry in resp.json:
        assert entry == plain[entry["registry_id"]], f"filtered entry differs: {entry}"


# ---------------------------------------------------------------------------------------------------------------
# Filters, each alone and combined
# ---------------------------------------------------------------------------------------------------------------

def test_provider_filter():
    ids = fleet()
    expect_listed("provider=harbor", [ids[0], ids[3]])
    expect_listed("provider=acr", [ids[1]])
    expect_listed("provider=ecr", [ids[2]])
    expect_listed("provider=native", [ids[4]])
    expect_listed("provider=tcr", [])
    expect_listed("provider=%68arbor", [ids[0], ids[3]])


def test_is_default_filter():
    ids = fleet()
    expect_listed("is_default=true", [ids[0]])
    expect_listed("is_default=false", ids[1:])


def test_q_matches_address_or_namespace_ignoring_ascii_case():
    ids = fleet()
    expect_listed("q=team", [ids[0], ids[1], ids[4]])
    expect_listed("q=TEAM", [ids[0], ids[1], ids[4]])
    expect_listed("q=harbor2", [ids[3]])
    expect_listed("q=example", [ids[0], ids[1], ids[3]])
    expect_listed("q=us-east-1", [ids[2]])
    expect_listed("q=10.0.0.5%3A5000", [ids[4]])
    expect_listed("q=" + urllib.parse.quote("https://acr."), [ids[1]])
    expect_listed("q=nothing-like-it", [])


def test_q_does_not_match_provider_or_region():
    ids = fleet()
    expect_listed("q=acr", [ids[1]])        # only because the address holds "acr"
    expect_listed("q=native", [])
    expect_listed("q=ecr", [ids[2]])        # the address holds "ecr"


def test_q_with_spaces_and_utf8():
    reset()
    plain = create(namespace="plain")
    spaced = create(address="https://s.example.com", namespace="my team")
    accented = create(address="https://u.example.com", namespace="\u00e9quipe")
    expect_listed("q=my+team", [spaced])
    expect_listed("q=my%20team", [spaced])
    expect_listed("q=" + urllib.parse.quote("\u00e9quipe"), [accented])
    expect_listed("q=" + urllib.parse.quote("\u00c9QUIPE"), [])     # only ASCII letters fold
    assert plain


def test_filters_combine():
    ids = fleet()
    expect_listed("provider=harbor&is_default=false", [ids[3]])
    expect_listed("provider=harbor&q=team", [ids[0]])
    expect_listed("provider=harbor&is_default=true&q=ops", [])
    expect_listed("is_default=false&q=example", [ids[1], ids[3]])
    expect_listed("q=team&provider=native&is_default=false&foo=1", [ids[4]])


def test_filters_see_every_write_at_once():
    """The filters run on the same cache as the list: a write is filtered correctly on the very next request."""
    ids = fleet()
    for i in range(30):
        resp = request("PUT", item_path(ids[1]), {"address": "https://acr.example.cn", "provider": "acr",
                                                  "namespace": f"round-{i}", "is_default": i % 2 == 0})
        assert resp.status == 200, resp.raw
        expect_listed(f"q=round-{i}", [ids[1]])
        # Round 0 made it the default; is_default false on the default is ignored afterwards.
        expect_listed("is_default=true", [ids[1]])
        expect_listed("is_default=false&provider=harbor", [ids[0], ids[3]])


def test_a_change_made_in_psql_is_filtered_within_moments():
    ids = fleet()
    psql("UPDATE registry SET namespace = 'renamed-by-dba' WHERE id = :'p1';", ids[2])
    for _ in range(200):
        got, _, _ = listed("q=renamed-by-dba")
        if got == [ids[2]]:
            break
    else:
        raise AssertionError("the DBA's change never reached the filter")


def test_read_token_may_filter():
    ids = fleet()
    got, total, _ = listed("provider=harbor&page_size=1", headers=read_headers())
    assert got == [ids[0]] and total == 2, f"read token got {got} of {total}"


# ---------------------------------------------------------------------------------------------------------------
# Paging
# ---------------------------------------------------------------------------------------------------------------

def test_pages_of_two():
    ids = fleet()
    expect_listed("page=1&page_size=2", ids[0:2], total=5)
    expect_listed("page=2&page_size=2", ids[2:4], total=5)
    expect_listed("page=3&page_size=2", ids[4:5], total=5)
    expect_listed("page=4&page_size=2", [], total=5)


def test_page_without_page_size_has_twenty():
    reset()
    ids = [create(namespace=f"n{i}") for i in range(23)]
    expect_listed("page=1", ids[:20], total=23)
    expect_listed("page=2", ids[20:], total=23)


def test_page_size_without_page_is_the_first_page():
    ids = fleet()
    expect_listed("page_size=3", ids[:3], total=5)
    expect_listed("page_size=1", ids[:1], total=5)


def test_page_size_limits():
    ids = fleet()
    expect_listed("page_size=100", ids, total=5)
    expect_listed("page=1&page_size=5", ids, total=5)


def test_pages_beyond_the_end_are_empty():
    fleet()
    expect_listed("page=6&page_size=1", [], total=5)
    expect_listed("page=1000000000&page_size=100", [], total=5)


def test_paging_with_a_filter_counts_the_matches():
    ids = fleet()
    expect_listed("provider=harbor&page=1&page_size=1", [ids[0]], total=2)
    expect_listed("provider=harbor&page=2&page_size=1", [ids[3]], total=2)
    expect_listed("provider=harbor&page=3&page_size=1", [], total=2)
    expect_listed("q=nothing&page=1", [], total=0)


def test_walking_the_pages_yields_the_list_once():
    reset()
    ids = [create(namespace=f"walk-{i}") for i in range(17)]
    seen = []
    for page in range(1, 10):
        got, total, _ = listed(f"page={page}&page_size=4")
        assert total == 17, f"page {page}: total {total}"
        if not got:
            break
        seen += got
    assert seen == ids, f"pages gave {seen}, want {ids}"


# ---------------------------------------------------------------------------------------------------------------
# Invalid values: 400 naming the parameter, nothing else happens
# ---------------------------------------------------------------------------------------------------------------

INVALID = [
    ("provider_unknown", "provider=quay", "provider"),
    ("provider_upper_case", "provider=Harbor", "provider"),
    ("provider_empty", "provider=", "provider"),
    ("provider_without_value", "provider", "provider"),
    ("provider_twice", "provider=harbor&provider=harbor", "provider"),
    ("is_default_yes", "is_default=yes", "is_default"),
    ("is_default_1", "is_default=1", "is_default"),
    ("is_default_empty", "is_default=", "is_default"),
    ("is_default_twice", "is_default=true&is_default=false", "is_default"),
    ("q_empty", "q=", "parameter q "),
    ("q_201_bytes", "q=" + "a" * 201, "parameter q "),
    ("q_bad_escape", "q=%zz", "parameter q "),
    ("q_nul", "q=a%00b", "parameter q "),
    ("q_invalid_utf8", "q=%C3%28", "parameter q "),
    ("q_twice", "q=a&q=b", "parameter q "),
    ("page_zero", "page=0", "page"),
    ("page_negative", "page=-1", "page"),
    ("page_not_a_number", "page=abc", "page"),
    ("page_fraction", "page=1.5", "page"),
    ("page_too_big", "page=1000000001", "page"),
    ("page_empty", "page=", "page"),
    ("page_twice", "page=1&page=2", "page"),
    ("page_size_zero", "page_size=0", "page_size"),
    ("page_size_101", "page_size=101", "page_size"),
    ("page_size_empty", "page_size=", "page_size"),
    ("page_size_twice", "page_size=5&page_size=5", "page_size"),
    ("bad_value_among_good_ones", "provider=harbor&q=team&page=2&page_size=500", "page_size"),
]


def _make_invalid_test(name, query, mentions):
    def test():
        fleet()
        _, got = expect_error("GET", f"{COLLECTION}?{query}", 400, mentions)
        assert "query parameter" in got["description"], f"description {got['description']!r}"

    test.__name__ = f"test_invalid_{name}_is_400"
    test.__qualname__ = test.__name__
    test.__doc__ = f"?{query[:60]} is a 400 whose description names {mentions.strip()}."
    return test


for _case in INVALID:
    _t = _make_invalid_test(*_case)
    globals()[_t.__name__] = _t
del _t, _case


def test_invalid_parameter_needs_a_token_first():
    """Authentication comes before the query: without a token the answer is 401, not 400."""
    resp = request("GET", f"{COLLECTION}?page=0", headers={"Authorization": None})
    assert_error(resp, 401)


def test_item_routes_ignore_list_parameters():
    ids = fleet()
    resp = request("GET", item_path(ids[0]) + "?page=0&provider=quay")
    assert resp.status == 200 and resp.json["registry_id"] == ids[0], resp.raw[:200]
    assert json.loads(resp.raw)["provider"] == "harbor"


def test_filters_work_below_a_path_prefix():
    """Mounted below /imagereg/, the query string still reaches the app."""
    from lib import prefix_url
    ids = fleet()
    resp = request("GET", f"{COLLECTION}?provider=harbor&page_size=1&page=2", base=prefix_url())
    assert_ok_json(resp)
    assert [r["registry_id"] for r in resp.json] == [ids[3]] and resp.headers.get("x-total-count") == "2", \
        f"below the prefix: {resp.raw[:200]} {resp.headers}"
    assert_error(request("GET", f"{COLLECTION}?page=0", base=prefix_url()), 400, "page")
