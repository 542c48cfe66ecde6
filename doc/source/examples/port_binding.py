"""Port binding negotiation over oslo.messaging, with os_vif objects.

A worked example (see :doc:`/user/serialization`, "Over RPC"), runnable
as it is and used by os_vif's functional tests on a real RabbitMQ:

* the **compute** side serves three RPC methods on the topic
  :data:`TOPIC`, one server per host: ``host_info()`` answers what
  :func:`os_vif.host_info` reports; ``plug(vif, instance_info)`` and
  ``unplug(vif, instance_info)`` call :func:`os_vif.plug` and
  :func:`os_vif.unplug`;
* the **controller** side asks a host for its
  :class:`~os_vif.objects.host_info.HostInfo`, picks, among the VIFs it
  could build for the port (say an Open vSwitch one and a Linux bridge
  one), the first the host can plug, at the versions both sides know
  (:func:`os_vif.serialization.negotiate`), and sends it.

Both sides use :class:`os_vif.serialization.RPCSerializer`; the
controller remembers each host's ``HostInfo`` under the host's name, and
talks to each host through a client whose serializer is
``for_peer(host)``, so that what it sends is what that host reads.

Run a compute host and bind a port on it::

    python port_binding.py compute --url rabbit://guest:guest@127.0.0.1:5672 \\
        --host compute-1
    python port_binding.py controller --url rabbit://... --host compute-1 \\
        --bridge br-example --tap tap-example
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import oslo_messaging
from oslo_config import cfg

import os_vif
from os_vif import exception, serialization
from os_vif.objects import host_info as host_info_objects
from os_vif.objects import instance_info as instance_info_objects
from os_vif.objects import network as network_objects
from os_vif.objects import vif as vif_objects

#: The RPC topic compute hosts listen on (one server per host name).
TOPIC = "os_vif_port_binding"
#: The version of the RPC interface below.
API_VERSION = "1.0"

#: Why a host cannot take a VIF: the exceptions negotiate raises.
NOT_FOR_THIS_HOST = (
    exception.NoMatchingPlugin,
    exception.NoMatchingVIFClass,
    exception.NoSupportedVIFVersion,
    exception.NoMatchingPortProfileClass,
    exception.NoSupportedPortProfileVersion,
)


def transport(url: str) -> Any:
    """The oslo.messaging RPC transport for ``url`` (``rabbit://...``)."""
    return oslo_messaging.get_rpc_transport(cfg.CONF, url=url)


# ---------------------------------------------------------------------------
# Compute side


@contextlib.contextmanager
def _sendable_errors() -> Iterator[None]:
    """Let an os_vif error reach the caller over RPC.

    oslo.messaging sends an exception's ``kwargs`` as JSON; PlugException
    and UnplugException carry the VIF object there, which would make the
    reply fail (the caller would time out).  The same class goes back with
    its message only; a caller whose transport allows ``os_vif.exception``
    (``allowed_remote_exmods``) gets it as that class.
    """
    try:
        yield
    except exception.ExceptionBase as err:
        raise type(err)(err.format_message()) from None


class ComputeEndpoint:
    """The RPC methods a compute host serves."""

    target = oslo_messaging.Target(namespace="os_vif", version=API_VERSION)

    def __init__(self, host_info: host_info_objects.HostInfo | None = None):
        # What this host plugs: os_vif.host_info() once os_vif is
        # initialised (a fixed HostInfo may be given instead).
        self._host_info = host_info

    def host_info(self, ctxt: Any) -> host_info_objects.HostInfo:
        """What this host can plug: plugins, VIF types, port profiles."""
        if self._host_info is None:
            self._host_info = os_vif.host_info()
        return self._host_info

    def plug(
        self,
        ctxt: Any,
        vif: vif_objects.VIFBase,
        instance_info: instance_info_objects.InstanceInfo,
    ) -> str:
        """Plug ``vif`` here; returns the VIF's id."""
        with _sendable_errors():
            os_vif.plug(vif, instance_info)
        return vif.id

    def unplug(
        self,
        ctxt: Any,
        vif: vif_objects.VIFBase,
        instance_info: instance_info_objects.InstanceInfo,
    ) -> str:
        """Unplug ``vif`` here; returns the VIF's id."""
        with _sendable_errors():
            os_vif.unplug(vif, instance_info)
        return vif.id


def compute_server(
    rpc_transport: Any, host: str, endpoint: ComputeEndpoint | None = None
) -> Any:
    """An RPC server for ``host`` (started by the caller, ``.start()``).

    Its serializer writes current versions: the controller negotiated what
    it sends, and reads whatever os_vif version it runs.
    """
    return oslo_messaging.get_rpc_server(
        rpc_transport,
        oslo_messaging.Target(topic=TOPIC, server=host),
        [endpoint or ComputeEndpoint()],
        serializer=serialization.RPCSerializer(),
    )


# ---------------------------------------------------------------------------
# Controller side


class Controller:
    """Binds ports on compute hosts, talking to each in its own versions."""

    def __init__(self, rpc_transport: Any, timeout: float = 30) -> None:
        self._transport = rpc_transport
        self._timeout = timeout
        # One cache of what each host reads, shared by the clients.
        self._serializer = serialization.RPCSerializer()
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _client(self, host: str) -> Any:
        with self._lock:
            client = self._clients.get(host)
            if client is None:
                client = oslo_messaging.get_rpc_client(
                    self._transport,
                    oslo_messaging.Target(
                        topic=TOPIC,
                        server=host,
                        namespace="os_vif",
                        version=API_VERSION,
                    ),
                    serializer=self._serializer.for_peer(host),
                    timeout=self._timeout,
                )
                self._clients[host] = client
            return client

    def host_info(self, host: str) -> host_info_objects.HostInfo:
        """Ask ``host`` what it plugs, and remember it for sending there."""
        info = self._client(host).call({}, "host_info")
        self._serializer.remember(host, info)
        return info

    @staticmethod
    def choose(
        host_info: host_info_objects.HostInfo,
        candidates: Sequence[vif_objects.VIFBase],
    ) -> vif_objects.VIFBase:
        """The first candidate the host plugs, negotiated for it.

        :raises: the exception of the first candidate (NoMatchingPlugin,
            NoMatchingVIFClass...) when the host takes none.
        """
        first_error: exception.ExceptionBase | None = None
        for candidate in candidates:
            try:
                return serialization.negotiate(host_info, candidate)
            except NOT_FOR_THIS_HOST as err:
                first_error = first_error or err
        if first_error is None:
            raise exception.InvalidArgument(
                field="candidates", value=[], reason="no VIF to choose from"
            )
        raise first_error

    def bind(
        self,
        host: str,
        candidates: Sequence[vif_objects.VIFBase],
        instance: instance_info_objects.InstanceInfo,
    ) -> vif_objects.VIFBase:
        """Negotiate a VIF with ``host`` and have it plugged there."""
        vif = self.choose(self.host_info(host), candidates)
        self.plug(host, vif, instance)
        return vif

    def plug(
        self,
        host: str,
        vif: vif_objects.VIFBase,
        instance: instance_info_objects.InstanceInfo,
    ) -> str:
        """Have ``host`` plug ``vif`` (already chosen)."""
        return str(
            self._client(host).call(
                {}, "plug", vif=vif, instance_info=instance
            )
        )

    def unplug(
        self,
        host: str,
        vif: vif_objects.VIFBase,
        instance: instance_info_objects.InstanceInfo,
    ) -> str:
        """Have ``host`` unplug ``vif``."""
        return str(
            self._client(host).call(
                {}, "unplug", vif=vif, instance_info=instance
            )
        )


def candidate_vifs(
    port_id: str, mac: str, bridge: str, tap: str
) -> list[vif_objects.VIFBase]:
    """What a controller could build for one port, preferred first.

    An Open vSwitch VIF (for hosts running the ``ovs`` plugin), and a Linux
    bridge one with os_vif creating the bridge.
    """
    net = network_objects.Network(
        id="5b1d5a2e-0b8c-4d7e-9f3a-1c2b3a4d5e6f",
        bridge=bridge,
        should_provide_bridge=True,
        mtu=1450,
    )
    ovs = vif_objects.VIFOpenVSwitch(
        id=port_id,
        address=mac,
        network=net,
        plugin="ovs",
        vif_name=tap,
        bridge_name="br-int",
        port_profile=vif_objects.VIFPortProfileOpenVSwitch(
            interface_id=port_id, create_port=True
        ),
    )
    bridged = vif_objects.VIFBridge(
        id=port_id,
        address=mac,
        network=net,
        plugin="linux_bridge",
        vif_name=tap,
        bridge_name=bridge,
        has_traffic_filtering=True,
    )
    return [ovs, bridged]


# ---------------------------------------------------------------------------
# Command line


def _serve(args: argparse.Namespace) -> int:
    os_vif.initialize()
    if args.plugins:
        # Report (and accept) only these plugins' VIF types.
        info = os_vif.host_info()
        info.plugin_info = [
            p for p in info.plugin_info if p.plugin_name in args.plugins
        ]
        endpoint = ComputeEndpoint(info)
    else:
        endpoint = ComputeEndpoint()
    rpc_transport = transport(args.url)
    server = compute_server(rpc_transport, args.host, endpoint)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    print("serving %s on %s" % (args.host, TOPIC), flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
        server.wait()
        rpc_transport.cleanup()
    return 0


def _bind(args: argparse.Namespace) -> int:
    rpc_transport = transport(args.url)
    try:
        controller = Controller(rpc_transport)
        instance = instance_info_objects.InstanceInfo(
            uuid="0e4c6a1f-2b3d-4c5e-8f9a-0b1c2d3e4f5a",
            name="example-vm",
            project_id="example",
        )
        vifs = candidate_vifs(
            "a7c2e0d4-1b3f-4e5a-9c8d-7f6e5d4c3b2a",
            "52:54:00:0e:0e:01",
            args.bridge,
            args.tap,
        )
        vif = controller.bind(args.host, vifs, instance)
        print(
            json.dumps(
                {
                    "bound": vif.obj_name(),
                    "version": vif.VERSION,
                    "plugin": vif.plugin,
                }
            ),
            flush=True,
        )
        if args.unplug:
            controller.unplug(args.host, vif, instance)
    finally:
        rpc_transport.cleanup()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``compute`` serves a host; ``controller`` binds a port on one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="role", required=True)
    for role in ("compute", "controller"):
        p = sub.add_parser(role)
        p.add_argument("--url", required=True, help="transport URL")
        p.add_argument("--host", required=True, help="compute host name")
        if role == "compute":
            p.add_argument(
                "--plugins", nargs="*", help="report only these plugins"
            )
        else:
            p.add_argument("--bridge", default="br-example")
            p.add_argument("--tap", default="tap-example")
            p.add_argument("--unplug", action="store_true")
    args = parser.parse_args(argv)
    if args.role == "compute":
        return _serve(args)
    return _bind(args)


if __name__ == "__main__":
    sys.exit(main())
