"""How often one browser tab may send each kind of event (issue 16 item 4).

Every byte of an event is the sender's, and so is how often it comes: a candidate page (no
sign-in needed beyond the link, and some events need not even that) could send
``on_error`` or ``accept_consent`` thousands of times a second, each one a database write or
a state change. :class:`EventRateLimitMiddleware` — a Reflex event middleware, run for every
event before its handler — keeps a token bucket per (tab, event name) and one per tab for all
events together; an event over its bucket is dropped (logged at most once a minute per tab)
and its handler never runs. The rates are far above what the pages send on their own (they are
caps on abuse, not pacing): the page's own events stay well inside them (the e2e suite runs
with them on).

The buckets live in this process's memory, bounded (least recently used tab evicted first);
with several app processes each counts its own connections, which is where their events land.
The check runs after Reflex has loaded the tab's state (middleware cannot run earlier without
patching Reflex), so a flood still costs a state lookup per event, but no handler work.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reflex.middleware import Middleware

if TYPE_CHECKING:
    from reflex.app import App
    from reflex.event import Event
    from reflex.state import BaseState, StateUpdate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rate:
    """A token bucket: ``burst`` events at once, refilled at ``per_second``."""

    per_second: float
    burst: int


#: Any event not listed below, per tab and event name.
DEFAULT_RATE = Rate(per_second=20, burst=100)
#: All events of one tab together.
TAB_RATE = Rate(per_second=40, burst=200)
#: Candidate-page events by handler name (the same name on CandidateState and TextInterviewState).
CANDIDATE_RATES: dict[str, Rate] = {
    # Each a row or an interview event; a person accepts once, joins or retries a few times.
    "accept_consent": Rate(per_second=1 / 10, burst=5),
    "join": Rate(per_second=1 / 5, burst=10),
    "retry": Rate(per_second=1 / 5, burst=10),
    "choose_text": Rate(per_second=1 / 5, burst=10),
    "open_interview": Rate(per_second=1 / 5, burst=10),
    "end_interview": Rate(per_second=1 / 5, burst=10),
    "load_link": Rate(per_second=1 / 2, burst=20),
    # A message waits for the interviewer's answer; nobody types 10 in a row in seconds.
    "send_message": Rate(per_second=1 / 2, burst=10),
    # What the browser reports about devices and the connection: a few per change.
    "on_mic_device": Rate(per_second=1, burst=20),
    "on_media_failure": Rate(per_second=1, burst=20),
    "on_device_error": Rate(per_second=1, burst=20),
    "on_error": Rate(per_second=1, burst=20),
    "on_connection_state": Rate(per_second=2, burst=30),
    "on_integrity_signal": Rate(per_second=2, burst=30),
}
#: How many (tab, event) buckets one process keeps before forgetting the least recently used.
MAX_BUCKETS = 100_000
_LOG_EVERY_SECONDS = 60.0


def _candidate_event_names() -> dict[str, Rate]:
    from interview_app.state.candidate import CandidateState
    from interview_app.state.text_interview import TextInterviewState

    out: dict[str, Rate] = {}
    for cls in (CandidateState, TextInterviewState):
        for name, rate in CANDIDATE_RATES.items():
            if name in cls.event_handlers:
                out[f"{cls.get_full_name()}.{name}"] = rate
    return out


@dataclass
class EventBuckets:
    """Token buckets keyed by (tab token, event name); ``allow`` says whether one more event fits."""

    rates: dict[str, Rate] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
    max_buckets: int = MAX_BUCKETS
    _buckets: OrderedDict[tuple[str, str], tuple[float, float]] = field(default_factory=OrderedDict)

    def _take(self, key: tuple[str, str], rate: Rate, now: float) -> bool:
        tokens, last = self._buckets.pop(key, (float(rate.burst), now))
        tokens = min(float(rate.burst), tokens + (now - last) * rate.per_second)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self.max_buckets:
            self._buckets.popitem(last=False)
        return allowed

    def allow(self, token: str, event_name: str) -> bool:
        now = self.clock()
        if not self._take((token, event_name), self.rates.get(event_name, DEFAULT_RATE), now):
            return False
        return self._take((token, "*"), TAB_RATE, now)

    def __len__(self) -> int:
        return len(self._buckets)


@dataclass
class EventRateLimitMiddleware(Middleware):
    """Drops an event over its rate before its handler runs (see the module docstring)."""

    buckets: EventBuckets | None = None
    dropped: int = 0
    _last_log: dict[str, float] = field(default_factory=dict)

    def _buckets_now(self) -> EventBuckets:
        if self.buckets is None:
            self.buckets = EventBuckets(rates=_candidate_event_names())
        return self.buckets

    async def preprocess(self, app: App, state: BaseState, event: Event) -> StateUpdate | None:
        return self.check(_tab_token(state), event.name)

    def check(self, token: str, event_name: str) -> StateUpdate | None:
        """None when the event may run, else the empty update that drops it."""
        buckets = self._buckets_now()
        if buckets.allow(token, event_name):
            return None
        from reflex.state import StateUpdate

        self.dropped += 1
        now = buckets.clock()
        if now - self._last_log.get(token, -_LOG_EVERY_SECONDS) >= _LOG_EVERY_SECONDS:
            if len(self._last_log) > 10_000:
                self._last_log.clear()
            self._last_log[token] = now
            log.warning("dropping events over their rate from tab %s…: %s", token[:8], event_name.rsplit(".", 1)[-1][:80])
        return StateUpdate()


def _tab_token(state: BaseState) -> str:
    """The tab (Reflex client token) the event came from: Reflex records it in the state's router data first."""
    from reflex_base import constants

    return str(state.router_data.get(constants.RouteVar.CLIENT_TOKEN, ""))
