"""Start-up refusals and warnings of the responder: the at-rest key and the authentication switch."""

import os
import stat
import subprocess
import tempfile

from lib import COLLECTION, responder_env


def run_once(key_file, extra=None):
    """Runs the responder once as plain CGI (GET list); returns (exit code, stdout, stderr)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GATEWAY_INTERFACE": "CGI/1.1",
           "REQUEST_METHOD": "GET", "PATH_INFO": COLLECTION, "IMAGEREG_KEY_FILE": key_file}
    env.update(responder_env())
    env.update(extra or {})
    proc = subprocess.run([os.environ["IMAGEREG_CGI"]], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=30)
    return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")


def key_copy(mode, content=None):
    """A copy of the stack's key (or other content) with the given mode; caller removes the directory."""
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "key")
    with open(os.environ["IMAGEREG_KEY_FILE"], "rb") as f:
        data = f.read() if content is None else content
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


def test_key_readable_by_others_is_refused():
    """A key file other users can read stops the responder before it serves anything."""
    path = key_copy(0o644)
    code, out, err = run_once(path)
    assert code != 0, f"exit {code}, stdout {out!r}"
    assert "other users" in err and "IMAGEREG_KEY_FILE" in err, err
    assert "Status:" not in out, out


def test_key_mode_600_is_accepted():
    """The same key with mode 0600 serves the request (auth on: 401 without a token)."""
    path = key_copy(stat.S_IRUSR | stat.S_IWUSR)
    code, out, err = run_once(path)
    assert code == 0, err
    assert out.startswith("Status: 401"), out


def test_missing_key_is_refused():
    """No key file: the responder refuses to start rather than store unsealed credentials."""
    code, out, err = run_once("/nonexistent/imagereg.key")
    assert code != 0 and "cannot open key file" in err, (code, err)


def test_malformed_key_is_refused():
    """A key file that is neither 32 bytes nor 64 hex characters is refused."""
    path = key_copy(0o600, b"too short\n")
    code, out, err = run_once(path)
    assert code != 0 and "32 bytes" in err, (code, err)


def test_auth_off_warns_and_serves_without_token():
    """IMAGEREG_AUTH=off logs a warning at start and answers without a token."""
    code, out, err = run_once(os.environ["IMAGEREG_KEY_FILE"], {"IMAGEREG_AUTH": "off"})
    assert code == 0, err
    assert "warn" in err and "authentication is OFF" in err, err
    assert out.startswith("Status: 200"), out


def test_auth_setting_must_be_on_or_off():
    """A misspelt IMAGEREG_AUTH is an error, never silently "off"."""
    code, out, err = run_once(os.environ["IMAGEREG_KEY_FILE"], {"IMAGEREG_AUTH": "no"})
    assert code != 0 and "IMAGEREG_AUTH" in err, (code, err)
