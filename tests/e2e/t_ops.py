"""Operations: the config file and --check-config, CORS, the health endpoint, systemd's fd 3."""

import json
import os
import socket
import struct
import subprocess
import tempfile

from lib import COLLECTION, create, request, reset, responder_env


def binary():
    return os.environ["IMAGEREG_CGI"]


def base_env(extra=None):
    """The responder's environment: PG*, the key; extra on top."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "IMAGEREG_KEY_FILE": os.environ["IMAGEREG_KEY_FILE"]}
    env.update(responder_env())
    # Started as root, the responder serves only with an account for its workers (tests/lib/stack.sh).
    if "IMAGEREG_USER" in os.environ:
        env["IMAGEREG_USER"] = os.environ["IMAGEREG_USER"]
    env.update(extra or {})
    return env


def run_cgi(method, path, extra=None):
    """One plain-CGI request; returns (status, headers dict, body bytes, stderr)."""
    env = base_env({"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": method, "PATH_INFO": path})
    env.update(extra or {})
    proc = subprocess.run([binary()], env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    head, _, body = proc.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body, proc.stderr.decode(errors="replace")


def check_config(text):
    """Runs --check-config on a file holding text; returns (exit code, stdout + stderr, path)."""
    fd, path = tempfile.mkstemp(suffix=".conf")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    proc = subprocess.run([binary(), "--config", path, "--check-config"], env=base_env(), capture_output=True,
                          timeout=30)
    return proc.returncode, (proc.stdout + proc.stderr).decode(errors="replace"), path


def test_check_config_accepts_a_good_file():
    """Every documented key, comments and blank lines: --check-config says OK and exits 0."""
    code, out, _ = check_config("# imagereg\n\ndsn = host=/tmp dbname=x\nworkers = 4\nmax_body = 2048\n"
                                "statement_timeout = 1000\nconnect_timeout = 2\nlog_level = warn\nauth = on\n"
                                "cors_origins = https://a.example https://b.example\nlisten = unix:/tmp/x.sock\n"
                                f"key_file = {os.environ['IMAGEREG_KEY_FILE']}\nadmin_dsn = dbname=x\n")
    assert code == 0 and "OK" in out, out


def test_check_config_names_the_line_of_an_unknown_key():
    """An unknown key fails with FILE:LINE naming it."""
    code, out, path = check_config("workers = 4\n\nwrokers = 5\n")
    assert code != 0 and f"{path}:3:" in out and "wrokers" in out, out


def test_check_config_names_the_line_of_a_bad_value():
    """A value out of range fails with FILE:LINE and the allowed range."""
    code, out, path = check_config("# c\nworkers = 0\n")
    assert code != 0 and f"{path}:2:" in out and "1 to 256" in out, out


def test_check_config_rejects_a_line_without_equals():
    """A line that is not key = value fails with its number."""
    code, out, path = check_config("auth on\n")
    assert code != 0 and f"{path}:1:" in out, out


def test_check_config_rejects_a_bad_enum():
    """auth must be on or off, never guessed."""
    code, out, path = check_config("auth = maybe\n")
    assert code != 0 and f"{path}:1:" in out and "on off" in out, out


def test_check_config_missing_explicit_file_fails():
    """A file named with --config must exist."""
    proc = subprocess.run([binary(), "--config", "/nonexistent/imagereg.conf", "--check-config"], env=base_env(),
                          capture_output=True, timeout=30)
    assert proc.returncode != 0 and b"cannot open" in proc.stderr


def test_environment_overrides_the_file():
    """IMAGEREG_AUTH=off beats auth = on in the file: the responder warns at start."""
    fd, path = tempfile.mkstemp(suffix=".conf")
    with os.fdopen(fd, "w") as f:
        f.write("auth = on\n")
    status, _, _, err = run_cgi("GET", COLLECTION, {"IMAGEREG_CONFIG": path, "IMAGEREG_AUTH": "off"})
    assert status == 200 and "authentication is OFF" in err, (status, err)


def test_file_setting_applies():
    """max_body from the file is the 413 limit."""
    fd, path = tempfile.mkstemp(suffix=".conf")
    with os.fdopen(fd, "w") as f:
        f.write("max_body = 2048\n")
    status, _, body, _ = run_cgi("POST", COLLECTION, {"IMAGEREG_CONFIG": path, "CONTENT_LENGTH": "4096",
                                                      "HTTP_AUTHORIZATION": "Bearer " + os.environ["IMAGEREG_TOKEN"]})
    assert status == 413 and b"2048" in body, (status, body)


def test_health_up_through_nginx():
    """GET /healthz without a token: 200 {"status":"ok","database":"up"}."""
    resp = request("GET", "/healthz", headers={"Authorization": None})
    assert resp[0] == 200, resp
    assert json.loads(resp[2]) == {"status": "ok", "database": "up"}, resp[2]


def test_health_down_when_database_unreachable():
    """With PostgreSQL unreachable: 503 {"status":"degraded","database":"down"}, promptly."""
    status, _, body, _ = run_cgi("GET", "/healthz", {"IMAGEREG_DSN": "host=/nonexistent dbname=x connect_timeout=2"})
    assert status == 503 and json.loads(body) == {"status": "degraded", "database": "down"}, (status, body)


ORIGIN = "https://console.example.com"


def test_cors_off_by_default():
    """Without cors_origins no Access-Control header is sent and OPTIONS is a 405."""
    status, headers, _, _ = run_cgi("OPTIONS", COLLECTION, {"HTTP_ORIGIN": ORIGIN,
                                                           "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"})
    assert status == 405 and not any(k.startswith("access-control") for k in headers), headers


def test_cors_preflight_allowed_origin():
    """An allowed origin's preflight: 204 with the path's methods and the headers a console sends."""
    status, headers, body, _ = run_cgi("OPTIONS", COLLECTION + "/0123456789abcdef01234567", {
        "IMAGEREG_CORS_ORIGINS": "https://other.example " + ORIGIN, "HTTP_ORIGIN": ORIGIN,
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT"})
    assert status == 204 and body == b"", (status, body)
    assert headers.get("access-control-allow-origin") == ORIGIN, headers
    assert headers.get("access-control-allow-methods") == "GET, PUT, DELETE", headers
    assert "Authorization" in headers.get("access-control-allow-headers", ""), headers
    for name in ("If-Match", "Idempotency-Key"):
        assert name in headers.get("access-control-allow-headers", ""), headers


def test_cors_actual_request_allowed_origin():
    """A GET from an allowed origin carries Access-Control-Allow-Origin and Vary: Origin, and lets the page's
    scripts read ETag, X-Total-Count and Idempotency-Replayed."""
    status, headers, _, _ = run_cgi("GET", COLLECTION, {
        "IMAGEREG_CORS_ORIGINS": ORIGIN, "HTTP_ORIGIN": ORIGIN,
        "HTTP_AUTHORIZATION": "Bearer " + os.environ["IMAGEREG_TOKEN"]})
    assert status == 200 and headers.get("access-control-allow-origin") == ORIGIN, headers
    assert headers.get("vary") == "Origin", headers
    assert headers.get("access-control-expose-headers") == "ETag, X-Total-Count, Idempotency-Replayed", headers


def test_cors_longest_origin_keeps_every_header():
    """An allowed origin of 200 characters (the longest accepted) still gets all the CORS lines and the ETag."""
    origin = "https://" + "c" * 180 + ".example.com"
    reset()
    assert len(origin) == 200
    registry_id = create()
    status, headers, _, _ = run_cgi("GET", f"{COLLECTION}/{registry_id}", {
        "IMAGEREG_CORS_ORIGINS": origin, "HTTP_ORIGIN": origin,
        "HTTP_AUTHORIZATION": "Bearer " + os.environ["IMAGEREG_TOKEN"]})
    assert status == 200 and headers.get("access-control-allow-origin") == origin, headers
    assert "access-control-expose-headers" in headers and headers.get("etag") == '"1"', headers


def test_cors_other_origin_refused():
    """An origin not in the list gets no CORS headers and its preflight is a 405."""
    status, headers, _, _ = run_cgi("OPTIONS", COLLECTION, {
        "IMAGEREG_CORS_ORIGINS": ORIGIN, "HTTP_ORIGIN": "https://evil.example",
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"})
    assert status == 405 and "access-control-allow-origin" not in headers, headers


def fcgi_record(rtype, content, request_id=1):
    return struct.pack(">BBHHBx", 1, rtype, request_id, len(content), 0) + content


def fcgi_params(params):
    out = b""
    for k, v in params.items():
        k, v = k.encode(), v.encode()
        out += bytes([len(k)]) + (bytes([len(v)]) if len(v) < 128 else struct.pack(">I", len(v) | 0x80000000))
        out += k + v
    return out


def fcgi_get(path_to_socket, params):
    """A minimal FastCGI client: one responder request, returns the stdout bytes."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(path_to_socket)
    s.sendall(fcgi_record(1, struct.pack(">HB5x", 1, 0)) + fcgi_record(4, fcgi_params(params))
              + fcgi_record(4, b"") + fcgi_record(5, b""))
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    out, pos = b"", 0
    while pos + 8 <= len(data):
        _, rtype, _, clen, plen = struct.unpack(">BBHHB", data[pos:pos + 7])
        if rtype == 6:
            out += data[pos + 8:pos + 8 + clen]
        pos += 8 + clen + plen
    return out


def test_systemd_socket_activation_fd3():
    """LISTEN_PID/LISTEN_FDS with the socket on fd 3, as systemd passes it: requests are served."""
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(16)
    env = base_env({"IMAGEREG_DSN": os.environ["IMAGEREG_DSN"], "LISTEN_FDS": "1", "IMAGEREG_WORKERS": "2"})

    # bash (dash would mark it close-on-exec) moves the socket to fd 3; its $$ is the PID the responder keeps after exec: what systemd sets.
    fd = listener.fileno()
    move = "" if fd == 3 else f"exec 3<&{fd} {fd}<&-; "
    proc = subprocess.Popen(["bash", "-c", move + 'LISTEN_PID=$$ exec "$0"', binary()], env=env,
                            pass_fds=(fd,), stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        out = fcgi_get(path, {"REQUEST_METHOD": "GET", "PATH_INFO": "/healthz", "REQUEST_URI": "/healthz"})
        assert out.startswith(b"Status: 200"), out
        assert b'"database":"up"' in out, out
    finally:
        proc.terminate()
        proc.wait(timeout=40)
        listener.close()
    assert proc.returncode == 0, proc.returncode
    assert b"systemd passed" in proc.stderr.read(), "no start-up line about fd 3"
