"""The candidate's page in Chromium with a fake microphone: consent → device check → join → room.

Two app configurations: the default ``served_app`` (no LiveKit: the text interview
takes over after consent) and ``livekit_app``, whose LIVEKIT_* point at the recording
fake of LiveKit's server API. The fake has no media server, so the real LiveKit
client in the page fails to connect: that is the "dead LiveKit URL" case, and the
page must say so in a sentence.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from interview_app import i18n
from tests.e2e.conftest import PHONE, ROOT, ServedApp, axe_violations, sideways_overflow, start_app, stop_app
from tests.fakes.livekit_server import FakeLiveKitServer

SHOTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="module")
def fake_livekit() -> Iterator[FakeLiveKitServer]:
    server = FakeLiveKitServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def livekit_app(tmp_path_factory: pytest.TempPathFactory, fake_livekit: FakeLiveKitServer) -> Iterator[ServedApp]:
    tmp = tmp_path_factory.mktemp("lkapp")
    # start_app runs each app from its own copy of the project (its own .web build).
    proc, served = start_app(tmp, **fake_livekit.env, AGENT_JOIN_TIMEOUT_SECONDS="5")
    yield served
    stop_app(proc)


def new_link(app: ServedApp) -> str:
    return json.loads(app.cli("seed-demo", "--json").stdout)["candidate_link"]


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"candidate-{name}.png"), full_page=True)


def db_rows(app: ServedApp, sql: str, *args: object) -> list[tuple]:
    path = app.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, args).fetchall()


def watch_csp(page: Page) -> list[str]:
    """Every Content-Security-Policy violation the page reports from now on, one line each."""
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if m.text.startswith("CSP violation") else None)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => "
        "console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));"
    )
    return found


def consent(page: Page, link: str, screenshot: str = "", wording: str = "Your voice (audio only, no video)") -> None:
    page.goto(link)
    expect(page.locator("#welcome")).to_be_visible(timeout=20_000)
    expect(page.locator("#consent-text")).to_contain_text(wording)
    expect(page.locator("#consent-continue")).to_be_disabled()
    if screenshot:
        shot(page, screenshot)
    page.locator("#consent-checkbox").click()
    page.locator("#consent-continue").click()


def test_without_livekit_consent_leads_to_the_text_interview(served_app: ServedApp, page: Page) -> None:
    link = new_link(served_app)
    consent(page, link, screenshot="consent", wording="in a text chat")  # no audio is recorded: the wording says so
    expect(page.locator("#consent-continue")).to_have_count(0, timeout=10_000)
    expect(page.locator("#device-check")).to_have_count(0)
    expect(page.locator("#interview-room")).to_have_count(0)
    token = link.rsplit("/", 1)[1]
    assert token  # the consent was stored with the exact wording
    kinds = [r[0] for r in db_rows(served_app, "SELECT kind FROM interview_event ORDER BY id")]
    assert "consent_given" in kinds
    shot(page, "text-mode")


def test_device_check_meter_moves_then_join_shows_a_connection_error(
    livekit_app: ServedApp, fake_livekit: FakeLiveKitServer, page: Page
) -> None:
    link = new_link(livekit_app)
    import httpx

    assert "'unsafe-eval'" not in httpx.get(link, timeout=10).headers["content-security-policy"]  # api/security_headers.py
    violations = watch_csp(page)
    consent(page, link)
    expect(page.locator("#device-check")).to_be_visible(timeout=15_000)
    meter = page.locator("#mic-level")
    expect(meter).to_be_visible(timeout=15_000)
    # Chromium's fake microphone beeps: the meter must move (several different levels seen).
    levels = set()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(levels - {"0"}) < 2:
        levels.add(meter.get_attribute("data-level"))
        page.wait_for_timeout(100)
    assert len(levels - {"0"}) >= 2, f"level meter did not move: {levels}"
    expect(page.locator("#mic-ok")).to_be_visible(timeout=10_000)
    expect(page.locator("#mic-select option").first).not_to_have_text("Waiting for microphone access…")
    page.locator("#camera-toggle").click()
    expect(page.locator("#camera-preview")).to_be_visible(timeout=10_000)
    page.wait_for_function("() => document.querySelector('#camera-preview').readyState >= 2", timeout=10_000)
    page.wait_for_timeout(300)
    shot(page, "device-check")

    page.locator("#join").click()
    room = page.locator("#interview-room")
    expect(room).to_be_visible(timeout=20_000)
    expect(page.locator(".lk-room-container")).to_have_count(1)
    # the fake serves no /rtc: the real client fails and the page says so
    status = page.locator("#connection-status")
    expect(status).to_contain_text("could not connect you to the interview room", timeout=30_000)
    expect(page.locator("#retry")).to_be_visible()
    shot(page, "connection-error")

    room_name = db_rows(livekit_app, "SELECT room_name FROM interview WHERE status='in_progress'")
    assert room_name and room_name[0][0] in fake_livekit.rooms
    assert len(fake_livekit.dispatches[room_name[0][0]]) == 1

    # retry mints a new token for the same room; still one agent dispatched
    page.locator("#retry").click()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not db_rows(livekit_app, "SELECT id FROM interview_event WHERE kind='candidate_rejoined'"):
        time.sleep(0.2)
    assert db_rows(livekit_app, "SELECT id FROM interview_event WHERE kind='candidate_rejoined'")
    expect(status).to_contain_text("could not connect", timeout=30_000)
    expect(page.locator("#retry")).to_be_visible()
    assert len(fake_livekit.dispatches[room_name[0][0]]) == 1

    # reopening the link while the interview is in progress skips consent and offers to rejoin
    page.goto(link)
    expect(page.locator("#rejoin-notice")).to_be_visible(timeout=20_000)
    expect(page.locator("#join")).to_contain_text("Rejoin the interview")
    expect(page.locator("#consent-continue")).to_have_count(0)
    assert not violations, violations


def test_cannot_use_a_microphone_switches_to_text(livekit_app: ServedApp, page: Page) -> None:
    link = new_link(livekit_app)
    consent(page, link)
    expect(page.locator("#choose-text")).to_be_visible(timeout=15_000)
    page.locator("#choose-text").click()
    expect(page.locator("#device-check")).to_have_count(0, timeout=10_000)
    expect(page.locator("#ti-input")).to_be_visible(timeout=20_000)  # the text interview has started (before the reload)
    token_rows = db_rows(livekit_app, "SELECT kind FROM interview_event WHERE kind='text_mode_chosen'")
    assert token_rows
    # a reload remembers the choice: the text interview (now in progress) comes straight back, not the device check
    page.goto(link)
    expect(page.locator("#text-interview")).to_be_visible(timeout=20_000)
    expect(page.locator("#consent-continue")).to_have_count(0)
    expect(page.locator("#device-check")).to_have_count(0)


def test_leaving_the_tab_is_recorded_for_review(livekit_app: ServedApp, page: Page) -> None:
    link = new_link(livekit_app)
    consent(page, link)
    expect(page.locator("#device-check")).to_be_visible(timeout=15_000)
    before = len(db_rows(livekit_app, "SELECT id FROM interview_event WHERE kind='integrity'"))
    page.evaluate("window.dispatchEvent(new Event('blur'))")
    page.wait_for_timeout(300)
    page.evaluate("window.dispatchEvent(new Event('focus'))")
    deadline = time.monotonic() + 10
    rows: list[tuple] = []
    while time.monotonic() < deadline:
        rows = db_rows(livekit_app, "SELECT detail FROM interview_event WHERE kind='integrity'")
        if len(rows) > before:
            break
        time.sleep(0.2)
    assert len(rows) == before + 1
    detail = json.loads(rows[-1][0])
    assert detail["signal"] == "window_blur" and detail["duration_ms"] >= 250 and detail["count"] == 1

    # the tab goes to the background for a while, then comes back (as a browser does: both properties change,
    # and visibilitychange bubbles from the document to the window)
    set_visibility = (
        "s => { Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => s});"
        " Object.defineProperty(document, 'hidden', {configurable: true, get: () => s === 'hidden'});"
        " document.dispatchEvent(new Event('visibilitychange', {bubbles: true})); }"
    )
    page.evaluate(set_visibility, "hidden")
    page.wait_for_timeout(400)
    page.evaluate(set_visibility, "visible")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = db_rows(livekit_app, "SELECT detail FROM interview_event WHERE kind='integrity'")
        if len(rows) > before + 1:
            break
        time.sleep(0.2)
    detail = json.loads(rows[-1][0])
    assert detail["signal"] == "tab_hidden" and detail["duration_ms"] >= 350 and detail["count"] == 1


@pytest.mark.parametrize("path", ["not-a-real-token", "%F0%9F%92%A5", "a" * 300])
def test_bad_links_get_a_clear_page(served_app: ServedApp, page: Page, path: str) -> None:
    page.goto(f"{served_app.url}/interview/{path}")
    expect(page.locator("#link-problem")).to_have_text("We could not find this interview", timeout=20_000)
    expect(page.get_by_text("mention the link you received")).to_be_visible()
    if path == "not-a-real-token":
        shot(page, "unknown-link")


def test_start_api_on_the_served_app(livekit_app: ServedApp) -> None:
    import httpx

    token = new_link(livekit_app).rsplit("/", 1)[1]
    res = httpx.post(f"{livekit_app.url}/api/interview/start", json={"invite_token": token}, timeout=30)
    assert res.status_code == 200, res.text
    assert res.json()["room_name"].startswith("interview-")
    assert httpx.post(f"{livekit_app.url}/api/interview/start", json={"invite_token": "x" * 43}, timeout=30).status_code == 404
    assert (
        httpx.post(
            f"{livekit_app.url}/api/interview/start", content=b"{", headers={"content-type": "application/json"}, timeout=30
        ).status_code
        == 422
    )


def test_livekit_webhook_on_the_served_app(livekit_app: ServedApp, fake_livekit: FakeLiveKitServer) -> None:
    import base64
    import hashlib

    import httpx
    from google.protobuf.json_format import MessageToJson
    from livekit.api import AccessToken
    from livekit.protocol import models as pb_models
    from livekit.protocol.webhook import WebhookEvent

    token = new_link(livekit_app).rsplit("/", 1)[1]
    started = httpx.post(f"{livekit_app.url}/api/interview/start", json={"invite_token": token}, timeout=30).json()
    body = MessageToJson(WebhookEvent(event="room_finished", id="EV_served_1", room=pb_models.Room(name=started["room_name"])))
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    good = AccessToken(fake_livekit.api_key, fake_livekit.api_secret).with_sha256(digest).to_jwt()
    forged = AccessToken(fake_livekit.api_key, "not-the-secret-" + "q" * 30).with_sha256(digest).to_jwt()
    url = f"{livekit_app.url}/webhooks/livekit"
    assert httpx.post(url, content=body, headers={"Authorization": forged}, timeout=30).status_code == 401
    status = db_rows(livekit_app, "SELECT status FROM interview WHERE room_name = ?", started["room_name"])
    assert status == [("in_progress",)]
    res = httpx.post(url, content=body, headers={"Authorization": good}, timeout=30)
    assert res.status_code == 200 and res.json()["outcome"] == "marked failed"
    assert db_rows(livekit_app, "SELECT status, end_reason FROM interview WHERE room_name = ?", started["room_name"]) == [
        ("failed", "candidate left")
    ]
    # the link now says so, and a replay is a no-op
    assert httpx.post(f"{livekit_app.url}/api/interview/start", json={"invite_token": token}, timeout=30).status_code == 410
    assert httpx.post(url, content=body, headers={"Authorization": good}, timeout=30).json()["outcome"] == "duplicate"


def _phone_check(page: Page, name: str) -> list[str]:
    """Screenshot at 375×667, no sideways scrolling, and axe-core's serious/critical violations (as lines)."""
    page.wait_for_timeout(300)  # layout settles after the last state update
    shot(page, f"phone-{name}")
    overflow = sideways_overflow(page)
    found = axe_violations(page)
    return ([f"{name}: scrolls sideways by {overflow}px"] if overflow > 1 else []) + [f"{name}: {v}" for v in found]


