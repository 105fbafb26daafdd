"""Hostile requests through nginx over raw sockets: one test per row of the table that rows() returns.

A row is (name, request, expect, kind):
- request: the bytes to send, a list of bytes and rawhttp.Pause items (slow or stalled bodies), or a function of the
  baseline (dict with the ids "a", the default, and "b") returning either, so rows can aim at existing registries;
- expect: the status, or the set of statuses, that is acceptable;
- kind: REFUSE (malformed: a 4xx in Zadig's error JSON with code == HTTP status, Cache-Control: no-store, nothing
  changes), CONTROL (valid after all: 200, the registry it creates is readable, then deleted), STORED (SQL
  metacharacters: refused with a Zadig 400, or 200 with the value stored and returned byte for byte, then deleted),
  STALL (a body that never completes: a Zadig 400/408, or the connection closed by nginx without an answer, within
  STALL_TIMEOUT seconds; nginx 1.22 never sends 408 for client_body_timeout, it closes the connection).

After every row a normal GET of the collection must answer 200 (the responder keeps serving) and the registry table
must be exactly as before the row (controls delete what they created first). The first test builds the baseline, the
last compares the whole table with the dump taken before the first row.

Stalled bodies are bounded: the socket gives up after STALL_TIMEOUT seconds; nginx must have given up first (its
default client_body_timeout is 60 s, so the nginx snippet has to set a shorter one). The STALL rows are sent together
when the first of them runs (each waits out client_body_timeout; together they wait once), and each row then judges
its own answer as usual.
"""

import json
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

import lib
from lib import COLLECTION, ERROR_KEYS, REASONS, SECRET_MARK, TEST_CERT, db_dump, db_row, item_path, short
from rawhttp import Pause, build, describe, exchange

REFUSE, CONTROL, STORED, STALL = "refuse", "control", "stored", "stall"
TIMEOUT = 15.0          # any single exchange
STALL_TIMEOUT = 15.0    # a body that never completes: nginx must answer or close before this
SQL_VALUES = [("drop_table", "'; DROP TABLE registry; --"), ("backslash", "\\"), ("percent", "%"),
              ("dollar_param", "$1")]
VALID = {"address": "https://hostile.example.com", "provider": "harbor", "namespace": "hostile"}
MIB = 1024 * 1024

_state = {"baseline": None, "snapshot": None}
_stalls = {}    # STALL row name -> Future of its exchange, all sent when the first STALL row runs


# ---------------------------------------------------------------------------------------------------------------
# Request builders
# ---------------------------------------------------------------------------------------------------------------

def js(obj):
    """Compact JSON bytes (ensure_ascii keeps escapes such as \\u0000 escaped)."""
    return json.dumps(obj, separators=(",", ":")).encode()


def valid(**fields):
    """The valid body with fields overridden (bytes)."""
    return js({**VALID, **fields})


def with_raw_field(raw_member, base=None):
    """The valid body with one more member spliced in as raw bytes, e.g. b'"zz":1e999'."""
    text = base if base is not None else js(VALID)
    return text[:-1] + b"," + raw_member + b"}"


def post(body, **kw):
    return build("POST", COLLECTION, body, **kw)


def put_b(body, **kw):
    """A PUT of registry "b" of the baseline."""
    return lambda ids: build("PUT", item_path(ids["b"]), body, **kw)


def padded(size, field, value_byte=b"x"):
    """A body of exactly `size` bytes whose `field` holds one long string."""
    empty = with_raw_field(b'"' + field.encode() + b'":""')
    # When field is a known one, drop it from the base body first so the key is not duplicated.
    if field in VALID:
        rest = {k: v for k, v in VALID.items() if k != field}
        empty = with_raw_field(b'"' + field.encode() + b'":""', js(rest))
    fill = size - len(empty)
    raw = empty[:-2] + value_byte * fill + b'"}'
    assert len(raw) == size, f"padding arithmetic: {len(raw)} != {size}"
    return raw


