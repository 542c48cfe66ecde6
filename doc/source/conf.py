"""Sphinx configuration of the os-vif documentation."""

from __future__ import annotations

import importlib
from typing import Any

project = "os-vif"
copyright = "os-vif developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode"]
master_doc = "index"
exclude_patterns = ["_build"]
html_theme = "alabaster"
autodoc_member_order = "bysource"

# Every cross-reference must resolve (warnings are errors in CI).
nitpicky = True
# Names of other projects: intersphinx would resolve them, but the docs are
# built offline, so they cannot be.  Nothing of os_vif's belongs here.
nitpick_ignore = [
    ("py:class", "collections.abc.Callable"),
    ("py:class", "collections.abc.Iterable"),
    ("py:class", "collections.abc.Iterator"),
    ("py:class", "collections.abc.Mapping"),
    ("py:class", "collections.abc.MutableMapping"),
    ("py:class", "collections.abc.Sequence"),
    ("py:class", "oslo_config.cfg.Opt"),
    ("py:data", "oslo_config.cfg.CONF"),
    ("py:class", "oslo_versionedobjects.fields.Field"),
    ("py:class", "oslo_versionedobjects.fields.T"),
    ("py:class", "oslo_versionedobjects.fields.UnspecifiedDefault"),
    ("py:attr", "obj_relationships"),  # oslo.versionedobjects' attribute
    ("py:class", "netaddr.IPAddress"),
]

#: The object types each cross-reference role may point at.
_ROLE_TYPES = {
    "class": ("class", "exception"),
    "exc": ("exception",),
    "meth": ("method",),
    "func": ("function",),
    "attr": ("attribute",),
}

#: How os_vif's modules import each other (``from os_vif.objects import
#: vif as vif_objects``): annotations name classes through these aliases.
MODULE_ALIASES = {
    "vif_objects": "os_vif.objects.vif",
    "host_info_objects": "os_vif.objects.host_info",
    "instance_info_objects": "os_vif.objects.instance_info",
    "workload_objects": "os_vif.objects.workload",
}


def _resolve_alias(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve os_vif's own shorthand names.

    ``vif_objects.VIFBase`` (a module alias) is
    ``os_vif.objects.vif.VIFBase``; a bare name (``Subnet`` in the generated
    field reference, ``obj_make_compatible`` in a subclass) is the one
    documented os_vif name it ends; a private name of os_vif (the type
    variable ``_PluginT``) has no page and is shown as text.  Anything else
    stays unresolved, and nitpicky reports it.
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    domain = env.get_domain("py")
    alias, _, rest = target.partition(".")
    if alias in MODULE_ALIASES and rest:
        full = MODULE_ALIASES[alias] + "." + rest
    elif "." not in target:
        types = _ROLE_TYPES.get(node.get("reftype"), ())
        found = [
            name
            for name, entry in domain.objects.items()
            if name.startswith("os_vif.")
            and name.endswith("." + target)
            and entry.objtype in types
            and not entry.aliased  # the canonical name of a re-export
        ]
        if len(found) != 1:
            return None
        full = found[0]
    elif target.startswith("os_vif.") and _is_private(target):
        return contnode
    else:
        return None
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], full, node,
        contnode,
    )


def _is_private(target: str) -> bool:
    """A private name of os_vif (``_PluginT``, ``_Peer``): no page of its
    own, by design; annotations show it as text."""
    module_name, _, name = target.rpartition(".")
    if not name.startswith("_"):
        return False
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return False
    return hasattr(module, name)


def setup(app: Any) -> None:
    """Register the alias resolver."""
    app.connect("missing-reference", _resolve_alias)
