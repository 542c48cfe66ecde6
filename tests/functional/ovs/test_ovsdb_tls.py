"""The OVSDB connection over tcp: and ssl:, against a real ovsdb-server.

A private ovsdb-server and ovs-vswitchd run in a namespace of their own
with a ``ptcp:`` and a ``pssl:`` listener on loopback; the TLS files come
from CAs made by the test (:mod:`os_vif.sandbox.pki`).  The test thread
and the privsep daemon enter that namespace, so the listeners are
reachable and the plugged devices land next to ovs-vswitchd.

What is measured: the socket options of the live connection's socket, as
the kernel reports them (``getsockopt``, and ``ss`` for an armed keepalive
timer), also after ovsdb-server restarted; python-ovs's probe interval;
a VIF plugged over ssl: read back with ovs-vsctl; and how long a refused
certificate takes to be reported, and what the report says.
"""

from __future__ import annotations

import dataclasses
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pyroute2 import IPRoute

from os_vif import exception
from os_vif.internal.ovsdb import connection
from os_vif.sandbox import netns, pki, vifs
from os_vif.sandbox import ovs as ovs_server
from tests.functional.ovs import conftest, ovsdb_rows

pytestmark = [pytest.mark.functional, pytest.mark.ovs]

#: The values the documentation promises (KEEPALIVE in connection.py).
EXPECTED_KEEPALIVE = {
    (socket.SOL_SOCKET, socket.SO_KEEPALIVE): 1,
    (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE): 30,
    (socket.IPPROTO_TCP, socket.TCP_KEEPINTVL): 10,
    (socket.IPPROTO_TCP, socket.TCP_KEEPCNT): 6,
}


@dataclasses.dataclass(frozen=True)
class Pki:
    """The test's CAs and the keys they signed."""

    trusted: pki.CertificateAuthority
    other: pki.CertificateAuthority
    server: pki.KeyPair
    client: pki.KeyPair
    #: Signed by the other CA.
    stranger: pki.KeyPair

    def files(
        self, pair: pki.KeyPair | None = None, ca: str | None = None
    ) -> connection.TlsFiles:
        pair = pair or self.client
        return connection.TlsFiles(
            ssl_key_file=pair.private_key,
            ssl_cert_file=pair.certificate,
            ssl_ca_cert_file=ca or self.trusted.certificate,
        )


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    reason = pki.missing_reason()
    if reason is not None:
        pytest.skip(reason)
    directory = str(tmp_path_factory.mktemp("pki"))
    trusted = pki.make_ca(directory, "trusted-ca")
    other = pki.make_ca(directory, "other-ca")
    return Pki(
        trusted=trusted,
        other=other,
        server=trusted.issue("ovsdb-server"),
        client=trusted.issue("os-vif"),
        stranger=other.issue("stranger"),
    )


@pytest.fixture(scope="module")
def switch(
    certs: Pki, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ovs_server.OvsServer]:
    """A switch with tcp: and ssl: listeners; the test runs next to it."""
    reason = conftest._skip_reason()
    if reason is not None:
        pytest.skip(reason)
    workdir = str(tmp_path_factory.mktemp("ovs-tls"))
    tls = ovs_server.ServerTls(
        private_key=certs.server.private_key,
        certificate=certs.server.certificate,
        ca_cert=certs.trusted.certificate,
    )
    with netns.fresh_netns("osvif-tls") as ns:
        server = ovs_server.OvsServer(
            workdir, netns=ns.name, tcp=True, tls=tls
        )
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def ovs(switch: ovs_server.OvsServer) -> Iterator[ovs_server.OvsServer]:
    """The switch, emptied and with every os_vif connection closed after."""
    switch.ensure_running()
    try:
        yield switch
    finally:
        connection.close_all()
        switch.ensure_running()
        switch.delete_bridges()
        assert switch.netns is not None
        conftest.remove_test_links(switch.netns)


