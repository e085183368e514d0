"""R13 — two app processes behind nginx, sharing PostgreSQL and Redis, driven in Chromium.

The layout of docker-compose.yml's ``scale`` profile on loopback: two ``reflex run --env prod``
processes (each in its own project copy, both with ``APP_URL`` = the balancer, so the pages'
websocket goes through it too), one new PostgreSQL database (migrated and seeded once), one
Redis db for Reflex's state, and nginx from Debian's package with deploy/nginx.conf (round
robin, no stickiness). An admin and a candidate use the app only through nginx:

- the admin's list is served by one process while the candidate's text interview runs on the
  other, and the candidate's status changes appear on the admin's list (it re-reads them every
  2 s from the database);
- every message the candidate sent is in the database at the end;
- both processes answered requests: nginx's access log names the upstream of each one;
- the process that hosts a candidate's text interview is killed (SIGKILL) mid-answer and the
  conversation goes on through the other one: the tab's websocket comes back through nginx, the
  page's on_load (run on every reconnect) opens the panel again, and the other process takes the
  interview over once the dead one's lease has lapsed and answers the message it died on.

Which process holds a tab's websocket is read from the established connections into each
process's port (nginx opens a new upstream connection per plain request and closes it, so the
connections that stay are websockets); nginx logs a websocket only when it closes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import psutil
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlmodel import Session, select

from interview_app.db import make_engine
from interview_app.models import InterviewEvent, TranscriptSegment
from tests.conftest import drop_pg_database, new_pg_database
from tests.e2e.conftest import (
    ServedApp,
    app_env,
    free_port,
    project_copy,
    serve_reflex_prod,
    stop_app,
    wait_until_serving,
)
from tests.e2e.test_admin import sign_in
from tests.e2e.test_text_interview import ANSWERS, agent_messages, answer, open_chat
from tests.reliability.balancer import Balancer, nginx_binary
from tests.reliability.conftest import ROOT, figure

pytestmark = [pytest.mark.reliability_slow, pytest.mark.e2e, pytest.mark.postgres]

REDIS_DB = 14  # dedicated to this module; flushed before and after
SHOTS = ROOT / "tests" / "artifacts"
START_TIMEOUT = 600  # two frontend builds at once on a small machine
STATUS_SEEN_WITHIN = 8.0  # the list polls every 2 s


@dataclass
class Cluster:
    balancer: Balancer
    apps: list[ServedApp]
    procs: list[subprocess.Popen]
    database_url: str
    demo: dict[str, str] = field(default_factory=dict)

    def port_of(self, app: ServedApp) -> int:
        return int(app.url.rsplit(":", 1)[1])

    @property
    def ports(self) -> list[int]:
        return [self.port_of(a) for a in self.apps]

    def name(self, port: int) -> str:
        """``process 1`` / ``process 2`` (the order the upstream block lists them)."""
        return f"process {self.ports.index(port) + 1} (:{port})"

    def new_invitation(self) -> dict[str, str]:
        try:
            return json.loads(self.apps[0].cli("seed-demo", "--json").stdout)
        except subprocess.CalledProcessError as err:
            raise RuntimeError(f"seed-demo failed:\n{err.stderr[-3000:]}") from err


def websockets_per_process(ports: list[int]) -> dict[int, int]:
    """Established connections into each app port: the tabs' websockets, through nginx."""
    connections = psutil.net_connections(kind="tcp")
    return {port: sum(1 for c in connections if c.status == psutil.CONN_ESTABLISHED and c.raddr and c.laddr.port == port) for port in ports}


def settled_websockets(ports: list[int], total: int, timeout: float = 30) -> dict[int, int]:
    """The websocket count per process once ``total`` are open and two readings 1 s apart agree."""
    deadline = time.monotonic() + timeout
    previous: dict[int, int] | None = None
    while time.monotonic() < deadline:
        now = websockets_per_process(ports)
        if sum(now.values()) == total and now == previous:
            return now
        previous = now
        time.sleep(1)
    raise AssertionError(f"expected {total} websockets into the app processes, saw {websockets_per_process(ports)}: {_peers(ports)}")


