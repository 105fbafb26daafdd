"""A change costs the rows it touched: workers re-read the registries a notification names, not the table.

The triggers notify registry:<id>,<id>... per statement (at most 300 ids; more: registry, a full reload). Each test
compares what every worker answers with the table itself, after inserts, updates, deletes and default moves made in
psql (which bumps no counter on this host: only the notification tells the workers), and after statements too large
for the row path.
"""

import os
import time

from lib import COLLECTION, create, item_path, psql, request, reset, turn_pause
from t_cache import log_size, served_since

WORKER_SPREAD = 24      # paced requests per check: enough that every worker of the stack answers some
CONVERGE_S = 1.0        # NOTIFY latency allowed after a psql write


def table_rows():
    """The registries as the database orders them: [(id, namespace, is_default, provider, address)]."""
    out = psql("SELECT id || '|' || namespace || '|' || is_default || '|' || provider || '|' || address "
               "FROM registry ORDER BY created_at, id;")
    return [(i, n, d == "true", p, a) for i, n, d, p, a in (line.split("|") for line in out.split())]


def table_list():
    """The list as the database orders it: [(id, namespace, is_default)]."""
    return [row[:3] for row in table_rows()]


# Filtered pages read between the plain lists: a worker keeps the count of a filter's matches until its rows
# change (X-Total-Count without looking at every row), so a count kept from before a change must not outlive it.
# (query, predicate on (id, namespace, is_default, provider, address), page, page_size)
PAGES = [
    ("provider=harbor&page=1&page_size=2", lambda r: r[3] == "harbor", 1, 2),
    ("is_default=false&page=2&page_size=2", lambda r: not r[2], 2, 2),
    ("q=ROWS-&page=1&page_size=3", lambda r: "rows-" in r[1].lower() or "rows-" in r[4].lower(), 1, 3),
]


def page_want(rows, pred, page, size):
    """(the page's [(id, namespace, is_default)], the number of matches) as the table says."""
    match = [row[:3] for row in rows if pred(row)]
    return match[(page - 1) * size:page * size], len(match)


def page_differs(resp, rows, pred, page, size):
    """Why a filtered page is not the table's, or None."""
    want, total = page_want(rows, pred, page, size)
    got = [(r["registry_id"], r["namespace"], r["is_default"]) for r in resp.json]
    if resp.headers.get("x-total-count") != str(total):
        return f"X-Total-Count {resp.headers.get('x-total-count')}, the table has {total} matches"
    return differs(got, want)


def differs(got, want):
    """Why a listed answer is not the table, or None."""
    if got == want:
        return None
    if len(got) != len(want):
        return f"listed {len(got)} rows, the table has {len(want)}"
    return f"first difference {next(a for a in zip(got, want) if a[0] != a[1])}"


def assert_every_worker_agrees(what):
    """WORKER_SPREAD lists in a row all equal to the table, within CONVERGE_S of the change.

    A psql write reaches the workers by NOTIFY only (no counter of this host moves), a few milliseconds after the
    commit on a loaded machine: that latency is allowed, a wrong list after it is not (cache_max_age, 3 s in make
    test, would hide a wrong row only later than this)."""
    rows = table_rows()
    want = [row[:3] for row in rows]
    deadline = time.monotonic() + CONVERGE_S
    while True:
        why = None
        for i in range(WORKER_SPREAD):
            turn_pause()
            resp = request("GET", COLLECTION)
            assert resp.status == 200, f"{what}: list answered {resp.status}"
            why = differs([(r["registry_id"], r["namespace"], r["is_default"]) for r in resp.json], want)
            if why:
                break
            query, pred, page, size = PAGES[i % len(PAGES)]
            turn_pause()
            resp = request("GET", f"{COLLECTION}?{query}")
            assert resp.status == 200, f"{what}: ?{query} answered {resp.status}"
            why = page_differs(resp, rows, pred, page, size)
            if why:
                why = f"?{query}: {why}"
                break
        if why is None:
            return
        assert time.monotonic() < deadline, f"{what}: request {i} {why} ({CONVERGE_S} s after the change)"
        time.sleep(0.02)


def warm():
    """WORKER_SPREAD lists in a row; returns the log offset from before them (served_since says who answered)."""
    start = log_size()
    for i in range(WORKER_SPREAD):
        turn_pause()
        assert request("GET", COLLECTION).status == 200
        turn_pause()
        assert request("GET", f"{COLLECTION}?{PAGES[i % len(PAGES)][0]}").status == 200
    return start


