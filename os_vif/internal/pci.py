"""PCI addresses: syntax checking and normalisation.

A PCI address names a device as ``domain:bus:slot.function`` in hex
(``0000:03:00.2``).  Callers hand us addresses from VIF objects, and we
turn them into sysfs paths, so an address is checked before it is used.
"""

from __future__ import annotations

import re

from os_vif import exception

__all__ = ["normalize_pci_address", "pci_function"]

# Slots run 0x00-0x1f and functions 0-7; the domain is 16 bits.  Anything
# else could not name a device and must not reach a filesystem path.
_PCI_ADDRESS = re.compile(
    r"^(?P<domain>[0-9a-f]{4}):(?P<bus>[0-9a-f]{2}):"
    r"(?P<slot>[01][0-9a-f])\.(?P<function>[0-7])$"
)


def normalize_pci_address(address: object, field: str = "dev_address") -> str:
    """Return ``address`` in the lower-case form sysfs uses.

    Raise :class:`os_vif.exception.InvalidArgument` naming ``field`` when
    ``address`` is not a string of the form ``dddd:bb:ss.f``.
    """
    if not isinstance(address, str):
        raise exception.InvalidArgument(
            field=field, value=address, reason="a PCI address must be a string"
        )
    normalized = address.strip().lower()
    if not _PCI_ADDRESS.match(normalized):
        raise exception.InvalidArgument(
            field=field,
            value=address,
            reason="not a PCI address of the form dddd:bb:ss.f "
            "(hex domain, bus, slot 00-1f, function 0-7)",
        )
    return normalized


def pci_function(address: str) -> int:
    """Return the function number (0-7) of a normalised PCI address."""
    match = _PCI_ADDRESS.match(address)
    if match is None:
        raise exception.InvalidArgument(
            field="pci_address", value=address, reason="not a PCI address"
        )
    return int(match.group("function"))
