#!/usr/bin/env bash
# `make test-latest`: run the suite against the newest versions pyproject.toml's ranges allow, not the lock.
#
# The lock keeps CI and `make` green; users who `pip install` get whatever is newest today. This is the
# early warning: a new release of a dependency that breaks us shows up here, with the packages whose
# versions differ from requirements.lock printed first, before the suite's failures. CI runs it when
# OPINIONS_CI_LATEST=1 (.ci/run). torch stays at the CPU build 2.13.0: a newer one is a CUDA download.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV=.venv-latest
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV" || exit 1
"$VENV/bin/python" -m pip install -q --upgrade pip || exit 1
"$VENV/bin/python" -m pip install -q torch==2.13.0 || exit 1
# a new environment resolves every range to its newest release (torch is satisfied already, so it stays)
PYTHONWARNINGS="ignore:Editable installation" "$VENV/bin/python" -m pip install -q -e ".[dev,ray,training]" || exit 1
echo "== versions that differ from requirements.lock (lock -> newest allowed) =="
"$VENV/bin/python" - <<'PY'
import re
import subprocess
import sys

def pins(lines):
    return {m[1].lower().replace("_", "-"): m[2] for m in (re.match(r"([A-Za-z0-9_.\-]+)==(\S+)", l) for l in lines) if m}

locked = pins(open("requirements.lock").read().splitlines())
now = pins(subprocess.run([sys.executable, "-m", "pip", "freeze", "--all", "--exclude", "opinions"],
                          capture_output=True, text=True, check=True).stdout.splitlines())
moved = [f"  {name}: {locked.get(name, '(not in lock)')} -> {now.get(name, '(gone)')}"
         for name in sorted(locked.keys() | now.keys()) if locked.get(name) != now.get(name)]
print("\n".join(moved) or "  none: the lock is what the ranges resolve to today")
PY
"$VENV/bin/ruff" check analyzer queries reports tests training bench sample_data scripts
lint=$?
"$VENV/bin/python" -m pytest -q -p no:cacheprovider
tests=$?
if [ $lint -ne 0 ] || [ $tests -ne 0 ]; then
  echo "test-latest: the newest allowed versions break the suite (ruff exit $lint, pytest exit $tests);"
  echo "the suspects are the packages listed above. Fix the code, or cap the range in pyproject.toml."
  exit 1
fi
echo "test-latest: the suite passes on the newest allowed versions"
