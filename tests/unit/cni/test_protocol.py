"""The CNI protocol module against the spec's own examples."""

from __future__ import annotations

import json

import pytest

from os_vif.cni import protocol
from os_vif.cni.protocol import CniError, Command, ErrorCode

# The spec's (1.1) example of an ADD result.
SPEC_RESULT = {
    "cniVersion": "1.1.0",
    "interfaces": [
        {"name": "cni0", "mac": "00:11:22:33:44:55"},
        {"name": "veth3243", "mac": "55:44:33:22:11:11"},
        {"name": "eth0", "mac": "99:88:77:66:55:44",
         "sandbox": "/var/run/netns/blue"},
    ],
    "ips": [{"address": "10.1.0.5/16", "gateway": "10.1.0.1",
             "interface": 2}],
    "routes": [{"dst": "0.0.0.0/0"}],
    "dns": {"nameservers": ["10.1.0.1"]},
}

# The spec's example configuration, as the runtime hands it to one plugin.
SPEC_CONFIG = {
    "cniVersion": "1.1.0",
    "name": "dbnet",
    "type": "bridge",
    "bridge": "cni0",
    "keyA": ["some more", "plugin specific", "configuration"],
    "ipam": {
        "type": "host-local",
        "subnet": "10.1.0.0/16",
        "gateway": "10.1.0.1",
        "routes": [{"dst": "0.0.0.0/0"}],
    },
    "dns": {"nameservers": ["10.1.0.1"]},
}

ADD_ENV = {
    "CNI_COMMAND": "ADD",
    "CNI_CONTAINERID": "abc123",
    "CNI_NETNS": "/var/run/netns/blue",
    "CNI_IFNAME": "eth0",
    "CNI_PATH": "/usr/lib/cni:/opt/cni/bin",
    "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAME=web",
}


def test_the_spec_result_reads_and_writes_back_unchanged():
    result = protocol.Result.parse(SPEC_RESULT)
    assert result.ips[0].interface == 2
    assert result.interfaces[2].sandbox == "/var/run/netns/blue"
    assert result.document("1.1.0") == SPEC_RESULT


def test_a_0_4_0_result_has_the_ip_version_and_no_1_1_fields():
    result = protocol.Result(
        interfaces=(protocol.Interface("eth0", "aa:bb:cc:dd:ee:ff", 1400,
                                       "/run/netns/x"),),
        ips=(protocol.IPConfig("fd00::5/64", "fd00::1", 0),),
        routes=(protocol.Route("::/0", "fd00::1", mtu=1400),))
    doc = result.document("0.4.0")
    assert doc["ips"] == [{"address": "fd00::5/64", "version": "6",
                           "gateway": "fd00::1", "interface": 0}]
    assert "mtu" not in doc["interfaces"][0]
    assert doc["routes"] == [{"dst": "::/0", "gw": "fd00::1"}]
    assert result.document("1.1.0")["routes"][0]["mtu"] == 1400
    # 0.4.0 results (with "version") read back the same.
    assert protocol.Result.parse(doc).ips == result.ips


def test_a_result_pointing_at_a_missing_interface_is_refused():
    bad = dict(SPEC_RESULT, ips=[{"address": "10.1.0.5/16",
                                  "interface": 3}])
    with pytest.raises(CniError) as err:
        protocol.Result.parse(bad)
    assert err.value.code == ErrorCode.DECODING_FAILURE
    assert "ips[0].interface" in err.value.msg


def test_a_bad_address_names_its_place():
    bad = dict(SPEC_RESULT, ips=[{"address": "10.1.0.300/16"}])
    with pytest.raises(CniError, match=r"ips\[0\]\.address") as err:
        protocol.Result.parse(bad)
    assert err.value.code == ErrorCode.DECODING_FAILURE


def test_the_spec_configuration_parses():
    conf = protocol.NetConf.parse(json.dumps(SPEC_CONFIG))
    assert conf.name == "dbnet"
    assert conf.type == "bridge"
    assert conf.ipam is not None and conf.ipam["type"] == "host-local"
    assert conf.prev_result is None
    assert conf.raw["keyA"] == SPEC_CONFIG["keyA"]


def test_check_reads_the_prev_result():
    conf = protocol.NetConf.parse(
        dict(SPEC_CONFIG, prevResult=SPEC_RESULT), Command.CHECK)
    assert conf.prev_result == protocol.Result.parse(SPEC_RESULT)
    assert "prevResult" not in conf.without_prev_result()


def test_gc_reads_the_valid_attachments():
    conf = protocol.NetConf.parse(dict(
        SPEC_CONFIG, **{"cni.dev/valid-attachments": [
            {"containerID": "abc", "ifname": "eth0"},
            {"containerID": "def", "ifname": "net1"}]}), Command.GC)
    assert conf.valid_attachments == (
        protocol.Attachment("abc", "eth0"), protocol.Attachment("def", "net1"))


def test_gc_without_valid_attachments_is_refused():
    with pytest.raises(CniError, match="valid-attachments") as err:
        protocol.NetConf.parse(SPEC_CONFIG, Command.GC)
    assert err.value.code == ErrorCode.INVALID_CONFIG


