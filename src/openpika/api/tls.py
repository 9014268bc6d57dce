"""A local certificate authority and a server certificate for ``openpika serve --tls``.

fal's clients hard-code ``https://``, so a self-hosted server must speak TLS. The CA is generated
once under ``data_dir/tls/``; clients trust it through ``SSL_CERT_FILE`` (Python/httpx) or
``NODE_EXTRA_CA_CERTS`` (Node). The server certificate covers localhost, 127.0.0.1 and ::1 and is
re-issued when it nears expiry. Extensions follow what Python 3.13's strict X.509 checks require
(key identifiers, critical basic constraints, key usage).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
SERVER_DAYS = 397
RENEW_BEFORE = dt.timedelta(days=30)
SERVER_NAMES = ("localhost",)
SERVER_IPS = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    ca_key: Path
    cert: Path
    key: Path


def tls_files(data_dir: Path) -> TlsFiles:
    tls_dir = Path(data_dir).resolve() / "tls"
    return TlsFiles(
        tls_dir / "ca.pem", tls_dir / "ca-key.pem", tls_dir / "server.pem", tls_dir / "server-key.pem"
    )


def ensure_certificates(data_dir: Path, extra_names: tuple[str, ...] = ()) -> TlsFiles:
    """Create the CA (once) and a valid server certificate; return their paths. ``extra_names``
    (host names or IP addresses, e.g. a LAN name) are added to the certificate beside localhost."""
    files = tls_files(data_dir)
    files.ca_cert.parent.mkdir(parents=True, exist_ok=True)
    if not (files.ca_cert.exists() and files.ca_key.exists()):
        ca_key = ec.generate_private_key(ec.SECP256R1())
        _write_key(files.ca_key, ca_key)
        _write_cert(files.ca_cert, _ca_certificate(ca_key))
    names = _subject_names(extra_names)
    if _needs_server_certificate(files, names):
        ca_key_loaded = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
        assert isinstance(ca_key_loaded, ec.EllipticCurvePrivateKey)
        ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
        server_key = ec.generate_private_key(ec.SECP256R1())
        _write_key(files.key, server_key)
        _write_cert(files.cert, _server_certificate(server_key, ca_key_loaded, ca_cert, names))
    return files


def _subject_names(extra_names: tuple[str, ...]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for name in (*SERVER_NAMES, *SERVER_IPS, *extra_names):
        try:
            entry: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(name))
        except ValueError:
            entry = x509.DNSName(name)
        if entry not in names:
            names.append(entry)
    return names


def _needs_server_certificate(files: TlsFiles, names: list[x509.GeneralName]) -> bool:
    if not (files.cert.exists() and files.key.exists()):
        return True
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    covered = list(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    expires = cert.not_valid_after_utc
    return (
        cert.issuer != ca_cert.subject
        or any(name not in covered for name in names)
        or expires - dt.datetime.now(dt.UTC) < RENEW_BEFORE
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(tmp, path)


def _ca_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "openpika local CA"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"openpika local CA {os.urandom(4).hex()}"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _server_certificate(
    key: ec.EllipticCurvePrivateKey,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    alt_names: list[x509.GeneralName],
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
