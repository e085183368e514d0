"""Candidate text at the boundary: whatever the browser sends becomes valid, bounded text here.

A candidate's message reaches the backend as a string inside a websocket event payload, and a
candidate with a link controls every byte of it (not only what the page's text box lets them
type). :func:`candidate_text` is the one function that turns it into text the rest of the app
can rely on — the database, the agent's pydantic models, the LLM and the JSON sent back to the
page:

- valid Unicode: lone surrogates (JSON allows ``"\\ud800"``) and invalid UTF-8 become U+FFFD,
  well-formed surrogate pairs are joined, then NFC;
- no NUL or other control characters except ``\\n`` and ``\\t`` (``\\r\\n`` and ``\\r`` become
  ``\\n``);
- bounded: ``over_limit`` says the text is longer than the caller's limit (so the caller can
  say so in a sentence), and no more than ``HARD_CEILING`` characters are ever kept.

The text keeps what the candidate wrote otherwise, including strings such as ``<reflex.Var>``:
those are harmless as long as candidate text is never formatted into a Reflex Var or a JS
expression (``rx.set_value``, ``rx.call_script``, ``rx.toast`` …). That rule, and why, is in
docs/SECURITY.md. Framework-free: no reflex import.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Longest candidate message the interview accepts (characters).
MAX_MESSAGE_CHARS = 4000
#: At most this many characters of the raw input are looked at or kept (bounds the work and
#: what is held for "put your text back in the box"); anything longer is ``over_limit``.
HARD_CEILING = 4 * MAX_MESSAGE_CHARS

_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 (but \t, \n), DEL, C1


@dataclass(frozen=True)
class CandidateText:
    """Candidate text after the boundary."""

    text: str  # valid Unicode without controls, at most HARD_CEILING characters (not stripped)
    over_limit: bool  # longer than the limit it was checked against (leading/trailing blanks not counted)


def candidate_text(raw: object, *, limit: int = MAX_MESSAGE_CHARS) -> CandidateText:
    """Normalise what the browser sent as candidate text (idempotent: clean text stays as it is).

    Anything that is neither ``str`` nor ``bytes`` (the page only sends strings) counts as empty.
    """
    if isinstance(raw, bytes | bytearray):
        raw = bytes(raw[: HARD_CEILING * 4]).decode("utf-8", "replace")
    elif not isinstance(raw, str):
        raw = ""
    cut = len(raw) > HARD_CEILING
    text = _valid_unicode(raw[:HARD_CEILING])
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROLS.sub("", text)
    text = unicodedata.normalize("NFC", text)[:HARD_CEILING]
    return CandidateText(text=text, over_limit=cut or len(text.strip()) > limit)


def _valid_unicode(text: str) -> str:
    """Join surrogate pairs, replace lone surrogates with U+FFFD (a ``str`` can hold either)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


__all__ = ["HARD_CEILING", "MAX_MESSAGE_CHARS", "CandidateText", "candidate_text"]
