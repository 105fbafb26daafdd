"""Request body validation, table-driven: each case is one test for POST and one for PUT.

A case is (name, body, status, mentions): body is a dict sent as JSON or bytes sent as they are; mentions is a word
(or a tuple of alternatives) the error description must contain, case-insensitively. Every case must leave the
table unchanged (expect_error compares a dump before and after).
"""

from lib import (COLLECTION, DROP, assert_created, assert_error, body, create, expect_error, item_path, request,
                 reset, secret)

LONG_ADDRESS = "https://long.example.com/" + "a" * (2049 - len("https://long.example.com/"))
# 1125 characters but 2225 bytes: the limit counts bytes, not characters.
WIDE_ADDRESS = "https://wide.example.com/" + "\u00e9" * 1100
JSON = ("json",)
UTF8 = ("utf-8", "utf8", "utf", "encoding", "unicode")
OBJECT = ("object",)

CASES = [
    # address
    ("address_missing", body(address=DROP), 400, "address"),
    ("address_null", body(address=None), 400, "address"),
    ("address_empty", body(address=""), 400, "address"),
    ("address_blank", body(address=" \t "), 400, "address"),
    ("address_no_scheme", body(address="reg.example.com"), 400, "address"),
    ("address_ftp_scheme", body(address="ftp://reg.example.com"), 400, "address"),
    ("address_empty_host", body(address="https://"), 400, "address"),
    ("address_empty_host_with_path", body(address="https:///v2"), 400, "address"),
    ("address_relative", body(address="/v2/registry"), 400, "address"),
    ("address_over_2048_bytes", body(address=LONG_ADDRESS), 400, "address"),
    ("address_over_2048_bytes_multibyte", body(address=WIDE_ADDRESS), 400, "address"),
    ("address_number", body(address=5), 400, "address"),
    ("address_object", body(address={"host": "x"}), 400, "address"),
    # provider
    ("provider_missing", body(provider=DROP), 400, "provider"),
    ("provider_null", body(provider=None), 400, "provider"),
    ("provider_empty", body(provider=""), 400, "provider"),
    ("provider_unknown", body(provider="quay"), 400, "provider"),
    ("provider_uppercase", body(provider="HARBOR"), 400, "provider"),
    ("provider_bool", body(provider=True), 400, "provider"),
    # namespace
    ("namespace_missing", body(namespace=DROP), 400, "namespace"),
    ("namespace_null", body(namespace=None), 400, "namespace"),
    ("namespace_empty", body(namespace=""), 400, "namespace"),
    ("namespace_blank", body(namespace="   "), 400, "namespace"),
    ("namespace_array", body(namespace=[]), 400, "namespace"),
    ("namespace_nul_escape", body(namespace="a\u0000b"), 400, ("namespace", "nul", "u0000")),
    # region
    ("ecr_region_missing", body(provider="ecr", region=DROP), 400, "region"),
    ("ecr_region_null", body(provider="ecr", region=None), 400, "region"),
    ("ecr_region_empty", body(provider="ecr", region=""), 400, "region"),
    ("region_number", body(region=7), 400, "region"),
    # booleans
    ("is_default_string", body(is_default="yes"), 400, "is_default"),
    ("is_default_number", body(is_default=1), 400, "is_default"),
    ("enable_tls_string", body(enable_tls="true"), 400, "enable_tls"),
    # optional strings
    ("access_key_number", body(access_key=5), 400, "access_key"),
    ("secret_key_object", body(secret_key={"v": 1}), 400, "secret_key"),
    ("secret_key_nul_escape", body(secret_key=secret("sk") + "\u0000"), 400, ("secret_key", "nul", "u0000")),
    ("tls_cert_number", body(enable_tls=True, tls_cert=42), 400, "tls_cert"),
    # TLS
    ("tls_without_cert", body(enable_tls=True), 400, "tls_cert"),
    ("tls_with_empty_cert", body(enable_tls=True, tls_cert=""), 400, "tls_cert"),
    ("tls_with_null_cert", body(enable_tls=True, tls_cert=None), 400, "tls_cert"),
    # the body as a whole
    ("body_empty", b"", 400, ("body", "json", "empty")),
    ("json_truncated", b'{"address":"https://x.example.com","provider":"harbor"', 400, JSON),
    ("json_trailing_garbage", b'{"address":"https://x.example.com","provider":"harbor","namespace":"n"} x', 400, JSON),
    ("json_single_quotes", b"{'address':'https://x.example.com'}", 400, JSON),
    ("json_raw_nul_byte", b'{"address":"https://x.example.com","provider":"harbor","namespace":"n\x00"}', 400,
     ("json", "nul", "control", "namespace")),
    ("invalid_utf8_in_field", b'{"address":"https://x.example.com","provider":"harbor","namespace":"n\xff"}', 400,
     UTF8 + ("namespace",)),
    ("overlong_utf8_in_field", b'{"address":"https://x.example.com","provider":"harbor","namespace":"\xc0\xaf"}',
     400, UTF8 + ("namespace",)),
    ("surrogate_utf8_bytes", b'{"address":"https://x.example.com","provider":"harbor","namespace":"\xed\xa0\x80"}',
     400, UTF8 + ("namespace",)),
    ("above_unicode_range_utf8_bytes",
     b'{"address":"https://x.example.com","provider":"harbor","namespace":"\xf4\x90\x80\x80"}', 400,
     UTF8 + ("namespace",)),
    ("overlong_utf8_in_secret_key",
     b'{"address":"https://x.example.com","provider":"harbor","namespace":"n","secret_key":"\xc0\xaf"}', 400,
     UTF8 + ("secret_key",)),
    ("overlong_utf8_in_unknown_field",
     b'{"address":"https://x.example.com","provider":"harbor","namespace":"n","note":"\xc0\xaf"}', 400, UTF8),
    ("invalid_utf8_in_unknown_field",
     b'{"address":"https://x.example.com","provider":"harbor","namespace":"n","note":"\xfe"}', 400, UTF8),
    ("body_array", b'[{"address":"https://x.example.com","provider":"harbor","namespace":"n"}]', 400, OBJECT),
    ("body_string", b'"https://x.example.com"', 400, OBJECT),
    ("body_number", b"42", 400, OBJECT),
    ("body_null", b"null", 400, OBJECT),
]


