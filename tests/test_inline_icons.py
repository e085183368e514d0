"""The candidate pages draw their icons inline: no lucide-react icon chunk before they can run (bench P5)."""

from __future__ import annotations

import pytest

from interview_app.components.inline_icons import ICON_NAMES, callout, inline_icon


def test_an_icon_is_an_svg_with_lucides_shapes_and_stroke() -> None:
    js = str(inline_icon("clock", size=22))
    assert js.startswith('jsx("svg"') and 'viewBox:"0 0 24 24"' in js and "height:22" in js
    assert 'jsx("circle",{cx:"12",cy:"12",r:"10"}' in js and 'jsx("path",{d:"M12 6v6l4 2"}' in js
    assert '["stroke"] : "currentColor"' in js and '"aria-hidden":"true"' in js


def test_an_unknown_icon_names_the_file_to_add_it_to() -> None:
    with pytest.raises(ValueError, match="inline_icons.py"):
        inline_icon("rocket")


def test_the_callout_keeps_radix_structure() -> None:
    js = str(callout("Saved.", icon="circle-check", color_scheme="green", id="saved"))
    assert "RadixThemesCallout.Root" in js and "RadixThemesCallout.Icon" in js and "RadixThemesCallout.Text" in js
    assert "Lucide" not in js


@pytest.mark.parametrize("page", ["candidate", "landing"])
def test_candidate_pages_import_no_lucide_icon(page: str) -> None:
    import interview_app.interview_app  # noqa: F401  (registers the states the pages use)
    from interview_app.pages import candidate, landing

    component = {"candidate": candidate.candidate_page, "landing": landing.landing}[page]()
    js = str(component)
    assert "Lucide" not in js, "use components.inline_icons on the candidate pages, not rx.icon / rx.callout(icon=...)"
    assert "lucide lucide-mic" in js  # the brand's icon, drawn inline
    assert len(ICON_NAMES) >= 13
