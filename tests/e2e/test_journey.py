"""The whole journey on the embedded default, as its two users see it (acceptance test of the text interview).

A candidate opens the demo link, consents, answers every question by typing and finishes; a
recruiter signs in, watches the interview reach ``completed`` in the live list (the evaluation
worker moves it processing → completed with evaluation ``needs_llm``), opens it and reads the
whole transcript, the "text interview" label and an evaluation section that asks for an LLM
provider instead of showing scores.
"""

from __future__ import annotations

import json

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ROOT, ServedApp
from tests.e2e.test_text_interview import agent_messages, answer

SHOTS = ROOT / "tests" / "artifacts"

ANSWERS = [
    "I run the payments API at a logistics start-up; it settles about a million transfers a day.",
    "My part was the retry and idempotency layer, and today I would split the ledger out earlier.",
    "First I look at latency percentiles and saturation on the dashboards.",
    "Then traces of the slowest requests, the slow query log and a CPU profile.",
    "Expand the schema, backfill in batches, switch the reads, then contract.",
    "I keep the old column and a feature flag, so rolling back is a configuration change.",
]


def test_candidate_interview_then_recruiter_review(served_app: ServedApp, page: Page, browser: Browser) -> None:
    # A fresh demo invitation: other browser tests use the one seeded at start-up.
    demo = json.loads(served_app.cli("seed-demo", "--json").stdout)
    interview_id = demo["interview_id"]

    # -- the candidate -------------------------------------------------------------------------
    page.goto(demo["candidate_link"])
    expect(page.locator("#welcome")).to_contain_text("Alex Morgan", timeout=20_000)
    page.locator("#consent-checkbox").click()
    page.locator("#consent-continue").click()
    expect(page.locator("#text-interview")).to_be_visible(timeout=15_000)
    expect(agent_messages(page).first).to_contain_text("Tell me about a backend system", timeout=20_000)
    for text in ANSWERS:
        answer(page, text)
    expect(page.locator("#ti-finished")).to_be_visible(timeout=20_000)
    expect(page.locator("#ti-input")).to_have_count(0)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "journey-candidate-finished.png"), full_page=True)

    # -- the recruiter -------------------------------------------------------------------------
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        admin = context.new_page()
        admin.goto(served_app.url + "/admin")
        admin.locator("#login-email").fill(served_app.demo["admin_email"], timeout=20_000)
        admin.locator("#login-password").fill(served_app.demo["admin_password"])
        admin.locator("#login-submit").click()
        row = admin.locator(f".interview-row[data-interview-id='{interview_id}']")
        expect(row).to_be_visible(timeout=15_000)
        # processing → completed happens on the server; the open list picks it up without a reload.
        expect(row.locator(".status-badge")).to_have_attribute("data-status", "completed", timeout=25_000)
        expect(row.locator(".status-badge")).to_have_text("completed")

        row.get_by_role("link", name="Alex Morgan").click()
        expect(admin).to_have_url(f"{served_app.url}/admin/interviews/{interview_id}", timeout=15_000)
        expect(admin.locator("#detail-status")).to_have_text("completed", timeout=20_000)
        expect(admin.locator("#detail-mode")).to_have_text("Text interview")

        lines = admin.locator("#transcript-lines")
        expect(lines).to_be_visible(timeout=20_000)
        for text in ANSWERS:
            expect(lines).to_contain_text(text)
        expect(lines).to_contain_text("Goodbye")
        expect(admin.locator("#recording-unavailable")).to_contain_text("text interview")

        # Every chat message is an event too; the timeline folds them away until asked.
        timeline = admin.locator("#timeline")
        expect(timeline).to_contain_text("result received")
        expect(timeline).not_to_contain_text(ANSWERS[0])
        expect(admin.locator("#messages-hidden")).to_contain_text("chat messages of the text interview are hidden")
        admin.locator("#toggle-messages").click()
        expect(timeline).to_contain_text(ANSWERS[0], timeout=10_000)

        expect(admin.locator("#evaluation-status")).to_have_text("Needs an LLM provider")
        expect(admin.locator("#evaluation-message")).to_contain_text("Evaluation needs an LLM provider")
        expect(admin.locator("#evaluation-result")).to_have_count(0)  # no scores, no recommendation
        admin.screenshot(path=str(SHOTS / "journey-admin-detail.png"), full_page=True)
    finally:
        context.close()
