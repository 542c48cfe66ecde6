"""JSON Schemas (draft 2020-12) of both formats, from the catalog.

A schema describes one class at one version at the top; nested objects may
be at any version we read (a list of ``$defs``, one per class and version,
each pinning ``@type``/``@version`` or the primitive's name and version, so
that exactly one branch of an ``anyOf`` matches).
"""

from __future__ import annotations

from typing import Any

from os_vif import exception
from os_vif._serialization import catalog as cat
from os_vif._serialization import decode
from os_vif._serialization import encode as enc

__all__ = ["json_schema", "bundle", "FORMATS", "SCHEMA_DIALECT"]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
FORMATS = ("compact", "primitive")
_ID_BASE = "https://opendev.org/openstack/os-vif/schemas/"

_INT = {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1}
_STRING = {"type": "string", "maxLength": decode.MAX_STRING_LENGTH}
_IP = {
    "type": "string",
    "maxLength": 64,
    "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}],
    "description": "an IPv4 or IPv6 address",
}
_SCALARS: dict[str, dict[str, Any]] = {
    cat.STR: _STRING,
    cat.INT: _INT,
    cat.BOOL: {"type": "boolean"},
    cat.UUID: {
        "type": "string",
        "pattern": "^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
        "[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$",
        "description": "a UUID",
    },
    cat.MAC: {
        "type": "string",
        "pattern": "^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$",
        "description": "a MAC address; written lower case with colons",
    },
    cat.PCI: {
        "type": "string",
        "pattern": "^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[01][0-9a-fA-F]\\.[0-7]$",
        "description": "a PCI address (domain:bus:slot.function)",
    },
    cat.IPADDR: _IP,
    cat.IPNET: {
        "type": "string",
        "maxLength": 64,
        "description": "an IPv4 or IPv6 network in CIDR notation",
    },
    cat.IPLIST: {
        "type": "array",
        "maxItems": decode.MAX_LIST_ITEMS,
        "items": _IP,
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": "#/$defs/" + name}


class _Builder:
    def __init__(self, compact: bool) -> None:
        self.compact = compact
        self.defs: dict[str, Any] = {}
        self.catalog = cat.catalog()

    def any_version(self, name: str) -> dict[str, Any]:
        """A reference to ``name`` at any version we read."""
        if name not in self.defs:
            spec = self.catalog.by_name[name]
            self.defs[name] = {}  # reserve: classes may refer to themselves
            self.defs[name] = {
                "anyOf": [self.at_version(spec, v) for v in spec.versions]
            }
        return _ref(name)

    def family(self, name: str, subclasses: bool) -> dict[str, Any]:
        if not subclasses:
            return self.any_version(name)
        members = sorted(self.catalog.by_name[name].family)
        if len(members) == 1:
            return self.any_version(name)
        return {"anyOf": [self.any_version(m) for m in members]}

    def at_version(self, spec: cat.ClassSpec, version: str) -> dict[str, str]:
        key = "%s-%s" % (spec.name, version)
        if key not in self.defs:
            self.defs[key] = {}
            self.defs[key] = self._object(spec, version)
        return _ref(key)

    def _field(
        self, spec: cat.ClassSpec, version: str, fspec: cat.FieldSpec
    ) -> dict[str, Any]:
        if fspec.kind == cat.ENUM:
            schema: dict[str, Any] = {"enum": list(fspec.choices)}
        elif fspec.kind == cat.OBJ:
            schema = self.family(fspec.objname or "", fspec.subclasses)
            child = self.catalog.by_name[fspec.objname or ""]
            if self.compact and child.is_list:
                at = cat.parse_version(version)
                assert at is not None
                implied = enc.implied_list_version(spec, fspec, at)
                if implied is not None:
                    items = child.fields["objects"]
                    schema = {
                        "anyOf": [
                            {
                                "type": "array",
                                "maxItems": decode.MAX_LIST_ITEMS,
                                "items": self.family(
                                    items.objname or "", items.subclasses
                                ),
                                "description": "%s %s, as an array"
                                % (child.name, implied),
                            },
                            schema,
                        ]
                    }
        elif fspec.kind == cat.OBJLIST:
            schema = {
                "type": "array",
                "maxItems": decode.MAX_LIST_ITEMS,
                "items": self.family(fspec.objname or "", fspec.subclasses),
            }
        elif fspec.kind == cat.OBJDICT:
            schema = {
                "type": "object",
                "maxProperties": decode.MAX_LIST_ITEMS,
                "propertyNames": {"maxLength": decode.MAX_STRING_LENGTH},
                "additionalProperties": self.family(
                    fspec.objname or "", fspec.subclasses
                ),
            }
        else:
            schema = dict(_SCALARS[fspec.kind])
        if fspec.nullable:
            schema = {"anyOf": [schema, {"type": "null"}]}
        return schema

    def _properties(
        self, spec: cat.ClassSpec, version: str
    ) -> tuple[dict[str, Any], list[str]]:
        props = {
            name: self._field(spec, version, fspec)
            for name, fspec in spec.readable_at(version).items()
        }
        return props, sorted(spec.required)

    def _object(self, spec: cat.ClassSpec, version: str) -> dict[str, Any]:
        props, required = self._properties(spec, version)
        title = "%s %s" % (spec.name, version)
        if self.compact:
            return {
                "title": title,
                "type": "object",
                "properties": {
                    enc.TYPE_KEY: {"const": spec.name},
                    enc.VERSION_KEY: {"const": version},
                    **props,
                },
                "required": [enc.TYPE_KEY, enc.VERSION_KEY, *required],
                "additionalProperties": False,
            }
        return {
            "title": title,
            "type": "object",
            "properties": {
                enc.NAME: {"const": spec.name},
                enc.NAMESPACE: {"const": "os_vif"},
                enc.VERSION: {"const": version},
                enc.DATA: {
                    "type": "object",
                    "properties": props,
                    "required": required,
                    "additionalProperties": False,
                },
                enc.CHANGES: {
                    "type": "array",
                    "items": {"enum": list(spec.fields)},
                    "description": "fields changed since the object was "
                    "created or loaded (oslo.versionedobjects bookkeeping)",
                },
            },
            "required": [enc.NAME, enc.NAMESPACE, enc.VERSION, enc.DATA],
            "additionalProperties": False,
        }


def json_schema(
    name: str, version: str | None = None, format: str = "compact"
) -> dict[str, Any]:
    """Return the JSON Schema of ``name`` at ``version`` in ``format``.

    :raises InvalidArgument: unknown class, version or format.
    """
    if format not in FORMATS:
        raise exception.InvalidArgument(
            field="format",
            value=format,
            reason="not one of compact, primitive",
        )
    spec = cat.catalog().by_name.get(name)
    if spec is None:
        raise exception.InvalidArgument(
            field="name", value=name, reason="not an os_vif object class"
        )
    if version is None:
        version = spec.version
    if version not in spec.versions:
        raise exception.InvalidArgument(
            field="version",
            value=version,
            reason="%s has versions %s" % (name, ", ".join(spec.versions)),
        )
    builder = _Builder(format == "compact")
    root = builder.at_version(spec, version)
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": "%s%s/%s-%s.json" % (_ID_BASE, format, name, version),
        "title": "os_vif %s %s (%s format)" % (name, version, format),
        **root,
        "$defs": dict(sorted(builder.defs.items())),
    }


def bundle(format: str) -> dict[str, Any]:
    """Return one schema holding every class at every version.

    The schema accepts any os_vif object in ``format``; ``$defs`` holds
    ``<Name>-<version>`` for each class and version (what
    :func:`json_schema` describes at the top) and ``<Name>`` for a class at
    any version.  This is the file published in the documentation.
    """
    if format not in FORMATS:
        raise exception.InvalidArgument(
            field="format",
            value=format,
            reason="not one of compact, primitive",
        )
    builder = _Builder(format == "compact")
    names = sorted(cat.catalog().by_name)
    roots = [builder.any_version(name) for name in names]
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": "%sos_vif.%s.json" % (_ID_BASE, format),
        "title": "Any os_vif object (%s format)" % format,
        "anyOf": roots,
        "$defs": dict(sorted(builder.defs.items())),
    }