def test_candidate_pages_fit_a_phone_and_pass_axe(served_app: ServedApp, livekit_app: ServedApp, browser) -> None:
    """Every candidate page at 375×667 (screenshots in tests/artifacts/candidate-phone-*.png): nothing
    wider than the screen, and no serious or critical axe-core violation."""
    problems: list[str] = []
    context = browser.new_context(**PHONE)
    context.grant_permissions(["microphone"])
    page = context.new_page()
    try:
        page.goto(served_app.url + "/")
        expect(page.get_by_role("button", name="Recruiter sign in")).to_be_visible(timeout=20_000)
        problems += _phone_check(page, "landing")
        page.goto(served_app.url + "/interview/not-a-real-link")
        expect(page.locator("#link-problem")).to_be_visible(timeout=20_000)
        problems += _phone_check(page, "bad-link")
        page.goto(new_link(served_app))
        expect(page.locator("#consent-text")).to_be_visible(timeout=20_000)
        problems += _phone_check(page, "consent")
        page.locator("#consent-checkbox").click()
        page.locator("#consent-continue").click()
        expect(page.locator("#ti-input")).to_be_visible(timeout=20_000)
        page.locator("#ti-input").fill("I built a billing service in Go.")
        page.locator("#ti-input").press("Enter")
        expect(page.locator(".ti-candidate").last).to_contain_text("billing service", timeout=10_000)
        expect(page.locator("#ti-typing")).to_have_count(0, timeout=20_000)
        problems += _phone_check(page, "text-interview")
        page.goto(new_link(livekit_app))
        expect(page.locator("#consent-text")).to_be_visible(timeout=20_000)
        page.locator("#consent-checkbox").click()
        page.locator("#consent-continue").click()
        expect(page.locator("#device-check")).to_be_visible(timeout=15_000)
        expect(page.locator("#mic-ok")).to_be_visible(timeout=15_000)
        problems += _phone_check(page, "device-check")
        page.locator("#join").click()
        expect(page.locator("#connection-status")).to_be_visible(timeout=20_000)
        problems += _phone_check(page, "room")
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_the_candidate_reads_and_takes_the_interview_in_their_language(served_app: ServedApp, browser) -> None:
    """A template offering English, Spanish and Arabic: an Arabic browser gets the page in Arabic, right
    to left (axe-clean, nothing sideways at phone width); the candidate switches to Spanish before
    consent, and the whole flow, the consent wording and the interviewer then speak Spanish."""
    link = new_link(served_app)
    digest = hashlib.sha256(link.rsplit("/", 1)[1].encode()).hexdigest()
    (template_id,) = db_rows(served_app, "SELECT template_id FROM interview WHERE invite_token_hash=?", digest)[0]
    (before,) = db_rows(served_app, "SELECT languages FROM interview_template WHERE id=?", template_id)[0]
    db_rows(served_app, "UPDATE interview_template SET languages=? WHERE id=?", '["en", "es", "ar"]', template_id)
    context = browser.new_context(**PHONE, locale="ar-EG")
    page = context.new_page()
    try:
        page.goto(link)
        expect(page.locator("#consent-text")).to_have_text(i18n.t("ar", "consent.text"), timeout=20_000)
        shell = page.locator("[dir='rtl'][lang='ar']")
        expect(shell).to_have_count(1)
        expect(page.locator("#consent-continue")).to_have_text(i18n.t("ar", "consent.continue"))
        expect(page.locator("#language-select")).to_have_value("ar")
        shot(page, "consent-ar")
        problems = _phone_check(page, "consent-ar")
        assert not problems, "\n".join(problems)
        box = page.locator("#consent-checkbox").bounding_box()
        assert box and box["x"] > 375 / 2, "the checkbox of a right-to-left page sits on the right"

        page.locator("#language-select").select_option("es")
        expect(page.locator("#consent-text")).to_have_text(i18n.t("es", "consent.text"), timeout=10_000)
        expect(page.locator("[dir='ltr'][lang='es']")).to_have_count(1)
        expect(page.locator("#flow-steps")).to_contain_text(i18n.t("es", "steps.consent"))
        page.locator("#consent-checkbox").click()
        page.locator("#consent-continue").click()
        expect(page.locator("#ti-end")).to_have_text(i18n.t("es", "text.end"), timeout=20_000)
        first = page.locator(".ti-agent").first
        expect(first).to_be_visible(timeout=20_000)
        greeting = first.inner_text()
        assert "Hello" not in greeting and "Question 1" not in greeting, greeting  # the scripted interviewer speaks Spanish
        expect(page.locator("#ti-progress")).to_have_text(
            re.compile(re.escape(i18n.t("es", "text.question", i=1, n=99)).replace("99", r"\d+"))
        )
        shot(page, "text-es")
    finally:
        context.close()
        db_rows(served_app, "UPDATE interview_template SET languages=? WHERE id=?", before, template_id)
    language, status = db_rows(served_app, "SELECT language, status FROM interview WHERE invite_token_hash=?", digest)[0]
    assert (language, status) == ("es", "in_progress")
    consent_detail = db_rows(
        served_app,
        "SELECT detail FROM interview_event WHERE kind='consent_given' AND interview_id=(SELECT id FROM interview WHERE invite_token_hash=?)",
        digest,
    )
    assert json.loads(consent_detail[0][0])["text"] == i18n.t("es", "consent.text")  # the wording agreed to is the Spanish one


