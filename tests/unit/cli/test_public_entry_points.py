"""The os-vif command goes through os_vif's public entry points only."""

from __future__ import annotations

import ast
import pathlib

CLI = pathlib.Path(__file__).resolve().parents[3] / "os_vif" / "cli"


def _private_uses(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            names = [alias.name for alias in node.names]
            if parts[0] == "os_vif" and (
                any(p.startswith("_") for p in parts)
                or any(n.startswith("_") for n in names)
            ) and parts[:2] != ["os_vif", "cli"]:
                found.append("from %s import %s" % (node.module, names))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "os_vif" and any(
                    p.startswith("_") for p in parts
                ):
                    found.append("import " + alias.name)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os_vif"
            and node.attr.startswith("_")
        ):
            found.append("os_vif." + node.attr)
    return found


def test_the_cli_uses_no_private_os_vif_name() -> None:
    offenders = {
        path.name: uses
        for path in sorted(CLI.glob("*.py"))
        if (uses := _private_uses(path.read_text()))
    }
    assert not offenders


def test_the_scan_finds_private_uses() -> None:
    assert _private_uses(
        "import os_vif\n"
        "from os_vif import _dispatch\n"
        "from os_vif._serialization import decode\n"
        "import os_vif._plugin_loader\n"
        "os_vif._EXT_MANAGER\n"
    ) == [
        "from os_vif import ['_dispatch']",
        "from os_vif._serialization import ['decode']",
        "import os_vif._plugin_loader",
        "os_vif._EXT_MANAGER",
    ]
    assert not _private_uses("from os_vif.cli import _documents\n")
