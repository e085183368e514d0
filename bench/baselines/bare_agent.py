"""Bench P6's baseline: a bare livekit-agents voice agent with livekit's DEFAULT turn handling.

``python bench/baselines/bare_agent.py start`` (the LiveKit Agents CLI, like ``python -m agent start``).
It registers as ``BARE_AGENT_NAME`` (default ``bare-p6``) and, in every room it is dispatched
to, starts an ``AgentSession`` with the same providers as the project's worker — STT, LLM and
TTS of livekit-plugins-openai against ``OPENAI_BASE_URL``, Silero VAD — and nothing else: no
``turn_handling`` argument, so livekit-agents 1.8.9 picks its own end-of-turn detector
(``inference.TurnDetector()``: the local ``v1-mini`` audio model under ``start``) and its own
endpointing delays. It greets on enter and answers every turn; it ignores the dispatch metadata
(the app's interview plan) and leaves when the room closes.

Settings (environment): ``LIVEKIT_URL``, ``LIVEKIT_API_KEY``, ``LIVEKIT_API_SECRET``,
``OPENAI_BASE_URL``, ``OPENAI_API_KEY``, ``STT_MODEL``, ``LLM_MODEL``, ``TTS_MODEL``,
``TTS_VOICE``, ``TTS_SPEED`` — the same names and defaults as the project's settings.
"""

from __future__ import annotations

import os

from livekit.agents import Agent, AgentServer, AgentSession, JobContext, JobProcess, cli
from livekit.plugins import openai, silero


class BareAgent(Agent):
    def __init__(self) -> None:
        super().__init__(instructions="You are a friendly interviewer. Ask one short question at a time.")

    async def on_enter(self) -> None:
        self.session.generate_reply(instructions="Greet the candidate and ask the first question.")


def prewarm(proc: JobProcess) -> None:
    proc.userdata["vad"] = silero.VAD.load()


async def entrypoint(ctx: JobContext) -> None:
    await ctx.connect()
    base_url, key = os.environ["OPENAI_BASE_URL"], os.environ.get("OPENAI_API_KEY", "local")
    session: AgentSession = AgentSession(
        stt=openai.STT(model=os.environ.get("STT_MODEL", "gpt-4o-mini-transcribe"), language="en", api_key=key, base_url=base_url),
        llm=openai.LLM(model=os.environ.get("LLM_MODEL", "gpt-4o-mini"), api_key=key, base_url=base_url),
        tts=openai.TTS(
            model=os.environ.get("TTS_MODEL", "gpt-4o-mini-tts"),
            voice=os.environ.get("TTS_VOICE", "alloy"),
            speed=float(os.environ.get("TTS_SPEED", "1.0")),
            api_key=key,
            base_url=base_url,
        ),
        vad=ctx.proc.userdata.get("vad") or silero.VAD.load(),
    )
    await session.start(agent=BareAgent(), room=ctx.room)


def build_server() -> AgentServer:
    server = AgentServer(
        host="127.0.0.1",
        port=0,
        setup_fnc=prewarm,
        num_idle_processes=1,
        load_threshold=0.99,  # a busy shared machine must not refuse the job
    )
    server.rtc_session(entrypoint, agent_name=os.environ.get("BARE_AGENT_NAME", "bare-p6"))
    return server


if __name__ == "__main__":
    cli.run_app(build_server())
