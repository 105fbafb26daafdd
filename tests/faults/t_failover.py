"""failover: the primary dies under a load of PUTs and POSTs and a streaming-replication standby is promoted.

Two clusters on loopback TCP ports: a primary and a standby made with pg_basebackup -R -X stream, replicating
synchronously (synchronous_standby_names names the standby's application_name, synchronous_commit on), so that a
commit is acknowledged only once the standby has flushed it: with asynchronous replication an acknowledged write
could legitimately be lost in a failover, and "no acknowledged write lost" would not be a property of imagereg.
The responder gets a multi-host DSN with target_session_attrs=read-write; nginx is the repository's nginx.conf.in.

Under the write load the primary is stopped with pg_ctl stop -m immediate and, after a 1 s "detection" pause, the
standby is promoted. Checked: writes resume through the same responder processes (supervisor and worker PIDs
unchanged); every answer is 200 or a Zadig 503, in time; the failover gap (primary stop to first 200 write) is
measured; every POST and PUT acknowledged with 200 is in the promoted standby's table, whole.
"""

import os
import shutil
import signal
import subprocess
import time

import flib
from flib import ms

WORKERS = 4
PUT_THREADS = 4
POST_THREADS = 4
DETECT_S = 1.0          # time a failover manager would take to notice, between the stop and the promotion
RESUME_LIMIT_S = 2.0    # after pg_ctl promote returns, every write that starts this much later must succeed
APP_NAME = "standby1"


def postgres_owned_dir(path):
    os.makedirs(path)
    shutil.chown(path, "postgres", "postgres")
    os.chmod(path, 0o700)


def pg_stop_dir(pgdir):
    """tests/lib/pg.sh's pg_stop: pg_ctl stop -m fast, then TERM to the recorded postmaster PID."""
    subprocess.run(["bash", "-c", '. "$1"; pg_stop "$2"', "pg", os.path.join(flib.ROOT, "tests", "lib", "pg.sh"),
                    pgdir], stdin=subprocess.DEVNULL, capture_output=True, timeout=120)


def append_conf(datadir, text):
    proc = subprocess.run(flib.as_postgres("tee", "-a", os.path.join(datadir, "postgresql.conf")), input=text,
                          text=True, capture_output=True, timeout=30)
    if proc.returncode != 0:
        raise RuntimeError(f"cannot append to {datadir}/postgresql.conf: {proc.stderr}")


def start_cluster(pgdir):
    flib.pg_ctl(os.path.join(pgdir, "data"), "-l", os.path.join(pgdir, "server.log"), "-w", "-t", "60", "start")
    with open(os.path.join(pgdir, "postmaster.pid.copy"), "w") as f:
        f.write(f"{flib.postmaster_pid(os.path.join(pgdir, 'data'))}\n")


