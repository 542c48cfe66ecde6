"""The VIF's two ends for an attachment: what ADD makes and DEL removes.

Binding an attachment means plugging the VIF's host end (what os_vif's
plugins do for a VM) and making its workload end in the container's
namespace (the veth peer, or the nested VLAN / macvlan sub-interface),
named, addressed and routed as the VIF says.  os_vif does both in one
call: :func:`os_vif.plug` with a
:class:`~os_vif.objects.workload.WorkloadInterface` naming the namespace
and the interface inside.

:class:`OsVifBinding` is that binding, over os_vif's public API only
(:func:`os_vif.plug`, :func:`os_vif.unplug`, :func:`os_vif.check`), as
any client of os_vif: the same plug a VM's VIF gets, with its ownership
mark, its undo on failure (in the namespace too), its check and its
idempotent unplug.  The commands use the :class:`Binding` protocol, so
their tests can give another.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from typing import Any, Protocol

import os_vif
from os_vif import exception
from os_vif.cni import network, protocol
from os_vif.cni.protocol import CniError, ErrorCode
from os_vif.cni.store import Record
from os_vif.objects import instance_info

__all__ = ["Binding", "OsVifBinding", "instance_of", "workload_of",
           "workload_binding"]

#: The namespace of the instance uuids derived from container ids.
INSTANCE_NAMESPACE = uuid.UUID("0b6f3c1d-8e2a-5b4c-9d7e-3f1a2b4c6d8e")


class Binding(Protocol):
    """Makes, checks and removes both ends of an attachment's VIF."""

    def unavailable(self) -> str | None:
        """Why no attachment can be bound now (STATUS), or None."""

    def bind(self, record: Record) -> None:
        """Make both ends of ``record.vif``; undo what was made on error."""

    def check(self, record: Record) -> None:
        """Raise a :class:`CniError` if the ends differ from the VIF."""

    def unbind(self, record: Record) -> None:
        """Remove both ends (idempotent; a pending record may be partial)."""

    def unbind_many(
        self, records: Sequence[Record]
    ) -> list[CniError | None]:
        """:meth:`unbind` every record, at once where it can: per record,
        in order, None (both ends gone) or the error of that record alone."""


def instance_of(record: Record) -> Any:
    """The os_vif instance of a container: its id as the name, a uuid
    derived from it (OVS's ``vm-uuid``; the same container, the same)."""
    return instance_info.InstanceInfo(
        uuid=str(uuid.uuid5(INSTANCE_NAMESPACE, record.container_id)),
        name=record.container_id[:64], project_id="")


def workload_of(record: Record) -> Any:
    """The workload's end of an attachment: its namespace and interface."""
    from os_vif.objects import workload

    conf = network.OsVifConf.parse(
        protocol.NetConf.parse(record.config, protocol.Command.DEL))
    # A nested VIF's sub-interface is made on the host's link named by
    # the configuration (the VM's port).
    parent = conf.options.get("parent")
    return workload.WorkloadInterface(
        netns=record.netns, ifname=record.ifname,
        default=conf.is_default_gateway,
        parent=str(parent) if parent is not None else None)


def _host_error(what: str, record: Record, err: BaseException) -> CniError:
    # os_vif's PlugException / UnplugException carry the plugin's own
    # error: that one says what failed.
    inner = getattr(err, "kwargs", {}).get("err", err) if isinstance(
        err, exception.ExceptionBase) else err
    code = (ErrorCode.INVALID_CONFIG
            if isinstance(inner, (exception.InvalidArgument,
                                  exception.NoMatchingPlugin))
            else ErrorCode.HOST_FAILURE)
    return CniError(code, "os-vif could not %s %s/%s: %s" % (
        what, record.container_id, record.ifname, inner),
        type(inner).__name__)


class OsVifBinding:
    """Both ends of each attachment through os_vif's public API."""

    def __init__(self) -> None:
        self._init_error: str | None = None
        self._initialized = False
        self._lock = threading.Lock()

    def _initialize(self) -> None:
        with self._lock:
            if not self._initialized:
                try:
                    os_vif.initialize()
                except Exception as exc:  # said by STATUS and every call
                    self._init_error = ("os_vif.initialize() failed: %s"
                                        % exc)
                self._initialized = True
        if self._init_error is not None:
            raise CniError(ErrorCode.NOT_AVAILABLE, self._init_error)

    def unavailable(self) -> str | None:
        """Why nothing can be bound (os_vif did not initialize), or None."""
        try:
            self._initialize()
        except CniError as exc:
            return exc.msg
        return None

    def bind(self, record: Record) -> None:
        """``os_vif.plug`` with the workload's end: both ends, or nothing
        (os_vif undoes a failed plug, in the namespace too)."""
        self._initialize()
        try:
            os_vif.plug(record.vif, instance_of(record),
                        workload=workload_of(record))
        except exception.ExceptionBase as err:
            raise _host_error("plug", record, err) from err

    def check(self, record: Record) -> None:
        """``os_vif.check`` with the workload's end: any difference is
        CNI error 102, each problem in the details."""
        self._initialize()
        try:
            report = os_vif.check(record.vif, instance_of(record),
                                  workload=workload_of(record))
        except exception.ExceptionBase as err:
            raise _host_error("check", record, err) from err
        if report.ok:
            return
        if report.error is not None:
            details = "%s: %s" % (type(report.error).__name__, report.error)
        elif not report.supported:
            details = "the %s plugin cannot check" % report.plugin
        else:
            details = "; ".join(str(p) for p in report.problems)
        raise CniError(ErrorCode.CHECK_FAILED,
                       "the attachment %s/%s differs from its VIF"
                       % (record.container_id, record.ifname), details)

    def unbind(self, record: Record) -> None:
        """``os_vif.unplug`` with the workload's end (idempotent: a
        namespace already gone is done)."""
        self._initialize()
        try:
            os_vif.unplug(record.vif, instance_of(record),
                          workload=workload_of(record))
        except exception.ExceptionBase as err:
            raise _host_error("unplug", record, err) from err


    def unbind_many(
        self, records: Sequence[Record]
    ) -> list[CniError | None]:
        """One ``os_vif.unplug_many`` of every record's VIF with its
        workload's end: each VIF on its own (one failing keeps only its
        own ends), each plugin's VIFs in one batch (one privileged call
        for the workloads' ends of a chunk, one OVSDB transaction).

        A record whose workload cannot be read, or a batch os_vif refuses
        as a whole (a VIF naming a plugin not loaded), is unbound one by
        one, so that one bad record never keeps the others.
        """
        self._initialize()
        errors: list[CniError | None] = [None] * len(records)
        items = []
        batched = []
        for index, record in enumerate(records):
            try:
                items.append((record.vif, instance_of(record),
                              workload_of(record)))
            except Exception as err:  # that record's error alone
                errors[index] = _host_error("unplug", record, err)
                continue
            batched.append(index)
        try:
            results = os_vif.unplug_many(items)
        except exception.ExceptionBase:
            # Refused before anything was done: each alone says which.
            for index in batched:
                errors[index] = self._unbind_alone(records[index])
            return errors
        for index, result in zip(batched, results, strict=True):
            if result is not None:
                errors[index] = _host_error("unplug", records[index], result)
        return errors

    def _unbind_alone(self, record: Record) -> CniError | None:
        try:
            self.unbind(record)
        except CniError as err:
            return err
        return None


def workload_binding() -> Binding:
    """The binding the daemon uses."""
    return OsVifBinding()
