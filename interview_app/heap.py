"""The start-up heap of a server process, frozen out of the garbage collector's sight.

Everything alive once a web process has started (Reflex, FastAPI, SQLAlchemy, pydantic,
livekit-api, the app's pages and states) lives as long as the process. CPython's full
(generation-2) collection nevertheless walks all of it every time it runs, and while it runs
every request and websocket event of that process waits. ``gc.freeze()`` moves those objects to
a permanent generation that collections skip; objects made later (requests, sessions) are
collected as before. The agent worker does the same in its prewarm (agent/worker.py).

Measured (bench P2, the start API under load): one full collection of a worker's
≈ 130 000-object heap paused it 140 ms (75 ms CPU) in a run; after the freeze the heap the
collector walks is ≈ 12 000–16 000 objects and no collection paused a worker more than 7 ms.
"""

from __future__ import annotations

import gc
import logging
import os

log = logging.getLogger(__name__)

_frozen_in: int | None = None  # the pid that froze; a forked child freezes its own start-up


def freeze_startup_heap() -> int:
    """Collect once, then freeze what is left (once per process); the number of objects frozen.

    Called when the server has started: as a Reflex lifespan task (production) and from the
    FastAPI app's lifespan when that app is served alone (bench P2, tests).
    """
    global _frozen_in
    if _frozen_in == os.getpid():
        return 0
    _frozen_in = os.getpid()
    gc.collect()
    before = gc.get_freeze_count()
    gc.freeze()
    frozen = gc.get_freeze_count() - before
    log.debug("froze %d start-up objects out of the garbage collector's full collections", frozen)
    return frozen


__all__ = ["freeze_startup_heap"]
