"""The workers' cache: reads need no database round trip, yet every answer is as fresh as the last write.

A write that returned 200 is seen by the next request whichever worker takes it (shared counters), a token revoked
with the CLI fails on its very next request, and a change a DBA makes in psql reaches every worker through
NOTIFY within moments. The log lines say which worker (pid) served which request.
"""

import contextlib
import os
import re
import signal
import time
from datetime import datetime

from lib import LOAD_SECONDS, COLLECTION, create, item_path, psql, request, reset, rounds_within, turn_pause
from seclib import bearer, cli_ok, rand_hex

ROUNDS = 1500           # at most; and at most ROUND_SECONDS, with at least MIN_ROUNDS done
ROUND_SECONDS = 6 * LOAD_SECONDS
MIN_ROUNDS = int(20 * LOAD_SECONDS)
# The responder's cache_max_age (tests/run.sh sets it): each worker reads again once per period regardless.
CACHE_MAX_AGE_S = int(os.environ.get("IMAGEREG_CACHE_MAX_AGE", "30"))
LOG_LINE = re.compile(r" imagereg\[(\d+)\]: (GET|PUT|POST|DELETE) (\S+) (\d{3}) ")


def log_path():
    return os.path.join(os.environ["IMAGEREG_LOGS"], "imagereg.log")


def log_size():
    return os.path.getsize(log_path())


def served_since(offset):
    """(pid, method, path, status) of every request logged after byte offset, in order."""
    with open(log_path(), "rb") as f:
        f.seek(offset)
        text = f.read().decode("utf-8", "replace")
    return [(int(m[1]), m[2], m[3], int(m[4])) for m in LOG_LINE.finditer(text)]


def supervisor_pid():
    with open(os.path.join(os.environ["IMAGEREG_LOGS"], "imagereg.pid")) as f:
        return int(f.read().strip())


def worker_pids():
    """The supervisor's children, read from /proc."""
    parent, pids = supervisor_pid(), set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                pids.add(int(entry))
    return pids


def replace_workers():
    """SIGHUP: the supervisor replaces every worker (new connections, empty caches); wait until all are new."""
    before = worker_pids()
    os.kill(supervisor_pid(), signal.SIGHUP)
    deadline = time.time() + 20
    while time.time() < deadline:
        now = worker_pids()
        if now and not now & before and len(now) == len(before):
            return now
        time.sleep(0.05)
    raise AssertionError("the workers were not replaced within 20 s of SIGHUP")


def notify_triggers(enabled):
    """Turns sql/003's NOTIFY triggers on or off, to test the shared counters on their own."""
    verb = "ENABLE" if enabled else "DISABLE"
    psql("".join(f"ALTER TABLE registry {verb} TRIGGER registry_notify_{event};"
                 for event in ("change", "insert", "update", "delete"))
         + f" ALTER TABLE api_token {verb} TRIGGER api_token_notify_change;")


