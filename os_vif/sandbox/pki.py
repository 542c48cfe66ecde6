"""A throw-away certificate authority, for TLS tests and the demo.

:func:`make_ca` makes a self-signed CA and :meth:`CertificateAuthority.issue`
a key and a certificate signed by it, all as PEM files in a directory the
caller chooses (and removes).  The ``openssl`` command does the work: it is
on every machine that has Open vSwitch, while the ``cryptography`` package
may not be installed.  Keys are EC P-256: made in milliseconds, and
accepted by ovsdb-server and by Python's ``ssl`` alike.

Nothing here is fit for production: the keys are unencrypted and the
certificates live for two days.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Sequence

from os_vif.sandbox import _process

__all__ = [
    "CertificateAuthority",
    "KeyPair",
    "PkiError",
    "make_ca",
    "missing_reason",
]

#: How long the certificates are valid, in days.
_DAYS = "2"
_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")

# A leaf certificate fit for both ends of a connection.  The subject
# alternative names are there for completeness: neither python-ovs nor
# ovsdb-server checks host names, only the chain of trust.
_LEAF_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
"""


class PkiError(RuntimeError):
    """``openssl`` failed; the message quotes its output."""


def missing_reason() -> str | None:
    """Say why certificates cannot be made here, or ``None``."""
    if shutil.which("openssl") is None:
        return "the openssl command is missing (install the openssl package)"
    return None


def _openssl(argv: Sequence[str]) -> None:
    _process.run(["openssl", *argv], PkiError, "openssl")


@dataclasses.dataclass(frozen=True)
class KeyPair:
    """A private key and its certificate, as PEM file paths."""

    private_key: str
    certificate: str


@dataclasses.dataclass(frozen=True)
class CertificateAuthority:
    """A CA's key and self-signed certificate, in ``directory``."""

    directory: str
    name: str
    private_key: str
    certificate: str

    def issue(self, name: str) -> KeyPair:
        """Make a key and a certificate for ``name``, signed by this CA.

        The files are ``<name>-key.pem`` and ``<name>-cert.pem`` in the
        CA's directory.
        """
        base = os.path.join(self.directory, name)
        key, request, cert = (
            base + "-key.pem",
            base + "-req.pem",
            base + "-cert.pem",
        )
        extensions = base + "-ext.cnf"
        with open(extensions, "w", encoding="ascii") as ext:
            ext.write(_LEAF_EXTENSIONS)
        _openssl(
            [
                "req",
                "-new",
                *_KEY,
                "-keyout",
                key,
                "-out",
                request,
                "-subj",
                "/CN=" + name,
            ]
        )
        _openssl(
            [
                "x509",
                "-req",
                "-in",
                request,
                "-CA",
                self.certificate,
                "-CAkey",
                self.private_key,
                "-CAcreateserial",
                "-extfile",
                extensions,
                "-days",
                _DAYS,
                "-out",
                cert,
            ]
        )
        return KeyPair(private_key=key, certificate=cert)


def make_ca(
    directory: str, name: str = "os-vif-test-ca"
) -> CertificateAuthority:
    """Make a self-signed CA called ``name`` in ``directory``.

    Its files are ``<name>-key.pem`` and ``<name>-cert.pem``; give two CAs
    different names (or directories).
    """
    os.makedirs(directory, exist_ok=True)
    base = os.path.join(directory, name)
    key, cert = base + "-key.pem", base + "-cert.pem"
    _openssl(
        [
            "req",
            "-x509",
            *_KEY,
            "-keyout",
            key,
            "-out",
            cert,
            "-days",
            _DAYS,
            "-subj",
            "/CN=" + name,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]
    )
    return CertificateAuthority(
        directory=directory, name=name, private_key=key, certificate=cert
    )
