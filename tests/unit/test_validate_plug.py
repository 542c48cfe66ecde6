"""validate_plug: declared on PluginBase, reached through os_vif's public
entry points (os_vif.validate_plug, os_vif.plugin_for)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import os_vif
from os_vif import exception, plugin
from os_vif.objects import instance_info
from os_vif.plugins import noop
from os_vif.sandbox import vifs

INSTANCE = instance_info.InstanceInfo(
    uuid="a3a5f1c4-7b1e-4a0e-9d76-5b6ad9cf6a21", name="vm-1", project_id="p1"
)


def test_declared_on_the_base_with_the_plug_signature() -> None:
    declared = plugin.PluginBase.__dict__["validate_plug"]
    assert not getattr(declared, "__isabstractmethod__", False)
    assert list(inspect.signature(declared).parameters) == list(
        inspect.signature(plugin.PluginBase.plug).parameters
    )
    assert declared.__doc__ and "plug" in declared.__doc__


def test_the_default_accepts_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    os_vif.initialize()
    # The noop plugin without its own override: the base's default.
    monkeypatch.delattr(noop.NoOpPlugin, "validate_plug")
    target = os_vif.plugin_for(vifs.nested_vif())
    assert type(target).validate_plug is plugin.PluginBase.validate_plug
    assert os_vif.validate_plug(vifs.nested_vif(), INSTANCE) is None


def test_the_plugins_refusal_is_raised_unwrapped_and_nothing_plugged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    os_vif.initialize()
    refusal = exception.InvalidArgument(
        field="vif.vif_name", value="x" * 20, reason="too long"
    )
    calls: list[str] = []

    def refuse(self: Any, vif: Any, instance: Any) -> None:
        calls.append("validate_plug")
        raise refusal

    def plug(self: Any, vif: Any, instance: Any) -> None:
        calls.append("plug")

    monkeypatch.setattr(noop.NoOpPlugin, "validate_plug", refuse)
    monkeypatch.setattr(noop.NoOpPlugin, "plug", plug)
    with pytest.raises(exception.InvalidArgument) as caught:
        os_vif.validate_plug(vifs.nested_vif(), INSTANCE)
    assert caught.value is refusal
    assert calls == ["validate_plug"]


def test_the_checks_of_plug_come_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    os_vif.initialize()
    with pytest.raises(exception.NoMatchingPlugin):
        os_vif.validate_plug(vifs.nested_vif(plugin="nosuch"), INSTANCE)
    with pytest.raises(exception.InvalidArgument) as caught:
        os_vif.validate_plug(vifs.nested_vif(), None)  # type: ignore[arg-type]
    assert caught.value.kwargs["field"] == "instance_info"
    monkeypatch.setattr(os_vif, "_EXT_MANAGER", None)
    for call in (
        lambda: os_vif.validate_plug(vifs.nested_vif(), INSTANCE),
        lambda: os_vif.plugin_for(vifs.nested_vif()),
    ):
        with pytest.raises(exception.LibraryNotInitialized):
            call()


def test_plugin_for_names_the_plugin_plug_would_use() -> None:
    os_vif.initialize()
    found = os_vif.plugin_for(vifs.nested_vif(), INSTANCE)
    assert isinstance(found, noop.NoOpPlugin)
    with pytest.raises(exception.NoMatchingPlugin):
        os_vif.plugin_for(vifs.nested_vif(plugin="nosuch"))
    with pytest.raises(exception.InvalidArgument) as caught:
        os_vif.plugin_for("not a vif")  # type: ignore[arg-type]
    assert caught.value.kwargs["field"] == "vif"
    with pytest.raises(exception.InvalidArgument):
        os_vif.plugin_for(vifs.nested_vif(), "x")  # type: ignore[arg-type]
