"""R2 — bad input: generated requests from the OpenAPI schema and a hand-written attack set.

The app's FastAPI routes run in uvicorn on 127.0.0.1 against a seeded SQLite database and
the fake LiveKit server. Every refused request (4xx) must leave every table unchanged, and
nothing may answer 5xx (503 from the start API is the documented "LiveKit unavailable"
answer and never happens here: the fake server is up).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from livekit import api
from sqlmodel import Session

from interview_app.api import create_api
from interview_app.contracts import InterviewResult, TranscriptSegment
from interview_app.services.interviews import transition
from interview_app.services.invitations import revoke
from tests.factories import make_interview
from tests.fakes.livekit_server import FakeLiveKitServer
from tests.reliability.conftest import FULL, ApiServer, db_snapshot, figure

KEY = "APIreliability"
SECRET = "reliability-livekit-secret-" + "k" * 24
SCHEMA_CASES = 1200 if FULL else 150


def sign(body: bytes, *, key: str = KEY, secret: str = SECRET, ttl: timedelta = timedelta(minutes=10)) -> str:
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return api.AccessToken(key, secret).with_sha256(digest).with_ttl(ttl).to_jwt()


def seed(url: str) -> dict[str, str]:
    """Interviews in every state a link can be in; returns raw tokens and ids by name."""
    engine = sa.create_engine(url)
    out: dict[str, str] = {}
    with Session(engine, expire_on_commit=False) as s:
        valid, out["valid"] = make_interview(s)
        out["valid_id"] = str(valid.id)
        out["valid_room"] = valid.room_name
        _, out["expired"] = make_interview(s, ttl=timedelta(seconds=-60))
        revoked, out["revoked"] = make_interview(s)
        revoke(s, revoked.id, actor="test")
        s.commit()
        finished, out["finished"] = make_interview(s)
        transition(s, finished, "in_progress")
        transition(s, finished, "processing")
        s.commit()
        out["finished_id"] = str(finished.id)
        failed, out["failed"] = make_interview(s)
        transition(s, failed, "failed", reason="test")
        s.commit()
        running, out["running"] = make_interview(s)
        transition(s, running, "in_progress")
        s.commit()
        out["running_id"] = str(running.id)
        out["running_room"] = running.room_name
    engine.dispose()
    return out


@pytest.fixture(scope="module")
def livekit() -> FakeLiveKitServer:
    server = FakeLiveKitServer(KEY, SECRET).start()
    yield server
    server.stop()


@pytest.fixture
def app(sqlite_url: str, server_env: dict[str, str], livekit: FakeLiveKitServer, api_server_factory) -> tuple[ApiServer, dict[str, str]]:
    livekit.reset()
    tokens = seed(sqlite_url)
    env = server_env | livekit.env | {"DATABASE_URL": sqlite_url, "MAX_WEBHOOK_BYTES": "65536"}
    srv = api_server_factory(env)
    srv.start()
    return srv, tokens


def result_body(interview_id: str, text: str = "hello") -> bytes:
    result = InterviewResult(
        interview_id=uuid.UUID(interview_id),
        outcome="completed",
        end_reason="all questions covered",
        started_at=datetime.now(UTC),
        ended_at=datetime.now(UTC),
        segments=[TranscriptSegment(seq=0, speaker="agent", text=text, start_ms=0, end_ms=10)],
    )
    return result.model_dump_json().encode()


def livekit_body(room: str, event: str = "room_finished") -> bytes:
    return json.dumps({"event": event, "id": "EV_" + uuid.uuid4().hex[:12], "room": {"name": room}, "createdAt": int(time.time())}).encode()


# --------------------------------------------------------------------------- schemathesis


def _schema_with_webhook_bodies() -> dict:
    """The app's OpenAPI schema; the webhooks read the raw body, so their bodies are declared here for generation."""
    schema = create_api().openapi()
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["InterviewResultIn"] = InterviewResult.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in components["InterviewResultIn"].pop("$defs", {}).items():
        components.setdefault(name, sub)
    auth = {"name": "authorization", "in": "header", "required": False, "schema": {"type": "string"}}
    schema["paths"]["/webhooks/interview-ended"]["post"]["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InterviewResultIn"}}},
    }
    schema["paths"]["/webhooks/livekit"]["post"]["requestBody"] = {
        "required": True,
        "content": {"application/webhook+json": {"schema": {"type": "object", "properties": {"event": {"type": "string"}}}}},
    }
    for path in ("/webhooks/interview-ended", "/webhooks/livekit"):
        schema["paths"][path]["post"].setdefault("parameters", []).append(auth)
    return schema


