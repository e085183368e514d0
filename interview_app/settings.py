"""One Settings object, read from the environment and `.env` (python-dotenv).

Nothing else in the project reads ``os.environ``. Each key is declared once, on its
Settings field: the key is the field's name in capitals, and the field says its type,
default, check and what to do when it is missing or malformed. The loader only walks
those declarations. A key that a configured feature needs but that is missing or
malformed raises :class:`ConfigError` whose message is one line naming the key and
what to put there. Every key is documented in ``.env.example`` (a test keeps them in step).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from dotenv import dotenv_values

from interview_app import i18n
from interview_app.i18n import en as i18n_en

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Where `.env` is, when not beside the project; read before everything else, so not a Settings field.
ENV_FILE_KEY = "ENV_FILE"

GREENHOUSE_KEY_MIN_CHARS = 24
SECRET_KEY_MIN_CHARS = 32

# The default consent wording (English; other languages from the candidate pages' catalogue).
VOICE_CONSENT_TEXT = i18n_en.MESSAGES["consent.voice"]
VIDEO_CONSENT_TEXT = i18n_en.MESSAGES["consent.video"]
TEXT_CONSENT_TEXT = i18n_en.MESSAGES["consent.text"]


class ConfigError(Exception):
    """A setting is missing or malformed. The message is one line for a person."""


# --- how a key is declared -----------------------------------------------------------------------

Parse = Callable[[str, str], Any]
"""(key, value) -> the field's value; the value is non-empty (and stripped unless the key keeps spaces)."""

Follows = Callable[[Mapping[str, Any]], Any]
"""The value of an empty key computed from the others, by field name (every key without ``follows``, and those declared before it)."""


@dataclass(frozen=True)
class EnvKey:
    """How the loader reads one Settings field from the key of the same name in capitals."""

    parse: Parse
    follows: Follows | None = None  # an empty key takes this instead of the field's default
    missing: str = "set it in .env (see .env.example)"  # what Settings.require says when it is empty
    strip: bool = True


def _key(default: Any, parse: Parse, *, secret: bool = False, follows: Follows | None = None, missing: str = "", strip: bool = True) -> Any:
    """A Settings field read from the environment; ``secret`` keeps its value out of ``repr``."""
    env = EnvKey(parse, follows, missing or EnvKey.missing, strip)
    return field(default=default, repr=not secret, metadata={"env": env})


def _text(
    default: str = "",
    *,
    secret: bool = False,
    follows: Follows | None = None,
    missing: str = "",
    strip: bool = True,
    parse: Parse | None = None,
) -> Any:
    """Free text (or a value ``parse`` checks); an empty key means ``default``."""
    return _key(default, parse or (lambda _name, value: value), secret=secret, follows=follows, missing=missing, strip=strip)


def _whole_number(default: int, *, minimum: int = 0, cap: int | None = None) -> Any:
    """A whole number of at least ``minimum``; larger than ``cap`` is read as ``cap``."""

    def parse(key: str, value: str) -> int:
        try:
            parsed = int(value)
        except ValueError:
            raise ConfigError(f"{key}={value!r} is not a whole number: put e.g. {key}={default} in .env") from None
        if parsed < minimum:
            raise ConfigError(f"{key}={parsed} is too small: it must be at least {minimum}")
        return parsed if cap is None else min(parsed, cap)

    return _key(default, parse)


def _number(default: float, *, minimum: float | None = None, maximum: float | None = None) -> Any:
    """A number within [``minimum``, ``maximum``] (each bound optional)."""

    def parse(key: str, value: str) -> float:
        try:
            parsed = float(value)
        except ValueError:
            raise ConfigError(f"{key}={value!r} is not a number: put e.g. {key}={default} in .env") from None
        if minimum is not None and parsed < minimum:
            raise ConfigError(f"{key}={parsed:g} is too small: it must be at least {minimum:g}")
        if maximum is not None and parsed > maximum:
            raise ConfigError(f"{key}={parsed:g} is too large: it must be at most {maximum:g}")
        return parsed

    return _key(default, parse)


