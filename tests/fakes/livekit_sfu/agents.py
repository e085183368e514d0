"""``/agent``: the livekit-agents worker protocol and explicit dispatch.

A worker registers (``register`` must be the server's first reply), reports load with
``update_worker``, is asked ``availability`` for a job, and on ``available`` gets an ``assignment``
with a room token for the identity it chose. Only dispatches (CreateDispatch, CreateRoom.agents or
a token's room config) create jobs; a room alone creates none. Each job goes to exactly one worker:
the least loaded available one, round robin among equals; a worker that says no, is full
(WS_FULL), draining, or gone is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web
from livekit.api import AccessToken, VideoGrants
from livekit.protocol import agent as pb_agent
from livekit.protocol import agent_dispatch as pb_dispatch

from .rooms import new_sid
from .signal import server_info

if TYPE_CHECKING:
    from .rooms import RoomRegistry

logger = logging.getLogger("livekit_sfu.agents")

AVAILABILITY_TIMEOUT = 5.0
RETRY_INTERVAL = 0.5


@dataclass
class Worker:
    id: str
    agent_name: str
    namespace: str
    ws: web.WebSocketResponse
    status: int = pb_agent.WorkerStatus.WS_AVAILABLE
    load: float = 0.0
    connected: bool = True
    jobs: dict[str, pb_agent.Job] = field(default_factory=dict)
    pending: dict[str, asyncio.Future[pb_agent.AvailabilityResponse]] = field(default_factory=dict)
    jobs_assigned: int = 0
    registered_at: float = field(default_factory=time.time)

    @property
    def accepts_jobs(self) -> bool:
        return self.connected and self.status == pb_agent.WorkerStatus.WS_AVAILABLE

    async def send(self, msg: pb_agent.ServerMessage) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_bytes(msg.SerializeToString())


@dataclass
class JobRecord:
    """One job: its dispatch, the worker that took it, and what the worker reported."""

    job: pb_agent.Job
    dispatch_id: str
    room: str
    agent_name: str
    worker_id: str = ""
    identity: str = ""
    status: int = pb_agent.JobStatus.JS_PENDING
    refused_by: list[str] = field(default_factory=list)
    terminated: bool = False


class AgentDispatcher:
    def __init__(self, api_key: str, api_secret: str, ws_url: str, node_id: str) -> None:
        self.api_key, self.api_secret = api_key, api_secret
        self.ws_url = ws_url
        self.node_id = node_id
        self.rooms: RoomRegistry | None = None
        self.workers: dict[str, Worker] = {}
        self.jobs: dict[str, JobRecord] = {}
        self._order = itertools.count()
        self._last_pick: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- worker websocket ------------------------------------------------
    async def serve(self, ws: web.WebSocketResponse) -> None:
        first = await ws.receive(timeout=10)
        msg = pb_agent.WorkerMessage()
        if first.type != WSMsgType.BINARY:
            await ws.close()
            return
        msg.ParseFromString(first.data)
        if msg.WhichOneof("message") != "register":
            await ws.close()
            return
        reg = msg.register
        worker = Worker(id=new_sid("AW"), agent_name=reg.agent_name, namespace=reg.namespace, ws=ws)
        self.workers[worker.id] = worker
        await worker.send(
            pb_agent.ServerMessage(register=pb_agent.RegisterWorkerResponse(worker_id=worker.id, server_info=server_info(self.node_id)))
        )
        logger.info("worker %s registered (agent_name=%r)", worker.id, worker.agent_name)
        try:
            async for frame in ws:
                if frame.type != WSMsgType.BINARY:
                    continue
                msg = pb_agent.WorkerMessage()
                msg.ParseFromString(frame.data)
                self._handle(worker, msg)
        finally:
            worker.connected = False
            for fut in worker.pending.values():
                if not fut.done():
                    fut.set_result(pb_agent.AvailabilityResponse(available=False))
            logger.info("worker %s disconnected", worker.id)

    def _handle(self, worker: Worker, msg: pb_agent.WorkerMessage) -> None:
        which = msg.WhichOneof("message")
        if which == "availability":
            fut = worker.pending.get(msg.availability.job_id)  # _offer drops it once the job is placed
            if fut is not None and not fut.done():
                fut.set_result(msg.availability)
        elif which == "update_worker":
            if msg.update_worker.HasField("status"):
                worker.status = msg.update_worker.status
            worker.load = msg.update_worker.load
        elif which == "update_job":
            record = self.jobs.get(msg.update_job.job_id)
            if record is not None:
                record.status = msg.update_job.status
                if record.status in (pb_agent.JobStatus.JS_SUCCESS, pb_agent.JobStatus.JS_FAILED):
                    worker.jobs.pop(record.job.id, None)
        elif which == "ping":
            pong = pb_agent.WorkerPong(last_timestamp=msg.ping.timestamp, timestamp=int(time.time() * 1000))
            self._spawn(worker.send(pb_agent.ServerMessage(pong=pong)))

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- dispatch --------------------------------------------------------
    def dispatch(self, dispatch: pb_dispatch.AgentDispatch) -> JobRecord:
        """Create the dispatch's job and hand it to one worker in the background."""
        assert self.rooms is not None
        room = self.rooms.ensure(dispatch.room)
        job = pb_agent.Job(
            id=new_sid("AJ"),
            dispatch_id=dispatch.id,
            type=pb_agent.JobType.JT_ROOM,
            room=room.snapshot(),
            agent_name=dispatch.agent_name,
            metadata=dispatch.metadata,
            state=pb_agent.JobState(status=pb_agent.JobStatus.JS_PENDING, updated_at=int(time.time())),
        )
        record = JobRecord(job=job, dispatch_id=dispatch.id, room=dispatch.room, agent_name=dispatch.agent_name)
        self.jobs[job.id] = record
        self._spawn(self._assign(record))
        return record

    def _candidates(self, agent_name: str, refused: list[str]) -> list[Worker]:
        ready = [w for w in self.workers.values() if w.agent_name == agent_name and w.accepts_jobs and w.id not in refused]
        # least loaded first; among equals the one that got a job longest ago
        return sorted(ready, key=lambda w: (len(w.jobs) + len(w.pending), w.load, self._last_pick.get(w.id, -1)))

    async def _assign(self, record: JobRecord) -> None:
        assert self.rooms is not None
        while not record.terminated:
            room = self.rooms.get(record.room)
            if room is None or room.closed:
                record.terminated = True
                return
            # re-rank before each offer: loads change while a worker thinks about it
            ranked = self._candidates(record.agent_name, record.refused_by)
            if ranked:
                if await self._offer(ranked[0], record):
                    return
                record.refused_by.append(ranked[0].id)
                continue
            await asyncio.sleep(RETRY_INTERVAL)
            # a worker that refused may have room again later
            record.refused_by = [w for w in record.refused_by if w in self.workers and not self.workers[w].accepts_jobs]

    async def _offer(self, worker: Worker, record: JobRecord) -> bool:
        fut: asyncio.Future[pb_agent.AvailabilityResponse] = asyncio.get_running_loop().create_future()
        worker.pending[record.job.id] = fut
        self._last_pick[worker.id] = next(self._order)
        await worker.send(pb_agent.ServerMessage(availability=pb_agent.AvailabilityRequest(job=record.job)))
        try:
            answer = await asyncio.wait_for(fut, AVAILABILITY_TIMEOUT)
        except TimeoutError:
            worker.pending.pop(record.job.id, None)
            return False
        if not answer.available or not worker.connected:
            worker.pending.pop(record.job.id, None)
            return False
        identity = answer.participant_identity or f"agent-{record.job.id}"
        token = (
            AccessToken(self.api_key, self.api_secret)
            .with_identity(identity)
            .with_name(answer.participant_name or identity)
            .with_metadata(answer.participant_metadata)
            .with_attributes(dict(answer.participant_attributes))
            .with_kind("agent")
            .with_grants(
                VideoGrants(
                    room_join=True,
                    room=record.room,
                    agent=True,
                    can_update_own_metadata=True,
                    can_publish=True,
                    can_subscribe=True,
                    can_publish_data=True,
                )
            )
            .to_jwt()
        )
        record.worker_id, record.identity = worker.id, identity
        record.status = pb_agent.JobStatus.JS_RUNNING
        record.job.state.participant_identity = identity
        record.job.state.worker_id = worker.id
        worker.jobs[record.job.id] = record.job
        worker.pending.pop(record.job.id, None)
        worker.jobs_assigned += 1
        await worker.send(pb_agent.ServerMessage(assignment=pb_agent.JobAssignment(job=record.job, url=self.ws_url, token=token)))
        logger.info("job %s (room %s) assigned to worker %s as %s", record.job.id, record.room, worker.id, identity)
        return True

    def terminate_room(self, room_name: str) -> None:
        """The room closed: every job in it gets ``termination``."""
        for record in self.jobs.values():
            if record.room != room_name or record.terminated:
                continue
            record.terminated = True
            worker = self.workers.get(record.worker_id)
            if worker is not None:
                worker.jobs.pop(record.job.id, None)
                if worker.connected:
                    self._spawn(worker.send(pb_agent.ServerMessage(termination=pb_agent.JobTermination(job_id=record.job.id))))

    async def close(self) -> None:
        for worker in list(self.workers.values()):
            with contextlib.suppress(Exception):
                await worker.ws.close()
        for task in list(self._tasks):
            task.cancel()
