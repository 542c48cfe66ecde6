"""The network a VIF is on.

Public API: clients construct :class:`Network`, plugins read it.

A network loaded from a primitive that lacks ``subnets``, ``multi_host``,
``should_provide_bridge``, ``should_provide_vlan`` or ``mtu`` (Network 1.0
has no ``mtu``; older senders left the others out) reads as os-vif 5.x
reads it: the constructor's defaults (no subnets, False, None), and each of
these names is ``in`` the network.  The object still holds only what it was
sent: ``obj_attr_is_set`` says False for them and it is written back as it
was stored (5.x, which loads through the constructor, would add the
defaults to what it writes back).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from os_vif.objects import _ovo
from os_vif.objects import base as osv_base
from os_vif.objects._ovo import declare

if TYPE_CHECKING:
    from os_vif.objects.subnet import SubnetList

__all__ = ["Network"]


@ovo_base.VersionedObjectRegistry.register
class Network(osv_base.VersionedObject):
    """A layer-2 network and the subnets on it."""

    # 1.0: initial version
    # 1.1: mtu
    VERSION = "1.1"
    VERSION_STEPS = {"1.1": ("mtu",)}

    #: The neutron network ID.
    id: str = declare(fields.UUIDField())
    #: Name of the bridge the network's ports attach to.
    bridge: str = declare(fields.StringField())
    #: Human readable name of the network.
    label: str = declare(fields.StringField())
    #: The subnets of the network.
    subnets: SubnetList = declare(fields.ObjectField("SubnetList"))
    #: Whether the host must create the bridge.
    should_provide_bridge: bool = declare(fields.BooleanField())
    #: Whether the host must create the VLAN device on the bridge.
    should_provide_vlan: bool = declare(fields.BooleanField())
    #: The host interface the bridge uses for its uplink.
    bridge_interface: str | None = declare(fields.StringField(nullable=True))
    #: The VLAN ID of the network.
    vlan: int | None = declare(fields.IntegerField(nullable=True))
    #: Whether the network is served by every host (nova-network era).
    multi_host: bool = declare(fields.BooleanField())
    #: The network's MTU.
    mtu: int | None = declare(fields.IntegerField(nullable=True))

    obj_relationships = {"subnets": [("1.0", "1.0")]}

    def __init__(self, **kwargs: object) -> None:
        # These fields have no default in the schema (their fingerprint must
        # stay os-vif 5.x's), yet every reader expects them set: a network
        # is created with no subnets, no MTU and no bridge or VLAN to make.
        for name in _DEFAULTED:
            kwargs.setdefault(name, _default(name))
        super().__init__(**kwargs)

    def __contains__(self, name: object) -> bool:
        """``name in network``: a field with a value, or one of the
        defaulted fields (always there, as in os-vif 5.x; see the module).
        """
        if name in _DEFAULTED:
            return True
        return bool(super().__contains__(name))


#: The fields the constructor gives a value when it is not passed.
_DEFAULTED = (
    "subnets",
    "multi_host",
    "should_provide_bridge",
    "should_provide_vlan",
    "mtu",
)


def _default(name: str) -> Any:
    """The constructor's default for ``name`` (a new object each call)."""
    if name == "subnets":
        return _subnet_list()
    return None if name == "mtu" else False


_UNSET = object()


def _read_with_default(name: str) -> property:
    """``Network.<name>``: the value set, else the constructor's default.

    Replaces oslo.versionedobjects' property, whose getter raises
    NotImplementedError for an unset field of a class that loads nothing
    lazily.  The default is returned, not stored: storing it would make the
    field set, and written back, on a mere read.
    """
    generated = getattr(Network, name)

    def read(self: Network) -> Any:
        value = _ovo.value_or(self, name, _UNSET)
        return _default(name) if value is _UNSET else value

    return property(read, generated.fset, generated.fdel, generated.__doc__)


for _name in _DEFAULTED:
    setattr(Network, _name, _read_with_default(_name))
del _name


def _subnet_list() -> ovo_base.VersionedObject:
    # Imported late: subnet.py would otherwise be needed to import network.py
    # although neither module depends on the other's code.
    from os_vif.objects import subnet

    return subnet.SubnetList(objects=[])
