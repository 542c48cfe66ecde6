"""plug/unplug check their arguments in os-vif 5.x's order.

LibraryNotInitialized first, whatever the arguments; then the VIF, then the
instance, then the plugin it names.  Objects that are not os_vif objects
but look enough like them are still dispatched, with a DeprecationWarning.
"""

from __future__ import annotations

import types
import warnings
from unittest import mock

import pytest

import os_vif
from os_vif import exception
from os_vif.objects import instance_info
from os_vif.sandbox import vifs

INSTANCE = instance_info.InstanceInfo(
    uuid="a3a5f1c4-7b1e-4a0e-9d76-5b6ad9cf6a21", name="vm-1", project_id="p1"
)

#: Values that are never a VIF nor an instance.
REFUSED = [
    None,
    "b2d6c7b4-1a0f-4a53-8b0c-1d2e3f4a5b6c",
    b"noop",
    3,
    2.5,
    True,
    {},
    {"plugin": "noop"},
    [],
    ["noop"],
    ("noop",),
    {"noop"},
]

CALLS = [
    pytest.param(os_vif.plug, "plug", exception.PlugException, id="plug"),
    pytest.param(
        os_vif.unplug, "unplug", exception.UnplugException, id="unplug"
    ),
]


class OutOfTreeVIF:
    """A VIF class of some client that does not derive from VIFBase."""

    id = "0e6b9a1c-95a4-4f5e-8f55-9d6d1f0c2a10"
    plugin = "noop"


@pytest.fixture
def noop(monkeypatch):
    """The loaded noop plugin, its plug and unplug recording their calls."""
    os_vif.initialize()
    plugin = os_vif._EXT_MANAGER["noop"].obj
    for method in ("plug", "unplug"):
        monkeypatch.setattr(plugin, method, mock.Mock(return_value=None))
    return plugin


@pytest.mark.parametrize("call,method,failure", CALLS)
@pytest.mark.parametrize(
    "args",
    [
        (None, None),
        ("x", 1),
        (vifs.nested_vif(), INSTANCE),
        (vifs.nested_vif(plugin="no"), {}),
    ],
)
def test_not_initialized_comes_first(monkeypatch, call, method, failure, args):
    monkeypatch.setattr(os_vif, "_EXT_MANAGER", None)
    with pytest.raises(exception.LibraryNotInitialized):
        call(*args)


@pytest.mark.parametrize("call,method,failure", CALLS)
@pytest.mark.parametrize("value", REFUSED, ids=repr)
def test_refused_vif_names_the_argument(noop, call, method, failure, value):
    with pytest.raises(exception.InvalidArgument) as caught:
        call(value, INSTANCE)
    assert caught.value.kwargs["field"] == "vif"
    assert caught.value.kwargs["value"] is value
    assert getattr(noop, method).call_count == 0


@pytest.mark.parametrize("call,method,failure", CALLS)
@pytest.mark.parametrize("value", REFUSED, ids=repr)
def test_refused_instance_names_the_argument(
    noop, call, method, failure, value
):
    with pytest.raises(exception.InvalidArgument) as caught:
        call(vifs.nested_vif(), value)
    assert caught.value.kwargs["field"] == "instance_info"
    assert getattr(noop, method).call_count == 0


def test_vif_is_checked_before_the_instance(noop):
    with pytest.raises(exception.InvalidArgument) as caught:
        os_vif.plug(None, None)
    assert caught.value.kwargs["field"] == "vif"


def test_arguments_are_checked_before_the_plugin_lookup(noop):
    with pytest.raises(exception.InvalidArgument) as caught:
        os_vif.plug(vifs.nested_vif(plugin="nosuch"), None)
    assert caught.value.kwargs["field"] == "instance_info"
    with pytest.raises(exception.NoMatchingPlugin):
        os_vif.plug(vifs.nested_vif(plugin="nosuch"), INSTANCE)


def test_object_without_plugin_attribute_is_refused(noop):
    with pytest.raises(exception.InvalidArgument) as caught:
        os_vif.plug(object(), INSTANCE)
    assert caught.value.kwargs["field"] == "vif"