def slow(body, step=0.05):
    """The head at once, then the body one byte every `step` seconds."""
    req = post(body)
    head = req[:len(req) - len(body)]
    pieces = [head]
    for i in range(len(body)):
        pieces += [Pause(step), body[i:i + 1]]
    return pieces


def stalled(declared, sent):
    """A POST that announces `declared` bytes, sends `sent` of them and then nothing."""
    body = valid()
    req = post(body, content_length=declared)
    head = req[:len(req) - len(body)]
    return [head, body[:sent]]


# ---------------------------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------------------------

BAD_JSON = [
    ("json_truncated_object", post(valid()[:-1])),
    ("json_truncated_in_string", post(b'{"address":"https://trunc')),
    ("json_truncated_after_colon", post(b'{"address":')),
    ("json_truncated_in_escape", post(b'{"address":"https://x.example.com","provider":"harbor","namespace":"\\u00')),
    ("json_trailing_comma", post(valid()[:-1] + b",}")),
    ("json_single_quotes", post(b"{'address':'https://x.example.com','provider':'harbor','namespace':'n'}")),
    ("json_unquoted_key", post(b'{address:"https://x.example.com","provider":"harbor","namespace":"n"}')),
    ("json_comment", post(b'{/* c */"address":"https://x.example.com","provider":"harbor","namespace":"n"}')),
    ("json_two_objects", post(valid() + valid())),
    ("json_trailing_garbage", post(valid() + b" x")),
    ("json_top_level_array", post(b"[" + valid() + b"]")),
    ("json_top_level_string", post(b'"https://x.example.com"')),
    ("json_top_level_null", post(b"null")),
    ("json_top_level_number", post(b"42")),
    ("json_empty_body", post(b"")),
    ("json_whitespace_body", post(b" \r\n\t ")),
    ("json_utf8_bom", post(b"\xef\xbb\xbf" + valid())),
    ("json_utf16", post(json.dumps(VALID).encode("utf-16"))),
    ("json_leading_zero_number", post(with_raw_field(b'"zz":01'))),
    ("json_hex_number", post(with_raw_field(b'"zz":0x10'))),
]

NESTING = [
    ("nesting_10000_arrays_in_unknown_field", post(with_raw_field(b'"zz":' + b"[" * 10000 + b"]" * 10000))),
    ("nesting_10000_objects", post(b'{"a":' * 10000 + b"1" + b"}" * 10000)),
    ("nesting_10000_unclosed", post(b"[" * 10000)),
    ("nesting_17_levels_in_unknown_field", post(with_raw_field(b'"zz":' + b"[" * 17 + b"]" * 17))),
    ("nesting_object_as_address", post(valid(address={"a": {"b": {"c": []}}}))),
]

HUGE = b"1" + b"0" * 99   # a 100-digit integer
NUMBERS = [
    ("number_1e999_is_default", post(with_raw_field(b'"is_default":1e999'))),
    ("number_1e999_address", post(with_raw_field(b'"address":1e999', js({"provider": "harbor", "namespace": "n"})))),
    ("number_minus_1e999_enable_tls", post(with_raw_field(b'"enable_tls":-1e999'))),
    ("number_100_digits_namespace", post(with_raw_field(b'"namespace":' + HUGE, js({"address": VALID["address"],
                                                                                    "provider": "harbor"})))),
    ("number_100_digits_is_default", post(with_raw_field(b'"is_default":' + HUGE))),
    ("number_minus_100_digits_region", post(js({"address": VALID["address"], "provider": "ecr"})[:-1]
                                            + b',"region":-' + HUGE + b"}")),
    ("nan_is_default", post(with_raw_field(b'"is_default":NaN'))),
    ("nan_unknown_field", post(with_raw_field(b'"zz":NaN'))),
    ("infinity_namespace", post(js({"address": VALID["address"], "provider": "harbor"})[:-1]
                                + b',"namespace":Infinity}')),
    ("infinity_unknown_field", post(with_raw_field(b'"zz":Infinity'))),
    ("minus_infinity_enable_tls", post(with_raw_field(b'"enable_tls":-Infinity'))),
    ("minus_infinity_unknown_field", post(with_raw_field(b'"zz":-Infinity'))),
]

