"""Seeds from requests span all of int64 (negative too); engines must get one they can use."""

from __future__ import annotations

import numpy as np
from skimage import data

from openpika.engines.base import RunContext
from openpika.engines.classic import ClassicEngine
from openpika.engines.tasks import ImageToVideoTask, OutputSpec
from openpika.worker.prepare import SEED_RANGE, choose_seed


def test_request_seeds_are_folded_into_the_engine_range_deterministically() -> None:
    logs: list[str] = []
    for requested in (-5, 0, 7, 2**31 + 3, 2**63 - 1, -(2**63)):
        seed = choose_seed(requested, logs.append)
        assert 0 <= seed < SEED_RANGE
        assert seed == choose_seed(requested, logs.append)
    assert choose_seed(7, logs.append) == 7
    assert logs == []  # only a missing seed is logged
    assert 0 <= choose_seed(None, logs.append) < SEED_RANGE and len(logs) == 1


def test_parallax_render_accepts_seeds_beyond_a_c_int() -> None:
    # OpenCV's RNG takes a C int: a seed >= 2**31 once made subject matting fail with a 500.
    image = np.ascontiguousarray(data.astronaut()[::4, ::4])
    task = ImageToVideoTask(image, "slow dolly in", "", 2**32 - 1, OutputSpec(128, 128, 24, 3), "v2.2")
    clip = ClassicEngine().run(task, RunContext())
    frames = list(clip.frames)
    assert len(frames) == 3 and frames[0].shape == (128, 128, 3)
