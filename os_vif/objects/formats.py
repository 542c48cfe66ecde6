"""The text forms of the addresses a VIF carries, written once.

A MAC address is six lower-case hex pairs separated by colons; a PCI
address is ``domain:bus:device.function`` in lower-case hex (the form sysfs
and os-vif 5.x use).  :mod:`os_vif.internal.validation` checks a host
operation's arguments against these patterns and
:mod:`os_vif._serialization.decode` checks what it reads: both match the
text lower-cased, and a pattern matches only the whole text (a trailing
newline included in what it refuses).
"""

from __future__ import annotations

import re

__all__ = ["MAC_ADDRESS", "PCI_ADDRESS"]

#: A MAC address, lower-case, colon-separated.
MAC_ADDRESS = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}\Z")
#: A PCI address (``0000:03:00.1``), lower-case.
PCI_ADDRESS = re.compile(r"[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]\Z")
