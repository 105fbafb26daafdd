"""The responders' caches are exact for every writer that fires the triggers, and bounded for writers that do not
(session_replication_role = replica, disabled triggers, a restore): a worker checks with PostgreSQL at least every
cache_max_age seconds (the suite runs with IMAGEREG_CACHE_MAX_AGE, 3 s). `imagereg cache flush` and a plain
NOTIFY imagereg_change clear every worker at once."""

import os
import subprocess
import time

from lib import COLLECTION, body, item_path, psql, request, reset, turn_pause

MAX_AGE_S = int(os.environ.get("IMAGEREG_CACHE_MAX_AGE", "30"))
READS = 24   # several times the workers: paced, every worker has answered


def _read(path, headers):
    turn_pause()
    return request("GET", path, headers=headers)


def _all_reads(path, want, reads=READS, headers=None):
    """True when `reads` paced GETs in a row all satisfy want(resp)."""
    return all(want(_read(path, headers)) for _ in range(reads))


def _until(path, want, limit, headers=None):
    """Seconds until every worker answers as want says (READS reads in a row); fails after limit seconds."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if _all_reads(path, want, headers=headers):
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"{path} still stale after {limit} s")


def _bypassing(sql):
    """Run sql as a writer that fires no trigger (so sends no NOTIFY and bumps no counter)."""
    psql(f"SET session_replication_role = replica; {sql}")


def _namespace_is(value):
    return lambda r: r.status == 200 and r.json["namespace"] == value


def _one_registry():
    reset()
    assert request("POST", COLLECTION, body=body()).status == 200
    rid = request("GET", COLLECTION).json[0]["registry_id"]
    assert _all_reads(item_path(rid), lambda r: r.status == 200)   # every worker has it cached
    return rid


def test_a_write_that_fires_no_trigger_is_seen_within_cache_max_age():
    rid = _one_registry()
    _bypassing(f"UPDATE registry SET namespace = 'bypassed' WHERE id = '{rid}';")
    took = _until(item_path(rid), _namespace_is("bypassed"), MAX_AGE_S + 3)
    print(f"# registry change without NOTIFY seen by every worker after {took:.2f} s (cache_max_age {MAX_AGE_S} s)")
    assert took <= MAX_AGE_S + 1.5, f"seen after {took:.2f} s, bound is {MAX_AGE_S} s"


def test_rows_added_and_removed_without_triggers_are_seen_within_cache_max_age():
    rid = _one_registry()
    _bypassing("INSERT INTO registry (address, provider, namespace) "
               "VALUES ('https://bypass-added.example.com', 'native', 'bypass-added');")
    added = psql("SELECT id FROM registry WHERE namespace = 'bypass-added';").strip()
    took = _until(item_path(added), lambda r: r.status == 200, MAX_AGE_S + 3)
    print(f"# row inserted without NOTIFY answered by every worker after {took:.2f} s")
    assert took <= MAX_AGE_S + 1.5, f"seen after {took:.2f} s, bound is {MAX_AGE_S} s"
    _bypassing(f"DELETE FROM registry WHERE id = '{rid}';")
    took = _until(item_path(rid), lambda r: r.status == 404, MAX_AGE_S + 3)
    print(f"# row deleted without NOTIFY gone from every worker after {took:.2f} s")
    assert took <= MAX_AGE_S + 1.5, f"gone after {took:.2f} s, bound is {MAX_AGE_S} s"


def test_a_token_revoked_without_triggers_fails_within_cache_max_age():
    name = f"t-cache-bound-{os.getpid()}-{time.monotonic_ns()}"
    token = subprocess.run([os.environ["IMAGEREG_CLI"], "token", "create", name, "--scope", "read"],
                           capture_output=True, text=True, check=True).stdout.strip()
    auth = {"Authorization": f"Bearer {token}"}
    assert _all_reads(COLLECTION, lambda r: r.status == 200, headers=auth)
    _bypassing(f"UPDATE api_token SET revoked_at = now() WHERE name = '{name}';")
    took = _until(COLLECTION, lambda r: r.status == 401, MAX_AGE_S + 3, headers=auth)
    print(f"# token revoked without NOTIFY refused by every worker after {took:.2f} s")
    assert took <= MAX_AGE_S + 1.5, f"refused after {took:.2f} s, bound is {MAX_AGE_S} s"


def test_cache_flush_makes_every_worker_read_again_at_once():
    rid = _one_registry()
    _bypassing(f"UPDATE registry SET namespace = 'flushed' WHERE id = '{rid}';")
    out = subprocess.run([os.environ["IMAGEREG_CLI"], "cache", "flush"], capture_output=True, text=True, check=True)
    assert "cache flush" in out.stdout
    assert _all_reads(item_path(rid), _namespace_is("flushed")), "a worker answered from its old cache after a flush"


def test_a_plain_notify_makes_every_worker_read_again():
    rid = _one_registry()
    _bypassing(f"UPDATE registry SET namespace = 'notified' WHERE id = '{rid}';")
    psql("NOTIFY imagereg_change;")
    # Delivery is asynchronous: well under a second, far under cache_max_age.
    took = _until(item_path(rid), _namespace_is("notified"), 1.0)
    print(f"# NOTIFY imagereg_change: every worker fresh after {took * 1000:.0f} ms")
