"""Saves that succeed but would surprise their author answer success with a `warning`: credentials on a plain http://
address (stored credentials never go over plain http, so every stored check fails), tls_cert with enable_tls false
(stored, not used). Anything else answers exactly as before."""

from lib import COLLECTION, TEST_CERT, body, item_path, request, reset, secret


def _create(**fields):
    resp = request("POST", COLLECTION, body(**fields))
    assert resp.status == 200, resp.json
    return resp.json


def test_credentials_on_an_http_address_are_saved_with_a_warning():
    reset()
    got = _create(address="http://reg.example.com", access_key=secret("ak"), secret_key=secret("sk"))
    assert set(got) == {"message", "registry_id", "warning"} and got["message"] == "success", got
    assert "http" in got["warning"] and "credentials" in got["warning"], got


def test_tls_cert_with_enable_tls_false_is_saved_with_a_warning():
    reset()
    got = _create(address="https://reg.example.com", enable_tls=False, tls_cert=TEST_CERT)
    assert "tls_cert" in got.get("warning", ""), got


def test_both_warnings_are_joined_and_put_warns_too():
    reset()
    got = _create(address="https://reg.example.com")
    resp = request("PUT", item_path(got["registry_id"]),
                   body(address="http://reg.example.com", access_key=secret("ak"), secret_key=secret("sk"),
                        enable_tls=False, tls_cert=TEST_CERT))
    assert resp.status == 200, resp.json
    assert "http" in resp.json["warning"] and "; tls_cert" in resp.json["warning"], resp.json


def test_unsurprising_saves_answer_exactly_as_before():
    reset()
    got = _create(address="https://reg.example.com", access_key=secret("ak"), secret_key=secret("sk"),
                  enable_tls=True, tls_cert=TEST_CERT)
    assert set(got) == {"message", "registry_id"}, got
    got = _create(address="http://open.example.com")
    assert set(got) == {"message", "registry_id"}, got
