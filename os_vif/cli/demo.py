"""``os-vif demo``: plug real VIFs into a throwaway network namespace.

The demo makes a network namespace, moves into it (the privsep daemons
start inside it, so the host's own interfaces are never touched), plugs a
``VIFBridge`` through the ``linux_bridge`` plugin and, when Open vSwitch is
installed, a ``VIFOpenVSwitch`` and a hybrid ``VIFBridge`` through the
``ovs`` plugin into a private ovsdb-server/ovs-vswitchd.  After each plug it
prints what the kernel and OVSDB hold, then unplugs, checks that nothing is
left, and finally deletes the namespace.

Interrupted at any moment (SIGINT, SIGTERM, SIGHUP), it still deletes the
namespace, stops its Open vSwitch and removes the temporary directory,
says so in one line and exits with 128 + the signal's number (130, 143,
129).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from oslo_config import cfg
from pyroute2 import IPRoute

import os_vif
from os_vif.cli import CommandError
from os_vif.objects import instance_info, vif
from os_vif.sandbox import interrupts, vifs

__all__ = ["SUMMARY", "add_arguments", "run"]

Printer = Callable[[str], None]

INSTANCE = instance_info.InstanceInfo(
    uuid="a3a5f1c4-7b1e-4a0e-9d76-5b6ad9cf6a21",
    name="os-vif-demo",
    project_id="demo",
)


#: What ``os-vif --help`` says of the subcommand.
SUMMARY = "plug real VIFs into a throwaway network namespace"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``demo``."""
    parser.add_argument(
        "--no-ovs",
        action="store_true",
        help="skip the Open vSwitch part even when OVS is installed",
    )


@contextmanager
def _privsep_quiet_when_interrupted() -> Iterator[None]:
    """Keep privsep's complaints about a vanished peer off the screen.

    Once a signal has arrived, the daemons are stopped mid-conversation
    (or were killed by the same signal, sent to the terminal's process
    group); oslo.privsep then logs broken pipes and lost connections,
    which say nothing the "interrupted" line does not.
    """

    def keep(record: logging.LogRecord) -> bool:
        return interrupts.received() is None or not (
            record.name.startswith(("oslo_privsep", "oslo.privsep"))
        )

    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(keep)
    try:
        yield
    finally:
        # After a signal the daemons' reader threads can still relay a
        # record while the process winds down: the filter stays until exit.
        if interrupts.received() is None:
            for handler in handlers:
                handler.removeFilter(keep)


