"""Validators for the arguments of host operations.

The same functions run on both sides of the privsep boundary: the client
calls them first so that a caller's mistake is reported with the caller's
field name (``vif.vif_name``), and the privileged daemon calls them again on
what it receives, because the daemon cannot trust its client.  Every
validator returns the value in canonical form (a lower-case MAC, an ``int``
MTU...) or raises :class:`os_vif.exception.InvalidArgument` naming the field
and the value; none of them touches the host.
"""

from __future__ import annotations

import re
from typing import Any

from os_vif import exception
from os_vif.objects import formats

__all__ = [
    "IFNAMSIZ",
    "MIN_MTU",
    "MAX_MTU",
    "MAX_VLAN",
    "interface_name",
    "interface_names",
    "optional_interface_name",
    "mtu",
    "optional_mtu",
    "mac_address",
    "optional_mac_address",
    "pci_address",
    "vlan_id",
    "boolean",
    "optional_boolean",
    "integer_in_range",
    "one_of",
    "netns_reference",
    "vif_id",
    "role",
]

#: The kernel's limit on an interface name, terminating NUL excluded.
IFNAMSIZ = 15
#: The smallest MTU an IPv4 link may have (RFC 791).
MIN_MTU = 68
#: The largest MTU the kernel accepts on any device.
MAX_MTU = 65535
#: The largest 802.1Q VLAN ID (0 means untagged/priority only).
MAX_VLAN = 4095

_VIF_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_MAC_RE = formats.MAC_ADDRESS
_PCI_RE = formats.PCI_ADDRESS
_NETNS_NAME_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,255}$")
_NETNS_PATH_RE = re.compile(
    r"^(/proc/[0-9]+/ns/net|/proc/[0-9]+/task/[0-9]+/ns/net"
    r"|/run/netns/[A-Za-z0-9_.:-]{1,255}"
    r"|/var/run/netns/[A-Za-z0-9_.:-]{1,255})$"
)


def _invalid(field: str, value: Any, reason: str) -> exception.InvalidArgument:
    return exception.InvalidArgument(field=field, value=value, reason=reason)


def interface_name(value: Any, field: str = "name") -> str:
    """Return ``value`` if it is a name the kernel accepts for a device.

    A device name is 1 to 15 bytes of UTF-8 with no ``/``, no whitespace, no
    NUL and no ``:`` (alias syntax), and is neither ``.`` nor ``..``.  These
    are the kernel's own rules (``dev_valid_name``), checked here so that a
    bad name never reaches netlink or a ``/proc/sys`` path.  Two more of
    the kernel's: a ``%`` is a template (``tap%d`` makes ``tap0``, a device
    under another name than the one asked for, so never found again), and
    the byte ``0xa0`` is a space to the kernel (it ends many UTF-8
    characters, ``à`` among them).
    """
    if value.__class__ is str and value in _VALID_NAMES:
        return value
    if not isinstance(value, str):
        raise _invalid(field, value, "an interface name must be a string")
    # surrogatepass: a lone surrogate is measured here, refused below.
    encoded = value.encode("utf-8", "surrogatepass")
    if not 1 <= len(encoded) <= IFNAMSIZ:
        raise _invalid(
            field, value, "an interface name is 1 to %d bytes long" % IFNAMSIZ
        )
    if value in (".", ".."):
        raise _invalid(field, value, "'.' and '..' are not interface names")
    for char in value:
        if char in "/:%\0" or char.isspace() or not char.isprintable():
            raise _invalid(
                field,
                value,
                "an interface name may not contain %r" % char,
            )
    if b"\xa0" in encoded:
        raise _invalid(
            field,
            value,
            "an interface name may not contain the byte 0xa0 (a space to "
            "the kernel)",
        )
    if len(_VALID_NAMES) >= _VALID_NAMES_MAX:
        _VALID_NAMES.clear()
    _VALID_NAMES.add(value)
    return value


# Names already found valid: a plan names each device several times, and a
# batch of hundreds of VIFs validates thousands of names (the daemon again).
# Bounded, so that a long-lived process does not grow with every name seen.
_VALID_NAMES: set[str] = set()
_VALID_NAMES_MAX = 16384


def interface_names(value: Any, field: str = "names") -> list[str]:
    """Validate a list of interface names; each one is named in errors."""
    if not isinstance(value, (list, tuple)):
        raise _invalid(field, value, "must be a list of names")
    return [
        interface_name(item, "%s[%d]" % (field, position))
        for position, item in enumerate(value)
    ]


def optional_interface_name(value: Any, field: str = "name") -> str | None:
    """Like :func:`interface_name`, but ``None`` is accepted."""
    return None if value is None else interface_name(value, field)


