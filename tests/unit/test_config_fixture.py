"""The shared ``conf`` fixture undoes a test's changes, and only those."""

from __future__ import annotations

from oslo_config import cfg

from os_vif.internal.privileged import context as privsep
from tests.conftest import ConfigFixture


def test_overrides_are_undone_and_library_defaults_kept():
    group = privsep.vif_plug_ovs.cfg_section
    capabilities = list(cfg.CONF[group].capabilities)
    assert capabilities  # oslo.privsep's set_default at import
    fixture = ConfigFixture(cfg.CONF)
    fixture.setUp()
    fixture.config(helper_command="true", group=group)
    assert cfg.CONF[group].helper_command == "true"
    fixture.cleanUp()
    assert cfg.CONF[group].helper_command is None
    assert list(cfg.CONF[group].capabilities) == capabilities
