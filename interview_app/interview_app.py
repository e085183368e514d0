"""The Reflex app: pages plus the FastAPI routes mounted into its backend."""

from __future__ import annotations

import sys

import reflex as rx

from interview_app.settings import ConfigError, get_settings

try:
    get_settings()
except ConfigError as err:  # one clear line, never a traceback
    print(f"Configuration error: {err}", file=sys.stderr)
    raise SystemExit(2) from None

from interview_app import pages  # noqa: F401  (registers the pages)
from interview_app.api import create_api
from interview_app.heap import freeze_startup_heap
from interview_app.services.evaluation import evaluation_worker
from interview_app.services.greenhouse import greenhouse_worker
from interview_app.services.interviews import invitation_expiry_worker
from interview_app.services.webhooks import webhook_worker
from interview_app.state.auth import AdminAuthorityMiddleware
from interview_app.state.event_limits import EventRateLimitMiddleware
from interview_app.state.text_interview import text_interview_lifespan

app = rx.App(api_transformer=create_api())
app.add_middleware(AdminAuthorityMiddleware(), index=0)  # a (re)connecting tab gets admin data only with its session
app.add_middleware(EventRateLimitMiddleware(), index=0)  # first: per-tab caps on every event kind, before any handler
app.register_lifespan_task(evaluation_worker)  # durable evaluation jobs (rows in `evaluation`)
app.register_lifespan_task(webhook_worker)  # signed outbound webhooks (rows in `webhook_delivery`)
app.register_lifespan_task(greenhouse_worker)  # Greenhouse: completion PATCH per finished interview (`greenhouse_assignment`)
app.register_lifespan_task(invitation_expiry_worker)  # invited → expired once the link lapses
app.register_lifespan_task(text_interview_lifespan)  # text interviews: idle candidates, time limits, orphans
app.register_lifespan_task(freeze_startup_heap)  # last: the started process's heap leaves full GCs' sight
