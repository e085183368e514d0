"""One text interview running in this process, what its page shows, and how the page hears of changes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.text_mode import TextInterview
from interview_app.contracts import InterviewResult
from interview_app.text_host.output import ChatReplyOutput


@dataclass(frozen=True)
class ChatLine:
    speaker: str  # agent | candidate
    text: str
    streaming: bool = False


@dataclass(frozen=True)
class Snapshot:
    """What the candidate's page shows; ``version`` changes whenever the conversation does."""

    interview_id: str
    version: int
    messages: list[ChatLine]
    thinking: bool
    question_number: int
    question_count: int
    questions_covered: int
    seconds_left: int
    finished: bool
    end_reason: str


@dataclass
class HostedInterview:
    """One running text interview and what its page needs (the conversation is ``interview.collector``).

    Every change goes through :meth:`bump`, which wakes whoever awaits :meth:`wait_for_change`
    (the page's mirror of this conversation).
    """

    interview_id: str
    owner: str
    lease_until: datetime
    last_activity: datetime
    interview: TextInterview | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    busy: bool = True  # until the greeting is there
    pending_user: str | None = None
    pending_from: int = 0
    version: int = 0
    persisted: int = 0
    finished: bool = False
    #: Another process took the interview over (the lease's fence): this session writes nothing more.
    lost: bool = False
    finished_at: datetime | None = None
    end_reason: str = ""
    pending_result: InterviewResult | None = None
    last_touch: datetime | None = None
    #: Held while messages are being stored (one writer: each message is stored once).
    persist_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    reply: ChatReplyOutput = field(init=False)
    _changed: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)

    def __post_init__(self) -> None:
        self.reply = ChatReplyOutput(on_change=self.bump)

    def bump(self) -> None:
        """The conversation changed: a new version, and every waiter wakes."""
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for_change(self, seen_version: int, timeout: float) -> None:
        """Return once the version is no longer ``seen_version``, or after ``timeout`` seconds."""
        if self.version != seen_version:
            return
        changed = self._changed
        try:
            async with asyncio.timeout(timeout):
                await changed.wait()
        except TimeoutError:
            pass

    def on_item(self, _ev: Any) -> None:
        """A message joined the conversation (a streamed reply is complete)."""
        self.reply.clear()
        self.bump()

    def end_turn(self) -> None:
        """The interviewer's turn is over, however it went."""
        self.busy = False
        self.pending_user = None
        self.reply.clear()
        self.bump()

    def snapshot(self) -> Snapshot:
        ti = self.interview
        lines: list[ChatLine] = []
        number = count = covered = left = 0
        if ti is not None:
            segments = ti.collector.segments
            lines = [ChatLine(s.speaker, s.text) for s in segments]
            # The candidate's message shows at once; the session adds it to the history a moment later.
            if self.pending_user is not None and not any(s.speaker == "candidate" for s in segments[self.pending_from :]):
                lines.append(ChatLine("candidate", self.pending_user))
            progress = ti.interviewer.progress
            count = len(progress.questions)
            covered = len(progress.covered_ids)
            number = min(progress.index + 1, count)
            left = int(progress.total_time_left())
        if self.reply.text.strip():
            lines.append(ChatLine("agent", self.reply.text, streaming=True))
        return Snapshot(
            interview_id=self.interview_id,
            version=self.version,
            messages=lines,
            thinking=self.busy and not self.finished,
            question_number=number,
            question_count=count,
            questions_covered=covered,
            seconds_left=0 if self.finished else left,
            finished=self.finished,
            end_reason=self.end_reason,
        )
