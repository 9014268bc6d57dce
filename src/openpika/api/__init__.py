"""fal's HTTP protocol (queue, run, files, uploads, OpenAPI) over openpika's job store.

``create_app(settings)`` builds the app; ``openpika serve`` binds it to the run and queue ports.
"""

from __future__ import annotations

from .app import create_app
from .context import ApiTuning

__all__ = ["ApiTuning", "create_app"]
