"""An RPC peer running the real os-vif 5.3.0, as an os-vif 5.x service does.

Run by the python of an isolated virtualenv holding os-vif 5.3.0 (never
imported into the project's process): it serves oslo.messaging RPC with
oslo.versionedobjects' own ``VersionedObjectSerializer`` over os_vif's
object base, which is how os-vif 5.x services exchange os_vif objects.

Methods (topic and server name from the command line):

``versions(older)``
    the version manifest it advertises: every os_vif class at its version,
    or, with ``older``, each at ``<major>.0``;
``describe(value)``
    what it loaded: every os_vif object in ``value`` as
    ``{"@class", "@version", field: value...}`` (set fields only, values
    as ``str``), containers kept;
``echo(value)``
    ``value`` back, written by its own serializer;
``sample(object_name, sample_name)``
    a sample of ``tests/wire_samples.py`` built by os-vif 5.3.0;
``count(token)`` / ``seen()``
    how many times each token was received.

Usage: ``python oracle_peer.py URL TOPIC SERVER``; prints ``ready`` once
serving, stops on SIGTERM.
"""

from __future__ import annotations

import importlib.util
import pathlib
import signal
import sys
import threading
import warnings
from typing import Any

import oslo_messaging
from oslo_config import cfg
from oslo_versionedobjects import base as ovo_base

from os_vif import objects
from os_vif.objects import base as osv_base

SAMPLES = pathlib.Path(__file__).resolve().parents[2] / "wire_samples.py"


def _samples() -> Any:
    spec = importlib.util.spec_from_file_location("wire_samples", SAMPLES)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["wire_samples"] = module
    spec.loader.exec_module(module)
    return module


class Serializer(ovo_base.VersionedObjectSerializer):
    """oslo.versionedobjects' serializer, for os_vif's namespace."""

    OBJ_BASE_CLASS = osv_base.VersionedObject


def describe(value: Any) -> Any:
    if isinstance(value, ovo_base.ObjectListBase):
        return {
            "@class": value.obj_name(),
            "@version": value.VERSION,
            "objects": [describe(item) for item in value.objects],
        }
    if isinstance(value, ovo_base.VersionedObject):
        found: dict[str, Any] = {
            "@class": value.obj_name(),
            "@version": value.VERSION,
        }
        for name in sorted(value.fields):
            if value.obj_attr_is_set(name):
                found[name] = describe(getattr(value, name))
        return found
    if isinstance(value, dict):
        return {key: describe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [describe(item) for item in value]
    if value is None or isinstance(value, (bool, int)):
        return value
    return str(value)


class Endpoint:
    target = oslo_messaging.Target(namespace="os_vif_oracle", version="1.0")

    def __init__(self) -> None:
        self.tokens: dict[str, int] = {}
        self.lock = threading.Lock()
        self.samples = _samples()

    def versions(self, ctxt: Any, older: bool = False) -> dict[str, str]:
        registry = ovo_base.VersionedObjectRegistry.obj_classes()
        manifest = {}
        for name, classes in registry.items():
            if classes[0].OBJ_PROJECT_NAMESPACE != "os_vif":
                continue
            version = classes[0].VERSION
            if older:
                version = version.split(".")[0] + ".0"
            manifest[name] = version
        return manifest

    def describe(self, ctxt: Any, value: Any) -> Any:
        return describe(value)

    def echo(self, ctxt: Any, value: Any) -> Any:
        return value

    def sample(self, ctxt: Any, object_name: str, sample_name: str) -> Any:
        return self.samples.build_sample(object_name, sample_name)

    def count(self, ctxt: Any, token: str) -> str:
        with self.lock:
            self.tokens[token] = self.tokens.get(token, 0) + 1
        return token

    def seen(self, ctxt: Any) -> dict[str, int]:
        with self.lock:
            return dict(self.tokens)


def main() -> int:
    warnings.simplefilter("ignore")
    url, topic, server_name = sys.argv[1:4]
    objects.register_all()
    transport = oslo_messaging.get_rpc_transport(cfg.CONF, url=url)
    server = oslo_messaging.get_rpc_server(
        transport,
        oslo_messaging.Target(topic=topic, server=server_name),
        [Endpoint()],
        serializer=Serializer(),
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    print("ready", flush=True)
    stop.wait()
    server.stop()
    server.wait()
    transport.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
