"""Upload aliases: an initiated upload's ``file_url`` names an alias (``u`` + 22 URL-safe chars)
before the bytes exist; the PUT records ``data_dir/uploads/{alias}`` holding the file store's real
key. The API resolves aliases on download and the worker when a job uses an upload as input."""

from __future__ import annotations

import re
from pathlib import Path

UPLOADS_DIR = "uploads"
_ALIAS = re.compile(r"^u[A-Za-z0-9_-]{22}$")


def alias_dir(data_dir: Path) -> Path:
    return Path(data_dir) / UPLOADS_DIR


def resolve_alias(data_dir: Path, alias: str) -> str | None:
    """The real key behind an upload alias, or None if ``alias`` is not one (or not uploaded yet)."""
    if not _ALIAS.match(alias):
        return None
    try:
        return (alias_dir(data_dir) / alias).read_text().strip() or None
    except OSError:
        return None


def record_alias(data_dir: Path, alias: str, key: str) -> None:
    """Point ``alias`` at ``key`` atomically (readers see no alias or the whole key)."""
    directory = alias_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{alias}.tmp"
    tmp.write_text(key)
    tmp.replace(directory / alias)
