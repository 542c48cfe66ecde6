"""The real os-vif 5.3.0, to make devices as a host upgraded from it has.

:class:`OsVif530` runs ``tools/oracle_worker.py`` with the python of an
isolated virtualenv holding os-vif 5.3.0 from PyPI (made once and cached by
``tools/oracle_venv.py``, under ``$OS_VIF_ORACLE_DIR``), inside a network
namespace and against a private Open vSwitch.  Nothing of 5.3.0 is imported
here: VIFs go to it in their wire form and what it made comes back as JSON.

The session fixture :func:`os_vif_530` skips the tests using it when the
virtualenv is not cached and cannot be made (no package index); with
``OS_VIF_REQUIRE_ORACLE=1`` that is a failure instead, for CI, where the
index is reachable and a skip would hide a broken oracle.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import subprocess
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from os_vif.objects import instance_info

__all__ = ["Changes", "OsVif530", "Result", "os_vif_530"]

TOOLS = os.path.join(os.path.dirname(__file__), "..", "..", "tools")
WORKER = os.path.join(TOOLS, "oracle_worker.py")


def _load_oracle_venv() -> Any:
    # By path: "tools" is no package, and a "tools" installed elsewhere
    # must not be found instead.
    spec = importlib.util.spec_from_file_location(
        "os_vif_oracle_venv", os.path.join(TOOLS, "oracle_venv.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


oracle_venv = _load_oracle_venv()
VERSION = "5.3.0"


@dataclasses.dataclass(frozen=True)
class Changes:
    """What one call of os-vif 5.3.0 created or removed on the host."""

    links: dict[str, dict[str, Any]]
    ports: dict[str, dict[str, Any]]
    bridges: dict[str, dict[str, Any]]

    @classmethod
    def from_json(cls, doc: dict[str, list[dict[str, Any]]]) -> Changes:
        return cls(
            **{
                key: {item["name"]: item for item in doc[key]}
                for key in ("links", "ports", "bridges")
            }
        )


@dataclasses.dataclass(frozen=True)
class Result:
    """The worker's answer: the version that ran and its changes."""

    version: str
    created: Changes
    removed: Changes


class OsVif530:
    """os-vif 5.3.0 in its own virtualenv, run one call at a time."""

    def __init__(self, python: str) -> None:
        self.python = python

    def _call(
        self,
        action: str,
        vifs: Sequence[Any],
        instance: instance_info.InstanceInfo,
        netns: str,
        ovsdb_connection: str,
        timeout: float,
    ) -> Result:
        request = {
            "action": action,
            "ovsdb_connection": ovsdb_connection,
            "instance": {
                "uuid": instance.uuid,
                "name": instance.name,
                "project_id": instance.project_id,
            },
            # The wire form, identical for both versions.
            "vifs": [vif.obj_to_primitive() for vif in vifs],
            "timeout": int(timeout),
        }
        # Nothing of this process's environment may lead the worker back
        # to this checkout's os_vif.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTHON", "VIRTUAL_ENV"))
        }
        result = subprocess.run(
            # -P -s: neither the worker's directory nor user site-packages
            # join its sys.path.
            ["ip", "netns", "exec", netns, self.python, "-P", "-s", WORKER],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=timeout * (len(vifs) + 2),
            env=env,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(
                "os-vif %s failed to %s (exit %d):\n%s"
                % (VERSION, action, result.returncode, result.stderr[-4000:])
            )
        doc = json.loads(result.stdout.strip().splitlines()[-1])
        return Result(
            version=doc["version"],
            created=Changes.from_json(doc["created"]),
            removed=Changes.from_json(doc["removed"]),
        )

    def plug(
        self,
        vifs: Sequence[Any],
        instance: instance_info.InstanceInfo,
        *,
        netns: str,
        ovsdb_connection: str,
        timeout: float = 30,
    ) -> Result:
        """Plug ``vifs`` (our VIF objects) with os-vif 5.3.0 in ``netns``."""
        return self._call(
            "plug", vifs, instance, netns, ovsdb_connection, timeout
        )

    def unplug(
        self,
        vifs: Sequence[Any],
        instance: instance_info.InstanceInfo,
        *,
        netns: str,
        ovsdb_connection: str,
        timeout: float = 30,
    ) -> Result:
        """Unplug ``vifs`` with os-vif 5.3.0 in ``netns``."""
        return self._call(
            "unplug", vifs, instance, netns, ovsdb_connection, timeout
        )


@pytest.fixture(scope="session")
def os_vif_530() -> Iterator[OsVif530]:
    """os-vif 5.3.0, ready to run (its virtualenv made on first use)."""
    try:
        python = oracle_venv.ensure(VERSION)
    except oracle_venv.OracleUnavailable as err:
        reason = (
            "os-vif %s is not cached in %s and could not be installed: %s"
            % (VERSION, oracle_venv.venv_path(VERSION), err)
        )
        if os.environ.get("OS_VIF_REQUIRE_ORACLE") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    yield OsVif530(python)
