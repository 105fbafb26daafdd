"""CNCF Distribution (Debian's docker-registry) on loopback for the tests: plain http without auth, or htpasswd Basic over
TLS with a CA made here; filled through the Registry API itself (a monolithic blob upload and a manifest PUT per
image), which is fast enough for 100+ repositories. Stopped by PID."""

import base64
import hashlib
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

BINARY = "/usr/bin/docker-registry"
START_TIMEOUT_S = 20


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_ca_and_cert(directory):
    """A CA and a server certificate for 127.0.0.1 signed by it (90 days); returns (ca.pem, cert.pem, key.pem)."""
    ca_key, ca = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.pem")
    key, csr, cert = (os.path.join(directory, n) for n in ("server.key", "server.csr", "server.pem"))
    ext = os.path.join(directory, "ext.cnf")
    run = lambda *args: subprocess.run(args, check=True, capture_output=True, timeout=60)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_key,
        "-out", ca, "-days", "90", "-subj", "/CN=imagereg test CA")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=127.0.0.1")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
        "-days", "60", "-extfile", ext)
    return ca, cert, key


class Distribution:
    """One registry process. auth=(user, password) turns on htpasswd Basic; tls=True serves https with a test CA."""

    def __init__(self, auth=None, tls=False):
        self.auth, self.tls = auth, tls
        self.dir = tempfile.mkdtemp(prefix="imagereg-distribution.")
        self.port = free_port()
        self.proc = None
        self.ca_pem = None

    @property
    def address(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def hostport(self):
        return f"127.0.0.1:{self.port}"

    def __enter__(self):
        lines = ["version: 0.1", "log:", "  level: error", "  accesslog:", "    disabled: true", "storage:",
                 "  filesystem:", f"    rootdirectory: {self.dir}/data", "  delete:", "    enabled: true",
                 "http:", f"  addr: 127.0.0.1:{self.port}", "  secret: imagereg-test-secret"]
        if self.tls:
            ca, cert, key = make_ca_and_cert(self.dir)
            with open(ca) as f:
                self.ca_pem = f.read()
            self.ca_file = ca
            lines += ["  tls:", f"    certificate: {cert}", f"    key: {key}"]
        if self.auth:
            out = subprocess.run(["htpasswd", "-Bbn", *self.auth], check=True, capture_output=True, text=True,
                                 timeout=60).stdout
            with open(os.path.join(self.dir, "htpasswd"), "w") as f:
                f.write(out)
            lines += ["auth:", "  htpasswd:", "    realm: imagereg-test", f"    path: {self.dir}/htpasswd"]
        config = os.path.join(self.dir, "config.yml")
        with open(config, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.log = open(os.path.join(self.dir, "registry.log"), "w")
        self.proc = subprocess.Popen([BINARY, "serve", config], stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                status, _, _ = self.request("GET", "/v2/")
                if status in (200, 401):
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"docker-registry did not start: {open(os.path.join(self.dir, 'registry.log')).read()}")

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _connection(self):
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.ca_file)
            return http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=10)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def request(self, method, path, body=None, headers=None):
        hdrs = dict(headers or {})
        if self.auth:
            hdrs["Authorization"] = "Basic " + base64.b64encode(":".join(self.auth).encode()).decode()
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def _blob(self, repo, data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        # Distribution 2.8 does not take a monolithic POST: open an upload, then PUT the bytes with the digest.
        status, headers, body = self.request("POST", f"/v2/{repo}/blobs/uploads/")
        assert status == 202, f"blob upload to {repo}: {status} {body[:200]!r}"
        location = headers["location"]
        if location.startswith("http"):
            location = "/" + location.split("/", 3)[3]
        sep = "&" if "?" in location else "?"
        status, headers, body = self.request("PUT", f"{location}{sep}digest={digest}", body=data,
                                             headers={"Content-Type": "application/octet-stream",
                                                      "Content-Length": str(len(data))})
        assert status == 201, f"blob PUT to {repo}: {status} {body[:200]!r}"
        return digest

    def push(self, repo, tag, layer=b"imagereg test layer\n"):
        """An image with one layer and a tiny config, through the API; returns the manifest digest."""
        config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []},
                             "config": {}}).encode()
        config_digest = self._blob(repo, config)
        layer_digest = self._blob(repo, layer)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                       "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest,
                        "size": len(layer)}]}).encode()
        status, headers, body = self.request("PUT", f"/v2/{repo}/manifests/{tag}", body=manifest,
                                             headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
        assert status == 201, f"manifest PUT {repo}:{tag}: {status} {body[:200]!r}"
        return headers.get("docker-content-digest")


def main(argv):
    """`distreg.py [REPO:TAG ...]`: a plain-http registry with these images; prints its address, stops at EOF on stdin.

    For the console test (node), which cannot start one itself as simply."""
    import sys
    with Distribution() as reg:
        for ref in argv:
            repo, tag = ref.rsplit(":", 1)
            reg.push(repo, tag, layer=f"layer {ref}\n".encode())
        print(reg.address, flush=True)
        sys.stdin.read()
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv[1:]))
