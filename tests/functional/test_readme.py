"""The README's Python example runs as written and leaves the host alone."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest
from pyroute2 import IPRoute

from os_vif.sandbox import netns as netns_sandbox

README = pathlib.Path(__file__).resolve().parents[2] / "README.rst"


def python_example() -> str:
    blocks = re.findall(
        r"^\.\. code-block:: python\n\n((?:    .*\n|\n)+)",
        README.read_text(),
        re.MULTILINE,
    )
    assert len(blocks) == 1, "the README has one Python example"
    return "\n".join(line[4:] for line in blocks[0].splitlines())


@pytest.mark.skipif(
    netns_sandbox.missing_reason() is not None,
    reason=str(netns_sandbox.missing_reason()),
)
def test_readme_example_runs_and_leaves_the_host_alone():
    code = python_example()
    # It plugs and unplugs, and says what each call makes.
    assert "os_vif.plug(port, instance)" in code
    assert "os_vif.unplug(port, instance)" in code
    checked = code + (
        "\nfrom pyroute2 import IPRoute\n"
        "with netns.fresh_netns('readme-check'):\n"
        "    os_vif.plug(port, instance)\n"
        "    with IPRoute() as ipr:\n"
        "        assert ipr.link_lookup(ifname='br-demo'), 'no bridge'\n"
        "    os_vif.unplug(port, instance)\n"
        "    with IPRoute() as ipr:\n"
        "        assert not ipr.link_lookup(ifname='br-demo'), 'left'\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", checked],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    with IPRoute() as ipr:
        assert not ipr.link_lookup(ifname="br-demo")
