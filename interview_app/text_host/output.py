"""The chat's end of the interviewer's words: a livekit-agents ``TextOutput``.

``AgentSession`` forwards every reply it generates to ``session.output.transcription`` while the
LLM streams it (``capture_text`` per text delta, ``flush`` when the reply's text is complete),
exactly as the voice worker's room output receives the words it publishes as transcription.
Set as the text interview's transcription output, this keeps the reply being written so the
candidate's page can show it as it grows.
"""

from __future__ import annotations

from collections.abc import Callable

from livekit.agents.voice.io import TextOutput


class ChatReplyOutput(TextOutput):
    """The reply being written, as it streams; ``text`` is emptied when it joins the history."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        super().__init__(label="TextInterviewChat", next_in_chain=None)
        self.text = ""
        self._on_change = on_change

    async def capture_text(self, text: str) -> None:
        self.text += text
        self._on_change()

    def flush(self) -> None:
        # The reply's text is complete. It stays shown until the session adds the message to the
        # conversation (``clear``), a moment later, so the page never shows a gap in between.
        pass

    def clear(self) -> None:
        """The reply is in the conversation now (or the turn is over)."""
        self.text = ""
