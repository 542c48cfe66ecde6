"""The commands, with a fake IPAM plugin (a shell script) and a fake
binding; the real host-local and the daemon are in tests/functional/cni."""

from __future__ import annotations

import json
import os
import stat

import pytest

from os_vif.cni import binding, commands, protocol, store
from os_vif.cni.protocol import Attachment, CniError, ErrorCode

FAKE_IPAM = """#!/bin/sh
# A fake IPAM plugin: logs each call, leases 10.1.0.5 to anyone.
if [ "$CNI_COMMAND" = VERSION ]; then
  echo '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}'
  exit 0
fi
cat >/dev/null
echo "$CNI_COMMAND $CNI_CONTAINERID $CNI_IFNAME $CNI_NETNS" >>"$0.log"
if [ "$CNI_COMMAND" = ADD ]; then
  printf '{"cniVersion":"1.0.0","ips":[{"address":"10.1.0.5/24",'
  echo '"gateway":"10.1.0.1"}],"routes":[{"dst":"0.0.0.0/0"}]}'
fi
"""


class FakeBinding:
    def __init__(self, reason=None):
        self.calls = []
        self.fail = None
        self.reason = reason

    def unavailable(self):
        return self.reason

    def bind(self, record):
        self.calls.append(("bind", record.container_id, record.ifname))
        if self.fail:
            raise CniError(ErrorCode.HOST_FAILURE, self.fail)

    def check(self, record):
        self.calls.append(("check", record.container_id, record.ifname))

    def unbind(self, record):
        self.calls.append(("unbind", record.container_id, record.ifname))

    def unbind_many(self, records):
        # What the real binding does in one os_vif.unplug_many.
        self.calls.append(("unbind_many", len(records)))
        errors = []
        for record in records:
            try:
                self.unbind(record)
            except CniError as err:
                errors.append(err)
            else:
                errors.append(None)
        return errors


@pytest.fixture
def cni_path(tmp_path):
    directory = tmp_path / "bin"
    directory.mkdir()
    script = directory / "fake-ipam"
    script.write_text(FAKE_IPAM)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    # The same plugin, speaking CNI 1.1 (GC and STATUS are passed on).
    script = directory / "fake-ipam-11"
    script.write_text(FAKE_IPAM.replace('"supportedVersions":["0.4.0",'
                                        '"1.0.0"]', '"supportedVersions":'
                                        '["1.0.0","1.1.0"]'))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return directory


def ipam_log(cni_path, name="fake-ipam"):
    try:
        return (cni_path / (name + ".log")).read_text().splitlines()
    except FileNotFoundError:
        return []


def conf(**extra):
    doc = {"cniVersion": "1.1.0", "name": "net1", "type": "os-vif-cni",
           "plugin": "ovs", "mtu": 1400, "ipam": {"type": "fake-ipam"}}
    doc.update(extra)
    return json.dumps(doc).encode()


def env(cni_path, command, container_id="c1", ifname="eth0",
        netns="/run/netns/p1"):
    return {"CNI_COMMAND": command, "CNI_CONTAINERID": container_id,
            "CNI_IFNAME": ifname, "CNI_NETNS": netns,
            "CNI_PATH": str(cni_path)}


def add(plugin, cni_path, *containers):
    """ADD each of ``containers``' eth0 to net1."""
    for cid in containers:
        plugin.run(env(cni_path, "ADD", cid), conf())


def gc(plugin, cni_path, valid=()):
    """A GC of net1 keeping ``valid`` (container ids' eth0): (code, out)."""
    return plugin.run(
        {"CNI_COMMAND": "GC", "CNI_PATH": str(cni_path)},
        conf(**{"cni.dev/valid-attachments": [
            {"containerID": cid, "ifname": "eth0"} for cid in valid]}))


def gc_failure(plugin, cni_path):
    """A GC of net1 keeping nothing that fails: its error (CNI JSON)."""
    code, out = gc(plugin, cni_path)
    err = json.loads(out)
    assert (code, err["code"]) == (1, ErrorCode.HOST_FAILURE)
    return err


@pytest.fixture
def records(tmp_path):
    return store.Store(str(tmp_path / "state"))


