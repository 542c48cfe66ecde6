"""Unit tests stand alone: none imports a functional-test module.

Helpers both kinds of tests use live in ``tests/`` itself
(``tests/fake_sysfs.py``, ``tests/fake_vf_daemon.py``...), so that running the
unit tests never pulls in fixtures that need root or Open vSwitch.
"""

from __future__ import annotations

import ast
import pathlib

UNIT = pathlib.Path(__file__).resolve().parent


def _imported_modules(path: pathlib.Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names += [node.module + "." + a.name for a in node.names]
    return names


def test_no_unit_test_imports_a_functional_test_module():
    offenders = {
        str(path.relative_to(UNIT)): name
        for path in sorted(UNIT.rglob("*.py"))
        for name in _imported_modules(path)
        if name == "tests.functional" or name.startswith("tests.functional.")
    }
    assert offenders == {}
