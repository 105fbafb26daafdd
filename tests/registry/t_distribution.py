"""The registry check, browsing and `imagereg docker-config` against CNCF Distribution 2.8 (Debian's docker-registry):
no auth over http; htpasswd Basic over TLS from a CA made here; 100+ repositories for the registry's own paging; and
skopeo, a real client, as the consumer of what the CLI writes. Fakes (tests/e2e/fakereg.py) keep what Distribution
cannot do: a Bearer token service and hostile answers."""

import json
import os
import subprocess
import tempfile
import time

from distreg import Distribution
from lib import COLLECTION, assert_error, body, create, item_path, request, reset, secret
from seclib import cli, cli_ok

CHECK_PATH = f"{COLLECTION}/validate"
USER = "imagereg-tester"
REPOS = 105                     # more than the 100 the browse asks the registry for per page


def check(address, **fields):
    resp = request("POST", CHECK_PATH, body(address=address, provider="native", **fields))
    assert resp.status == 200, resp.json
    return resp.json


def repositories(registry_id, query=""):
    return request("GET", f"{item_path(registry_id)}/repositories{query}")


def tags(registry_id, repository, query=""):
    return request("GET", f"{item_path(registry_id)}/repositories/tags?repository={repository}{query}")


def basic_tls():
    """A Distribution with htpasswd Basic over TLS, its password (carrying the secret marker) and body fields."""
    password = secret("pw")
    reg = Distribution(auth=(USER, password), tls=True)
    return reg, password


# ---------------------------------------------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------------------------------------------

def test_open_http_registry_passes_and_sees_its_namespace():
    with Distribution() as reg:
        reg.push("team/app", "v1")
        got = check(reg.address, namespace="team")
        assert got["error_kind"] is None and got["authenticated"] and got["registry_api"], got
        assert got["namespace_visible"] is True and got["cert_expires_in_days"] is None, got
        got = check(reg.address, namespace="nobody")
        assert got["error_kind"] is None and got["namespace_visible"] is False, got
        assert "no repository under namespace nobody" in got["warning"], got


def test_basic_over_tls_with_the_ca_passes_and_reports_certificate_days():
    reg, password = basic_tls()
    with reg:
        reg.push("team/app", "v1")
        got = check(reg.address, namespace="team", access_key=USER, secret_key=password, enable_tls=True,
                    tls_cert=reg.ca_pem)
        assert got["error_kind"] is None and got["tls_verified"] and got["authenticated"], got
        assert got["namespace_visible"] is True, got
        assert got["cert_expires_in_days"] in (59, 60), got
        assert got["warning"] is None, got


def test_basic_over_tls_wrong_password_is_auth_and_no_ca_is_tls():
    reg, password = basic_tls()
    with reg:
        got = check(reg.address, access_key=USER, secret_key=password + "x", enable_tls=True, tls_cert=reg.ca_pem)
        assert got["error_kind"] == "auth" and got["namespace_visible"] is None, got
        got = check(reg.address, access_key=USER, secret_key=password)
        assert got["error_kind"] == "tls" and "system CA store" in got["error"], got


def test_http_sent_to_the_tls_port_says_use_https():
    reg, password = basic_tls()
    with reg:
        got = check(reg.address.replace("https://", "http://"))
        assert got["error_kind"] == "tls" and "https://" in got["error"], got
        assert "HTTP request to an HTTPS server" in got["error"], got


def test_https_sent_to_the_plain_port_says_use_http():
    with Distribution() as reg:
        got = check(reg.address.replace("http://", "https://"))
        assert got["error_kind"] == "tls" and "http://" in got["error"] and "plain http" in got["error"], got


# ---------------------------------------------------------------------------------------------------------------
# Browsing
# ---------------------------------------------------------------------------------------------------------------

def test_browse_105_repositories_follows_the_registrys_paging():
    reset()
    with Distribution() as reg:
        names = [f"team/app{i:03d}" for i in range(REPOS)]
        for name in names:
            reg.push(name, "v1")
        # Neighbours of the namespace on both sides, which must not be listed: "team-x" sorts before "team/".
        for other in ("alpha/one", "team-x/one", "teams/one", "zulu/one"):
            reg.push(other, "v1")
        registry_id = create(address=reg.address, provider="native", namespace="team")
        timings = {}
        t0 = time.monotonic()
        resp = repositories(registry_id)
        timings["all"] = (time.monotonic() - t0) * 1000
        assert resp.status == 200, resp.json
        assert [r["name"] for r in resp.json] == names, resp.json[:3]
        assert resp.headers["x-total-count"] == str(REPOS), resp.headers
        t0 = time.monotonic()
        resp = repositories(registry_id, "?page=3&page_size=50")
        timings["page 3 of 50"] = (time.monotonic() - t0) * 1000
        assert [r["name"] for r in resp.json] == names[100:], resp.json
        assert resp.headers["x-total-count"] == str(REPOS)
        t0 = time.monotonic()
        resp = repositories(registry_id, "?q=APP10")
        timings["q"] = (time.monotonic() - t0) * 1000
        assert [r["name"] for r in resp.json] == names[100:], resp.json
        print("# browse against Distribution, %d repositories under the namespace: %s" %
              (REPOS, ", ".join(f"{k} {v:.0f} ms" for k, v in timings.items())))