def test_version(records):
    code, out = commands.Plugin(records).run({"CNI_COMMAND": "VERSION"},
                                             b'{"cniVersion":"1.0.0"}')
    assert code == 0
    assert json.loads(out) == protocol.version_document()


def test_a_refused_bind_releases_the_address_and_leaves_nothing(
        records, cni_path):
    fake = FakeBinding()
    fake.fail = "os-vif could not plug c1/eth0: refused"
    code, out = commands.Plugin(records, fake).run(env(cni_path, "ADD"),
                                                   conf())
    assert code == 1
    err = json.loads(out)
    assert err["code"] == ErrorCode.HOST_FAILURE == 101
    assert err["msg"] == "os-vif could not plug c1/eth0: refused"
    assert err["cniVersion"] == "1.1.0"
    # The address was leased, then released; no record is left.
    assert ipam_log(cni_path) == ["ADD c1 eth0 /run/netns/p1",
                                  "DEL c1 eth0 /run/netns/p1"]
    assert records.attachments("net1") == []


def test_add_records_and_answers_the_spec_result(records, cni_path):
    fake = FakeBinding()
    plugin = commands.Plugin(records, fake)
    code, out = plugin.run(env(cni_path, "ADD"), conf())
    assert code == 0, out
    result = json.loads(out)
    assert result["cniVersion"] == "1.1.0"
    assert result["interfaces"][1]["sandbox"] == "/run/netns/p1"
    assert result["ips"] == [{"address": "10.1.0.5/24",
                              "gateway": "10.1.0.1", "interface": 1}]
    record = records.read("net1", Attachment("c1", "eth0"))
    assert record is not None and record.state == store.BOUND
    assert str(record.vif.network.subnets.objects[0].cidr) == "10.1.0.0/24"
    # The same ADD again answers the same; in another namespace it fails.
    assert plugin.run(env(cni_path, "ADD"), conf()) == (0, out)
    code, out = plugin.run(env(cni_path, "ADD", netns="/run/netns/p2"),
                           conf())
    assert code == 1 and json.loads(out)["code"] == ErrorCode.INVALID_CONFIG
    assert fake.calls == [("bind", "c1", "eth0")]


def test_a_failed_bind_releases_the_address_and_the_record(
        records, cni_path):
    fake = FakeBinding()
    fake.fail = "the bridge is gone"
    code, out = commands.Plugin(records, fake).run(env(cni_path, "ADD"),
                                                   conf())
    assert code == 1
    assert json.loads(out)["msg"] == "the bridge is gone"
    assert fake.calls == [("bind", "c1", "eth0"), ("unbind", "c1", "eth0")]
    assert ipam_log(cni_path)[-1].startswith("DEL c1 eth0")
    assert records.attachments("net1") == []


def test_a_result_in_0_4_0(records, cni_path):
    code, out = commands.Plugin(records, FakeBinding()).run(
        env(cni_path, "ADD"), conf(cniVersion="0.4.0"))
    assert code == 0
    assert json.loads(out)["ips"][0]["version"] == "4"


def test_del_of_an_unknown_attachment_succeeds_and_releases(
        records, cni_path):
    plugin = commands.Plugin(records)
    del_env = env(cni_path, "DEL", netns="")
    assert plugin.run(del_env, conf()) == (0, b"")
    assert plugin.run(del_env, conf()) == (0, b"")
    assert ipam_log(cni_path) == ["DEL c1 eth0 ", "DEL c1 eth0 "]


def test_del_unbinds_releases_and_forgets(records, cni_path):
    fake = FakeBinding()
    plugin = commands.Plugin(records, fake)
    plugin.run(env(cni_path, "ADD"), conf())
    assert plugin.run(env(cni_path, "DEL", netns=""), conf()) == (0, b"")
    assert fake.calls[-1] == ("unbind", "c1", "eth0")
    # The address is released in the recorded namespace's name.
    assert ipam_log(cni_path)[-1] == "DEL c1 eth0 /run/netns/p1"
    assert records.attachments("net1") == []