def _peers(ports: list[int]) -> list[str]:
    """Who holds the established connections into the app ports (for a failure's message)."""
    by_addr = {(c.laddr.ip, c.laddr.port): c.pid for c in psutil.net_connections(kind="tcp") if c.laddr}
    out = []
    for c in psutil.net_connections(kind="tcp"):
        if c.status == psutil.CONN_ESTABLISHED and c.raddr and c.laddr.port in ports:
            pid = by_addr.get((c.raddr.ip, c.raddr.port))
            try:
                name = " ".join(psutil.Process(pid).cmdline()[:3]) if pid else "?"
            except psutil.Error:
                name = "gone"
            out.append(f":{c.laddr.port} <- :{c.raddr.port} pid {pid} {name}")
    return out


def _socket_moved(before: dict[int, int], after: dict[int, int]) -> int:
    """The port whose count went up by one."""
    grown = [port for port in after if after[port] > before.get(port, 0)]
    assert len(grown) == 1, (before, after)
    return grown[0]


@pytest.fixture(scope="module")
def cluster(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    import redis

    if nginx_binary() is None:
        pytest.fail("nginx is not installed: `make system-deps` installs Debian's nginx package")
    redis_url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    client = redis.Redis.from_url(redis_url)
    try:
        client.ping()
    except redis.RedisError as err:
        pytest.skip(f"Redis not reachable at {redis_url}: {err}")
    client.flushdb()
    database_url = new_pg_database(pg_server)
    root = tmp_path_factory.mktemp("r13")
    balancer_port, ports = free_port(), [free_port(), free_port()]
    balancer = Balancer(root / "nginx", [f"127.0.0.1:{p}" for p in ports], balancer_port)
    shared = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "APP_URL": balancer.url,  # baked into the pages as the websocket's address
        "STORAGE_LOCAL_DIR": str(root / "storage"),  # one store, as S3 would be
        "REFLEX_TRUSTED_PROXY_HOPS": "1",  # client addresses from nginx's X-Forwarded-For
    }
    apps: list[ServedApp] = []
    procs: list[subprocess.Popen] = []
    try:
        for n, port in enumerate(ports, 1):
            tmp = root / f"app{n}"
            tmp.mkdir()
            env = app_env(tmp, port, **shared)
            apps.append(
                ServedApp(
                    url=f"http://127.0.0.1:{port}", env=env, database_url=database_url, log_path=tmp / "app.log", project=project_copy(tmp)
                )
            )
        apps[0].cli("migrate")  # once, for both
        demo = json.loads(apps[0].cli("seed-demo", "--json").stdout)
        balancer.prefix.mkdir()
        balancer.start()
        t0 = time.monotonic()
        procs = [serve_reflex_prod(app.project, port, app.env, app.log_path) for app, port in zip(apps, ports, strict=True)]
        for proc, app in zip(procs, apps, strict=True):
            wait_until_serving(proc, app, timeout=START_TIMEOUT)
        figure("R13 two app processes built and serving (started together)", f"{time.monotonic() - t0:.0f} s")
        assert httpx.get(balancer.url + "/ping", timeout=10).status_code == 200
        yield Cluster(balancer, apps, procs, database_url, demo)
    finally:
        for proc in procs:
            stop_app(proc)
        balancer.stop()
        # The logs outlive pytest's temp folders (it keeps the last three runs of anyone's tests).
        logs = SHOTS / "r13-logs"
        logs.mkdir(parents=True, exist_ok=True)
        for log in [balancer.access_log, balancer.error_log, *(app.log_path for app in apps if app.log_path)]:
            if log.exists():
                shutil.copy2(log, logs / f"{log.parent.name}-{log.name}")
        drop_pg_database(pg_server, database_url)
        client.flushdb()
        client.close()


