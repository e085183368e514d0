"""The text interview in Chromium.

On the embedded default (``served_app``: fresh seeded database, no LiveKit, scripted interviewer):
open the demo link, consent, answer every question by typing, reload in the middle (same
conversation, continues), a second browser context on the same link is refused, finish; then the
transcript is in the database. Also: takeover after a closed tab, the End button; and, with LiveKit
configured and an OpenAI-compatible model, "I can't use a microphone" leads to the chat whose
replies stream in word by word.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ROOT, ServedApp, start_app, stop_app
from tests.fakes.livekit_server import FakeLiveKitServer
from tests.text.fake_openai import FakeOpenAI

SHOTS = ROOT / "tests" / "artifacts"

ANSWERS = [
    "I built a billing service in Go that issues invoices.",
    "I designed the ledger tables and would add idempotency keys today.",
    "I measure latency percentiles and saturation first.",
    "Then the slow query log and CPU profiles.",
    "Expand, migrate the data, then contract.",
    "I keep the old column until the new code is proven, so rollback is a deploy.",
]


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"text-{name}.png"), full_page=True)


def db_rows(app: ServedApp, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(app.database_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql, args).fetchall()


def open_chat(page: Page, link: str) -> None:
    page.goto(link)
    expect(page.locator("#welcome")).to_be_visible(timeout=20_000)
    page.locator("#consent-checkbox").click()
    page.locator("#consent-continue").click()
    if page.locator("#choose-text").count():  # a voice-capable server asks; the embedded default does not
        page.locator("#choose-text").click()


def reopen_chat(page: Page, link: str) -> None:
    """An interview already in progress as text: no consent step again, straight to the chat."""
    page.goto(link)
    expect(page.locator("#welcome")).to_be_visible(timeout=20_000)
    expect(page.locator("#text-interview")).to_be_visible(timeout=20_000)
    expect(page.locator("#consent-checkbox")).to_have_count(0)


def agent_messages(page: Page):
    return page.locator(".ti-agent[data-streaming='']")


def answer(page: Page, text: str) -> None:
    before = agent_messages(page).count()
    box = page.locator("#ti-input")
    box.fill(text)
    box.press("Enter")
    expect(page.locator(".ti-candidate").last).to_contain_text(text, timeout=10_000)
    expect(agent_messages(page)).to_have_count(before + 1, timeout=20_000)
    expect(page.locator("#ti-typing")).to_have_count(0, timeout=20_000)


def test_text_interview_start_reload_second_tab_and_finish(served_app: ServedApp, page: Page, browser: Browser) -> None:
    link = served_app.demo["candidate_link"]
    open_chat(page, link)
    expect(page.locator("#text-interview")).to_be_visible(timeout=10_000)
    expect(agent_messages(page).first).to_contain_text("Tell me about a backend system", timeout=20_000)
    expect(page.locator("#ti-progress")).to_have_text("Question 1 of 3")
    expect(page.locator("#ti-time")).to_contain_text("left")
    shot(page, "greeting")

    answer(page, ANSWERS[0])
    answer(page, ANSWERS[1])
    expect(page.locator("#ti-progress")).to_have_text("Question 2 of 3")
    shown = page.locator(".ti-message").all_text_contents()
    shot(page, "question-2")

    # Reload: same tab (same client token) → the same conversation, continuing at question 2.
    page.reload()
    expect(page.locator("#welcome")).to_be_visible(timeout=20_000)
    # Consent was given when the interview started: the chat comes straight back.
    expect(page.locator(".ti-message")).to_have_text(shown, timeout=20_000)
    expect(page.locator("#consent-checkbox")).to_have_count(0)
    expect(page.locator("#ti-progress")).to_have_text("Question 2 of 3")
    shot(page, "after-reload")

    # A second browser (another client token) on the same link is refused politely, also after
    # the lease length (20 s): the connected tab keeps renewing it.
    page.wait_for_timeout(21_000)
    other_context = browser.new_context()
    try:
        other = other_context.new_page()
        reopen_chat(other, link)
        expect(other.locator("#ti-refused")).to_contain_text("already open in another browser tab", timeout=20_000)
        expect(other.locator("#ti-input")).to_have_count(0)
        shot(other, "second-tab-refused")
    finally:
        other_context.close()

    for text in ANSWERS[2:]:
        answer(page, text)
    expect(page.locator("#ti-finished")).to_be_visible(timeout=20_000)
    expect(agent_messages(page).last).to_contain_text("Goodbye")
    shot(page, "finished")

    interview_id = db_rows(
        served_app, "SELECT interview_id FROM interview_event WHERE kind='text_interview_started' ORDER BY id DESC LIMIT 1"
    )[0][0]
    status, mode, transcript = db_rows(served_app, "SELECT status, mode, s3_transcript_url FROM interview WHERE id=?", interview_id)[0]
    assert status in ("processing", "completed") and mode == "text" and transcript
    segments = db_rows(served_app, "SELECT speaker, text FROM transcript_segment WHERE interview_id=? ORDER BY seq", interview_id)
    assert [t for s, t in segments if s == "candidate"] == ANSWERS
    assert segments[0][0] == "agent" and "Goodbye" in segments[-1][1]
    sources = [
        json.loads(r[0])["source"]
        for r in db_rows(served_app, "SELECT detail FROM interview_event WHERE interview_id=? AND kind='result_received'", interview_id)
    ]
    assert sources == ["text-interview"]

    # The link now says the interview is finished.
    page.goto(link)
    expect(page.locator("#link-problem")).to_contain_text("finished", timeout=20_000)


def test_closed_tab_is_taken_over_then_the_end_button_asks_first(served_app: ServedApp, page: Page, browser: Browser) -> None:
    link = json.loads(served_app.cli("seed-demo", "--json").stdout)["candidate_link"]
    first_context = browser.new_context()
    first = first_context.new_page()
    open_chat(first, link)
    expect(agent_messages(first).first).to_contain_text("Tell me about a backend system", timeout=20_000)
    answer(first, ANSWERS[0])
    first_context.close()  # the tab vanishes; after the lease another browser may continue

    page.wait_for_timeout(22_000)
    reopen_chat(page, link)
    expect(page.locator(".ti-message")).to_have_count(3, timeout=20_000)
    expect(page.locator(".ti-candidate")).to_contain_text(ANSWERS[0])

    page.locator("#ti-end").click()
    expect(page.get_by_text("End the interview now?")).to_be_visible()
    shot(page, "end-confirm")
    page.locator("#ti-end-cancel").click()
    expect(page.get_by_text("End the interview now?")).to_have_count(0)
    expect(page.locator("#ti-input")).to_be_visible()

    page.locator("#ti-end").click()
    page.locator("#ti-end-confirm").click()
    expect(page.locator("#ti-finished")).to_be_visible(timeout=20_000)
    token = link.rsplit("/", 1)[1]
    digest = hashlib.sha256(token.encode()).hexdigest()
    status, reason, interview_id = db_rows(served_app, "SELECT status, end_reason, id FROM interview WHERE invite_token_hash=?", digest)[0]
    assert status in ("processing", "completed") and reason == "ended by the candidate"
    texts = [r[0] for r in db_rows(served_app, "SELECT text FROM transcript_segment WHERE interview_id=? ORDER BY seq", interview_id)]
    assert ANSWERS[0] in texts and len(texts) == 3


@pytest.fixture(scope="module")
def voice_app_with_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """LiveKit configured (its server API faked) and LLM_PROVIDER=openai against a slow local fake."""
    livekit = FakeLiveKitServer().start()
    model = FakeOpenAI(word_delay=0.12).start()
    tmp = tmp_path_factory.mktemp("textvoice")
    try:
        proc, served = start_app(
            tmp,
            **livekit.env,
            LLM_PROVIDER="openai",
            OPENAI_API_KEY="test-key",
            OPENAI_BASE_URL=model.base_url,
            LLM_MODEL="fake-model",
            REFLEX_WEB_WORKDIR=str(tmp / ".web"),  # a prod build bakes its backend URL in
            REFLEX_STATES_WORKDIR=str(tmp / ".states"),
        )
        yield served
        stop_app(proc)
    finally:
        model.stop()
        livekit.stop()


def test_candidate_without_a_microphone_chooses_text_and_sees_the_reply_stream(voice_app_with_model: ServedApp, page: Page) -> None:
    app = voice_app_with_model
    link = app.demo["candidate_link"]
    page.goto(link)
    expect(page.locator("#welcome")).to_be_visible(timeout=20_000)
    page.locator("#consent-checkbox").click()
    page.locator("#consent-continue").click()
    page.locator("#choose-text").click()  # the device check offers the text interview
    expect(agent_messages(page).first).to_contain_text("Hello, welcome to the interview.", timeout=30_000)

    box = page.locator("#ti-input")
    box.fill("a billing service")
    box.press("Enter")
    streaming = page.locator(".ti-agent[data-streaming='1']")
    expect(streaming).to_have_count(1, timeout=15_000)  # words arrive while the model writes
    partial = streaming.locator("p").text_content() or ""
    shot(page, "streaming")
    # Enter pressed again while the reply is still coming: refused with a sentence, and the words stay in the box.
    box.fill("and the ledger behind it")
    box.press("Enter")
    expect(page.locator("#ti-error")).to_contain_text("still writing", timeout=5_000)
    expect(box).to_have_value("and the ledger behind it", timeout=5_000)
    final = "Thank you for telling me about a billing service. What was your own part in it?"
    expect(agent_messages(page).last.locator("p")).to_have_text(final, timeout=20_000)
    assert partial and final.startswith(partial.strip()) and partial.strip() != final

    digest = hashlib.sha256(link.rsplit("/", 1)[1].encode()).hexdigest()
    assert db_rows(app, "SELECT status, mode FROM interview WHERE invite_token_hash=?", digest)[0] == ("in_progress", "text")
    page.locator("#ti-end").click()
    page.locator("#ti-end-confirm").click()
    expect(page.locator("#ti-finished")).to_be_visible(timeout=20_000)
