"""One Settings object, read from the environment and `.env` (python-dotenv).

Nothing else in the project reads ``os.environ``. Every key is documented in
``.env.example``; a key that a configured feature needs but that is missing or
malformed raises :class:`ConfigError` whose message is one line naming the key
and what to put there.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

from dotenv import dotenv_values

from interview_app import i18n
from interview_app.i18n import en as i18n_en

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting is missing or malformed. The message is one line for a person."""


def _env_file() -> Path:
    return Path(os.environ.get("ENV_FILE", PROJECT_ROOT / ".env"))


def _raw_environment() -> dict[str, str]:
    """Process environment over `.env` values (the environment wins)."""
    values: dict[str, str] = {}
    env_file = _env_file()
    if env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ)
    return values


def _as_int(raw: dict[str, str], key: str, default: int, minimum: int = 0) -> int:
    value = raw.get(key, "").strip()
    if not value:
        return default
    try:
        parsed = int(value)
    except ValueError:
        raise ConfigError(f"{key}={value!r} is not a whole number: put e.g. {key}={default} in .env") from None
    if parsed < minimum:
        raise ConfigError(f"{key}={parsed} is too small: it must be at least {minimum}")
    return parsed


def _as_float(raw: dict[str, str], key: str, default: float, minimum: float | None = None, maximum: float | None = None) -> float:
    value = raw.get(key, "").strip()
    if not value:
        return default
    try:
        parsed = float(value)
    except ValueError:
        raise ConfigError(f"{key}={value!r} is not a number: put e.g. {key}={default} in .env") from None
    if minimum is not None and parsed < minimum:
        raise ConfigError(f"{key}={parsed:g} is too small: it must be at least {minimum:g}")
    if maximum is not None and parsed > maximum:
        raise ConfigError(f"{key}={parsed:g} is too large: it must be at most {maximum:g}")
    return parsed


