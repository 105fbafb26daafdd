"""Concurrent writes: the default stays unique and no request fails under parallel load."""

from concurrent.futures import ThreadPoolExecutor

from lib import (COLLECTION, assert_created, assert_one_default, assert_success, body, create, db_rows, item_path,
                 request, reset)

PARALLEL = 32


def in_parallel(calls):
    """Run the zero-argument callables on PARALLEL threads at once; return their results in order."""
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        futures = [pool.submit(call) for call in calls]
        return [f.result() for f in futures]


def statuses(responses):
    """A compact summary of the statuses and bodies that were not 200, for failure messages."""
    return [(r.status, r.raw[:120]) for r in responses if r.status != 200]


def test_parallel_puts_making_each_default():
    """32 parallel PUTs, each making a different registry default, all succeed and leave exactly one default."""
    reset()
    ids = [create(namespace=f"p{i}") for i in range(PARALLEL)]
    calls = [lambda i=i: request("PUT", item_path(i), body(namespace=f"won-{i}", is_default=True)) for i in ids]
    responses = in_parallel(calls)
    assert not statuses(responses), f"failed PUTs: {statuses(responses)}"
    for resp in responses:
        assert_success(resp)
    assert_one_default()


def test_parallel_posts_with_default():
    """32 parallel POSTs with is_default true all succeed, create 32 rows and leave exactly one default."""
    reset()
    calls = [lambda i=i: request("POST", COLLECTION, body(namespace=f"c{i}", is_default=True)) for i in range(PARALLEL)]
    responses = in_parallel(calls)
    assert not statuses(responses), f"failed POSTs: {statuses(responses)}"
    ids = {assert_created(r) for r in responses}
    assert len(ids) == PARALLEL, f"{len(ids)} distinct ids"
    assert len(db_rows()) == PARALLEL, f"table has {len(db_rows())} rows"
    assert_one_default()


def test_parallel_posts_into_empty_table():
    """32 parallel POSTs without is_default into an empty table: all succeed and exactly one becomes default."""
    reset()
    calls = [lambda i=i: request("POST", COLLECTION, body(namespace=f"e{i}")) for i in range(PARALLEL)]
    responses = in_parallel(calls)
    assert not statuses(responses), f"failed POSTs: {statuses(responses)}"
    assert_one_default()


def test_parallel_delete_of_default_and_oldest():
    """Deleting the default and the oldest at the same time (the deadlock case) succeeds; the next oldest is default."""
    for _ in range(8):
        reset()
        ids = [create(namespace=f"d{i}") for i in range(4)]
        assert_success(request("PUT", item_path(ids[3]), body(namespace="d3", is_default=True)))
        responses = in_parallel([lambda: request("DELETE", item_path(ids[3])),
                                 lambda: request("DELETE", item_path(ids[0]))])
        assert not statuses(responses), f"failed DELETEs: {statuses(responses)}"
        assert_one_default(ids[1])


def test_parallel_mixed_writes_keep_one_default():
    """Parallel POSTs, PUTs and DELETEs mixed together all succeed and leave exactly one default."""
    reset()
    ids = [create(namespace=f"m{i}") for i in range(PARALLEL)]
    calls = []
    for i, registry_id in enumerate(ids):
        if i % 3 == 0:
            calls.append(lambda r=registry_id: request("DELETE", item_path(r)))
        elif i % 3 == 1:
            calls.append(lambda r=registry_id: request("PUT", item_path(r), body(is_default=True)))
        else:
            calls.append(lambda: request("POST", COLLECTION, body(is_default=True)))
    responses = in_parallel(calls)
    assert not statuses(responses), f"failed requests: {statuses(responses)}"
    assert_one_default()
