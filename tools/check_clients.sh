#!/usr/bin/env bash
# Check that os-vif installs in place of os-vif 5.x beside its clients.
#
# For nova 34.0.0 and kuryr-kubernetes 10.0.0, each in its own virtualenv
# under ${OS_VIF_CLIENTS_DIR:-/tmp/os-vif-clients}: install the client
# (which pulls os-vif 5.x from PyPI), install this tree over it, run
# "pip check", and import the client's modules that use os_vif; then plug
# the VIFs nova's os_vif_util builds (tools/nova_plug_check.py).
#
# Then run, against this tree, the client test files that patch os_vif's
# loading mechanics: kuryr-kubernetes 10.0.0's test_os_vif_plug_noop.py,
# and os-vif 5.3.0's own test_os_vif.py, test_base.py and test_vif.py
# (from its sdist, in a virtualenv of their own with this tree installed;
# none of their files enters this repository).
#
# Usage: tools/check_clients.sh [nova] [kuryr] [os-vif-tests]  (default: all)
# Needs PyPI; not part of the test suite (it takes minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
top=${OS_VIF_CLIENTS_DIR:-/tmp/os-vif-clients}
mkdir -p "$top"
steps=" ${*:-nova kuryr os-vif-tests} "
status=0

check() {
    local name=$1 spec=$2
    shift 2
    local venv=$top/$name
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    echo "==> $spec"
    "$venv/bin/pip" install -q "$spec" 2>&1 | grep -v '^WARNING: Location' || true
    "$venv/bin/pip" install -q . 2>&1 | grep -v '^WARNING: Location' || true
    "$venv/bin/pip" list 2>/dev/null | grep -i '^os[-_]vif '
    "$venv/bin/pip" check
    local module
    for module in "$@"; do
        "$venv/bin/python" -W ignore -c "import $module" && echo "import $module: ok"
    done
}

# Unpack the sdist of $3 into $2 (once), with the pip of venv $1.
unpack_sdist() {
    local pip=$top/$1/bin/pip dest=$2 spec=$3
    [ -d "$dest" ] && return 0
    mkdir -p "$dest.download"
    "$pip" download -q --no-deps --no-binary :all: -d "$dest.download" \
        "$spec" 2>&1 | grep -v '^WARNING: Location' || true
    mkdir -p "$dest"
    tar -xzf "$dest.download"/*.tar.gz -C "$dest" --strip-components=1
    rm -rf "$dest.download"
}

# Run test files with pytest in venv $1, from directory $2.
run_tests() {
    local venv=$top/$1 dir=$2
    shift 2
    "$venv/bin/pip" install -q pytest oslotest testtools fixtures 2>&1 |
        grep -v '^WARNING: Location' || true
    echo "==> $* against this os_vif"
    (cd "$dir" &&
        "$venv/bin/python" -m pytest -q --tb=short -p no:cacheprovider "$@") ||
        status=1
}

if [[ $steps == *" nova "* ]]; then
check nova nova==34.0.0 \
    nova.network.os_vif_util nova.virt.libvirt.vif
# nova's own conversion of network-model VIFs, plugged by this os_vif on a
# private Open vSwitch in a throwaway namespace (needs root and OVS).
if [ "$(id -u)" = 0 ] && command -v ovsdb-server >/dev/null; then
    ns=os-vif-nova-check-$$
    ip netns add "$ns"
    trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
    ip -n "$ns" link set lo up
    ip netns exec "$ns" "$top/nova/bin/python" tools/nova_plug_check.py
    ip netns del "$ns"
    trap - EXIT
else
    echo "skipping nova plug check: needs root and Open vSwitch"
fi
fi

if [[ $steps == *" kuryr "* ]]; then
check kuryr kuryr-kubernetes==10.0.0 \
    kuryr_kubernetes.objects.vif kuryr_kubernetes.os_vif_plug_noop \
    kuryr_kubernetes.os_vif_util kuryr_kubernetes.cni.binding.vhostuser \
    kuryr_kubernetes.cni.binding.nested kuryr_kubernetes.cni.binding.bridge
# From the sdist's top, so that its kuryr_kubernetes (with the tests) is
# the one imported, beside the installed dependencies and this os_vif.
unpack_sdist kuryr "$top/src/kuryr-kubernetes" kuryr-kubernetes==10.0.0
run_tests kuryr "$top/src/kuryr-kubernetes" \
    kuryr_kubernetes/tests/unit/test_os_vif_plug_noop.py
fi

if [[ $steps == *" os-vif-tests "* ]]; then
# os-vif 5.3.0's tests import their helpers from os_vif.tests.unit, which
# this tree does not ship: they run from a copy of that directory renamed
# os_vif_5_3_0_tests, so that "os_vif" is this tree.
venv=$top/os-vif-5.3.0-tests
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q . 2>&1 | grep -v '^WARNING: Location' || true
src=$top/src/os-vif-5.3.0
unpack_sdist os-vif-5.3.0-tests "$src" os-vif==5.3.0
if [ ! -d "$src/run/os_vif_5_3_0_tests" ]; then
    mkdir -p "$src/run"
    cp -r "$src/os_vif/tests" "$src/run/os_vif_5_3_0_tests"
    grep -rl 'os_vif\.tests' "$src/run/os_vif_5_3_0_tests" |
        xargs sed -i 's/os_vif\.tests/os_vif_5_3_0_tests/g'
fi
run_tests os-vif-5.3.0-tests "$src/run" \
    os_vif_5_3_0_tests/unit/test_os_vif.py \
    os_vif_5_3_0_tests/unit/test_base.py \
    os_vif_5_3_0_tests/unit/test_vif.py
fi
exit $status
