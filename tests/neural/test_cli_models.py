"""``openpika models``: listing, and pulling that fails cleanly without internet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from openpika.cli import models as models_cli
from openpika.cli.models import models_group

pytestmark = pytest.mark.neural


def run(*args: str) -> Any:
    return CliRunner().invoke(models_group, list(args), catch_exceptions=False)


def test_list_shows_models_loras_and_each_endpoint(
    tiny_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENPIKA_ENGINE", "neural")
    result = run("--models-dir", str(tiny_models))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.split()[:2] == ["wan2.2-ti2v-5b", "ok"] for line in lines)
    assert any(line.split()[:2] == ["explode", "missing"] for line in lines)  # no tiny file for it
    endpoints = [line for line in lines if line.strip().startswith("fal-ai/pika/")]
    assert len(endpoints) == 12 and all(line.endswith("ready") for line in endpoints), endpoints
    assert any("v1.5/pikaffects" in line and "Squish" in line for line in endpoints)


def test_list_on_an_empty_directory_says_what_to_pull(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENPIKA_ENGINE", "neural-with-classic-fallback")
    result = run("--models-dir", str(tmp_path), "list")
    assert result.exit_code == 0
    assert "not ready" in result.output and "Missing:" in result.output
    assert (
        "openpika models pull wan2.1-flf2v" in result.output
        and "openpika models pull squish" in result.output
    )


def test_pull_without_internet_fails_with_a_message_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub_errors = pytest.importorskip("huggingface_hub.errors")  # part of the [neural] extra
    LocalEntryNotFoundError = hub_errors.LocalEntryNotFoundError

    calls = []

    def offline(repo_id: str, local_dir: Path, allow_patterns: list[str] | None) -> None:
        calls.append((repo_id, local_dir, allow_patterns))
        raise LocalEntryNotFoundError("Got: ConnectError: [Errno -2] Name or service not known")

    monkeypatch.setattr(models_cli, "_download", offline)
    result = CliRunner().invoke(models_group, ["--models-dir", str(tmp_path), "pull", "squish"])
    assert result.exit_code == 1 and result.exception is not None and isinstance(result.exception, SystemExit)
    assert "could not download Remade-AI/Squish" in result.output and "Traceback" not in result.output
    assert calls == [("Remade-AI/Squish", tmp_path / "loras" / "squish", ["*.safetensors"])]


def test_pull_routes_models_to_their_folder_and_refuses_unknown_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    monkeypatch.setattr(
        models_cli, "_download", lambda repo, target, patterns: calls.append((repo, target, patterns))
    )
    assert run("--models-dir", str(tmp_path), "pull", "wan2.1-vace").exit_code == 0
    assert calls == [("Wan-AI/Wan2.1-VACE-14B-diffusers", tmp_path / "wan2.1-vace", None)]
    unknown = CliRunner().invoke(models_group, ["--models-dir", str(tmp_path), "pull", "wan9"])
    assert (
        unknown.exit_code == 1
        and "unknown model or LoRA 'wan9'" in unknown.output
        and "wan2.2-ti2v-5b" in unknown.output
    )
    no_hub = CliRunner().invoke(models_group, ["--models-dir", str(tmp_path), "pull", "explode"])
    assert no_hub.exit_code == 1 and "no known hub repository" in no_hub.output
