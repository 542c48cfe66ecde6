"""os_vif.plugins.batch: chunks, duplicates, build failures, outcomes.

The runner here stands in for the privsep daemon and OVSDB (the
functional tests run the real ones, see tests/functional/ovs/
test_bulk_mixed.py); it records what each chunk was given.
"""

from __future__ import annotations

from typing import Any

import pytest

from os_vif import exception, host_state
from os_vif.internal.unprivileged import runner
from os_vif.internal.unprivileged.plan import Plan
from os_vif.plugins import batch


class RecordingRunner:
    """run_many that fails the plans labelled bad and changes 'new' ones."""

    def __init__(self) -> None:
        self.chunks: list[list[str]] = []
        #: The link table each chunk's check was given.
        self.tables: list[Any] = []
        #: The order each chunk ran in.
        self.orders: list[runner.Order] = []

    def run_many(
        self,
        plans: Any,
        ovsdb: Any = None,
        *,
        order: runner.Order = runner.Order.KERNEL_FIRST,
        links: Any = None,
    ) -> list[runner.PlanResult]:
        self.chunks.append([plan.label for plan in plans])
        self.tables.append(links)
        self.orders.append(order)
        results: list[runner.PlanResult] = []
        for plan in plans:
            if plan.label.startswith("bad"):
                error = exception.HostOperationFailed(
                    operation="x", device=plan.label, err="no"
                )
                results.append(runner.PlanResult(error, True))
                continue
            results.append(
                runner.PlanResult(changed=plan.label.startswith("new"))
            )
        return results


def _job(vif: str, _info: Any, _workload: Any) -> batch.Job | None:
    if vif.startswith("invalid"):
        raise exception.InvalidArgument(field="vif", value=vif, reason="bad")
    if vif == "nothing":
        return None
    return batch.Job(Plan(label=vif), key=vif.split("#")[0])


def _run(names: list[str], **kw: Any) -> tuple[list[Any], Any, list[Any]]:
    recording = RecordingRunner()
    seen: list[Any] = []
    results = batch.run(
        recording,  # type: ignore[arg-type]
        [(name, None) for name in names],
        kw.get("build", _job),
        lambda: pytest.fail("no plan has OVSDB operations"),
        lambda index, result: seen.append((index, result)),
        **({"order": kw["order"]} if "order" in kw else {}),
    )
    return results, recording, seen


def test_outcomes_per_vif_in_order():
    results, runner, seen = _run(
        ["new1", "old1", "invalid1", "bad1", "nothing"]
    )
    assert results[0] is host_state.Outcome.DONE
    assert results[1] is host_state.Outcome.UNCHANGED
    assert isinstance(results[2], exception.InvalidArgument)
    assert isinstance(results[3], exception.HostOperationFailed)
    assert results[4] is host_state.Outcome.UNCHANGED
    # The invalid VIF never reached the runner; one chunk for the rest.
    assert runner.chunks == [["new1", "old1", "bad1"]]
    # Progress once per VIF, with the returned result.
    assert sorted(index for index, _ in seen) == [0, 1, 2, 3, 4]
    assert all(results[index] is result for index, result in seen)


def test_big_batches_are_chunked(monkeypatch):
    monkeypatch.setattr(batch, "CHUNK", 3)
    names = ["new%d" % n for n in range(7)]
    results, runner, _ = _run(names)
    assert [len(chunk) for chunk in runner.chunks] == [3, 3, 1]
    assert results == [host_state.Outcome.DONE] * 7


def test_the_same_vif_twice_runs_in_a_later_chunk():
    results, runner, _ = _run(["new1#a", "new2", "new1#b"])
    assert runner.chunks == [["new1#a", "new2"], ["new1#b"]]
    assert len(results) == 3


def test_lenient_errors_are_forgiven():
    def build(vif: str, info: Any, workload: Any) -> batch.Job:
        return batch.Job(
            Plan(label=vif),
            lenient=lambda err: host_state.Outcome.DONE,
        )

    results, _, _ = _run(["bad1"], build=build)
    assert results == [host_state.Outcome.DONE]


def test_a_runner_that_raises_fails_its_chunk_only(monkeypatch):
    monkeypatch.setattr(batch, "CHUNK", 1)
    calls = []

    class Flaky(RecordingRunner):
        def run_many(
            self, plans: Any, *rest: Any, **kw: Any
        ) -> list[runner.PlanResult]:
            calls.append(plans[0].label)
            if plans[0].label == "new1":
                raise RuntimeError("lost")
            return super().run_many(plans, *rest, **kw)

    results = batch.run(
        Flaky(),  # type: ignore[arg-type]
        [("new1", None), ("new2", None)],
        _job,
        lambda: pytest.fail("no OVSDB"),
    )
    assert isinstance(results[0], RuntimeError)
    assert results[1] is host_state.Outcome.DONE
    assert calls == ["new1", "new2"]


def test_one_link_dump_serves_chunks_until_one_changes_something(
    monkeypatch,
):
    monkeypatch.setattr(batch, "CHUNK", 2)
    monkeypatch.setattr(batch, "SNAPSHOT_PLANS", 2)
    dumps: list[Any] = []

    def read() -> Any:
        dumps.append(object())
        return dumps[-1]

    monkeypatch.setattr(batch.linkstate.LinkTable, "read", read)
    # Chunks: [old0 old1] [old2 new3] [old4 old5] [old6]
    names = ["old0", "old1", "old2", "new3", "old4", "old5", "old6"]
    _, runner, _ = _run(names)
    assert len(runner.chunks) == 4
    # The first dump serves the unchanged first chunk and the second;
    # the second changed something, so the third reads a new one, which
    # the last (too small to dump for) still uses.
    assert runner.tables == [dumps[0], dumps[0], dumps[1], dumps[1]]
    assert len(dumps) == 2


def test_small_batches_read_devices_one_by_one(monkeypatch):
    monkeypatch.setattr(
        batch.linkstate.LinkTable,
        "read",
        lambda: pytest.fail("no dump for a small batch"),
    )
    _, runner, _ = _run(["old0", "new1"])
    assert runner.tables == [None]


def test_every_chunk_runs_in_the_order_asked(monkeypatch):
    monkeypatch.setattr(batch, "CHUNK", 2)
    _, recording, _ = _run(["new0", "new1", "new2"])
    assert recording.orders == [runner.Order.KERNEL_FIRST] * 2
    _, recording, _ = _run(
        ["new0", "new1", "new2"], order=runner.Order.TOGETHER
    )
    assert recording.orders == [runner.Order.TOGETHER] * 2
