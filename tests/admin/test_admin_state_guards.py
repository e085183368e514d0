"""Every admin event handler refuses a caller without a valid session, and reviewers where they may not change things.

Reflex runs a websocket event as ``handler.fn(state, **payload)`` on the state
instance (reflex_base/event/processor/base_state_processor.py); these tests do
exactly that on a real state tree, so the real guard runs against the real
database, and assert that nothing changed.
"""

from __future__ import annotations

import copy
import inspect
import io
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlmodel import Session, func, select

from interview_app.models import AdminSession, AdminUser, Candidate, Interview, InterviewTemplate, utcnow
from interview_app.services.auth import ADMIN_SESSION_COOKIE, create_admin, create_session
from interview_app.services.sign_in import rewrite_cookie_header
from interview_app.services.templates import TemplateDraft
from interview_app.state.admin_calibration import CalibrationState
from interview_app.state.admin_candidates import CandidatesState
from interview_app.state.admin_detail import MESSAGE_KIND, InterviewDetailState
from interview_app.state.admin_list import InterviewListState
from interview_app.state.admin_overview import OverviewState
from interview_app.state.admin_templates import TemplatesState
from interview_app.state.admin_users import AdminUsersState
from tests.factories import make_candidate, make_interview, make_template

ADMIN_STATES = (InterviewListState, CandidatesState, TemplatesState, InterviewDetailState, OverviewState, AdminUsersState, CalibrationState)
# Handlers of AdminState itself that must work signed out: the session check of every admin page.
PUBLIC = {"check_session"}


def connection_headers(token: str) -> dict[str, str]:
    """The headers Reflex stores for a websocket whose browser sent ``admin_session=<token>``,
    as they are after AdminSessionMiddleware (the raw token replaced by its hash)."""
    cookie = rewrite_cookie_header(f"theme=light; {ADMIN_SESSION_COOKIE}={token}") if token else ""
    return {"origin": "http://testserver", **({"cookie": cookie} if cookie else {})}


def state_for(cls: type[rx.State], token: str = "", path: str = "/admin") -> Any:
    """A state in a real state tree, as the websocket handler would find it for a tab on ``path``
    whose connection carries the session cookie ``token`` ("" for none)."""
    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data({"asPath": path, "ip": "10.9.8.7", "headers": connection_headers(token)})
    return root.get_substate(cls.get_full_name().split("."))


def run(state: Any, handler: str, /, **payload: Any) -> Any:
    """What Reflex does for an event arriving over the websocket."""
    result = type(state).event_handlers[handler].fn(state, **payload)
    if inspect.isawaitable(result):
        import asyncio

        result = asyncio.run(result)
    return result


@pytest.fixture
def people(session: Session) -> dict[str, str]:
    """Raw session tokens: a valid admin, a reviewer, an expired admin session, a deactivated admin, garbage."""
    tag = uuid.uuid4().hex[:6]
    admin = create_admin(session, f"boss.{tag}@example.com", "correct horse battery")
    reviewer = create_admin(session, f"rev.{tag}@example.com", "correct horse battery", role="reviewer")
    gone = create_admin(session, f"gone.{tag}@example.com", "correct horse battery")
    tokens = {
        "admin": create_session(session, admin, ttl_minutes=30),
        "reviewer": create_session(session, reviewer, ttl_minutes=30),
        "expired": create_session(session, admin, ttl_minutes=30),
        "deactivated": create_session(session, gone, ttl_minutes=30),
        "none": "",
        "forged": "not-a-session-token",
    }
    expired = session.exec(select(AdminSession).where(AdminSession.user_id == admin.id)).all()[-1]
    expired.expires_at = utcnow() - timedelta(minutes=1)
    gone.active = False
    session.add_all([expired, gone])
    session.commit()
    return tokens


REFUSED_FOR_CHANGES = ["none", "forged", "expired", "deactivated", "reviewer"]


# Arguments that would make each handler change something if it ran.
_ARGS = {"name": "title", "value": "changed", "index": 0, "delta": 1, "template_id": "1", "candidate_id": "1", "user_id": "1"}


def _seed(state: Any) -> None:
    """Give list-editing handlers something to edit."""
    row = {
        "id": "1",
        "name": "Seed",
        "email": "seed@example.com",
        "ref": "",
        "interviews": "0",
        "created": "",
        "text": "q",
        "status": "invited",
    }
    for attr in ("candidates", "rows"):
        if hasattr(state, attr):
            setattr(state, attr, [dict(row), dict(row)])
    if isinstance(getattr(state, "draft", None), TemplateDraft):  # the template editor's form
        state.draft = replace(state.draft, questions=[dict(row), dict(row)], rubric=[dict(row), dict(row)])


