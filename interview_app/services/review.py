"""What the admin interview detail page shows after an interview: recording link, transcript,
evaluation, the planned questions (with the template author's strong-answer notes), latency
report, integrity events. Framework-free; ``state/review.py`` calls it.

Recording links are minted here and only here for the page (through the storage service,
with PRESIGN_TTL_SECONDS), and each one is recorded as a ``recording_viewed`` event.
"""

from __future__ import annotations

import json
import statistics
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from interview_app.contracts import PlanQuestion, TurnLatency
from interview_app.i18n import language_name
from interview_app.models import Candidate, Evaluation, Interview, InterviewEvent, InterviewTemplate, TranscriptSegment, utcnow
from interview_app.services.evaluation import latest_evaluation
from interview_app.services.interviews import as_aware, interview_language, record_event
from interview_app.services.storage import StorageError, content_type_for, storage_for_uri
from interview_app.services.templates import as_run, language_label
from interview_app.settings import Settings, get_settings

SPEAKER_LABELS = {"agent": "Interviewer", "candidate": "Candidate"}


def clock(ms: int | float) -> str:
    """``mm:ss`` (or ``h:mm:ss``) of an offset in milliseconds."""
    seconds = max(0, int(ms)) // 1000
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def parse_interview_id(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw.strip())
    except (ValueError, AttributeError):
        return None


@dataclass(frozen=True)
class PlannedQuestion:
    """One question of the interview's template, as the reviewer sees it."""

    number: int
    id: str
    text: str
    competency: str
    #: "What a strong answer covers", written by the template author ("" when there is none).
    strong_answer: str


def planned_questions(template: InterviewTemplate | None) -> list[PlannedQuestion]:
    """The template's questions in order, with their strong-answer notes (for reviewers only)."""
    out: list[PlannedQuestion] = []
    for raw in (template.questions if template else None) or []:
        try:
            q = PlanQuestion.model_validate(raw)
        except ValueError:
            continue  # one malformed question must not hide the others
        out.append(PlannedQuestion(len(out) + 1, q.id, q.text, q.competency, q.strong_answer))
    return out


@dataclass
class ReviewData:
    interview: Interview
    candidate_id: int
    candidate_name: str
    role_title: str
    segments: list[TranscriptSegment]
    evaluation: Evaluation | None
    integrity: list[InterviewEvent]
    latency: list[TurnLatency] = field(default_factory=list)
    #: The language the interview was held in (the candidate's choice, else the template's).
    language: str = "en"
    #: The template's questions with their strong-answer notes, as of the version the interview ran.
    questions: list[PlannedQuestion] = field(default_factory=list)
    #: The template version the interview was run against (None: not started, or before versions).
    template_version: int | None = None
    #: The template's current version (None when the template is gone).
    current_version: int | None = None
    #: The rubric (contracts.RubricCriterion dicts) of that version: what reviewers score against.
    rubric: list[dict[str, Any]] = field(default_factory=list)


def load_review(session: Session, interview_id: uuid.UUID) -> ReviewData | None:
    """Everything the review sections show about one interview, or None if it does not exist."""
    interview = session.get(Interview, interview_id)
    if interview is None:
        return None
    candidate = session.get(Candidate, interview.candidate_id)
    template = session.get(InterviewTemplate, interview.template_id)
    current_version = template.version if template is not None else None
    if template is not None:
        template = as_run(session, template, interview.template_version)  # the questions it was run with
    segments = list(
        session.exec(select(TranscriptSegment).where(TranscriptSegment.interview_id == interview_id).order_by(col(TranscriptSegment.seq)))
    )
    integrity = list(
        session.exec(
            select(InterviewEvent)
            .where(InterviewEvent.interview_id == interview_id, InterviewEvent.kind == "integrity")
            .order_by(col(InterviewEvent.at), col(InterviewEvent.id))
        )
    )
    latency = []
    for raw in interview.latency or []:
        try:
            latency.append(TurnLatency.model_validate(raw))
        except ValueError:
            continue  # one malformed measurement must not hide the others
    return ReviewData(
        interview=interview,
        candidate_id=interview.candidate_id,
        candidate_name=candidate.name if candidate else "(deleted candidate)",
        role_title=template.title if template else "",
        segments=segments,
        evaluation=latest_evaluation(session, interview_id),
        integrity=integrity,
        latency=sorted(latency, key=lambda t: t.turn),
        language=interview_language(interview, template),
        questions=planned_questions(template),
        template_version=interview.template_version,
        current_version=current_version,
        rubric=[dict(c) for c in (template.rubric if template else [])],
    )


