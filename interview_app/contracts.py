"""Payloads shared by the app and the agent worker (no table, no reflex import).

``InterviewPlan`` travels to the agent as room and dispatch metadata;
``InterviewResult`` comes back as the body of ``POST /webhooks/interview-ended``
(and, for text interviews, straight into the result service). ``CriterionScore`` is one entry of
an evaluation's scores, as stored in ``evaluation.scores`` and sent in webhook and Greenhouse payloads;
``ReviewerScore`` is one entry of a person's scorecard (``scorecard.scores``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, field_validator, model_serializer

Speaker = Literal["agent", "candidate"]
InterviewMode = Literal["voice", "text"]

#: Longest interview a plan may describe (seconds) and longest time budget of one question.
MAX_DURATION_SECONDS = 4 * 3600
MAX_TIME_BUDGET_SECONDS = 3600


class _Contract(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class PlanQuestion(_Contract):
    """One planned question, with the guidance the interviewer uses for follow-ups."""

    id: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=2000)
    competency: str = Field(default="", max_length=200)
    follow_up_guidance: str = Field(default="", max_length=2000)
    max_follow_ups: int = Field(default=1, ge=0, le=5)
    time_budget_seconds: int | None = Field(default=None, ge=10, le=MAX_TIME_BUDGET_SECONDS)
    #: "What a strong answer covers", written by the template author for the evaluator and the
    #: reviewers; never for the candidate or the interviewer (agent/interviewer.py does not render it).
    strong_answer: str = Field(default="", max_length=2000)


class RubricCriterion(_Contract):
    """One criterion of a template's rubric; scores run from scale_min to scale_max."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    weight: float = Field(default=1.0, gt=0, le=100)
    scale_min: int = 1
    scale_max: int = 5


class InterviewPlan(_Contract):
    """Everything the interviewer needs to run one interview."""

    interview_id: uuid.UUID
    candidate_name: str = Field(min_length=1, max_length=200)
    role_title: str = Field(min_length=1, max_length=200)
    job_description: str = Field(default="", max_length=20000)
    language: str = Field(default="en", max_length=16)
    duration_limit_seconds: int = Field(default=1800, ge=60, le=MAX_DURATION_SECONDS)
    persona: str = Field(default="", max_length=4000)
    greeting: str = Field(default="", max_length=2000)
    org_name: str = Field(default="", max_length=200)
    questions: list[PlanQuestion] = Field(min_length=1, max_length=50)
    mode: InterviewMode = "voice"

    @field_validator("questions")
    @classmethod
    def _unique_ids(cls, questions: list[PlanQuestion]) -> list[PlanQuestion]:
        ids = [q.id for q in questions]
        if len(set(ids)) != len(ids):
            raise ValueError("question ids must be unique")
        return questions


class TranscriptSegment(_Contract):
    """One turn of the conversation; offsets are from the start of the interview."""

    seq: int = Field(ge=0)
    speaker: Speaker
    text: str = Field(max_length=20000)
    start_ms: int = Field(ge=0)
    end_ms: int = Field(ge=0)
    question_id: str | None = None


class TurnLatency(_Contract):
    """End of candidate speech → first agent audio, and its parts (milliseconds)."""

    turn: int = Field(ge=0)
    total_ms: float | None = None
    end_of_turn_ms: float | None = None
    llm_ttft_ms: float | None = None
    tts_ttfb_ms: float | None = None


class InterviewResult(_Contract):
    """What the agent reports when an interview ends (webhook body)."""

    interview_id: uuid.UUID
    outcome: Literal["completed", "failed"]
    end_reason: str = Field(default="", max_length=500)
    mode: InterviewMode = "voice"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    segments: list[TranscriptSegment] = Field(default_factory=list, max_length=5000)
    questions_covered: list[str] = Field(default_factory=list)
    recording_uri: str | None = Field(default=None, max_length=1000)
    egress_id: str | None = Field(default=None, max_length=200)
    transcript_uri: str | None = Field(default=None, max_length=1000)
    latency: list[TurnLatency] = Field(default_factory=list, max_length=5000)
    agent_version: str = ""


class _Stored(BaseModel):
    """Read back from a JSON column: unknown keys are ignored, text is kept as written (no stripping)."""

    model_config = ConfigDict(extra="ignore")


class EvidenceQuote(_Stored):
    """A quote the model gave for a criterion, found word for word in one of the candidate's turns."""

    quote: str
    #: The transcript segment it was found in (-1: not known, a row from before seq was kept), and where that segment starts.
    seq: int = -1
    start_ms: int = 0
    speaker: Speaker = "candidate"


#: Keys only an insufficient-evidence entry carries (a scored entry is stored without them).
_GATE_KEYS = ("insufficient_evidence", "reason", "words", "answered_questions")


class CriterionScore(_Stored):
    """The AI evaluation of one rubric criterion, one entry of ``evaluation.scores``.

    ``model_dump(mode="json")`` is the stored and sent shape: criterion, weight, scale_min,
    scale_max, score, rationale, evidence, dropped_evidence — and, only when the insufficient-evidence
    gate kept the criterion from the model, insufficient_evidence, reason, words, answered_questions.
    The defaults let entries with fewer keys (test fixtures, hand-made rows) read.
    """

    criterion: str
    weight: float = 1.0
    scale_min: int = 1
    scale_max: int = 5
    #: None when the model gave no valid score, and for an insufficient-evidence entry.
    score: int | None = None
    rationale: str = ""
    evidence: list[EvidenceQuote] = Field(default_factory=list)
    #: Quotes the model gave that do not occur in the candidate's turns (not kept).
    dropped_evidence: int = 0
    #: Not scored: too little usable candidate speech behind this criterion (``reason`` says why).
    insufficient_evidence: bool = False
    reason: str = ""
    #: Usable candidate words and answered questions behind the criterion (insufficient entries).
    words: int = 0
    answered_questions: int = 0

    @model_serializer(mode="wrap")
    def _stored_shape(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if not self.insufficient_evidence:
            for key in _GATE_KEYS:
                data.pop(key, None)
        return data


class ReviewerScore(_Stored):
    """One person's score of one rubric criterion, one entry of ``scorecard.scores`` (services/scorecards.py).

    Stored as criterion, score, scale_min, scale_max, weight, note (``model_dump(mode="json")``);
    entries with fewer keys (criterion, score and note) read with the defaults.
    """

    criterion: str
    #: None: the reviewer could not judge this criterion.
    score: int | None = None
    scale_min: int = 1
    scale_max: int = 5
    weight: float = 1.0
    note: str = ""
