"""R6 — candidate text: one message must never take the server down, nor vanish.

A candidate with a link controls every character of what the chat sends. The text interview
page is driven through ``TextInterviewState``'s event handlers by Reflex's own event processor
in a child process (``text_page_process.py``) under a memory limit and a timeout — the bug this
guards against is a handler that never returns while allocating ~600 MB/s, which must fail the
test, not hang the suite. Each hostile message must be answered at once, the conversation and
the stored transcript must hold the (sanitised) text, and no candidate text may be sent back
as an event argument (which is what formatted it into a Reflex Var).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from interview_app.models import InterviewEvent, TranscriptSegment
from tests.conftest import migrate_to
from tests.factories import make_interview
from tests.reliability.conftest import ROOT, figure
from tests.reliability.text_page_process import FIRST_ANSWER, LONG_MESSAGE, SURROGATE_ANSWER, TAG_MESSAGE

CHILD_TIMEOUT = 60  # seconds for the whole conversation (about 10 s when healthy)
PROMPT = 2.0  # a refused message must be answered within this (it used to never be)
BUSY_SENTENCE = "The interviewer is still writing; send your message when the reply is complete."
SANITISED_SURROGATE_ANSWER = SURROGATE_ANSWER.replace("\ud800", "\ufffd")


class Run:
    def __init__(self, steps: dict[str, dict[str, Any]], interview_id: str, db_url: str, stderr: str, returncode: int | None) -> None:
        self.steps, self.interview_id, self.db_url, self.stderr, self.returncode = steps, interview_id, db_url, stderr, returncode

    def step(self, name: str) -> dict[str, Any]:
        if name not in self.steps:
            pytest.fail(f"the page stopped answering before step {name!r} (exit {self.returncode}):\n{self.stderr[-3000:]}")
        return self.steps[name]

    def candidate_lines(self, name: str) -> list[str]:
        return [m["text"] for m in self.step(name)["view"].get("ti_messages", []) if m["speaker"] == "candidate"]


def _child_env(db_url: str, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "OPENAI_", "REDIS_"))}
    env.update(DATABASE_URL=db_url, STORAGE_LOCAL_DIR=str(tmp / "storage"), LLM_PROVIDER="scripted", PYTHONPATH=str(ROOT))
    return env


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    tmp = tmp_path_factory.mktemp("r6")
    db_url = f"sqlite:///{tmp / 'r6.db'}"
    migrate_to(db_url)
    engine = sa.create_engine(db_url)
    with Session(engine, expire_on_commit=False) as session:
        interview, raw = make_interview(session)
    engine.dispose()
    cmd = [sys.executable, "-m", "tests.reliability.text_page_process", raw]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=_child_env(db_url, tmp), capture_output=True, text=True, timeout=CHILD_TIMEOUT)
        out, err, code = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:  # the child is killed: the steps it printed still count
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        err = (exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or "") + f"\n(killed after {CHILD_TIMEOUT} s)"
        code = None
    steps = {line["step"]: line for line in map(json.loads, filter(None, out.splitlines()))}
    yield Run(steps, str(interview.id), db_url, err, code)


def stored(run: Run, model: Any, speaker_field: str) -> list[str]:
    engine = sa.create_engine(run.db_url)
    try:
        with Session(engine) as session:
            if model is InterviewEvent:
                rows = session.exec(
                    select(InterviewEvent).where(InterviewEvent.kind == "text_message").order_by(InterviewEvent.id)  # type: ignore[arg-type]
                ).all()
                return [r.detail["text"] for r in rows if r.detail.get(speaker_field) == "candidate"]
            segs = session.exec(select(TranscriptSegment).order_by(TranscriptSegment.seq)).all()  # type: ignore[arg-type]
            return [s.text for s in segs if s.speaker == "candidate"]
    finally:
        engine.dispose()


def no_candidate_text_in_events(step: dict[str, Any]) -> None:
    """Candidate text must never come back as an event argument (that formats it into a Var)."""
    wire = json.dumps(step["events"])
    assert "reflex.Var" not in wire and "aaaaaaaaaa" not in wire, step["events"]


def test_the_page_opens(run: Run) -> None:
    view = run.step("open")["view"]
    assert view["ti_status"] == "active" and view["ti_messages"][0]["speaker"] == "agent"


def test_a_message_with_a_var_tag_is_sent_and_kept(run: Run) -> None:
    step = run.step("tag")
    assert not step["error"], step["error"]
    assert run.candidate_lines("tag") == [TAG_MESSAGE]
    assert step["view"]["ti_messages"][-1]["speaker"] == "agent"
    no_candidate_text_in_events(step)


def test_a_second_enter_while_the_interviewer_answers_is_refused_at_once(run: Run) -> None:
    step = run.step("double")
    figure("R6 second Enter while answering (var-tag text): refused after", f"{step['seconds']:.3f} s")
    assert not step["error"], step["error"]
    assert step["seconds"] < PROMPT
    assert step["view"]["ti_error"] == BUSY_SENTENCE
    assert step["view"]["ti_draft"] == TAG_MESSAGE  # back in the box, through state (JSON), not set_value
    no_candidate_text_in_events(step)
    answered = run.step("double-first-answered")["view"]
    assert run.candidate_lines("double-first-answered") == [TAG_MESSAGE, FIRST_ANSWER]
    assert answered["ti_messages"][-1]["speaker"] == "agent" and not answered["ti_sending"]


def test_a_message_over_the_cap_gets_a_sentence_at_once(run: Run) -> None:
    step = run.step("long")
    figure("R6 5000-character message with a var tag: refused after", f"{step['seconds']:.3f} s")
    assert not step["error"], step["error"]
    assert step["seconds"] < PROMPT
    assert "longer than 4000 characters" in step["view"]["ti_error"]
    assert step["view"]["ti_draft"] == LONG_MESSAGE
    assert run.candidate_lines("long") == [TAG_MESSAGE, FIRST_ANSWER]  # not sent
    no_candidate_text_in_events(step)


def test_a_lone_surrogate_answer_is_kept_replaced_and_shown(run: Run) -> None:
    step = run.step("surrogate")
    assert not step["error"], step["error"]
    assert run.candidate_lines("surrogate")[-1] == SANITISED_SURROGATE_ANSWER
    assert step["view"]["ti_messages"][-1]["speaker"] == "agent"


def test_the_stored_transcript_has_every_answer_sanitised(run: Run) -> None:
    assert run.step("end")["view"]["ti_status"] == "finished"
    expected = [TAG_MESSAGE, FIRST_ANSWER, SANITISED_SURROGATE_ANSWER]
    assert stored(run, InterviewEvent, "speaker") == expected  # text_message events, as each turn completes
    assert stored(run, TranscriptSegment, "speaker") == expected  # the result service's transcript
    figure("R6 hostile candidate messages (var tag, second Enter, 5000 chars, lone surrogate): server answered", "4/4")
