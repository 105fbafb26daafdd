"""README's "Backup and restore" commands, taken from README itself, copy the stack's database into a fresh one; a
responder pointed at the copy (the same binary, run as CGI) serves the same registries and the CLI opens the same
credentials with the same key file."""

import json
import os
import re
import subprocess
import tempfile

from lib import COLLECTION, body, create, psql, reset, responder_env, secret, stored_credentials
from t_cgi import parse_cgi

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COPY = "imagereg_restored"


def readme_commands():
    """The sh block after <!-- backup:commands --> in README.md."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    match = re.search(r"<!-- backup:commands -->\n```sh\n(.*?)```", text, re.S)
    assert match, "README.md has no <!-- backup:commands --> sh block"
    return match.group(1)


def served_list(dsn):
    """GET of the list from a responder (CGI) whose database is dsn."""
    env = {"PATH": os.environ["PATH"], "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET",
           "PATH_INFO": COLLECTION, "IMAGEREG_DSN": dsn, "IMAGEREG_KEY_FILE": os.environ["IMAGEREG_KEY_FILE"],
           "HTTP_AUTHORIZATION": f"Bearer {os.environ['IMAGEREG_READ_TOKEN']}"}
    env.update({k: v for k, v in responder_env().items() if k in ("PGHOST", "PGPORT", "IMAGEREG_CONFIG")})
    proc = subprocess.run([os.environ["IMAGEREG_CGI"]], env=env, capture_output=True, timeout=30,
                          stdin=subprocess.DEVNULL)
    status, _, data = parse_cgi(proc.stdout)
    assert status == 200, f"the responder on {dsn} answered {status}: {data[:300]}"
    return json.loads(data)


def test_readme_backup_and_restore_serves_the_same_registries_and_credentials():
    reset()
    ids = [create(address=f"https://r{i}.example", access_key=secret("ak"), secret_key=secret("sk"))
           for i in range(3)]
    original = served_list(os.environ["IMAGEREG_DSN"])
    creds = {rid: stored_credentials(rid)[:2] for rid in ids}
    psql(f"DROP DATABASE IF EXISTS {COPY} WITH (FORCE);", database="postgres")
    # The CLI as README names it: `imagereg` on PATH, the stack's admin login and host in the environment.
    env = {**os.environ, "PATH": os.path.dirname(os.environ["IMAGEREG_CLI"]) + ":" + os.environ["PATH"]}
    env.pop("IMAGEREG_DSN", None)
    env.pop("IMAGEREG_ADMIN_DSN", None)
    with tempfile.TemporaryDirectory() as work:
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", readme_commands()], cwd=work, env=env,
                              capture_output=True, text=True, timeout=120)
    try:
        assert proc.returncode == 0, f"README's commands failed: {proc.stderr[-800:]}"
        copy_dsn = re.sub(r"dbname=\S+", f"dbname={COPY}", os.environ["IMAGEREG_DSN"])
        assert served_list(copy_dsn) == original, "the copy serves other registries"
        for rid, pair in creds.items():
            out = subprocess.run([os.environ["IMAGEREG_CLI"], "credentials", rid], capture_output=True, text=True,
                                 env={**os.environ, "IMAGEREG_ADMIN_DSN": re.sub(
                                     r"dbname=\S+", f"dbname={COPY}", os.environ["IMAGEREG_ADMIN_DSN"])},
                                 timeout=30)
            assert out.returncode == 0, out.stderr
            values = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
            assert (values.get("access_key"), values.get("secret_key")) == pair, "the copy opens other credentials"
        # The restore wrote no audit rows and kept the owners the hardening needs.
        assert psql("SELECT count(*) FROM registry_audit;", database=COPY) == psql(
            "SELECT count(*) FROM registry_audit;"), "the restore added audit rows"
        assert psql("SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'imagereg_token_check';",
                    database=COPY).strip() == "imagereg_owner"
    finally:
        psql(f"DROP DATABASE IF EXISTS {COPY} WITH (FORCE);", database="postgres")