def _reap_children(timeout: float = 5.0) -> None:
    """Wait for the demo's child processes, then end those still there.

    A privsep daemon that the signal caught while it was starting has not
    reached its client's socket yet; it exits by itself once it finds the
    socket closed, and the demo does not leave before it has.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # no child left
        if pid:
            continue
        if time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == os.getpid():
            try:
                os.kill(int(entry), signal.SIGKILL)
                os.waitpid(int(entry), 0)
            except (ProcessLookupError, ChildProcessError):
                pass


def _port_id() -> str:
    return str(uuid.uuid4())


def _describe_links(ipr: IPRoute, names: list[str], say: Printer) -> None:
    """Print what the kernel says about the named devices."""
    index_to_name = {
        link["index"]: link.get_attr("IFLA_IFNAME") for link in ipr.get_links()
    }
    for name in names:
        found = ipr.link_lookup(ifname=name)
        if not found:
            say("    %-16s (absent)" % name)
            continue
        link = ipr.get_links(found[0])[0]
        info = link.get_attr("IFLA_LINKINFO")
        kind = info.get_attr("IFLA_INFO_KIND") if info else "device"
        master = index_to_name.get(link.get_attr("IFLA_MASTER"), "-")
        state = "up" if link["flags"] & 1 else "down"
        ipv6 = _ipv6_disabled(name)
        say(
            "    %-16s %-7s mtu %-5s %-4s mac %s master %s%s"
            % (
                name,
                kind or "device",
                link.get_attr("IFLA_MTU"),
                state,
                link.get_attr("IFLA_ADDRESS"),
                master,
                ", IPv6 off" if ipv6 else "",
            )
        )


def _ipv6_disabled(name: str) -> bool:
    try:
        with open("/proc/sys/net/ipv6/conf/%s/disable_ipv6" % name) as f:
            return f.read().strip() == "1"
    except OSError:
        return False


def _plug_and_show(
    label: str,
    port: vif.VIFBase,
    devices: list[str],
    say: Printer,
    extra: Callable[[], None] | None = None,
) -> None:
    say("")
    say("== %s" % label)
    started = time.perf_counter()
    os_vif.plug(port, INSTANCE)
    plug_ms = (time.perf_counter() - started) * 1000
    say(
        "  plugged %s %s in %.1f ms; the kernel has:"
        % (port.obj_name(), port.id, plug_ms)
    )
    # pyroute2 runs an asyncio loop per call: one cut by a signal leaves
    # a socket whose closing fails noisily later, so reads are shielded.
    with interrupts.shielded(), IPRoute() as ipr:
        _describe_links(ipr, devices, say)
    if extra is not None:
        extra()
    started = time.perf_counter()
    os_vif.plug(port, INSTANCE)
    say(
        "  plugged again in %.1f ms: nothing to change (plug is idempotent)"
        % ((time.perf_counter() - started) * 1000)
    )
    os_vif.unplug(port, INSTANCE)
    os_vif.unplug(port, INSTANCE)
    with interrupts.shielded(), IPRoute() as ipr:
        left = [name for name in devices if ipr.link_lookup(ifname=name)]
    if left:
        raise CommandError("unplug left %s behind" % ", ".join(left))
    say("  unplugged (twice): %s gone" % ", ".join(devices))


@contextmanager
def _option(name: str, value: Any, group: str) -> Iterator[None]:
    """Override an option for the block (the demo may run in-process)."""
    cfg.CONF.set_override(name, value, group=group)
    try:
        yield
    finally:
        cfg.CONF.clear_override(name, group=group)


def _linux_bridge_scene(say: Printer) -> None:
    port = vifs.bridge_vif(
        bridge="brdemo",
        tap="tapdemo0",
        mtu=1450,
        filtering=True,
        vid=_port_id(),
        address="fa:16:3e:11:22:33",
    )
    with _option("create_tap", True, "os_vif_linux_bridge"):
        _plug_and_show(
            "linux_bridge: VIFBridge", port, ["brdemo", "tapdemo0"], say
        )


@contextmanager
def _private_ovs(say: Printer) -> Iterator[Any]:
    from os_vif.sandbox import ovs as ovs_sandbox

    with contextlib.ExitStack() as cleanup:
        # Made and registered for removal in one step, whatever signal
        # comes (see os_vif.sandbox.interrupts).
        with interrupts.shielded():
            workdir = tempfile.mkdtemp(prefix="os-vif-demo-ovs-")
            cleanup.callback(
                interrupts.call_shielded,
                shutil.rmtree,
                workdir,
                ignore_errors=True,
            )
        server = ovs_sandbox.OvsServer(workdir)
        cleanup.callback(server.stop)
        server.start()
        say("")
        say("== private Open vSwitch started in %s" % workdir)
        with _option("ovsdb_connection", server.connection, "os_vif_ovs"):
            yield server


def _ovs_scenes(say: Printer) -> None:
    with _private_ovs(say) as server:

        def show_ovsdb() -> None:
            say("  OVSDB has:")
            for line in server.vsctl(
                "--format=table",
                "--columns=name,type,mtu_request,external_ids",
                "list",
                "Interface",
            ).splitlines():
                say("    " + line)

        port_id = _port_id()
        ovs_port = vifs.ovs_vif(bridge="brint", mtu=1400, vid=port_id)
        ovs_port.address = "fa:16:3e:44:55:66"
        ovs_port.vif_name = "tapdemo1"
        _plug_and_show(
            "ovs: VIFOpenVSwitch (create_port, create_tap)",
            ovs_port,
            ["tapdemo1"],
            say,
            show_ovsdb,
        )

        hybrid_id = _port_id()
        hybrid = vifs.hybrid_vif(
            bridge="brint", mtu=1400, vid=hybrid_id, filtering=False
        )
        hybrid.address = "fa:16:3e:77:88:99"
        _plug_and_show(
            "ovs: hybrid VIFBridge (qbr, qvb/qvo veth pair)",
            hybrid,
            vifs.hybrid_devices(hybrid),
            say,
            show_ovsdb,
        )


def run(args: argparse.Namespace, say: Printer = print) -> int:
    """Run the demo; return the exit code (128 + N after signal N)."""
    if os.geteuid() != 0:
        raise CommandError(
            "the demo needs root: it creates a network namespace"
        )
    with interrupts.guard(), _privsep_quiet_when_interrupted():
        try:
            return _run(args, say)
        except interrupts.Interrupted as stop:
            signum = stop.signum
        except Exception:
            # An error the signal caused (a child process it killed) is
            # the interruption, not a failure of the demo.
            received = interrupts.received()
            if received is None:
                raise
            signum = received
    _reap_children()
    # One write, so that no other thread's output lands inside the line.
    sys.stderr.write(
        "os-vif demo: interrupted by %s; the namespace, the private Open "
        "vSwitch and the temporary directory are removed\n"
        % signal.Signals(signum).name
    )
    sys.stderr.flush()
    return 128 + signum


def _run(args: argparse.Namespace, say: Printer) -> int:
    from os_vif.sandbox import netns as netns_sandbox
    from os_vif.sandbox import ovs as ovs_sandbox

    os_vif.initialize()
    loaded = {p.plugin_name for p in os_vif.host_info().plugin_info}
    say("os_vif plugins loaded: %s" % ", ".join(sorted(loaded)))
    with netns_sandbox.fresh_netns("os-vif-demo") as sandbox:
        say("throwaway network namespace: %s" % sandbox.name)
        if "linux_bridge" in loaded:
            _linux_bridge_scene(say)
        missing_ovs = ovs_sandbox.missing_reason()
        if args.no_ovs:
            say("\n(Open vSwitch part skipped: --no-ovs)")
        elif missing_ovs or "ovs" not in loaded:
            say(
                "\n(Open vSwitch part skipped: %s)"
                % (missing_ovs or "the ovs plugin is not loaded")
            )
        else:
            _ovs_scenes(say)
    say("")
    say("namespace %s deleted; the host was not touched" % sandbox.name)
    return 0