@pytest.mark.parametrize("call,method,failure", CALLS)
def test_vif_lookalike_is_dispatched_with_a_warning(
    noop, call, method, failure
):
    lookalike = OutOfTreeVIF()
    with pytest.warns(DeprecationWarning) as caught:
        call(lookalike, INSTANCE)
    getattr(noop, method).assert_called_once_with(lookalike, INSTANCE)
    (warning,) = caught.list
    message = str(warning.message)
    assert "tests.unit.test_arguments.OutOfTreeVIF" in message
    assert "os_vif.%s()" % method in message
    # It points at the caller's line, not inside os_vif.
    assert warning.filename == __file__


def test_mock_vif_is_dispatched_on_its_plugin_attribute(noop):
    double = mock.MagicMock()
    double.plugin = "noop"
    with pytest.warns(DeprecationWarning, match="MagicMock"):
        os_vif.unplug(double, INSTANCE)
    noop.unplug.assert_called_once_with(double, INSTANCE)


@pytest.mark.parametrize("call,method,failure", CALLS)
@pytest.mark.parametrize(
    "other", [mock.sentinel.info, types.SimpleNamespace(uuid="x")], ids=str
)
def test_instance_lookalike_is_passed_on_with_a_warning(
    noop, call, method, failure, other
):
    with pytest.warns(DeprecationWarning) as caught:
        call(vifs.nested_vif(), other)
    getattr(noop, method).assert_called_once_with(vifs.nested_vif(), other)
    (warning,) = caught.list
    assert type(other).__qualname__ in str(warning.message)
    assert "instance_info" in str(warning.message)
    assert warning.filename == __file__


def test_os_vif_objects_give_no_warning(noop):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        os_vif.plug(vifs.nested_vif(), INSTANCE)
        os_vif.unplug(vifs.nested_vif(), INSTANCE)


def test_lookalike_naming_an_unknown_plugin(noop):
    lookalike = OutOfTreeVIF()
    lookalike.plugin = "nosuch"
    with pytest.warns(DeprecationWarning):
        with pytest.raises(exception.NoMatchingPlugin) as caught:
            os_vif.plug(lookalike, INSTANCE)
    assert caught.value.kwargs == {"plugin_name": "nosuch"}


def test_unhashable_plugin_name_is_no_matching_plugin(noop):
    lookalike = OutOfTreeVIF()
    lookalike.plugin = ["noop"]
    with pytest.warns(DeprecationWarning):
        with pytest.raises(exception.NoMatchingPlugin):
            os_vif.plug(lookalike, INSTANCE)


@pytest.mark.parametrize("call,method,failure", CALLS)
def test_plugins_own_exception_is_wrapped(noop, call, method, failure):
    inner = failure(vif="inner", err="device busy")
    getattr(noop, method).side_effect = inner
    subject = vifs.nested_vif()
    with pytest.raises(failure) as caught:
        call(subject, INSTANCE)
    outer = caught.value
    assert outer is not inner
    assert outer.kwargs == {"vif": subject, "err": inner}
    assert outer.__cause__ is inner
    verb = "plug" if method == "plug" else "unplug"
    assert str(outer) == "Failed to %s VIF %s. Got error: %s" % (
        verb,
        subject,
        inner,
    )


def test_other_os_vif_errors_of_a_plugin_are_wrapped_too(noop):
    noop.plug.side_effect = exception.InvalidArgument(
        field="vif.mtu", value=70000, reason="too large"
    )
    with pytest.raises(exception.PlugException) as caught:
        os_vif.plug(vifs.nested_vif(), INSTANCE)
    assert isinstance(caught.value.kwargs["err"], exception.InvalidArgument)
    assert "vif.mtu" in str(caught.value)


def test_base_exceptions_are_not_wrapped(noop):
    noop.plug.side_effect = KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        os_vif.plug(vifs.nested_vif(), INSTANCE)


def test_object_whose_plugin_attribute_raises_is_refused(noop):
    class Broken:
        @property
        def plugin(self):
            raise RuntimeError("lazy load failed")

    with pytest.raises(exception.InvalidArgument) as caught:
        os_vif.plug(Broken(), INSTANCE)
    assert caught.value.kwargs["field"] == "vif"
