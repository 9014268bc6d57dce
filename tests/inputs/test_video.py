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


@pytest.mark.parametrize(("angle", "turns"), [(90, 1), (-90, 3), (180, 2)])
def test_display_rotation_is_applied_as_players_do(tmp_path: Path, angle: int, turns: int) -> None:
    """Portrait phone videos are stored sideways with a display matrix; the frames we hand out
    must be upright. (Turn counts checked against ffmpeg's own autorotate.)"""
    source = np.zeros((32, 64, 3), dtype=np.uint8)
    source[:, :32] = (255, 0, 0)
    source[:8] = (0, 255, 0)
    path = tmp_path / "rotated.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        stream.set_display_rotation(angle)
        for _ in range(3):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(source, format="rgb24")))
        container.mux(stream.encode(None))
    frames, _ = decode_video_file(path, VideoLimits())
    expected = np.rot90(source, turns)
    assert frames.shape[1:] == expected.shape
    assert np.abs(frames[0].astype(int) - expected).mean() < 20


def test_too_long(clip: Path, tmp_path: Path) -> None:
    assert "limit is 0.5 s" in refusal(clip.read_bytes(), tmp_path, VideoLimits(max_seconds=0.5))


def test_frames_too_large(clip: Path, tmp_path: Path) -> None:
    message = refusal(clip.read_bytes(), tmp_path, VideoLimits(max_pixels_per_frame=WIDTH * HEIGHT - 1))
    assert f"{WIDTH}x{HEIGHT}" in message


def test_decoded_size_budget(clip: Path, tmp_path: Path) -> None:
    budget = VideoLimits(max_decoded_bytes=WIDTH * HEIGHT * 3 * 10)
    assert "limit here is 10" in refusal(clip.read_bytes(), tmp_path, budget)


def write_clip(path: Path, codec: str, container_format: str, size: int = 64, count: int = 6) -> None:
    with av.open(str(path), "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=24)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = size, size, "yuv420p"
        for array in moving_frames(count):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(array[:size, :size]), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def test_codec_outside_the_allow_list(tmp_path: Path) -> None:
    path = tmp_path / "ffv1.mkv"
    write_clip(path, "ffv1", "matroska", size=32, count=3)
    assert "codec 'ffv1' is not supported" in refusal(path.read_bytes(), tmp_path)


@pytest.mark.parametrize(
    ("encoder", "container_format"), [("libvpx-vp9", "webm"), ("libsvtav1", "mp4"), ("libx265", "mp4")]
)
def test_other_allowed_codecs_decode(tmp_path: Path, encoder: str, container_format: str) -> None:
    """Allowed by codec, whatever decoder FFmpeg picks (AV1 decodes with libdav1d)."""
    if encoder not in av.codecs_available:
        pytest.skip(f"this PyAV build has no {encoder} encoder")
    path = tmp_path / f"clip.{container_format}"
    write_clip(path, encoder, container_format)
    frames, fps = decode_video_file(path, VideoLimits())
    assert frames.shape == (6, 64, 64, 3) and fps == pytest.approx(24.0)


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
