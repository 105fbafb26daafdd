"""SIGTERM to an idle supervisor stops the whole responder within a second, every time: the supervisor waits for
signals and child exits in one sigsuspend(), so a SIGTERM that lands between its checks and its wait is not left
waiting for some worker to exit. Twenty starts, each stopped at a different moment of its idle loop."""

import os
import socket
import subprocess
import tempfile
import time

# AddressSanitizer's and valgrind's own exit work (a leak scan in each of the five processes) is not the
# supervisor's: give them room (3.3 s was seen once under ASan beside make test's other suites).  The plain build,
# which make test also runs this against, is held to the second.
INSTRUMENTED = "asan" in os.environ.get("IMAGEREG_CGI", "") or bool(os.environ.get("IMAGEREG_WRAP"))
# Beside make test's other suites (E2E_CLAIMS) the scheduler adds its own delay: 1.02 s was seen once; a stop that
# waits for a worker to die (the bug this guards against) waits until something else ends a worker: indefinitely.
LIMIT_S = 6.0 if INSTRUMENTED else 1.5 if os.environ.get("E2E_CLAIMS") else 1.0


def _serving(path):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def test_sigterm_while_idle_stops_within_a_second():
    slowest = 0.0
    with tempfile.TemporaryDirectory() as work:
        sock = os.path.join(work, "s.sock")
        for i in range(20):
            proc = subprocess.Popen([os.environ["IMAGEREG_CGI"], "--listen", f"unix:{sock}", "--workers", "2"],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env={**os.environ, "IMAGEREG_GENERATION_FILE": ""})
            try:
                deadline = time.monotonic() + 10
                while not _serving(sock):
                    assert time.monotonic() < deadline, "the responder did not start"
                    time.sleep(0.01)
                time.sleep(0.005 * i)   # a different moment of the idle loop each round
                start = time.monotonic()
                proc.send_signal(15)
                proc.wait(timeout=10)
                took = time.monotonic() - start
                slowest = max(slowest, took)
                assert proc.returncode == 0, f"exit status {proc.returncode}"
                assert took < LIMIT_S, f"round {i}: stopped {took:.2f} s after SIGTERM (limit {LIMIT_S} s)"
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            if os.path.exists(sock):
                os.unlink(sock)
    print(f"# 20 idle stops, slowest {slowest * 1000:.0f} ms")
