"""State of the review sections on the admin interview detail page.

Every handler is ``@guarded(...)`` (any admin role may view and score; re-running the
evaluation, the decision and deleting a candidate's data need role ``admin``) and refuses
otherwise, in the page's own words where the page shows the refusal.
The recording URL is minted on load (and on request when it expired), never stored.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx
from sqlmodel import Session

from interview_app import routes
from interview_app.db import session_scope
from interview_app.models import AdminRole, EvaluationStatus, Interview
from interview_app.services.evaluation import NEEDS_LLM_MESSAGE, request_rerun
from interview_app.services.interviews import as_aware
from interview_app.services.retention import DeletionError, delete_candidate_data
from interview_app.services.review import (
    SPEAKER_LABELS,
    RecordingUnavailable,
    ReviewData,
    clock,
    integrity_message,
    latency_summary,
    load_review,
    mint_recording_link,
    parse_interview_id,
    transcript_json,
    transcript_text,
)
from interview_app.services.scorecards import (
    BLIND_NAME,
    DECISIONS,
    MAX_CRITERION_NOTE,
    MAX_NOTE,
    SCORABLE_STATUSES,
    Reviewer,
    ScorecardError,
    decide,
    human_means,
    is_blind,
    mask_name,
    rubric_of,
    scorecards_view,
    submit_scorecard,
)
from interview_app.services.scoring import RECOMMENDATION_LABELS, read_scores, weighted_score
from interview_app.services.sign_in import AdminIdentity
from interview_app.services.templates import language_label
from interview_app.state.auth import ADMIN, AdminState, guarded, refuse_quietly, signed_in_admin

NOT_ALLOWED = "Sign in as an admin to review this interview."
#: The score select's "could not judge" choice (a select item's value cannot be empty).
NO_SCORE = "none"


def version_label(version: int | None, current: int | None) -> str:
    """How the page names the template version an interview ran (and whether the template moved on)."""
    if version is None:
        return "Rubric version not recorded (the interview ran before versions, or has not started)"
    if current is not None and current != version:
        return f"Rubric version {version} (the template is now at version {current})"
    return f"Rubric version {version}"


ADMIN_ONLY = "Only an admin can do this; ask an admin of your team."


@dataclass
class PlayerSeek:
    """Where the player should go: ``at`` seconds, then play if ``play``; ``n`` counts the requests
    (the player moves on each new ``n``, so clicking the same line twice seeks twice)."""

    at: float = 0.0
    play: bool = False
    n: int = 0


@dataclass
class SegmentRow:
    seq: int
    speaker: str
    label: str
    text: str
    start_ms: int
    at: str


@dataclass
class EvidenceRow:
    quote: str
    seq: int
    at: str


@dataclass
class CriterionRow:
    criterion: str
    score: str
    scale: str
    weight: str
    rationale: str
    evidence: list[EvidenceRow]
    dropped: int
    #: Not scored: too little of the candidate's speech relates to it (``reason`` says how little).
    insufficient: bool = False
    reason: str = ""


@dataclass
class QuestionRow:
    """A planned question in the review's "Questions" list, with the author's strong-answer note."""

    label: str  # "Q1"
    id: str
    text: str
    competency: str
    strong_answer: str


@dataclass
class IntegrityRow:
    at: str
    message: str


@dataclass
class ScoreInput:
    """One criterion of the signed-in person's scorecard form."""

    criterion: str
    description: str
    scale: str  # "1–5"
    #: The select's choices: "" (could not judge) and each score of the scale.
    options: list[str]
    score: str
    note: str


@dataclass
class ComparisonRow:
    """AI and human scores of one criterion side by side."""

    criterion: str
    ai: str
    yours: str
    #: Mean of everyone's human scores (shown once the viewer has submitted), "—" when none.
    human_mean: str
    #: Each person's score, "3 · 4 · 4" (same visibility as ``human_mean``).
    human_scores: str
    #: The AI and the humans are more than one point apart.
    apart: bool