def candidate_events(database_url: str, interview_id: str) -> tuple[list[str], list[str], dict[str, datetime]]:
    """The candidate's ``text_message`` events, transcript segments, and when the interview entered each status."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            iid = uuid.UUID(interview_id)
            events = session.exec(select(InterviewEvent).where(InterviewEvent.interview_id == iid).order_by(InterviewEvent.id)).all()  # type: ignore[arg-type]
            messages = [e.detail["text"] for e in events if e.kind == "text_message" and e.detail.get("speaker") == "candidate"]
            statuses = {e.detail["to"]: _utc(e.at) for e in events if e.kind == "status_changed"}
            segments = session.exec(
                select(TranscriptSegment).where(TranscriptSegment.interview_id == iid).order_by(TranscriptSegment.seq)
            ).all()  # type: ignore[arg-type]
            return messages, [s.text for s in segments if s.speaker == "candidate"], statuses
    finally:
        engine.dispose()


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def open_candidate_on_other_process(
    browser: Browser, cluster: Cluster, link: str, avoid: int, open_sockets: int
) -> tuple[BrowserContext, Page, int]:
    """A candidate tab whose websocket nginx gave to another process than ``avoid`` (round robin: a few tries)."""
    for _attempt in range(10):
        before = settled_websockets(cluster.ports, open_sockets)
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        page = context.new_page()
        page.goto(link)
        expect(page.locator("#welcome")).to_be_visible(timeout=30_000)
        port = _socket_moved(before, settled_websockets(cluster.ports, open_sockets + 1))
        if port != avoid:
            return context, page, port
        context.close()
        httpx.get(cluster.balancer.url + "/ping", timeout=10)  # one request moves the round robin on
    raise AssertionError(f"nginx gave every candidate tab to {cluster.name(avoid)} in 10 tries: not round robin?")


def start_text_interview(page: Page) -> None:
    """Consent and start on the page as it is (``open_chat`` without its reload: a reload may reach the other process)."""
    page.locator("#consent-checkbox").click()
    page.locator("#consent-continue").click()
    expect(page.locator("#text-interview")).to_be_visible(timeout=30_000)


def wait_for_status(page: Page, interview_id: str, pattern: str, timeout: float = STATUS_SEEN_WITHIN) -> datetime:
    """When the admin list's badge of ``interview_id`` first matched ``pattern`` (checked every 50 ms)."""
    page.wait_for_function(
        """([id, pattern]) => new RegExp(pattern).test(
               document.querySelector(`[data-interview-id='${id}'] .status-badge`)?.textContent ?? '')""",
        arg=[interview_id, pattern],
        polling=50,
        timeout=timeout * 1000,
    )
    return datetime.now(UTC)


def failed_assets(page: Page) -> list[str]:
    """Collects every frontend file the page could not load (through nginx), as it happens."""
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 and "/assets/" in r.url else None)
    page.on("requestfailed", lambda r: failed.append(f"{r.failure} {r.url}") if "/assets/" in r.url else None)
    return failed


def test_admin_and_candidate_on_different_processes_see_each_others_changes(cluster: Cluster, browser: Browser) -> None:
    demo = cluster.demo
    interview_id, link = demo["interview_id"], demo["candidate_link"]
    assert link.startswith(cluster.balancer.url), link  # the invitation points at the balancer

    admin_context = browser.new_context(viewport={"width": 1400, "height": 900})
    admin = admin_context.new_page()
    admin_failed = failed_assets(admin)
    sign_in(admin, cluster.balancer.url, demo["admin_email"], demo["admin_password"])
    expect(admin.locator(f"[data-interview-id='{interview_id}'] .status-badge")).to_have_text("invited", timeout=20_000)
    admin_port = _socket_moved(dict.fromkeys(cluster.ports, 0), settled_websockets(cluster.ports, 1))

    cand_context, cand, cand_port = open_candidate_on_other_process(browser, cluster, link, admin_port, 1)
    cand_failed = failed_assets(cand)
    figure("R13 admin list served by / candidate served by", f"{cluster.name(admin_port)} / {cluster.name(cand_port)}")

    # The candidate starts on its process; the admin's list, on the other one, shows it within a poll.
    start_text_interview(cand)
    seen_started = wait_for_status(admin, interview_id, "^in progress$")
    expect(agent_messages(cand).first).to_contain_text("Tell me about a backend system", timeout=30_000)
    SHOTS.mkdir(exist_ok=True)
    admin.screenshot(path=str(SHOTS / "r13-admin-list-through-nginx.png"), full_page=True)

    for text in ANSWERS:
        answer(cand, text)
    expect(cand.locator("#ti-finished")).to_be_visible(timeout=30_000)
    seen_ended = wait_for_status(admin, interview_id, "^(processing|completed)$")
    admin.screenshot(path=str(SHOTS / "r13-admin-list-after-the-interview.png"), full_page=True)
    # Each tab kept its websocket on its process for the whole interview.
    assert settled_websockets(cluster.ports, 2) == {admin_port: 1, cand_port: 1}

    messages, transcript, changes = candidate_events(cluster.database_url, interview_id)
    figure(
        "R13 status set on the candidate's process → shown on the admin list of the other (list polls every 2 s)",
        f"in_progress {(seen_started - changes['in_progress']).total_seconds():.2f} s, "
        f"processing {(seen_ended - changes['processing']).total_seconds():.2f} s",
    )
    figure("R13 candidate messages sent / stored as events / in the transcript", f"{len(ANSWERS)} / {len(messages)} / {len(transcript)}")
    assert messages == ANSWERS
    assert transcript == ANSWERS
    assert list(changes)[:2] == ["in_progress", "processing"], changes
    for status, seen in (("in_progress", seen_started), ("processing", seen_ended)):
        assert (seen - changes[status]).total_seconds() < STATUS_SEEN_WITHIN, (status, seen, changes[status])
    assert not admin_failed and not cand_failed, admin_failed + cand_failed

    cand_context.close()
    admin_context.close()
    settled_websockets(cluster.ports, 0)
    deadline = time.monotonic() + 10
    while len(cluster.balancer.requests_per_upstream(websockets=True)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)  # nginx logs a websocket when it has closed
    http = cluster.balancer.requests_per_upstream(websockets=False)
    sockets = cluster.balancer.requests_per_upstream(websockets=True)
    figure("R13 HTTP requests per app process through nginx", {cluster.name(_port(u)): n for u, n in sorted(http.items())})
    figure("R13 websockets per app process through nginx", {cluster.name(_port(u)): n for u, n in sorted(sockets.items())})
    second = cluster.balancer.asked_twice()
    figure(
        "R13 frontend files nginx fetched from the other process (each process has its own build)",
        f"{len(second)} of {sum(http.values())} requests",
    )
    upstreams = {f"127.0.0.1:{p}" for p in cluster.ports}
    assert set(http) == upstreams and min(http.values()) >= 5, http  # round robin: both answered pages and API calls
    assert {f"127.0.0.1:{admin_port}", f"127.0.0.1:{cand_port}"} <= set(sockets), sockets
    assert all(line.path.startswith("/assets/") for line in second), second[:5]


