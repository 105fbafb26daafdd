"""cgi/openapi.json: a valid OpenAPI 3.0 document that matches the route table, the field table and the running service.

Static checks: the document parses, every operation has an operationId, a summary and responses, every $ref resolves,
every error response is the Error schema with an example, every example matches its schema, the (method, path) pairs
equal cgi/routes.c's table both ways, the route flags show up as documented statuses, and the input limits and
providers equal cgi/validate.c's. Live checks: every `x-imagereg-example` request gets its documented status and a
body matching the documented schema, and every POST/PUT request-body example is accepted.
"""

import json
import os
import re

from lib import REASONS, assert_json_content_type, create, request, reset, short

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC_PATH = os.path.join(ROOT, "cgi", "openapi.json")
ROUTES_C = os.path.join(ROOT, "cgi", "routes.c")
VALIDATE_C = os.path.join(ROOT, "cgi", "validate.c")
VALIDATE_H = os.path.join(ROOT, "cgi", "validate.h")
# The nginx configuration the test stack runs (tests/lib/stack.sh): which paths reach the app at the root URL.
NGINX_CONFS = [os.path.join(ROOT, "nginx", "imagereg-location.conf"), os.path.join(ROOT, "nginx", "nginx.conf.in")]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
TOKENS = ("write", "read", "none")
CREATED = "{created}"


def _load():
    try:
        with open(DOC_PATH, encoding="utf-8") as f:
            return json.load(f), None
    except (OSError, ValueError) as exc:
        return None, exc


DOC, LOAD_ERROR = _load()


def doc():
    """The parsed document; fails the test when it does not parse."""
    assert DOC is not None, f"{DOC_PATH} is not valid JSON: {LOAD_ERROR}"
    return DOC


def operations(document=None):
    """(method upper-case, path, operation, path item) for every operation of the document."""
    out = []
    for path, item in ((document or doc()).get("paths") or {}).items():
        for method in HTTP_METHODS:
            if method in item:
                out.append((method.upper(), path, item[method], item))
    return out


def resolve(node, document=None, seen=()):
    """node with any top-level $ref followed (recursively); fails on a dangling or circular one."""
    while isinstance(node, dict) and "$ref" in node:
        target = node["$ref"]
        assert target not in seen, f"circular $ref {target}"
        seen = seen + (target,)
        node = pointer(target, document or doc())
    return node


def pointer(target, document):
    """The value a local JSON reference ("#/a/b") names; fails when it names nothing."""
    assert isinstance(target, str) and target.startswith("#/"), f"$ref {target!r} is not a local reference"
    node = document
    for raw in target[2:].split("/"):
        key = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            raise AssertionError(f"$ref {target} does not resolve (no {key!r})")
    return node