def _post_case(payload, status, mentions):
    def test():
        reset()
        create(namespace="existing")
        _send("POST", COLLECTION, payload, status, mentions)
    return test


def _put_case(payload, status, mentions):
    def test():
        reset()
        registry_id = create(namespace="existing")
        _send("PUT", item_path(registry_id), payload, status, mentions)
    return test


def _send(method, path, payload, status, mentions):
    headers = {"Content-Type": "application/json"}
    if isinstance(payload, bytes):
        expect_error(method, path, status, mentions, raw=payload, headers=headers)
    else:
        expect_error(method, path, status, mentions, body=payload, headers=headers)


def _register(prefix, factory, verb):
    for name, payload, status, mentions in CASES:
        test = factory(payload, status, mentions)
        test.__name__ = f"test_{prefix}_{name}"
        test.__doc__ = f"{verb} with {name.replace('_', ' ')} is {status} mentioning {mentions!r}, table unchanged."
        globals()[test.__name__] = test


_register("post", _post_case, "POST")
_register("put", _put_case, "PUT")


def test_deeply_nested_unknown_field_is_handled():
    """A 10000-deep nested array in an unknown field gets 200 or 400 in Zadig shape, never a crash or 5xx."""
    reset()
    raw = (b'{"address":"https://x.example.com","provider":"harbor","namespace":"n","deep":'
           + b"[" * 10000 + b"]" * 10000 + b"}")
    resp = request("POST", COLLECTION, raw=raw, headers={"Content-Type": "application/json"})
    if resp.status == 200:
        assert_created(resp)
    else:
        assert_error(resp, 400)
    create(namespace="still-alive")