def _as_bool(raw: dict[str, str], key: str, default: bool) -> bool:
    value = raw.get(key, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{key}={value!r} is not a yes/no value: put {key}=true or {key}=false in .env")


def _choice(raw: dict[str, str], key: str, default: str, choices: tuple[str, ...]) -> str:
    value = raw.get(key, "").strip().lower() or default
    if value not in choices:
        raise ConfigError(f"{key}={value!r} is not one of {', '.join(choices)}: put e.g. {key}={default} in .env")
    return value


def _url(raw: dict[str, str], key: str, default: str, schemes: tuple[str, ...]) -> str:
    value = raw.get(key, "").strip() or default
    if not value:
        return ""
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.netloc:
        raise ConfigError(f"{key}={value!r} is not a {'/'.join(schemes)} URL: put e.g. {key}={schemes[0]}://host in .env")
    return value.rstrip("/")


def _data_dir(raw: dict[str, str]) -> Path:
    """DATA_DIR (default ./data; relative to the project): the development files' folder."""
    value = raw.get("DATA_DIR", "").strip()
    path = Path(value).expanduser() if value else Path("data")
    return path if path.is_absolute() else PROJECT_ROOT / path


def _database_url(raw: dict[str, str], data_dir: Path) -> str:
    value = raw.get("DATABASE_URL", "").strip()
    if not value:
        return f"sqlite:///{(data_dir / 'interviews.db').as_posix()}"
    if value.startswith("postgres://"):  # Heroku-style alias SQLAlchemy refuses
        value = "postgresql://" + value[len("postgres://") :]
    if value.startswith("postgresql://"):  # SQLAlchemy 2.1 would pick psycopg 3; the stack is psycopg2
        value = "postgresql+psycopg2://" + value[len("postgresql://") :]
    if not (value.startswith("sqlite:///") or value.startswith("postgresql+psycopg2://")):
        raise ConfigError(
            f"DATABASE_URL={value.split('@')[-1]!r} is not supported: use sqlite:///path/to.db or postgresql://user:pass@host:5432/dbname"
        )
    return value


GREENHOUSE_KEY_MIN_CHARS = 24


def _greenhouse_api_key(value: str) -> str:
    """GREENHOUSE_API_KEY: empty (off), or a long random key that can be an HTTP Basic user name."""
    value = value.strip()
    if not value:
        return ""
    hint = 'generate one with `python -c "import secrets; print(secrets.token_urlsafe(32))"`'
    if len(value) < GREENHOUSE_KEY_MIN_CHARS:
        raise ConfigError(f"GREENHOUSE_API_KEY is shorter than {GREENHOUSE_KEY_MIN_CHARS} characters: {hint}")
    if ":" in value or not all(33 <= ord(ch) < 127 for ch in value):
        raise ConfigError(
            f"GREENHOUSE_API_KEY may hold only printable ASCII without spaces or colons (it is a Basic-auth user name): {hint}"
        )
    return value


def _secret_key(raw: dict[str, str], production: bool, data_dir: Path) -> str:
    value = raw.get("SECRET_KEY", "").strip()
    if value:
        if len(value) < 32:
            raise ConfigError(
                'SECRET_KEY is shorter than 32 characters: generate one with `python -c "import secrets; print(secrets.token_urlsafe(48))"`'
            )
        return value
    if production:
        raise ConfigError(
            'SECRET_KEY is not set: production needs one, generate it with `python -c "import secrets; print(secrets.token_urlsafe(48))"`'
        )
    # Development: a key kept beside the embedded database so sessions survive restarts.
    key_file = data_dir / ".secret_key"
    if key_file.is_file():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


# The default consent wording (English; other languages from the candidate pages' catalogue).
VOICE_CONSENT_TEXT = i18n_en.MESSAGES["consent.voice"]
VIDEO_CONSENT_TEXT = i18n_en.MESSAGES["consent.video"]
TEXT_CONSENT_TEXT = i18n_en.MESSAGES["consent.text"]


@dataclass(frozen=True)
class Settings:
    """Every setting of the app and the agent worker (see .env.example)."""

    app_env: str = "development"
    data_dir: str = str(PROJECT_ROOT / "data")
    database_url: str = ""
    redis_url: str = ""
    app_url: str = "http://127.0.0.1:3000"
    port: int = 3000
    secret_key: str = field(default="", repr=False)
    org_name: str = "Acme Hiring"
    support_email: str = "recruiting@example.com"

    livekit_url: str = ""
    livekit_api_key: str = ""
    livekit_api_secret: str = field(default="", repr=False)
    livekit_public_url: str = ""
    agent_name: str = "interviewer"
    agent_join_timeout_seconds: int = 30
    candidate_token_ttl_seconds: int = 900

    storage_backend: str = "local"
    storage_local_dir: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_endpoint_url: str = ""
    s3_force_path_style: bool = False
    s3_public_endpoint_url: str = ""
    aws_access_key_id: str = ""
    aws_secret_access_key: str = field(default="", repr=False)
    presign_ttl_seconds: int = 900
    recording_format: str = "ogg"

    llm_provider: str = "scripted"
    openai_api_key: str = field(default="", repr=False)
    openai_base_url: str = ""
    llm_model: str = "gpt-4o-mini"
    stt_provider: str = "openai"
    stt_model: str = "gpt-4o-mini-transcribe"
    stt_base_url: str = ""
    tts_provider: str = "openai"
    tts_model: str = "gpt-4o-mini-tts"
    tts_voice: str = "alloy"
    tts_speed: float = 1.0
    tts_base_url: str = ""
    deepgram_api_key: str = field(default="", repr=False)
    endpointing_min_delay: float = 0.8
    endpointing_max_delay: float = 6.0
    agent_http_port: int = 8081
    agent_metrics_port: int = 0
    agent_connect_retries: int = 16
    agent_idle_processes: int = 0
    agent_load_threshold: float = 0.7
    agent_max_interviews: int = 0
    candidate_idle_seconds: int = 30
    candidate_rejoin_seconds: int = 45

    email_backend: str = "log"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = ""
    smtp_starttls: bool = True

    invite_ttl_hours: int = 168
    admin_session_ttl_minutes: int = 480
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    retention_days: int = 0
    result_webhook_url: str = ""
    agent_outbox_dir: str = ""
    max_webhook_bytes: int = 2_000_000
    text_interview_idle_minutes: int = 30
    text_interview_lease_seconds: int = 20
    consent_text: str = ""  # CONSENT_TEXT; empty: the default wording for the interview's mode
    #: The key Greenhouse sends as the Basic-auth user name (Assessment Partner API); empty = integration off.
    greenhouse_api_key: str = field(default="", repr=False)

    def consent_for(self, *, voice: bool, language: str = "en") -> str:
        """What the candidate agrees to: CONSENT_TEXT, else the default (in ``language``) saying exactly what is recorded."""
        if self.consent_text:
            return self.consent_text
        if not voice:
            return i18n.t(language, "consent.text")
        return i18n.t(language, "consent.video" if self.records_video else "consent.voice")

    @property
    def records_video(self) -> bool:
        """Only egress to S3 with ``RECORDING_FORMAT=mp4`` records video; the agent's recorder is audio only."""
        return self.storage_backend == "s3" and self.recording_format == "mp4"

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    @property
    def livekit_configured(self) -> bool:
        return bool(self.livekit_url and self.livekit_api_key and self.livekit_api_secret)

    @property
    def livekit_browser_url(self) -> str:
        """The LiveKit URL browsers connect to (differs from LIVEKIT_URL behind Docker networks)."""
        return self.livekit_public_url or self.livekit_url

    @property
    def llm_configured(self) -> bool:
        return self.llm_provider != "scripted"

    @property
    def greenhouse_enabled(self) -> bool:
        return bool(self.greenhouse_api_key)

    @property
    def interview_ended_webhook_url(self) -> str:
        return self.result_webhook_url or f"{self.app_url}/webhooks/interview-ended"

    def require(self, *keys: str) -> None:
        """Raise ConfigError naming the first of ``keys`` (env names) that is empty."""
        for key in keys:
            if not getattr(self, key.lower()):
                raise ConfigError(f"{key} is not set: {_HINTS.get(key, 'set it in .env (see .env.example)')}")

    def require_livekit(self) -> None:
        self.require("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")


_HINTS = {
    "LIVEKIT_URL": "put your LiveKit server URL in .env, e.g. LIVEKIT_URL=wss://your-project.livekit.cloud or ws://127.0.0.1:7880",
    "LIVEKIT_API_KEY": "put the API key of your LiveKit project in .env (LIVEKIT_API_KEY=...)",
    "LIVEKIT_API_SECRET": "put the API secret of your LiveKit project in .env (LIVEKIT_API_SECRET=...)",
    "S3_BUCKET": "STORAGE_BACKEND=s3 needs the bucket name in .env (S3_BUCKET=...)",
    "AWS_ACCESS_KEY_ID": "STORAGE_BACKEND=s3 needs credentials in .env (AWS_ACCESS_KEY_ID=...)",
    "AWS_SECRET_ACCESS_KEY": "STORAGE_BACKEND=s3 needs credentials in .env (AWS_SECRET_ACCESS_KEY=...)",
    "OPENAI_API_KEY": "LLM_PROVIDER=openai needs a key in .env (OPENAI_API_KEY=...; any value for a local server)",
    "SMTP_HOST": "EMAIL_BACKEND=smtp needs the mail server in .env (SMTP_HOST=smtp.example.com)",
    "SMTP_FROM": "EMAIL_BACKEND=smtp needs a sender in .env (SMTP_FROM=recruiting@example.com)",
    "DEEPGRAM_API_KEY": "STT_PROVIDER=deepgram needs DEEPGRAM_API_KEY in .env",
}

#: Environment variable names read by Settings (kept in step with .env.example by a test).
ENV_KEYS: tuple[str, ...] = ("ENV_FILE",)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build Settings from ``environ`` (default: process environment over `.env`).

    Raises:
        ConfigError: a value is malformed, or a feature that is switched on lacks a key.
    """
    raw = _raw_environment() if environ is None else dict(environ)
    app_env = _choice(raw, "APP_ENV", "development", ("development", "production"))
    production = app_env == "production"
    data_dir = _data_dir(raw)
    port = _as_int(raw, "PORT", 3000, minimum=1)
    s = Settings(
        app_env=app_env,
        data_dir=str(data_dir),
        database_url=_database_url(raw, data_dir),
        redis_url=_url(raw, "REDIS_URL", "", ("redis", "rediss")),
        app_url=_url(raw, "APP_URL", f"http://127.0.0.1:{port}", ("http", "https")),
        port=port,
        secret_key=_secret_key(raw, production, data_dir),
        org_name=raw.get("ORG_NAME", "").strip() or Settings.org_name,
        support_email=raw.get("SUPPORT_EMAIL", "").strip() or Settings.support_email,
        livekit_url=_url(raw, "LIVEKIT_URL", "", ("wss", "ws", "https", "http")),
        livekit_api_key=raw.get("LIVEKIT_API_KEY", "").strip(),
        livekit_api_secret=raw.get("LIVEKIT_API_SECRET", "").strip(),
        livekit_public_url=_url(raw, "LIVEKIT_PUBLIC_URL", "", ("wss", "ws", "https", "http")),
        agent_name=raw.get("AGENT_NAME", "").strip() or "interviewer",
        agent_join_timeout_seconds=_as_int(raw, "AGENT_JOIN_TIMEOUT_SECONDS", 30, minimum=1),
        candidate_token_ttl_seconds=min(_as_int(raw, "CANDIDATE_TOKEN_TTL_SECONDS", 900, minimum=60), 900),
        storage_backend=_choice(raw, "STORAGE_BACKEND", "local", ("local", "s3")),
        storage_local_dir=raw.get("STORAGE_LOCAL_DIR", "").strip() or str(data_dir / "storage"),
        s3_bucket=raw.get("S3_BUCKET", "").strip(),
        s3_region=raw.get("S3_REGION", "").strip() or "us-east-1",
        s3_endpoint_url=_url(raw, "S3_ENDPOINT_URL", "", ("http", "https")),
        s3_force_path_style=_as_bool(raw, "S3_FORCE_PATH_STYLE", bool(raw.get("S3_ENDPOINT_URL"))),
        s3_public_endpoint_url=_url(raw, "S3_PUBLIC_ENDPOINT_URL", "", ("http", "https")),
        aws_access_key_id=raw.get("AWS_ACCESS_KEY_ID", "").strip(),
        aws_secret_access_key=raw.get("AWS_SECRET_ACCESS_KEY", "").strip(),
        presign_ttl_seconds=_as_int(raw, "PRESIGN_TTL_SECONDS", 900, minimum=30),
        recording_format=_choice(raw, "RECORDING_FORMAT", "ogg", ("ogg", "mp4")),
        llm_provider=_choice(raw, "LLM_PROVIDER", "scripted", ("scripted", "openai")),
        openai_api_key=raw.get("OPENAI_API_KEY", "").strip(),
        openai_base_url=_url(raw, "OPENAI_BASE_URL", "", ("http", "https")),
        llm_model=raw.get("LLM_MODEL", "").strip() or Settings.llm_model,
        stt_provider=_choice(raw, "STT_PROVIDER", "openai", ("openai", "deepgram")),
        stt_model=raw.get("STT_MODEL", "").strip() or Settings.stt_model,
        stt_base_url=_url(raw, "STT_BASE_URL", "", ("http", "https")),
        tts_provider=_choice(raw, "TTS_PROVIDER", "openai", ("openai",)),
        tts_model=raw.get("TTS_MODEL", "").strip() or Settings.tts_model,
        tts_voice=raw.get("TTS_VOICE", "").strip() or Settings.tts_voice,
        tts_speed=_as_float(raw, "TTS_SPEED", 1.0, minimum=0.25, maximum=4.0),
        tts_base_url=_url(raw, "TTS_BASE_URL", "", ("http", "https")),
        deepgram_api_key=raw.get("DEEPGRAM_API_KEY", "").strip(),
        endpointing_min_delay=_as_float(raw, "ENDPOINTING_MIN_DELAY", 0.8),
        endpointing_max_delay=_as_float(raw, "ENDPOINTING_MAX_DELAY", 6.0),
        agent_http_port=_as_int(raw, "AGENT_HTTP_PORT", 8081),
        agent_metrics_port=_as_int(raw, "AGENT_METRICS_PORT", 0),
        agent_connect_retries=_as_int(raw, "AGENT_CONNECT_RETRIES", 16),
        agent_idle_processes=_as_int(raw, "AGENT_IDLE_PROCESSES", 0),
        agent_load_threshold=_as_float(raw, "AGENT_LOAD_THRESHOLD", 0.7, minimum=0.05, maximum=0.99),
        agent_max_interviews=_as_int(raw, "AGENT_MAX_INTERVIEWS", 0, minimum=0),
        candidate_idle_seconds=_as_int(raw, "CANDIDATE_IDLE_SECONDS", 30, minimum=5),
        candidate_rejoin_seconds=_as_int(raw, "CANDIDATE_REJOIN_SECONDS", 45, minimum=1),
        email_backend=_choice(raw, "EMAIL_BACKEND", "log", ("log", "smtp")),
        smtp_host=raw.get("SMTP_HOST", "").strip(),
        smtp_port=_as_int(raw, "SMTP_PORT", 587, minimum=1),
        smtp_user=raw.get("SMTP_USER", "").strip(),
        smtp_password=raw.get("SMTP_PASSWORD", ""),
        smtp_from=raw.get("SMTP_FROM", "").strip(),
        smtp_starttls=_as_bool(raw, "SMTP_STARTTLS", True),
        invite_ttl_hours=_as_int(raw, "INVITE_TTL_HOURS", 168, minimum=1),
        admin_session_ttl_minutes=_as_int(raw, "ADMIN_SESSION_TTL_MINUTES", 480, minimum=5),
        login_max_failures=_as_int(raw, "LOGIN_MAX_FAILURES", 5, minimum=1),
        login_lockout_minutes=_as_int(raw, "LOGIN_LOCKOUT_MINUTES", 15, minimum=1),
        retention_days=_as_int(raw, "RETENTION_DAYS", 0),
        result_webhook_url=_url(raw, "RESULT_WEBHOOK_URL", "", ("http", "https")),
        agent_outbox_dir=raw.get("AGENT_OUTBOX_DIR", "").strip() or str(data_dir / "outbox"),
        max_webhook_bytes=_as_int(raw, "MAX_WEBHOOK_BYTES", 2_000_000, minimum=1024),
        text_interview_idle_minutes=_as_int(raw, "TEXT_INTERVIEW_IDLE_MINUTES", 30, minimum=1),
        text_interview_lease_seconds=_as_int(raw, "TEXT_INTERVIEW_LEASE_SECONDS", 20, minimum=5),
        consent_text=raw.get("CONSENT_TEXT", "").strip(),
        greenhouse_api_key=_greenhouse_api_key(raw.get("GREENHOUSE_API_KEY", "")),
    )
    _check_features(s)
    return s


def _check_features(s: Settings) -> None:
    """Refuse a switched-on feature that lacks what it needs."""
    livekit_keys = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")
    if any(getattr(s, k.lower()) for k in livekit_keys):
        s.require(*livekit_keys)  # partly configured LiveKit is a mistake, not a choice
    if s.storage_backend == "s3":
        s.require("S3_BUCKET", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    if s.llm_provider == "openai":
        s.require("OPENAI_API_KEY")
    if s.email_backend == "smtp":
        s.require("SMTP_HOST", "SMTP_FROM")
    if s.stt_provider == "deepgram" and s.livekit_configured:
        s.require("DEEPGRAM_API_KEY")
    if s.production and s.app_url.startswith("http://") and "127.0.0.1" not in s.app_url and "localhost" not in s.app_url:
        raise ConfigError(f"APP_URL={s.app_url} uses http in production: serve the app over https and set APP_URL=https://...")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide Settings (cached; tests call ``get_settings.cache_clear()``)."""
    return load_settings()


def settings_env_keys() -> set[str]:
    """Every environment key load_settings reads (for the .env.example consistency test)."""
    import inspect
    import re

    source = "".join(inspect.getsource(f) for f in (load_settings, _data_dir, _database_url, _secret_key))
    keys = set(re.findall(r'"([A-Z][A-Z0-9_]+)"', source))
    return keys | set(ENV_KEYS)


__all__ = ["PROJECT_ROOT", "ConfigError", "Settings", "get_settings", "load_settings"]
