"""HTTPS through the pinned connection: SNI and the certificate check use the URL's host name."""

from __future__ import annotations

import datetime
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from openpika.inputs.fetch import FetchFailed, GuardConfig, get_bytes

from .conftest import PUBLIC_IP, FakeDns
from .servers import body, serve


def _certificate(tmp: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path, list[str | None]]]:
    cert_path, key_path = _certificate(tmp_path, "files.example")
    names: list[str | None] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    with serve({"/a": body(b"secure")}) as server:
        server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
        yield server.port, cert_path, names


def test_https_keeps_sni_and_verifies_the_certificate(fake_dns: FakeDns, tls_server: tuple) -> None:
    port, cert_path, names = tls_server
    fake_dns.table["files.example"] = [PUBLIC_IP]
    fake_dns.table["other.example"] = [PUBLIC_IP]
    trusting = ssl.create_default_context(cafile=str(cert_path))
    config = GuardConfig(ssl_context=trusting, timeout_seconds=5)
    assert get_bytes(f"https://files.example:{port}/a", config) == b"secure"
    assert names[-1] == "files.example"
    # Same address, another name: the certificate does not match, so the fetch fails.
    with pytest.raises(FetchFailed):
        get_bytes(f"https://other.example:{port}/a", config)
