"""tests/bench/report.py - turns run.sh's raw measurements into the table, the targets, results.md and plot data.

Usage: python3 report.py WORK OUT.  Reads WORK/raw.tsv (one line per wrk run), WORK/mem.tsv (RSS samples),
WORK/info.txt (machine and settings, key=value) and WORK/rows.txt (key|label|target|script, table order); when the
scale phase ran, WORK/scale-raw.tsv (one line per wrk run), WORK/scale-sizes.tsv (bytes at each size) and
WORK/scale-ops.txt (key|label|script|references, table order).  Prints the tables and the targets; writes OUT/results.md,
WORK/throughput.tsv (for throughput.gp) and, with the scale phase, WORK/scale-quiet.tsv, WORK/scale-on.tsv and
WORK/scale-style.gp (for scale.gp).
"""

import csv
import os
import sys

# Which reference each imagereg row is compared with: req/s against nginx, in-memory libfcgi and
# libfcgi+libpq of the same kind of request; p99 against the reference its target names.
COMPARE = {
    "ir_list": {"nginx": "nginx_list", "mem": "mem_list", "pg": "pg_list", "p99": "mem_list"},
    "ir_one": {"nginx": "nginx_list", "mem": "mem_one", "pg": "pg_one", "p99": "mem_one"},
    "ir_put": {"pg": "pg_put", "p99": "pg_put"},
    "ir_postdel": {"pg": "pg_postdel", "p99": "pg_postdel"},
}
MIB = 1024
# Who answers in the scale phase (scale-raw.tsv's responder): imagereg per coherence mode, then the references.
SCALE_RESPONDERS = [("host", "imagereg host"), ("cluster", "imagereg cluster"),
                    ("mem", "ref libfcgi in-memory"), ("pg", "ref libfcgi+libpq")]
SCALE_IMAGEREG = ("host", "cluster")
SCALE_WRITES = [("quiet", "quiet"), ("on", "on")]


def read_tsv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def read_info(path):
    with open(path) as f:
        return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)


def read_rows(path):
    with open(path) as f:
        return [line.rstrip("\n").split("|") for line in f if line.strip()]


# A run during which the machine stopped running us for longer than this (vcpu_gaps.c: a real-time sleeper woke
# that late) has a tail that is the host's, not the responder's: every request in flight waited as long.
STALL_MS = 20.0


def stalled(run):
    return float(run.get("stall_ms") or 0) > STALL_MS


