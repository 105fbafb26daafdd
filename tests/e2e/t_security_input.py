"""Security of what clients send: credentials do not follow a registry to another host, tls_cert must be real PEM
X.509 (generated tests, one per bad value), and every answer carries the hardening headers (generated tests, one per
status), bodies over 1 MiB are refused before they are read, and error descriptions never echo a secret.
"""

import json
import os
import subprocess
import threading
import time

from lib import (responder_env, COLLECTION, SECRET_MARK, Resp, assert_created, assert_error, assert_ok_json, assert_success, body,
                 create, expect_error, get_registry, item_path, psql, request, reset, short)
from seclib import (NO_AUTH, assert_hardening_headers, cli_credentials, leaks, need_env, new_secrets,
                    private_key_pem, public_key_pem, rand_hex, raw_exchange, read_headers, request_head,
                    self_signed_cert, sealed_hex, state_dump)


# -------------------------------------------------------------------------------------------------------------------
# Credentials follow the host only with a new secret_key
# -------------------------------------------------------------------------------------------------------------------

def _registry_at(address):
    """A registry at address with fresh credentials; (id, access, secret)."""
    reset()
    access, secret = new_secrets()
    registry_id = create(address=address, access_key=access, secret_key=secret, is_default=True)
    assert cli_credentials(registry_id) == {"access_key": access, "secret_key": secret}
    return registry_id, access, secret


def _put(registry_id, **fields):
    resp = request("PUT", item_path(registry_id), body(is_default=True, **fields))
    assert_ok_json(resp)
    return resp.json


def test_put_to_another_host_without_secret_key_clears_credentials():
    """PUT moving https://a.example.com to https://b.example.com without a secret_key answers 200 with a warning;
    afterwards has_credentials is false, the sealed columns are NULL and the CLI prints empty values."""
    registry_id, _, _ = _registry_at("https://a.example.com")
    answer = _put(registry_id, address="https://b.example.com")
    assert answer.get("message") == "success", f"PUT answered {answer}"
    assert isinstance(answer.get("warning"), str) and answer["warning"].strip(), f"no warning: {answer}"
    assert set(answer) == {"message", "warning"}, f"unexpected keys: {answer}"
    item = get_registry(registry_id)
    assert item["address"] == "https://b.example.com" and item["has_credentials"] is False, f"GET: {item}"
    assert sealed_hex(registry_id) == ("", ""), "sealed credentials still stored"
    assert cli_credentials(registry_id) == {"access_key": "", "secret_key": ""}


def test_put_to_another_host_with_only_a_new_access_key_still_clears():
    """PUT to another host with a new access_key but no secret_key also answers with a warning and leaves no
    secret_key stored (has_credentials false)."""
    registry_id, _, _ = _registry_at("https://a.example.com")
    answer = _put(registry_id, address="https://b.example.com", access_key="fresh-user")
    assert "warning" in answer, f"no warning: {answer}"
    assert get_registry(registry_id)["has_credentials"] is False
    assert cli_credentials(registry_id)["secret_key"] == ""


def test_put_changing_only_the_path_keeps_credentials():
    """PUT from https://a.example.com to https://a.example.com/v2 (same host) answers exactly {"message":"success"}
    without a warning and keeps the credentials."""
    registry_id, access, secret = _registry_at("https://a.example.com")
    answer = _put(registry_id, address="https://a.example.com/v2")
    assert answer == {"message": "success"}, f"PUT answered {answer}"
    assert get_registry(registry_id)["has_credentials"] is True
    assert cli_credentials(registry_id) == {"access_key": access, "secret_key": secret}


def test_put_changing_only_the_host_case_keeps_credentials():
    """PUT from https://a.example.com to https://A.EXAMPLE.COM/v2 is the same host: no warning, credentials kept."""
    registry_id, access, secret = _registry_at("https://a.example.com")
    answer = _put(registry_id, address="https://A.EXAMPLE.COM/v2")
    assert answer == {"message": "success"}, f"PUT answered {answer}"
    assert cli_credentials(registry_id) == {"access_key": access, "secret_key": secret}


