"""The ``noop`` plugin: for VIFs whose host side someone else sets up.

kuryr-kubernetes' CNI daemon creates the devices of nested pods itself (a
VLAN or macvlan device on the VM's interface, a DPDK-bound VF), so os_vif
has nothing to do for them; this plugin accepts those VIF types and
changes nothing on the host.

Given a workload's end (``workload=``, a
:class:`~os_vif.objects.workload.WorkloadInterface` naming the host's
``parent`` link), it makes that device itself for the nested types
(:data:`WORKLOAD_TYPES`): a macvlan (``VIFMacvlanNested``) or a VLAN
device of ``vif.vlan_id`` (``VIFVlanNested``) of the parent link, created
directly in the namespace, by the workload daemon.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from os_vif import host_state
from os_vif.objects import host_info
from os_vif.objects import instance_info as instance_info_objects
from os_vif.objects import vif as vif_objects
from os_vif.objects import workload as workload_objects
from os_vif.plugin import PluginBase
from os_vif.plugins import description, rules

if TYPE_CHECKING:
    from os_vif.internal.unprivileged.plan import Plan
    from os_vif.internal.unprivileged.runner import HostRunner

__all__ = ["NoOpPlugin"]

_VIF = vif_objects.VIFBase
_Instance = instance_info_objects.InstanceInfo
_Workload = workload_objects.WorkloadInterface

#: The VIF types whose workload's end this plugin makes.
WORKLOAD_TYPES = (vif_objects.VIFVlanNested, vif_objects.VIFMacvlanNested)


def _host() -> HostRunner:
    # Imported when a workload's end is asked for: the plain noop plugin
    # stays free of the privsep machinery.
    from os_vif.internal.unprivileged import runner

    return runner.WORKLOAD


def _plug_plan(vif: _VIF, workload: _Workload) -> Plan:
    from os_vif.internal.unprivileged.plan import Plan
    from os_vif.plugins import workload as workload_plans

    return Plan(label=rules.optional_vif_id(vif) or "").add(
        workload_plans.nested_end(vif, workload, rules.network_mtu(vif))
    )

def _unplug_plan(vif: _VIF, workload: _Workload) -> Plan:
    from os_vif.internal.unprivileged.plan import Plan
    from os_vif.plugins import workload as workload_plans

    return Plan(label=rules.optional_vif_id(vif) or "").add(
        workload_plans.removal(vif, workload, None)
    )


def _outcome(changed: bool) -> host_state.Outcome | None:
    """What plug or unplug of a workload's device returns."""
    return None if changed else host_state.Outcome.UNCHANGED


def _any(workloads: Sequence[_Workload | None]) -> bool:
    return any(end is not None for end in workloads)


def _many(
    pairs: Sequence[tuple[_VIF, _Instance]],
    progress: host_state.Progress | None,
    workloads: Sequence[_Workload | None],
    plan: Callable[[_VIF, _Workload], Plan],
) -> list[host_state.VIFResult]:
    """Run the workloads' plans of a batch as one batch of the workload
    daemon; a pair without a workload is done (nothing to do, as for
    :meth:`NoOpPlugin.plug`)."""
    from os_vif.plugins import batch

    def job(
        vif: _VIF, _info: _Instance, end: _Workload | None
    ) -> batch.Job | None:
        if end is None:
            return None
        return batch.Job(plan(vif, end), key=batch.vif_key(vif))

    def no_ovsdb() -> Any:
        raise AssertionError("a nested workload's plan has no OVSDB rows")

    def told(index: int, result: host_state.VIFResult) -> None:
        assert progress is not None
        progress(index, _plain(workloads, index, result))

    returned = batch.run(
        _host(),
        pairs,
        job,
        no_ovsdb,
        None if progress is None else told,
        workloads=workloads,
    )
    return [
        _plain(workloads, index, result)
        for index, result in enumerate(returned)
    ]


def _plain(
    workloads: Sequence[_Workload | None],
    index: int,
    result: host_state.VIFResult,
) -> host_state.VIFResult:
    # A pair without a workload is DONE, as its plug() returns None.
    return host_state.Outcome.DONE if workloads[index] is None else result


