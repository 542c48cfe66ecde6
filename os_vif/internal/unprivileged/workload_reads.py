"""The workload ends a check could not read, read by the workload daemon.

Reading a workload's end means entering its network namespace, which
needs ``CAP_SYS_ADMIN``; most callers of :func:`os_vif.check` (nova-compute,
zun-compute) run without it and reach the host through privsep daemons.
Their check of an end says so with an
:class:`~os_vif.internal.kernel.workload.Unread` Problem; :func:`resolve`
has every such end of the reports read by the workload daemon
(``vif_plug_workload``, which has the capability) in **one** read-only
call (:func:`os_vif.internal.privileged.context.workload_read_ends`), and
puts in each report, in the Unread's place, the comparison of what was
read with what the plug would make (made here, by the operation: the
daemon returns plain data, never a verdict).

A plug does not come here: its check's Unread sends the plan to the
daemon, which reads the end again as it applies it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from os_vif import exception, host_state
from os_vif.internal.kernel import workload
from os_vif.internal.privileged import context as privileged_context
from os_vif.internal.unprivileged import daemon

__all__ = ["resolve"]

LOG = logging.getLogger(__name__)


def _unread(report: Any) -> list[workload.Unread]:
    if not isinstance(report, host_state.CheckReport):
        return []
    return [
        problem
        for problem in report.problems
        if isinstance(problem, workload.Unread) and problem.op is not None
    ]


def _read(unread: list[workload.Unread]) -> list[Any] | None:
    """The daemon's answers, one per end (None: it could not answer).

    One call, or one per :data:`~os_vif.internal.kernel.workload.
    MAX_READS` ends (what the daemon takes at once).
    """
    reads = [workload.read_wire(p.op, p.nested) for p in unread if p.op]
    answers: list[Any] = []
    for start in range(0, len(reads), workload.MAX_READS):
        chunk = reads[start : start + workload.MAX_READS]
        what = "read of %d workload end(s)" % len(chunk)
        try:
            answered = daemon.call(
                privileged_context.vif_plug_workload,
                privileged_context.workload_read_ends,
                chunk,
                timeout=daemon.DEFAULT_TIMEOUT,
                what=what,
            )
        except exception.ExceptionBase as err:
            LOG.warning(
                "The workload daemon could not make the %s: %s", what, err
            )
            return None
        # privsep carries a list as a tuple.
        if not isinstance(answered, (list, tuple)) or (
            len(answered) != len(chunk)
        ):
            LOG.warning(
                "The workload daemon answered the %s with %r", what, answered
            )
            return None
        answers += answered
    return answers


def _problems(
    problem: workload.Unread, answer: Any
) -> list[host_state.Problem]:
    """What replaces ``problem`` given the daemon's ``answer``."""
    op = problem.op
    assert op is not None
    if not isinstance(answer, dict) or "error" in answer:
        return [_plain(problem)]
    if answer.get("gone") is True:
        return [host_state.Problem(problem.object, "exists", True, False)]
    try:
        end = answer["end"]
        found = None if end is None else workload.end_from_wire(end)
    except (KeyError, exception.InvalidArgument):
        return [_plain(problem)]
    return op.problems(found, problem.parent_index)


def _plain(problem: host_state.Problem) -> host_state.Problem:
    """``problem`` as the public Problem it is (an Unread's operation is
    os_vif's business, not the report's)."""
    return host_state.Problem(
        problem.object, problem.what, problem.expected, problem.found
    )


def resolve(
    reports: Sequence[host_state.CheckReport | Any],
) -> list[host_state.CheckReport | Any]:
    """``reports`` with every Unread end read by the workload daemon.

    One daemon call for all of them; nothing when there is none.  An end
    the daemon could not read (or a daemon that did not answer, logged)
    stays a Problem saying that the namespace could not be read.
    """
    unread = [_unread(report) for report in reports]
    every = [problem for found in unread for problem in found]
    if not every:
        return list(reports)
    answers = _read(every)
    by_problem = {
        id(problem): None if answers is None else answers[number]
        for number, problem in enumerate(every)
    }
    resolved: list[host_state.CheckReport | Any] = []
    for report, found in zip(reports, unread, strict=True):
        if not found:
            resolved.append(report)
            continue
        problems: list[host_state.Problem] = []
        for problem in report.problems:
            if id(problem) in by_problem:
                assert isinstance(problem, workload.Unread)
                answer = by_problem[id(problem)]
                problems += (
                    [_plain(problem)]
                    if answer is None
                    else _problems(problem, answer)
                )
            else:
                problems.append(problem)
        resolved.append(dataclasses.replace(report, problems=tuple(problems)))
    return resolved
