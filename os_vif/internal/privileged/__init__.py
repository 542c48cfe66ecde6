"""What runs inside the privsep daemon: os_vif's security boundary.

* :mod:`.context` -- the two privsep contexts, their capabilities, their
  one entrypoint ``execute(plan)`` and how their daemons start
  (:mod:`.helper`);
* :mod:`.executor` -- runs a plan received as plain data: parses every
  operation again (:func:`os_vif.internal.kernel.parse_plan`), admits
  each (ownership) before any change, applies, undoes a failed group,
  journals what it does so a killed daemon's work can be taken back
  (:mod:`.journal`);
* :mod:`.apply` -- the group's :class:`~.apply.Context` and the table of
  apply functions, which the family modules fill: :mod:`.link` (the one
  netlink request that brings a device to what is wanted; SetLink,
  DeleteDevice), :mod:`.bridge`, :mod:`.tap` (the tap ioctl),
  :mod:`.veth`, :mod:`.vlan`, :mod:`.sysctl` (``/proc/sys`` writes),
  :mod:`.vf`, :mod:`.firewall` (nf_tables writes);
* :mod:`.netlink` -- the daemon's rtnetlink sockets.

The operations themselves (arguments, validation, wire form, admission,
check, the comparison of wanted and actual) are shared with the caller in
:mod:`os_vif.internal.kernel`.  This package imports nothing of the
caller's side: not :mod:`os_vif.internal.unprivileged`, the OVSDB client,
the plugins, the loader, the CLI, serialisation or the sandbox.
"""
