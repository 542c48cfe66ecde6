"""Host operations: privsep, netlink, OVSDB and sysfs (internal).

Shared by both sides of the privsep boundary: :mod:`.operation`,
:mod:`.validation`, :mod:`.names`, :mod:`.linkstate`, :mod:`.ownership`,
:mod:`.socket_cache` and the kernel operations, :mod:`.kernel`.  Only in
the privsep daemon: :mod:`.privileged`.  Only in the caller:
:mod:`.unprivileged` and the OVSDB client, :mod:`.ovsdb`.
"""
