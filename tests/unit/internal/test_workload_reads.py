"""A check that cannot enter a namespace has the workload daemon read the
end (os_vif.internal.unprivileged.workload_reads, privileged.workload.
read_ends); a deletes-only batch deletes a veth end by its host end.

Links, daemons and namespaces are made up: unit tests never touch the host.
"""

from __future__ import annotations

import contextlib

import pytest

from os_vif import exception, host_state
from os_vif.internal import linkstate, netns
from os_vif.internal.kernel import workload
from os_vif.internal.privileged import context as privileged_context
from os_vif.internal.privileged import workload as applying
from os_vif.internal.unprivileged import daemon, workload_reads
from tests.unit.internal.workload_ends import VIF_ID
from tests.unit.internal.workload_ends import end_link as link


def veth(**extra) -> workload.EnsureWorkloadEnd:
    return workload.EnsureWorkloadEnd(
        netns="pod1", name="eth0", kind="veth", host="tap1",
        mac="fa:16:3e:00:00:01", mtu=1400, vif_id=VIF_ID,
        addresses=["10.0.0.5/24"], routes=[["0.0.0.0/0", "10.0.0.1"]],
        **extra,
    )


def good_end() -> workload.End:
    return workload.End(
        link=link(),
        addresses=frozenset({"10.0.0.5/24"}),
        routes=frozenset({("0.0.0.0/0", "10.0.0.1")}),
        ipv6_disabled=0,
    )


def test_an_end_crosses_privsep_as_plain_data_and_back():
    end = good_end()
    wire = workload.end_to_wire(end)
    assert wire["routes"] == [["0.0.0.0/0", "10.0.0.1"]]
    # privsep carries lists as tuples.
    carried = {
        **wire,
        "routes": tuple(tuple(route) for route in wire["routes"]),
        "addresses": tuple(wire["addresses"]),
    }
    assert workload.end_from_wire(carried) == end


def test_an_answer_that_is_no_end_is_refused():
    with pytest.raises(exception.InvalidArgument):
        workload.end_from_wire({"link": {"name": "eth0"}})


@pytest.mark.parametrize(
    ("read", "field"),
    [
        ({"netns": "../x", "name": "eth0"}, "reads[0].netns"),
        ({"netns": "pod1", "name": "a/b"}, "reads[0].name"),
        ({"netns": "pod1", "name": "eth0", "versions": [5]},
         "reads[0].versions"),
        ({"netns": "pod1", "name": "eth0", "nested": "yes"},
         "reads[0].nested"),
        ({"netns": "pod1", "name": "eth0", "extra": 1}, "reads[0]"),
        ({"name": "eth0"}, "reads[0].netns"),
        (["pod1", "eth0"], "reads[0]"),
    ],
)
def test_the_daemon_validates_each_read_again(read, field):
    with pytest.raises(exception.InvalidArgument) as caught:
        workload.parse_read(read, "reads[0]")
    assert caught.value.kwargs["field"] == field


def test_a_bad_read_refuses_the_call_before_any_end_is_read(monkeypatch):
    read = []
    monkeypatch.setattr(
        applying, "_read_one", lambda *args: read.append(args) or {}
    )
    good = workload.read_wire(veth(), False)
    with pytest.raises(exception.InvalidArgument) as caught:
        applying.read_ends([good, {"netns": "pod1", "name": "a b"}])
    assert caught.value.kwargs["field"] == "reads[1].name"
    assert read == []
    assert applying.read_ends((good,)) == [{}]
    assert read == [("pod1", "eth0", (4,), False)]


def test_too_many_reads_are_refused():
    good = workload.read_wire(veth(), False)
    with pytest.raises(exception.InvalidArgument):
        applying.read_ends([good] * (workload.MAX_READS + 1))


def _body(argument):
    """The read entrypoint's function, as the daemon runs it."""
    (function,) = privileged_context.workload_read_ends.args
    return function(argument)


def test_the_read_entrypoint_runs_no_plan():
    assert privileged_context.vif_plug_workload.is_entrypoint(
        privileged_context.workload_read_ends
    )
    with pytest.raises(privileged_context.RemoteError) as caught:
        _body({"id": "0" * 32, "groups": [[]]})
    assert caught.value.args[0] == "InvalidArgument"


def test_the_read_entrypoint_answers_the_daemons_hello():
    (answer,) = _body({"id": "0" * 32, "hello": True})
    assert isinstance(answer["pid"], int)


def _unread(op: workload.EnsureWorkloadEnd) -> host_state.CheckReport:
    problem = workload.Unread(
        "namespace pod1", "readable without CAP_SYS_ADMIN", True, False,
        op=op,
    )
    other = host_state.Problem("device tap1", "mtu", 1400, 1500)
    return host_state.CheckReport(problems=(other, problem))


