"""pg-stop-under-load: PostgreSQL stops (pg_ctl stop -m fast) under a load of GETs and PUTs and starts again.

While it is down every answer is a 503 in Zadig JSON, in time; once pg_ctl start returns, the same responder
processes answer 200 again within 2 s; no acknowledged PUT is lost and no row holds parts of two PUTs.
"""

import time

import flib
from flib import ms

THREADS = 8
WORKERS = 4
DOWN_S = 3.0
RECOVERY_LIMIT_S = 2.0
AFTER_S = 4.0


def body(t):
    stack = flib.Stack(t, workers=WORKERS)
    owners = flib.create_registries(t, stack.client, THREADS)
    sup = stack.supervisor_pid()
    workers_before = stack.worker_pids()

    load = flib.Load(THREADS, flib.put_or_get_step(stack.client, owners), pause=0.005).start()
    t.on_cleanup(load.stop)
    t0 = flib.now()
    time.sleep(2.0)
    t_stop_begin = flib.now()
    stack.pg_stop("fast")
    t_stop_end = flib.now()
    time.sleep(DOWN_S)
    t_start_begin = flib.now()
    stack.pg_start()
    t_start_end = flib.now()
    time.sleep(AFTER_S)
    recs = load.stop()
    t.figure(f"pg_ctl stop took {ms(t_stop_end - t_stop_begin)}ms, down {ms(t_start_begin - t_stop_end)}ms, "
             f"pg_ctl start took {ms(t_start_end - t_start_begin)}ms")

    flib.check_common(t, recs, t0)

    before = [r for r in recs if r.end < t_stop_begin]
    t.check(before and all(r.status == 200 for r in before),
            f"before the stop not every answer was 200 ({flib.status_counts(before)})")

    down = [r for r in recs if r.start >= t_stop_end and r.end <= t_start_begin]
    t.figure(f"while down: {len(down)} requests; statuses: {flib.status_counts(down)}")
    t.check(len(down) >= THREADS, f"only {len(down)} requests while PostgreSQL was down: the load stalled")
    wrong = [r for r in down if flib.zadig_error_problem(r, 503)]
    t.check(not wrong, f"{len(wrong)} answers while down were not a Zadig 503, e.g. "
                       f"{flib.describe(wrong[0], t0) if wrong else ''}")

    after = [r for r in recs if r.start >= t_start_end]
    first_ok = next((r for r in sorted(after, key=lambda r: r.end) if r.status == 200), None)
    if t.check(first_ok is not None, "no 200 after PostgreSQL came back"):
        gap = first_ok.end - t_start_end
        t.figure(f"recovery gap: first 200 {ms(gap)}ms after pg_ctl start returned")
        t.check(gap <= RECOVERY_LIMIT_S, f"first 200 came {ms(gap)}ms after pg_ctl start returned "
                                         f"(limit {ms(RECOVERY_LIMIT_S)}ms)")
    failed_after = [r for r in after if r.status != 200]
    last_bad = max((r.end for r in failed_after), default=t_start_end) - t_start_end
    t.figure(f"after restart: {len(after)} requests; statuses: {flib.status_counts(after)}; "
             f"last non-200 ended {ms(last_bad)}ms after pg_ctl start returned")
    late = [r for r in after if r.start >= t_start_end + RECOVERY_LIMIT_S and r.status != 200]
    t.check(not late, f"{len(late)} non-200 answers more than {ms(RECOVERY_LIMIT_S)}ms after the restart, e.g. "
                      f"{flib.describe(late[0], t0) if late else ''}")

    workers_after = stack.worker_pids()
    t.figure(f"supervisor {sup}; workers before {workers_before}, after {workers_after}")
    t.check(flib.pid_alive(sup) and stack.supervisor_pid() == sup, "the supervisor is not the same process")
    t.check(workers_after == workers_before, f"workers changed: {workers_before} -> {workers_after}")

    flib.check_puts_durable(t, recs, owners, flib.table_rows())
    log = stack.responder_log()
    flib.check_log_lines(t, log)
    t.figure(f"responder log: {log.count('database unavailable')} 'database unavailable', "
             f"{log.count('database connection established')} 'database connection established' lines")


if __name__ == "__main__":
    flib.main(body)