def _dummy(param: inspect.Parameter) -> Any:
    if param.name in _ARGS:
        return _ARGS[param.name]
    annotation = str(param.annotation)
    if "UploadFile" in annotation:
        return [rx.UploadFile(file=io.BytesIO(b"name,email\nEve,eve@example.com\n"), path=Path("x.csv"))]
    if "dict" in annotation:
        return {"name": "Eve", "email": "eve@example.com", "password": "long enough pass", "search": "x"}
    if "bool" in annotation:
        return True
    if "int" in annotation:
        return 0
    return "1"


def runs_no_script(answer: Any) -> bool:
    """True unless a handler answered with JavaScript for the browser (rx.toast, rx.call_script …), which
    Reflex's state.js runs with eval() — refused by the pages' CSP (no 'unsafe-eval'): use the notice state."""
    return not any(name in str(answer) for name in ("_call_function", "_call_script"))


def _own_handlers(cls: type[rx.State]) -> list[str]:
    return sorted(name for name, h in cls.event_handlers.items() if h.fn.__qualname__.startswith(cls.__name__ + ".") and name not in PUBLIC)


@pytest.mark.parametrize("cls", ADMIN_STATES, ids=lambda c: c.__name__)
def test_every_admin_handler_does_nothing_without_a_session(cls: type[rx.State], people: dict[str, str], session: Session) -> None:
    handlers = _own_handlers(cls)
    assert handlers, f"{cls.__name__} has no handlers?"
    make_interview(session)  # something an unguarded load would show
    before_rows = {m: session.exec(select(func.count()).select_from(m)).one() for m in (Candidate, InterviewTemplate, Interview, AdminUser)}
    for token_kind in ("none", "forged", "expired", "deactivated"):
        for name in handlers:
            state = state_for(cls, people[token_kind])
            _seed(state)
            before = copy.deepcopy(state.dict()[state.get_full_name()])
            params = [p for p in inspect.signature(cls.event_handlers[name].fn).parameters.values() if p.name != "self"]
            answer = run(state, name, **{p.name: _dummy(p) for p in params})
            assert runs_no_script(answer), f"{cls.__name__}.{name} answered '{token_kind}' with a script"
            after = state.dict()[state.get_full_name()]
            changed = {k for k in before if before[k] != after[k] and not k.startswith(("access_message", "admin_email", "admin_role"))}
            assert not changed, f"{cls.__name__}.{name} changed {changed} for a caller with session '{token_kind}'"
            assert state.admin_email == "", f"{cls.__name__}.{name} treated '{token_kind}' as signed in"
    session.expire_all()
    assert before_rows == {m: session.exec(select(func.count()).select_from(m)).one() for m in before_rows}


@pytest.mark.parametrize("who", REFUSED_FOR_CHANGES)
def test_candidate_changes_are_refused(who: str, people: dict[str, str], session: Session) -> None:
    template, victim = make_template(session), make_candidate(session)
    session.commit()
    email = f"new.{uuid.uuid4().hex[:6]}@example.com"
    state = state_for(CandidatesState, people[who])
    run(state, "save", form_data={"name": "New Person", "email": email, "external_ref": ""})
    run(state, "delete", candidate_id=str(victim.id))
    state.candidates = [{"id": str(victim.id), "name": victim.name, "email": victim.email, "ref": "", "interviews": "0", "created": ""}]
    state.invite_candidate_id, state.invite_template_id = victim.id, str(template.id)
    run(state, "create_invite")
    csv = rx.UploadFile(file=io.BytesIO(f"name,email\nCsv Person,csv.{email}\n".encode()), path=Path("c.csv"))
    run(state, "import_file", files=[csv])
    session.expire_all()
    assert session.exec(select(Candidate).where(Candidate.email.in_([email, f"csv.{email}"]))).all() == []
    assert session.get(Candidate, victim.id) is not None
    assert session.exec(select(Interview).where(Interview.candidate_id == victim.id)).all() == []
    assert state.invite_link == ""
    refusal = "Your role (reviewer) can read interviews but not change this. Ask an admin."
    assert state.notice_message == (refusal if who == "reviewer" else "Your session has ended. Sign in again.")
    assert (state.notice_kind, state.notice_seq) == ("error", 4)  # one notice per refused call


