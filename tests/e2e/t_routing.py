"""Routing: unknown paths are 404, known paths with an unsupported method are 405 with an Allow header."""

from lib import COLLECTION, allowed_methods, body, create, expect_error, item_path, prefix_url, reset

# (name, path, reaches the app at the root URL). At the root the app is mounted at /openapi/system/registry, so
# paths outside that belong to whatever else the server hosts; below the prefix every path reaches the app.
UNKNOWN_PATHS = [
    ("plural", "/openapi/system/registries", False),
    ("suffix", "/openapi/system/registryx", True),
    ("below_item", "/openapi/system/registry/0123456789abcdef01234567/extra", True),
    ("root", "/", False),
    ("openapi", "/openapi", False),
    ("other_api", "/openapi/system/user", False),
    ("uppercase", "/OPENAPI/SYSTEM/REGISTRY", False),
]

COLLECTION_METHODS = {"GET", "POST"}
ITEM_METHODS = {"GET", "PUT", "DELETE"}
# HEAD and OPTIONS may be advertised too; nothing else may.
TOLERATED_EXTRA = {"HEAD", "OPTIONS"}

NOT_ALLOWED = [
    ("patch_collection", "PATCH", "collection", COLLECTION_METHODS),
    ("delete_collection", "DELETE", "collection", COLLECTION_METHODS),
    ("put_collection", "PUT", "collection", COLLECTION_METHODS),
    ("post_item", "POST", "item", ITEM_METHODS),
    ("patch_item", "PATCH", "item", ITEM_METHODS),
]


def _unknown_path(method, path, base):
    def test():
        reset()
        create()
        payload = body() if method == "POST" else None
        expect_error(method, path, 404, body=payload, base=base and base())
    return test


def _not_allowed(method, target, allowed):
    def test():
        reset()
        registry_id = create()
        path = COLLECTION if target == "collection" else item_path(registry_id)
        payload = body(namespace="changed") if method in ("PATCH", "PUT", "POST") else None
        resp, _ = expect_error(method, path, 405, body=payload)
        advertised = allowed_methods(resp)
        assert allowed <= advertised <= allowed | TOLERATED_EXTRA, \
            f"Allow is {resp.headers.get('allow')!r}, expected {sorted(allowed)}"
    return test


def _register():
    for name, path, at_root in UNKNOWN_PATHS:
        for method in ("GET", "POST"):
            for where, base in (("root", None), ("prefix", prefix_url)):
                if where == "root" and not at_root:
                    continue
                test = _unknown_path(method, path, base)
                test.__name__ = f"test_{method.lower()}_unknown_path_{name}_at_{where}_is_404"
                test.__doc__ = f"{method} {path} (at the {where} URL) is 404 in Zadig shape and changes nothing."
                globals()[test.__name__] = test
    for name, method, target, allowed in NOT_ALLOWED:
        test = _not_allowed(method, target, allowed)
        test.__name__ = f"test_{name}_is_405_with_allow"
        test.__doc__ = f"{method} on the {target} is 405 with Allow: {', '.join(sorted(allowed))}; nothing changes."
        globals()[test.__name__] = test


_register()
