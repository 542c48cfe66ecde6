"""The in-tree plugins (internal: load them through os_vif.initialize)."""
