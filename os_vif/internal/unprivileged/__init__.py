"""What runs in the caller's process, with no privilege.

* :mod:`.sysfs`, :mod:`.dpdk_representor` -- SR-IOV discovery;
* :mod:`.plan` -- a plan: one VIF's operations over kernel and OVSDB;
* :mod:`.runner` -- runs plans: the cheap check, one privileged call, one
  OVSDB transaction, one undo for a failure anywhere;
* :mod:`.daemon` -- calling a privsep daemon with a timeout, and what to do
  when it dies or hangs.

The OVSDB client (:mod:`os_vif.internal.ovsdb`) runs here too.  Nothing
here changes the host by itself: kernel changes are operations
(:mod:`os_vif.internal.kernel`) sent to :mod:`os_vif.internal.privileged`.
What both sides read -- devices (:mod:`os_vif.internal.linkstate`), the
ownership rule (:mod:`os_vif.internal.ownership`) -- is shared.
"""
