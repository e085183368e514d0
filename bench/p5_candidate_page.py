"""P5 — candidate page load: navigation → interview UI ready, and JavaScript bytes, vs a minimal Reflex page.

Both apps are built and served in this run with ``reflex run --env prod``, each from its own
folder (its own ``.web``): the project through tests/e2e/conftest.py ``start_app`` (a project copy
with a migrated, demo-seeded SQLite database), the baseline bench/baselines/minimal_app copied to
a temporary folder. Headless Chromium (Playwright, the e2e flags) loads each page cold — a new
browser context per load, so nothing is cached — rotating the order of the pages each round.

The minimal app serves its page twice: on ``/`` (the baseline of the target) and on the dynamic
route ``/t/[token]`` (like the candidate's ``/interview/[token]``, which Reflex does not prerender),
reported to separate Reflex's dynamic-route cost from the candidate page's own.

Ready: the candidate page shows the consent checkbox (its on_load event has checked the invite
link on the backend and the interview UI is rendered); the minimal page shows the heading its
on_load event reveals. Time is the page's own ``performance.now()`` (ms since navigation start)
at the first animation frame where the element exists. JS bytes: the encoded body sizes of
every script response of the load (what crossed the wire).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, BenchResult, free_port, percentile, stop_process, wait_http

MINIMAL_APP = Path(__file__).resolve().parent / "baselines" / "minimal_app"
CANDIDATE_READY = "#consent-checkbox"
MINIMAL_READY = "#ready"


def _start_minimal(tmp: Path) -> tuple[subprocess.Popen, str]:
    """Copy the minimal app to its own folder and serve it in production mode on a free port."""
    from tests.e2e.conftest import app_env, serve_reflex_prod

    project = tmp / "minimal"
    shutil.copytree(MINIMAL_APP, project, ignore=shutil.ignore_patterns(".web", "__pycache__", ".states"))
    port = free_port()
    proc = serve_reflex_prod(project, port, app_env(tmp, port), tmp / "minimal.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/ping", timeout=300, proc=proc)
        wait_http(url, timeout=60, proc=proc)
    except RuntimeError:
        stop_process(proc)
        tail = "\n".join((tmp / "minimal.log").read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"the minimal Reflex app did not start:\n{tail}") from None
    return proc, url


def _load(browser: Any, url: str, selector: str, timeout_ms: int = 60_000) -> tuple[float, int]:
    """One cold load: (ms from navigation start to ``selector`` present, JS bytes transferred)."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        page = context.new_page()
        scripts: list[Any] = []
        page.on("requestfinished", lambda req: scripts.append(req) if req.resource_type == "script" else None)
        page.goto(url, wait_until="commit", timeout=timeout_ms)
        handle = page.wait_for_function(
            "sel => document.querySelector(sel) ? performance.now() : false", arg=selector, polling="raf", timeout=timeout_ms
        )
        ready_ms = float(handle.json_value())
        page.wait_for_load_state("networkidle", timeout=timeout_ms)  # late chunks count as bytes too
        js_bytes = sum(max(0, req.sizes()["responseBodySize"]) for req in list(scripts))
        return ready_ms, js_bytes
    finally:
        context.close()


def run(loads: int = 15, warmup: int = 2) -> BenchResult:
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_app, stop_app

    result = BenchResult("p5")
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="bench_p5_") as tmpdir:
        tmp = Path(tmpdir)
        (tmp / "app").mkdir()
        app_proc = minimal_proc = None
        try:
            t0 = time.perf_counter()
            app_proc, served = start_app(tmp / "app")
            build_app = time.perf_counter() - t0
            t0 = time.perf_counter()
            minimal_proc, minimal_url = _start_minimal(tmp)
            build_minimal = time.perf_counter() - t0
            pages = {
                "candidate": (served.demo["candidate_link"], CANDIDATE_READY),
                "minimal": (minimal_url + "/", MINIMAL_READY),
                "minimal_dynamic": (minimal_url + "/t/abc123", MINIMAL_READY),
            }
            ready: dict[str, list[float]] = {k: [] for k in pages}
            js: dict[str, list[int]] = {k: [] for k in pages}
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    for i in range(warmup + loads):
                        order = list(pages)[i % 3 :] + list(pages)[: i % 3]  # rotate who goes first
                        for key in order:
                            url, selector = pages[key]
                            ms_ready, js_bytes = _load(browser, url, selector)
                            if i >= warmup:
                                ready[key].append(ms_ready)
                                js[key].append(js_bytes)
                finally:
                    browser.close()
        finally:
            stop_process(minimal_proc)
            if app_proc is not None:
                stop_app(app_proc)
    note = f"{loads} cold loads each, order rotated, after {warmup} warm-up"
    result.add(
        "UI ready p50 candidate vs minimal Reflex",
        percentile(ready["candidate"], 50),
        percentile(ready["minimal"], 50),
        "ms",
        max_ratio=1.5,
        note=note,
    )
    result.add(
        "UI ready p95 candidate vs minimal Reflex",
        percentile(ready["candidate"], 95),
        percentile(ready["minimal"], 95),
        "ms",
        note="reported, no target",
    )
    result.add(
        "UI ready p50 candidate vs minimal, dynamic route",
        percentile(ready["candidate"], 50),
        percentile(ready["minimal_dynamic"], 50),
        "ms",
        note="the minimal page on /t/[token], like /interview/[token]; reported, no target",
    )
    result.add(
        "JS transferred candidate vs minimal Reflex",
        max(js["candidate"]) / 1024,
        max(js["minimal"]) / 1024,
        "KiB",
        note="encoded script bodies of one cold load; reported, no target",
    )
    result.raw = {
        "ready_ms": ready,
        "js_bytes": js,
        "build_seconds": {"candidate": round(build_app, 1), "minimal": round(build_minimal, 1)},
        "root": str(ROOT),
    }
    return result