def median(values):
    """The middle value; of an even count, the lower of the two middle ones (a value some run had)."""
    vs = sorted(values)
    return vs[(len(vs) - 1) // 2]


def points(raw, key=lambda r: (r["row"], int(r["conns"]))):
    """{key(run): req/s, p50 and p99, each the median of its own column among the runs the machine did not stall
    (all, if every one was stalled), plus non-2xx and socket errors summed over every run}.  Each column its own
    median: p99 is the least steady of them (at one connection a run's p99 is set by its slowest 1 %), and the
    p99 of the run with the median req/s was one draw of it."""
    runs = {}
    for r in raw:
        runs.setdefault(key(r), []).append(r)
    out = {}
    for key, rs in runs.items():
        rs.sort(key=lambda r: float(r["rps"]))
        calm = [r for r in rs if not stalled(r)] or rs
        mid = calm[(len(calm) - 1) // 2]
        out[key] = {
            "stalled": sum(1 for r in rs if stalled(r)),
            "stall_ms": float(mid.get("stall_ms") or 0),
            "rps": float(mid["rps"]),
            "p50": median(float(r["p50_ms"]) for r in calm),
            "p99": median(float(r["p99_ms"]) for r in calm),
            "p99_spread": (min(float(r["p99_ms"]) for r in calm), max(float(r["p99_ms"]) for r in calm)),
            "non2xx": sum(int(r["non2xx"]) for r in rs),
            "errors": sum(int(r["socket_errors"]) for r in rs),
            "rps_spread": (float(rs[0]["rps"]), float(rs[-1]["rps"])),
            "runs": rs,
        }
    return out


def ratio(a, b):
    return a / b if b else None


def fmt_ratio(x):
    return "" if x is None else f"{x:.2f}"


def table(rows, pts, conns_list):
    head = ["row", "conns", "req/s", "p50 ms", "p99 ms", "non-2xx", "sock err",
            "÷ nginx", "÷ in-mem", "÷ libpq", "p99 ÷ ref p99", "stalled runs"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * (len(head) - 2)) + "|"]
    for key, label, _target, _script in rows:
        for c in conns_list:
            p = pts.get((key, c))
            if p is None:
                continue
            cmp_ = COMPARE.get(key, {})

            def rps_vs(ref):
                q = pts.get((cmp_[ref], c)) if ref in cmp_ else None
                return fmt_ratio(ratio(p["rps"], q["rps"])) if q else ""

            ref99 = pts.get((cmp_["p99"], c)) if "p99" in cmp_ else None
            cells = [label, str(c), f"{p['rps']:.0f}", f"{p['p50']:.2f}", f"{p['p99']:.2f}", str(p["non2xx"]),
                     str(p["errors"]), rps_vs("nginx"), rps_vs("mem"), rps_vs("pg"),
                     fmt_ratio(ratio(p["p99"], ref99["p99"])) if ref99 else "",
                     f"{p['stalled']}/{len(p['runs'])}"]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def memory(mem):
    """Samples as [(label, requests, {pid: kB})]."""
    out = []
    for m in mem:
        rss = dict((int(p), int(k)) for p, k in (pair.split(":") for pair in m["pid_rss_kb"].split()))
        out.append((m["label"], int(m["requests"]), rss))
    return out


def memory_lines(samples):
    lines = ["| sample | requests served | workers | max RSS MiB | min RSS MiB | every worker (MiB) |",
             "|---|---:|---:|---:|---:|---|"]
    for label, reqs, rss in samples:
        each = " ".join(f"{k / MIB:.2f}" for _, k in sorted(rss.items()))
        lines.append(f"| {label} | {reqs} | {len(rss)} | {max(rss.values()) / MIB:.2f} | "
                     f"{min(rss.values()) / MIB:.2f} | {each} |")
    return lines


def memory_change(samples):
    """(change of the max in %, largest change of one worker in %, same workers?) between first and last sample."""
    s = {label: rss for label, _, rss in samples}
    first, last = s.get("first"), s.get("last")
    if not first or not last:
        return None, None, False
    max_change = 100.0 * (max(last.values()) - max(first.values())) / max(first.values())
    same = set(first) == set(last)
    worker = max((abs(100.0 * (last[p] - first[p]) / first[p]) for p in first if p in last), default=None)
    return max_change, worker, same


def verdict(ok):
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def targets(pts, info, samples, rows):
    tc = int(info["target_conns"])
    out = []

    def throughput(key, ref, name, refname, goal=0.80, conns=tc):
        p, q = pts.get((key, conns)), pts.get((ref, conns))
        r = ratio(p["rps"], q["rps"]) if p and q else None
        value = f"{r:.2f} ({p['rps']:.0f} vs {q['rps']:.0f} req/s)" if r is not None else f"not measured at {conns}"
        out.append((f"{name} req/s ≥ {goal:.2f} × {refname}, {conns} connections", value, f"≥ {goal:.2f}",
                    verdict(None if r is None else r >= goal)))

    def p99(key, ref, name, refname, conns=tc):
        p, q = pts.get((key, conns)), pts.get((ref, conns))
        r = ratio(p["p99"], q["p99"]) if p and q else None
        spread = "; runs {:.2f}-{:.2f} vs {:.2f}-{:.2f}".format(*p["p99_spread"], *q["p99_spread"]) if r else ""
        value = f"{r:.2f} ({p['p99']:.2f} vs {q['p99']:.2f} ms{spread})" if r is not None else f"not measured at {conns}"
        out.append((f"{name} p99 ≤ 1.5 × {refname} p99, {conns} connections", value, "≤ 1.50",
                    verdict(None if r is None else r <= 1.5)))

    # The design's limit: libfcgi writing the same bytes and nothing else (tests/bench/ref_bare.c).
    for conns in sorted({1, tc}):
        throughput("ir_list", "bare_list", "GET list", "bare libfcgi", 0.90, conns)
        throughput("ir_one", "bare_one", "GET one", "bare libfcgi", 0.90, conns)
        p99("ir_list", "bare_list", "GET list", "bare libfcgi", conns)
        p99("ir_one", "bare_one", "GET one", "bare libfcgi", conns)

    throughput("ir_list", "mem_list", "GET list", "in-memory libfcgi")
    throughput("ir_one", "mem_one", "GET one", "in-memory libfcgi")
    p99("ir_list", "mem_list", "GET list", "in-memory libfcgi")
    p99("ir_one", "mem_one", "GET one", "in-memory libfcgi")
    reads = sum(p["non2xx"] + p["errors"] for (k, _), p in pts.items() if k in ("ir_list", "ir_one"))
    reads += int(info.get("mem_errors", "0"))
    out.append(("imagereg GET list and GET one: non-2xx + socket errors, every connection count and run, "
                "memory phase too", str(reads), "0", verdict(reads == 0)))
    writes = sum(p["non2xx"] + p["errors"] for (k, _), p in pts.items() if k in ("ir_put", "ir_postdel"))
    out.append(("imagereg PUT and POST+DELETE: non-2xx + socket errors, every connection count and run",
                str(writes), "0", verdict(writes == 0)))
    throughput("ir_put", "pg_put", "PUT default", "libfcgi+libpq")
    throughput("ir_postdel", "pg_postdel", "POST+DELETE", "libfcgi+libpq")
    last = {label: rss for label, _, rss in samples}.get("last")
    if last:
        peak = max(last.values()) / MIB
        out.append(("responder RSS per worker (largest worker, last sample)", f"{peak:.2f} MiB", "≤ 8 MiB",
                    verdict(peak <= 8.0)))
    max_change, worker, same = memory_change(samples)
    reqs = {label: n for label, n, _ in samples}
    if worker is not None:
        note = "" if same else " (a worker was replaced between the samples)"
        out.append((f"RSS flat between {reqs['first']} and {reqs['last']} requests (largest change of one worker)",
                    f"{worker:.1f} % (max RSS {max_change:+.1f} %){note}", "≤ ±5 %",
                    verdict(worker <= 5.0 and same)))
    return out


def target_lines(ts):
    lines = ["| target | measured | goal | verdict |", "|---|---|---|---|"]
    lines += [f"| {t} | {v} | {g} | **{d}** |" for t, v, g, d in ts]
    return lines


def plot_data(rows, pts, conns_list, path):
    with open(path, "w") as f:
        f.write("conns\t" + "\t".join(label for _, label, _, _ in rows) + "\n")
        for c in conns_list:
            cells = [f"{pts[(k, c)]['rps']:.1f}" if (k, c) in pts else "NaN" for k, _, _, _ in rows]
            f.write(f"{c}\t" + "\t".join(cells) + "\n")


def scale_key(r):
    return r["op"], r["responder"], int(r["size"]), r["writes"]


def scale_table(ops, pts, sizes, seconds):
    """One line per operation, size, writes and responder; imagereg's with ratios to both references."""
    head = ["operation", "responder", "registries", "writes", "req/s", "p50 ms", "p99 ms", "non-2xx", "sock err",
            "bg writes/s", "bg failed", "÷ in-mem", "÷ libpq"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * 4 + ["---:"] * (len(head) - 4)) + "|"]
    for op, label, *_ in ops:
        for n in sizes:
            for writes, wlabel in SCALE_WRITES:
                for who, wholabel in SCALE_RESPONDERS:
                    p = pts.get((op, who, n, writes))
                    if p is None:
                        continue

                    def vs(ref):
                        q = pts.get((op, ref, n, writes))
                        return fmt_ratio(ratio(p["rps"], q["rps"])) if q and who in SCALE_IMAGEREG else ""

                    bg = sum(int(r["bg_writes"]) for r in p["runs"])
                    failed = sum(int(r["bg_failed"]) for r in p["runs"])
                    cells = [label, wholabel, str(n), wlabel, f"{p['rps']:.0f}", f"{p['p50']:.2f}",
                             f"{p['p99']:.2f}", str(p["non2xx"]), str(p["errors"]),
                             f"{bg / (len(p['runs']) * seconds):.1f}", str(failed), vs("mem"), vs("pg")]
                    lines.append("| " + " | ".join(cells) + " |")
    return lines


