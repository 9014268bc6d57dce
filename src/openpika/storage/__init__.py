"""Output files: ``FileStore.save(path) -> StoredFile``, served by the API at ``/files/{key}/{file_name}``.

Keys are unguessable (``secrets.token_urlsafe``): knowing a key is the permission to download the file,
as with fal's CDN URLs. ``open_file_store(settings)`` picks the backend (``local``: files under
``settings.data_dir / "files"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from ..settings import Settings


@dataclass(frozen=True)
class StoredFile:
    key: str
    file_name: str
    content_type: str
    size: int


class FileStore(Protocol):
    def save(
        self, src_path: Path, *, content_type: str, file_name: str, expires_at: float | None = None
    ) -> StoredFile:
        """Copy ``src_path`` in. The file becomes visible only once complete. Raises StorageError.
        ``expires_at`` (epoch seconds): ``sweep_expired`` may delete the file after that time."""
        ...

    def save_bytes(
        self, data: bytes, *, content_type: str, file_name: str, expires_at: float | None = None
    ) -> StoredFile: ...

    def get(self, key: str) -> StoredFile | None:
        """The stored file's metadata, or None for an unknown or malformed key."""
        ...

    def path_for(self, key: str) -> Path | None:
        """Local path of the stored file, or None for an unknown or malformed key."""
        ...

    def delete(self, key: str) -> None: ...

    def delete_for_job(self, job: Any) -> None:
        """Delete the files a finished job's output points at (retention purge)."""
        ...

    def sweep_expired(self, now: float) -> int:
        """Delete files whose ``expires_at`` has passed (e.g. outputs of attempts killed between storing
        and completing, which no job references); return how many."""
        ...


def key_from_url(url: str) -> str | None:
    """The storage key in an output URL ``…/files/{key}/{file_name}`` (used to delete a purged job's files)."""
    parts = unquote(urlsplit(url).path).split("/")
    for i in range(len(parts) - 2, 0, -1):
        if parts[i - 1] == "files":
            return parts[i]
    return None


def keys_in_result(result: dict[str, Any] | None) -> list[str]:
    """Keys of every File (``{"url": …}``) in a job's output."""
    keys: list[str] = []
    if not result:
        return keys
    for value in result.values():
        if isinstance(value, dict) and isinstance(value.get("url"), str):
            key = key_from_url(value["url"])
            if key:
                keys.append(key)
    return keys


def open_file_store(settings: Settings) -> FileStore:
    if settings.file_store == "local":
        from .local import LocalFileStore

        return LocalFileStore(settings.data_dir / "files")
    raise ValueError(
        f"file store {settings.file_store!r} is not implemented in this version of openpika; "
        "set OPENPIKA_FILE_STORE=local"
    )


__all__ = ["FileStore", "StoredFile", "key_from_url", "keys_in_result", "open_file_store"]