def test_a_pending_record_of_a_dead_add_is_undone_by_del(records, cni_path):
    record = store.Record(
        network="net1", container_id="c1", ifname="eth0",
        netns="/run/netns/p1", cni_version="1.1.0", state=store.PENDING,
        config=json.loads(conf()))
    records.write(record)
    # No VIF was built: DEL needs no unbinding for it.
    fake = FakeBinding()
    assert commands.Plugin(records, fake).run(env(cni_path, "DEL"),
                                              conf()) == (0, b"")
    assert records.attachments("net1") == []
    assert fake.calls == []


def test_check(records, cni_path):
    fake = FakeBinding()
    plugin = commands.Plugin(records, fake)
    _, out = plugin.run(env(cni_path, "ADD"), conf())
    prev = json.loads(out)
    assert plugin.run(env(cni_path, "CHECK"), conf(prevResult=prev)) == \
        (0, b"")
    assert fake.calls[-1] == ("check", "c1", "eth0")
    assert ipam_log(cni_path)[-1].startswith("CHECK c1 eth0")
    # Addresses ADD gave must be in prevResult.
    code, out = plugin.run(env(cni_path, "CHECK"),
                           conf(prevResult=dict(prev, ips=[])))
    assert (code, json.loads(out)["code"]) == (1, ErrorCode.CHECK_FAILED)
    # So must the container's interface, with its MAC.
    other = dict(prev, interfaces=[prev["interfaces"][0], dict(
        prev["interfaces"][1], mac="02:00:00:00:00:01")])
    code, out = plugin.run(env(cni_path, "CHECK"), conf(prevResult=other))
    assert json.loads(out)["code"] == ErrorCode.CHECK_FAILED
    # Without prevResult, or for an unknown attachment.
    code, out = plugin.run(env(cni_path, "CHECK"), conf())
    assert json.loads(out)["code"] == ErrorCode.INVALID_CONFIG
    code, out = plugin.run(env(cni_path, "CHECK", container_id="c9"),
                           conf(prevResult=prev))
    assert json.loads(out)["code"] == ErrorCode.UNKNOWN_CONTAINER


def test_status(records, cni_path):
    code, out = commands.Plugin(records, FakeBinding("no os_vif")).run(
        env(cni_path, "STATUS"), conf())
    assert code == 1 and json.loads(out) == {
        "cniVersion": "1.1.0", "code": ErrorCode.NOT_AVAILABLE,
        "msg": "no os_vif"}
    assert commands.Plugin(records, FakeBinding()).run(
        env(cni_path, "STATUS"), conf()) == (0, b"")
    code, out = commands.Plugin(records, FakeBinding()).run(
        env(cni_path, "STATUS"), conf(ipam={"type": "missing"}))
    assert json.loads(out)["code"] == ErrorCode.NOT_AVAILABLE
    assert "missing" in json.loads(out)["msg"]
    code, out = commands.Plugin(records, FakeBinding()).run(
        env(cni_path, "STATUS"), conf(cniVersion="1.0.0"))
    assert json.loads(out)["code"] == ErrorCode.INCOMPATIBLE_VERSION


def test_gc_deletes_exactly_the_attachments_not_valid(records, cni_path):
    fake = FakeBinding()
    plugin = commands.Plugin(records, fake)
    for cid, ifname in [("c1", "eth0"), ("c2", "eth0"), ("c2", "net1"),
                        ("c3", "eth0")]:
        plugin.run(env(cni_path, "ADD", cid, ifname), conf())
    plugin.run(env(cni_path, "ADD", "c4"), conf(name="net2"))
    # A file in the state dir that is no record of os-vif's stays.
    stranger = os.path.join(records.root, "net1", "notes.txt")
    with open(stranger, "w") as stream:
        stream.write("mine")
    gc_env = {"CNI_COMMAND": "GC", "CNI_PATH": str(cni_path)}
    valid = [{"containerID": "c2", "ifname": "eth0"},
             {"containerID": "c3", "ifname": "eth0"},
             {"containerID": "c9", "ifname": "eth0"}]
    assert plugin.run(gc_env, conf(**{
        "cni.dev/valid-attachments": valid})) == (0, b"")
    assert records.attachments("net1") == [Attachment("c2", "eth0"),
                                           Attachment("c3", "eth0")]
    assert records.attachments("net2") == [Attachment("c4", "eth0")]
    assert os.path.exists(stranger)
    assert sorted(c for c in fake.calls if c[0] == "unbind") == [
        ("unbind", "c1", "eth0"), ("unbind", "c2", "net1")]
    # Both unbound in one batch.
    assert [c for c in fake.calls if c[0] == "unbind_many"] == [
        ("unbind_many", 2)]
    released = [line for line in ipam_log(cni_path)
                if line.startswith("DEL")]
    assert sorted(released) == ["DEL c1 eth0 /run/netns/p1",
                                "DEL c2 net1 /run/netns/p1"]


