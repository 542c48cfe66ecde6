"""oslo.versionedobjects' private layout, as os_vif.objects._ovo reads it.

Checked on real objects of the installed oslo.versionedobjects release: if
a release stores fields, changes, the context or the manifest elsewhere, or
renames the hooks os_vif overrides, these tests fail and name the release.
And no os_vif module but ``_ovo`` uses those names.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import pathlib
import re

import pytest
from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields as ovo_fields

from os_vif import objects
from os_vif.objects import _ovo, host_info, network, pod_state, subnet, vif

objects.register_all()

INSTALLED = importlib.metadata.version("oslo.versionedobjects")
WHO = "oslo.versionedobjects %s (os_vif.objects._ovo verified with %s)" % (
    INSTALLED,
    _ovo.VERIFIED_WITH,
)
ROOT = pathlib.Path(__file__).resolve().parents[3] / "os_vif"


def _vif() -> vif.VIFOpenVSwitch:
    return vif.VIFOpenVSwitch(
        id="f4f1a1c4-0e2b-4a5b-9b39-0e6c1ab1f1a1",
        address="fa:16:3e:00:00:01",
        network=network.Network(id="d6a2f1c4-0e2b-4a5b-9b39-0e6c1ab1f1a1"),
        port_profile=vif.VIFPortProfileOpenVSwitch(
            interface_id="e1a2f1c4-0e2b-4a5b-9b39-0e6c1ab1f1a1",
            datapath_offload=vif.DatapathOffloadRepresentor(
                representor_name="rep0"
            ),
        ),
    )


def test_a_set_field_is_stored_under_its_attribute() -> None:
    obj = _vif()
    stored = _ovo.storage(obj)
    assert stored.get(_ovo.attribute("address")) == "fa:16:3e:00:00:01", WHO
    assert _ovo.ATTRIBUTES["address"] == _ovo.attribute("address")
    assert _ovo.value_or(obj, "address") == obj.address, WHO
    assert _ovo.is_set(obj, "address") and obj.obj_attr_is_set("address")
    # An unset field has no attribute, and the public answer agrees.
    assert not _ovo.is_set(obj, "vif_name"), WHO
    assert not ovo_base.VersionedObject.obj_attr_is_set(obj, "vif_name")
    assert _ovo.value_or(obj, "vif_name", "-") == "-"
    del obj.address
    assert _ovo.attribute("address") not in _ovo.storage(obj), WHO


def test_os_vif_fields_are_read_by_the_fast_reader() -> None:
    """Registration's property maker is wrapped; reads keep o.vo's answers."""
    assert ovo_base._make_class_properties is _ovo._make_properties, WHO
    assert callable(_ovo._make_class_properties), WHO
    made = vars(vif.VIFOpenVSwitch)["address"]
    assert made.fget.__name__ == "address"
    assert made.fget.__qualname__.startswith("_reader."), WHO
    obj = _vif()
    assert obj.address == "fa:16:3e:00:00:01"
    obj.address = "fa:16:3e:00:00:02"
    assert obj.address == "fa:16:3e:00:00:02"
    assert "address" in obj.obj_what_changed()
    # An unset field raises as oslo.versionedobjects' own reader does.
    with pytest.raises(NotImplementedError, match="vif_name"):
        _ = obj.vif_name
    del obj.address
    assert not obj.obj_attr_is_set("address")

    # Another project's objects keep oslo.versionedobjects' reader (made
    # as registration makes it, without registering a class for good).
    @ovo_base.VersionedObjectRegistry.objectify
    class ForeignThing(ovo_base.VersionedObject):
        VERSION = "1.0"
        fields = {"name": ovo_fields.StringField()}

    foreign = vars(ForeignThing)["name"].fget
    assert not foreign.__qualname__.startswith("_reader."), WHO
    assert ForeignThing(name="x").name == "x"


def test_changes_and_context_are_where_we_read_them() -> None:
    obj = _vif()
    stored = _ovo.storage(obj)
    assert set(_ovo.changed_fields(stored)) == set(
        ovo_base.VersionedObject.obj_what_changed(obj)
    ), WHO
    assert type(stored[_ovo.CHANGED_FIELDS]) is set, WHO
    obj.obj_reset_changes()
    assert set(_ovo.changed_fields(stored)) == set(), WHO
    assert obj.obj_context is None and "_context" in stored, WHO


def test_an_object_built_from_values_is_a_whole_object() -> None:
    made = _ovo.new_loaded(
        network.Network,
        {"id": "d6a2f1c4-0e2b-4a5b-9b39-0e6c1ab1f1a1", "label": "n"},
        {"label"},
        "1.0",
    )
    assert made.VERSION == "1.0"
    assert made.label == "n" and made.obj_attr_is_set("id")
    assert not made.obj_attr_is_set("mtu")
    assert made.obj_what_changed() == {"label"}, WHO
    assert made.obj_context is None, WHO
    assert made.obj_to_primitive()["versioned_object.data"] == {
        "id": "d6a2f1c4-0e2b-4a5b-9b39-0e6c1ab1f1a1",
        "label": "n",
    }
    made.mtu = 1400
    assert made.obj_what_changed() == {"label", "mtu"}, WHO


def test_field_types_are_read_from_their_declarations() -> None:
    ftype = _ovo.declared_type(vif.VIFBase.fields["network"])
    assert isinstance(ftype, ovo_fields.Object), WHO
    assert _ovo.object_type(ftype) == ("Network", False), WHO
    assert _ovo.accepts_subclasses(
        vif.VIFPortProfileBase.fields["datapath_offload"]
    ), WHO
    assert not _ovo.accepts_subclasses(vif.VIFBase.fields["network"])
    listed = _ovo.declared_type(subnet.SubnetList.fields["objects"])
    assert isinstance(listed, ovo_fields.List), WHO
    assert _ovo.object_type(_ovo.element_type(listed)) == (
        "Subnet",
        False,
    ), WHO
    ips = _ovo.declared_type(subnet.Subnet.fields["dns"])
    assert isinstance(_ovo.element_type(ips), ovo_fields.IPAddress), WHO
    vifs = _ovo.declared_type(pod_state.PodState.fields["additional_vifs"])
    assert isinstance(vifs, ovo_fields.Dict), WHO
    assert _ovo.object_type(_ovo.element_type(vifs)) == ("VIFBase", True)
    assert _ovo.declared_type(host_info.HostInfo.fields["plugin_info"])


def test_the_overridden_hooks_exist_with_their_signatures() -> None:
    base = ovo_base.VersionedObject
    assert list(
        inspect.signature(base._obj_relationship_for).parameters
    ) == ["self", "field", "target_version"], WHO
    assert list(
        inspect.signature(base.__dict__["_obj_from_primitive"].__func__)
        .parameters
    ) == ["cls", "context", "objver", "primitive"], WHO


def test_the_hooks_are_called(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, object]] = []
    original = vif.VIFOpenVSwitch.child_relationship

    def spy(self, field, target_version, manifest):  # type: ignore[no-untyped-def]
        seen.append((field, manifest))
        return original(self, field, target_version, manifest)

    monkeypatch.setattr(vif.VIFOpenVSwitch, "child_relationship", spy)
    manifest = {"VIFOpenVSwitch": "1.0", "Network": "1.1"}
    _vif().obj_to_primitive(target_version="1.0", version_manifest=manifest)
    assert ("network", manifest) in seen, WHO
    monkeypatch.undo()
    # Loaded: only what was sent (the constructor's defaults are dropped).
    sent = network.Network(id="d6a2f1c4-0e2b-4a5b-9b39-0e6c1ab1f1a1")
    primitive = sent.obj_to_primitive()
    del primitive["versioned_object.data"]["mtu"]
    loaded = network.Network.obj_from_primitive(primitive)
    assert not _ovo.is_set(loaded, "mtu"), WHO


# Names of oslo.versionedobjects' private state and hooks.
PRIVATE = re.compile(
    r"\b_obj_\w+|_changed_fields|\._context\b|[\"']_context[\"']"
    r"|_element_type|\._type\b|\._subclasses\b|_obj_name\b"
)


def test_only_ovo_touches_private_state() -> None:
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        if path.name == "_ovo.py" and path.parent.name == "objects":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if PRIVATE.search(line):
                offenders.append(
                    "%s:%d: %s"
                    % (path.relative_to(ROOT.parent), number, line.strip())
                )
    assert not offenders, "\n".join(offenders)


def test_the_private_pattern_finds_what_it_looks_for() -> None:
    for sample in (
        "x._obj_network",
        'd["_changed_fields"]',
        "self._context = None",
        'state["_context"]',
        "f._element_type._type",
        "t._obj_name",
    ):
        assert PRIVATE.search(sample), sample
    for sample in ("priv_context.PrivContext", "stack.enter_context(x)"):
        assert not PRIVATE.search(sample), sample
