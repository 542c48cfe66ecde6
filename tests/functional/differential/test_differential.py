"""Every scenario on os-vif 5.3.0 and on this tree: the hosts must agree.

For each scenario of :data:`.scenarios.SCENARIOS` both hosts are reset,
given the scenario's options and premade devices, and dumped; then each
step runs on both (at the same time), both hosts are dumped again and
compared (:mod:`.normalise`), and so are the steps' results (a refused
plug must be refused by both, with the same exception class).  After the
last step each host must be back as it was before the first one (but for
the scenario's ``remains``).  Every difference must be covered by the
table of intended differences (:mod:`.intended`), or the scenario fails
with a report of the uncovered ones.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.functional.differential import intended, normalise, scenarios
from tests.functional.differential.conftest import TwinHosts
from tests.functional.differential.hosts import Host

pytestmark = [pytest.mark.functional, pytest.mark.ovs]

ENTRIES = intended.load()
#: What each table entry covered in this run, by its line in the table.
_COVERED: dict[int, list[str]] = {entry.line: [] for entry in ENTRIES}
_RAN: set[str] = set()
# A bridge's or veth's oper state follows its carrier through the
# kernel's linkwatch, which may run up to a second later.  A tap 5.3.0
# adds to OVSDB before it makes the device is opened by ovs-vswitchd when
# it appears, which races with 5.3.0 setting it up (seen once in about
# ten runs of downgrade-trunk): both settle.
_SETTLE_ATTRS = (".operstate:", ".up:")


@dataclasses.dataclass
class Run:
    """What a scenario did: its differences and the steps' results."""

    differences: list[str] = dataclasses.field(default_factory=list)
    log: list[str] = dataclasses.field(default_factory=list)


def _both(
    twins: TwinHosts,
    on_reference: Callable[[Host], Any],
    on_subject: Callable[[Host], Any],
) -> tuple[Any, Any]:
    ref = twins.pool.submit(on_reference, twins.reference)
    sub = twins.pool.submit(on_subject, twins.subject)
    return ref.result(), sub.result()


def _prepare(host: Host, scenario: scenarios.Scenario) -> None:
    host.reset()
    host.configure(scenario.config)
    for device in scenario.premade:
        host.make(device)


def _states(
    twins: TwinHosts, known: set[str]
) -> tuple[normalise.Normalised, normalise.Normalised]:
    ref, sub = _both(twins, Host.dump, Host.dump)
    return normalise.normalise(ref, known), normalise.normalise(sub, known)


def _outcome(result: dict[str, Any]) -> str:
    return "ok" if result["ok"] else result["error"]


def _call(step: scenarios.Step, scenario: scenarios.Scenario, actor: str
          ) -> Callable[[Host], list[dict[str, Any]]]:
    vifs = [scenario.vifs[name] for name in step.vifs]

    def call(host: Host) -> list[dict[str, Any]]:
        return host.call(actor, step.op, vifs, scenario.instance)

    return call


def _keep(
    scenario: scenarios.Scenario,
    number: int,
    reference: normalise.Normalised,
    subject: normalise.Normalised,
) -> None:
    # OS_VIF_DIFFERENTIAL_DUMPS=DIR keeps both hosts' normalised states
    # after each step, to check a reported difference by hand.
    where = os.environ.get("OS_VIF_DIFFERENTIAL_DUMPS")
    if not where:
        return
    os.makedirs(where, exist_ok=True)
    for label, state in (("5.3.0", reference), ("ours", subject)):
        path = os.path.join(
            where, "%s.step%d.%s.json" % (scenario.name, number, label)
        )
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(state, handle, indent=1, sort_keys=True, default=str)