def test_gc_goes_on_past_a_failure_and_reports_it(records, cni_path):
    class Stuck(FakeBinding):
        def unbind(self, record):
            if record.container_id == "c1":
                raise CniError(ErrorCode.HOST_FAILURE, "device busy")

    plugin = commands.Plugin(records, Stuck())
    add(plugin, cni_path, "c1", "c2")
    err = gc_failure(plugin, cni_path)
    assert "c1/eth0" in err["details"] and "device busy" in err["details"]
    assert records.attachments("net1") == [Attachment("c1", "eth0")]


@pytest.mark.parametrize("environ,stdin,code", [
    ({"CNI_COMMAND": "NOPE"}, b"{}", ErrorCode.INVALID_ENVIRONMENT),
    ({"CNI_COMMAND": "DEL"}, b"{}", ErrorCode.INVALID_ENVIRONMENT),
    (None, b"not json", ErrorCode.DECODING_FAILURE),
    (None, json.dumps({"cniVersion": "1.1.0", "name": "n", "type": "t",
                       "plugin": "nope"}).encode(), ErrorCode.INVALID_CONFIG),
])
def test_errors_are_the_spec_json(records, cni_path, environ, stdin, code):
    got, out = commands.Plugin(records).run(
        environ or env(cni_path, "ADD"), stdin)
    assert got == 1
    doc = json.loads(out)
    assert doc["code"] == code and doc["msg"]
    assert records.attachments("net1") == [] and ipam_log(cni_path) == []


def test_an_unexpected_failure_is_still_the_spec_json(records, cni_path):
    class Broken(FakeBinding):
        def bind(self, record):
            raise RuntimeError("boom")

    code, out = commands.Plugin(records, Broken()).run(
        env(cni_path, "ADD"), conf())
    doc = json.loads(out)
    assert (code, doc["code"]) == (1, ErrorCode.HOST_FAILURE)
    assert "boom" in doc["msg"]


def test_the_default_binding_is_os_vif():
    assert isinstance(binding.workload_binding(), binding.OsVifBinding)
    assert isinstance(commands.Plugin(store.Store("/nonexistent")).binding,
                      binding.OsVifBinding)


def test_del_of_an_unknown_attachment_leaves_no_file(records, cni_path):
    commands.Plugin(records).run(env(cni_path, "DEL"), conf())
    assert os.listdir(os.path.join(records.root, "net1")) == []


def test_gc_reports_an_unreadable_record_and_collects_the_rest(
        records, cni_path):
    plugin = commands.Plugin(records, FakeBinding())
    add(plugin, cni_path, "c1", "c2")
    with open(records.path("net1", Attachment("c1", "eth0")), "w") as f:
        f.write("{broken")
    err = gc_failure(plugin, cni_path)
    assert "c1/eth0" in err["details"]
    assert records.attachments("net1") == [Attachment("c1", "eth0")]


def test_gc_and_status_go_on_to_an_ipam_plugin_of_cni_1_1(records, cni_path):
    plugin = commands.Plugin(records, FakeBinding())
    gc_env = {"CNI_COMMAND": "GC", "CNI_PATH": str(cni_path)}
    assert plugin.run(gc_env, conf(ipam={"type": "fake-ipam-11"}, **{
        "cni.dev/valid-attachments": []})) == (0, b"")
    assert plugin.run(env(cni_path, "STATUS"),
                      conf(ipam={"type": "fake-ipam-11"})) == (0, b"")
    assert [line.split()[0] for line in ipam_log(
        cni_path, "fake-ipam-11")] == ["GC", "STATUS"]
    # A 1.0 plugin gets neither.
    plugin.run(gc_env, conf(**{"cni.dev/valid-attachments": []}))
    plugin.run(env(cni_path, "STATUS"), conf())
    assert ipam_log(cni_path) == []


