"""Shared helpers of the fault-injection tests (tests/faults/t_*.py).

A test script is run by tests/faults/run.sh as `python3 -u t_x.py DIR`: DIR is a fresh directory under /tmp (mode
0755) that holds everything the test starts (the stack of tests/lib/stack.sh, extra clusters, logs). The script
prints its measured figures as `# ...` lines and, when something failed, one last line `FAIL: reason; reason ...`;
its exit status is 0 when every check held. Whatever it started is stopped by PID in a finally block (SIGTERM from
run.sh's time limit raises an exception so that the block runs); run.sh stops what is left by the same PID files.
"""

import http.client
import json
import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter, namedtuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from lib import COLLECTION, ERROR_KEYS, JSON_CONTENT_TYPE, REASONS, item_path  # noqa: E402  (tests/e2e/lib.py)

STACK_SH = os.path.join(ROOT, "tests", "lib", "stack.sh")
FCGI = os.path.join(ROOT, "cgi", "imagereg-fcgi")
CLI = os.path.join(ROOT, "cgi", "imagereg")
SQL_DIR = os.path.join(ROOT, "sql")

# The documented bounds: connect_timeout 3 s, statement_timeout 5 s; nobody should wait longer than this.
REQUEST_LIMIT_S = 8.0
HTTP_TIMEOUT_S = 15.0

# Environment a stack of ours must not inherit from the shell that runs the tests.
FOREIGN_ENV = ("IMAGEREG_DSN", "IMAGEREG_ADMIN_DSN", "IMAGEREG_KEY_FILE", "IMAGEREG_URL", "IMAGEREG_TOKEN",
               "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGHOSTADDR", "PGSERVICE", "PGOPTIONS")


class Interrupted(Exception):
    """SIGTERM (run.sh's time limit) or SIGINT: stop and clean up."""


def _on_signal(signum, _frame):
    raise Interrupted(f"interrupted by signal {signum}")


def now():
    return time.monotonic()


def ms(seconds):
    return int(round(seconds * 1000))


# ---------------------------------------------------------------------------------------------------------------
# Test bookkeeping
# ---------------------------------------------------------------------------------------------------------------

class Test:
    """Collects failed checks and cleanup actions; prints figures."""

    def __init__(self, directory):
        self.dir = directory
        self.failures = []
        self._cleanups = []

    def figure(self, text):
        print(f"# {text}", flush=True)

    def check(self, condition, message):
        if not condition:
            self.failures.append(message)
            self.figure(f"FAILED CHECK: {message}")
        return bool(condition)

    def on_cleanup(self, fn, *args):
        self._cleanups.append((fn, args))

    def cleanup(self):
        while self._cleanups:
            fn, args = self._cleanups.pop()
            try:
                fn(*args)
            except Exception as exc:  # keep stopping the rest
                print(f"# cleanup {getattr(fn, '__name__', fn)} failed: {exc}", flush=True)


def main(body):
    """Run body(Test) with DIR from argv; print FAIL: line and exit 1 on any failed check or error."""
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print("usage: t_*.py DIR (an empty directory under /tmp)", file=sys.stderr)
        sys.exit(2)
    t = Test(os.path.abspath(sys.argv[1]))
    try:
        body(t)
    except Interrupted as exc:
        t.failures.append(str(exc))
    except Exception as exc:
        traceback.print_exc(file=sys.stdout)
        t.failures.append(f"{type(exc).__name__}: {exc}")
    finally:
        try:
            t.cleanup()
        except Interrupted as exc:
            t.failures.append(f"{exc} during cleanup")
    if t.failures:
        print("FAIL: " + "; ".join(" ".join(f.split()) for f in t.failures), flush=True)
        sys.exit(1)
    sys.exit(0)


# ---------------------------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------------------------

