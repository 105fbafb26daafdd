"""Every row of field_rules.tsv is judged by the API (POST, 200 or 400) and by PostgreSQL (a plain INSERT as the
responder's role, committed or refused by a CHECK), and both must give the row's verdict: sql/006's CHECKs accept
exactly what cgi/validate.c accepts, so a DBA cannot store what the API would serve but refuse to take back."""

import json
import os

from lib import COLLECTION, psql, request, reset

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = {"address": "https://base.example", "provider": "native", "namespace": "ns", "region": "", "enable_tls": False}

# One subtransaction per case, always rolled back: the verdict is "ok" or the SQLSTATE and constraint that refused.
JUDGE = """
CREATE FUNCTION pg_temp.judge(cases json) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
	c json;
	verdicts text[] := '{}';
	state text;
	constraint_name text;
BEGIN
	FOR c IN SELECT value FROM json_array_elements(cases) LOOP
		BEGIN
			INSERT INTO registry (address, provider, namespace, region, enable_tls, tls_cert)
			VALUES (c->>'address', c->>'provider', c->>'namespace', c->>'region', (c->>'enable_tls')::boolean,
			        c->>'tls_cert');
			RAISE EXCEPTION 'judged' USING ERRCODE = 'IRJ00';
		EXCEPTION WHEN SQLSTATE 'IRJ00' THEN
			verdicts := verdicts || 'ok'::text;
		WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, constraint_name = CONSTRAINT_NAME;
			verdicts := verdicts || ('refused ' || state || ' ' || constraint_name);
		END;
	END LOOP;
	RETURN to_json(verdicts);
END
$$;
SET ROLE imagereg_app;
SELECT pg_temp.judge(:'p1');
"""


def cases():
    with open(os.path.join(HERE, "field_rules.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            verdict, fields, why = line.rstrip("\n").split("\t")
            yield verdict, {**BASE, **json.loads(fields)}, why


def test_api_and_sql_judge_every_field_value_alike():
    table = list(cases())
    assert len(table) >= 50, f"only {len(table)} cases"
    assert {v for v, _, _ in table} == {"ok", "refused"}
    reset()
    try:
        api = []
        for _, body, _ in table:
            resp = request("POST", COLLECTION, body=body)
            assert resp.status in (200, 400), f"POST {body}: {resp.status} {resp.raw[:200]}"
            api.append("ok" if resp.status == 200 else "refused")
    finally:
        reset()
    sql = json.loads(psql(JUDGE, json.dumps([body for _, body, _ in table])))
    wrong = []
    for (want, body, why), got_api, got_sql in zip(table, api, sql):
        if got_api != want or got_sql.split(" ")[0] != want:
            wrong.append(f"{why}: want {want}, API {got_api}, SQL {got_sql} ({json.dumps(body)[:120]})")
        elif want == "refused" and not got_sql.startswith("refused 23514"):
            wrong.append(f"{why}: SQL refused with {got_sql}, not a CHECK (23514)")
    assert not wrong, f"{len(wrong)} of {len(table)} cases disagree: " + " | ".join(wrong)