def read_your_writes(limit, seconds):
    """Up to limit rounds of PUT one / GET one / GET list within seconds; at least MIN_ROUNDS (or limit)."""
    reset()
    first, second = create(namespace="ryw-a"), create(namespace="ryw-b")
    start = log_size()
    rounds = 0
    for i in rounds_within(limit, seconds):
        rounds = i + 1
        target, other = (first, second) if i % 2 == 0 else (second, first)
        namespace = f"ryw-{i}"
        turn_pause()    # the writer goes to the end of the idle queue: the reads right after it go to others
        resp = request("PUT", item_path(target), {"address": "https://ryw.example.com", "provider": "native",
                                                  "namespace": namespace, "is_default": True})
        assert resp.status == 200, f"round {i}: PUT answered {resp.status}: {resp.raw[:200]}"
        one = request("GET", item_path(target))
        assert one.status == 200 and one.json["namespace"] == namespace and one.json["is_default"], \
            f"round {i}: GET one after the PUT answered {one.status} {one.raw[:200]}"
        listed = {r["registry_id"]: r for r in request("GET", COLLECTION).json}
        assert listed[target]["namespace"] == namespace, f"round {i}: the list still shows an old namespace"
        assert listed[target]["is_default"] and not listed[other]["is_default"], \
            f"round {i}: the list shows the default before the PUT"
    assert rounds >= min(limit, int(MIN_ROUNDS * seconds / ROUND_SECONDS)), f"only {rounds} rounds in {seconds:.0f} s"
    served = served_since(start)
    writes = [pid for pid, method, _, _ in served if method == "PUT"]
    reads = [pid for pid, method, _, _ in served if method == "GET"]
    assert len(writes) == rounds and len(reads) == 2 * rounds, f"log shows {len(writes)} PUTs, {len(reads)} GETs"
    # The reads that prove something: those another worker answered than the one that wrote.
    crossed = sum(1 for i in range(rounds) if reads[2 * i] != writes[i])
    workers = worker_pids()
    assert set(reads) >= workers, f"only workers {sorted(set(reads))} of {sorted(workers)} answered reads"
    assert crossed >= rounds // 4, f"only {crossed} of {rounds} reads went to another worker than the write"


def test_every_write_is_read_back_by_whichever_worker_answers():
    read_your_writes(ROUNDS, ROUND_SECONDS)


def test_the_shared_counters_alone_keep_every_worker_fresh():
    """NOTIFY off: what a worker here wrote must still be read back by every other at once."""
    notify_triggers(False)
    try:
        read_your_writes(ROUNDS // 3, ROUND_SECONDS / 2)
        revoke_rounds(3)
    finally:
        notify_triggers(True)


def test_created_and_deleted_registries_show_at_once_everywhere():
    reset()
    for i in range(200):
        rid = create(namespace=f"cd-{i}")
        assert request("GET", item_path(rid)).status == 200, f"round {i}: the new registry is not found"
        assert rid in {r["registry_id"] for r in request("GET", COLLECTION).json}, f"round {i}: not listed"
        assert request("DELETE", item_path(rid)).status == 200
        assert request("GET", item_path(rid)).status == 404, f"round {i}: the deleted registry is still found"
        assert request("GET", COLLECTION).json == [], f"round {i}: the deleted registry is still listed"


def revoke_rounds(rounds):
    for round_ in range(rounds):
        name = f"cache-revoke-{rand_hex(4)}"
        token = cli_ok("token", "create", name, "--scope", "read").strip()
        # Requests until every worker has checked and cached the token (paced: idle workers take turns, so a
        # round of the workers' count usually reaches all of them; 400 is the bound).
        start = log_size()
        for sent in range(1, 401):
            turn_pause()
            assert request("GET", COLLECTION, headers=bearer(token)).status == 200
            if sent % 20 == 0 and {pid for pid, *_ in served_since(start)} == worker_pids():
                break
        assert {pid for pid, *_ in served_since(start)} == worker_pids(), f"round {round_}: not every worker saw it"
        cli_ok("token", "revoke", name)
        for i in range(20):
            resp = request("GET", COLLECTION, headers=bearer(token))
            assert resp.status == 401, f"round {round_}: request {i} after the revocation answered {resp.status}"


def test_a_token_revoked_with_the_cli_fails_on_its_very_next_request():
    revoke_rounds(8)


def wait_until(predicate, seconds):
    """Seconds it took predicate() to hold, polling every 5 ms; fails after seconds."""
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < seconds, f"not seen within {seconds} s"
        time.sleep(0.005)
    return time.monotonic() - start


def test_a_change_made_in_psql_reaches_every_worker_through_notify():
    reset()
    rid = create(namespace="before-dba")
    for _ in range(20):
        request("GET", item_path(rid))
    psql("UPDATE registry SET namespace = 'after-dba' WHERE id = :'p1';", rid)
    wait_until(lambda: request("GET", item_path(rid)).json["namespace"] == "after-dba", 2)
    # Once one worker has it, NOTIFY has long reached the others: none answers the old value.
    for i in range(40):
        assert request("GET", item_path(rid)).json["namespace"] == "after-dba", f"request {i} answered stale"


def test_a_token_revoked_in_psql_stops_working_within_moments():
    name = f"cache-dba-{rand_hex(4)}"
    token = cli_ok("token", "create", name, "--scope", "read").strip()
    for _ in range(20):
        assert request("GET", COLLECTION, headers=bearer(token)).status == 200
    psql("UPDATE api_token SET revoked_at = now() WHERE name = :'p1';", name)
    wait_until(lambda: request("GET", COLLECTION, headers=bearer(token)).status == 401, 2)
    for i in range(40):
        assert request("GET", COLLECTION, headers=bearer(token)).status == 401, f"request {i} let it in again"


PG_LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) \S+ \[(\d+)\]")


