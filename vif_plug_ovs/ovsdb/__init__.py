"""os-vif 5.x's ``vif_plug_ovs.ovsdb`` package, kept for third-party plugins.

Only :mod:`.ovsdb_lib` (``BaseOVS``) is provided, deprecated; 5.x's
``api``, ``impl_idl`` and ``impl_vsctl`` were the backends behind it and
are not (see ``doc/source/plugins/authors.rst``).
"""
