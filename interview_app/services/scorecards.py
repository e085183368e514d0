"""Human scoring beside the AI, the hiring decision, and blind review (issue 18). Framework-free.

**Scorecards.** Every reviewer and admin may score a finished interview on its rubric — the
rubric of the version the interview was run against (``services/templates.as_run``), on each
criterion's own scale, with a note per criterion — and give their own recommendation
(advance / hold / decline) and an overall note. One scorecard per person and interview
(:func:`submit_scorecard` replaces a person's earlier one and the audit trail keeps both
submissions). Until a person has submitted theirs, :func:`scorecards_view` hides the other
people's scorecards from them (the AI's evaluation stays visible: it is advisory and the same
for everyone), so nobody anchors on a colleague's numbers.

**The decision** (:func:`decide`) is a person's, never the AI's: an admin records advance, hold or
decline (with an optional note) on an interview that has finished. It is kept on the interview
(``Interview.decision``, ``decision_by``, ``decision_at``, ``decision_note``), each change is a
``decision_made`` event in the audit trail, and a ``decision.made`` webhook is queued in the same
transaction (``services/webhooks.emit_decision_made``).

**Blind review** (a template setting, ``InterviewTemplate.blind_review``): a person with role
reviewer sees neither the candidate's name nor email nor external reference on an interview of
such a template until they have submitted their scorecard for it (:func:`is_blind`), and the
candidate's name is masked in the transcript shown to them (:func:`mask_name`). Admins always see
who the candidate is: they invite them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from interview_app.contracts import ReviewerScore, RubricCriterion
from interview_app.models import AdminRole, Interview, InterviewStatus, InterviewTemplate, Scorecard, utcnow
from interview_app.sanitize import candidate_text
from interview_app.services.interviews import record_event
from interview_app.services.templates import as_run
from interview_app.services.webhooks import emit_decision_made

#: A reviewer's recommendation and the interview's decision: value → label.
DECISIONS: dict[str, str] = {"advance": "Advance", "hold": "Hold", "decline": "Decline"}
#: Longest note on one criterion / on the whole scorecard / on a decision (characters).
MAX_CRITERION_NOTE = 2000
MAX_NOTE = 4000
#: Interviews that can be scored and decided: the conversation is over and its transcript is in.
SCORABLE_STATUSES = frozenset({InterviewStatus.processing.value, InterviewStatus.completed.value})
#: What a blind reviewer sees instead of the candidate's name.
BLIND_NAME = "Candidate (blind review)"


class ScorecardError(ValueError):
    """The scorecard or decision cannot be saved; the message says why in a sentence."""


@dataclass(frozen=True)
class Reviewer:
    """Who is scoring (an admin user): id, email and role."""

    id: int
    email: str
    role: str


def _interview(session: Session, interview_id: uuid.UUID) -> Interview:
    interview = session.get(Interview, interview_id)
    if interview is None:
        raise ScorecardError("This interview does not exist (it may have been deleted).")
    return interview


def rubric_of(session: Session, interview: Interview) -> list[RubricCriterion]:
    """The rubric a person scores the interview against: its version's (the template's current one if not recorded)."""
    template = session.get(InterviewTemplate, interview.template_id)
    if template is None:
        return []
    out: list[RubricCriterion] = []
    for raw in as_run(session, template, interview.template_version).rubric or []:
        try:
            out.append(RubricCriterion.model_validate(raw))
        except ValueError:
            continue  # one malformed criterion must not hide the others
    return out


def _score(raw: Any, criterion: RubricCriterion) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ScorecardError(
            f"“{criterion.name}”: the score must be a whole number from {criterion.scale_min} to {criterion.scale_max}."
        ) from None
    if not criterion.scale_min <= value <= criterion.scale_max:
        raise ScorecardError(f"“{criterion.name}”: the score must be from {criterion.scale_min} to {criterion.scale_max}, not {value}.")
    return value


def _note(raw: Any, limit: int, what: str) -> str:
    cleaned = candidate_text(raw if isinstance(raw, str) else "", limit=limit)  # control characters out; shown as text, never markup
    if cleaned.over_limit:
        raise ScorecardError(f"{what} is longer than {limit} characters; shorten it.")
    return cleaned.text.strip()


def submit_scorecard(
    session: Session,
    interview_id: uuid.UUID,
    reviewer: Reviewer,
    entries: Mapping[str, Mapping[str, Any]],
    *,
    recommendation: str,
    note: str = "",
) -> Scorecard:
    """Save ``reviewer``'s scores of the interview (caller commits); replaces their earlier scorecard.

    ``entries`` maps each criterion's name to ``{"score": int | "" | None, "note": str}``; a
    criterion left without a score is "could not judge". At least one criterion must be scored
    and ``recommendation`` must be one of :data:`DECISIONS`. Nothing is written when anything is wrong.

    Raises:
        ScorecardError: the interview cannot be scored (not found, not finished, no rubric) or a value is wrong.
    """
    interview = _interview(session, interview_id)
    if interview.status not in SCORABLE_STATUSES:
        raise ScorecardError("This interview has not finished yet; score it once its transcript is in.")
    rubric = rubric_of(session, interview)
    if not rubric:
        raise ScorecardError("The interview's template has no rubric to score against; an admin can add criteria to the template.")
    if recommendation not in DECISIONS:
        raise ScorecardError("Choose your recommendation: advance, hold or decline.")
    scores: list[ReviewerScore] = []
    for criterion in rubric:
        entry = entries.get(criterion.name) or {}
        scores.append(
            ReviewerScore(
                criterion=criterion.name,
                score=_score(entry.get("score"), criterion),
                scale_min=criterion.scale_min,
                scale_max=criterion.scale_max,
                weight=criterion.weight,
                note=_note(entry.get("note"), MAX_CRITERION_NOTE, f"The note on “{criterion.name}”"),
            )
        )
    if all(s.score is None for s in scores):
        raise ScorecardError(
            "Score at least one criterion (leave a criterion empty only when the interview gave you nothing to judge it by)."
        )
    overall_note = _note(note, MAX_NOTE, "The overall note")
    card = session.exec(select(Scorecard).where(Scorecard.interview_id == interview.id, Scorecard.reviewer_id == reviewer.id)).first()
    kind = "scorecard_updated" if card is not None else "scorecard_submitted"
    now = utcnow()
    if card is None:
        card = Scorecard(interview_id=interview.id, reviewer_id=reviewer.id, reviewer_email=reviewer.email, submitted_at=now)
    card.reviewer_email = reviewer.email
    card.template_version = interview.template_version
    card.scores = [s.model_dump(mode="json") for s in scores]
    card.recommendation = recommendation
    card.note = overall_note
    card.updated_at = now
    session.add(card)
    record_event(
        session,
        interview.id,
        kind,
        actor=reviewer.email,
        recommendation=recommendation,
        template_version=interview.template_version,
        scored=sum(1 for s in scores if s.score is not None),
        criteria=len(scores),
    )
    session.flush()
    return card


def scorecards_of(session: Session, interview_id: uuid.UUID) -> list[Scorecard]:
    """Every scorecard of the interview, oldest submission first."""
    return list(
        session.exec(
            select(Scorecard).where(Scorecard.interview_id == interview_id).order_by(col(Scorecard.submitted_at), col(Scorecard.id))
        )
    )


@dataclass(frozen=True)
class ScorecardsView:
    """What one person may see of an interview's scorecards."""

    own: Scorecard | None
    #: The other people's scorecards; empty while ``others_hidden``.
    others: list[Scorecard]
    #: True until the viewer has submitted their own (then they see everyone's).
    others_hidden: bool
    #: How many scorecards there are in all (shown even while hidden: "2 colleagues have scored").
    total: int


