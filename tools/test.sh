#!/usr/bin/env bash
# Run the whole os-vif test suite on a fresh machine.
#
# Makes (or reuses) a virtualenv, installs the package and the test tools,
# installs Open vSwitch from the distribution when it is missing (the OVS
# functional tests start their own ovsdb-server and ovs-vswitchd), podman,
# runc, the CNI plugins and busybox-static (the CNI tests run containers)
# and rabbitmq-server (the RPC tests start a private node), then runs ruff,
# mypy, the import layers (lint-imports: the import-linter contracts of
# pyproject.toml), the docs build, reno lint and pytest (unit and
# functional tests).
#
# Usage: tools/test.sh [pytest arguments...]
# Environment: OS_VIF_VENV (default .venv); OS_VIF_SKIP_LINT=1 skips ruff,
# mypy, lint-imports, the docs build and reno lint; OS_VIF_ORACLE_DIR holds the cached
# os-vif 5.3.0 virtualenv of the upgrade and RPC peer tests (default
# /var/tmp/os-vif-oracle).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/setup-env.sh

ensure_ovs
ensure_podman
ensure_rabbitmq
ensure_venv test-requirements.txt doc/requirements.txt

# os-vif 5.3.0 for the upgrade tests, in its own cached virtualenv
# (tools/oracle_venv.py): made in the background while the linters run
# (about a minute, once per machine), at once when cached.
oracle_log=$(mktemp)
"$venv/bin/python" tools/oracle_venv.py >"$oracle_log" 2>&1 &
oracle_pid=$!

if [ "${OS_VIF_SKIP_LINT:-0}" != 1 ]; then
    echo "==> ruff"
    "$venv/bin/ruff" check os_vif vif_plug_ovs vif_plug_noop tests \
        benchmarks tools doc
    echo "==> mypy"
    "$venv/bin/mypy"
    echo "==> import layers (lint-imports)"
    # No cache: a run leaves nothing in the checkout.
    "$venv/bin/lint-imports" --no-cache
    echo "==> docs (sphinx, warnings are errors)"
    docs_out=$(mktemp -d)
    if ! "$venv/bin/sphinx-build" -W -q -b html doc/source "$docs_out" \
            >"$docs_out.log" 2>&1; then
        cat "$docs_out.log"
        exit 1
    fi
    rm -rf "$docs_out" "$docs_out.log"
    echo "==> release notes (reno lint)"
    "$venv/bin/reno" -q lint
fi

if ! wait "$oracle_pid"; then
    echo "==> os-vif 5.3.0 virtualenv not made; its tests skip:" >&2
    tail -n 5 "$oracle_log" >&2
fi
rm -f "$oracle_log"

echo "==> pytest"
exec "$venv/bin/python" -m pytest -p no:cacheprovider tests "$@"
