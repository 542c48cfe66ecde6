"""Supported serialisation of os_vif objects.

Public API.  Two formats, both plain JSON:

``primitive``
    oslo.versionedobjects' primitive, exactly as os-vif 5.x writes it with
    ``obj_to_primitive()``: what nova, kuryr-kubernetes and privsep exchange.
``compact``
    for people and non-Python clients: each object is a JSON object stating
    its class (``@type``) and version (``@version``) once, followed by its
    fields; list objects (``SubnetList``...) are plain arrays; no change
    tracking.  See :doc:`/user/serialization`.

Loading is strict and safe on untrusted input: only os_vif classes, only
versions we know, only their fields, each of its type, within size limits.
Whatever the input, the only exception is
:class:`~os_vif.exception.DeserializationError`, whose ``path`` locates the
bad value (``network.subnets.objects[0].cidr``) and ``reason`` says what is
wrong.

Writing can target an older peer: ``target`` is a version of the object
(``"1.0"``), a version manifest (``{"VIFOpenVSwitch": "1.0", ...}``), or the
:class:`~os_vif.objects.host_info.HostInfo` the peer reported; nested
objects are backported to match.

:class:`RPCSerializer` carries os_vif objects in oslo.messaging RPC
arguments and results, negotiated for the peer; it is imported on first
use (oslo.messaging is the ``os-vif[rpc]`` extra).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from os_vif import exception
from os_vif._serialization import decode as _decode
from os_vif._serialization import encode as _encode
from os_vif._serialization import negotiation as _negotiation
from os_vif._serialization import schema as _schema
from os_vif.objects import host_info as _host_info

if TYPE_CHECKING:
    from os_vif._serialization.rpc import PeerVersions, RPCSerializer

__all__ = [
    "Format",
    "Target",
    "FORMATS",
    "MAX_DEPTH",
    "MAX_OBJECTS",
    "MAX_LIST_ITEMS",
    "MAX_STRING_LENGTH",
    "MAX_DOCUMENT_SIZE",
    "to_primitive",
    "from_primitive",
    "to_compact",
    "from_compact",
    "from_data",
    "dumps",
    "loads",
    "parse_json",
    "json_schema",
    "negotiate",
    "version_manifest",
    "RPCSerializer",
    "PeerVersions",
]

#: The two formats: ``"compact"`` and ``"primitive"``.
Format: TypeAlias = Literal["compact", "primitive"]
#: What an object may be written for: nothing (its own versions), a version
#: of the object, a version manifest, or the HostInfo of the receiving host.
Target: TypeAlias = "str | Mapping[str, str] | _host_info.HostInfo | None"

FORMATS: tuple[str, ...] = _schema.FORMATS

#: Objects nested deeper than this are refused.
MAX_DEPTH = _decode.MAX_DEPTH
#: At most this many objects in one document.
MAX_OBJECTS = _decode.MAX_OBJECTS
#: At most this many items in one list.
MAX_LIST_ITEMS = _decode.MAX_LIST_ITEMS
#: At most this many characters in one string value.
MAX_STRING_LENGTH = _decode.MAX_STRING_LENGTH
#: At most this many characters (or bytes) in a document given to loads().
MAX_DOCUMENT_SIZE = _decode.MAX_DOCUMENT_SIZE

# Made once: json.dumps() builds an encoder per call for non-default
# arguments.  The primitive one is json.dumps()'s default.
_COMPACT_ENCODER = json.JSONEncoder(separators=(",", ":"))
_PRIMITIVE_ENCODER = json.JSONEncoder()


def version_manifest(target: Target, obj: Any = None) -> dict[str, str] | None:
    """Return the version manifest ``target`` stands for.

    A HostInfo gives, for a VIF, the versions negotiated with the plugin
    the VIF names (see :func:`negotiate`), and for any other object the
    versions of every VIF type and port profile the host reported.  A
    version string or None gives None (no manifest).

    :raises InvalidArgument: ``target`` is none of the accepted kinds.
    """
    if target is None or isinstance(target, str):
        return None
    if isinstance(target, _host_info.HostInfo):
        if obj is not None and _is_vif(obj):
            return _negotiation.vif_manifest(target, obj)
        return _negotiation.host_manifest(target)
    if isinstance(target, Mapping):
        manifest = dict(target)
        for name, version in manifest.items():
            if not isinstance(name, str) or not isinstance(version, str):
                raise exception.InvalidArgument(
                    field="target",
                    value=(name, version),
                    reason="a manifest maps object names to versions",
                )
        return manifest
    raise exception.InvalidArgument(
        field="target",
        value=type(target).__name__,
        reason="expected a version, a version manifest or a HostInfo",
    )


def _is_vif(obj: Any) -> bool:
    from os_vif.objects import vif as _vif

    return isinstance(obj, _vif.VIFBase)


def _split_target(
    obj: Any, target: Target
) -> tuple[str | None, dict[str, str] | None]:
    if isinstance(target, str):
        return target, None
    return None, version_manifest(target, obj)


def to_primitive(obj: Any, target: Target = None) -> dict[str, Any]:
    """Return ``obj`` as an OVO primitive, as os-vif 5.x writes it.

    The result is what ``obj.obj_to_primitive()`` of os-vif 5.x gives for
    the same object and target, byte for byte once dumped (the list of
    changed fields is sorted).

    :raises InvalidArgument: ``obj`` is not an os_vif object, or ``target``
        is not a version, manifest or HostInfo.
    :raises ExceptionBase: the host (a HostInfo target) cannot take this
        VIF: NoMatchingPlugin, NoMatchingVIFClass, NoSupportedVIFVersion,
        NoMatchingPortProfileClass or NoSupportedPortProfileVersion.
    """
    version, manifest = _split_target(obj, target)
    return _encode.to_primitive(obj, version, manifest)


def from_primitive(data: Any) -> Any:
    """Load an object from an OVO primitive (a parsed JSON object).

    Primitives written by every os-vif release since 1.0 and by
    kuryr-kubernetes load, at the version they state; the object keeps
    that version when written again.  Fields not set in the data stay
    unset, ``versioned_object.changes`` is kept.

    :raises DeserializationError: the data is not a valid os_vif primitive.
    """
    return _decode.from_primitive(data)


def to_compact(obj: Any, target: Target = None) -> dict[str, Any]:
    """Return ``obj`` as a compact document (a JSON-ready dict).

    :raises InvalidArgument: as :func:`to_primitive`.
    """
    version, manifest = _split_target(obj, target)
    return _encode.to_compact(obj, version, manifest)


def from_compact(data: Any) -> Any:
    """Load an object from a compact document (a parsed JSON object).

    The object is as if constructed with the fields the document holds.

    :raises DeserializationError: the data is not a valid compact document.
    """
    return _decode.from_compact(data)


def from_data(data: Any) -> Any:
    """Load an object from parsed JSON in either format.

    :raises DeserializationError: the data is neither format, or invalid.
    """
    return _decode.from_data(data)


def dumps(
    obj: Any, format: Format = "compact", target: Target = None
) -> str:
    """Return ``obj`` as JSON text in ``format``.

    The compact format is written without insignificant white space; the
    primitive format as ``json.dumps`` writes it by default (as os-vif
    users do).

    :raises InvalidArgument: unknown format, or as :func:`to_primitive`.
    """
    if format == "compact":
        return _COMPACT_ENCODER.encode(to_compact(obj, target))
    if format == "primitive":
        return _PRIMITIVE_ENCODER.encode(to_primitive(obj, target))
    raise exception.InvalidArgument(
        field="format", value=format, reason="not one of compact, primitive"
    )


def loads(text: str | bytes) -> Any:
    """Load an object from JSON text in either format.

    :raises DeserializationError: the text is not JSON (or larger than
        :data:`MAX_DOCUMENT_SIZE`, or repeats a key), or not a valid
        document of either format.
    """
    return _decode.from_data(_decode.parse_json(text))


def parse_json(text: str | bytes) -> Any:
    """Parse JSON text as :func:`loads` does, loading no object.

    For a document that holds os_vif objects among other data (the
    ``os-vif plug`` command's files: arrays of ``{"vif": ...,
    "instance_info": ...}``): the same size limit, the same refusal of a
    repeated key, of ``NaN`` and ``Infinity``, and of text that is not
    UTF-8; the objects in it are then loaded with :func:`from_data`.

    :raises DeserializationError: as :func:`loads` for the text itself.
    """
    return _decode.parse_json(text)


def json_schema(
    name: str, version: str | None = None, format: Format = "compact"
) -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of an object class.

    ``version`` defaults to the newest; nested objects may be at any
    version this os_vif reads.  Every document :func:`loads` accepts is
    valid against the schema of its class; the schema cannot express the
    size limits on whole documents nor check IP addresses, which
    :func:`loads` also enforces.

    :raises InvalidArgument: unknown class, version or format.
    """
    return _schema.json_schema(name, version, format)


