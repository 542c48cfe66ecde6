"""The python of an isolated virtualenv holding the real os-vif 5.3.0.

The virtualenv is the one ``tools/oracle_venv.py`` makes for every oracle
test (under ``$OS_VIF_ORACLE_DIR``); oslo.messaging comes with it
(oslo.versionedobjects depends on it).

Tests using it are skipped when the virtualenv cannot be made (no package
index), unless ``OS_VIF_REQUIRE_ORACLE=1`` (CI), where that fails.
"""

from __future__ import annotations

import os

import pytest

from tests.functional.oracle_530 import VERSION, oracle_venv


def python_or_skip() -> str:
    """The oracle's python; skip (or, in CI, fail) when unavailable."""
    try:
        return str(oracle_venv.ensure(VERSION))
    except oracle_venv.OracleUnavailable as err:
        if os.environ.get("OS_VIF_REQUIRE_ORACLE") == "1":
            raise
        pytest.skip("os-vif %s unavailable: %s" % (VERSION, err))
