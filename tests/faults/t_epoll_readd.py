"""epoll-readd: a worker that cannot put the listening socket back into its idle wait ends, and is replaced.

After a pause of 1 ms or more a worker moves itself to the end of the listening socket's queue of idle waiters
(EPOLL_CTL_DEL, then EPOLL_CTL_ADD). An LD_PRELOAD shim (epoll_readd_fails.c) makes one such re-add fail with
ENOMEM. That worker must not live on outside the queue (it would never take a connection again, one worker short
with nothing said): it logs an error and exits 1, the supervisor starts another, and afterwards requests paced
apart reach every worker. No request fails.
"""

import os
import re
import time

import flib
from flib import ms

WORKERS = 4
PACE_S = 0.005          # between sequential requests: above the 1 ms after which a worker takes its turn again
ROUNDS_EACH = 12        # paced requests per worker when checking that every worker serves


def build_shim(t):
    src = os.path.join(flib.HERE, "epoll_readd_fails.c")
    so = os.path.join(t.dir, "epoll_readd_fails.so")
    flib.run([os.environ.get("CC", "cc"), "-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
              "-o", so, src, "-ldl"])
    return so


def served_by(log, since):
    """PIDs in the access lines of GET requests written after offset since of the responder log."""
    return [int(m.group(1)) for m in re.finditer(r"imagereg\[([0-9]+)\]: .*GET /openapi/", log[since:])]


def body(t):
    so = build_shim(t)
    # The workers run as an unprivileged user: the trigger's directory must let them unlink it.
    trigger_dir = os.path.join(t.dir, "trigger")
    os.mkdir(trigger_dir)
    os.chmod(trigger_dir, 0o777)  # not sticky: a worker must remove a file root made
    trigger = os.path.join(trigger_dir, "fail-next-readd")
    os.environ["IMAGEREG_WRAP"] = f"env LD_PRELOAD={so} EPOLL_SHIM_TRIGGER={trigger}"
    stack = flib.Stack(t, workers=WORKERS)
    owners = flib.create_registries(t, stack.client, 2)
    sup = stack.supervisor_pid()
    time.sleep(1.2)  # the supervisor pauses 1 s before restarting a worker that died young: let them age
    before = stack.worker_pids()
    step = flib.get_step(stack.client, owners)

    recs = []
    with open(trigger, "w"):
        pass
    t0 = flib.now()
    # Paced GETs until a worker has taken the trigger (its re-add after a pause failed).
    i = 0
    while os.path.exists(trigger) and flib.now() - t0 < 10:
        recs.extend(step(0, i))
        i += 1
        time.sleep(PACE_S)
    t.check(not os.path.exists(trigger), "no worker re-added the listening socket within 10 s of paced requests")
    t.figure(f"the re-add failed after {i} paced requests ({ms(flib.now() - t0)} ms)")

    logged = re.compile(r"imagereg\[([0-9]+)\]: cannot watch the listening socket again: Cannot allocate memory")
    found = flib.wait_for(lambda: logged.search(stack.responder_log()), 5)
    t.check(found is not None, "the worker whose re-add failed did not log it within 5 s")
    m = logged.search(stack.responder_log())
    victim = int(m.group(1)) if m else None
    t.figure(f"victim {victim}; workers before {before}")
    if victim is not None:
        t.check(victim in before, f"the worker that logged ({victim}) is not one of the workers {before}")
        replaced = flib.wait_for(lambda: (lambda w: len(w) == WORKERS and victim not in w)(stack.worker_pids()), 5)
        t.check(replaced is not None, f"worker {victim} still runs, or was not replaced within 5 s: "
                                      f"workers {stack.worker_pids()}")
        if replaced is not None:
            t.figure(f"replaced {ms(replaced)} ms after the error was seen; workers {stack.worker_pids()}")
        t.check(f"worker {victim} exited with status 1, restarting" in stack.responder_log(),
                f"the supervisor did not log worker {victim}'s exit with status 1")

    # Every worker now running takes connections: paced requests go round the queue.
    after = stack.worker_pids()
    mark = len(stack.responder_log())
    for j in range(ROUNDS_EACH * WORKERS):
        recs.extend(step(0, i + j))
        time.sleep(PACE_S)
    time.sleep(0.2)
    seen = set(served_by(stack.responder_log(), mark))
    t.figure(f"paced requests served by {sorted(seen)}; workers {after}")
    t.check(set(after) <= seen, f"worker(s) {sorted(set(after) - seen)} took none of "
                                f"{ROUNDS_EACH * WORKERS} paced requests")

    t.check(flib.pid_alive(sup) and stack.supervisor_pid() == sup, "the supervisor is not the same process")
    bad = [r for r in recs if r.status != 200 or r.err]
    t.check(not bad, f"{len(bad)} of {len(recs)} requests failed, e.g. {flib.describe(bad[0]) if bad else ''}")
    t.figure(f"requests: {len(recs)}, {flib.status_counts(recs)}")
    flib.check_log_lines(t, stack.responder_log())


if __name__ == "__main__":
    flib.main(body)
