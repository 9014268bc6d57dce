"""``openpika``: serve the API, run workers, print client settings, run one request, manage models.

Every option maps onto a ``Settings`` field (environment ``OPENPIKA_*`` still applies underneath).
"""

from __future__ import annotations

import logging
import shlex
import sys
from pathlib import Path
from typing import Any, ClassVar

import click

from ..settings import Settings


def build_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with the command line's explicit values on top."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})


class LazyGroup(click.Group):
    """Subcommands that live in optional modules (``openpika models`` comes with the neural tools)."""

    lazy_commands: ClassVar[dict[str, tuple[str, str]]] = {"models": ("openpika.cli.models", "models_group")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_commands])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy_commands:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = self.lazy_commands[cmd_name]
        try:
            import importlib

            command = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as exc:
            return _unavailable(cmd_name, f"{module_name}.{attribute} could not be loaded ({exc})")
        assert isinstance(command, click.Command)
        return command


def _unavailable(name: str, why: str) -> click.Command:
    @click.command(name, help=f"(unavailable: {why})", context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def stub(args: tuple[str, ...]) -> None:
        raise click.ClickException(f"`openpika {name}` is not available in this installation: {why}")

    return stub


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """openpika: the Pika video API family, self-hosted, speaking fal's protocol."""


@cli.command()
@click.option(
    "--tls/--no-tls", default=None, help="Serve HTTPS with a local CA (generated once under DATA_DIR/tls)."
)
@click.option(
    "--tls-name", "tls_names", multiple=True, help="Extra host name or IP for the certificate (repeatable)."
)
@click.option("--host", default=None, help="Bind address (default 127.0.0.1 without API keys, else 0.0.0.0).")
@click.option("--port", type=int, default=None, help="Run port (fal.run equivalent); 0 picks a free one.")
@click.option(
    "--queue-port", type=int, default=None, help="Queue port (queue.fal.run equivalent); default PORT+1."
)
@click.option("--workers", type=int, default=None, help="In-process workers (default 1).")
@click.option("--no-worker", is_flag=True, help="Start no worker (run `openpika worker` separately).")
@click.option(
    "--data-dir", type=click.Path(path_type=Path), default=None, help="Jobs, files and certificates."
)
@click.option(
    "--engine", default=None, help="Engine for every endpoint: classic, neural, neural-with-classic-fallback."
)
@click.option("--log-level", default="info", show_default=True)
def serve(
    tls: bool | None,
    tls_names: tuple[str, ...],
    host: str | None,
    port: int | None,
    queue_port: int | None,
    workers: int | None,
    no_worker: bool,
    data_dir: Path | None,
    engine: str | None,
    log_level: str,
) -> None:
    """Serve the API on two ports (run and queue); also /run/... and /queue/... on either."""
    from ..api.server import bind_socket, bound_port, serve_forever
    from ..api.tls import ensure_certificates

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = build_settings(
        tls=tls,
        host=host,
        port=port,
        queue_port=queue_port,
        workers=0 if no_worker else workers,
        data_dir=data_dir,
        engine=engine,
    )
    bind_host = settings.resolved_host()
    run_socket = bind_socket(bind_host, settings.port)
    queue_socket = bind_socket(bind_host, settings.resolved_queue_port())
    settings = settings.model_copy(
        update={"port": bound_port(run_socket), "queue_port": bound_port(queue_socket)}
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    tls_files = ensure_certificates(settings.data_dir, tls_names) if settings.tls else None

    from ..api.app import create_app

    app = create_app(settings)
    scheme = "https" if tls_files else "http"
    shown = "localhost" if bind_host in ("127.0.0.1", "0.0.0.0", "::1", "::") else bind_host
    click.echo(
        f"openpika serving on {bind_host} ({settings.workers} in-process worker(s), engine {settings.engine})"
    )
    click.echo(f"  run   (fal.run)       {scheme}://{shown}:{settings.port}")
    click.echo(f"  queue (queue.fal.run) {scheme}://{shown}:{settings.resolved_queue_port()}")
    if tls_files:
        click.echo(f"  CA certificate        {tls_files.ca_cert}")
        hint = f"--port {settings.port} --queue-port {settings.resolved_queue_port()}"
        if data_dir is not None:
            hint += f" --data-dir {shlex.quote(str(data_dir))}"
        click.echo(f'Point fal-client here:  eval "$(openpika client-env {hint})"')
    else:
        click.echo('fal-client needs HTTPS: restart with --tls, then eval "$(openpika client-env)"')
    sys.stdout.flush()
    serve_forever(app, [run_socket, queue_socket], tls_files, log_level=log_level.lower())


@cli.command()
@click.option("--count", type=int, default=1, show_default=True, help="Worker processes to run.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None)
@click.option("--engine", default=None)
def worker(count: int, data_dir: Path | None, engine: str | None) -> None:
    """Run worker processes against the configured job store (beside `openpika serve --no-worker`)."""
    from ..worker import run_worker_processes

    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_worker_processes(build_settings(data_dir=data_dir, engine=engine), count)


@cli.command("client-env")
@click.option(
    "--port", type=int, default=None, help="The server's run port (queue port is PORT+1 unless given)."
)
@click.option("--queue-port", type=int, default=None)
@click.option("--data-dir", type=click.Path(path_type=Path), default=None)
def client_env(port: int | None, queue_port: int | None, data_dir: Path | None) -> None:
    """Print shell exports that point fal-client (Python and JS) at this server:
    eval "$(openpika client-env)"."""
    from ..api.tls import ensure_certificates

    settings = build_settings(port=port, queue_port=queue_port, data_dir=data_dir)
    ca = ensure_certificates(settings.data_dir).ca_cert
    key = settings.api_keys[0] if settings.api_keys else "openpika-local"
    exports = {
        "FAL_KEY": key,
        "FAL_RUN_HOST": f"localhost:{settings.port}",
        "FAL_QUEUE_RUN_HOST": f"localhost:{settings.resolved_queue_port()}",
        "SSL_CERT_FILE": str(ca),
        "NODE_EXTRA_CA_CERTS": str(ca),
    }
    click.echo("export " + " ".join(f"{name}={shlex.quote(value)}" for name, value in exports.items()))


@cli.command("run")
@click.argument("endpoint_id")
@click.option(
    "--image", "images", multiple=True, help="Image path or URL (repeat for pikaframes/pikascenes)."
)
@click.option("--video", default=None, help="Video path or URL (pikadditions, pikaswaps).")
@click.option("--prompt", default=None, help="Text prompt.")
@click.option(
    "--field", "fields", multiple=True, metavar="KEY=VALUE", help="Any other input field (JSON values ok)."
)
@click.option("--out", type=click.Path(path_type=Path), default=Path("video.mp4"), show_default=True)
@click.option(
    "--url",
    default=None,
    help="A running server's queue URL, e.g. https://localhost:8001. "
    "Without it an embedded server is started for this one request.",
)
@click.option("--key", default=None, help="API key (default: FAL_KEY or the first configured key).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None)
def run_command(
    endpoint_id: str,
    images: tuple[str, ...],
    video: str | None,
    prompt: str | None,
    fields: tuple[str, ...],
    out: Path,
    url: str | None,
    key: str | None,
    data_dir: Path | None,
) -> None:
    """Run one request (e.g. `openpika run fal-ai/pika/v2.2/image-to-video --image cat.png
    --prompt "slow dolly in" --out cat.mp4`) with a progress bar, and save the video."""
    from .run_command import RunRequest, run_request

    settings = build_settings(data_dir=data_dir)
    request = RunRequest(endpoint_id, list(images), video, prompt, list(fields), out)
    raise SystemExit(run_request(settings, request, url=url, key=key))


def main() -> None:
    cli(prog_name="openpika")


if __name__ == "__main__":
    main()