def pid_alive(pid):
    """True while pid runs; a zombie counts as gone (PID 1 here reaps orphans late)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def children(pid):
    """PIDs of the live children of pid (the supervisor's workers), sorted."""
    out = subprocess.run(["ps", "--ppid", str(pid), "-o", "pid=,stat="], capture_output=True, text=True,
                         timeout=10).stdout
    pids = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and not parts[1].startswith("Z"):
            pids.append(int(parts[0]))
    return sorted(pids)


def wait_for(predicate, timeout, interval=0.02):
    """Poll predicate until true or timeout; return the seconds it took, or None."""
    start = now()
    while True:
        if predicate():
            return now() - start
        if now() - start > timeout:
            return None
        time.sleep(interval)


def free_port():
    """A TCP port on 127.0.0.1 that nothing uses, below the kernel's ephemeral range (32768-60999 here): a port in
    that range may be the local end of some client connection by the time a server binds it."""
    low, high = 20000, 32000
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            eph_low = int(f.read().split()[0])
        high = max(low + 1000, min(high, eph_low - 1))
    except (OSError, ValueError, IndexError):
        pass
    for _ in range(500):
        port = random.randint(low, high)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port")


def run(cmd, timeout=120, env=None, check=True, **kw):
    """subprocess.run with a time limit; output captured; raises with stderr on failure when check."""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL,
                          **kw)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}): "
                           f"{(proc.stderr or proc.stdout).strip()[-600:]}")
    return proc


def bash_stack(function, directory, env, logfile, *args, timeout=180):
    """Run `FUNCTION DIR ARGS...` of tests/lib/stack.sh in bash; return the environment it exported."""
    script = ('. "$1" || exit 1; f=$2; d=$3; shift 3; "$f" "$d" "$@" || exit 1; env -0 > "$d/.env.$f"')
    with open(logfile, "ab") as log:
        proc = subprocess.run(["bash", "-c", script, "stack", STACK_SH, function, directory, *map(str, args)], env=env,
                              stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, timeout=timeout)
    if proc.returncode != 0:
        with open(logfile, errors="replace") as f:
            tail = f.read()[-1500:]
        raise RuntimeError(f"{function} failed: {tail}")
    with open(os.path.join(directory, f".env.{function}"), "rb") as f:
        raw = f.read()
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


def pg_bindir():
    path = "/usr/lib/postgresql/15/bin"
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10).stdout.strip()
        if out and os.path.exists(os.path.join(out, "pg_ctl")):
            path = out
    except OSError:
        pass
    return os.environ.get("PG_BINDIR", path)


def as_postgres(*cmd):
    return ["runuser", "-u", "postgres", "--", *cmd]


def pg_ctl(datadir, *args, timeout=90):
    return run(as_postgres(os.path.join(pg_bindir(), "pg_ctl"), "-D", datadir, *args), timeout=timeout)


def postmaster_pid(datadir):
    with open(os.path.join(datadir, "postmaster.pid")) as f:
        return int(f.readline())


# ---------------------------------------------------------------------------------------------------------------
# The stack of tests/lib/stack.sh
# ---------------------------------------------------------------------------------------------------------------

class Stack:
    """PostgreSQL + responder + nginx under DIR, started and stopped by tests/lib/stack.sh."""

    def __init__(self, t, workers=4):
        self.t = t
        self.dir = t.dir
        self.workers = workers
        self.log = os.path.join(self.dir, "stack.log")
        env = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}
        env["IMAGEREG_WORKERS"] = str(workers)
        t.on_cleanup(self.stop)
        # The nginx port is ours to choose (see free_port); stack.sh would pick one in the ephemeral range.
        self.env = bash_stack("stack_start", self.dir, env, self.log, free_port())
        # psql and lib.py helpers read PG* and IMAGEREG_* from the environment.
        for key, value in self.env.items():
            if key.startswith(("PG", "IMAGEREG_")):
                os.environ[key] = value
        self.port = int(self.env["IMAGEREG_PORT"])
        self.token = self.env["IMAGEREG_TOKEN"]
        self.pgdata = os.path.join(self.dir, "pg", "data")
        self.client = Client(self.port, self.token)
        if wait_for(lambda: len(children(self.supervisor_pid())) == workers, 10) is None:
            raise RuntimeError(f"the responder did not start {workers} workers")

    def supervisor_pid(self):
        with open(os.path.join(self.dir, "imagereg.pid")) as f:
            return int(f.read().strip())

    def worker_pids(self):
        return children(self.supervisor_pid())

    def stop(self):
        bash_stack("stack_stop", self.dir, dict(os.environ), self.log, timeout=120)

    def responder_log(self):
        with open(os.path.join(self.dir, "imagereg.log"), errors="replace") as f:
            return f.read()

    def pg_stop(self, mode="fast"):
        pg_ctl(self.pgdata, "-m", mode, "-w", "-t", "60", "stop")

    def pg_start(self):
        pg_ctl(self.pgdata, "-l", os.path.join(self.dir, "pg", "server.log"), "-w", "-t", "60", "start")
        # pg_stop (tests/lib/pg.sh) falls back to this PID when pg_ctl cannot stop the cluster.
        with open(os.path.join(self.dir, "pg", "postmaster.pid.copy"), "w") as f:
            f.write(f"{postmaster_pid(self.pgdata)}\n")


