"""``os-vif plug``: plug the VIFs of a file into this host.

Every VIF of FILE is checked (as ``os-vif validate`` does) before the first
is plugged; then all are plugged in one batch (:func:`os_vif.plug_many`): a
VIF that fails undoes its own steps and does not stop the others.
"""

from __future__ import annotations

from os_vif.cli import _plugging

__all__ = ["SUMMARY", "add_arguments", "run"]

#: What ``os-vif --help`` says of the subcommand.
SUMMARY = "plug the VIFs of a file into this host"

add_arguments = _plugging.add_arguments
run = _plugging.run
