"""The OVSDB connection's TLS options, error mapping and keepalive.

No host access: nothing connects (the connection attempts are replaced by
stand-ins that fail the test if reached), python-ovs's process-wide TLS
settings are restored after each test, and the PEM files are written to
the test's temporary directory from the constants below (made once with
:mod:`os_vif.sandbox.pki`; their dates do not matter, loading a file does
not check them).
"""

from __future__ import annotations

import dataclasses
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest
from oslo_config import cfg
from ovs import stream as ovs_stream
from ovs.db import idl as ovs_idl

from os_vif import exception
from os_vif.internal.ovsdb import connection
from os_vif.plugins.ovs import options

CA_CERT = """-----BEGIN CERTIFICATE-----
MIIBiTCCAS+gAwIBAgIUXpRCG9hrExlySlFH0Cdu9hMI2TYwCgYIKoZIzj0EAwIw
EjEQMA4GA1UEAwwHdW5pdC1jYTAeFw0yNjEyMDYyMDIzMDZaFw0yNjEyMDgyMDIz
MDZaMBIxEDAOBgNVBAMMB3VuaXQtY2EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
AARpzzqztWyfDA+07Jzv/bdKf7VXY0qvce6B+0Du0uOSlgdARnfXrcGhIYqHlqM9
n5Dvlp/BCuCiSecX6fOlXHARo2MwYTAdBgNVHQ4EFgQU8Px9nr0IYS47GPJbr+9S
te8KktowHwYDVR0jBBgwFoAU8Px9nr0IYS47GPJbr+9Ste8KktowDwYDVR0TAQH/
BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZIzj0EAwIDSAAwRQIgcizZwpjZ
I+QhC+rKKhT8KWKE27O10uCxQP3fBOyqM5ECIQC+5D2M3q6LgAwdd69ZUR10E9+M
8nRB6G3Vzg/2ZgFBDA==
-----END CERTIFICATE-----
"""
CLIENT_KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgshMIUzQylOaejyya
qV417mnZ3uu43+1prcwU305Wb26hRANCAARLIGP/d9670Jhdj+ZAIruP2PrHLyZJ
HWlt/fGioXsEZY7rqmhMJQmN2OIncrvcKzYVFAKfiAzgPHu8VKkP5L10
-----END PRIVATE KEY-----
"""
CLIENT_CERT = """-----BEGIN CERTIFICATE-----
MIIB2jCCAX+gAwIBAgIUVP2StdiGy/nTYx66elaJccxcwHswCgYIKoZIzj0EAwIw
EjEQMA4GA1UEAwwHdW5pdC1jYTAeFw0yNjEyMDYyMDIzMDZaFw0yNjEyMDgyMDIz
MDZaMBYxFDASBgNVBAMMC3VuaXQtY2xpZW50MFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAESyBj/3feu9CYXY/mQCK7j9j6xy8mSR1pbf3xoqF7BGWO66poTCUJjdji
J3K73Cs2FRQCn4gM4Dx7vFSpD+S9dKOBrjCBqzAMBgNVHRMBAf8EAjAAMA4GA1Ud
DwEB/wQEAwIFoDAdBgNVHSUEFjAUBggrBgEFBQcDAQYIKwYBBQUHAwIwHQYDVR0O
BBYEFE0u9OEpUtt8YHoka6rZm4RVE7kCMB8GA1UdIwQYMBaAFPD8fZ69CGEuOxjy
W6/vUrXvCpLaMCwGA1UdEQQlMCOHBH8AAAGHEAAAAAAAAAAAAAAAAAAAAAGCCWxv
Y2FsaG9zdDAKBggqhkjOPQQDAgNJADBGAiEAv922hwYVeToL5c2d5Fx1Wd4DYFDU
lbeEzB25yx840psCIQCkzWlajSfgfHIIRFQZhMRQhgBJtlapH3VqGebDU9Fsvg==
-----END CERTIFICATE-----
"""
#: A key that does not match CLIENT_CERT.
OTHER_KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgqJDgds9AQYygdsAa
GaKXl/ocRMc1h8EqZLGWYzj3EFGhRANCAASijhqwS3/7KvXXhcwxvwCYl4lVc/za
KP5t1wabKwilZxb+Ii0qdLRJF5Shyf4PX5cdGxt/Mwm1WX5bvawEIvo0
-----END PRIVATE KEY-----
"""

SSL = "ssl:192.0.2.1:6640"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail on any connection attempt; keep python-ovs's settings."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a unit test tried to connect")

    monkeypatch.setattr(connection.socket, "create_connection", refuse)
    monkeypatch.setattr(connection.idlutils, "get_schema_helper", refuse)
    for name in connection._PYTHON_OVS_TLS:
        monkeypatch.setattr(ovs_stream.Stream, name, None)
    monkeypatch.setattr(connection, "_tls_given", None)
    monkeypatch.setattr(connection, "_APIS", {})


