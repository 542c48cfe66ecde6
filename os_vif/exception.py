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
    "HostOperationFailed",
    "DeviceDiscoveryFailed",
    "DeserializationError",
]


class ExceptionBase(Exception):
    """Root of every os_vif exception.

    Subclasses set ``msg_fmt``, a ``%``-style format filled from the
    keyword arguments.  The keyword arguments stay available as
    ``kwargs`` so that callers can act on them without parsing text.
    """

    msg_fmt = "An unknown os_vif error occurred."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.msg_fmt % kwargs
            except (KeyError, TypeError, ValueError):
                # A caller forgot a parameter: keep the template and the
                # values rather than hiding the real error behind this one.
                message = "%s (parameters: %r)" % (self.msg_fmt, kwargs)
        self.message = message
        super().__init__(message)

    def format_message(self) -> str:
        """Return the human readable message of this exception."""
        return self.message


class LibraryNotInitialized(ExceptionBase):
    """os_vif was used before :func:`os_vif.initialize` was called."""

    msg_fmt = (
        "os_vif.initialize() must be called before the os_vif library is used"
    )


class NoMatchingPlugin(ExceptionBase):
    """No loaded plugin has the name ``plugin_name``."""

    msg_fmt = "No VIF plugin named %(plugin_name)s is loaded"


class NoMatchingPortProfileClass(ExceptionBase):
    """No port profile class is known by the name ``name``."""

    msg_fmt = "No port profile class named %(name)s is supported"


class NoSupportedPortProfileVersion(ExceptionBase):
    """A port profile class exists but none of its versions fit the range."""

    msg_fmt = (
        "Port profile class %(name)s has versions %(got_versions)s, none "
        "within min=%(min_version)s max=%(max_version)s"
    )


class NoMatchingVIFClass(ExceptionBase):
    """No VIF class is known by the name ``name``."""

    msg_fmt = "No VIF class named %(name)s is supported"


class NoSupportedVIFVersion(ExceptionBase):
    """A VIF class exists but none of its versions fit the range."""

    msg_fmt = (
        "VIF class %(name)s has versions %(got_versions)s, none within "
        "min=%(min_version)s max=%(max_version)s"
    )


class PlugException(ExceptionBase):
    """A plugin failed to plug ``vif``; ``err`` is the underlying error."""

    msg_fmt = "Plugging VIF %(vif)s failed: %(err)s"


class UnplugException(ExceptionBase):
    """A plugin failed to unplug ``vif``; ``err`` is the underlying error."""

    msg_fmt = "Unplugging VIF %(vif)s failed: %(err)s"


class NetworkMissingPhysicalNetwork(ExceptionBase):
    """The network ``network_uuid`` needs a physical network and has none."""

    msg_fmt = "Network %(network_uuid)s has no physical network"


class NetworkInterfaceNotFound(ExceptionBase):
    """The host has no network interface named ``interface``."""

    msg_fmt = "Network interface %(interface)s does not exist"


class NetworkInterfaceTypeNotDefined(ExceptionBase):
    """The interface type ``type`` is not one os_vif knows how to create."""

    msg_fmt = "Network interface type %(type)s is not defined"


class ExternalImport(ExceptionBase):
    """An internal os_vif module was imported from outside os_vif."""

    msg_fmt = (
        "This os_vif module is internal: import it only from os_vif itself, "
        "never from out-of-tree plugins or clients"
    )


class NotImplementedForOS(ExceptionBase):
    """``function`` has no implementation for the operating system ``os``."""

    msg_fmt = "%(function)s is not implemented for the %(os)s operating system"


class InvalidArgument(ExceptionBase, ValueError):
    """A value failed validation before any host operation was made.

    ``field`` names what was checked (``vif.vif_name``, ``mtu``, ...),
    ``value`` is the offending value and ``reason`` says what is wrong.
    It is also a :class:`ValueError`, so generic callers may catch that.
    """

    msg_fmt = "Invalid %(field)s %(value)r: %(reason)s"


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