def test_put_to_another_host_with_new_secret_key_keeps_the_new_credentials():
    """PUT to https://b.example.com with a new access_key and secret_key answers exactly {"message":"success"} and
    stores the new values."""
    registry_id, _, _ = _registry_at("https://a.example.com")
    access, secret = new_secrets()
    answer = _put(registry_id, address="https://b.example.com", access_key=access, secret_key=secret)
    assert answer == {"message": "success"}, f"PUT answered {answer}"
    assert get_registry(registry_id)["has_credentials"] is True
    assert cli_credentials(registry_id) == {"access_key": access, "secret_key": secret}


def test_address_with_user_information_is_refused():
    """Addresses hiding another host behind user information (https://a.example.com@b.example.com and variants with
    a port, an empty password or a backslash) are 400 naming address, and the stored credentials stay."""
    registry_id, access, secret = _registry_at("https://a.example.com")
    for address in ("https://a.example.com@b.example.com", "https://a.example.com:443@b.example.com",
                    "https://a.example.com:@b.example.com", "https://a.example.com\\@b.example.com"):
        expect_error("PUT", item_path(registry_id), 400, "address", body=body(address=address, is_default=True))
    assert cli_credentials(registry_id) == {"access_key": access, "secret_key": secret}


# -------------------------------------------------------------------------------------------------------------------
# tls_cert is PEM X.509 and nothing else
# -------------------------------------------------------------------------------------------------------------------

def test_real_self_signed_certificate_is_accepted():
    """POST with enable_tls true and a certificate made by `openssl req -x509` is 200, and the stored tls_cert is
    exactly what was sent."""
    reset()
    cert = self_signed_cert()
    registry_id = assert_created(request("POST", COLLECTION, body(enable_tls=True, tls_cert=cert)))
    stored = psql("SELECT tls_cert FROM registry WHERE id = :'p1';", registry_id)
    assert stored.strip() == cert.strip(), "stored tls_cert differs"
    assert "tls_cert" not in get_registry(registry_id), "GET shows tls_cert"


def _cert_lines():
    return self_signed_cert().strip().splitlines()