@dataclass(frozen=True)
class RecordingLink:
    url: str
    content_type: str
    expires_at: datetime


class RecordingUnavailable(Exception):
    """No playable recording; the message tells the admin why and what to do."""


def mint_recording_link(session: Session, interview: Interview, *, actor: str, settings: Settings | None = None) -> RecordingLink:
    """A presigned URL for the interview's recording, recorded as viewed by ``actor`` (caller commits).

    Raises:
        RecordingUnavailable: there is no recording, or storage cannot serve it.
    """
    settings = settings or get_settings()
    uri = interview.s3_recording_url
    if not uri:
        if interview.mode == "text":
            raise RecordingUnavailable("This was a text interview, so there is no recording; the transcript below is complete.")
        raise RecordingUnavailable("No recording is stored for this interview (recording was not configured, or it was deleted).")
    try:
        storage = storage_for_uri(uri, settings)
        if not storage.exists(uri):
            raise RecordingUnavailable("The recording file is no longer in storage (it may have been deleted under the retention policy).")
        ttl = settings.presign_ttl_seconds
        url = storage.presigned_url(uri, ttl)
    except StorageError as err:
        raise RecordingUnavailable(f"The recording cannot be played right now: {err}. Check the storage settings and reload.") from err
    record_event(session, interview.id, "recording_viewed", actor=actor, ttl_seconds=ttl)
    return RecordingLink(url=url, content_type=content_type_for(uri), expires_at=utcnow() + timedelta(seconds=ttl))


def transcript_json(data: ReviewData) -> str:
    """The transcript as a JSON document (download)."""
    return json.dumps(
        {
            "interview_id": str(data.interview.id),
            "candidate": data.candidate_name,
            "role": data.role_title,
            "language": data.language,
            "language_name": language_name(data.language),
            "started_at": as_aware(data.interview.started_at).isoformat() if data.interview.started_at else None,
            "segments": [
                {
                    "seq": s.seq,
                    "speaker": s.speaker,
                    "start_ms": s.start_ms,
                    "end_ms": s.end_ms,
                    "text": s.text,
                    "question_id": s.question_id,
                }
                for s in data.segments
            ],
        },
        indent=2,
        ensure_ascii=False,
    )


def transcript_text(data: ReviewData) -> str:
    """The transcript as plain text, one line per turn (download)."""
    header = f"Interview {data.interview.id} — {data.candidate_name}, {data.role_title}\nLanguage: {language_label(data.language)}\n\n"
    return header + "\n".join(f"[{clock(s.start_ms)}] {SPEAKER_LABELS.get(s.speaker, s.speaker)}: {s.text}" for s in data.segments) + "\n"


def latency_summary(latency: list[TurnLatency]) -> dict[str, Any]:
    """Median and 95th percentile of the end-of-speech → first-audio time (ms)."""
    totals = sorted(t.total_ms for t in latency if t.total_ms is not None)
    if not totals:
        return {"turns": 0, "median_ms": None, "p95_ms": None}
    p95 = totals[min(len(totals) - 1, int(round(0.95 * (len(totals) - 1))))]
    return {"turns": len(totals), "median_ms": statistics.median(totals), "p95_ms": p95}


def integrity_message(event: InterviewEvent) -> str:
    """A readable line for an integrity signal, whatever detail the reporter put in it."""
    detail = event.detail or {}
    for key in ("message", "description", "text"):
        if isinstance(detail.get(key), str) and detail[key].strip():
            return detail[key].strip()
    signal = detail.get("signal") or detail.get("type") or "signal"
    rest = {k: v for k, v in detail.items() if k not in {"signal", "type"}}
    return f"{signal}: {json.dumps(rest, ensure_ascii=False)}" if rest else str(signal)