@pytest.fixture
def files(tmp_path: Path) -> connection.TlsFiles:
    paths = {}
    for name, text in (
        ("key.pem", CLIENT_KEY),
        ("cert.pem", CLIENT_CERT),
        ("ca.pem", CA_CERT),
        ("other-key.pem", OTHER_KEY),
        ("garbage.pem", "not a certificate\n"),
    ):
        (tmp_path / name).write_text(text)
        paths[name] = str(tmp_path / name)
    return connection.TlsFiles(
        ssl_key_file=paths["key.pem"],
        ssl_cert_file=paths["cert.pem"],
        ssl_ca_cert_file=paths["ca.pem"],
    )


def _invalid(connection_string: str, tls: connection.TlsFiles) -> Any:
    with pytest.raises(exception.InvalidArgument) as caught:
        connection.tls_context(connection_string, tls)
    return caught.value


# -- the options --------------------------------------------------------------


def test_the_options_are_declared_for_the_ovs_plugin() -> None:
    declared = {opt.name: opt for opt in options.OPTS}
    for name in connection.TLS_OPTIONS:
        assert isinstance(declared[name], cfg.StrOpt)
        assert declared[name].default is None


def test_files_are_read_from_the_plugin_config() -> None:
    conf = cfg.ConfigOpts()
    conf.register_opts(list(options.OPTS), group="os_vif_ovs")
    conf([])
    conf.set_override("ssl_key_file", "/k", group="os_vif_ovs")
    conf.set_override("ssl_cert_file", "/c", group="os_vif_ovs")
    conf.set_override("ssl_ca_cert_file", "/a", group="os_vif_ovs")
    tls = connection.TlsFiles.from_config(conf.os_vif_ovs)
    assert tls.files == ("/k", "/c", "/a")
    assert tls.option("ssl_key_file") == "os_vif_ovs.ssl_key_file"


def test_a_group_without_the_options_has_no_files() -> None:
    class Config:
        ovsdb_connection = SSL

    tls = connection.TlsFiles.from_config(Config(), group="os_vif_offload")
    assert tls.files == (None, None, None)
    error = _invalid(SSL, tls)
    assert error.kwargs["field"] == "os_vif_offload.ssl_key_file"


# -- checking the files -------------------------------------------------------


@pytest.mark.parametrize(
    "connection_string",
    ["tcp:127.0.0.1:6640", "unix:/run/openvswitch/db.sock"],
)
def test_no_files_needed_without_ssl(connection_string: str) -> None:
    assert (
        connection.tls_context(connection_string, connection.TlsFiles())
        is None
    )


@pytest.mark.parametrize("missing", connection.TLS_OPTIONS)
def test_each_missing_option_is_named(
    files: connection.TlsFiles, missing: str
) -> None:
    unset: dict[str, Any] = {missing: None}
    tls = dataclasses.replace(files, **unset)
    error = _invalid(SSL, tls)
    assert error.kwargs["field"] == "os_vif_ovs." + missing
    assert SSL in str(error)


def test_every_missing_option_is_listed() -> None:
    error = _invalid(SSL, connection.TlsFiles())
    assert error.kwargs["field"] == "os_vif_ovs.ssl_key_file"
    assert "unset: ssl_key_file, ssl_cert_file, ssl_ca_cert_file" in str(error)


def test_an_ssl_remote_among_others_needs_the_files() -> None:
    error = _invalid("tcp:192.0.2.2:6640," + SSL, connection.TlsFiles())
    assert error.kwargs["field"] == "os_vif_ovs.ssl_key_file"


def test_an_unreadable_file_is_named(
    files: connection.TlsFiles, tmp_path: Path
) -> None:
    missing = str(tmp_path / "nowhere.pem")
    tls = connection.TlsFiles(files.ssl_key_file, files.ssl_cert_file, missing)
    error = _invalid(SSL, tls)
    assert error.kwargs["field"] == "os_vif_ovs.ssl_ca_cert_file"
    assert error.kwargs["value"] == missing
    assert "cannot be read" in str(error)


def test_a_ca_file_that_is_no_certificate_is_named(
    files: connection.TlsFiles, tmp_path: Path
) -> None:
    garbage = str(tmp_path / "garbage.pem")
    tls = connection.TlsFiles(files.ssl_key_file, files.ssl_cert_file, garbage)
    error = _invalid(SSL, tls)
    assert error.kwargs["field"] == "os_vif_ovs.ssl_ca_cert_file"


