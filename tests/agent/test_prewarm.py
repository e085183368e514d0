"""The worker's prewarm: the VAD is loaded once per job process, and the loaded heap is frozen."""

from __future__ import annotations

import gc
from types import SimpleNamespace

from livekit.agents import vad

from agent.worker import prewarm


def test_prewarm_loads_the_vad_and_freezes_what_is_loaded() -> None:
    proc = SimpleNamespace(userdata={})
    gc.unfreeze()
    try:
        prewarm(proc)  # type: ignore[arg-type]
        assert isinstance(proc.userdata["vad"], vad.VAD)
        # the model and imports are out of the collector's sight: a full collection scans less
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
