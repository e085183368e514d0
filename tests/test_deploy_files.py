"""Deployment files that cannot run here (no Docker engine): checked for what can be checked."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from interview_app.settings import settings_env_keys

ROOT = Path(__file__).resolve().parent.parent


def test_compose_wires_every_service_with_known_keys() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "livekit", "minio", "app", "agent"} <= set(services)
    known = settings_env_keys()
    for name in ("app", "agent"):
        env = services[name]["environment"]
        unknown = set(env) - known
        assert not unknown, f"{name} sets keys the code never reads: {unknown}"
        assert env["DATABASE_URL"].startswith("postgresql://")
        assert env["STORAGE_BACKEND"] == "s3"
    assert services["app"]["build"]["target"] == "app" and services["agent"]["build"]["target"] == "agent"


def test_dockerfile_has_app_and_agent_targets_non_root_with_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = set(re.findall(r"^FROM \S+ AS (\S+)", text, re.M))
    assert {"app", "agent"} <= stages
    for target in ("app", "agent"):
        section = text.split(f" AS {target}\n", 1)[1].split("\nFROM ", 1)[0]
        assert re.search(r"^USER app$", section, re.M), f"{target} runs as root"
    app_section = text.split(" AS app\n", 1)[1]
    assert "HEALTHCHECK" in app_section and "/healthz" in app_section


def test_every_file_the_images_copy_exists() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for line in re.findall(r"^COPY (?!--from)(.+)$", text, re.M):
        *sources, _dest = line.split()
        for src in sources:
            assert (ROOT / src).exists(), f"Dockerfile copies missing {src}"
