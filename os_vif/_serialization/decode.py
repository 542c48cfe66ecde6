"""Read OVO primitives and compact documents, strictly and safely.

Every value is checked against the field it claims to fill before an
object is built: the class must be an os_vif class (looked up in our own
catalog; nothing named in the data is imported or called), its version one
we know, each field one the class has, each value of the field's type.
Objects are then built directly, without oslo.versionedobjects' own
``obj_from_primitive`` (which ignores unknown fields and raises a dozen
exception types).

Any problem raises :class:`os_vif.exception.DeserializationError` with the
path of the bad value, e.g. ``network.subnets.objects[0].cidr``.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import netaddr
from netaddr.strategy import ipv4 as _netaddr_ipv4
from netaddr.strategy import ipv6 as _netaddr_ipv6

from os_vif import exception
from os_vif._serialization import catalog as cat
from os_vif._serialization import encode as enc

# The field kinds as globals: the loader compares every value's with them.
from os_vif._serialization.catalog import (
    BOOL,
    ENUM,
    INT,
    IPADDR,
    IPLIST,
    IPNET,
    MAC,
    OBJ,
    OBJDICT,
    PCI,
    STR,
    UUID,
)
from os_vif.objects import _ovo, formats

__all__ = [
    "MAX_DEPTH",
    "MAX_OBJECTS",
    "MAX_LIST_ITEMS",
    "MAX_STRING_LENGTH",
    "MAX_DOCUMENT_SIZE",
    "from_primitive",
    "from_compact",
    "from_data",
    "from_entity",
    "parse_json",
]

#: Objects nested deeper than this are refused (os_vif needs 6).
MAX_DEPTH = 16
#: Objects in one document.
MAX_OBJECTS = 10_000
#: Items in one list field.
MAX_LIST_ITEMS = 4096
#: Characters in one string value.
MAX_STRING_LENGTH = 4096
#: Characters (or bytes) of a JSON document given to ``loads``.
MAX_DOCUMENT_SIZE = 16 * 1024 * 1024

_ENVELOPE = frozenset({enc.NAME, enc.NAMESPACE, enc.VERSION, enc.DATA,
                       enc.CHANGES})
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
    r"[0-9a-fA-F]{12}\Z"
)
_MAC = formats.MAC_ADDRESS
_PCI = formats.PCI_ADDRESS
# Addresses and networks are most of a VIF's values, and netaddr's string
# parser most of the cost of loading them.  Canonical dotted quads, and
# IPv6 text made of hex digits and colons only (which the standard library
# parses exactly as netaddr does; property tests hold both to it), with an
# optional decimal prefix length, are parsed here, and the netaddr object
# is made directly, provided this netaddr's objects are still built that
# way (checked once, below).  Anything else goes through netaddr.
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(r"\.".join([_OCTET] * 4) + r"\Z")
_IPV6 = re.compile(r"[0-9a-fA-F:]{2,39}\Z")


def _make_address(value: int, module: Any) -> Any:
    address = netaddr.IPAddress.__new__(netaddr.IPAddress)
    address._value = value  # noqa: SLF001 - see above
    address._module = module  # noqa: SLF001
    return address


def _make_network(value: int, prefixlen: int, module: Any) -> Any:
    network = netaddr.IPNetwork.__new__(netaddr.IPNetwork)
    network._value = value  # noqa: SLF001 - see above
    network._prefixlen = prefixlen  # noqa: SLF001
    network._module = module  # noqa: SLF001
    return network


def _shortcut_works() -> bool:
    try:
        for text, module, prefix in (
            ("192.0.2.10", _netaddr_ipv4, 24),
            ("2001:db8::a", _netaddr_ipv6, 64),
        ):
            made = _make_network(
                int(ipaddress.ip_address(text)), prefix, module
            )
            real = netaddr.IPNetwork("%s/%d" % (text, prefix))
            if not (
                made == real
                and str(made) == str(real)
                and made.version == real.version
                and made.prefixlen == real.prefixlen
                and made.network == real.network
                and hash(made) == hash(real)
            ):
                return False
        for text, module in (
            ("192.0.2.10", _netaddr_ipv4),
            ("2001:db8::a", _netaddr_ipv6),
        ):
            made = _make_address(int(ipaddress.ip_address(text)), module)
            real = netaddr.IPAddress(text)
            if not (
                made == real
                and str(made) == str(real)
                and made.version == real.version
                and hash(made) == hash(real)
            ):
                return False
    except Exception:  # noqa: BLE001 - any surprise: use netaddr's parser
        return False
    return True


_SHORTCUT = _shortcut_works()


_PREFIX = re.compile(r"(?:0|[1-9][0-9]{0,2})\Z")


def _fast_network(text: str) -> Any:
    """The netaddr network of ``text``, or None to ask netaddr itself."""
    address, slash, prefix = text.partition("/")
    if not slash or _PREFIX.match(prefix) is None:
        return None
    parsed = _fast_address(address)
    if parsed is None:
        return None
    prefixlen = int(prefix)
    module = parsed._module  # noqa: SLF001
    if prefixlen > module.width:
        return None
    return _make_network(parsed._value, prefixlen, module)  # noqa: SLF001


def _fast_address(text: str) -> Any:
    """The netaddr address of ``text``, or None to ask netaddr itself."""
    if not _SHORTCUT:
        return None
    quad = _IPV4.match(text)
    if quad is not None:
        a, b, c, d = quad.groups()
        return _make_address(
            (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d),
            _netaddr_ipv4,
        )
    if ":" in text and _IPV6.match(text) is not None:
        try:
            value = int(ipaddress.IPv6Address(text))
        except ValueError:
            return None  # netaddr decides, and words the error
        return _make_address(value, _netaddr_ipv6)
    return None


_INT_LIMIT = 2**63
_ADDRESS_ERRORS = (netaddr.AddrFormatError, ValueError, TypeError,
                   IndexError, OverflowError)


class _Bad(Exception):
    """A bad value; ``segments`` collects its path, innermost first."""

    def __init__(self, reason: str, segment: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.segments: list[str] = [] if segment is None else [segment]


class _Budget:
    __slots__ = ("objects",)

    def __init__(self) -> None:
        self.objects = 0


def _path(segments: list[str]) -> str:
    path = ""
    for segment in reversed(segments):
        if segment.startswith("[") or not path:
            path += segment
        else:
            path += "." + segment
    return path


# What a JSON value is called in messages; bool before int (a bool is an
# int to isinstance).
_JSON_KINDS: tuple[tuple[type, str], ...] = (
    (type(None), "null"),
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (list, "an array"),
    (dict, "an object"),
)


def _describe(value: Any) -> str:
    for kind, name in _JSON_KINDS:
        if isinstance(value, kind):
            return name
    return "a %s" % type(value).__name__


def _show(value: str) -> str:
    """A string value for a message: quoted, and cut if long."""
    if len(value) > 60:
        value = value[:57] + "..."
    return repr(value)


def _guard(func: Any, data: Any) -> Any:
    try:
        return func(data)
    except _Bad as bad:
        raise exception.DeserializationError(
            path=_path(bad.segments), reason=bad.reason
        ) from None
    except RecursionError:
        raise exception.DeserializationError(
            path="", reason="the document is nested too deeply"
        ) from None
    except Exception as err:  # noqa: BLE001 - the documented guarantee
        # Not reached by any input we know of (the fuzz tests look for
        # one): whatever the input, only DeserializationError escapes.
        raise exception.DeserializationError(
            path="", reason="unexpected %s while loading: %s"
            % (type(err).__name__, err)
        ) from err


def from_primitive(data: Any) -> Any:
    """Load an OVO primitive (see :mod:`os_vif.serialization`)."""
    return _guard(lambda d: _primitive_object(d, None, 0, _Budget()), data)


def from_compact(data: Any) -> Any:
    """Load a compact document (a parsed JSON object)."""
    return _guard(lambda d: _compact_object(d, None, 0, _Budget()), data)


def from_data(data: Any) -> Any:
    """Load a parsed JSON value in either format."""
    return _guard(_either, data)


def _either(data: Any) -> Any:
    if type(data) is dict:
        if enc.TYPE_KEY in data:
            return _compact_object(data, None, 0, _Budget())
        if enc.NAME in data or enc.DATA in data:
            return _primitive_object(data, None, 0, _Budget())
    raise _Bad(
        "expected an os_vif object: a JSON object with %r (compact format) "
        "or %r (OVO primitive), got %s"
        % (enc.TYPE_KEY, enc.NAME, _describe(data))
    )


def _no_constants(name: str) -> Any:
    raise _Bad("%s is not a JSON value" % name)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise _Bad("key %s appears twice in one object" % _show(key))
            seen.add(key)
    return result


# Made once: json.loads() would build a decoder per call for these hooks.
_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_keys, parse_constant=_no_constants
)


def parse_json(text: Any) -> Any:
    """Parse a JSON document within the size limit, refusing duplicate keys.

    :raises DeserializationError: not JSON, too big, or not UTF-8.
    """
    return _guard(_parse, text)


def _parse(text: Any) -> Any:
    if isinstance(text, (bytes, bytearray, memoryview)):
        if len(text) > MAX_DOCUMENT_SIZE:
            raise _Bad("the document exceeds %d bytes" % MAX_DOCUMENT_SIZE)
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as err:
            raise _Bad("the document is not UTF-8: %s" % err) from None
    if not isinstance(text, str):
        raise _Bad("expected JSON text, got %s" % type(text).__name__)
    if len(text) > MAX_DOCUMENT_SIZE:
        raise _Bad("the document exceeds %d characters" % MAX_DOCUMENT_SIZE)
    try:
        return _DECODER.decode(text)
    except _Bad:
        raise
    except RecursionError:
        raise _Bad("the document is nested too deeply") from None
    except ValueError as err:
        raise _Bad("not valid JSON: %s" % err) from None


# ---------------------------------------------------------------------------
# Class and version


def _resolve(
    name: Any,
    version: Any,
    expected: cat.FieldSpec | None,
    name_key: str,
    version_key: str,
) -> tuple[cat.ClassSpec, str]:
    if type(name) is not str:
        if name is None:
            raise _Bad("%s is missing" % name_key)
        raise _Bad("%s must be a string, not %s" % (name_key, _describe(name)))
    spec = cat.catalog().by_name.get(name)
    if spec is None:
        raise _Bad("unknown object class %s" % _show(name))
    if expected is not None and expected.objname != name:
        family = cat.catalog().by_name[expected.objname or ""].family
        if not expected.subclasses or name not in family:
            raise _Bad(
                "expected %s%s here, not %s"
                % (
                    expected.objname,
                    " or a subclass" if expected.subclasses else "",
                    name,
                )
            )
    if type(version) is not str:
        if version is None:
            raise _Bad("%s is missing" % version_key)
        raise _Bad(
            "%s must be a string, not %s" % (version_key, _describe(version))
        )
    parsed = cat.parse_version(version)
    if parsed is None:
        raise _Bad(
            "%s %s is not a MAJOR.MINOR version"
            % (version_key, _show(version))
        )
    if not spec.supports(parsed):
        if parsed[0] == spec.version_tuple[0]:
            raise _Bad(
                "%s %s is newer than %s, the newest this os_vif knows"
                % (name, version, spec.version)
            )
        raise _Bad(
            "%s %s has a major version this os_vif does not read (it reads "
            "%s up to %s)" % (name, version, name, spec.version)
        )
    return spec, version


def _unknown_field(spec: cat.ClassSpec, version: str, key: Any) -> _Bad:
    if type(key) is str and key in spec.fields:
        return _Bad(
            "field %s of %s does not exist in version %s (it was added in "
            "%d.%d)" % (key, spec.name, version, *spec.fields[key].added_in),
            key,
        )
    return _Bad(
        "unknown field %s for %s %s" % (_show(str(key)), spec.name, version),
        str(key),
    )


# ---------------------------------------------------------------------------
# Values


def _string(raw: Any) -> str:
    if type(raw) is not str:
        raise _Bad("expected a string, got %s" % _describe(raw))
    if len(raw) > MAX_STRING_LENGTH:
        raise _Bad("string longer than %d characters" % MAX_STRING_LENGTH)
    return raw


def _ip(
    raw: Any, fast_parse: Callable[[str], Any], make: Any, what: str
) -> Any:
    """Parse an IP address or network: the fast parser, else netaddr."""
    if type(raw) is str:
        fast = fast_parse(raw)
        if fast is not None:
            return fast
    text = _string(raw)
    if len(text) > 64:
        raise _Bad("%s is not an IP %s" % (_show(text), what))
    try:
        return make(text)
    except _ADDRESS_ERRORS:
        raise _Bad("%s is not an IP %s" % (_show(text), what)) from None


def _ip_address(raw: Any) -> Any:
    return _ip(raw, _fast_address, netaddr.IPAddress, "address")


def _value(
    fspec: cat.FieldSpec,
    raw: Any,
    depth: int,
    budget: _Budget,
    compact: bool,
    spec: cat.ClassSpec,
    version: str,
) -> Any:
    if raw is None:
        if fspec.nullable:
            return None
        raise _Bad("null is not allowed for %s" % fspec.name)
    kind = fspec.kind
    if kind == STR:
        return _string(raw)
    if kind == BOOL:
        if type(raw) is not bool:
            raise _Bad("expected a boolean, got %s" % _describe(raw))
        return raw
    if kind == INT:
        if type(raw) is not int:
            raise _Bad("expected an integer, got %s" % _describe(raw))
        if not -_INT_LIMIT <= raw < _INT_LIMIT:
            raise _Bad("integer out of the 64-bit range")
        return raw
    if kind == UUID:
        text = _string(raw)
        if _UUID.match(text) is None:
            raise _Bad("%s is not a UUID" % _show(text))
        return text
    if kind == MAC:
        text = _string(raw).lower().replace("-", ":")
        if _MAC.match(text) is None:
            raise _Bad("%s is not a MAC address" % _show(raw))
        return text
    if kind == PCI:
        text = _string(raw).lower()
        if _PCI.match(text) is None:
            raise _Bad("%s is not a PCI address" % _show(raw))
        return text
    if kind == ENUM:
        text = _string(raw)
        if text not in fspec.choices:
            raise _Bad(
                "%s is not one of %s" % (_show(text), ", ".join(fspec.choices))
            )
        return text
    if kind == IPADDR:
        return _ip_address(raw)
    if kind == IPNET:
        return _ip(raw, _fast_network, netaddr.IPNetwork, "network")
    if kind == IPLIST:
        items = _array(raw)
        result = []
        for index, item in enumerate(items):
            try:
                result.append(_ip_address(item))
            except _Bad as bad:
                bad.segments.append("[%d]" % index)
                raise
        return result
    if kind == OBJ:
        if compact:
            child_spec = cat.catalog().by_name[fspec.objname or ""]
            if child_spec.is_list and type(raw) is list:
                return _compact_array(
                    raw, fspec, child_spec, spec, version, depth + 1, budget
                )
            return _compact_object(raw, fspec, depth + 1, budget)
        return _primitive_object(raw, fspec, depth + 1, budget)
    if kind == OBJDICT:
        if type(raw) is not dict:
            raise _Bad("expected an object, got %s" % _describe(raw))
        if len(raw) > MAX_LIST_ITEMS:
            raise _Bad("more than %d entries" % MAX_LIST_ITEMS)
        load = _compact_object if compact else _primitive_object
        entries = {}
        for key, item in raw.items():
            try:
                _string(key)
                entries[key] = load(item, fspec, depth + 1, budget)
            except _Bad as bad:
                bad.segments.append("[%s]" % json.dumps(key)[:80])
                raise
        return entries
    # OBJLIST
    items = _array(raw)
    load = _compact_object if compact else _primitive_object
    result = []
    for index, item in enumerate(items):
        try:
            result.append(load(item, fspec, depth + 1, budget))
        except _Bad as bad:
            bad.segments.append("[%d]" % index)
            raise
    return result


def _array(raw: Any) -> list[Any]:
    if type(raw) is not list:
        raise _Bad("expected an array, got %s" % _describe(raw))
    if len(raw) > MAX_LIST_ITEMS:
        raise _Bad("more than %d items" % MAX_LIST_ITEMS)
    return raw


def _enter(depth: int, budget: _Budget) -> None:
    if depth > MAX_DEPTH:
        raise _Bad("objects nested deeper than %d levels" % MAX_DEPTH)
    budget.objects += 1
    if budget.objects > MAX_OBJECTS:
        raise _Bad("more than %d objects in one document" % MAX_OBJECTS)


def _fields(
    spec: cat.ClassSpec,
    version: str,
    items: Mapping[str, Any],
    depth: int,
    budget: _Budget,
    compact: bool,
) -> dict[str, Any]:
    readable = spec.readable_at(version)
    values: dict[str, Any] = {}
    for key, raw in items.items():
        if compact and key in (enc.TYPE_KEY, enc.VERSION_KEY):
            continue
        fspec = readable.get(key)
        if fspec is None:
            raise _unknown_field(spec, version, key)
        # The commonest cases inline; everything else (and every error)
        # through _value.
        kind = fspec.kind
        raw_type = type(raw)
        if (kind == STR and raw_type is str
                and len(raw) <= MAX_STRING_LENGTH) or (
                    kind == BOOL and raw_type is bool):
            values[key] = raw
            continue
        if kind == IPADDR and raw_type is str:
            address = _fast_address(raw)
            if address is not None:
                values[key] = address
                continue
        try:
            values[key] = _value(
                fspec, raw, depth, budget, compact, spec, version
            )
        except _Bad as bad:
            bad.segments.append(key)
            raise
    if not spec.required.issubset(values):
        missing = sorted(spec.required.difference(values))[0]
        raise _Bad(
            "required field %s of %s is missing" % (missing, spec.name),
            missing,
        )
    return values


# ---------------------------------------------------------------------------
# OVO primitives


def _primitive_object(
    data: Any, expected: cat.FieldSpec | None, depth: int, budget: _Budget
) -> Any:
    if type(data) is not dict:
        raise _Bad("expected an os_vif object primitive, got %s"
                   % _describe(data))
    _enter(depth, budget)
    for key in data:
        if key not in _ENVELOPE:
            raise _Bad(
                "unknown key %s in an object primitive" % _show(str(key)),
                str(key),
            )
    namespace = data.get(enc.NAMESPACE)
    if namespace != "os_vif":
        raise _Bad(
            "namespace must be 'os_vif', not %s"
            % (_show(namespace) if type(namespace) is str
               else _describe(namespace)),
            enc.NAMESPACE,
        )
    spec, version = _resolve(
        data.get(enc.NAME), data.get(enc.VERSION), expected,
        enc.NAME, enc.VERSION,
    )
    objdata = data.get(enc.DATA)
    if type(objdata) is not dict:
        raise _Bad(
            "%s must be an object, not %s" % (enc.DATA, _describe(objdata))
            if objdata is not None else "%s is missing" % enc.DATA
        )
    values = _fields(spec, version, objdata, depth, budget, False)
    raw_changes = data.get(enc.CHANGES, [])
    if type(raw_changes) is not list or len(raw_changes) > len(spec.fields):
        raise _Bad(
            "expected an array of field names of %s" % spec.name, enc.CHANGES
        )
    changes = set()
    for index, name in enumerate(raw_changes):
        if type(name) is not str or name not in spec.fields:
            bad = _Bad(
                "%s is not a field of %s"
                % (_show(name) if type(name) is str else _describe(name),
                   spec.name),
                "[%d]" % index,
            )
            bad.segments.append(enc.CHANGES)
            raise bad
        changes.add(name)
    return _ovo.new_loaded(spec.cls, values, changes, version)


# ---------------------------------------------------------------------------
# Compact documents


def _compact_object(
    data: Any, expected: cat.FieldSpec | None, depth: int, budget: _Budget
) -> Any:
    if type(data) is not dict:
        raise _Bad("expected an os_vif object, got %s" % _describe(data))
    _enter(depth, budget)
    spec, version = _resolve(
        data.get(enc.TYPE_KEY), data.get(enc.VERSION_KEY), expected,
        enc.TYPE_KEY, enc.VERSION_KEY,
    )
    values = _fields(spec, version, data, depth, budget, True)
    return _ovo.new_loaded(spec.cls, values, None, version)


def _compact_array(
    raw: list[Any],
    fspec: cat.FieldSpec,
    list_spec: cat.ClassSpec,
    parent: cat.ClassSpec,
    parent_version: str,
    depth: int,
    budget: _Budget,
) -> Any:
    _enter(depth, budget)
    parent_at = cat.parse_version(parent_version)
    assert parent_at is not None
    version = enc.implied_list_version(parent, fspec, parent_at)
    if version is None or not list_spec.supports(
        cat.parse_version(version) or (0, 0)
    ):
        raise _Bad(
            "write %s as an object with %s and %s here"
            % (list_spec.name, enc.TYPE_KEY, enc.VERSION_KEY)
        )
    items = _value(
        list_spec.fields["objects"], raw, depth, budget, True, list_spec,
        version,
    )
    return _ovo.new_loaded(list_spec.cls, {"objects": items}, None, version)


# ---------------------------------------------------------------------------
# RPC payloads: os_vif primitives anywhere in nested dicts, lists, tuples


def from_entity(data: Any, other: Any = None) -> Any:
    """Load every os_vif primitive inside an RPC argument or result.

    ``data`` is what oslo.messaging decoded: scalars, dicts, lists and
    tuples, with OVO primitives anywhere.  Those of the ``os_vif``
    namespace are loaded strictly; one of another namespace is given to
    ``other`` (a callable, the wrapped serializer) or refused when there is
    none.  Containers count against the same depth and size limits as the
    objects, over the whole entity.
    """
    failed: list[Exception] = []

    def delegate(primitive: dict[str, Any]) -> Any:
        try:
            return other(primitive)
        except Exception as err:
            failed.append(err)
            raise

    try:
        return _guard(
            lambda d: _entity(d, 0, _Budget(), delegate if other else None),
            data,
        )
    except exception.DeserializationError:
        if failed:  # the wrapped serializer's own error, as it raised it
            raise failed[0] from None
        raise


def _entity(data: Any, depth: int, budget: _Budget, other: Any) -> Any:
    kind = type(data)
    if kind is dict:
        if enc.NAME in data:
            if other is not None and data.get(enc.NAMESPACE) != "os_vif":
                return other(data)
            return _primitive_object(data, None, depth, budget)
        _container(data, depth, budget)
        loaded = {}
        for key, value in data.items():
            if type(key) is not str:
                raise _Bad("keys must be strings, got %s" % _describe(key))
            try:
                loaded[key] = _entity(value, depth + 1, budget, other)
            except _Bad as bad:
                bad.segments.append(key)
                raise
        return loaded
    if kind is list or kind is tuple:
        _container(data, depth, budget)
        items = []
        for index, value in enumerate(data):
            try:
                items.append(_entity(value, depth + 1, budget, other))
            except _Bad as bad:
                bad.segments.append("[%d]" % index)
                raise
        return items if kind is list else tuple(items)
    return data


def _container(data: Any, depth: int, budget: _Budget) -> None:
    if depth > MAX_DEPTH:
        raise _Bad("containers nested deeper than %d levels" % MAX_DEPTH)
    if len(data) > MAX_LIST_ITEMS:
        raise _Bad("more than %d items" % MAX_LIST_ITEMS)
    budget.objects += 1
    if budget.objects > MAX_OBJECTS:
        raise _Bad("more than %d objects and containers" % MAX_OBJECTS)
