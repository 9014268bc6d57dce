"""The one settings object. It is the only place that reads environment variables.

Every field can be set as ``OPENPIKA_<FIELD>`` (upper case), e.g. ``OPENPIKA_PORT=8443``.
Nested-looking names are flat on purpose: operators grep for them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

EngineChoice = Literal["classic", "neural", "neural-with-classic-fallback"]
# Test-only engines from ``engines/fixtures.py`` ("fixture:sleep", "fixture:crash", ...): queue, worker and
# API tests exercise every failure mode without a real engine.
FixtureEngineName = Annotated[str, StringConstraints(pattern=r"^fixture:[a-z0-9_-]+$")]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPENPIKA_", env_file=None, extra="ignore")

    # --- where things live -------------------------------------------------------------------
    data_dir: Path = Field(
        default=Path("./data"), description="Root for the job database, output files and the TLS certificate."
    )

    # --- HTTP --------------------------------------------------------------------------------
    host: str | None = Field(
        default=None,
        description="Bind address. Default: 127.0.0.1 when no API keys are configured, else 0.0.0.0.",
    )
    port: int = Field(default=8000, description="Port of the sync-run API (fal.run equivalent).")
    queue_port: int | None = Field(
        default=None, description="Port of the queue API (queue.fal.run equivalent). Default: port + 1."
    )
    public_url: str | None = Field(
        default=None,
        description="Absolute base URL callers use to reach this server (for file URLs). Default: derived from the request.",
    )
    tls: bool = Field(default=False, description="Serve HTTPS with a locally generated certificate.")
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Accepted API keys (JSON list or comma separated). Empty: no auth, loopback only.",
    )

    # --- jobs and workers --------------------------------------------------------------------
    job_store: Literal["sqlite", "memory", "redis"] = "sqlite"
    redis_url: str = "redis://localhost:6379/0"
    workers: int = Field(default=1, description="In-process workers started by `openpika serve` (0: none).")
    lease_seconds: float = Field(
        default=30.0, description="A claimed job is requeued if not renewed within this."
    )
    heartbeat_seconds: float = Field(default=5.0, description="How often a worker renews its lease.")
    max_attempts: int = Field(
        default=3, description="Attempts before a job that keeps killing workers fails."
    )
    default_start_timeout: float | None = Field(
        default=None, description="Start deadline for jobs submitted without X-Fal-Request-Timeout (seconds)."
    )
    result_ttl_seconds: float = Field(default=24 * 3600, description="How long results and files are kept.")
    sync_run_timeout: float = Field(default=3600, description="Longest a synchronous run waits for its job.")

    # --- storage -----------------------------------------------------------------------------
    file_store: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    s3_prefix: str = "openpika/"
    s3_endpoint_url: str | None = None

    # --- inputs ------------------------------------------------------------------------------
    max_input_bytes: int = Field(
        default=50 * 1024 * 1024, description="Cap for one fetched or decoded input file."
    )
    max_data_uri_chars: int = Field(
        default=70 * 1024 * 1024, description="Cap on a data: URI's encoded length."
    )
    max_image_pixels: int = Field(default=40_000_000, description="Images with more pixels are refused.")
    max_video_seconds: float = 30.0
    max_video_pixels_per_frame: int = 1920 * 1088
    fetch_timeout_seconds: float = Field(default=30.0, description="Overall deadline for fetching one URL.")
    fetch_allow_private_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names or CIDRs that may resolve to private addresses (e.g. a LAN object store). "
        "Cloud metadata addresses stay blocked.",
    )

    # --- webhooks ----------------------------------------------------------------------------
    webhook_max_attempts: int = 11
    webhook_user_id: str = "openpika"

    # --- engines -----------------------------------------------------------------------------
    engine: EngineChoice | FixtureEngineName = Field(
        default="classic", description="Engine for every endpoint unless overridden."
    )
    engine_overrides: dict[str, EngineChoice | FixtureEngineName] = Field(
        default_factory=dict,
        description='Per-endpoint engine, e.g. {"fal-ai/pika/v2.2/pikaframes": "neural"}.',
    )
    models_dir: Path = Field(
        default=Path("./models"), description="Neural weights (diffusers format) and LoRAs."
    )
    neural_device: str = Field(default="auto", description="auto, cuda, cuda:N, mps or cpu.")
    neural_dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    neural_offload: Literal["none", "model", "group", "sequential"] = "none"
    neural_vae_tiling: bool = True
    neural_config_file: Path | None = Field(
        default=None,
        description="Neural model/route config (JSON). Default: <models_dir>/openpika-models.json when present.",
    )
    neural_max_loaded_models: int = Field(
        default=1,
        ge=1,
        description="Model folders kept in memory per worker; the least recently used is dropped.",
    )
    neural_cpu_threads: int | None = Field(
        default=None,
        ge=1,
        description="torch CPU threads (torch.set_num_threads); default: torch's own choice.",
    )

    # --- media -------------------------------------------------------------------------------
    fps: int = Field(default=24, description="Output frame rate. fal's Pika endpoints deliver 24 fps.")
    x264_preset: str = "veryfast"
    x264_preset_turbo: str = "ultrafast"
    x264_crf: int = 20

    @field_validator("api_keys", "fetch_allow_private_hosts", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        """Accept a JSON list or a comma-separated string from the environment."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    def resolved_queue_port(self) -> int:
        return self.queue_port if self.queue_port is not None else self.port + 1

    def resolved_host(self) -> str:
        if self.host:
            return self.host
        return "0.0.0.0" if self.api_keys else "127.0.0.1"

    def engine_for(self, endpoint_id: str) -> EngineChoice | str:
        return self.engine_overrides.get(endpoint_id, self.engine)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings, read once. Tests build their own ``Settings(...)`` instead."""
    return Settings()
