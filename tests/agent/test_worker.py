"""The worker process: exit codes supervisors can see, plan parsing, recording requests, providers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from livekit import api
from livekit.agents import llm
from livekit.agents.voice.events import ConversationItemAddedEvent

from agent.providers import build_llm, build_stt, build_tts, check_voice_settings, turn_handling
from agent.recording import egress_enabled, egress_request
from agent.scripted import ScriptedLLM
from agent.transcript import TranscriptCollector
from agent.worker import PlanError, parse_plan
from interview_app.contracts import InterviewPlan
from interview_app.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]
BASE = {"SECRET_KEY": "k" * 40}
PLAN = {
    "interview_id": str(uuid.uuid4()),
    "candidate_name": "Alan Turing",
    "role_title": "Engineer",
    "questions": [{"id": "q1", "text": "Why?"}],
}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def run_agent(args: list[str], env: dict[str, str], timeout: float = 90) -> tuple[int, str, float]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "OPENAI_", "STT_", "LLM_"))}
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "agent", *args], cwd=ROOT, env=clean | env, capture_output=True, text=True, timeout=timeout
    )
    return proc.returncode, proc.stderr, time.monotonic() - started


def test_worker_exits_non_zero_when_livekit_is_unreachable(tmp_path: Path) -> None:
    env = {
        "ENV_FILE": str(tmp_path / "none.env"),
        "SECRET_KEY": "k" * 40,
        "LIVEKIT_URL": f"ws://127.0.0.1:{closed_port()}",
        "LIVEKIT_API_KEY": "APIkey",
        "LIVEKIT_API_SECRET": "s" * 40,
        "OPENAI_API_KEY": "unused",
        "AGENT_CONNECT_RETRIES": "1",
        "AGENT_HTTP_PORT": "0",
        "AGENT_IDLE_PROCESSES": "1",
        "AGENT_OUTBOX_DIR": str(tmp_path / "outbox"),
    }
    code, stderr, elapsed = run_agent(["start"], env)
    assert code == 1, stderr[-3000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("agent: could not connect to LiveKit at ws://127.0.0.1:") and "LIVEKIT_URL" in last
    assert elapsed < 60


def test_worker_names_the_missing_setting_in_one_line(tmp_path: Path) -> None:
    env = {"ENV_FILE": str(tmp_path / "none.env"), "SECRET_KEY": "k" * 40, "AGENT_OUTBOX_DIR": str(tmp_path / "o")}
    code, stderr, _ = run_agent(["start"], env, timeout=60)
    assert code == 2
    assert stderr.strip().splitlines() == [stderr.strip()]  # one line, no traceback
    assert stderr.startswith("agent: LIVEKIT_URL is not set")

    env |= {"LIVEKIT_URL": "ws://127.0.0.1:7880", "LIVEKIT_API_KEY": "k", "LIVEKIT_API_SECRET": "s"}
    code, stderr, _ = run_agent(["start"], env, timeout=60)
    assert code == 2 and stderr.startswith("agent: OPENAI_API_KEY is not set")


# --- plan metadata ---------------------------------------------------------------------


def test_plan_from_dispatch_metadata_or_room_metadata() -> None:
    assert parse_plan(json.dumps(PLAN)).candidate_name == "Alan Turing"
    assert parse_plan("", json.dumps(PLAN)).questions[0].id == "q1"
    assert parse_plan(json.dumps({"plan": PLAN})).role_title == "Engineer"


@pytest.mark.parametrize(
    ("job", "room", "name", "reason", "recovers_id"),
    [
        ("", "", "interview-7d0c7b8e-0b7c-4a51-9d59-4d3bb6a2a0f1", "missing", True),
        ("{not json", "", "room-1", "not JSON", False),
        (json.dumps(PLAN | {"questions": []}), "", "", "malformed (questions)", True),
        (json.dumps({k: v for k, v in PLAN.items() if k != "candidate_name"}), "", "", "malformed (candidate_name)", True),
    ],
)
def test_unusable_plan_is_a_plan_error_with_the_reason(job: str, room: str, name: str, reason: str, recovers_id: bool) -> None:
    with pytest.raises(PlanError) as err:
        parse_plan(job, room, name)
    assert reason in err.value.reason
    assert (err.value.interview_id is not None) is recovers_id


# --- recording ------------------------------------------------------------------------


S3_ENV = BASE | {
    "STORAGE_BACKEND": "s3",
    "S3_BUCKET": "rec",
    "AWS_ACCESS_KEY_ID": "AK",
    "AWS_SECRET_ACCESS_KEY": "SK",
    "S3_ENDPOINT_URL": "http://127.0.0.1:9000",
}


def test_egress_request_audio_only_ogg_by_default() -> None:
    settings = load_settings(S3_ENV)
    assert egress_enabled(settings) and not egress_enabled(load_settings(BASE))
    request, uri = egress_request(settings, "interview-abc", "abc")
    assert uri == "s3://rec/interviews/abc/recording.ogg"
    assert request.room_name == "interview-abc" and request.audio_only
    [out] = request.file_outputs
    assert out.file_type == api.EncodedFileType.OGG and out.filepath == "interviews/abc/recording.ogg"
    assert out.s3.bucket == "rec" and out.s3.endpoint == "http://127.0.0.1:9000" and out.s3.force_path_style
    assert out.s3.access_key == "AK" and out.s3.secret == "SK"


def test_egress_request_mp4_with_video() -> None:
    request, uri = egress_request(load_settings(S3_ENV | {"RECORDING_FORMAT": "mp4"}), "r", "abc")
    assert uri.endswith("recording.mp4") and not request.audio_only
    assert request.file_outputs[0].file_type == api.EncodedFileType.MP4


# --- providers ----------------------------------------------------------------------------


def test_providers_from_settings() -> None:
    assert isinstance(build_llm(load_settings(BASE)), ScriptedLLM)
    openai_env = BASE | {
        "LLM_PROVIDER": "openai",
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": "http://127.0.0.1:11434/v1",
        "LLM_MODEL": "llama3",
    }
    s = load_settings(openai_env)
    model = build_llm(s)
    assert model.model == "llama3" and "127.0.0.1:11434" in str(model._client.base_url)  # type: ignore[attr-defined]
    assert build_stt(s).model == "gpt-4o-mini-transcribe"
    assert build_tts(s).model == "gpt-4o-mini-tts"
    dg = load_settings(BASE | {"STT_PROVIDER": "deepgram", "DEEPGRAM_API_KEY": "dg"})
    assert build_stt(dg, language="en-US").model == "nova-3"
    options = turn_handling(load_settings(BASE | {"ENDPOINTING_MIN_DELAY": "1.5", "ENDPOINTING_MAX_DELAY": "8"}))
    assert options["endpointing"] == {"min_delay": 1.5, "max_delay": 8.0}


def test_voice_settings_check_names_the_key() -> None:
    with pytest.raises(ConfigError, match="^LIVEKIT_URL"):
        check_voice_settings(load_settings(BASE))
    lk = BASE | {"LIVEKIT_URL": "ws://x:7880", "LIVEKIT_API_KEY": "k", "LIVEKIT_API_SECRET": "s"}
    with pytest.raises(ConfigError, match="^OPENAI_API_KEY"):
        check_voice_settings(load_settings(lk))


# --- latency ------------------------------------------------------------------------------


def test_turn_latency_from_message_metrics() -> None:
    plan = InterviewPlan.model_validate(PLAN)
    collector = TranscriptCollector(plan, wall_clock=lambda: 100.0)
    user = llm.ChatMessage(
        role="user", content=["I think so"], metrics={"started_speaking_at": 101.0, "stopped_speaking_at": 103.5, "end_of_turn_delay": 0.61}
    )
    reply = llm.ChatMessage(
        role="assistant",
        content=["Thank you."],
        metrics={
            "started_speaking_at": 104.4,
            "stopped_speaking_at": 105.0,
            "e2e_latency": 0.93,
            "llm_node_ttft": 0.2,
            "tts_node_ttfb": 0.12,
        },
    )
    for item in (user, reply):
        collector.on_conversation_item(ConversationItemAddedEvent(item=item))
    [turn] = collector.latency
    assert (turn.total_ms, turn.end_of_turn_ms, turn.llm_ttft_ms, turn.tts_ttfb_ms) == (930.0, 610.0, 200.0, 120.0)
    assert [(s.speaker, s.start_ms, s.end_ms) for s in collector.segments] == [("candidate", 1000, 3500), ("agent", 4400, 5000)]
    result = collector.build_result(outcome="completed", end_reason="done")
    assert result.latency[0].total_ms == 930.0


def test_unusable_dispatch_reports_a_failed_result_when_the_interview_is_known() -> None:
    from agent.worker import failed_plan_result

    interview_id = uuid.uuid4()
    with pytest.raises(PlanError) as err:
        parse_plan("{broken", "", f"interview-{interview_id}")
    result = failed_plan_result(err.value)
    assert result is not None and result.interview_id == interview_id and result.outcome == "failed"
    assert result.end_reason == "could not start: interview plan metadata is not JSON"
    with pytest.raises(PlanError) as err:
        parse_plan("", "", "some-room")
    assert failed_plan_result(err.value) is None


def test_deliver_outbox_command_reports_what_is_still_pending(tmp_path: Path) -> None:
    from agent.reporting import Outbox
    from interview_app.contracts import InterviewResult

    url = f"http://127.0.0.1:{closed_port()}/webhooks/interview-ended"
    outbox = Outbox(tmp_path / "outbox", url=url, api_key="APIkey", api_secret="s" * 40)
    interview_id = uuid.uuid4()
    outbox.put(InterviewResult(interview_id=interview_id, outcome="failed", end_reason="test"))
    env = {
        "ENV_FILE": str(tmp_path / "none.env"),
        "SECRET_KEY": "k" * 40,
        "LIVEKIT_URL": "ws://127.0.0.1:7880",
        "LIVEKIT_API_KEY": "APIkey",
        "LIVEKIT_API_SECRET": "s" * 40,
        "RESULT_WEBHOOK_URL": url,
        "AGENT_OUTBOX_DIR": str(tmp_path / "outbox"),
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "OPENAI_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "agent", "deliver-outbox"], cwd=ROOT, env=clean | env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {str(interview_id): "retry"}
    assert len(outbox.pending()) == 1


def test_max_interviews_sets_capacity_by_running_interviews() -> None:
    from types import SimpleNamespace

    from agent.worker import build_server

    server = build_server(load_settings(BASE | {"AGENT_MAX_INTERVIEWS": "2", "AGENT_HTTP_PORT": "0"}))
    load = server.load_fnc
    assert load is not None
    assert [load(SimpleNamespace(active_jobs=["j"] * n)) for n in (0, 1, 2, 3)] == [0.0, 0.5, 1.0, 1.0]
    default = build_server(load_settings(BASE | {"AGENT_HTTP_PORT": "0"}))
    assert default.load_fnc is not load  # CPU load decides unless the maximum is set


def test_progress_attributes_follow_the_interview() -> None:
    """What the candidate's page reads for "Question i of n · m:ss left" (published by publish_progress)."""
    from agent.progress import InterviewProgress
    from tests.agent.test_interviewer_text import make_plan

    now = [100.0]
    progress = InterviewProgress(make_plan(), clock=lambda: now[0])
    changes: list[dict[str, str]] = []
    progress.on_change(lambda: changes.append(progress.room_attributes(now_epoch=1_000_000.0)))
    n = str(len(progress.questions))
    assert progress.room_attributes(now_epoch=1_000_000.0)["interview.ends_at"] == "0"  # not started: no clock yet
    progress.start()
    first = changes[-1]
    assert first["interview.question"] == "1" and first["interview.questions"] == n and first["interview.ended"] == "0"
    assert int(first["interview.ends_at"]) == int((1_000_000.0 + progress.plan.duration_limit_seconds) * 1000)
    now[0] += 30
    progress.cover(progress.questions[0].question.id)
    assert changes[-1]["interview.question"] == "2"
    assert int(changes[-1]["interview.ends_at"]) == int((1_000_000.0 + progress.plan.duration_limit_seconds - 30) * 1000)
    for qp in progress.questions:
        progress.cover(qp.question.id)
    assert changes[-1]["interview.question"] == str(len(progress.questions) + 1)  # past the last question
    progress.finish("completed")
    assert changes[-1]["interview.ended"] == "1" and len(changes) == 1 + 1 + len(progress.questions) + 1  # start, cover, covers, end
