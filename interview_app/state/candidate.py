"""State of the candidate's interview page (`/interview/[token]`).

The flow: link check → consent → device check → join (voice room), or → text
interview when LiveKit is not configured or the candidate cannot use a
microphone. Database work runs in a worker thread (``asyncio.to_thread``): the
start service holds a row lock while it talks to LiveKit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import reflex as rx

from interview_app import i18n
from interview_app.db import session_scope
from interview_app.sanitize import MAX_MESSAGE_CHARS
from interview_app.services.accommodations import KINDS as ADJUSTMENT_KINDS
from interview_app.services.accommodations import request_accommodation
from interview_app.services.candidate_link import (
    choose_language,
    choose_text_mode,
    describe_link,
    record_consent,
    record_integrity_signal,
    report_interviewer_lost,
)
from interview_app.services.start import StartError, start_interview
from interview_app.settings import get_settings

log = logging.getLogger(__name__)

#: livekit-client DisconnectReason values (protocol enum) the page explains differently.
_CLIENT_INITIATED = 1
_DUPLICATE_IDENTITY = 2
_ROOM_ENDED = {4, 5, 10}  # participant removed, room deleted, room closed

#: While an adjustment request keeps the interview waiting, the page looks for the answer this often, this long.
ADJUST_POLL_SECONDS = 3.0
ADJUST_WATCH_SECONDS = 3600.0
#: How long the page waits for the result after the interviewer left before it calls the interviewer lost.
AGENT_LOST_SECONDS = 10.0
AGENT_LOST_POLL_SECONDS = 1.0

#: livekit-agents agent states → catalogue keys of their sentence.
_AGENT_STATE_KEYS = {
    "initializing": "agent.initializing",
    "listening": "agent.listening",
    "thinking": "agent.thinking",
    "speaking": "agent.speaking",
    "pre-connect-buffering": "agent.initializing",
    "failed": "agent.failed",
}


#: Device failures by name: LiveKit's MediaDeviceFailure and the browser's getUserMedia errors.
_BLOCKED = frozenset({"PermissionDenied", "NotAllowedError", "SecurityError"})
_MISSING = frozenset({"NotFound", "NotFoundError", "OverconstrainedError"})

#: Longest period away from the page recorded (the clock is the browser's).
_MAX_AWAY_MS = 24 * 3600 * 1000

#: Longest browser-supplied identifier kept (device ids are ~64 characters in Chromium).
_MAX_BROWSER_ID = 128


def _from_page(value: object, limit: int = _MAX_BROWSER_ID) -> str:
    """A string the page sent (device id, failure name, error message): at most ``limit`` printable characters; non-strings are empty."""
    text = value if isinstance(value, str) else ""
    return "".join(ch for ch in text[:limit] if ch.isprintable())


def _run_db(fn: Callable[..., Any], *args: Any) -> Any:
    with session_scope() as session:
        return fn(session, *args)


class CandidateState(rx.State):
    """The candidate's flow; never exposes the token hash or anything about other interviews."""

    link_state: str = "loading"
    message: str = ""
    candidate_name: str = ""
    role_title: str = ""
    duration_minutes: int = 0
    org_name: str = ""
    support_email: str = ""
    consent_text: str = ""
    allow_text_mode: bool = False
    voice_available: bool = False
    agent_join_timeout_seconds: int = 30
    #: The language of the interview and of this page (a catalogue in interview_app/i18n).
    lang: str = i18n.DEFAULT
    #: The languages the candidate may choose: [{"code", "name"}]; the picker shows when there are several.
    language_options: list[dict[str, str]] = []
    language_locked: bool = False  # the interview started: its language is fixed

    # An adjustment (accommodation) asked for before the start: extra time, text instead of voice, a human.
    adjust_open: bool = False
    adjust_kinds: list[str] = []
    adjust_status: str = ""  # "" | requested | granted | declined
    adjust_waiting: bool = False  # the template makes the interview wait for the hiring team's answer
    adjust_notice: str = ""  # what happened to the request, in a sentence
    adjust_error: str = ""
    extra_time_percent: int = 0

    step: str = "consent"  # consent | devices | room | text
    mode: str = "voice"  # voice | text (the text interview panel reads this)
    consent_checked: bool = False
    rejoining: bool = False

    mic_open: bool = False  # the device check's microphone is open (the browser allowed it)
    mic_ready: bool = False  # ... and heard the candidate
    mic_choice: str = ""  # the microphone the candidate picked ("" = the browser's default)
    mic_device_id: str = ""  # the microphone heard, which the room opens
    camera_on: bool = False
    speaker_tested: bool = False
    device_error: str = ""

    joining: bool = False
    start_error: str = ""
    server_url: str = ""
    room_token: str = ""
    room_name: str = ""
    connect: bool = False
    connection: str = "idle"  # idle | connecting | connected | reconnecting | disconnected | failed | left | ended
    connection_error: str = ""
    agent_present: bool = False
    agent_state: str = ""
    agent_wait_expired: bool = False
    ended_ok: bool = True  # connection == "ended": the interview finished (True) or could not go on (False)

    hidden_count: int = 0
    hidden_ms: int = 0
    blur_count: int = 0
    blur_ms: int = 0
    #: signal → when (the browser's clock, ms) the candidate's attention left the page, until it comes back.
    _away_since: dict[str, int] = {}

    _attempt: int = 0
    _adjust_watch: int = 0
    _agent_seen: bool = False

    def _raw_token(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    def _t(self, key: str, **values: object) -> str:
        """One sentence of the catalogue in the candidate's language."""
        return i18n.t(self.lang, key, support=self.support_email, **values)

    def _consent_wording(self) -> str:
        # Without LiveKit the interview can only be a text chat: the consent says what is stored then.
        return get_settings().consent_for(voice=self.voice_available and self.mode == "voice", language=self.lang)

    # -- link --------------------------------------------------------------
    @rx.event
    async def load_link(self):  # noqa: ANN201 - may start the watch of an adjustment request
        settings = get_settings()
        self.org_name = settings.org_name
        self.support_email = settings.support_email
        self.voice_available = settings.livekit_configured
        self.agent_join_timeout_seconds = settings.agent_join_timeout_seconds
        view = await asyncio.to_thread(_run_db, describe_link, self._raw_token())
        self.link_state = view.state
        self.message = view.message
        self.language_options = [{"code": code, "name": i18n.language_name(code)} for code in view.languages]
        self.language_locked = view.status not in ("", "invited")
        if view.language_chosen or self.language_locked:
            self.lang = view.language
        else:
            self.lang = i18n.best_language(self.router.headers.accept_language, view.languages or (view.language,))
        self.candidate_name = view.candidate_name
        self.role_title = view.role_title
        self.duration_minutes = view.duration_minutes
        self.allow_text_mode = view.allow_text_mode
        # A fresh visit (or a reload) starts the flow again; the room itself is reused on join.
        # A candidate coming back to a voice interview in progress already consented: straight to devices.
        self.mode = view.mode
        self.consent_text = self._consent_wording()
        self.rejoining = view.status == "in_progress" and self.mode == "voice" and self.voice_available
        text_resume = view.status == "in_progress" and self.mode == "text"
        # A text interview in progress goes straight back to its chat (consent was given when it started).
        self.step = "text" if text_resume else ("devices" if self.rejoining else "consent")
        self.consent_checked = False
        self.mic_open = self.mic_ready = False
        self.mic_choice = self.mic_device_id = ""
        self.camera_on = False
        self.speaker_tested = False
        self.device_error = ""
        self._reset_room()
        self.start_error = ""
        self.hidden_count = self.hidden_ms = self.blur_count = self.blur_ms = 0
        self._away_since = {}
        self.adjust_open = False
        self.adjust_kinds = []
        self.adjust_error = ""
        self._show_adjustment(view.accommodation_status, view.accommodation_waiting, view.extra_time_percent)
        if self.adjust_waiting:
            return CandidateState.watch_adjustment(self._next_adjust_watch())  # type: ignore[misc]  # chains the handler (an event spec)
        return None

    def _reset_room(self) -> None:
        self.joining = False
        self.server_url = ""
        self.room_token = ""
        self.room_name = ""
        self.connect = False
        self.connection = "idle"
        self.connection_error = ""
        self.agent_present = False
        self.agent_state = ""
        self.agent_wait_expired = False
        self.ended_ok = True
        self._agent_seen = False
        self._attempt += 1

    # -- language, consent and mode --------------------------------------------
    @rx.event
    async def set_language(self, code: str) -> None:
        """The candidate picked the interview's language (before it starts): page, consent and interviewer follow."""
        offered = {option["code"] for option in self.language_options}
        if self.language_locked or not isinstance(code, str) or code not in offered or code == self.lang:
            return
        if await asyncio.to_thread(_run_db, choose_language, self._raw_token(), code):
            self.lang = code
            self.consent_text = self._consent_wording()
            self.consent_checked = False  # the wording changed: agreed to again, in the language it is read in
            self._show_adjustment(self.adjust_status, self.adjust_waiting, self.extra_time_percent)  # its sentence too

    @rx.event
    def set_consent_checked(self, value: bool) -> None:
        self.consent_checked = bool(value)

    @rx.event
    async def accept_consent(self) -> None:
        if not self.consent_checked or self.link_state != "valid" or self.adjust_waiting:
            return
        if not await asyncio.to_thread(_run_db, record_consent, self._raw_token(), self.consent_text):
            self.link_state = "unknown"
            return
        if self.mode == "text" or not self.voice_available:
            self.mode = "text"
            self.step = "text"
        else:
            self.step = "devices"

    # -- adjustments (accommodations) ----------------------------------------------
    def _show_adjustment(self, status: str, waiting: bool, extra_time_percent: int) -> None:
        self.adjust_status = status
        self.adjust_waiting = bool(waiting)
        self.extra_time_percent = int(extra_time_percent or 0)
        if status == "requested":
            self.adjust_notice = self._t("adjust.sent_wait" if waiting else "adjust.sent_proceed")
        elif status == "granted":
            self.adjust_notice = (
                self._t("adjust.granted_time", percent=self.extra_time_percent, minutes=self.duration_minutes)
                if self.extra_time_percent
                else self._t("adjust.granted")
            )
        elif status == "declined":
            self.adjust_notice = self._t("adjust.declined")
        else:
            self.adjust_notice = ""

    def _next_adjust_watch(self) -> int:
        self._adjust_watch += 1
        return self._adjust_watch

    @rx.event
    def toggle_adjustments(self) -> None:
        self.adjust_open = not self.adjust_open and self.adjust_status == ""
        self.adjust_error = ""

    @rx.event
    def set_adjust_kind(self, kind: str, checked: bool) -> None:
        if kind not in ADJUSTMENT_KINDS:
            return
        kinds = [k for k in self.adjust_kinds if k != kind]
        self.adjust_kinds = [k for k in ADJUSTMENT_KINDS if k in kinds or (k == kind and bool(checked))]

    @rx.event
    async def send_adjustment(self, form_data: dict):  # noqa: ANN201 - may start the watch
        """The candidate asked for an adjustment: to the hiring team (email, admin list); text now when the template allows it."""
        if self.link_state != "valid" or self.step not in ("consent", "devices") or self.adjust_status:
            return None
        if not self.adjust_kinds:
            self.adjust_error = self._t("adjust.pick_one")
            return None
        note = form_data.get("note") if isinstance(form_data, dict) else None
        token, kinds = self._raw_token(), list(self.adjust_kinds)

        def send(session):  # noqa: ANN001, ANN202
            return request_accommodation(session, token, kinds, note if isinstance(note, str) else "", settings=get_settings())

        view = await asyncio.to_thread(_run_db, send)
        if view is None:
            self.adjust_error = self._t("adjust.refused")
            return None
        self.adjust_open = False
        self.adjust_error = ""
        self._show_adjustment(view.status, view.waiting, view.extra_time_percent)
        if "text" in kinds and self.allow_text_mode and self.mode != "text":
            if await asyncio.to_thread(_run_db, choose_text_mode, token):
                self.mode = "text"
                self.consent_text = self._consent_wording()
                self.consent_checked = False
                if self.step == "devices":
                    self.step = "text"
        if self.adjust_waiting:
            return CandidateState.watch_adjustment(self._next_adjust_watch())  # type: ignore[misc]  # chains the handler (an event spec)
        return None

    @rx.event(background=True)
    async def watch_adjustment(self, watch: int) -> None:
        """While the interview waits for the hiring team's answer, look every few seconds (for at most an hour)."""
        token = self._raw_token()
        for _ in range(int(ADJUST_WATCH_SECONDS / ADJUST_POLL_SECONDS)):
            await asyncio.sleep(ADJUST_POLL_SECONDS)
            view = await asyncio.to_thread(_run_db, describe_link, token)
            async with self:
                if watch != self._adjust_watch or self.link_state != "valid":
                    return
                if view.accommodation_status != self.adjust_status or not view.accommodation_waiting:
                    self.duration_minutes = view.duration_minutes
                    self._show_adjustment(view.accommodation_status, view.accommodation_waiting, view.extra_time_percent)
                    if not self.adjust_waiting:
                        return

    @rx.event
    async def choose_text(self) -> None:
        if not self.allow_text_mode or self.step not in ("devices", "consent"):
            return
        if await asyncio.to_thread(_run_db, choose_text_mode, self._raw_token()):
            self.mode = "text"
            self.step = "text"
        else:
            self.device_error = self._t("devices.text_unavailable")

    # -- device check ------------------------------------------------------------
    @rx.event
    def on_mic_open(self, device_id: str) -> None:
        """The browser opened the device check's microphone."""
        self.mic_open = True
        self.device_error = ""
        self.mic_device_id = _from_page(device_id) or self.mic_choice

    @rx.event
    def on_mic_ready(self, device_id: str) -> None:
        self.mic_ready = True
        self.device_error = ""
        if device_id := _from_page(device_id):
            self.mic_device_id = device_id

    @rx.event
    def on_mic_device(self, device_id: str) -> None:
        """The candidate picked another microphone: it must hear them again before they can join."""
        self.mic_choice = self.mic_device_id = _from_page(device_id)
        self.mic_ready = False

    @rx.event
    def toggle_camera(self) -> None:
        self.camera_on = not self.camera_on

    @rx.event
    def on_speaker_test(self) -> None:
        self.speaker_tested = True

    @rx.event
    def on_device_error(self, error_name: str, kind: str = "audioinput") -> None:
        """The device check could not open the microphone (or the camera, ``kind="videoinput"``)."""
        error = _from_page(error_name, 40) or "Unknown"
        if kind == "videoinput":
            self.camera_on = False
            self.device_error = self._t("device.camera_failed", error=error)
        elif error in _BLOCKED:
            self.device_error = self._t("device.mic_blocked")
        elif error in _MISSING:
            self.device_error = self._t("device.mic_missing")
        else:
            self.device_error = self._t("device.mic_failed", error=error)

    @rx.var
    def audio_options(self) -> dict[str, str]:
        """LiveKitRoom ``audio``: the microphone chosen in the device check."""
        return {"deviceId": self.mic_device_id} if self.mic_device_id else {}

    # -- joining the room ------------------------------------------------------------
    @rx.event
    async def join(self):  # noqa: ANN201 - an event generator
        if self.joining or self.link_state != "valid" or self.mode == "text" or self.adjust_waiting:
            return
        self._reset_room()
        self.joining = True
        self.start_error = ""
        yield
        try:
            started = await asyncio.to_thread(start_interview, self._raw_token())
        except StartError as err:
            self.joining = False
            key = f"start.{err.reason}"
            self.start_error = self._t(key) if i18n.has(key) else err.message
            if err.code in (404, 410):
                self.link_state = err.reason
                self.message = err.message
            return
        except Exception:
            log.exception("start_interview failed")
            self.joining = False
            self.start_error = self._t("room.start_failed")
            return
        self.joining = False
        self.server_url = started.server_url
        self.room_token = started.token
        self.room_name = started.room_name
        self.connection = "connecting"
        self.connect = True
        self.step = "room"
        self.language_locked = True

    @rx.event
    def retry(self):  # noqa: ANN201
        """Join again with a fresh token (the service reuses the room and the interviewer)."""
        return CandidateState.join

    @rx.event
    def on_connected(self):  # noqa: ANN201
        self.connection = "connected"
        self.connection_error = ""
        return CandidateState.wait_for_agent(self._attempt)  # type: ignore[misc]  # chains the handler (an event spec)

    @rx.event
    def on_connection_state(self, state: str) -> None:
        if self.connection in ("failed", "left", "ended"):
            return
        mapped = {"signalReconnecting": "reconnecting"}.get(state, state)
        if mapped in ("connecting", "connected", "reconnecting"):
            self.connection = mapped

    @rx.event
    def on_disconnected(self, reason: int) -> None:
        self.connect = False
        if self.connection == "failed":
            return  # on_error already said what happened
        if reason == _CLIENT_INITIATED:
            self.connection = "left"
            self.connection_error = self._t("room.left")
        elif reason == _DUPLICATE_IDENTITY:
            self.connection = "disconnected"
            self.connection_error = self._t("room.duplicate")
        elif reason in _ROOM_ENDED:
            self._end(self._t("room.ended"))
        else:
            self.connection = "disconnected"
            self.connection_error = self._t("room.dropped")

    @rx.event
    def leave_room(self) -> None:
        """The candidate confirmed "Leave interview": disconnect (on_disconnected then says how to rejoin)."""
        if self.connection in ("connected", "reconnecting", "connecting"):
            self.connect = False

    @rx.event
    def on_error(self, message: str) -> None:
        self.connect = False
        self.connection = "failed"
        message = _from_page(message, 200)
        detail = f" ({message})" if message else ""
        self.connection_error = self._t("room.error", detail=detail)

    @rx.event
    def on_media_failure(self, failure: str, kind: str) -> None:
        """In the room: LiveKit's MediaDeviceFailure name, or the browser's error name (the mute button)."""
        failure = _from_page(failure, 40) or "Unknown"
        device = self._t("device.camera" if kind == "videoinput" else "device.microphone")
        if failure in _BLOCKED:
            self.device_error = self._t("device.blocked", device=device)
        elif failure in _MISSING:
            self.device_error = self._t("device.missing", device=device)
        else:
            self.device_error = self._t("device.failed", device=device, error=failure)

    def _end(self, sentence: str, *, ok: bool = True) -> None:
        """The interview is over for this page: leave the room and say why."""
        self.connect = False
        self.connection = "ended"
        self.connection_error = sentence
        self.ended_ok = ok

    @rx.event
    def on_agent_presence(self, present: bool):  # noqa: ANN201 - may start the departure watch
        self.agent_present = bool(present)
        if present:
            self.agent_wait_expired = False
            self._agent_seen = True
            return None
        if self._agent_seen and self.connection in ("connected", "reconnecting"):
            return CandidateState.watch_agent_departure(self._attempt)  # type: ignore[misc]  # chains the handler (an event spec)
        return None

    @rx.event(background=True)
    async def watch_agent_departure(self, attempt: int) -> None:
        """The interviewer left the room: the interview ended, or its process died.

        A finished interview shows its end as soon as the result is stored (the interviewer
        also closes the room, which ends the connection with ROOM_DELETED). An interviewer
        that is still gone after ``AGENT_LOST_SECONDS`` with no result was lost: the interview
        is failed with that reason and the candidate is told so in a sentence.
        """
        token = self._raw_token()
        for _ in range(int(AGENT_LOST_SECONDS / AGENT_LOST_POLL_SECONDS)):
            view = await asyncio.to_thread(_run_db, describe_link, token)
            async with self:
                if attempt != self._attempt or self.agent_present or self.connection == "ended":
                    return
                if view.state != "valid":
                    self._end(self._t("room.ended") if view.state == "finished" else view.message, ok=view.state == "finished")
                    return
            await asyncio.sleep(AGENT_LOST_POLL_SECONDS)
        lost = await asyncio.to_thread(report_interviewer_lost, token)
        async with self:
            if attempt != self._attempt or self.agent_present or self.connection == "ended":
                return
            if lost == "finished":
                self._end(self._t("room.ended"))
            elif lost in ("failed", "marked failed"):
                self._end(self._t("room.agent_lost"), ok=False)

    @rx.event
    def on_agent_state(self, state: str) -> None:
        self.agent_state = state[:40] if isinstance(state, str) else ""

    @rx.event(background=True)
    async def wait_for_agent(self, attempt: int) -> None:
        """After connecting, give the interviewer settings.agent_join_timeout_seconds to arrive."""
        await asyncio.sleep(get_settings().agent_join_timeout_seconds)
        async with self:
            self._agent_wait_over(attempt)

    def _agent_wait_over(self, attempt: int) -> None:
        """The join timeout of connection ``attempt`` ran out: warn unless the agent came or we moved on."""
        if attempt == self._attempt and self.connection == "connected" and not self.agent_present:
            self.agent_wait_expired = True

    # -- integrity -------------------------------------------------------------------
    @rx.event
    async def on_integrity_signal(self, signal: str, away: bool, at_ms: int) -> None:
        """The page lost (``away``) or got back the candidate's attention at ``at_ms`` (the browser's clock).

        ``tab_hidden`` (visibility) and ``window_blur`` (focus) are counted and recorded for human review
        with how long they lasted, when the candidate comes back; only after the consent.
        """
        if signal not in ("tab_hidden", "window_blur") or self.step == "consent" or isinstance(at_ms, bool):
            return
        try:
            at = int(at_ms)
        except (TypeError, ValueError, OverflowError):
            return
        since = self._away_since.get(signal)
        if away is True:
            if since is None:
                self._away_since = {**self._away_since, signal: at}
            return
        if since is None:
            return
        self._away_since = {k: v for k, v in self._away_since.items() if k != signal}
        duration_ms = min(max(0, at - since), _MAX_AWAY_MS)
        if signal == "tab_hidden":
            self.hidden_count += 1
            self.hidden_ms += duration_ms
            count = self.hidden_count
        else:
            self.blur_count += 1
            self.blur_ms += duration_ms
            count = self.blur_count
        await asyncio.to_thread(_run_db, record_integrity_signal, self._raw_token(), signal, duration_ms, count)

    # -- sentences -------------------------------------------------------------------
    @rx.var
    def msg(self) -> dict[str, str]:
        """Every sentence of the page in the candidate's language (components read ``CandidateState.msg["key"]``)."""
        return i18n.catalogue(
            self.lang,
            name=self.candidate_name,
            org=self.org_name,
            role=self.role_title,
            minutes=self.duration_minutes,
            support=self.support_email,
            seconds=self.agent_join_timeout_seconds,
            limit=MAX_MESSAGE_CHARS,
        )

    @rx.var
    def text_direction(self) -> str:
        return i18n.direction(self.lang)

    @rx.var
    def connection_sentence(self) -> str:
        if self.connection_error:
            return self.connection_error
        key = {"idle": "room.idle", "connected": "room.connected", "reconnecting": "room.reconnecting"}.get(self.connection)
        if self.connection == "disconnected":
            key = "room.disconnected"
        return self._t(key or "room.connecting")

    @rx.var
    def agent_sentence(self) -> str:
        if self.connection != "connected":
            return ""
        if self.agent_present:
            return self._t(_AGENT_STATE_KEYS.get(self.agent_state, "agent.here"))
        if self.agent_wait_expired:
            return self._t("agent.not_joined", seconds=self.agent_join_timeout_seconds)
        return self._t("agent.joining")

    @rx.var
    def can_retry(self) -> bool:
        return self.step == "room" and (self.connection in ("failed", "disconnected", "left") or self.agent_wait_expired)
