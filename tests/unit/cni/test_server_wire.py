"""The daemon's wire format (the C client writes the same bytes)."""

from __future__ import annotations

import pytest

from os_vif.cni import server


def test_a_request_round_trips_and_keeps_only_cni_variables():
    env = {"CNI_COMMAND": "ADD", "CNI_ARGS": "A=1;B=x=y", "PATH": "/bin",
           "CNI_NETNS": ""}
    data = server.encode_request(env, b'{"cniVersion": "1.1.0"}\0tail')
    assert data.startswith(b"os-vif-cni 1\n")
    got_env, stdin = server.decode_request(data)
    assert got_env == {"CNI_COMMAND": "ADD", "CNI_ARGS": "A=1;B=x=y",
                       "CNI_NETNS": ""}
    assert stdin == b'{"cniVersion": "1.1.0"}\0tail'


@pytest.mark.parametrize("data,why", [
    (b"os-vif-cni 2\n\0", "another version"),
    (b"os-vif-cni 1\nCNI_COMMAND=ADD", "not terminated"),
    (b"os-vif-cni 1\nHOME=/root\0\0", "bad environment entry"),
    (b"os-vif-cni 1\nCNI_COMMAND\0\0", "bad environment entry"),
])
def test_a_malformed_request_is_refused(data, why):
    with pytest.raises(server.RequestError, match=why):
        server.decode_request(data)


def test_the_daemon_reads_os_vif_options_from_its_config_files(
        conf, tmp_path):
    from oslo_config import cfg

    good = tmp_path / "good.conf"
    good.write_text("[os_vif_ovs]\novsdb_connection = unix:/tmp/db.sock\n")
    server.load_config([str(good)])
    assert cfg.CONF.os_vif_ovs.ovsdb_connection == "unix:/tmp/db.sock"
    # A bad value stops the daemon at its start, named.
    bad = tmp_path / "bad.conf"
    bad.write_text("[os_vif_ovs]\nnetwork_device_mtu = big\n")
    with pytest.raises(ValueError, match="network_device_mtu"):
        server.load_config([str(bad)])
    with pytest.raises(ValueError, match="missing.conf"):
        server.load_config([str(tmp_path / "missing.conf")])