def _yes_no(default: bool, *, follows: Follows | None = None) -> Any:
    """true/false, yes/no, on/off or 1/0 (any case)."""

    def parse(key: str, value: str) -> bool:
        value = value.lower()
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{key}={value!r} is not a yes/no value: put {key}=true or {key}=false in .env")

    return _key(default, parse, follows=follows)


def _one_of(*choices: str) -> Any:
    """One of ``choices`` (any case); the first is the default."""

    def parse(key: str, value: str) -> str:
        value = value.lower()
        if value not in choices:
            raise ConfigError(f"{key}={value!r} is not one of {', '.join(choices)}: put e.g. {key}={choices[0]} in .env")
        return value

    return _key(choices[0], parse)


def _url(*schemes: str, follows: Follows | None = None, missing: str = "") -> Any:
    """A URL with one of ``schemes`` and a host, kept without its trailing slash; empty by default."""

    def parse(key: str, value: str) -> str:
        parsed = urlparse(value)
        if parsed.scheme not in schemes or not parsed.netloc:
            raise ConfigError(f"{key}={value!r} is not a {'/'.join(schemes)} URL: put e.g. {key}={schemes[0]}://host in .env")
        return value.rstrip("/")

    return _key("", parse, follows=follows, missing=missing)


# --- keys whose check or default is their own ----------------------------------------------------


def _project_path(_name: str, value: str) -> str:
    """A folder; a relative one is relative to the project, not to the working directory."""
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else PROJECT_ROOT / path)


def _database_url(_name: str, value: str) -> str:
    if value.startswith("postgres://"):  # Heroku-style alias SQLAlchemy refuses
        value = "postgresql://" + value[len("postgres://") :]
    if value.startswith("postgresql://"):  # SQLAlchemy 2.1 would pick psycopg 3; the stack is psycopg2
        value = "postgresql+psycopg2://" + value[len("postgresql://") :]
    if not (value.startswith("sqlite:///") or value.startswith("postgresql+psycopg2://")):
        raise ConfigError(
            f"DATABASE_URL={value.split('@')[-1]!r} is not supported: use sqlite:///path/to.db or postgresql://user:pass@host:5432/dbname"
        )
    return value


_SECRET_KEY_COMMAND = '`python -c "import secrets; print(secrets.token_urlsafe(48))"`'


def _secret_key(_name: str, value: str) -> str:
    if len(value) < SECRET_KEY_MIN_CHARS:
        raise ConfigError(f"SECRET_KEY is shorter than {SECRET_KEY_MIN_CHARS} characters: generate one with {_SECRET_KEY_COMMAND}")
    return value


def _development_secret_key(values: Mapping[str, Any]) -> str:
    """Development: a key kept beside the embedded database so sessions survive restarts."""
    if values["app_env"] == "production":
        raise ConfigError(f"SECRET_KEY is not set: production needs one, generate it with {_SECRET_KEY_COMMAND}")
    data_dir = Path(values["data_dir"])
    key_file = data_dir / ".secret_key"
    if key_file.is_file():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _greenhouse_api_key(_name: str, value: str) -> str:
    """A long random key that can be an HTTP Basic user name."""
    hint = 'generate one with `python -c "import secrets; print(secrets.token_urlsafe(32))"`'
    if len(value) < GREENHOUSE_KEY_MIN_CHARS:
        raise ConfigError(f"GREENHOUSE_API_KEY is shorter than {GREENHOUSE_KEY_MIN_CHARS} characters: {hint}")
    if ":" in value or not all(33 <= ord(ch) < 127 for ch in value):
        raise ConfigError(
            f"GREENHOUSE_API_KEY may hold only printable ASCII without spaces or colons (it is a Basic-auth user name): {hint}"
        )
    return value


