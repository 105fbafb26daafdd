"""Browsing a stored registry through the responder, against fakes (the real registry is tests/registry): a Bearer
token per scope, unsupported providers, the SSRF guard, the host's bound, read scope, and the query's rules."""

import threading
import time

from fakereg import FakeRegistry
from lib import assert_error, create, item_path, request, reset
from seclib import NO_AUTH
from t_registry_check import creds


def repositories(registry_id, query="", headers=None):
    return request("GET", f"{item_path(registry_id)}/repositories{query}", headers=headers)


def tags(registry_id, query):
    return request("GET", f"{item_path(registry_id)}/repositories/tags{query}")


def test_bearer_registry_lists_with_a_token_for_each_scope_and_read_scope_is_enough():
    reset()
    user, password, fields = creds()
    with FakeRegistry("bearer", user=user, password=password, token="tok-browse", tls=True) as reg:
        registry_id = create(address=reg.address, provider="native", namespace="team", enable_tls=True,
                             tls_cert=reg.cert_pem, **fields)
        resp = repositories(registry_id, headers={"Authorization": f"Bearer {__import__('os').environ['IMAGEREG_READ_TOKEN']}"})
        assert resp.status == 200, resp.json
        assert resp.json == [{"name": "team/app"}, {"name": "team/web"}], resp.json
        assert resp.headers["x-total-count"] == "2"
        resp = tags(registry_id, "?repository=team/app")
        assert resp.status == 200 and resp.json == [{"name": "v1", "digest": None}], resp.json
        scopes = [path for _, path, _ in reg.requests if path.startswith("/token")]
        assert any("registry%3acatalog" in s.lower() for s in scopes), scopes
        assert any("repository%3ateam%2fapp%3apull" in s.lower() for s in scopes), scopes


def test_ecr_and_docker_hub_catalog_are_unsupported_not_empty():
    reset()
    ecr = create(address="https://1.dkr.ecr.eu-west-1.amazonaws.com", provider="ecr", region="eu-west-1")
    assert_error(repositories(ecr), 422, "unsupported")
    assert_error(tags(ecr, "?repository=team/app"), 422, "unsupported")
    hub = create(address="https://registry-1.docker.io", provider="dockerhub", namespace="team")
    assert_error(repositories(hub), 422, "catalog")


def test_a_registry_without_the_catalog_api_is_unsupported_and_a_web_server_is_502():
    reset()
    user, password, fields = creds()
    with FakeRegistry("basic", user=user, password=password, tls=True) as reg:
        registry_id = create(address=reg.address, provider="native", namespace="team", enable_tls=True,
                             tls_cert=reg.cert_pem, **fields)
        assert_error(repositories(registry_id), 422, "catalog")
    with FakeRegistry("anonymous") as reg:
        registry_id = create(address=reg.address, provider="native", namespace="team")
        assert_error(repositories(registry_id), 502, "JSON")


def test_the_ssrf_guard_applies():
    reset()
    registry_id = create(address="http://169.254.169.254", provider="native", namespace="team")
    assert_error(repositories(registry_id), 502, "SSRF")


def test_browsing_takes_one_of_the_hosts_slots():
    reset()
    with FakeRegistry("hang") as reg:
        registry_id = create(address=reg.address, provider="native", namespace="team")
        holder = threading.Thread(target=repositories, args=(registry_id,))
        holder.start()
        time.sleep(0.5)
        t0 = time.monotonic()
        resp = repositories(registry_id)
        assert time.monotonic() - t0 < 1.0
        assert_error(resp, 429, "check_concurrency")
        assert resp.headers.get("retry-after") == "5", resp.headers
        holder.join()


def test_a_hung_registry_is_504():
    reset()
    with FakeRegistry("hang") as reg:
        registry_id = create(address=reg.address, provider="native", namespace="team")
        assert_error(repositories(registry_id), 504, "check_timeout")


def test_query_rules():
    reset()
    registry_id = create(address="https://reg.example.com", provider="native", namespace="team")
    assert_error(tags(registry_id, ""), 400, "repository")
    assert_error(tags(registry_id, "?repository=team/../x"), 400, "repository")
    assert_error(tags(registry_id, "?repository=Team/App"), 400, "repository")
    assert_error(tags(registry_id, "?repository=team/app/"), 400, "repository")
    assert_error(tags(registry_id, "?repository=other/app"), 400, "namespace")
    assert_error(repositories(registry_id, "?provider=harbor"), 400, "provider")
    assert_error(repositories(registry_id, "?repository=team/app"), 400, "repository")
    assert_error(repositories(registry_id, "?page_size=101"), 400, "page_size")
    assert_error(repositories("0123456789abcdef01234567"), 404, "not found")
    assert repositories(registry_id, headers=NO_AUTH).status == 401


def test_a_next_page_link_off_the_registry_is_not_followed():
    """A registry's Link rel="next" to another host would carry the credentials there: refused, not followed."""
    import http.server
    import json as _json

    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            seen.append(self.path)
            data = _json.dumps({"repositories": ["team/a"]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Docker-Distribution-API-Version", "registry/2.0")
            self.send_header("Link", '<http://127.0.0.2:9/v2/_catalog?last=team%2Fa&n=100>; rel="next"')
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        reset()
        registry_id = create(address=f"http://127.0.0.1:{server.server_address[1]}", provider="native",
                             namespace="team")
        assert_error(repositories(registry_id), 502, "next-page link")
        assert len(seen) == 1, seen
    finally:
        server.shutdown()
        server.server_close()
