# Shared set-up of tools/test.sh and tools/demo.sh (sourced, not run).
#
# ensure_ovs: installs Open vSwitch from the distribution when missing.
# ensure_venv [REQUIREMENTS...]: makes (or reuses) the virtualenv in
#   $OS_VIF_VENV (default .venv) and installs os-vif and the requirement
#   files given.

venv=${OS_VIF_VENV:-.venv}

ensure_ovs() {
    if command -v ovsdb-server >/dev/null && command -v ovs-vswitchd >/dev/null; then
        return 0
    fi
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "==> installing Open vSwitch from the distribution"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            openvswitch-switch >/dev/null
    else
        echo "==> Open vSwitch is missing and cannot be installed here;" \
             "what needs it is skipped" >&2
    fi
}

ensure_venv() {
    if [ ! -x "$venv/bin/python" ]; then
        echo "==> creating $venv"
        python3 -m venv "$venv"
    fi
    echo "==> installing os-vif${1:+ and $*}"
    local args=(-e .)
    local req
    for req in "$@"; do
        args+=(-r "$req")
    done
    "$venv/bin/python" -m pip install -q "${args[@]}"
}
