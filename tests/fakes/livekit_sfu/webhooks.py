"""LiveKit-signed webhooks, delivered in the background the way livekit-server sends them.

Body: the ``WebhookEvent`` as protobuf JSON; headers ``Content-Type: application/webhook+json`` and
``Authorization: <JWT>`` whose ``sha256`` claim is the base64 SHA-256 of the body, so livekit-api's
``WebhookReceiver(TokenVerifier(key, secret)).receive(body, auth)`` accepts it. Tests may hold
deliveries (``pause()``) and let them go in any order (``release(order=...)``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from google.protobuf import json_format
from livekit.api import AccessToken
from livekit.protocol import webhook as pb_webhook

logger = logging.getLogger("livekit_sfu.webhooks")

RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0)


@dataclass
class WebhookDelivery:
    """One event and what became of it at each URL (``statuses``: url → last HTTP status or -1)."""

    event: pb_webhook.WebhookEvent
    body: str
    statuses: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    delivered_at: float | None = None

    @property
    def name(self) -> str:
        return self.event.event


class WebhookSender:
    """Queues events and POSTs them; ``sent`` lists deliveries in the order they went out."""

    def __init__(self, api_key: str, api_secret: str, urls: list[str]) -> None:
        self.api_key, self.api_secret = api_key, api_secret
        self.urls = list(urls)
        self.emitted: list[WebhookDelivery] = []
        self.sent: list[WebhookDelivery] = []
        self._held: list[WebhookDelivery] = []
        self._paused = False
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self._queue: asyncio.Queue[WebhookDelivery] | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = threading.Condition(self._lock)

    # -- loop side -------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        self._task = asyncio.create_task(self._deliver_forever(), name="webhooks")

    async def close(self, drain_seconds: float = 2.0) -> None:
        if self._queue is not None and not self._paused:
            deadline = time.monotonic() + drain_seconds
            while not self._queue.empty() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        if self._task is not None:
            self._task.cancel()
        if self._session is not None:
            await self._session.close()

    def emit(self, event: str, **fields: Any) -> WebhookDelivery:
        """Build and queue one event (loop thread); ``fields`` are WebhookEvent fields (messages)."""
        msg = pb_webhook.WebhookEvent(event=event, id=f"EV_{uuid.uuid4().hex[:12]}", created_at=int(time.time()))
        for name, value in fields.items():
            if value is not None:
                getattr(msg, name).CopyFrom(value)
        delivery = WebhookDelivery(event=msg, body=json_format.MessageToJson(msg, indent=None))
        with self._lock:
            self.emitted.append(delivery)
            if self._paused:
                self._held.append(delivery)
                return delivery
        assert self._queue is not None
        self._queue.put_nowait(delivery)
        return delivery

    async def _deliver_forever(self) -> None:
        assert self._queue is not None
        while True:
            delivery = await self._queue.get()
            try:
                await self._deliver(delivery)
            except Exception:
                logger.exception("webhook delivery failed")

    async def _deliver(self, delivery: WebhookDelivery) -> None:
        assert self._session is not None
        body = delivery.body.encode()
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        token = AccessToken(self.api_key, self.api_secret).with_sha256(digest).to_jwt()
        headers = {"Content-Type": "application/webhook+json", "Authorization": token}
        for url in list(self.urls):
            status = -1
            for delay in (0.0, *RETRY_DELAYS):
                if delay:
                    await asyncio.sleep(delay)
                delivery.attempts += 1
                try:
                    async with self._session.post(url, data=body, headers=headers) as resp:
                        status = resp.status
                except (aiohttp.ClientError, TimeoutError, OSError):
                    status = -1
                if 200 <= status < 300:
                    break
            delivery.statuses[url] = status
        with self._changed:
            delivery.delivered_at = time.time()
            self.sent.append(delivery)
            self._changed.notify_all()

    # -- test side (any thread) -------------------------------------------
    def pause(self) -> None:
        """Hold every event emitted from now on until ``release()``."""
        with self._lock:
            self._paused = True

    def held(self) -> list[WebhookDelivery]:
        with self._lock:
            return list(self._held)

    def release(self, order: list[int] | None = None, *, reverse: bool = False) -> None:
        """Send the held events (in emission order, reversed, or by ``order`` indices into ``held()``)."""
        with self._lock:
            held, self._held, self._paused = self._held, [], False
        if order is not None:
            held = [held[i] for i in order] + [d for i, d in enumerate(held) if i not in order]
        elif reverse:
            held.reverse()
        assert self._loop is not None and self._queue is not None
        for delivery in held:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, delivery)

    def events(self, name: str | None = None) -> list[pb_webhook.WebhookEvent]:
        """Events emitted so far (sent or not), optionally only those called ``name``."""
        with self._lock:
            return [d.event for d in self.emitted if name is None or d.event.event == name]

    def sent_events(self, name: str | None = None) -> list[pb_webhook.WebhookEvent]:
        with self._lock:
            return [d.event for d in self.sent if name is None or d.event.event == name]

    def wait_for(self, name: str, predicate: Any = None, timeout: float = 10.0) -> pb_webhook.WebhookEvent:
        """Block until an event called ``name`` (matching ``predicate``) has been delivered."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for d in self.sent:
                    if d.event.event == name and (predicate is None or predicate(d.event)):
                        return d.event
                left = deadline - time.monotonic()
                if left <= 0:
                    names = [d.event.event for d in self.sent]
                    raise TimeoutError(f"no {name!r} webhook delivered within {timeout} s; delivered: {names}")
                self._changed.wait(left)