def test_schemathesis_generated_requests_never_5xx_and_refusals_write_nothing(app, sqlite_url: str) -> None:
    import schemathesis
    from schemathesis import GenerationMode

    srv, _ = app
    loaded = schemathesis.openapi.from_dict(_schema_with_webhook_bodies())
    strategy = loaded.as_strategy(GenerationMode.POSITIVE) | loaded.as_strategy(GenerationMode.NEGATIVE)
    statuses: Counter[int] = Counter()
    by_operation: Counter[str] = Counter()
    failures: list[str] = []
    before = db_snapshot(sqlite_url)

    @settings(
        max_examples=SCHEMA_CASES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=strategy)
    def run(case) -> None:
        nonlocal before
        try:
            response = case.call(base_url=srv.url, timeout=10)
        except Exception as err:  # noqa: BLE001 - a transport error is a finding too
            failures.append(f"{case.method} {case.path}: {err.__class__.__name__}: {err}")
            return
        statuses[response.status_code] += 1
        by_operation[f"{case.method} {case.path}"] += 1
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}")
        after = db_snapshot(sqlite_url)
        if response.status_code >= 400 and after != before:
            changed = [t for t in after if after[t] != before.get(t)]
            failures.append(f"{case.method} {case.formatted_path} -> {response.status_code} changed {changed}")
        before = after

    run()
    total = sum(statuses.values())
    figure("R2 schemathesis cases", total)
    figure("R2 schemathesis statuses", dict(sorted(statuses.items())))
    figure("R2 schemathesis 5xx", sum(n for code, n in statuses.items() if code >= 500))
    assert not failures, "\n".join(failures[:20])
    assert total >= min(SCHEMA_CASES, 1000) * 0.9, f"only {total} cases ran: {dict(by_operation)}"
    assert len(by_operation) >= 6, dict(by_operation)


# --------------------------------------------------------------------------- hand-written attacks

OVERSIZED = b'{"x": "' + b"a" * 70_000 + b'"}'


def _attacks(tokens: dict[str, str]) -> list[tuple[str, str, bytes, dict[str, str], int]]:
    """(name, path, body, headers, expected status)."""
    good = result_body(tokens["running_id"])
    unknown = result_body(str(uuid.uuid4()))
    lk = livekit_body(tokens["running_room"])
    json_ct = {"content-type": "application/json"}
    lk_ct = {"content-type": "application/webhook+json"}
    tampered = good.replace(b"hello", b"HELLO")
    out: list[tuple[str, str, bytes, dict[str, str], int]] = []
    for path, body, ct in (("/webhooks/interview-ended", good, json_ct), ("/webhooks/livekit", lk, lk_ct)):
        short = path.rsplit("/", 1)[1]
        out += [
            (f"{short}: no signature", path, body, ct, 401),
            (f"{short}: forged (other secret)", path, body, ct | {"authorization": sign(body, secret="x" * 40)}, 401),
            (f"{short}: forged (other key)", path, body, ct | {"authorization": sign(body, key="APIother")}, 401),
            (f"{short}: garbage token", path, body, ct | {"authorization": "Bearer not.a.jwt"}, 401),
            (
                f"{short}: tampered after signing",
                path,
                body.replace(b"hello", b"HELLO") if body is good else body.replace(b"room_finished", b"room_started"),
                ct | {"authorization": sign(body)},
                401,
            ),
            (f"{short}: old delivery (expired signature)", path, body, ct | {"authorization": sign(body, ttl=timedelta(hours=-2))}, 401),
            (f"{short}: oversized body", path, OVERSIZED, ct | {"authorization": sign(OVERSIZED)}, 413),
        ]
    out += [
        (
            "interview-ended: wrong content type",
            "/webhooks/interview-ended",
            good,
            {"content-type": "text/plain", "authorization": sign(good)},
            415,
        ),
        ("interview-ended: malformed JSON", "/webhooks/interview-ended", b"{nope", json_ct | {"authorization": sign(b"{nope")}, 400),
        ("interview-ended: schema mismatch", "/webhooks/interview-ended", b'{"a": 1}', json_ct | {"authorization": sign(b'{"a": 1}')}, 422),
        ("interview-ended: unknown interview", "/webhooks/interview-ended", unknown, json_ct | {"authorization": sign(unknown)}, 404),
        (
            "interview-ended: tampered signature",
            "/webhooks/interview-ended",
            tampered,
            json_ct | {"authorization": sign(good)[:-3] + "AAA"},
            401,
        ),
        ("livekit: malformed JSON", "/webhooks/livekit", b"{nope", lk_ct | {"authorization": sign(b"{nope")}, 401),
    ]
    start = "/api/interview/start"
    for name, status in (("unknown", 404), ("expired", 410), ("revoked", 410), ("finished", 410), ("failed", 410)):
        raw = tokens.get(name, "unknownTokenValue123")
        out.append((f"start: {name} link", start, json.dumps({"invite_token": raw}).encode(), json_ct, status))
    out += [
        ("start: oversized body", start, json.dumps({"invite_token": "a" * 100_000}).encode(), json_ct, 422),
        ("start: malformed JSON", start, b'{"invite_token": ', json_ct, 422),
        ("start: wrong type", start, b'{"invite_token": ["x"]}', json_ct, 422),
        ("start: extra field", start, json.dumps({"invite_token": tokens["valid"], "room": "x"}).encode(), json_ct, 422),
        ("start: path traversal token", start, b'{"invite_token": "../../etc/passwd"}', json_ct, 422),
        ("start: form-encoded", start, b"invite_token=abc", {"content-type": "application/x-www-form-urlencoded"}, 422),
    ]
    return out