def test_a_key_that_does_not_match_the_certificate_is_named(
    files: connection.TlsFiles, tmp_path: Path
) -> None:
    tls = connection.TlsFiles(
        str(tmp_path / "other-key.pem"),
        files.ssl_cert_file,
        files.ssl_ca_cert_file,
    )
    error = _invalid(SSL, tls)
    assert error.kwargs["field"] == "os_vif_ovs.ssl_cert_file"
    assert "os_vif_ovs.ssl_key_file" in str(error)


def test_good_files_give_python_ovs_s_settings(
    files: connection.TlsFiles,
) -> None:
    context = connection.tls_context(SSL, files)
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is False
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2


def test_get_api_refuses_missing_files_before_connecting() -> None:
    # no_network fails the test on any connection attempt.
    with pytest.raises(exception.InvalidArgument):
        connection.get_api(SSL, 5, connection.TlsFiles())
    with pytest.raises(exception.InvalidArgument):
        connection.get_api(SSL, 5)


# -- the handshake's failures, in words ---------------------------------------


def _ssl_error(cls: type[ssl.SSLError], reason: str) -> ssl.SSLError:
    err = cls(1, "[SSL: %s] %s" % (reason, reason.lower()))
    err.reason = reason
    return err


def test_untrusted_server_names_the_ca_option(
    files: connection.TlsFiles,
) -> None:
    err = ssl.SSLCertVerificationError(1, "certificate verify failed")
    err.verify_message = "self-signed certificate in certificate chain"
    text = connection.tls_failure(err, files)
    assert "not signed by the CA in os_vif_ovs.ssl_ca_cert_file" in text
    assert str(files.ssl_ca_cert_file) in text
    assert "self-signed certificate in certificate chain" in text


@pytest.mark.parametrize(
    "reason",
    [
        "TLSV1_ALERT_UNKNOWN_CA",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "TLSV13_ALERT_CERTIFICATE_REQUIRED",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
    ],
)
def test_refusal_alerts_name_the_certificate_option(
    files: connection.TlsFiles, reason: str
) -> None:
    text = connection.tls_failure(_ssl_error(ssl.SSLError, reason), files)
    assert "refused the certificate in os_vif_ovs.ssl_cert_file" in text
    assert str(files.ssl_cert_file) in text
    assert reason in text


@pytest.mark.parametrize(
    "err",
    [
        ssl.SSLEOFError(8, "EOF occurred in violation of protocol"),
        ssl.SSLZeroReturnError(6, "TLS/SSL connection has been closed"),
        ConnectionResetError(104, "Connection reset by peer"),
        EOFError("closed by the server"),
    ],
)
def test_a_silent_close_is_a_refused_certificate(
    files: connection.TlsFiles, err: BaseException
) -> None:
    # ovsdb-server closes a TLS 1.3 connection whose client certificate
    # it does not trust, without an alert.
    text = connection.tls_failure(err, files)
    assert "closed during the TLS handshake or right after it" in text
    assert "os_vif_ovs.ssl_cert_file" in text


def test_other_alerts_are_not_blamed_on_the_certificate(
    files: connection.TlsFiles,
) -> None:
    err = _ssl_error(ssl.SSLError, "TLSV1_ALERT_PROTOCOL_VERSION")
    text = connection.tls_failure(err, files)
    assert "ssl_cert_file" not in text
    assert "TLSV1_ALERT_PROTOCOL_VERSION" in text


def test_unreachable_server(files: connection.TlsFiles) -> None:
    err = ConnectionRefusedError(111, "Connection refused")
    assert connection.tls_failure(err, files) == (
        "ConnectionRefusedError: [Errno 111] Connection refused"
    )
    timeout = connection.tls_failure(TimeoutError("timed out"), files)
    assert timeout == "no answer to the TLS handshake: timed out"


