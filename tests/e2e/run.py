#!/usr/bin/env python3
"""Run the imagereg end-to-end tests: every test_* function of tests/e2e/t_*.py, in file order, one line each.

Usage: run.py [SUBSTRING...]   -- run only tests whose "module.test_name" contains one of the substrings.

E2E_CLAIMS=DIR shares the modules among several runners, each on its own stack (tests/run.sh starts them): a runner
runs a module only if it is the first to create DIR/MODULE. Every module sets up what it needs, so any runner may take
any module in any order. The slow modules are offered first, so that the runners end at about the same time.
"""

import importlib
import os
import sys
import traceback
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))


# Modules that take ten seconds or more (about 15-30 s each on 2 cores): offered first to parallel runners.
SLOW_MODULES = ("t_load", "t_hostile", "t_validation", "t_outbound", "t_registry_check", "t_browse",
                "t_check_hints", "t_cache", "t_two_hosts")


def discover_modules():
    """Module names t_*.py of this directory: the slow ones first, then the rest sorted by name."""
    names = sorted(f[:-3] for f in os.listdir(HERE) if f.startswith("t_") and f.endswith(".py"))
    return [m for m in SLOW_MODULES if m in names] + [m for m in names if m not in SLOW_MODULES]


def claimed(mod_name):
    """True if this runner may run the module: always without E2E_CLAIMS, else if it claims the module first."""
    claims = os.environ.get("E2E_CLAIMS")
    if not claims:
        return True
    try:
        os.mkdir(os.path.join(claims, mod_name))
    except FileExistsError:
        return False
    return True


def module_tests(module):
    """The module's own test_* functions in definition order (generated ones in the order they were added)."""
    return [(name, fn) for name, fn in vars(module).items()
            if name.startswith("test_") and isinstance(fn, types.FunctionType) and fn.__module__ == module.__name__]


def failure_reason(exc):
    """One line explaining a failure; an assertion without message points at the failing line."""
    text = str(exc) if isinstance(exc, AssertionError) else f"{type(exc).__name__}: {exc}"
    if not str(exc):
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.dirname(f.filename) == HERE]
        where = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
        text = f"{type(exc).__name__}{where}"
    return " ".join(text.split())


def took(start):
    """" (N.N s)" after a test that took a second or more: where the suite's time goes."""
    secs = time.monotonic() - start
    return f" ({secs:.1f} s)" if secs >= 1 else ""


def selected(full_name, filters):
    return not filters or any(f in full_name for f in filters)


def run(filters):
    """Run the tests; return (passed, failed)."""
    sys.path.insert(0, HERE)
    passed = failed = 0
    for mod_name in discover_modules():
        if not claimed(mod_name):
            continue
        try:
            module = importlib.import_module(mod_name)
        except Exception as exc:  # a broken module counts as one failure, the others still run
            if selected(mod_name, filters):
                print(f"not ok - {mod_name}: import failed: {failure_reason(exc)}", flush=True)
                failed += 1
            continue
        for name, fn in module_tests(module):
            full = f"{mod_name}.{name}"
            if not selected(full, filters):
                continue
            start = time.monotonic()
            try:
                fn()
            except Exception as exc:
                print(f"not ok - {full}: {failure_reason(exc)}{took(start)}", flush=True)
                failed += 1
            else:
                print(f"ok - {full}{took(start)}", flush=True)
                passed += 1
    return passed, failed


def main():
    passed, failed = run(sys.argv[1:])
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
