"""What each CNI command does: :class:`Plugin` answers one call.

``Plugin.run(env, stdin)`` returns the exit status and stdout of the call,
as the runtime must see them; it is what the daemon runs for each request
of the C client, and what ``os-vif-cni`` runs in-process without a daemon.

* VERSION: the versions this plugin speaks.
* ADD: checks the configuration, records the attachment (pending) before
  any host work, gets addresses from the IPAM plugin, builds the VIF,
  binds it (:mod:`os_vif.cni.binding`), records the result (bound) and
  prints it.  A failure releases the address and the record.
* DEL: unbinds what the record says was made, releases the address
  (also when no record exists: an ADD may have died before recording
  it), removes the record.  Deleting an unknown attachment succeeds.
* CHECK: the record's result must match ``prevResult``; the IPAM plugin
  checks its lease, the binding its ends.
* STATUS: whether an ADD can succeed now (asking an IPAM plugin that
  speaks 1.1.0 too).
* GC: deletes exactly the network's recorded attachments that are not in
  ``cni.dev/valid-attachments``, as DEL does, their VIFs unbound in one
  batch (:func:`os_vif.unplug_many`); nothing else.  An IPAM plugin that
  speaks 1.1.0 gets the GC too.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from concurrent import futures
from typing import Any

from os_vif.cni import binding as binding_module
from os_vif.cni import ipam, network, protocol, store
from os_vif.cni.protocol import Attachment, CniError, Command, ErrorCode

__all__ = ["GC_BATCH", "RELEASE_WORKERS", "Plugin"]

LOG = logging.getLogger(__name__)

#: Stale attachments GC deletes in one batch (one os_vif.unplug_many), their
#: locks held meanwhile: one file descriptor each, so bounded.
GC_BATCH = 250
#: How many addresses are released at once (one per DEL in flight).
RELEASE_WORKERS = 16


class Plugin:
    """The os-vif CNI plugin over one record store."""

    def __init__(self, records: store.Store,
                 binding: binding_module.Binding | None = None,
                 ipam_timeout: float = ipam.TIMEOUT) -> None:
        self.records = records
        self.binding = (binding if binding is not None
                        else binding_module.workload_binding())
        self.ipam_timeout = ipam_timeout
        # The IPAM plugin's DELs, run beside the unbinding (see _delete).
        self._releases = futures.ThreadPoolExecutor(
            RELEASE_WORKERS, thread_name_prefix="os-vif-cni-release")

    def run(self, env: Mapping[str, str], stdin: bytes) -> tuple[int, bytes]:
        """Answer one call: ``(exit status, stdout)``."""
        version = protocol.SPEC_VERSION
        try:
            call = protocol.Call.from_environ(env)
            if call.command is Command.VERSION:
                return 0, json.dumps(protocol.version_document()).encode()
            conf = protocol.NetConf.parse(stdin, call.command)
            version = conf.cni_version
            handler = getattr(self, "_" + call.command.value.lower())
            out: bytes = handler(call, conf)
            return 0, out
        except CniError as exc:
            LOG.info("CNI %s failed: %s", env.get("CNI_COMMAND"), exc)
            return 1, exc.to_json(version).encode()
        except Exception as exc:  # the runtime must get the spec's JSON
            LOG.exception("CNI %s failed", env.get("CNI_COMMAND"))
            return 1, CniError(
                ErrorCode.HOST_FAILURE, "os-vif-cni failed: %s" % exc,
                type(exc).__name__).to_json(version).encode()

    # The commands.

    def _ipam(self, command: Command, call: protocol.Call,
              config: Mapping[str, Any],
              env: Mapping[str, str] | None = None) -> protocol.Result | None:
        return ipam.delegate(command, call, config, env,
                             timeout=self.ipam_timeout)

    def _add(self, call: protocol.Call, conf: protocol.NetConf) -> bytes:
        # Every check of the configuration before anything is made.
        osvif = network.OsVifConf.parse(conf)
        att = Attachment(call.container_id, call.ifname)
        with self.records.lock(conf.name, att):
            old = self.records.read(conf.name, att)
            if old is not None and old.state == store.BOUND:
                if old.netns == call.netns and old.result is not None:
                    # The runtime repeats an ADD that succeeded.
                    return old.result.to_json(conf.cni_version).encode()
                raise CniError(
                    ErrorCode.INVALID_CONFIG,
                    "the attachment %s/%s exists in another namespace"
                    % (att.container_id, att.ifname),
                    "netns=%s, recorded %s" % (call.netns, old.netns))
            if old is not None:
                # A pending record: an ADD died half-way; undo it first.
                self._delete(old, call)
            record = store.Record(
                network=conf.name, container_id=call.container_id,
                ifname=call.ifname, netns=call.netns,
                cni_version=conf.cni_version, state=store.PENDING,
                config=conf.without_prev_result())
            # Recorded before any host work: the daemon's death leaves what
            # DEL and GC need to undo it (not synced: replaced within the
            # call; see Store.write).
            self.records.write(record, durable=False)
            try:
                result = self._make(call, conf, osvif, record)
            except BaseException:
                self._undo_add(record, call)
                raise
        return result.to_json(conf.cni_version).encode()

    def _make(self, call: protocol.Call, conf: protocol.NetConf,
              osvif: network.OsVifConf,
              record: store.Record) -> protocol.Result:
        addresses = protocol.Result()
        if conf.ipam is not None:
            got = self._ipam(Command.ADD, call, record.config)
            addresses = got if got is not None else addresses
        record.ipam = addresses
        record.vif = network.build_vif(conf, osvif, call, addresses)
        self.records.write(record, durable=False)
        self.binding.bind(record)
        record.result = network.add_result(record.vif, call, addresses,
                                           osvif.mtu)
        record.state = store.BOUND
        self.records.write(record)
        return record.result

    def _undo_add(self, record: store.Record, call: protocol.Call) -> None:
        try:
            self._delete(record, call)
        except Exception:  # the ADD's own error is the one to report
            LOG.exception("undoing the failed ADD of %s/%s left the record",
                          record.container_id, record.ifname)

    def _delete(self, record: store.Record, call: protocol.Call) -> None:
        """Undo everything ``record`` says was made, then forget it.

        The address is released while the ends are removed: the two are
        independent, and each is mostly waiting (for the IPAM plugin's
        process; for the kernel to destroy a device).  Releasing it no
        later than the interface goes is what the reference plugins' DEL
        does too (they release first).  Either failing keeps the record,
        so that the next DEL or GC does both again (each is idempotent).
        """
        release = self._release(record, call)
        failure = None
        try:
            if record.vif is not None:
                self.binding.unbind(record)
        finally:
            # Waited for in any case: the IPAM plugin's error is raised if
            # the ends were removed, the binding's otherwise.
            if release is not None:
                failure = release.exception()
        if failure is not None:
            raise failure
        self.records.delete(record.network, record.attachment)

    def _del(self, call: protocol.Call, conf: protocol.NetConf) -> bytes:
        att = Attachment(call.container_id, call.ifname)
        with self.records.lock(conf.name, att):
            record = self.records.read(conf.name, att)
            if record is not None:
                self._delete(record, call)
            else:
                if conf.ipam is not None:
                    # No record: an ADD may have died before writing it,
                    # after the IPAM plugin leased an address.  Releasing
                    # an address that was never leased succeeds.
                    self._ipam(Command.DEL, call, conf.raw)
                # The lock file made for this call.
                self.records.delete(conf.name, att)
        return b""

    def _check(self, call: protocol.Call, conf: protocol.NetConf) -> bytes:
        prev = conf.prev_result
        if prev is None:
            raise CniError(ErrorCode.INVALID_CONFIG,
                           "CHECK needs the ADD's result in prevResult",
                           "prevResult is missing")
        att = Attachment(call.container_id, call.ifname)
        with self.records.lock(conf.name, att):
            record = self.records.read(conf.name, att)
            if (record is None or record.state != store.BOUND
                    or record.result is None):
                raise CniError(ErrorCode.UNKNOWN_CONTAINER,
                               "os-vif-cni has no attachment %s/%s on %s"
                               % (att.container_id, att.ifname, conf.name))
            _compare(record.result, prev, call)
            if conf.ipam is not None:
                self._ipam(Command.CHECK, call, conf.raw)
            self.binding.check(record)
        return b""

    def _status(self, call: protocol.Call, conf: protocol.NetConf) -> bytes:
        why = self.binding.unavailable()
        if why is not None:
            raise CniError(ErrorCode.NOT_AVAILABLE, why)
        if conf.ipam is not None:
            try:
                if ipam.speaks(conf.raw, call.path):
                    self._ipam(Command.STATUS, call, conf.raw)
            except CniError as exc:
                if exc.code in (ErrorCode.NOT_AVAILABLE,
                                ErrorCode.NOT_AVAILABLE_LIMITED):
                    raise
                # STATUS says "not available" whatever the reason.
                raise CniError(ErrorCode.NOT_AVAILABLE, exc.msg,
                               exc.details) from None
        return b""

    def _gc(self, call: protocol.Call, conf: protocol.NetConf) -> bytes:
        valid = set(conf.valid_attachments or ())
        # In one order, so that two GCs of a network never wait for each
        # other's locks (DEL, ADD and CHECK hold one lock only).
        stale = sorted(
            (att for att in self.records.attachments(conf.name)
             if att not in valid),
            key=lambda att: (att.container_id, att.ifname))
        failures: list[str] = []
        for start in range(0, len(stale), GC_BATCH):
            failures += self._collect(
                conf.name, stale[start:start + GC_BATCH], call)
        # An IPAM plugin of CNI 1.1 also gets the GC, to release what it
        # leased for attachments os-vif never recorded (an ADD that died
        # before its record was written).
        if conf.ipam is not None and ipam.speaks(conf.raw, call.path):
            try:
                self._ipam(Command.GC, call, conf.raw)
            except CniError as exc:
                failures.append("IPAM GC: %s" % exc)
        if failures:
            raise CniError(ErrorCode.HOST_FAILURE,
                           "GC could not delete %d attachment(s)"
                           % len(failures), "; ".join(failures))
        return b""

    def _collect(self, network: str, stale: list[Attachment],
                 call: protocol.Call) -> list[str]:
        """Delete the ``stale`` attachments of ``network`` as DEL deletes
        one, their VIFs unbound in one batch; the failures, one line each.

        Every attachment's lock is held until its record is dealt with,
        so that a DEL, ADD or CHECK of it waits.
        """
        failures: list[str] = []
        records: list[store.Record] = []
        with contextlib.ExitStack() as held:
            for att in stale:
                try:
                    held.enter_context(self.records.lock(network, att))
                    record = self.records.read(network, att)
                except CniError as exc:
                    # Reported, and the others collected all the same; an
                    # unreadable record stays for the operator to look at.
                    failures.append(_failure(att, exc))
                    continue
                if record is not None:  # else a DEL got there first
                    records.append(record)
            failures += self._delete_many(records, call)
        return failures

    def _delete_many(self, records: list[store.Record],
                     call: protocol.Call) -> list[str]:
        """:meth:`_delete` every record, the unbinding in one batch
        (:meth:`~os_vif.cni.binding.Binding.unbind_many`); the addresses
        released beside it, one IPAM DEL each.  A record is removed only
        when its own ends are gone and its address released; the others
        stay for the next DEL or GC.  Returns the failures.
        """
        releases = [self._release(record, call) for record in records]
        bound = [i for i, record in enumerate(records)
                 if record.vif is not None]
        unbound: list[BaseException | None]
        try:
            unbound = list(
                self.binding.unbind_many([records[i] for i in bound]))
            if len(unbound) != len(bound):
                raise TypeError("unbind_many gave %d results for %d records"
                                % (len(unbound), len(bound)))
        except Exception as exc:  # the error of each record it was for
            unbound = [exc] * len(bound)
        errors = dict(zip(bound, unbound, strict=True))
        failures = []
        for index, record in enumerate(records):
            release = releases[index]
            # Waited for in any case; the binding's error is the one
            # reported when both failed, as for DEL.
            released = None if release is None else release.exception()
            failure = errors.get(index) or released
            if failure is None:
                try:
                    self.records.delete(record.network, record.attachment)
                except CniError as exc:
                    failure = exc
            if failure is not None:
                failures.append(_failure(record.attachment, failure))
        return failures

    def _release(self, record: store.Record, call: protocol.Call
                 ) -> futures.Future[Any] | None:
        """Start the IPAM plugin's DEL of ``record``'s address, if any."""
        if record.config.get("ipam") is None:
            return None
        return self._releases.submit(
            self._ipam, Command.DEL, call, record.config, {
                "CNI_CONTAINERID": record.container_id,
                "CNI_IFNAME": record.ifname,
                "CNI_NETNS": record.netns,
            })


def _failure(att: Attachment, exc: BaseException) -> str:
    """One line of GC's error details."""
    return "%s/%s: %s" % (att.container_id, att.ifname, exc)


def _compare(recorded: protocol.Result, prev: protocol.Result,
             call: protocol.Call) -> None:
    """CHECK: the container's interface and addresses as ADD gave them."""
    mine = [i for i in recorded.interfaces if i.sandbox]
    for iface in mine:
        theirs = [i for i in prev.interfaces if i.name == iface.name
                  and i.sandbox == iface.sandbox]
        if not theirs or (theirs[0].mac and theirs[0].mac != iface.mac):
            raise CniError(ErrorCode.CHECK_FAILED,
                           "prevResult lacks the interface %s as ADD made it"
                           % iface.name,
                           "recorded %s" % json.dumps(iface.document(
                               (1, 1, 0))))
    if call.netns and any(i.sandbox != call.netns for i in mine):
        raise CniError(ErrorCode.CHECK_FAILED,
                       "the attachment is in another namespace",
                       "CNI_NETNS=%s" % call.netns)
    wanted = {ip.address for ip in recorded.ips}
    given = {ip.address for ip in prev.ips}
    if not wanted <= given:
        raise CniError(ErrorCode.CHECK_FAILED,
                       "prevResult lacks addresses ADD gave",
                       "missing %s" % ", ".join(sorted(wanted - given)))
