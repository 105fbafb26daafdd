"""sigterm-graceful: SIGTERM to the supervisor while a request is in flight.

The request is held inside PostgreSQL (a superuser session holds LOCK TABLE registry IN ACCESS EXCLUSIVE MODE, so
the worker's GET waits for it), the supervisor gets SIGTERM, the lock is released about 1 s later. The in-flight
request completes with 200, the supervisor and every worker exit, and the supervisor's exit status is 0. The
responder is started here rather than by stack_start so that its exit status can be collected.
"""

import os
import signal
import subprocess
import threading
import time

import flib
from flib import ms

WORKERS = 4
HOLD_S = 1.0


def start_responder(t, stack):
    """Replace stack_start's responder by one that is our child; return its Popen."""
    flib.bash_stack("stack_stop_responder", stack.dir, dict(os.environ), stack.log, timeout=60)
    sock = os.path.join(stack.dir, "imagereg.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    log = open(os.path.join(stack.dir, "imagereg.log"), "ab")
    # coherence = cluster: a worker confirms with PostgreSQL before it answers, so the NOTIFY below is certainly
    # among what it has taken when our GET arrives. In host mode it comes when PostgreSQL delivers it, which a loaded
    # machine did after the GET had been answered from memory (CI, 2026-12-05: no lock wait within 5 s).
    env = dict(os.environ, IMAGEREG_COHERENCE="cluster")
    proc = subprocess.Popen([flib.FCGI, "--listen", f"unix:{sock}", "--workers", str(WORKERS)],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
    log.close()
    with open(os.path.join(stack.dir, "imagereg.pid"), "w") as f:
        f.write(f"{proc.pid}\n")

    def stop():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        try:
            os.unlink(os.path.join(stack.dir, "imagereg.pid"))
        except FileNotFoundError:
            pass
    t.on_cleanup(stop)
    if flib.wait_for(lambda: os.path.exists(sock) and len(flib.children(proc.pid)) == WORKERS, 15) is None:
        raise RuntimeError("our responder did not start its workers")
    if flib.wait_for(lambda: stack.client.request("GET", flib.COLLECTION).status == 200, 15, 0.2) is None:
        raise RuntimeError("our responder does not answer through nginx")
    return proc


def waiting_on_lock():
    return int(flib.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'imagereg'"
                         " AND wait_event_type = 'Lock';").strip() or 0)


def body(t):
    stack = flib.Stack(t, workers=WORKERS)
    owners = flib.create_registries(t, stack.client, 2)
    proc = start_responder(t, stack)
    sup = proc.pid
    workers = flib.children(sup)
    t.figure(f"supervisor {sup}, workers {workers}")

    held = flib.Held(t)
    held.send("BEGIN; LOCK TABLE registry IN ACCESS EXCLUSIVE MODE;", "locked")
    # Sent while the lock is held: the workers forget their cached list, and the GET's reload waits for the lock.
    # (A NOTIFY before the lock lets a worker reload in between and answer from memory.)
    flib.psql("NOTIFY imagereg_change, 'registry';")
    t_locked = flib.now()
    result = []
    getter = threading.Thread(target=lambda: result.append(stack.client.request("GET", flib.COLLECTION)),
                              daemon=True)
    getter.start()
    if not t.check(flib.wait_for(lambda: waiting_on_lock() >= 1, 5, 0.05) is not None,
                   "the GET did not reach PostgreSQL's lock wait within 5s"
                   + (f" (it was answered: {flib.describe(result[0], t_locked)})" if result else "")):
        return
    t_term = flib.now()
    os.kill(sup, signal.SIGTERM)
    time.sleep(HOLD_S)
    alive = [p for p in workers if flib.pid_alive(p)]
    sup_alive = proc.poll() is None
    t.figure(f"{ms(flib.now() - t_term)}ms after SIGTERM: supervisor {'running' if sup_alive else 'exited'}, "
             f"workers still running {alive} (the busy one finishes its request)")
    t.check(sup_alive, f"the supervisor exited ({proc.returncode}) while a request was in flight")
    t.check(len(alive) >= 1, "no worker left to finish the request in flight")
    t_release = flib.now()
    held.send("COMMIT;", "released")
    t.figure(f"lock held {ms(t_release - t_locked)}ms")

    getter.join(flib.HTTP_TIMEOUT_S + 5)
    if t.check(result, "the in-flight GET did not complete"):
        rec = result[0]
        t.figure(f"in-flight GET: {rec.status} after {ms(rec.end - rec.start)}ms "
                 f"(sent {ms(t_term - rec.start)}ms before SIGTERM, done {ms(rec.end - t_release)}ms after release)")
        t.check(not flib.ok_problem(rec), f"the in-flight GET failed: {flib.describe(rec, t_term)}")
        if rec.status == 200:
            got = sorted(r.get("registry_id") for r in rec.json) if isinstance(rec.json, list) else rec.json
            t.check(got == sorted(owners.values()), f"the in-flight GET returned {flib.short(rec.raw)}")
        t.check(rec.start < t_term < rec.end, "the GET was not in flight across the SIGTERM")

    try:
        status = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        status = None
    t_exit = flib.now()
    if t.check(status is not None, "the supervisor did not exit within 20s of the release"):
        t.figure(f"supervisor exit status {status}, {ms(t_exit - t_release)}ms after the release "
                 f"({ms(t_exit - t_term)}ms after SIGTERM)")
        t.check(status == 0, f"the supervisor exited with status {status}, expected 0")
    left = [p for p in workers if flib.pid_alive(p)]
    t.check(not left, f"workers still running after the supervisor exited: {left}")
    log = stack.responder_log()
    t.check("stopped" in log, "the responder did not log that it stopped")
    flib.check_log_lines(t, log)


if __name__ == "__main__":
    flib.main(body)