def psql(sql, dsn=None, timeout=60):
    """Run sql with psql as the superuser of the stack (PG* environment) or on dsn; return stdout (-A -t)."""
    cmd = ["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"]
    if dsn:
        cmd += ["-d", dsn]
    proc = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"psql failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def table_rows(dsn=None):
    """{id: row dict} of the registry table."""
    out = psql("SELECT coalesce(json_agg(json_build_object('id', id, 'address', address, 'provider', provider,"
               " 'region', region, 'namespace', namespace, 'is_default', is_default)), '[]') FROM registry;", dsn)
    return {r["id"]: r for r in json.loads(out)}


class Held:
    """A psql session kept open on stdin/stdout, to hold a lock across other actions."""

    def __init__(self, t, dsn=None):
        cmd = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"] + (["-d", dsn] if dsn else [])
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1)
        t.on_cleanup(self.close)

    def send(self, sql, marker, timeout=10):
        """Send sql, then wait until psql echoes marker (the statements before it are done)."""
        self.proc.stdin.write(f"{sql}\n\\echo {marker}\n")
        self.proc.stdin.flush()
        deadline = now() + timeout
        seen = []
        while now() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, deadline - now()))
            if not ready:
                break
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.strip() == marker:
                return
            seen.append(line.strip())
        raise RuntimeError(f"psql did not confirm {marker!r}: {' | '.join(seen)[-400:]}")

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


# ---------------------------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------------------------

Rec = namedtuple("Rec", "thread kind method path start end status ctype raw json err tag")


