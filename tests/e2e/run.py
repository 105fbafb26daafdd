#!/usr/bin/env python3
"""Run the imagereg end-to-end tests: every test_* function of tests/e2e/t_*.py, in file order, one line each.

Usage: run.py [SUBSTRING...]   -- run only tests whose "module.test_name" contains one of the substrings.
"""

import importlib
import os
import sys
import traceback
import types

HERE = os.path.dirname(os.path.abspath(__file__))


def discover_modules():
    """Module names t_*.py of this directory, sorted by name."""
    return sorted(f[:-3] for f in os.listdir(HERE) if f.startswith("t_") and f.endswith(".py"))


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


def selected(full_name, filters):
    return not filters or any(f in full_name for f in filters)


def run(filters):
    """Run the tests; return (passed, failed)."""
    sys.path.insert(0, HERE)
    passed = failed = 0
    for mod_name in discover_modules():
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
            try:
                fn()
            except Exception as exc:
                print(f"not ok - {full}: {failure_reason(exc)}", flush=True)
                failed += 1
            else:
                print(f"ok - {full}", flush=True)
                passed += 1
    return passed, failed


def main():
    passed, failed = run(sys.argv[1:])
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
