"""Deployment files that cannot run here (no Docker engine): checked for what can be checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from interview_app.settings import settings_env_keys
from tests.reliability.balancer import Balancer, listen_port, nginx_binary, upstream_servers

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
    # The frontend compiles at image build time, and a failure fails the build (no `|| true`).
    [export] = re.findall(r"^RUN reflex export .*$", app_section, re.M)
    assert "||" not in export and not export.rstrip().endswith("\\"), export


def test_every_file_the_images_copy_exists() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for line in re.findall(r"^COPY (?!--from)(.+)$", text, re.M):
        *sources, _dest = line.split()
        for src in sources:
            assert (ROOT / src).exists(), f"Dockerfile copies missing {src}"


def test_compose_livekit_egress_and_webhooks_agree() -> None:
    """The voice path on a real livekit-server: one key pair everywhere, webhooks to the app, egress on the same Redis."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    livekit_cfg = yaml.safe_load((ROOT / "deploy" / "livekit.yaml").read_text())
    egress_cfg = yaml.safe_load((ROOT / "deploy" / "egress.yaml").read_text())
    app_env, agent_env = services["app"]["environment"], services["agent"]["environment"]
    key, secret = app_env["LIVEKIT_API_KEY"], app_env["LIVEKIT_API_SECRET"]
    assert (agent_env["LIVEKIT_API_KEY"], agent_env["LIVEKIT_API_SECRET"]) == (key, secret)
    assert livekit_cfg["keys"] == {key: secret}, "deploy/livekit.yaml must hold the app's key pair"
    assert len(secret) >= 32, "livekit-server refuses secrets under 32 characters outside --dev"
    assert (egress_cfg["api_key"], egress_cfg["api_secret"]) == (key, secret)
    # webhooks: signed with the app's key, sent to the app's own route on its port
    assert livekit_cfg["webhook"]["api_key"] == key
    app_port = app_env["PORT"]
    assert f"http://app:{app_port}/webhooks/livekit" in livekit_cfg["webhook"]["urls"]
    assert agent_env["RESULT_WEBHOOK_URL"] == f"http://app:{app_port}/webhooks/interview-ended"
    # the app, the agent and egress all reach the server on its configured port
    lk_url = f"ws://livekit:{livekit_cfg['port']}"
    assert app_env["LIVEKIT_URL"] == agent_env["LIVEKIT_URL"] == egress_cfg["ws_url"] == lk_url
    # egress takes its jobs from livekit-server over the same Redis, which compose runs
    assert livekit_cfg["redis"]["address"] == egress_cfg["redis"]["address"]
    assert livekit_cfg["redis"]["address"].split(":")[0] in services
    # each service reads the file checked here
    assert "./deploy/livekit.yaml:/etc/livekit.yaml:ro" in services["livekit"]["volumes"]
    assert services["livekit"]["command"] == ["--config", "/etc/livekit.yaml"]
    egress = services["egress"]
    assert f"./deploy/egress.yaml:{egress['environment']['EGRESS_CONFIG_FILE']}:ro" in egress["volumes"]
    # recordings go to S3 (egress cannot write the app's disk) in the bucket compose creates
    assert app_env["STORAGE_BACKEND"] == "s3" and app_env["S3_BUCKET"] in services["minio-bucket"]["entrypoint"][-1]
    # and every key compose sets is documented in .env.example
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    for name in ("app", "agent"):
        undocumented = set(services[name]["environment"]) - documented - {"PORT"}
        assert not undocumented, f"{name} sets keys .env.example does not document: {undocumented}"
    assert {"LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET", "RECORDING_FORMAT", "STORAGE_BACKEND"} <= documented


def _directives(conf: str) -> str:
    """nginx.conf without its comments."""
    return "\n".join(line.split("#", 1)[0].rstrip() for line in conf.splitlines())


def test_compose_scale_profile_puts_nginx_in_front_of_two_app_processes() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert {name for name, s in services.items() if "scale" in s.get("profiles", [])} == {"app-2", "balancer"}
    app, second, balancer = services["app"], services["app-2"], services["balancer"]
    # the same image and environment: one PostgreSQL database, one Redis, one SECRET_KEY, one APP_URL
    assert second["build"] == app["build"] and second["environment"] == app["environment"]
    assert app["environment"]["REDIS_URL"] and app["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert second["depends_on"]["app"]["condition"] == "service_healthy"  # migrations run once, by app, first
    assert "ports" not in second  # reached through the balancer only
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in balancer["volumes"]
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    port = app["environment"]["PORT"]
    assert upstream_servers(conf) == [f"app:{port}", f"app-2:{port}"]
    assert balancer["ports"] == [f"{listen_port(conf)}:{listen_port(conf)}"]
    assert set(balancer["depends_on"]) == {"app", "app-2"}
    compose_text = (ROOT / "docker-compose.yml").read_text()
    assert f"APP_URL=http://localhost:{listen_port(conf)} docker compose --profile scale up" in compose_text


def test_nginx_config_is_round_robin_with_websockets() -> None:
    conf = _directives((ROOT / "deploy" / "nginx.conf").read_text())
    upstream = re.search(r"upstream interview_app \{([^}]*)\}", conf)
    assert upstream is not None
    # no balancing method (ip_hash, hash, sticky, least_conn, random): nginx's default, round robin
    assert {line.split()[0] for line in upstream[1].splitlines() if line.strip()} == {"zone", "server"}
    assert not re.search(r"\b(ip_hash|sticky)\b", conf)
    # Reflex's /_event websocket: HTTP/1.1 upgrade headers, and no cut after nginx's default 60 s
    assert "proxy_http_version 1.1;" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf and "proxy_set_header Connection $connection_upgrade;" in conf
    assert re.search(r"map \$http_upgrade \$connection_upgrade \{\s*default upgrade;", conf)
    timeout = re.search(r"proxy_read_timeout (\d+)s;", conf)
    assert timeout and int(timeout[1]) >= 600
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf  # REFLEX_TRUSTED_PROXY_HOPS=1 reads it
    assert "$upstream_addr" in conf  # the access log says which process served each request


def test_nginx_accepts_the_config_the_load_balancer_test_runs(tmp_path: Path) -> None:
    """``nginx -t`` on deploy/nginx.conf as tests/reliability/test_r13 renders it; only the machine's lines differ."""
    if nginx_binary() is None:
        pytest.fail("nginx is not installed: `make system-deps` installs Debian's nginx package")
    balancer = Balancer(tmp_path, ["127.0.0.1:3101", "127.0.0.1:3102"], 3100)
    checked = balancer.check_config()
    assert checked.returncode == 0, checked.stderr
    deployed = (ROOT / "deploy" / "nginx.conf").read_text().splitlines()
    rendered = balancer.conf_path.read_text().splitlines()
    machine = re.compile(r"^\s*(server app|listen|pid|error_log|access_log)\b")
    kept = iter(rendered)
    missing = [line for line in deployed if not machine.match(line) and line not in kept]
    assert not missing, f"the test's nginx config lost deployed lines: {missing}"
    assert upstream_servers(balancer.conf_path.read_text()) == balancer.servers