# Valid JSON whose numbers no parser can hold exactly, in fields the README says are ignored: refusing is as fine
# as ignoring, but a 5xx or a crash is not. A 200 is treated as a control (read back, deleted).
HUGE_IGNORED = [
    ("number_1e999_unknown_field", post(with_raw_field(b'"zz":1e999'))),
    ("number_100_digits_unknown_field", post(with_raw_field(b'"zz":' + HUGE))),
    ("number_minus_100_digits_fraction_unknown_field", post(with_raw_field(b'"zz":-' + HUGE + b"." + HUGE + b"e-999"))),
]

SIZES = [
    ("string_1mib_namespace_just_under_limit", post(padded(MIB - 1, "namespace"))),
    ("string_1mib_address_just_under_limit", post(padded(MIB - 1, "address", b"a"))),
    ("string_1mib_secret_key_just_under_limit", post(padded(MIB - 1, "secret_key"))),
    ("string_1mib_unknown_field_just_over_limit", post(padded(MIB + 1, "zz"))),
    ("string_1mib_namespace_over_limit_put", put_b(padded(MIB + 1, "namespace"))),
    ("string_1mib_over_limit_chunked", post(None, chunked=[padded(MIB + 100, "zz")[i:i + 65536]
                                                           for i in range(0, MIB + 100, 65536)])),
    ("content_length_2mib_without_body", post(None, content_length=2 * MIB)),
]

ENCODING = [
    ("invalid_utf8_namespace", post(with_raw_field(b'"namespace":"n\xff"', js({"address": VALID["address"],
                                                                                 "provider": "harbor"})))),
    ("invalid_utf8_overlong_slash_in_address", post(b'{"address":"https://x.example.com/\xc0\xaf","provider":"harbor",'
                                                    b'"namespace":"n"}')),
    ("invalid_utf8_surrogate_bytes_in_region", post(b'{"address":"https://x.example.com","provider":"ecr",'
                                                    b'"region":"\xed\xa0\x80"}')),
    ("invalid_utf8_truncated_sequence_in_unknown_field", post(with_raw_field(b'"zz":"\xe2\x82"'))),
    ("invalid_utf8_in_key", post(with_raw_field(b'"\xfe\xff":1'))),
    ("invalid_utf8_latin1_body", post('{"address":"https://x.example.com","provider":"harbor","namespace":"caf\u00e9"}'
                                      .encode("latin-1"))),
    # "\ud800" is a lone surrogate: no UTF-8 string holds it, so it cannot be stored verbatim.
    ("lone_surrogate_escape_namespace", post(b'{"address":"https://x.example.com","provider":"harbor",'
                                             b'"namespace":"\\ud800"}')),
    ("lone_low_surrogate_escape_address", post(b'{"address":"https://x.example.com/\\udc00","provider":"harbor",'
                                               b'"namespace":"n"}')),
    ("nul_escape_namespace", post(valid(namespace="a\u0000b"))),
    ("nul_escape_address", post(valid(address="https://x.example.com\u0000.evil.example"))),
    ("nul_escape_provider", post(valid(provider="harbor\u0000"))),
    ("nul_escape_secret_key", post(valid(secret_key=f"{SECRET_MARK}\u0000x"))),
    ("nul_escape_unknown_field", post(with_raw_field(b'"zz":"a\\u0000b"'))),
    # json-c cuts keys at U+0000: "address\u0000x" would become a second "address" behind the duplicate check.
    ("nul_escape_in_key_shadowing_address", post(with_raw_field(b'"address\\u0000x":"https://evil.example.com"'))),
    ("nul_escape_in_key_alone", post(b'{"address\\u0000":"https://evil.example.com","provider":"harbor",'
                                     b'"namespace":"n"}')),
    ("raw_nul_byte_in_string", post(b'{"address":"https://x.example.com","provider":"harbor","namespace":"n\x00"}')),
    ("raw_control_character_in_string", post(b'{"address":"https://x.example.com","provider":"harbor",'
                                             b'"namespace":"a\x01b"}')),
]