class Client:
    """One request per TCP connection to nginx, with a time limit; never raises."""

    def __init__(self, port, token):
        self.port = port
        self.token = token

    def request(self, method, path, body=None, thread=-1, kind="", tag=None, timeout=HTTP_TIMEOUT_S):
        headers = {"Authorization": f"Bearer {self.token}"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        start = now()
        status, ctype, raw, err = 0, None, b"", None
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=payload, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            status = resp.status
            ctype = resp.getheader("Content-Type")
        except Exception as exc:
            err = f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()
        end = now()
        parsed = None
        if raw:
            try:
                parsed = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                parsed = None
        return Rec(thread, kind, method, path, start, end, status, ctype, raw, parsed, err, tag)


def is_json_ctype(rec):
    return (rec.ctype or "").lower().replace(" ", "") == JSON_CONTENT_TYPE.replace(" ", "")


def zadig_error_problem(rec, status):
    """None when rec is exactly a Zadig error with this status; else what is wrong with it."""
    if rec.status != status:
        return f"status {rec.status}"
    if not is_json_ctype(rec):
        return f"Content-Type {rec.ctype!r}"
    got = rec.json
    if not isinstance(got, dict) or set(got) != ERROR_KEYS:
        return f"not a Zadig error body: {short(rec.raw)}"
    if got["type"] != "error" or got["code"] != status or got["message"] != REASONS[status] or got["extra"] != {} \
            or not isinstance(got["description"], str) or not got["description"].strip():
        return f"bad Zadig error fields: {short(rec.raw)}"
    return None


def ok_problem(rec):
    """None when rec is a 200 with a JSON body of the JSON content type; else what is wrong with it."""
    if rec.status != 200:
        return f"status {rec.status}"
    if not is_json_ctype(rec) or rec.json is None:
        return f"200 without JSON ({rec.ctype!r}): {short(rec.raw)}"
    return None


def short(raw, limit=160):
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def describe(rec, t0=0.0):
    what = rec.err or f"{rec.status} {rec.ctype} {short(rec.raw, 120)}"
    return f"{rec.method} {rec.path} at +{ms(rec.start - t0)}ms took {ms(rec.end - rec.start)}ms: {what}"


class Load:
    """Threads that each call step(thread_index, seq) in a loop until stopped; every Rec is kept."""

    def __init__(self, nthreads, step, pause=0.0):
        self.step = step
        self.pause = pause
        self.recs = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.threads = [threading.Thread(target=self._loop, args=(i,), daemon=True) for i in range(nthreads)]

    def _loop(self, i):
        seq = 0
        while not self._stop.is_set():
            seq += 1
            for rec in self.step(i, seq):
                with self._lock:
                    self.recs.append(rec)
            if self.pause:
                time.sleep(self.pause)

    def start(self):
        for th in self.threads:
            th.start()
        return self

    def snapshot(self):
        """The records so far, while the load runs."""
        with self._lock:
            return list(self.recs)

    def stop(self, timeout=HTTP_TIMEOUT_S + 5):
        self._stop.set()
        deadline = now() + timeout
        for th in self.threads:
            th.join(max(0.0, deadline - now()))
        alive = sum(th.is_alive() for th in self.threads)
        if alive:
            raise RuntimeError(f"{alive} load thread(s) still blocked {timeout}s after stop")
        with self._lock:
            return sorted(self.recs, key=lambda r: r.start)


def status_counts(recs):
    counts = Counter(r.status if not r.err else "error" for r in recs)
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])))


LOG_LINE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z (debug|info|warn|error) imagereg\[[0-9]+\]: ")


def check_log_lines(t, text):
    """README: everything the responder writes to stderr is one line with a time and a level,
    `2026-11-29T22:55:22.123Z info imagereg[1234]: ...`."""
    bad = [line for line in text.splitlines() if line.strip() and not LOG_LINE.match(line)]
    t.check(not bad, f"{len(bad)} responder log line(s) without the documented `level imagereg[pid]: ` shape "
                     f"(e.g. {bad[0][:120]!r}{', ' + repr(bad[-1][:120]) if len(bad) > 1 else ''})" if bad else "")


def check_common(t, recs, t0, allowed=(200, 503)):
    """Every answer came in time, is an allowed status, 200s are JSON and 503s are Zadig JSON."""
    slow = [r for r in recs if r.end - r.start >= REQUEST_LIMIT_S or r.err]
    t.check(not slow, f"{len(slow)} request(s) failed or took >= {REQUEST_LIMIT_S:.0f}s, e.g. "
                      f"{describe(slow[0], t0) if slow else ''}")
    bad_status = [r for r in recs if not r.err and r.status not in allowed]
    t.check(not bad_status, f"{len(bad_status)} answer(s) with a status outside {list(allowed)}, e.g. "
                            f"{describe(bad_status[0], t0) if bad_status else ''}")
    bad_ok = [r for r in recs if r.status == 200 and ok_problem(r)]
    t.check(not bad_ok, f"{len(bad_ok)} 200 answer(s) without JSON, e.g. {describe(bad_ok[0], t0) if bad_ok else ''}")
    bad_503 = [r for r in recs if r.status == 503 and zadig_error_problem(r, 503)]
    t.check(not bad_503, f"{len(bad_503)} 503 answer(s) not in Zadig JSON shape, e.g. "
                         f"{describe(bad_503[0], t0) if bad_503 else ''}")
    longest = max((r.end - r.start for r in recs), default=0.0)
    t.figure(f"requests: {len(recs)}; statuses: {status_counts(recs)}; longest {ms(longest)}ms")


