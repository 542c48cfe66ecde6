"""The CNI protocol (spec 1.1) as pure data: no host access, no os_vif.

A call is the environment (:class:`Call`, from ``CNI_COMMAND``,
``CNI_CONTAINERID``, ``CNI_NETNS``, ``CNI_IFNAME``, ``CNI_ARGS``,
``CNI_PATH``) and the network configuration on stdin
(:class:`NetConf`).  A command answers with a :class:`Result` (ADD), the
VERSION document (:func:`version_document`), nothing (DEL, CHECK, STATUS,
GC), or an error (:class:`CniError`, the spec's codes and JSON), written on
stdout with a non-zero exit status.

Results are read in every version this plugin supports (an IPAM plugin or a
``prevResult`` may be 0.4.0) and written in the version the configuration
asks for.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "SPEC_VERSION",
    "SUPPORTED_VERSIONS",
    "ErrorCode",
    "CniError",
    "Command",
    "Call",
    "Attachment",
    "NetConf",
    "Interface",
    "IPConfig",
    "Route",
    "DNS",
    "Result",
    "version_document",
    "parse_version",
    "parse_stdin",
]

#: The spec this plugin implements.
SPEC_VERSION = "1.1.0"
#: The versions a configuration may ask for.  0.4.0 and 1.0.0 differ from
#: 1.1.0 only in what they lack (STATUS, GC) and, for 0.4.0, in the
#: ``version`` key of each IP; earlier versions had no CHECK.
SUPPORTED_VERSIONS: tuple[str, ...] = ("0.4.0", "1.0.0", "1.1.0")

#: The key under which GC receives the attachments to keep.
VALID_ATTACHMENTS_KEY = "cni.dev/valid-attachments"

_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
# The spec's container id: a letter or digit, then letters, digits, "_",
# "." or "-".
_CONTAINER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
# The spec's network name: the same alphabet.
_NETWORK_NAME = _CONTAINER_ID
_IFNAMSIZ = 16


class ErrorCode(enum.IntEnum):
    """The error codes the spec reserves (100 and above are a plugin's)."""

    INCOMPATIBLE_VERSION = 1
    UNSUPPORTED_FIELD = 2
    UNKNOWN_CONTAINER = 3
    INVALID_ENVIRONMENT = 4
    IO_FAILURE = 5
    DECODING_FAILURE = 6
    INVALID_CONFIG = 7
    TRY_AGAIN_LATER = 11
    NOT_AVAILABLE = 50
    NOT_AVAILABLE_LIMITED = 51
    #: os-vif's own: the host work failed.
    HOST_FAILURE = 101
    #: os-vif's own: CHECK found the attachment different from its result.
    CHECK_FAILED = 102


class CniError(Exception):
    """A CNI error: what the plugin prints on stdout when it fails."""

    def __init__(self, code: int, msg: str, details: str = "") -> None:
        super().__init__("%s (CNI error %d)%s" % (
            msg, code, ": " + details if details else ""))
        self.code = int(code)
        self.msg = msg
        self.details = details

    def document(self, cni_version: str = SPEC_VERSION) -> dict[str, Any]:
        """The spec's error object, in ``cni_version``."""
        doc: dict[str, Any] = {
            "cniVersion": cni_version,
            "code": self.code,
            "msg": self.msg,
        }
        if self.details:
            doc["details"] = self.details
        return doc

    def to_json(self, cni_version: str = SPEC_VERSION) -> str:
        """The error object as one line of JSON."""
        return json.dumps(self.document(cni_version))


class Command(str, enum.Enum):
    """The commands of CNI 1.1."""

    ADD = "ADD"
    DEL = "DEL"
    CHECK = "CHECK"
    VERSION = "VERSION"
    STATUS = "STATUS"
    GC = "GC"


# What each command needs in its environment, beyond CNI_COMMAND.
_NEEDS: dict[Command, tuple[str, ...]] = {
    Command.ADD: ("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"),
    Command.CHECK: ("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME",
                    "CNI_PATH"),
    # DEL may come after the namespace is gone: no CNI_NETNS needed.
    Command.DEL: ("CNI_CONTAINERID", "CNI_IFNAME", "CNI_PATH"),
    Command.GC: ("CNI_PATH",),
    Command.STATUS: ("CNI_PATH",),
    Command.VERSION: (),
}

# The commands each version knows.
_SINCE: dict[Command, tuple[int, int, int]] = {
    Command.CHECK: (0, 4, 0),
    Command.STATUS: (1, 1, 0),
    Command.GC: (1, 1, 0),
}


def parse_version(text: Any) -> tuple[int, int, int]:
    """``"1.1.0"`` -> ``(1, 1, 0)``; anything else is a decoding error."""
    match = _VERSION.match(text) if isinstance(text, str) else None
    if match is None:
        raise CniError(ErrorCode.DECODING_FAILURE,
                       "cniVersion must be a version like 1.1.0",
                       "cniVersion=%r" % (text,))
    return (int(match.group(1)), int(match.group(2)), int(match.group(3)))


def check_ifname(name: Any, field: str = "CNI_IFNAME") -> str:
    """A valid Linux interface name, or a :class:`CniError` naming it."""
    if (not isinstance(name, str) or not name or len(name) >= _IFNAMSIZ
            or name in (".", "..")
            or any(c in name for c in "/:") or any(c.isspace() for c in name)):
        raise CniError(ErrorCode.INVALID_ENVIRONMENT,
                       "%s is not a valid interface name" % field,
                       "%s=%r" % (field, name))
    return name


def check_container_id(value: Any, field: str = "CNI_CONTAINERID") -> str:
    """A valid container id, or a :class:`CniError` naming it."""
    if not isinstance(value, str) or not _CONTAINER_ID.match(value):
        raise CniError(ErrorCode.INVALID_ENVIRONMENT,
                       "%s must be letters, digits, '_', '.' or '-', "
                       "starting with a letter or digit" % field,
                       "%s=%r" % (field, value))
    return value


def parse_args(text: str) -> dict[str, str]:
    """``CNI_ARGS`` (``"K1=V1;K2=V2"``) as a dict."""
    args: dict[str, str] = {}
    for item in text.split(";"):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CniError(ErrorCode.INVALID_ENVIRONMENT,
                           "CNI_ARGS must be KEY=VALUE pairs separated by ';'",
                           "CNI_ARGS=%r" % text)
        args[key] = value
    return args


@dataclasses.dataclass(frozen=True)
class Call:
    """One call's environment."""

    command: Command
    container_id: str = ""
    netns: str = ""
    ifname: str = ""
    args: Mapping[str, str] = dataclasses.field(default_factory=dict)
    path: tuple[str, ...] = ()

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> Call:
        """Read and check the environment a runtime gives the plugin."""
        raw = env.get("CNI_COMMAND", "")
        try:
            command = Command(raw)
        except ValueError:
            raise CniError(
                ErrorCode.INVALID_ENVIRONMENT,
                "CNI_COMMAND must be one of %s"
                % ", ".join(c.value for c in Command),
                "CNI_COMMAND=%r" % raw) from None
        for name in _NEEDS[command]:
            if not env.get(name):
                raise CniError(ErrorCode.INVALID_ENVIRONMENT,
                               "%s is required for %s" % (name, raw),
                               "%s is unset or empty" % name)
        container_id = env.get("CNI_CONTAINERID", "")
        if container_id:
            check_container_id(container_id)
        ifname = env.get("CNI_IFNAME", "")
        if ifname:
            check_ifname(ifname)
        return cls(
            command=command,
            container_id=container_id,
            netns=env.get("CNI_NETNS", ""),
            ifname=ifname,
            args=parse_args(env.get("CNI_ARGS", "")),
            path=tuple(p for p in env.get("CNI_PATH", "").split(":") if p),
        )

    def environ(self, **override: str) -> dict[str, str]:
        """This call as an environment (to delegate it), with changes."""
        env = {
            "CNI_COMMAND": self.command.value,
            "CNI_CONTAINERID": self.container_id,
            "CNI_NETNS": self.netns,
            "CNI_IFNAME": self.ifname,
            "CNI_ARGS": ";".join("%s=%s" % kv for kv in self.args.items()),
            "CNI_PATH": ":".join(self.path),
        }
        env.update(override)
        return {k: v for k, v in env.items() if v}


@dataclasses.dataclass(frozen=True)
class Attachment:
    """An attachment: a container's interface on a network."""

    container_id: str
    ifname: str


def _object(doc: Any, where: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise CniError(ErrorCode.DECODING_FAILURE,
                       "%s must be a JSON object" % where,
                       "%s=%r" % (where, doc))
    return doc


def _string(doc: Mapping[str, Any], key: str, where: str,
            required: bool = True) -> str:
    value = doc.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise CniError(ErrorCode.INVALID_CONFIG,
                       "%s.%s must be a non-empty string" % (where, key),
                       "%s=%r" % (key, value))
    return value


def parse_stdin(data: bytes | str) -> dict[str, Any]:
    """The JSON object on stdin, or a decoding error."""
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise CniError(ErrorCode.DECODING_FAILURE,
                       "the network configuration is not JSON",
                       str(exc)) from None
    return _object(doc, "network configuration")


@dataclasses.dataclass(frozen=True)
class NetConf:
    """The network configuration of one call (the spec's part of it).

    ``raw`` is the whole document, passed on unchanged to the IPAM plugin.
    """

    cni_version: str
    name: str
    type: str
    raw: Mapping[str, Any]
    ipam: Mapping[str, Any] | None = None
    prev_result: Result | None = None
    valid_attachments: tuple[Attachment, ...] | None = None

    @classmethod
    def parse(cls, data: bytes | str | Mapping[str, Any],
              command: Command = Command.ADD) -> NetConf:
        """Read and check a network configuration for ``command``."""
        doc = (dict(data) if isinstance(data, Mapping)
               else parse_stdin(data))
        version = doc.get("cniVersion")
        parsed = parse_version(version)
        if version not in SUPPORTED_VERSIONS:
            raise CniError(ErrorCode.INCOMPATIBLE_VERSION,
                           "cniVersion %s is not supported; supported: %s"
                           % (version, ", ".join(SUPPORTED_VERSIONS)),
                           "cniVersion=%r" % version)
        since = _SINCE.get(command)
        if since is not None and parsed < since:
            raise CniError(ErrorCode.INCOMPATIBLE_VERSION,
                           "%s needs cniVersion %d.%d.%d or later"
                           % ((command.value,) + since),
                           "cniVersion=%r" % version)
        name = _string(doc, "name", "network configuration")
        if not _NETWORK_NAME.match(name):
            raise CniError(ErrorCode.INVALID_CONFIG,
                           "name must be letters, digits, '_', '.' or '-'",
                           "name=%r" % name)
        plugin_type = _string(doc, "type", "network configuration")
        ipam = doc.get("ipam")
        if ipam is not None:
            ipam = _object(ipam, "ipam")
            _string(ipam, "type", "ipam")
        prev = doc.get("prevResult")
        prev_result = (Result.parse(prev, version) if prev is not None
                       else None)
        valid = doc.get(VALID_ATTACHMENTS_KEY)
        valid_attachments = None
        if valid is not None or command is Command.GC:
            if not isinstance(valid, list):
                raise CniError(ErrorCode.INVALID_CONFIG,
                               "%s must be a list" % VALID_ATTACHMENTS_KEY,
                               "%s=%r" % (VALID_ATTACHMENTS_KEY, valid))
            items = []
            for i, item in enumerate(valid):
                where = "%s[%d]" % (VALID_ATTACHMENTS_KEY, i)
                item = _object(item, where)
                items.append(Attachment(
                    check_container_id(item.get("containerID"),
                                       where + ".containerID"),
                    check_ifname(item.get("ifname"), where + ".ifname")))
            valid_attachments = tuple(items)
        return cls(cni_version=version, name=name, type=plugin_type,
                   raw=doc, ipam=ipam, prev_result=prev_result,
                   valid_attachments=valid_attachments)

    def without_prev_result(self) -> dict[str, Any]:
        """The raw document without ``prevResult`` (for a delegated ADD)."""
        return {k: v for k, v in self.raw.items() if k != "prevResult"}


def _address(value: Any, where: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise CniError(ErrorCode.DECODING_FAILURE,
                       "%s must be an IP address" % where,
                       "%s=%r" % (where, value)) from None


def _interface_cidr(value: Any, where: str) -> str:
    try:
        return str(ipaddress.ip_interface(value))
    except ValueError:
        raise CniError(ErrorCode.DECODING_FAILURE,
                       "%s must be an address with a prefix (10.0.0.2/24)"
                       % where, "%s=%r" % (where, value)) from None


def _network(value: Any, where: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise CniError(ErrorCode.DECODING_FAILURE,
                       "%s must be a network (10.0.0.0/24)" % where,
                       "%s=%r" % (where, value)) from None


@dataclasses.dataclass(frozen=True)
class Interface:
    """An interface of a result."""

    name: str
    mac: str = ""
    mtu: int | None = None
    #: The namespace path for a container's interface, "" for the host's.
    sandbox: str = ""

    def document(self, version: tuple[int, int, int]) -> dict[str, Any]:
        """The interface as the spec writes it in ``version``."""
        doc: dict[str, Any] = {"name": self.name}
        if self.mac:
            doc["mac"] = self.mac
        if self.mtu is not None and version >= (1, 1, 0):
            doc["mtu"] = self.mtu
        if self.sandbox:
            doc["sandbox"] = self.sandbox
        return doc


@dataclasses.dataclass(frozen=True)
class IPConfig:
    """An address of a result: ``address`` is ``"10.0.0.2/24"``."""

    address: str
    gateway: str = ""
    #: Index into the result's interfaces, if it names one.
    interface: int | None = None

    @property
    def ip_version(self) -> int:
        """4 or 6."""
        return ipaddress.ip_interface(self.address).version

    def document(self, version: tuple[int, int, int]) -> dict[str, Any]:
        """The IP as the spec writes it in ``version``."""
        doc: dict[str, Any] = {"address": self.address}
        if version < (1, 0, 0):
            doc["version"] = str(self.ip_version)
        if self.gateway:
            doc["gateway"] = self.gateway
        if self.interface is not None:
            doc["interface"] = self.interface
        return doc


@dataclasses.dataclass(frozen=True)
class Route:
    """A route of a result."""

    dst: str
    gw: str = ""
    mtu: int | None = None
    advmss: int | None = None
    priority: int | None = None
    table: int | None = None
    scope: int | None = None

    def document(self, version: tuple[int, int, int]) -> dict[str, Any]:
        """The route as the spec writes it in ``version``."""
        doc: dict[str, Any] = {"dst": self.dst}
        if self.gw:
            doc["gw"] = self.gw
        if version >= (1, 1, 0):
            for key in ("mtu", "advmss", "priority", "table", "scope"):
                value = getattr(self, key)
                if value is not None:
                    doc[key] = value
        return doc


@dataclasses.dataclass(frozen=True)
class DNS:
    """The DNS settings of a result."""

    nameservers: tuple[str, ...] = ()
    domain: str = ""
    search: tuple[str, ...] = ()
    options: tuple[str, ...] = ()

    def document(self) -> dict[str, Any]:
        """The DNS object as the spec writes it (empty keys left out)."""
        doc: dict[str, Any] = {}
        if self.nameservers:
            doc["nameservers"] = list(self.nameservers)
        if self.domain:
            doc["domain"] = self.domain
        if self.search:
            doc["search"] = list(self.search)
        if self.options:
            doc["options"] = list(self.options)
        return doc


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
            isinstance(v, str) for v in value):
        raise CniError(ErrorCode.DECODING_FAILURE,
                       "%s must be a list of strings" % where,
                       "%s=%r" % (where, value))
    return tuple(value)


def _optional_int(doc: Mapping[str, Any], key: str, where: str) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise CniError(ErrorCode.DECODING_FAILURE,
                       "%s.%s must be an integer" % (where, key),
                       "%s=%r" % (key, value))
    return value


@dataclasses.dataclass(frozen=True)
class Result:
    """A command's result (ADD's output, an IPAM result, a prevResult)."""

    interfaces: tuple[Interface, ...] = ()
    ips: tuple[IPConfig, ...] = ()
    routes: tuple[Route, ...] = ()
    dns: DNS = DNS()

    @classmethod
    def parse(cls, data: Any, cni_version: str = SPEC_VERSION) -> Result:
        """Read a result in any supported version.

        ``cni_version`` is the configuration's, used when the result does
        not state its own.
        """
        doc = _object(data, "result")
        parse_version(doc.get("cniVersion", cni_version))
        interfaces = []
        for i, item in enumerate(doc.get("interfaces") or []):
            where = "interfaces[%d]" % i
            item = _object(item, where)
            interfaces.append(Interface(
                name=_string(item, "name", where),
                mac=_string(item, "mac", where, required=False),
                mtu=_optional_int(item, "mtu", where),
                sandbox=_string(item, "sandbox", where, required=False)))
        ips = []
        for i, item in enumerate(doc.get("ips") or []):
            where = "ips[%d]" % i
            item = _object(item, where)
            index = _optional_int(item, "interface", where)
            if index is not None and not 0 <= index < len(interfaces):
                raise CniError(ErrorCode.DECODING_FAILURE,
                               "%s.interface is not an index of interfaces"
                               % where, "interface=%r" % index)
            gateway = item.get("gateway")
            ips.append(IPConfig(
                address=_interface_cidr(item.get("address"),
                                        where + ".address"),
                gateway=(_address(gateway, where + ".gateway")
                         if gateway else ""),
                interface=index))
        routes = []
        for i, item in enumerate(doc.get("routes") or []):
            where = "routes[%d]" % i
            item = _object(item, where)
            gw = item.get("gw")
            routes.append(Route(
                dst=_network(item.get("dst"), where + ".dst"),
                gw=_address(gw, where + ".gw") if gw else "",
                **{key: _optional_int(item, key, where)
                   for key in ("mtu", "advmss", "priority", "table",
                               "scope")}))
        dns_doc = _object(doc.get("dns") or {}, "dns")
        dns = DNS(
            nameservers=_strings(dns_doc.get("nameservers"),
                                 "dns.nameservers"),
            domain=dns_doc.get("domain") or "",
            search=_strings(dns_doc.get("search"), "dns.search"),
            options=_strings(dns_doc.get("options"), "dns.options"))
        return cls(tuple(interfaces), tuple(ips), tuple(routes), dns)

    def document(self, cni_version: str = SPEC_VERSION) -> dict[str, Any]:
        """The result as the spec writes it in ``cni_version``."""
        version = parse_version(cni_version)
        doc: dict[str, Any] = {"cniVersion": cni_version}
        if self.interfaces:
            doc["interfaces"] = [i.document(version)
                                 for i in self.interfaces]
        # 0.4.0 and 1.0.0 require the key, even empty.
        doc["ips"] = [ip.document(version) for ip in self.ips]
        if self.routes:
            doc["routes"] = [r.document(version) for r in self.routes]
        doc["dns"] = self.dns.document()
        return doc

    def to_json(self, cni_version: str = SPEC_VERSION) -> str:
        """The result as JSON."""
        return json.dumps(self.document(cni_version))


def version_document() -> dict[str, Any]:
    """VERSION's answer."""
    return {"cniVersion": SPEC_VERSION,
            "supportedVersions": list(SUPPORTED_VERSIONS)}

