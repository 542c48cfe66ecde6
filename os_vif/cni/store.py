"""The attachment records: what each ADD made, kept on the host.

One file per attachment (network, container id, interface), at
``<state dir>/<network>/<container id>:<ifname>.json`` (``:`` occurs in
neither a container id nor an interface name, so the name splits back
unambiguously).  A record holds the VIF, written with
:mod:`os_vif.serialization` (its compact format), the namespace path, the
IPAM result and the network configuration, so that DEL, CHECK and GC work
after the daemon or the host restarts.

Writes are atomic (a temporary file renamed over the record, both synced);
each attachment has its own lock (``flock`` on ``<record>.lock``), held by
a command for as long as it works on that attachment, across processes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from os_vif import exception, serialization
from os_vif.cni import protocol
from os_vif.cni.protocol import Attachment, CniError, ErrorCode

__all__ = ["DEFAULT_STATE_DIR", "PENDING", "BOUND", "Record", "Store"]

#: Where records live unless the daemon is told otherwise.
DEFAULT_STATE_DIR = "/var/lib/os-vif/cni"

#: An ADD started: the VIF may be partly made (IPAM may have an address).
PENDING = "pending"
#: An ADD finished: both ends of the VIF are made.
BOUND = "bound"

_FORMAT = 1


@dataclasses.dataclass
class Record:
    """One attachment as recorded."""

    network: str
    container_id: str
    ifname: str
    netns: str
    cni_version: str
    #: :data:`PENDING` or :data:`BOUND`.
    state: str
    #: The network configuration of the ADD (without ``prevResult``): what
    #: a later DEL or GC hands the IPAM plugin.
    config: Mapping[str, Any]
    #: The VIF (an os_vif object), once built.
    vif: Any = None
    #: The IPAM plugin's result, once it answered.
    ipam: protocol.Result | None = None
    #: ADD's result, once bound.
    result: protocol.Result | None = None

    @property
    def attachment(self) -> Attachment:
        """The record's key within its network."""
        return Attachment(self.container_id, self.ifname)

    def document(self) -> dict[str, Any]:
        """The record as stored."""
        return {
            "format": _FORMAT,
            "network": self.network,
            "containerID": self.container_id,
            "ifname": self.ifname,
            "netns": self.netns,
            "cniVersion": self.cni_version,
            "state": self.state,
            "config": dict(self.config),
            "vif": (serialization.to_compact(self.vif)
                    if self.vif is not None else None),
            "ipam": (self.ipam.document(self.cni_version)
                     if self.ipam is not None else None),
            "result": (self.result.document(self.cni_version)
                       if self.result is not None else None),
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Record:
        """Read a stored record (any error is the caller's to report)."""
        if doc.get("format") != _FORMAT:
            raise ValueError("unknown record format %r" % doc.get("format"))
        version = doc["cniVersion"]
        return cls(
            network=doc["network"],
            container_id=doc["containerID"],
            ifname=doc["ifname"],
            netns=doc["netns"],
            cni_version=version,
            state=doc["state"],
            config=doc["config"],
            vif=(serialization.from_compact(doc["vif"])
                 if doc.get("vif") is not None else None),
            ipam=(protocol.Result.parse(doc["ipam"], version)
                  if doc.get("ipam") is not None else None),
            result=(protocol.Result.parse(doc["result"], version)
                    if doc.get("result") is not None else None),
        )


def _io_error(what: str, path: str, exc: BaseException) -> CniError:
    return CniError(ErrorCode.IO_FAILURE, "cannot %s the attachment record"
                    % what, "%s: %s" % (path, exc))


class Store:
    """The records under one state directory."""

    def __init__(self, root: str = DEFAULT_STATE_DIR) -> None:
        self.root = root
        # flock locks an open file, not a thread: two threads of the daemon
        # on one attachment are kept apart here first.
        self._threads: dict[tuple[str, Attachment], threading.Lock] = {}
        self._threads_guard = threading.Lock()

    def _dir(self, network: str) -> str:
        return os.path.join(self.root, network)

    def path(self, network: str, att: Attachment) -> str:
        """The record file of an attachment."""
        return os.path.join(self._dir(network), "%s:%s.json" % (
            att.container_id, att.ifname))

    def _thread_lock(self, network: str, att: Attachment) -> threading.Lock:
        with self._threads_guard:
            return self._threads.setdefault((network, att), threading.Lock())

    @contextlib.contextmanager
    def lock(self, network: str, att: Attachment) -> Iterator[None]:
        """Hold the attachment's lock (threads and processes wait)."""
        lock_path = self.path(network, att) + ".lock"
        with self._thread_lock(network, att):
            try:
                os.makedirs(self._dir(network), mode=0o700, exist_ok=True)
                while True:
                    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT
                                 | os.O_CLOEXEC, 0o600)
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    # The holder before us may have deleted the lock file
                    # (with its record): then lock the new one.
                    try:
                        same = (os.fstat(fd).st_ino
                                == os.stat(lock_path).st_ino)
                    except FileNotFoundError:
                        same = False
                    if same:
                        break
                    os.close(fd)
            except OSError as exc:
                raise _io_error("lock", lock_path, exc) from exc
            try:
                yield
            finally:
                os.close(fd)

    def read(self, network: str, att: Attachment) -> Record | None:
        """The attachment's record, or None if there is none."""
        path = self.path(network, att)
        try:
            with open(path, encoding="utf-8") as stream:
                doc = json.load(stream)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise _io_error("read", path, exc) from exc
        try:
            return Record.from_document(doc)
        except (KeyError, TypeError, ValueError, CniError,
                exception.DeserializationError) as exc:
            raise _io_error("decode", path, exc) from exc

    def write(self, record: Record, durable: bool = True) -> None:
        """Write the record atomically (call with its lock held).

        ``durable``: synced to the disk before this returns.  A record
        written only to be replaced within the same call (an ADD's pending
        ones) need not be: the page cache survives the daemon's death, and
        after the host's the runtime's DEL (of an attachment then unknown)
        releases the address all the same.
        """
        directory = self._dir(record.network)
        path = self.path(record.network, record.attachment)
        data = json.dumps(record.document(), sort_keys=True).encode()
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as stream:
                    stream.write(data)
                    if durable:
                        stream.flush()
                        os.fsync(stream.fileno())
                os.rename(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            if durable:
                self._sync_dir(directory)
        except OSError as exc:
            raise _io_error("write", path, exc) from exc

    def delete(self, network: str, att: Attachment) -> None:
        """Remove the record and its lock file (call with its lock held).

        Not synced to the disk: a record the host's crash brings back is
        one whose ends and address are gone already, and the next DEL or
        GC of it unplugs and releases again (both idempotent).
        """
        path = self.path(network, att)
        for name in (path, path + ".lock"):
            try:
                os.unlink(name)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise _io_error("delete", name, exc) from exc

    def attachments(self, network: str) -> list[Attachment]:
        """Every recorded attachment of ``network``, sorted."""
        try:
            names = os.listdir(self._dir(network))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise _io_error("list", self._dir(network), exc) from exc
        found = []
        for name in names:
            if name.startswith(".") or not name.endswith(".json"):
                continue
            container_id, sep, ifname = name[:-len(".json")].partition(":")
            if sep:
                found.append(Attachment(container_id, ifname))
        return sorted(found, key=lambda a: (a.container_id, a.ifname))

    @staticmethod
    def _sync_dir(directory: str) -> None:
        try:
            fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            return
        try:
            os.fsync(fd)
        except OSError as exc:  # some file systems cannot sync a directory
            if exc.errno not in (errno.EINVAL, errno.EROFS):
                raise
        finally:
            os.close(fd)