def test_psql_insert_update_delete_and_default_move_are_seen_exactly():
    reset()
    ids = [create(namespace=f"rows-{i}") for i in range(5)]
    warm()
    psql("INSERT INTO registry (address, provider, namespace) VALUES ('https://new.example.com', 'harbor', 'rows-new');")
    assert_every_worker_agrees("after a psql insert")
    psql("UPDATE registry SET namespace = 'rows-updated' WHERE id = :'p1';", ids[2])
    assert_every_worker_agrees("after a psql update")
    psql("UPDATE registry SET provider = 'harbor' WHERE id = :'p1';", ids[1])
    assert_every_worker_agrees("after a psql update of the provider (a filter's matches change)")
    psql("UPDATE registry SET is_default = true WHERE id = :'p1';", ids[3])
    assert_every_worker_agrees("after a default move (two rows change)")
    psql("DELETE FROM registry WHERE id = :'p1';", ids[3])
    assert_every_worker_agrees("after deleting the default (another row is promoted)")
    psql("DELETE FROM registry WHERE id = :'p1';", ids[0])
    assert_every_worker_agrees("after deleting the oldest")
    for rid in ids[1:3]:
        resp = request("GET", item_path(rid))
        assert resp.status == 200, f"GET one of {rid} answered {resp.status}"


def test_one_transaction_of_several_statements_is_seen_whole():
    reset()
    ids = [create(namespace=f"tx-{i}") for i in range(4)]
    warm()
    psql("BEGIN; UPDATE registry SET namespace = 'tx-a' WHERE id = :'p1';"
         " DELETE FROM registry WHERE id = :'p2';"
         " INSERT INTO registry (address, provider, namespace) VALUES ('https://tx.example.com', 'harbor', 'tx-new');"
         " COMMIT;", ids[0], ids[1])
    assert_every_worker_agrees("after a transaction of update, delete and insert")


def test_many_rows_at_once_fall_back_to_a_full_reload():
    reset()
    create(namespace="bulk-first")
    warm()
    psql("INSERT INTO registry (address, provider, namespace)"
         " SELECT 'https://bulk.example.com', 'harbor', 'bulk-' || g FROM generate_series(1, 450) g;")
    assert_every_worker_agrees("after inserting 450 rows in one statement")
    psql("UPDATE registry SET namespace = namespace || '-x' WHERE namespace LIKE 'bulk-%' AND namespace < 'bulk-2';")
    assert_every_worker_agrees("after updating about 100 rows in one statement (the row path)")
    psql("DELETE FROM registry WHERE namespace LIKE 'bulk-%' AND namespace <> 'bulk-first';")
    assert_every_worker_agrees("after deleting 450 rows in one statement")


def test_many_small_statements_in_one_transaction_overflow_to_a_full_reload():
    """More distinct ids than a worker keeps pending (1024) in one go: it reads the table again, still exact."""
    reset()
    create(namespace="many-first")
    warm()
    psql("DO $$ BEGIN FOR i IN 1..1100 LOOP"
         " INSERT INTO registry (address, provider, namespace) VALUES ('https://many.example.com', 'harbor', 'many-' || i);"
         " END LOOP; END $$;")
    assert_every_worker_agrees("after 1100 one-row inserts in one transaction")
    psql("DELETE FROM registry WHERE namespace LIKE 'many-%' AND namespace <> 'many-first';")
    assert_every_worker_agrees("after deleting them")


def worker_rss_kib():
    """RSS of each worker of the stack's responder, in KiB."""
    with open(os.path.join(os.environ["IMAGEREG_LOGS"], "imagereg.pid")) as f:
        parent = int(f.read().strip())
    sizes = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                status = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        except OSError:
            continue
        if int(status.get("PPid", "0").strip()) == parent:
            sizes[int(entry)] = int(status["VmRSS"].split()[0])
    return sizes


def foreign_allocator(pids):
    """True when the workers run under AddressSanitizer or valgrind, whose allocators keep freed memory."""
    for pid in pids:
        try:
            with open(f"/proc/{pid}/maps") as f:
                maps = f.read()
        except OSError:
            continue
        if "libasan" in maps or "vgpreload" in maps:
            return True
    return False


def test_worker_memory_returns_near_its_baseline_after_a_bulk_load_is_deleted():
    reset()
    create(namespace="mem-first")
    warm()
    before = worker_rss_kib()
    if foreign_allocator(before):
        print("# skipped: the workers' allocator (ASan, valgrind) keeps freed memory by design")
        return
    psql("INSERT INTO registry (address, provider, namespace)"
         " SELECT 'https://mem.example.com/' || g, 'harbor', 'mem-' || g FROM generate_series(1, 5000) g;")
    warm()
    loaded = worker_rss_kib()
    psql("DELETE FROM registry WHERE namespace LIKE 'mem-%' AND namespace <> 'mem-first';")
    # A worker learns of the delete when it next answers: only those that did are judged (which idle worker takes
    # a connection is the kernel's choice, and a worker never asked still holds the rows, rightly).
    asked = {pid for pid, *_ in served_since(warm())}
    after = {pid: rss for pid, rss in worker_rss_kib().items() if pid in asked}
    assert after, "no worker answered after the delete"
    print(f"# worker RSS KiB before/loaded/after: "
          + " ".join(f"{before.get(p)}/{loaded.get(p)}/{after.get(p)}" for p in sorted(after)), flush=True)
    for pid, rss in after.items():
        if pid in before:
            # 10 % of the baseline, and never less than 1 MiB of slack (allocator noise on a tiny heap).
            assert rss <= before[pid] + max(before[pid] // 10, 1024), \
                f"worker {pid}: {rss} KiB after the delete, {before[pid]} KiB before the load"
