"""The default registry: always exactly one while any exist, enforced in PostgreSQL (so psql writes obey it too)."""

from lib import (assert_one_default, assert_success, body, create, get_registry, item_path, list_registries, psql,
                 request, reset)


def put(registry_id, **fields):
    """PUT body(**fields) and assert success."""
    assert_success(request("PUT", item_path(registry_id), body(**fields)))


def delete(registry_id):
    """DELETE a registry and assert success."""
    assert_success(request("DELETE", item_path(registry_id)))


def psql_may_fail(sql, *params):
    """Run a hand-written statement the database may legitimately refuse; True when it was applied."""
    try:
        psql(sql, *params)
    except RuntimeError:
        return False
    return True


def test_first_registry_becomes_default():
    """The first registry is the default even when created with is_default false."""
    reset()
    first = create(is_default=False)
    assert get_registry(first)["is_default"] is True
    assert_one_default(first)


def test_second_registry_without_default_leaves_first():
    """A later registry created with is_default false does not take the default."""
    reset()
    first = create()
    create(is_default=False)
    assert_one_default(first)


def test_create_with_default_true_moves_default():
    """Creating a registry with is_default true makes it the only default."""
    reset()
    create()
    second = create(is_default=True)
    assert_one_default(second)


def test_put_default_true_moves_default():
    """PUT is_default true on a non-default registry makes it the only default."""
    reset()
    first = create()
    second = create()
    assert_one_default(first)
    put(second, is_default=True)
    assert_one_default(second)


def test_put_default_false_on_default_keeps_it():
    """PUT is_default false on the current default leaves it the default (there must be one)."""
    reset()
    first = create()
    create()
    put(first, is_default=False, namespace="still-default")
    assert_one_default(first)
    assert get_registry(first)["namespace"] == "still-default"


def test_put_without_is_default_on_default_keeps_it():
    """PUT without is_default on the current default leaves it the default."""
    reset()
    create()
    second = create(is_default=True)
    put(second, namespace="renamed")
    assert_one_default(second)


def test_put_default_false_on_other_does_not_move_default():
    """PUT is_default false on a non-default registry leaves the default where it was."""
    reset()
    first = create()
    second = create()
    put(second, is_default=False)
    assert_one_default(first)


def test_delete_default_promotes_oldest():
    """Deleting the default makes the oldest remaining registry the default (not the newest, not none)."""
    reset()
    oldest = create(namespace="a")
    create(namespace="b")
    newest = create(namespace="c", is_default=True)
    delete(newest)
    assert_one_default(oldest)


def test_delete_default_promotes_oldest_remaining():
    """With the oldest already deleted, deleting the default promotes the next oldest."""
    reset()
    ids = [create(namespace=f"n{i}") for i in range(4)]
    put(ids[3], is_default=True)
    delete(ids[0])
    delete(ids[3])
    assert_one_default(ids[1])


def test_delete_non_default_keeps_default():
    """Deleting a registry that is not the default does not move the default."""
    reset()
    first = create()
    second = create(is_default=True)
    delete(first)
    assert_one_default(second)


def test_delete_last_leaves_no_default():
    """Deleting every registry leaves an empty list and no default row."""
    reset()
    ids = [create(namespace=f"n{i}") for i in range(3)]
    for registry_id in ids:
        delete(registry_id)
    assert list_registries() == []
    assert psql("SELECT count(*) FROM registry WHERE is_default;").strip() == "0"


def test_hand_insert_into_empty_table_is_default():
    """A row inserted with psql into an empty table becomes the default, as the first API create does."""
    reset()
    psql("INSERT INTO registry(address, provider, namespace) VALUES (:'p1', 'harbor', 'hand');",
         "https://first.example.com")
    listed = list_registries()
    assert len(listed) == 1 and listed[0]["is_default"] is True, f"list is {listed}"
    assert_one_default(listed[0]["registry_id"])


def test_hand_insert_default_moves_default():
    """A row inserted with psql with is_default true takes the default from the API-created one."""
    reset()
    create()
    psql("INSERT INTO registry(address, provider, namespace, is_default) VALUES (:'p1', 'harbor', 'hand', true);",
         "https://hand-default.example.com")
    hand = [r for r in list_registries() if r["address"] == "https://hand-default.example.com"]
    assert len(hand) == 1, "hand-inserted row not listed"
    assert_one_default(hand[0]["registry_id"])


def test_hand_delete_of_default_promotes_oldest():
    """Deleting the default with psql promotes the oldest remaining row, as the API delete does."""
    reset()
    oldest = create(namespace="a")
    create(namespace="b")
    create(namespace="c", is_default=True, address="https://doomed.example.com")
    psql("DELETE FROM registry WHERE address = :'p1';", "https://doomed.example.com")
    assert_one_default(oldest)


def test_hand_update_to_default_keeps_one_default():
    """An UPDATE by psql setting is_default true on another row either moves the default or is refused: one remains."""
    reset()
    create()
    create(address="https://other.example.com")
    psql_may_fail("UPDATE registry SET is_default = true WHERE address = :'p1';", "https://other.example.com")
    assert_one_default()


def test_hand_update_clearing_default_keeps_one_default():
    """An UPDATE by psql clearing the default flag is refused or repaired: a default remains."""
    reset()
    create()
    create()
    psql_may_fail("UPDATE registry SET is_default = false WHERE is_default;")
    assert_one_default()


def test_exactly_one_default_through_a_sequence():
    """A mixed run of creates, PUTs and DELETEs keeps exactly one default after every step."""
    reset()
    a = create(namespace="a")
    assert_one_default(a)
    b = create(namespace="b", is_default=True)
    assert_one_default(b)
    c = create(namespace="c")
    assert_one_default(b)
    put(c, is_default=True)
    assert_one_default(c)
    put(c, is_default=False)
    assert_one_default(c)
    put(a, is_default=True)
    assert_one_default(a)
    delete(a)
    assert_one_default(b)
    d = create(namespace="d", is_default=True)
    assert_one_default(d)
    delete(d)
    assert_one_default(b)
    delete(b)
    assert_one_default(c)
