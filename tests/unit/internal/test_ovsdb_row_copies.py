"""The OVSDB connection's copies of rows, kept by python-ovs's notify hook.

The functional tests (tests/functional/ovs) show the copies following a
real ovsdb-server; here, what a row that cannot be read does: the update
goes on (an exception in notify would make ovsdbapp reconnect) and the
row's readers fall back to the row itself.
"""

from __future__ import annotations

import logging
import types
import uuid
from typing import Any

import pytest
from ovs.db import idl as ovs_idl

from os_vif.internal.ovsdb import client, connection


class _Row:
    def __init__(self, broken: bool = False) -> None:
        self.uuid = uuid.uuid4()
        self.broken = broken
        self.name = "tap0"
        self.type = ""
        self.options: dict[str, str] = {}
        self.mtu_request = [1450]

    @property
    def external_ids(self) -> dict[str, str]:
        if self.broken:
            raise ValueError("cannot convert this column")
        return {"iface-id": "a-vif"}


def _idl(*interfaces: _Row) -> Any:
    # The notify hook alone: no connection to any server.
    idl = object.__new__(connection._WatchedIdl)
    idl.wiring_changes = 0
    idl.interface_configs = {}
    idl.row_members = {}
    idl.txn = None
    rows = {row.uuid: row for row in interfaces}
    idl.tables = {
        "Interface": types.SimpleNamespace(rows=rows),
        "Bridge": types.SimpleNamespace(rows={}),
        "Port": types.SimpleNamespace(rows={}),
    }
    return idl


def test_a_row_is_copied_when_created_and_dropped_when_deleted() -> None:
    row = _Row()
    idl = _idl(row)
    idl.notify(ovs_idl.ROW_CREATE, row)
    api = types.SimpleNamespace(idl=idl)
    found = client.interface_config(api, row)
    assert found is idl.interface_configs[row.uuid]
    assert (found.name, found.external_ids, found.mtu_request) == (
        "tap0",
        {"iface-id": "a-vif"},
        1450,
    )
    idl.notify(ovs_idl.ROW_DELETE, row)
    assert row.uuid not in idl.interface_configs


def test_a_row_that_cannot_be_copied_is_read_from_the_row(
    caplog: pytest.LogCaptureFixture,
) -> None:
    row = _Row()
    idl = _idl(row)
    idl.notify(ovs_idl.ROW_CREATE, row)
    row.broken = True
    with caplog.at_level(logging.ERROR):
        idl.notify(ovs_idl.ROW_UPDATE, row)  # must not raise
    # The stale copy is gone: readers ask the row (and see its error).
    assert row.uuid not in idl.interface_configs
    assert "Could not copy OVSDB row" in caplog.text
    api = types.SimpleNamespace(idl=idl)
    with pytest.raises(ValueError):
        client.interface_config(api, row)
    row.broken = False
    assert client.interface_config(api, row).external_ids == {
        "iface-id": "a-vif"
    }


def test_a_copy_is_not_used_inside_a_transaction() -> None:
    row = _Row()
    idl = _idl(row)
    idl.notify(ovs_idl.ROW_CREATE, row)
    idl.txn = object()
    api = types.SimpleNamespace(idl=idl)
    assert client.interface_config(api, row) is not idl.interface_configs[
        row.uuid
    ]
