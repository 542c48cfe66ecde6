"""The container runtime works here: podman 4.3.1 (the distribution's)
with its CNI backend runs a container from a local root filesystem on a
network of the distribution's reference ``bridge`` plugin.

And the same runtime on os-vif networks (os-vif-cni through its compiled
client and daemon): over a Linux bridge and over a private Open vSwitch,
two containers ping each other and ``podman rm`` leaves nothing.  What
these machines need, found here:

* ``network_backend = "cni"`` -- given in a private containers.conf
  (``CONTAINERS_CONF``), so /etc/containers is never changed; the same
  file points podman at a private CNI configuration directory and uses the
  ``cgroupfs`` cgroup manager and file events (no systemd here);
* ``--runtime runc`` (crun refuses the hybrid cgroup layout);
* explicit ``--ulimit nofile=...`` and ``nproc=...`` no higher than the
  caller's: podman 4.3.1 gives root containers ``nofile=1048576`` unless
  told otherwise, even with ``--ulimit host``, and raising a hard limit
  needs CAP_SYS_RESOURCE, which this sandbox has not;
* ``--rootfs DIR`` with the directory as the first argument after the
  options (podman reads it so): a busybox-static tree, no image pulled;
* ``--cap-add NET_RAW`` for ping.

podman's storage lives in the test's temporary directory (``--root``,
``--runroot``), and podman runs in a fresh network namespace (the
``netns`` fixture), so the bridge it makes goes with the namespace.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

import pytest

from os_vif.cni import store
from tests.functional.cni.conftest import CNI_PATH

pytestmark = [pytest.mark.functional]

SUBNET = "10.95.0.0/24"
GATEWAY = "10.95.0.1"
BUSYBOX = "/bin/busybox"
# Lower than the caller's limits (see the module's docstring).
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


def _missing() -> str | None:
    for tool in ("podman", "runc"):
        if shutil.which(tool) is None:
            return ("%s is missing (tools/setup-env.sh ensure_podman "
                    "installs it from the distribution)" % tool)
    for plugin in ("bridge", "host-local"):
        if not os.access(os.path.join(CNI_PATH, plugin), os.X_OK):
            return "%s/%s is missing (containernetworking-plugins)" % (
                CNI_PATH, plugin)
    if not os.access(BUSYBOX, os.X_OK):
        return "%s is missing (busybox-static)" % BUSYBOX
    return None


class Podman:
    """podman with private storage, configuration and CNI networks."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.rootfs = os.path.join(root, "rootfs")
        self.net_dir = os.path.join(root, "net.d")
        self.ipam_dir = os.path.join(root, "ipam")
        os.makedirs(self.net_dir)
        self.conf = os.path.join(root, "containers.conf")
        self.env = dict(os.environ, CONTAINERS_CONF=self.conf)
        self.set_plugin_dirs([CNI_PATH])
        self._make_rootfs()

    def set_plugin_dirs(self, plugin_dirs: list[str]) -> None:
        """Write the containers.conf, podman looking in ``plugin_dirs``."""
        with open(self.conf, "w") as stream:
            stream.write(
                '[network]\nnetwork_backend = "cni"\n'
                'network_config_dir = "%s"\n'
                'cni_plugin_dirs = [%s]\n'
                '[engine]\ncgroup_manager = "cgroupfs"\n'
                'events_logger = "file"\nruntime = "runc"\n'
                % (self.net_dir, ", ".join(json.dumps(d)
                                          for d in plugin_dirs)))

    def _make_rootfs(self) -> None:
        bin_dir = os.path.join(self.rootfs, "bin")
        os.makedirs(bin_dir)
        for name in ("proc", "sys", "dev", "etc", "tmp", "run"):
            os.makedirs(os.path.join(self.rootfs, name))
        shutil.copy2(BUSYBOX, os.path.join(bin_dir, "busybox"))
        for applet in ("sh", "ip", "ping", "cat"):
            os.symlink("busybox", os.path.join(bin_dir, applet))

    def add_bridge_network(self, name: str, bridge: str) -> None:
        """A conflist of the reference bridge plugin with host-local."""
        conflist = {
            "cniVersion": "1.0.0", "name": name,
            "plugins": [{
                "type": "bridge", "bridge": bridge, "isGateway": True,
                "ipMasq": False,
                "ipam": {"type": "host-local", "dataDir": self.ipam_dir,
                         "ranges": [[{"subnet": SUBNET,
                                      "gateway": GATEWAY}]]},
            }],
        }
        with open(os.path.join(self.net_dir, name + ".conflist"),
                  "w") as stream:
            json.dump(conflist, stream)

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["podman", "--root", os.path.join(self.root, "storage"),
             "--runroot", os.path.join(self.root, "run"),
             "--tmpdir", os.path.join(self.root, "tmp"), *args],
            env=self.env, capture_output=True, text=True, timeout=120,
            check=False)

    def leases(self, network: str) -> list[str]:
        """host-local's leases (files named by address) on ``network``."""
        try:
            names = os.listdir(os.path.join(self.ipam_dir, network))
        except FileNotFoundError:
            return []
        return [n for n in names if n[0].isdigit()]

    def close(self) -> None:
        """Remove every container, then podman's files."""
        self("rm", "--all", "--force")
        # Anything podman left mounted under the directory goes first.
        with open("/proc/self/mounts") as stream:
            mounts = [line.split()[1] for line in stream]
        for point in reversed(mounts):
            if point.startswith(self.root + "/"):
                subprocess.run(["umount", "-l", point], check=False)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def podman(netns):
    reason = _missing()
    if reason:
        pytest.skip(reason)
    handle = Podman(tempfile.mkdtemp(prefix="osvif-podman-"))
    try:
        yield handle
    finally:
        handle.close()