# ---------------------------------------------------------------------------------------------------------------
# Registries written by the load: each PUT carries a sequence number in every field, so a row shows which PUT it
# holds and whether all of that PUT's fields landed together.
# ---------------------------------------------------------------------------------------------------------------

PUT_PROVIDERS = ("harbor", "nexus", "native", "dockerhub")


def put_body(owner, seq):
    return {
        "address": f"https://h{seq}.w{owner}.example.com",
        "provider": PUT_PROVIDERS[seq % len(PUT_PROVIDERS)],
        "region": f"rg-{owner}-{seq}",
        "namespace": f"ns-{owner}-{seq}",
        "is_default": False,
    }


def put_seq_of_row(owner, row):
    """The seq of the PUT a row holds, or (None, why) when its fields are not all from one PUT of owner."""
    ns = row["namespace"]
    prefix = f"ns-{owner}-"
    if not ns.startswith(prefix) or not ns[len(prefix):].isdigit():
        return None, f"namespace {ns!r} is not one of owner {owner}'s PUTs"
    seq = int(ns[len(prefix):])
    want = put_body(owner, seq)
    mixed = [k for k in ("address", "provider", "region") if row[k] != want[k]]
    if mixed:
        return None, f"row holds namespace of PUT {seq} but {mixed} of another write: {row}"
    return seq, None


def check_puts_durable(t, recs, owners, rows):
    """For each owner's registry: the row holds one whole PUT, one that was sent, and no acknowledged PUT is lost
    (its seq is the last acknowledged one or a later one, sent after it and answered otherwise)."""
    lost = []
    for owner, registry_id in owners.items():
        mine = [r for r in recs if r.kind == "put" and r.thread == owner]
        if not mine:
            continue
        sent = {r.tag for r in mine}
        acked = [r.tag for r in mine if r.status == 200]
        row = rows.get(registry_id)
        if row is None:
            lost.append(f"registry {registry_id} of writer {owner} is gone")
            continue
        seq, why = put_seq_of_row(owner, row)
        if seq is None:
            # The row may still hold what was created before the load, if no PUT was ever acknowledged.
            if acked or row["namespace"] != f"initial-{owner}":
                lost.append(why)
            continue
        if seq not in sent:
            lost.append(f"writer {owner}: row holds PUT {seq}, never sent")
        elif acked and seq < max(acked):
            lost.append(f"writer {owner}: acknowledged PUT {max(acked)} lost, row holds older PUT {seq}")
    t.check(not lost, f"PUT durability: {'; '.join(lost[:5])}")
    acked_total = sum(1 for r in recs if r.kind == "put" and r.status == 200)
    t.figure(f"PUTs acknowledged: {acked_total}; registries checked: {len(owners)}; problems: {len(lost)}")


def create_registries(t, client, n, tag="initial"):
    """POST n registries (namespace initial-i); return {i: id}."""
    ids = {}
    for i in range(n):
        rec = client.request("POST", COLLECTION, {"address": f"https://init{i}.example.com", "provider": "harbor",
                                                  "namespace": f"{tag}-{i}"})
        if ok_problem(rec) or "registry_id" not in rec.json:
            raise RuntimeError(f"set-up POST failed: {describe(rec)}")
        ids[i] = rec.json["registry_id"]
    return ids


def put_or_get_step(client, owners):
    """A load step: PUT the thread's own registry (seq in every field), then GET it or the list."""
    def step(i, seq):
        rid = owners[i]
        put = client.request("PUT", item_path(rid), put_body(i, seq), thread=i, kind="put", tag=seq)
        path = item_path(rid) if seq % 2 else COLLECTION
        get = client.request("GET", path, thread=i, kind="get")
        return [put, get]
    return step


def get_step(client, owners):
    """A load step: GET an item or the list."""
    def step(i, seq):
        path = item_path(owners[(i + seq) % len(owners)]) if seq % 2 else COLLECTION
        return [client.request("GET", path, thread=i, kind="get")]
    return step
