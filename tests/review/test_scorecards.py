"""Issue 18: human scoring beside the AI, the hiring decision, blind review and rubric versions.

Real rows through the real services on SQLite and PostgreSQL; the page's handlers through a real
state tree with real admin sessions (tests/admin/test_admin_state_guards.py).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from interview_app.contracts import ReviewerScore
from interview_app.models import (
    Candidate,
    Interview,
    InterviewEvent,
    InterviewStatus,
    InterviewTemplate,
    Scorecard,
    TemplateVersion,
    WebhookDelivery,
)
from interview_app.services import templates
from interview_app.services.auth import create_admin
from interview_app.services.interview_list import ListFilters, export_csv, interview_detail, list_interviews
from interview_app.services.interviews import build_plan, transition
from interview_app.services.retention import delete_candidate_data
from interview_app.services.review import load_review
from interview_app.services.scorecards import (
    BLIND_NAME,
    Reviewer,
    ScorecardError,
    decide,
    human_means,
    is_blind,
    mask_name,
    reviewer_scores,
    scorecards_view,
    submit_scorecard,
)
from interview_app.services.webhooks import DECISION_MADE, create_endpoint
from interview_app.state.review import NO_SCORE, ReviewState, ScoreInput
from tests.admin.test_admin_state_guards import people, run, state_for  # noqa: F401  (people is a fixture)
from tests.factories import make_evaluation, scored_criterion
from tests.review.helpers import finished_interview

GOOD = {
    "Technical depth": {"score": "4", "note": "Idempotent retries, concrete numbers."},
    "Problem solving": {"score": 5, "note": "Measures first."},
    "Communication": {"score": "", "note": ""},  # could not judge
}


def _person(session: Session, role: str = "reviewer") -> Reviewer:
    tag = uuid.uuid4().hex[:6]
    user = create_admin(session, f"{role}.{tag}@example.com", "correct horse battery", role=role)
    session.commit()
    return Reviewer(user.id, user.email, user.role)  # type: ignore[arg-type]


def _scored_interview(session: Session, **template_fields: object) -> Interview:
    interview, _ = finished_interview(session, evaluation=False)
    if template_fields:
        template = session.get(InterviewTemplate, interview.template_id)
        for key, value in template_fields.items():
            setattr(template, key, value)
        session.add(template)
        session.commit()
    return interview


# --- scorecards ---------------------------------------------------------------------


def test_a_scorecard_keeps_each_criterion_on_its_scale_with_notes_and_is_audited(session: Session) -> None:
    interview = _scored_interview(session)
    rev = _person(session)
    card = submit_scorecard(session, interview.id, rev, GOOD, recommendation="advance", note="Strong backend answers.")
    session.commit()
    stored = session.get(Scorecard, card.id)
    assert [(s["criterion"], s["score"], s["note"]) for s in stored.scores] == [
        ("Technical depth", 4, "Idempotent retries, concrete numbers."),
        ("Problem solving", 5, "Measures first."),
        ("Communication", None, ""),
    ]
    # Each entry is stored with the keys, in the order, that calibration and the review page read.
    assert stored.scores[0] == {
        "criterion": "Technical depth", "score": 4, "scale_min": 1, "scale_max": 5, "weight": 2.0, "note": "Idempotent retries, concrete numbers."
    }  # fmt: skip
    assert [list(s) for s in stored.scores] == [["criterion", "score", "scale_min", "scale_max", "weight", "note"]] * 3
    assert stored.recommendation == "advance" and stored.note == "Strong backend answers."
    events = session.exec(
        select(InterviewEvent).where(InterviewEvent.interview_id == interview.id, InterviewEvent.kind == "scorecard_submitted")
    ).all()
    assert [(e.actor, e.detail["recommendation"], e.detail["scored"]) for e in events] == [(rev.email, "advance", 2)]
    # Submitting again replaces it (one per person) and is audited as an update.
    submit_scorecard(session, interview.id, rev, {**GOOD, "Communication": {"score": 3}}, recommendation="hold")
    session.commit()
    cards = session.exec(select(Scorecard).where(Scorecard.interview_id == interview.id)).all()
    assert len(cards) == 1 and cards[0].recommendation == "hold" and cards[0].scores[2]["score"] == 3
    kinds = session.exec(
        select(InterviewEvent.kind).where(InterviewEvent.interview_id == interview.id, InterviewEvent.kind.like("scorecard%"))
    ).all()  # type: ignore[attr-defined]
    assert sorted(kinds) == ["scorecard_submitted", "scorecard_updated"]


@pytest.mark.parametrize(
    ("entries", "recommendation", "message"),
    [
        ({**GOOD, "Technical depth": {"score": "9"}}, "advance", "from 1 to 5, not 9"),
        ({**GOOD, "Technical depth": {"score": "four"}}, "advance", "whole number from 1 to 5"),
        ({name: {"score": ""} for name in GOOD}, "advance", "Score at least one criterion"),
        (GOOD, "", "Choose your recommendation"),
        (GOOD, "hire!", "Choose your recommendation"),
        ({**GOOD, "Communication": {"score": "3", "note": "x" * 2001}}, "hold", "longer than 2000 characters"),
    ],
)
def test_a_bad_scorecard_is_refused_with_a_sentence_and_writes_nothing(
    session: Session, entries: dict, recommendation: str, message: str
) -> None:
    interview = _scored_interview(session)
    rev = _person(session)
    with pytest.raises(ScorecardError, match=message):
        submit_scorecard(session, interview.id, rev, entries, recommendation=recommendation)
    session.rollback()
    assert session.exec(select(Scorecard).where(Scorecard.interview_id == interview.id)).all() == []
    assert (
        session.exec(
            select(InterviewEvent).where(InterviewEvent.interview_id == interview.id, InterviewEvent.kind.like("scorecard%"))
        ).all()
        == []
    )  # type: ignore[attr-defined]


def test_an_interview_that_has_not_finished_cannot_be_scored_or_decided(session: Session) -> None:
    interview, _ = finished_interview(session, evaluation=False)
    transition(session, interview, InterviewStatus.completed)
    session.commit()
    rev = _person(session)
    submit_scorecard(session, interview.id, rev, GOOD, recommendation="advance")  # completed: fine
    from tests.factories import make_interview

    invited, _ = make_interview(session)
    with pytest.raises(ScorecardError, match="has not finished"):
        submit_scorecard(session, invited.id, rev, GOOD, recommendation="advance")
    with pytest.raises(ScorecardError, match="has not finished"):
        decide(session, invited.id, "advance", actor="boss@example.com")
    with pytest.raises(ScorecardError, match="does not exist"):
        submit_scorecard(session, uuid.uuid4(), rev, GOOD, recommendation="advance")


def test_colleagues_scores_stay_hidden_until_you_submit_yours(session: Session) -> None:
    interview = _scored_interview(session)
    first, second = _person(session), _person(session, "admin")
    submit_scorecard(session, interview.id, first, GOOD, recommendation="advance")
    session.commit()
    before = scorecards_view(session, interview.id, second.id)
    assert before.own is None and before.others == [] and before.others_hidden and before.total == 1
    submit_scorecard(session, interview.id, second, {**GOOD, "Technical depth": {"score": 2}}, recommendation="decline")
    session.commit()
    after = scorecards_view(session, interview.id, second.id)
    assert after.own is not None and [c.reviewer_email for c in after.others] == [first.email] and not after.others_hidden
    assert human_means([after.own, *after.others]) == {"Technical depth": 3.0, "Problem solving": 5.0}
    # The first one's own view: nobody hidden from a person who has scored.
    assert scorecards_view(session, interview.id, first.id).others_hidden is False


def test_human_means_read_entries_with_only_criterion_score_and_note() -> None:
    def card(*scores: object) -> Scorecard:
        return Scorecard(interview_id=uuid.uuid4(), reviewer_id=1, reviewer_email="r@example.com", scores=list(scores))

    short = card({"criterion": "Depth", "score": 4, "note": ""}, {"criterion": "Care", "score": None, "note": "?"}, "not an entry")
    full = card({"criterion": "Depth", "score": 2, "scale_min": 1, "scale_max": 5, "weight": 1.0, "note": ""})
    assert reviewer_scores(short)[0] == ReviewerScore(criterion="Depth", score=4)
    assert len(reviewer_scores(short)) == 2
    assert human_means([short, full]) == {"Depth": 3.0}  # nobody scored Care


def test_the_page_shows_ai_beside_human_after_you_submit(session: Session, people: dict[str, str]) -> None:  # noqa: F811
    interview = _scored_interview(session)
    scores = [
        scored_criterion("Technical depth", 2, weight=2),
        scored_criterion("Problem solving", 5, weight=2),
        scored_criterion("Communication", None, insufficient_evidence=True),
    ]
    make_evaluation(session, interview.id, scores, summary="ok", model="")
    colleague = _person(session)
    submit_scorecard(session, interview.id, colleague, GOOD, recommendation="advance")
    session.commit()
    path = f"/admin/interviews/{interview.id}"
    page = state_for(ReviewState, people["reviewer"], path)
    run(page, "load_review")
    assert page.can_score and not page.own_submitted and page.others_hidden and page.scorecard_count == 1
    assert page.scorecards == [] and all(row.human_mean == "—" and row.human_scores == "" for row in page.comparison)
    assert [row.options for row in page.score_inputs][0] == [NO_SCORE, "1", "2", "3", "4", "5"]
    run(page, "set_score", index=0, value="5")
    run(page, "set_score", index=1, value="42")  # not a choice: ignored
    run(page, "set_score_note", index=0, value="Deep on retries.")
    run(page, "submit_scores")
    assert "recommendation" in page.score_error  # none chosen yet
    run(page, "set_score_recommendation", value="hold")
    run(page, "submit_scores")
    assert page.score_error == "" and page.own_submitted and not page.others_hidden
    rows = {row.criterion: row for row in page.comparison}
    assert (rows["Technical depth"].ai, rows["Technical depth"].yours, rows["Technical depth"].human_mean) == ("2", "5", "4.5")
    assert rows["Technical depth"].apart and rows["Technical depth"].human_scores == "5 · 4"  # yours first
    assert (rows["Communication"].ai, rows["Communication"].human_mean) == ("—", "—")  # insufficient AI, nobody scored
    assert not rows["Problem solving"].apart  # AI 5, humans 5
    assert {c.reviewer for c in page.scorecards} == {"You", colleague.email}


@pytest.mark.parametrize("who", ["none", "forged", "expired", "deactivated"])
def test_scoring_and_deciding_do_nothing_without_a_session(session: Session, people: dict[str, str], who: str) -> None:  # noqa: F811
    interview = _scored_interview(session)
    page = state_for(ReviewState, people[who], f"/admin/interviews/{interview.id}")
    page.review_interview_id = str(interview.id)
    page.score_inputs = [ScoreInput("Technical depth", "", "1–5", [NO_SCORE, "1", "2", "3", "4", "5"], "4", "")]
    page.score_recommendation, page.decision_choice = "advance", "advance"
    for handler, payload in (
        ("set_score", {"index": 0, "value": "2"}),
        ("set_score_note", {"index": 0, "value": "x"}),
        ("set_score_recommendation", {"value": "decline"}),
        ("set_score_overall_note", {"value": "x"}),
        ("submit_scores", {}),
        ("set_decision_choice", {"value": "decline"}),
        ("set_decision_note", {"value": "x"}),
        ("record_decision", {}),
    ):
        run(page, handler, **payload)
    assert (page.score_inputs[0].score, page.score_inputs[0].note, page.score_recommendation, page.decision_choice) == (
        "4",
        "",
        "advance",
        "advance",
    )
    session.expire_all()
    assert session.exec(select(Scorecard).where(Scorecard.interview_id == interview.id)).all() == []
    assert session.get(Interview, interview.id).decision is None


# --- the decision -------------------------------------------------------------------


def test_a_decision_is_a_persons_kept_on_the_interview_audited_and_sent_as_a_webhook(session: Session) -> None:
    interview = _scored_interview(session)
    endpoint = create_endpoint(session, "https://ats.example.com/hooks", [DECISION_MADE], "ats")
    session.commit()
    decide(session, interview.id, "advance", actor="boss@example.com", note="Great systems answers.")
    session.commit()
    decide(session, interview.id, "advance", actor="boss@example.com", note="Great systems answers.")  # the same again: nothing
    session.commit()
    decide(session, interview.id, "hold", actor="lead@example.com")
    session.commit()
    stored = session.get(Interview, interview.id)
    session.refresh(stored)
    assert (stored.decision, stored.decision_by, stored.decision_note) == ("hold", "lead@example.com", "")
    events = session.exec(
        select(InterviewEvent)
        .where(InterviewEvent.interview_id == interview.id, InterviewEvent.kind == "decision_made")
        .order_by(InterviewEvent.id)
    ).all()
    assert [(e.actor, e.detail["decision"], e.detail["previous"]) for e in events] == [
        ("boss@example.com", "advance", None),
        ("lead@example.com", "hold", "advance"),
    ]
    deliveries = session.exec(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id).order_by(WebhookDelivery.id)).all()
    assert [(d.event_type, d.payload["data"]["decision"], d.payload["data"]["previous_decision"]) for d in deliveries] == [
        (DECISION_MADE, "advance", None),
        (DECISION_MADE, "hold", "advance"),
    ]
    assert deliveries[0].payload["data"]["interview_id"] == str(interview.id)
    assert deliveries[0].payload["data"]["review_url"].endswith(f"/admin/interviews/{interview.id}")
    with pytest.raises(ScorecardError, match="advance, hold or decline"):
        decide(session, interview.id, "hire", actor="boss@example.com")


def test_only_an_admin_records_the_decision_from_the_page(session: Session, people: dict[str, str]) -> None:  # noqa: F811
    interview = _scored_interview(session)
    path = f"/admin/interviews/{interview.id}"
    reviewer = state_for(ReviewState, people["reviewer"], path)
    run(reviewer, "load_review")
    run(reviewer, "set_decision_choice", value="advance")
    run(reviewer, "record_decision")
    assert "Only an admin" in reviewer.decision_error
    session.expire_all()
    assert session.get(Interview, interview.id).decision is None
    admin = state_for(ReviewState, people["admin"], path)
    run(admin, "load_review")
    run(admin, "set_decision_choice", value="decline")
    run(admin, "set_decision_note", value="Not enough depth for senior.")
    run(admin, "record_decision")
    assert admin.decision_error == "" and admin.decision == "decline" and admin.decision_record.startswith("Decline — decided by boss.")
    session.expire_all()
    assert session.get(Interview, interview.id).decision == "decline"
    run(reviewer, "load_review")
    assert reviewer.decision == "decline" and reviewer.decision_note_shown == "Not enough depth for senior."


# --- blind review -------------------------------------------------------------------


def test_mask_name_hides_the_full_name_and_each_part_but_not_other_words() -> None:
    text = "Hi Casey Jones! casey, tell me: Caseyville is not you. Jones's answer."
    assert mask_name(text, "Casey Jones") == "Hi [candidate]! [candidate], tell me: Caseyville is not you. [candidate]'s answer."
    assert mask_name("Hi A B", "A B") == "Hi A B"  # one-letter parts are not names worth masking
    assert mask_name("text", "") == "text"


def test_blind_review_hides_who_the_candidate_is_from_reviewers_until_they_score(session: Session) -> None:
    interview = _scored_interview(session, blind_review=True)
    candidate = session.get(Candidate, interview.candidate_id)
    candidate.external_ref = "gh-12345"
    session.add(candidate)
    session.commit()
    rev, admin = _person(session), _person(session, "admin")
    assert is_blind(session, interview, rev) and not is_blind(session, interview, admin)
    detail = interview_detail(session, str(interview.id), viewer=rev)
    assert (detail.candidate_name, detail.candidate_email, detail.candidate_ref, detail.blind) == (
        BLIND_NAME,
        "hidden (blind review)",
        "hidden (blind review)",
        True,
    )
    assert all(candidate.email not in e["detail"] and candidate.email not in e["actor"] for e in detail.events)
    assert interview_detail(session, str(interview.id), viewer=admin).candidate_name == candidate.name
    # The list: masked for the reviewer, and a name search does not find the blind row.
    mine = ListFilters(template_id=interview.template_id, blind_viewer_id=rev.id)
    rows = list_interviews(session, mine).rows
    assert [(r.candidate_name, r.candidate_email) for r in rows] == [(BLIND_NAME, "")]
    assert (
        list_interviews(session, ListFilters(template_id=interview.template_id, search=candidate.name, blind_viewer_id=rev.id)).rows == []
    )
    assert (
        list_interviews(session, ListFilters(template_id=interview.template_id, search=candidate.name)).rows[0].candidate_name
        == candidate.name
    )
    assert candidate.email not in export_csv(session, mine) and BLIND_NAME in export_csv(session, mine)
    # After scoring, the reviewer sees who it was.
    submit_scorecard(session, interview.id, rev, GOOD, recommendation="advance")
    session.commit()
    assert not is_blind(session, interview, rev)
    assert interview_detail(session, str(interview.id), viewer=rev).candidate_email == candidate.email
    assert list_interviews(session, mine).rows[0].candidate_name == candidate.name


def test_the_review_page_masks_the_name_in_the_transcript_for_a_blind_reviewer(session: Session, people: dict[str, str]) -> None:  # noqa: F811
    interview, _ = finished_interview(
        session,
        evaluation=False,
        segments=[("agent", "Welcome! Let's begin."), ("candidate", "Thanks. I built the billing pipeline at Acme with PostgreSQL.")],
    )
    template = session.get(InterviewTemplate, interview.template_id)
    template.blind_review = True
    candidate = session.get(Candidate, interview.candidate_id)
    first = candidate.name.split()[0]
    from interview_app.models import TranscriptSegment

    session.add(
        TranscriptSegment(interview_id=interview.id, seq=2, speaker="agent", text=f"Thank you, {candidate.name}. And you, {first}?")
    )
    session.add(template)
    session.commit()
    path = f"/admin/interviews/{interview.id}"
    reviewer = state_for(ReviewState, people["reviewer"], path)
    run(reviewer, "load_review")
    assert reviewer.blind and reviewer.candidate_name == BLIND_NAME
    assert reviewer.segments[2].text == "Thank you, [candidate]. And you, [candidate]?"
    admin = state_for(ReviewState, people["admin"], path)
    run(admin, "load_review")
    assert not admin.blind and admin.candidate_name == candidate.name and first in admin.segments[2].text
    run(reviewer, "set_score", index=0, value="3")
    run(reviewer, "set_score_recommendation", value="hold")
    run(reviewer, "submit_scores")
    assert reviewer.score_error == "" and not reviewer.blind and reviewer.candidate_name == candidate.name


# --- rubric versions ----------------------------------------------------------------


def _draft(**overrides: object) -> templates.TemplateDraft:
    return templates.TemplateDraft(
        **{
            "title": f"Versioned {uuid.uuid4().hex[:6]}",
            "questions": [{"text": "Tell me about a system you built.", "strong_answer": "Own part, trade-off."}],
            "rubric": [{"name": "Depth", "description": "", "weight": "1", "scale_min": "1", "scale_max": "5"}],
        }
        | overrides
    )


def test_editing_questions_or_rubric_makes_a_new_version_and_other_edits_do_not(session: Session) -> None:
    t = templates.save_template(session, _draft(), actor="boss@example.com")
    session.commit()
    assert t.version == 1
    draft = templates.draft_from_template(t)
    draft.persona = "You are Sam."  # not the questions or the rubric
    templates.save_template(session, draft, t.id)
    assert t.version == 1
    draft.questions[0]["strong_answer"] = "Own part, one trade-off, what they would change."  # the evaluator reads it
    templates.save_template(session, draft, t.id, actor="lead@example.com")
    assert t.version == 2
    draft.rubric.append({"name": "Communication", "description": "", "weight": "1", "scale_min": "1", "scale_max": "4"})
    templates.save_template(session, draft, t.id)
    session.commit()
    assert t.version == 3
    versions = templates.versions_of(session, t.id)
    assert [(v.version, len(v.rubric), v.created_by) for v in versions] == [
        (3, 2, ""),
        (2, 1, "lead@example.com"),
        (1, 1, "boss@example.com"),
    ]
    assert versions[-1].questions[0]["strong_answer"] == "Own part, trade-off."
    audited = session.exec(
        select(InterviewEvent).where(InterviewEvent.kind == "template_version_created").order_by(InterviewEvent.id.desc()).limit(3)  # type: ignore[union-attr]
    ).all()
    assert [(e.detail["template_id"], e.detail["version"], e.actor) for e in reversed(audited)] == [
        (t.id, 1, "boss@example.com"),
        (t.id, 2, "lead@example.com"),
        (t.id, 3, "system"),
    ]
    copy = templates.duplicate_template(session, t.id)
    session.commit()
    assert copy.version == 1 and [v.version for v in templates.versions_of(session, copy.id)] == [1]


def test_an_interview_keeps_the_version_it_ran_through_evaluation_scoring_and_review(session: Session) -> None:
    t = templates.save_template(session, _draft(), actor="boss@example.com")
    session.commit()
    from interview_app.services.interviews import create_invitation
    from tests.factories import make_candidate

    interview, _ = create_invitation(session, make_candidate(session), t, ttl=timedelta(days=7))
    assert interview.template_version is None  # invited: not run yet
    plan = build_plan(interview, session.get(Candidate, interview.candidate_id), t)
    assert interview.template_version == 1 and [q.text for q in plan.questions] == ["Tell me about a system you built."]
    transition(session, interview, InterviewStatus.in_progress)
    transition(session, interview, InterviewStatus.processing)
    session.commit()
    # The template moves on: new question, new rubric criterion.
    draft = templates.draft_from_template(t)
    draft.questions = [{"text": "What would you change in your last design?", "strong_answer": ""}]
    draft.rubric = [{"name": "Judgement", "description": "", "weight": "1", "scale_min": "0", "scale_max": "3"}]
    templates.save_template(session, draft, t.id)
    session.commit()
    assert t.version == 2
    # A rejoin's plan, the evaluation's input, the review and the scorecard all use version 1.
    as_run = templates.as_run(session, t, interview.template_version)
    assert [q["text"] for q in as_run.questions] == ["Tell me about a system you built."] and as_run.rubric[0]["name"] == "Depth"
    assert session.get(InterviewTemplate, t.id).rubric[0]["name"] == "Judgement"  # the copy changed nothing
    data = load_review(session, interview.id)
    assert (data.template_version, data.current_version) == (1, 2)
    assert [q.text for q in data.questions] == ["Tell me about a system you built."]
    card = submit_scorecard(session, interview.id, _person(session), {"Depth": {"score": 5}}, recommendation="advance")
    assert card.template_version == 1 and [s["criterion"] for s in card.scores] == ["Depth"]
    with pytest.raises(ScorecardError, match="Score at least one"):
        submit_scorecard(session, interview.id, _person(session), {"Judgement": {"score": 3}}, recommendation="advance")
    from interview_app.services.evaluation import _load_input

    assert [c.name for c in _load_input(session, interview).rubric] == ["Depth"]
    detail = interview_detail(session, str(interview.id))
    assert detail.template_version == "v1 of 2"


def test_migration_backfilled_version_one_is_what_an_unrecorded_template_falls_back_to(session: Session) -> None:
    # A template written without a version row (as the demo and older code did) still answers as_run.
    t = InterviewTemplate(title="Bare", questions=[{"id": "q1", "text": "Q?"}], rubric=[])
    session.add(t)
    session.commit()
    assert templates.as_run(session, t, 1) is t and templates.as_run(session, t, None) is t
    assert templates.as_run(session, t, 7) is t  # a version nobody stored: the template as it is
    assert session.exec(select(TemplateVersion).where(TemplateVersion.template_id == t.id)).all() == []


def test_deleting_a_candidate_deletes_their_scorecards(session: Session) -> None:
    interview = _scored_interview(session)
    submit_scorecard(session, interview.id, _person(session), GOOD, recommendation="advance")
    session.commit()
    report = delete_candidate_data(session, interview.candidate_id, actor="boss@example.com")
    assert report.rows["scorecards"] == 1
    assert session.exec(select(Scorecard).where(Scorecard.interview_id == interview.id)).all() == []
