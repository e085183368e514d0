"""The text interview host on SQLite and PostgreSQL: start, resume, leases, end, idle, orphans.

The interviewer is the real Interviewer in a roomless AgentSession with the scripted LLM;
time is an injected clock, so inactivity and leases are tested without waiting.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from livekit.agents import llm
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS
from sqlmodel import Session, select

from agent.scripted import ScriptedLLM
from interview_app.models import Evaluation, Interview, InterviewEvent, TranscriptSegment
from interview_app.services import text_interviews as steps
from interview_app.text_host import ORPHAN_REASON, RESULT_SOURCE, TextInterviewError, TextInterviewHost
from tests.factories import make_interview
from tests.text.fake_openai import FakeOpenAI

ANSWERS = [
    "I built a billing service in Go.",
    "I designed the ledger tables.",
    "I look at latency percentiles first.",
    "Then the slow query log.",
    "Expand, migrate, contract.",
    "Restore the old column and switch back.",
]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(autouse=True)
def _storage(settings_env, tmp_path) -> None:
    settings_env(STORAGE_LOCAL_DIR=str(tmp_path / "storage"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def host(app_db, clock: Clock):
    h = TextInterviewHost(clock=clock, llm_factory=ScriptedLLM, lease_seconds=20, idle_seconds=600, single_process=True)
    yield h


def events(session: Session, interview_id: uuid.UUID, kind: str) -> list[InterviewEvent]:
    session.expire_all()
    return list(
        session.exec(
            select(InterviewEvent)
            .where(InterviewEvent.interview_id == interview_id, InterviewEvent.kind == kind)
            .order_by(InterviewEvent.id)
        ).all()
    )


def fresh(session: Session, interview_id: uuid.UUID) -> Interview:
    session.expire_all()
    interview = session.get(Interview, interview_id)
    assert interview is not None
    return interview


async def test_whole_interview_goes_through_the_result_service(host: TextInterviewHost, session: Session) -> None:
    interview, raw = make_interview(session)
    snap = await host.open(raw, "tab-a")
    assert snap.question_number == 1 and snap.question_count == 3 and not snap.thinking
    assert snap.messages[0].speaker == "agent" and "Tell me about a backend system" in snap.messages[0].text
    row = fresh(session, interview.id)
    assert row.status == "in_progress" and row.mode == "text" and row.started_at is not None
    assert events(session, interview.id, "text_interview_started")

    for i, answer in enumerate(ANSWERS):
        snap = await host.send(snap.interview_id, "tab-a", answer)
        assert (snap.messages[-2].speaker, snap.messages[-2].text) == ("candidate", answer)
        assert snap.messages[-1].speaker == "agent" and not snap.thinking
        if i == 1:
            assert snap.question_number == 2 and snap.questions_covered == 1
    assert snap.finished and snap.end_reason == "all questions covered"
    assert "Goodbye" in snap.messages[-1].text

    row = fresh(session, interview.id)
    assert row.status == "processing" and row.mode == "text" and row.s3_transcript_url
    segments = session.exec(
        select(TranscriptSegment).where(TranscriptSegment.interview_id == interview.id).order_by(TranscriptSegment.seq)
    ).all()
    assert [s.text for s in segments if s.speaker == "candidate"] == ANSWERS
    assert segments[0].speaker == "agent" and len(segments) == len(snap.messages)
    assert session.exec(select(Evaluation).where(Evaluation.interview_id == interview.id)).first() is not None
    received = events(session, interview.id, "result_received")
    assert received and received[0].detail["source"] == RESULT_SOURCE
    assert len(events(session, interview.id, "text_message")) == len(segments)

    with pytest.raises(TextInterviewError) as err:  # the link is now finished
        await host.open(raw, "tab-a")
    assert err.value.reason == "finished"


async def test_reload_resumes_and_a_second_tab_is_refused_until_the_lease_lapses(
    host: TextInterviewHost, session: Session, clock: Clock
) -> None:
    _, raw = make_interview(session)
    first = await host.open(raw, "tab-a")
    await host.send(first.interview_id, "tab-a", ANSWERS[0])

    again = await host.open(raw, "tab-a")  # the same tab reloads
    assert [m.text for m in again.messages] == [m.text for m in host.snapshot(first.interview_id).messages]
    assert len(again.messages) == 3

    with pytest.raises(TextInterviewError) as err:
        await host.open(raw, "tab-b")
    assert err.value.reason == "open_elsewhere" and "another browser tab" in err.value.message
    with pytest.raises(TextInterviewError):
        await host.send(first.interview_id, "tab-b", "hijack")

    clock.advance(seconds=10)
    assert host.renew(first.interview_id, "tab-a")  # tab A is still connected
    clock.advance(seconds=15)
    with pytest.raises(TextInterviewError):
        await host.open(raw, "tab-b")

    clock.advance(seconds=30)  # tab A vanished longer than the lease
    taken = await host.open(raw, "tab-b")
    assert len(taken.messages) == 3
    assert not host.renew(first.interview_id, "tab-a")
    with pytest.raises(TextInterviewError) as err:
        await host.send(first.interview_id, "tab-a", "still here?")
    assert err.value.reason == "open_elsewhere"
    snap = await host.send(first.interview_id, "tab-b", ANSWERS[1])
    assert snap.question_number == 2


async def test_inactivity_reminds_then_ends_politely(host: TextInterviewHost, session: Session, clock: Clock) -> None:
    interview, raw = make_interview(session)
    snap = await host.open(raw, "tab-a")
    await host.sweep()
    assert len(host.snapshot(snap.interview_id).messages) == 1  # not idle yet

    clock.advance(seconds=601)
    await host.sweep()
    snap = host.snapshot(snap.interview_id)
    assert "are you still there" in snap.messages[-1].text and not snap.finished
    assert fresh(session, interview.id).status == "in_progress"

    clock.advance(seconds=601)
    await host.sweep()
    snap = host.snapshot(snap.interview_id)
    assert snap.finished and snap.end_reason == "candidate idle"
    assert "stepped away" in snap.messages[-1].text
    row = fresh(session, interview.id)
    assert row.status == "processing" and row.end_reason == "candidate idle"
    assert len(events(session, interview.id, "text_candidate_idle")) == 2


async def test_activity_resets_the_idle_timer(host: TextInterviewHost, session: Session, clock: Clock) -> None:
    _, raw = make_interview(session)
    snap = await host.open(raw, "tab-a")
    clock.advance(seconds=500)
    await host.send(snap.interview_id, "tab-a", ANSWERS[0])
    clock.advance(seconds=500)
    await host.sweep()
    assert "still there" not in host.snapshot(snap.interview_id).messages[-1].text


async def test_end_button_ends_with_the_transcript_so_far(host: TextInterviewHost, session: Session) -> None:
    interview, raw = make_interview(session)
    snap = await host.open(raw, "tab-a")
    await host.send(snap.interview_id, "tab-a", ANSWERS[0])
    with pytest.raises(TextInterviewError):
        await host.end(snap.interview_id, "tab-b")
    snap = await host.end(snap.interview_id, "tab-a")
    assert snap.finished and snap.end_reason == "ended by the candidate"
    row = fresh(session, interview.id)
    assert row.status == "processing" and row.end_reason == "ended by the candidate"
    texts = [s.text for s in session.exec(select(TranscriptSegment).where(TranscriptSegment.interview_id == interview.id)).all()]
    assert ANSWERS[0] in texts and len(texts) == 3


async def test_bad_input_is_refused_with_a_sentence(host: TextInterviewHost, session: Session) -> None:
    _, raw = make_interview(session)
    with pytest.raises(TextInterviewError) as err:
        await host.open("not-a-real-token", "tab-a")
    assert err.value.reason == "unknown"
    snap = await host.open(raw, "tab-a")
    for text, reason in (("   ", "empty"), ("x" * 5000, "too_long")):
        with pytest.raises(TextInterviewError) as err:
            await host.send(snap.interview_id, "tab-a", text)
        assert err.value.reason == reason and err.value.message.endswith(".")


async def test_an_interview_nobody_resumes_is_ended_as_orphaned_after_the_bound(
    app_db,
    session: Session,
    clock: Clock,
) -> None:
    interview, raw = make_interview(session)
    before = TextInterviewHost(clock=clock, llm_factory=ScriptedLLM, single_process=True)
    snap = await before.open(raw, "tab-a")
    await before.send(snap.interview_id, "tab-a", ANSWERS[0])
    await before.aclose()  # the process stops; nothing ended the interview
    assert fresh(session, interview.id).status == "in_progress"

    after = TextInterviewHost(clock=clock, llm_factory=ScriptedLLM, single_process=True, orphan_after_seconds=3600)
    clock.advance(minutes=5)  # long past the process lease: resumable, so not an orphan
    assert str(interview.id) not in await after.recover_orphans()
    assert fresh(session, interview.id).status == "in_progress"
    clock.advance(minutes=56)  # nobody came back for over an hour
    assert str(interview.id) in await after.recover_orphans()  # (PostgreSQL is shared by the run)
    row = fresh(session, interview.id)
    assert row.status == "failed" and row.end_reason == ORPHAN_REASON
    segments = session.exec(
        select(TranscriptSegment).where(TranscriptSegment.interview_id == interview.id).order_by(TranscriptSegment.seq)
    ).all()
    assert [s.speaker for s in segments] == ["agent", "candidate", "agent"] and segments[1].text == ANSWERS[0]
    with pytest.raises(TextInterviewError) as err:
        await after.open(raw, "tab-a")
    assert err.value.reason == "failed"


def two_hosts(clock: Clock, **kwargs: float) -> tuple[TextInterviewHost, TextInterviewHost]:
    """Two app processes sharing the database (lease 30 s, as by default)."""
    return tuple(  # type: ignore[return-value]
        TextInterviewHost(clock=clock, llm_factory=ScriptedLLM, single_process=False, process_lease_seconds=30, **kwargs) for _ in range(2)
    )


def conversation(session: Session, interview_id: uuid.UUID) -> list[tuple[str, str]]:
    session.expire_all()
    rows = session.exec(
        select(TranscriptSegment).where(TranscriptSegment.interview_id == interview_id).order_by(TranscriptSegment.seq)
    ).all()
    # The factory's names carry a random suffix ("Casey 72828c"): the same for every interview here.
    return [(s.speaker, re.sub(r"\b[0-9a-f]{6}\b", "xxxxxx", s.text)) for s in rows]


async def test_a_killed_process_costs_a_pause_not_the_interview(app_db, session: Session, clock: Clock) -> None:
    # The same interview without any interruption, for comparison.
    reference, raw_ref = make_interview(session)
    alone = TextInterviewHost(clock=clock, llm_factory=ScriptedLLM)
    snap = await alone.open(raw_ref, "tab-r")
    for answer in ANSWERS:
        snap = await alone.send(snap.interview_id, "tab-r", answer)
    assert snap.finished
    expected = conversation(session, reference.id)

    interview, raw = make_interview(session)
    a, b = two_hosts(clock)
    snap = await a.open(raw, "tab-a")
    snap = await a.send(snap.interview_id, "tab-a", ANSWERS[0])
    before, left_at_a = snap.messages, snap.seconds_left
    clock.advance(seconds=10)
    await a.sweep()  # alive: renews its lease
    with pytest.raises(TextInterviewError) as err:  # the candidate's event lands on B meanwhile
        await b.send(snap.interview_id, "tab-a", ANSWERS[1])
    assert err.value.reason == "one_moment"
    assert fresh(session, interview.id).status == "in_progress"

    # A dies (dropped without ending): nothing renews its lease any more.
    clock.advance(seconds=31)
    snap = await b.send(snap.interview_id, "tab-a", ANSWERS[1])
    assert [(m.speaker, m.text) for m in snap.messages[: len(before)]] == [(m.speaker, m.text) for m in before]
    assert (snap.messages[-2].speaker, snap.messages[-2].text) == ("candidate", ANSWERS[1])
    assert snap.question_number == 2 and snap.questions_covered == 1 and snap.question_count == 3
    # The time budget runs on from the interview's start (started_at in the database + the plan's duration).
    started = fresh(session, interview.id).started_at
    assert started is not None
    elapsed = (clock() - started.replace(tzinfo=UTC)).total_seconds()
    assert left_at_a == 1200 and abs(snap.seconds_left - (left_at_a - elapsed)) <= 1
    assert events(session, interview.id, "text_interview_resumed")
    for answer in ANSWERS[2:]:
        snap = await b.send(snap.interview_id, "tab-a", answer)
    assert snap.finished and snap.end_reason == "all questions covered"

    got = conversation(session, interview.id)
    assert got == expected  # every message exactly once, in order; the interviewer went on from where A was
    assert len(events(session, interview.id, "text_message")) == len(got)
    row = fresh(session, interview.id)
    assert row.status == "processing" and row.s3_transcript_url
    assert session.exec(select(Evaluation).where(Evaluation.interview_id == interview.id)).first() is not None
    assert events(session, interview.id, "result_received")[0].detail["source"] == RESULT_SOURCE
    for h in (alone, a, b):
        await h.aclose()


async def test_a_reload_on_another_process_resumes_after_the_lease(app_db, session: Session, clock: Clock) -> None:
    interview, raw = make_interview(session)
    a, b = two_hosts(clock)
    first = await a.open(raw, "tab-a")
    first = await a.send(first.interview_id, "tab-a", ANSWERS[0])
    assert str(interview.id) not in await b.recover_orphans()
    with pytest.raises(TextInterviewError) as err:  # a live lease elsewhere: one moment, not a failure
        await b.open(raw, "tab-a")
    assert err.value.reason == "one_moment" and "One moment" in err.value.message
    clock.advance(seconds=20)
    await a.sweep()
    clock.advance(seconds=20)  # 40 s since the start, but A renewed 20 s ago
    with pytest.raises(TextInterviewError) as err:
        await b.open(raw, "tab-a")
    assert err.value.reason == "one_moment"
    clock.advance(seconds=15)
    snap = await b.open(raw, "tab-a")  # A stopped renewing 35 s ago
    assert [(m.speaker, m.text) for m in snap.messages] == [(m.speaker, m.text) for m in first.messages]
    assert snap.question_number == 1 and not snap.thinking and not snap.finished
    assert fresh(session, interview.id).status == "in_progress"
    snap = await b.send(snap.interview_id, "tab-a", ANSWERS[1])
    assert snap.question_number == 2
    await b.end(snap.interview_id, "tab-a")
    assert conversation_events(session, interview.id)[: len(snap.messages)] == [(m.speaker, m.text) for m in snap.messages]
    assert fresh(session, interview.id).status == "processing"
    for h in (a, b):
        await h.aclose()


async def test_two_processes_racing_for_an_expired_lease_exactly_one_wins(app_db, session: Session, clock: Clock) -> None:
    interview, raw = make_interview(session)
    a, b = two_hosts(clock)
    c = TextInterviewHost(clock=clock, llm_factory=ScriptedLLM, process_lease_seconds=30)
    snap = await a.open(raw, "tab-a")
    snap = await a.send(snap.interview_id, "tab-a", ANSWERS[0])
    clock.advance(seconds=31)
    outcomes = await asyncio.gather(
        b.send(snap.interview_id, "tab-a", ANSWERS[1]), c.send(snap.interview_id, "tab-a", ANSWERS[1]), return_exceptions=True
    )
    won = [o for o in outcomes if not isinstance(o, BaseException)]
    lost = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0], TextInterviewError) and lost[0].reason == "one_moment"
    assert sum(str(interview.id) in h.sessions for h in (b, c)) == 1
    texts = [t for s, t in conversation_events(session, interview.id) if s == "candidate"]
    assert texts == ANSWERS[:2]  # the answer was taken once

    # The database step itself, from two threads at once: one UPDATE matches, the other does not.
    clock.advance(seconds=31)
    now = clock()
    results = await asyncio.gather(
        *(
            asyncio.to_thread(steps.take_over, str(interview.id), now, expired_before=now - timedelta(seconds=30), org_name="Acme")
            for _ in range(2)
        )
    )
    assert sum(r is not None for r in results) == 1
    for h in (a, b, c):
        await h.aclose()


async def test_a_stalled_process_that_lost_its_lease_writes_nothing_beside_the_new_owner(app_db, session: Session, clock: Clock) -> None:
    """The lease is fenced by ``Interview.text_host``: a process that stalled past its lease (no
    sweep renewed it) and wakes after another took the interview over stores nothing more — not
    the answer that reached it, not a touch — and drops its session; the new owner goes on."""
    first, raw_first = make_interview(session)
    second, raw_second = make_interview(session)
    a, b = two_hosts(clock)
    one = await a.open(raw_first, "tab-1")
    one = await a.send(one.interview_id, "tab-1", ANSWERS[0])
    two = await a.open(raw_second, "tab-2")
    assert fresh(session, first.id).text_host == a.host_id == fresh(session, second.id).text_host

    clock.advance(seconds=31)  # A stalls past its lease; the candidates' next events land on B
    one = await b.send(one.interview_id, "tab-1", ANSWERS[1])
    two = await b.send(two.interview_id, "tab-2", ANSWERS[0])
    assert fresh(session, first.id).text_host == b.host_id == fresh(session, second.id).text_host

    # A wakes. An answer that reaches it is refused ("one moment": the page tries again) and not stored.
    with pytest.raises(TextInterviewError) as err:
        await a.send(one.interview_id, "tab-1", "an answer A must not store")
    assert err.value.reason == "one_moment"
    assert one.interview_id not in a.sessions
    # Its sweep finds the other interview taken over too: dropped, and the lease stays B's.
    await a.sweep()
    assert two.interview_id not in a.sessions and not a.sessions
    assert fresh(session, second.id).text_host == b.host_id

    for answer in ANSWERS[2:]:
        one = await b.send(one.interview_id, "tab-1", answer)
    assert one.finished
    assert [t for s, t in conversation_events(session, first.id) if s == "candidate"] == ANSWERS  # each once, none of A's
    assert [t for s, t in conversation_events(session, second.id) if s == "candidate"] == ANSWERS[:1]
    assert fresh(session, first.id).status == "processing"
    for h in (a, b):
        await h.aclose()


def conversation_events(session: Session, interview_id: uuid.UUID) -> list[tuple[str, str]]:
    return [(e.detail["speaker"], e.detail["text"]) for e in events(session, interview_id, "text_message")]


async def test_voice_interview_is_not_taken_over(host: TextInterviewHost, session: Session, settings_env) -> None:
    interview, raw = make_interview(session)
    row = fresh(session, interview.id)
    row.status = "in_progress"  # a voice interview already running (set directly: test setup)
    session.add(row)
    session.commit()
    with pytest.raises(TextInterviewError) as err:
        await host.open(raw, "tab-a")
    assert err.value.reason == "voice_running"


class SlowLLM(llm.LLM):
    """The scripted interviewer, but its words arrive 20 ms apart (like a remote model)."""

    def __init__(self) -> None:
        super().__init__()
        self._inner = ScriptedLLM()

    @property
    def model(self) -> str:
        return "slow-scripted"

    def chat(self, *, chat_ctx, tools=None, conn_options=DEFAULT_API_CONNECT_OPTIONS, **_: object) -> llm.LLMStream:
        return _SlowStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class _SlowStream(llm.LLMStream):
    async def _run(self) -> None:
        async with self._llm._inner.chat(chat_ctx=self._chat_ctx, tools=self._tools) as inner:  # type: ignore[attr-defined]
            async for chunk in inner:
                await asyncio.sleep(0.02)
                self._event_ch.send_nowait(chunk)


async def test_the_reply_streams_into_the_snapshot_while_it_is_generated(app_db, session: Session, clock: Clock) -> None:
    _, raw = make_interview(session)
    host = TextInterviewHost(clock=clock, llm_factory=SlowLLM, single_process=True)
    snap = await host.open(raw, "tab-a")
    send = asyncio.create_task(host.send(snap.interview_id, "tab-a", ANSWERS[0]))
    seen: list[str] = []
    thinking_without_text = False
    while not send.done():
        now = host.snapshot(snap.interview_id)
        if now.thinking and now.messages[-1].speaker == "candidate":
            thinking_without_text = True  # the typing indicator phase, the answer already shown
        if now.messages[-1].streaming:
            seen.append(now.messages[-1].text)
        await asyncio.sleep(0.01)
    final = (await send).messages[-1].text
    assert thinking_without_text
    assert len(set(seen)) >= 3, seen  # several growing partial texts, not one jump
    assert all(final.startswith(p) for p in seen)
    assert not host.snapshot(snap.interview_id).messages[-1].streaming
    await host.aclose()


async def test_a_waiting_page_is_woken_by_each_change_not_by_a_timer(app_db, session: Session, clock: Clock) -> None:
    _, raw = make_interview(session)
    host = TextInterviewHost(clock=clock, llm_factory=SlowLLM, single_process=True)
    snap = await host.open(raw, "tab-a")
    iid, seen = snap.interview_id, snap.version
    loop = asyncio.get_running_loop()
    started = loop.time()
    await host.wait_for_change(iid, seen, timeout=0.05)  # nothing happens: the wait ends at its timeout
    assert loop.time() - started >= 0.04 and host.snapshot(iid).version == seen

    send = asyncio.create_task(host.send(iid, "tab-a", ANSWERS[0]))
    partials: list[str] = []
    started = loop.time()
    while not send.done():  # the page's mirror, without its once-a-second clock
        wait = asyncio.create_task(host.wait_for_change(iid, seen, timeout=30))
        await asyncio.wait([wait, send], return_when=asyncio.FIRST_COMPLETED)
        now = host.snapshot(iid)
        if wait.done():
            assert now.version != seen  # woken by a change, never by the 30 s timeout
        else:
            wait.cancel()
        seen = now.version
        if now.messages[-1].streaming:
            partials.append(now.messages[-1].text)
    final = (await send).messages[-1].text
    assert loop.time() - started < 10
    assert len(set(partials)) >= 3, partials  # the reply seen growing, word by word
    assert all(final.startswith(p) for p in partials)
    await host.aclose()


async def test_with_an_openai_compatible_llm_the_same_interviewer_streams_its_reply(
    app_db,
    session: Session,
    clock: Clock,
    settings_env,
) -> None:
    fake = FakeOpenAI().start()
    try:
        settings_env(LLM_PROVIDER="openai", OPENAI_API_KEY="test-key", OPENAI_BASE_URL=fake.base_url, LLM_MODEL="fake-model")
        interview, raw = make_interview(session)
        host = TextInterviewHost(clock=clock, single_process=True)  # the LLM from settings (build_llm)
        snap = await host.open(raw, "tab-a")
        assert snap.messages[0].text.startswith("Hello, welcome to the interview.")
        send = asyncio.create_task(host.send(snap.interview_id, "tab-a", "a billing service"))
        partials = set()
        while not send.done():
            last = host.snapshot(snap.interview_id).messages[-1]
            if last.streaming:
                partials.add(last.text)
            await asyncio.sleep(0.01)
        final = (await send).messages[-1].text
        assert final == "Thank you for telling me about a billing service. What was your own part in it?"
        assert len(partials) >= 3 and all(final.startswith(p) for p in partials)

        # The model got the Interviewer's instructions, its state note and tools, as in the voice worker.
        request = fake.requests[-1]
        assert request["model"] == "fake-model" and request["stream"] is True
        system = " ".join(str(m.get("content")) for m in request["messages"] if m["role"] in ("system", "developer"))
        assert "INTERVIEW STATE" in system and interview_question(interview, session) in system
        assert {t["function"]["name"] for t in request["tools"]} >= {"mark_question_covered", "end_interview"}

        snap = await host.end(snap.interview_id, "tab-a")
        assert snap.finished and fresh(session, interview.id).status == "processing"
    finally:
        fake.stop()


def interview_question(interview: Interview, session: Session) -> str:
    from interview_app.models import InterviewTemplate

    return session.get(InterviewTemplate, interview.template_id).questions[0]["text"]


async def test_at_the_time_limit_the_interviewer_closes_and_the_sweeper_ends_it(app_db, session: Session, clock: Clock) -> None:
    interview, raw = make_interview(session)  # the template allows 20 minutes
    host = TextInterviewHost(clock=clock, llm_factory=ScriptedLLM, single_process=True, deadline_poll_seconds=0.05)
    snap = await host.open(raw, "tab-a")
    await host.send(snap.interview_id, "tab-a", ANSWERS[0])
    clock.advance(minutes=10)
    assert host.snapshot(snap.interview_id).seconds_left == 600
    clock.advance(minutes=10, seconds=1)
    for _ in range(100):  # the interviewer's deadline watch notices and says goodbye by itself
        if host.sessions[snap.interview_id].interview.finished:
            break
        await asyncio.sleep(0.05)
    await host.sweep()
    snap = host.snapshot(snap.interview_id)
    assert snap.finished and snap.end_reason == "time limit reached" and snap.seconds_left == 0
    assert "reached the end of our time" in snap.messages[-1].text
    row = fresh(session, interview.id)
    assert row.status == "processing" and row.end_reason == "time limit reached"


async def test_a_process_killed_mid_answer_the_next_one_answers_the_message(app_db, session: Session, clock: Clock) -> None:
    interview, raw = make_interview(session)
    a, b = (TextInterviewHost(clock=clock, llm_factory=SlowLLM, process_lease_seconds=30) for _ in range(2))
    snap = await a.open(raw, "tab-a")
    snap = await a.send(snap.interview_id, "tab-a", ANSWERS[0])
    in_flight = asyncio.create_task(a.send(snap.interview_id, "tab-a", ANSWERS[1]))
    for _ in range(250):  # the candidate's message is stored before the interviewer replies
        if ("candidate", ANSWERS[1]) in conversation_events(session, interview.id):
            break
        await asyncio.sleep(0.02)
    assert conversation_events(session, interview.id)[-1] == ("candidate", ANSWERS[1])
    in_flight.cancel()  # A dies mid-answer: the reply is never stored
    await a.aclose()
    with pytest.raises(asyncio.CancelledError):
        await in_flight

    clock.advance(seconds=31)
    snap = await b.open(raw, "tab-a")  # the page reloads through B
    assert (snap.messages[-2].speaker, snap.messages[-2].text) == ("candidate", ANSWERS[1])
    assert snap.messages[-1].speaker == "agent" and not snap.thinking and snap.question_number == 2
    for answer in ANSWERS[2:]:
        snap = await b.send(snap.interview_id, "tab-a", answer)
    assert snap.finished
    stored = conversation_events(session, interview.id)
    assert [t for s, t in stored if s == "candidate"] == ANSWERS
    assert [(s, t) for s, t in stored] == [(m.speaker, m.text) for m in snap.messages]
    assert fresh(session, interview.id).status == "processing"
    await b.aclose()
