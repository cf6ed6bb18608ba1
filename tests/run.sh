#!/usr/bin/env bash
# The whole test suite in one command, on a fresh machine with Python 3.11: a virtualenv with the project and its
# test extra, Debian's chromium for the browser tests when it is missing, then pytest (arguments are passed on).
set -uo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || python3 -m venv .venv || exit 1
.venv/bin/pip install --quiet --upgrade pip || exit 1
.venv/bin/pip install --quiet -e '.[test]' || exit 1

if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    echo "tests/run.sh: installing Debian's chromium (tests/integration/test_web.py opens evokafka web in it)" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    { $sudo apt-get update -q && $sudo apt-get install -y -q chromium; } || exit 1
fi

exec .venv/bin/pytest "$@"