def test_tags_with_their_manifest_digests():
    reset()
    with Distribution() as reg:
        digests = {tag: reg.push("team/app", tag, layer=f"layer {tag}\n".encode()) for tag in ("v1", "v2", "latest")}
        registry_id = create(address=reg.address, provider="native", namespace="team")
        resp = tags(registry_id, "team/app")
        assert resp.status == 200, resp.json
        assert {t["name"]: t["digest"] for t in resp.json} == digests, resp.json
        assert resp.headers["x-total-count"] == "3"
        resp = tags(registry_id, "team/app", "&page=2&page_size=2")
        assert len(resp.json) == 1 and resp.headers["x-total-count"] == "3", resp.json
        assert_error(tags(registry_id, "team/missing"), 404, "no such repository")
        assert_error(tags(registry_id, "other/app"), 400, "namespace")


def test_browse_basic_over_tls_with_stored_credentials():
    reset()
    reg, password = basic_tls()
    with reg:
        digest = reg.push("team/app", "v1")
        registry_id = create(address=reg.address, provider="native", namespace="team", access_key=USER,
                             secret_key=password, enable_tls=True, tls_cert=reg.ca_pem)
        resp = repositories(registry_id)
        assert resp.status == 200 and resp.json == [{"name": "team/app"}], resp.json
        resp = tags(registry_id, "team/app")
        assert resp.status == 200 and resp.json == [{"name": "v1", "digest": digest}], resp.json
        # Without the credentials the registry refuses: the registry's answer, not ours (no 401 to our client).
        other = create(address=reg.address, provider="native", namespace="team", enable_tls=True,
                       tls_cert=reg.ca_pem)
        assert_error(repositories(other), 502, "refused")


# ---------------------------------------------------------------------------------------------------------------
# docker-config, tls-cert and skopeo
# ---------------------------------------------------------------------------------------------------------------

def _oci_layout(directory):
    """An OCI image layout with one tiny image, written by hand; returns its path."""
    import hashlib

    def blob(data):
        digest = hashlib.sha256(data).hexdigest()
        os.makedirs(os.path.join(directory, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(directory, "blobs", "sha256", digest), "wb") as f:
            f.write(data)
        return f"sha256:{digest}", len(data)

    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []},
                         "config": {}}).encode()
    cd, cs = blob(config)
    ld, ls = blob(b"pushed by skopeo\n")
    md, ms = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                              "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd,
                                         "size": cs},
                              "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld,
                                          "size": ls}]}).encode())
    with open(os.path.join(directory, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(directory, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                      "digest": md, "size": ms,
                                                      "annotations": {"org.opencontainers.image.ref.name": "v1"}}]},
                  f)
    return directory


def test_skopeo_pushes_and_lists_with_what_the_cli_writes():
    reset()
    reg, password = basic_tls()
    with reg, tempfile.TemporaryDirectory() as tmp:
        registry_id = create(address=reg.address, provider="native", namespace="team", access_key=USER,
                             secret_key=password, enable_tls=True, tls_cert=reg.ca_pem)
        auth = os.path.join(tmp, "config.json")
        with open(auth, "w") as f:
            json.dump({"auths": {"other.example.com": {"auth": "b3RoZXI6cGFzcw=="}}}, f)
        cli_ok("docker-config", registry_id, "--output", auth)
        certs = os.path.join(tmp, "certs.d")
        cli_ok("tls-cert", registry_id, "--certs-dir", certs)
        cert_dir = os.path.join(certs, reg.hostport)
        with open(auth) as f:
            assert "other.example.com" in json.load(f)["auths"], "another login was dropped"
        layout = _oci_layout(os.path.join(tmp, "layout"))
        push = subprocess.run(["skopeo", "copy", "--quiet", "--authfile", auth, "--dest-cert-dir", cert_dir,
                               f"oci:{layout}:v1", f"docker://{reg.hostport}/team/pushed:v1"],
                              capture_output=True, text=True, timeout=120)
        assert push.returncode == 0, push.stderr
        listed = subprocess.run(["skopeo", "list-tags", "--authfile", auth, "--cert-dir", cert_dir,
                                 f"docker://{reg.hostport}/team/pushed"], capture_output=True, text=True, timeout=120)
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout)["Tags"] == ["v1"], listed.stdout
        # And the API sees what skopeo pushed.
        resp = repositories(registry_id)
        assert resp.status == 200 and resp.json == [{"name": "team/pushed"}], resp.json


def test_docker_config_refuses_the_open_registry():
    reset()
    with Distribution() as reg:
        registry_id = create(address=reg.address, provider="native", namespace="team")
        proc = cli("docker-config", registry_id)
        assert proc.returncode == 1 and proc.stdout == "", (proc.returncode, proc.stdout)
