"""Details clients see of os-vif 5.x, kept: printing, messages, warnings.

The expected strings were observed by running os-vif 5.3.0 in a virtualenv
of its own.
"""

from __future__ import annotations

import warnings

import pytest
from oslo_config import cfg

from os_vif import exception, opts
from os_vif.objects import base, host_info, vif
from os_vif.plugin import PluginBase


class TestPrintable:
    def profile(self):
        profile = host_info.HostPortProfileInfo(
            profile_object_name="VIFPortProfileOpenVSwitch",
            min_version="1.0",
            max_version="1.4",
        )
        profile.obj_reset_changes()
        return profile

    def test_str_is_the_primitive(self):
        assert str(self.profile()) == (
            "{'versioned_object.name': 'HostPortProfileInfo', "
            "'versioned_object.namespace': 'os_vif', "
            "'versioned_object.version': '1.0', "
            "'versioned_object.data': {"
            "'profile_object_name': 'VIFPortProfileOpenVSwitch', "
            "'min_version': '1.0', 'max_version': '1.4'}}"
        )

    def test_nested_objects_are_printed_whole(self):
        vif_info = host_info.HostVIFInfo(
            vif_object_name="VIFOpenVSwitch",
            min_version="1.0",
            max_version="1.1",
            supported_port_profiles=[self.profile()],
        )
        plugin = host_info.HostPluginInfo(
            plugin_name="ovs", vif_info=[vif_info]
        )
        info = host_info.HostInfo(plugin_info=[plugin])
        for obj in (info, info.plugin_info[0], vif_info):
            assert str(obj) == str(obj.obj_to_primitive())
        text = str(info)
        assert "'plugin_name': 'ovs'" in text
        assert "'profile_object_name': 'VIFPortProfileOpenVSwitch'" in text

    def test_repr_stays_short(self):
        info = host_info.HostInfo(plugin_info=[])
        assert repr(info) == "HostInfo(plugin_info=[])"

    def test_unset_fields_are_left_out(self):
        assert str(host_info.HostInfo()) == (
            "{'versioned_object.name': 'HostInfo', "
            "'versioned_object.namespace': 'os_vif', "
            "'versioned_object.version': '1.0', 'versioned_object.data': {}}"
        )

    def test_class_without_primitive_keeps_its_str(self):
        class Plain(base.VersionedObjectPrintableMixin):
            pass

        class Own(base.VersionedObjectPrintableMixin):
            def __str__(self):
                return "own"

        assert str(Plain()).startswith("<")
        assert str(Own()) == "own"


#: Every exception class os-vif 5.3.0 has, and its template.
FIVE_X_TEMPLATES = {
    "ExceptionBase": "An unknown exception occurred.",
    "LibraryNotInitialized": (
        "Before using the os_vif library, you need to call "
        "os_vif.initialize()"
    ),
    "NoMatchingPlugin": "No VIF plugin was found with the name "
    "%(plugin_name)s",
    "NoMatchingPortProfileClass": "No PortProfile class was found with the "
    "name %(name)s",
    "NoSupportedPortProfileVersion": (
        "PortProfile class %(name)s versions %(got_versions)s do not "
        "satisfy min=%(min_version)s max=%(max_version)s"
    ),
    "NoMatchingVIFClass": "No VIF class was found with the name %(name)s",
    "NoSupportedVIFVersion": (
        "VIF class %(name)s versions %(got_versions)s do not satisfy "
        "min=%(min_version)s max=%(max_version)s"
    ),
    "PlugException": "Failed to plug VIF %(vif)s. Got error: %(err)s",
    "UnplugException": "Failed to unplug VIF %(vif)s. Got error: %(err)s",
    "NetworkMissingPhysicalNetwork": (
        "Physical network is missing for network %(network_uuid)s"
    ),
    "NetworkInterfaceNotFound": "Network interface %(interface)s not found",
    "NetworkInterfaceTypeNotDefined": (
        "Network interface type %(type)s not defined"
    ),
    "ExternalImport": (
        "Use of this module outside of os_vif is not allowed. It must not be "
        "imported in os-vif plugins that are out of tree as it is not a "
        "public interface of os-vif."
    ),
    "NotImplementedForOS": "Function %(function)s for %(os)s operating "
    "system",
}


class TestExceptionMessages:
    @pytest.mark.parametrize("name", sorted(FIVE_X_TEMPLATES))
    def test_template_is_worded_as_five_x(self, name):
        assert getattr(exception, name).msg_fmt == FIVE_X_TEMPLATES[name]

    @pytest.mark.parametrize("name", sorted(FIVE_X_TEMPLATES))
    def test_unfillable_template_is_the_message(self, name):
        cls = getattr(exception, name)
        assert str(cls()) == FIVE_X_TEMPLATES[name]
        assert str(cls(unrelated="x")) == FIVE_X_TEMPLATES[name]
        # An empty message counts as none.
        assert str(cls("")) == FIVE_X_TEMPLATES[name]

    def test_filled(self):
        err = exception.PlugException(vif="vif-1", err=ValueError("boom"))
        assert str(err) == "Failed to plug VIF vif-1. Got error: boom"
        assert err.format_message() == str(err) == err.args[0]

    def test_explicit_message(self):
        err = exception.UnplugException("as given", vif="vif-1")
        assert str(err) == err.format_message() == "as given"
        assert err.kwargs == {"vif": "vif-1"}


class NoStr(Exception):
    """An error whose str() raises, as ovsdbapp 3.0's TimeoutException()."""

    def __str__(self):
        raise AttributeError("msg")


