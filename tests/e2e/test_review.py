"""Review sections in Chromium on the served app: player, transcript, click-to-seek, search, access."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from interview_app.db import make_engine
from interview_app.models import AdminUser, Evaluation, InterviewEvent
from interview_app.services.auth import create_session
from interview_app.services.interviews import record_event
from interview_app.services.storage import LocalStorage, recording_key
from tests.e2e.test_candidate_flow import watch_csp
from tests.factories import make_evaluation, scored_criterion
from tests.review.helpers import TRANSCRIPT, finished_interview

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="module")
def reviewed(served_app, tmp_path_factory) -> dict:
    """A finished interview with a 26 s WAV recording, transcript, latency and an integrity event."""
    wav = tmp_path_factory.mktemp("audio") / "recording.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(wav), "synth", "26", "sine", "330"], check=True, timeout=60)
    engine = make_engine(served_app.database_url)
    storage = LocalStorage(
        served_app.env["STORAGE_LOCAL_DIR"], app_url=served_app.url, secret_key=served_app.env["SECRET_KEY"], ttl_seconds=900
    )
    with Session(engine, expire_on_commit=False) as session:
        interview, _ = finished_interview(
            session,
            evaluation=False,
            latency=[
                {"turn": i, "total_ms": 900 + 80 * i, "end_of_turn_ms": 400, "llm_ttft_ms": 300 + 50 * i, "tts_ttfb_ms": 200 + 30 * i}
                for i in range(1, 6)
            ],
        )
        interview.s3_recording_url = storage.put(recording_key(str(interview.id), "wav"), wav.read_bytes(), "audio/wav")
        session.add(interview)
        session.add(Evaluation(interview_id=interview.id, status="needs_llm"))
        record_event(session, interview.id, "integrity", actor="agent", message="Candidate switched browser tab 2 times")
        admin = session.exec(select(AdminUser).where(AdminUser.email == served_app.demo["admin_email"])).one()
        token = create_session(session, admin, ttl_minutes=60)
        session.commit()
    yield {"id": str(interview.id), "token": token, "engine": engine, "admin_email": admin.email}
    engine.dispose()


def _open(page, served_app, reviewed, *, signed_in: bool = True) -> None:
    if signed_in:
        page.context.add_cookies([{"name": "admin_session", "value": reviewed["token"], "url": served_app.url}])
    page.goto(f"{served_app.url}/admin/interviews/{reviewed['id']}")


def test_player_and_transcript_with_click_to_seek(served_app, page, reviewed) -> None:
    # The served policy has no 'unsafe-eval': click-to-seek is a prop of the player, not a script to evaluate.
    violations = watch_csp(page)
    _open(page, served_app, reviewed)
    player = page.locator("#review-player")
    expect(player).to_be_attached(timeout=30_000)
    src = player.get_attribute("src")
    assert "/api/files/interviews/" in src and "sig=" in src
    lines = page.locator(".transcript-line")
    expect(lines).to_have_count(len(TRANSCRIPT))
    expect(lines.nth(1)).to_contain_text("billing pipeline")
    expect(lines.nth(1)).to_contain_text("Candidate")
    expect(lines.nth(1)).to_contain_text("00:04")
    page.wait_for_function("() => document.getElementById('review-player').readyState >= 1", timeout=20_000)

    page.locator("#segment-3").click()
    page.wait_for_function("() => Math.abs(document.getElementById('review-player').currentTime - 12) < 0.5", timeout=10_000)
    expect(page.locator("#segment-3")).to_have_attribute("data-active", "true", timeout=10_000)
    expect(page.locator("#segment-1")).to_have_attribute("data-active", "false")

    page.locator("#segment-5").click()
    page.wait_for_function("() => Math.abs(document.getElementById('review-player').currentTime - 20) < 0.5", timeout=10_000)
    expect(page.locator("#segment-5")).to_have_attribute("data-active", "true", timeout=10_000)

    expect(page.locator("#evaluation-message")).to_contain_text("Evaluation needs an LLM provider")
    expect(page.locator("#integrity-events")).to_contain_text("switched browser tab")
    expect(page.locator("#latency-chart .recharts-surface").first).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-sections.png"), full_page=True)
    assert not violations, violations

    # The minted link plays with Range (the player seeks through it) and the view is audited.
    ranged = httpx.get(src, headers={"Range": "bytes=0-43"}, timeout=10)
    assert ranged.status_code == 206 and ranged.content[:4] == b"RIFF" and ranged.headers["content-type"] == "audio/wav"
    with Session(reviewed["engine"]) as session:
        views = session.exec(
            select(InterviewEvent).where(
                InterviewEvent.interview_id == uuid.UUID(reviewed["id"]), InterviewEvent.kind == "recording_viewed"
            )
        ).all()
    assert views and all(v.actor == reviewed["admin_email"] for v in views)


def test_search_filters_the_transcript(served_app, page, reviewed) -> None:
    _open(page, served_app, reviewed)
    expect(page.locator(".transcript-line")).to_have_count(len(TRANSCRIPT), timeout=30_000)
    page.locator("#transcript-search").fill("percentiles")
    expect(page.locator(".transcript-line")).to_have_count(1, timeout=10_000)
    expect(page.locator("#transcript-count")).to_have_text(f"1 of {len(TRANSCRIPT)} lines match")


def test_without_a_session_nothing_is_shown(served_app, page, reviewed) -> None:
    _open(page, served_app, reviewed, signed_in=False)
    expect(page.locator("#login-email")).to_be_visible(timeout=30_000)  # the detail page asks to sign in
    expect(page.locator("#review-sections")).to_have_count(0)
    expect(page.locator("#review-player")).to_have_count(0)
    expect(page.locator(".transcript-line")).to_have_count(0)


@pytest.fixture(scope="module")
def evaluated(served_app, reviewed) -> dict:
    """A finished interview with a done evaluation (evidence linked to transcript lines) and a recording."""
    engine = reviewed["engine"]
    storage = LocalStorage(
        served_app.env["STORAGE_LOCAL_DIR"], app_url=served_app.url, secret_key=served_app.env["SECRET_KEY"], ttl_seconds=900
    )
    wav = storage.get(f"interviews/{reviewed['id']}/recording.wav")
    with Session(engine, expire_on_commit=False) as session:
        interview, _ = finished_interview(session, evaluation=False)
        interview.status = "completed"
        interview.s3_recording_url = storage.put(recording_key(str(interview.id), "wav"), wav, "audio/wav")
        session.add(interview)
        evidence = [{"quote": "It processed two million invoices a month", "seq": 1, "start_ms": 4000, "speaker": "candidate"}]
        make_evaluation(
            session,
            interview.id,
            [
                scored_criterion(
                    "Technical depth", 4, weight=2, rationale="Gave numbers and a design choice.", evidence=evidence, dropped_evidence=1
                ),
                scored_criterion("Communication", None, rationale="The model gave no valid score for this criterion.", dropped_evidence=0),
            ],
            summary="Concrete, measured answers about backend systems.",
        )
        session.commit()
    return {"id": str(interview.id), "candidate_id": interview.candidate_id}


def test_evaluation_shows_scores_evidence_and_advisory_label(served_app, page, reviewed, evaluated) -> None:
    page.context.add_cookies([{"name": "admin_session", "value": reviewed["token"], "url": served_app.url}])
    page.goto(f"{served_app.url}/admin/interviews/{evaluated['id']}")
    result = page.locator("#evaluation-result")
    expect(result).to_contain_text("Advisory recommendation: Yes", timeout=30_000)
    expect(result).to_contain_text("The hiring decision is yours")
    expect(result).to_contain_text("Technical depth")
    expect(result).to_contain_text("It processed two million invoices a month")
    expect(result).to_contain_text("1 quote(s) from the model did not occur in the transcript")
    expect(page.locator("#evaluation-status")).to_have_text("Done")
    page.wait_for_function("() => document.getElementById('review-player').readyState >= 1", timeout=20_000)
    result.get_by_text("It processed two million invoices a month").click()
    page.wait_for_function("() => Math.abs(document.getElementById('review-player').currentTime - 4) < 0.5", timeout=10_000)
    expect(page.locator("#segment-1")).to_have_attribute("data-active", "true", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "review-evaluation.png"), full_page=True)


def test_admin_deletes_the_candidates_data(served_app, page, reviewed, evaluated) -> None:
    page.context.add_cookies([{"name": "admin_session", "value": reviewed["token"], "url": served_app.url}])
    page.goto(f"{served_app.url}/admin/interviews/{evaluated['id']}")
    page.locator("#delete-candidate").click(timeout=30_000)
    page.locator("#confirm-delete").click()
    page.wait_for_url(f"{served_app.url}/admin", timeout=20_000)
    with Session(reviewed["engine"]) as session:
        from interview_app.models import Candidate, Interview

        assert session.get(Interview, uuid.UUID(evaluated["id"])) is None
        assert session.get(Candidate, evaluated["candidate_id"]) is None
    assert not (Path(served_app.env["STORAGE_LOCAL_DIR"]) / "interviews" / evaluated["id"]).exists()


def test_transcript_downloads_as_json_and_text(served_app, page, reviewed) -> None:
    import json

    _open(page, served_app, reviewed)
    expect(page.locator(".transcript-line")).to_have_count(len(TRANSCRIPT), timeout=30_000)
    with page.expect_download(timeout=15_000) as info:
        page.get_by_role("button", name="JSON").click()
    download = info.value
    assert download.suggested_filename == f"transcript-{reviewed['id']}.json"
    body = json.loads(Path(download.path()).read_text())
    assert [s["text"] for s in body["segments"]] == [text for _, text in TRANSCRIPT]
    assert body["segments"][1] == {**body["segments"][1], "speaker": "candidate", "start_ms": 4000}
    with page.expect_download(timeout=15_000) as info:
        page.get_by_role("button", name="Text").click()
    text = Path(info.value.path()).read_text()
    assert info.value.suggested_filename.endswith(".txt")
    assert "[00:04] Candidate: I built the billing pipeline" in text


def test_a_thin_transcript_is_not_evaluated_and_the_page_says_why(served_app, page, reviewed) -> None:
    """Two words and an inaudible segment: the app's own evaluation worker refuses to score it (no model
    is asked); the reviewer reads "Not evaluated" with the reason and each criterion as insufficient evidence."""
    with Session(reviewed["engine"], expire_on_commit=False) as session:
        interview, _ = finished_interview(
            session, segments=[("agent", "Tell me about a system you built."), ("candidate", "Yes, sure."), ("candidate", "[inaudible]")]
        )
    deadline = time.monotonic() + 60  # the app's evaluation worker polls every 5 s
    while True:
        with Session(reviewed["engine"]) as session:
            status = session.exec(select(Evaluation.status).where(Evaluation.interview_id == interview.id)).first()
        if status not in ("pending", "running") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status == "insufficient", status
    page.context.add_cookies([{"name": "admin_session", "value": reviewed["token"], "url": served_app.url}])
    page.goto(f"{served_app.url}/admin/interviews/{interview.id}")
    expect(page.locator("#evaluation-status")).to_have_text("Not evaluated", timeout=20_000)
    expect(page.locator("#evaluation-message")).to_contain_text("2 usable words")
    expect(page.locator("#evaluation-not-evaluated")).to_contain_text("Insufficient evidence")
    expect(page.locator("#evaluation-result")).to_have_count(0)  # no score, no recommendation
    page.screenshot(path=str(ARTIFACTS / "review-not-evaluated.png"), full_page=True)


@pytest.fixture(scope="module")
def scored(served_app, reviewed) -> dict:
    """A completed interview of a blind-review template: a done AI evaluation, a colleague's scorecard, a reviewer's session."""
    from interview_app.models import Candidate, InterviewTemplate, TranscriptSegment
    from interview_app.services.auth import create_admin
    from interview_app.services.scorecards import Reviewer, submit_scorecard

    with Session(reviewed["engine"], expire_on_commit=False) as session:
        interview, _ = finished_interview(session, evaluation=False)
        interview.status = "completed"
        session.add(interview)
        template = session.get(InterviewTemplate, interview.template_id)
        template.blind_review = True
        session.add(template)
        candidate = session.get(Candidate, interview.candidate_id)
        session.add(TranscriptSegment(interview_id=interview.id, seq=6, speaker="agent", text=f"Thank you, {candidate.name}."))
        make_evaluation(
            session,
            interview.id,
            [
                scored_criterion("Technical depth", 2, weight=2),
                scored_criterion("Problem solving", 4, weight=2),
                scored_criterion("Communication", 3),
            ],
        )
        tag = uuid.uuid4().hex[:6]
        colleague = create_admin(session, f"colleague.{tag}@example.com", "correct horse battery", role="reviewer")
        reviewer = create_admin(session, f"blind.{tag}@example.com", "correct horse battery", role="reviewer")
        session.commit()
        submit_scorecard(
            session,
            interview.id,
            Reviewer(colleague.id, colleague.email, colleague.role),
            {"Technical depth": {"score": 5, "note": "Very deep."}, "Problem solving": {"score": 4}},
            recommendation="advance",
            note="Hire.",
        )
        token = create_session(session, reviewer, ttl_minutes=60)
        session.commit()
    return {"id": str(interview.id), "name": candidate.name, "email": candidate.email, "token": token, "colleague": colleague.email}


def test_a_blind_reviewer_scores_then_sees_colleagues_and_an_admin_decides(served_app, page, reviewed, scored) -> None:
    from interview_app.models import Interview

    page.context.add_cookies([{"name": "admin_session", "value": scored["token"], "url": served_app.url}])
    page.goto(f"{served_app.url}/admin/interviews/{scored['id']}")
    expect(page.locator("#detail-candidate")).to_have_text("Candidate (blind review)", timeout=30_000)
    expect(page.locator("#detail-blind")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(scored["email"])
    expect(page.locator("#segment-6")).to_contain_text("Thank you, [candidate].")
    scores = page.locator("#review-scores")
    expect(scores).to_contain_text("1 colleague(s) have scored; you see their scores after you submit yours.")
    expect(page.locator("#score-comparison")).to_have_count(0)
    expect(page.locator("#record-decision")).to_have_count(0)  # a reviewer sees the decision, cannot make it
    page.locator("#submit-scores").click()
    expect(page.locator("#score-error")).to_contain_text("Choose your recommendation")
    page.locator(".score-input[data-criterion='Technical depth'] .score-select").click()
    page.get_by_role("option", name="3", exact=True).click()
    page.locator(".score-input[data-criterion='Technical depth'] .score-note textarea").fill("Clear on retries, thin on tracing.")
    page.locator("#recommend-hold").click()
    page.screenshot(path=str(ARTIFACTS / "review-score-form.png"), full_page=True)
    page.locator("#submit-scores").click()
    comparison = page.locator("#score-comparison")
    expect(comparison).to_be_visible(timeout=15_000)
    depth = comparison.locator(".comparison-row[data-criterion='Technical depth']")
    expect(depth.locator(".ai-score")).to_have_text("2")
    expect(depth.locator(".your-score")).to_have_text("3")
    expect(depth.locator(".human-mean")).to_have_text("4.0")
    expect(depth).to_contain_text("apart")
    expect(page.locator("#scorecards")).to_contain_text(scored["colleague"])
    expect(page.locator("#scorecards")).to_contain_text("Hire.")
    expect(page.locator("#detail-candidate")).to_have_text(scored["name"], timeout=15_000)  # scored: the name comes back
    page.screenshot(path=str(ARTIFACTS / "review-scores-compared.png"), full_page=True)

    admin = page.context.browser.new_context()
    try:
        admin_page = admin.new_page()
        admin.add_cookies([{"name": "admin_session", "value": reviewed["token"], "url": served_app.url}])
        admin_page.goto(f"{served_app.url}/admin/interviews/{scored['id']}")
        expect(admin_page.locator("#detail-candidate")).to_have_text(scored["name"], timeout=30_000)  # admins always see who
        expect(admin_page.locator("#decision-none")).to_be_visible()
        admin_page.locator("#decide-advance").click()
        admin_page.locator("#review-decision textarea").fill("Strong systems answers; next: onsite.")
        admin_page.locator("#record-decision").click()
        expect(admin_page.locator("#decision-record")).to_contain_text(f"Advance — decided by {reviewed['admin_email']}", timeout=15_000)
        expect(admin_page.locator("#detail-decision")).to_contain_text("advance", timeout=15_000)
        expect(admin_page.locator("#review-decision")).to_contain_text("Strong systems answers; next: onsite.")
        admin_page.screenshot(path=str(ARTIFACTS / "review-decision.png"), full_page=True)
    finally:
        admin.close()
    with Session(reviewed["engine"]) as session:
        stored = session.get(Interview, uuid.UUID(scored["id"]))
        assert (stored.decision, stored.decision_by) == ("advance", reviewed["admin_email"])
        kinds = session.exec(select(InterviewEvent.kind).where(InterviewEvent.interview_id == stored.id)).all()
        assert {"scorecard_submitted", "decision_made"} <= set(kinds)
