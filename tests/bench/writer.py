#!/usr/bin/env python3
"""tests/bench/writer.py URL TOKEN ID BODY_A BODY_B CODES STOPFILE: the scale phase's background writes.

A PUT of registry ID through the API every 0.1 s by the clock (BODY_B after BODY_A after BODY_B, so each one
changes the row), until STOPFILE exists; then the writes in flight are finished and it exits.  One HTTP status a
line goes to CODES as each answer comes ("000": no answer at all), which run.sh counts between points.

The writes go over kept-alive HTTP connections, as a console or script keeps its own: what the machine spends on
them is imagereg's, nginx's and PostgreSQL's work for ten writes a second, not ten client start-ups (a curl
process a write took 0.6 of a core on this 2-core machine, as much as the load being measured lost to it).
A small pool of connections, each in its own thread, so one slow answer does not slow the rate; when every one
is busy a tick is skipped rather than queued (a busy machine gets no burst to catch up).
"""
import http.client
import os
import queue
import sys
import threading
import time
import urllib.parse

INTERVAL = 0.1
CONNECTIONS = 4


def put_loop(jobs, host, port, path, headers, record):
    conn = None
    while True:
        body = jobs.get()
        if body is None:
            break
        code = 0
        for attempt in range(2):   # a kept-alive connection the server closed meanwhile: once more, on a new one
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, port, timeout=30)
                conn.request("PUT", path, body, headers)
                resp = conn.getresponse()
                resp.read()
                code = resp.status
                break
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
        record(code)
        jobs.task_done()
    if conn is not None:
        conn.close()


def main():
    if len(sys.argv) != 8:
        sys.exit("usage: writer.py URL TOKEN ID BODY_A BODY_B CODES STOPFILE")
    url, token, rid, body_a, body_b, codes_path, stop_path = sys.argv[1:]
    parts = urllib.parse.urlsplit(url)
    path = f"{parts.path.rstrip('/')}/openapi/system/registry/{rid}"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    lock = threading.Lock()
    codes = open(codes_path, "a")

    def record(code):
        with lock:
            codes.write(f"{code:03d}\n")
            codes.flush()

    jobs = queue.Queue()
    threads = [threading.Thread(target=put_loop, args=(jobs, parts.hostname, parts.port, path, headers, record))
               for _ in range(CONNECTIONS)]
    for t in threads:
        t.start()
    n, next_at = 0, time.monotonic()
    while not os.path.exists(stop_path):
        if jobs.unfinished_tasks < CONNECTIONS:
            jobs.put(body_a if n % 2 == 0 else body_b)
            n += 1
        next_at += INTERVAL
        now = time.monotonic()
        if now < next_at:
            time.sleep(next_at - now)
        else:
            next_at = now
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join()
    codes.close()


if __name__ == "__main__":
    main()
