"""os_vif objects in oslo.messaging RPC arguments and results.

Imported only when :class:`os_vif.serialization.RPCSerializer` is first
used, so that os_vif itself does not import oslo.messaging.  See
:doc:`/user/serialization` ("Over RPC") for the design.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import oslo_messaging

from os_vif import exception
from os_vif._serialization import catalog as cat
from os_vif._serialization import decode as _decode
from os_vif._serialization import encode as _encode
from os_vif._serialization import negotiation as _negotiation
from os_vif.objects import _ovo
from os_vif.objects import base as osv_base
from os_vif.objects import host_info as _host_info

__all__ = ["RPCSerializer", "PeerVersions"]

PeerInfo = "_host_info.HostInfo | Mapping[str, str]"


class _Peer:
    """What one peer reads, and the manifests worked out for it."""

    __slots__ = ("name", "host_info", "manifest", "_vif_manifests", "_lock")

    def __init__(self, name: str, info: Any) -> None:
        self.name = name
        self.host_info: _host_info.HostInfo | None = None
        self.manifest: dict[str, str] | None = None
        if isinstance(info, _host_info.HostInfo):
            self.host_info = info
            self.manifest = _negotiation.host_manifest(info)
        elif isinstance(info, Mapping):
            self.manifest = _checked_manifest(info)
        else:
            raise exception.InvalidArgument(
                field="peer_info",
                value=type(info).__name__,
                reason="expected the peer's HostInfo or version manifest",
            )
        # (VIF class, plugin, VIF version, profile class, profile version)
        # -> manifest, or the exception that VIF raises for this peer.
        self._vif_manifests: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()

    def vif_manifest(self, vif: Any) -> dict[str, str]:
        """The manifest to send ``vif`` to a HostInfo peer, cached."""
        profile = _ovo.value_or(vif, "port_profile")
        key = (
            type(vif),
            _ovo.value_or(vif, "plugin"),
            vif.VERSION,
            type(profile),
            getattr(profile, "VERSION", None),
        )
        known = self._vif_manifests.get(key)
        if known is None:
            try:
                known = _negotiation.vif_manifest(self.host_info, vif)
            except exception.ExceptionBase as err:
                known = err
            with self._lock:
                if len(self._vif_manifests) < 1024:
                    self._vif_manifests[key] = known
        if isinstance(known, exception.ExceptionBase):
            # A fresh instance each time: raising one mutates its traceback.
            raise type(known)(**known.kwargs)
        return known


def _checked_manifest(info: Mapping[Any, Any]) -> dict[str, str]:
    manifest = dict(info)
    for name, version in manifest.items():
        if (
            not isinstance(name, str)
            or cat.parse_version(version) is None
        ):
            raise exception.InvalidArgument(
                field="peer_info",
                value=(name, version),
                reason="a manifest maps object names to MAJOR.MINOR versions",
            )
    return manifest


class PeerVersions:
    """What each peer reads, by peer name; shared by serializers.

    A peer is named by whatever the caller uses to address it, normally
    the RPC ``server`` (the compute host name).  Thread safe.
    """

    def __init__(self) -> None:
        self._peers: dict[str, _Peer] = {}
        self._lock = threading.Lock()

    def remember(self, peer: str, info: Any) -> None:
        """Record the HostInfo or version manifest ``peer`` advertised.

        Replaces what was known of it (and the manifests cached for it).

        :raises InvalidArgument: ``info`` is neither.
        """
        entry = _Peer(peer, info)
        with self._lock:
            self._peers[peer] = entry

    def forget(self, peer: str) -> None:
        """Drop what is known of ``peer`` (it is sent current versions)."""
        with self._lock:
            self._peers.pop(peer, None)

    def knows(self, peer: str) -> bool:
        """Tell whether ``peer``'s versions are known."""
        return peer in self._peers

    def get(self, peer: str) -> _Peer | None:
        """The entry of ``peer``, or None."""
        return self._peers.get(peer)


def _is_os_vif(obj: Any) -> bool:
    return type(obj) in cat.catalog().by_class


