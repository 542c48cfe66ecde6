"""The privsep contexts of os_vif and how their daemons start.

One context per plugin family, each with its own configuration group, as
os-vif has always had them (``nova.conf`` files set ``helper_command``,
``user``, ``capabilities``... there):

* :data:`vif_plug_linux_bridge` -- ``[vif_plug_linux_bridge_privileged]``
* :data:`vif_plug_ovs` -- ``[vif_plug_ovs_privileged]``
* :data:`vif_plug_workload` -- ``[vif_plug_workload_privileged]``: the
  plans that make or remove a workload's end (a container's interface
  inside its network namespace), whatever the plugin.

Each keeps only the capabilities its operations need (see
:data:`CAPABILITIES` and ``doc/source/operators/privsep.rst``):
``CAP_NET_ADMIN`` (netlink changes, taps, nf_tables, per-device sysctls)
and ``CAP_DAC_OVERRIDE`` (writing ``/proc/sys``, ``/dev/net/tun`` and the
plan journal in ``/run`` when the daemon runs as an unprivileged user).
Only entering another network namespace needs ``CAP_SYS_ADMIN``: the
workload daemon has it, the two VM daemons do not, and a plan without a
workload's end is never sent to the workload daemon.

Each context exposes one entrypoint, ``execute(plan)``, which runs a
whole plan (see :mod:`.executor`); the entrypoints share one
implementation.  The workload daemon has a second one, read-only:
:func:`workload_read_ends` reads workload ends for a caller that may not
enter a namespace (its check), see
:func:`os_vif.internal.privileged.workload.read_ends`.

oslo.privsep sends an exception back as its class and ``args``; an os_vif
exception keeps its details (``field``, ``value``, ``device``...) in
keyword arguments, which would be lost.  The entrypoints therefore raise
:class:`RemoteError` carrying the class name, message and keyword
arguments, and :func:`rebuild` makes the original exception again on the
client side.

Starting the daemon: if ``helper_command`` is set, it is used as configured
(the usual ``sudo``/rootwrap path).  If it is not set and this process is
already root (kuryr's CNI daemon, CI), the daemon is started directly as
``<this python> -m os_vif.internal.privileged.helper``: a separate process, so
safe with threads, needing no sudo, no rootwrap and no configuration file.
Otherwise oslo.privsep's default applies (``sudo privsep-helper``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from oslo_config import cfg
from oslo_privsep import capabilities as caps
from oslo_privsep import priv_context

from os_vif import exception
from os_vif.internal.privileged import executor, workload

__all__ = [
    "CAPABILITIES",
    "CONTEXTS",
    "OsVifPrivContext",
    "vif_plug_linux_bridge",
    "vif_plug_ovs",
    "vif_plug_workload",
    "linux_bridge_execute",
    "ovs_execute",
    "workload_execute",
    "workload_read_ends",
    "RemoteError",
    "rebuild",
    "stop_all",
]

#: The capabilities of each daemon, by context name.
CAPABILITIES: dict[str, tuple[int, ...]] = {
    "vif_plug_linux_bridge": (caps.CAP_NET_ADMIN, caps.CAP_DAC_OVERRIDE),
    "vif_plug_ovs": (caps.CAP_NET_ADMIN, caps.CAP_DAC_OVERRIDE),
    # setns(2) into a workload's network namespace needs CAP_SYS_ADMIN.
    "vif_plug_workload": (
        caps.CAP_NET_ADMIN,
        caps.CAP_DAC_OVERRIDE,
        caps.CAP_SYS_ADMIN,
    ),
}


def _config_files() -> list[str]:
    args: list[str] = []
    try:
        for path in cfg.CONF.config_file or ():
            args += ["--config-file", path]
        for path in cfg.CONF.config_dir or ():
            args += ["--config-dir", path]
    except cfg.NoSuchOptError:
        pass
    return args


class OsVifPrivContext(priv_context.PrivContext):
    """A PrivContext that needs no sudo when the caller is root already."""

    def helper_command(self, sockpath: str) -> list[str]:
        """Return the command that starts this context's daemon."""
        # sys.executable is empty when Python is embedded: then no
        # interpreter can be named, and privsep's own command is used.
        if self.conf.helper_command or os.geteuid() != 0 or not sys.executable:
            return list(super().helper_command(sockpath))
        # The caller's configuration files, if any, still apply (user,
        # capabilities, logging); none is needed.
        return [
            sys.executable,
            "-m",
            "os_vif.internal.privileged.helper",
            *_config_files(),
            "--privsep_context",
            str(self.pypath),
            "--privsep_sock_path",
            sockpath,
        ]