def build_clusters(t, primary, standby, p1, p2):
    bindir = flib.pg_bindir()
    postgres_owned_dir(primary)
    postgres_owned_dir(standby)
    t.on_cleanup(pg_stop_dir, primary)
    t.on_cleanup(pg_stop_dir, standby)
    flib.run(flib.as_postgres(os.path.join(bindir, "initdb"), "-D", os.path.join(primary, "data"), "--auth=trust",
                              "--username=postgres", "--encoding=UTF8", "--locale=C", "--no-sync"))
    hba = open(os.path.join(primary, "data", "pg_hba.conf")).read()
    if not any(line.split()[:2] == ["host", "replication"] and "127.0.0.1/32" in line
               for line in hba.splitlines() if line.strip() and not line.startswith("#")):
        subprocess.run(flib.as_postgres("tee", "-a", os.path.join(primary, "data", "pg_hba.conf")),
                       input="host replication all 127.0.0.1/32 trust\n", text=True, capture_output=True, timeout=30)
    append_conf(os.path.join(primary, "data"), f"""
# --- tests/faults/t_failover.py: primary of a synchronous streaming-replication pair ---
listen_addresses = '127.0.0.1'
port = {p1}
unix_socket_directories = '{primary}'
wal_level = replica
max_wal_senders = 5
hot_standby = on
synchronous_commit = on
fsync = off
max_connections = 100
logging_collector = off
log_min_messages = warning
""")
    start_cluster(primary)
    flib.run(flib.as_postgres(os.path.join(bindir, "pg_basebackup"),
                              "-d", f"host=127.0.0.1 port={p1} user=postgres application_name={APP_NAME}",
                              "-D", os.path.join(standby, "data"), "-R", "-X", "stream", "-c", "fast", "--no-sync"))
    auto = open(os.path.join(standby, "data", "postgresql.auto.conf")).read()
    if f"application_name={APP_NAME}" not in auto and f"application_name='{APP_NAME}'" not in auto:
        subprocess.run(flib.as_postgres("tee", "-a", os.path.join(standby, "data", "postgresql.auto.conf")),
                       input=f"primary_conninfo = 'host=127.0.0.1 port={p1} user=postgres "
                             f"application_name={APP_NAME}'\n", text=True, capture_output=True, timeout=30)
    append_conf(os.path.join(standby, "data"), f"""
# --- tests/faults/t_failover.py: the standby (its own port and socket; no synchronous standby of its own once
# promoted, or its commits would wait for one forever) ---
port = {p2}
unix_socket_directories = '{standby}'
synchronous_standby_names = ''
""")
    start_cluster(standby)
    admin1 = f"host=127.0.0.1 port={p1} dbname=postgres user=postgres"
    flib.psql(f"ALTER SYSTEM SET synchronous_standby_names = '\"{APP_NAME}\"'; SELECT pg_reload_conf();", admin1)
    state = lambda: flib.psql(f"SELECT sync_state FROM pg_stat_replication WHERE application_name = '{APP_NAME}';",
                              admin1).strip()
    if flib.wait_for(lambda: state() == "sync", 20, 0.2) is None:
        raise RuntimeError(f"the standby is not a synchronous standby: sync_state {state()!r}")
    t.figure(f"primary 127.0.0.1:{p1}, standby 127.0.0.1:{p2} ({APP_NAME}, sync_state sync)")


