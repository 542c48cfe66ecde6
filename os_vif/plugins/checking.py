"""Check plans against the host: the shared body of the plugins' checks.

A plugin's check builds the plug plan of a VIF (discovery first, as plug
does) and asks :meth:`~os_vif.internal.unprivileged.runner.HostRunner.check`
what differs; this module turns the operations' problems into the public
:class:`os_vif.host_state.Problem` and checks many VIFs against one link
dump (:func:`os_vif.internal.linkstate.snapshot`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence

from os_vif import host_state
from os_vif.internal import linkstate, operation
from os_vif.internal.ovsdb import client as ovsdb_client
from os_vif.internal.unprivileged import gc_pause, runner
from os_vif.objects import instance_info as instance_info_objects
from os_vif.objects import vif as vif_objects
from os_vif.objects import workload as workload_objects

__all__ = ["report", "check_many"]

LOG = logging.getLogger(__name__)


def report(problems: Iterable[operation.Problem]) -> host_state.CheckReport:
    """The CheckReport of an operation check's ``problems``."""
    return host_state.CheckReport(problems=tuple(problems))


def check_many(
    pairs: Sequence[
        tuple[vif_objects.VIFBase, instance_info_objects.InstanceInfo]
    ],
    check: Callable[..., host_state.CheckReport],
    ovsdb: ovsdb_client.OvsdbClient | None = None,
    workloads: Sequence[workload_objects.WorkloadInterface | None]
    | None = None,
) -> list[host_state.CheckReport]:
    """``check`` every pair, all reading one dump of the kernel's links.

    ``check(vif, instance_info)``, or with ``workload=`` the pair's item
    of ``workloads`` when it is not None.

    With ``ovsdb`` (a client), its IDL cache is held for the whole batch:
    one consistent pass, no update applied in between.  A check that
    raises gets a report with its ``error``; the others go on.
    """
    reports: list[host_state.CheckReport] = []
    with contextlib.ExitStack() as stack:
        if ovsdb is not None and pairs:
            try:
                lock = ovsdb.api.ovsdb_connection.lock
            except Exception as err:  # each check reports it
                LOG.debug("OVSDB not reachable for a check: %s", err)
            else:
                stack.enter_context(lock)
                # The names and wiring of the cache, read once for all.
                ovsdb_client.wiring(ovsdb.api)
        stack.enter_context(linkstate.snapshot())
        stack.enter_context(runner.shared_checks())
        stack.enter_context(gc_pause.paused())
        for index, (vif, instance_info) in enumerate(pairs):
            end = None if workloads is None else workloads[index]
            try:
                reports.append(
                    check(vif, instance_info)
                    if end is None
                    else check(vif, instance_info, workload=end)
                )
            except Exception as err:
                reports.append(host_state.CheckReport(error=err))
    return reports
