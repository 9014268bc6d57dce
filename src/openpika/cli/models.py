"""``openpika models``: what neural weights are installed, what each endpoint will use, what is missing;
``openpika models pull NAME`` downloads one from the Hugging Face hub; ``openpika models make-tiny DIR``
writes tiny random-weight models (noise) to try the neural engine without weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..endpoints import ENDPOINTS
from ..engines.neural.engine import INSTALL_HINT, missing_packages
from ..engines.neural.registry import ModelRegistry, route_key
from ..settings import Settings


def _settings(models_dir: Path | None) -> Settings:
    return Settings(models_dir=models_dir) if models_dir is not None else Settings()


def _registry(settings: Settings) -> ModelRegistry:
    try:
        return ModelRegistry.load(settings.models_dir, settings.neural_config_file)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def _mark(ok: bool) -> str:
    return click.style("ok", fg="green") if ok else click.style("missing", fg="red")


def endpoint_report(settings: Settings, registry: ModelRegistry) -> list[tuple[str, str, str, list[str]]]:
    """(endpoint id, engine choice, route → model, problems) for every endpoint."""
    rows = []
    for spec in ENDPOINTS.values():
        choice = settings.engine_for(spec.endpoint_id)
        key = route_key(spec.kind, spec.turbo)
        route = registry.routes.get(key)
        if route is None:
            rows.append((spec.endpoint_id, choice, f"{key} → (no route)", [f"no neural route for {key}"]))
            continue
        problems = registry.route_problems(route)
        target = f"{key} → {route.model}"
        if spec.kind == "pikaffects":
            ready = [e for e in registry.effects if not registry.effect_problems(e)]
            target += f" + effect LoRAs ({len(ready)} of 16 effects ready: {', '.join(ready) or 'none'})"
            if not ready:  # the endpoint works once any one effect has its LoRA
                for effect in registry.effects:
                    problems += [p for p in registry.effect_problems(effect) if p not in problems]
        single = registry.routes.get("pikaframes/single-prompt")
        if spec.kind == "pikaframes" and single is not None:
            target += f" (one prompt: {single.model})"
            problems += registry.route_problems(single)
        rows.append((spec.endpoint_id, choice, target, problems))
    return rows


@click.group("models", invoke_without_command=True)
@click.option(
    "--models-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Models directory (default: OPENPIKA_MODELS_DIR or ./models).",
)
@click.pass_context
def models_group(ctx: click.Context, models_dir: Path | None) -> None:
    """List installed neural models, what each endpoint uses, and what is missing."""
    ctx.obj = _settings(models_dir)
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_models)


@models_group.command("list")
@click.pass_obj
def list_models(settings: Settings) -> None:
    """List installed models and LoRAs, and the model each endpoint will use."""
    registry = _registry(settings)
    root = settings.models_dir
    click.echo(f"Models directory: {root.resolve()}")
    if registry.config_file:
        click.echo(f"Config: {registry.config_file}")
    missing = missing_packages()
    if missing:
        click.echo(
            click.style(f"Neural packages missing ({', '.join(missing)}): {INSTALL_HINT}", fg="yellow")
        )
    click.echo("\nModels:")
    for model in registry.models.values():
        source = model.repo_id or "(no hub id)"
        click.echo(f"  {model.name:<28} {_mark(model.is_installed(root)):<16} {source}")
    click.echo("\nLoRAs:")
    for lora in registry.loras.values():
        found = lora.find_file(root)
        effects = [e for e, n in registry.effects.items() if n == lora.name]
        used = f"effect {', '.join(effects)}" if effects else "route adapter"
        click.echo(
            f"  {lora.name:<28} {_mark(found is not None):<16} trigger {lora.trigger or '-'!r}, {used}"
        )
    click.echo("\nEndpoints:")
    to_fix: dict[str, None] = {}
    for endpoint_id, choice, target, problems in endpoint_report(settings, registry):
        state = "ready" if not problems else "not ready"
        colour = (
            "green" if not problems else ("yellow" if choice == "neural-with-classic-fallback" else "red")
        )
        if choice == "classic":
            state, colour = "classic engine (neural not selected)", "white"
        click.echo(f"  {endpoint_id:<38} [{choice}] {target}: {click.style(state, fg=colour)}")
        to_fix.update(dict.fromkeys(problems))
    if to_fix:
        click.echo("\nMissing:")
        for problem in to_fix:
            click.echo(f"  - {problem}")


def _download(repo_id: str, local_dir: Path, allow_patterns: list[str] | None) -> Any:
    from huggingface_hub import snapshot_download

    return snapshot_download(repo_id, local_dir=str(local_dir), allow_patterns=allow_patterns)


@models_group.command("pull")
@click.argument("name")
@click.pass_obj
def pull(settings: Settings, name: str) -> None:
    """Download NAME (a model or LoRA listed by `openpika models`) from the Hugging Face hub."""
    registry = _registry(settings)
    if name in registry.models:
        model = registry.models[name]
        repo, target, patterns = model.repo_id, model.folder(settings.models_dir), None
    elif name in registry.loras:
        lora = registry.loras[name]
        repo, target, patterns = lora.repo_id, settings.models_dir / "loras" / name, ["*.safetensors"]
    else:
        known = ", ".join(sorted(registry.pullable()))
        raise click.ClickException(f"unknown model or LoRA {name!r}. Known: {known}")
    if not repo:
        raise click.ClickException(f"{name} has no known hub repository: copy its files to {target} by hand")
    try:
        import huggingface_hub  # noqa: F401
    except ImportError as exc:
        raise click.ClickException(f"pulling needs huggingface_hub: {INSTALL_HINT}") from exc
    click.echo(f"Downloading {repo} into {target} ...")
    try:
        _download(repo, target, patterns)
    except Exception as exc:  # network, auth, disk: all end the same way for the operator
        reason = " ".join(str(exc).split())[:300]
        raise click.ClickException(
            f"could not download {repo}: {type(exc).__name__}: {reason}\n"
            f"If this machine has no internet access, download it elsewhere "
            f"(huggingface-cli download {repo} --local-dir {target.name}) and copy the folder to {target}."
        ) from exc
    click.echo(f"Done: {name} is in {target}")


@models_group.command("make-tiny")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
def make_tiny(directory: Path) -> None:
    """Write tiny random-weight models (they generate noise) to DIRECTORY, to try the neural engine:
    OPENPIKA_ENGINE=neural OPENPIKA_MODELS_DIR=DIRECTORY openpika serve."""
    missing = missing_packages()
    if missing:
        raise click.ClickException(f"{INSTALL_HINT} (missing: {', '.join(missing)})")
    from ..engines.neural.tiny import build_tiny_models

    build_tiny_models(directory)
    click.echo(f"Tiny models written to {directory}")
