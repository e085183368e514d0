"""Fixtures for the review tests: S3 servers (moto, s3rver) on free ports, storage settings."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import free_port, stop_app

ROOT = Path(__file__).resolve().parents[2]
S3RVER_JS = ROOT / ".tools" / "s3rver" / "node_modules" / "s3rver" / "bin" / "s3rver.js"
S3RVER_SIGV4_JS = ROOT / ".tools" / "s3rver-sigv4" / "node_modules" / "@20minutes" / "s3rver" / "lib" / "s3rver.js"
S3RVER_INSTALL = (
    "npm install --prefix .tools/s3rver s3rver@3.7.1 && npm install --prefix .tools/s3rver-sigv4 @20minutes/s3rver@5.0.0 (make test does)"
)
MOTO_BIN = Path(sys.executable).parent / "moto_server"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@dataclass(frozen=True)
class S3Server:
    name: str
    endpoint_url: str
    access_key: str
    secret_key: str
    enforces_signatures: bool

    def env(self, bucket: str) -> dict[str, str]:
        return {
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": bucket,
            "S3_REGION": "us-east-1",
            "S3_ENDPOINT_URL": self.endpoint_url,
            "S3_FORCE_PATH_STYLE": "true",
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
        }


def _start(cmd: list[str], url: str, log: Path) -> subprocess.Popen:
    out = log.open("w")
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=log.parent)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            httpx.get(url, timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    stop_app(proc)
    raise RuntimeError(f"{cmd[0]} did not answer at {url} within 30 s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """moto's S3 server: fast, but ignores signatures and expiry."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _start([str(MOTO_BIN), "-H", "127.0.0.1", "-p", str(port)], url, tmp_path_factory.mktemp("moto") / "moto.log")
    yield S3Server("moto", url, "testing", "testing", enforces_signatures=False)
    stop_app(proc)


def _require(path: Path) -> None:
    if not path.exists():
        message = f"{path.relative_to(ROOT)} is missing: {S3RVER_INSTALL}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def s3rver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """s3rver 3.7.1 (npm): checks the expiry of presigned URLs, not their SigV4 signature."""
    _require(S3RVER_JS)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = tmp_path_factory.mktemp("s3rver")
    cmd = ["node", str(S3RVER_JS), "-d", str(data / "data"), "-a", "127.0.0.1", "-p", str(port), "--no-vhost-buckets", "-s"]
    proc = _start(cmd, url, data / "s3rver.log")
    yield S3Server("s3rver", url, "S3RVER", "S3RVER", enforces_signatures=False)
    stop_app(proc)


@pytest.fixture(scope="session")
def s3rver_sigv4(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """@20minutes/s3rver 5.0.0 (npm): the s3rver fork that verifies SigV4 signatures and expiry."""
    _require(S3RVER_SIGV4_JS)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = tmp_path_factory.mktemp("s3rver-sigv4")
    (data / "data").mkdir()
    launcher = Path(__file__).with_name("s3rver_sigv4.js")
    proc = _start(["node", str(launcher), str(S3RVER_SIGV4_JS), str(data / "data"), str(port)], url, data / "s3rver.log")
    yield S3Server("s3rver-sigv4", url, "S3RVER", "S3RVER", enforces_signatures=True)
    stop_app(proc)


@pytest.fixture(params=["moto_s3", "s3rver", "s3rver_sigv4"])
def s3_server(request: pytest.FixtureRequest) -> S3Server:
    return request.getfixturevalue(request.param)


def make_bucket(server: S3Server, bucket: str) -> None:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=server.endpoint_url,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        config=Config(s3={"addressing_style": "path"}),
    )
    client.create_bucket(Bucket=bucket)


class ChatCompletionsServer:
    """A small OpenAI-compatible chat-completions server with canned answers, on 127.0.0.1."""

    def __init__(self) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.answers: list[tuple[int, str]] = []  # (HTTP status, assistant content) served in order
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
                status, content = server.answers.pop(0) if server.answers else (500, "no canned answer left")
                if status == 200:
                    payload = {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "model": body.get("model"),
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                    }
                    data = json.dumps(payload).encode()
                else:
                    data = json.dumps({"error": {"message": content}}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, content: object, status: int = 200) -> None:
        import json

        self.answers.append((status, content if isinstance(content, str) else json.dumps(content)))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def llm_server() -> Iterator[ChatCompletionsServer]:
    server = ChatCompletionsServer()
    yield server
    server.close()
