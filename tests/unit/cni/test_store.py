"""The attachment records, on a temporary directory."""

from __future__ import annotations

import os
import threading
import time

import pytest

from os_vif.cni import network, protocol, store
from os_vif.cni.protocol import Attachment, CniError, ErrorCode

CONFIG = {"cniVersion": "1.1.0", "name": "net1", "type": "os-vif-cni",
          "plugin": "ovs", "ipam": {"type": "host-local"}}
IPAM = protocol.Result.parse({"cniVersion": "1.1.0",
                              "ips": [{"address": "10.1.0.5/24"}]})


def _record(container_id="c1", ifname="eth0", state=store.BOUND):
    call = protocol.Call(command=protocol.Command.ADD,
                         container_id=container_id, netns="/run/netns/p",
                         ifname=ifname, path=("/usr/lib/cni",))
    conf = protocol.NetConf.parse(CONFIG)
    vif = network.build_vif(conf, network.OsVifConf.parse(conf), call, IPAM)
    return store.Record(
        network="net1", container_id=container_id, ifname=ifname,
        netns=call.netns, cni_version="1.1.0", state=state, config=CONFIG,
        vif=vif, ipam=IPAM, result=network.add_result(vif, call, IPAM, None))


def test_a_record_reads_back_as_written(tmp_path):
    records = store.Store(str(tmp_path))
    record = _record()
    with records.lock("net1", record.attachment):
        records.write(record)
    again = records.read("net1", record.attachment)
    assert again is not None
    assert again.document() == record.document()
    assert again.vif.id == record.vif.id
    assert again.ipam == IPAM
    assert os.path.basename(records.path("net1", record.attachment)) == \
        "c1:eth0.json"
    # Nothing else is left in the directory (no temporary file).
    assert sorted(os.listdir(tmp_path / "net1")) == [
        "c1:eth0.json", "c1:eth0.json.lock"]


def test_an_unknown_attachment_has_no_record(tmp_path):
    assert store.Store(str(tmp_path)).read(
        "net1", Attachment("c1", "eth0")) is None
    assert store.Store(str(tmp_path)).attachments("net1") == []


def test_listing_is_per_network_and_delete_removes_record_and_lock(tmp_path):
    records = store.Store(str(tmp_path))
    for cid, ifname in [("c2", "eth0"), ("c1", "net1"), ("c1", "eth0")]:
        records.write(_record(cid, ifname))
    assert records.attachments("net1") == [
        Attachment("c1", "eth0"), Attachment("c1", "net1"),
        Attachment("c2", "eth0")]
    assert records.attachments("net2") == []
    with records.lock("net1", Attachment("c1", "eth0")):
        records.delete("net1", Attachment("c1", "eth0"))
    records.delete("net1", Attachment("c1", "eth0"))  # idempotent
    assert Attachment("c1", "eth0") not in records.attachments("net1")
    assert not os.path.exists(
        records.path("net1", Attachment("c1", "eth0")) + ".lock")


def test_a_corrupt_record_is_an_io_error_naming_its_file(tmp_path):
    records = store.Store(str(tmp_path))
    att = Attachment("c1", "eth0")
    os.makedirs(tmp_path / "net1")
    (tmp_path / "net1" / "c1:eth0.json").write_text("{\"format\": 1}")
    with pytest.raises(CniError, match="c1:eth0.json") as err:
        records.read("net1", att)
    assert err.value.code == ErrorCode.IO_FAILURE


def test_the_lock_keeps_two_threads_on_one_attachment_apart(tmp_path):
    records = store.Store(str(tmp_path))
    att = Attachment("c1", "eth0")
    order = []

    def second():
        with records.lock("net1", att):
            order.append("second")

    with records.lock("net1", att):
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.05)
        order.append("first")
    thread.join(5)
    assert order == ["first", "second"]


def test_the_lock_holds_across_a_delete(tmp_path):
    # The holder deletes the record (and its lock file) while another
    # waits: the waiter must then hold a lock a third party cannot share.
    records = store.Store(str(tmp_path))
    att = Attachment("c1", "eth0")
    records.write(_record())
    got = threading.Event()
    release = threading.Event()

    def waiter():
        with records.lock("net1", att):
            got.set()
            release.wait(5)

    with records.lock("net1", att):
        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.05)
        records.delete("net1", att)
    assert got.wait(5)
    # Another process's view: the lock file the waiter holds is the one on
    # disk, so a flock on it would wait.
    import fcntl
    fd = os.open(records.path("net1", att) + ".lock", os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)
        release.set()
        thread.join(5)


def test_different_attachments_do_not_wait_for_each_other(tmp_path):
    records = store.Store(str(tmp_path))
    with records.lock("net1", Attachment("c1", "eth0")):
        done = threading.Event()

        def other():
            with records.lock("net1", Attachment("c2", "eth0")):
                done.set()

        thread = threading.Thread(target=other)
        thread.start()
        assert done.wait(5)
        thread.join(5)


def test_only_a_durable_write_syncs(tmp_path, monkeypatch):
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd),
                                                 real(fd))[1])
    records = store.Store(str(tmp_path))
    record = _record(state=store.PENDING)
    with records.lock("net1", record.attachment):
        records.write(record, durable=False)
        assert synced == []
        assert records.read("net1", record.attachment).state == \
            store.PENDING
        record.state = store.BOUND
        records.write(record)
    # The file, then its directory.
    assert len(synced) == 2
    assert records.read("net1", record.attachment).state == store.BOUND
