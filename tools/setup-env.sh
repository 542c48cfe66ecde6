# Shared set-up of tools/test.sh and tools/demo.sh (sourced, not run).
#
# ensure_ovs: installs Open vSwitch from the distribution when missing.
# ensure_rabbitmq: installs rabbitmq-server from the distribution when
#   missing, without letting the package start its own node (the broker
#   tests start a private one and stop it).
# ensure_podman: installs podman, runc, the distribution's CNI plugins
#   (containernetworking-plugins, in /usr/lib/cni) and busybox-static (the
#   CNI tests' container root filesystem) when missing.
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

ensure_rabbitmq() {
    if command -v rabbitmq-server >/dev/null \
            || [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
        return 0
    fi
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "==> installing rabbitmq-server from the distribution"
        # policy-rc.d exit 101 forbids maintainer scripts to start services:
        # the package's own node (default port, system cookie) never runs.
        local policy=/usr/sbin/policy-rc.d had_policy=0
        if [ -e "$policy" ]; then
            had_policy=1
            cp -p "$policy" "$policy.os-vif-saved"
        fi
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends rabbitmq-server >/dev/null || true
        if [ "$had_policy" = 1 ]; then
            mv "$policy.os-vif-saved" "$policy"
        else
            rm -f "$policy"
        fi
        # Where systemd runs, keep the packaged node stopped and disabled.
        if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
            systemctl disable --now rabbitmq-server >/dev/null 2>&1 || true
        fi
    else
        echo "==> rabbitmq-server is missing and cannot be installed here;" \
             "the broker tests are skipped" >&2
    fi
}

ensure_podman() {
    if command -v podman >/dev/null && command -v runc >/dev/null \
            && [ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] \
            && [ -x /bin/busybox ]; then
        return 0
    fi
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "==> installing podman, runc and the CNI plugins from the distribution"
        apt-get update -qq
        # No recommends: crun (refuses this hybrid cgroup layout), slirp and
        # fuse-overlayfs are not used; the tests run podman with runc and
        # --rootfs.
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends podman runc containernetworking-plugins \
            busybox-static >/dev/null || true
    else
        echo "==> podman is missing and cannot be installed here;" \
             "the container runtime tests are skipped" >&2
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