def all_refs(node, where="#"):
    """(where, target) of every $ref anywhere in node."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield where, value
            else:
                yield from all_refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from all_refs(value, f"{where}/{i}")


# ---------------------------------------------------------------------------------------------------------------
# A small JSON Schema (OpenAPI 3.0 dialect) checker: enough for the schemas this document uses.
# ---------------------------------------------------------------------------------------------------------------

DATE_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _type_ok(kind, value):
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    raise AssertionError(f"schema type {kind!r} unknown to the checker")


def schema_errors(schema, value, where="$"):
    """Reasons why value does not match schema (empty when it matches)."""
    schema = resolve(schema)
    if value is None and schema.get("nullable"):
        return []
    for key in ("oneOf", "anyOf"):
        if key in schema:
            matching = [s for s in schema[key] if not schema_errors(s, value, where)]
            if (key == "oneOf" and len(matching) != 1) or not matching:
                return [f"{where}: matches {len(matching)} of the {key} schemas"]
    errors = []
    for sub in schema.get("allOf", []):
        errors += schema_errors(sub, value, where)
    if "type" in schema and not _type_ok(schema["type"], value):
        return errors + [f"{where}: {short(json.dumps(value), 60)} is not of type {schema['type']}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str):
        if len(value) > schema.get("maxLength", len(value)):
            errors.append(f"{where}: longer than {schema['maxLength']}")
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{where}: shorter than {schema['minLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{where}: {value!r} does not match {schema['pattern']}")
        if schema.get("format") == "date-time" and not DATE_TIME_RE.match(value):
            errors.append(f"{where}: {value!r} is not an RFC 3339 date-time")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{where}: required {name} missing")
        for name, sub in value.items():
            if name in props:
                errors += schema_errors(props[name], sub, f"{where}.{name}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{where}: unexpected {name}")
        if len(value) > schema.get("maxProperties", len(value)):
            errors.append(f"{where}: more than {schema['maxProperties']} properties")
    if isinstance(value, list) and "items" in schema:
        for i, sub in enumerate(value):
            errors += schema_errors(schema["items"], sub, f"{where}[{i}]")
    return errors


def media_examples(media):
    """(name, value) of the example(s) of a media type object."""
    out = [(name, resolve(ex).get("value")) for name, ex in (media.get("examples") or {}).items()]
    if "example" in media:
        out.append(("example", media["example"]))
    return out


def json_media(node, what):
    media = (node.get("content") or {}).get("application/json")
    assert media is not None, f"{what} has no application/json content"
    return media


# ---------------------------------------------------------------------------------------------------------------
# The C tables: routes.c's route table, validate.c's field table and providers, validate.h's limits.
# ---------------------------------------------------------------------------------------------------------------

def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _c_defines(text):
    """String and integer #defines: {NAME: value}."""
    out = {}
    for name, value in re.findall(r'^\s*#\s*define\s+(\w+)\s+(.+?)\s*$', text, re.M):
        value = re.sub(r"/\*.*?\*/", "", value).strip()
        if re.fullmatch(r'"(?:[^"\\]|\\.)*"', value):
            out[name] = value[1:-1]
        elif re.fullmatch(r"\d+", value):
            out[name] = int(value)
    return out


def _c_concat(expr, defines, what):
    """The string an expression of adjacent literals and string macros (REGISTRY "/:id") stands for."""
    out = ""
    for literal, name in re.findall(r'"((?:[^"\\]|\\.)*)"|([A-Za-z_]\w*)', expr):
        if name:
            assert isinstance(defines.get(name), str), f"{what}: macro {name} is not a string #define"
            out += defines[name]
        else:
            out += literal
    return out


def _table_body(text, name, what):
    """The text between the braces of `... name[] = { ... };`."""
    match = re.search(r"\b" + re.escape(name) + r"\s*\[\s*\]\s*=\s*\{(.*?)\n\s*\}\s*;", text, re.S)
    assert match, f"{what}: no {name}[] table found"
    return re.sub(r"/\*.*?\*/", "", match.group(1), flags=re.S)


def route_table():
    """[(METHOD, path with {id}, set of flags)] from cgi/routes.c."""
    text = _read(ROUTES_C)
    defines = _c_defines(text)
    rows = []
    for method, expr, flags in re.findall(r'\{\s*"([A-Z]+)"\s*,\s*([^,]+?)\s*,\s*\w+\s*,\s*([^,]+?)\s*,',
                                          _table_body(text, "routes", "routes.c")):
        path = re.sub(r":(\w+)", r"{\1}", _c_concat(expr, defines, "routes.c"))
        rows.append((method, path, {f.strip() for f in flags.split("|") if f.strip() not in ("", "0")}))
    assert rows, "routes.c: the route table has no rows the test can read"
    return rows


def field_table():
    """{field: (kind, max_len)} from validate.c's field_rules, with validate.h's limits resolved."""
    defines = {**_c_defines(_read(VALIDATE_H)), **_c_defines(_read(VALIDATE_C))}
    rows = {}
    body = _table_body(_read(VALIDATE_C), "field_rules", "validate.c")
    for name, kind, limit in re.findall(r'\{\s*"(\w+)"\s*,\s*(FIELD_\w+)\s*,\s*offsetof\([^)]*\)\s*,\s*(\w+)\s*,',
                                        body):
        rows[name] = (kind, int(limit) if limit.isdigit() else defines[limit])
    assert rows, "validate.c: the field table has no rows the test can read"
    return rows


def providers():
    body = _table_body(_read(VALIDATE_C), "providers", "validate.c")
    return re.findall(r'"(\w+)"', body)


# ---------------------------------------------------------------------------------------------------------------
# (a) The document itself
# ---------------------------------------------------------------------------------------------------------------