def start_app(t, p1, p2):
    """Database, role, key, token, responder and nginx; returns (client, responder Popen)."""
    d = t.dir
    admin = f"host=127.0.0.1 port={p1} dbname=imagereg user=postgres"
    flib.psql("CREATE DATABASE imagereg;", f"host=127.0.0.1 port={p1} dbname=postgres user=postgres")
    key = os.path.join(d, "imagereg.key")
    with open(key, "w", opener=lambda p, f: os.open(p, f, 0o600)) as f:
        f.write(os.urandom(32).hex())
    cli_env = {k: v for k, v in os.environ.items() if k not in flib.FOREIGN_ENV}
    cli_env.update(IMAGEREG_ADMIN_DSN=admin, IMAGEREG_SQL_DIR=flib.SQL_DIR, IMAGEREG_KEY_FILE=key)
    flib.run([flib.CLI, "migrate"], env=cli_env)
    flib.psql("CREATE ROLE imagereg LOGIN IN ROLE imagereg_app;", admin)
    token = flib.run([flib.CLI, "token", "create", "failover-writer", "--scope", "write"], env=cli_env).stdout.strip()

    dsn = (f"host=127.0.0.1,127.0.0.1 port={p1},{p2} dbname=imagereg user=imagereg "
           "target_session_attrs=read-write connect_timeout=2")
    t.figure(f"IMAGEREG_DSN='{dsn}'")
    app_env = {k: v for k, v in os.environ.items() if k not in flib.FOREIGN_ENV}
    app_env.update(IMAGEREG_DSN=dsn, IMAGEREG_KEY_FILE=key)
    sock = os.path.join(d, "imagereg.sock")
    log = open(os.path.join(d, "imagereg.log"), "ab")
    proc = subprocess.Popen([flib.FCGI, "--listen", f"unix:{sock}", "--workers", str(WORKERS)],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=app_env)
    log.close()
    with open(os.path.join(d, "imagereg.pid"), "w") as f:
        f.write(f"{proc.pid}\n")

    def stop_responder():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        try:
            os.unlink(os.path.join(d, "imagereg.pid"))
        except FileNotFoundError:
            pass

    # Stops nginx by its PID (tests/lib/stack.sh's stack_stop; the responder is already gone by then).
    t.on_cleanup(lambda: flib.bash_stack("stack_stop", d, dict(os.environ), os.path.join(d, "stack.log"),
                                         timeout=60))
    t.on_cleanup(stop_responder)
    if flib.wait_for(lambda: os.path.exists(sock) and len(flib.children(proc.pid)) == WORKERS, 15) is None:
        raise RuntimeError("the responder did not start its workers")

    port = flib.free_port()
    shutil.copy("/etc/nginx/fastcgi_params", d)
    shutil.copy(os.path.join(flib.ROOT, "nginx", "imagereg-location.conf"), d)
    conf = open(os.path.join(flib.ROOT, "nginx", "nginx.conf.in")).read()
    for k, v in (("@DIR@", d), ("@PORT@", str(port)), ("@SOCKET@", sock), ("@USER@", "root")):
        conf = conf.replace(k, v)
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(conf)
    flib.run(["nginx", "-p", d, "-c", os.path.join(d, "nginx.conf"), "-e", os.path.join(d, "nginx-error.log")])
    if flib.wait_for(lambda: os.path.exists(os.path.join(d, "nginx.pid")), 10) is None:
        raise RuntimeError("nginx did not start")
    client = flib.Client(port, token)
    if flib.wait_for(lambda: client.request("GET", flib.COLLECTION).status == 200, 15, 0.2) is None:
        raise RuntimeError("the responder does not answer through nginx")
    return client, proc


def post_body(i, seq):
    return {"address": f"https://p{seq}.t{i}.example.com", "provider": "harbor", "namespace": f"post-{i}-{seq}"}


def write_step(client, owners):
    def step(i, seq):
        if i < PUT_THREADS:
            return [client.request("PUT", flib.item_path(owners[i]), flib.put_body(i, seq), thread=i, kind="put",
                                   tag=seq)]
        return [client.request("POST", flib.COLLECTION, post_body(i, seq), thread=i, kind="post", tag=seq)]
    return step


