"""Fixtures shared by the unit and functional tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fixtures
import pytest
from oslo_config import cfg
from oslo_config import fixture as config_fixture


class ConfigFixture(config_fixture.Config):
    """oslo.config's fixture, leaving the libraries' own defaults alone.

    The stock fixture ends with ``CONF.reset()``, which also clears every
    ``set_default`` a library made at import: oslo.privsep gives each
    context its capabilities that way, and a daemon started after such a
    reset would run with none.  This one clears the overrides the test
    made and forgets the parsed command line and files (``CONF.clear()``),
    and nothing else.
    """

    def setUp(self) -> None:
        fixtures.Fixture.setUp(self)
        self.addCleanup(self._reset_default_config_files)
        self.addCleanup(self._reset_default_config_dirs)
        self.addCleanup(self._unregister_config_opts)
        self.addCleanup(self._clear_overrides_and_files)
        self._registered_config_opts = {}
        self._overridden: list[tuple[str, str | None]] = []
        self._default_config_files = getattr(
            self.conf, "default_config_files", None
        )
        self._default_config_dirs = getattr(
            self.conf, "default_config_dirs", None
        )

    def config(self, **kw: Any) -> None:
        """Override options (``group=`` names their group); undone later."""
        group = kw.get("group")
        self._overridden += [(name, group) for name in kw if name != "group"]
        super().config(**kw)

    def _clear_overrides_and_files(self) -> None:
        for name, group in reversed(self._overridden):
            self.conf.clear_override(name, group)
        self.conf.clear()


@pytest.fixture
def conf() -> Iterator[ConfigFixture]:
    """oslo.config's fixture on the global CONF: the test's changes undone.

    ``conf.config(name=value, group=...)`` overrides an option; at the end
    of the test the overrides are cleared and the files read (by ``os-vif
    --config-file``) forgotten.
    """
    fixture = ConfigFixture(cfg.CONF)
    fixture.setUp()
    try:
        yield fixture
    finally:
        fixture.cleanUp()
