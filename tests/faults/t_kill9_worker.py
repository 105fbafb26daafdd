"""kill-9-worker: under a load of GETs one worker is killed with SIGKILL.

The supervisor starts a replacement (N workers again within 2 s, a new PID); at most the one request in flight on
the killed worker fails (libfcgi serves one connection per worker), and it fails as nginx's 503 in Zadig JSON, not
as a 502 HTML page; every other request is 200.
"""

import os
import signal
import time

import flib
from flib import ms

THREADS = 8
WORKERS = 4
REPLACE_LIMIT_S = 2.0


def waiting_on_lock():
    """How many of the responder's sessions wait for a lock (on the registry table we hold)."""
    return int(flib.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'imagereg'"
                         " AND wait_event_type = 'Lock';").strip() or 0)


def kill_one(t, stack, label, t0):
    """Kill the first worker; return (victim, kill time, seconds until replaced or None)."""
    before = stack.worker_pids()
    victim = before[0]
    t_kill = flib.now()
    os.kill(victim, signal.SIGKILL)
    replaced = flib.wait_for(lambda: (lambda w: len(w) == WORKERS and victim not in w)(stack.worker_pids()), 10)
    after = stack.worker_pids()
    t.figure(f"{label}: killed {victim} at +{ms(t_kill - t0)}ms; workers before {before}, after {after}")
    if t.check(replaced is not None, f"{label}: worker count not back to {WORKERS} without {victim} within 10s"):
        t.figure(f"{label}: replacement running {ms(replaced)}ms after the kill")
        t.check(replaced <= REPLACE_LIMIT_S, f"{label}: replacement took {ms(replaced)}ms "
                                             f"(limit {ms(REPLACE_LIMIT_S)}ms)")
    new = set(after) - set(before)
    t.check(len(new) == 1 and set(after) - new == set(before) - {victim},
            f"{label}: expected exactly the killed worker replaced: before {before}, after {after}")
    return victim, t_kill


def body(t):
    stack = flib.Stack(t, workers=WORKERS)
    owners = flib.create_registries(t, stack.client, 4)
    sup = stack.supervisor_pid()
    time.sleep(1.2)  # the supervisor pauses 1 s before restarting a worker that died young: let them age

    load = flib.Load(THREADS, flib.get_step(stack.client, owners)).start()
    t.on_cleanup(load.stop)
    t0 = flib.now()
    time.sleep(1.5)

    # Kill A: whatever the worker is doing under the load (often idle between two fast GETs).
    victim_a, kill_a = kill_one(t, stack, "kill A (plain load)", t0)
    time.sleep(1.5)

    # Kill B: every worker is inside a GET that waits for our lock on registry, so the victim has one in flight.
    # GETs are answered from memory; the NOTIFY, sent while the lock is held (before it, a worker could reload in
    # between and keep answering from memory), makes every worker forget the list and wait for the lock.
    held = flib.Held(t)
    held.send("BEGIN; LOCK TABLE registry IN ACCESS EXCLUSIVE MODE;", "locked")
    flib.psql("NOTIFY imagereg_change, 'registry';")
    t_locked = flib.now()
    all_busy = flib.wait_for(lambda: waiting_on_lock() >= WORKERS, 5, interval=0.05)
    t.check(all_busy is not None, f"the {WORKERS} workers did not all block on the lock within 5s")
    victim_b, kill_b = kill_one(t, stack, "kill B (victim blocked in PostgreSQL)", t0)
    time.sleep(0.3)
    held.send("COMMIT;", "released")
    t.figure(f"lock held {ms(flib.now() - t_locked)}ms")
    time.sleep(2.0)
    recs = load.stop()

    t.check(flib.pid_alive(sup) and stack.supervisor_pid() == sup, "the supervisor is not the same process")
    flib.check_common(t, recs, t0)
    failed = [r for r in recs if r.status != 200]
    for r in failed:
        t.figure(f"failed: {flib.describe(r, t0)}")
    t.figure(f"non-200 answers: {len(failed)} (allowed: the request in flight on each killed worker, at most 1 each)")
    wrong = [r for r in failed if flib.zadig_error_problem(r, 503)]
    t.check(not wrong, f"a failed request is not nginx's Zadig 503: {flib.describe(wrong[0], t0) if wrong else ''}")
    for label, t_kill in (("kill A", kill_a), ("kill B", kill_b)):
        in_flight = [r for r in failed if r.start <= t_kill + 0.05 and r.end >= t_kill]
        t.check(len(in_flight) <= 1, f"{label}: {len(in_flight)} requests failed for one killed worker")
    # Kill B's victim was certainly inside a request: exactly that one fails.
    in_flight_b = [r for r in failed if r.start <= kill_b and r.end >= kill_b]
    t.check(len(in_flight_b) == 1, f"kill B: {len(in_flight_b)} failed requests, expected exactly the victim's one")
    unrelated = [r for r in failed if not any(r.start <= k + 0.05 and r.end >= k for k in (kill_a, kill_b))]
    t.check(not unrelated, f"{len(unrelated)} request(s) not in flight at a kill failed, e.g. "
                           f"{flib.describe(unrelated[0], t0) if unrelated else ''}")
    log = stack.responder_log()
    flib.check_log_lines(t, log)
    for victim in (victim_a, victim_b):
        t.check(f"worker {victim} killed by signal 9" in log, f"the supervisor did not log killed worker {victim}")


if __name__ == "__main__":
    flib.main(body)
