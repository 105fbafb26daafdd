"""Bounded mixed load through nginx, then the invariants.

LOAD_CONCURRENCY threads (default 64), each with its own kept-alive http.client connection to nginx, send POST, PUT,
DELETE and GET (item and list) for LOAD_SECONDS (default 30); half of the POSTs and PUTs set is_default. Every
response is recorded. Afterwards a summary line (requests, statuses, req/s, latencies) is printed, then:
- no 5xx, no request without an answer, no status outside what each operation may answer, none slower than 10 s;
- the table holds exactly the registries whose POST answered 200 and whose DELETE did not (psql), no registry was
  deleted twice, and each of them reads back with GET 200;
- exactly one default when any registry exists, in the table and in the API.

The test stops by itself: threads stop sending at the deadline and a hung request is abandoned after CLIENT_TIMEOUT.
"""

import http.client
import json
import os
import random
import threading
import time
import urllib.parse
from collections import Counter, namedtuple
from concurrent.futures import ThreadPoolExecutor

import lib
from lib import COLLECTION, item_path

SECONDS = float(os.environ.get("LOAD_SECONDS", "30"))
CONCURRENCY = int(os.environ.get("LOAD_CONCURRENCY", "64"))
MAX_LATENCY = 10.0
CLIENT_TIMEOUT = 20.0
# Operation weights; "LIST" is GET of the collection, "GET" of one registry.
MIX = (("POST", 25), ("PUT", 20), ("DELETE", 18), ("GET", 30), ("LIST", 7))
ALLOWED = {"POST": {200}, "PUT": {200, 404}, "DELETE": {200, 404}, "GET": {200, 404}, "LIST": {200}}
PROVIDERS = ("harbor", "dockerhub", "native", "nexus", "acr")

Rec = namedtuple("Rec", "op registry_id status elapsed body error")


class Load:
    """Shared state of one load run: ids known to exist, and every response."""

    def __init__(self):
        self.lock = threading.Lock()
        self.live = []                  # ids created (POST 200) and not yet deleted (DELETE 200)
        self.records = []
        self.seq = 0

    def pick(self):
        with self.lock:
            return random.choice(self.live) if self.live else None

    def next_seq(self):
        with self.lock:
            self.seq += 1
            return self.seq

    def record(self, rec):
        with self.lock:
            self.records.append(rec)
            if rec.status == 200 and rec.op == "POST" and rec.registry_id:
                self.live.append(rec.registry_id)
            elif rec.status == 200 and rec.op == "DELETE":
                try:
                    self.live.remove(rec.registry_id)
                except ValueError:
                    pass


def _connection():
    parts = urllib.parse.urlsplit(lib.base_url())
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=CLIENT_TIMEOUT)


def _body(seq, is_default):
    return {"address": "https://load.example.com", "provider": random.choice(PROVIDERS),
            "namespace": f"load-{seq}", "is_default": is_default}


def _one(conn, load, op):
    """Send one operation on conn; return a Rec (status None and error set when there was no answer)."""
    registry_id, payload = None, None
    if op in ("PUT", "DELETE", "GET"):
        registry_id = load.pick()
        if registry_id is None:
            op = "POST"
    if op == "POST":
        method, path, payload = "POST", COLLECTION, _body(load.next_seq(), random.random() < 0.5)
    elif op == "PUT":
        method, path, payload = "PUT", item_path(registry_id), _body(load.next_seq(), random.random() < 0.5)
    elif op == "LIST":
        method, path = "GET", COLLECTION
    else:
        method, path = op, item_path(registry_id)
    headers = dict(lib.auth_headers())
    data = None
    if payload is not None:
        data = json.dumps(payload).encode()
        headers["Content-Type"] = "application/json"
    start = time.monotonic()
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
    except (OSError, http.client.HTTPException) as exc:
        return Rec(op, registry_id, None, time.monotonic() - start, b"", f"{type(exc).__name__}: {exc}")
    elapsed = time.monotonic() - start
    if op == "POST" and resp.status == 200:
        try:
            registry_id = json.loads(raw)["registry_id"]
        except (ValueError, KeyError, TypeError):
            registry_id = None
    return Rec(op, registry_id, resp.status, elapsed, raw[:200] if resp.status != 200 or op == "POST" else b"", None)


def _worker(load, deadline, ops, weights):
    conn = _connection()
    try:
        while time.monotonic() < deadline:
            rec = _one(conn, load, random.choices(ops, weights)[0])
            load.record(rec)
            if rec.error:               # start afresh after a broken connection
                conn.close()
                conn = _connection()
    finally:
        conn.close()


