"""Payloads shared by the app and the agent worker (no table, no reflex import).

``InterviewPlan`` travels to the agent as room and dispatch metadata;
``InterviewResult`` comes back as the body of ``POST /webhooks/interview-ended``
(and, for text interviews, straight into the result service).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