def _in_data_dir(name: str) -> Follows:
    return lambda values: str(Path(values["data_dir"]) / name)


_LIVEKIT_SCHEMES = ("wss", "ws", "https", "http")


@dataclass(frozen=True)
class Settings:
    """Every setting of the app and the agent worker; each field is the key of its name in capitals (see .env.example).

    A field declared with ``follows`` is empty when Settings is built directly; ``load_settings`` fills it.
    """

    app_env: str = _one_of("development", "production")
    data_dir: str = _text(str(PROJECT_ROOT / "data"), parse=_project_path)
    database_url: str = _text(parse=_database_url, follows=lambda v: f"sqlite:///{(Path(v['data_dir']) / 'interviews.db').as_posix()}")
    redis_url: str = _url("redis", "rediss")
    app_url: str = _url("http", "https", follows=lambda v: f"http://127.0.0.1:{v['port']}")
    port: int = _whole_number(3000, minimum=1)
    secret_key: str = _text(secret=True, parse=_secret_key, follows=_development_secret_key)
    org_name: str = _text("Acme Hiring")
    support_email: str = _text("recruiting@example.com")

    livekit_url: str = _url(
        *_LIVEKIT_SCHEMES,
        missing="put your LiveKit server URL in .env, e.g. LIVEKIT_URL=wss://your-project.livekit.cloud or ws://127.0.0.1:7880",
    )
    livekit_api_key: str = _text(missing="put the API key of your LiveKit project in .env (LIVEKIT_API_KEY=...)")
    livekit_api_secret: str = _text(secret=True, missing="put the API secret of your LiveKit project in .env (LIVEKIT_API_SECRET=...)")
    livekit_public_url: str = _url(*_LIVEKIT_SCHEMES)
    agent_name: str = _text("interviewer")
    agent_join_timeout_seconds: int = _whole_number(30, minimum=1)
    candidate_token_ttl_seconds: int = _whole_number(900, minimum=60, cap=900)

    storage_backend: str = _one_of("local", "s3")
    storage_local_dir: str = _text(follows=_in_data_dir("storage"))
    s3_bucket: str = _text(missing="STORAGE_BACKEND=s3 needs the bucket name in .env (S3_BUCKET=...)")
    s3_region: str = _text("us-east-1")
    s3_endpoint_url: str = _url("http", "https")
    s3_force_path_style: bool = _yes_no(False, follows=lambda v: bool(v["s3_endpoint_url"]))
    s3_public_endpoint_url: str = _url("http", "https")
    aws_access_key_id: str = _text(missing="STORAGE_BACKEND=s3 needs credentials in .env (AWS_ACCESS_KEY_ID=...)")
    aws_secret_access_key: str = _text(secret=True, missing="STORAGE_BACKEND=s3 needs credentials in .env (AWS_SECRET_ACCESS_KEY=...)")
    presign_ttl_seconds: int = _whole_number(900, minimum=30)
    recording_format: str = _one_of("ogg", "mp4")

    llm_provider: str = _one_of("scripted", "openai")
    openai_api_key: str = _text(
        secret=True, missing="LLM_PROVIDER=openai needs a key in .env (OPENAI_API_KEY=...; any value for a local server)"
    )
    openai_base_url: str = _url("http", "https")
    llm_model: str = _text("gpt-4o-mini")
    stt_provider: str = _one_of("openai", "deepgram")
    stt_model: str = _text("gpt-4o-mini-transcribe")
    stt_base_url: str = _url("http", "https")
    tts_provider: str = _one_of("openai")
    tts_model: str = _text("gpt-4o-mini-tts")
    tts_voice: str = _text("alloy")
    tts_speed: float = _number(1.0, minimum=0.25, maximum=4.0)
    tts_base_url: str = _url("http", "https")
    deepgram_api_key: str = _text(secret=True, missing="STT_PROVIDER=deepgram needs DEEPGRAM_API_KEY in .env")
    endpointing_min_delay: float = _number(0.8)
    endpointing_max_delay: float = _number(6.0)
    agent_http_port: int = _whole_number(8081)
    agent_metrics_port: int = _whole_number(0)
    agent_connect_retries: int = _whole_number(16)
    agent_idle_processes: int = _whole_number(0)
    agent_load_threshold: float = _number(0.7, minimum=0.05, maximum=0.99)
    agent_max_interviews: int = _whole_number(0)
    candidate_idle_seconds: int = _whole_number(30, minimum=5)
    candidate_rejoin_seconds: int = _whole_number(45, minimum=1)

    email_backend: str = _one_of("log", "smtp")
    smtp_host: str = _text(missing="EMAIL_BACKEND=smtp needs the mail server in .env (SMTP_HOST=smtp.example.com)")
    smtp_port: int = _whole_number(587, minimum=1)
    smtp_user: str = _text()
    smtp_password: str = _text(secret=True, strip=False)  # a password may begin or end with a space
    smtp_from: str = _text(missing="EMAIL_BACKEND=smtp needs a sender in .env (SMTP_FROM=recruiting@example.com)")
    smtp_starttls: bool = _yes_no(True)

    invite_ttl_hours: int = _whole_number(168, minimum=1)
    admin_session_ttl_minutes: int = _whole_number(480, minimum=5)
    login_max_failures: int = _whole_number(5, minimum=1)
    login_lockout_minutes: int = _whole_number(15, minimum=1)
    retention_days: int = _whole_number(0)
    result_webhook_url: str = _url("http", "https")
    agent_outbox_dir: str = _text(follows=_in_data_dir("outbox"))
    max_webhook_bytes: int = _whole_number(2_000_000, minimum=1024)
    text_interview_idle_minutes: int = _whole_number(30, minimum=1)
    text_interview_lease_seconds: int = _whole_number(20, minimum=5)
    consent_text: str = _text()  # empty: the default wording for the interview's mode
    #: The key Greenhouse sends as the Basic-auth user name (Assessment Partner API); empty = integration off.
    greenhouse_api_key: str = _text(secret=True, parse=_greenhouse_api_key)

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
                raise ConfigError(f"{key} is not set: {_KEYS[key].missing}")

    def require_livekit(self) -> None:
        self.require("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")


