"""Text interviews hosted by the app backend: the same Interviewer, as a chat, without LiveKit.

One :class:`agent.text_mode.TextInterview` (a roomless livekit-agents ``AgentSession``) runs
per interview inside the app's backend process, owned by :class:`TextInterviewHost`. The host

- starts an interview from its invite link (``invited → in_progress``, mode ``text``), or
  resumes the running one: the conversation lives in the host, so a reload shows it again;
- gives the conversation to one browser tab at a time (a *lease* held by Reflex's per-tab
  client token, renewed while that tab is connected; a vanished tab loses it after
  ``TEXT_INTERVIEW_LEASE_SECONDS``);
- streams the interviewer's words while they are generated (an LLM wrapper that reports each
  text delta) so the page can show them as they come;
- reminds, then politely ends, an inactive candidate (``TEXT_INTERVIEW_IDLE_MINUTES``);
- on the end hands the :class:`InterviewResult` to the one result service
  (:func:`interview_app.services.results.accept_result`, source ``text-interview``).

Persistent facts live in the database: status changes and events, every chat message as a
``text_message`` event, and ``Interview.updated_at`` touched while the session is alive. A
session lives in memory only, so after an app restart it cannot be resumed; the sweeper then
ends such *orphaned* interviews with the reason below and the messages persisted so far as
their transcript (outcome ``failed``: the hiring team sees what was said and why it stopped).

Framework-free: no reflex import. Use from the backend's event loop only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from livekit.agents import llm
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr
from sqlmodel import Session, select

from agent.text_mode import TextInterview
from interview_app.contracts import InterviewPlan, InterviewResult
from interview_app.contracts import TranscriptSegment as SegmentContract
from interview_app.db import session_scope
from interview_app.models import Candidate, Interview, InterviewEvent, InterviewStatus, InterviewTemplate, utcnow
from interview_app.sanitize import MAX_MESSAGE_CHARS, candidate_text
from interview_app.services.accommodations import PENDING_MESSAGE, PENDING_REASON, accommodation_for
from interview_app.services.interviews import InviteError, as_aware, build_plan, check_invite, find_by_token, record_event, transition
from interview_app.services.results import ResultRejected, accept_result
from interview_app.services.templates import as_run
from interview_app.settings import get_settings

logger = logging.getLogger(__name__)

#: Result source recorded by the result service for text interviews.
RESULT_SOURCE = "text-interview"
#: The end reason of an interview whose session was lost (app restart, crash).
ORPHAN_REASON = "The app restarted during the text interview; the conversation up to then is kept."
#: How long a finished session stays in memory so its tab can still show the end.
FINISHED_KEEP_SECONDS = 600
#: A live session touches ``Interview.updated_at`` this often; other processes treat an
#: in-progress text interview untouched for ``STALE_FACTOR`` times as long as orphaned.
TOUCH_SECONDS = 15
STALE_FACTOR = 8


class TextInterviewError(Exception):
    """Why the text interview cannot do what was asked; ``message`` is for the candidate."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


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
    """One running text interview and what its page needs (the conversation is ``interview.collector``)."""

    interview_id: str
    owner: str
    lease_until: datetime
    last_activity: datetime
    interview: TextInterview | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    busy: bool = True  # until the greeting is there
    partial: str = ""
    pending_user: str | None = None
    pending_from: int = 0
    version: int = 0
    persisted: int = 0
    finished: bool = False
    finished_at: datetime | None = None
    end_reason: str = ""
    pending_result: InterviewResult | None = None
    last_touch: datetime | None = None
    generation: int = 0  # the LLM stream the partial text belongs to

    def bump(self) -> None:
        self.version += 1

    def on_text(self, generation: int, delta: str) -> None:
        if generation != self.generation:  # a new reply: the previous one is in the history by now
            self.generation = generation
            self.partial = ""
        self.partial += delta
        self.bump()

    def on_item(self, _ev: Any) -> None:
        """A message joined the history (the streamed reply is complete)."""
        self.partial = ""
        self.bump()


