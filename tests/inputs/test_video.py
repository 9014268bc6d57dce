"""Untrusted videos: sniffed container, probe limits, decode in a limited child process."""

from __future__ import annotations

import base64
from pathlib import Path

import av
import numpy as np
import pytest
from skimage import data

from openpika.errors import InputError
from openpika.inputs import load_video
from openpika.media.encode import encode_mp4
from openpika.media.images import MediaRejected
from openpika.media.video_input import VideoLimits, decode_video_file
from openpika.settings import Settings

LOC = ("body", "video_url")
WIDTH, HEIGHT, FRAMES = 96, 64, 24


def moving_frames(count: int = FRAMES) -> list[np.ndarray]:
    base = data.astronaut()[:HEIGHT, :WIDTH]
    return [np.roll(base, 3 * i, axis=1) for i in range(count)]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    encode_mp4(moving_frames(), path, width=WIDTH, height=HEIGHT, fps=24)
    return path


def copy_to(tmp_path: Path, payload: bytes, name: str = "input") -> Path:
    path = tmp_path / name
    path.write_bytes(payload)
    return path


def test_decodes_frames_and_fps(clip: Path, tmp_path: Path) -> None:
    frames, fps = decode_video_file(copy_to(tmp_path, clip.read_bytes()), VideoLimits())
    assert frames.shape == (FRAMES, HEIGHT, WIDTH, 3) and frames.dtype == np.uint8
    assert fps == pytest.approx(24.0)
    assert np.abs(frames[5].astype(int) - moving_frames()[5]).mean() < 12
    frames[0, 0, 0] = 7  # engines may write into what they were given
    assert not list(tmp_path.glob("*.rgb"))  # the raw file is gone once mapped


def test_load_video_from_a_data_uri(clip: Path) -> None:
    uri = "data:video/mp4;base64," + base64.b64encode(clip.read_bytes()).decode()
    video = load_video(uri, LOC, Settings())
    assert video.num_frames == FRAMES and video.fps == pytest.approx(24.0)


def refusal(payload: bytes, tmp_path: Path, limits: VideoLimits | None = None) -> str:
    with pytest.raises(MediaRejected) as info:
        decode_video_file(copy_to(tmp_path, payload), limits or VideoLimits())
    return str(info.value)


@pytest.mark.parametrize(
    "payload",
    [
        b"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\nhttp://169.254.169.254/latest\n#EXT-X-ENDLIST\n",
        b"ffconcat version 1.0\nfile /etc/passwd\n",
        b"\x89PNG\r\n\x1a\n not a video",
        b"",
    ],
)
def test_playlists_scripts_and_non_videos_never_reach_ffmpeg(payload: bytes, tmp_path: Path) -> None:
    assert "not a supported video" in refusal(payload, tmp_path)


def test_garbage_behind_a_video_signature(tmp_path: Path) -> None:
    payload = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64
    message = refusal(payload, tmp_path)
    assert "video" in message


def test_too_long(clip: Path, tmp_path: Path) -> None:
    assert "limit is 0.5 s" in refusal(clip.read_bytes(), tmp_path, VideoLimits(max_seconds=0.5))


def test_frames_too_large(clip: Path, tmp_path: Path) -> None:
    message = refusal(clip.read_bytes(), tmp_path, VideoLimits(max_pixels_per_frame=WIDTH * HEIGHT - 1))
    assert f"{WIDTH}x{HEIGHT}" in message


def test_decoded_size_budget(clip: Path, tmp_path: Path) -> None:
    budget = VideoLimits(max_decoded_bytes=WIDTH * HEIGHT * 3 * 10)
    assert "limit here is 10" in refusal(clip.read_bytes(), tmp_path, budget)


def test_codec_outside_the_allow_list(tmp_path: Path) -> None:
    path = tmp_path / "ffv1.mkv"
    with av.open(str(path), "w", format="matroska") as container:
        stream = container.add_stream("ffv1", rate=24)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for array in moving_frames(3):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(array[:32, :32]), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    assert "codec 'ffv1' is not supported" in refusal(path.read_bytes(), tmp_path)


def test_a_hanging_decoder_costs_only_its_own_time(clip: Path, tmp_path: Path) -> None:
    assert "longer than 0.05 s" in refusal(clip.read_bytes(), tmp_path, VideoLimits(timeout_seconds=0.05))


def test_a_decoder_that_dies_is_reported_not_fatal(clip: Path, tmp_path: Path) -> None:
    # 32 MiB of address space is not enough to even start the child: it dies, we carry on.
    starved = VideoLimits(memory_bytes=32 * 1024 * 1024)
    assert "decoder stopped" in refusal(clip.read_bytes(), tmp_path, starved)
    frames, _ = decode_video_file(copy_to(tmp_path, clip.read_bytes(), "again"), VideoLimits())
    assert frames.shape[0] == FRAMES


def test_load_video_reports_the_field(tmp_path: Path) -> None:
    uri = "data:video/mp4;base64," + base64.b64encode(b"#EXTM3U\nhttp://10.0.0.1/x\n").decode()
    with pytest.raises(InputError) as info:
        load_video(uri, LOC, Settings())
    assert info.value.to_body()["detail"][0]["loc"] == ["body", "video_url"]
