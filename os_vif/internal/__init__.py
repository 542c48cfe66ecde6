"""Host operations: privsep, netlink, OVSDB and sysfs (internal)."""