DUPLICATES = [
    ("duplicate_address", post(with_raw_field(b'"address":"https://evil.example.com"'))),
    ("duplicate_address_escaped_key", post(with_raw_field(b'"addr\\u0065ss":"https://evil.example.com"'))),
    ("duplicate_is_default", post(with_raw_field(b'"is_default":true,"is_default":false'))),
    ("duplicate_provider_put", put_b(with_raw_field(b'"provider":"nexus"'))),
    ("duplicate_unknown_field", post(with_raw_field(b'"zz":1,"zz":2'))),
]

WRONG_TYPES = [
    ("address", 5), ("address", ["https://x.example.com"]),
    ("provider", True), ("provider", {"name": "harbor"}),
    ("namespace", 1), ("namespace", []),
    ("region", False), ("region", ["cn-north-1"]),
    ("is_default", "true"), ("is_default", 1),
    ("access_key", 12345), ("access_key", {}),
    ("secret_key", [f"{SECRET_MARK}-in-array"]), ("secret_key", 1.5),
    ("enable_tls", "false"), ("enable_tls", 0),
    ("tls_cert", True), ("tls_cert", [TEST_CERT]),
]
PUT_WRONG_TYPES = [("registry_id", 123), ("registry_id", ["ID"]), ("registry_id", {"$oid": "ID"}), ("registry_id", True)]


def _type_name(value):
    return {bool: "bool", int: "int", float: "float", str: "string", list: "array", dict: "object"}[type(value)]


def _wrong_type_rows():
    rows = []
    for field, value in WRONG_TYPES:
        extra = {"provider": "ecr", "region": value} if field == "region" else {field: value}
        rows.append((f"wrong_type_{field}_{_type_name(value)}", post(valid(**extra)), 400, REFUSE))
    for field, value in PUT_WRONG_TYPES:
        def request(ids, value=value):
            fixed = json.loads(json.dumps(value).replace('"ID"', json.dumps(ids["b"])))
            return build("PUT", item_path(ids["b"]), valid(registry_id=fixed))
        rows.append((f"wrong_type_put_{field}_{_type_name(value)}", request, 400, REFUSE))
    return rows


def _sql_rows():
    """SQL metacharacters in every string field: refused by validation, or stored and returned exactly."""
    rows = []
    for tag, value in SQL_VALUES:
        rows.append((f"sql_{tag}_in_provider", post(valid(provider=value)), 400, REFUSE))
        rows.append((f"sql_{tag}_in_address_path", post(valid(address=f"https://sql.example.com/{value}")),
                     {200, 400}, (STORED, "address", f"https://sql.example.com/{value}")))
        rows.append((f"sql_{tag}_in_address_host", post(valid(address=f"https://{value}")),
                     {200, 400}, (STORED, "address", f"https://{value}")))
        rows.append((f"sql_{tag}_in_namespace", post(valid(namespace=value)), 200, (STORED, "namespace", value)))
        rows.append((f"sql_{tag}_in_namespace_with_text", post(valid(namespace=f"team{value}x")), 200,
                     (STORED, "namespace", f"team{value}x")))
        rows.append((f"sql_{tag}_in_region", post(valid(provider="ecr", namespace=None, region=value)), 200,
                     (STORED, "region", value)))
        rows.append((f"sql_{tag}_in_credentials",
                     post(valid(access_key=f"{SECRET_MARK}{value}", secret_key=f"{value}{SECRET_MARK}")), 200,
                     (STORED, "credentials", (f"{SECRET_MARK}{value}", f"{value}{SECRET_MARK}"))))
        rows.append((f"sql_{tag}_in_tls_cert", post(valid(enable_tls=True, tls_cert=value)), 400, REFUSE))
        rows.append((f"sql_{tag}_in_put_registry_id",
                     lambda ids, value=value: build("PUT", item_path(ids["b"]), valid(registry_id=value)),
                     400, REFUSE))
    return rows


