#!/usr/bin/env bash
# Run the whole os-vif test suite on a fresh machine.
#
# Makes (or reuses) a virtualenv, installs the package and the test tools,
# installs Open vSwitch from the distribution when it is missing (the OVS
# functional tests start their own ovsdb-server and ovs-vswitchd), then
# runs ruff, mypy, and pytest on the unit and functional tests.
#
# Usage: tools/test.sh [pytest arguments...]
# Environment: OS_VIF_VENV (default .venv), OS_VIF_SKIP_LINT=1 to skip
# ruff and mypy.
set -euo pipefail

cd "$(dirname "$0")/.."
venv=${OS_VIF_VENV:-.venv}

ensure_ovs() {
    if command -v ovsdb-server >/dev/null && command -v ovs-vswitchd >/dev/null; then
        return
    fi
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "==> installing Open vSwitch from the distribution"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            openvswitch-switch >/dev/null
    else
        echo "==> Open vSwitch is missing and cannot be installed here;" \
             "the OVS functional tests will be skipped" >&2
    fi
}

ensure_venv() {
    if [ ! -x "$venv/bin/python" ]; then
        echo "==> creating $venv"
        python3 -m venv "$venv"
    fi
    echo "==> installing os-vif and the test requirements"
    "$venv/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    "$venv/bin/python" -m pip install -q -e . -r test-requirements.txt
}

ensure_ovs
ensure_venv

if [ "${OS_VIF_SKIP_LINT:-0}" != 1 ]; then
    echo "==> ruff"
    "$venv/bin/ruff" check os_vif tests benchmarks tools
    echo "==> mypy"
    "$venv/bin/mypy"
fi

echo "==> pytest"
exec "$venv/bin/python" -m pytest -p no:cacheprovider tests "$@"
