"""The responder binary run as a plain CGI program (stdin not a socket): one request, a CGI response on stdout."""

import json
import os
import re
import subprocess

from lib import (responder_env, COLLECTION, ID_RE, JSON_CONTENT_TYPE, SECRET_MARK, body, create, get_registry, list_registries,
                 reset, secret, short, stored_credentials)

STATUS_RE = re.compile(r"^Status:\s*(\d{3})(\s.*)?$", re.IGNORECASE)


def cgi_binary():
    path = os.environ.get("IMAGEREG_CGI")
    if not path:
        raise RuntimeError("IMAGEREG_CGI is not set")
    return path


def cgi_env(method, extra=None):
    """The CGI/1.1 variables of one request, the PG* connection variables, the key file and the shared file."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GATEWAY_INTERFACE": "CGI/1.1",
           "REQUEST_METHOD": method, "PATH_INFO": COLLECTION}
    env.update(responder_env())
    # The at-rest key, which the responder needs to seal credentials (and loads at start-up).
    if os.environ.get("IMAGEREG_KEY_FILE"):
        env["IMAGEREG_KEY_FILE"] = os.environ["IMAGEREG_KEY_FILE"]
    # The host's shared file, which holds the check_concurrency slots: without it a check answers 503.
    if os.environ.get("IMAGEREG_GENERATION_FILE"):
        env["IMAGEREG_GENERATION_FILE"] = os.environ["IMAGEREG_GENERATION_FILE"]
    token = os.environ.get("IMAGEREG_TOKEN")
    if token:
        env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    env.update(extra or {})
    return env


def run_cgi(method, stdin_bytes=None, extra_env=None):
    """Run the binary once; stdin is /dev/null or a pipe holding stdin_bytes. Returns (status, headers, body)."""
    proc = subprocess.run([cgi_binary()], env=cgi_env(method, extra_env), timeout=30, capture_output=True,
                          input=stdin_bytes, stdin=None if stdin_bytes is not None else subprocess.DEVNULL)
    assert proc.returncode == 0, f"CGI exited {proc.returncode}: {short(proc.stderr)}"
    assert SECRET_MARK.encode() not in proc.stdout + proc.stderr, "CGI output leaks a secret"
    return parse_cgi(proc.stdout)


def parse_cgi(out):
    """Split a CGI response into (status code, {lower-cased header: value}, body bytes)."""
    ends = [i for i in (out.find(b"\r\n\r\n"), out.find(b"\n\n")) if i >= 0]
    assert ends, f"no blank line after CGI headers: {short(out)}"
    end = min(ends)
    head = out[:end].decode("latin-1").replace("\r\n", "\n").split("\n")
    blank = b"\r\n\r\n" if out.startswith(b"\r\n\r\n", end) else b"\n\n"
    data = out[end + len(blank):]
    match = STATUS_RE.match(head[0])
    assert match, f"first CGI header is not a Status line: {head[0]!r}"
    headers = {}
    for line in head[1:]:
        name, sep, value = line.partition(":")
        assert sep, f"malformed CGI header line {line!r}"
        headers[name.strip().lower()] = value.strip()
    return int(match.group(1)), headers, data


def test_cgi_get_lists_registries():
    """A CGI GET of the collection prints Status: 200, the JSON content type, and the same list as the API."""
    reset()
    create(namespace="one")
    create(namespace="two", provider="ecr", region="eu-west-1")
    status, headers, data = run_cgi("GET")
    assert status == 200, f"CGI status {status}: {short(data)}"
    assert headers.get("content-type", "").replace(" ", "") == JSON_CONTENT_TYPE.replace(" ", ""), headers
    assert json.loads(data) == list_registries(), f"CGI list differs: {short(data)}"


def test_cgi_get_empty_list():
    """A CGI GET with no registries prints []."""
    reset()
    status, _, data = run_cgi("GET")
    assert status == 200 and json.loads(data) == [], f"CGI answered {status} {short(data)}"


def test_cgi_post_creates_registry():
    """A CGI POST with CONTENT_LENGTH and the body on stdin creates a registry the API then serves."""
    reset()
    ak = secret("ak")
    raw = json.dumps(body(namespace="from-cgi", access_key=ak)).encode()
    status, _, data = run_cgi("POST", raw, {"CONTENT_LENGTH": str(len(raw)), "CONTENT_TYPE": "application/json"})
    assert status == 200, f"CGI status {status}: {short(data)}"
    got = json.loads(data)
    assert set(got) == {"message", "registry_id"} and got["message"] == "success", f"CGI answered {short(data)}"
    assert ID_RE.match(got["registry_id"]), f"bad id {got['registry_id']!r}"
    assert get_registry(got["registry_id"])["namespace"] == "from-cgi"
    assert stored_credentials(got["registry_id"])[0] == ak


def test_cgi_post_invalid_body_is_400():
    """A CGI POST with an invalid body prints Status: 400 and the Zadig error shape."""
    reset()
    raw = json.dumps(body(namespace="")).encode()
    status, _, data = run_cgi("POST", raw, {"CONTENT_LENGTH": str(len(raw)), "CONTENT_TYPE": "application/json"})
    got = json.loads(data)
    assert status == 400, f"CGI answered {status} {short(data)}"
    assert got.get("code") == 400 and got.get("type") == "error", f"not a Zadig error: {short(data)}"
    assert "namespace" in got.get("description", ""), f"description {got.get('description')!r}"
    assert list_registries() == []
