"""Run many VIFs' plans as one batch: the native plug_many / unplug_many.

The in-tree plugins build one plan per VIF (a VIF whose plan cannot be
built -- bad input, a device discovery that failed -- gets that error and
the others go on), then hand the plans to
:meth:`~os_vif.internal.unprivileged.runner.HostRunner.run_many` in chunks
of :data:`CHUNK`: each chunk is one check of the host, one privileged call
and one OVSDB transaction.  The results follow the contract of
:meth:`os_vif.plugin.PluginBase.plug_many`: per VIF, in order,
:attr:`~os_vif.host_state.Outcome.DONE`, ``UNCHANGED`` (the check found
nothing to do) or the exception of that VIF alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from os_vif import host_state
from os_vif.internal import linkstate
from os_vif.internal.ovsdb import client as ovsdb_client
from os_vif.internal.unprivileged import gc_pause, runner
from os_vif.internal.unprivileged.plan import Plan
from os_vif.objects import instance_info as instance_info_objects
from os_vif.objects import vif as vif_objects
from os_vif.objects import workload as workload_objects

__all__ = ["CHUNK", "SNAPSHOT_PLANS", "Build", "Job", "run", "vif_key"]

#: From this many plans on, the check of a batch reads the kernel's links
#: in one dump (kept from chunk to chunk while none changes anything)
#: instead of one request per device.  A dump costs about as much as
#: reading every device of the host once; a batch this big is most often a
#: host's whole set of VIFs (a restart), where the dump is the cheaper.
SNAPSHOT_PLANS = 64

#: Plans per privileged call and OVSDB transaction.  Big enough that the
#: fixed cost of a call and a commit is shared by many VIFs, small enough
#: that one transaction retried plan by plan (a bad VIF in it) stays cheap.
CHUNK = 250


@dataclasses.dataclass
class Job:
    """One VIF's plan in a batch, and how to read its failure."""

    plan: Plan
    #: Identifies the VIF: two jobs with the same key never share a chunk
    #: (the second is a re-plug, checked after the first ran).
    key: str | None = None
    #: ``lenient(error) -> result or None``: the VIF's result for an error
    #: that does not fail it (None: it does).
    lenient: Callable[[Exception], host_state.VIFResult | None] | None = None


#: ``build(vif, instance_info, workload)``: the VIF's :class:`Job`, or
#: None when there is nothing to do for it.  ``workload`` is the VIF's
#: workload's end, or None.
Build = Callable[
    [
        vif_objects.VIFBase,
        instance_info_objects.InstanceInfo,
        workload_objects.WorkloadInterface | None,
    ],
    "Job | None",
]


def vif_key(vif: vif_objects.VIFBase) -> str | None:
    """The key of a VIF's job: its id, when it has one."""
    try:
        return str(vif.id) if vif.obj_attr_is_set("id") else None
    except AttributeError:
        return None


def run(
    host: runner.HostRunner,
    pairs: Sequence[
        tuple[vif_objects.VIFBase, instance_info_objects.InstanceInfo]
    ],
    build: Build,
    ovsdb: Callable[[], ovsdb_client.OvsdbClient],
    progress: host_state.Progress | None = None,
    order: runner.Order = runner.Order.KERNEL_FIRST,
    workloads: Sequence[workload_objects.WorkloadInterface | None]
    | None = None,
) -> list[host_state.VIFResult]:
    """Build every pair's job with ``build`` and run the plans in chunks.

    ``build(vif, instance_info, workload)`` returns the VIF's
    :class:`Job`, or None when there is nothing to do for it
    (``UNCHANGED``); what it raises is that VIF's result.  ``workload``
    is the pair's item of ``workloads`` (None without them).  ``ovsdb()``
    gives the OVSDB client, asked for only when a plan has OVSDB
    operations.  ``order`` is each chunk's
    (:class:`~os_vif.internal.unprivileged.runner.Order`).
    """
    results: list[host_state.VIFResult | None] = [None] * len(pairs)
    jobs: dict[int, Job] = {}
    with gc_pause.paused():
        for index, (vif, instance_info) in enumerate(pairs):
            workload = None if workloads is None else workloads[index]
            try:
                job = build(vif, instance_info, workload)
            except Exception as err:
                _report(results, index, err, progress)
                continue
            if job is None:
                _report(results, index, host_state.Outcome.UNCHANGED, progress)
            else:
                jobs[index] = job
    links: linkstate.LinkTable | None = None
    for chunk in _chunks(jobs):
        if links is None and len(chunk) >= SNAPSHOT_PLANS:
            links = linkstate.LinkTable.read()
        if _run_chunk(
            host, chunk, jobs, ovsdb, results, progress, links, order
        ):
            # What the chunk changed is not in the dump.
            links = None
    return [
        host_state.Outcome.DONE if result is None else result
        for result in results
    ]


def _report(
    results: list[host_state.VIFResult | None],
    index: int,
    result: host_state.VIFResult,
    progress: host_state.Progress | None,
) -> None:
    results[index] = result
    if progress is not None:
        progress(index, result)


def _chunks(jobs: dict[int, Job]) -> list[list[int]]:
    """Split the jobs, in order, into chunks of distinct keys."""
    chunks: list[list[int]] = []
    pending = list(jobs)
    while pending:
        chunk: list[int] = []
        keys: set[str] = set()
        later: list[int] = []
        for index in pending:
            key = jobs[index].key
            if len(chunk) >= CHUNK or (key is not None and key in keys):
                later.append(index)
                continue
            chunk.append(index)
            if key is not None:
                keys.add(key)
        chunks.append(chunk)
        pending = later
    return chunks


def _run_chunk(
    host: runner.HostRunner,
    chunk: list[int],
    jobs: dict[int, Job],
    ovsdb: Callable[[], ovsdb_client.OvsdbClient],
    results: list[host_state.VIFResult | None],
    progress: host_state.Progress | None,
    links: linkstate.LinkTable | None,
    order: runner.Order,
) -> bool:
    """Run one chunk; say whether it may have changed anything."""
    plans = [jobs[i].plan for i in chunk]
    client = ovsdb() if any(plan.ovsdb for plan in plans) else None
    try:
        outcomes = host.run_many(plans, client, order=order, links=links)
    except Exception as err:
        # The runner reports per plan; what escapes it fails the chunk
        # (which may have changed anything meanwhile).
        errors: Sequence[Exception | None] = [err] * len(plans)
        changed = [True] * len(plans)
    else:
        errors = [outcome.error for outcome in outcomes]
        changed = [outcome.changed for outcome in outcomes]
    for position, index in enumerate(chunk):
        error = errors[position]
        result: host_state.VIFResult
        if error is None:
            result = (
                host_state.Outcome.DONE
                if changed[position]
                else host_state.Outcome.UNCHANGED
            )
        else:
            lenient = jobs[index].lenient
            forgiven = lenient(error) if lenient is not None else None
            result = error if forgiven is None else forgiven
        _report(results, index, result, progress)
    return any(changed)