class RPCSerializer(oslo_messaging.Serializer):
    """An oslo.messaging serializer for os_vif objects.

    Public as ``os_vif.serialization.RPCSerializer``.  os_vif objects
    anywhere in RPC arguments and results (nested in dicts, lists, tuples)
    are written as OVO primitives, which oslo.versionedobjects'
    ``VersionedObjectSerializer`` of any os-vif 5.x peer reads, and loaded
    with the strict loader.

    ``RPCSerializer()`` writes every object at its own version.  To write
    for a peer, give what it advertised, its
    :class:`~os_vif.objects.host_info.HostInfo` (VIFs are then negotiated
    as :func:`~os_vif.serialization.negotiate` does) or its version
    manifest (every object, nested ones included, must be one it reads):
    either ``RPCSerializer(peer_info)`` for a serializer that talks to that
    one peer, or, for many peers over one transport, ``remember(name,
    info)`` and a client per peer made with ``for_peer(name)``; the
    manifests worked out for a peer are cached until it is remembered
    again.  An object the peer cannot read at any version raises the
    os_vif exception saying why, before anything is sent.

    ``base`` is a serializer to delegate to for everything that is not an
    os_vif object (nova's own objects, its request context); on the other
    side, nova's ``RequestContextSerializer`` may wrap this one.

    :param peer_info: the HostInfo or version manifest of the one peer.
    :param base: the serializer for other objects and for the context.
    :param peers: share this cache of peers' versions (for_peer does).
    :param peer: the name of the peer this serializer writes for.
    :raises InvalidArgument: ``peer_info`` is neither kind.
    """

    def __init__(
        self,
        peer_info: Any = None,
        *,
        base: Any = None,
        peers: PeerVersions | None = None,
        peer: str | None = None,
    ) -> None:
        self._base = base
        self.peers = peers if peers is not None else PeerVersions()
        self._peer_name = peer
        self._fixed: _Peer | None = None
        if peer_info is not None:
            if peer is not None:
                self.peers.remember(peer, peer_info)
            else:
                self._fixed = _Peer("<peer>", peer_info)

    # -- naming peers -----------------------------------------------------

    def for_peer(self, peer: str) -> RPCSerializer:
        """A serializer for sending to ``peer``, sharing the cache.

        It writes for what ``peer`` advertised through :meth:`remember`
        (checked at each call, so a later :meth:`remember` applies), and
        current versions while nothing is known of it.
        """
        return RPCSerializer(base=self._base, peers=self.peers, peer=peer)

    def remember(self, peer: str, info: Any) -> None:
        """Record the HostInfo or manifest ``peer`` advertised."""
        self.peers.remember(peer, info)

    def forget(self, peer: str) -> None:
        """Forget ``peer``'s versions."""
        self.peers.forget(peer)

    def _target(self) -> _Peer | None:
        if self._fixed is not None:
            return self._fixed
        if self._peer_name is None:
            return None
        return self.peers.get(self._peer_name)

    # -- oslo_messaging.Serializer ------------------------------------------

    def serialize_entity(self, ctxt: Any, entity: Any) -> Any:
        """Write ``entity``, os_vif objects anywhere in it, for the peer.

        :raises NoMatchingPlugin, NoMatchingVIFClass, NoSupportedVIFVersion,
            NoMatchingPortProfileClass, NoSupportedPortProfileVersion,
            InvalidArgument: the peer cannot read an object at any version
            (nothing is sent).
        """
        return self._write(ctxt, entity, self._target())

    def deserialize_entity(self, ctxt: Any, entity: Any) -> Any:
        """Load the os_vif objects in ``entity`` with the strict loader.

        Primitives of other namespaces go to the wrapped serializer
        (``base``), or are refused when there is none.

        :raises DeserializationError: with the path of the bad value in
            ``entity`` and the reason.
        """
        other = None
        if self._base is not None:
            base = self._base

            def other(primitive: Any) -> Any:
                return base.deserialize_entity(ctxt, primitive)

        return _decode.from_entity(entity, other)

    def serialize_context(self, ctxt: Any) -> Any:
        """The wrapped serializer's, or the context unchanged."""
        if self._base is not None:
            return self._base.serialize_context(ctxt)
        return ctxt

    def deserialize_context(self, ctxt: Any) -> Any:
        """The wrapped serializer's, or the context unchanged."""
        if self._base is not None:
            return self._base.deserialize_context(ctxt)
        return ctxt

    # -- writing --------------------------------------------------------------

    def _write(self, ctxt: Any, value: Any, peer: _Peer | None) -> Any:
        kind = type(value)
        if kind is dict:
            return {
                key: self._write(ctxt, item, peer)
                for key, item in value.items()
            }
        if kind is list or kind is tuple:
            return [self._write(ctxt, item, peer) for item in value]
        if _is_os_vif(value):
            return _write_object(value, peer)
        if self._base is not None:
            return self._base.serialize_entity(ctxt, value)
        return value