PATHS = [
    ("id_non_hex", lambda ids: build("GET", item_path("zzzzzzzzzzzzzzzzzzzzzzzz")), 400),
    ("id_uppercase_of_existing", lambda ids: build("GET", item_path(ids["a"].upper())), 400),
    ("id_short_prefix_of_existing", lambda ids: build("GET", item_path(ids["a"][:12])), 400),
    ("id_over_long_existing_plus_one", lambda ids: build("DELETE", item_path(ids["a"] + "0")), 400),
    ("id_1000_chars_put", lambda ids: build("PUT", item_path("a" * 1000), valid()), 400),
    ("id_sql_quote", lambda ids: build("DELETE", item_path("0123456789abcdef01234'--")), 400),
    ("id_sql_or_encoded", lambda ids: build("GET", item_path("'%20OR%20'1'%3D'1")), 400),
    ("id_encoded_nul", lambda ids: build("GET", item_path(ids["a"] + "%00")), 400),
    ("id_with_trailing_slash", lambda ids: build("GET", item_path(ids["a"]) + "/"), {400, 404}),
    ("id_extra_segment", lambda ids: build("DELETE", item_path(ids["a"]) + "/x"), {400, 404}),
    ("collection_trailing_slash_post", lambda ids: build("POST", COLLECTION + "/", valid()), {400, 404, 405}),
    # %2F is not a path separator (RFC 3986: reserved characters are not equivalent to their encoding).
    ("encoded_slash_before_existing_id", lambda ids: build("GET", COLLECTION + "%2F" + ids["a"]), {400, 404}),
    ("encoded_slash_lowercase_in_mount", lambda ids: build("GET", "/openapi/system%2fregistry"), {400, 404}),
    ("encoded_slash_put_existing_id",
     lambda ids: build("PUT", COLLECTION + "%2f" + ids["b"], valid(namespace="via-encoded-slash")), {400, 404}),
    ("encoded_slash_inside_id", lambda ids: build("GET", item_path("0123456789ab%2F0123456789a")), {400, 404}),
    # Dot segments: legitimate clients remove them before sending; here they must not reach a resource.
    ("dot_segments_back_to_collection", lambda ids: build("GET", COLLECTION + "/../registry"), {400, 404}),
    ("encoded_dot_segments_back_to_collection", lambda ids: build("GET", COLLECTION + "/%2e%2e/registry"), {400, 404}),
    ("dot_segment_after_id_delete", lambda ids: build("DELETE", item_path(ids["a"]) + "/.."), {400, 404, 405}),
    ("dot_segments_above_root", lambda ids: build("GET", COLLECTION + "/../../../../etc/passwd"), {400, 404}),
    ("encoded_traversal_out_of_mount", lambda ids: build("GET", COLLECTION + "/..%2f..%2f..%2fetc%2fpasswd"),
     {400, 404}),
]

METHODS = [
    ("method_patch_collection", lambda ids: build("PATCH", COLLECTION, valid()), 405),
    ("method_patch_item", lambda ids: build("PATCH", item_path(ids["b"]), valid(namespace="patched")), 405),
    ("method_foo_collection", lambda ids: build("FOO", COLLECTION, valid()), {400, 405}),
    ("method_100_chars_item", lambda ids: build("X" * 100, item_path(ids["a"])), {400, 405}),
    ("method_trace_collection", lambda ids: build("TRACE", COLLECTION), 405),
    ("method_options_collection", lambda ids: build("OPTIONS", COLLECTION), 405),
    ("method_delete_collection", lambda ids: build("DELETE", COLLECTION), 405),
    ("method_post_item", lambda ids: build("POST", item_path(ids["a"]), valid()), 405),
    ("method_connect", lambda ids: build("CONNECT", COLLECTION), {400, 405}),
    ("method_lowercase_get", lambda ids: build("get", COLLECTION), {400, 405}),
]

