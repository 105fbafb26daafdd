"""A DBA's open transaction holds the registry write lock: API writes wait at most lock_timeout (1 s by default) and
then answer 503 with Retry-After and words that say what is in the way; reads go on; once the transaction ends,
writes work again."""

import os
import subprocess
import time

from lib import COLLECTION, body, item_path, psql, request, reset

LOCK_TIMEOUT_S = int(os.environ.get("IMAGEREG_LOCK_TIMEOUT", "1000")) / 1000


def _hold_writer_lock(seconds):
    """A psql session that writes to registry and keeps its transaction open; returns it once the lock is held."""
    proc = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    proc.stdin.write("SET application_name = 't_db_lock';\nBEGIN;\n"
                     "UPDATE registry SET namespace = namespace || '-dba';\n"
                     f"SELECT pg_sleep({seconds});\nCOMMIT;\n")
    proc.stdin.flush()
    for _ in range(100):
        held = psql("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                    " WHERE a.application_name = 't_db_lock' AND l.locktype = 'advisory' AND l.granted"
                    " AND l.objid = 1701995879;").strip()
        if held == "1":
            return proc
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the psql session never took the registry write lock")


def _end(proc):
    proc.kill()
    proc.wait(timeout=10)
    psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 't_db_lock';")


def test_writes_answer_503_with_retry_after_while_a_transaction_holds_the_lock():
    reset()
    created = request("POST", COLLECTION, body=body())
    assert created.status == 200, created.raw
    rid = request("GET", COLLECTION).json[0]["registry_id"]
    proc = _hold_writer_lock(10)
    try:
        for method, path, payload in (("PUT", item_path(rid), body(namespace="other")),
                                      ("POST", COLLECTION, body(address="https://second.example")),
                                      ("DELETE", item_path(rid), None)):
            start = time.monotonic()
            resp = request(method, path, body=payload)
            took = time.monotonic() - start
            assert resp.status == 503, f"{method}: {resp.status} {resp.raw}"
            assert resp.headers.get("retry-after") == "1", f"{method}: no Retry-After: {resp.headers}"
            assert "another transaction holds the registry write lock" in resp.json["description"], resp.json
            assert resp.json["code"] == 503 and resp.json["type"] == "error"
            assert LOCK_TIMEOUT_S * 0.8 <= took <= LOCK_TIMEOUT_S + 1.5, f"{method} answered after {took:.2f} s"
            print(f"# {method} during the hold: 503 after {took * 1000:.0f} ms: {resp.json['description']}")
        # Readers take no lock.
        assert request("GET", COLLECTION).status == 200
        assert request("GET", item_path(rid)).status == 200
    finally:
        _end(proc)
    resp = request("PUT", item_path(rid), body=body(namespace="after"))
    assert resp.status == 200, resp.raw
    assert len(request("GET", COLLECTION).json) == 1, "a refused POST created a registry"
