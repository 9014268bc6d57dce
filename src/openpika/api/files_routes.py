"""Files: downloads (``GET /files/{key}/{name}``, HTTP Range) and uploads mirroring fal's storage.

Downloads need no API key: the unguessable key is the permission, as with fal's CDN URLs (a video
URL must open in a browser). There is no listing route.

Uploads (see docs/protocol.md for how they map to fal's calls):
- JS / generic: ``POST /storage/upload/initiate`` ``{file_name, content_type}`` →
  ``{upload_url, file_url}``, then ``PUT upload_url`` with the bytes (no auth: the URL is the
  permission, as with fal's signed upload URLs).
- PY: ``POST /storage/auth/token`` → ``{token, token_type, base_url, expires_at}``, then
  ``POST {base_url}/files/upload`` with ``Authorization: Bearer <token>`` → ``{access_url}``.

An initiated upload's ``file_url`` must exist before the bytes do, while the file store picks keys
when it saves. So ``file_url`` names an *alias* (its own unguessable id) that is recorded, once
the PUT arrives, in ``data_dir/uploads/`` next to the real key; downloads resolve it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from ..storage.uploads import record_alias, resolve_alias
from .context import ApiContext, api_context
from .protocol import ApiError, json_response
from .submit import read_body

UPLOAD_TOKEN_SECONDS = 3600
PENDING_UPLOAD_SECONDS = 3600
_TOKEN_SECRET = secrets.token_bytes(32)  # upload tokens are valid for this process's lifetime at most


def _not_found(request: Request) -> ApiError:
    return ApiError(404, {"detail": f"Path {request.url.path} not found"})


def _alias_target(context: ApiContext, key: str) -> str | None:
    """The real key behind an upload alias, if ``key`` is one."""
    return resolve_alias(Path(context.settings.data_dir), key)


async def download(request: Request) -> Response:
    context = api_context(request)
    key, name = request.path_params["key"], request.path_params["name"]
    real_key: str | None = key
    stored = context.files.get(key)
    if stored is None:
        real_key = _alias_target(context, key)
        stored = context.files.get(real_key) if real_key else None
    path = context.files.path_for(real_key) if stored and real_key else None
    if stored is None or path is None or name != stored.file_name:
        raise _not_found(request)
    return FileResponse(
        path,
        media_type=stored.content_type,
        headers={"cache-control": "public, max-age=86400, immutable"},
        content_disposition_type="inline",
        filename=stored.file_name,
    )


# --- uploads ---------------------------------------------------------------------------------


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await read_body(request, 64 * 1024)
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ApiError(
            422, {"detail": [{"loc": ["body"], "msg": "expected a JSON object", "type": "dict_type"}]}
        )
    return data


def _file_url(request: Request, key: str, name: str) -> str:
    context = api_context(request)
    base = context.files_base(request)
    return f"{base}/files/{key}/{quote(name)}"


async def _store_upload(request: Request, content_type: str, file_name: str) -> Any:
    context = api_context(request)
    data = await read_body(request, context.settings.max_input_bytes)
    return await run_in_threadpool(
        context.files.save_bytes,
        data,
        content_type=content_type or "application/octet-stream",
        file_name=file_name,
    )


async def initiate_upload(request: Request) -> Response:
    context = api_context(request)
    owner = context.keys.owner(request)
    body = await _json_body(request)
    from ..storage.local import safe_file_name

    file_name = safe_file_name(str(body.get("file_name") or "upload.bin"))
    content_type = str(body.get("content_type") or "application/octet-stream")
    token = secrets.token_urlsafe(24)
    alias = "u" + secrets.token_urlsafe(16)[:22]
    now = time.monotonic()
    for stale in [t for t, p in context.pending_uploads.items() if p["expires"] < now]:
        context.pending_uploads.pop(stale, None)
    context.pending_uploads[token] = {
        "alias": alias,
        "file_name": file_name,
        "content_type": content_type,
        "owner": owner,
        "expires": now + PENDING_UPLOAD_SECONDS,
    }
    base = request.state.public_base.rstrip("/")
    return json_response(
        {"upload_url": f"{base}/storage/upload/put/{token}", "file_url": _file_url(request, alias, file_name)}
    )


async def put_upload(request: Request) -> Response:
    context = api_context(request)
    token = request.path_params["token"]
    pending = context.pending_uploads.get(token)
    if pending is None or pending["expires"] < time.monotonic():
        raise _not_found(request)
    content_type = request.headers.get("content-type") or pending["content_type"]
    stored = await _store_upload(request, content_type, pending["file_name"])
    context.pending_uploads.pop(token, None)
    record_alias(Path(context.settings.data_dir), pending["alias"], stored.key)
    return json_response({"file_url": _file_url(request, pending["alias"], stored.file_name)})


def _sign(payload: str) -> str:
    return hmac.new(_TOKEN_SECRET, payload.encode(), hashlib.sha256).hexdigest()


async def storage_token(request: Request) -> Response:
    """fal's CDN token call (``?storage_type=fal-cdn-v3``); the token authorises /files/upload."""
    context = api_context(request)
    owner = context.keys.owner(request)
    expires = int(time.time()) + UPLOAD_TOKEN_SECONDS
    payload = base64.urlsafe_b64encode(f"{owner}|{expires}".encode()).decode()
    return json_response(
        {
            "token": f"{payload}.{_sign(payload)}",
            "token_type": "Bearer",
            "base_url": request.state.public_base.rstrip("/"),
            # PY compares this with an aware datetime: it must carry a time zone.
            "expires_at": dt.datetime.fromtimestamp(expires, dt.UTC).isoformat(),
        }
    )


def _token_valid(token: str) -> bool:
    payload, _, signature = token.partition(".")
    if not hmac.compare_digest(_sign(payload), signature):
        return False
    try:
        expires = int(base64.urlsafe_b64decode(payload.encode()).decode().rsplit("|", 1)[1])
    except (ValueError, IndexError):
        return False
    return expires > time.time()


async def direct_upload(request: Request) -> Response:
    """fal's CDN upload: raw bytes in, ``{"access_url"}`` out. A storage token or an API key."""
    context = api_context(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if not (scheme.lower() == "bearer" and _token_valid(token.strip())):
        context.keys.owner(request)  # an API key works too; raises 401 otherwise
    from ..storage.local import safe_file_name

    file_name = safe_file_name(request.headers.get("x-fal-file-name") or "upload.bin")
    stored = await _store_upload(request, request.headers.get("content-type", ""), file_name)
    return json_response({"access_url": _file_url(request, stored.key, stored.file_name)})


ROUTES = [
    Route("/files/{key}/{name}", download, methods=["GET", "HEAD"]),
    Route("/files/upload", direct_upload, methods=["POST"]),
    Route("/storage/upload/initiate", initiate_upload, methods=["POST"]),
    Route("/storage/upload/put/{token}", put_upload, methods=["PUT"]),
    Route("/storage/auth/token", storage_token, methods=["POST"]),
]