def scale_series(ops, pts):
    """[(op index, responder index, op, responder, title)] of every series measured, responders first."""
    out = []
    for ri, (who, wholabel) in enumerate(SCALE_RESPONDERS):
        for oi, (op, label, *_) in enumerate(ops):
            if any(k[0] == op and k[1] == who for k in pts):
                out.append((oi, ri, op, who, f"{wholabel} {label}"))
    return out


def scale_plot_data(ops, pts, sizes, work):
    """scale-quiet.tsv and scale-on.tsv (req/s, one column per series) and scale-style.gp (colour per
    operation, dash per responder, as word lists scale.gp indexes)."""
    series = scale_series(ops, pts)
    for writes, _ in SCALE_WRITES:
        with open(f"{work}/scale-{writes}.tsv", "w") as f:
            f.write("registries\t" + "\t".join(s[4] for s in series) + "\n")
            for n in sizes:
                cells = [f"{pts[(op, who, n, writes)]['rps']:.1f}" if (op, who, n, writes) in pts else "NaN"
                         for _, _, op, who, _ in series]
                f.write(f"{n}\t" + "\t".join(cells) + "\n")
    with open(f"{work}/scale-style.gp", "w") as f:
        f.write(f"nseries = {len(series)}\n")
        f.write('colours = "' + " ".join(str(s[0] + 1) for s in series) + '"\n')
        f.write('dashes = "' + " ".join(str(s[1] + 1) for s in series) + '"\n')


