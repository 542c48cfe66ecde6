"""``os-vif unplug``: unplug the VIFs of a file from this host.

Every VIF of FILE is loaded before the first is unplugged; then all are
unplugged in one batch (:func:`os_vif.unplug_many`): one VIF's failure
does not stop the others.
"""

from __future__ import annotations

from os_vif.cli import _plugging

__all__ = ["SUMMARY", "add_arguments", "run"]

#: What ``os-vif --help`` says of the subcommand.
SUMMARY = "unplug the VIFs of a file from this host"

add_arguments = _plugging.add_arguments
run = _plugging.run