def test_document_is_json_openapi_3_0():
    d = doc()
    assert isinstance(d, dict), "the document is not a JSON object"
    assert re.fullmatch(r"3\.0\.\d+", str(d.get("openapi", ""))), f"openapi is {d.get('openapi')!r}, not 3.0.x"
    info = d.get("info") or {}
    assert info.get("title") and info.get("version"), "info needs title and version"
    assert isinstance(d.get("paths"), dict) and d["paths"], "no paths"


def test_every_operation_has_operation_id_summary_and_responses():
    seen = {}
    for method, path, op, _ in operations():
        what = f"{method} {path}"
        op_id = op.get("operationId")
        assert isinstance(op_id, str) and op_id, f"{what} has no operationId"
        assert op_id not in seen, f"operationId {op_id} used by {seen[op_id]} and {what}"
        seen[op_id] = what
        assert op.get("summary"), f"{what} has no summary"
        responses = op.get("responses")
        assert isinstance(responses, dict) and responses, f"{what} has no responses"
        assert "200" in responses, f"{what} documents no 200"
        for status in responses:
            assert re.fullmatch(r"[1-5]\d\d", status), f"{what}: response key {status!r} is not a status"


def test_every_ref_resolves():
    refs = list(all_refs(doc()))
    assert refs, "the document uses no $ref at all"
    for where, target in refs:
        try:
            resolve({"$ref": target})
        except AssertionError as exc:
            raise AssertionError(f"at {where}: {exc}") from None


def test_path_parameters_are_declared():
    for method, path, op, item in operations():
        declared = {p["name"] for p in map(resolve, item.get("parameters", []) + op.get("parameters", []))
                    if p.get("in") == "path"}
        for p in map(resolve, item.get("parameters", []) + op.get("parameters", [])):
            if p.get("in") == "path":
                assert p.get("required") is True, f"{method} {path}: path parameter {p['name']} is not required"
        used = set(re.findall(r"\{(\w+)\}", path))
        assert used == declared, f"{method} {path}: template has {sorted(used)}, parameters {sorted(declared)}"


def test_error_responses_are_the_error_schema_with_examples():
    """Every 4xx/5xx response is Zadig's Error with an example; a 503 may instead be the 200 shape (a status report)."""
    error = doc()["components"]["schemas"]["Error"]
    for method, path, op, _ in operations():
        for status, response in op["responses"].items():
            if int(status) < 400:
                continue
            what = f"{method} {path} {status}"
            response = resolve(response)
            assert response.get("description"), f"{what} has no description"
            media = json_media(response, what)
            schema = media.get("schema") or {}
            choices = [resolve(s) for s in schema.get("oneOf", [schema])]
            # A status report (GET /healthz) may answer its failure in its own 200 shape; all else is Error.
            own = resolve(json_media(resolve(op["responses"]["200"]), f"{method} {path} 200").get("schema", {}))
            assert any(s is error or (s is own and status == "503") for s in choices), \
                f"{what} references neither the Error schema nor (for 503) the 200 schema"
            examples = media_examples(media)
            assert examples, f"{what} has no example"
            for name, value in examples:
                if isinstance(value, dict) and value.get("type") == "error":
                    assert value.get("code") == int(status), f"{what} example {name}: code {value.get('code')}"
                    assert value.get("message") == REASONS[int(status)], f"{what} example {name}: message"


def test_every_example_matches_its_schema():
    checked = 0
    for method, path, op, _ in operations():
        bodies = [("request", op["requestBody"])] if "requestBody" in op else []
        for label, node in bodies + [(f"response {s}", r) for s, r in op["responses"].items()]:
            node = resolve(node)
            for media_type, media in (node.get("content") or {}).items():
                for name, value in media_examples(media):
                    errors = schema_errors(media.get("schema", {}), value)
                    assert not errors, f"{method} {path} {label} example {name}: {'; '.join(errors)}"
                    checked += 1
    for name, schema in doc()["components"]["schemas"].items():
        if "example" in schema:
            errors = schema_errors(schema, schema["example"])
            assert not errors, f"schema {name} example: {'; '.join(errors)}"
    assert checked, "no examples found"


