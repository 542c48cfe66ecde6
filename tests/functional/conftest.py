"""Fixtures shared by every functional test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from os_vif.sandbox import netns as netns_fixture
from tests.functional.oracle_530 import os_vif_530  # noqa: F401 - a fixture


@pytest.fixture
def netns() -> Iterator[netns_fixture.Namespace]:
    """A fresh network namespace the test runs in, deleted afterwards.

    The os_vif privsep daemons started during the test run inside it.
    """
    reason = netns_fixture.missing_reason()
    if reason is not None:
        pytest.skip(reason)
    with netns_fixture.fresh_netns() as handle:
        yield handle
