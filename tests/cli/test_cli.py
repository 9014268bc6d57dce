"""The openpika command line: help everywhere, client-env + the local CA, input building, `run`."""

from __future__ import annotations

import base64
import ipaddress
import shlex
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509

from openpika.cli.main import cli
from openpika.cli.run_command import RunRequest, as_url, build_input
from openpika.endpoints import get_endpoint


@pytest.mark.parametrize("command", [[], ["serve"], ["worker"], ["client-env"], ["run"], ["models"]])
def test_help_everywhere(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_models_is_listed_and_delegated_or_explained() -> None:
    assert "models" in CliRunner().invoke(cli, ["--help"]).output
    result = CliRunner().invoke(cli, ["models"])
    if Path(__file__).parents[2].joinpath("src/openpika/cli/models.py").exists():
        assert "not available" not in result.output
    else:
        assert result.exit_code != 0 and "not available" in result.output


def test_client_env_exports_and_a_ca_that_signed_the_server_certificate(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["client-env", "--port", "9443", "--data-dir", str(tmp_path)], env={"OPENPIKA_API_KEYS": "k1,k2"}
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("export ")
    exports = dict(word.split("=", 1) for word in shlex.split(result.output)[1:])
    ca_path = tmp_path.resolve() / "tls" / "ca.pem"
    assert exports == {
        "FAL_KEY": "k1",
        "FAL_RUN_HOST": "localhost:9443",
        "FAL_QUEUE_RUN_HOST": "localhost:9444",
        "SSL_CERT_FILE": str(ca_path),
        "NODE_EXTRA_CA_CERTS": str(ca_path),
    }
    ca = x509.load_pem_x509_certificate(ca_path.read_bytes())
    server = x509.load_pem_x509_certificate((tmp_path / "tls" / "server.pem").read_bytes())
    server.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert set(names.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    }
    assert (tmp_path / "tls" / "server-key.pem").stat().st_mode & 0o077 == 0, "keys are private"
    again = CliRunner().invoke(cli, ["client-env", "--data-dir", str(tmp_path)])
    assert x509.load_pem_x509_certificate(ca_path.read_bytes()) == ca, "the CA is generated once"
    assert "FAL_RUN_HOST=localhost:8000" in again.output


def test_local_files_become_data_uris(tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(b"\x89PNG\r\n")
    assert as_url(str(image)) == "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n").decode()
    assert as_url("https://example.com/a.png") == "https://example.com/a.png"


def test_inputs_go_where_each_schema_wants_them(tmp_path: Path) -> None:
    def build(
        endpoint: str, images: list[str], video: str | None = None, fields: list[str] | None = None
    ) -> dict:
        spec = get_endpoint(endpoint)
        assert spec is not None
        return build_input(spec, RunRequest(endpoint, images, video, "p", fields or [], tmp_path / "o.mp4"))

    url = "https://e.com/a.png"
    assert build("fal-ai/pika/v2.2/image-to-video", [url], fields=["duration=10", "resolution=1080p"]) == {
        "image_url": url,
        "prompt": "p",
        "duration": 10,
        "resolution": "1080p",
    }
    assert build("fal-ai/pika/v2.2/pikaframes", [url, url])["image_urls"] == [url, url]
    assert build("fal-ai/pika/v2.1/pikascenes", [url])["images"] == [{"image_url": url}]
    assert (
        build("fal-ai/pika/v2/pikadditions", [url], video="https://e.com/v.mp4")["video_url"]
        == "https://e.com/v.mp4"
    )


def test_run_with_an_embedded_server_saves_the_video(tmp_path: Path) -> None:
    from PIL import Image
    from skimage import data

    from openpika.media.probe import probe_video

    image = tmp_path / "astronaut.png"
    Image.fromarray(data.astronaut()).resize((64, 64)).save(image)
    out = tmp_path / "out" / "video.mp4"
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "fal-ai/pika/v2.2/image-to-video",
            "--image",
            str(image),
            "--prompt",
            "p",
            "--out",
            str(out),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        env={"OPENPIKA_ENGINE": "fixture:ok", "FAL_KEY": ""},
    )
    assert result.exit_code == 0, (
        f"{result.output}\n{result.exception!r}\n{traceback.format_exception(*result.exc_info) if result.exc_info else ''}"
    )
    info = probe_video(out)
    assert (info.codec, info.num_frames, info.fps) == ("h264", 120, 24)
    assert min(info.width, info.height) == 720


def test_run_reports_a_failed_request(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "fal-ai/pika/v2.2/image-to-video",
            "--image",
            "data:image/png;base64,AAAA",
            "--prompt",
            "p",
            "--out",
            str(tmp_path / "v.mp4"),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        env={"OPENPIKA_ENGINE": "fixture:ok"},
    )
    assert result.exit_code == 1
    assert "422" in result.output
    assert not (tmp_path / "v.mp4").exists()


def test_extra_tls_names_reissue_the_server_certificate_under_the_same_ca(tmp_path: Path) -> None:
    from openpika.api.tls import ensure_certificates

    first = ensure_certificates(tmp_path)
    ca_before = first.ca_cert.read_bytes()
    files = ensure_certificates(tmp_path, ("pika.lan", "192.168.1.20"))
    assert files.ca_cert.read_bytes() == ca_before
    server = x509.load_pem_x509_certificate(files.cert.read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == {"localhost", "pika.lan"}
    assert ipaddress.ip_address("192.168.1.20") in names.get_values_for_type(x509.IPAddress)
    unchanged = files.cert.read_bytes()
    ensure_certificates(tmp_path, ("pika.lan",))  # already covered: no new certificate
    assert files.cert.read_bytes() == unchanged
