#!/usr/bin/env bash
# Stops what tests/stack-up.sh DIR started.
dir=${1:?usage: stack-down.sh DIR}
. "$(dirname "$0")/lib/stack.sh"
stack_stop "$dir"