# --- streaming: the interviewer's LLM, reporting each text delta -------------------------
class StreamingLLM(llm.LLM):
    """Wraps the interviewer's LLM and reports text deltas as they arrive (for the chat UI)."""

    def __init__(self, inner: llm.LLM, on_text: Callable[[int, str], None]) -> None:
        super().__init__()
        self._inner = inner
        self._on_text = on_text
        self._generations = 0

    @property
    def model(self) -> str:
        return self._inner.model

    @property
    def provider(self) -> str:
        return self._inner.provider

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        self._generations += 1
        generation = self._generations

        def open_inner() -> llm.LLMStream:
            return self._inner.chat(
                chat_ctx=chat_ctx,
                tools=tools,
                conn_options=conn_options,
                parallel_tool_calls=parallel_tool_calls,
                tool_choice=tool_choice,
                extra_kwargs=extra_kwargs,
            )

        return _StreamingLLMStream(self, open_inner, lambda d: self._on_text(generation, d), chat_ctx, tools or [], conn_options)

    async def aclose(self) -> None:
        await self._inner.aclose()


class _StreamingLLMStream(llm.LLMStream):
    def __init__(
        self,
        outer: StreamingLLM,
        open_inner: Callable[[], llm.LLMStream],
        on_delta: Callable[[str], None],
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool],
        conn_options: APIConnectOptions,
    ) -> None:
        self._open_inner = open_inner
        self._on_delta = on_delta
        # The inner LLM retries on its own; the wrapper makes one attempt.
        super().__init__(outer, chat_ctx=chat_ctx, tools=tools, conn_options=APIConnectOptions(max_retry=0, timeout=conn_options.timeout))

    async def _run(self) -> None:
        async with self._open_inner() as inner:
            async for chunk in inner:
                if chunk.delta is not None and chunk.delta.content:
                    try:
                        self._on_delta(chunk.delta.content)
                    except Exception:  # noqa: BLE001 - the UI tap never breaks the interview
                        logger.exception("text delta callback failed")
                self._event_ch.send_nowait(chunk)


# --- database steps (sync; the host runs them in a worker thread) ------------------------
@dataclass(frozen=True)
class _Begin:
    interview_id: str
    plan: InterviewPlan | None  # None: already in progress (resume or orphan)


def _begin(raw_token: str, org_name: str, voice_configured: bool) -> _Begin:
    with session_scope() as session:
        for_update = session.get_bind().dialect.name == "postgresql"
        interview = find_by_token(session, raw_token, for_update=for_update)
        try:
            check_invite(interview)
        except InviteError as err:
            raise TextInterviewError(err.reason, err.message) from None
        assert interview is not None
        status = InterviewStatus(interview.status)
        if status == InterviewStatus.in_progress:
            if interview.mode != "text":
                raise TextInterviewError(
                    "voice_running", "This interview is already running as a voice interview. Go back to the interview room to continue."
                )
            return _Begin(str(interview.id), None)
        template = session.get(InterviewTemplate, interview.template_id)
        if accommodation_for(session, interview, template=template).waiting:
            # The template waits for the hiring team's answer to the candidate's request (a resume never does).
            raise TextInterviewError(PENDING_REASON, PENDING_MESSAGE)
        if interview.mode != "text" and voice_configured:
            raise TextInterviewError(
                "voice", "This interview is set up as a voice interview. Reload the page and choose how you want to take part."
            )
        candidate = session.get(Candidate, interview.candidate_id)
        if candidate is None or template is None:
            raise TextInterviewError("incomplete", "This interview is not set up completely. Please contact the hiring team.")
        interview.mode = "text"
        transition(
            session, interview, InterviewStatus.in_progress, reason="text interview started", actor="candidate", detail={"mode": "text"}
        )
        record_event(session, interview.id, "text_interview_started", actor="candidate")
        plan = build_plan(interview, candidate, as_run(session, template, interview.template_version), org_name=org_name)
        return _Begin(str(interview.id), plan)


def _persist_messages(interview_id: str, segments: list[SegmentContract], now: datetime) -> None:
    with session_scope() as session:
        iid = uuid.UUID(interview_id)
        for seg in segments:
            record_event(
                session,
                iid,
                "text_message",
                actor="candidate" if seg.speaker == "candidate" else "interviewer",
                seq=seg.seq,
                speaker=seg.speaker,
                text=seg.text,
                start_ms=seg.start_ms,
                end_ms=seg.end_ms,
                question_id=seg.question_id,
            )
        _touch(session, [iid], now)


def _touch(session: Session, ids: list[uuid.UUID], now: datetime) -> None:
    for interview in session.exec(select(Interview).where(Interview.id.in_(ids))).all():  # type: ignore[attr-defined]
        if interview.status == InterviewStatus.in_progress.value:
            interview.updated_at = now
            session.add(interview)


