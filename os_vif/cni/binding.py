"""The VIF's two ends for an attachment: what ADD makes and DEL removes.

Binding an attachment means plugging the VIF's host end (what os_vif's
plugins do for a VM today) and making its workload end in the container's
namespace (the veth peer, or the nested VLAN / macvlan sub-interface),
named, addressed and routed as the VIF says.  The workload end belongs in
the plugins (issue 22, item 1), on the plugin shape being reshaped now; so
this module has the interface the commands use, :class:`Binding`, and for
now only :class:`NotYetBinding`, which refuses every binding with the CNI
error "not yet" (code 100).  Everything around it -- the protocol, the
records, IPAM, DEL of what was never bound, GC, STATUS -- is real.
"""

from __future__ import annotations

from typing import Protocol

from os_vif.cni.protocol import CniError, ErrorCode
from os_vif.cni.store import BOUND, Record

__all__ = ["Binding", "NotYetBinding", "not_yet", "workload_binding"]


class Binding(Protocol):
    """Makes, checks and removes both ends of an attachment's VIF."""

    def unavailable(self) -> str | None:
        """Why no attachment can be bound now (STATUS), or None."""

    def bind(self, record: Record) -> None:
        """Make both ends of ``record.vif``; undo what was made on error."""

    def check(self, record: Record) -> None:
        """Raise a :class:`CniError` if the ends differ from the VIF."""

    def unbind(self, record: Record) -> None:
        """Remove both ends (idempotent; a pending record may be partial)."""


def not_yet(what: str) -> CniError:
    """The error of a command that needs the workload's end."""
    return CniError(
        ErrorCode.NOT_YET,
        "not yet: os-vif-cni cannot %s: binding a VIF's workload end "
        "waits for the plugins' new shape (issue 22)" % what)


class NotYetBinding:
    """The binding until the plugins bind the workload's end: none."""

    def unavailable(self) -> str | None:
        """Always a reason: nothing can be bound yet."""
        return not_yet("bind an attachment").msg

    def bind(self, record: Record) -> None:
        """Refuse, having made nothing."""
        raise not_yet("bind %s/%s" % (record.container_id, record.ifname))

    def check(self, record: Record) -> None:
        """Refuse: there is nothing this binding could have made."""
        raise not_yet("check the ends of %s/%s"
                      % (record.container_id, record.ifname))

    def unbind(self, record: Record) -> None:
        """Nothing to remove for a record this binding never bound.

        A bound record comes from a binding that can make ends; this one
        cannot remove them, and says so rather than forget them.
        """
        if record.state == BOUND:
            raise not_yet("remove the ends of %s/%s"
                          % (record.container_id, record.ifname))


def workload_binding() -> Binding:
    """The binding the daemon uses (for now :class:`NotYetBinding`)."""
    return NotYetBinding()
