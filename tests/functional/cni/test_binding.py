"""os-vif-cni binding real attachments, driven through the protocol as a
runtime drives it: the compiled client, the daemon, host-local, and
os_vif plugging both ends on the real kernel (and a private Open vSwitch).

Each test runs in a fresh network namespace (the ``netns`` fixture: the
host's side, where the daemon, its privsep daemons, the bridges and the
host ends live); each container is another namespace (``pods``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading

import pytest

from os_vif.cni import store
from os_vif.cni.protocol import ErrorCode
from os_vif.sandbox import ovs as ovs_server
from tests.functional.cni.conftest import CNI_PATH, host_local_missing

pytestmark = [pytest.mark.functional]

SUBNET = "10.93.0.0/24"


@pytest.fixture(autouse=True)
def _host_local():
    reason = host_local_missing()
    if reason:
        pytest.skip(reason)


def _config(client, name, **extra):
    doc = {
        "cniVersion": "1.1.0", "name": name, "type": "os-vif-cni",
        "plugin": "linux_bridge", "bridge": "cnibr0", "mtu": 1400,
        "ipam": {"type": "host-local", "dataDir": client.data_dir,
                 "ranges": [[{"subnet": SUBNET}]],
                 "routes": [{"dst": "0.0.0.0/0"}]},
    }
    doc.update(extra)
    return json.dumps(doc)


def _env(command, container_id, netns="", ifname="eth0"):
    env = {"CNI_COMMAND": command, "CNI_CONTAINERID": container_id,
           "CNI_IFNAME": ifname, "CNI_PATH": CNI_PATH}
    if netns:
        env["CNI_NETNS"] = netns
    return env


def _add(client, config, container_id, netns):
    code, out = client.run(_env("ADD", container_id, netns), config)
    assert code == 0, out.decode()
    return json.loads(out)


def _leases(client, network):
    try:
        names = os.listdir(os.path.join(client.data_dir, network))
    except FileNotFoundError:
        return []
    return [n for n in names if n[0].isdigit()]


def _address(result):
    return result["ips"][0]["address"].split("/")[0]


def _ping(pods, netns, address):
    # busybox's ping (busybox-static, which ensure_podman installs): this
    # host has no iputils.
    ping = (["ping"] if shutil.which("ping")
            else ["/bin/busybox", "ping"])
    proc = pods.exec(netns, *ping, "-c", "1", "-W", "5", address)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _host_links(netns_handle):
    # The bridge is the network's, not an attachment's: the plugin may
    # keep it or remove it once unused.
    return [n for n in netns_handle.link_names()
            if n not in ("lo", "cnibr0")]


def test_two_containers_on_a_linux_bridge(netns, fresh_client, pods):
    client = fresh_client
    config = _config(client, "lbnet")
    pod1, pod2 = pods.make(), pods.make()
    first = _add(client, config, "c1", pod1)
    second = _add(client, config, "c2", pod2)

    # The spec's result: the host end, then the container's interface with
    # its namespace, MAC and MTU; the address on it.
    host, inside = first["interfaces"]
    assert host["name"].startswith("tap") and "sandbox" not in host
    assert (inside["name"], inside["sandbox"], inside["mtu"]) == (
        "eth0", pod1, 1400)
    assert first["ips"] == [{"address": "10.93.0.2/24",
                             "gateway": "10.93.0.1", "interface": 1}]
    # In the container: the name, MAC, MTU, address and default route.
    eth0 = pods.links(pod1)["eth0"]
    assert eth0["address"] == inside["mac"]
    assert eth0["mtu"] == 1400 and "UP" in eth0["flags"]
    assert [(a["local"], a["prefixlen"]) for a in eth0["addr_info"]
            if a["family"] == "inet"] == [("10.93.0.2", 24)]
    assert {"dst": "default", "gateway": "10.93.0.1", "dev": "eth0"}.items() \
        <= next(r for r in pods.routes(pod1) if r["dst"] == "default").items()
    # On the host: the host end on the bridge.
    assert host["name"] in netns.link_names() and "cnibr0" in \
        netns.link_names()

    _ping(pods, pod1, _address(second))
    _ping(pods, pod2, _address(first))

    # CHECK: as ADD made it.
    code, out = client.run(_env("CHECK", "c1", pod1),
                           _config(client, "lbnet", prevResult=first))
    assert (code, out) == (0, b"")
    # A changed MTU inside the container is found.
    pods.exec(pod1, "ip", "link", "set", "eth0", "mtu", "1300")
    code, out = client.run(_env("CHECK", "c1", pod1),
                           _config(client, "lbnet", prevResult=first))
    err = json.loads(out)
    assert (code, err["code"]) == (1, ErrorCode.CHECK_FAILED), err
    assert "1300" in err["details"], err

    # DEL: nothing left of the attachments; DEL again succeeds.
    for cid, pod in (("c1", pod1), ("c2", pod2)):
        assert client.run(_env("DEL", cid, pod), config) == (0, b"")
        assert client.run(_env("DEL", cid, pod), config) == (0, b"")
        assert "eth0" not in pods.links(pod)
    assert _host_links(netns) == []
    assert _leases(client, "lbnet") == []
    assert store.Store(client.state_dir).attachments("lbnet") == []


def test_del_after_the_container_is_gone(netns, fresh_client, pods):
    client = fresh_client
    config = _config(client, "gonenet")
    pod = pods.make()
    result = _add(client, config, "c1", pod)
    pods.remove(pod)
    # The runtime's DEL comes after the namespace went (no CNI_NETNS).
    assert client.run(_env("DEL", "c1"), config) == (0, b"")
    assert result["interfaces"][0]["name"] not in netns.link_names()
    assert _leases(client, "gonenet") == []
    assert store.Store(client.state_dir).attachments("gonenet") == []


def test_a_failed_add_leaves_nothing(netns, fresh_client, pods):
    client = fresh_client
    config = _config(client, "failnet")
    # A namespace that does not exist: os_vif refuses; the address leased
    # is released and the record forgotten.
    code, out = client.run(_env("ADD", "c1", "/run/netns/cni-none"), config)
    err = json.loads(out)
    assert code == 1 and err["code"] in (ErrorCode.INVALID_CONFIG,
                                         ErrorCode.HOST_FAILURE), err
    assert "c1/eth0" in err["msg"], err
    assert _leases(client, "failnet") == []
    assert store.Store(client.state_dir).attachments("failnet") == []
    assert [n for n in _host_links(netns) if n.startswith("tap")] == []
    # The same name inside the container already taken: nothing changes
    # there, nothing is left on the host.
    pod = pods.make()
    # (No dummy module here: a veth pair is the container's own device.)
    made = pods.exec(pod, "ip", "link", "add", "eth0", "type", "veth",
                     "peer", "name", "other0")
    assert made.returncode == 0, made.stderr
    before = pods.links(pod)["eth0"]
    code, out = client.run(_env("ADD", "c2", pod), config)
    assert code == 1, out
    assert "c2/eth0" in json.loads(out)["msg"]
    after = pods.links(pod)["eth0"]
    assert (after["ifindex"], after["address"], after["mtu"]) == (
        before["ifindex"], before["address"], before["mtu"])
    assert sorted(pods.links(pod)) == ["eth0", "lo", "other0"]
    assert _leases(client, "failnet") == []
    assert [n for n in _host_links(netns) if n.startswith("tap")] == []


def test_concurrent_adds_and_dels_for_different_containers(
        netns, fresh_client, pods):
    client = fresh_client
    config = _config(client, "parnet")
    assert client.run({"CNI_COMMAND": "VERSION"})[0] == 0  # daemon up
    namespaces = [pods.make() for _ in range(6)]
    results: dict[int, tuple[int, bytes]] = {}

    def call(command, i):
        results[i] = client.run(_env(command, "c%d" % i, namespaces[i]),
                                config)

    for command in ("ADD", "DEL"):
        results.clear()
        threads = [threading.Thread(target=call, args=(command, i))
                   for i in range(len(namespaces))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert sorted(results) == list(range(len(namespaces)))
        assert all(code == 0 for code, _ in results.values()), results
        if command == "ADD":
            addresses = {_address(json.loads(out))
                         for _, out in results.values()}
            assert len(addresses) == len(namespaces)
            for pod in namespaces:
                assert "eth0" in pods.links(pod)
    assert _host_links(netns) == []
    assert _leases(client, "parnet") == []
    assert store.Store(client.state_dir).attachments("parnet") == []


def test_gc_removes_exactly_the_stale_attachments(netns, fresh_client, pods):
    client = fresh_client
    config = _config(client, "gcnet")
    namespaces = {cid: pods.make() for cid in ("c1", "c2", "c3")}
    results = {cid: _add(client, config, cid, pod)
               for cid, pod in namespaces.items()}
    # A device os-vif did not make, on the same bridge: GC leaves it.
    subprocess.run(["ip", "link", "add", "foreign0", "master", "cnibr0",
                    "type", "veth", "peer", "name", "foreign1"], check=True)
    valid = [{"containerID": "c2", "ifname": "eth0"}]
    code, out = client.run({"CNI_COMMAND": "GC", "CNI_PATH": CNI_PATH},
                           _config(client, "gcnet", **{
                               "cni.dev/valid-attachments": valid}))
    assert (code, out) == (0, b"")
    assert store.Store(client.state_dir).attachments("gcnet") == [
        store.Attachment("c2", "eth0")]
    assert "eth0" in pods.links(namespaces["c2"])
    for cid in ("c1", "c3"):
        assert "eth0" not in pods.links(namespaces[cid])
    taps = [n for n in _host_links(netns) if n.startswith("tap")]
    assert taps == [results["c2"]["interfaces"][0]["name"]]
    assert {"foreign0", "foreign1"} <= set(netns.link_names())
    assert len(_leases(client, "gcnet")) == 1


@pytest.fixture
def private_ovs(netns):
    reason = ovs_server.missing_reason()
    if reason:
        pytest.skip(reason)
    workdir = tempfile.mkdtemp(prefix="cniovs-", dir="/tmp")
    server = ovs_server.OvsServer(workdir, netns=netns.name)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize("vif_type", ["VIFOpenVSwitch", "VIFBridge"])
def test_del_on_open_vswitch_after_the_container_is_gone(
        netns, fresh_client, pods, private_ovs, vif_type):
    client = fresh_client
    client.use_config("[os_vif_ovs]\novsdb_connection = %s\n"
                      % private_ovs.connection)
    config = _config(client, "ovsgone", plugin="ovs", vifType=vif_type,
                     bridge="br-int", options={"datapathType": "netdev"})
    pod = pods.make()
    _add(client, config, "c1", pod)
    assert len(private_ovs.vsctl("list-ports", "br-int").split()) == 1
    pods.remove(pod)
    assert client.run(_env("DEL", "c1"), config) == (0, b"")
    assert private_ovs.vsctl("list-ports", "br-int").split() == []
    assert [n for n in _host_links(netns)
            if n.startswith(("tap", "qvo", "qvb", "qbr"))] == []
    assert store.Store(client.state_dir).attachments("ovsgone") == []


@pytest.mark.parametrize("vif_type", ["VIFOpenVSwitch", "VIFBridge"])
def test_two_containers_on_open_vswitch(netns, fresh_client, pods,
                                        private_ovs, vif_type):
    client = fresh_client
    client.use_config("[os_vif_ovs]\novsdb_connection = %s\n"
                      % private_ovs.connection)
    config = _config(client, "ovsnet", plugin="ovs", vifType=vif_type,
                     bridge="br-int", options={"datapathType": "netdev"})
    pod1, pod2 = pods.make(), pods.make()
    first = _add(client, config, "c1", pod1)
    second = _add(client, config, "c2", pod2)
    ports = private_ovs.vsctl("list-ports", "br-int").split()
    assert len(ports) == 2
    # neutron's identity on the port: the VIF's id.
    iface_ids = {private_ovs.vsctl("get", "Interface", port,
                                   "external_ids:iface-id").strip('"\n')
                 for port in ports}
    assert len(iface_ids) == 2
    _ping(pods, pod1, _address(second))
    code, out = client.run(_env("CHECK", "c2", pod2),
                           _config(client, "ovsnet", plugin="ovs",
                                   vifType=vif_type, bridge="br-int",
                                   options={"datapathType": "netdev"},
                                   prevResult=second))
    assert (code, out) == (0, b""), out
    for cid, pod in (("c1", pod1), ("c2", pod2)):
        assert client.run(_env("DEL", cid, pod), config) == (0, b"")
    assert private_ovs.vsctl("list-ports", "br-int").split() == []
    assert [n for n in _host_links(netns)
            if n.startswith(("tap", "qvo", "qvb", "qbr"))] == []
    assert _leases(client, "ovsnet") == []
    assert first["interfaces"][1]["sandbox"] == pod1


def test_a_nested_macvlan_container(netns, fresh_client, pods):
    client = fresh_client
    # The VM's port the nested containers hang from.
    # (No dummy module here: one end of a veth pair stands for it.)
    subprocess.run(["ip", "link", "add", "ens3", "type", "veth", "peer",
                    "name", "ens3p"], check=True)
    subprocess.run(["ip", "link", "set", "ens3", "up"], check=True)
    config = _config(client, "nestnet", plugin="noop",
                     vifType="VIFMacvlanNested", options={"parent": "ens3"})
    config_doc = json.loads(config)
    config_doc.pop("bridge")
    config = json.dumps(config_doc)
    pod = pods.make()
    result = _add(client, config, "c1", pod)
    # No host end: the container's interface only.
    assert [i["name"] for i in result["interfaces"]] == ["eth0"]
    eth0 = pods.links(pod)["eth0"]
    assert eth0["address"] == result["interfaces"][0]["mac"]
    assert "macvlan" in pods.exec(pod, "ip", "-d", "link", "show",
                                  "eth0").stdout
    assert client.run(_env("DEL", "c1", pod), config) == (0, b"")
    assert "eth0" not in pods.links(pod)
    assert _host_links(netns) == ["ens3", "ens3p"]


def test_dual_stack_and_a_subnet_without_gateway(netns, fresh_client, pods):
    client = fresh_client
    # host-local with an IPv4 and an IPv6 range: both addresses, both
    # default routes, IPv6 on.
    dual = _config(client, "dualnet", ipam={
        "type": "host-local", "dataDir": client.data_dir,
        "ranges": [[{"subnet": SUBNET}], [{"subnet": "fd93::/64"}]],
        "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]})
    pod = pods.make()
    result = _add(client, dual, "c1", pod)
    assert sorted(ip["address"] for ip in result["ips"]) == [
        "10.93.0.2/24", "fd93::2/64"]
    eth0 = pods.links(pod)["eth0"]
    assert {(a["local"], a["prefixlen"]) for a in eth0["addr_info"]
            if a.get("scope") == "global"} == {("10.93.0.2", 24),
                                                ("fd93::2", 64)}
    assert any(r["dst"] == "default" and r.get("gateway") == "fd93::1"
               for r in pods.routes(pod, 6))
    assert client.run(_env("DEL", "c1", pod), dual) == (0, b"")
    # The static IPAM plugin gives an address and no gateway: no default
    # route, the address all the same.
    static = _config(client, "staticnet", ipam={
        "type": "static", "addresses": [{"address": "10.91.0.7/24"}]})
    result = _add(client, static, "c2", pod)
    assert result["ips"] == [{"address": "10.91.0.7/24", "interface": 1}]
    eth0 = pods.links(pod)["eth0"]
    assert [(a["local"], a["prefixlen"]) for a in eth0["addr_info"]
            if a["family"] == "inet"] == [("10.91.0.7", 24)]
    assert not [r for r in pods.routes(pod) if r["dst"] == "default"]
    assert client.run(_env("DEL", "c2", pod), static) == (0, b"")
    assert "eth0" not in pods.links(pod)


def test_check_and_del_after_the_daemon_restarts(netns, fresh_client, pods):
    client = fresh_client
    config = _config(client, "restartnet")
    pod = pods.make()
    result = _add(client, config, "c1", pod)
    first = client.daemon_pid()
    client.stop_daemon()
    # A new daemon (started by the client) knows the attachment from its
    # record.
    code, out = client.run(_env("CHECK", "c1", pod),
                           _config(client, "restartnet", prevResult=result))
    assert (code, out) == (0, b""), out
    assert client.daemon_pid() not in (None, first)
    assert client.run(_env("DEL", "c1", pod), config) == (0, b"")
    assert "eth0" not in pods.links(pod)
    assert _host_links(netns) == []
    assert _leases(client, "restartnet") == []