def run_scenario(twins: TwinHosts, scenario: scenarios.Scenario) -> Run:
    """Run ``scenario`` on both hosts; return what differed."""
    run = Run()
    known = scenario.known_macs()
    _both(twins, lambda h: _prepare(h, scenario),
          lambda h: _prepare(h, scenario))
    before_ref, before_sub = _states(twins, known)
    for difference in normalise.compare(before_ref, before_sub):
        run.differences.append("before: " + difference)
    for number, step in enumerate(scenario.steps, start=1):
        where = "step %d (%s)" % (number, step.label)
        if step.op == "make":
            assert step.device is not None
            make = functools.partial(Host.make, device=step.device)
            _both(twins, make, make)
        else:
            ref_results, sub_results = _both(
                twins,
                _call(step, scenario, scenarios.V530),
                _call(step, scenario, step.by),
            )
            for name, ref, sub in zip(
                step.vifs, ref_results, sub_results, strict=True
            ):
                run.log.append(
                    "%s: %s: 5.3.0=%s ours=%s"
                    % (where, name, ref.get("message") or "ok",
                       sub.get("message") or "ok")
                )
                if _outcome(ref) != _outcome(sub):
                    run.differences.append(
                        "%s: result %s: 5.3.0=%s ours=%s"
                        % (where, name, _outcome(ref), _outcome(sub))
                    )
        ref_state, sub_state = _states(twins, known)
        found = normalise.compare(ref_state, sub_state)
        if any(attr in item for item in found for attr in _SETTLE_ATTRS):
            time.sleep(1.2)
            ref_state, sub_state = _states(twins, known)
            found = normalise.compare(ref_state, sub_state)
        _keep(scenario, number, ref_state, sub_state)
        run.differences += ["%s: %s" % (where, item) for item in found]
    made = {"link " + name for name in scenario.made_links()}
    for label, before, after in (
        ("5.3.0", before_ref, ref_state),
        ("ours", before_sub, sub_state),
    ):
        for left in normalise.leftovers(before, after, scenario.remains):
            if left in made:
                continue
            run.differences.append("end: %s left %s" % (label, left))
    return run


def _report(scenario: scenarios.Scenario, run: Run, uncovered: list[str]
            ) -> str:
    lines = [
        "scenario %s: %d difference(s) not in %s:"
        % (scenario.name, len(uncovered), intended.TABLE),
        *("  " + item for item in uncovered),
        "steps (5.3.0 on the reference host; the step's actor on ours):",
        *("  " + item for item in run.log),
    ]
    covered = len(run.differences) - len(uncovered)
    if covered:
        lines.append("(%d intended difference(s) covered)" % covered)
    return "\n".join(lines)


@pytest.mark.parametrize(
    "scenario", scenarios.SCENARIOS, ids=lambda s: s.name
)
def test_scenario(twin_hosts: TwinHosts, scenario: scenarios.Scenario) -> None:
    """The scenario leaves both hosts alike, but for intended differences."""
    run = run_scenario(twin_hosts, scenario)
    uncovered = _uncovered(scenario, run)
    if uncovered and all(
        any(attr in item for attr in _SETTLE_ATTRS) for item in uncovered
    ):
        # Only a device's state differs, which ovs-vswitchd may set behind
        # either release's back: it closes a removed port's device later
        # (its RCU), putting back by name the flags it found on it, and a
        # scenario that makes a tap of that name again at once can get
        # them (seen: 5.3.0's own re-made tap set down on the reference
        # host, about one run in ten).  Run once more: a difference of
        # ours shows again.
        first = _report(scenario, run, uncovered)
        run = run_scenario(twin_hosts, scenario)
        uncovered = _uncovered(scenario, run)
        assert not uncovered, "%s\n(the first run differed too:\n%s)" % (
            _report(scenario, run, uncovered), first)
    _RAN.add(scenario.name)
    assert not uncovered, _report(scenario, run, uncovered)


def _uncovered(scenario: scenarios.Scenario, run: Run) -> list[str]:
    """The differences of ``run`` no table entry covers (and note which
    entries covered the others)."""
    uncovered = []
    for difference in run.differences:
        entries = [e for e in ENTRIES if e.covers(scenario.name, difference)]
        for entry in entries:
            _COVERED[entry.line].append(
                "%s: %s" % (scenario.name, difference)
            )
        if not entries:
            uncovered.append(difference)
    return uncovered


def test_matrix_is_wide_enough() -> None:
    """The matrix holds at least 40 scenarios, upgrades and downgrades."""
    names = [scenario.name for scenario in scenarios.SCENARIOS]
    assert len(names) >= 40
    assert len(set(names)) == len(names)
    by = {
        (step.op, step.by)
        for scenario in scenarios.SCENARIOS
        for step in scenario.steps
    }
    assert {("plug", scenarios.V530), ("unplug", scenarios.V530)} <= by
    for scenario in scenarios.SCENARIOS:
        # Each ends with an unplug: nothing may be left.
        assert scenario.steps[-1].op == "unplug", scenario.name


def test_no_stale_intended_difference() -> None:
    """Every entry of the table covers a difference of a full run."""
    if _RAN != {scenario.name for scenario in scenarios.SCENARIOS}:
        pytest.skip("only a full run of the scenarios shows stale entries")
    stale = [
        "line %d: %s (scenarios %s)" % (e.line, e.difference, e.scenarios)
        for e in ENTRIES
        if not _COVERED[e.line]
    ]
    assert not stale, (
        "entries of %s that no difference needs any more (remove them):\n%s"
        % (intended.TABLE, "\n".join(stale))
    )
