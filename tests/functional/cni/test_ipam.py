"""IPAM delegation with the distribution's real host-local plugin.

host-local keeps its leases in a data directory (a temporary one here)
and never enters the namespace, so no namespace is needed.
"""

from __future__ import annotations

import os

import pytest

from os_vif.cni import ipam, protocol
from os_vif.cni.protocol import CniError, Command, ErrorCode

CNI_PATH = "/usr/lib/cni"

pytestmark = [
    pytest.mark.functional,
    pytest.mark.skipif(
        not os.access(os.path.join(CNI_PATH, "host-local"), os.X_OK),
        reason="host-local is missing (containernetworking-plugins: "
        "tools/setup-env.sh ensure_podman installs it)"),
]


def _config(data_dir, subnet="10.99.0.0/29", version="1.0.0"):
    return {
        "cniVersion": version, "name": "ipamtest", "type": "os-vif-cni",
        "ipam": {"type": "host-local", "dataDir": str(data_dir),
                 "ranges": [[{"subnet": subnet}]],
                 "routes": [{"dst": "0.0.0.0/0"}]},
    }


def _call(container_id, command=Command.ADD, ifname="eth0"):
    return protocol.Call(command=command, container_id=container_id,
                         netns="/var/run/netns/unused", ifname=ifname,
                         path=("/nonexistent", CNI_PATH))


def _leases(data_dir):
    return sorted(n for n in os.listdir(data_dir / "ipamtest")
                  if n[0].isdigit())


def test_add_check_del_through_host_local(tmp_path):
    config = _config(tmp_path)
    first = ipam.delegate(Command.ADD, _call("c1"), config)
    second = ipam.delegate(Command.ADD, _call("c2"), config)
    assert first is not None and second is not None
    assert first.ips[0].address != second.ips[0].address
    assert first.ips[0].gateway == "10.99.0.1"
    assert [r.dst for r in first.routes] == ["0.0.0.0/0"]
    assert len(_leases(tmp_path)) == 2
    # CHECK: host-local finds c1's lease.
    ipam.delegate(Command.CHECK, _call("c1", Command.CHECK),
                  dict(config, prevResult=first.document("1.0.0")))
    ipam.delegate(Command.DEL, _call("c1", Command.DEL), config)
    assert len(_leases(tmp_path)) == 1
    # DEL again: host-local, like os-vif, succeeds.
    ipam.delegate(Command.DEL, _call("c1", Command.DEL), config)
    # An attachment's env overrides the call's (GC releases each one so).
    ipam.delegate(Command.DEL, _call("gc", Command.DEL), config,
                  env={"CNI_CONTAINERID": "c2"})
    assert _leases(tmp_path) == []


def test_host_local_s_error_comes_back_with_its_code(tmp_path):
    # A /30 has two usable addresses (gateway + one): the second ADD fails.
    config = _config(tmp_path, subnet="10.99.0.0/30")
    ipam.delegate(Command.ADD, _call("c1"), config)
    with pytest.raises(CniError) as err:
        ipam.delegate(Command.ADD, _call("c2"), config)
    assert err.value.msg.startswith("host-local: ")
    assert err.value.code != 0


def test_a_missing_ipam_plugin_is_named(tmp_path):
    config = _config(tmp_path)
    config["ipam"]["type"] = "no-such-ipam"
    with pytest.raises(CniError, match="no-such-ipam") as err:
        ipam.delegate(Command.ADD, _call("c1"), config)
    assert err.value.code == ErrorCode.INVALID_CONFIG
    assert CNI_PATH in err.value.details


def test_a_1_1_configuration_reaches_a_1_0_host_local_as_1_0(tmp_path):
    # host-local of containernetworking-plugins 1.1 knows no 1.1.0: it gets
    # the newest version both know, and the prevResult in that version.
    assert "1.1.0" not in ipam.plugin_versions(
        os.path.join(CNI_PATH, "host-local"))
    config = _config(tmp_path, version="1.1.0")
    result = ipam.delegate(Command.ADD, _call("c1"), config)
    assert result is not None and result.ips
    ipam.delegate(Command.CHECK, _call("c1", Command.CHECK),
                  dict(config, prevResult=result.document("1.1.0")))
    ipam.delegate(Command.DEL, _call("c1", Command.DEL), config)
    assert _leases(tmp_path) == []
