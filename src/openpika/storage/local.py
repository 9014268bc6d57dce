"""Files on the local disk: ``{root}/{key}/{file_name}`` plus ``{root}/{key}/.meta.json``.

A save builds the whole key directory under a hidden temporary name and renames it into place, so a
reader sees either nothing or the complete file with its metadata, never a half-written file, even if
the process is killed mid-copy.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import StorageError
from . import StoredFile, keys_in_result

_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_META = ".meta.json"
_TMP_PREFIX = ".tmp-"
STALE_TMP_SECONDS = 3600.0


def safe_file_name(file_name: str, default: str = "file") -> str:
    """A file name safe in a path and a URL: no directories, no leading dots, a small alphabet."""
    name = _UNSAFE_NAME_CHARS.sub("_", Path(file_name.replace("\\", "/")).name).lstrip(".")
    return name[:120] or default


class LocalFileStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"cannot create the file store directory {self.root}: {exc.strerror or exc}"
            ) from exc
        self._remove_stale_temporaries()

    def save(
        self, src_path: Path, *, content_type: str, file_name: str, expires_at: float | None = None
    ) -> StoredFile:
        return self._store(
            lambda dest: shutil.copyfile(src_path, dest),
            content_type=content_type,
            file_name=file_name,
            expires_at=expires_at,
        )

    def save_bytes(
        self, data: bytes, *, content_type: str, file_name: str, expires_at: float | None = None
    ) -> StoredFile:
        return self._store(
            lambda dest: dest.write_bytes(data),
            content_type=content_type,
            file_name=file_name,
            expires_at=expires_at,
        )

    def get(self, key: str) -> StoredFile | None:
        if not _KEY.match(key):
            return None
        try:
            meta = json.loads((self.root / key / _META).read_text())
            return StoredFile(key, meta["file_name"], meta["content_type"], int(meta["size"]))
        except (OSError, ValueError, KeyError):
            return None

    def path_for(self, key: str) -> Path | None:
        stored = self.get(key)
        if stored is None:
            return None
        path = self.root / key / stored.file_name
        return path if path.is_file() else None

    def delete(self, key: str) -> None:
        if _KEY.match(key):
            shutil.rmtree(self.root / key, ignore_errors=True)

    def sweep_expired(self, now: float) -> int:
        swept = 0
        for meta_path in self.root.glob(f"*/{_META}"):
            try:
                expires_at = json.loads(meta_path.read_text()).get("expires_at")
            except (OSError, ValueError):
                continue
            if expires_at is not None and expires_at < now:
                self.delete(meta_path.parent.name)
                swept += 1
        return swept

    def delete_for_job(self, job: Any) -> None:
        """Delete every output file of a job (anything with a ``result`` dict of Files)."""
        for key in keys_in_result(getattr(job, "result", None)):
            self.delete(key)

    # --- helpers -----------------------------------------------------------------------------
    def _store(
        self, write: Callable[[Path], object], *, content_type: str, file_name: str, expires_at: float | None
    ) -> StoredFile:
        key = secrets.token_urlsafe(16)
        name = safe_file_name(file_name)
        staging = self.root / f"{_TMP_PREFIX}{key}"
        try:
            staging.mkdir()
            write(staging / name)
            size = (staging / name).stat().st_size
            meta = {
                "file_name": name,
                "content_type": content_type,
                "size": size,
                "created_at": time.time(),
                "expires_at": expires_at,
            }
            (staging / _META).write_text(json.dumps(meta))
            os.rename(staging, self.root / key)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise StorageError(f"could not store {name!r} in {self.root}: {exc.strerror or exc}") from exc
        return StoredFile(key, name, content_type, size)

    def _remove_stale_temporaries(self) -> None:
        """Leftovers of a process killed mid-save; a live save is never this old."""
        cutoff = time.time() - STALE_TMP_SECONDS
        for entry in self.root.glob(f"{_TMP_PREFIX}*"):
            try:
                if entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry, ignore_errors=True)
            except OSError:
                pass