def scale_lines(info, ops, pts, sizes, size_bytes):
    seconds = float(info["scale_seconds"])
    per_size = ", ".join(f"{n}: {int(b['list_bytes']) / 1024:.0f} KiB list, page of {b['page_rows']} rows "
                         f"({int(b['page_bytes']) / 1024:.1f} KiB)" for n, b in sorted(size_bytes.items()))
    return [
        "## Scale",
        "",
        f"The same requests at {', '.join(str(n) for n in sizes)} registries, {info['scale_conns']} connections, "
        f"{info['scale_runs']} run(s) of {info['scale_seconds']} s a point (medians shown; non-2xx, socket errors "
        "and background writes summed over the runs). At each size the table is filled in SQL to exactly that "
        "many rows (the first one default, providers alternating harbor and native) and vacuumed, the responder "
        "told to forget its cache, imagereg's own answers captured for the in-memory reference, and both "
        "references restarted. After each restart half a second of PUTs goes unmeasured (fresh sessions "
        "compile the SQL functions on their first write).",
        "",
        f"- GET list: the whole list. GET one: the third row. GET page: `?{info['scale_query']}` (the references "
        "answer it too: in-memory with the captured bytes, libfcgi+libpq with one statement that pages and counts "
        "the matches). PUT: the second row's full body, its namespace changed back and forth (every PUT a real "
        "change).",
        "- writes on: a background writer PUTs the fourth row through the API about every 0.1 s (`writer.py`, "
        "kept-alive connections, B after A, each a real change) for the whole point; bg writes/s is what it achieved, bg failed its "
        "answers other than 200. quiet: no writer.",
        "- imagereg host / cluster: the responder restarted with `coherence = host` or `cluster`. The "
        "references have no mode: they are measured once, beside imagereg host. ÷ in-mem and ÷ libpq divide "
        "imagereg's req/s by the reference's for the same operation, size and writes.",
        f"- Response sizes: {per_size}.",
        "",
        *scale_table(ops, pts, sizes, seconds),
        "",
        "![req/s against registries](scale.png)",
        "",
    ]


