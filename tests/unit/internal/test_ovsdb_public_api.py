"""The OVSDB client uses only ovsdbapp's and python-ovs's public interfaces.

Their private attributes (``txn._txn_rows``, ``row._data``, ``api._ovs``...)
change between releases without notice; reaching into them once made every
upgrade of python-ovs a risk.  Only the module's own objects (``self``,
``cls``) may have underscored attributes.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

from os_vif.internal import ovsdb

PACKAGE = pathlib.Path(ovsdb.__file__).parent
SOURCES = sorted(PACKAGE.glob("*.py"))


def _private_uses(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or name.startswith("__"):
            continue
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
            continue
        found.append("line %d: .%s" % (node.lineno, name))
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_private_attribute_of_another_object(path) -> None:
    assert _private_uses(ast.parse(path.read_text())) == []


def test_the_check_sees_private_uses() -> None:
    code = "rows = txn._txn_rows\nself._mine = row._data['ports']\n"
    assert _private_uses(ast.parse(code)) == [
        "line 1: ._txn_rows",
        "line 2: ._data",
    ]
