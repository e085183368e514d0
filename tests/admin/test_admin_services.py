"""Admin services on SQLite and PostgreSQL: sign-in throttling, templates, candidates, invitations, list, overview."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlmodel import Session, SQLModel, select

from interview_app.models import AdminSession, Candidate, Interview, InterviewEvent, InterviewTemplate, LoginAttempt, utcnow
from interview_app.services import admin_users, candidates, interview_list, invitations, overview, templates
from interview_app.services.auth import (
    AccountError,
    LoginError,
    LoginPolicy,
    create_admin,
    device_from_cookie,
    issue_device_cookie,
    login,
    revoke_session_hash,
    session_token_hash,
    user_for_session,
    user_for_session_hash,
)
from interview_app.services.interviews import find_by_token, transition
from interview_app.settings import load_settings
from tests.factories import make_candidate, make_interview, make_template

POLICY = LoginPolicy(session_ttl_minutes=30, max_failures=3, lockout_minutes=15)


def _email() -> str:
    return f"admin.{uuid.uuid4().hex[:8]}@example.com"


def _settings(**extra: str):
    return load_settings({"SECRET_KEY": "k" * 40, "APP_URL": "https://interviews.example.com", **extra})


# --- sign-in -------------------------------------------------------------------


def test_login_starts_a_session_and_wrong_password_does_not(session: Session) -> None:
    email = _email()
    create_admin(session, email, "correct horse battery")
    session.commit()
    with pytest.raises(LoginError, match="email or password is wrong"):
        login(session, email, "wrong password!", client="10.0.0.1", policy=POLICY)
    user, raw = login(session, email.upper(), "correct horse battery", client="10.0.0.1", policy=POLICY)
    session.commit()
    assert user_for_session(session, raw).email == email
    stored = session.exec(select(AdminSession).where(AdminSession.user_id == user.id)).one()
    assert raw not in stored.token_hash
    assert timedelta(minutes=29) < stored.expires_at.replace(tzinfo=utcnow().tzinfo) - utcnow() <= timedelta(minutes=30)


def test_failures_from_many_addresses_slow_the_account_but_do_not_lock_it(session: Session) -> None:
    email = _email()
    create_admin(session, email, "correct horse battery")
    session.commit()
    t0 = utcnow()
    for i in range(POLICY.max_failures):
        with pytest.raises(LoginError, match="wrong"):
            login(session, email, f"guess {i} nope", client=f"198.51.100.{i}", policy=POLICY, now=t0)
        session.commit()
    # The next attempt, from yet another address, waits the first backoff step (1 s) — not the window.
    with pytest.raises(LoginError, match="Too many failed sign-ins. Wait 1 second and try again") as refused:
        login(session, email, "correct horse battery", client="203.0.113.9", policy=POLICY, now=t0 + timedelta(milliseconds=500))
    assert refused.value.reason == "wait" and refused.value.wait_seconds == 1
    user, raw = login(session, email, "correct horse battery", client="203.0.113.9", policy=POLICY, now=t0 + timedelta(seconds=1))
    session.commit()
    assert user_for_session(session, raw).email == email


def test_the_backoff_doubles_per_failure_up_to_the_cap() -> None:
    steps = [POLICY.backoff(n).total_seconds() for n in range(POLICY.max_failures, POLICY.max_failures + 12)]
    assert steps[:4] == [1, 2, 4, 8]
    assert max(steps) == POLICY.backoff_cap_seconds == 300


def test_one_address_guessing_one_account_waits_out_the_window(session: Session) -> None:
    email = _email()
    create_admin(session, email, "correct horse battery")
    session.commit()
    client = f"192.0.2.1-{uuid.uuid4().hex[:6]}"
    t0 = utcnow()
    for i in range(POLICY.max_failures):
        with pytest.raises(LoginError, match="wrong"):
            login(session, email, f"guess {i} nope", client=client, policy=POLICY, now=t0 + timedelta(seconds=i))
        session.commit()
    later = t0 + timedelta(minutes=5)
    with pytest.raises(LoginError, match="Wait 10 minutes"):
        login(session, email, "correct horse battery", client=client, policy=POLICY, now=later)
    # The account itself is only slowed: the owner at another address gets in.
    login(session, email, "correct horse battery", client="203.0.113.10", policy=POLICY, now=later)


def test_repeated_failures_from_one_client_lock_that_client_across_accounts(session: Session) -> None:
    client = f"192.0.2.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:4]}"
    victim = _email()
    create_admin(session, victim, "correct horse battery")
    session.commit()
    for _ in range(POLICY.client_max_failures - 1):
        with pytest.raises(LoginError, match="wrong"):
            login(session, _email(), "whatever guess", client=client, policy=POLICY)
        session.commit()
    # Below the client limit one more account's owner still gets in...
    assert POLICY.max_failures < POLICY.client_max_failures
    with pytest.raises(LoginError, match="wrong"):
        login(session, _email(), "whatever guess", client=client, policy=POLICY)
    session.commit()
    # ...at the limit the address waits for every account, whose owner signing in changes nothing.
    with pytest.raises(LoginError, match="Too many.*Wait 15 minutes"):
        login(session, victim, "correct horse battery", client=client, policy=POLICY)
    # Another client signs in to the same account fine.
    login(session, victim, "correct horse battery", client="other-client", policy=POLICY)


def test_lockout_ends_after_the_window(session: Session) -> None:
    email = _email()
    create_admin(session, email, "correct horse battery")
    old = utcnow() - timedelta(minutes=POLICY.lockout_minutes + 1)
    for _ in range(POLICY.max_failures):
        session.add(LoginAttempt(email=email, client="c", success=False, at=old))
    session.commit()
    login(session, email, "correct horse battery", client="c", policy=POLICY)


def test_a_known_device_signs_in_past_the_throttle_and_is_recorded(session: Session) -> None:
    policy = LoginPolicy.from_settings(_settings(LOGIN_MAX_FAILURES="3"))
    assert policy.device_secret == "k" * 40 and policy.max_failures == 3 and "k" * 40 not in repr(policy)
    email = _email()
    user = create_admin(session, email, "correct horse battery")
    session.commit()
    cookie = issue_device_cookie(user, policy.device_secret)
    assert device_from_cookie(cookie, policy.device_secret) == (user.id, cookie.split(".")[2])
    client = f"192.0.2.2-{uuid.uuid4().hex[:6]}"
    for _ in range(policy.max_failures):
        with pytest.raises(LoginError, match="wrong"):
            login(session, email, "a wrong guess", client=client, policy=policy)
        session.commit()
    with pytest.raises(LoginError, match="Too many"):
        login(session, email, "correct horse battery", client=client, policy=policy)
    login(session, email, "correct horse battery", client=client, policy=policy, device=cookie)
    session.commit()
    rows = session.exec(select(LoginAttempt).where(LoginAttempt.email == email, LoginAttempt.success.is_(True))).all()
    assert [r.device for r in rows] == [cookie.split(".")[2]]


def test_session_helpers_by_hash(session: Session) -> None:
    email = _email()
    create_admin(session, email, "correct horse battery")
    session.commit()
    _, raw = login(session, email, "correct horse battery", client="c", policy=POLICY)
    session.commit()
    token_hash = session_token_hash(raw)
    assert len(token_hash) == 64 and raw not in token_hash
    assert user_for_session_hash(session, token_hash).email == email
    for bad in ("", token_hash.upper(), token_hash[:-1], token_hash + "0", raw, " " + token_hash[1:]):
        assert user_for_session_hash(session, bad) is None
    revoke_session_hash(session, token_hash.upper())  # malformed: ignored
    assert user_for_session(session, raw) is not None
    revoke_session_hash(session, token_hash)
    session.commit()
    assert user_for_session_hash(session, token_hash) is None and user_for_session(session, raw) is None


def test_expired_session_is_refused(session: Session) -> None:
    email = _email()
    create_admin(session, email, "correct horse battery")
    session.commit()
    user, raw = login(session, email, "correct horse battery", client="c", policy=POLICY)
    row = session.exec(select(AdminSession).where(AdminSession.user_id == user.id)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert user_for_session(session, raw) is None


def test_deactivating_an_admin_ends_their_sessions(session: Session) -> None:
    boss = create_admin(session, _email(), "correct horse battery")
    email = _email()
    other = admin_users.add_admin(session, email, "another long pass", "reviewer", "Rita")
    session.commit()
    _, raw = login(session, email, "another long pass", client="c", policy=POLICY)
    session.commit()
    assert user_for_session(session, raw) is not None
    with pytest.raises(AccountError, match="own account"):
        admin_users.set_active(session, boss.id, False, acting_user_id=boss.id)
    admin_users.set_active(session, other.id, False, acting_user_id=boss.id)
    session.commit()
    assert user_for_session(session, raw) is None
    with pytest.raises(LoginError, match="deactivated"):
        login(session, email, "another long pass", client="c2", policy=POLICY)
    assert any(r.email == email and not r.active and r.role == "reviewer" for r in admin_users.list_admins(session))


# --- templates -------------------------------------------------------------------


def _draft(**overrides) -> templates.TemplateDraft:
    values = {
        "title": "Data Engineer",
        "job_description": "Pipelines.",
        "language": "en",
        "duration_limit_minutes": "25",
        "questions": [
            {
                "id": "",
                "text": "Describe a pipeline you built.",
                "competency": "Experience",
                "follow_up_guidance": "Ask about scale.",
                "max_follow_ups": "1",
                "time_budget_seconds": "240",
            },
            {"id": "", "text": "", "competency": "", "follow_up_guidance": "", "max_follow_ups": "", "time_budget_seconds": ""},
            {
                "id": "",
                "text": "How do you test data quality?",
                "competency": "Quality",
                "follow_up_guidance": "",
                "max_follow_ups": "",
                "time_budget_seconds": "",
            },
        ],
        "rubric": [{"name": "Depth", "description": "Knows trade-offs", "weight": "2", "scale_min": "1", "scale_max": "5"}],
    }
    values.update(overrides)
    return templates.TemplateDraft(**values)


def test_template_create_edit_duplicate_archive(session: Session) -> None:
    t = templates.save_template(session, _draft())
    session.commit()
    assert [q["id"] for q in t.questions] == ["q1", "q3"]  # empty row dropped, ids stable by position
    assert t.questions[0]["time_budget_seconds"] == 240 and t.rubric[0]["weight"] == 2.0
    draft = templates.draft_from_template(t)
    draft.questions.reverse()
    draft.title = "Data Engineer II"
    templates.save_template(session, draft, t.id)
    session.commit()
    session.refresh(t)
    assert t.title == "Data Engineer II" and [q["id"] for q in t.questions] == ["q3", "q1"]
    copy = templates.duplicate_template(session, t.id)
    templates.set_archived(session, t.id, True)
    session.commit()
    assert copy.title == "Data Engineer II (copy)" and not copy.archived and copy.questions == t.questions
    assert t.id not in [x.id for x in templates.list_templates(session, include_archived=False)]
    with pytest.raises(invitations.InvitationError, match="archived"):
        invitations.invite(session, _settings(), make_candidate(session).id, t.id, actor="a")


def test_invalid_template_lists_every_problem_and_writes_nothing(session: Session) -> None:
    before = len(session.exec(select(InterviewTemplate)).all())
    bad = _draft(
        title=" ",
        duration_limit_minutes="soon",
        questions=[
            {"id": "", "text": "Fine?", "competency": "", "follow_up_guidance": "", "max_follow_ups": "1", "time_budget_seconds": "2"}
        ],
        rubric=[{"name": "X", "description": "", "weight": "1", "scale_min": "5", "scale_max": "1"}],
    )
    with pytest.raises(templates.TemplateError) as err:
        templates.save_template(session, bad)
    problems = " ".join(err.value.problems)
    assert "title" in problems and "minutes" in problems and "Question 1" in problems and "Rubric criterion 1" in problems
    session.rollback()
    assert len(session.exec(select(InterviewTemplate)).all()) == before


def test_draft_questions_says_clearly_when_no_llm_is_configured() -> None:
    with pytest.raises(templates.DraftUnavailable, match="No language model is configured"):
        templates.draft_questions(_settings(), "We need a backend engineer.")


def test_draft_questions_calls_an_openai_compatible_server() -> None:
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"] = str(request.url)
        seen["auth"] = request.headers["authorization"]
        content = '```json\n{"questions": [{"text": "How do you design an API?", "competency": "Design"}, {"text": "  "}]}\n```'
        return httpx.Response(200, json={"choices": [{"message": {"content": content}}]})

    settings = _settings(LLM_PROVIDER="openai", OPENAI_API_KEY="sk-test", OPENAI_BASE_URL="http://127.0.0.1:9/v1")
    rows = templates.draft_questions(settings, "Backend role", transport=httpx.MockTransport(handler))
    assert seen == {"url": "http://127.0.0.1:9/v1/chat/completions", "auth": "Bearer sk-test"}
    assert [r["text"] for r in rows] == ["How do you design an API?"] and rows[0]["competency"] == "Design"
    failing = httpx.MockTransport(lambda r: httpx.Response(500, json={}))
    with pytest.raises(templates.DraftUnavailable, match="did not answer usefully"):
        templates.draft_questions(settings, "Backend role", transport=failing)


# --- candidates ---------------------------------------------------------------------


def test_candidate_create_edit_delete(session: Session) -> None:
    tag = uuid.uuid4().hex[:6]
    c = candidates.create_candidate(session, " Jo Lee ", f"JO.{tag}@Example.com", "ATS-1")
    session.commit()
    assert (c.name, c.email) == ("Jo Lee", f"jo.{tag}@example.com")
    with pytest.raises(candidates.CandidateError, match="already exists"):
        candidates.create_candidate(session, "Jo again", f"jo.{tag}@example.com")
    with pytest.raises(candidates.CandidateError, match="not an email"):
        candidates.update_candidate(session, c.id, "Jo", "nope")
    candidates.update_candidate(session, c.id, "Jo Lee-Smith", f"jo.{tag}@example.com", "")
    session.commit()
    interview, _ = make_interview(session)
    with pytest.raises(candidates.CandidateError, match="cannot be deleted"):
        candidates.delete_candidate(session, interview.candidate_id)
    candidates.delete_candidate(session, c.id)
    session.commit()
    assert session.get(Candidate, c.id) is None


def test_csv_import_imports_good_rows_and_reports_each_bad_one(session: Session) -> None:
    tag = uuid.uuid4().hex[:6]
    existing = make_candidate(session, email=f"old.{tag}@example.com")
    session.commit()
    data = (
        "Name,Email,External_Ref\n"
        f"Ada Ok,ada.{tag}@example.com,A1\n"
        f",nobody.{tag}@example.com,\n"
        "Bad Mail,not-an-email,\n"
        f"Dup,ada.{tag}@example.com,\n"
        f"Old,{existing.email},\n"
        "\n"
        f"Bo Ok,bo.{tag}@example.com,B2,extra\n"
        f"Cy Ok;semicolon,cy.{tag}@example.com,\n"
    ).encode()
    report = candidates.import_csv(session, data)
    session.commit()
    assert report.imported == 2
    lines = dict(report.errors)
    assert set(lines) == {3, 4, 5, 6, 8}
    assert (
        "name" in lines[3]
        and "not an email" in lines[4]
        and "earlier in the file" in lines[5]
        and "already exists" in lines[6]
        and "fields" in lines[8]
    )
    emails = {c.email for c in session.exec(select(Candidate).where(Candidate.email.like(f"%{tag}%"))).all()}
    assert {f"ada.{tag}@example.com", f"cy.{tag}@example.com"} <= emails


def test_csv_import_without_header_or_not_utf8_reports_why(session: Session) -> None:
    assert "header" in candidates.import_csv(session, b"a@b.com,x\n").errors[0][1]
    assert "UTF-8" in candidates.import_csv(session, "Name,Email\nJ\xf6rg,j@x.com\n".encode("latin-1")).errors[0][1]


# --- invitations ------------------------------------------------------------------------


def test_invite_revoke_and_reissue(session: Session) -> None:
    settings = _settings()
    template, candidate = make_template(session), make_candidate(session)
    session.commit()
    issued = invitations.invite(session, settings, candidate.id, template.id, actor="a@example.com")
    session.commit()
    raw = issued.link.rsplit("/", 1)[1]
    assert issued.link.startswith("https://interviews.example.com/interview/")
    interview = session.get(Interview, issued.interview_id)
    assert raw not in interview.invite_token_hash and find_by_token(session, raw).id == interview.id
    again = invitations.reissue(session, settings, interview.id, actor="a@example.com")
    session.commit()
    assert find_by_token(session, raw) is None
    assert find_by_token(session, again.link.rsplit("/", 1)[1]).id == interview.id
    invitations.revoke(session, interview.id, actor="a@example.com")
    session.commit()
    assert session.get(Interview, interview.id).status == "cancelled"
    with pytest.raises(invitations.InvitationError, match="already cancelled"):
        invitations.revoke(session, interview.id, actor="a@example.com")
    with pytest.raises(invitations.InvitationError, match="only an unused invitation"):
        invitations.reissue(session, settings, interview.id, actor="a@example.com")
    kinds = [e.kind for e in session.exec(select(InterviewEvent).where(InterviewEvent.interview_id == interview.id)).all()]
    assert kinds == ["invited", "invite_reissued", "status_changed"]


def test_email_log_backend_writes_the_link_to_the_log(session: Session, caplog: pytest.LogCaptureFixture) -> None:
    settings = _settings()
    template, candidate = make_template(session), make_candidate(session)
    issued = invitations.invite(session, settings, candidate.id, template.id, actor="a")
    with caplog.at_level("WARNING", logger="interview_app.email"):
        outcome = invitations.email_link(session, settings, issued, actor="a")
    session.commit()
    assert "app log" in outcome and issued.link in caplog.text and candidate.email in caplog.text


def test_email_smtp_backend_sends_through_a_real_smtp_server(session: Session) -> None:
    import asyncio
    import socket
    import threading

    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 test ESMTP\r\n")
        data_mode = False
        buf = b""
        while line := await reader.readline():
            if data_mode:
                if line == b".\r\n":
                    data_mode = False
                    received.append(buf)
                    writer.write(b"250 queued\r\n")
                else:
                    buf += line
                continue
            cmd = line[:4].upper()
            if cmd in (b"EHLO", b"HELO"):
                writer.write(b"250 test\r\n")
            elif cmd == b"DATA":
                data_mode = True
                writer.write(b"354 go\r\n")
            elif cmd == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", port))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        settings = _settings(
            EMAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_FROM="jobs@example.com", SMTP_STARTTLS="false"
        )
        template, candidate = make_template(session), make_candidate(session)
        issued = invitations.invite(session, settings, candidate.id, template.id, actor="a")
        assert "sent" in invitations.email_link(session, settings, issued, actor="a")
    finally:
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
    import email
    from email import policy

    message = email.message_from_bytes(received[0], policy=policy.default)
    assert message["To"] == candidate.email and issued.link in message.get_content()


# --- list and overview ------------------------------------------------------------------


def test_keyset_pages_cover_every_row_once_with_filters_and_search(session: Session) -> None:
    template = make_template(session)
    tag = uuid.uuid4().hex[:6]
    ids = []
    for i in range(7):
        c = make_candidate(session, name=f"Page {tag} {i}", email=f"page{i}.{tag}@example.com")
        issued = invitations.invite(session, _settings(), c.id, template.id, actor="a")
        ids.append(str(issued.interview_id))
    session.commit()
    same_time = session.get(Interview, uuid.UUID(ids[0])).created_at
    for i in ids[:3]:  # equal created_at: the id breaks the tie
        row = session.get(Interview, uuid.UUID(i))
        row.created_at = same_time
        session.add(row)
    session.commit()
    filters = interview_list.ListFilters(template_id=template.id)
    seen, cursor = [], ""
    for _ in range(10):
        page = interview_list.list_interviews(session, filters, cursor=cursor, limit=3)
        seen += [r.id for r in page.rows]
        cursor = page.next_cursor
        if not cursor:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 7
    assert [r.candidate_name for r in interview_list.list_interviews(session, interview_list.ListFilters(search=f"PAGE {tag} 4")).rows] == [
        f"Page {tag} 4"
    ]
    transition(session, session.get(Interview, uuid.UUID(ids[2])), "in_progress")
    session.commit()
    only = interview_list.list_interviews(session, interview_list.ListFilters(status="in_progress", template_id=template.id))
    assert [r.id for r in only.rows] == [ids[2]]
    assert interview_list.current_statuses(session, [ids[2], "junk"]) == {ids[2]: "in_progress"}
    today = utcnow().date()
    assert (
        len(
            interview_list.list_interviews(
                session, interview_list.ListFilters(template_id=template.id, created_from=today, created_to=today)
            ).rows
        )
        == 7
    )
    assert (
        interview_list.list_interviews(
            session, interview_list.ListFilters(template_id=template.id, created_to=today - timedelta(days=1))
        ).rows
        == []
    )
    csv_text = interview_list.export_csv(session, filters)
    assert csv_text.splitlines()[0].startswith("interview_id,candidate_name") and len(csv_text.splitlines()) == 8


def test_export_neutralises_formulas(session: Session) -> None:
    template = make_template(session)
    c = make_candidate(session, name='=HYPERLINK("http://evil")')
    invitations.invite(session, _settings(), c.id, template.id, actor="a")
    session.commit()
    text = interview_list.export_csv(session, interview_list.ListFilters(template_id=template.id))
    assert "'=HYPERLINK" in text


def test_detail_shows_timeline(session: Session) -> None:
    interview, _ = make_interview(session)
    transition(session, interview, "in_progress", actor="candidate")
    session.commit()
    detail = interview_list.interview_detail(session, str(interview.id))
    assert detail.status == "in_progress" and [e["kind"] for e in detail.events] == ["invited", "status changed"]
    assert "invited → in_progress" in detail.events[1]["detail"]
    assert interview_list.interview_detail(session, "not-a-uuid") is None


def test_overview_counts_rate_and_median(app_db) -> None:
    with Session(app_db) as session:
        # an empty interview table: first every table that points at it (events, transcript
        # segments, evaluations … other test modules may have left on this shared database)
        interview_table = Interview.__table__  # type: ignore[attr-defined]
        for table in reversed(SQLModel.metadata.sorted_tables):
            if any(fk.column.table is interview_table for fk in table.foreign_keys):
                session.exec(table.delete())  # type: ignore[call-overload]
        session.exec(interview_table.delete())
        session.commit()
        template = make_template(session)
        durations = [10, 20, 40]
        for minutes in durations:
            interview, _ = make_interview(session, template=template)
            transition(session, interview, "in_progress")
            transition(session, interview, "processing")
            transition(session, interview, "completed")
            interview.ended_at = interview.started_at + timedelta(minutes=minutes)
            session.add(interview)
        failed, _ = make_interview(session, template=template)
        transition(session, failed, "failed")
        make_interview(session, template=template)
        session.commit()
        o = overview.overview(session, days=7)
    assert o.counts["completed"] == 3 and o.counts["failed"] == 1 and o.counts["invited"] == 1 and o.total == 5
    assert o.completion_rate == pytest.approx(0.75)
    assert o.median_duration_minutes == pytest.approx(20, abs=0.1)
    assert len(o.per_day) == 7 and o.per_day[-1]["interviews"] == 5