def one_conn_line(info):
    if info.get("one_conn_client", "wrk") != "seq":
        return "- At one connection too, every row is measured with wrk (`BENCH_ONE_CONN_CLIENT=wrk`)."
    return ("- At one connection the GET rows (list and one, every responder) are measured with `seq_get.c` instead "
            "of wrk: one GET at a time on a kept-alive connection, blocking in read(), each timed from its write "
            "to its last byte; writes keep wrk. On this machine's 2 virtual CPUs wrk -c1 put about 1 % of the "
            "requests of every responder behind nginx, bare libfcgi included, into 0.5-3 ms, where p99 falls, and "
            "seq_get at the same minutes 0.1 % (tests/bench/README.md, \"One connection\"). "
            "`BENCH_ONE_CONN_CLIENT=wrk` measures them with wrk again.")


def settings_lines(info):
    return [
        f"- Each point: {info['runs']} run(s) of {info['seconds']} s; req/s, p50 and p99 are each the median of "
        "that column over the runs (of an even count, the lower middle one). "
        "non-2xx and socket errors are summed over every run of the point.",
        f"- Beside every run, a real-time (SCHED_FIFO) sleeper waking each millisecond (`vcpu_gaps.c`) records how "
        f"long the machine stopped running us. A run with a stop over {STALL_MS:.0f} ms (on this virtual machine: "
        "100 ms, the host's time slice, now and then) is 'stalled': every request in flight waited that long, which "
        "is its p99 if it falls in a short run. The median is taken among the runs that were not stalled (among all, "
        "if every run was); 'stalled runs' says how many of a point's runs were.",
        f"- wrk {info['wrk']}: threads = min(connections, 2), `--latency`, `--timeout {info['timeout']}` "
        "(a slower answer counts as a socket error and is left out of the percentiles), on the same machine as "
        "everything else.",
        one_conn_line(info),
        f"- Every responder runs {info['workers']} preforked workers on a unix socket behind nginx "
        f"{info['nginx']} (worker_processes auto, access log on), `fastcgi_keep_conn {info['keep_conn']}`. "
        "The references sit behind a second nginx of the same build and settings, one server per reference.",
        "- imagereg runs with authentication on: every request carries the stack's write token and imagereg "
        "checks it, however it does that (cached or not, it is part of what is measured). The references have "
        "no authentication.",
        f"- Data: {info['rows']} registries seeded through the API; the list response is {info['list_bytes']} "
        "bytes. GET one reads the third row. PUT default sends the full body of row 1 or row 2 with "
        "`is_default: true`, alternately. POST+DELETE creates a non-default registry and deletes it by the "
        "returned id (each counts as one request). After every POST+DELETE run the rows left by requests in "
        "flight are deleted and the default goes back to row 1.",
        "- Connection counts are measured in increasing order, so the later points of a write row run on a "
        "database with more history (audit rows, dead tuples) than its earlier ones: compare a row with its "
        "reference at the same point rather than one point with another.",
        f"- Registry table after the run compared with right after seeding: **{info['table_after']}**.",
        "- References: `ref nginx` answers the captured list with `return 200`; `ref libfcgi in-memory` "
        "(tests/bench/ref_mem.c) answers the captured list or row from memory; `ref libfcgi bare` "
        "(tests/bench/ref_bare.c) writes the same response bytes, prebuilt, and nothing else (nginx picks the "
        "list's or the row's instance); `ref libfcgi+libpq` "
        "(tests/bench/ref_pg.c) runs the statements of cgi/db.c with PQexecPrepared, one round trip per request.",
    ]


