"""The app mounted below a path prefix (IMAGEREG_PREFIX_URL) serves the same API."""

from lib import (COLLECTION, assert_created, assert_success, body, create, expect_error, get_registry, item_path,
                 list_registries, prefix_url, request, reset)


def test_prefix_list_matches_root_list():
    """GET of the collection under the prefix returns the same list as at the root."""
    reset()
    create(namespace="a")
    create(namespace="b", provider="ecr", region="us-east-1")
    assert list_registries(base=prefix_url()) == list_registries()


def test_prefix_create_is_visible_at_root():
    """POST under the prefix creates a registry that GET at the root serves."""
    reset()
    registry_id = assert_created(request("POST", COLLECTION, body(namespace="via-prefix"), base=prefix_url()))
    assert get_registry(registry_id)["namespace"] == "via-prefix"


def test_prefix_get_put_delete_item():
    """GET, PUT and DELETE of one registry work under the prefix."""
    reset()
    registry_id = create(namespace="before")
    assert get_registry(registry_id, base=prefix_url())["namespace"] == "before"
    assert_success(request("PUT", item_path(registry_id), body(namespace="after"), base=prefix_url()))
    assert get_registry(registry_id)["namespace"] == "after"
    assert_success(request("DELETE", item_path(registry_id), base=prefix_url()))
    assert list_registries() == []


def test_prefix_unknown_id_is_404():
    """A well-formed unknown id under the prefix is 404 in Zadig shape."""
    reset()
    expect_error("GET", item_path("0123456789abcdef01234567"), 404, base=prefix_url())


def test_prefix_malformed_id_is_400():
    """A malformed id under the prefix is 400 in Zadig shape."""
    reset()
    expect_error("GET", item_path("XYZ"), 400, base=prefix_url())


def test_prefix_unknown_path_is_404():
    """An unknown path under the prefix is 404 in Zadig shape."""
    reset()
    expect_error("GET", "/openapi/system/registries", 404, base=prefix_url())


def test_prefix_wrong_method_is_405():
    """An unsupported method under the prefix is 405 with Allow."""
    reset()
    resp, _ = expect_error("PATCH", COLLECTION, 405, body=body(), base=prefix_url())
    assert "allow" in resp.headers, "405 without Allow header"


def test_prefix_validation_error_is_400():
    """Validation runs the same under the prefix: a missing namespace is 400 naming it."""
    reset()
    expect_error("POST", COLLECTION, 400, "namespace", body=body(namespace=""), base=prefix_url())