def test_post_and_put_have_request_body_examples():
    """Every POST and PUT that takes a body (ROUTE_BODY) documents it with examples; one without a body (a check of a
    stored registry) has no requestBody, which test_route_flags_have_their_statuses_documented holds to the table."""
    bodiless = {(m, p) for m, p, flags in route_table() if "ROUTE_BODY" not in flags}
    for method, path, op, _ in operations():
        if method not in ("POST", "PUT") or (method, path) in bodiless:
            continue
        body = resolve(op.get("requestBody") or {})
        assert body.get("required") is True, f"{method} {path}: requestBody is not required"
        media = json_media(body, f"{method} {path} requestBody")
        assert media.get("examples"), f"{method} {path}: no requestBody examples"


def test_every_operation_has_x_imagereg_example():
    for method, path, op, item in operations():
        what = f"{method} {path}"
        examples = op.get("x-imagereg-example")
        assert isinstance(examples, list) and examples, f"{what} has no x-imagereg-example list"
        names = set()
        for ex in examples:
            assert isinstance(ex, dict) and ex.get("name"), f"{what}: an example without a name: {ex!r}"
            assert ex["name"] not in names, f"{what}: example name {ex['name']} repeated"
            names.add(ex["name"])
            req = ex.get("request") or {}
            assert req.get("token") in TOKENS, f"{what} {ex['name']}: token {req.get('token')!r} not in {TOKENS}"
            assert set(req) <= {"path_params", "body", "token", "query", "headers"}, \
                f"{what} {ex['name']}: unknown keys {sorted(req)}"
            documented = {p["name"].lower() for p in map(resolve, item.get("parameters", []) + op.get("parameters", []))
                          if p.get("in") == "header"}
            for name in req.get("headers") or {}:
                assert name.lower() in documented, f"{what} {ex['name']}: header {name} is not a documented parameter"
            params = req.get("path_params") or {}
            assert set(params) == set(re.findall(r"\{(\w+)\}", path)), \
                f"{what} {ex['name']}: path_params {sorted(params)} do not fill {path}"
            assert ("body" in req) == ("requestBody" in op), f"{what} {ex['name']}: body given or missing"
            assert str(ex.get("status")) in op["responses"], \
                f"{what} {ex['name']}: status {ex.get('status')} is not documented for the operation"


def test_security_bearer_global_and_public_routes_open():
    d = doc()
    scheme = resolve(d["components"]["securitySchemes"]["bearerAuth"])
    assert scheme.get("type") == "http" and scheme.get("scheme") == "bearer", f"bearerAuth is {scheme!r}"
    assert d.get("security") == [{"bearerAuth": []}], f"global security is {d.get('security')!r}"
    documented = {(m, p): op for m, p, op, _ in operations()}
    for method, path, flags in route_table():
        op = documented.get((method, path))
        if op is None:
            continue  # reported by the parity test
        if "ROUTE_PUBLIC" in flags:
            assert op.get("security") == [], f"{method} {path} needs no token but its security is not []"
            assert "401" not in op["responses"], f"{method} {path} needs no token but documents 401"
        else:
            assert op.get("security", d["security"]), f"{method} {path} needs a token but its security is empty"
            assert "401" in op["responses"], f"{method} {path} needs a token but does not document 401"


def test_write_secret_fields_are_write_only():
    props = doc()["components"]["schemas"]["RegistryInput"]["properties"]
    for name in ("access_key", "secret_key", "tls_cert"):
        assert props[name].get("writeOnly") is True, f"RegistryInput.{name} is not writeOnly"
    shown = doc()["components"]["schemas"]["Registry"]["properties"]
    for name in ("access_key", "secret_key", "tls_cert"):
        assert name not in shown, f"Registry (response) documents {name}"


# ---------------------------------------------------------------------------------------------------------------
# (b) Parity with the C tables
# ---------------------------------------------------------------------------------------------------------------

def test_routes_in_table_equal_routes_in_document():
    table = {(m, p) for m, p, _ in route_table()}
    documented = {(m, p) for m, p, _, _ in operations()}
    undocumented = sorted(table - documented)
    unrouted = sorted(documented - table)
    problems = []
    if undocumented:
        problems.append("in routes.c but not in openapi.json: " + ", ".join(f"{m} {p}" for m, p in undocumented))
    if unrouted:
        problems.append("in openapi.json but not in routes.c: " + ", ".join(f"{m} {p}" for m, p in unrouted))
    assert not problems, "; ".join(problems)