def _tab_to(page: Page, selector: str, limit: int = 30) -> None:
    """Press Tab until the element matching ``selector`` has the focus (at most ``limit`` presses)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(sel) => !!document.activeElement && document.activeElement.matches(sel)", selector):
            return
    raise AssertionError(f"{selector} never got the keyboard focus in {limit} Tab presses")


def test_keyboard_only_from_link_to_an_answer(served_app: ServedApp, page: Page) -> None:
    """Without a mouse: Tab to the consent box, Space ticks it, Enter continues, the answer box has the
    focus, Enter sends; the End dialog opens from the keyboard and Escape closes it."""
    page.goto(new_link(served_app))
    expect(page.locator("#consent-text")).to_be_visible(timeout=20_000)
    _tab_to(page, "#consent-checkbox")
    page.keyboard.press("Space")
    expect(page.locator("#consent-checkbox")).to_have_attribute("data-state", "checked")
    _tab_to(page, "#consent-continue")
    page.keyboard.press("Enter")
    answer = page.locator("#ti-input")
    expect(answer).to_be_focused(timeout=20_000)
    expect(page.locator(".ti-agent").first).to_be_visible(timeout=20_000)
    expect(page.locator("#ti-typing")).to_have_count(0, timeout=20_000)
    page.keyboard.type("I keep services small and observable.")
    page.keyboard.press("Enter")
    expect(page.locator(".ti-candidate").last).to_contain_text("small and observable", timeout=10_000)
    _tab_to(page, "#ti-end")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alertdialog")).to_be_visible()
    expect(page.locator("#ti-end-cancel")).to_be_focused()  # the safe choice has the focus
    page.keyboard.press("Escape")
    expect(page.get_by_role("alertdialog")).to_have_count(0)
    expect(page.locator("#ti-finished")).to_have_count(0)  # still going


def test_adjustment_request_waits_for_the_hiring_team_then_extra_time_is_granted(served_app: ServedApp, browser) -> None:
    """A template that waits for an answer: the candidate asks for extra time with a note and cannot
    start; the admin sees the badge in the list, reads the note and grants +50 %; the candidate's
    page updates by itself and the interview runs with the longer limit."""
    from tests.e2e.test_admin import sign_in

    seeded = json.loads(served_app.cli("seed-demo", "--json").stdout)
    link, interview_id = seeded["candidate_link"], seeded["interview_id"]
    key = interview_id.replace("-", "")
    (template_id, minutes) = db_rows(
        served_app,
        "SELECT t.id, t.duration_limit_minutes FROM interview i JOIN interview_template t ON t.id = i.template_id WHERE i.id = ?",
        key,
    )[0]
    db_rows(served_app, "UPDATE interview_template SET accommodation_policy='wait' WHERE id=?", template_id)
    note = "I use a screen reader and need more time to read each question."
    candidate, admin = browser.new_context(), browser.new_context()
    try:
        page = candidate.new_page()
        page.goto(link)
        expect(page.locator("#consent-text")).to_be_visible(timeout=20_000)
        page.locator("#adjust-open").click()
        page.locator("#adjust-send").click()
        expect(page.locator("#adjust-error")).to_have_text(i18n.t("en", "adjust.pick_one"))  # nothing ticked: a sentence, no request
        page.locator("#adjust-extra-time").click()
        page.locator("#adjust-note").fill(note)
        shot(page, "adjustment-form")
        page.locator("#adjust-send").click()
        expect(page.locator("#adjust-notice")).to_have_text(i18n.t("en", "adjust.sent_wait"), timeout=10_000)
        page.locator("#consent-checkbox").click()
        expect(page.locator("#consent-continue")).to_be_disabled()  # the template waits for the hiring team
        shot(page, "adjustment-waiting")

        desk = admin.new_page()
        sign_in(desk, served_app.url, served_app.demo["admin_email"], served_app.demo["admin_password"])
        expect(desk.locator(f"[data-interview-id='{interview_id}'] .adjustment-badge")).to_have_text("Adjustment requested", timeout=15_000)
        desk.goto(f"{served_app.url}/admin/interviews/{interview_id}")
        expect(desk.locator("#adjustment-note")).to_have_text(note, timeout=20_000)
        desk.locator("#adjustment-grant").click()
        expect(desk.locator("#adjustment-message")).to_be_visible(timeout=10_000)
        shot(desk, "adjustment-admin")

        longer = -(-minutes * 3 // 2)  # +50 %, rounded up
        expect(page.locator("#adjust-notice")).to_contain_text("50", timeout=15_000)  # the page noticed by itself
        expect(page.locator("#adjust-notice")).to_contain_text(str(longer))
        expect(page.locator("#welcome-duration")).to_contain_text(str(longer))
        expect(page.locator("#consent-continue")).to_be_enabled()
        page.locator("#consent-continue").click()
        expect(page.locator("#ti-time")).to_contain_text(f"{longer - 1}:", timeout=20_000)  # the limit the interviewer keeps
    finally:
        candidate.close()
        admin.close()
        db_rows(served_app, "UPDATE interview_template SET accommodation_policy='proceed' WHERE id=?", template_id)
    status, extra = db_rows(served_app, "SELECT status, extra_time_percent FROM accommodation_request WHERE interview_id=?", key)[0]
    assert (status, extra) == ("granted", 50)
    kinds = [r[0] for r in db_rows(served_app, "SELECT kind FROM interview_event WHERE interview_id=? ORDER BY id", key)]
    assert kinds.count("accommodation_requested") == 1 and "accommodation_granted" in kinds
