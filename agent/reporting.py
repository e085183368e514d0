"""Result delivery: a durable on-disk outbox, then a signed ``POST /webhooks/interview-ended``.

An InterviewResult is written to ``<AGENT_OUTBOX_DIR>/pending/<interview id>.json``
(atomically) before anything is sent, and leaves that folder only when the app
acknowledged it (2xx) or refused it for good (4xx other than 408/429 → moved to
``dead/`` with the reason). Everything else (connection errors, 5xx, 408, 429) is
retried with exponential backoff, also after a worker restart: the worker's
sweeper (:meth:`Outbox.run_sweeper`) picks up whatever is still pending.

The request is signed the way LiveKit signs its webhooks: header
``Authorization: <JWT>`` from ``AccessToken(key, secret).with_sha256(b64(sha256(body)))``,
verified app-side with ``WebhookReceiver(TokenVerifier(key, secret))``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import random
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Literal

import httpx
from livekit import api
from prometheus_client import Counter, Gauge

from interview_app.contracts import InterviewResult
from interview_app.settings import Settings, get_settings

logger = logging.getLogger("agent.reporting")

#: Lifetime of one delivery's signature; each attempt signs anew.
SIGNATURE_TTL = timedelta(minutes=10)
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 300.0
RETRYABLE_4XX = frozenset({408, 429})

DeliveryStatus = Literal["delivered", "retry", "dead", "missing"]

# Served on AGENT_METRICS_PORT by the worker's main process (where the sweeper runs).
DELIVERY_ATTEMPTS = Counter("interview_result_delivery_attempts", "Result delivery attempts by outcome", ["status"])
OUTBOX_PENDING = Gauge("interview_outbox_pending", "Results waiting in the outbox for delivery")


def sign_body(body: bytes, api_key: str, api_secret: str, ttl: timedelta = SIGNATURE_TTL) -> str:
    """The ``Authorization`` header value for ``body`` (a LiveKit-style webhook JWT)."""
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return api.AccessToken(api_key, api_secret).with_sha256(digest).with_ttl(ttl).to_jwt()


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: 2, 4, 8 … capped at 5 minutes."""
    delay = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * (2 ** max(0, attempts - 1)))
    return delay * random.uniform(0.8, 1.2)