def test_route_flags_have_their_statuses_documented():
    documented = {(m, p): op for m, p, op, _ in operations()}
    # What each dispatcher precondition can answer (app.c), and what the document must therefore list.
    needs = {"ROUTE_ID": ("400", "404"), "ROUTE_WRITE": ("403",), "ROUTE_BODY": ("400", "413")}
    for method, path, flags in route_table():
        op = documented.get((method, path))
        if op is None:
            continue  # reported by the parity test
        for flag in flags:
            for status in needs.get(flag, ()):
                assert status in op["responses"], f"{method} {path} is {flag} but does not document {status}"
        assert ("ROUTE_BODY" in flags) == ("requestBody" in op), f"{method} {path}: requestBody vs ROUTE_BODY"
        for status in ("500", "503"):
            assert status in op["responses"], f"{method} {path} does not document {status}"


def test_input_fields_and_limits_equal_validate_c():
    schema = doc()["components"]["schemas"]["RegistryInput"]
    props = schema["properties"]
    table = field_table()
    assert set(props) == set(table), \
        f"RegistryInput fields {sorted(props)} != validate.c fields {sorted(table)}"
    for name, (kind, limit) in table.items():
        prop = resolve(props[name])
        want = "boolean" if kind == "FIELD_BOOL" else "string"
        assert prop.get("type") == want, f"RegistryInput.{name} is {prop.get('type')}, validate.c says {want}"
        if kind == "FIELD_STRING" and "enum" not in prop:
            assert prop.get("maxLength") == limit, \
                f"RegistryInput.{name} maxLength {prop.get('maxLength')} != validate.c limit {limit}"
        if kind == "FIELD_STRING" and "enum" in prop:
            assert all(len(v) <= limit for v in prop["enum"]), f"RegistryInput.{name}: an enum value over {limit}"


def test_providers_equal_validate_c():
    enum = resolve(doc()["components"]["schemas"]["RegistryInput"]["properties"]["provider"]).get("enum")
    assert enum == providers(), f"provider enum {enum} != validate.c providers {providers()}"


# ---------------------------------------------------------------------------------------------------------------
# (c), (d) Against the running service
# ---------------------------------------------------------------------------------------------------------------

def _nginx_locations():
    """(modifier, pattern) of every non-named location of the stack's nginx configuration."""
    out = []
    for conf in NGINX_CONFS:
        text = re.sub(r"#[^\n]*", "", _read(conf))
        out += re.findall(r"\blocation\s+(?:(=|\^~|~\*|~)\s+)?([^\s{@][^\s{]*)\s*\{", text)
    return out


def routed_at_root(path):
    """True when some nginx location at the root URL sends path on (to the app, as the stack is configured)."""
    for modifier, pattern in _nginx_locations():
        if modifier == "=" and path == pattern:
            return True
        if modifier in ("", "^~") and path.startswith(pattern) and not pattern.startswith("/."):
            return True
        if modifier in ("~", "~*") and re.search(pattern, path, re.I if modifier == "~*" else 0):
            return True
    return False


def base_for(path):
    """None (the root URL) when nginx routes path there, else the prefix URL, under which every path reaches the app."""
    if routed_at_root(path):
        return None
    url = os.environ.get("IMAGEREG_PREFIX_URL")
    assert url, f"{path} is not routed at the root and IMAGEREG_PREFIX_URL is not set"
    return url


def token_headers(token):
    if token == "none":
        return {"Authorization": None}
    if token == "read":
        read = os.environ.get("IMAGEREG_READ_TOKEN")
        assert read, "IMAGEREG_READ_TOKEN is not set (source the output of tests/stack-up.sh first)"
        return {"Authorization": f"Bearer {read}"}
    return {}  # lib.request sends the write token


def _fill(value, created):
    """value with every "{created}" string replaced by the id of a registry made for this test."""
    if isinstance(value, str) and CREATED in value:
        return value.replace(CREATED, created())
    if isinstance(value, dict):
        return {k: _fill(v, created) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, created) for v in value]
    return value


def _created_once():
    made = []

    def created():
        if not made:
            made.append(create())
        return made[0]
    return created


