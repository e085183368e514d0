"""Reflex configuration, derived from the project's Settings (interview_app/settings.py)."""

import sys

import reflex as rx

from interview_app.build_plugins import RadixChunkPlugin
from interview_app.settings import ConfigError, get_settings
from interview_app.upstream_logs import quiet_benign_upstream_logs

quiet_benign_upstream_logs()

try:
    _settings = get_settings()
except ConfigError as err:  # one clear line naming the key, never a traceback
    print(f"Configuration error: {err}", file=sys.stderr)
    raise SystemExit(2) from None

_extra = {}
if _settings.redis_url:
    # Reflex keeps per-tab state in Redis when redis_url is set (horizontal scale).
    _extra["redis_url"] = _settings.redis_url

config = rx.Config(
    app_name="interview_app",
    db_url=_settings.database_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    frontend_port=_settings.port,
    backend_port=_settings.port,
    deploy_url=_settings.app_url,
    api_url=_settings.app_url,
    plugins=[
        rx.plugins.SitemapPlugin(),
        rx.plugins.RadixThemesPlugin(theme=rx.theme(appearance="light", accent_color="indigo", radius="large")),
        RadixChunkPlugin(),  # Radix in one JS chunk: fewer requests before the candidate page runs (bench P5)
    ],
    **_extra,
)
