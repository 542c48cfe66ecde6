"""Run plans: check first, then one privileged call and one transaction.

:class:`HostRunner` is what plugins hand their plans to.  For a batch of
plans (one VIF each; a single plug is a batch of one) it

1. **checks** every plan against the host without privilege: the kernel
   operations through netlink reads, the OVSDB ones against the IDL cache;
   and *admits* them (ownership: a device or port of someone else, a
   bridge of another datapath type is refused here, before anything
   changes -- the daemon checks the kernel part again).  A plan whose
   domain is satisfied sends nothing to it -- a re-plug costs reads only;
2. sends the kernel operations of every plan that needs them to the
   privsep daemon in **one call**, one group per plan (each group is
   all-or-nothing in the daemon), and the OVSDB operations of every plan
   in **one transaction**, in the :class:`Order` the caller chose: the
   kernel call first for a plug, the transaction first for one unplug,
   both at once for a batch of unplugs;
3. for a plug whose transaction failed, **takes back** its kernel part
   with the undo operations the daemon returned for it (run the same way).
   A transaction that fails as a whole is retried plan by plan, so that
   one bad VIF fails alone.  A daemon that hangs mid-call is killed and
   replaced, and the new one takes back the call's changes from its
   journal; a daemon that dies mid-call is seen at once, replaced the same
   way, and the call is then made once more on the new daemon (see
   ``_call``).

The result is one :class:`PlanResult` per plan, in order;
:meth:`HostRunner.run` raises the error of a single plan.  See
``doc/source/internals/runner.rst``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from oslo_privsep import priv_context

from os_vif import exception
from os_vif.internal import kernel, linkstate, operation
from os_vif.internal.ovsdb import client as ovsdb_client
from os_vif.internal.privileged import context as privileged_context
from os_vif.internal.unprivileged import daemon, gc_pause
from os_vif.internal.unprivileged.plan import Plan

__all__ = [
    "HostRunner",
    "LINUX_BRIDGE",
    "OVS",
    "WORKLOAD",
    "Order",
    "PlanResult",
    "shared_checks",
]

LOG = logging.getLogger(__name__)

_Result = exception.ExceptionBase | None

#: Seconds a plug waits for ovs-vswitchd to apply the changes committed
#: before it (it takes milliseconds; longer means ovs-vswitchd is not
#: running), see HostRunner._settle.
SETTLE_LIMIT = 5.0


class Order(enum.Enum):
    """Which domain of a batch of plans runs first; the caller chooses."""

    #: The privileged call, then the transaction (a plug): a port committed
    #: while its device is being made lets ovs-vswitchd read the device's
    #: flags before the daemon sets it up and write them back after.  A
    #: plan the daemon failed sends no rows; a plan whose rows failed has
    #: its kernel part taken back.
    KERNEL_FIRST = "kernel-first"
    #: The transaction, then the privileged call (an unplug): ovs-vswitchd
    #: lets go of a port before its device goes, and a port that could not
    #: be removed keeps its device.
    OVSDB_FIRST = "ovsdb-first"
    #: Both at once (a batch of unplugs): the transaction is started, the
    #: daemon deletes meanwhile, then the transaction is waited for.  With
    #: at most one plan to send to the daemon there is nothing to share,
    #: and the batch runs as :attr:`OVSDB_FIRST`.
    TOGETHER = "together"


@dataclasses.dataclass(frozen=True)
class PlanResult:
    """What became of one plan of a batch."""

    #: None (done), or the os_vif exception that failed the plan.
    error: exception.ExceptionBase | None = None
    #: The check found something to do: the plan was sent to the daemon or
    #: to ovsdb-server (so, with no error, the host changed; without, the
    #: plan was found done already).  A failed plan may have changed it
    #: before its undo.
    changed: bool = False


class HostRunner:
    """Runs plans with the privsep daemon of one plugin family."""

    def __init__(
        self,
        name: str,
        context: priv_context.PrivContext,
        entrypoint: Callable[..., Any],
        timeout: float = daemon.DEFAULT_TIMEOUT,
    ) -> None:
        self.name = name
        self.context = context
        self._entrypoint = entrypoint
        #: Seconds one privileged call may take before the daemon is killed.
        self.timeout = timeout

    def __repr__(self) -> str:
        return "HostRunner(%s)" % self.name

    def with_timeout(self, timeout: float) -> HostRunner:
        """Return this runner with calls bounded by ``timeout`` seconds.

        The same daemon (context and entrypoint); the plugins make one from
        their ``privsep_timeout`` option each time they hand it plans.
        """
        if timeout == self.timeout:
            return self
        return HostRunner(self.name, self.context, self._entrypoint, timeout)

    # -- without privilege --------------------------------------------------

    @staticmethod
    def validate(plan: Plan) -> None:
        """Validate ``plan`` as the daemon will (its wire form, again)."""
        groups = [[step.to_wire() for step in plan.kernel]]
        kernel.parse_plan({"id": "0" * 32, "groups": groups})

    @staticmethod
    def check(
        plan: Plan, ovsdb: ovsdb_client.OvsdbClient | None = None
    ) -> list[operation.Problem]:
        """Return everything on the host that differs from ``plan``."""
        problems: list[operation.Problem] = []
        for step in plan.kernel:
            problems += _check_step(step)
        if plan.ovsdb and ovsdb is not None:
            api = ovsdb.api
            with api.ovsdb_connection.lock:
                for step in plan.ovsdb:
                    problems += _check_step(step, api)
        return problems

    # -- running -----------------------------------------------------------

    def run(
        self,
        plan: Plan,
        ovsdb: ovsdb_client.OvsdbClient | None = None,
        order: Order = Order.KERNEL_FIRST,
    ) -> bool:
        """Carry out ``plan``; on failure undo it and raise the error.

        Return whether anything needed doing (see :class:`PlanResult`).
        """
        (result,) = self.run_many([plan], ovsdb, order=order)
        if result.error is not None:
            raise result.error
        return result.changed

    def run_many(
        self,
        plans: Sequence[Plan],
        ovsdb: ovsdb_client.OvsdbClient | None = None,
        *,
        order: Order = Order.KERNEL_FIRST,
        links: linkstate.LinkTable | None = None,
    ) -> list[PlanResult]:
        """Carry out ``plans``, each all-or-nothing; see the module.

        ``order`` says which domain goes first (see :class:`Order`).
        ``links``, when given, is what the check reads of the kernel's
        links instead of asking for each device (a batch's one dump).  The
        check may read a moment-old state: the daemon checks every
        operation again against the kernel before it changes anything.
        """
        results: list[_Result] = [None] * len(plans)
        reading = (
            contextlib.nullcontext()
            if links is None
            else linkstate.snapshot(links)
        )
        with reading, shared_checks(), gc_pause.paused():
            ovsdb_todo = self._check_ovsdb(plans, ovsdb, results)
            # Last step first: a plan's last steps are the VIF's own
            # devices, its first ones what it shares with other VIFs (a
            # bridge, forwarding rules, sysctls), which are in place on
            # any host that has VIFs; a new VIF's plan is known to have
            # work after one check instead of all.
            kernel_todo = {
                i: plan.kernel
                for i, plan in enumerate(plans)
                if results[i] is None
                and plan.kernel
                and any(_check_step(step) for step in reversed(plan.kernel))
            }
            # Only where an OVSDB transaction runs beside the kernel call
            # (see _admit_kernel); alone, the daemon's own admission
            # suffices.
            self._admit_kernel(
                {i: ops for i, ops in kernel_todo.items() if i in ovsdb_todo},
                results,
            )
        batch = _Batch(plans, ovsdb, results)
        batch.kernel = batch.pending(kernel_todo)
        batch.rows = batch.pending(ovsdb_todo)
        changed = {*batch.kernel, *batch.rows}
        if changed:
            self._execute(batch, order)
        return [
            PlanResult(error, i in changed) for i, error in enumerate(results)
        ]

    def _execute(self, batch: _Batch, order: Order) -> None:
        """Send what the check found to do, in ``order``."""
        if order is Order.KERNEL_FIRST:
            self._plug(batch)
        elif order is Order.TOGETHER and batch.rows and len(batch.kernel) > 1:
            self._teardown_together(batch)
        else:
            plans, results = batch.plans, batch.results
            self._commit(batch.ovsdb, batch.rows, plans, results, None)
            # A plan whose rows could not go keeps its devices.
            self._kernel(batch.pending(batch.kernel), plans, results)

    def _plug(self, batch: _Batch) -> None:
        """:attr:`Order.KERNEL_FIRST`: the devices, then their ports."""
        plans, results = batch.plans, batch.results
        if batch.kernel and batch.rows and batch.ovsdb is not None:
            self._settle(batch.ovsdb, batch.rows)
        kernel_undo = self._kernel(batch.kernel, plans, results)
        # A plan the daemon failed sends no rows.
        rows = batch.pending(batch.rows)
        self._commit(batch.ovsdb, rows, plans, results, None)
        # A plan whose transaction failed committed nothing (the retry is
        # per plan): take back its kernel part.
        kernel_back = {
            i: list(reversed(kernel_undo[i]))
            for i in kernel_undo
            if results[i] is not None and kernel_undo[i]
        }
        if kernel_back:
            failed: list[_Result] = [None] * len(plans)
            self._kernel(kernel_back, plans, failed)
            for i, error in enumerate(failed):
                if error is not None:
                    LOG.warning("Could not undo %s: %s", plans[i].label, error)

    def _teardown_together(self, batch: _Batch) -> None:
        """Remove a batch's ports and devices at the same time.

        A single unplug removes its port, then its device, so that a port
        that could not be removed keeps its device.  For a batch, waiting
        for ovsdb-server before the privileged call would add the two
        (about as long each for hundreds of VIFs); the transaction is
        started, the daemon deletes meanwhile, then the transaction is
        waited for.  Both were admitted first (ownership, before anything
        changed); a VIF whose port could not be removed after all has its
        device gone and its error reported: an unplug again removes the
        port (removal is idempotent), and so does ``os_vif.gc``.
        """
        plans, results = batch.plans, batch.results
        try:
            pending = self._start(batch.ovsdb, batch.rows, plans)
        except exception.ExceptionBase:
            pending = None  # _commit below tries again and reports
        kernel_results: list[_Result] = [None] * len(plans)
        self._kernel(batch.kernel, plans, kernel_results)
        self._commit(batch.ovsdb, batch.rows, plans, results, pending)
        for i, error in enumerate(kernel_results):
            if results[i] is None:
                results[i] = error

    @staticmethod
    def _settle(
        ovsdb: ovsdb_client.OvsdbClient, todo: dict[int, list[Any]]
    ) -> None:
        """Let ovs-vswitchd let go of the ports a plug makes again.

        When ovs-vswitchd applies a port's removal it puts back, by name,
        the flags the port's device had when it took it: a device an
        unplug of this process deleted and this plug makes again (a quick
        re-plug, an ``unplug_many`` then ``plug_many``) would be set down.
        Nothing to wait for otherwise (a look-up in a dictionary).
        """
        names = [step.device for steps in todo.values() for step in steps]
        try:
            applied = ovsdb.wait_removals_applied(names, SETTLE_LIMIT)
        except exception.ExceptionBase:
            return  # the plan's own transaction reports the connection
        if not applied:
            # ovs-vswitchd is down or restarting: it opens the ports it
            # finds when it starts, so there is nothing to wait for.
            LOG.info(
                "ovs-vswitchd has not applied the removal of earlier ports "
                "within %ss; plugging anyway",
                SETTLE_LIMIT,
            )

    @staticmethod
    def _admit_kernel(
        todo: dict[int, list[Any]], results: list[_Result]
    ) -> None:
        """Refuse early what the daemon would refuse (it checks again).

        Where a transaction goes with the kernel call, a refusal found
        here costs no daemon call at all.  The ownership rules read only
        what anyone can read.
        """
        for i, steps in todo.items():
            # Nothing created yet: ownership by the device alone.
            scope = kernel.Scope()
            try:
                for step in steps:
                    step.admit(scope)
            except exception.HostOperationRefused as err:
                results[i] = err

    # -- OVSDB -------------------------------------------------------------

    @staticmethod
    def _check_ovsdb(
        plans: Sequence[Plan],
        ovsdb: ovsdb_client.OvsdbClient | None,
        results: list[_Result],
    ) -> dict[int, list[Any]]:
        """Check and admit the OVSDB part of ``plans``: what each must do.

        Nothing is read for an undo: a transaction either commits whole or
        not at all, and it is the last thing a plug sends (a failed one
        leaves no rows to take back).
        """
        todo: dict[int, list[Any]] = {}
        if ovsdb is None or not any(plan.ovsdb for plan in plans):
            return todo
        try:
            api = ovsdb.api
        except exception.ExceptionBase as err:
            for i, plan in enumerate(plans):
                if plan.ovsdb:
                    results[i] = err
            return todo
        with api.ovsdb_connection.lock:
            # One snapshot of the wiring and names for the whole batch: the
            # lookups below are then dictionary reads.
            ovsdb_client.wiring(api)
            for i, plan in enumerate(plans):
                try:
                    needed = [s for s in plan.ovsdb if _check_step(s, api)]
                    if needed:
                        # Only what will change needs admitting: a plan
                        # found as asked (a re-plug) touches nothing.
                        for step in plan.ovsdb:
                            _admit_step(step, api)
                        todo[i] = needed
                except exception.ExceptionBase as err:
                    results[i] = err
        return todo

    @staticmethod
    def _start(
        ovsdb: ovsdb_client.OvsdbClient | None,
        todo: dict[int, list[Any]],
        plans: Sequence[Plan],
    ) -> ovsdb_client.PendingCommit | None:
        if not todo or ovsdb is None:
            return None
        api = ovsdb.api
        return ovsdb.start(
            [
                c
                for steps in todo.values()
                for s in steps
                for c in s.commands(api)
            ],
            ", ".join(plans[i].label for i in todo) or "plan",
        )

    @staticmethod
    def _wait(pending: ovsdb_client.PendingCommit | None) -> None:
        if pending is not None:
            pending.wait()

    def _commit(
        self,
        ovsdb: ovsdb_client.OvsdbClient | None,
        todo: dict[int, list[Any]],
        plans: Sequence[Plan],
        results: list[_Result],
        pending: ovsdb_client.PendingCommit | None,
    ) -> None:
        if not todo or ovsdb is None:
            return
        try:
            self._wait(pending or self._start(ovsdb, todo, plans))
            return
        except exception.ExceptionBase as err:
            if len(todo) == 1:
                results[next(iter(todo))] = err
                return
        # One transaction for all failed, so nothing of it was committed:
        # one per plan finds the plans at fault.
        for i, steps in todo.items():
            try:
                self._wait(self._start(ovsdb, {i: steps}, plans))
            except exception.ExceptionBase as err:
                results[i] = err

    # -- kernel ------------------------------------------------------------

    def _kernel(
        self,
        todo: dict[int, list[Any]],
        plans: Sequence[Plan],
        results: list[_Result],
    ) -> dict[int, list[Any]]:
        """Run the groups in one call; return each group's undo operations."""
        undo: dict[int, list[Any]] = {}
        if not todo:
            return undo
        order = [i for i in todo if results[i] is None]
        groups = [[step.to_wire() for step in todo[i]] for i in order]
        what = ", ".join(plans[i].label for i in order) or "plan"
        try:
            # Many VIFs: the daemon deletes their devices together.
            answers = self._call(groups, len(order) > 1, what)
        except exception.ExceptionBase as err:
            for i in order:
                results[i] = err
            return undo
        for i, answer in zip(order, answers, strict=True):
            if "error" in answer:
                results[i] = privileged_context.rebuild(answer["error"])
            else:
                undo[i] = [
                    kernel.REGISTRY.from_wire(step)
                    for step in answer["undo"]
                ]
        return undo

    def _call(
        self, groups: list[list[Any]], batched: bool, what: str
    ) -> list[dict[str, Any]]:
        """Send ``groups`` to the daemon; survive its death once.

        A daemon that dies during the call has what it did taken back by a
        new daemon (the plan's journal, see daemon.call), and the call is
        made again, once, on that daemon: the groups are the whole plan of
        each VIF, which the host is back to the start of, and every
        operation first checks what is there (a plug makes what is missing,
        an unplug removes what is left), so running them again is safe.
        A daemon that timed out is not retried (see daemon.DaemonTimedOut).
        """
        try:
            return self._attempt(groups, batched, what)
        except daemon.DaemonDied as died:
            first = died
        LOG.info(
            "Retrying the privileged call for %s once, on the new privsep "
            "daemon",
            what,
        )
        try:
            answers = self._attempt(groups, batched, what)
        except exception.ExceptionBase as err:
            LOG.error(
                "The retried privileged call for %s failed too: %s", what, err
            )
            # A retry lost as the first was taken back the same way; any
            # other failure says itself what became of it.
            undone = isinstance(
                err, (daemon.DaemonDied, daemon.DaemonTimedOut)
            )
            raise daemon.DaemonLost(
                operation="privileged call",
                device=what,
                err="the privsep daemon died during the call (%s); what it "
                "did was taken back and the call was retried once on a new "
                "daemon, which failed too (%s)%s"
                % (
                    first.kwargs.get("err"),
                    _reason(err),
                    "; what the retry did was taken back" if undone else "",
                ),
            ) from None
        LOG.info("The retried privileged call for %s succeeded", what)
        return list(answers)

    def _attempt(
        self, groups: list[list[Any]], batched: bool, what: str
    ) -> Any:
        """One call, a plan of its own (a new id: its own journal).

        A daemon lost during it has what it did taken back by a new daemon
        before this raises (see daemon.call).
        """
        wire: dict[str, Any] = {"id": uuid.uuid4().hex, "groups": groups}
        if batched:
            wire["batch_deletions"] = True
        return daemon.call(
            self.context,
            self._entrypoint,
            wire,
            timeout=self.timeout,
            what=what,
        )


def _reason(err: BaseException | None) -> str:
    """What went wrong, without repeating the operation and device."""
    if isinstance(err, exception.ExceptionBase) and "err" in err.kwargs:
        return str(err.kwargs["err"])
    return str(err)


@dataclasses.dataclass
class _Batch:
    """One :meth:`HostRunner.run_many`: its plans, errors and work."""

    plans: Sequence[Plan]
    ovsdb: ovsdb_client.OvsdbClient | None
    #: Per plan: None, or the error that failed it (filled as it goes).
    results: list[_Result]
    #: Plan index -> its kernel operations the check found to do.
    kernel: dict[int, list[Any]] = dataclasses.field(default_factory=dict)
    #: Plan index -> its OVSDB operations the check found to do.
    rows: dict[int, list[Any]] = dataclasses.field(default_factory=dict)

    def pending(self, todo: dict[int, list[Any]]) -> dict[int, list[Any]]:
        """``todo`` without the plans that failed meanwhile."""
        return {i: ops for i, ops in todo.items() if self.results[i] is None}


class _SharedChecks(threading.local):
    #: (what, operation key) -> problems, or the refusal of an admission.
    results: dict[tuple[Any, ...], Any] | None = None


_SHARED = _SharedChecks()


@contextlib.contextmanager
def shared_checks() -> Iterator[None]:
    """Check and admit each ``SHARED`` operation once while inside.

    For one batch (a check of many VIFs, the check phase of run_many):
    hundreds of plans name the same integration bridge, and its check would
    otherwise be made again for every one.  What the batch reads may be a
    moment old anyway (see run_many).
    """
    previous = _SHARED.results
    if previous is None:
        _SHARED.results = {}
    try:
        yield
    finally:
        _SHARED.results = previous


def _shared_key(step: operation.Operation) -> tuple[Any, ...] | None:
    memo = _SHARED.results
    if memo is None or not step.shared:
        return None
    try:
        key = (step.NAME, tuple(sorted(step.arguments.items())))
        hash(key)
    except TypeError:  # an argument that is a list or a mapping
        return None
    return key


def _check_step(step: Any, api: Any = None) -> list[operation.Problem]:
    key = _shared_key(step)
    if key is None:
        return step.check(api) if api is not None else step.check()
    memo = _SHARED.results
    assert memo is not None
    found = memo.get(("check", key))
    if found is None:
        found = memo[("check", key)] = (
            step.check(api) if api is not None else step.check()
        )
    return list(found)


def _admit_step(step: Any, api: Any) -> None:
    key = _shared_key(step)
    if key is None:
        step.admit(api)
        return
    memo = _SHARED.results
    assert memo is not None
    if ("admit", key) not in memo:
        try:
            step.admit(api)
        except exception.HostOperationRefused as err:
            memo[("admit", key)] = err
        else:
            memo[("admit", key)] = None
    refused = memo[("admit", key)]
    if refused is not None:
        raise refused


#: Plans of the linux_bridge plugin's daemon.
LINUX_BRIDGE = HostRunner(
    "linux_bridge",
    privileged_context.vif_plug_linux_bridge,
    privileged_context.linux_bridge_execute,
)
#: Plans of the ovs (and offload) plugins' daemon.
OVS = HostRunner(
    "ovs", privileged_context.vif_plug_ovs, privileged_context.ovs_execute
)
#: Plans with a workload's end (any plugin's): the only daemon that may
#: enter a network namespace (CAP_SYS_ADMIN).
WORKLOAD = HostRunner(
    "workload",
    privileged_context.vif_plug_workload,
    privileged_context.workload_execute,
)