def test_candidate_changes_work_for_an_admin(people: dict[str, str], session: Session) -> None:
    """The positive control: the same calls with an admin session do change the database."""
    template, victim = make_template(session), make_candidate(session)
    session.commit()
    email = f"new.{uuid.uuid4().hex[:6]}@example.com"
    state = state_for(CandidatesState, people["admin"])
    run(state, "load")
    assert runs_no_script(run(state, "save", form_data={"name": "New Person", "email": email, "external_ref": ""}))
    assert (state.notice_message, state.notice_kind, state.notice_seq) == ("Saved New Person.", "success", 1)
    state.invite_candidate_id, state.invite_template_id = victim.id, str(template.id)
    run(state, "create_invite")
    assert "/interview/" in state.invite_link
    csv = rx.UploadFile(file=io.BytesIO(f"name,email\nCsv Person,csv.{email}\nBad,nope\n".encode()), path=Path("c.csv"))
    run(state, "import_file", files=[csv])
    assert (
        state.import_errors == [{"line": "3", "reason": state.import_errors[0]["reason"]}]
        and "not an email" in state.import_errors[0]["reason"]
    )
    session.expire_all()
    assert len(session.exec(select(Candidate).where(Candidate.email.in_([email, f"csv.{email}"]))).all()) == 2
    assert len(session.exec(select(Interview).where(Interview.candidate_id == victim.id)).all()) == 1


@pytest.mark.parametrize("who", REFUSED_FOR_CHANGES)
def test_template_changes_are_refused(who: str, people: dict[str, str], session: Session) -> None:
    template = make_template(session)
    session.commit()
    count = session.exec(select(func.count()).select_from(InterviewTemplate)).one()
    state = state_for(TemplatesState, people[who])
    state.draft = TemplateDraft(title="Sneaky", questions=[{"id": "", "text": "Q?"}], rubric=[])
    run(state, "save")
    run(state, "duplicate", template_id=str(template.id))
    run(state, "set_archived", template_id=str(template.id), archived=True)
    session.expire_all()
    assert session.exec(select(func.count()).select_from(InterviewTemplate)).one() == count
    assert session.get(InterviewTemplate, template.id).archived is False


def test_template_changes_work_for_an_admin(people: dict[str, str], session: Session) -> None:
    template = make_template(session)
    session.commit()
    state = state_for(TemplatesState, people["admin"])
    run(state, "new_template")
    run(state, "set_field", name="title", value="Made through the state")
    run(state, "set_question_field", index=0, name="text", value="Why this job?")
    run(state, "save")
    assert state.problems == [] and state.editor_open is False
    assert (state.notice_message, state.notice_kind) == ("Saved “Made through the state”.", "success")
    run(state, "set_archived", template_id="999999999", archived=True)
    assert (state.notice_message, state.notice_kind) == ("That template no longer exists. Reload the page.", "error")
    run(state, "set_archived", template_id=str(template.id), archived=True)
    session.expire_all()
    assert (
        session.exec(select(InterviewTemplate).where(InterviewTemplate.title == "Made through the state")).one().questions[0]["text"]
        == "Why this job?"
    )
    assert session.get(InterviewTemplate, template.id).archived is True


@pytest.mark.parametrize("who", REFUSED_FOR_CHANGES)
def test_invitation_changes_are_refused(who: str, people: dict[str, str], session: Session) -> None:
    interview, raw = make_interview(session)
    hash_before = interview.invite_token_hash
    state = state_for(InterviewDetailState, people[who], path=f"/admin/interviews/{interview.id}")
    state.shown_id = str(interview.id)  # as if the page had been loaded
    run(state, "revoke")
    run(state, "reissue")
    session.expire_all()
    row = session.get(Interview, interview.id)
    assert row.status == "invited" and row.invite_token_hash == hash_before and state.new_link == ""