def statement_times(log, offset, name):
    """(seconds, backend pid) of each `execute NAME` the server logged after offset (log_line_prefix '%m [%p] ')."""
    out = []
    with open(log, "rb") as f:
        f.seek(offset)
        for line in f.read().decode("utf-8", "replace").splitlines():
            m = PG_LOG_LINE.match(line)
            if m and f"execute {name}:" in line:
                out.append((datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp(), int(m.group(2))))
    return out


def assert_only_aged(log, offset, name, before, period, message):
    """Each `execute NAME` logged after the first `before` of them came at least period seconds after the same
    backend's previous one (a worker has one backend), with 0.5 s for logging delays; message names {pid}, {gap}."""
    last = {}
    for i, (at, pid) in enumerate(statement_times(log, offset, name)):
        if i >= before and pid in last:
            assert at - last[pid] >= period - 0.5, message.format(pid=pid, gap=at - last[pid])
        last[pid] = at


def statement_count(log, offset, name):
    return len(statement_times(log, offset, name))


@contextlib.contextmanager
def statements_logged(namespace):
    """One registry (created with namespace) and every statement of the responder's role logged, by fresh workers
    (empty caches): yields (the server log's path, the registry's id, the workers' pids), or None when the stack's
    PostgreSQL is not its own (no log to read)."""
    server_log = os.path.join(os.environ["IMAGEREG_LOGS"], "pg", "server.log")
    if not os.path.exists(server_log):
        print("# skipped: no stack-owned PostgreSQL log")
        yield None
        return
    reset()
    rid = create(namespace=namespace)
    psql("ALTER ROLE imagereg SET log_statement = 'all';")
    try:
        yield server_log, rid, replace_workers()
    finally:
        psql("ALTER ROLE imagereg RESET log_statement;")
        replace_workers()