def test_a_bad_valid_attachment_names_its_place():
    with pytest.raises(CniError, match=r"valid-attachments\[0\].ifname"):
        protocol.NetConf.parse(dict(
            SPEC_CONFIG, **{"cni.dev/valid-attachments": [
                {"containerID": "abc", "ifname": "a/b"}]}), Command.GC)


@pytest.mark.parametrize("version", ["0.3.1", "2.0.0", "1.2.0"])
def test_unsupported_versions_get_error_1(version):
    with pytest.raises(CniError) as err:
        protocol.NetConf.parse(dict(SPEC_CONFIG, cniVersion=version))
    assert err.value.code == ErrorCode.INCOMPATIBLE_VERSION
    assert version in err.value.details


@pytest.mark.parametrize("command", [Command.GC, Command.STATUS])
def test_1_1_commands_need_a_1_1_configuration(command):
    conf = dict(SPEC_CONFIG, cniVersion="1.0.0")
    conf["cni.dev/valid-attachments"] = []
    with pytest.raises(CniError, match="1.1.0") as err:
        protocol.NetConf.parse(conf, command)
    assert err.value.code == ErrorCode.INCOMPATIBLE_VERSION


@pytest.mark.parametrize("text", ["{", "[]", '"x"'])
def test_stdin_that_is_no_json_object_is_a_decoding_error(text):
    with pytest.raises(CniError) as err:
        protocol.NetConf.parse(text)
    assert err.value.code == ErrorCode.DECODING_FAILURE


@pytest.mark.parametrize("version", [None, "1.1", 110])
def test_a_malformed_version_is_a_decoding_error(version):
    with pytest.raises(CniError) as err:
        protocol.NetConf.parse(dict(SPEC_CONFIG, cniVersion=version))
    assert err.value.code == ErrorCode.DECODING_FAILURE


@pytest.mark.parametrize("key,value", [("name", ""), ("name", "a b"),
                                       ("type", None)])
def test_a_bad_name_or_type_is_an_invalid_config(key, value):
    with pytest.raises(CniError, match=key) as err:
        protocol.NetConf.parse(dict(SPEC_CONFIG, **{key: value}))
    assert err.value.code == ErrorCode.INVALID_CONFIG


def test_ipam_without_type_is_an_invalid_config():
    with pytest.raises(CniError, match="ipam.type") as err:
        protocol.NetConf.parse(dict(SPEC_CONFIG, ipam={"subnet": "x"}))
    assert err.value.code == ErrorCode.INVALID_CONFIG


def test_the_environment_of_an_add():
    call = protocol.Call.from_environ(ADD_ENV)
    assert call.command is Command.ADD
    assert call.container_id == "abc123"
    assert call.path == ("/usr/lib/cni", "/opt/cni/bin")
    assert call.args == {"IgnoreUnknown": "1", "K8S_POD_NAME": "web"}
    assert call.environ() == ADD_ENV
    assert call.environ(CNI_COMMAND="DEL")["CNI_COMMAND"] == "DEL"


@pytest.mark.parametrize("missing", ["CNI_CONTAINERID", "CNI_NETNS",
                                     "CNI_IFNAME", "CNI_PATH"])
def test_add_needs_its_variables(missing):
    env = {k: v for k, v in ADD_ENV.items() if k != missing}
    with pytest.raises(CniError, match=missing) as err:
        protocol.Call.from_environ(env)
    assert err.value.code == ErrorCode.INVALID_ENVIRONMENT


def test_del_needs_no_namespace_and_version_nothing():
    env = dict(ADD_ENV, CNI_COMMAND="DEL")
    del env["CNI_NETNS"]
    assert protocol.Call.from_environ(env).netns == ""
    assert protocol.Call.from_environ(
        {"CNI_COMMAND": "VERSION"}).command is Command.VERSION


@pytest.mark.parametrize("env,field", [
    ({"CNI_COMMAND": "add"}, "CNI_COMMAND"),
    ({}, "CNI_COMMAND"),
    (dict(ADD_ENV, CNI_CONTAINERID="-x"), "CNI_CONTAINERID"),
    (dict(ADD_ENV, CNI_IFNAME="a" * 16), "CNI_IFNAME"),
    (dict(ADD_ENV, CNI_IFNAME=".."), "CNI_IFNAME"),
    (dict(ADD_ENV, CNI_IFNAME="eth 0"), "CNI_IFNAME"),
    (dict(ADD_ENV, CNI_ARGS="a=1;b"), "CNI_ARGS"),
])
def test_a_bad_environment_is_error_4_naming_the_variable(env, field):
    with pytest.raises(CniError) as err:
        protocol.Call.from_environ(env)
    assert err.value.code == ErrorCode.INVALID_ENVIRONMENT
    assert field in err.value.details


def test_an_error_is_the_spec_json():
    err = CniError(7, "Invalid Configuration",
                   "Network 192.168.0.0/31 too small to allocate from.")
    assert json.loads(err.to_json()) == {
        "cniVersion": "1.1.0", "code": 7, "msg": "Invalid Configuration",
        "details": "Network 192.168.0.0/31 too small to allocate from."}
    assert "details" not in CniError(11, "busy").document("1.0.0")


def test_version_lists_1_1_1_0_and_0_4():
    doc = protocol.version_document()
    assert doc["cniVersion"] == "1.1.0"
    assert {"1.1.0", "1.0.0", "0.4.0"} <= set(doc["supportedVersions"])
