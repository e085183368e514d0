"""Turn an AgentSession's conversation and metrics into TranscriptSegments, TurnLatency and the InterviewResult.

Used by the voice worker and by text interviews alike: attach a collector to any
``AgentSession`` (``collector.attach(session)``) and call ``build_result`` at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from livekit.agents import AgentSession, llm
from livekit.agents.voice.events import ConversationItemAddedEvent

import agent
from agent.progress import InterviewProgress
from interview_app.contracts import InterviewMode, InterviewPlan, InterviewResult, TranscriptSegment, TurnLatency

_SPEAKERS: dict[str, Literal["agent", "candidate"]] = {"user": "candidate", "assistant": "agent"}


class TranscriptCollector:
    """Every candidate and agent turn with offsets (ms) from the start of the interview."""

    def __init__(
        self,
        plan: InterviewPlan,
        *,
        progress: InterviewProgress | None = None,
        mode: InterviewMode | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.plan = plan
        self.progress = progress
        self.mode: InterviewMode = mode or plan.mode
        self._wall_clock = wall_clock
        self.started_wall = wall_clock()
        self.started_at = datetime.fromtimestamp(self.started_wall, UTC)
        self.segments: list[TranscriptSegment] = []
        self.latency: list[TurnLatency] = []
        self._last_end_of_turn: float | None = None

    # --- wiring ---------------------------------------------------------------------
    def attach(self, session: AgentSession) -> None:
        session.on("conversation_item_added", self.on_conversation_item)

    def on_conversation_item(self, ev: ConversationItemAddedEvent) -> None:
        item = ev.item
        if not isinstance(item, llm.ChatMessage) or item.role not in _SPEAKERS:
            return
        text = (item.text_content or "").strip()
        if not text:
            return
        metrics: dict[str, Any] = dict(item.metrics or {})
        start = metrics.get("started_speaking_at") or item.created_at
        end = metrics.get("stopped_speaking_at") or max(start, item.created_at)
        self._record_latency(item.role, metrics)
        self.add_turn(_SPEAKERS[item.role], text, start=start, end=end)

    def _record_latency(self, role: str, metrics: dict[str, Any]) -> None:
        """Per-turn latency from the turn metrics livekit-agents attaches to each ChatMessage.

        A candidate message carries ``end_of_turn_delay``; the agent reply that follows carries
        ``e2e_latency`` (end of candidate speech → first agent audio), ``llm_node_ttft`` and
        ``tts_node_ttfb``. Text turns have no speech, hence no latency entry.
        """
        if role == "user":
            self._last_end_of_turn = metrics.get("end_of_turn_delay")
            return
        if "e2e_latency" not in metrics:
            return

        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000, 1)

        self.latency.append(
            TurnLatency(
                turn=len(self.latency),
                total_ms=ms(metrics.get("e2e_latency")),
                end_of_turn_ms=ms(self._last_end_of_turn),
                llm_ttft_ms=ms(metrics.get("llm_node_ttft")),
                tts_ttfb_ms=ms(metrics.get("tts_node_ttfb")),
            )
        )
        self._last_end_of_turn = None

    # --- turns ------------------------------------------------------------------------
    def add_turn(
        self, speaker: Literal["agent", "candidate"], text: str, *, start: float | None = None, end: float | None = None
    ) -> TranscriptSegment:
        """Record one turn; ``start``/``end`` are wall-clock seconds (default: now)."""
        now = self._wall_clock()
        start = now if start is None else start
        end = max(start, now if end is None else end)
        current = self.progress.current if self.progress else None
        segment = TranscriptSegment(
            seq=len(self.segments),
            speaker=speaker,
            text=text[:20000],
            start_ms=self._offset_ms(start),
            end_ms=self._offset_ms(end),
            question_id=current.question.id if current else None,
        )
        self.segments.append(segment)
        return segment

    def _offset_ms(self, wall: float) -> int:
        return max(0, int(round((wall - self.started_wall) * 1000)))

    # --- result -------------------------------------------------------------------------
    def transcript_document(self) -> dict[str, Any]:
        """The transcript JSON written to storage."""
        return {
            "interview_id": str(self.plan.interview_id),
            "candidate_name": self.plan.candidate_name,
            "role_title": self.plan.role_title,
            "mode": self.mode,
            "started_at": self.started_at.isoformat(),
            "segments": [s.model_dump(mode="json") for s in self.segments],
        }

    def build_result(
        self,
        *,
        outcome: Literal["completed", "failed"],
        end_reason: str,
        recording_uri: str | None = None,
        egress_id: str | None = None,
        transcript_uri: str | None = None,
    ) -> InterviewResult:
        return InterviewResult(
            interview_id=self.plan.interview_id,
            outcome=outcome,
            end_reason=end_reason[:500],
            mode=self.mode,
            started_at=self.started_at,
            ended_at=datetime.now(UTC),
            segments=list(self.segments),
            questions_covered=self.progress.covered_ids if self.progress else [],
            recording_uri=recording_uri,
            egress_id=egress_id,
            transcript_uri=transcript_uri,
            latency=list(self.latency),
            agent_version=agent.__version__,
        )