def _truncated_without_end():
    lines = _cert_lines()
    return "\n".join(lines[:len(lines) // 2]) + "\n"


def _truncated_with_end():
    lines = _cert_lines()
    return "\n".join(lines[:len(lines) // 2] + [lines[-1]]) + "\n"


def _base64_damaged():
    lines = _cert_lines()
    middle = len(lines) // 2
    lines[middle] = "!!!!" + lines[middle][4:]
    return "\n".join(lines) + "\n"


def _der_damaged():
    """Valid base64 whose DER is cut: the certificate's first line of body replaced by the last one."""
    lines = _cert_lines()
    return "\n".join([lines[0]] + lines[2:-1] + [lines[-1]]) + "\n"


def _public_key_as_certificate():
    body_lines = public_key_pem().strip().splitlines()[1:-1]
    return "\n".join(["-----BEGIN CERTIFICATE-----", *body_lines, "-----END CERTIFICATE-----"]) + "\n"


BAD_CERTS = {
    # name: (what, value())
    "plain_text": ("the text 'not a cert'", lambda: f"not a cert {rand_hex(8)}"),
    "truncated_pem_without_end_line": ("the first half of a PEM certificate", _truncated_without_end),
    "truncated_pem_with_end_line": ("a PEM certificate with half its base64 lines gone", _truncated_with_end),
    "pem_with_invalid_base64": ("a PEM certificate with '!!!!' in its base64", _base64_damaged),
    "pem_with_cut_der": ("a PEM certificate missing a base64 line", _der_damaged),
    "pem_private_key": ("a PEM private key from `openssl genpkey`", private_key_pem),
    "certificate_followed_by_private_key": ("a good certificate followed by its private key",
                                            lambda: self_signed_cert() + private_key_pem()),
    "good_certificate_then_damaged_one": ("a good certificate followed by a damaged one",
                                          lambda: self_signed_cert() + _truncated_with_end()),
    "public_key_labelled_certificate": ("a public key relabelled BEGIN CERTIFICATE", _public_key_as_certificate),
}


def _echoed_parts(value):
    """Pieces of a submitted value that must not show up in an error description: every line of 8+ characters
    that is not a PEM boundary line, and every 16-character slice of base64."""
    parts = set()
    for line in value.splitlines():
        line = line.strip()
        if len(line) >= 8 and not line.startswith("-----"):
            parts.add(line)
            parts.update(line[i:i + 16] for i in range(0, max(len(line) - 15, 1), 8))
    return parts


def _make_bad_cert_test(name, what, value_of):
    def test():
        reset()
        create(namespace="existing")
        value = value_of()
        for method, path in (("POST", COLLECTION), ("PUT", None)):
            if path is None:
                registry_id = create(address="https://tls.example.com")
                path = item_path(registry_id)
            _, got = expect_error(method, path, 400, "tls_cert", body=body(enable_tls=True, tls_cert=value))
            echoed = [p for p in _echoed_parts(value) if p in got["description"]]
            assert not echoed, f"{method} description echoes the submitted tls_cert: {got['description']!r}"

    test.__name__ = f"test_tls_cert_{name}_is_400"
    test.__qualname__ = test.__name__
    test.__doc__ = (f"POST and PUT with enable_tls true and tls_cert {what} are 400 naming tls_cert, change nothing,"
                    " and the description does not echo the value.")
    return test


for _name, (_what, _value_of) in BAD_CERTS.items():
    _t = _make_bad_cert_test(_name, _what, _value_of)
    globals()[_t.__name__] = _t
del _t, _name, _what, _value_of


def test_enable_tls_without_tls_cert_is_400():
    """POST with enable_tls true and no tls_cert is 400 naming tls_cert."""
    reset()
    expect_error("POST", COLLECTION, 400, "tls_cert", body=body(enable_tls=True))


# -------------------------------------------------------------------------------------------------------------------
# Hardening headers on every status
# -------------------------------------------------------------------------------------------------------------------

def _status_200():
    return request("GET", COLLECTION)


def _status_400():
    return request("POST", COLLECTION, raw=b'{"address": ', headers={"Content-Type": "application/json"})


def _status_401():
    return request("GET", COLLECTION, headers=NO_AUTH)


def _status_403():
    return request("POST", COLLECTION, body(), headers=read_headers())


def _status_404():
    return request("GET", item_path("0" * 24))


def _status_404_path():
    return request("GET", COLLECTION + "/0123456789abcdef01234567/extra")


def _status_405():
    return request("PATCH", COLLECTION, body())


def _status_413():
    return request("POST", COLLECTION, raw=b" " * (1024 * 1024 + 1), headers={"Content-Type": "application/json"})


STATUS_CASES = {
    "200_get_list": (200, _status_200),
    "400_bad_json": (400, _status_400),
    "401_no_token": (401, _status_401),
    "403_read_token_post": (403, _status_403),
    "404_unknown_id": (404, _status_404),
    "404_unknown_path": (404, _status_404_path),
    "405_patch": (405, _status_405),
    "413_body_over_1_mib": (413, _status_413),
}


def _make_header_test(name, status, send):
    def test():
        reset()
        create()
        resp = send()
        if status == 200:
            assert_ok_json(resp)
        else:
            assert_error(resp, status)
        assert_hardening_headers(resp.headers, f"{status} answer")

    test.__name__ = f"test_hardening_headers_on_{name}"
    test.__qualname__ = test.__name__
    test.__doc__ = f"A {status} answer ({name[4:].replace('_', ' ')}) carries Cache-Control: no-store and " \
                   "X-Content-Type-Options: nosniff."
    return test


for _name, (_status, _send) in STATUS_CASES.items():
    _t = _make_header_test(_name, _status, _send)
    globals()[_t.__name__] = _t
del _t, _name, _status, _send


# Requests nginx itself refuses before the responder sees them; the API promises the same headers on every answer.
NGINX_CASES = {
    "405_trace": ("TRACE", COLLECTION, {}, b""),
    "400_malformed_content_length": ("POST", COLLECTION, {"Content-Type": "application/json",
                                                          "Content-Length": "abc"}, b"{}"),
    "400_encoded_nul_in_path": ("GET", COLLECTION + "/%00", {}, b""),
}


def _make_nginx_header_test(name, method, path, headers, payload):
    status = int(name[:3])

    def test():
        reset()
        create()
        head = request_head(method, path, {"Authorization": f"Bearer {need_env('IMAGEREG_TOKEN')}", **headers})
        resp, _ = raw_exchange(head, payload, timeout=10)
        assert resp.status == status, f"{method} {path} answered {resp.status}: {short(resp.raw)}"
        assert_hardening_headers(resp.headers, f"{status} answer to {method} {path} "
                                               f"(Content-Type {resp.headers.get('content-type')!r})")

    test.__name__ = f"test_hardening_headers_on_nginx_{name}"
    test.__qualname__ = test.__name__
    test.__doc__ = (f"The {status} that nginx itself gives {method} {path}"
                    f"{' with ' + repr(headers) if headers else ''} carries Cache-Control: no-store and "
                    "X-Content-Type-Options: nosniff, as every API answer must.")
    return test


for _name, (_method, _path, _headers, _payload) in NGINX_CASES.items():
    _t = _make_nginx_header_test(_name, _method, _path, _headers, _payload)
    globals()[_t.__name__] = _t
del _t, _name, _method, _path, _headers, _payload


def test_hardening_headers_on_put_and_delete_success():
    """200 answers of POST, PUT and DELETE carry Cache-Control: no-store and X-Content-Type-Options: nosniff."""
    reset()
    resp = request("POST", COLLECTION, body())
    registry_id = assert_created(resp)
    assert_hardening_headers(resp.headers, "POST 200")
    resp = request("PUT", item_path(registry_id), body(namespace="x"))
    assert_success(resp)
    assert_hardening_headers(resp.headers, "PUT 200")
    resp = request("DELETE", item_path(registry_id))
    assert_success(resp)
    assert_hardening_headers(resp.headers, "DELETE 200")


# -------------------------------------------------------------------------------------------------------------------
# Bodies over 1 MiB are refused from Content-Length
# -------------------------------------------------------------------------------------------------------------------

def _assert_zadig_413(resp, what):
    assert_error(Resp(resp.status, resp.headers, resp.raw, resp.json), 413)
    assert_hardening_headers(resp.headers, what)


def test_content_length_over_1_mib_is_413_before_the_body_is_sent():
    """A POST declaring Content-Length: 2000000 and sending no body gets a Zadig-shaped 413 (with the hardening
    headers) at once: nobody waited for the body. The table is unchanged."""
    reset()
    create()
    before = state_dump()
    head = request_head("POST", COLLECTION, {**{"Authorization": f"Bearer {need_env('IMAGEREG_TOKEN')}"},
                                             "Content-Type": "application/json", "Content-Length": "2000000"})
    resp, elapsed = raw_exchange(head, b"", timeout=10)
    _assert_zadig_413(resp, "413 answer")
    assert elapsed < 5, f"the 413 took {elapsed:.1f}s"
    assert state_dump() == before, "a refused body changed the table"


def test_content_length_over_1_mib_with_a_small_body_is_413():
    """A PUT declaring Content-Length: 2000000 but sending only a small JSON body gets a Zadig-shaped 413 at once and
    the registry is unchanged."""
    reset()
    registry_id = create()
    before = state_dump()
    small = b'{"address":"https://x.example.com","provider":"harbor","namespace":"changed"}'
    head = request_head("PUT", item_path(registry_id), {"Authorization": f"Bearer {need_env('IMAGEREG_TOKEN')}",
                                                       "Content-Type": "application/json",
                                                       "Content-Length": "2000000"})
    resp, elapsed = raw_exchange(head, small, timeout=10)
    _assert_zadig_413(resp, "413 answer")
    assert elapsed < 5, f"the 413 took {elapsed:.1f}s"
    assert state_dump() == before, "a refused body changed the table"


def test_responder_itself_refuses_content_length_over_1_mib_without_reading():
    """The responder run as CGI with CONTENT_LENGTH=2000000 and a stdin that never delivers a byte answers 413 in
    Zadig shape with the hardening headers, without waiting for the body (no nginx in front)."""
    reset()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GATEWAY_INTERFACE": "CGI/1.1",
           "REQUEST_METHOD": "POST", "PATH_INFO": COLLECTION, "CONTENT_LENGTH": "2000000",
           "CONTENT_TYPE": "application/json", "IMAGEREG_KEY_FILE": need_env("IMAGEREG_KEY_FILE"),
           "HTTP_AUTHORIZATION": f"Bearer {need_env('IMAGEREG_TOKEN')}"}
    env.update(responder_env())
    started = time.monotonic()
    proc = subprocess.Popen([need_env("IMAGEREG_CGI")], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        out, err = _communicate_keeping_stdin_open(proc, 10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
    elapsed = time.monotonic() - started
    head, _, data = out.replace(b"\r\n", b"\n").partition(b"\n\n")
    lines = head.decode("latin-1").split("\n")
    assert lines and lines[0].lower().startswith("status: 413"), f"CGI answered {short(out)} ({short(err)})"
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = None
    assert_error(Resp(413, headers, data, parsed), 413)
    assert_hardening_headers(headers, "CGI 413")
    assert elapsed < 10, f"CGI took {elapsed:.1f}s"


def _communicate_keeping_stdin_open(proc, timeout):
    """Read the process's stdout to EOF without ever writing to or closing its stdin; (stdout, stderr)."""
    chunks, errs = [], []

    def pump(stream, sink):
        sink.append(stream.read())

    threads = [threading.Thread(target=pump, args=(proc.stdout, chunks)),
               threading.Thread(target=pump, args=(proc.stderr, errs))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        proc.kill()
        for t in threads:
            t.join(5)
        raise AssertionError(f"the responder was still running after {timeout}s: it waited for the body")
    proc.stdin.close()
    return b"".join(chunks), b"".join(errs)


# -------------------------------------------------------------------------------------------------------------------
# Error descriptions never echo a secret
# -------------------------------------------------------------------------------------------------------------------

def _secret_cases():
    access, secret = new_secrets()
    return access, secret, {
        "an unknown provider": body(provider="bogus", access_key=access, secret_key=secret),
        "an empty namespace": body(namespace="", access_key=access, secret_key=secret),
        "an address with user information": body(address=f"https://{secret}@evil.example.com",
                                                 access_key=access, secret_key=secret),
        "a wrong-typed is_default": body(is_default="yes", access_key=access, secret_key=secret),
        "a secret_key over 4096 bytes": body(secret_key=secret + "x" * 4100, access_key=access),
        "an access_key of the wrong type": body(access_key={"nested": access}, secret_key=secret),
        "a secret_key holding U+0000": body(secret_key=secret + "\u0000", access_key=access),
        "a bad tls_cert": body(enable_tls=True, tls_cert=f"{secret}\n{access}", secret_key=secret),
    }


def test_error_descriptions_never_echo_secret_values():
    """POST and PUT bodies carrying access_key and secret_key plus one invalid field are 400 (table unchanged), and
    no part of the error answer contains either secret (text, hex or base64)."""
    reset()
    registry_id = create()
    access, secret, cases = _secret_cases()
    for what, payload in cases.items():
        for method, path in (("POST", COLLECTION), ("PUT", item_path(registry_id))):
            resp, got = expect_error(method, path, 400, body=payload)
            found = leaks(resp.raw + str(resp.headers).encode(), {"access_key": access, "secret_key": secret})
            assert not found, f"{method} with {what}: answer contains {found}: {got['description']!r}"
            assert SECRET_MARK not in got["description"], f"{method} with {what}: {got['description']!r}"


def test_syntax_error_right_after_a_secret_does_not_echo_it():
    """Invalid JSON and invalid UTF-8 right after a secret_key value are 400 and the description quotes none of the
    body."""
    reset()
    access, secret = new_secrets()
    raws = [
        b'{"address":"https://x.example.com","provider":"harbor","namespace":"n","secret_key":"%s" oops}',
        b'{"address":"https://x.example.com","provider":"harbor","namespace":"n","secret_key":"%s\xff\xfe"}',
        b'{"secret_key":"%s"',
        b'["%s"]',
    ]
    for raw in raws:
        payload = raw.replace(b"%s", secret.encode())
        resp = request("POST", COLLECTION, raw=payload, headers={"Content-Type": "application/json"})
        got = assert_error(resp, 400)
        found = leaks(resp.raw, {"access_key": access, "secret_key": secret})
        assert not found, f"description echoes the body: {got['description']!r}"
        assert "oops" not in got["description"], f"description quotes the body: {got['description']!r}"
