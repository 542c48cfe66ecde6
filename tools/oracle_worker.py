"""Plug or unplug VIFs with a released os-vif (5.3.0), to compare with it.

Run by the python of an oracle virtualenv (``tools/oracle_venv.py``), never
by this project's: it imports the os_vif installed there and refuses to run
if that is not the one it gets.  It runs in whatever network namespace it is
started in (``ip netns exec NS python oracle_worker.py``) and against the
OVSDB named in the request, so a test can point it at its private Open
vSwitch.

The request is one JSON object on stdin::

    {"action": "plug" | "unplug",
     "ovsdb_connection": "unix:/tmp/.../db.sock",
     "instance": {"uuid": "...", "name": "...", "project_id": "..."},
     "vifs": [<a VIF in oslo.versionedobjects primitive form>, ...],
     "timeout": 30}

VIFs of every type the released plugins know can be given
(``VIFOpenVSwitch``, the hybrid ``VIFBridge``...).  os-vif 5.x no longer has
the ``linux_bridge`` plugin; a VIF naming it fails as it would there.

The answer is one JSON object on stdout: what the action created and
removed, read from the kernel (pyroute2) and the database (ovs-vsctl)
before and after::

    {"version": "5.3.0",
     "created": {"links": [{"name", "kind", "master", "mtu", "address",
                            "up"}...],
                 "ports": [{"name", "bridge", "type", "external_ids"}...],
                 "bridges": [{"name", "datapath_type"}...]},
     "removed": {... the same ...}}

The released os-vif runs its privileged steps through its own privsep
daemon; since the worker is root, the daemon is started directly
(``helper_command`` = this virtualenv's ``privsep-helper``, no sudo).

Session mode (``--session``), for the differential suite
(``tests/functional/differential``): the worker stays up and answers JSON
lines on stdin with one JSON line each on stdout, so that a scenario does
not pay a process (and privsep daemon) start per step.  It runs under the
oracle's python as above, or with ``--checkout`` under this project's
python, where it must import this checkout's os_vif (it checks).
Requests::

    {"op": "configure", "ovsdb_connection": "unix:...",   # first only
     "options": {"os_vif_ovs": {"isolate_vif": true, ...}}}
    {"op": "plug" | "unplug", "vifs": [<primitive>...],
     "instance": {"uuid": ..., "name": ..., "project_id": ...}}
    {"op": "dump"}

Answers: ``configure`` gives ``{"version", "os_vif"}`` (the release and
where its os_vif was imported from); ``plug``/``unplug`` give
``{"results": [{"ok": true} | {"ok": false, "error": <class name>,
"message": <text>}...]}``, one per VIF, each VIF tried whatever the one
before did (a refused plug is a result to compare too); ``dump`` gives
``tools/host_dump.py``'s dump of the worker's namespace and OVSDB.  A
request the worker cannot serve gives ``{"fatal": <text>}``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any


def _check_isolated(module: Any) -> None:
    # The oracle must be the released code, not this checkout's.
    where = os.path.realpath(module.__file__)
    if not where.startswith(os.path.realpath(sys.prefix) + os.sep):
        sys.exit(
            "oracle_worker: os_vif comes from %s, not from the virtualenv "
            "%s" % (where, sys.prefix)
        )


_TOOLS = os.path.dirname(os.path.realpath(__file__))
_CHECKOUT = os.path.dirname(_TOOLS)


def _check_checkout(module: Any) -> None:
    # --checkout: the os_vif under test is this checkout's, not some
    # installed release.
    where = os.path.realpath(module.__file__)
    if not where.startswith(os.path.join(_CHECKOUT, "os_vif") + os.sep):
        sys.exit(
            "oracle_worker: os_vif comes from %s, not from the checkout %s"
            % (where, _CHECKOUT)
        )


def _links() -> dict[str, dict[str, Any]]:
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        links = ipr.get_links()
        names = {link["index"]: link.get_attr("IFLA_IFNAME") for link in links}
        found = {}
        for link in links:
            name = link.get_attr("IFLA_IFNAME")
            info = link.get_attr("IFLA_LINKINFO")
            kind = info.get_attr("IFLA_INFO_KIND") if info else None
            master = link.get_attr("IFLA_MASTER")
            found[name] = {
                "name": name,
                "kind": kind,
                "master": names.get(master) if master else None,
                "mtu": link.get_attr("IFLA_MTU"),
                "address": link.get_attr("IFLA_ADDRESS"),
                "up": bool(link["flags"] & 1),
            }
        return found


def _datum(value: Any) -> Any:
    # ovs-vsctl --data=json: ["uuid", u], ["set", [...]], ["map", [[k, v]]].
    if isinstance(value, list) and len(value) == 2:
        kind, payload = value
        if kind == "uuid":
            return payload
        if kind == "set":
            return [_datum(item) for item in payload]
        if kind == "map":
            return {k: _datum(v) for k, v in payload}
    return value


def _table(
    connection: str, table: str, columns: list[str]
) -> list[dict[str, Any]]:
    vsctl = shutil.which("ovs-vsctl") or "/usr/bin/ovs-vsctl"
    out = subprocess.run(
        [
            vsctl,
            "--db=" + connection,
            "--timeout=30",
            "--format=json",
            "--data=json",
            "--columns=" + ",".join(columns),
            "list",
            table,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    doc = json.loads(out)
    return [
        {h: _datum(v) for h, v in zip(doc["headings"], row, strict=True)}
        for row in doc["data"]
    ]


def _as_list(value: Any) -> list[Any]:
    # A set of one item comes back as the bare item.
    return value if isinstance(value, list) else [value]


def _ovsdb(
    connection: str,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    bridges = _table(connection, "Bridge", ["_uuid", "name", "datapath_type"])
    ports = _table(connection, "Port", ["_uuid", "name", "interfaces"])
    ifaces = _table(
        connection, "Interface", ["_uuid", "name", "type", "external_ids"]
    )
    ports_of = {}
    for bridge in _table(connection, "Bridge", ["name", "ports"]):
        for port in _as_list(bridge["ports"]):
            ports_of[port] = bridge["name"]
    iface_by_uuid = {iface["_uuid"]: iface for iface in ifaces}
    found_ports = {}
    for port in ports:
        iface = next(
            (
                iface_by_uuid[i]
                for i in _as_list(port["interfaces"])
                if i in iface_by_uuid
            ),
            {},
        )
        found_ports[port["name"]] = {
            "name": port["name"],
            "bridge": ports_of.get(port["_uuid"]),
            "type": iface.get("type", ""),
            "external_ids": iface.get("external_ids", {}),
        }
    found_bridges = {
        b["name"]: {"name": b["name"], "datapath_type": b["datapath_type"]}
        for b in bridges
    }
    return found_ports, found_bridges


def _snapshot(connection: str) -> dict[str, dict[str, Any]]:
    ports, bridges = _ovsdb(connection)
    return {"links": _links(), "ports": ports, "bridges": bridges}


def _difference(
    first: dict[str, dict[str, Any]], second: dict[str, dict[str, Any]]
) -> dict[str, list[Any]]:
    return {
        key: [first[key][name] for name in sorted(first[key])
              if name not in second[key]]
        for key in first
    }


def _configure(
    connection: str, timeout: int, workdir: str, checkout: bool = False
) -> None:
    from oslo_config import cfg

    conf = os.path.join(workdir, "oracle.conf")
    with open(conf, "w") as handle:
        handle.write(
            "[os_vif_ovs]\n"
            "ovsdb_connection = %s\n"
            "ovs_vsctl_timeout = %d\n" % (connection, timeout)
        )
        if not checkout:
            # This checkout's os_vif, run as root with no helper_command,
            # starts its own daemon with its own python; 5.3.0 needs the
            # virtualenv's privsep-helper named.
            privsep_helper = os.path.join(
                os.path.dirname(sys.executable), "privsep-helper"
            )
            handle.write(
                "[vif_plug_ovs_privileged]\n"
                "helper_command = %s\n" % privsep_helper
            )
    cfg.CONF(["--config-file", conf], project="os_vif_oracle",
             default_config_files=[])


def _load_host_dump() -> Any:
    # By path: with -P the tools directory is not on sys.path.
    spec = importlib.util.spec_from_file_location(
        "os_vif_host_dump", os.path.join(_TOOLS, "host_dump.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Session:
    """The state of a session worker between requests."""

    def __init__(self, checkout: bool, workdir: str) -> None:
        self.checkout = checkout
        self.workdir = workdir
        self.connection: str | None = None
        self.host_dump = _load_host_dump()

    def configure(self, request: dict[str, Any]) -> dict[str, Any]:
        from importlib import metadata

        from oslo_config import cfg

        import os_vif

        connection = request.get("ovsdb_connection", self.connection)
        if not isinstance(connection, str):
            return {"fatal": "the first configure names ovsdb_connection"}
        if self.connection is None:
            (_check_checkout if self.checkout else _check_isolated)(os_vif)
            _configure(connection, int(request.get("timeout", 30)),
                       self.workdir, checkout=self.checkout)
            os_vif.initialize()
            self.connection = connection
        elif connection != self.connection:
            return {"fatal": "the OVSDB connection cannot change"}
        for group, options in request.get("options", {}).items():
            for name, value in options.items():
                if value is None:
                    cfg.CONF.clear_override(name, group=group)
                else:
                    cfg.CONF.set_override(name, value, group=group)
        return {
            "version": metadata.version("os-vif"),
            "os_vif": os.path.dirname(os.path.realpath(os_vif.__file__)),
        }

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        import os_vif
        from os_vif.objects import base, instance_info

        if self.connection is None:
            return {"fatal": "configure first"}
        instance = instance_info.InstanceInfo(**request["instance"])
        action = {"plug": os_vif.plug, "unplug": os_vif.unplug}[
            request["op"]
        ]
        results: list[dict[str, Any]] = []
        for primitive in request["vifs"]:
            vif: Any = base.VersionedObject.obj_from_primitive(primitive)
            try:
                action(vif, instance)
            except Exception as err:  # noqa: BLE001 - it is the answer
                results.append({
                    "ok": False,
                    "error": type(err).__name__,
                    "message": str(err),
                })
            else:
                results.append({"ok": True})
        return {"results": results}

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "configure":
            return self.configure(request)
        if op in ("plug", "unplug"):
            return self.call(request)
        if op == "dump":
            if self.connection is None:
                return {"fatal": "configure first"}
            self.host_dump.settle(self.connection)
            dumped: dict[str, Any] = self.host_dump.dump(self.connection)
            return dumped
        return {"fatal": "unknown op %r" % (op,)}


def session(checkout: bool) -> None:
    """Answer requests, one JSON line each, until stdin ends."""
    with tempfile.TemporaryDirectory(prefix="os-vif-worker-") as workdir:
        worker = _Session(checkout, workdir)
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                reply = worker.answer(json.loads(line))
            except Exception as err:  # noqa: BLE001 - reported, not fatal
                import traceback

                reply = {
                    "fatal": "%s: %s" % (type(err).__name__, err),
                    "traceback": traceback.format_exc(),
                }
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--session", action="store_true",
                        help="answer JSON lines until stdin ends")
    parser.add_argument("--checkout", action="store_true",
                        help="run this checkout's os_vif (session mode)")
    args = parser.parse_args()
    if args.session:
        session(args.checkout)
        return
    if args.checkout:
        parser.error("--checkout needs --session")
    request = json.load(sys.stdin)
    import os_vif

    _check_isolated(os_vif)
    from os_vif.objects import base, instance_info

    connection = request["ovsdb_connection"]
    with tempfile.TemporaryDirectory(prefix="os-vif-oracle-") as workdir:
        _configure(connection, int(request.get("timeout", 30)), workdir)
        os_vif.initialize()
        instance = instance_info.InstanceInfo(**request["instance"])
        vifs: list[Any] = [
            base.VersionedObject.obj_from_primitive(primitive)
            for primitive in request["vifs"]
        ]
        action = {"plug": os_vif.plug, "unplug": os_vif.unplug}[
            request["action"]
        ]
        before = _snapshot(connection)
        for vif in vifs:
            action(vif, instance)
        after = _snapshot(connection)
    from importlib import metadata

    print(
        json.dumps(
            {
                "version": metadata.version("os-vif"),
                "created": _difference(after, before),
                "removed": _difference(before, after),
            }
        )
    )


if __name__ == "__main__":
    main()
