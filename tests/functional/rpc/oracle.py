"""The python of an isolated virtualenv holding the real os-vif 5.3.0.

Uses the shared helper ``tools/oracle_venv.py`` when the tree has it (it
is being written on another branch); until then, makes the same
virtualenv itself, in the same place (``$OS_VIF_ORACLE_DIR``, default
``/var/tmp/os-vif-oracle/os-vif-5.3.0``) with the same completion marker,
so that either reuses the other's.  oslo.messaging comes with it
(oslo.versionedobjects depends on it).

Tests using it are skipped when the virtualenv cannot be made (no package
index), unless ``OS_VIF_REQUIRE_ORACLE=1`` (CI), where that fails.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys

import pytest

VERSION = "5.3.0"
_MARKER = ".os-vif-oracle-complete"


def _venv() -> str:
    root = os.environ.get("OS_VIF_ORACLE_DIR") or "/var/tmp/os-vif-oracle"
    return os.path.join(os.path.abspath(root), "os-vif-" + VERSION)


def _ensure() -> str:
    try:
        from tools import oracle_venv  # type: ignore[attr-defined]
    except ImportError:
        oracle_venv = None
    if oracle_venv is not None and hasattr(oracle_venv, "ensure"):
        return str(oracle_venv.ensure(VERSION))
    venv = _venv()
    python = os.path.join(venv, "bin", "python")
    if os.path.exists(os.path.join(venv, _MARKER)):
        return python
    os.makedirs(os.path.dirname(venv), exist_ok=True)
    with open(venv + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(os.path.join(venv, _MARKER)):
            return python
        shutil.rmtree(venv, ignore_errors=True)
        try:
            subprocess.run(
                [sys.executable, "-m", "venv", venv], check=True,
                capture_output=True, timeout=300,
            )
            subprocess.run(
                [python, "-m", "pip", "install", "-q",
                 "os-vif==" + VERSION],
                check=True, capture_output=True, timeout=900,
            )
            subprocess.run(
                [python, "-c", "import os_vif, oslo_messaging"],
                check=True, capture_output=True, timeout=120,
            )
        except (subprocess.CalledProcessError,
                subprocess.TimeoutExpired) as err:
            shutil.rmtree(venv, ignore_errors=True)
            raise RuntimeError(
                "cannot make the os-vif %s venv: %s" % (
                    VERSION, getattr(err, "stderr", err))
            ) from err
        open(os.path.join(venv, _MARKER), "w").close()
    return python


def python_or_skip() -> str:
    """The oracle's python; skip (or, in CI, fail) when unavailable."""
    try:
        return _ensure()
    except Exception as err:  # noqa: BLE001 - reported as the reason
        if os.environ.get("OS_VIF_REQUIRE_ORACLE") == "1":
            raise
        pytest.skip("os-vif %s unavailable: %s" % (VERSION, err))