def _write_object(obj: Any, peer: _Peer | None) -> dict[str, Any]:
    if peer is None:
        return _encode.to_primitive(obj, None, None)
    if peer.host_info is not None:
        from os_vif.objects import vif as _vif

        if isinstance(obj, _vif.VIFBase):
            return _encode.to_primitive(obj, None, peer.vif_manifest(obj))
        # Other objects: at the versions of the VIF types and profiles the
        # host reported (a host reads every other os_vif class).
        return _encode.to_primitive(obj, None, peer.manifest)
    assert peer.manifest is not None
    _check_readable(obj, peer.manifest, None, peer.name)
    return _encode.to_primitive(obj, None, peer.manifest)


def _check_readable(
    obj: Any, manifest: Mapping[str, str], declared: str | None, peer: str
) -> None:
    """Raise unless the manifest's owner reads every object in ``obj``."""
    spec = cat.catalog().by_class[type(obj)]
    name = spec.name
    entry = manifest.get(name)
    if entry is None and declared is not None and declared != name:
        entry = manifest.get(declared)
        if entry is not None:
            base = cat.catalog().by_name[declared]
            at = cat.parse_version(entry)
            if at is None or at[0] != base.version_tuple[0]:
                _refuse(obj, name, "its %s is %s" % (declared, entry),
                        peer, entry)
            entry = osv_base.version_for_base(spec.cls, base.cls, entry)
    if entry is None:
        _refuse(obj, name, "not in the peer's version manifest", peer)
    wanted = cat.parse_version(entry)
    assert wanted is not None
    if wanted[0] != spec.version_tuple[0]:
        _refuse(
            obj,
            name,
            "the peer reads version %s, os_vif writes %d.x"
            % (entry, spec.version_tuple[0]),
            peer,
            entry,
        )
    values = _ovo.storage(obj)
    for fspec in spec.field_list:
        value = values.get(fspec.attr)
        if value is None:
            continue
        if fspec.kind == cat.OBJ:
            _check_readable(value, manifest, fspec.objname, peer)
        elif fspec.kind == cat.OBJLIST:
            for item in value:
                _check_readable(item, manifest, fspec.objname, peer)
        elif fspec.kind == cat.OBJDICT:
            for item in value.values():
                _check_readable(item, manifest, fspec.objname, peer)


def _refuse(
    obj: Any, name: str, reason: str, peer: str, version: str | None = None
) -> None:
    from os_vif.objects import vif as _vif

    if version is not None:
        kwargs = {
            "name": name,
            "got_versions": obj.VERSION,
            "min_version": version,
            "max_version": version,
        }
        if isinstance(obj, _vif.VIFBase):
            raise exception.NoSupportedVIFVersion(**kwargs)
        if isinstance(obj, _vif.VIFPortProfileBase):
            raise exception.NoSupportedPortProfileVersion(**kwargs)
    elif isinstance(obj, _vif.VIFBase):
        raise exception.NoMatchingVIFClass(name=name)
    elif isinstance(obj, _vif.VIFPortProfileBase):
        raise exception.NoMatchingPortProfileClass(name=name)
    raise exception.InvalidArgument(
        field="object", value=name, reason="%s cannot read it: %s" % (
            peer, reason)
    )
