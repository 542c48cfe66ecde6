#!/usr/bin/env bash
# Run the whole os-vif test suite on a fresh machine.
#
# Makes (or reuses) a virtualenv, installs the package and the test tools,
# installs Open vSwitch from the distribution when it is missing (the OVS
# functional tests start their own ovsdb-server and ovs-vswitchd), then
# runs ruff, mypy, and pytest on the unit and functional tests.
#
# Usage: tools/test.sh [pytest arguments...]
# Environment: OS_VIF_VENV (default .venv); OS_VIF_SKIP_LINT=1 skips ruff
# and mypy.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/setup-env.sh

ensure_ovs
ensure_venv test-requirements.txt

if [ "${OS_VIF_SKIP_LINT:-0}" != 1 ]; then
    echo "==> ruff"
    "$venv/bin/ruff" check os_vif tests benchmarks tools
    echo "==> mypy"
    "$venv/bin/mypy"
fi

echo "==> pytest"
exec "$venv/bin/python" -m pytest -p no:cacheprovider tests "$@"
