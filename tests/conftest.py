"""Fixtures shared by the unit and functional tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from oslo_config import cfg
from oslo_config import fixture as config_fixture


@pytest.fixture
def conf() -> Iterator[config_fixture.Config]:
    """oslo.config's fixture on the global CONF: every change undone.

    ``conf.config(name=value, group=...)`` overrides an option; at the end
    of the test the overrides are cleared and CONF is reset (files read by
    ``os-vif --config-file`` included).
    """
    fixture = config_fixture.Config(cfg.CONF)
    fixture.setUp()
    try:
        yield fixture
    finally:
        fixture.cleanUp()
