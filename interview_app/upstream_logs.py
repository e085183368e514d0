"""Silence two Reflex log lines that are benign here but read like faults on every start."""

from __future__ import annotations

import logging

# (logger, fragment of the message) pairs, each with why it is benign:
_BENIGN = (
    # `reflex run --env prod` compiles the app in the CLI process, then forks the backend
    # workers, and each worker compiles again: every @rx.page is applied a second time with
    # the same component, which Reflex merges (reflex/app.py `_register_prepared_page`).
    ("reflex.app", "is being redefined with the same component"),
    # With Node.js older than Reflex's minimum, Reflex runs the frontend build under bun's
    # own runtime (`bun --bun`, reflex/utils/js_runtimes.py); Node.js is not used at all.
    ("reflex.utils.js_runtimes", "of Node.js is out of date"),
)


class _DropMatching(logging.Filter):
    def __init__(self, fragment: str) -> None:
        super().__init__()
        self.fragment = fragment

    def filter(self, record: logging.LogRecord) -> bool:
        return self.fragment not in record.getMessage()


def quiet_benign_upstream_logs() -> None:
    """Drop the known-benign lines above (idempotent); every other Reflex message still shows."""
    for name, fragment in _BENIGN:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropMatching) and f.fragment == fragment for f in logger.filters):
            logger.addFilter(_DropMatching(fragment))
