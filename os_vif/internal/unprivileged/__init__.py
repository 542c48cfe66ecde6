"""What runs in the caller's process, with no privilege.

* :mod:`.linkstate` -- reads of network devices (raw netlink, ``/proc/sys``);
  the one :func:`~.linkstate.get_device`;
* :mod:`.sysfs`, :mod:`.dpdk_representor` -- SR-IOV discovery;
* :mod:`.plan` -- a plan: one VIF's operations over kernel and OVSDB;
* :mod:`.runner` -- runs plans: the cheap check, one privileged call, one
  OVSDB transaction, one undo for a failure anywhere;
* :mod:`.daemon` -- calling a privsep daemon with a timeout, and what to do
  when it dies or hangs.

The OVSDB client (:mod:`os_vif.internal.ovsdb`) runs here too.  Nothing
here changes the host by itself: kernel changes are operations sent to
:mod:`os_vif.internal.privileged`.
"""
