"""Reflex build plugins of the app (listed in rxconfig.py ``plugins=[...]``)."""

from __future__ import annotations

from typing import Any

import reflex as rx

_MARK = "interview_app: radix-ui in one chunk"
_GROUP = """            {
              // interview_app: radix-ui in one chunk
              name: "radix-ui",
              test: /node_modules[\\\\/](?:@radix-ui[\\\\/](?!react-form[\\\\/])|radix-ui[\\\\/])/,
            },
"""
_ANCHOR = "codeSplitting: {\n          groups: [\n"


def group_radix_chunks(vite_config: str) -> str:
    """Add the Radix code-splitting group to Reflex's generated ``vite.config.js`` (idempotent)."""
    if _MARK in vite_config:
        return vite_config
    if _ANCHOR not in vite_config:
        raise RuntimeError("Reflex's vite.config.js has no codeSplitting groups where interview_app expects them (Reflex changed?)")
    return vite_config.replace(_ANCHOR, _ANCHOR + _GROUP, 1)


class RadixChunkPlugin(rx.plugins.Plugin):
    """One JavaScript chunk for Radix UI instead of one per component.

    Every Reflex 0.10 app's root exposes all of ``@radix-ui/themes`` on ``window.__reflex``, so all
    of it (and the Radix primitives it uses) is loaded on every first visit anyway. The bundler
    nevertheless splits it into a chunk per set of routes that share a component: ≈ 17 small files
    of the ≈ 30 the candidate page's shell fetches six at a time over HTTP/1.1 (bench P5). Grouped,
    the same bytes come in one file. ``@radix-ui/react-form`` is left out: only admin forms use
    it, and the shell does not need it.
    """

    def pre_compile(self, **context: Any) -> None:
        context["add_modify_task"]("vite.config.js", group_radix_chunks)