FRAMING = [
    ("post_without_content_length", post(valid(), content_length=None), {400, 411}),
    ("put_without_content_length", put_b(valid(namespace="no-length"), content_length=None), {400, 411}),
    ("content_length_smaller_than_body", post(valid(), content_length=20), 400),
    ("content_length_zero_with_body", post(valid(), content_length=0), 400),
    ("content_length_not_a_number", post(valid(), content_length="abc"), 400),
    ("content_length_negative", post(valid(), content_length=-1), 400),
    ("content_length_plus_sign", post(valid(), content_length=f"+{len(valid())}"), 400),
    ("content_length_overflowing", post(valid(), content_length="9" * 30), {400, 413}),
    ("content_length_twice_conflicting", post(valid(), headers=[("Content-Length", "3")]), 400),
    ("content_length_and_chunked", post(None, chunked=[valid()], headers=[("Content-Length", "5")]), 400),
    ("chunked_invalid_json", post(None, chunked=[b'{"address":', b'"https://x.example.com"']), 400),
    ("chunked_bad_size_not_hex", post(None, chunked=b"zz\r\n" + valid() + b"\r\n0\r\n\r\n"), 400),
    ("chunked_size_overflowing", post(None, chunked=b"f" * 20 + b"\r\n{}\r\n0\r\n\r\n"), {400, 413}),
    ("chunked_size_negative", post(None, chunked=b"-5\r\n{}\r\n0\r\n\r\n"), 400),
    ("chunked_missing_crlf_after_data", post(None, chunked=b"2\r\n{}XX0\r\n\r\n"), 400),
    ("transfer_encoding_unknown", post(valid(), content_length=None, headers=[("Transfer-Encoding", "gzip")]),
     {400, 501}),
]

