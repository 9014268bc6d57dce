"""Ed25519 webhook signatures, exactly as fal signs them (fal-protocol.md §6).

Signed message: ``request_id + "\\n" + user_id + "\\n" + timestamp + "\\n" + hex(sha256(body))``;
the hex signature goes in ``X-Fal-Webhook-Signature``. Receivers verify it with a key from our JWKS
(``/.well-known/jwks.json``) instead of fal's.

The key is generated once and kept in ``data_dir / "webhook_ed25519.pem"`` (mode 0600), so receivers
can cache the JWKS across restarts. Several processes may start at once: the first one to link its
key file into place wins and the others load it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..settings import Settings

KEY_FILE_NAME = "webhook_ed25519.pem"
_cache: dict[Path, WebhookSigner] = {}
_cache_lock = threading.Lock()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_message(request_id: str, user_id: str, timestamp: str, body: bytes) -> bytes:
    return f"{request_id}\n{user_id}\n{timestamp}\n{hashlib.sha256(body).hexdigest()}".encode()


class WebhookSigner:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self.public_key: Ed25519PublicKey = private_key.public_key()
        raw = self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.x = _b64url(raw)
        # RFC 7638 thumbprint: a stable key id derived from the key itself.
        canonical = json.dumps(
            {"crv": "Ed25519", "kty": "OKP", "x": self.x}, separators=(",", ":"), sort_keys=True
        )
        self.kid = _b64url(hashlib.sha256(canonical.encode()).digest())

    def jwk(self) -> dict[str, str]:
        return {"kty": "OKP", "crv": "Ed25519", "x": self.x, "kid": self.kid, "use": "sig", "alg": "EdDSA"}

    def sign(self, request_id: str, user_id: str, timestamp: int | str, body: bytes) -> dict[str, str]:
        """The four ``X-Fal-Webhook-*`` headers for a delivery of ``body``."""
        stamp = str(int(timestamp))
        signature = self._private_key.sign(signed_message(request_id, user_id, stamp, body))
        return {
            "X-Fal-Webhook-Request-Id": request_id,
            "X-Fal-Webhook-User-Id": user_id,
            "X-Fal-Webhook-Timestamp": stamp,
            "X-Fal-Webhook-Signature": signature.hex(),
        }


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)  # atomic, and never replaces a key another process already made
        finally:
            tmp.unlink(missing_ok=True)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def signer_for(settings: Settings) -> WebhookSigner:
    path = (settings.data_dir / KEY_FILE_NAME).resolve()
    with _cache_lock:
        signer = _cache.get(path)
        if signer is None or not path.exists():
            signer = _cache[path] = WebhookSigner(load_or_create_key(path))
        return signer


def jwks(settings: Settings) -> dict[str, Any]:
    """The JWKS document receivers verify our webhook signatures with."""
    return {"keys": [signer_for(settings).jwk()]}


def sign(
    settings: Settings, request_id: str, user_id: str, timestamp: int | str, body: bytes
) -> dict[str, str]:
    return signer_for(settings).sign(request_id, user_id, timestamp, body)
