# Shared set-up of tools/test.sh and tools/demo.sh (sourced, not run).
#
# ensure_ovs: installs Open vSwitch from the distribution when missing.
# ensure_venv [REQUIREMENTS...]: makes (or reuses) the virtualenv in
#   $OS_VIF_VENV (default .venv) and installs os-vif (editable) and the
#   requirement files given -- only when the packaging files or those
#   requirement files changed since the last install (a stamp in the venv
#   holds their hash); code changes need no reinstall.

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

install_stamp() {
    # What an install depends on: the packaging files, the requirement
    # files given, and the interpreter.
    { cat setup.cfg pyproject.toml "$@"; "$venv/bin/python" -V; } 2>&1 \
        | sha256sum | cut -d' ' -f1
}

ensure_venv() {
    if [ ! -x "$venv/bin/python" ]; then
        echo "==> creating $venv"
        python3 -m venv "$venv"
    fi
    # One stamp per set of requirement files (demo.sh and test.sh ask for
    # different sets; neither should undo the other's stamp).
    local stamp_file
    stamp_file="$venv/.os-vif-install-stamp-$(echo "$*" | sha256sum \
        | cut -c1-12)"
    local stamp
    stamp=$(install_stamp "$@")
    if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ] \
            && "$venv/bin/python" -c "import os_vif" 2>/dev/null; then
        return 0
    fi
    echo "==> installing os-vif${1:+ and $*}"
    local args=(-e .)
    local req
    for req in "$@"; do
        args+=(-r "$req")
    done
    rm -f "$stamp_file"
    "$venv/bin/python" -m pip install -q "${args[@]}"
    echo "$stamp" > "$stamp_file"
}
