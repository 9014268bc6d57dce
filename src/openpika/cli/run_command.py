"""``openpika run``: build an input from files and flags, submit it through the queue protocol
(the same one fal's clients use), follow it with a progress bar, save the video.

Local paths become ``data:`` URIs, so the request needs no upload step. Without ``--url`` an
embedded server (no TLS, loopback, one worker) is started for the one request.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import httpx

from ..endpoints import EndpointSpec, get_endpoint
from ..settings import Settings

POLL_SECONDS = 0.25


@dataclass
class RunRequest:
    endpoint_id: str
    images: list[str]
    video: str | None
    prompt: str | None
    fields: list[str]
    out: Path


def as_url(path_or_url: str) -> str:
    """URLs pass through; a local file becomes a data: URI."""
    if path_or_url.lower().startswith(("http://", "https://", "data:")):
        return path_or_url
    path = Path(path_or_url).expanduser()
    if not path.is_file():
        raise click.BadParameter(f"{path_or_url} is neither a URL nor a readable file")
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode()


def parse_field(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"--field wants KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def build_input(spec: EndpointSpec, request: RunRequest) -> dict[str, Any]:
    """Put --image/--video where this endpoint's schema wants them."""
    fields = spec.input_model.model_fields
    data: dict[str, Any] = {}
    images = [as_url(image) for image in request.images]
    if images:
        if "image_urls" in fields:
            data["image_urls"] = images
        elif "images" in fields:
            data["images"] = [{"image_url": url} for url in images]
        elif "image_url" in fields and len(images) == 1:
            data["image_url"] = images[0]
        else:
            raise click.BadParameter(f"{spec.endpoint_id} takes no (or not {len(images)}) --image")
    if request.video:
        if "video_url" not in fields:
            raise click.BadParameter(f"{spec.endpoint_id} takes no --video")
        data["video_url"] = as_url(request.video)
    if request.prompt is not None:
        data["prompt"] = request.prompt
    data.update(parse_field(text) for text in request.fields)
    return data


def run_request(settings: Settings, request: RunRequest, *, url: str | None, key: str | None) -> int:
    spec = get_endpoint(request.endpoint_id)
    if spec is None:
        raise click.BadParameter(f"unknown endpoint {request.endpoint_id!r}", param_hint="ENDPOINT_ID")
    data = build_input(spec, request)
    key = (
        key or os.environ.get("FAL_KEY") or (settings.api_keys[0] if settings.api_keys else "openpika-local")
    )
    if url is not None:
        return _follow(url.rstrip("/"), key, spec, data, request.out, _verify(settings))
    return _with_embedded_server(settings, lambda base: _follow(base, key, spec, data, request.out, True))


def _verify(settings: Settings) -> Any:
    """Trust SSL_CERT_FILE if set (client-env sets it), else the local CA if there is one."""
    if os.environ.get("SSL_CERT_FILE"):
        return True
    from ..api.tls import tls_files

    ca = tls_files(settings.data_dir).ca_cert
    if ca.exists():
        import ssl

        return ssl.create_default_context(cafile=str(ca))
    return True


def _with_embedded_server(settings: Settings, follow: Any) -> int:
    from ..api.app import create_app
    from ..api.server import bind_socket, bound_port, serve_in_thread

    run_socket = bind_socket("127.0.0.1", 0)
    queue_socket = bind_socket("127.0.0.1", 0)
    settings = settings.model_copy(
        update={
            "port": bound_port(run_socket),
            "queue_port": bound_port(queue_socket),
            "workers": max(1, settings.workers),
        }
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    server = serve_in_thread(create_app(settings), [run_socket, queue_socket])
    try:
        return int(follow(f"http://127.0.0.1:{settings.resolved_queue_port()}"))
    finally:
        server.stop()


def _follow(base: str, key: str, spec: EndpointSpec, data: dict[str, Any], out: Path, verify: Any) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    headers = {"Authorization": f"Key {key}"}
    with httpx.Client(headers=headers, verify=verify, timeout=httpx.Timeout(120, connect=30)) as client:
        submitted = client.post(f"{base}/{spec.endpoint_id}", json=data)
        if submitted.status_code != 200:
            console.print(f"[red]submit failed ({submitted.status_code}):[/red] {submitted.text}")
            return 1
        handle = submitted.json()
        console.print(f"request {handle['request_id']}")
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            bar = progress.add_task("queued", total=1.0)
            seen_logs = 0
            while True:
                status = client.get(handle["status_url"], params={"logs": "1"}).json()
                logs = status.get("logs") or []
                for entry in logs[seen_logs:]:
                    progress.console.print(f"[dim]{entry.get('level', '')}[/dim] {entry.get('message', '')}")
                seen_logs = len(logs)
                state = status["status"]
                if state == "IN_QUEUE":
                    progress.update(bar, description=f"queued (position {status.get('queue_position', 0)})")
                elif state == "IN_PROGRESS":
                    progress.update(
                        bar, description="rendering", completed=float(status.get("progress") or 0)
                    )
                else:
                    progress.update(bar, description="done", completed=1.0)
                    break
                time.sleep(POLL_SECONDS)
        result = client.get(handle["response_url"])
        if result.status_code != 200:
            console.print(f"[red]request failed ({result.status_code}):[/red] {result.text}")
            return 1
        video_url = result.json()["video"]["url"]
        out.parent.mkdir(parents=True, exist_ok=True)
        with client.stream("GET", video_url) as download, open(out, "wb") as fh:
            download.raise_for_status()
            for chunk in download.iter_bytes():
                fh.write(chunk)
    console.print(f"saved {out} ({out.stat().st_size} bytes)")
    return 0
