"""oslo-config-generator lists every os_vif option, in os-vif's groups."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

from os_vif import opts

GENERATOR = pathlib.Path(sys.executable).parent / "oslo-config-generator"


def test_list_opts_has_plugin_and_privsep_groups():
    groups = dict(opts.list_opts())
    assert "os_vif_noop" in groups
    for group in (
        "vif_plug_linux_bridge_privileged",
        "vif_plug_ovs_privileged",
    ):
        names = {opt.name for opt in groups[group]}
        assert {"helper_command", "capabilities", "user"} <= names


@pytest.mark.skipif(
    not GENERATOR.exists(), reason="oslo-config-generator missing"
)
def test_generator_prints_the_groups():
    out = subprocess.run(
        [str(GENERATOR), "--namespace", "os_vif"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "[vif_plug_ovs_privileged]" in out
    assert "[vif_plug_linux_bridge_privileged]" in out
    for group, options in opts.list_opts():
        if options:
            assert "[%s]" % group in out
            for opt in options:
                assert "#%s = " % opt.dest in out or "#%s =" % opt.dest in out
