"""sighup-reload: SIGHUP to the supervisor under a steady load of GETs and PUTs, three times in a row.

After each SIGHUP every worker is replaced (N workers, none of the old PIDs), the supervisor keeps its PID, and no
request fails: every answer of the whole run is 200 (and every acknowledged PUT is in the table).
"""

import os
import signal
import time

import flib
from flib import ms

THREADS = 8
WORKERS = 4
ROUNDS = 3
REPLACE_LIMIT_S = 5.0


def body(t):
    stack = flib.Stack(t, workers=WORKERS)
    owners = flib.create_registries(t, stack.client, THREADS)
    sup = stack.supervisor_pid()

    load = flib.Load(THREADS, flib.put_or_get_step(stack.client, owners), pause=0.002).start()
    t.on_cleanup(load.stop)
    t0 = flib.now()
    time.sleep(1.5)
    hups = []
    for n in range(1, ROUNDS + 1):
        before = stack.worker_pids()
        t_hup = flib.now()
        os.kill(sup, signal.SIGHUP)
        took = flib.wait_for(lambda: (lambda w: len(w) == WORKERS and not set(w) & set(before))(stack.worker_pids()),
                             15)
        after = stack.worker_pids()
        hups.append(t_hup)
        t.figure(f"SIGHUP {n} at +{ms(t_hup - t0)}ms: workers {before} -> {after}"
                 + (f", all replaced after {ms(took)}ms" if took is not None else ""))
        if t.check(took is not None, f"SIGHUP {n}: workers not all replaced within 15s ({before} -> {after})"):
            t.check(took <= REPLACE_LIMIT_S, f"SIGHUP {n}: replacing the workers took {ms(took)}ms")
        t.check(flib.pid_alive(sup) and stack.supervisor_pid() == sup, f"SIGHUP {n}: the supervisor changed")
        time.sleep(1.5)
    recs = load.stop()

    flib.check_common(t, recs, t0)
    failed = [r for r in recs if r.status != 200]
    for r in failed[:10]:
        t.figure(f"failed: {flib.describe(r, t0)}")
    t.check(not failed, f"{len(failed)} of {len(recs)} requests failed across {ROUNDS} reloads "
                        f"({flib.status_counts(failed)}), e.g. {flib.describe(failed[0], t0) if failed else ''}")
    for n, t_hup in enumerate(hups, 1):
        near = [r for r in recs if r.start <= t_hup + 1.0 and r.end >= t_hup]
        t.figure(f"SIGHUP {n}: {len(near)} requests in flight or started within 1s; "
                 f"longest {ms(max((r.end - r.start for r in near), default=0))}ms")
    flib.check_puts_durable(t, recs, owners, flib.table_rows())
    flib.check_log_lines(t, stack.responder_log())


if __name__ == "__main__":
    flib.main(body)