@dataclass
class ScorecardRow:
    """A submitted scorecard as the page lists it."""

    reviewer: str
    recommendation: str
    submitted: str
    scores: str  # "Technical depth 4 · Communication 3"
    note: str
    own: bool


INSUFFICIENT = EvaluationStatus.insufficient_evidence.value


def _criterion_row(s: dict[str, Any]) -> CriterionRow:
    """One stored criterion entry as the page shows it (an insufficient one without a score)."""
    insufficient = bool(s.get("insufficient_evidence"))
    evidence = [EvidenceRow(q["quote"], q.get("seq", -1), clock(q.get("start_ms", 0))) for q in s.get("evidence", [])]
    return CriterionRow(
        criterion=s.get("criterion", ""),
        score="—" if insufficient or s.get("score") is None else str(s["score"]),
        scale=f"{s.get('scale_min', 1)}–{s.get('scale_max', 5)}",
        weight=f"{s.get('weight', 1):g}",
        rationale="" if insufficient else s.get("rationale", ""),
        evidence=[] if insufficient else evidence,
        dropped=0 if insufficient else int(s.get("dropped_evidence", 0)),
        insufficient=insufficient,
        reason=str(s.get("reason") or s.get("rationale") or "") if insufficient else "",
    )


class ReviewState(AdminState):
    """Recording, transcript, evaluation, planned questions, latency and integrity of one finished interview."""

    review_interview_id: str = ""
    review_error: str = ""
    review_loaded: bool = False
    can_manage: bool = False

    candidate_name: str = ""
    role_title: str = ""
    interview_status: str = ""
    #: ``Español (es)``: the language the interview was held in.
    interview_language: str = ""

    media_url: str = ""
    media_is_video: bool = False
    media_expires: str = ""
    media_expires_ts: int = 0
    resume_ms: int = 0
    media_message: str = ""
    player_seek: PlayerSeek = PlayerSeek()

    segments: list[SegmentRow] = []
    transcript_query: str = ""
    position_ms: int = 0

    evaluation_status: str = ""
    evaluation_message: str = ""
    evaluation_summary: str = ""
    evaluation_recommendation: str = ""
    evaluation_overall: str = ""
    evaluation_model: str = ""
    criteria: list[CriterionRow] = []

    #: The template's questions with "What a strong answer covers" (reviewers only; never on the candidate page).
    planned_questions: list[QuestionRow] = []

    integrity: list[IntegrityRow] = []
    latency: list[dict[str, float]] = []  # recharts rows: turn, total_ms and its parts
    latency_median: str = ""
    latency_p95: str = ""

    action_message: str = ""

    #: ``Version 2`` / ``Version 2 (the template is now at version 3)`` / ``Not recorded (…)``.
    template_version_label: str = ""
    #: Blind review: the viewer may not see who the candidate is until they have scored.
    blind: bool = False

    #: The signed-in person's scorecard form, one row per criterion of the interview's rubric version.
    score_inputs: list[ScoreInput] = []
    score_recommendation: str = ""
    score_overall_note: str = ""
    score_error: str = ""
    #: The form is shown: the interview has finished and its template has a rubric.
    can_score: bool = False
    own_submitted: bool = False
    #: Others have scored but the viewer has not: their scores stay hidden.
    others_hidden: bool = False
    scorecard_count: int = 0
    comparison: list[ComparisonRow] = []
    scorecards: list[ScorecardRow] = []

    #: The hiring decision (advance | hold | decline, "" while none) and its record.
    decision: str = ""
    decision_record: str = ""
    decision_note_shown: str = ""
    decision_choice: str = ""
    decision_note: str = ""
    decision_error: str = ""

    # --- derived ---------------------------------------------------------------

    @rx.var
    def visible_segments(self) -> list[SegmentRow]:
        query = self.transcript_query.strip().casefold()
        if not query:
            return self.segments
        return [s for s in self.segments if query in s.text.casefold() or query in s.label.casefold()]

    @rx.var
    def active_seq(self) -> int:
        """The line being played: the last one that started at or before the play position."""
        active = -1
        for s in self.segments:
            if s.start_ms <= self.position_ms:
                active = s.seq
            else:
                break
        return active

    @rx.var
    def match_note(self) -> str:
        if not self.transcript_query.strip():
            return f"{len(self.segments)} lines"
        return f"{len(self.visible_segments)} of {len(self.segments)} lines match"

    # --- loading ---------------------------------------------------------------

    def _route_interview_id(self) -> str:
        path = self.router.url.path.rstrip("/")
        return path.rsplit("/", 1)[-1] if path else ""

    def _clear(self) -> None:
        self.review_loaded = False
        self.candidate_name = self.role_title = self.interview_status = self.interview_language = ""
        self.media_url = self.media_expires = self.media_message = ""
        self.segments, self.criteria, self.integrity, self.latency, self.planned_questions = [], [], [], [], []
        self.evaluation_status = self.evaluation_message = self.evaluation_summary = ""
        self.evaluation_recommendation = self.evaluation_overall = self.evaluation_model = ""
        self.latency_median = self.latency_p95 = ""
        self.position_ms = 0
        self.player_seek = PlayerSeek()
        self.template_version_label, self.blind = "", False
        self.score_inputs, self.comparison, self.scorecards = [], [], []
        self.score_recommendation = self.score_overall_note = self.score_error = ""
        self.can_score = self.own_submitted = self.others_hidden = False
        self.scorecard_count = 0
        self.decision = self.decision_record = self.decision_note_shown = ""
        self.decision_choice = self.decision_note = self.decision_error = ""

    def _fill(self, data: ReviewData, blind: bool = False) -> None:
        self.blind = blind
        self.candidate_name = BLIND_NAME if blind else data.candidate_name
        self.role_title = data.role_title
        self.interview_status = data.interview.status
        self.interview_language = language_label(data.language)
        self.template_version_label = version_label(data.template_version, data.current_version)
        shown: Callable[[str], str] = (lambda text: mask_name(text, data.candidate_name)) if blind else (lambda text: text)
        self.segments = [
            SegmentRow(s.seq, s.speaker, SPEAKER_LABELS.get(s.speaker, s.speaker), shown(s.text), s.start_ms, clock(s.start_ms))
            for s in data.segments
        ]
        self.planned_questions = [QuestionRow(f"Q{q.number}", q.id, q.text, q.competency, q.strong_answer) for q in data.questions]
        self.integrity = [IntegrityRow(e.at.strftime("%Y-%m-%d %H:%M:%S UTC"), integrity_message(e)) for e in data.integrity]
        self.latency = [
            {
                "turn": t.turn,
                "total_ms": t.total_ms or 0.0,
                "end_of_turn_ms": t.end_of_turn_ms or 0.0,
                "llm_ttft_ms": t.llm_ttft_ms or 0.0,
                "tts_ttfb_ms": t.tts_ttfb_ms or 0.0,
            }
            for t in data.latency
        ]
        summary = latency_summary(data.latency)
        self.latency_median = f"{summary['median_ms']:.0f} ms" if summary["median_ms"] is not None else ""
        self.latency_p95 = f"{summary['p95_ms']:.0f} ms" if summary["p95_ms"] is not None else ""
        self._fill_evaluation(data)

    def _fill_evaluation(self, data: ReviewData) -> None:
        ev = data.evaluation
        self.criteria = []
        self.evaluation_summary = self.evaluation_recommendation = self.evaluation_overall = self.evaluation_model = ""
        if ev is None:
            self.evaluation_status = "none"
            self.evaluation_message = "No evaluation yet: it starts when the interview's result arrives."
            return
        self.evaluation_status = ev.status
        self.evaluation_message = {
            "pending": "The evaluation is queued and starts within seconds.",
            "running": "The evaluation is running.",
            "needs_llm": NEEDS_LLM_MESSAGE,
            "failed": ev.error or "The evaluation failed; press Re-run evaluation.",
            INSUFFICIENT: f"Not evaluated: {ev.summary or 'too little of the candidate’s speech was usable.'}",
        }.get(ev.status, "")
        if ev.status == INSUFFICIENT:  # no score, no recommendation: only why, per criterion
            self.criteria = [_criterion_row(s) for s in ev.scores]
            return
        if ev.status != "done":
            return
        self.evaluation_summary = ev.summary
        self.evaluation_recommendation = RECOMMENDATION_LABELS.get(ev.recommendation, "")
        self.evaluation_model = ev.model
        overall = weighted_score(read_scores(ev.scores))  # insufficient criteria do not count
        scored = sum(1 for s in ev.scores if s.get("score") is not None and not s.get("insufficient_evidence"))
        insufficient = sum(1 for s in ev.scores if s.get("insufficient_evidence"))
        self.evaluation_overall = f"{overall * 100:.0f} / 100" if overall is not None else ""
        if overall is not None and scored < len(ev.scores):
            self.evaluation_overall += f" ({scored} of {len(ev.scores)} criteria scored"
            self.evaluation_overall += f"; {insufficient} with insufficient evidence)" if insufficient else ")"
        self.criteria = [_criterion_row(s) for s in ev.scores]

    def _not_allowed(self) -> None:
        """The refusal of the loading handlers: nothing shown but the sentence."""
        self._clear()
        self.action_message = ""
        self.review_error = NOT_ALLOWED

    @rx.event
    @guarded(refused=lambda state: state._not_allowed())
    def load_review(self) -> None:
        """Load the interview named by the route and mint a fresh recording link."""
        admin = signed_in_admin()
        self._clear()
        self.action_message = ""
        self.can_manage = admin.role == AdminRole.admin.value
        raw_id = self._route_interview_id()
        interview_id = parse_interview_id(raw_id)
        if interview_id is None:
            self.review_error = "This is not an interview address. Open the interview from the list."
            return
        self.review_interview_id = str(interview_id)
        with session_scope() as session:
            data = load_review(session, interview_id)
            if data is None:
                self.review_error = "This interview does not exist (it may have been deleted)."
                return
            viewer = Reviewer(admin.id, admin.email, admin.role)
            self._fill(data, blind=is_blind(session, data.interview, viewer))
            self._fill_scorecards(session, data, viewer)
            self._mint(session, data, admin.email)
        self.review_error = ""
        self.review_loaded = True

    def _mint(self, session, data: ReviewData, actor: str) -> None:  # noqa: ANN001
        try:
            link = mint_recording_link(session, data.interview, actor=actor)
        except RecordingUnavailable as err:
            self.media_url, self.media_message = "", str(err)
            return
        self.media_url = link.url
        self.media_is_video = link.content_type.startswith("video/")
        self.media_expires = link.expires_at.strftime("%H:%M UTC")
        self.media_expires_ts = int(link.expires_at.timestamp())
        self.media_message = ""

    @rx.event
    @guarded(refused=lambda state: state._not_allowed())
    def refresh_recording_link(self) -> None:
        """A new playback link after the previous one expired."""
        admin = signed_in_admin()
        self._renew_link(admin.email)

    def _renew_link(self, actor: str) -> None:
        interview_id = parse_interview_id(self.review_interview_id)
        if interview_id is None:
            return
        with session_scope() as session:
            data = load_review(session, interview_id)
            if data is not None:
                self._mint(session, data, actor)

    @rx.event
    @guarded(refused=refuse_quietly)
    def recording_failed(self) -> None:
        """The player could not load: after the link expired, mint a new one and resume there."""
        admin = signed_in_admin()
        if self.media_url and time.time() >= self.media_expires_ts - 5:
            self.resume_ms = self.position_ms
            self._renew_link(admin.email)
        elif self.media_url:
            self.media_message = "The recording could not be played. Reload the page; if that does not help, check the storage settings."

    def _seek(self, ms: int, *, play: bool) -> None:
        self.player_seek = PlayerSeek(at=round(ms / 1000, 3), play=play, n=self.player_seek.n + 1)

    @rx.event
    @guarded(refused=refuse_quietly)
    def recording_ready(self) -> None:
        """Metadata of a (new) link loaded: continue where playback was when the old link expired."""
        if self.resume_ms <= 0:
            return
        self._seek(self.resume_ms, play=False)
        self.resume_ms = 0

    # --- transcript ------------------------------------------------------------

    @rx.event
    @guarded(refused=refuse_quietly)
    def set_transcript_query(self, value: str) -> None:
        self.transcript_query = value[:200]

    @rx.event
    @guarded(refused=refuse_quietly)
    def track_position(self, seconds: float) -> None:
        """The player's position (time updates); moves the highlight."""
        try:
            self.position_ms = max(0, int(float(seconds) * 1000))
        except (TypeError, ValueError):
            return

    @rx.event
    @guarded(refused=refuse_quietly)
    def seek_to(self, seq: int) -> None:
        """Play from the start of transcript line ``seq``."""
        row = next((s for s in self.segments if s.seq == seq), None)
        if row is None:
            return
        self.position_ms = row.start_ms
        self._seek(row.start_ms, play=True)

    def _transcript_download(self, render: Callable[[ReviewData], str], extension: str, mime_type: str):  # noqa: ANN202
        """The transcript of the interview on the page as a file (callers have checked the session)."""
        interview_id = parse_interview_id(self.review_interview_id)
        if interview_id is None:
            return None
        with session_scope() as session:
            data = load_review(session, interview_id)
        if data is None:
            return None
        return rx.download(data=render(data), filename=f"transcript-{data.interview.id}.{extension}", mime_type=mime_type)

    @rx.event
    @guarded(refused=refuse_quietly)
    def download_transcript_json(self):  # noqa: ANN201
        return self._transcript_download(transcript_json, "json", "application/json")

    @rx.event
    @guarded(refused=refuse_quietly)
    def download_transcript_text(self):  # noqa: ANN201
        return self._transcript_download(transcript_text, "txt", "text/plain")

    # --- human scoring and the decision ------------------------------------------

    def _fill_scorecards(self, session: Session, data: ReviewData, viewer: Reviewer) -> None:
        """The viewer's form, everyone's scorecards (once the viewer has submitted), AI beside human, the decision."""
        interview = data.interview
        rubric = rubric_of(session, interview)
        view = scorecards_view(session, interview.id, viewer.id)
        own = {s.get("criterion"): s for s in (view.own.scores if view.own else [])}
        self.can_score = interview.status in SCORABLE_STATUSES and bool(rubric)
        self.own_submitted = view.own is not None
        self.others_hidden = view.others_hidden
        self.scorecard_count = view.total
        self.score_inputs = [
            ScoreInput(
                criterion=c.name,
                description=c.description,
                scale=f"{c.scale_min}–{c.scale_max}",
                options=[NO_SCORE, *(str(v) for v in range(c.scale_min, c.scale_max + 1))],
                score=str(own[c.name]["score"]) if own.get(c.name, {}).get("score") is not None else NO_SCORE,
                note=str(own.get(c.name, {}).get("note", "")),
            )
            for c in rubric
        ]
        self.score_recommendation = view.own.recommendation if view.own else ""
        self.score_overall_note = view.own.note if view.own else ""
        self.score_error = ""
        visible = ([view.own] if view.own else []) + view.others
        means = human_means(visible) if view.own else {}
        ai = {s.get("criterion"): s for s in (data.evaluation.scores if data.evaluation and data.evaluation.status == "done" else [])}
        rows = []
        for c in rubric:
            entry = ai.get(c.name, {})
            ai_score = None if entry.get("insufficient_evidence") else entry.get("score")
            each = [
                str(s.get("score")) for card in visible for s in card.scores if s.get("criterion") == c.name and s.get("score") is not None
            ]
            mean = means.get(c.name)
            rows.append(
                ComparisonRow(
                    criterion=c.name,
                    ai="—" if ai_score is None else str(ai_score),
                    yours=str(own[c.name]["score"]) if own.get(c.name, {}).get("score") is not None else "—",
                    human_mean="—" if mean is None else f"{mean:.1f}",
                    human_scores=" · ".join(each) if view.own else "",
                    apart=mean is not None and ai_score is not None and abs(float(ai_score) - mean) > 1,
                )
            )
        self.comparison = rows
        self.scorecards = [
            ScorecardRow(
                reviewer="You" if card.reviewer_id == viewer.id else card.reviewer_email,
                recommendation=DECISIONS.get(card.recommendation, card.recommendation),
                submitted=as_aware(card.updated_at).strftime("%Y-%m-%d %H:%M UTC"),
                scores=" · ".join(f"{s.get('criterion')} {s.get('score') if s.get('score') is not None else '—'}" for s in card.scores),
                note=card.note,
                own=card.reviewer_id == viewer.id,
            )
            for card in visible
        ]
        self.decision = interview.decision or ""
        self.decision_record = (
            f"{DECISIONS.get(self.decision, self.decision)} — decided by {interview.decision_by} on "
            f"{as_aware(interview.decision_at).strftime('%Y-%m-%d %H:%M UTC')}"
            if interview.decision and interview.decision_at
            else ""
        )
        self.decision_note_shown = interview.decision_note if interview.decision else ""
        self.decision_choice = self.decision
        self.decision_note = interview.decision_note or ""

    def _reload_scorecards(self, admin: AdminIdentity) -> None:
        interview_id = parse_interview_id(self.review_interview_id)
        if interview_id is None:
            return
        with session_scope() as session:
            data = load_review(session, interview_id)
            if data is None:
                return
            viewer = Reviewer(admin.id, admin.email, admin.role)
            was_blind = self.blind
            blind = is_blind(session, data.interview, viewer)
            if was_blind != blind:
                self._fill(data, blind=blind)  # scored: the name comes back
            self._fill_scorecards(session, data, viewer)

    @rx.event
    @guarded(refused=refuse_quietly)
    def set_score(self, index: int, value: str) -> None:
        if not 0 <= index < len(self.score_inputs):
            return
        row = self.score_inputs[index]
        if value in row.options:
            row.score = value
            self.score_inputs = list(self.score_inputs)

    @rx.event
    @guarded(refused=refuse_quietly)
    def set_score_note(self, index: int, value: str) -> None:
        if not 0 <= index < len(self.score_inputs):
            return
        self.score_inputs[index].note = value[: MAX_CRITERION_NOTE + 1]
        self.score_inputs = list(self.score_inputs)

    @rx.event
    @guarded(refused=refuse_quietly)
    def set_score_recommendation(self, value: str) -> None:
        if value in DECISIONS:
            self.score_recommendation = value

    @rx.event
    @guarded(refused=refuse_quietly)
    def set_score_overall_note(self, value: str) -> None:
        self.score_overall_note = value[: MAX_NOTE + 1]

    @rx.event
    @guarded(refused=lambda state: setattr(state, "score_error", NOT_ALLOWED))
    def submit_scores(self):  # noqa: ANN201
        """Save the signed-in person's scorecard (any role); then everyone's scores are shown to them."""
        admin = signed_in_admin()
        entries = {row.criterion: {"score": "" if row.score == NO_SCORE else row.score, "note": row.note} for row in self.score_inputs}
        reviewer = Reviewer(admin.id, admin.email, admin.role)
        saved = self._with_interview(
            lambda session, interview_id: submit_scorecard(
                session, interview_id, reviewer, entries, recommendation=self.score_recommendation, note=self.score_overall_note
            ),
            ScorecardError,
            "score_error",
        )
        if not saved:
            return None
        was_blind = self.blind
        self._reload_scorecards(admin)
        self._notify("Your scores are saved." + (" The candidate's name is now shown." if was_blind else ""))
        if was_blind:
            from interview_app.state.admin_detail import InterviewDetailState  # the page's summary card

            return InterviewDetailState.poll("")  # type: ignore[operator]  # chains the handler (an event spec)
        return None

    @rx.event
    @guarded(ADMIN, refused=refuse_quietly)
    def set_decision_choice(self, value: str) -> None:
        if value in DECISIONS:
            self.decision_choice = value

    @rx.event
    @guarded(ADMIN, refused=refuse_quietly)
    def set_decision_note(self, value: str) -> None:
        self.decision_note = value[: MAX_NOTE + 1]

    @rx.event
    @guarded(ADMIN, refused=lambda state: setattr(state, "decision_error", ADMIN_ONLY))
    def record_decision(self):  # noqa: ANN201
        """The hiring decision (admins only): kept on the interview, audited, sent as ``decision.made``."""
        admin = signed_in_admin()
        decided = self._with_interview(
            lambda session, interview_id: decide(session, interview_id, self.decision_choice, actor=admin.email, note=self.decision_note),
            ScorecardError,
            "decision_error",
        )
        if not decided:
            return None
        self.decision_error = ""
        self._reload_scorecards(admin)
        from interview_app.state.admin_detail import InterviewDetailState  # the timeline shows the decision

        self._notify(f"Decision recorded: {DECISIONS[self.decision]}.")
        return InterviewDetailState.poll("")  # type: ignore[operator]  # chains the handler (an event spec)

    # --- admin actions -----------------------------------------------------------

    @rx.event
    @guarded(ADMIN, refused=lambda state: setattr(state, "action_message", ADMIN_ONLY))
    def rerun_evaluation(self):  # noqa: ANN201
        admin = signed_in_admin()
        queued = self._with_interview(
            lambda session, interview_id: request_rerun(session, interview_id, actor=admin.email), ValueError, "action_message"
        )
        if not queued:
            return None
        self.action_message = "Evaluation queued."
        self.evaluation_status = "pending"
        self.evaluation_message = "The evaluation is queued and starts within seconds."
        self.criteria = []
        self.evaluation_summary = self.evaluation_recommendation = self.evaluation_overall = ""
        return ReviewState.watch_evaluation

    @rx.event(background=True)
    async def watch_evaluation(self) -> None:
        """Refresh the evaluation section until the queued job has an outcome (about 3 min at most)."""
        for _ in range(60):
            await asyncio.sleep(3)
            async with self:
                if self._guard() is None:
                    return
                interview_id = parse_interview_id(self.review_interview_id)
                if interview_id is None:
                    return
                with session_scope() as session:
                    data = load_review(session, interview_id)
                if data is None:
                    return
                self._fill_evaluation(data)
                self.interview_status = data.interview.status
                if self.evaluation_status not in ("pending", "running"):
                    return

    @rx.event
    @guarded(ADMIN, refused=lambda state: setattr(state, "action_message", ADMIN_ONLY))
    def delete_candidate(self):  # noqa: ANN201
        admin = signed_in_admin()

        def delete(session: Session, interview_id: uuid.UUID) -> None:
            interview = session.get(Interview, interview_id)
            if interview is None:
                raise DeletionError("This interview was already deleted.")
            delete_candidate_data(session, interview.candidate_id, actor=admin.email)

        if not self._with_interview(delete, DeletionError, "action_message"):
            return None
        self._clear()
        self.review_error = "The candidate's data was deleted."
        self._notify("The candidate's data was deleted.")
        return rx.redirect(routes.ADMIN)

    def _with_interview(
        self, action: Callable[[Session, uuid.UUID], object], errors: type[Exception] | tuple[type[Exception], ...], message_var: str
    ) -> bool:
        """Run ``action(session, interview id)`` on this page's interview; True when it went through.

        One of ``errors`` (the services say why in a sentence) is shown in the page's ``message_var`` instead;
        a page without a valid interview id does nothing.
        """
        interview_id = parse_interview_id(self.review_interview_id)
        if interview_id is None:
            return False
        try:
            with session_scope() as session:
                action(session, interview_id)
        except errors as err:
            setattr(self, message_var, str(err))
            return False
        return True
