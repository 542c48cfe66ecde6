"""The twin hosts of the differential suite and the workers that act there.

A :class:`Host` is a network namespace with its own private Open vSwitch
(:class:`os_vif.sandbox.ovs.OvsServer`), kept for the whole session and
emptied between scenarios (:meth:`Host.reset`).  Its :class:`Worker`\\ s are
``tools/oracle_worker.py --session`` processes running in the namespace:
one under os-vif 5.3.0's virtualenv python, one (on the subject host)
under this project's python with this checkout's os_vif.  Each keeps its
privsep daemon, started in the namespace on its first privileged call,
for the whole session.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

from pyroute2 import NetNS

from os_vif.sandbox import ovs as ovs_server
from tests.functional.differential import scenarios

__all__ = ["PERMANENT_LINKS", "Host", "Worker", "WorkerError"]

WORKER = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "tools", "oracle_worker.py"
)
#: Links that belong to the namespace and the userspace datapath.
PERMANENT_LINKS = frozenset({"lo", "ovs-netdev"})


class WorkerError(AssertionError):
    """A worker died, timed out or could not serve a request."""


class Worker:
    """One ``oracle_worker.py --session`` process in a namespace."""

    def __init__(
        self, python: str, netns: str, log_path: str, checkout: bool
    ) -> None:
        self.log_path = log_path
        # Nothing of this process's environment may lead the worker to
        # another os_vif than the one it is meant to run.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTHON", "VIRTUAL_ENV"))
        }
        argv = ["ip", "netns", "exec", netns, python, "-P", "-s",
                os.path.abspath(WORKER), "--session"]
        if checkout:
            argv.append("--checkout")
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
        )
        self._buffer = b""

    def _log_tail(self) -> str:
        try:
            with open(self.log_path, "rb") as log:
                return log.read()[-4000:].decode(errors="replace")
        except OSError:
            return ""

    def ask(self, request: Mapping[str, Any], timeout: float = 90) -> Any:
        """Send one request; return its answer (a ``fatal`` one raises)."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
        except BrokenPipeError as err:
            raise WorkerError(
                "the worker is gone:\n" + self._log_tail()
            ) from err
        deadline = time.monotonic() + timeout
        fd = self.process.stdout.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    raise WorkerError(
                        "no answer to %s in %ds:\n%s"
                        % (request.get("op"), timeout, self._log_tail())
                    )
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise WorkerError(
                        "the worker exited (%s):\n%s"
                        % (self.process.poll(), self._log_tail())
                    )
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        answer = json.loads(line)
        if isinstance(answer, dict) and "fatal" in answer:
            raise WorkerError(
                "%s failed: %s\n%s"
                % (request.get("op"), answer["fatal"],
                   answer.get("traceback", ""))
            )
        return answer

    def close(self) -> None:
        """End the worker (its stdin closes; it exits) and its log."""
        if self.process.stdin is not None:
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()


