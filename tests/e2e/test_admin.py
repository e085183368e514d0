"""The admin workspace in headless Chromium against the served app (`reflex run --env prod`)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import Session, select

from interview_app.db import make_engine
from interview_app.models import Interview, LoginAttempt
from interview_app.services.interviews import find_by_token, transition
from tests.e2e.test_candidate_flow import watch_csp

pytestmark = pytest.mark.e2e

ADMIN_ROUTES = [
    "/admin",
    "/admin/overview",
    "/admin/templates",
    "/admin/candidates",
    "/admin/users",
    "/admin/interviews/00000000-0000-0000-0000-000000000000",
]


def sign_in(page: Page, url: str, email: str, password: str, path: str = "/admin") -> None:
    page.goto(url + path)
    page.locator("#login-email").fill(email, timeout=20_000)
    page.locator("#login-password").fill(password)
    page.locator("#login-submit").click()
    expect(page.locator("#signed-in-as")).to_have_text(email, timeout=15_000)


def toast(page: Page, text: str) -> Locator:
    """The sonner toast (rx.toast.provider, bottom right) that says ``text``."""
    return page.locator("[data-sonner-toast]", has_text=text)


def test_invite_flow_from_template_to_list(served_app, page: Page) -> None:
    tag = uuid.uuid4().hex[:6]
    title, email = f"Site Reliability {tag}", f"robin.{tag}@example.com"
    violations = watch_csp(page)
    sign_in(page, served_app.url, served_app.demo["admin_email"], served_app.demo["admin_password"], "/admin/templates")

    page.locator("#new-template").click()
    page.locator("#template-save").click()
    expect(page.locator("#template-problems")).to_contain_text("Give the template a title")
    page.locator("#template-title").fill(title)
    page.locator(".question-text textarea").first.fill("Walk me through an incident you handled.")
    page.locator("#add-question").click()
    page.locator(".question-text textarea").nth(1).fill("How do you decide what to alert on?")
    page.locator(".criterion-name input").first.fill("Operational judgement")
    page.locator("#draft-questions").click()
    expect(page.locator("#draft-message")).to_contain_text("No language model is configured")
    page.locator("#template-save").click()
    expect(page.locator(f"[data-template-title='{title}']")).to_be_visible(timeout=10_000)
    expect(toast(page, f"Saved “{title}”.")).to_be_visible(timeout=10_000)

    page.goto(served_app.url + "/admin/candidates")
    page.locator("#add-candidate").click()
    page.locator("#candidate-name").fill("Robin Vega")
    page.locator("#candidate-email").fill(email)
    page.locator("#candidate-save").click()
    row = page.locator(f"[data-candidate-email='{email}']")
    expect(row).to_be_visible(timeout=10_000)
    row.locator(".invite-button").click()
    page.locator("#invite-template").click()
    page.get_by_role("option", name=title).click()
    page.locator("#invite-create").click()
    link = page.locator("#invite-link")
    expect(link).to_contain_text("/interview/", timeout=10_000)
    raw_link = link.inner_text()
    page.locator("#invite-copy").click()  # rx.toast written into the page: a compiled function, no eval
    expect(toast(page, "Link copied.")).to_be_visible(timeout=10_000)
    page.locator("#invite-email").click()
    expect(page.locator("#invite-email-result")).to_contain_text("app log")
    page.locator("#invite-done").click()
    raw_token = raw_link.split("/interview/")[1]
    engine = make_engine(served_app.database_url)
    try:
        with Session(engine) as session:
            stored = find_by_token(session, raw_token)
            assert stored is not None and stored.invite_token_hash != raw_token  # only the hash is stored
    finally:
        engine.dispose()
    deadline = time.monotonic() + 5
    while raw_link not in served_app.log_path.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert raw_link in served_app.log_path.read_text(errors="replace")  # EMAIL_BACKEND=log wrote the invitation

    page.goto(served_app.url + "/admin")
    page.locator("#list-search").fill(f"robin.{tag}")
    page.keyboard.press("Enter")
    rows = page.locator(".interview-row")
    expect(rows).to_have_count(1, timeout=10_000)
    expect(rows.first).to_contain_text("Robin Vega")
    expect(rows.first).to_contain_text(title)
    expect(rows.first.locator(".status-badge")).to_have_text("invited")

    with page.expect_download(timeout=15_000) as download:
        page.locator("#export-csv").click()
    text = Path(download.value.path()).read_text()
    assert text.startswith("interview_id,candidate_name") and email in text and len(text.strip().splitlines()) == 2

    # The candidate's link works; the detail page shows the timeline and the review sections.
    rows.first.locator("a").click()
    expect(page.locator("#detail-candidate")).to_have_text("Robin Vega", timeout=15_000)
    expect(page.locator("#timeline")).to_contain_text("invite emailed")
    page.goto(raw_link)
    expect(page.locator("#welcome")).to_contain_text("Robin Vega", timeout=20_000)
    assert not violations, violations


def test_notices_show_as_toasts_under_a_policy_without_eval(served_app, page: Page) -> None:
    """The admin pages' notices are state (state/notice.py), not a script the browser must eval: with
    'unsafe-eval' in no page's CSP they still show — after a save, a delete, a refusal from the server,
    a client-side copy, and across the redirect that follows deleting a candidate's data — and the
    console shows no CSP violation. Screenshots: tests/artifacts/admin-notice-*.png."""
    from interview_app.models import Candidate

    for path in ("/admin", "/admin/candidates", "/admin/templates", f"/admin/interviews/{served_app.demo['interview_id']}"):
        csp = httpx.get(served_app.url + path, timeout=10).headers["content-security-policy"]
        assert "'unsafe-eval'" not in csp and "script-src 'self' 'unsafe-inline';" in csp, (path, csp)
    violations = watch_csp(page)
    artifacts = Path(__file__).resolve().parents[1] / "artifacts"
    artifacts.mkdir(exist_ok=True)
    tag = uuid.uuid4().hex[:6]
    name, email, kept = f"Noel Notice {tag}", f"noel.{tag}@example.com", f"Dana Delete {tag}"
    interview_id = json.loads(served_app.cli("seed-demo", "--json").stdout)["interview_id"]
    engine = make_engine(served_app.database_url)
    try:
        with Session(engine) as session:  # the interview gets a candidate of its own, so the demo's stays
            interview = session.exec(select(Interview).where(Interview.id == uuid.UUID(interview_id))).one()
            own = Candidate(name=kept, email=f"dana.{tag}@example.com")
            session.add(own)
            session.flush()
            interview.candidate_id = own.id  # type: ignore[assignment]
            session.add(interview)
            session.commit()
    finally:
        engine.dispose()
    sign_in(page, served_app.url, served_app.demo["admin_email"], served_app.demo["admin_password"], "/admin/candidates")

    page.locator("#add-candidate").click()
    page.locator("#candidate-name").fill(name)
    page.locator("#candidate-email").fill(email)
    page.locator("#candidate-save").click()
    saved = toast(page, f"Saved {name}.")
    expect(saved).to_be_visible(timeout=10_000)
    expect(saved).to_have_attribute("data-type", "success")
    toaster = page.locator("[data-sonner-toaster]")
    expect(toaster).to_have_attribute("data-x-position", "right")
    expect(toaster).to_have_attribute("data-y-position", "bottom")
    page.screenshot(path=str(artifacts / "admin-notice-saved.png"))

    row = page.locator(f"[data-candidate-email='{email}']")
    row.get_by_role("button", name="Delete").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(toast(page, "Candidate deleted.")).to_be_visible(timeout=10_000)
    expect(row).to_have_count(0)
    # A candidate with an interview is kept as the record: the service's sentence, as an error toast.
    page.locator(f"[data-candidate-email='dana.{tag}@example.com']").get_by_role("button", name="Delete").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    refused = page.locator("[data-sonner-toast][data-type='error']")
    expect(refused).to_be_visible(timeout=10_000)
    page.screenshot(path=str(artifacts / "admin-notice-error.png"))

    # Deleting the candidate's data on the interview page: the notice comes with a redirect to the list.
    page.goto(f"{served_app.url}/admin/interviews/{interview_id}")
    expect(page.locator("#detail-candidate")).to_have_text(kept, timeout=15_000)
    page.locator("#delete-candidate").click()
    page.locator("#confirm-delete").click()
    expect(page.locator("#list-search")).to_be_visible(timeout=15_000)
    expect(toast(page, "The candidate's data was deleted.")).to_be_visible(timeout=10_000)
    page.screenshot(path=str(artifacts / "admin-notice-after-redirect.png"))

    # In-app navigation and a reload do not show an old notice again.
    page.get_by_role("link", name="Candidates").click()
    expect(page.locator("#candidate-table")).to_be_visible(timeout=15_000)
    page.reload()
    expect(page.locator("#candidate-table")).to_be_visible(timeout=15_000)
    page.wait_for_timeout(1_500)  # a replayed notice would appear within this
    expect(page.locator("[data-sonner-toast]")).to_have_count(0)
    assert not violations, violations


def test_status_change_from_another_process_appears_live(served_app, page: Page) -> None:
    # Its own invitation: the one seeded at start-up is the demo link other browser tests open.
    interview_id = json.loads(served_app.cli("seed-demo", "--json").stdout)["interview_id"]
    sign_in(page, served_app.url, served_app.demo["admin_email"], served_app.demo["admin_password"])
    badge = page.locator(f"[data-interview-id='{interview_id}'] .status-badge")
    expect(badge).to_have_text("invited", timeout=15_000)
    engine = make_engine(served_app.database_url)
    try:
        with Session(engine) as session:
            interview = session.exec(select(Interview).where(Interview.id == uuid.UUID(interview_id))).one()
            transition(session, interview, "in_progress", actor="e2e")
            session.commit()
        started = time.monotonic()
        expect(badge).to_have_text("in progress", timeout=8_000)
        assert time.monotonic() - started < 8
    finally:
        engine.dispose()


@pytest.mark.parametrize("path", ADMIN_ROUTES)
def test_admin_routes_show_nothing_without_a_session(served_app, page: Page, path: str) -> None:
    page.goto(served_app.url + path)
    expect(page.locator("#login-email")).to_be_visible(timeout=20_000)
    for selector in (".interview-row", "#candidate-table", "#template-table", "#admin-table", "#timeline", "#per-day-chart"):
        expect(page.locator(selector)).to_have_count(0)


def test_reviewer_reads_interviews_but_cannot_manage(served_app, page: Page) -> None:
    email = f"reviewer.{uuid.uuid4().hex[:6]}@example.com"
    served_app.cli("create-admin", email, "--role", "reviewer", stdin="reviewer-password-1\n")
    sign_in(page, served_app.url, email, "reviewer-password-1")
    expect(page.locator(".interview-row").first).to_be_visible(timeout=15_000)
    expect(page.get_by_role("link", name="Templates")).to_have_count(0)
    for path in ("/admin/templates", "/admin/candidates", "/admin/users"):
        page.goto(served_app.url + path)
        expect(page.locator("#forbidden")).to_be_visible(timeout=15_000)
        for selector in ("#candidate-table", "#template-table", "#admin-table"):
            expect(page.locator(selector)).to_have_count(0)
    page.goto(served_app.url + f"/admin/interviews/{served_app.demo['interview_id']}")
    expect(page.locator("#detail-candidate")).to_have_text("Alex Morgan", timeout=15_000)
    expect(page.locator("#revoke")).to_have_count(0)
    expect(page.locator("#reissue")).to_have_count(0)


def test_sign_out_ends_the_session(served_app, page: Page) -> None:
    sign_in(page, served_app.url, served_app.demo["admin_email"], served_app.demo["admin_password"])
    cookie = next(c for c in page.context.cookies() if c["name"] == "admin_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert "admin_session" not in page.evaluate("document.cookie")  # page scripts cannot read the session
    page.locator("#sign-out").click()
    expect(page.locator("#login-email")).to_be_visible(timeout=15_000)
    expect(page.locator("#access-message")).to_contain_text("signed out")
    assert not [c for c in page.context.cookies() if c["name"] == "admin_session"]
    page.goto(served_app.url + "/admin/candidates")
    expect(page.locator("#login-email")).to_be_visible(timeout=15_000)
    expect(page.locator("#candidate-table")).to_have_count(0)


def test_wrong_passwords_are_throttled(served_app, page: Page) -> None:
    """LOGIN_MAX_FAILURES (default 5) wrong passwords from one browser that never signed in to the
    account make that browser wait, even with the right password; the form keeps the email.

    Its own account, so the demo admin stays usable; the browser's address allows
    4x as many failures, so other tests from 127.0.0.1 are not locked out.
    """
    email, good = f"locked.{uuid.uuid4().hex[:6]}@example.com", "the-right-password"
    served_app.cli("create-admin", email, stdin=good + "\n")
    page.goto(served_app.url + "/admin")
    engine = make_engine(served_app.database_url)

    def failures() -> int:
        with Session(engine) as session:
            return len(session.exec(select(LoginAttempt).where(LoginAttempt.email == email, LoginAttempt.success.is_(False))).all())

    try:
        for attempt in range(1, 6):
            page.locator("#login-email").fill(email, timeout=20_000)
            page.locator("#login-password").fill("not-the-password")
            page.locator("#login-submit").click()
            deadline = time.monotonic() + 10
            while failures() < attempt and time.monotonic() < deadline:
                time.sleep(0.2)
            assert failures() == attempt
            expect(page.locator("#login-error")).to_contain_text("email or password is wrong")
    finally:
        engine.dispose()
    expect(page.locator("#login-email")).to_have_value(email)  # kept across the form post's reload
    page.locator("#login-password").fill(good)
    page.locator("#login-submit").click()
    expect(page.locator("#login-error")).to_contain_text("Too many failed sign-ins", timeout=10_000)
    expect(page.locator("#signed-in-as")).to_have_count(0)


def test_csv_import_reports_bad_rows_and_imports_good_ones(served_app, page: Page, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:6]
    csv_file = tmp_path / "candidates.csv"
    csv_file.write_text(f"name,email,external_ref\nKim Good,kim.{tag}@example.com,K1\nNo Email,,\nLee Good,lee.{tag}@example.com,\n")
    sign_in(page, served_app.url, served_app.demo["admin_email"], served_app.demo["admin_password"], "/admin/candidates")
    expect(page.locator("#csv-import")).to_be_visible(timeout=15_000)
    page.locator("#candidates-csv input[type=file]").set_input_files(str(csv_file))
    page.locator("#csv-import").click()
    expect(page.locator("#import-summary")).to_have_text("Imported 2 candidates; 1 row skipped (below).", timeout=15_000)
    expect(page.locator("#import-errors")).to_contain_text("3")
    expect(page.locator("#import-errors")).to_contain_text("The email is missing")
    expect(page.locator(f"[data-candidate-email='kim.{tag}@example.com']")).to_be_visible()
    expect(page.locator(f"[data-candidate-email='lee.{tag}@example.com']")).to_be_visible()


def test_overview_and_revoke_from_the_detail_page(served_app, page: Page) -> None:
    out = served_app.cli("seed-demo", "--json")  # a fresh invited interview of its own
    interview_id = json.loads(out.stdout)["interview_id"]
    sign_in(page, served_app.url, served_app.demo["admin_email"], served_app.demo["admin_password"], "/admin/overview")
    expect(page.locator("#stat-total")).not_to_have_text("0", timeout=15_000)
    expect(page.locator("#per-day-chart .recharts-bar-rectangle").first).to_be_attached(timeout=10_000)
    expect(page.locator(".status-count").first).to_contain_text("invited")

    page.goto(f"{served_app.url}/admin/interviews/{interview_id}")
    expect(page.locator("#detail-status")).to_have_text("invited", timeout=15_000)
    page.locator("#revoke").click()
    page.locator("#revoke-confirm").click()
    expect(page.locator("#detail-status")).to_have_text("cancelled", timeout=10_000)
    expect(page.locator("#timeline")).to_contain_text("invited → cancelled (revoked by an admin)")
    expect(page.locator("#reissue")).to_have_count(0)


def test_a_webhook_endpoint_gets_signed_deliveries_and_send_again(served_app, page: Page) -> None:
    """An admin adds an endpoint (the secret is shown once), an event queued in the database reaches a
    real receiver on 127.0.0.1 through the app's own worker, signed with that secret; the delivery log
    shows it delivered and "Send again" delivers it once more."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from sqlmodel import Session

    from interview_app.db import make_engine
    from interview_app.services.webhooks import enqueue, verify_signature

    got: list[tuple[dict[str, str], bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append((dict(self.headers), self.rfile.read(int(self.headers.get("Content-Length", 0)))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    engine = make_engine(served_app.database_url)
    try:
        sign_in(page, served_app.url, served_app.demo["admin_email"], served_app.demo["admin_password"], "/admin/webhooks")
        page.locator("#webhook-url").fill(f"http://127.0.0.1:{server.server_port}/hook")
        completed = page.locator(".webhook-type[data-event-type='interview.completed']")
        expect(completed).to_have_attribute("data-state", "checked")  # the two events that exist are ticked
        page.locator(".webhook-type[data-event-type='evaluation.ready']").click()  # this endpoint wants one
        page.locator("#webhook-add").click()
        secret = page.locator("#webhook-secret")
        expect(secret).to_be_visible(timeout=10_000)
        key = secret.inner_text().strip()
        assert len(key) >= 32
        page.screenshot(path=str(Path(__file__).resolve().parents[1] / "artifacts" / "admin-webhooks.png"), full_page=True)
        page.locator("#webhook-secret-done").click()
        expect(secret).to_have_count(0)

        with Session(engine) as session:
            enqueue(session, "interview.completed", {"interview_id": "e2e", "status": "processing"})
            session.commit()
        deadline = time.monotonic() + 30  # the app's webhook worker polls every 5 s
        while not got and time.monotonic() < deadline:
            time.sleep(0.2)
        assert got, "the app's worker delivered nothing within 30 s"
        headers, body = got[0]
        assert headers["Interview-Event"] == "interview.completed"
        assert verify_signature(key, headers["Interview-Signature"], body)
        assert not verify_signature(key, headers["Interview-Signature"], body + b" ")

        page.locator("#webhook-refresh").click()
        row = page.locator("#delivery-table [data-delivery-id]").first
        expect(row.locator(".delivery-status")).to_have_text("delivered", timeout=10_000)
        row.locator(".send-again").click()
        deadline = time.monotonic() + 30
        while len(got) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(got) == 2 and got[1][1] == body  # the same event, again
    finally:
        server.shutdown()
        with engine.begin() as conn:  # the session's other tests should not queue events for a stopped receiver
            conn.exec_driver_sql("DELETE FROM webhook_delivery")
            conn.exec_driver_sql("DELETE FROM webhook_endpoint")
        engine.dispose()


def test_calibration_compares_ai_and_human_scores(served_app, page: Page) -> None:
    """Interviews with a done AI evaluation and reviewers' scorecards, seeded in the served app's database:
    the calibration page shows the template's newest version, the figures worked out by hand, the
    chart, another version on request, and downloads the CSV.

    Version 2 — Clarity: AI 4 vs (3 + 4) / 2 = 3.5, AI 5 vs 3 → MAD 1.25, within one 50%, +1.25;
    Depth: AI 2 vs 2 (the second reviewer left it blank), AI 3 vs 4 → MAD 0.50, within one 100%, −0.50.
    Version 1 — Clarity: AI 1 vs 4 → MAD 3.00.
    """
    from interview_app.models import AdminUser, Candidate, Evaluation, InterviewTemplate, Scorecard

    tag = uuid.uuid4().hex[:6]
    title = f"Calibration check {tag}"
    rubric = [{"name": n, "description": "", "weight": 1, "scale_min": 1, "scale_max": 5} for n in ("Clarity", "Depth")]
    engine = make_engine(served_app.database_url)
    try:
        with Session(engine) as session:
            admin = session.exec(select(AdminUser).where(AdminUser.email == served_app.demo["admin_email"])).one()
            second = AdminUser(email=f"second.{tag}@example.com", password_hash="-", role="reviewer")
            template = InterviewTemplate(title=title, rubric=rubric, version=2)
            candidate = Candidate(name=f"Cal {tag}", email=f"cal.{tag}@example.com")
            session.add_all([second, template, candidate])
            session.flush()
            seeds = [  # (version, AI scores, [(reviewer, scores)])
                (2, {"Clarity": 4, "Depth": 2}, [(admin, {"Clarity": 3, "Depth": 2}), (second, {"Clarity": 4, "Depth": None})]),
                (2, {"Clarity": 5, "Depth": 3}, [(admin, {"Clarity": 3, "Depth": 4})]),
                (1, {"Clarity": 1}, [(admin, {"Clarity": 4})]),
            ]
            for version, ai, cards in seeds:
                interview = Interview(
                    candidate_id=candidate.id,
                    template_id=template.id,
                    status="completed",
                    invite_token_hash=uuid.uuid4().hex + uuid.uuid4().hex,
                    invite_expires_at=datetime.now(UTC) + timedelta(days=1),
                    template_version=version,
                    ended_at=datetime.now(UTC),
                )
                session.add(interview)
                session.flush()
                scores = [{"criterion": k, "score": v, "scale_min": 1, "scale_max": 5, "weight": 1} for k, v in ai.items()]
                session.add(Evaluation(interview_id=interview.id, status="done", scores=scores, template_version=version))
                for reviewer, given in cards:
                    rows = [{"criterion": k, "score": v, "note": ""} for k, v in given.items()]
                    session.add(
                        Scorecard(
                            interview_id=interview.id,
                            reviewer_id=reviewer.id,
                            reviewer_email=reviewer.email,
                            template_version=version,
                            scores=rows,
                        )
                    )
            session.commit()
    finally:
        engine.dispose()

    sign_in(page, served_app.url, served_app.demo["admin_email"], served_app.demo["admin_password"], "/admin/calibration")
    expect(page.get_by_role("link", name="Calibration")).to_be_visible()
    page.locator("#calibration-template").click()
    page.get_by_role("option", name=title).click()
    expect(page.locator("#calibration-version")).to_contain_text("Version 2 · 2 interviews", timeout=10_000)
    clarity = page.locator(".calibration-row[data-criterion='Clarity']")
    expect(clarity.locator(".cal-n")).to_have_text("2", timeout=10_000)
    expect(clarity.locator(".cal-mad")).to_have_text("1.25")
    expect(clarity.locator(".cal-within")).to_have_text("50%")
    expect(clarity.locator(".cal-signed")).to_have_text("+1.25 (AI higher)")
    expect(clarity.locator(".drift-badge")).to_have_text("Too few to tell")
    depth = page.locator(".calibration-row[data-criterion='Depth']")
    expect(depth.locator(".cal-mad")).to_have_text("0.50")
    expect(depth.locator(".cal-within")).to_have_text("100%")
    expect(depth.locator(".cal-signed")).to_have_text("-0.50 (AI lower)")
    expect(page.locator("#calibration-chart .recharts-bar-rectangle")).to_have_count(4, timeout=10_000)  # 2 criteria × all, recent
    page.screenshot(path=str(Path(__file__).resolve().parents[1] / "artifacts" / "admin-calibration.png"), full_page=True)

    with page.expect_download(timeout=15_000) as download:
        page.locator("#calibration-csv").click()
    header, *rows = [line.split(",") for line in Path(download.value.path()).read_text().strip().splitlines()]
    table = {(r[2], r[3]): dict(zip(header, r, strict=False)) for r in rows}
    assert set(table) == {("2", "Clarity"), ("2", "Depth"), ("1", "Clarity")}
    assert (table[("2", "Clarity")]["mad"], table[("2", "Clarity")]["within_one_pct"]) == ("1.25", "50.0")
    assert table[("2", "Depth")]["mean_signed_difference"] == "-0.5" and table[("2", "Clarity")]["template"] == title

    page.locator("#calibration-version").click()
    page.get_by_role("option", name="Version 1 · 1 interview").click()
    expect(clarity.locator(".cal-mad")).to_have_text("3.00", timeout=10_000)
    expect(page.locator(".calibration-row")).to_have_count(1)
