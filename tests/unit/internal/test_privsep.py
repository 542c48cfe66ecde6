"""How the privsep daemons are started."""

from __future__ import annotations

import sys

import pytest

from os_vif.internal.privileged import context as privsep
from os_vif.internal.unprivileged import runner

GROUP = "vif_plug_linux_bridge_privileged"


@pytest.fixture
def context(conf):
    return privsep.vif_plug_linux_bridge


def test_root_without_helper_command_needs_no_sudo(context, monkeypatch):
    monkeypatch.setattr(privsep.os, "geteuid", lambda: 0)
    command = context.helper_command("/tmp/sock")
    assert command[:3] == [sys.executable, "-m",
                           "os_vif.internal.privileged.helper"]
    assert "sudo" not in command
    assert command[-4:] == [
        "--privsep_context",
        "os_vif.internal.privileged.context.vif_plug_linux_bridge",
        "--privsep_sock_path",
        "/tmp/sock",
    ]


def test_unprivileged_caller_uses_privsep_default(context, monkeypatch):
    monkeypatch.setattr(privsep.os, "geteuid", lambda: 1000)
    command = context.helper_command("/tmp/sock")
    assert command[0] == "sudo"
    assert "privsep-helper" in command


def test_configured_helper_command_wins_even_as_root(
    context, monkeypatch, conf
):
    monkeypatch.setattr(privsep.os, "geteuid", lambda: 0)
    conf.config(
        helper_command="sudo nova-rootwrap /etc/nova/rootwrap.conf "
        "privsep-helper", group=GROUP,
    )
    command = context.helper_command("/tmp/sock")
    assert command[:2] == ["sudo", "nova-rootwrap"]


def test_contexts_and_capabilities():
    sections = [c.cfg_section for c in privsep.CONTEXTS]
    assert sections == [
        GROUP,
        "vif_plug_ovs_privileged",
        "vif_plug_workload_privileged",
    ]
    for context in privsep.CONTEXTS:
        name = context.pypath.rsplit(".", 1)[1]
        assert sorted(context.conf.capabilities) == sorted(
            privsep.CAPABILITIES[name]
        )
    # Only entering a workload's namespace needs CAP_SYS_ADMIN (21): the
    # VM daemons do not have it.
    assert [
        name for name, caps in privsep.CAPABILITIES.items() if 21 in caps
    ] == ["vif_plug_workload"]


def test_one_entrypoint_per_family():
    assert privsep.vif_plug_linux_bridge.is_entrypoint(
        privsep.linux_bridge_execute
    )
    assert privsep.vif_plug_ovs.is_entrypoint(privsep.ovs_execute)
    assert not privsep.vif_plug_ovs.is_entrypoint(
        privsep.linux_bridge_execute
    )
    assert runner.OVS._entrypoint is privsep.ovs_execute


def test_embedded_python_falls_back_to_privsep_default(context, monkeypatch):
    monkeypatch.setattr(privsep.os, "geteuid", lambda: 0)
    monkeypatch.setattr(privsep.sys, "executable", "")
    assert "privsep-helper" in context.helper_command("/tmp/sock")


def test_os_vif_exceptions_keep_their_details_across_the_daemon():
    from os_vif import exception

    sent = privsep._carry(
        exception.HostOperationFailed(
            operation="create veth",
            device="qvb0",
            err=OSError(17, "File exists"),
        )
    )
    # What privsep sends: the class and args, plain values only.
    name, message, kwargs = sent.args
    assert name == "HostOperationFailed"
    assert kwargs == {
        "operation": "create veth",
        "device": "qvb0",
        "err": "[Errno 17] File exists",
    }
    back = privsep.rebuild(privsep.RemoteError(*sent.args))
    assert type(back) is exception.HostOperationFailed
    assert back.kwargs == kwargs and str(back) == message

    invalid = privsep.rebuild(
        privsep._carry(
            exception.InvalidArgument(field="mtu", value=70000, reason="big")
        )
    )
    assert invalid.kwargs == {"field": "mtu", "value": 70000, "reason": "big"}


def test_only_os_vif_exception_classes_are_rebuilt():
    from os_vif import exception

    for name in ("ValueError", "OsVifPrivContext", "no.such.Class"):
        back = privsep.rebuild(privsep.RemoteError(name, "it broke", {}))
        assert type(back) is exception.HostOperationFailed
        assert "it broke" in str(back)