def test_unread_ends_of_many_reports_are_read_in_one_call(monkeypatch):
    calls = []

    def call(context, entrypoint, argument, **kwargs):
        calls.append((entrypoint, argument))
        damaged = workload.end_to_wire(good_end())
        damaged["link"]["mtu"] = 1300
        # As privsep carries it: tuples.
        return (
            {"end": workload.end_to_wire(good_end())},
            {"end": damaged},
            {"end": None},
            {"gone": True},
        )

    monkeypatch.setattr(daemon, "call", call)
    reports = [_unread(veth()) for _ in range(4)]
    clean = host_state.CheckReport()
    resolved = workload_reads.resolve([reports[0], clean, *reports[1:]])

    (entrypoint, argument), = calls
    assert entrypoint is privileged_context.workload_read_ends
    assert len(argument) == 4
    assert resolved[1] is clean
    shown = [
        [(p.object, p.what, p.expected, p.found) for p in report.problems]
        for report in resolved
    ]
    host = ("device tap1", "mtu", 1400, 1500)
    inside = "device eth0 in namespace pod1"
    assert shown[0] == [host]
    assert shown[2] == [host, (inside, "mtu", 1400, 1300)]
    assert shown[3] == [host, (inside, "exists", True, False)]
    assert shown[4] == [host, ("namespace pod1", "exists", True, False)]
    assert not any(
        isinstance(p, workload.Unread) for r in resolved for p in r.problems
    )


def test_nothing_unread_calls_no_daemon(monkeypatch):
    monkeypatch.setattr(daemon, "call", pytest.fail)
    reports = [
        host_state.CheckReport(),
        host_state.CheckReport(error=OSError()),
    ]
    assert workload_reads.resolve(reports) == reports


def test_a_daemon_that_cannot_read_leaves_the_unread_problem(monkeypatch):
    def call(*args, **kwargs):
        raise exception.HostOperationFailed(
            operation="privileged call", device="x", err="no daemon"
        )

    monkeypatch.setattr(daemon, "call", call)
    report = _unread(veth())
    plain = [
        (p.object, p.what, p.expected, p.found) for p in report.problems
    ]
    (resolved,) = workload_reads.resolve([report])
    assert [
        (p.object, p.what, p.expected, p.found) for p in resolved.problems
    ] == plain
    # A plain Problem now: the operation is not the report's business.
    assert not any(isinstance(p, workload.Unread) for p in resolved.problems)
    monkeypatch.setattr(
        daemon, "call", lambda *a, **k: [{"error": "PermissionError"}]
    )
    (resolved,) = workload_reads.resolve([report])
    assert [
        (p.object, p.what, p.expected, p.found) for p in resolved.problems
    ] == plain


def test_an_unread_end_is_still_a_problem_for_a_plug(monkeypatch):
    """A plug's check leaves the end to the daemon: a problem, no read."""

    @contextlib.contextmanager
    def entered(reference):
        raise PermissionError(1, "Operation not permitted")
        yield  # pragma: no cover

    monkeypatch.setattr(netns, "entered", entered)
    monkeypatch.setattr(linkstate, "read_link", lambda name: None)
    problems = veth().check()
    assert isinstance(problems[-1], workload.Unread)
    assert problems[-1].what == "readable without CAP_SYS_ADMIN"
    assert problems[-1].op is not None


class Batch:
    """The part of a Context a deletion uses."""

    def __init__(self, deferred) -> None:
        self.created: dict = {}
        self.trusted = False
        self.deferred = deferred

    def delete_later(self, index: int) -> bool:
        if self.deferred is None:
            return False
        self.deferred.append(index)
        return True


def _deletion() -> workload.DeleteWorkloadEnd:
    return workload.DeleteWorkloadEnd(
        netns="pod1", name="eth0", host="tap1", vif_id=VIF_ID
    )


def test_a_batch_deletes_a_veth_end_by_its_host_end(monkeypatch):
    monkeypatch.setattr(
        linkstate, "read_link", lambda name: link(name=name, index=40)
    )
    monkeypatch.setattr(netns, "entered", pytest.fail)
    ctx = Batch([])
    assert applying.apply_delete_workload_end(_deletion(), ctx) is True
    assert ctx.deferred == [40]


@pytest.mark.parametrize(
    "host",
    [
        None,  # gone: the end inside is looked for
        link(name="tap1", index=40, alias=None),  # not os_vif's
        link(name="tap1", index=40, kind="tun"),  # not a veth
    ],
)
def test_a_batch_enters_the_namespace_unless_the_host_end_is_owned(
    monkeypatch, host
):
    monkeypatch.setattr(linkstate, "read_link", lambda name: host)
    entered = []

    @contextlib.contextmanager
    def enter(reference):
        entered.append(reference)
        raise netns.Gone(reference)
        yield  # pragma: no cover

    monkeypatch.setattr(netns, "entered", enter)
    ctx = Batch([])
    assert applying.apply_delete_workload_end(_deletion(), ctx) is False
    assert ctx.deferred == [] and entered == ["pod1"]


def test_more_ends_than_one_call_takes_go_in_as_few_calls(monkeypatch):
    calls = []

    def call(context, entrypoint, argument, **kwargs):
        calls.append(len(argument))
        return [{"end": workload.end_to_wire(good_end())}] * len(argument)

    monkeypatch.setattr(workload, "MAX_READS", 2)
    monkeypatch.setattr(daemon, "call", call)
    reports = [_unread(veth()) for _ in range(5)]
    resolved = workload_reads.resolve(reports)
    assert calls == [2, 2, 1]
    assert all(
        [p.what for p in report.problems] == ["mtu"] for report in resolved
    )