def scorecards_view(session: Session, interview_id: uuid.UUID, viewer_id: int) -> ScorecardsView:
    """The viewer's own scorecard, and the others' only once the viewer has submitted theirs."""
    cards = scorecards_of(session, interview_id)
    own = next((c for c in cards if c.reviewer_id == viewer_id), None)
    others = [c for c in cards if c.reviewer_id != viewer_id]
    if own is None:
        return ScorecardsView(None, [], bool(others), len(cards))
    return ScorecardsView(own, others, False, len(cards))


def reviewer_scores(card: Scorecard) -> list[ReviewerScore]:
    """The entries of ``card.scores`` as :class:`ReviewerScore` (entries that are not objects are skipped)."""
    return [ReviewerScore.model_validate(s) for s in card.scores or [] if isinstance(s, Mapping)]


def human_means(cards: Sequence[Scorecard]) -> dict[str, float]:
    """Per criterion, the mean of the people's scores (criteria nobody scored are left out)."""
    sums: dict[str, list[float]] = {}
    for card in cards:
        for s in reviewer_scores(card):
            if s.score is not None:
                sums.setdefault(s.criterion, []).append(float(s.score))
    return {name: sum(values) / len(values) for name, values in sums.items() if values}


def is_blind(session: Session, interview: Interview, viewer: Reviewer) -> bool:
    """True when ``viewer`` must not see who the candidate is yet (blind template, reviewer role, not scored)."""
    if viewer.role != AdminRole.reviewer.value:
        return False
    template = session.get(InterviewTemplate, interview.template_id)
    if template is None or not template.blind_review:
        return False
    scored = session.exec(select(Scorecard.id).where(Scorecard.interview_id == interview.id, Scorecard.reviewer_id == viewer.id)).first()
    return scored is None