def test_reviewer_reads_interviews_and_admin_revokes(people: dict[str, str], session: Session) -> None:
    interview, _ = make_interview(session)
    path = f"/admin/interviews/{interview.id}"
    reviewer = state_for(InterviewDetailState, people["reviewer"], path=path)
    run(reviewer, "load")
    assert reviewer.found and reviewer.detail["status"] == "invited" and reviewer.can_edit is False
    listing = state_for(InterviewListState, people["reviewer"])
    run(listing, "load")
    assert any(r["id"] == str(interview.id) for r in listing.rows) or listing.next_cursor
    admin = state_for(InterviewDetailState, people["admin"])
    run(admin, "load", path=path)  # the browser's location, sent with the on_mount event
    assert admin.detail["id"] == str(interview.id)
    run(admin, "reissue")
    assert "/interview/" in admin.new_link
    assert runs_no_script(run(admin, "revoke"))
    assert (admin.notice_message, admin.notice_kind) == ("Invitation revoked; the link no longer works.", "success")
    session.expire_all()
    assert session.get(Interview, interview.id).status == "cancelled"
    run(admin, "revoke")  # twice: the service's sentence, as an error notice
    assert (admin.notice_message, admin.notice_kind) == ("This interview is already cancelled; there is nothing to revoke.", "error")


@pytest.mark.parametrize("who", REFUSED_FOR_CHANGES)
def test_admin_account_changes_are_refused(who: str, people: dict[str, str], session: Session) -> None:
    target = session.exec(select(AdminUser).where(AdminUser.active.is_(True))).first()
    email = f"intruder.{uuid.uuid4().hex[:6]}@example.com"
    state = state_for(AdminUsersState, people[who])
    state.form_role = "admin"
    run(state, "create", form_data={"email": email, "password": "long enough pass", "name": ""})
    run(state, "set_user_active", user_id=str(target.id), active=False)
    session.expire_all()
    assert session.exec(select(AdminUser).where(AdminUser.email == email)).first() is None
    assert session.get(AdminUser, target.id).active is True


def test_unauthenticated_list_and_export_return_no_data(people: dict[str, str], session: Session) -> None:
    make_interview(session)
    state = state_for(InterviewListState, people["forged"])
    run(state, "load")
    assert state.rows == []
    answer = run(state, "export")
    assert "download" not in str(answer).lower()
    admin = state_for(InterviewListState, people["admin"])
    run(admin, "load")
    assert admin.rows
    assert "download" in str(run(admin, "export")).lower()


def test_timeline_counts_chat_messages_in_words() -> None:
    state = state_for(InterviewDetailState)
    state.events = [{"kind": "status changed"}, {"kind": MESSAGE_KIND}]
    assert state.messages_label == "1 chat message"
    assert state.messages_hidden_note.startswith("1 chat message of the text interview is hidden here")
    state.events = [{"kind": MESSAGE_KIND}] * 3
    assert state.messages_label == "3 chat messages"
    assert state.messages_hidden_note.startswith("3 chat messages of the text interview are hidden here")


def test_authority_comes_from_the_connection_not_from_the_tab_state(people: dict[str, str], session: Session) -> None:
    make_interview(session)
    state = state_for(InterviewListState, people["admin"])
    run(state, "load")
    assert state.rows and state.signed_in
    # The same tab state, now reached over a connection without the cookie (a replayed Reflex token).
    state.router = RouterData.from_router_data({"asPath": "/admin", "ip": "10.9.8.7", "headers": connection_headers("")})
    assert "download" not in str(run(state, "export")).lower()
    assert not state.signed_in
    # A client that sends the stored hash itself as a cookie: the middleware drops it, so the app never sees it.
    forged = rewrite_cookie_header(f"admin_session_sha256={'0' * 64}")
    assert forged == ""


def test_the_sign_in_page_words_the_route_s_reason_and_never_echoes_the_address() -> None:
    from interview_app.state.auth import AdminState

    def page(query: str) -> Any:
        state = state_for(AdminState, path=f"/admin/templates?{query}")
        state.router = RouterData.from_router_data(
            {
                "pathname": "/admin/templates",
                "asPath": f"/admin/templates?{query}",
                "query": dict(p.split("=", 1) for p in query.split("&")),
                "headers": {},
            }
        )
        answer = run(state, "check_session")
        return state, answer

    state, answer = page("signin=wait&wait=125")
    assert state.login_error == "Too many failed sign-ins. Wait 3 minutes and try again, or ask another admin."
    assert "/admin/templates" in str(answer) and "signin" not in str(answer)  # the address is cleaned
    state, _ = page("signin=signed-out-everywhere")
    assert state.access_message.startswith("You are signed out on every device") and state.login_error == ""
    state, _ = page("signin=%3Cscript%3Ealert(1)%3C/script%3E&wait=99999999999")
    assert state.login_error == "Sign in to continue." and "script" not in state.login_error
    assert state.sign_in_next == "/admin/templates"
