"""os-vif 5.x's ``os_vif.utils``, kept for code that imports it.

Deprecated: importing it emits a :class:`DeprecationWarning`.  Its two
helpers are one-line bit operations; write them where they are needed
(``data | mask``, ``data & ~mask``).  Nothing in os_vif uses them.
"""

from __future__ import annotations

import warnings

__all__ = ["set_mask", "unset_mask"]

warnings.warn(
    "os_vif.utils is deprecated and will be removed: use the bit operations "
    "directly (set_mask(data, mask) is data | mask, unset_mask(data, mask) "
    "is data & ~mask within bit_size bits)",
    DeprecationWarning,
    stacklevel=2,
)


def set_mask(data: int, mask: int) -> int:
    """Return ``data`` with the bits of ``mask`` set."""
    return data | mask


def unset_mask(data: int, mask: int, bit_size: int = 32) -> int:
    """Return ``data`` with the bits of ``mask`` cleared.

    The result keeps only the low ``bit_size`` bits, as os-vif 5.x's did.
    """
    return data & ((1 << bit_size) - 1) & ~mask
