"""What a registry client gets from the CLI: `imagereg docker-config` (refuses a registry without credentials; --output
merges into an existing config.json, mode 0600, atomically) and `imagereg tls-cert` (PEM, or certs.d/<host>/ca.crt)."""

import base64
import json
import os
import stat
import tempfile

from lib import TEST_CERT, create, reset
from seclib import cli, cli_ok, new_secrets


def _basic(access, secret):
    return base64.b64encode(f"{access}:{secret}".encode()).decode()


def test_docker_config_refuses_a_registry_without_credentials():
    reset()
    registry_id = create(address="https://open.example.com")
    proc = cli("docker-config", registry_id)
    assert proc.returncode == 1, f"exit {proc.returncode}: {proc.stdout!r}"
    assert proc.stdout == "", f"printed {proc.stdout!r}"
    assert "access_key" in proc.stderr and "open.example.com" in proc.stderr, proc.stderr


def test_docker_config_output_merges_keeps_other_logins_and_is_0600():
    reset()
    access, secret = new_secrets()
    registry_id = create(address="https://reg.example.com:5000/team", access_key=access, secret_key=secret)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "config.json")
        other = {"auths": {"other.example.com": {"auth": "b3RoZXI6cGFzcw=="},
                           "reg.example.com:5000": {"auth": "b2xkOm9sZA=="}},
                 "credsStore": "", "HttpHeaders": {"User-Agent": "x"}}
        with open(path, "w") as f:
            json.dump(other, f)
        os.chmod(path, 0o644)
        old_umask = os.umask(0o022)
        try:
            proc = cli("docker-config", registry_id, "--output", path)
        finally:
            os.umask(old_umask)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "", f"--output printed {proc.stdout!r}"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, oct(os.stat(path).st_mode)
        with open(path) as f:
            got = json.load(f)
        assert got["auths"]["other.example.com"] == {"auth": "b3RoZXI6cGFzcw=="}, got
        assert got["auths"]["reg.example.com:5000"] == {"auth": _basic(access, secret)}, got
        assert got["HttpHeaders"] == {"User-Agent": "x"} and "credsStore" in got, got
        assert sorted(os.listdir(tmp)) == ["config.json"], f"left behind: {os.listdir(tmp)}"


def test_docker_config_output_creates_a_new_file_0600_and_refuses_to_clobber_garbage():
    reset()
    access, secret = new_secrets()
    registry_id = create(address="https://reg.example.com", access_key=access, secret_key=secret)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "config.json")
        cli_ok("docker-config", registry_id, "--output", path)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with open(path) as f:
            assert json.load(f) == {"auths": {"reg.example.com": {"auth": _basic(access, secret)}}}
        with open(path, "w") as f:
            f.write("not json {")
        proc = cli("docker-config", registry_id, "--output", path)
        assert proc.returncode == 1 and "not touched" in proc.stderr, proc.stderr
        with open(path) as f:
            assert f.read() == "not json {", "a file that is not a config.json was overwritten"


def test_tls_cert_prints_pem_or_writes_certs_d_layout():
    reset()
    registry_id = create(address="https://reg.example.com:5443", enable_tls=True, tls_cert=TEST_CERT)
    out = cli_ok("tls-cert", registry_id)
    assert out.strip() == TEST_CERT.strip(), out
    with tempfile.TemporaryDirectory() as tmp:
        cli_ok("tls-cert", registry_id, "--certs-dir", os.path.join(tmp, "certs.d"))
        with open(os.path.join(tmp, "certs.d", "reg.example.com:5443", "ca.crt")) as f:
            assert f.read().strip() == TEST_CERT.strip()
    plain = create(address="https://plain.example.com")
    proc = cli("tls-cert", plain)
    assert proc.returncode == 1 and "no tls_cert" in proc.stderr, proc.stderr
