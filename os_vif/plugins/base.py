"""The one shape of the in-tree plugins that change the host.

linux_bridge, ovs and offload are each three pure pieces and a runner:

* :meth:`HostPlugin.discover` -- what the VIF names on the host (sysfs,
  netlink), read before the plan is built; one result type per plugin,
  for plug and for unplug (``unplug=True``: what is gone is a finding,
  not an error);
* :meth:`HostPlugin.plans`, its plan module (:class:`Plans`): ``plug_plan``
  and ``unplug_plan``, pure functions of the VIF, its instance, the
  plugin's options and what discovery found, with one signature; an
  unplug plan may be None (nothing of the VIF can be there);
* :attr:`HostPlugin.RUNNER`, the privsep daemon family, and
  :meth:`HostPlugin.ovsdb_client`, the OVSDB client for a plugin whose
  plans may hold OVSDB operations (None: they never do).

A plugin that can make a VIF's workload's end too (a container's
interface, :class:`~os_vif.objects.workload.WorkloadInterface`) lists the
VIF types in :attr:`HostPlugin.WORKLOAD_TYPES` and says where the veth's
host end goes (:meth:`HostPlugin.workload_host_end`); the base builds, runs
(in the workload daemon) and checks those plans
(:mod:`os_vif.plugins.workload`).

Everything else comes from :class:`HostPlugin`, and one VIF is a batch of
one: :meth:`~HostPlugin.plug` is :meth:`~HostPlugin.plug_many` of one VIF
(:mod:`os_vif.plugins.batch`), :meth:`~HostPlugin.unplug` likewise, so a
rule of the batch (the leniency of a best-effort unplug, the order of the
domains) is written once.  The orders
(:class:`~os_vif.internal.unprivileged.runner.Order`): a plug makes the
devices before the ports that name them; one unplug removes the ports
first; a batch of unplugs removes ports and devices at the same time.
"""

from __future__ import annotations

import abc
import dataclasses
import logging
from collections.abc import Sequence
from typing import ClassVar, Generic, Protocol, TypeVar

from os_vif import exception, host_state
from os_vif.internal.ovsdb.client import OvsdbClient
from os_vif.internal.unprivileged import runner
from os_vif.internal.unprivileged.plan import Plan
from os_vif.objects import instance_info as instance_info_objects
from os_vif.objects import vif as vif_objects
from os_vif.objects import workload as workload_objects
from os_vif.plugin import PluginBase
from os_vif.plugins import batch, checking, privileged
from os_vif.plugins import workload as workload_plans

__all__ = ["HostEnd", "HostPlugin", "Pairs", "Plans", "Workloads"]

LOG = logging.getLogger(__name__)

#: What discovery found for one VIF (each plugin's own type).
FoundT = TypeVar("FoundT")
_FoundIn = TypeVar("_FoundIn", contravariant=True)
#: The plugin's option group, as a protocol of the options it reads.
ConfigT = TypeVar("ConfigT", bound=privileged.TimeoutOptions)
_ConfigIn = TypeVar("_ConfigIn", contravariant=True)

_VIF = vif_objects.VIFBase
_Instance = instance_info_objects.InstanceInfo
_Workload = workload_objects.WorkloadInterface
#: The ``(vif, instance_info)`` pairs of a batch.
Pairs = Sequence[tuple[_VIF, _Instance]]
#: A batch's workloads' ends, one per pair (None: that VIF has none).
Workloads = Sequence[_Workload | None]


class Plans(Protocol[_FoundIn, _ConfigIn]):
    """A plugin's plan module: two pure builders with one signature.

    ``config`` is the plugin's option group.
    """

    def plug_plan(
        self,
        vif: _VIF,
        instance_info: _Instance,
        config: _ConfigIn,
        found: _FoundIn,
    ) -> Plan:
        """Return the plan that plugs ``vif`` (raise on bad input)."""
        ...

    def unplug_plan(
        self,
        vif: _VIF,
        instance_info: _Instance,
        config: _ConfigIn,
        found: _FoundIn,
    ) -> Plan | None:
        """Return the plan that unplugs ``vif``, None when there is none.

        Lenient where os-vif 5.x was: a field plug would refuse now drops
        only what it names.
        """
        ...


