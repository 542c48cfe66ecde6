#!/usr/bin/env bash
# Check that os-vif installs in place of os-vif 5.x beside its clients.
#
# For nova 34.0.0 and kuryr-kubernetes 10.0.0, each in its own virtualenv
# under ${OS_VIF_CLIENTS_DIR:-/tmp/os-vif-clients}: install the client
# (which pulls os-vif 5.x from PyPI), install this tree over it, run
# "pip check", and import the client's modules that use os_vif; then plug
# the VIFs nova's os_vif_util builds (tools/nova_plug_check.py).
# Needs PyPI; not part of the test suite (it takes minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
top=${OS_VIF_CLIENTS_DIR:-/tmp/os-vif-clients}
mkdir -p "$top"

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
check kuryr kuryr-kubernetes==10.0.0 \
    kuryr_kubernetes.objects.vif kuryr_kubernetes.os_vif_plug_noop \
    kuryr_kubernetes.os_vif_util kuryr_kubernetes.cni.binding.vhostuser \
    kuryr_kubernetes.cni.binding.nested kuryr_kubernetes.cni.binding.bridge
