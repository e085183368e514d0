"""The app's in-process workers (Reflex lifespan tasks): one loop for all of them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable


async def poll_forever(work: Callable[[], object], poll_seconds: float, logger: logging.Logger, name: str) -> None:
    """Run ``work`` in a thread every ``poll_seconds`` until cancelled; a failed round is logged, never the end."""
    logger.info("%s started", name)
    while True:
        try:
            await asyncio.to_thread(work)
        except asyncio.CancelledError:
            raise
        except Exception:  # a database hiccup must not end the worker
            logger.exception("%s: a round failed; retrying in %s s", name, poll_seconds)
        await asyncio.sleep(poll_seconds)
