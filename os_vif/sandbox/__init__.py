"""Throwaway environments for the ``os-vif demo`` command and the tests.

:mod:`os_vif.sandbox.netns` makes a network namespace and runs the calling
thread (and the privsep daemons) inside it; :mod:`os_vif.sandbox.ovs`
runs a private ovsdb-server and ovs-vswitchd.  Internal: not for clients.
"""
