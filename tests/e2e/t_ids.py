"""Registry ids in the path: malformed ids are 400, well-formed unknown ids are 404, for GET, PUT and DELETE.

Zadig let a malformed id match the first registry and answered 500 for an unknown one; both are checked here with a
registry present, so a lookup that falls through to "the first row" would be caught.
"""

from lib import body, create, expect_error, item_path, reset

MALFORMED = [
    ("non_hex", "0123456789abcdef0123456g"),
    ("uppercase", "0123456789ABCDEF01234567"),
    ("23_chars", "0123456789abcdef0123456"),
    ("25_chars", "0123456789abcdef012345678"),
    ("sql_quote", "0123456789abcdef01234'--"),
]
UNKNOWN = "0123456789abcdef01234567"


def _existing_and(method, registry_id, status):
    def test():
        reset()
        create(namespace="present")
        payload = body(namespace="changed") if method == "PUT" else None
        expect_error(method, item_path(registry_id), status, body=payload)
    return test


def _register():
    for method in ("GET", "PUT", "DELETE"):
        for name, registry_id in MALFORMED:
            test = _existing_and(method, registry_id, 400)
            test.__name__ = f"test_{method.lower()}_malformed_id_{name}_is_400"
            test.__doc__ = f"{method} with a malformed id ({name}) is 400 and changes nothing."
            globals()[test.__name__] = test
        test = _existing_and(method, UNKNOWN, 404)
        test.__name__ = f"test_{method.lower()}_unknown_id_is_404"
        test.__doc__ = f"{method} of a well-formed id that does not exist is 404 and changes nothing."
        globals()[test.__name__] = test


_register()