class NoStrNoRepr(NoStr):
    def __repr__(self):
        raise RuntimeError("no repr either")


class TestFormattingNeverRaises:
    def test_ovsdbapp_timeout_without_arguments(self):
        from ovsdbapp import exceptions as ovsdbapp_exceptions

        timeout = ovsdbapp_exceptions.TimeoutException()
        with pytest.raises(AttributeError):
            str(timeout)  # what made os_vif's formatting raise
        err = exception.HostOperationFailed(
            operation="ovsdb transaction", device="br-int", err=timeout
        )
        text = str(err)
        assert text.startswith(
            "Host operation ovsdb transaction on br-int failed: "
            "TimeoutException: TimeoutException("
        )
        assert err.kwargs["err"] is timeout

    def test_plug_exception_keeps_the_vif(self):
        err = exception.PlugException(vif="vif-1", err=NoStr())
        assert str(err) == (
            "Failed to plug VIF vif-1. Got error: NoStr: NoStr()"
        )

    def test_repr_that_raises_too(self):
        err = exception.PlugException(vif="vif-1", err=NoStrNoRepr())
        assert str(err).startswith(
            "Failed to plug VIF vif-1. Got error: NoStrNoRepr: <"
        )

    def test_repr_conversion(self):
        err = exception.InvalidArgument(
            field="vif.mtu", value=NoStrNoRepr(), reason="bad"
        )
        assert str(err).startswith("Invalid vif.mtu <")
        assert str(err).endswith(">: bad")

    def test_printable_values_keep_their_conversion(self):
        class Counted(exception.ExceptionBase):
            msg_fmt = "%(count)03d errors, last: %(err)s"

        assert str(Counted(count=7, err=NoStr())) == (
            "007 errors, last: NoStr: NoStr()"
        )


class TestRepresentorProfileWarning:
    def test_construction_warns_pending_deprecation(self):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            vif.VIFPortProfileOVSRepresentor(representor_name="eth0")
        (warning,) = caught
        assert warning.category is PendingDeprecationWarning
        assert str(warning.message) == (
            "Using class 'VIFPortProfileOVSRepresentor' (either directly or "
            "via inheritance) is deprecated"
        )
        assert warning.filename == __file__

    def test_loading_warns_too(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            primitive = vif.VIFPortProfileOVSRepresentor(
                interface_id="e1a6c2f1-9a26-4c6a-8d0a-0b0e2d3a8c11"
            ).obj_to_primitive()
        with pytest.warns(PendingDeprecationWarning):
            vif.VIFPortProfileOVSRepresentor.obj_from_primitive(primitive)

    def test_other_profiles_are_silent(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            vif.VIFPortProfileOpenVSwitch(
                interface_id="e1a6c2f1-9a26-4c6a-8d0a-0b0e2d3a8c11"
            )


class NoOptions(PluginBase):
    def describe(self):
        return host_info.HostPluginInfo(plugin_name="x", vif_info=[])

    def plug(self, vif, instance_info):
        pass

    def unplug(self, vif, instance_info):
        pass


class WithOptions(NoOptions):
    CONFIG_OPTS = [cfg.IntOpt("depth", default=3, help="test option")]


class TestPluginLoad:
    def test_without_options_registers_no_group(self):
        plugin = NoOptions.load("details_no_options")
        assert not hasattr(cfg.CONF, "os_vif_details_no_options")
        assert plugin.config is not None
        with pytest.raises(cfg.NoSuchOptError):
            plugin.config.anything  # noqa: B018 - the lookup is the test

    def test_with_options_registers_its_group(self):
        plugin = WithOptions.load("details_with_options")
        assert plugin.config is cfg.CONF.os_vif_details_with_options
        assert plugin.config.depth == 3
        # Loading again (initialize(reset=True)) is harmless.
        assert WithOptions.load("details_with_options").config.depth == 3


class TestListPluginsOpts:
    def test_every_in_tree_plugin_has_its_group(self):
        groups = opts.list_plugins_opts()
        names = [group for group, _ in groups]
        assert names == sorted(names)
        assert {
            "os_vif_linux_bridge",
            "os_vif_noop",
            "os_vif_offload",
            "os_vif_ovs",
        } <= set(names)
        assert dict(groups)["os_vif_noop"] == []
        assert all(
            isinstance(opt, cfg.Opt) for _, group in groups for opt in group
        )

    def test_options_are_copies(self):
        from os_vif.plugins.ovs import OvsPlugin

        listed = dict(opts.list_plugins_opts())["os_vif_ovs"]
        assert [o.name for o in listed] == [
            o.name for o in OvsPlugin.CONFIG_OPTS
        ]
        assert not {id(o) for o in listed} & {
            id(o) for o in OvsPlugin.CONFIG_OPTS
        }

    def test_list_opts_adds_the_privsep_groups(self):
        names = [group for group, _ in opts.list_opts()]
        plugin_names = [group for group, _ in opts.list_plugins_opts()]
        assert names == plugin_names + list(opts.PRIVSEP_GROUPS)


def test_vif_plug_noop_is_five_x_path_of_the_noop_plugin():
    from os_vif.plugins import noop as in_tree
    from vif_plug_noop import noop

    assert noop.NoOpPlugin is in_tree.NoOpPlugin
    described = noop.NoOpPlugin.load("noop").describe()
    assert described.plugin_name == "noop"
    assert described.has_vif("VIFVHostUser")

