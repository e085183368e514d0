"""The LiveKit Agents worker: explicit dispatch by ``AGENT_NAME``, one Interviewer per room.

Job lifecycle: read the InterviewPlan from the dispatch (or room) metadata → wait
for the candidate → start the recording → run the Interviewer until it ends (all
questions covered, candidate asked or left, idle, time limit) → stop the recording
→ write the transcript to storage → put the InterviewResult in the outbox and
deliver it. A plan that cannot be read ends the job politely with a failed
result; no exception leaves the entrypoint (no crash loop on a bad dispatch).
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from livekit import rtc
from livekit.agents import Agent, AgentServer, AgentSession, JobContext, JobProcess, cli
from livekit.agents.voice import room_io
from pydantic import ValidationError

import agent
from agent.interviewer import PLAN_ERROR_MESSAGE, Interviewer
from agent.progress import InterviewProgress
from agent.providers import build_llm, build_stt, build_tts, build_turn_detector, build_vad, check_voice_settings, turn_handling
from agent.recording import Recording, session_record_options, start_recording, stop_recording, store_agent_recording
from agent.reporting import Outbox, report_result
from agent.transcript import TranscriptCollector
from interview_app.contracts import InterviewPlan, InterviewResult
from interview_app.services.storage import StorageError, storage_from_settings, transcript_key
from interview_app.settings import ConfigError, Settings, get_settings

logger = logging.getLogger("agent.worker")

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


class PlanError(Exception):
    """The dispatch carries no usable InterviewPlan; ``interview_id`` is set when it could be recovered."""

    def __init__(self, reason: str, interview_id: uuid.UUID | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.interview_id = interview_id


def parse_plan(job_metadata: str, room_metadata: str = "", room_name: str = "") -> InterviewPlan:
    """The plan from dispatch metadata (preferred) or room metadata.

    Raises:
        PlanError: missing, not JSON, or not an InterviewPlan (with the interview id if recoverable).
    """
    raw = (job_metadata or "").strip() or (room_metadata or "").strip()
    recovered: uuid.UUID | None = None
    match = _UUID.search(raw) or _UUID.search(room_name)
    if match:
        recovered = uuid.UUID(match.group(0))
    if not raw:
        raise PlanError("interview plan missing from the dispatch and room metadata", recovered)
    try:
        data = json.loads(raw)
    except ValueError:
        raise PlanError("interview plan metadata is not JSON", recovered) from None
    if isinstance(data, dict) and "plan" in data and isinstance(data["plan"], dict):
        data = data["plan"]
    try:
        return InterviewPlan.model_validate(data)
    except ValidationError as err:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "plan" for e in err.errors()[:5])
        raise PlanError(f"interview plan metadata is malformed ({fields})", recovered) from None


class CandidateAbsent(Exception):
    """The candidate never joined the room."""


class InterviewerServer(AgentServer):
    """AgentServer that remembers why it stopped, so ``main`` can exit non-zero (upstream exits 0)."""

    failure: BaseException | None = None

    async def run(self, *, devmode: bool = False, unregistered: bool = False) -> None:
        try:
            await super().run(devmode=devmode, unregistered=unregistered)
        except Exception as err:
            self.failure = err
            raise

    @property
    def connection_failed(self) -> bool:
        return self.failure is not None or bool(getattr(self, "_connection_failed", False))


def prewarm(proc: JobProcess) -> None:
    """Load Silero VAD once per job process, before any job arrives, then freeze the heap.

    What is loaded by now (imports, the VAD model) lives as long as the process: ``gc.freeze()``
    moves it out of the collector's sight, so a full collection during the interview scans only
    the interview's own objects — measured (bench P4): a full collection's pause went from
    181 ms to under 20 ms, a stall the candidate would hear as a late answer.
    """
    proc.userdata["vad"] = build_vad()
    # the provider plugins import ~1.5 s of modules: here, not in the first interview's event loop
    import livekit.plugins.openai  # noqa: F401

    gc.collect()
    gc.freeze()


def _store_transcript(collector: TranscriptCollector, settings: Settings) -> str | None:
    try:
        data = json.dumps(collector.transcript_document(), ensure_ascii=False, indent=1).encode("utf-8")
        return storage_from_settings(settings).put(transcript_key(str(collector.plan.interview_id)), data, "application/json")
    except (StorageError, OSError) as err:
        logger.error("transcript of %s not written (the app will write it from the result): %s", collector.plan.interview_id, err)
        return None


async def _deliver(result: InterviewResult) -> None:
    attempt = await asyncio.to_thread(report_result, result)
    logger.info("result of %s: %s %s", result.interview_id, attempt.status, attempt.detail)


async def _fail_plan(ctx: JobContext, err: PlanError) -> None:
    """Tell the candidate, leave, and report a failed result (when we know which interview)."""
    logger.error("dispatch to %s refused: %s", ctx.room.name, err.reason)
    try:
        participant = await asyncio.wait_for(ctx.wait_for_participant(), timeout=30)
        session: AgentSession = AgentSession(tts=build_tts())
        await session.start(agent=_Apology(), room=ctx.room, room_options=room_io.RoomOptions(participant_identity=participant.identity))
        await asyncio.wait_for(session.say(PLAN_ERROR_MESSAGE, allow_interruptions=False).wait_for_playout(), timeout=30)
        await session.aclose()
    except Exception as speak_err:  # noqa: BLE001 - telling the candidate is best effort
        logger.warning("could not tell the candidate about the failed start: %s", speak_err)
    result = failed_plan_result(err)
    if result is not None:
        await _deliver(result)
    await close_room(ctx)
    ctx.shutdown(reason=err.reason)


def failed_plan_result(err: PlanError) -> InterviewResult | None:
    """The failed result for an unusable dispatch (None when no interview id could be recovered)."""
    if err.interview_id is None:
        logger.error("no interview id in the unusable dispatch; nothing can be reported (%s)", err.reason)
        return None
    now = datetime.now(UTC)
    return InterviewResult(
        interview_id=err.interview_id,
        outcome="failed",
        end_reason=f"could not start: {err.reason}"[:500],
        mode="voice",
        started_at=now,
        ended_at=now,
        agent_version=agent.__version__,
    )


class _Apology(Agent):
    def __init__(self) -> None:
        super().__init__(instructions="Say only what you are asked to say.")


async def interview_session(ctx: JobContext) -> None:
    """Entrypoint of one dispatched interview (never raises)."""
    settings = get_settings()
    try:
        await ctx.connect()
    except Exception as err:
        logger.exception("could not join room %s", ctx.room.name)
        try:
            early = parse_plan(ctx.job.metadata)
        except PlanError:
            return
        await _deliver(
            InterviewResult(
                interview_id=early.interview_id, outcome="failed", end_reason=f"the interviewer could not join the room: {err}"[:500]
            )
        )
        return
    try:
        plan = parse_plan(ctx.job.metadata, ctx.room.metadata, ctx.room.name)
    except PlanError as err:
        await _fail_plan(ctx, err)
        return

    interviewer = Interviewer(plan)
    collector = TranscriptCollector(plan, progress=interviewer.progress, mode="voice")
    recording: Recording | None = None
    session: AgentSession | None = None
    outcome: Literal["completed", "failed"] = "completed"
    reason = ""
    try:
        vad = ctx.proc.userdata.get("vad") or build_vad()
        session = AgentSession(
            stt=build_stt(settings, language=plan.language),
            llm=build_llm(settings),
            tts=build_tts(settings),
            vad=vad,
            turn_handling=turn_handling(settings, turn_detector=build_turn_detector(plan.language)),
            user_away_timeout=float(settings.candidate_idle_seconds),
            max_tool_steps=5,
        )
        collector.attach(session)
        candidate_identity = f"candidate-{plan.interview_id}"
        join_timeout = max(60, settings.agent_join_timeout_seconds * 10)
        try:
            # the candidate's identity is fixed by the start API; observers in the room are ignored
            participant = await asyncio.wait_for(ctx.wait_for_participant(identity=candidate_identity), timeout=join_timeout)
        except TimeoutError:
            raise CandidateAbsent(f"the candidate did not join within {join_timeout} s") from None

        watch_candidate_presence(ctx.room, participant.identity, interviewer, settings.candidate_rejoin_seconds)
        recording = await start_recording(ctx.api, settings, ctx.room.name, str(plan.interview_id))
        await session.start(
            agent=interviewer,
            room=ctx.room,
            room_options=room_io.RoomOptions(
                participant_identity=participant.identity,
                close_on_disconnect=False,
                text_input=room_io.TextInputOptions(text_input_cb=typed_answer),
            ),
            record=session_record_options(recording),
        )
        publish_progress(ctx.room, interviewer.progress)
        accept_pause_requests(ctx.room, participant.identity, interviewer)
        hard_limit = plan.duration_limit_seconds + 300
        try:
            reason = await asyncio.wait_for(interviewer.wait_finished(), timeout=hard_limit)
        except TimeoutError:
            reason = "time limit reached"
            interviewer.finish(reason)
    except CandidateAbsent as err:
        outcome, reason = "failed", str(err)
        interviewer.finish(reason)
    except Exception as err:
        logger.exception("interview %s failed", plan.interview_id)
        outcome, reason = "failed", f"the interviewer failed: {type(err).__name__}: {err}"[:500]
        interviewer.finish(reason)
    finally:
        if session is not None:
            await _close_session(session)  # also finishes the agent recorder's file
        await stop_recording(ctx.api, recording)
    recording_uri = store_agent_recording(recording, ctx.session_directory / "audio.ogg", settings, str(plan.interview_id))
    transcript_uri = _store_transcript(collector, settings) if collector.segments else None
    result = collector.build_result(
        outcome=outcome,
        end_reason=reason or interviewer.progress.end_reason,
        recording_uri=recording_uri,
        egress_id=recording.egress_id if recording and recording.egress_id else None,
        transcript_uri=transcript_uri,
    )
    await _deliver(result)
    await close_room(ctx)
    ctx.shutdown(reason=result.end_reason or outcome)


#: livekit-agents' own handling of a typed message (interrupt, then reply to it as the user's turn).
_REPLY_TO_TYPED = room_io.TextInputOptions().text_input_cb


async def typed_answer(session: AgentSession, ev: room_io.TextInputEvent) -> None:
    """A message the candidate typed in the voice room (``lk.chat``): cleaned like the text interview's
    (valid Unicode, no control characters) and cut to its limit, then answered as a spoken turn would be."""
    from interview_app.sanitize import MAX_MESSAGE_CHARS, candidate_text

    cleaned = candidate_text(ev.text).text.strip()[:MAX_MESSAGE_CHARS]
    if not cleaned:
        return
    result = _REPLY_TO_TYPED(session, room_io.TextInputEvent(text=cleaned, info=ev.info, participant=ev.participant))
    if asyncio.iscoroutine(result):
        await result


def publish_progress(room: rtc.Room, progress: InterviewProgress) -> None:
    """Keep the interviewer's participant attributes telling where the interview stands.

    The candidate's page shows "Question i of n" and the time left from them
    (``InterviewProgress.room_attributes``); published now and on every change of question.
    """
    last: dict[str, str] = {}

    async def send() -> None:
        attributes = progress.room_attributes(now_epoch=time.time())
        if attributes == last:
            return
        try:
            await room.local_participant.set_attributes(attributes)
            last.update(attributes)
        except Exception:
            logger.warning("could not publish the interview progress", exc_info=True)

    tasks: set[asyncio.Task[None]] = set()

    def changed() -> None:
        task = asyncio.get_running_loop().create_task(send())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    progress.on_change(changed)
    changed()


#: The RPC the candidate page calls for "Give me a moment" (livekit-client performRpc).
PAUSE_RPC = "interview.pause"


def accept_pause_requests(room: rtc.Room, candidate_identity: str, interviewer: Interviewer) -> None:
    """Let the candidate's "Give me a moment" button pause the interview (``PAUSE_RPC``); calls from
    anyone else are refused. Answers the seconds granted."""

    async def pause(data: rtc.RpcInvocationData) -> str:
        if data.caller_identity != candidate_identity:
            raise rtc.RpcError(rtc.RpcError.ErrorCode.APPLICATION_ERROR, "only the candidate can pause the interview")
        return json.dumps({"paused_seconds": round(interviewer.pause_for_candidate())})

    room.local_participant.register_rpc_method(PAUSE_RPC, pause)


def watch_candidate_presence(room: rtc.Room, identity: str, interviewer: Interviewer, rejoin_seconds: float) -> None:
    """End the interview with "candidate left" once the candidate has been gone ``rejoin_seconds``.

    A reload or a dropped network takes the candidate out of the room for a moment; the same
    identity joining again within the grace cancels the ending and the interview goes on
    (room I/O re-attaches to the new connection's microphone).
    """
    pending: list[asyncio.TimerHandle] = []

    def cancel() -> None:
        while pending:
            pending.pop().cancel()

    def on_left(p: rtc.RemoteParticipant) -> None:
        if p.identity != identity or interviewer.finished:
            return
        cancel()
        logger.info("candidate %s left; waiting %s s for them to come back", identity, rejoin_seconds)
        pending.append(asyncio.get_running_loop().call_later(rejoin_seconds, lambda: _gone_for_good()))

    def _gone_for_good() -> None:
        pending.clear()
        if identity not in room.remote_participants and not interviewer.finished:
            interviewer.finish("candidate left")

    def on_joined(p: rtc.RemoteParticipant) -> None:
        if p.identity == identity and pending:
            logger.info("candidate %s is back", identity)
            cancel()

    room.on("participant_disconnected", on_left)
    room.on("participant_connected", on_joined)


async def _close_session(session: AgentSession) -> None:
    try:
        await asyncio.wait_for(session.aclose(), timeout=30)
    except Exception as err:  # noqa: BLE001 - the result must still be reported
        logger.warning("the agent session did not close cleanly: %s", err)


async def close_room(ctx: JobContext) -> None:
    """Close the room once the interview is over, so the candidate's page learns it at once.

    Deleting the room disconnects every participant with reason ``ROOM_DELETED``; the
    candidate page turns that into "The interview has ended". Without it the candidate
    would sit in a room the interviewer has left until the departure timeout.
    """
    try:
        await asyncio.wait_for(ctx.delete_room(), timeout=10)
    except Exception as err:  # noqa: BLE001 - the room also closes by itself once everyone left
        logger.warning("could not close room %s: %s", ctx.room.name, err)


def interview_load(max_interviews: int) -> Any:
    """``load_fnc`` for AGENT_MAX_INTERVIEWS: running interviews / the maximum (1.0 = full)."""

    def load(server: AgentServer) -> float:
        return min(1.0, len(server.active_jobs) / max_interviews)

    return load


#: How long a job process may take to start and prewarm (livekit-agents' default is 10 s). Seen
#: here: on a 2-core machine at load average 10-19, prewarm (imports, Silero VAD) took over 10 s;
#: every process was killed at the limit and respawned, and after three attempts the worker
#: dropped the job ("no process became available"): the interview never got an interviewer.
PREWARM_TIMEOUT_SECONDS = 45.0


def build_server(settings: Settings) -> InterviewerServer:
    kwargs: dict[str, Any] = {
        "ws_url": settings.livekit_url,
        "api_key": settings.livekit_api_key,
        "api_secret": settings.livekit_api_secret,
        "port": settings.agent_http_port,
        "max_retry": settings.agent_connect_retries,
        "setup_fnc": prewarm,
        "initialize_process_timeout": PREWARM_TIMEOUT_SECONDS,
        "load_threshold": settings.agent_load_threshold,
    }
    if settings.agent_metrics_port:
        kwargs["prometheus_port"] = settings.agent_metrics_port
    if settings.agent_idle_processes:
        kwargs["num_idle_processes"] = settings.agent_idle_processes
    if settings.agent_max_interviews:
        # capacity by interviews, not CPU: full once this many run (load 1.0 >= threshold)
        kwargs["load_fnc"] = interview_load(settings.agent_max_interviews)
        kwargs["load_threshold"] = 0.99
    server = InterviewerServer(**kwargs)
    server.rtc_session(interview_session, agent_name=settings.agent_name)
    return server


def main(argv: list[str] | None = None) -> int:
    """``python -m agent start|dev|console|deliver-outbox``; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else ""
    try:
        settings = get_settings()
        if command == "deliver-outbox":
            results = Outbox.from_settings(settings).deliver_due(force=True)
            print(json.dumps(results))
            return 0 if all(v == "delivered" for v in results.values()) else 1
        if command in ("start", "dev"):
            check_voice_settings(settings)
            outbox = Outbox.from_settings(settings)
    except ConfigError as err:
        print(f"agent: {err}", file=sys.stderr)
        return 2
    server = build_server(settings)
    stop = None
    if command in ("start", "dev"):
        _, stop = outbox.start_sweeper()
    sys.argv = [sys.argv[0], *argv]
    code: int = 0
    try:
        cli.run_app(server)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        if stop is not None:
            stop.set()
    if command in ("start", "dev") and server.connection_failed:
        print(
            f"agent: could not connect to LiveKit at {settings.livekit_url} ({server.failure or 'connection failed'}); "
            "check LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET and that the server is reachable.",
            file=sys.stderr,
        )
        return 1
    return code
