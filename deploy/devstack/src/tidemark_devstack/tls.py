"""TLS material made at start: a private CA and the certificates it signs (PEM files).

The secured Kafka listener and a PostgreSQL started with TLS present a server certificate
for 127.0.0.1 and localhost signed by the stack's own CA; clients verify it against
`ca.pem` (Postgres sslmode=verify-full, Kafka's hostname check). A client certificate
(Kafka's SSL listener) carries the user name as its common name.

Keys are EC P-256 (fast to make, understood by OpenSSL, the JVM and PostgreSQL), written
unencrypted in PKCS#8 with mode 0600: Kafka's PEM keystore wants PKCS#8, PostgreSQL
refuses a key file others can read.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_HOSTS = ("127.0.0.1", "localhost")
VALIDITY = timedelta(days=30)


@dataclass(frozen=True)
class IssuedCertificate:
    """One certificate and its key, as files."""

    cert_file: Path  # the certificate followed by the CA's: a full chain
    key_file: Path  # PKCS#8, unencrypted, mode 0600

    @property
    def keystore_file(self) -> Path:
        """Key and chain in one file: a Kafka PEM keystore (ssl.keystore.type=PEM)."""
        return self.cert_file.with_name(self.cert_file.stem + "-keystore.pem")


class CertificateAuthority:
    """A CA made now in `folder` (ca.pem, ca.key), which issues certificates into it."""

    def __init__(self, folder: Path, name: str = "Tidemark dev stack CA") -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self._cert = (
            _builder(subject, subject, self._key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(ca=True), critical=True)
            .add_extension(_subject_key_id(self._key), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        self.cert_file = folder / "ca.pem"
        self.cert_file.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        _write_private(folder / "ca.key", _pkcs8(self._key))

    def issue_server(self, name: str, hosts: tuple[str, ...] = SERVER_HOSTS) -> IssuedCertificate:
        """A server certificate for `hosts` (IP addresses and DNS names), written as
        <name>.pem, <name>.key and <name>-keystore.pem."""
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        return self._issue(name, hosts[0], x509.SubjectAlternativeName(names),
                           ExtendedKeyUsageOID.SERVER_AUTH)  # fmt: skip

    def issue_client(self, user: str) -> IssuedCertificate:
        """A client certificate whose common name is `user` (CN=<user>)."""
        return self._issue(user, user, None, ExtendedKeyUsageOID.CLIENT_AUTH)

    def _issue(
        self, name: str, common_name: str, alt_names: x509.SubjectAlternativeName | None,
        usage: x509.ObjectIdentifier,
    ) -> IssuedCertificate:  # fmt: skip
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        builder = (
            _builder(subject, self._cert.subject, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(_subject_key_id(key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
        )
        if alt_names is not None:
            builder = builder.add_extension(alt_names, critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        chain = cert.public_bytes(serialization.Encoding.PEM) + self._cert.public_bytes(
            serialization.Encoding.PEM
        )
        issued = IssuedCertificate(self.folder / f"{name}.pem", self.folder / f"{name}.key")
        issued.cert_file.write_bytes(chain)
        _write_private(issued.key_file, _pkcs8(key))
        _write_private(issued.keystore_file, _pkcs8(key) + chain)
        return issued


def _builder(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
             ) -> x509.CertificateBuilder:  # fmt: skip
    # Real time on purpose: OpenSSL and the JVM check validity against the machine's clock,
    # never a service's test clock. A few minutes back for clocks a little apart.
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
    )


def _key_usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=not ca, key_cert_sign=ca, crl_sign=ca,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip


def _subject_key_id(key: ec.EllipticCurvePrivateKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


def _pkcs8(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, data: bytes) -> None:
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