def test_reads_are_answered_from_memory():
    """With every statement of the responder's role logged: 400 reads run one load per worker, not 400 queries."""
    with statements_logged("memory") as logged:
        if logged is None:
            return
        server_log, rid, workers = logged
        offset = first_offset = os.path.getsize(server_log)
        start = time.monotonic()
        for i in range(200):
            assert request("GET", COLLECTION).status == 200
            assert request("GET", item_path(rid)).status == 200
        # cache_max_age makes each worker check a token again once per period, notification or not, and compare its
        # list with the table after between half a period and a whole one (drawn, so the workers do not all check
        # together), reading it whole only if it differs; slow builds (ASan) take several periods.
        elapsed = time.monotonic() - start
        per_worker_checks = 1 + int(elapsed / CACHE_MAX_AGE_S)
        per_worker_loads = 1 + int(elapsed / (CACHE_MAX_AGE_S / 2))
        loads = statement_count(server_log, offset, "registry_list")
        checks = statement_count(server_log, offset, "token_check")
        assert 1 <= loads <= per_worker_loads * len(workers), \
            f"{loads} list queries for 400 reads on {len(workers)} workers in {elapsed:.1f} s"
        assert 1 <= checks <= per_worker_checks * len(workers), \
            f"{checks} token checks for 400 reads on {len(workers)} workers in {elapsed:.1f} s"
        # A write through a worker: the others read again the row it changed, not the table. (The writer saw its own
        # notification come back before the write's result, so it moves the "rows" counter: see cache_written.)
        assert request("PUT", item_path(rid), {"address": "https://memory.example.com", "provider": "native",
                                               "namespace": "memory-2"}).status == 200
        checks_before = len(statement_times(server_log, first_offset, "token_check"))
        loads_before = len(statement_times(server_log, first_offset, "registry_list"))
        offset = os.path.getsize(server_log)
        for i in range(100):
            assert request("GET", item_path(rid)).json["namespace"] == "memory-2"
        rows = statement_count(server_log, offset, "registry_rows")
        aged_loads = statement_count(server_log, offset, "registry_list")
        assert rows <= len(workers), f"{rows} reads of the changed row after one write on {len(workers)} workers"
        # A worker that has forgotten its list (the counters moved under it, a slow build) reads it whole instead.
        assert rows + aged_loads >= 1, "no worker read anything again after the write"
        # A whole-list read after the write is only cache_max_age's (a list lives at least half of it); and the
        # token cache ages on its own clock (a registry write leaves it alone).
        assert_only_aged(server_log, first_offset, "registry_list", loads_before, CACHE_MAX_AGE_S / 2,
                         "one write made backend {pid} read the whole list {gap:.2f} s after its previous read")
        assert_only_aged(server_log, first_offset, "token_check", checks_before, CACHE_MAX_AGE_S,
                         "a registry write dropped the token cache: backend {pid} checked again after {gap:.2f} s")


def test_a_list_at_its_age_is_compared_with_the_table_not_read_again():
    """At cache_max_age a worker asks PostgreSQL for the table's row count and fingerprint (registry_fingerprint)
    and reads the list whole only when they differ from the rows it holds: over several ages of a quiet table each
    worker reads it once. Then a write that fires no trigger changes a row version: the next comparison differs,
    and the list is read whole again (t_cache_bound checks what the readers see)."""
    with statements_logged("aged") as logged:
        if logged is None:
            return
        server_log, rid, workers = logged
        offset = os.path.getsize(server_log)
        start = time.monotonic()
        # Three ages at least (a list lives between half of cache_max_age and all of it); paced, so the workers
        # take turns and every one of them reaches its age.
        while time.monotonic() - start < 3 * CACHE_MAX_AGE_S:
            turn_pause()
            assert request("GET", item_path(rid)).status == 200
        loads = statement_times(server_log, offset, "registry_list")
        per_backend = {}
        for _, pid in loads:
            per_backend[pid] = per_backend.get(pid, 0) + 1
        confirms = statement_count(server_log, offset, "registry_fingerprint")
        print(f"# {3 * CACHE_MAX_AGE_S} s quiet on {len(workers)} workers: {len(loads)} list reads, "
              f"{confirms} comparisons")
        assert confirms >= len(workers), f"{confirms} comparisons with the table in {3 * CACHE_MAX_AGE_S} s"
        assert all(n == 1 for n in per_backend.values()), \
            f"a worker read the unchanged list whole more than once: {per_backend}"
        psql(f"SET session_replication_role = replica; UPDATE registry SET namespace = 'aged-2' WHERE id = '{rid}';")
        offset = os.path.getsize(server_log)
        start = time.monotonic()
        while time.monotonic() - start < CACHE_MAX_AGE_S + 1 and not statement_count(server_log, offset,
                                                                                      "registry_list"):
            turn_pause()
            assert request("GET", item_path(rid)).status == 200
        assert statement_count(server_log, offset, "registry_list") >= 1, \
            f"no worker read the list again within {CACHE_MAX_AGE_S + 1} s of a write that fired no trigger"