def test_del_releases_the_address_beside_the_unbinding_and_keeps_a_failure(
        records, cni_path):
    class Stuck(FakeBinding):
        def unbind(self, record):
            super().unbind(record)
            raise CniError(ErrorCode.HOST_FAILURE, "device busy")

    fake = Stuck()
    plugin = commands.Plugin(records, fake)
    plugin.run(env(cni_path, "ADD"), conf())
    code, out = plugin.run(env(cni_path, "DEL"), conf())
    assert (code, json.loads(out)["msg"]) == (1, "device busy")
    # The address was released all the same; the record stays, so the
    # next DEL does both again.
    assert ipam_log(cni_path)[-1] == "DEL c1 eth0 /run/netns/p1"
    assert records.attachments("net1") == [Attachment("c1", "eth0")]
    fake.unbind = lambda record: None
    assert plugin.run(env(cni_path, "DEL"), conf()) == (0, b"")
    assert records.attachments("net1") == []
    # An IPAM plugin that fails keeps the record too.
    plugin.run(env(cni_path, "ADD", "c2"), conf())
    os.chmod(cni_path / "fake-ipam", 0o644)
    code, out = plugin.run(env(cni_path, "DEL", "c2"), conf())
    assert code == 1 and "fake-ipam" in json.loads(out)["msg"]
    assert records.attachments("net1") == [Attachment("c2", "eth0")]


def test_gc_keeps_the_record_of_each_vif_the_batch_failed_only(
        records, cni_path):
    class Partly(FakeBinding):
        def unbind_many(self, batch):
            self.calls.append(("unbind_many", len(batch)))
            return [CniError(ErrorCode.HOST_FAILURE, "device busy")
                    if record.container_id == "c2" else None
                    for record in batch]

    fake = Partly()
    plugin = commands.Plugin(records, fake)
    add(plugin, cni_path, "c1", "c2", "c3")
    err = gc_failure(plugin, cni_path)
    assert err["details"] == "c2/eth0: device busy (CNI error 101)"
    assert fake.calls[-1] == ("unbind_many", 3)
    assert records.attachments("net1") == [Attachment("c2", "eth0")]
    # Every address was released, the failed one's too (as DEL does).
    assert sorted(line for line in ipam_log(cni_path)
                  if line.startswith("DEL")) == [
        "DEL c%d eth0 /run/netns/p1" % n for n in (1, 2, 3)]
    # The next GC deletes what is left.
    fake.unbind_many = FakeBinding.unbind_many.__get__(fake)
    assert gc(plugin, cni_path) == (0, b"")
    assert records.attachments("net1") == []


@pytest.mark.parametrize("answer", ["raise", "short"])
def test_gc_keeps_every_record_when_the_batch_fails_as_a_whole(
        records, cni_path, answer):
    class Broken(FakeBinding):
        def unbind_many(self, batch):
            if answer == "raise":
                raise RuntimeError("daemon gone")
            return []

    plugin = commands.Plugin(records, Broken())
    add(plugin, cni_path, "c1", "c2")
    err = gc_failure(plugin, cni_path)
    assert "c1/eth0" in err["details"] and "c2/eth0" in err["details"]
    assert records.attachments("net1") == [Attachment("c1", "eth0"),
                                           Attachment("c2", "eth0")]


def test_gc_unbinds_in_batches_of_gc_batch(records, cni_path, monkeypatch):
    monkeypatch.setattr(commands, "GC_BATCH", 2)
    fake = FakeBinding()
    plugin = commands.Plugin(records, fake)
    add(plugin, cni_path, "c1", "c2", "c3", "c4", "c5")
    assert gc(plugin, cni_path, valid=["c3"]) == (0, b"")
    assert [c for c in fake.calls if c[0] == "unbind_many"] == [
        ("unbind_many", 2), ("unbind_many", 2)]
    assert records.attachments("net1") == [Attachment("c3", "eth0")]
