"""nginx (Debian's package) in front of app processes on loopback, configured from deploy/nginx.conf.

The deployed file is the single source: :func:`render_nginx_conf` replaces only what belongs to
the machine — the upstream addresses, the listen address, the pid file, the logs and nginx's
temp folders — and refuses a deploy/nginx.conf whose shape it no longer recognises, so the test
and the deployment cannot drift apart silently.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_CONF = ROOT / "deploy" / "nginx.conf"
_UPSTREAM_BLOCK = re.compile(r"upstream interview_app \{(?P<body>[^}]*)\}")
_SERVER = re.compile(r"^\s*server\s+(\S+?)(?:\s+[^;]*)?;", re.M)
_LOG_LINE = re.compile(r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d{3}) upstream=(?P<upstream>.+?) request_time=')


def nginx_binary() -> str | None:
    """nginx on PATH, or in /usr/sbin (Debian's place, often missing from a non-root PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")


def upstream_servers(conf: str) -> list[str]:
    """The addresses in the ``interview_app`` upstream block, in order."""
    block = _UPSTREAM_BLOCK.search(conf)
    if block is None:
        raise ValueError("no `upstream interview_app { ... }` block")
    return _SERVER.findall(block["body"])


def listen_port(conf: str) -> int:
    """The port of the (single) ``listen`` directive."""
    ports = re.findall(r"^\s*listen\s+(?:[\d.]+:)?(\d+)\s*;", conf, re.M)
    if len(ports) != 1:
        raise ValueError(f"expected one `listen PORT;`, found {ports}")
    return int(ports[0])


def _once(text: str, pattern: str, replacement: str) -> str:
    new, n = re.subn(pattern, lambda _m: replacement, text, flags=re.M)
    if n != 1:
        raise ValueError(f"deploy/nginx.conf: expected exactly one line matching {pattern!r}, found {n}")
    return new


def render_nginx_conf(servers: Sequence[str], port: int, prefix: Path, conf: str | None = None) -> str:
    """deploy/nginx.conf for loopback: ``servers`` as the upstream, ``127.0.0.1:port``, files under ``prefix``."""
    text = DEPLOY_CONF.read_text() if conf is None else conf
    block = _UPSTREAM_BLOCK.search(text)
    if block is None or not _SERVER.search(block["body"]):
        raise ValueError("deploy/nginx.conf: no `upstream interview_app { server ...; }` block")
    indent = re.search(r"^(\s*)server\s", block["body"], re.M)
    pad = indent[1] if indent else "        "
    body = _SERVER.sub("", block["body"]).rstrip() + "".join(f"\n{pad}server {s};" for s in servers) + "\n    "
    text = text[: block.start("body")] + body + text[block.end("body") :]
    text = _once(text, r"^\s*listen\s+[^;]+;", f"        listen 127.0.0.1:{port};")
    text = _once(text, r"^pid\s+[^;]+;", f"pid {prefix / 'nginx.pid'};")
    text = _once(text, r"^error_log\s+\S+", f"error_log {prefix / 'error.log'}")
    text = _once(text, r"^(\s*)access_log\s+\S+", f"    access_log {prefix / 'access.log'}")
    temp = "".join(f"\n    {kind}_temp_path {prefix / 'temp' / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    text = _once(text, r"^http \{", "http {" + temp)
    if os.geteuid() == 0:
        # As root, nginx's workers would run as `nobody`, who cannot enter pytest's private temp folders.
        text = "user root;\n" + text
    return text


@dataclass(frozen=True)
class AccessLine:
    method: str
    path: str
    status: int
    upstream: str  # "127.0.0.1:PORT"; "a, b" when nginx tried a first; "-" when no upstream answered


class Balancer:
    """``nginx -g 'daemon off;'`` with the rendered deploy/nginx.conf, its own prefix, pid and logs."""

    def __init__(self, prefix: Path, servers: Sequence[str], port: int) -> None:
        self.prefix = prefix
        self.servers = list(servers)
        self.port = port
        self.conf_path = prefix / "nginx.conf"
        self.access_log = prefix / "access.log"
        self.error_log = prefix / "error.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _command(self, *extra: str) -> list[str]:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed: `make system-deps` installs Debian's nginx package")
        return [binary, "-p", f"{self.prefix}/", "-c", str(self.conf_path), "-e", str(self.error_log), *extra]

    def write_config(self) -> None:
        (self.prefix / "temp").mkdir(parents=True, exist_ok=True)
        self.conf_path.write_text(render_nginx_conf(self.servers, self.port, self.prefix))

    def check_config(self) -> subprocess.CompletedProcess[str]:
        """``nginx -t`` on the rendered file."""
        self.write_config()
        return subprocess.run(self._command("-t"), capture_output=True, text=True, timeout=30)

    def start(self, timeout: float = 15) -> None:
        checked = self.check_config()
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t refused the rendered deploy/nginx.conf:\n{checked.stderr}")
        self.proc = subprocess.Popen(
            self._command("-g", "daemon off;"), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}:\n{self.error_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"nginx did not listen on {self.port} within {timeout} s:\n{self.error_tail()}")

    def stop(self) -> None:
        """Fast shutdown (SIGTERM closes the open websockets too), SIGKILL if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def error_tail(self, n: int = 30) -> str:
        if not self.error_log.exists():
            return ""
        return "\n".join(self.error_log.read_text(errors="replace").splitlines()[-n:])

    def access_lines(self) -> list[AccessLine]:
        if not self.access_log.exists():
            return []
        lines = []
        for match in map(_LOG_LINE.search, self.access_log.read_text(errors="replace").splitlines()):
            if match:
                lines.append(AccessLine(match["method"], match["path"], int(match["status"]), match["upstream"]))
        return lines

    def asked_twice(self) -> list[AccessLine]:
        """Requests nginx passed on to a second process (the first refused the connection or had no such file)."""
        return [line for line in self.access_lines() if ", " in line.upstream]

    def requests_per_upstream(self, *, websockets: bool | None = None) -> Counter[str]:
        """How many logged requests each upstream answered (``websockets``: only /_event, or none of them)."""
        counts: Counter[str] = Counter()
        for line in self.access_lines():
            is_socket = line.path.startswith("/_event")
            if websockets is None or websockets == is_socket:
                counts[line.upstream.split(", ")[-1]] += 1
        return counts