def _touch_all(ids: list[str], now: datetime) -> None:
    if ids:
        with session_scope() as session:
            _touch(session, [uuid.UUID(i) for i in ids], now)


def _store_result(result: InterviewResult) -> str:
    with session_scope() as session:
        return accept_result(session, result, source=RESULT_SOURCE).interview_status


def _record(interview_id: str, kind: str, **detail: Any) -> None:
    with session_scope() as session:
        record_event(session, uuid.UUID(interview_id), kind, **detail)


def _orphans(hosted: set[str], stale_before: datetime) -> list[str]:
    with session_scope() as session:
        rows = session.exec(select(Interview).where(Interview.status == InterviewStatus.in_progress.value, Interview.mode == "text")).all()
        return [str(r.id) for r in rows if str(r.id) not in hosted and as_aware(r.updated_at) <= stale_before]


def persisted_segments(session: Session, interview_id: uuid.UUID) -> list[SegmentContract]:
    """The chat messages stored for an interview (``text_message`` events), in order."""
    events = session.exec(
        select(InterviewEvent)
        .where(InterviewEvent.interview_id == interview_id, InterviewEvent.kind == "text_message")
        .order_by(InterviewEvent.id)  # type: ignore[arg-type]
    ).all()
    segments: list[SegmentContract] = []
    for ev in events:
        d = ev.detail or {}
        segments.append(
            SegmentContract(
                seq=len(segments),
                speaker="candidate" if d.get("speaker") == "candidate" else "agent",
                text=str(d.get("text", ""))[:20000],
                start_ms=max(0, int(d.get("start_ms") or 0)),
                end_ms=max(0, int(d.get("end_ms") or 0)),
                question_id=d.get("question_id"),
            )
        )
    return segments


def _end_orphan(interview_id: str, now: datetime) -> str:
    with session_scope() as session:
        iid = uuid.UUID(interview_id)
        interview = session.get(Interview, iid)
        if interview is None or interview.status != InterviewStatus.in_progress.value:
            return interview.status if interview else ""
        result = InterviewResult(
            interview_id=iid,
            outcome="failed",
            end_reason=ORPHAN_REASON,
            mode="text",
            started_at=interview.started_at,
            ended_at=now,
            segments=persisted_segments(session, iid),
        )
        return accept_result(session, result, source=RESULT_SOURCE).interview_status


