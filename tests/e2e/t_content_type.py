"""Request Content-Type: JSON bodies work whatever the client labels them (curl's form default, none, JSON+charset)."""

import json

from lib import COLLECTION, assert_created, assert_success, body, create, get_registry, item_path, request, reset

FORM = "application/x-www-form-urlencoded"


def post_as(content_type, **fields):
    """POST body(**fields) as JSON bytes labelled with content_type (None: no Content-Type header)."""
    raw = json.dumps(body(**fields)).encode()
    return request("POST", COLLECTION, raw=raw, headers={"Content-Type": content_type})


def test_post_json_labelled_as_form_works():
    """JSON sent as application/x-www-form-urlencoded (curl -d default) is parsed as JSON."""
    reset()
    registry_id = assert_created(post_as(FORM, namespace="curl-default"))
    assert get_registry(registry_id)["namespace"] == "curl-default"


def test_post_json_without_content_type_works():
    """JSON sent with no Content-Type header at all is parsed as JSON."""
    reset()
    resp = post_as(None, namespace="no-type")
    registry_id = assert_created(resp)
    assert get_registry(registry_id)["namespace"] == "no-type"


def test_post_json_with_charset_works():
    """application/json; charset=utf-8 is accepted."""
    reset()
    registry_id = assert_created(post_as("application/json; charset=utf-8", namespace="with-charset"))
    assert get_registry(registry_id)["namespace"] == "with-charset"


def test_put_json_labelled_as_form_works():
    """A PUT whose JSON body is labelled application/x-www-form-urlencoded is applied."""
    reset()
    registry_id = create()
    raw = json.dumps(body(namespace="form-put")).encode()
    assert_success(request("PUT", item_path(registry_id), raw=raw, headers={"Content-Type": FORM}))
    assert get_registry(registry_id)["namespace"] == "form-put"
