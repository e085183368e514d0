"""The candidate pages' icons, drawn as inline SVG in the page's own code.

``rx.icon("clock")`` imports lucide-react's ``Clock``; each such icon is a chunk of its own in the
build (shared with the admin pages), so the candidate route's module could only run after a second
wave of ≈ 13 one-icon requests (bench P5: ≈ 40–90 ms of the page's time to interactive on
HTTP/1.1). Drawn inline, the same shapes are part of the route's module. The admin pages keep
``rx.icon``.

Shapes: lucide 1.26 (ISC licence, © Lucide Icons and Contributors; clock, info and square derive
from Feather, MIT licence, © Cole Bemis), same 24×24 grid and stroke attributes as lucide-react.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

_SHAPES: dict[str, tuple[tuple[str, dict[str, str]], ...]] = {
    "clock": (("circle", {"cx": "12", "cy": "12", "r": "10"}), ("path", {"d": "M12 6v6l4 2"})),
    "rotate-ccw": (("path", {"d": "M3 12a9 9 0 1 0 9-9 9.75 9.75 0 0 0-6.74 2.74L3 8"}), ("path", {"d": "M3 3v5h5"})),
    "circle-check": (("circle", {"cx": "12", "cy": "12", "r": "10"}), ("path", {"d": "m9 12 2 2 4-4"})),
    "mic": (
        ("path", {"d": "M12 19v3"}),
        ("path", {"d": "M19 10v2a7 7 0 0 1-14 0v-2"}),
        ("rect", {"x": "9", "y": "2", "width": "6", "height": "13", "rx": "3"}),
    ),
    "triangle-alert": (
        ("path", {"d": "m21.73 18-8-14a2 2 0 0 0-3.48 0l-8 14A2 2 0 0 0 4 21h16a2 2 0 0 0 1.73-3"}),
        ("path", {"d": "M12 9v4"}),
        ("path", {"d": "M12 17h.01"}),
    ),
    "phone": (
        (
            "path",
            {
                "d": "M13.832 16.568a1 1 0 0 0 1.213-.303l.355-.465A2 2 0 0 1 17 15h3a2 2 0 0 1 2 2v3a2 2 0 0 1-2 2A18 18 0 0 1 2 4a2 2 0 0 1 2-2h3a2 2 0 0 1 2 2v3a2 2 0 0 1-.8 1.6l-.468.351a1 1 0 0 0-.292 1.233 14 14 0 0 0 6.392 6.384"  # noqa: E501 (lucide path data)
            },
        ),
    ),
    "wifi": (
        ("path", {"d": "M12 20h.01"}),
        ("path", {"d": "M2 8.82a15 15 0 0 1 20 0"}),
        ("path", {"d": "M5 12.859a10 10 0 0 1 14 0"}),
        ("path", {"d": "M8.5 16.429a5 5 0 0 1 7 0"}),
    ),
    "bot": (
        ("path", {"d": "M12 8V4H8"}),
        ("rect", {"width": "16", "height": "12", "x": "4", "y": "8", "rx": "2"}),
        ("path", {"d": "M2 14h2"}),
        ("path", {"d": "M20 14h2"}),
        ("path", {"d": "M15 13v2"}),
        ("path", {"d": "M9 13v2"}),
    ),
    "refresh-cw": (
        ("path", {"d": "M3 12a9 9 0 0 1 9-9 9.75 9.75 0 0 1 6.74 2.74L21 8"}),
        ("path", {"d": "M21 3v5h-5"}),
        ("path", {"d": "M21 12a9 9 0 0 1-9 9 9.75 9.75 0 0 1-6.74-2.74L3 16"}),
        ("path", {"d": "M8 16H3v5"}),
    ),
    "list-checks": (
        ("path", {"d": "M13 5h8"}),
        ("path", {"d": "M13 12h8"}),
        ("path", {"d": "M13 19h8"}),
        ("path", {"d": "m3 17 2 2 4-4"}),
        ("path", {"d": "m3 7 2 2 4-4"}),
    ),
    "square": (("rect", {"width": "18", "height": "18", "x": "3", "y": "3", "rx": "2"}),),
    "send-horizontal": (
        (
            "path",
            {
                "d": "M3.714 3.048a.498.498 0 0 0-.683.627l2.843 7.627a2 2 0 0 1 0 1.396l-2.842 7.627a.498.498 0 0 0 .682.627l18-8.5a.5.5 0 0 0 0-.904z"
            },
        ),
        ("path", {"d": "M6 12h16"}),
    ),
    "info": (("circle", {"cx": "12", "cy": "12", "r": "10"}), ("path", {"d": "M12 16v-4"}), ("path", {"d": "M12 8h.01"})),
}

ICON_NAMES = frozenset(_SHAPES)


def inline_icon(name: str, size: int = 16, **props: Any) -> rx.Component:
    """An inline lucide icon (``name`` one of ``ICON_NAMES``), like ``rx.icon(name, size=...)``."""
    if name not in _SHAPES:
        raise ValueError(
            f"no inline icon {name!r}: add its lucide shape to interview_app/components/inline_icons.py (have: {', '.join(sorted(_SHAPES))})"
        )
    shapes = [getattr(rx.el.svg, tag)(**attrs) for tag, attrs in _SHAPES[name]]
    return rx.el.svg(
        *shapes,
        width=size,
        height=size,
        view_box="0 0 24 24",
        fill="none",
        stroke="currentColor",
        stroke_width="2",
        stroke_linecap="round",
        stroke_linejoin="round",
        custom_attrs={"aria-hidden": "true"},
        class_name=f"lucide lucide-{name}",
        flex_shrink="0",
        **props,
    )


def callout(*children: Any, icon: str, **props: Any) -> rx.Component:
    """``rx.callout(text, icon=name, ...)`` with the icon drawn inline."""
    return rx.callout.root(rx.callout.icon(inline_icon(icon)), rx.callout.text(*children), **props)
