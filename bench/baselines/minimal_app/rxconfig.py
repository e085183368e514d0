"""The P5 baseline: the smallest Reflex app with a state loaded on page load (bench/README.md, P5)."""

import os

import reflex as rx

_port = int(os.environ.get("PORT", "3000"))

config = rx.Config(
    app_name="minimal_app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    frontend_port=_port,
    backend_port=_port,
    deploy_url=f"http://127.0.0.1:{_port}",
    api_url=f"http://127.0.0.1:{_port}",
    plugins=[rx.plugins.RadixThemesPlugin()],
    disable_plugins=["reflex.plugins.sitemap.SitemapPlugin"],
)