def negotiate(
    host_info: _host_info.HostInfo | Mapping[str, str], vif: Any
) -> Any:
    """Return ``vif`` made ready for the host that reported ``host_info``.

    The host's plugin named by ``vif.plugin`` (or, if the VIF names none,
    the first that fits) must support the VIF's type and its port
    profile; the result is a copy of the VIF and its port profile
    backported to the newest versions both sides know, ready for
    :func:`dumps` or :func:`to_primitive`.

    ``host_info`` may instead be the version manifest a peer advertised
    (``obj_tree_get_versions()``): the copy is then at the versions it
    names, a port profile at the newest version compatible with the
    manifest's ``VIFPortProfileBase`` (see :doc:`/user/serialization`).

    :raises NoMatchingPlugin: the host has not loaded ``vif.plugin``.
    :raises NoMatchingVIFClass: no plugin plugs this VIF type.
    :raises NoSupportedVIFVersion: no version of the VIF type fits.
    :raises NoMatchingPortProfileClass: the port profile is not accepted.
    :raises NoSupportedPortProfileVersion: no version of it fits.
    """
    if not _is_vif(vif):
        raise exception.InvalidArgument(
            field="vif", value=type(vif).__name__, reason="not a VIF object"
        )
    if isinstance(host_info, _host_info.HostInfo):
        manifest = _negotiation.vif_manifest(host_info, vif)
    else:
        manifest = version_manifest(host_info, vif) or {}
    return from_primitive(_encode.to_primitive(vif, None, manifest))


def __getattr__(name: str) -> Any:
    # RPCSerializer subclasses oslo_messaging.Serializer: importing it is
    # left to its first use, so that "import os_vif" never imports
    # oslo.messaging (nor fails without it).
    if name in ("RPCSerializer", "PeerVersions"):
        from os_vif._serialization import rpc

        return getattr(rpc, name)
    raise AttributeError(
        "module %r has no attribute %r" % (__name__, name)
    )