class Host:
    """A namespace, its private Open vSwitch and its workers by actor."""

    def __init__(
        self,
        label: str,
        netns: str,
        workdir: str,
        pythons: Mapping[str, tuple[str, bool]],
    ) -> None:
        self.label = label
        self.netns = netns
        self.workdir = workdir
        self.ovs = ovs_server.OvsServer(os.path.join(workdir, "ovs"), netns)
        self._pythons = dict(pythons)
        self.workers: dict[str, Worker] = {}
        self.options: dict[str, Any] = {}

    def start(self) -> None:
        """Make the namespace and start the switch and the workers."""
        subprocess.run(["ip", "netns", "add", self.netns], check=True)
        self._ip("link", "set", "lo", "up")
        self.ovs.start()
        for actor, (python, checkout) in self._pythons.items():
            worker = Worker(
                python,
                self.netns,
                os.path.join(self.workdir, "worker-%s.log" % actor),
                checkout,
            )
            self.workers[actor] = worker
            worker.ask(
                {"op": "configure", "ovsdb_connection": self.ovs.connection}
            )

    def stop(self) -> None:
        """Stop the workers and the switch; delete the namespace."""
        for worker in self.workers.values():
            worker.close()
        self.workers.clear()
        self.ovs.stop()
        subprocess.run(["ip", "netns", "delete", self.netns], check=False)

    def _ip(self, *args: str) -> None:
        result = subprocess.run(
            ["ip", "-n", self.netns, *args],
            capture_output=True, text=True, check=False,
        )
        if result.returncode:
            raise WorkerError(
                "ip %s: %s" % (" ".join(args), result.stderr.strip())
            )

    # -- between scenarios ---------------------------------------------

    def reset(self) -> None:
        """Empty the host: no bridge, QoS row or link but the permanent."""
        self.ovs.ensure_running()
        self.ovs.delete_bridges()
        self.ovs.vsctl(
            "--", "--all", "destroy", "QoS", "--", "--all", "destroy", "Queue"
        )
        with NetNS(self.netns) as ipr:
            for link in ipr.get_links():
                if link.get("ifname") in PERMANENT_LINKS:
                    continue
                try:
                    ipr.link("del", index=link["index"])
                except Exception:  # noqa: BLE001 - a veth's peer went first
                    continue

    def configure(self, options: Mapping[str, Any]) -> None:
        """Give every worker the scenario's ``[os_vif_ovs]`` options.

        Options the scenario leaves out go back to their defaults.
        """
        wanted = {name: options.get(name) for name in
                  set(options) | set(self.options)}
        for worker in self.workers.values():
            worker.ask({"op": "configure",
                        "options": {"os_vif_ovs": wanted}})
        self.options = dict(options)

    # -- acting ------------------------------------------------------------

    def make(self, device: scenarios.Device) -> None:
        """Make ``device`` as the hypervisor or an agent would."""
        if device.kind == "ovs-bridge":
            self.ovs.vsctl(
                "--may-exist", "add-br", device.name, "--", "set", "Bridge",
                device.name, "datapath_type=%s" % (device.datapath_type or ""),
            )
            return
        if device.kind == "tap":
            self._ip("tuntap", "add", "dev", device.name, "mode", "tap",
                     "vnet_hdr")
        elif device.kind == "veth":
            assert device.peer is not None
            self._ip("link", "add", device.name, "type", "veth", "peer",
                     "name", device.peer)
            self._ip("link", "set", device.peer, "up")
        else:  # pragma: no cover - a scenario typo
            raise ValueError("unknown device kind %r" % device.kind)
        if device.address:
            self._ip("link", "set", device.name, "address", device.address)
        if device.mtu:
            self._ip("link", "set", device.name, "mtu", str(device.mtu))
        if device.master:
            self._ip("link", "set", device.name, "master", device.master)
        self._ip("link", "set", device.name, "up")

    def call(
        self, actor: str, op: str, vifs: Sequence[Any], instance: Any
    ) -> list[dict[str, Any]]:
        """``op`` (plug/unplug) ``vifs`` with ``actor``'s os_vif."""
        answer = self.workers[actor].ask(
            {
                "op": op,
                "vifs": [vif.obj_to_primitive() for vif in vifs],
                # Only the fields set: neutron's agent gives a uuid only.
                "instance": {
                    name: getattr(instance, name)
                    for name in ("uuid", "name", "project_id")
                    if instance.obj_attr_is_set(name)
                },
            }
        )
        results: list[dict[str, Any]] = answer["results"]
        return results

    def dump(self) -> dict[str, Any]:
        """The host as ``tools/host_dump.py`` sees it (raw)."""
        # Any worker sees the same namespace and database.
        worker = next(iter(self.workers.values()))
        dumped: dict[str, Any] = worker.ask({"op": "dump"})
        return dumped


def python_of_checkout() -> str:
    """The python that runs this checkout's os_vif (this one)."""
    return sys.executable