#: The VIF types this plugin accepts, with their versions.
SUPPORTED_VIFS = (
    vif_objects.VIFVlanNested,
    vif_objects.VIFMacvlanNested,
    vif_objects.VIFDPDKNested,
    vif_objects.VIFNestedDPDK,
    vif_objects.VIFVHostUser,
)


class NoOpPlugin(PluginBase):
    """A plugin that plugs and unplugs nothing."""

    def describe(self) -> host_info.HostPluginInfo:
        """Report the VIF types whose host side is made outside os_vif."""
        return description.plugin_info(
            "noop", ((vif, ()) for vif in SUPPORTED_VIFS)
        )

    def supports_workload(self, vif: _VIF) -> bool:
        """Whether ``vif`` is a nested VIF (:data:`WORKLOAD_TYPES`)."""
        return isinstance(vif, WORKLOAD_TYPES)

    def validate_plug(
        self,
        vif: _VIF,
        instance_info: _Instance,
        *,
        workload: _Workload | None = None,
    ) -> None:
        """Nothing to check without a workload: no host change then."""
        if workload is not None:
            _host().validate(_plug_plan(vif, workload))

    def plug(
        self,
        vif: _VIF,
        instance_info: _Instance,
        *,
        workload: _Workload | None = None,
    ) -> host_state.Outcome | None:
        """Do nothing: the device is made by the client (e.g. kuryr).

        With ``workload``: make the nested VIF's device in its namespace
        (idempotent, ``UNCHANGED`` when it was there already; a failure
        leaves nothing).
        """
        if workload is None:
            return None
        return _outcome(_host().run(_plug_plan(vif, workload)))

    def unplug(
        self,
        vif: _VIF,
        instance_info: _Instance,
        *,
        workload: _Workload | None = None,
    ) -> host_state.Outcome | None:
        """Do nothing: the device is removed by the client (e.g. kuryr).

        With ``workload``: remove the nested VIF's device from its
        namespace (a namespace that is gone took it along:
        ``UNCHANGED``).
        """
        if workload is None:
            return None
        return _outcome(_host().run(_unplug_plan(vif, workload)))

    def plug_many(
        self,
        pairs: Sequence[tuple[_VIF, _Instance]],
        progress: host_state.Progress | None = None,
        *,
        workloads: Sequence[_Workload | None] | None = None,
    ) -> list[host_state.VIFResult]:
        """Plug each pair as :meth:`plug`: the workloads' devices of the
        batch in one call of the workload daemon."""
        if workloads is None or not _any(workloads):
            return super().plug_many(pairs, progress)
        return _many(pairs, progress, workloads, _plug_plan)

    def unplug_many(
        self,
        pairs: Sequence[tuple[_VIF, _Instance]],
        progress: host_state.Progress | None = None,
        *,
        workloads: Sequence[_Workload | None] | None = None,
    ) -> list[host_state.VIFResult]:
        """Unplug each pair as :meth:`unplug`: the workloads' devices of
        the batch in one call of the workload daemon."""
        if workloads is None or not _any(workloads):
            return super().unplug_many(pairs, progress)
        return _many(pairs, progress, workloads, _unplug_plan)

    def check(
        self,
        vif: _VIF,
        instance_info: _Instance,
        *,
        workload: _Workload | None = None,
    ) -> host_state.CheckReport:
        """Report no problem: this plugin expects nothing on the host.

        With ``workload``: compare its device with the VIF.
        """
        if workload is None:
            return host_state.CheckReport()
        from os_vif.plugins import checking

        return checking.report(_host().check(_plug_plan(vif, workload)))

    def gc(
        self, keep: Sequence[_VIF], dry_run: bool = False
    ) -> host_state.PluginCollection:
        """Remove nothing.

        Without a workload the plugin makes nothing.  The nested devices it
        makes for a workload live inside that namespace and go with it;
        one whose namespace outlives its VIF is not found here (nothing on
        the host names it) and is removed by an unplug with its workload,
        which is what os-vif-cni's GC does for a stale attachment.
        """
        return host_state.PluginCollection()
