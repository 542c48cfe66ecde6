"""obj_attr_is_set answers as oslo.versionedobjects does, only faster."""

from __future__ import annotations

import pytest
from oslo_versionedobjects import base as ovo_base

from os_vif.objects import network, vif


def _ovo_answer(obj: ovo_base.VersionedObject, name: str) -> bool:
    return bool(ovo_base.VersionedObject.obj_attr_is_set(obj, name))


@pytest.mark.parametrize("name", sorted(vif.VIFBridge.fields))
def test_every_field_unset_then_set_then_deleted(name: str) -> None:
    full = vif.VIFBridge(
        id="b2d6c7b4-1a0f-4a53-8b0c-1d2e3f4a5b6c",
        address="fa:16:3e:11:22:33",
        bridge_name="qbr0",
        network=network.Network(id="5c6e8c36-8f1e-4e4b-9c3b-7f0a0f3ddc7a"),
    )
    empty = vif.VIFBridge()
    for obj in (full, empty):
        assert obj.obj_attr_is_set(name) == _ovo_answer(obj, name)
    if full.obj_attr_is_set(name):
        delattr(full, name)
        assert not full.obj_attr_is_set(name)
        assert not _ovo_answer(full, name)


def test_a_name_that_is_no_field_raises_attribute_error() -> None:
    obj = vif.VIFOpenVSwitch()
    with pytest.raises(AttributeError):
        obj.obj_attr_is_set("no_such_field")
    with pytest.raises(AttributeError):
        ovo_base.VersionedObject.obj_attr_is_set(obj, "no_such_field")
