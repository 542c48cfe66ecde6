"""The twin hosts, kept for the whole session.

The reference host runs every step with os-vif 5.3.0; the subject host
runs each step with the actor the scenario names (this checkout unless
said otherwise), so it has a worker of each.  Both skip (or, with
``OS_VIF_REQUIRE_ORACLE=1``, fail: see :mod:`tests.functional.oracle_530`)
where os-vif 5.3.0's virtualenv cannot be had, and skip where Open vSwitch
or network namespaces are missing.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import sys
import uuid
from collections.abc import Iterator

import pytest

from os_vif.sandbox import netns as netns_sandbox
from os_vif.sandbox import ovs as ovs_server
from tests.functional.differential import hosts, scenarios
from tests.functional.oracle_530 import OsVif530


@dataclasses.dataclass
class TwinHosts:
    """The reference host (5.3.0) and the subject host (by step)."""

    reference: hosts.Host
    subject: hosts.Host
    pool: concurrent.futures.ThreadPoolExecutor


@pytest.fixture(scope="session")
def twin_hosts(
    os_vif_530: OsVif530, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TwinHosts]:
    """Both hosts, started once; each scenario resets them."""
    reason = ovs_server.missing_reason() or netns_sandbox.missing_reason()
    if reason is not None:
        pytest.skip(reason)
    tag = "%d-%s" % (os.getpid(), uuid.uuid4().hex[:6])
    reference = hosts.Host(
        "5.3.0",
        "osvif-diff-ref-" + tag,
        str(tmp_path_factory.mktemp("diff-reference")),
        {scenarios.V530: (os_vif_530.python, False)},
    )
    subject = hosts.Host(
        "ours",
        "osvif-diff-sub-" + tag,
        str(tmp_path_factory.mktemp("diff-subject")),
        {
            scenarios.OURS: (sys.executable, True),
            scenarios.V530: (os_vif_530.python, False),
        },
    )
    started = []
    pool = concurrent.futures.ThreadPoolExecutor(2)
    try:
        for host in (reference, subject):
            started.append(host)
            host.start()
        yield TwinHosts(reference, subject, pool)
    finally:
        pool.shutdown()
        for host in started:
            host.stop()
