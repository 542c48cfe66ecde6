"""The binding over os_vif's public API: what it asks os_vif, and how
os_vif's answers become CNI errors.  os_vif's functions are replaced by
recorders here (a unit test never changes the host); the real plug is in
tests/functional/cni/test_binding.py."""

from __future__ import annotations

import json

import pytest

import os_vif
from os_vif import exception, host_state
from os_vif.cni import binding, network, protocol, store
from os_vif.cni.protocol import CniError, ErrorCode
from os_vif.objects import workload


def _record(**raw):
    doc = {"cniVersion": "1.1.0", "name": "net1", "type": "os-vif-cni",
           "plugin": "linux_bridge", "bridge": "br0", "mtu": 1400}
    doc.update(raw)
    conf = protocol.NetConf.parse(json.dumps(doc))
    call = protocol.Call(protocol.Command.ADD, "c1", "/run/netns/p1",
                         "eth0", path=("/bin",))
    ipam = protocol.Result(ips=(protocol.IPConfig("10.1.0.5/24",
                                                  "10.1.0.1"),))
    vif = network.build_vif(conf, network.OsVifConf.parse(conf), call, ipam)
    return store.Record(network="net1", container_id="c1", ifname="eth0",
                        netns="/run/netns/p1", cni_version="1.1.0",
                        state=store.PENDING, config=doc, vif=vif, ipam=ipam)


class Recorder:
    def __init__(self, monkeypatch):
        self.calls = []
        self.raise_ = None
        self.report = host_state.CheckReport()
        monkeypatch.setattr(os_vif, "initialize", self.initialize)
        for name in ("plug", "unplug", "check"):
            monkeypatch.setattr(os_vif, name, self._recorder(name))

    def initialize(self):
        self.calls.append(("initialize",))

    def _recorder(self, name):
        def call(vif, instance_info, *, workload):
            self.calls.append((name, vif, instance_info, workload))
            if self.raise_ is not None:
                raise self.raise_
            return self.report if name == "check" else None
        return call


@pytest.fixture
def osvif(monkeypatch):
    return Recorder(monkeypatch)


def test_bind_plugs_the_vif_with_its_workload_end(osvif):
    record = _record(isDefaultGateway=False)
    binding.OsVifBinding().bind(record)
    assert osvif.calls[0] == ("initialize",)
    name, vif, instance, end = osvif.calls[1]
    assert name == "plug" and vif is record.vif
    assert isinstance(end, workload.WorkloadInterface)
    assert (end.netns, end.ifname, end.default, end.parent) == (
        "/run/netns/p1", "eth0", False, None)
    # The container's instance: its id, a uuid derived from it.
    assert instance.name == "c1"
    assert instance.uuid == binding.instance_of(record).uuid
    assert instance.uuid != binding.instance_of(
        _record_for("c2")).uuid


def _record_for(container_id):
    record = _record()
    record.container_id = container_id
    return record


@pytest.mark.parametrize("vif_type,options", [
    ("VIFMacvlanNested", {"parent": "ens3"}),
    # VLAN: unit-tested only (no 8021q module on the test machines).
    ("VIFVlanNested", {"parent": "ens3", "vlanId": 101}),
])
def test_a_nested_vif_names_its_parent_link(osvif, vif_type, options):
    record = _record(plugin="noop", vifType=vif_type, options=options)
    assert type(record.vif).__name__ == vif_type
    assert record.vif.vif_name == "eth0"
    if vif_type == "VIFVlanNested":
        assert record.vif.vlan_id == 101
    binding.OsVifBinding().bind(record)
    name, vif, _instance, end = osvif.calls[1]
    assert (name, vif.plugin) == ("plug", "noop")
    assert (end.netns, end.ifname, end.parent, end.default) == (
        "/run/netns/p1", "eth0", "ens3", True)


def test_unbind_and_check_pass_the_same_workload_end(osvif):
    record = _record()
    bound = binding.OsVifBinding()
    bound.check(record)
    bound.unbind(record)
    assert [c[0] for c in osvif.calls] == ["initialize", "check", "unplug"]
    assert osvif.calls[1][3].obj_to_primitive() == \
        osvif.calls[2][3].obj_to_primitive()


