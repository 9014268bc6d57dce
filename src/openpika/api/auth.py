"""API keys: ``Authorization: Key <key>`` (fal's scheme; ``Bearer <key>`` is accepted too).

Each accepted key is an *owner*: a request is visible only to the key that submitted it. The owner
stored with a job is a hash of the key, never the key itself. With no keys configured every caller
is the same anonymous owner (the server then binds to loopback only; see ``cli/main.py``).
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request

from .protocol import ApiError

ANONYMOUS_OWNER = ""


def owner_for_key(key: str) -> str:
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:24]


class KeyChecker:
    def __init__(self, api_keys: list[str]) -> None:
        self._keys = [key.encode() for key in api_keys if key]

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def owner(self, request: Request) -> str:
        """The caller's owner id, or ApiError 401 in fal's shape."""
        if not self._keys:
            return ANONYMOUS_OWNER
        header = request.headers.get("authorization", "")
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() not in ("key", "bearer") or not token:
            raise ApiError(401, {"detail": "Missing credentials: send 'Authorization: Key <your key>'."})
        given = token.encode()
        # Compare against every key so timing does not reveal which prefix matched.
        matched = False
        for key in self._keys:
            matched |= hmac.compare_digest(given, key)
        if not matched:
            raise ApiError(401, {"detail": "Invalid credentials: the key is not accepted by this server."})
        return owner_for_key(token)
