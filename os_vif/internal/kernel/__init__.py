"""The kernel operations, as both sides of the privsep boundary know them.

A plugin builds its plans from these classes; the caller checks them
(:meth:`~.base.KernelOperation.check`) and admits them early
(:meth:`~.base.KernelOperation.admit` with an empty :class:`Scope`); the
privsep daemon parses them again from their wire form (:func:`parse_plan`,
:data:`REGISTRY`), admits them again and applies them with the apply
functions :mod:`os_vif.internal.privileged` registers per class.

One module per device family, each holding its operations' name,
arguments and validation, wire form, admission and check, and the one
comparison of wanted and actual that check and apply share:

=======================  ==================================================
:mod:`.base`             KernelOperation, REGISTRY, the wire-plan parser
:mod:`.link`             any device's attributes (:func:`.link.differences`),
                         SetLink, DeleteDevice
:mod:`.bridge`           EnsureBridge, RemoveBridgeIfUnused
:mod:`.tap`              EnsureTap
:mod:`.veth`             EnsureVeth
:mod:`.vlan`             EnsureVlan
:mod:`.sysctl`           SetSysctl (the allow-list :data:`SYSCTLS`)
:mod:`.vf`               SetVf
:mod:`.firewall`         AllowBridgeForwarding, RevokeBridgeForwarding
:mod:`.workload`         EnsureWorkloadEnd, DeleteWorkloadEnd,
                         RestoreWorkloadEnd (the workload's end, inside
                         its network namespace; the undo of a re-plug's
                         repairs)
=======================  ==================================================
"""

from __future__ import annotations

from os_vif.internal.kernel.base import (
    REGISTRY,
    KernelOperation,
    Scope,
    parse_plan,
)
from os_vif.internal.kernel.bridge import EnsureBridge, RemoveBridgeIfUnused
from os_vif.internal.kernel.firewall import (
    AllowBridgeForwarding,
    RevokeBridgeForwarding,
)
from os_vif.internal.kernel.link import DeleteDevice, SetLink
from os_vif.internal.kernel.sysctl import SYSCTLS, SetSysctl, disable_ipv6
from os_vif.internal.kernel.tap import EnsureTap
from os_vif.internal.kernel.veth import EnsureVeth
from os_vif.internal.kernel.vf import SetVf
from os_vif.internal.kernel.vlan import EnsureVlan
from os_vif.internal.kernel.workload import (
    DeleteWorkloadEnd,
    EnsureWorkloadEnd,
    RestoreWorkloadEnd,
)

__all__ = [
    "REGISTRY",
    "SYSCTLS",
    "AllowBridgeForwarding",
    "DeleteDevice",
    "DeleteWorkloadEnd",
    "EnsureBridge",
    "EnsureTap",
    "EnsureVeth",
    "EnsureVlan",
    "EnsureWorkloadEnd",
    "KernelOperation",
    "RemoveBridgeIfUnused",
    "RestoreWorkloadEnd",
    "RevokeBridgeForwarding",
    "Scope",
    "SetLink",
    "SetSysctl",
    "SetVf",
    "disable_ipv6",
    "parse_plan",
]
