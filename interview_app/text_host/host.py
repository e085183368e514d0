"""The text interviews running in this process: the host, its sweeper, the process-wide instance.

One :class:`agent.text_mode.TextInterview` (a roomless livekit-agents ``AgentSession``) runs per
interview, owned by :class:`TextInterviewHost`. The host

- starts an interview from its invite link or resumes the running one: the conversation lives
  in the host, so a reload shows it again;
- gives the conversation to one browser tab at a time (a *lease* held by Reflex's per-tab client
  token, renewed while that tab is connected; a vanished tab loses it after
  ``TEXT_INTERVIEW_LEASE_SECONDS``);
- streams the interviewer's words while they are generated: the session's transcription output
  is the conversation's :class:`~interview_app.text_host.output.ChatReplyOutput`, and every change
  wakes the page's mirror (:meth:`TextInterviewHost.wait_for_change`);
- reminds, then politely ends, an inactive candidate (``TEXT_INTERVIEW_IDLE_MINUTES``), and ends
  interviews that reached their time limit between turns;
- on the end hands the :class:`InterviewResult` to the result service.

What is persisted, and when, is :mod:`interview_app.services.text_interviews`. Any app process
can serve any text interview: the process driving a session holds its *process lease*
(``Interview.updated_at``, touched every ``process_lease / 3``); when the candidate's next event
reaches a process that does not host the interview and that lease has expired (the owner died
or stopped renewing), this process takes it over with one conditional UPDATE
(:func:`~interview_app.services.text_interviews.take_over`: of two racing processes exactly one
wins) and rebuilds the session from the database (:meth:`agent.text_mode.TextInterview.resume`).
While another process's lease is live the candidate is told "one moment" (reason ``one_moment``)
and the page retries. The lease is fenced by ``Interview.text_host`` (this host's
:attr:`~TextInterviewHost.host_id`): a process that stalled past its lease and finds on its next
write or touch that another took the interview over drops the session without writing (a
message, a reminder, a result) beside the new owner. The sweeper ends as *orphaned* only interviews nobody touched for
``orphan_after`` (default :data:`ORPHAN_AFTER_SECONDS`). Use from the backend's event loop only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

from livekit.agents import llm

from agent.providers import build_llm
from agent.text_mode import TextInterview
from interview_app.contracts import InterviewPlan, InterviewResult
from interview_app.models import utcnow
from interview_app.sanitize import MAX_MESSAGE_CHARS, candidate_text
from interview_app.services import text_interviews as steps
from interview_app.services.results import ResultRejected
from interview_app.services.text_interviews import TextInterviewError
from interview_app.settings import get_settings
from interview_app.text_host.session import HostedInterview, Snapshot

logger = logging.getLogger(__name__)

#: How long a finished session stays in memory so its tab can still show the end.
FINISHED_KEEP_SECONDS = 600
#: The process lease: a process that stopped touching ``Interview.updated_at`` for this long
#: loses its live text interviews to whichever process the candidate's next event reaches.
PROCESS_LEASE_SECONDS = 30
#: An in-progress text interview untouched this long (nobody came back to resume it) is ended as
#: orphaned (outcome ``failed``, what was said is kept).
ORPHAN_AFTER_SECONDS = 3600


def _one_moment() -> TextInterviewError:
    """Another process drives the interview (or is handing it over): the page tries again by itself."""
    return TextInterviewError("one_moment", "One moment: your interview is being moved to another server. This page tries again by itself.")


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
        process_lease_seconds: float = PROCESS_LEASE_SECONDS,
        orphan_after_seconds: float = ORPHAN_AFTER_SECONDS,
    ) -> None:
        """``single_process`` is accepted for older callers and changes nothing any more: with
        one process or several, an interview not hosted here is resumed, not ended."""
        settings = get_settings()
        self.clock = clock
        self.llm_factory = llm_factory
        self.lease = timedelta(seconds=lease_seconds if lease_seconds is not None else settings.text_interview_lease_seconds)
        self.idle = timedelta(seconds=idle_seconds if idle_seconds is not None else settings.text_interview_idle_minutes * 60)
        self.single_process = (not settings.redis_url) if single_process is None else single_process
        self.process_lease = timedelta(seconds=process_lease_seconds)
        self.orphan_after = timedelta(seconds=max(orphan_after_seconds, process_lease_seconds))
        self.deadline_poll_seconds = deadline_poll_seconds
        self.sessions: dict[str, HostedInterview] = {}
        self._open_lock = asyncio.Lock()
        #: This process's name in ``Interview.text_host`` (the fence of its leases).
        self.host_id = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"

    # -- opening ---------------------------------------------------------------------------
    async def open(self, raw_token: str, owner: str) -> Snapshot:
        """Start the interview behind ``raw_token`` or resume it, for the tab ``owner``.

        An interview running in text mode that this process does not host is taken over when its
        process lease has expired, and rebuilt from the database.

        Raises:
            TextInterviewError: the link cannot be used, another tab holds the interview, or
                another process still drives it (``one_moment``: try again shortly).
        """
        settings = get_settings()
        async with self._open_lock:
            begun = await asyncio.to_thread(
                steps.begin, raw_token, org_name=settings.org_name, voice_configured=settings.livekit_configured, host_id=self.host_id
            )
            hosted = self.sessions.get(begun.interview_id)
            now = self.clock()
            if begun.plan is None:
                if hosted is None:
                    return (await self._resume(begun.interview_id, owner, now)).snapshot()
                self._take_lease(hosted, owner, now)
                return hosted.snapshot()
            hosted = HostedInterview(begun.interview_id, owner=owner, lease_until=now + self.lease, last_activity=now)
            self.sessions[hosted.interview_id] = hosted
        await self._start(hosted, begun.plan)
        return hosted.snapshot()

    async def _start(self, hosted: HostedInterview, plan: InterviewPlan) -> None:
        async with hosted.lock:
            model = self.llm_factory() if self.llm_factory else build_llm()
            # The interviewer's time budget follows the host's clock (injectable in tests).
            clock = lambda: self.clock().timestamp()  # noqa: E731
            try:
                ti = await TextInterview.start(
                    plan, llm_model=model, clock=clock, deadline_poll_seconds=self.deadline_poll_seconds, transcription=hosted.reply
                )
            except Exception as err:
                logger.exception("text interview %s could not start", hosted.interview_id)
                self.sessions.pop(hosted.interview_id, None)
                result = InterviewResult(
                    interview_id=uuid.UUID(hosted.interview_id),
                    outcome="failed",
                    end_reason=f"the interviewer could not start: {err}"[:500],
                    mode="text",
                )
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(steps.store_result, result)
                raise TextInterviewError(
                    "failed", "The interviewer could not start. Please try again later or contact the hiring team."
                ) from None
            hosted.interview = ti
            self._watch(hosted)
            hosted.end_turn()
            await self._persist(hosted)

    async def _resume(self, interview_id: str, owner: str, now: datetime) -> HostedInterview:
        """Take over an interview another process drove and rebuild its session here (open lock held).

        Raises:
            TextInterviewError: ``one_moment`` while the other process's lease is live;
                ``gone`` when it is no longer a running text interview.
        """
        resumable = await asyncio.to_thread(
            steps.take_over,
            interview_id,
            now,
            expired_before=now - self.process_lease,
            org_name=get_settings().org_name,
            host_id=self.host_id,
        )
        if resumable is None:
            raise _one_moment()
        hosted = HostedInterview(interview_id, owner=owner, lease_until=now + self.lease, last_activity=now)
        hosted.persisted = len(resumable.segments)
        hosted.last_touch = now
        self.sessions[interview_id] = hosted
        async with hosted.lock:
            model = self.llm_factory() if self.llm_factory else build_llm()
            clock = lambda: self.clock().timestamp()  # noqa: E731
            try:
                ti = await TextInterview.resume(
                    resumable.plan,
                    resumable.segments,
                    started_at=resumable.started_at.timestamp(),
                    llm_model=model,
                    clock=clock,
                    deadline_poll_seconds=self.deadline_poll_seconds,
                    transcription=hosted.reply,
                )
            except Exception:
                logger.exception("text interview %s could not be resumed", interview_id)
                self.sessions.pop(interview_id, None)
                raise _one_moment() from None
            hosted.interview = ti
            self._watch(hosted)
            logger.info("text interview %s resumed in this process (%d messages)", interview_id, len(resumable.segments))
            try:
                if resumable.segments and resumable.segments[-1].speaker == "candidate":
                    await ti.answer_pending()  # the candidate's last message was never answered
            finally:
                hosted.end_turn()
            await self._persist(hosted)
            if ti.finished:
                await self._finish(hosted)
        return hosted

    def _watch(self, hosted: HostedInterview) -> None:
        """Wake the page on every new message; store the candidate's message at once.

        Stored before the interviewer's reply, a message survives a process killed mid-answer:
        the process that resumes the interview answers it.
        """
        ti = hosted.interview
        assert ti is not None
        tasks: set[asyncio.Task[bool]] = set()

        def on_item(ev: Any) -> None:
            hosted.on_item(ev)
            if isinstance(ev.item, llm.ChatMessage) and ev.item.role == "user":
                task = asyncio.get_running_loop().create_task(self._persist(hosted))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

        ti.session.on("conversation_item_added", on_item)

    async def _hosted_or_resumed(self, interview_id: str, owner: str) -> HostedInterview:
        """The session of ``interview_id`` here, resumed from the database when another process drove it."""
        hosted = self.sessions.get(interview_id)
        if hosted is not None:
            return hosted
        async with self._open_lock:
            hosted = self.sessions.get(interview_id)
            return hosted if hosted is not None else await self._resume(interview_id, owner, self.clock())

    def _take_lease(self, hosted: HostedInterview, owner: str, now: datetime) -> None:
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

    async def _owned(self, interview_id: str, owner: str) -> HostedInterview:
        hosted = await self._hosted_or_resumed(interview_id, owner)
        if hosted.owner != owner:
            raise TextInterviewError(
                "open_elsewhere", "This interview continues in another browser tab or window. Close this one and continue there."
            )
        return hosted

    # -- what the page shows ---------------------------------------------------------------------
    def snapshot(self, interview_id: str) -> Snapshot | None:
        hosted = self.sessions.get(interview_id)
        return None if hosted is None else hosted.snapshot()

    async def wait_for_change(self, interview_id: str, seen_version: int, timeout: float) -> None:
        """Return as soon as the conversation is past ``seen_version`` (or after ``timeout`` seconds)."""
        hosted = self.sessions.get(interview_id)
        if hosted is not None:
            await hosted.wait_for_change(seen_version, timeout)

    # -- the candidate's turns ---------------------------------------------------------------------
    async def send(self, interview_id: str, owner: str, text: str) -> Snapshot:
        """The candidate's message; returns once the interviewer has replied.

        ``text`` goes through :func:`interview_app.sanitize.candidate_text` first (whoever calls):
        e.g. a lone surrogate would otherwise make the agent's pydantic models drop the answer.
        """
        hosted = await self._owned(interview_id, owner)
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
            except Exception:
                if hosted.lost:  # taken over meanwhile (its session closed here): the page tries again there
                    raise _one_moment() from None
                logger.exception("text interview %s: the interviewer failed on a message", interview_id)
                raise TextInterviewError(
                    "llm",
                    "The interviewer could not answer just now. Send your message again in a moment; if it keeps failing, contact the hiring team.",
                ) from None
            finally:
                hosted.end_turn()
            if not await self._persist(hosted):
                raise _one_moment()
            if ti.finished:
                await self._finish(hosted)
        return hosted.snapshot()

    async def end(self, interview_id: str, owner: str) -> Snapshot:
        """The candidate pressed "End interview" (and confirmed)."""
        hosted = await self._owned(interview_id, owner)
        async with hosted.lock:
            if not hosted.finished:
                await self._finish(hosted, end_reason="ended by the candidate")
        return hosted.snapshot()

    # -- ending ---------------------------------------------------------------------------------------
    async def _persist(self, hosted: HostedInterview) -> bool:
        """Store the new messages; False when another process has taken the interview over (then dropped here)."""
        ti = hosted.interview
        if ti is None:
            return not hosted.lost
        async with hosted.persist_lock:
            if hosted.lost:
                return False
            new = list(ti.collector.segments[hosted.persisted :])
            now = self.clock()
            if new:
                if not await asyncio.to_thread(steps.persist_messages, hosted.interview_id, new, now, host_id=self.host_id):
                    await self._drop_lost(hosted)
                    return False
                hosted.persisted += len(new)
                hosted.last_touch = now
        return True

    async def _drop_lost(self, hosted: HostedInterview) -> None:
        """Another process took this interview over while this one stalled: stop driving it, write nothing more."""
        if hosted.lost:
            return
        hosted.lost = True
        logger.warning("text interview %s was taken over by another process; dropped here", hosted.interview_id)
        if self.sessions.get(hosted.interview_id) is hosted:
            del self.sessions[hosted.interview_id]
        hosted.bump()  # the mirror sees no snapshot any more; the tab's next event resumes it where it is driven now
        if hosted.interview is not None:
            with contextlib.suppress(Exception):
                await hosted.interview.session.aclose()

    async def _finish(self, hosted: HostedInterview, *, end_reason: str | None = None) -> None:
        """Close the session and hand the result to the result service (caller holds the lock)."""
        ti = hosted.interview
        assert ti is not None
        result = await ti.close(end_reason=end_reason)
        if not await self._persist(hosted):
            return  # not this process's interview any more: the new owner ends it
        hosted.finished = True
        hosted.finished_at = self.clock()
        hosted.end_reason = result.end_reason
        hosted.pending_result = result
        hosted.end_turn()
        await self._deliver(hosted)

    async def _deliver(self, hosted: HostedInterview) -> None:
        result = hosted.pending_result
        if result is None:
            return
        try:
            status = await asyncio.to_thread(steps.store_result, result)
        except ResultRejected as err:
            logger.warning("text interview %s: result not stored yet (%s); retrying", hosted.interview_id, err.message)
            return
        except Exception:
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
            except Exception:
                logger.exception("text interview %s: sweep failed", hosted.interview_id)
        live = [
            h.interview_id
            for h in self.sessions.values()
            if not h.finished and (h.last_touch is None or now - h.last_touch >= self.process_lease / 3)
        ]
        if live:
            lost = set(await asyncio.to_thread(steps.touch, live, now, host_id=self.host_id))
            for iid in live:
                still = self.sessions.get(iid)
                if still is None:
                    continue
                if iid in lost:
                    await self._drop_lost(still)
                else:
                    still.last_touch = now
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
                    hosted.end_turn()
                if not await self._persist(hosted):
                    return
                await asyncio.to_thread(steps.record, hosted.interview_id, "text_candidate_idle", finished=ti.finished)
                if ti.finished:
                    await self._finish(hosted)

    async def recover_orphans(self) -> list[str]:
        """End in-progress text interviews nobody touched for ``orphan_after`` (see the module doc)."""
        now = self.clock()
        stale_before = now - self.orphan_after
        ended = []
        for iid in await asyncio.to_thread(steps.orphaned, set(self.sessions), stale_before):
            try:
                status = await asyncio.to_thread(steps.end_orphaned, iid, now)
            except Exception:
                logger.exception("text interview %s: could not end the orphaned interview", iid)
                continue
            logger.warning("text interview %s had no live session; ended (%s)", iid, status)
            ended.append(iid)
        return ended

    async def aclose(self) -> None:
        """Stop every session without ending the interviews (any process resumes them once the lease lapses)."""
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
            except Exception:
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
