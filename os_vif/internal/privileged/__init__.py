"""What runs inside the privsep daemon: os_vif's security boundary.

* :mod:`.context` -- the two privsep contexts, their capabilities, their
  one entrypoint ``execute(plan)`` and how their daemons start
  (:mod:`.helper`);
* :mod:`.executor` -- runs a plan received as plain data: validates every
  operation again, checks ownership before any change, applies, undoes a
  failed group, journals what it does so a killed daemon's work can be
  taken back (:mod:`.journal`);
* :mod:`.devices` and :mod:`.firewall` -- the kernel operation classes
  (their ``apply`` bodies run here; their ``check`` runs in the caller);
* :mod:`.ownership` -- which devices os_vif may change or delete;
* :mod:`.netlink` -- the daemon's pyroute2 sockets.

Nothing in :mod:`os_vif.internal.unprivileged` or in a plugin calls an
``apply`` body: the caller builds operations as data and sends them here.
"""