def tuning_lines(info):
    return [
        f"- Workers: {info['workers']}. On 2 cores, 8 preforked workers measured best among 2/4/8/16/32 for a "
        "DB-backed reference responder (4 and 8 within noise). Re-measure with `BENCH_WORKERS=N make bench`; "
        "the references get the same count.",
        "- `fastcgi_keep_conn`: off. A libfcgi worker serves one FastCGI connection at a time, so an idle "
        "kept-alive connection pins a worker while new requests queue (a reference went from 3 ms to 1.35 s p99). "
        "Measure before enabling it: `BENCH_KEEP_CONN=on make bench` turns it on, with an upstream `keepalive` "
        "of one connection per worker, for imagereg and the references alike.",
    ]


def main():
    work, out = sys.argv[1], sys.argv[2]
    info = read_info(f"{work}/info.txt")
    rows = read_rows(f"{work}/rows.txt")
    pts = points(read_tsv(f"{work}/raw.tsv"))
    samples = memory(read_tsv(f"{work}/mem.tsv"))
    conns_list = [int(c) for c in info["conns"].split()]

    tbl = table(rows, pts, conns_list)
    ts = targets(pts, info, samples, rows)
    mem = memory_lines(samples)
    max_change, worker, _ = memory_change(samples)

    print("\n".join(tbl))
    print()
    print("Targets")
    for t, v, g, d in ts:
        print(f"  {d:4}  {t}: {v} (goal {g})")
    print()
    print("Memory")
    print("\n".join(mem))

    md = [
        "# imagereg benchmark",
        "",
        f"`make bench` (tests/bench/run.sh), {info['date']}.",
        "",
        "## Machine",
        "",
        f"- {info['cpus']} CPUs ({info['cpu']}), {info['kernel']}",
        f"- nginx {info['nginx']}, PostgreSQL {info['postgresql']}, wrk {info['wrk']}",
        f"- load average (1, 5, 15 min) before: {info['load_start']}; after: {info['load_end']} "
        "(well above 0 before the run means other work shared the machine during it)",
        "",
        "## Settings",
        "",
        *settings_lines(info),
        "",
        "## Throughput and latency",
        "",
        "Ratios are req/s of the imagereg row divided by the reference's at the same connection count "
        "(÷ in-mem and ÷ libpq against the same kind of request); p99 ÷ ref p99 is against the in-memory "
        "reference for reads and libfcgi+libpq for writes.",
        "",
        *tbl,
        "",
        "![req/s against connections](throughput.png)",
        "",
        "## Targets",
        "",
        *target_lines(ts),
        "",
        "## Memory",
        "",
        f"A freshly restarted responder, GET list at {info['mem_conns']} connections; VmRSS of every worker "
        "(children of the supervisor) at the start, after a tenth of the requests and at the end. "
        f"Non-2xx and socket errors in this phase: {info.get('mem_errors', '?')}.",
        "",
        *mem,
        "",
    ]
    if worker is not None:
        md += [f"Change from the tenth to the end: max RSS {max_change:+.1f} %, largest change of one worker "
               f"{worker:.1f} %.", ""]
    if os.path.exists(f"{work}/scale-raw.tsv"):
        ops = read_rows(f"{work}/scale-ops.txt")
        spts = points(read_tsv(f"{work}/scale-raw.tsv"), scale_key)
        sizes = [int(n) for n in info["scale_sizes"].split()]
        size_bytes = {int(r["size"]): r for r in read_tsv(f"{work}/scale-sizes.tsv")}
        scale = scale_lines(info, ops, spts, sizes, size_bytes)
        print()
        print("\n".join(scale))
        md += scale
        scale_plot_data(ops, spts, sizes, work)
    md += ["## Tuning", "", *tuning_lines(info), ""]
    with open(f"{out}/results.md", "w") as f:
        f.write("\n".join(md))
    plot_data(rows, pts, conns_list, f"{work}/throughput.tsv")


if __name__ == "__main__":
    main()