def _socket(api: Any) -> socket.socket:
    """The connected socket of ``api``'s IDL, found through python-ovs."""
    rpc = api.ovsdb_connection.idl._session.rpc
    assert rpc is not None, "the IDL is not connected"
    sock = rpc.stream.socket
    assert isinstance(sock, socket.socket)
    return sock


def _options(sock: socket.socket) -> dict[tuple[int, int], int]:
    return {key: sock.getsockopt(*key) for key in EXPECTED_KEEPALIVE}


def _kernel_timer(port: int) -> str:
    """``ss``'s line for the established connection to ``port``."""
    out = subprocess.run(
        ["ss", "-tnoH", "state", "established", "dport", "= :%d" % port],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.strip()


def _check_keepalive(api: Any, port: int) -> socket.socket:
    sock = _socket(api)
    assert sock.getpeername()[1] == port  # the tcp/ssl listener, not unix
    assert _options(sock) == EXPECTED_KEEPALIVE
    # The kernel armed its keepalive timer on the connection.
    line = _kernel_timer(port)
    assert "timer:(keepalive," in line, line
    # python-ovs sends no inactivity probes of its own on this session.
    idl = api.ovsdb_connection.idl
    assert idl._session.reconnect.get_probe_interval() == 0
    return sock


def test_tcp_connection_is_kept_alive(ovs: ovs_server.OvsServer) -> None:
    assert ovs.tcp_connection is not None and ovs.tcp_port is not None
    api = connection.get_api(ovs.tcp_connection, 20)
    _check_keepalive(api, ovs.tcp_port)


def test_keepalive_is_set_again_after_a_reconnection(
    ovs: ovs_server.OvsServer,
) -> None:
    assert ovs.tcp_connection is not None and ovs.tcp_port is not None
    api = connection.get_api(ovs.tcp_connection, 20)
    first = _check_keepalive(api, ovs.tcp_port)
    ovs.restart_ovsdb()
    deadline = time.monotonic() + 30
    while True:
        rpc = api.ovsdb_connection.idl._session.rpc
        if rpc is not None and rpc.stream.socket is not first:
            break
        assert time.monotonic() < deadline, "the IDL did not reconnect"
        time.sleep(0.1)
    # The new socket is only handed over once connected: wait for the
    # connection to be up before reading the kernel's view of it.
    deadline = time.monotonic() + 30
    while not _kernel_timer(ovs.tcp_port):
        assert time.monotonic() < deadline, "no established connection"
        time.sleep(0.1)
    second = _check_keepalive(api, ovs.tcp_port)
    assert second is not first
    # And the connection works: the bridge made through it is in the db.
    api.add_br("br-keepalive", datapath_type="netdev").execute(
        check_error=True
    )
    assert ovsdb_rows.row(ovs, "Bridge", "br-keepalive") is not None


def test_ssl_connection_is_kept_alive(
    ovs: ovs_server.OvsServer, certs: Pki
) -> None:
    assert ovs.ssl_connection is not None and ovs.ssl_port is not None
    api = connection.get_api(ovs.ssl_connection, 20, certs.files())
    sock = _check_keepalive(api, ovs.ssl_port)
    assert isinstance(sock, ssl.SSLSocket)
    assert sock.version() in ("TLSv1.2", "TLSv1.3")


def test_plug_over_ssl(
    ovs: ovs_server.OvsServer, certs: Pki, conf: Any
) -> None:
    from os_vif.plugins.ovs import OvsPlugin

    plugin = OvsPlugin.load("ovs")
    files = certs.files()
    conf.config(
        ovsdb_connection=ovs.ssl_connection,
        ovs_vsctl_timeout=20,
        ssl_key_file=files.ssl_key_file,
        ssl_cert_file=files.ssl_cert_file,
        ssl_ca_cert_file=files.ssl_ca_cert_file,
        group="os_vif_ovs",
    )
    vif: Any = vifs.ovs_vif()
    plugin.plug(vif, vifs.INSTANCE)
    # Through ssl: (the plugin's only connection)...
    assert list(connection._APIS) == [ovs.ssl_connection]
    assert isinstance(_socket(plugin.ovsdb.api), ssl.SSLSocket)
    # ...and read back by ovs-vsctl over the unix socket.
    assert ovsdb_rows.port_bridge(ovs, vif.vif_name) == "br-int"
    iface = ovsdb_rows.row(ovs, "Interface", vif.vif_name)
    assert iface is not None
    assert iface["external_ids"]["iface-id"] == vif.port_profile.interface_id
    plugin.unplug(vif, vifs.INSTANCE)
    assert ovsdb_rows.row(ovs, "Interface", vif.vif_name) is None


def _refused(connection_string: str, files: connection.TlsFiles) -> str:
    start = time.monotonic()
    with pytest.raises(exception.HostOperationFailed) as caught:
        connection.get_api(connection_string, 20, files)
    elapsed = time.monotonic() - start
    # One clear error, at once: not a reconnection loop until the timeout.
    assert elapsed < 5, elapsed
    assert connection._APIS == {}
    message = str(caught.value)
    assert connection_string in message
    assert "Traceback" not in message
    return message


def test_client_certificate_from_another_ca_is_refused(
    ovs: ovs_server.OvsServer, certs: Pki
) -> None:
    assert ovs.ssl_connection is not None
    files = certs.files(certs.stranger)
    message = _refused(ovs.ssl_connection, files)
    assert "refused the certificate" in message
    assert "os_vif_ovs.ssl_cert_file" in message
    assert certs.stranger.certificate in message


def test_server_certificate_from_an_untrusted_ca_is_refused(
    ovs: ovs_server.OvsServer, certs: Pki
) -> None:
    assert ovs.ssl_connection is not None
    files = certs.files(ca=certs.other.certificate)
    message = _refused(ovs.ssl_connection, files)
    assert "not signed by the CA" in message
    assert "os_vif_ovs.ssl_ca_cert_file" in message
    assert certs.other.certificate in message


def test_plug_with_a_refused_certificate_fails_at_once(
    ovs: ovs_server.OvsServer, certs: Pki, conf: Any
) -> None:
    from os_vif.plugins.ovs import OvsPlugin

    assert ovs.ssl_connection is not None
    plugin = OvsPlugin.load("ovs")
    files = certs.files(certs.stranger)
    conf.config(
        ovsdb_connection=ovs.ssl_connection,
        ovs_vsctl_timeout=20,
        ssl_key_file=files.ssl_key_file,
        ssl_cert_file=files.ssl_cert_file,
        ssl_ca_cert_file=files.ssl_ca_cert_file,
        group="os_vif_ovs",
    )
    vif = vifs.ovs_vif()
    start = time.monotonic()
    with pytest.raises(exception.ExceptionBase) as caught:
        plugin.plug(vif, vifs.INSTANCE)
    assert time.monotonic() - start < 5
    assert "refused the certificate" in str(caught.value)
    assert ovs.ssl_connection in str(caught.value)
    # Nothing was made: the OVSDB step comes first or was undone.
    assert ovsdb_rows.row(ovs, "Interface", vif.vif_name) is None
    with IPRoute() as ipr:  # the thread's namespace (sysfs is not)
        assert not ipr.link_lookup(ifname=vif.vif_name)


def test_ssl_without_its_files_is_refused_before_connecting(
    ovs: ovs_server.OvsServer, certs: Pki
) -> None:
    assert ovs.ssl_connection is not None
    files = dataclasses.replace(certs.files(), ssl_key_file=None)
    with pytest.raises(exception.InvalidArgument) as caught:
        connection.get_api(ovs.ssl_connection, 20, files)
    assert caught.value.kwargs["field"] == "os_vif_ovs.ssl_key_file"
    assert connection._APIS == {}