@dataclasses.dataclass(frozen=True)
class HostEnd:
    """Where a workload's veth has its host end (see the module)."""

    #: The device name, the VIF's (where a hypervisor's tap would be).
    name: str
    #: The bridge it goes on; None when an OVS port names it.
    master: str | None
    #: Its MTU (and the workload's interface's).
    mtu: int | None


class HostPlugin(PluginBase, Generic[FoundT, ConfigT]):
    """An in-tree plugin: discovery and two plan builders (see the module)."""

    #: The privsep daemon family the plugin's plans run in.
    RUNNER: ClassVar[runner.HostRunner]

    #: The VIF types whose workload's end this plugin makes (a veth).
    WORKLOAD_TYPES: ClassVar[tuple[type[_VIF], ...]] = ()

    #: The plugin's option group (``CONF.os_vif_<name>``).
    config: ConfigT

    # -- what a plugin supplies ----------------------------------------------

    @abc.abstractmethod
    def discover(
        self, vif: _VIF, instance_info: _Instance, *, unplug: bool = False
    ) -> FoundT:
        """Read what ``vif`` names on the host (no change).

        Checks the fields discovery reads first, so that bad input is an
        :class:`~os_vif.exception.InvalidArgument` naming the field even on
        a host without the device.  For a plug, a device that is not there
        raises :class:`~os_vif.exception.DeviceDiscoveryFailed`; for an
        unplug it is part of the result.
        """

    @abc.abstractmethod
    def plans(self) -> Plans[FoundT, ConfigT]:
        """The plugin's plan module (see :class:`Plans`)."""

    def best_effort(
        self, vif: _VIF, instance_info: _Instance, found: FoundT
    ) -> str | None:
        """Say what this unplug looks for when its failure is a warning.

        None (the default): a failed host operation fails the unplug.  A
        text (``"its OVS port (iface-id X)"``): the unplug only looks for
        what may be left of a VIF whose device is gone, and a failed host
        operation is logged with that text and the unplug is done.
        """
        return None

    def ovsdb_client(self) -> OvsdbClient | None:
        """The OVSDB client; None for a plugin whose plans never use one."""
        return None

    def workload_host_end(self, vif: _VIF) -> HostEnd:
        """Where the workload's veth of ``vif`` has its host end.

        Called only for the :attr:`WORKLOAD_TYPES`; raise InvalidArgument
        naming the field that is missing.
        """
        raise NotImplementedError(type(self).__name__)

    def workload_plug_plan(
        self, vif: _VIF, instance_info: _Instance, workload: _Workload
    ) -> Plan:
        """The plug plan with the workload's veth instead of a tap."""
        plan = self.plug_plan(vif, instance_info)
        end = self.workload_host_end(vif)
        return workload_plans.replace_tap(
            plan,
            workload_plans.veth_end(
                vif, workload, host=end.name, master=end.master, mtu=end.mtu
            ),
            end.name,
        )

    def batch_ovsdb(self) -> OvsdbClient | None:
        """The client whose cache a batch of checks holds, if any.

        :meth:`ovsdb_client` by default: one consistent pass, no update
        applied in between.
        """
        return self.ovsdb_client()

    # -- what the base gives -------------------------------------------------

    @property
    def host(self) -> runner.HostRunner:
        """:attr:`RUNNER`, bounded by the ``privsep_timeout`` option."""
        return privileged.runner(self.RUNNER, self.config)

    @property
    def workload_host(self) -> runner.HostRunner:
        """The workload daemon (the only one that may enter a namespace),
        bounded by the ``privsep_timeout`` option."""
        return privileged.runner(runner.WORKLOAD, self.config)

    def supports_workload(self, vif: _VIF) -> bool:
        """Whether ``vif`` is one of :attr:`WORKLOAD_TYPES`."""
        return isinstance(vif, self.WORKLOAD_TYPES)

    def plug_plan(self, vif: _VIF, instance_info: _Instance) -> Plan:
        """Discover, then build the plan that plugs ``vif``."""
        found = self.discover(vif, instance_info)
        return self.plans().plug_plan(vif, instance_info, self.config, found)

    def _wanted(
        self, vif: _VIF, instance_info: _Instance, workload: _Workload | None
    ) -> Plan:
        if workload is None:
            return self.plug_plan(vif, instance_info)
        return self.workload_plug_plan(vif, instance_info, workload)

    def validate_plug(
        self,
        vif: _VIF,
        instance_info: _Instance,
        *,
        workload: _Workload | None = None,
    ) -> None:
        """Check ``vif`` as plug and the daemon would; change nothing."""
        self.host.validate(self._wanted(vif, instance_info, workload))

    def plug(
        self,
        vif: _VIF,
        instance_info: _Instance,
        *,
        workload: _Workload | None = None,
    ) -> None:
        """Plug ``vif``: a batch of one (see :meth:`plug_many`).

        Idempotent (a VIF plugged already costs reads only); on failure
        nothing this call made is left behind.  With ``workload``, its
        end too, by the workload daemon.
        """
        self._one(
            self.plug_many(
                [(vif, instance_info)],
                workloads=None if workload is None else [workload],
            )
        )

    def unplug(
        self,
        vif: _VIF,
        instance_info: _Instance,
        *,
        workload: _Workload | None = None,
    ) -> None:
        """Unplug ``vif``; what is gone already is skipped.

        Its ports go before its devices: a port that could not be removed
        keeps its device.  With ``workload``, its end goes first (a
        namespace that is gone took it along).
        """
        self._one(
            self._by_daemon(
                [(vif, instance_info)],
                None if workload is None else [workload],
                self._unplug_job,
                None,
                runner.Order.OVSDB_FIRST,
            )
        )

    def plug_many(
        self,
        pairs: Pairs,
        progress: host_state.Progress | None = None,
        *,
        workloads: Workloads | None = None,
    ) -> list[host_state.VIFResult]:
        """Plug many VIFs: their plans in one check, call and transaction.

        Every VIF's plan is built first (a VIF with bad input, or whose
        discovery fails, gets that error); then, per chunk of
        :data:`os_vif.plugins.batch.CHUNK`, one check of the host, one
        privileged call and one OVSDB transaction for all that need a
        change.  A VIF already plugged is ``UNCHANGED``; one that fails is
        undone alone.  The VIFs with a workload's end (``workloads``) are
        one such batch of the workload daemon, the others one of the
        plugin's own.
        """
        return self._by_daemon(
            pairs,
            workloads,
            self._plug_job,
            progress,
            runner.Order.KERNEL_FIRST,
        )

    def unplug_many(
        self,
        pairs: Pairs,
        progress: host_state.Progress | None = None,
        *,
        workloads: Workloads | None = None,
    ) -> list[host_state.VIFResult]:
        """Unplug many VIFs as :meth:`plug_many` plugs them.

        One OVSDB transaction removes the ports of a chunk while one
        privileged call deletes their devices (and, in the workload
        daemon, the workloads' ends).  ``UNCHANGED``: nothing of the VIF
        was on the host.
        """
        return self._by_daemon(
            pairs,
            workloads,
            self._unplug_job,
            progress,
            runner.Order.TOGETHER,
        )

    def check(
        self,
        vif: _VIF,
        instance_info: _Instance,
        *,
        workload: _Workload | None = None,
    ) -> host_state.CheckReport:
        """Report what differs on the host from plugging ``vif``.

        Discovery as a plug makes it, then reads only (netlink,
        ``/proc/sys``, sysfs, the OVSDB cache; with ``workload``, inside
        its namespace too); changes nothing.
        """
        wanted = self._wanted(vif, instance_info, workload)
        return checking.report(
            self.host.check(wanted, self._ovsdb_for([wanted]))
        )

    def check_many(
        self, pairs: Pairs, *, workloads: Workloads | None = None
    ) -> list[host_state.CheckReport]:
        """:meth:`check` every pair against one dump of the kernel's links
        (with its workload's end, if ``workloads`` gives one)."""
        return checking.check_many(
            pairs, self.check, self.batch_ovsdb(), workloads
        )

    # -- the batch -----------------------------------------------------------

    def _ovsdb_for(
        self, plans: Sequence[Plan]
    ) -> OvsdbClient | None:
        """The client, when one of ``plans`` has OVSDB operations."""
        if not any(plan.ovsdb for plan in plans):
            return None
        client = self.ovsdb_client()
        if client is None:
            raise AssertionError(
                "%s plans OVSDB operations but has no OVSDB client"
                % type(self).__name__
            )
        return client

    def _run(
        self,
        pairs: Pairs,
        build: batch.Build,
        progress: host_state.Progress | None,
        order: runner.Order,
        host: runner.HostRunner | None = None,
        workloads: Workloads | None = None,
    ) -> list[host_state.VIFResult]:
        def client() -> OvsdbClient:
            found = self.ovsdb_client()
            assert found is not None, "no OVSDB client for OVSDB operations"
            return found

        return batch.run(
            host or self.host,
            pairs,
            build,
            client,
            progress,
            order,
            workloads,
        )

    def _by_daemon(
        self,
        pairs: Pairs,
        workloads: Workloads | None,
        build: batch.Build,
        progress: host_state.Progress | None,
        order: runner.Order,
    ) -> list[host_state.VIFResult]:
        """Run the pairs without a workload in the plugin's daemon, those
        with one in the workload daemon: a batch each, results in order.

        Only the workload daemon may enter a namespace; the plugin's own
        keeps its least privilege for everything else.
        """
        if workloads is None or all(end is None for end in workloads):
            return self._run(pairs, build, progress, order)
        results: list[host_state.VIFResult] = [
            host_state.Outcome.DONE
        ] * len(pairs)
        plain = [i for i, end in enumerate(workloads) if end is None]
        ends = [i for i, end in enumerate(workloads) if end is not None]
        for indexes, host, given in (
            (plain, self.host, None),
            (ends, self.workload_host, [workloads[i] for i in ends]),
        ):
            if not indexes:
                continue

            def forward(
                position: int,
                result: host_state.VIFResult,
                indexes: list[int] = indexes,
            ) -> None:
                assert progress is not None
                progress(indexes[position], result)

            returned = self._run(
                [pairs[i] for i in indexes],
                build,
                None if progress is None else forward,
                order,
                host,
                given,
            )
            for position, index in enumerate(indexes):
                results[index] = returned[position]
        return results

    @staticmethod
    def _one(results: list[host_state.VIFResult]) -> None:
        """Raise the error of a batch of one, if it failed."""
        (result,) = results
        if isinstance(result, BaseException):
            raise result

    def _plug_job(
        self,
        vif: _VIF,
        instance_info: _Instance,
        workload: _Workload | None = None,
    ) -> batch.Job:
        return batch.Job(
            self._wanted(vif, instance_info, workload),
            key=batch.vif_key(vif),
        )

    def _unplug_job(
        self,
        vif: _VIF,
        instance_info: _Instance,
        workload: _Workload | None = None,
    ) -> batch.Job | None:
        found = self.discover(vif, instance_info, unplug=True)
        wanted = self.plans().unplug_plan(
            vif, instance_info, self.config, found
        )
        if workload is not None:
            # The workload's end first: the veth's host end is a port of
            # the bridge an unplug may remove once unused.
            host = self.workload_host_end(vif).name
            wanted = workload_plans.without_device(
                wanted or Plan(label=batch.vif_key(vif) or ""), host
            )
            wanted.steps.insert(
                0, workload_plans.removal(vif, workload, host)
            )
        if wanted is None:
            return None
        looking_for = self.best_effort(vif, instance_info, found)
        if looking_for is None:
            return batch.Job(wanted, key=batch.vif_key(vif))

        def lenient(error: Exception) -> host_state.VIFResult | None:
            # Only what the host refused or failed to do is forgiven; bad
            # input still fails the VIF.
            if not isinstance(error, exception.HostOperationFailed):
                return None
            LOG.warning(
                "VIF %s: could not look for %s: %s",
                batch.vif_key(vif),
                looking_for,
                error,
            )
            return host_state.Outcome.DONE

        return batch.Job(wanted, key=batch.vif_key(vif), lenient=lenient)
