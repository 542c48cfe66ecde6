"""Exceptions raised by os_vif and by its plugins.

This module is public API.  Clients catch these classes; plugins raise them
and may subclass them (together with :class:`os_vif.plugin.PluginBase`, they
are the only os_vif classes meant for subclassing).

Every exception takes its message parameters as keyword arguments, named as
in os-vif 5.x, so ``NoMatchingPlugin(plugin_name='ovs')`` works unchanged.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ExceptionBase",
    "LibraryNotInitialized",
    "NoMatchingPlugin",
    "NoMatchingPortProfileClass",
    "NoSupportedPortProfileVersion",
    "NoMatchingVIFClass",
    "NoSupportedVIFVersion",
    "PlugException",
    "UnplugException",
    "NetworkMissingPhysicalNetwork",
    "NetworkInterfaceNotFound",
    "NetworkInterfaceTypeNotDefined",
    "ExternalImport",
    "NotImplementedForOS",
    "InvalidArgument",
    "TapCreationNotSupported",
    "HostOperationFailed",
    "DeviceDiscoveryFailed",
    "DeserializationError",
    "HostOperationRefused",
]


class _Shown:
    """Stands in a message for a value whose ``str()`` or ``repr()`` raises.

    ovsdbapp 3.0's ``TimeoutException()`` made without arguments is one:
    its ``__str__`` reads an attribute that was never set.  The message
    then shows the value's type and whatever of its ``repr()`` works, and
    keeps the rest of the template (the operation, the device...).
    """

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        try:
            return repr(self.value)
        except Exception:
            return object.__repr__(self.value)

    def __str__(self) -> str:
        return "%s: %s" % (type(self.value).__name__, self.__repr__())


def _printable(value: Any) -> bool:
    try:
        str(value)
        repr(value)
    except Exception:
        return False
    return True


class ExceptionBase(Exception):
    """Root of every os_vif exception.

    Subclasses set ``msg_fmt``, a ``%``-style template filled from the
    keyword arguments.  The keyword arguments stay available as
    ``kwargs`` so that callers can act on them without parsing text.

    As in os-vif 5.x, an explicit non-empty ``message`` is used as it is,
    and a template that cannot be filled (a parameter missing or misnamed)
    gives the template itself.  Making the message never raises: a
    parameter whose ``str()`` fails is shown by its type and ``repr()``.
    """

    msg_fmt = "An unknown exception occurred."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        self.kwargs = kwargs
        if not message:
            message = self._fill_template(kwargs)
        self.message = message
        super().__init__(message)

    def _fill_template(self, kwargs: dict[str, Any]) -> str:
        try:
            return self.msg_fmt % kwargs
        except Exception:  # the fallbacks below say why
            pass
        # Only the values that cannot be printed are replaced, so that a
        # "%(timeout)d" still gets its number.
        shown = {
            key: value if _printable(value) else _Shown(value)
            for key, value in kwargs.items()
        }
        try:
            return self.msg_fmt % shown
        except Exception:
            return str(self.msg_fmt)

    def format_message(self) -> str:
        """Return the human readable message of this exception."""
        # The first argument, as in os-vif 5.x: it is what pickling (and so
        # privsep) carries across.
        return str(self.args[0]) if self.args else self.message


class LibraryNotInitialized(ExceptionBase):
    """os_vif was used before :func:`os_vif.initialize` was called."""

    msg_fmt = (
        "Before using the os_vif library, you need to call "
        "os_vif.initialize()"
    )


class NoMatchingPlugin(ExceptionBase):
    """No loaded plugin has the name ``plugin_name``."""

    msg_fmt = "No VIF plugin was found with the name %(plugin_name)s"


class NoMatchingPortProfileClass(ExceptionBase):
    """No port profile class is known by the name ``name``."""

    msg_fmt = "No PortProfile class was found with the name %(name)s"


class NoSupportedPortProfileVersion(ExceptionBase):
    """A port profile class exists but none of its versions fit the range."""

    msg_fmt = (
        "PortProfile class %(name)s versions %(got_versions)s do not "
        "satisfy min=%(min_version)s max=%(max_version)s"
    )


class NoMatchingVIFClass(ExceptionBase):
    """No VIF class is known by the name ``name``."""

    msg_fmt = "No VIF class was found with the name %(name)s"


class NoSupportedVIFVersion(ExceptionBase):
    """A VIF class exists but none of its versions fit the range."""

    msg_fmt = (
        "VIF class %(name)s versions %(got_versions)s do not satisfy "
        "min=%(min_version)s max=%(max_version)s"
    )


class PlugException(ExceptionBase):
    """A plugin failed to plug ``vif``; ``err`` is the underlying error."""

    msg_fmt = "Failed to plug VIF %(vif)s. Got error: %(err)s"


class UnplugException(ExceptionBase):
    """A plugin failed to unplug ``vif``; ``err`` is the underlying error."""

    msg_fmt = "Failed to unplug VIF %(vif)s. Got error: %(err)s"


class NetworkMissingPhysicalNetwork(ExceptionBase):
    """The network ``network_uuid`` needs a physical network and has none."""

    msg_fmt = "Physical network is missing for network %(network_uuid)s"


class NetworkInterfaceNotFound(ExceptionBase):
    """The host has no network interface named ``interface``."""

    msg_fmt = "Network interface %(interface)s not found"


class NetworkInterfaceTypeNotDefined(ExceptionBase):
    """The interface type ``type`` is not one os_vif knows how to create."""

    msg_fmt = "Network interface type %(type)s not defined"


class ExternalImport(ExceptionBase):
    """An internal os_vif module was imported from outside os_vif."""

    msg_fmt = (
        "Use of this module outside of os_vif is not allowed. It must not "
        "be imported in os-vif plugins that are out of tree as it is not a "
        "public interface of os-vif."
    )


class NotImplementedForOS(ExceptionBase):
    """``function`` has no implementation for the operating system ``os``."""

    msg_fmt = "Function %(function)s for %(os)s operating system"


class InvalidArgument(ExceptionBase, ValueError):
    """A value failed validation before any host operation was made.

    ``field`` names what was checked (``vif.vif_name``, ``mtu``, ...),
    ``value`` is the offending value and ``reason`` says what is wrong.
    It is also a :class:`ValueError`, so generic callers may catch that.
    """

    msg_fmt = "Invalid %(field)s %(value)r: %(reason)s"


class TapCreationNotSupported(InvalidArgument):
    """``create_tap`` asked of a VIF the ovs plugin makes no tap for.

    os-vif 5.x's ``vif_plug_ovs.exception.TapCreationNotSupported``, here an
    :class:`InvalidArgument` naming the field
    (``vif.port_profile.create_tap``).
    """


class HostOperationFailed(ExceptionBase):
    """The host refused an operation on ``device``.

    ``operation`` names the step (``create bridge``, ``set mtu``...) and
    ``err`` is what the kernel or Open vSwitch said.
    """

    msg_fmt = "Host operation %(operation)s on %(device)s failed: %(err)s"


class DeviceDiscoveryFailed(ExceptionBase):
    """Hardware discovery did not find ``looked_for`` for ``device``."""

    msg_fmt = "No %(looked_for)s found for %(device)s: %(reason)s"


class DeserializationError(ExceptionBase, ValueError):
    """Serialised data could not be loaded.

    ``path`` locates the bad value inside the document (for example
    ``network.subnets.objects[0].cidr``; empty for the document itself) and
    ``reason`` says what was wrong with it.
    """

    msg_fmt = "Cannot load os_vif data at %(path)s: %(reason)s"

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("path", "")
        if not kwargs["path"]:
            kwargs["path"] = "<document>"
        super().__init__(message, **kwargs)
        self.path: str = kwargs["path"]
        self.reason: str = kwargs.get("reason", "")


class HostOperationRefused(HostOperationFailed):
    """The privileged side refused to touch a host object os_vif does not own.

    ``operation`` is what was asked (``delete``, ``change``...), ``device``
    the object and ``rule`` the ownership rule it fails (see
    ``doc/source/operators/ownership.rst``).  Nothing on the host was
    changed.
    """

    msg_fmt = "Refused to %(operation)s %(device)s: %(rule)s"
