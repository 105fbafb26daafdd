#!/usr/bin/env python3
"""Run the tests against a real registry (tests/registry/t_*.py) with the e2e runner: one line each, then the count.

Usage: run.py [SUBSTRING...]. Needs a stack (tests/stack-up.sh) and Debian's docker-registry, skopeo and htpasswd.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# The e2e helpers (lib, fakereg) and its runner, pointed at this directory.
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import run as e2e_run  # noqa: E402  (tests/e2e/run.py: the path above comes first)

e2e_run.HERE = HERE
sys.exit(e2e_run.main())