def test_attack_set_gets_documented_4xx_and_writes_nothing(app, sqlite_url: str) -> None:
    srv, tokens = app
    attacks = _attacks(tokens)
    wrong: list[str] = []
    with httpx.Client(base_url=srv.url, timeout=10) as client:
        for name, path, body, headers, expected in attacks:
            before = db_snapshot(sqlite_url)
            res = client.post(path, content=body, headers=headers)
            after = db_snapshot(sqlite_url)
            if res.status_code != expected:
                wrong.append(f"{name}: {res.status_code} (expected {expected}) {res.text[:160]}")
            if after != before:
                wrong.append(f"{name}: wrote to {[t for t in after if after[t] != before[t]]}")
            if res.status_code >= 400:
                detail = res.json()
                message = detail.get("detail")
                if not isinstance(message, str | list) or not message:
                    wrong.append(f"{name}: no explanation in {detail}")
    figure("R2 attack requests", len(attacks))
    figure("R2 attack requests answered as documented, nothing written", len(attacks) - len({w.rsplit(":", 1)[0] for w in wrong}))
    assert not wrong, "\n".join(wrong)


def test_replay_of_a_delivered_result_changes_nothing(app, sqlite_url: str) -> None:
    srv, tokens = app
    body = result_body(tokens["running_id"], text="the first delivery")
    lk = livekit_body(tokens["valid_room"], event="participant_joined")
    with httpx.Client(base_url=srv.url, timeout=10) as client:
        first = client.post(
            "/webhooks/interview-ended", content=body, headers={"content-type": "application/json", "authorization": sign(body)}
        )
        assert first.status_code == 200 and first.json()["status"] == "accepted", first.text
        lk_first = client.post(
            "/webhooks/livekit", content=lk, headers={"content-type": "application/webhook+json", "authorization": sign(lk)}
        )
        assert lk_first.status_code == 200, lk_first.text
        before = db_snapshot(sqlite_url)
        again = client.post(
            "/webhooks/interview-ended", content=body, headers={"content-type": "application/json", "authorization": sign(body)}
        )
        other = result_body(tokens["running_id"], text="a rewritten transcript")
        rewritten = client.post(
            "/webhooks/interview-ended", content=other, headers={"content-type": "application/json", "authorization": sign(other)}
        )
        lk_again = client.post(
            "/webhooks/livekit", content=lk, headers={"content-type": "application/webhook+json", "authorization": sign(lk)}
        )
        after = db_snapshot(sqlite_url)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert rewritten.status_code == 200 and rewritten.json()["status"] == "duplicate"
    assert lk_again.status_code == 200 and lk_again.json()["outcome"] == "duplicate"
    assert after == before


def test_livekit_webhook_without_content_length_is_capped(app, sqlite_url: str) -> None:
    """A chunked body (no Content-Length) larger than MAX_WEBHOOK_BYTES is refused (413), nothing written."""
    srv, _ = app

    def chunks():
        for _ in range(200):  # 200 x 64 KiB = 12.5 MiB, far over the 64 KiB limit
            yield b"a" * 65536

    before = db_snapshot(sqlite_url)
    with httpx.Client(base_url=srv.url, timeout=30) as client:
        for path in ("/webhooks/livekit", "/webhooks/interview-ended"):
            res = client.post(path, content=chunks(), headers={"content-type": "application/json", "authorization": "x"})
            assert res.status_code == 413, (path, res.status_code, res.text[:200])
    assert db_snapshot(sqlite_url) == before
