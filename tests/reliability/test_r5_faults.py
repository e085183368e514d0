"""R5 — faults: PostgreSQL restarted under load, the S3 store down while results arrive, LiveKit unreachable.

PostgreSQL: a throwaway cluster of our own (initdb/pg_ctl from /usr/lib/postgresql/15/bin, run as
the ``postgres`` user when we are root) on a free port — never the shared server on 5432.
S3: s3rver (keeps its objects on disk, so a stopped and restarted store still has them).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session

from agent.reporting import Outbox, report_result
from interview_app.services.interviews import transition
from tests.conftest import migrate_to
from tests.factories import make_interview
from tests.fakes.livekit_server import FakeLiveKitServer
from tests.reliability.conftest import ROOT, db_snapshot, figure, free_port
from tests.reliability.reporter_process import result_for, segment_texts

PG_BIN = Path("/usr/lib/postgresql/15/bin")
S3RVER_JS = ROOT / ".tools" / "s3rver" / "node_modules" / "s3rver" / "bin" / "s3rver.js"
KEY, SECRET = "APIreliabilityR5", "r5-livekit-secret-" + "f" * 30


# --------------------------------------------------------------------------- PostgreSQL


@dataclass
class PgCluster:
    datadir: Path
    port: int

    def _run(self, *args: str, timeout: float = 60) -> None:
        cmd = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.datadir} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.datadir / "data"), "-o", opts, "-l", str(self.datadir / "pg.log"), "-w", "-t", "30", "start")

    def restart(self) -> None:
        # stop + start rather than `pg_ctl restart`, which would hand our pipes to the new postmaster
        self._run("pg_ctl", "-D", str(self.datadir / "data"), "-m", "fast", "-w", "-t", "30", "stop")
        self.start()

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.datadir / "data"), "-m", "immediate", "-w", "-t", "30", "stop")
        except subprocess.CalledProcessError:
            pass


@pytest.fixture
def pg_cluster() -> Iterator[PgCluster]:
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL 15 binaries not found in {PG_BIN}")
    datadir = Path(f"/tmp/reliability-pg-{uuid.uuid4().hex[:8]}")
    datadir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres", "postgres")
    cluster = PgCluster(datadir, free_port())
    cluster._run("initdb", "-D", str(datadir / "data"), "-A", "trust", "-U", "postgres", "--no-sync", timeout=120)
    cluster.start()
    yield cluster
    cluster.stop()
    shutil.rmtree(datadir, ignore_errors=True)


@pytest.mark.reliability_slow
def test_postgres_restart_under_load_recovers_within_5_s(pg_cluster: PgCluster, server_env, api_server_factory) -> None:
    migrate_to(pg_cluster.url)
    engine = sa.create_engine(pg_cluster.url)
    with Session(engine, expire_on_commit=False) as s:
        tokens = [make_interview(s)[1] for _ in range(20)]
    engine.dispose()
    livekit = FakeLiveKitServer(KEY, SECRET).start()
    try:
        app = api_server_factory(server_env | livekit.env | {"DATABASE_URL": pg_cluster.url})
        app.start()
        log: list[tuple[float, str, int]] = []  # (time, what, status; 0 = transport error)
        stop = threading.Event()

        def load(n: int) -> None:
            with httpx.Client(base_url=app.url, timeout=10) as client:
                i = 0
                while not stop.is_set():
                    i += 1
                    try:
                        if i % 2:
                            res = client.get("/readyz")
                        else:
                            res = client.post("/api/interview/start", json={"invite_token": tokens[(n * 7 + i) % len(tokens)]})
                        log.append((time.monotonic(), "req", res.status_code))
                    except httpx.HTTPError:
                        log.append((time.monotonic(), "req", 0))
                    time.sleep(0.02)

        threads = [threading.Thread(target=load, args=(n,), daemon=True) for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(3)
        t_restart = time.monotonic()
        pg_cluster.restart()
        t_up = time.monotonic()
        time.sleep(10)
        stop.set()
        for t in threads:
            t.join(timeout=15)
    finally:
        livekit.stop()
    failed_after = [(round(t - t_up, 2), s) for t, _, s in log if t > t_up and s not in (200,)]
    last_failure = max((t for t, _ in failed_after), default=0.0)
    during = Counter(s for t, _, s in log if t_restart <= t <= t_up + 0.5 and s != 200)
    before = [s for t, _, s in log if t < t_restart]
    figure("R5 PostgreSQL restart: requests under load", len(log))
    figure("R5 PostgreSQL restart: pg_ctl restart took", f"{t_up - t_restart:.1f} s, failed meanwhile by status: {dict(during)}")
    figure("R5 PostgreSQL restart: last failed request after PostgreSQL was up", f"{last_failure:.2f} s ({len(failed_after)} failed)")
    assert before and all(s == 200 for s in before), "requests failed before the restart"
    assert set(during) <= {503}, f"while PostgreSQL restarted the app answered {dict(during)} (want 503 with a sentence)"
    assert last_failure <= 5.0, failed_after[:20]
    late = [f for f in failed_after if f[0] > 5.0]
    assert not late, f"requests failed more than 5 s after PostgreSQL was back: {late[:10]}"
    assert sum(1 for t, _, s in log if t > t_up + 5 and s == 200) > 50


# --------------------------------------------------------------------------- S3 down


class S3rver:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.data = tmp / "s3rver-data"
        self.data.mkdir()
        self.log = tmp / "s3rver.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        cmd = ["node", str(S3RVER_JS), "-d", str(self.data), "-a", "127.0.0.1", "-p", str(self.port), "--no-vhost-buckets", "-s"]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url, timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("s3rver did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def env(self, bucket: str) -> dict[str, str]:
        return {
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": bucket,
            "S3_REGION": "us-east-1",
            "S3_ENDPOINT_URL": self.url,
            "S3_FORCE_PATH_STYLE": "true",
            "AWS_ACCESS_KEY_ID": "S3RVER",
            "AWS_SECRET_ACCESS_KEY": "S3RVER",
        }

    def client(self):
        import boto3

        return boto3.client(
            "s3", region_name="us-east-1", endpoint_url=self.url, aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER"
        )


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[S3rver]:
    if not S3RVER_JS.exists():
        pytest.skip("s3rver is not installed (make test installs it into .tools/s3rver)")
    server = S3rver(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.mark.reliability_slow
def test_s3_down_while_results_arrive_nothing_is_lost(s3: S3rver, sqlite_url: str, tmp_path: Path, server_env, api_server_factory) -> None:
    bucket = "reliability-" + uuid.uuid4().hex[:8]
    s3.client().create_bucket(Bucket=bucket)
    engine = sa.create_engine(sqlite_url)
    ids: list[str] = []
    with Session(engine, expire_on_commit=False) as s:
        for _ in range(10):
            interview, _ = make_interview(s)
            transition(s, interview, "in_progress")
            s.commit()
            ids.append(str(interview.id))
    app = api_server_factory(
        server_env
        | s3.env(bucket)
        | {"DATABASE_URL": sqlite_url, "LIVEKIT_URL": "ws://127.0.0.1:9", "LIVEKIT_API_KEY": KEY, "LIVEKIT_API_SECRET": SECRET}
    )
    app.start()
    outbox = Outbox(tmp_path / "outbox", url=f"{app.url}/webhooks/interview-ended", api_key=KEY, api_secret=SECRET, timeout=30)

    s3.stop()
    before = db_snapshot(sqlite_url)
    attempts = [report_result(result_for(i), outbox) for i in ids]
    assert [a.status for a in attempts] == ["retry"] * len(ids), [a.detail for a in attempts]
    assert all("503" in a.detail for a in attempts), attempts[0].detail
    assert db_snapshot(sqlite_url) == before, "a refused result wrote something"

    s3.start()
    t0 = time.monotonic()
    thread, stop = outbox.start_sweeper(interval=0.5)
    try:
        while outbox.pending() and time.monotonic() < t0 + 60:
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(timeout=10)
    took = time.monotonic() - t0
    assert outbox.pending() == [] and outbox.dead() == []
    client = s3.client()
    with engine.connect() as conn:
        for interview_id in ids:
            obj = client.get_object(Bucket=bucket, Key=f"interviews/{interview_id}/transcript.json")["Body"].read().decode()
            assert all(t in obj for t in segment_texts(interview_id))
            hex_id = uuid.UUID(interview_id).hex
            n = conn.execute(sa.text("SELECT count(*) FROM transcript_segment WHERE interview_id = :i"), {"i": hex_id}).scalar_one()
            uri = conn.execute(sa.text("SELECT s3_transcript_url FROM interview WHERE id = :i"), {"i": hex_id}).scalar_one()
            assert n == len(segment_texts(interview_id)) and uri == f"s3://{bucket}/interviews/{interview_id}/transcript.json"
    engine.dispose()
    figure("R5 S3 down: results refused with 503 and kept in the outbox", len(ids))
    figure("R5 S3 back: all results stored (transcripts in the bucket) after", f"{took:.1f} s")


# --------------------------------------------------------------------------- LiveKit unreachable


def test_livekit_unreachable_start_is_503_with_a_sentence_and_writes_nothing(
    sqlite_url: str,
    server_env,
    api_server_factory,
) -> None:
    engine = sa.create_engine(sqlite_url)
    with Session(engine, expire_on_commit=False) as s:
        interview, raw = make_interview(s, ttl=timedelta(days=1))
    engine.dispose()
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    app = api_server_factory(
        server_env | {"DATABASE_URL": sqlite_url, "LIVEKIT_URL": dead, "LIVEKIT_API_KEY": KEY, "LIVEKIT_API_SECRET": SECRET}
    )
    app.start()
    before = db_snapshot(sqlite_url)
    t0 = time.monotonic()
    res = httpx.post(f"{app.url}/api/interview/start", json={"invite_token": raw}, timeout=60)
    took = time.monotonic() - t0
    assert res.status_code == 503 and res.json()["error"] == "livekit_unavailable", res.text
    assert res.json()["detail"].startswith("The interview room could not be prepared right now. Please try again")
    assert db_snapshot(sqlite_url) == before  # still invited: the candidate can simply try again
    assert took < 15, f"the candidate waited {took:.1f} s for the answer"
    figure("R5 LiveKit unreachable: start API answer", f"503 livekit_unavailable in {took:.2f} s, nothing written")


@pytest.mark.reliability_slow
def test_worker_exits_non_zero_when_livekit_is_unreachable(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "OPENAI_", "LLM_", "STT_"))}
    env |= {
        "ENV_FILE": str(tmp_path / "none.env"),
        "LIVEKIT_URL": f"ws://127.0.0.1:{free_port()}",
        "LIVEKIT_API_KEY": KEY,
        "LIVEKIT_API_SECRET": SECRET,
        "OPENAI_API_KEY": "unused",
        "AGENT_CONNECT_RETRIES": "1",
        "AGENT_HTTP_PORT": "0",
        "AGENT_IDLE_PROCESSES": "1",
        "AGENT_OUTBOX_DIR": str(tmp_path / "outbox"),
    }
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "agent", "start"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    figure("R5 LiveKit unreachable: worker exit code", f"{proc.returncode} after {time.monotonic() - t0:.1f} s")
    assert proc.returncode == 1, proc.stderr[-2000:]
