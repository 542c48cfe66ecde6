"""Every CLI test runs with oslo.config's fixture on CONF."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _config_undone(conf):
    # main() reads --config-file into the global CONF; the fixture resets
    # it, so no test sees another's files or overrides.
    yield
