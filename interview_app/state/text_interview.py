"""State of the text interview panel inside the candidate page (``CandidateState.step == "text"``).

Thin: the conversation lives in :mod:`interview_app.text_host` (one host per backend process;
any process resumes an interview another one stopped driving — while the other's lease is live
the candidate reads "one moment" and the event tries again, bounded).
A background event per tab opens the interview, then mirrors the host's snapshot into this
state: it awaits the host's notification of a change (streamed words, typing, progress) and
wakes once a second otherwise (time left, the tab's lease, renewed while the tab's websocket is
connected).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import reflex as rx

from interview_app import i18n
from interview_app.sanitize import MAX_MESSAGE_CHARS, candidate_text
from interview_app.state.candidate import CandidateState
from interview_app.text_host import Snapshot, TextInterviewError, TextInterviewHost, get_host, text_interview_sweeper

#: The page's clock ("m:ss left") moves once a second: a mirror without news wakes this often.
TICK_SECONDS = 1.0
#: How often a connected tab renews its lease.
RENEW_SECONDS = 3.0
#: A mirror whose tab stays disconnected this long stops (a reload starts a new one).
GIVE_UP_SECONDS = 300.0
#: While another app process still holds the interview's process lease ("one moment"), the
#: page tries again this often, for at most the lease plus ``RESUME_SLACK_SECONDS``.
RESUME_RETRY_SECONDS = 2.0
RESUME_SLACK_SECONDS = 15.0

_app: Any = None
_generations = itertools.count(1)
_mirrors: dict[str, int] = {}  # client token → generation of the mirror loop running for it in this process


@contextlib.asynccontextmanager
async def text_interview_lifespan(app: Any) -> AsyncIterator[None]:
    """App lifespan task: the text interview sweeper (idle, time limits, orphans)."""
    global _app
    _app = app
    async with text_interview_sweeper():
        yield


def _tab_connected(client_token: str) -> bool:
    """Whether the tab with this client token has a live websocket to this process."""
    namespace = getattr(_app, "event_namespace", None)
    if namespace is None:
        return True  # no app reference (e.g. tests): count the tab as present
    return client_token in namespace.token_to_sid


class TextInterviewState(CandidateState):
    """The chat as the candidate sees it."""

    ti_status: str = "idle"  # idle | starting | active | refused | finished | error
    ti_notice: str = ""  # why the interview cannot go on here (refused / error)
    ti_error: str = ""  # a message that could not be sent, and what to do
    ti_interview_id: str = ""
    ti_messages: list[dict[str, str]] = []  # the conversation so far
    ti_partial: str = ""  # the reply being written, as it streams (apart: each word sends only this)
    ti_thinking: bool = False
    ti_sending: bool = False
    ti_question_number: int = 0
    ti_question_count: int = 0
    ti_questions_covered: int = 0
    ti_seconds_left: int = 0
    ti_end_reason: str = ""
    ti_question_text: str = ""  # "Question i of n" in the candidate's language
    ti_time_text: str = ""  # "m:ss left"
    ti_confirm_end: bool = False
    # A refused answer goes back into the box as the box's default value, and ``ti_draft_key``
    # remounts the box to show it. Never echo candidate text with rx.set_value / call_script:
    # Reflex formats those arguments into a Var, and its var-tag decoder loops forever on text
    # such as "<reflex.Var>x</reflex.Var>" (docs/SECURITY.md). State vars go out as plain JSON.
    ti_draft: str = ""
    ti_draft_key: int = 0
    _ti_link: str = ""  # the link the shown conversation belongs to

    def _apply(self, snap: Snapshot) -> None:
        self.ti_interview_id = snap.interview_id
        messages = [{"speaker": m.speaker, "text": m.text, "streaming": ""} for m in snap.messages if not m.streaming]
        if messages != self.ti_messages:  # an assignment sends the whole list to the page
            self.ti_messages = messages
        partial = snap.messages[-1].text if snap.messages and snap.messages[-1].streaming else ""
        if partial != self.ti_partial:
            self.ti_partial = partial
        self.ti_thinking = snap.thinking
        self.ti_question_number = snap.question_number
        self.ti_question_count = snap.question_count
        self.ti_questions_covered = snap.questions_covered
        self.ti_seconds_left = snap.seconds_left
        self.ti_end_reason = snap.end_reason
        # Sentences set here, not computed from ``lang``: a var of this state computed from the
        # parent's ``lang`` would tie every change of the language to loading this state.
        minutes, seconds = divmod(max(0, snap.seconds_left), 60)
        self.ti_question_text = self._t("text.question", i=snap.question_number, n=snap.question_count)
        self.ti_time_text = self._t("text.time_left", time=f"{minutes}:{seconds:02d}")
        if snap.finished:
            self.ti_status = "finished"
            self.ti_confirm_end = False
        elif self.ti_status in ("idle", "starting"):
            self.ti_status = "active"

    def _put_back(self, text: str) -> None:
        """Show a refused answer in the box again (the form cleared it on submit)."""
        if text.strip() or self.ti_draft:
            self.ti_draft = text if text.strip() else ""
            self.ti_draft_key += 1

    def _refuse(self, err: TextInterviewError) -> None:
        if err.reason in ("finished",):
            self.ti_status = "finished"
        else:
            self.ti_status = "refused"
        self.ti_notice = self._say(err)
        self.ti_thinking = False

    def _say(self, err: TextInterviewError) -> str:
        """The refusal in the candidate's language (the service's English sentence for a reason without one)."""
        key = f"text.err.{err.reason}"
        seconds = int(get_host().lease.total_seconds())
        return self._t(key, limit=MAX_MESSAGE_CHARS, seconds=seconds) if i18n.has(key) else err.message

    # -- opening and mirroring ---------------------------------------------------------------
    @rx.event(background=True)
    async def open_interview(self) -> None:
        """On mount of the panel: start or resume the interview, then mirror it until it ends."""
        async with self:
            owner = self.router.session.client_token
            raw_token = self._raw_token()
            if raw_token != self._ti_link:  # another link in this tab: forget the old conversation
                self._ti_link = raw_token
                self.ti_messages, self.ti_partial, self.ti_interview_id, self.ti_status = [], "", "", "idle"
            if not self.ti_messages:  # a reload keeps showing the conversation while it resumes
                self.ti_status = "starting"
            self.ti_notice = ""
            self.ti_error = ""
            # A send whose process died never cleared this; the conversation decides again below.
            self.ti_sending = False
        generation = next(_generations)
        _mirrors[owner] = generation
        host = get_host()
        try:
            try:
                snap = await self._retrying(host, lambda: host.open(raw_token, owner))
            except TextInterviewError as err:
                async with self:
                    self._refuse(err)
                return
            async with self:
                self.ti_status = "active"
                self.ti_error = ""
                self._apply(snap)
            await self._mirror(host, snap.interview_id, owner, generation)
        finally:
            if _mirrors.get(owner) == generation:  # no newer mirror of this tab took its place
                del _mirrors[owner]

    @rx.event
    def resume_after_reconnect(self) -> Any:
        """The page's on_load, which runs again on every reconnect of the tab's websocket.

        A text interview this tab shows as going on, with no mirror of the tab in this process,
        was driven by a process that died (or the tab came back through another process behind
        the load balancer): it is opened again here, which resumes it from the database and
        answers a message the other process died on. Without this the tab would wait, with
        nothing sent by itself, until the candidate reloaded. A fresh page load also opens the
        panel on mount; the newer of two opens keeps the mirror.
        """
        if self.step == "text" and self.ti_status == "active" and self.router.session.client_token not in _mirrors:
            return TextInterviewState.open_interview
        return None

    async def _retrying(self, host: TextInterviewHost, call: Callable[[], Awaitable[Snapshot]]) -> Snapshot:
        """``call()``, tried again while another process still drives the interview ("one moment")."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + host.process_lease.total_seconds() + RESUME_SLACK_SECONDS
        while True:
            try:
                return await call()
            except TextInterviewError as err:
                if err.reason != "one_moment" or loop.time() >= give_up:
                    raise
                async with self:
                    self.ti_error = self._say(err)
            await asyncio.sleep(RESUME_RETRY_SECONDS)

    async def _mirror(self, host: TextInterviewHost, interview_id: str, owner: str, generation: int) -> None:
        loop = asyncio.get_running_loop()
        seen, last_second, last_renew = -1, -1, loop.time()
        away_since: float | None = None
        while _mirrors.get(owner) == generation:
            now = loop.time()
            if not _tab_connected(owner):
                away_since = away_since or now
                if now - away_since > GIVE_UP_SECONDS:
                    return
                await asyncio.sleep(TICK_SECONDS)  # no renewal: after the lease another tab may take over
                continue
            away_since = None
            if now - last_renew >= RENEW_SECONDS:
                last_renew = now
                if not host.renew(interview_id, owner):
                    async with self:
                        if host.snapshot(interview_id) is None:
                            self.ti_status, self.ti_notice = "error", self._t("text.err.gone")
                        else:
                            self.ti_status = "refused"
                            self.ti_notice = self._t("text.err.taken_over")
                    return
            snap = host.snapshot(interview_id)
            if snap is None:
                return
            if snap.version != seen or int(now) != last_second:
                seen, last_second = snap.version, int(now)
                async with self:
                    self._apply(snap)
            if snap.finished:
                return
            # Changes made while this mirror was applying the last one end the wait at once.
            await host.wait_for_change(interview_id, seen, timeout=TICK_SECONDS - now % TICK_SECONDS)

    # -- the candidate's actions ---------------------------------------------------------------------
    @rx.event(background=True)
    async def send_message(self, form_data: dict[str, Any]) -> Any:
        """Send the answer; when it cannot go now, say why and put the text back in the box.

        The form clears the box on submit, so an answer refused (e.g. Enter pressed while the
        previous one is still on its way) would otherwise vanish without a word. The text is
        made safe here, where it enters from the browser (:func:`candidate_text`).
        """
        answer = candidate_text(form_data.get("message") if isinstance(form_data, dict) else None)
        async with self:
            if self.ti_status != "active":
                return
            if self.ti_sending:
                self.ti_error = self._t("text.err.busy")
                self._put_back(answer.text)
                return
            owner = self.router.session.client_token
            interview_id = self.ti_interview_id
            self.ti_sending = True
            self.ti_error = ""
            if self.ti_draft:  # the box was showing a put-back answer: it is empty now
                self._put_back("")
        host = get_host()
        try:
            # The interview may have been driven by another app process until now: then this
            # process takes it over (once that process's lease has lapsed) and answers.
            snap = await self._retrying(host, lambda: host.send(interview_id, owner, answer.text))
        except TextInterviewError as err:
            async with self:
                self.ti_sending = False
                if err.reason in ("open_elsewhere", "gone"):
                    self._refuse(err)
                    return
                self.ti_error = self._say(err)
                self._put_back(answer.text)
            return
        async with self:
            self.ti_sending = False
            if self.ti_error == self._t("text.err.one_moment"):  # this send's own wait is over
                self.ti_error = ""  # (a refusal of an Enter pressed meanwhile stays on screen)
            self._apply(snap)
        if owner not in _mirrors and not snap.finished:
            # Resumed here: no mirror of this tab runs in this process yet (streaming, time left).
            return TextInterviewState.open_interview

    @rx.event
    def set_confirm_end(self, value: bool) -> None:
        self.ti_confirm_end = bool(value)

    @rx.event(background=True)
    async def end_interview(self) -> None:
        async with self:
            owner = self.router.session.client_token
            interview_id = self.ti_interview_id
            self.ti_confirm_end = False
            self.ti_sending = True
        host = get_host()
        try:
            snap = await self._retrying(host, lambda: host.end(interview_id, owner))
        except TextInterviewError as err:
            async with self:
                self.ti_sending = False
                self._refuse(err)
            return
        async with self:
            self.ti_sending = False
            self._apply(snap)

    # -- derived ---------------------------------------------------------------------------------------
    @rx.var
    def ti_progress_percent(self) -> int:
        if not self.ti_question_count:
            return 0
        return round(100 * self.ti_questions_covered / self.ti_question_count)

    @rx.var
    def ti_streaming(self) -> bool:
        return bool(self.ti_partial)

    @rx.var
    def ti_can_send(self) -> bool:
        return self.ti_status == "active" and not self.ti_thinking and not self.ti_sending