def check_documented_response(op, what, resp):
    """The response's status is documented for op and its JSON body matches the documented schema."""
    response = op["responses"].get(str(resp.status))
    assert response is not None, f"{what}: status {resp.status} is not documented: {short(resp.raw)}"
    media = json_media(resolve(response), f"{what} {resp.status}")
    assert_json_content_type(resp)
    assert resp.json is not None or resp.raw == b"", f"{what}: body is not JSON: {short(resp.raw)}"
    errors = schema_errors(media.get("schema", {}), resp.json)
    assert not errors, f"{what}: {resp.status} body does not match the document: {'; '.join(errors)}: " \
        f"{short(resp.raw)}"


def send(method, path, op, params=None, body=None, token="write", query=None, extra_headers=None):
    reset()
    created = _created_once()
    params = _fill(params or {}, created)
    url_path = path
    for name, value in params.items():
        url_path = url_path.replace("{" + name + "}", value)
    payload = _fill(body, created) if body is not None else None
    raw = None if payload is None else json.dumps(payload).encode()
    headers = token_headers(token)
    if raw is not None:
        headers["Content-Type"] = "application/json"
    headers.update(extra_headers or {})
    target = f"{url_path}?{query}" if query is not None else url_path
    return request(method, target, raw=raw, headers=headers, base=base_for(path)), target


def _example_test(method, path, op, ex):
    def test():
        req = ex["request"]
        resp, url_path = send(method, path, op, req.get("path_params"), req.get("body"), req["token"],
                              req.get("query"), req.get("headers"))
        what = f"{method} {url_path} ({ex['name']}, token {req['token']})"
        assert resp.status == ex["status"], \
            f"{what}: status {resp.status}, documented {ex['status']}: {short(resp.raw)}"
        check_documented_response(op, what, resp)
    return test


def _request_example_test(method, path, op, name, value):
    def test():
        params = {p: CREATED for p in re.findall(r"\{(\w+)\}", path)}
        body = dict(value)
        if "registry_id" in body:
            body["registry_id"] = CREATED  # a literal id in the document; here it must name the registry
        resp, url_path = send(method, path, op, params, body)
        what = f"{method} {url_path} (requestBody example {name})"
        assert resp.status == 200, f"{what}: status {resp.status}, expected 200: {short(resp.raw)}"
        check_documented_response(op, what, resp)
        # What was stored reads back as documented (with credentials: credentials_updated_at is a date-time).
        item = (doc()["paths"].get(path + "/{id}") or {}).get("get")
        if method == "POST" and item is not None:
            item_path = f"{url_path}/{resp.json['registry_id']}"
            got = request("GET", item_path, base=base_for(path + "/{id}"))
            assert got.status == 200, f"GET {item_path} after {what}: status {got.status}: {short(got.raw)}"
            check_documented_response(item, f"GET {item_path}", got)
            assert bool(got.json.get("has_credentials")) == bool(value.get("secret_key")), \
                f"GET {item_path}: has_credentials {got.json.get('has_credentials')} after {what}"
    return test


def _safe(text):
    return re.sub(r"\W+", "_", text).strip("_").lower()


def _register():
    if DOC is None:
        return
    try:
        ops = operations(DOC)
    except Exception:  # a malformed document is reported by the static tests
        return
    for method, path, op, _ in ops:
        op_name = _safe(op.get("operationId") or f"{method}_{path}")
        for ex in op.get("x-imagereg-example") or []:
            if not (isinstance(ex, dict) and isinstance(ex.get("request"), dict) and "status" in ex):
                continue  # reported by test_every_operation_has_x_imagereg_example
            test = _example_test(method, path, op, ex)
            test.__name__ = f"test_example_{op_name}_{_safe(str(ex.get('name')))}_is_{ex['status']}"
            globals()[test.__name__] = test
        if method in ("POST", "PUT"):
            media = ((op.get("requestBody") or {}).get("content") or {}).get("application/json") or {}
            for name, example in (media.get("examples") or {}).items():
                value = example.get("value") if isinstance(example, dict) else None
                if isinstance(value, dict):
                    test = _request_example_test(method, path, op, name, value)
                    test.__name__ = f"test_request_example_{op_name}_{_safe(name)}_is_accepted"
                    globals()[test.__name__] = test


_register()