# --- the host ------------------------------------------------------------------------------
class TextInterviewHost:
    """All text interviews running in this process (one per interview)."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = utcnow,
        llm_factory: Callable[[], llm.LLM] | None = None,
        lease_seconds: int | None = None,
        idle_seconds: int | None = None,
        single_process: bool | None = None,
        deadline_poll_seconds: float = 5.0,
    ) -> None:
        settings = get_settings()
        self.clock = clock
        self.llm_factory = llm_factory
        self.lease = timedelta(seconds=lease_seconds if lease_seconds is not None else settings.text_interview_lease_seconds)
        self.idle = timedelta(seconds=idle_seconds if idle_seconds is not None else settings.text_interview_idle_minutes * 60)
        # Without Redis the app runs one backend process: an in-progress text interview that is
        # not hosted here has no session anywhere. With several processes, wait for staleness.
        self.single_process = (not settings.redis_url) if single_process is None else single_process
        self.deadline_poll_seconds = deadline_poll_seconds
        self.sessions: dict[str, HostedInterview] = {}
        self._open_lock = asyncio.Lock()

    # -- opening ---------------------------------------------------------------------------
    async def open(self, raw_token: str, owner: str) -> Snapshot:
        """Start the interview behind ``raw_token`` or resume it, for the tab ``owner``.

        Raises:
            TextInterviewError: the link cannot be used, another tab holds the interview, or the
                interview was interrupted (then it is ended and the reason says so).
        """
        settings = get_settings()
        async with self._open_lock:
            begun = await asyncio.to_thread(_begin, raw_token, settings.org_name, settings.livekit_configured)
            hosted = self.sessions.get(begun.interview_id)
            now = self.clock()
            if begun.plan is None:
                if hosted is None:
                    await self._refuse_orphan(begun.interview_id, now)
                self._take_lease(hosted, owner, now)
                return self.snapshot(hosted.interview_id)  # type: ignore[return-value]
            hosted = HostedInterview(begun.interview_id, owner=owner, lease_until=now + self.lease, last_activity=now)
            self.sessions[hosted.interview_id] = hosted
        await self._start(hosted, begun.plan)
        return self.snapshot(hosted.interview_id)  # type: ignore[return-value]

    async def _start(self, hosted: HostedInterview, plan: InterviewPlan) -> None:
        async with hosted.lock:
            base = self.llm_factory() if self.llm_factory else None
            if base is None:
                from agent.providers import build_llm

                base = build_llm()
            # The interviewer's time budget follows the host's clock (injectable in tests).
            clock = lambda: self.clock().timestamp()  # noqa: E731
            try:
                ti = await TextInterview.start(
                    plan, llm_model=StreamingLLM(base, hosted.on_text), clock=clock, deadline_poll_seconds=self.deadline_poll_seconds
                )
            except Exception as err:  # noqa: BLE001 - the candidate gets a sentence, the log the traceback
                logger.exception("text interview %s could not start", hosted.interview_id)
                self.sessions.pop(hosted.interview_id, None)
                result = InterviewResult(
                    interview_id=uuid.UUID(hosted.interview_id),
                    outcome="failed",
                    end_reason=f"the interviewer could not start: {err}"[:500],
                    mode="text",
                )
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(_store_result, result)
                raise TextInterviewError(
                    "failed", "The interviewer could not start. Please try again later or contact the hiring team."
                ) from None
            hosted.interview = ti
            ti.session.on("conversation_item_added", hosted.on_item)
            hosted.busy = False
            hosted.partial = ""
            hosted.bump()
            await self._persist(hosted)

    async def _refuse_orphan(self, interview_id: str, now: datetime) -> None:
        """An in-progress text interview with no session here: ended if it is orphaned."""
        if self.single_process or interview_id in await asyncio.to_thread(_orphans, set(self.sessions), now - self._stale()):
            await asyncio.to_thread(_end_orphan, interview_id, now)
            raise TextInterviewError(
                "interrupted",
                "Your interview was interrupted by a problem on our side and could not be continued. "
                "What you wrote so far is saved; the hiring team will contact you about next steps.",
            )
        raise TextInterviewError(
            "elsewhere",
            "This interview is open on another server connection. Close other tabs with this link, wait a minute, then reload this page.",
        )

    def _stale(self) -> timedelta:
        return max(timedelta(seconds=TOUCH_SECONDS * STALE_FACTOR), self.lease * 2)

    def _take_lease(self, hosted: HostedInterview | None, owner: str, now: datetime) -> None:
        assert hosted is not None
        if hosted.owner != owner and hosted.lease_until > now and not hosted.finished:
            raise TextInterviewError(
                "open_elsewhere",
                "This interview is already open in another browser tab or window. Continue there, "
                f"or close it and reload this page after about {int(self.lease.total_seconds())} seconds.",
            )
        if hosted.owner != owner:
            logger.info("text interview %s taken over by a new tab", hosted.interview_id)
        hosted.owner = owner
        hosted.lease_until = now + self.lease
        hosted.bump()

    # -- the tab's lease ---------------------------------------------------------------------
    def renew(self, interview_id: str, owner: str) -> bool:
        """Keep the lease of ``owner`` (its tab is connected); False when another tab has it."""
        hosted = self.sessions.get(interview_id)
        if hosted is None or hosted.owner != owner:
            return False
        hosted.lease_until = self.clock() + self.lease
        return True

    def holds_lease(self, interview_id: str, owner: str) -> bool:
        hosted = self.sessions.get(interview_id)
        return hosted is not None and hosted.owner == owner

    def _owned(self, interview_id: str, owner: str) -> HostedInterview:
        hosted = self.sessions.get(interview_id)
        if hosted is None:
            raise TextInterviewError("gone", "This interview is no longer running here. Reload the page to see where it stands.")
        if hosted.owner != owner:
            raise TextInterviewError(
                "open_elsewhere", "This interview continues in another browser tab or window. Close this one and continue there."
            )
        return hosted

    # -- what the page shows ---------------------------------------------------------------------
    def snapshot(self, interview_id: str) -> Snapshot | None:
        hosted = self.sessions.get(interview_id)
        if hosted is None:
            return None
        ti = hosted.interview
        lines: list[ChatLine] = []
        number = count = covered = left = 0
        if ti is not None:
            segments = ti.collector.segments
            lines = [ChatLine(s.speaker, s.text) for s in segments]
            # The candidate's message shows at once; the session adds it to the history a moment later.
            if hosted.pending_user is not None and not any(s.speaker == "candidate" for s in segments[hosted.pending_from :]):
                lines.append(ChatLine("candidate", hosted.pending_user))
            progress = ti.interviewer.progress
            count = len(progress.questions)
            covered = len(progress.covered_ids)
            number = min(progress.index + 1, count)
            left = int(progress.total_time_left())
        if hosted.partial.strip():
            lines.append(ChatLine("agent", hosted.partial, streaming=True))
        thinking = hosted.busy and not hosted.finished
        return Snapshot(
            interview_id=hosted.interview_id,
            version=hosted.version,
            messages=lines,
            thinking=thinking,
            question_number=number,
            question_count=count,
            questions_covered=covered,
            seconds_left=0 if hosted.finished else left,
            finished=hosted.finished,
            end_reason=hosted.end_reason,
        )

    # -- the candidate's turns ---------------------------------------------------------------------
    async def send(self, interview_id: str, owner: str, text: str) -> Snapshot:
        """The candidate's message; returns once the interviewer has replied.

        ``text`` goes through :func:`interview_app.sanitize.candidate_text` first (whoever calls):
        e.g. a lone surrogate would otherwise make the agent's pydantic models drop the answer.
        """
        hosted = self._owned(interview_id, owner)
        answer = candidate_text(text)
        text = answer.text.strip()
        if not text:
            raise TextInterviewError("empty", "Type your answer in the box first, then press Send.")
        if answer.over_limit:
            raise TextInterviewError(
                "too_long", f"Your message is longer than {MAX_MESSAGE_CHARS} characters; please shorten it or split it in two."
            )
        if hosted.finished:
            raise TextInterviewError("finished", "The interview has ended. Thank you for taking part!")
        if hosted.busy or hosted.lock.locked():
            raise TextInterviewError("busy", "The interviewer is still writing; send your message when the reply is complete.")
        async with hosted.lock:
            ti = hosted.interview
            assert ti is not None
            now = self.clock()
            hosted.busy = True
            hosted.pending_user = text
            hosted.pending_from = len(ti.collector.segments)
            hosted.last_activity = now
            hosted.lease_until = now + self.lease
            hosted.bump()
            try:
                await ti.send(text)
            except Exception:  # noqa: BLE001
                logger.exception("text interview %s: the interviewer failed on a message", interview_id)
                raise TextInterviewError(
                    "llm",
                    "The interviewer could not answer just now. Send your message again in a moment; if it keeps failing, contact the hiring team.",
                ) from None
            finally:
                hosted.busy = False
                hosted.pending_user = None
                hosted.partial = ""
                hosted.bump()
            await self._persist(hosted)
            if ti.finished:
                await self._finish(hosted)
        return self.snapshot(interview_id)  # type: ignore[return-value]

    async def end(self, interview_id: str, owner: str) -> Snapshot:
        """The candidate pressed "End interview" (and confirmed)."""
        hosted = self._owned(interview_id, owner)
        async with hosted.lock:
            if not hosted.finished:
                await self._finish(hosted, end_reason="ended by the candidate")
        return self.snapshot(interview_id)  # type: ignore[return-value]

    # -- ending ---------------------------------------------------------------------------------------
    async def _persist(self, hosted: HostedInterview) -> None:
        ti = hosted.interview
        if ti is None:
            return
        new = list(ti.collector.segments[hosted.persisted :])
        now = self.clock()
        if new:
            await asyncio.to_thread(_persist_messages, hosted.interview_id, new, now)
            hosted.persisted += len(new)
            hosted.last_touch = now

    async def _finish(self, hosted: HostedInterview, *, end_reason: str | None = None) -> None:
        """Close the session and hand the result to the result service (caller holds the lock)."""
        ti = hosted.interview
        assert ti is not None
        result = await ti.close(end_reason=end_reason)
        await self._persist(hosted)
        hosted.finished = True
        hosted.finished_at = self.clock()
        hosted.end_reason = result.end_reason
        hosted.busy = False
        hosted.partial = ""
        hosted.pending_result = result
        hosted.bump()
        await self._deliver(hosted)

    async def _deliver(self, hosted: HostedInterview) -> None:
        result = hosted.pending_result
        if result is None:
            return
        try:
            status = await asyncio.to_thread(_store_result, result)
        except ResultRejected as err:
            logger.warning("text interview %s: result not stored yet (%s); retrying", hosted.interview_id, err.message)
            return
        except Exception:  # noqa: BLE001 - retried by the sweeper
            logger.exception("text interview %s: result not stored yet; retrying", hosted.interview_id)
            return
        hosted.pending_result = None
        logger.info("text interview %s ended (%s); status %s", hosted.interview_id, result.end_reason, status)

    # -- the sweeper ----------------------------------------------------------------------------------
    async def sweep(self) -> None:
        """One pass: idle candidates, interviews that ended on their own, results, orphans."""
        now = self.clock()
        for hosted in list(self.sessions.values()):
            try:
                await self._sweep_one(hosted, now)
            except Exception:  # noqa: BLE001 - one bad session never stops the sweeper
                logger.exception("text interview %s: sweep failed", hosted.interview_id)
        live = [
            h.interview_id
            for h in self.sessions.values()
            if not h.finished and (h.last_touch is None or now - h.last_touch >= timedelta(seconds=TOUCH_SECONDS))
        ]
        if live:
            await asyncio.to_thread(_touch_all, live, now)
            for iid in live:
                self.sessions[iid].last_touch = now
        await self.recover_orphans()

    async def _sweep_one(self, hosted: HostedInterview, now: datetime) -> None:
        ti = hosted.interview
        if hosted.finished:
            await self._deliver(hosted)
            if hosted.pending_result is None and hosted.finished_at and now - hosted.finished_at > timedelta(seconds=FINISHED_KEEP_SECONDS):
                self.sessions.pop(hosted.interview_id, None)
            return
        if ti is None or hosted.busy or hosted.lock.locked():
            return
        if ti.finished:  # the time limit ended it between turns
            async with hosted.lock:
                await self._finish(hosted)
            return
        if now - hosted.last_activity >= self.idle:
            async with hosted.lock:
                hosted.last_activity = now
                hosted.busy = True
                hosted.bump()
                try:
                    await ti.candidate_idle()
                finally:
                    hosted.busy = False
                    hosted.partial = ""
                    hosted.bump()
                await self._persist(hosted)
                await asyncio.to_thread(_record, hosted.interview_id, "text_candidate_idle", finished=ti.finished)
                if ti.finished:
                    await self._finish(hosted)

    async def recover_orphans(self) -> list[str]:
        """End in-progress text interviews that no process hosts any more (see the module doc)."""
        now = self.clock()
        stale_before = now if self.single_process else now - self._stale()
        ended = []
        for iid in await asyncio.to_thread(_orphans, set(self.sessions), stale_before):
            try:
                status = await asyncio.to_thread(_end_orphan, iid, now)
            except Exception:  # noqa: BLE001
                logger.exception("text interview %s: could not end the orphaned interview", iid)
                continue
            logger.warning("text interview %s had no live session; ended (%s)", iid, status)
            ended.append(iid)
        return ended

    async def aclose(self) -> None:
        """Stop every session without ending the interviews (the next start recovers them)."""
        for hosted in list(self.sessions.values()):
            if hosted.interview is not None and not hosted.finished:
                with contextlib.suppress(Exception):
                    await hosted.interview.session.aclose()
        self.sessions.clear()


_host: TextInterviewHost | None = None


def get_host() -> TextInterviewHost:
    """The process-wide host (created on first use, in the backend's event loop)."""
    global _host
    if _host is None:
        _host = TextInterviewHost()
    return _host


@contextlib.asynccontextmanager
async def text_interview_sweeper(interval_seconds: float = 5.0) -> AsyncIterator[None]:
    """App lifespan task: recovers orphaned interviews at start, then sweeps periodically."""
    host = get_host()

    async def loop() -> None:
        while True:
            try:
                await host.sweep()
            except Exception:  # noqa: BLE001 - e.g. the database is briefly down; try again
                logger.exception("text interview sweep failed")
            await asyncio.sleep(interval_seconds)

    task = asyncio.create_task(loop(), name="text-interview-sweeper")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await host.aclose()


__all__ = [
    "ORPHAN_REASON",
    "RESULT_SOURCE",
    "ChatLine",
    "Snapshot",
    "StreamingLLM",
    "TextInterviewError",
    "TextInterviewHost",
    "get_host",
    "persisted_segments",
    "text_interview_sweeper",
]
