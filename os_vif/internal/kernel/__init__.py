"""The kernel operations, as both sides of the privsep boundary know them.

A plugin builds its plans from these classes; the privsep daemon makes
them again from their wire form, validates them again and applies them.
Each class holds an operation's name, its arguments and their
validation, its wire form, its admission (ownership) and its check.
"""

from __future__ import annotations

from os_vif.internal.privileged.devices import (
    SYSCTLS,
    DeleteDevice,
    EnsureBridge,
    EnsureTap,
    EnsureVeth,
    EnsureVlan,
    RemoveBridgeIfUnused,
    SetLink,
    SetSysctl,
    SetVf,
    disable_ipv6,
)
from os_vif.internal.privileged.firewall import (
    AllowBridgeForwarding,
    RevokeBridgeForwarding,
)

__all__ = [
    "SYSCTLS",
    "AllowBridgeForwarding",
    "DeleteDevice",
    "EnsureBridge",
    "EnsureTap",
    "EnsureVeth",
    "EnsureVlan",
    "RemoveBridgeIfUnused",
    "RevokeBridgeForwarding",
    "SetLink",
    "SetSysctl",
    "SetVf",
    "disable_ipv6",
]