def integer_in_range(value: Any, low: int, high: int, field: str) -> int:
    """Return ``value`` if it is an ``int`` (not a ``bool``) in low..high."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(field, value, "must be an integer")
    if not low <= value <= high:
        raise _invalid(field, value, "must be within %d..%d" % (low, high))
    return value


def mtu(value: Any, field: str = "mtu") -> int:
    """Return ``value`` if it is an MTU the kernel could accept (68..65535)."""
    return integer_in_range(value, MIN_MTU, MAX_MTU, field)


def optional_mtu(value: Any, field: str = "mtu") -> int | None:
    """Like :func:`mtu`, but ``None`` (leave the MTU alone) is accepted."""
    return None if value is None else mtu(value, field)


def mac_address(value: Any, field: str = "mac") -> str:
    """Return ``value`` as a lower-case ``xx:xx:xx:xx:xx:xx`` MAC address.

    Multicast addresses (low bit of the first octet set) are refused: the
    kernel refuses them as a device address too, with a less helpful error.
    """
    if not isinstance(value, str):
        raise _invalid(field, value, "a MAC address must be a string")
    normal = value.lower()
    if not _MAC_RE.match(normal):
        raise _invalid(field, value, "expected a MAC like 52:54:00:12:34:56")
    if int(normal[:2], 16) & 1:
        raise _invalid(field, value, "a multicast MAC cannot be a device's")
    return normal


def optional_mac_address(value: Any, field: str = "mac") -> str | None:
    """Like :func:`mac_address`, but ``None`` is accepted."""
    return None if value is None else mac_address(value, field)


def pci_address(value: Any, field: str = "pci_address") -> str:
    """Return ``value`` as a lower-case ``dddd:bb:ss.f`` PCI address."""
    if not isinstance(value, str):
        raise _invalid(field, value, "a PCI address must be a string")
    normal = value.lower()
    if not _PCI_RE.match(normal):
        raise _invalid(
            field, value, "expected a PCI address like 0000:81:00.1"
        )
    return normal


def vlan_id(value: Any, field: str = "vlan") -> int:
    """Return ``value`` if it is an 802.1Q VLAN ID (0..4095)."""
    return integer_in_range(value, 0, MAX_VLAN, field)


def boolean(value: Any, field: str) -> bool:
    """Return ``value`` if it is a ``bool`` (``0``/``1`` are not accepted)."""
    if not isinstance(value, bool):
        raise _invalid(field, value, "must be true or false")
    return value


def optional_boolean(value: Any, field: str) -> bool | None:
    """Like :func:`boolean`, but ``None`` (leave alone) is accepted."""
    return None if value is None else boolean(value, field)


def one_of(value: Any, choices: tuple[Any, ...], field: str) -> Any:
    """Return ``value`` if it is one of ``choices``."""
    # type() too: True == 1, and a bool must not pass for an int choice.
    if not any(
        type(value) is type(choice) and value == choice for choice in choices
    ):
        raise _invalid(
            field, value, "must be one of %s" % ", ".join(map(str, choices))
        )
    return value


def netns_reference(value: Any, field: str = "netns") -> str:
    """Return ``value`` if it names a network namespace.

    Accepted: a name under ``/run/netns`` (as ``ip netns`` makes them), or
    the path of a namespace file, ``/proc/<pid>/ns/net`` or
    ``/run/netns/<name>``, as container runtimes pass them to CNI.
    """
    if not isinstance(value, str):
        raise _invalid(field, value, "a namespace must be a name or a path")
    if value.startswith("/"):
        if not _NETNS_PATH_RE.match(value) or value.rsplit("/", 1)[1] in (
            ".",
            "..",
        ):
            raise _invalid(
                field,
                value,
                "a namespace path is /proc/<pid>/ns/net or /run/netns/<name>",
            )
    elif value in (".", "..") or not _NETNS_NAME_RE.match(value):
        raise _invalid(field, value, "not a valid network namespace name")
    return value


def vif_id(value: Any, field: str = "vif_id") -> str:
    """Return ``value`` if it can be a VIF id (what os-vif 5.x names from).

    1 to 64 letters, digits, ``-``, ``_`` or ``.``, starting with a letter
    or digit: a UUID and every id kuryr or nova makes.
    """
    if not isinstance(value, str) or not _VIF_ID_RE.match(value):
        raise _invalid(field, value, "not a VIF id")
    return value


def role(choices: tuple[str, ...]) -> Any:
    """Return a validator accepting one of the ``choices`` strings."""

    def validate(value: Any, field: str) -> str:
        return str(one_of(value, choices, field))

    return validate
