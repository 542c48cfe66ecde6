"""Fuzzing the loaders: only DeserializationError, and never a hang.

Hypothesis feeds ``from_primitive``, ``from_compact``, ``from_data`` and
``loads`` with mutated test vectors (values replaced by random JSON, keys
removed or added, subtrees moved, versions and names changed), mutated
JSON text and random JSON.  Whatever loads must write and load again to
the same primitive.  Example counts keep the module under a minute in CI;
``OS_VIF_FUZZ_EXAMPLES`` raises them for a longer hunt.
"""

from __future__ import annotations

import copy
import json
import os
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from os_vif import exception, serialization
from tests.unit.serialization import vectors

EXAMPLES = int(os.environ.get("OS_VIF_FUZZ_EXAMPLES", "250"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# A spread of payloads: every class, every producer, both formats.
_seen: set[tuple[str, str]] = set()
SEEDS: list[Any] = []
for _vector_id, _vector in vectors.VECTORS:
    _key = (_vector["object"], _vector_id.split(":")[0][:12])
    if _key not in _seen:
        _seen.add(_key)
        SEEDS.append(_vector["primitive"])
COMPACT_SEEDS = [
    serialization.to_compact(serialization.from_primitive(p))
    for p in SEEDS
]

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "1.0", "1.1", "1.9", "2.0", "os_vif", "VIFBase", "Network",
            "VIFOpenVSwitch", "SubnetList", "DatapathOffloadRepresentor",
            "10.0.0.1", "::1", "10.0.0.0/8", "fa:16:3e:00:00:01",
            "0000:81:00.2", "c3a8f2d4-7d2b-4f64-8a4e-0000000000f1",
            "versioned_object.data", "@type", "@version", "objects",
        ]
    )
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=12) | SCALARS.filter(
        lambda v: isinstance(v, str)), inner, max_size=4),
    max_leaves=20,
)


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, path + (key,)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, path + (index,)))
    return found


def _get(value: Any, path: tuple) -> Any:
    for step in path:
        value = value[step]
    return value


def _mutate(data: st.DataObject, document: Any) -> Any:
    document = copy.deepcopy(document)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        paths = _paths(document)
        path = data.draw(st.sampled_from(paths), label="path")
        op = data.draw(
            st.sampled_from(["replace", "delete", "add", "graft"]),
            label="op",
        )
        if not path:
            if op == "replace":
                document = data.draw(JSON)
            continue
        parent = _get(document, path[:-1])
        key = path[-1]
        if op == "replace":
            parent[key] = data.draw(JSON, label="value")
        elif op == "delete":
            del parent[key]
        elif op == "graft":
            parent[key] = copy.deepcopy(
                _get(document, data.draw(st.sampled_from(paths)))
            )
        else:
            target = _get(document, path)
            if isinstance(target, dict):
                target[data.draw(st.text(max_size=12) | SCALARS.filter(
                    lambda v: isinstance(v, str)))] = data.draw(JSON)
            elif isinstance(target, list):
                target.append(data.draw(JSON))
    return document


def _check(load: Any, value: Any) -> None:
    started = time.monotonic()
    try:
        obj = load(value)
    except exception.DeserializationError as err:
        assert not err.reason.startswith("unexpected"), err
        assert isinstance(err.path, str)
    else:
        # Whatever loads is a valid object: it writes and loads again.
        again = serialization.loads(serialization.dumps(obj))
        assert vectors.without_changes(
            serialization.to_primitive(again)
        ) == vectors.without_changes(serialization.to_primitive(obj))
        serialization.from_primitive(serialization.to_primitive(obj))
    assert time.monotonic() - started < 2.0


@SETTINGS
@given(st.data())
def test_mutated_primitives(data):
    seed = data.draw(st.sampled_from(SEEDS), label="seed")
    document = _mutate(data, seed)
    _check(serialization.from_primitive, document)
    _check(serialization.from_data, document)


@SETTINGS
@given(st.data())
def test_mutated_compact_documents(data):
    seed = data.draw(st.sampled_from(COMPACT_SEEDS), label="seed")
    document = _mutate(data, seed)
    _check(serialization.from_compact, document)
    _check(serialization.from_data, document)


@SETTINGS
@given(st.data())
def test_mutated_json_text(data):
    seed = data.draw(st.sampled_from(SEEDS + COMPACT_SEEDS), label="seed")
    text = json.dumps(seed)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 8))
        text = text[:at] + data.draw(st.text(max_size=6)) + text[at + cut:]
    _check(serialization.loads, text)
    _check(serialization.loads, text.encode("utf-8", "surrogatepass"))


@SETTINGS
@given(JSON)
def test_random_json(value):
    _check(serialization.from_primitive, value)
    _check(serialization.from_compact, value)
    _check(serialization.loads, json.dumps(value))


@settings(max_examples=EXAMPLES // 2, deadline=None, database=None)
@given(st.binary(max_size=200))
def test_random_bytes(blob):
    _check(serialization.loads, blob)


def _netaddr_or_none(text):
    import netaddr

    try:
        return netaddr.IPAddress(text)
    except Exception:  # noqa: BLE001 - any refusal counts as None
        return None


_GROUP = st.text("0123456789abcdefABCDEF", max_size=5)


@SETTINGS
@given(
    st.lists(_GROUP, min_size=1, max_size=9).map(":".join)
    | st.lists(_GROUP, min_size=1, max_size=9).map(
        lambda g: ":".join(g).replace(":", "::", 1)
    )
    | st.text("0123456789abcdef:", max_size=40)
    | st.lists(st.integers(0, 300).map(str), min_size=4, max_size=4).map(
        ".".join
    )
    | st.text("0123456789.", max_size=16)
)
def test_address_shortcut_agrees_with_netaddr(text):
    from os_vif._serialization import decode

    fast = decode._fast_address(text)
    real = _netaddr_or_none(text)
    if fast is not None:
        assert real is not None
        assert (fast, str(fast), fast.version) == (
            real, str(real), real.version
        )


def _netaddr_network_or_none(text):
    import netaddr

    try:
        return netaddr.IPNetwork(text)
    except Exception:  # noqa: BLE001 - any refusal counts as None
        return None


@SETTINGS
@given(
    st.tuples(
        st.lists(st.integers(0, 300).map(str), min_size=4, max_size=4).map(
            ".".join
        )
        | st.lists(_GROUP, min_size=1, max_size=9).map(
            lambda g: ":".join(g).replace(":", "::", 1)
        ),
        st.integers(0, 140).map(str) | st.text("0123456789/", max_size=4),
    ).map("/".join)
)
def test_network_shortcut_agrees_with_netaddr(text):
    from os_vif._serialization import decode

    fast = decode._fast_network(text)
    real = _netaddr_network_or_none(text)
    if fast is not None:
        assert real is not None
        assert (fast, str(fast), fast.version, fast.prefixlen,
                fast.network) == (real, str(real), real.version,
                                  real.prefixlen, real.network)
