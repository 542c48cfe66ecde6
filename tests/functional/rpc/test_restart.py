"""The broker restarted in the middle of a run.

A counting RPC server in this process (threads in the session's
namespace), the example's compute host and the os-vif 5.3.0 peer (their
own processes) all reconnect; the calls after the restart succeed, and no
call is executed or answered twice.  Runs last (file order): the restart
takes every queue of the session's broker with it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import kombu
import oslo_messaging
import pytest

from os_vif import serialization
from os_vif.objects import vif as vif_objects
from os_vif.sandbox import vifs
from tests.functional.rpc import conftest
from tests.unit.serialization import test_port_binding_example as unit

pytestmark = pytest.mark.functional

example = unit.load_example()
TOPIC = "os_vif_restart"


class Counter:
    target = oslo_messaging.Target(namespace="os_vif_restart", version="1.0")

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.lock = threading.Lock()

    def plug(self, ctxt: Any, vif: Any) -> str:
        assert isinstance(vif, vif_objects.VIFVHostUser)
        with self.lock:
            self.seen[vif.id] = self.seen.get(vif.id, 0) + 1
        return str(vif.id)


def vif(n: int) -> vif_objects.VIFVHostUser:
    """The VIF of call ``n``: its id tells the calls apart."""
    return vifs.vhostuser_vif(n, path="/run/vhu%d" % n)


def wait_for_consumers(url: str, queues: list[str], timeout: float = 90):
    """Until every queue exists again with a consumer on it."""
    deadline = time.monotonic() + timeout
    missing = list(queues)
    while time.monotonic() < deadline:
        missing = []
        try:
            with kombu.Connection(url, connect_timeout=2) as conn:
                channel = conn.channel()
                for queue in queues:
                    try:
                        declared = channel.queue_declare(queue, passive=True)
                    except Exception:  # noqa: BLE001 - not there yet
                        channel = conn.channel()
                        missing.append(queue)
                        continue
                    if declared.consumer_count < 1:
                        missing.append(queue)
        except OSError:
            missing = list(queues)
        if not missing:
            return
        time.sleep(0.5)
    raise AssertionError("no consumer back on %s" % missing)


def test_calls_after_a_broker_restart_succeed_once(
    rpc_env: Any, transport: Any, compute_host: str, oracle_peer: Any
) -> None:
    counter = Counter()
    url = rpc_env.broker.url.replace("rabbit://", "amqp://")
    with rpc_env.inside():
        server = oslo_messaging.get_rpc_server(
            transport, oslo_messaging.Target(topic=TOPIC, server="counter"),
            [counter],
            serializer=serialization.RPCSerializer(),
        )
        server.start()
    try:
        with rpc_env.inside():
            client = oslo_messaging.get_rpc_client(
                transport,
                oslo_messaging.Target(topic=TOPIC, server="counter",
                                      namespace="os_vif_restart",
                                      version="1.0"),
                serializer=serialization.RPCSerializer(), timeout=60)
            controller = example.Controller(transport, timeout=60)
            for n in range(1, 6):
                assert client.call({}, "plug", vif=vif(n)) == str(vif(n).id)
            assert controller.host_info(compute_host).plugin_info
            reply_q = getattr(transport._driver, "_reply_q", None)  # noqa: SLF001
        rpc_env.broker.restart()
        queues = [
            "%s.counter" % TOPIC,
            "%s.%s" % (example.TOPIC, compute_host),
            "%s.%s" % oracle_peer,
        ] + ([reply_q] if reply_q else [])
        with rpc_env.inside():
            wait_for_consumers(url, queues)
            for n in range(6, 11):
                assert client.call({}, "plug", vif=vif(n)) == str(vif(n).id)
            assert controller.host_info(compute_host).plugin_info
            peer = oslo_messaging.get_rpc_client(
                transport,
                oslo_messaging.Target(topic=oracle_peer[0],
                                      server=oracle_peer[1],
                                      namespace="os_vif_oracle",
                                      version="1.0"),
                serializer=serialization.RPCSerializer(), timeout=60)
            assert peer.call({}, "count", token="after-restart") == (
                "after-restart")
            assert peer.call({}, "seen", )["after-restart"] == 1
        # Give a duplicate delivery, if any, the time to show.
        time.sleep(1)
        assert counter.seen == {str(vif(n).id): 1 for n in range(1, 11)}
    finally:
        with rpc_env.inside():
            server.stop()
            server.wait()
    assert conftest.ORACLE_TOPIC == oracle_peer[0]