def _port(upstream: str) -> int:
    return int(upstream.rsplit(":", 1)[1])


class InterviewNotResumable(AssertionError):
    """After its process died, the text interview did not go on through the other process."""


def test_text_interview_continues_after_its_process_is_killed_mid_answer(cluster: Cluster, browser: Browser) -> None:
    invitation = cluster.new_invitation()
    link, interview_id = invitation["candidate_link"], invitation["interview_id"]
    before = settled_websockets(cluster.ports, 0)
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    try:
        open_chat(page, link)
        expect(agent_messages(page).first).to_contain_text("Tell me about a backend system", timeout=30_000)
        host_port = _socket_moved(before, settled_websockets(cluster.ports, 1))
        survivor_port = next(p for p in cluster.ports if p != host_port)
        answer(page, ANSWERS[0])
        answer(page, ANSWERS[1])

        # Mid-answer: the answer has reached the process (the page shows it), the interviewer replies.
        replies = agent_messages(page).count()
        box = page.locator("#ti-input")
        box.fill(ANSWERS[2])
        box.press("Enter")
        expect(page.locator(".ti-candidate").last).to_contain_text(ANSWERS[2], timeout=10_000)
        victim = cluster.procs[cluster.ports.index(host_port)]
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        killed = time.monotonic()

        # The tab reconnects through nginx, which skips the dead process.
        settled_websockets(cluster.ports, 1, timeout=60)
        assert websockets_per_process(cluster.ports)[survivor_port] == 1
        reconnected = time.monotonic() - killed
        figure("R13 after SIGKILL of the candidate's process: websocket back through nginx on the other one", f"{reconnected:.1f} s")

        try:
            expect(page.locator("#ti-refused")).to_have_count(0, timeout=5_000)
            expect(agent_messages(page)).to_have_count(replies + 1, timeout=60_000)  # the reply to the answer it died on
            for text in ANSWERS[3:]:
                answer(page, text)
            expect(page.locator("#ti-finished")).to_be_visible(timeout=30_000)
        except AssertionError as err:
            notice = page.locator("#ti-refused").all_inner_texts() or page.locator("#ti-error").all_inner_texts()
            figure("R13 text interview after SIGKILL of its process", f"did not continue ({' '.join(notice) or 'no reply'})")
            SHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SHOTS / "r13-after-kill.png"), full_page=True)
            raise InterviewNotResumable(f"the conversation did not continue on {cluster.name(survivor_port)}: {notice or err}") from err
        figure(
            "R13 text interview after SIGKILL of its process",
            f"continued on the other process, finished {time.monotonic() - killed:.1f} s after the kill",
        )
        messages, transcript, _statuses = candidate_events(cluster.database_url, interview_id)
        assert messages == ANSWERS and transcript == ANSWERS, (messages, transcript)
    finally:
        context.close()