def _write_atomic(path: Path, data: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@dataclass
class DeliveryAttempt:
    status: DeliveryStatus
    detail: str = ""


class Outbox:
    """Pending results on disk and their delivery to the app."""

    def __init__(
        self,
        directory: str | Path,
        *,
        url: str,
        api_key: str,
        api_secret: str,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.pending_dir = self.directory / "pending"
        self.dead_dir = self.directory / "dead"
        self.url = url
        self._key = api_key
        self._secret = api_secret
        self._timeout = timeout
        self._transport = transport
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Outbox:
        settings = settings or get_settings()
        settings.require("LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")  # the signing keys
        return cls(
            settings.agent_outbox_dir,
            url=settings.interview_ended_webhook_url,
            api_key=settings.livekit_api_key,
            api_secret=settings.livekit_api_secret,
        )

    # --- enqueue -------------------------------------------------------------------
    def put(self, result: InterviewResult) -> Path:
        """Store the result durably (before any attempt to send it)."""
        body = result.model_dump_json()
        envelope = {"body": body, "attempts": 0, "next_attempt_at": 0.0, "last_error": "", "created_at": time.time()}
        path = self.pending_dir / f"{result.interview_id}.json"
        _write_atomic(path, json.dumps(envelope))
        logger.info("result for interview %s stored in the outbox", result.interview_id)
        return path

    def pending(self) -> list[Path]:
        if not self.pending_dir.is_dir():
            return []
        return sorted(p for p in self.pending_dir.glob("*.json") if not p.name.startswith("."))

    def dead(self) -> list[Path]:
        if not self.dead_dir.is_dir():
            return []
        return sorted(self.dead_dir.glob("*.json"))

    # --- delivery -----------------------------------------------------------------------
    def deliver(self, path: Path, *, force: bool = False) -> DeliveryAttempt:
        """One attempt for one pending file (skipped while its backoff runs, unless ``force``)."""
        attempt = self._deliver(path, force=force)
        if attempt.detail != "waiting for backoff":
            DELIVERY_ATTEMPTS.labels(status=attempt.status).inc()
        return attempt

    def _deliver(self, path: Path, *, force: bool) -> DeliveryAttempt:
        with self._lock:
            try:
                envelope = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                return DeliveryAttempt("missing")
            except (OSError, ValueError) as err:
                return self._bury(path, {"body": ""}, f"unreadable outbox file: {err}")
            if not force and envelope.get("next_attempt_at", 0) > time.time():
                return DeliveryAttempt("retry", "waiting for backoff")
            body = envelope["body"].encode("utf-8")
            try:
                with httpx.Client(timeout=self._timeout, transport=self._transport) as client:
                    response = client.post(
                        self.url,
                        content=body,
                        headers={"Content-Type": "application/json", "Authorization": sign_body(body, self._key, self._secret)},
                    )
            except httpx.HTTPError as err:
                return self._later(path, envelope, f"{type(err).__name__}: {err}")
            if 200 <= response.status_code < 300:
                path.unlink(missing_ok=True)
                logger.info("result %s delivered (HTTP %s)", path.stem, response.status_code)
                return DeliveryAttempt("delivered", str(response.status_code))
            reason = f"HTTP {response.status_code}: {response.text[:500]}"
            if 400 <= response.status_code < 500 and response.status_code not in RETRYABLE_4XX:
                return self._bury(path, envelope, reason)
            return self._later(path, envelope, reason)

    def _later(self, path: Path, envelope: dict, reason: str) -> DeliveryAttempt:
        envelope["attempts"] = int(envelope.get("attempts", 0)) + 1
        envelope["last_error"] = reason
        envelope["next_attempt_at"] = time.time() + backoff_seconds(envelope["attempts"])
        if path.exists():
            _write_atomic(path, json.dumps(envelope))
        logger.warning("result %s not delivered yet (attempt %s): %s", path.stem, envelope["attempts"], reason)
        return DeliveryAttempt("retry", reason)

    def _bury(self, path: Path, envelope: dict, reason: str) -> DeliveryAttempt:
        envelope["dead_reason"] = reason
        envelope["dead_at"] = time.time()
        _write_atomic(self.dead_dir / path.name, json.dumps(envelope))
        path.unlink(missing_ok=True)
        logger.error("result %s refused by the app and moved to %s: %s", path.stem, self.dead_dir, reason)
        return DeliveryAttempt("dead", reason)

    def deliver_due(self, *, force: bool = False) -> dict[str, DeliveryStatus]:
        """One pass over every pending result whose backoff has run out (all of them with ``force``)."""
        return {path.stem: self.deliver(path, force=force).status for path in self.pending()}

    def next_due_in(self) -> float | None:
        """Seconds until the earliest pending result is due (None when the outbox is empty)."""
        times = []
        for path in self.pending():
            try:
                times.append(json.loads(path.read_text(encoding="utf-8")).get("next_attempt_at", 0))
            except (OSError, ValueError):
                times.append(0)
        return None if not times else max(0.0, min(times) - time.time())

    def run_sweeper(self, stop: threading.Event, *, interval: float = 5.0) -> None:
        """Deliver pending results until ``stop`` is set (the worker runs this in a thread)."""
        while not stop.is_set():
            try:
                self.deliver_due()
                OUTBOX_PENDING.set(len(self.pending()))
            except Exception:
                logger.exception("outbox sweep failed")
            due = self.next_due_in()
            stop.wait(interval if due is None else max(0.2, min(interval, due)))

    def start_sweeper(self, *, interval: float = 5.0) -> tuple[threading.Thread, threading.Event]:
        stop = threading.Event()
        thread = threading.Thread(target=self.run_sweeper, args=(stop,), kwargs={"interval": interval}, name="outbox-sweeper", daemon=True)
        thread.start()
        return thread, stop


def report_result(result: InterviewResult, outbox: Outbox | None = None) -> DeliveryAttempt:
    """Store ``result`` in the outbox and try to deliver it once now; the sweeper retries later."""
    outbox = outbox or Outbox.from_settings()
    path = outbox.put(result)
    return outbox.deliver(path, force=True)