#: Privileged context of the linux_bridge plugin.
vif_plug_linux_bridge = OsVifPrivContext(
    "os_vif",
    cfg_section="vif_plug_linux_bridge_privileged",
    pypath=__name__ + ".vif_plug_linux_bridge",
    capabilities=list(CAPABILITIES["vif_plug_linux_bridge"]),
)

#: Privileged context of the ovs plugin (and of the offload plugin).
vif_plug_ovs = OsVifPrivContext(
    "os_vif",
    cfg_section="vif_plug_ovs_privileged",
    pypath=__name__ + ".vif_plug_ovs",
    capabilities=list(CAPABILITIES["vif_plug_ovs"]),
)

#: Privileged context of the plans with a workload's end (any plugin).
vif_plug_workload = OsVifPrivContext(
    "os_vif",
    cfg_section="vif_plug_workload_privileged",
    pypath=__name__ + ".vif_plug_workload",
    capabilities=list(CAPABILITIES["vif_plug_workload"]),
)

#: Every os_vif privsep context.
CONTEXTS: Sequence[OsVifPrivContext] = (
    vif_plug_linux_bridge,
    vif_plug_ovs,
    vif_plug_workload,
)


class RemoteError(Exception):
    """An os_vif exception raised in a daemon, on its way to the client.

    ``args`` is ``(class name, message, keyword arguments)``, made of
    values privsep can send (others become their text).
    """


def _carry(err: exception.ExceptionBase) -> RemoteError:
    return RemoteError(*executor.carry(err))


def rebuild(err: RemoteError | Any) -> exception.ExceptionBase:
    """Return the os_vif exception ``err`` carries.

    ``err`` is a :class:`RemoteError` or its ``args`` (a group's error in
    a plan's result).  Only classes of :mod:`os_vif.exception` are made;
    anything else (a daemon of another version) becomes
    HostOperationFailed with the daemon's message.
    """
    args = err.args if isinstance(err, RemoteError) else err
    name, message, kwargs = args
    cls = getattr(exception, str(name), None)
    if isinstance(cls, type) and issubclass(cls, exception.ExceptionBase):
        try:
            return cls(message, **dict(kwargs))
        except TypeError:
            pass  # a class whose constructor wants other arguments
    return exception.HostOperationFailed(
        operation="privileged call", device="", err=message
    )


def _execute(plan: Any) -> list[dict[str, Any]]:
    try:
        return executor.execute(plan)
    except exception.ExceptionBase as err:
        raise _carry(err) from None


@vif_plug_linux_bridge.entrypoint
def linux_bridge_execute(plan: Any) -> list[dict[str, Any]]:
    """Run ``plan`` in the linux_bridge daemon (see executor.execute)."""
    return _execute(plan)


@vif_plug_ovs.entrypoint
def ovs_execute(plan: Any) -> list[dict[str, Any]]:
    """Run ``plan`` in the ovs daemon (see executor.execute)."""
    return _execute(plan)


@vif_plug_workload.entrypoint
def workload_execute(plan: Any) -> list[dict[str, Any]]:
    """Run ``plan`` in the workload daemon (see executor.execute)."""
    return _execute(plan)


@vif_plug_workload.entrypoint
def workload_read_ends(reads: Any) -> list[dict[str, Any]]:
    """Read workload ends in the workload daemon; change nothing (see
    :func:`.workload.read_ends`: every request is validated again).

    The daemon's ``hello`` and ``recover`` messages (a mapping without
    ``groups``: what the client's daemon handling sends through whichever
    entrypoint it calls) are answered as :func:`workload_execute` answers
    them; a plan is refused.
    """
    try:
        if isinstance(reads, Mapping) and "groups" not in reads:
            return executor.execute(reads)
        return workload.read_ends(reads)
    except exception.ExceptionBase as err:
        raise _carry(err) from None


def stop_all() -> None:
    """Stop every os_vif privsep daemon; the next call starts a new one.

    A daemon lives in the network namespace it was started in; the test
    fixtures stop the daemons to have them start again inside a fresh
    namespace.
    """
    for context in CONTEXTS:
        context.stop()