def test_a_refused_handshake_is_one_error_naming_the_connection(
    files: connection.TlsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    tried = []

    def fail(remote: str, *args: Any) -> str:
        tried.append(remote)
        return "refused"

    monkeypatch.setattr(connection, "_try_tls", fail)
    both = SSL + ",ssl:192.0.2.3:6640"
    with pytest.raises(exception.HostOperationFailed) as caught:
        connection.get_api(both, 5, files)
    assert tried == [SSL, "ssl:192.0.2.3:6640"]
    assert str(caught.value) == (
        "Host operation TLS connection to ovsdb-server on %s failed: "
        "%s: refused; ssl:192.0.2.3:6640: refused" % (both, SSL)
    )
    # Nothing given to python-ovs, nothing kept.
    assert ovs_stream.Stream._SSL_private_key_file is None
    assert connection._APIS == {}


def test_one_answering_remote_is_enough(
    files: connection.TlsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = {SSL: "refused", "ssl:192.0.2.3:6640": None}
    monkeypatch.setattr(
        connection, "_try_tls", lambda remote, *args: answers[remote]
    )

    class Stop(Exception):
        pass

    def schema(*args: Any) -> Any:
        raise Stop()

    monkeypatch.setattr(connection.idlutils, "get_schema_helper", schema)
    with pytest.raises(exception.HostOperationFailed) as caught:
        connection.get_api(SSL + ",ssl:192.0.2.3:6640", 5, files)
    assert isinstance(caught.value.__cause__, Stop)  # got to the schema
    assert (
        ovs_stream.Stream._SSL_private_key_file,
        ovs_stream.Stream._SSL_certificate_file,
        ovs_stream.Stream._SSL_ca_cert_file,
    ) == files.files


# -- python-ovs's process-wide TLS settings -----------------------------------


def _set_python_ovs(values: tuple[str | None, ...]) -> None:
    for name, value in zip(connection._PYTHON_OVS_TLS, values, strict=True):
        setattr(ovs_stream.Stream, name, value)


def test_unset_or_equal_settings_are_fine(files: connection.TlsFiles) -> None:
    connection._check_python_ovs_tls(files)
    _set_python_ovs(files.files)
    connection._check_python_ovs_tls(files)


def test_settings_of_another_library_are_not_changed(
    files: connection.TlsFiles,
) -> None:
    _set_python_ovs(("/theirs/key", "/theirs/cert", "/theirs/ca"))
    with pytest.raises(exception.InvalidArgument) as caught:
        connection._check_python_ovs_tls(files)
    assert "another library" in str(caught.value)
    assert "/theirs/cert" in str(caught.value)


def test_our_own_unused_settings_may_change(
    files: connection.TlsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = ("/old/key", "/old/cert", "/old/ca")
    _set_python_ovs(old)
    monkeypatch.setattr(connection, "_tls_given", old)
    connection._check_python_ovs_tls(files)  # no connection uses them
    monkeypatch.setitem(connection._APIS, "ssl:192.0.2.9:6640", object())
    with pytest.raises(exception.InvalidArgument) as caught:
        connection._check_python_ovs_tls(files)
    assert "another os_vif connection" in str(caught.value)


# -- keepalive ----------------------------------------------------------------


def test_keepalive_options_on_a_tcp_socket() -> None:
    # A socket that is never connected: setsockopt is all this reads.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        connection._keep_alive(sock)
        got = {key: sock.getsockopt(*key) for key in connection.KEEPALIVE}
    assert got == {
        (socket.SOL_SOCKET, socket.SO_KEEPALIVE): 1,
        (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE): 30,
        (socket.IPPROTO_TCP, socket.TCP_KEEPINTVL): 10,
        (socket.IPPROTO_TCP, socket.TCP_KEEPCNT): 6,
    }


def test_no_keepalive_on_unix_sockets_nor_closed_ones() -> None:
    left, right = socket.socketpair()
    with left, right:
        connection._keep_alive(left)
        assert not left.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
    closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    closed.close()
    connection._keep_alive(closed)  # logged, not raised


class _Stream:
    def __init__(self, sock: Any) -> None:
        self.socket = sock


class _Session:
    def __init__(self) -> None:
        self.rpc: Any = None
        self.stream: Any = None


class _Rpc:
    def __init__(self, sock: Any) -> None:
        self.stream = _Stream(sock)


def test_live_socket_follows_the_session() -> None:
    class Idl:
        _session = _Session()

    idl = Idl()
    assert connection.live_socket(idl) is None
    with socket.socket() as connecting, socket.socket() as connected:
        idl._session.stream = _Stream(connecting)
        assert connection.live_socket(idl) is connecting
        idl._session.stream = None
        idl._session.rpc = _Rpc(connected)
        assert connection.live_socket(idl) is connected
    assert connection.live_socket(object()) is None


def test_run_keeps_each_new_socket_alive_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ovs_idl.Idl, "run", lambda self: True)
    kept: list[Any] = []
    monkeypatch.setattr(connection, "_keep_alive", kept.append)
    idl = object.__new__(connection._WatchedIdl)
    idl._keepalive_socket = None
    idl._session = _Session()
    with socket.socket() as first, socket.socket() as second:
        assert idl.run() is True  # no socket yet
        idl._session.stream = _Stream(first)
        idl.run()
        idl._session.stream = None
        idl._session.rpc = _Rpc(first)  # the same socket, now connected
        idl.run()
        idl._session.rpc = _Rpc(second)  # a reconnection
        idl.run()
        idl.run()
        assert kept == [first, second]
