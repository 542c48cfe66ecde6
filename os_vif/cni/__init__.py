"""os-vif as a CNI 1.1 plugin (``os-vif-cni``).

A container runtime runs a CNI plugin once per call, with the call in the
environment (``CNI_COMMAND``...) and the network configuration on stdin.
A Python process that imports os_vif costs more than the whole call of
the reference plugins, so the executable the runtime starts is a small C
client (:mod:`os_vif.cni.shim`) that forwards the call to a long-lived
daemon (:mod:`os_vif.cni.server`) and relays its answer.

Modules:

* :mod:`~os_vif.cni.protocol`: the CNI protocol as pure data: the call,
  the network configuration, results, errors, VERSION;
* :mod:`~os_vif.cni.store`: one record per attachment (container id +
  interface) on the host, so that DEL, CHECK and GC work after a restart;
* :mod:`~os_vif.cni.ipam`: delegation of addresses to a standard IPAM
  plugin (``host-local``);
* :mod:`~os_vif.cni.commands`: what each command does;
* :mod:`~os_vif.cni.binding`: both ends of the VIF, through os_vif's
  public API (:func:`os_vif.plug` with the workload's end);
* :mod:`~os_vif.cni.server`: the daemon and its wire format;
* :mod:`~os_vif.cni.shim`: builds the C client.
"""
