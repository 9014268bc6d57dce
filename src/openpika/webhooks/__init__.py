"""Signed webhook delivery from the job store's outbox (fal-protocol.md §6).

- ``jwks(settings)``: the public key document, served at ``/.well-known/jwks.json``;
- ``sign(settings, request_id, user_id, timestamp, body)`` / ``signer_for(settings).sign(...)``: the
  ``X-Fal-Webhook-*`` headers;
- ``start_dispatcher(settings, store)``: the background deliverer (``.stop()`` on shutdown).
"""

from __future__ import annotations

from .dispatcher import WebhookDispatcher, default_backoff, start_dispatcher
from .signing import WebhookSigner, jwks, sign, signed_message, signer_for

__all__ = [
    "WebhookDispatcher",
    "WebhookSigner",
    "default_backoff",
    "jwks",
    "sign",
    "signed_message",
    "signer_for",
    "start_dispatcher",
]
