"""The workload keyword of plug, unplug, check and validate_plug."""

from __future__ import annotations

import inspect

import pytest

import os_vif
from os_vif import exception, plugin
from os_vif.objects import instance_info, workload
from os_vif.sandbox import vifs

INSTANCE = instance_info.InstanceInfo(
    uuid="a3a5f1c4-7b1e-4a0e-9d76-5b6ad9cf6a21", name="pod-1", project_id="p1"
)
WORKLOAD = workload.WorkloadInterface(netns="/run/netns/pod1", ifname="eth0")


def test_workload_defaults():
    end = workload.WorkloadInterface(netns="pod1", ifname="eth0")
    assert end.default is True
    assert end.parent is None
    assert workload.WorkloadInterface.VERSION == "1.0"


@pytest.mark.parametrize("name", ["plug", "unplug", "check", "validate_plug"])
def test_workload_is_an_optional_keyword(name):
    parameter = inspect.signature(getattr(os_vif, name)).parameters["workload"]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
    assert parameter.default is None


def test_plugin_base_supports_no_workload():
    class Plain(plugin.PluginBase):
        def describe(self):  # pragma: no cover - not called
            raise AssertionError

        def plug(self, vif, instance_info):  # pragma: no cover
            raise AssertionError("must not be called")

        def unplug(self, vif, instance_info):  # pragma: no cover
            raise AssertionError("must not be called")

    assert Plain(None).supports_workload(vifs.nested_vif()) is False


@pytest.mark.parametrize("call", ["plug", "unplug", "validate_plug"])
def test_a_plugin_without_support_is_refused_before_it_is_called(
    monkeypatch, call
):
    os_vif.initialize()
    noop = os_vif._EXT_MANAGER["noop"].obj
    monkeypatch.setattr(noop, "supports_workload", lambda vif: False)

    def called(*args, **kwargs):
        raise AssertionError("the plugin was called")

    monkeypatch.setattr(noop, call, called)
    with pytest.raises(exception.InvalidArgument) as caught:
        getattr(os_vif, call)(vifs.nested_vif(), INSTANCE, workload=WORKLOAD)
    assert caught.value.kwargs["field"] == "workload"
    assert "cannot make the workload's end" in str(caught.value)


def test_check_refuses_a_workload_of_the_wrong_type():
    os_vif.initialize()
    with pytest.raises(exception.InvalidArgument) as caught:
        os_vif.check(vifs.nested_vif(), INSTANCE, workload={"netns": "x"})
    assert caught.value.kwargs["field"] == "workload"


def test_without_workload_the_plugin_gets_5x_arguments(monkeypatch):
    os_vif.initialize()
    noop = os_vif._EXT_MANAGER["noop"].obj
    seen = []
    monkeypatch.setattr(
        noop, "plug", lambda *args, **kwargs: seen.append((args, kwargs))
    )
    os_vif.plug(vifs.nested_vif(), INSTANCE)
    assert seen and seen[0][1] == {}


def test_with_workload_a_supporting_plugin_gets_it(monkeypatch):
    os_vif.initialize()
    noop = os_vif._EXT_MANAGER["noop"].obj
    seen = []
    monkeypatch.setattr(noop, "supports_workload", lambda vif: True)
    monkeypatch.setattr(
        noop, "plug", lambda *args, **kwargs: seen.append(kwargs)
    )
    os_vif.plug(vifs.nested_vif(), INSTANCE, workload=WORKLOAD)
    assert seen == [{"workload": WORKLOAD}]


@pytest.mark.parametrize("fmt", ["primitive", "compact"])
def test_workload_round_trips_through_serialization(fmt):
    from os_vif import serialization

    end = workload.WorkloadInterface(
        netns="/proc/42/ns/net", ifname="net1", default=False, parent="ens3"
    )
    if fmt == "primitive":
        back = serialization.from_primitive(serialization.to_primitive(end))
    else:
        back = serialization.from_compact(serialization.to_compact(end))
    assert isinstance(back, workload.WorkloadInterface)
    assert (back.netns, back.ifname, back.default, back.parent) == (
        "/proc/42/ns/net", "net1", False, "ens3"
    )


def test_a_workload_without_its_namespace_does_not_load():
    from os_vif import serialization

    primitive = serialization.to_primitive(
        workload.WorkloadInterface(netns="pod1", ifname="eth0")
    )
    del primitive["versioned_object.data"]["netns"]
    with pytest.raises(exception.ExceptionBase) as caught:
        serialization.from_primitive(primitive)
    assert "netns" in str(caught.value)


def test_netns_paths():
    from os_vif.internal import netns

    assert netns.path_of("pod1") == "/run/netns/pod1"
    assert netns.path_of("/proc/42/ns/net") == "/proc/42/ns/net"
    with pytest.raises(exception.InvalidArgument):
        netns.path_of("/etc/passwd")
