"""DELETE /openapi/system/registry/:id."""

from lib import (assert_success, create, db_row, db_rows, expect_error, item_path, list_registries, request,
                 reset)


def test_delete_answers_success_and_removes_row():
    """DELETE answers {"message":"success"} and the row is gone from the table."""
    reset()
    registry_id = create()
    assert_success(request("DELETE", item_path(registry_id)))
    assert db_row(registry_id) is None, "row still in the table"


def test_deleted_registry_is_not_found():
    """After DELETE, GET of the id is 404 and the list no longer has it."""
    reset()
    keep = create(namespace="keep")
    gone = create(namespace="gone")
    assert_success(request("DELETE", item_path(gone)))
    expect_error("GET", item_path(gone), 404)
    assert [r["registry_id"] for r in list_registries()] == [keep]


def test_delete_twice_is_not_found():
    """A second DELETE of the same id is 404, not a silent success."""
    reset()
    registry_id = create()
    assert_success(request("DELETE", item_path(registry_id)))
    expect_error("DELETE", item_path(registry_id), 404)


def test_delete_only_touches_its_row():
    """DELETE of one registry leaves the others in the table."""
    reset()
    ids = [create(namespace=f"n{i}") for i in range(3)]
    assert_success(request("DELETE", item_path(ids[1])))
    assert len(db_rows()) == 2 and db_row(ids[0]) and db_row(ids[2]), "other rows changed"


def test_delete_last_leaves_empty_list():
    """Deleting the only registry leaves the list [] ."""
    reset()
    registry_id = create()
    assert_success(request("DELETE", item_path(registry_id)))
    assert list_registries() == []
