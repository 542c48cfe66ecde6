"""The compiled client and the daemon, driven as a runtime drives a CNI
plugin: environment and stdin in, stdout and the exit status out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from os_vif.cni import ipam, protocol, server, store
from os_vif.cni.protocol import Attachment, Command, ErrorCode
from tests.functional.cni.conftest import CNI_PATH, host_local_missing

pytestmark = [pytest.mark.functional]

VERSION = {"CNI_COMMAND": "VERSION"}


def _needs_host_local():
    reason = host_local_missing()
    if reason:
        pytest.skip(reason)


def test_version_starts_the_daemon_on_demand(fresh_client):
    client = fresh_client
    assert client.daemon_pid() is None
    code, out = client.run(VERSION, '{"cniVersion": "1.1.0"}')
    assert (code, json.loads(out)) == (0, protocol.version_document())
    pid = client.daemon_pid()
    assert pid is not None and os.path.exists("/proc/%d" % pid)
    # Served by the same daemon the second time.
    assert client.run(VERSION, '{"cniVersion": "1.1.0"}')[0] == 0
    assert client.daemon_pid() == pid
    assert oct(os.stat(client.socket).st_mode & 0o777) == "0o600"


def test_no_daemon_and_none_to_start_is_try_again_later(fresh_client):
    client = fresh_client
    code, out = client.run(dict(VERSION, OS_VIF_CNI_DAEMON=""))
    assert code == 1
    err = json.loads(out)
    assert err["code"] == ErrorCode.TRY_AGAIN_LATER
    assert client.socket in err["details"]


def test_errors_come_back_as_the_spec_json_and_status(client):
    code, out = client.run({"CNI_COMMAND": "BOGUS"}, "{}")
    assert code == 1
    assert json.loads(out)["code"] == ErrorCode.INVALID_ENVIRONMENT
    code, out = client.run({"CNI_COMMAND": "DEL", "CNI_CONTAINERID": "c1",
                            "CNI_IFNAME": "eth0", "CNI_PATH": CNI_PATH},
                           "{not json")
    assert (code, json.loads(out)["code"]) == (1, ErrorCode.DECODING_FAILURE)


def test_del_of_an_unknown_attachment_succeeds(client):
    _needs_host_local()
    env = {"CNI_COMMAND": "DEL", "CNI_CONTAINERID": "c1",
           "CNI_IFNAME": "eth0", "CNI_PATH": CNI_PATH}
    assert client.run(env, client.config()) == (0, b"")
    assert client.run(env, client.config()) == (0, b"")


def test_status_says_an_add_can_succeed(client):
    # os_vif initializes and host-local is there (it speaks CNI 1.0, so it
    # is not asked itself).
    _needs_host_local()
    code, out = client.run({"CNI_COMMAND": "STATUS", "CNI_PATH": CNI_PATH},
                           client.config())
    assert (code, out) == (0, b"")
    code, out = client.run({"CNI_COMMAND": "STATUS", "CNI_PATH": CNI_PATH},
                           client.config(ipam={"type": "no-such-ipam"}))
    assert (code, json.loads(out)["code"]) == (1, ErrorCode.NOT_AVAILABLE)


def _leased_records(client, attachments):
    """Records of ADDs that died after leasing (what GC must collect)."""
    records = store.Store(client.state_dir)
    config = json.loads(client.config("gctest"))
    for att in attachments:
        call = protocol.Call(command=Command.ADD,
                             container_id=att.container_id,
                             netns="/run/netns/none", ifname=att.ifname,
                             path=(CNI_PATH,))
        leased = ipam.delegate(Command.ADD, call, config)
        records.write(store.Record(
            network="gctest", container_id=att.container_id,
            ifname=att.ifname, netns=call.netns, cni_version="1.1.0",
            state=store.PENDING, config=config, ipam=leased))
    return records


def _leases(client):
    directory = os.path.join(client.data_dir, "gctest")
    found = {}
    for name in os.listdir(directory):
        if name[0].isdigit():
            with open(os.path.join(directory, name)) as stream:
                found[name] = stream.read().split()[0]
    return found


def test_gc_collects_exactly_the_attachments_not_valid(client):
    _needs_host_local()
    every = [Attachment("c%d" % i, "eth0") for i in range(4)]
    records = _leased_records(client, every)
    assert sorted(_leases(client).values()) == ["c0", "c1", "c2", "c3"]
    valid = [{"containerID": "c1", "ifname": "eth0"},
             {"containerID": "c3", "ifname": "eth0"}]
    env = {"CNI_COMMAND": "GC", "CNI_PATH": CNI_PATH}
    gc_config = client.config("gctest", **{
        "cni.dev/valid-attachments": valid})
    assert client.run(env, gc_config) == (0, b"")
    assert records.attachments("gctest") == [every[1], every[3]]
    assert sorted(_leases(client).values()) == ["c1", "c3"]
    # Again: nothing more to do.
    assert client.run(env, gc_config) == (0, b"")
    assert records.attachments("gctest") == [every[1], every[3]]


def test_concurrent_calls_for_different_containers(client):
    _needs_host_local()
    client.run(VERSION)  # the daemon is up
    results = {}

    def call(i):
        results[i] = client.run(
            {"CNI_COMMAND": "DEL", "CNI_CONTAINERID": "c%d" % i,
             "CNI_IFNAME": "eth0", "CNI_PATH": CNI_PATH}, client.config())

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == {i: (0, b"") for i in range(8)}


def test_a_second_daemon_on_the_same_socket_exits(client):
    client.run(VERSION)
    proc = subprocess.run(
        [sys.executable, "-m", "os_vif.cni.server", "--socket",
         client.socket, "--state-dir", client.state_dir],
        capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0
    assert "another daemon serves" in proc.stderr
    assert client.run(VERSION)[0] == 0


def test_the_in_process_plugin_answers_the_same(client):
    proc = subprocess.run(
        [sys.executable, "-m", "os_vif.cni.main"], input=b"{}",
        capture_output=True, timeout=60, check=False,
        env={"CNI_COMMAND": "VERSION",
             "OS_VIF_CNI_STATE_DIR": client.state_dir})
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == protocol.version_document()


def test_the_daemon_refuses_a_malformed_request(client):
    import socket
    client.run(VERSION)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(client.socket)
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(100) == b""
    assert client.run(VERSION)[0] == 0
    # A well-formed request from Python gets the same answer as the client.
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(client.socket)
        sock.sendall(server.encode_request(VERSION, b"{}"))
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    status, _, out = data.partition(b"\n")
    assert status == b"0"
    assert json.loads(out) == protocol.version_document()


def test_systemd_socket_activation(fresh_client):
    # As systemd does: the socket is bound and listening before the daemon
    # starts, handed over as fd 3 with LISTEN_PID and LISTEN_FDS.
    import socket
    client = fresh_client
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(client.socket)
    listener.listen(16)
    fd = listener.fileno()

    def as_fd_3():
        os.dup2(fd, 3)

    proc = subprocess.Popen(
        ["/bin/sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" -m '
         'os_vif.cni.server --state-dir "$1"', sys.executable,
         client.state_dir],
        # 3 kept too: the child closes what pass_fds lacks after
        # preexec_fn has run.
        pass_fds=(fd, 3), preexec_fn=as_fd_3, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, env=dict(os.environ,
                                         OS_VIF_CNI_SOCKET="/nonexistent"))
    listener.close()
    try:
        # No daemon to start: the answer can only come from the activated
        # one (which serves the socket it was given, not its --socket).
        code, out = client.run(dict(VERSION, OS_VIF_CNI_DAEMON=""))
        assert (code, json.loads(out)) == (0, protocol.version_document()), (
            out, proc.poll() is not None and proc.communicate()[1][-800:])
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    # The socket is systemd's: the daemon leaves it in place.
    assert os.path.exists(client.socket)


def test_a_daemon_that_hangs_up_is_an_io_error(fresh_client):
    # Something listens but closes without an answer (a daemon dying
    # mid-call): the client says so in the spec's JSON.
    import socket
    client = fresh_client
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(client.socket)
    listener.listen(1)

    def hang_up():
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.close()

    thread = threading.Thread(target=hang_up)
    thread.start()
    try:
        code, out = client.run(dict(VERSION, OS_VIF_CNI_DAEMON=""))
    finally:
        thread.join(30)
        listener.close()
    assert code == 1
    assert json.loads(out)["code"] == ErrorCode.IO_FAILURE


def test_a_socket_path_too_long_is_named(fresh_client):
    code, out = fresh_client.run(dict(
        VERSION, OS_VIF_CNI_SOCKET="/tmp/" + "x" * 200))
    assert code == 1
    err = json.loads(out)
    assert err["code"] == ErrorCode.INVALID_ENVIRONMENT
    assert "OS_VIF_CNI_SOCKET" in err["msg"]


def test_a_call_in_flight_finishes_when_the_daemon_is_stopped(fresh_client):
    import signal
    import time
    client = fresh_client
    plugin_dir = os.path.join(client.root, "bin")
    os.makedirs(plugin_dir)
    slow = os.path.join(plugin_dir, "slow-ipam")
    with open(slow, "w") as stream:
        stream.write("#!/bin/sh\n"
                     "if [ \"$CNI_COMMAND\" = VERSION ]; then\n"
                     "  echo '{\"cniVersion\":\"1.0.0\","
                     "\"supportedVersions\":[\"1.0.0\"]}'; exit 0\n"
                     "fi\n"
                     "touch \"$0.started\"; sleep 1\n")
    os.chmod(slow, 0o755)
    assert client.run(VERSION)[0] == 0
    pid = client.daemon_pid()
    result = {}

    def call():
        result["del"] = client.run(
            {"CNI_COMMAND": "DEL", "CNI_CONTAINERID": "c1",
             "CNI_IFNAME": "eth0", "CNI_PATH": plugin_dir},
            client.config("slownet", ipam={"type": "slow-ipam"}))

    thread = threading.Thread(target=call)
    thread.start()
    deadline = time.monotonic() + 30
    while not os.path.exists(slow + ".started"):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(pid, signal.SIGTERM)
    thread.join(30)
    assert result["del"] == (0, b""), result["del"][1].decode()
    deadline = time.monotonic() + 10
    while client.daemon_running():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_an_idle_daemon_exits_and_the_next_call_starts_one(fresh_client):
    import time
    client = fresh_client
    client.env["OS_VIF_CNI_IDLE_TIMEOUT"] = "0.5"
    assert client.run(VERSION)[0] == 0
    first = client.daemon_pid()
    deadline = time.monotonic() + 15
    while client.daemon_running():
        assert time.monotonic() < deadline, "the idle daemon did not exit"
        time.sleep(0.05)
    assert client.run(VERSION)[0] == 0
    assert client.daemon_pid() not in (None, first)