def test_a_container_runs_on_the_reference_bridge_network(podman, netns):
    podman.add_bridge_network("refnet", "refbr0")
    proc = podman(
        "run", "--rm", "--runtime", "runc", *ULIMITS, "--network", "refnet",
        "--cap-add", "NET_RAW", "--rootfs", podman.rootfs,
        "/bin/sh", "-c",
        "ip -4 -o addr show eth0 && ping -c 1 -W 5 %s" % GATEWAY)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The container had an address of the network and reached its gateway
    # (the bridge in this test's namespace).
    assert " inet 10.95.0." in proc.stdout
    assert "1 packets received" in proc.stdout
    assert "refbr0" in netns.link_names()
    # --rm: the container, its veth and its lease are gone.
    assert podman("ps", "--all", "--quiet").stdout.strip() == ""
    assert not [n for n in netns.link_names() if n.startswith("veth")]
    assert podman.leases("refnet") == []


def _os_vif_network(podman, client, name, subnet, **plugin):
    """A conflist of os-vif-cni; podman executes the compiled client,
    which asks the daemon (started here, with the client's environment)."""
    assert client.run({"CNI_COMMAND": "VERSION"})[0] == 0  # daemon up
    with open(os.path.join(podman.net_dir, name + ".conflist"),
              "w") as stream:
        json.dump({
            "cniVersion": "1.0.0", "name": name,
            "plugins": [dict({
                "type": "os-vif-cni", "mtu": 1400,
                "ipam": {"type": "host-local", "dataDir": podman.ipam_dir,
                         "ranges": [[{"subnet": subnet}]],
                         "routes": [{"dst": "0.0.0.0/0"}]},
            }, **plugin)],
        }, stream)
    podman.env.update(client.env)
    podman.set_plugin_dirs([os.path.dirname(client.binary), CNI_PATH])


def _two_containers_ping(podman, network):
    """A container that waits, another that pings it; both removed."""
    proc = podman(
        "run", "--detach", "--name", "waiter", "--runtime", "runc",
        *ULIMITS, "--network", network, "--rootfs", podman.rootfs,
        "/bin/sh", "-c", "sleep 120")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = podman("inspect", "waiter", "--format",
                  '{{(index .NetworkSettings.Networks "%s").IPAddress}}'
                  % network)
    address = proc.stdout.strip()
    assert proc.returncode == 0 and address, proc.stdout + proc.stderr
    proc = podman(
        "run", "--rm", "--runtime", "runc", *ULIMITS, "--network", network,
        "--cap-add", "NET_RAW", "--rootfs", podman.rootfs, "/bin/sh", "-c",
        "ip -o link show eth0 && ping -c 1 -W 5 %s" % address)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "mtu 1400" in proc.stdout
    assert "1 packets received" in proc.stdout
    # No grace period: the waiting shell (pid 1) ignores SIGTERM.
    proc = podman("rm", "--force", "--time", "0", "waiter")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert podman("ps", "--all", "--quiet").stdout.strip() == ""


def test_two_containers_on_an_os_vif_linux_bridge(podman, netns,
                                                  fresh_client):
    client = fresh_client
    _os_vif_network(podman, client, "osvifnet", "10.94.0.0/24",
                    plugin="linux_bridge", bridge="osvifbr0")
    _two_containers_ping(podman, "osvifnet")
    # podman rm left nothing: no device (the bridge is the network's: the
    # plugin may keep it), no lease, no record.
    assert [n for n in netns.link_names()
            if n not in ("lo", "osvifbr0")] == []
    assert podman.leases("osvifnet") == []
    assert store.Store(client.state_dir).attachments("osvifnet") == []


def test_two_containers_on_an_os_vif_open_vswitch(podman, netns,
                                                  fresh_client):
    from os_vif.sandbox import ovs as ovs_server

    reason = ovs_server.missing_reason()
    if reason:
        pytest.skip(reason)
    client = fresh_client
    with ovs_server.OvsServer(os.path.join(podman.root, "ovs"),
                              netns=netns.name) as switch:
        client.use_config("[os_vif_ovs]\novsdb_connection = %s\n"
                          % switch.connection)
        _os_vif_network(podman, client, "osvifovs", "10.92.0.0/24",
                        plugin="ovs", bridge="br-int",
                        options={"datapathType": "netdev"})
        _two_containers_ping(podman, "osvifovs")
        assert switch.vsctl("list-ports", "br-int").split() == []
    assert [n for n in netns.link_names()
            if n.startswith(("tap", "veth"))] == []
    assert podman.leases("osvifovs") == []
    assert store.Store(client.state_dir).attachments("osvifovs") == []