STALLS = [
    # Content-Length larger than the body that is sent: nginx waits for the rest; it must give up in time.
    ("content_length_larger_than_body", stalled(len(valid()) + 50, len(valid())), {400, 408}),
    ("body_stalls_forever_after_half", stalled(len(valid()), len(valid()) // 2), {400, 408}),
    ("chunked_body_stalls_without_last_chunk",
     post(None, chunked=b"%x\r\n%s\r\n" % (len(valid()), valid())), {400, 408}),
    ("chunked_size_larger_than_data", post(None, chunked=b"100\r\n" + valid() + b"\r\n0\r\n\r\n"), {400, 408}),
]

CONTROLS = [
    ("control_chunked_valid_json", post(None, chunked=[valid(namespace="chunked")[:17], valid(namespace="chunked")[17:]])),
    ("control_chunked_one_byte_chunks", post(None, chunked=[bytes([c]) for c in valid(namespace="bytewise")])),
    ("control_slow_body_one_byte_every_50ms", slow(js({"address": "http://s.io", "provider": "acr", "namespace": "s"}))),
    ("control_valid_json_with_unknown_nested_fields", post(with_raw_field(b'"zz":{"a":[1,2.5e10,null,true,"\\u00e9"]}'))),
]


def rows():
    """Every row as (name, request, expect, kind)."""
    out = []
    for group in (BAD_JSON, NESTING, NUMBERS, SIZES, ENCODING, DUPLICATES):
        out += [(name, req, 413 if "over_limit" in name or "2mib" in name else 400, REFUSE) for name, req in group]
    out += [(name, req, {200, 400}, CONTROL) for name, req in HUGE_IGNORED]
    out += _wrong_type_rows()
    out += _sql_rows()
    out += [(name, req, expect, REFUSE) for name, req, expect in PATHS + METHODS + FRAMING]
    out += [(name, req, expect, STALL) for name, req, expect in STALLS]
    out += [(name, req, 200, CONTROL) for name, req in CONTROLS]
    return out


# ---------------------------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------------------------

def table():
    """(canonical dump, set of ids) of the registry table from one psql call (the dump is lib.db_dump's text)."""
    rows = lib.db_rows()
    return "\n".join(sorted(json.dumps(r, sort_keys=True) for r in rows)), {lib.row_id(r) for r in rows}


def baseline():
    """(ids, dump): two registries to aim at ("a" is the default), rebuilt if a misbehaving row removed one of
    them, and the table as it is now. psql is slow on a loaded machine, so the dump a row ends with is reused as
    the next row's starting point (rows run one after another and nothing else writes meanwhile)."""
    ids, dump = _state["baseline"], _state.pop("last_dump", None)
    if dump is None or ids is None:
        dump, present = table()
        if ids is None or not {ids["a"], ids["b"]} <= present:
            lib.reset()
            ids = {"a": lib.create(namespace="hostile-a", is_default=True), "b": lib.create(namespace="hostile-b")}
            dump = db_dump()
            _state["baseline"], _state["snapshot"] = ids, dump
    return ids, dump


def reason(status):
    return REASONS.get(status) or HTTPStatus(status).phrase


def request_line(pieces):
    """The request line and body size of a request, for messages."""
    data = b"".join(p for p in pieces if isinstance(p, bytes))
    head, _, rest = data.partition(b"\r\n\r\n")
    return f"{head.split(b' HTTP/')[0].decode('latin-1')[:160]!s} (+{len(rest)} body bytes)"


def check_zadig_error(resp, what):
    """resp is Zadig's error JSON with code == HTTP status, in JSON with the no-store header."""
    ctype = resp.headers.get("content-type", "")
    assert ctype.replace(" ", "").lower() == lib.JSON_CONTENT_TYPE.replace(" ", ""), \
        f"{what}: {resp.status} is not JSON (Content-Type {ctype!r}): {describe(resp, 160)}"
    got = resp.json
    assert isinstance(got, dict) and set(got) == ERROR_KEYS, f"{what}: not Zadig's error shape: {describe(resp)}"
    assert got["type"] == "error" and type(got["code"]) is int and got["code"] == resp.status, \
        f"{what}: code {got.get('code')!r} != HTTP status {resp.status}: {describe(resp)}"
    assert got["message"] == reason(resp.status), f"{what}: message {got['message']!r} != {reason(resp.status)!r}"
    assert isinstance(got["description"], str) and got["description"].strip(), f"{what}: empty description"
    assert got["extra"] == {}, f"{what}: extra is {got['extra']!r}"
    assert "no-store" in resp.headers.get("cache-control", ""), f"{what}: no Cache-Control: no-store"
    if resp.status == 405:
        assert resp.headers.get("allow"), f"{what}: 405 without an Allow header"


def created_id(resp, what):
    assert isinstance(resp.json, dict) and resp.json.get("message") == "success" \
        and isinstance(resp.json.get("registry_id"), str) and lib.ID_RE.match(resp.json["registry_id"]), \
        f"{what}: 200 without a registry id: {describe(resp)}"
    return resp.json["registry_id"]


def check_stored(registry_id, field, value, what):
    """The value sent is what PostgreSQL holds and what GET returns (credentials: what the CLI unseals)."""
    if field == "credentials":
        keys = lib.stored_credentials(registry_id)[:2]
        assert keys == value, f"{what}: credentials stored as {keys!r}, sent {value!r}"
        assert lib.get_registry(registry_id)["has_credentials"] is True, f"{what}: has_credentials is not true"
        return
    shown = lib.get_registry(registry_id)[field]
    assert shown == value, f"{what}: GET returns {field}={shown!r}, sent {value!r}"
    stored = db_row(registry_id)[field]
    assert stored == value, f"{what}: table holds {field}={stored!r}, sent {value!r}"


def remove(registry_id, what):
    resp = lib.request("DELETE", item_path(registry_id))
    assert resp.status == 200, f"{what}: cleanup DELETE {registry_id} answered {resp.status}: {short(resp.raw)}"


def pieces_of(request, ids):
    """A row's request as the list of pieces exchange() sends."""
    pieces = request(ids) if callable(request) else request
    return [pieces] if isinstance(pieces, bytes) else pieces


def stall_answer(name, ids):
    """The answer to STALL row `name`; the first call sends every STALL row at once, each on its own socket.
    A stalled request is refused or dropped by nginx, so the others in flight change nothing a row checks."""
    if not _stalls:
        stall_rows = [(n, req) for n, req, _, kind in rows() if kind == STALL]
        pool = ThreadPoolExecutor(max_workers=len(stall_rows))
        for n, req in stall_rows:
            _stalls[n] = pool.submit(exchange, pieces_of(req, ids), timeout=STALL_TIMEOUT)
        pool.shutdown(wait=False)
    return _stalls[name].result()


def run_row(name, request, expect, kind):
    ids, before = baseline()
    pieces = pieces_of(request, ids)
    what = f"{name}: {request_line(pieces)}"
    expected = {expect} if isinstance(expect, int) else set(expect)
    resp = stall_answer(name, ids) if kind == STALL else exchange(pieces, timeout=TIMEOUT)
    lib.check_no_secret(resp.body, resp.headers, what)
    created = None
    try:
        if kind == STALL and resp.status is None and resp.raw == b"" and "timed out" not in (resp.error or ""):
            pass    # nginx closed the connection after client_body_timeout: all it can do (it never sends 408)
        else:
            assert resp.status is not None, f"{what}: {describe(resp)}"
            assert resp.status in expected, f"{what}: got {describe(resp)}; expected {sorted(expected)}"
            if resp.status == 200:
                if isinstance(kind, tuple) or kind == CONTROL:
                    created = created_id(resp, what)
                if isinstance(kind, tuple):
                    check_stored(created, kind[1], kind[2], what)
                elif created:
                    lib.get_registry(created)
            else:
                check_zadig_error(resp, what)
    finally:
        if created:
            remove(created, what)
        # The responder keeps serving, whatever the row did.
        after_get = lib.request("GET", COLLECTION)
        assert after_get.status == 200, f"{what}: the next GET answered {after_get.status}: {short(after_get.raw)}"
    after = db_dump()
    assert after == before, f"{what}: the registry table changed (answer was {describe(resp, 160)})"
    _state["last_dump"] = after


def test_000_baseline():
    """The two registries the rows aim at exist, and the table is snapshotted before any row runs."""
    _state["baseline"] = None
    ids, _ = baseline()
    lib.assert_one_default(ids["a"])


def _make(name, request, expect, kind):
    def test():
        run_row(name, request, expect, kind)
    test.__name__ = f"test_{name}"
    test.__doc__ = f"{name}: expects {expect} ({kind if isinstance(kind, str) else kind[0]})."
    return test


def _register():
    seen = set()
    for name, request, expect, kind in rows():
        assert name not in seen, f"duplicate row name {name}"
        seen.add(name)
        test = _make(name, request, expect, kind)
        globals()[test.__name__] = test


_register()


def test_zz_table_unchanged_after_all_rows():
    """After the whole table ran, the registry table is exactly the baseline (controls deleted what they made)."""
    assert _state["snapshot"] is not None, "the baseline was never built"
    ids = _state["baseline"]
    _state.pop("last_dump", None)
    now = db_dump()
    if now != _state["snapshot"]:
        then = {lib.row_id(json.loads(r)): r for r in _state["snapshot"].split("\n") if r}
        rows_now = {lib.row_id(r): json.dumps(r, sort_keys=True) for r in lib.db_rows()}
        added = sorted(set(rows_now) - set(then))
        gone = sorted(set(then) - set(rows_now))
        changed = sorted(i for i in set(then) & set(rows_now) if then[i] != rows_now[i])
        detail = "; ".join(f"{i}: {short(rows_now[i], 200)}" for i in added + changed)
        raise AssertionError(f"the registry table differs from the snapshot taken before the rows: "
                             f"added {added}, removed {gone}, changed {changed}: {detail}")
    lib.assert_one_default(ids["a"])
