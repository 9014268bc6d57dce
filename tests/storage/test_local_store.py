"""LocalFileStore: the FileStore contract, key safety, atomic visibility, clear storage errors."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from openpika.errors import StorageError
from openpika.settings import Settings
from openpika.storage import key_from_url, keys_in_result, open_file_store
from openpika.storage.local import LocalFileStore, safe_file_name


@pytest.fixture
def files(tmp_path: Path) -> LocalFileStore:
    store = open_file_store(Settings(data_dir=tmp_path / "data"))
    assert isinstance(store, LocalFileStore)
    assert store.root == tmp_path / "data" / "files"
    return store


def test_save_copies_the_file_and_reports_its_metadata(files: LocalFileStore, tmp_path: Path) -> None:
    src = tmp_path / "clip.mp4"
    payload = os.urandom(50_000)
    src.write_bytes(payload)
    stored = files.save(src, content_type="video/mp4", file_name="clip.mp4")
    assert (stored.file_name, stored.content_type, stored.size) == ("clip.mp4", "video/mp4", 50_000)
    path = files.path_for(stored.key)
    assert path is not None and path.read_bytes() == payload
    assert src.exists()  # copied, not moved: the caller's temp dir cleanup stays the caller's business
    assert files.get(stored.key) == stored


def test_keys_are_unguessable_and_distinct(files: LocalFileStore) -> None:
    keys = {files.save_bytes(b"x", content_type="text/plain", file_name="a.txt").key for _ in range(50)}
    assert len(keys) == 50
    assert all(len(k) >= 20 and all(c.isalnum() or c in "-_" for c in k) for k in keys)


def test_save_bytes_and_delete(files: LocalFileStore) -> None:
    stored = files.save_bytes(b"\x89PNG...", content_type="image/png", file_name="up.png")
    assert files.path_for(stored.key) is not None
    files.delete(stored.key)
    assert files.path_for(stored.key) is None and files.get(stored.key) is None
    files.delete(stored.key)  # deleting twice is harmless


@pytest.mark.parametrize(
    "key", ["../files", "..", "", "a/b", "%2e%2e", "/etc/passwd", "x" * 200, "....................", "abc"]
)
def test_malformed_or_traversal_keys_resolve_to_nothing(files: LocalFileStore, key: str) -> None:
    assert files.path_for(key) is None
    assert files.get(key) is None
    files.delete(key)  # never deletes anything outside the store
    assert files.root.exists()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\win.ini", "win.ini"),
        (".hidden.mp4", "hidden.mp4"),
        ("my video (1).mp4", "my_video_1_.mp4"),
        ("", "file"),
        ("..", "file"),
    ],
)
def test_file_names_are_sanitised(files: LocalFileStore, given: str, expected: str) -> None:
    assert safe_file_name(given) == expected
    stored = files.save_bytes(b"data", content_type="application/octet-stream", file_name=given)
    path = files.path_for(stored.key)
    assert path is not None and path.name == expected
    assert path.parent.parent == files.root


def test_a_failed_save_leaves_nothing_visible(
    files: LocalFileStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "big.mp4"
    src.write_bytes(b"y" * 1000)

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", disk_full)
    with pytest.raises(StorageError, match="No space left on device"):
        files.save(src, content_type="video/mp4", file_name="big.mp4")
    assert list(files.root.iterdir()) == []  # no key dir and no staging leftovers


def test_unwritable_store_location_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data directory should be")
    with pytest.raises(StorageError, match="cannot create the file store directory"):
        open_file_store(Settings(data_dir=blocker))


def test_missing_source_is_a_storage_error(files: LocalFileStore, tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        files.save(tmp_path / "nope.mp4", content_type="video/mp4", file_name="nope.mp4")
    assert list(files.root.iterdir()) == []


def test_stale_staging_dirs_from_a_crash_are_swept(tmp_path: Path) -> None:
    root = tmp_path / "files"
    stale = root / ".tmp-abandoned"
    stale.mkdir(parents=True)
    (stale / "half.mp4").write_bytes(b"half")
    os.utime(stale, (0, 0))
    fresh = root / ".tmp-inflight"
    fresh.mkdir()
    LocalFileStore(root)
    assert not stale.exists() and fresh.exists()


def test_keys_can_be_recovered_from_output_urls() -> None:
    assert key_from_url("https://h:8443/files/AbC_def-1234567890xyz/out.mp4") == "AbC_def-1234567890xyz"
    assert key_from_url("http://127.0.0.1:8000/prefix/files/k3y/x.mp4") == "k3y"
    assert key_from_url("https://elsewhere.example/video.mp4") is None
    result = {"video": {"url": "http://h/files/KEY1/a.mp4", "content_type": "video/mp4"}, "seed": 3}
    assert keys_in_result(result) == ["KEY1"]
    assert keys_in_result(None) == []


def test_delete_for_job_removes_the_files_its_output_points_at(files: LocalFileStore) -> None:
    kept = files.save_bytes(b"keep", content_type="video/mp4", file_name="keep.mp4")
    gone = files.save_bytes(b"gone", content_type="video/mp4", file_name="output.mp4")

    job = SimpleNamespace(result={"video": {"url": f"https://h/files/{gone.key}/output.mp4"}})
    files.delete_for_job(job)
    assert files.path_for(gone.key) is None
    assert files.path_for(kept.key) is not None


def test_sweep_deletes_only_files_past_their_expiry(files: LocalFileStore) -> None:
    expiring = files.save_bytes(b"old", content_type="video/mp4", file_name="output.mp4", expires_at=1000.0)
    later = files.save_bytes(b"new", content_type="video/mp4", file_name="output.mp4", expires_at=5000.0)
    forever = files.save_bytes(b"upload", content_type="image/png", file_name="in.png")
    assert files.sweep_expired(now=999.0) == 0
    assert files.sweep_expired(now=1001.0) == 1
    assert files.path_for(expiring.key) is None
    assert files.path_for(later.key) is not None and files.path_for(forever.key) is not None
    assert files.sweep_expired(now=1e12) == 1
    assert files.path_for(forever.key) is not None  # no expiry: only deleted explicitly