def run_load(seconds, concurrency):
    load = Load()
    ops, weights = zip(*MIX)
    start = time.monotonic()
    deadline = start + seconds
    threads = [threading.Thread(target=_worker, args=(load, deadline, ops, weights), daemon=True,
                                name=f"load-{i}") for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.1, deadline + CLIENT_TIMEOUT + 5 - time.monotonic()))
    stuck = [t.name for t in threads if t.is_alive()]
    return load, time.monotonic() - start, stuck


def _percentile(values, fraction):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summary(records, elapsed, concurrency):
    statuses = Counter(r.status if r.status is not None else "none" for r in records)
    by_op = {op: Counter(r.status if r.status is not None else "none" for r in records if r.op == op)
             for op, _ in MIX}
    times = [r.elapsed for r in records]
    ops = "; ".join(f"{op} " + ",".join(f"{s}={n}" for s, n in sorted(c.items(), key=str)) for op, c in by_op.items())
    return (f"LOAD {len(records)} requests in {elapsed:.1f}s = {len(records) / elapsed:.0f} req/s at {concurrency} "
            f"connections; statuses " + ", ".join(f"{s}={n}" for s, n in sorted(statuses.items(), key=str))
            + f"; {ops}; latency p50 {_percentile(times, 0.5) * 1000:.0f} ms, p99 {_percentile(times, 0.99) * 1000:.0f}"
            f" ms, max {max(times, default=0) * 1000:.0f} ms")


def _show(recs, limit=5):
    return "; ".join(f"{r.op} {r.registry_id} -> {r.status} {r.error or ''} {lib.short(r.body, 150)} "
                     f"({r.elapsed:.2f}s)" for r in recs[:limit])


def test_mixed_load_keeps_every_invariant():
    """LOAD_SECONDS of POST/PUT/DELETE/GET at LOAD_CONCURRENCY connections: no 5xx, answers within 10 s, the table
    matches the successful creates and deletes, every surviving registry is readable and exactly one is default."""
    lib.reset()
    load, elapsed, stuck = run_load(SECONDS, CONCURRENCY)
    records = load.records
    print(summary(records, elapsed, CONCURRENCY), flush=True)

    assert not stuck, f"threads still running after the deadline: {stuck[:5]}"
    assert records, "no request was sent"
    unanswered = [r for r in records if r.status is None]
    assert not unanswered, f"{len(unanswered)} requests got no answer: {_show(unanswered)}"
    server_errors = [r for r in records if r.status >= 500]
    assert not server_errors, f"{len(server_errors)} answers were 5xx: {_show(server_errors)}"
    unexpected = [r for r in records if r.status not in ALLOWED[r.op]]
    assert not unexpected, f"{len(unexpected)} unexpected statuses: {_show(unexpected)}"
    slow = sorted((r for r in records if r.elapsed > MAX_LATENCY), key=lambda r: -r.elapsed)
    assert not slow, f"{len(slow)} requests took longer than {MAX_LATENCY:.0f}s: {_show(slow)}"

    created = [r.registry_id for r in records if r.op == "POST" and r.status == 200]
    assert all(created) and len(set(created)) == len(created), "a successful POST returned no id or a repeated id"
    deleted = Counter(r.registry_id for r in records if r.op == "DELETE" and r.status == 200)
    twice = [i for i, n in deleted.items() if n > 1]
    assert not twice, f"registries deleted with 200 more than once: {twice[:5]}"
    foreign = set(deleted) - set(created)
    assert not foreign, f"DELETE 200 for ids never created: {sorted(foreign)[:5]}"
    expected = set(created) - set(deleted)

    count = int(lib.psql("SELECT count(*) FROM registry;").strip())
    assert count == len(created) - len(deleted), \
        f"table has {count} rows, {len(created)} creates - {len(deleted)} deletes = {len(created) - len(deleted)}"
    in_db = {lib.row_id(r) for r in lib.db_rows()}
    assert in_db == expected, (f"table ids differ: missing {sorted(expected - in_db)[:5]}, "
                               f"unexpected {sorted(in_db - expected)[:5]}")

    def read(registry_id):
        return registry_id, lib.request("GET", item_path(registry_id)).status
    with ThreadPoolExecutor(max_workers=16) as pool:
        unreadable = [(i, s) for i, s in pool.map(read, sorted(expected)) if s != 200]
    assert not unreadable, f"{len(unreadable)} surviving registries do not read back: {unreadable[:5]}"

    if expected:
        lib.assert_one_default()
    else:
        assert lib.list_registries() == [] and lib.db_defaults() == [], "no registry left but a default or a row"
    lib.reset()     # thousands of rows would only slow down whatever runs next