def body(t):
    if os.geteuid() != 0:
        raise RuntimeError("run as root (the clusters run as the postgres OS user through runuser)")
    primary, standby = os.path.join(t.dir, "pg-primary"), os.path.join(t.dir, "pg-standby")
    p1 = flib.free_port()
    p2 = flib.free_port()
    while p2 == p1:
        p2 = flib.free_port()
    build_clusters(t, primary, standby, p1, p2)
    client, proc = start_app(t, p1, p2)
    owners = flib.create_registries(t, client, PUT_THREADS)
    sup = proc.pid
    workers_before = flib.children(sup)

    load = flib.Load(PUT_THREADS + POST_THREADS, write_step(client, owners), pause=0.005).start()
    t.on_cleanup(load.stop)
    t0 = flib.now()
    time.sleep(2.0)
    t_stop_begin = flib.now()
    flib.pg_ctl(os.path.join(primary, "data"), "-m", "immediate", "-w", "-t", "60", "stop")
    t_stop_end = flib.now()
    time.sleep(DETECT_S)
    t_promote_begin = flib.now()
    flib.pg_ctl(os.path.join(standby, "data"), "-w", "-t", "60", "promote")
    t_promote_end = flib.now()

    flib.wait_for(lambda: any(r.status == 200 and r.start >= t_stop_end for r in load.snapshot()), 20, 0.1)
    time.sleep(3.0)
    recs = load.stop()
    t.figure(f"pg_ctl stop -m immediate took {ms(t_stop_end - t_stop_begin)}ms; promote started "
             f"{ms(t_promote_begin - t_stop_begin)}ms after the stop began and took "
             f"{ms(t_promote_end - t_promote_begin)}ms")

    flib.check_common(t, recs, t0)
    before = [r for r in recs if r.end < t_stop_begin]
    t.check(before and all(r.status == 200 for r in before),
            f"before the stop not every write was 200 ({flib.status_counts(before)})")
    down = [r for r in recs if r.start >= t_stop_end and r.end <= t_promote_begin]
    t.figure(f"between stop and promotion: {len(down)} writes; statuses: {flib.status_counts(down)}")
    wrong = [r for r in down if flib.zadig_error_problem(r, 503)]
    t.check(not wrong, f"{len(wrong)} writes without a primary were not a Zadig 503, e.g. "
                       f"{flib.describe(wrong[0], t0) if wrong else ''}")

    # A write that started once pg_ctl stop had returned cannot have been served by the old primary.
    after_stop = sorted((r for r in recs if r.start >= t_stop_end), key=lambda r: r.end)
    first_ok = next((r for r in after_stop if r.status == 200), None)
    if t.check(first_ok is not None, "writes did not resume after the promotion"):
        t.figure(f"failover gap: first 200 write {ms(first_ok.end - t_stop_begin)}ms after the primary stop began "
                 f"({ms(first_ok.end - t_promote_end)}ms after pg_ctl promote returned; {first_ok.method})")
    late = [r for r in recs if r.start >= t_promote_end + RESUME_LIMIT_S and r.status != 200]
    t.check(not late, f"{len(late)} writes failed more than {ms(RESUME_LIMIT_S)}ms after the promotion, e.g. "
                      f"{flib.describe(late[0], t0) if late else ''}")
    after_promote = [r for r in recs if r.start >= t_promote_end]
    t.figure(f"after promotion: {len(after_promote)} writes; statuses: {flib.status_counts(after_promote)}")

    workers_after = flib.children(sup)
    t.figure(f"supervisor {sup}; workers before {workers_before}, after {workers_after}")
    t.check(proc.poll() is None, f"the supervisor exited ({proc.returncode})")
    t.check(workers_after == workers_before, f"workers changed: {workers_before} -> {workers_after}")

    new_primary = f"host=127.0.0.1 port={p2} dbname=imagereg user=postgres"
    t.check(flib.psql("SELECT pg_is_in_recovery();", new_primary).strip() == "f", "the standby is still in recovery")
    rows = flib.table_rows(new_primary)
    acked_posts = [r for r in recs if r.kind == "post" and r.status == 200]
    missing = []
    for r in acked_posts:
        rid = r.json.get("registry_id") if isinstance(r.json, dict) else None
        row = rows.get(rid)
        want = post_body(r.thread, r.tag)
        if row is None:
            missing.append(f"POST {want['namespace']} acknowledged as {rid} is not in the promoted standby")
        elif (row["address"], row["provider"], row["namespace"]) != (want["address"], want["provider"],
                                                                     want["namespace"]):
            missing.append(f"row {rid} is not what POST {want['namespace']} wrote: {row}")
    t.figure(f"POSTs acknowledged: {len(acked_posts)}; missing or different on the promoted standby: {len(missing)}")
    t.check(not missing, f"acknowledged POSTs lost: {'; '.join(missing[:5])}")
    flib.check_puts_durable(t, recs, owners, rows)
    log = open(os.path.join(t.dir, "imagereg.log"), errors="replace").read()
    t.figure(f"responder log: {log.count('database unavailable')} 'database unavailable', "
             f"{log.count('database connection established')} 'database connection established' lines")
    flib.check_log_lines(t, log)


if __name__ == "__main__":
    flib.main(body)