@pytest.mark.parametrize("err,code", [
    (exception.PlugException(vif="v", err=exception.InvalidArgument(
        field="vif.network.mtu", value=9, reason="too small")),
     ErrorCode.INVALID_CONFIG),
    (exception.NoMatchingPlugin(plugin_name="nope"),
     ErrorCode.INVALID_CONFIG),
    (exception.PlugException(vif="v", err=exception.HostOperationFailed(
        operation="create", device="tap1", err="busy")),
     ErrorCode.HOST_FAILURE),
])
def test_os_vif_errors_are_cni_errors_naming_the_attachment(
        osvif, err, code):
    osvif.raise_ = err
    with pytest.raises(CniError) as caught:
        binding.OsVifBinding().bind(_record())
    assert caught.value.code == code
    assert caught.value.msg.startswith("os-vif could not plug c1/eth0: ")
    inner = err.kwargs.get("err", err)
    assert str(inner) in caught.value.msg
    assert caught.value.details == type(inner).__name__


def test_check_reports_each_problem(osvif):
    bound = binding.OsVifBinding()
    osvif.report = host_state.CheckReport(problems=(
        host_state.Problem("device eth0", "mtu", 1400, 1500),
        host_state.Problem("device tapX", "exists", True, None)))
    with pytest.raises(CniError) as caught:
        bound.check(_record())
    assert caught.value.code == ErrorCode.CHECK_FAILED
    assert caught.value.details == (
        "device eth0: mtu is 1500, expected 1400; "
        "device tapX: exists is None, expected True")
    osvif.report = host_state.CheckReport(error=OSError("gone"))
    with pytest.raises(CniError, match="OSError: gone"):
        bound.check(_record())


def test_an_os_vif_that_does_not_initialize_is_not_available(monkeypatch):
    def broken():
        raise RuntimeError("no plugins")

    monkeypatch.setattr(os_vif, "initialize", broken)
    bound = binding.OsVifBinding()
    assert bound.unavailable() == "os_vif.initialize() failed: no plugins"
    with pytest.raises(CniError) as caught:
        bound.bind(_record())
    assert caught.value.code == ErrorCode.NOT_AVAILABLE


def test_unbind_many_is_one_unplug_many_with_the_workloads(
        osvif, monkeypatch):
    batches = []
    busy = exception.UnplugException(
        vif="v", err=exception.HostOperationFailed(
            operation="delete", device="tap2", err="busy"))

    def unplug_many(items):
        batches.append(items)
        return [busy if item[2].netns == "/run/netns/p2" else None
                for item in items]

    monkeypatch.setattr(os_vif, "unplug_many", unplug_many)
    records = [_record_for("c%d" % n) for n in (1, 2, 3)]
    records[1].netns = "/run/netns/p2"
    errors = binding.OsVifBinding().unbind_many(records)
    assert [error is None for error in errors] == [True, False, True]
    assert errors[1].code == ErrorCode.HOST_FAILURE
    assert errors[1].msg.startswith("os-vif could not unplug c2/eth0: ")
    (items,) = batches
    assert [item[0] for item in items] == [r.vif for r in records]
    assert [item[1].name for item in items] == ["c1", "c2", "c3"]
    assert [(item[2].netns, item[2].ifname) for item in items] == [
        (r.netns, "eth0") for r in records]
    # The same workload's end as a DEL's unbind.
    binding.OsVifBinding().unbind(records[0])
    assert osvif.calls[-1][3].obj_to_primitive() == \
        items[0][2].obj_to_primitive()


def test_unbind_many_goes_one_by_one_when_os_vif_refuses_the_batch(
        osvif, monkeypatch):
    def unplug_many(items):
        raise exception.NoMatchingPlugin(plugin_name="gone")

    monkeypatch.setattr(os_vif, "unplug_many", unplug_many)
    records = [_record_for("c%d" % n) for n in (1, 2, 3)]
    # A record whose configuration no longer parses is that record's
    # error; the batch goes on without it.
    records[2].config = {"cniVersion": "1.1.0", "name": "net1",
                         "type": "os-vif-cni", "plugin": 7}
    errors = binding.OsVifBinding().unbind_many(records)
    assert errors[:2] == [None, None]
    assert errors[2] is not None and "c3/eth0" in errors[2].msg
    assert [c[0] for c in osvif.calls if c[0] != "initialize"] == [
        "unplug", "unplug"]
    assert binding.OsVifBinding().unbind_many([]) == []
