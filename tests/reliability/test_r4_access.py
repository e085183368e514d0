"""R4 — access: a systematic sweep of admin event handlers, and candidate tokens scoped to one room.

The sweep finds every State under ``AdminState`` (after importing all pages, so new pages
are included) and every event handler on each, own or inherited. A handler must either be
in ``NOT_GUARDED`` with a reason, or check the session (``@guarded(...)`` or ``self._guard(``)
— so a new unguarded handler fails here — and when called over the "websocket" (the way
Reflex calls it) by a caller without a valid session it must change no row and no state.
Reviewers may only write audit rows (``interview_event``, their own session bookkeeping).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from livekit.api import TokenVerifier
from sqlmodel import Session

import interview_app.pages  # noqa: F401  (registers every page and its states)
from interview_app.api import create_api
from interview_app.state.auth import AdminState
from tests.admin.test_admin_state_guards import _dummy, _seed, state_for
from tests.conftest import migrate_to
from tests.factories import make_interview
from tests.fakes.livekit_server import FakeLiveKitServer
from tests.reliability.conftest import db_snapshot, figure, run_coroutine

# Handlers reachable without a session, and why that is safe.
NOT_GUARDED = {
    "setvar": "Reflex's built-in setter: sets client-visible vars only; every handler that reads or writes data re-checks the session in the DB",
    "check_session": "on_load: only asks the DB who the connection's cookie belongs to, and turns ?signin=<reason> into a fixed sentence",
}
# State vars a refused call may change: the refusal message and "who is signed in" (cleared).
REFUSAL_VARS = ("access_message", "admin_email", "admin_role", "action_message", "review_error", "score_error", "decision_error")
# Tables a reviewer's call may write: the audit trail (e.g. "recording viewed by") and their own scorecard.
REVIEWER_MAY_WRITE = {"interview_event", "scorecard"}


def admin_states() -> list[type[AdminState]]:
    found: list[type[AdminState]] = []
    todo = [AdminState]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(set(found), key=lambda c: c.__name__)


def handlers(cls: type[AdminState]) -> list[str]:
    return sorted(cls.event_handlers)


def is_guarded(fn: Any) -> bool:
    if fn.__code__.co_name in ("guarded_sync", "guarded_async"):  # @guarded(...)
        return True
    return "self._guard(" in inspect.getsource(inspect.unwrap(fn))


@pytest.fixture
def db_url(tmp_path: Path) -> str:  # SQLite only: the sweep checks handlers, not the database engine
    url = f"sqlite:///{tmp_path / 'access.db'}"
    migrate_to(url)
    return url


@pytest.fixture
def people(session: Session) -> dict[str, str]:
    from tests.admin.test_admin_state_guards import people as _people

    return _people.__wrapped__(session)  # type: ignore[attr-defined]


def call(state: Any, name: str) -> Any:
    fn = type(state).event_handlers[name].fn
    params = [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]
    result = fn(state, **{p.name: _dummy(p) for p in params if p.default is inspect.Parameter.empty or p.name in ("path",)})
    if inspect.isasyncgen(result):

        async def drain() -> list[Any]:
            return [x async for x in result]

        return run_coroutine(drain())
    if inspect.isawaitable(result):
        return run_coroutine(result)
    if inspect.isgenerator(result):
        return list(result)
    return result


def test_every_admin_state_and_handler_is_found() -> None:
    states = admin_states()
    names = {c.__name__ for c in states}
    assert {"InterviewListState", "CandidatesState", "TemplatesState", "InterviewDetailState", "ReviewState", "AdminUsersState"} <= names
    figure("R4 admin states swept", len(states))
    figure("R4 admin event handlers swept", sum(len(handlers(c)) for c in states))


def test_every_admin_handler_checks_the_session() -> None:
    unguarded = [
        f"{cls.__name__}.{name}"
        for cls in admin_states()
        for name in handlers(cls)
        if name not in NOT_GUARDED and not is_guarded(cls.event_handlers[name].fn)
    ]
    assert not unguarded, f"admin handlers without a session check (use @guarded(...) or self._guard()): {unguarded}"


@pytest.mark.parametrize("cls", admin_states(), ids=lambda c: c.__name__)
def test_refused_callers_change_nothing(cls: type[AdminState], people: dict[str, str], session: Session, db_url: str) -> None:
    make_interview(session)
    refused = 0
    for token_kind in ("none", "forged", "expired", "deactivated"):
        for name in handlers(cls):
            if name in NOT_GUARDED or cls.event_handlers[name].is_background:
                continue  # background handlers need Reflex's state proxy; the static check above covers them
            state = state_for(cls, people[token_kind])
            _seed(state)
            before_state = copy.deepcopy(state.dict()[state.get_full_name()])
            before_db = db_snapshot(db_url)
            answer = call(state, name)
            after_state = state.dict()[state.get_full_name()]
            changed = {k for k in before_state if before_state[k] != after_state[k] and not k.startswith(REFUSAL_VARS)}
            assert not changed, f"{cls.__name__}.{name} changed {changed} for a caller with session '{token_kind}'"
            diff = [t for t, v in db_snapshot(db_url).items() if v != before_db[t]]
            assert diff in ([], ["admin_session"]), f"{cls.__name__}.{name} wrote {diff} for '{token_kind}'"
            assert "download" not in str(answer).lower(), f"{cls.__name__}.{name} sent a download to '{token_kind}'"
            refused += 1
    figure(f"R4 refused unauthenticated calls ({cls.__name__})", refused)


@pytest.mark.parametrize("cls", admin_states(), ids=lambda c: c.__name__)
def test_reviewers_write_only_audit_rows(cls: type[AdminState], people: dict[str, str], session: Session, db_url: str) -> None:
    interview, _ = make_interview(session)
    for name in handlers(cls):
        if name in NOT_GUARDED or cls.event_handlers[name].is_background:
            continue
        state = state_for(cls, people["reviewer"], path=f"/admin/interviews/{interview.id}")
        _seed(state)
        for attr in ("shown_id", "review_interview_id"):
            if hasattr(state, attr):
                setattr(state, attr, str(interview.id))
        before = db_snapshot(db_url)
        call(state, name)
        wrote = {t for t, v in db_snapshot(db_url).items() if v != before[t]} - REVIEWER_MAY_WRITE - {"admin_session"}
        assert not wrote, f"{cls.__name__}.{name} let a reviewer write {wrote}"


# --------------------------------------------------------------------------- candidate tokens


@pytest.fixture
def livekit(settings_env) -> Iterator[FakeLiveKitServer]:
    server = FakeLiveKitServer().start()
    settings_env(**server.env)
    yield server
    server.stop()


def test_a_candidate_token_opens_only_its_own_room(session: Session, livekit: FakeLiveKitServer) -> None:
    client = TestClient(create_api(), raise_server_exceptions=False)
    a, raw_a = make_interview(session)
    b, raw_b = make_interview(session)
    answers = {}
    for interview, raw in ((a, raw_a), (b, raw_b)):
        for _ in range(2):  # start and rejoin
            res = client.post("/api/interview/start", json={"invite_token": raw})
            assert res.status_code == 200, res.text
            body = res.json()
            assert body["room_name"] == interview.room_name
            claims = TokenVerifier(livekit.api_key, livekit.api_secret).verify(body["token"])
            grants = claims.video
            assert grants.room == interview.room_name and grants.room_join
            assert not (grants.room_admin or grants.room_create or grants.room_list or grants.room_record), grants
            assert claims.identity == f"candidate-{interview.id}"
            answers.setdefault(interview.id, set()).add(body["room_name"])
    assert answers[a.id] == {a.room_name} and answers[b.id] == {b.room_name}
    # A's token cannot be used against LiveKit's server API for B's room (the fake checks grants like LiveKit).
    token_a = client.post("/api/interview/start", json={"invite_token": raw_a}).json()["token"]
    res = httpx.post(
        f"{livekit.url.replace('ws', 'http', 1)}/twirp/livekit.RoomService/ListParticipants",
        json={"room": b.room_name},
        headers={"Authorization": f"Bearer {token_a}"},
        timeout=5,
    )
    assert res.status_code in (401, 403), res.text
    # A made-up token close to a real one finds nothing.
    res = client.post("/api/interview/start", json={"invite_token": raw_a[:-2] + ("AA" if raw_a[-2:] != "AA" else "BB")})
    assert res.status_code == 404