#: Every key Settings reads, in declaration order, with how it is read.
_KEYS: dict[str, EnvKey] = {f.name.upper(): f.metadata["env"] for f in fields(Settings)}


def _env_file() -> Path:
    return Path(os.environ.get(ENV_FILE_KEY, PROJECT_ROOT / ".env"))


def _raw_environment() -> dict[str, str]:
    """Process environment over `.env` values (the environment wins)."""
    values: dict[str, str] = {}
    env_file = _env_file()
    if env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ)
    return values


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from ``environ`` (default: process environment over `.env`).

    Every key is read as its field declares; empty keys with ``follows`` are filled last, from the rest.

    Raises:
        ConfigError: a value is malformed, or a feature that is switched on lacks a key.
    """
    raw = _raw_environment() if environ is None else environ
    values: dict[str, Any] = {}
    followers: list[tuple[str, Follows]] = []
    for f in fields(Settings):
        key, env = f.name.upper(), f.metadata["env"]
        value = raw.get(key, "")
        value = value.strip() if env.strip else value
        if value:
            values[f.name] = env.parse(key, value)
        elif env.follows is not None:
            followers.append((f.name, env.follows))
        else:
            values[f.name] = f.default
    for name, follows in followers:
        values[name] = follows(values)
    s = Settings(**values)
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
    """Every environment key the project reads: the Settings fields' keys and ENV_FILE."""
    return set(_KEYS) | {ENV_FILE_KEY}


__all__ = ["PROJECT_ROOT", "ConfigError", "Settings", "get_settings", "load_settings", "settings_env_keys"]