def mask_name(text: str, name: str) -> str:
    """``text`` with the candidate's full name and each part of it (two letters or more) replaced by ``[candidate]``."""
    parts = [p for p in re.split(r"\s+", name.strip()) if len(p) >= 2]
    if not parts:
        return text
    names = sorted({name.strip(), *parts}, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in names) + r")(?!\w)", re.IGNORECASE)
    return pattern.sub("[candidate]", text)


def decide(session: Session, interview_id: uuid.UUID, decision: str, *, actor: str, note: str = "") -> Interview:
    """Record the hiring decision on a finished interview (caller commits); queues ``decision.made``.

    Changing a decision is allowed (the audit trail keeps each one, with the one it replaced);
    recording the same decision and note again changes nothing and sends nothing.

    Raises:
        ScorecardError: the interview does not exist or has not finished, or ``decision`` is not one of :data:`DECISIONS`.
    """
    if decision not in DECISIONS:
        raise ScorecardError("Choose a decision: advance, hold or decline.")
    interview = _interview(session, interview_id)
    if interview.status not in SCORABLE_STATUSES:
        raise ScorecardError("This interview has not finished yet; decide once its transcript is in.")
    clean_note = _note(note, MAX_NOTE, "The decision note")
    previous = interview.decision
    if previous == decision and interview.decision_note == clean_note:
        return interview
    now = utcnow()
    interview.decision, interview.decision_by, interview.decision_note, interview.decision_at = decision, actor, clean_note, now
    interview.updated_at = now
    session.add(interview)
    record_event(session, interview.id, "decision_made", actor=actor, decision=decision, previous=previous, note=clean_note)
    emit_decision_made(session, interview, previous=previous)
    session.flush()
    return interview


__all__ = [
    "BLIND_NAME",
    "DECISIONS",
    "Reviewer",
    "ScorecardError",
    "ScorecardsView",
    "decide",
    "human_means",
    "is_blind",
    "mask_name",
    "rubric_of",
    "scorecards_of",
    "scorecards_view",
    "submit_scorecard",
]
