"""Settings: defaults, one-line errors naming the key, .env.example in step with the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from interview_app.settings import ConfigError, load_settings, settings_env_keys

ROOT = Path(__file__).resolve().parent.parent


def test_embedded_defaults_need_no_keys() -> None:
    s = load_settings({"SECRET_KEY": "k" * 40})
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("data/interviews.db")
    assert s.storage_backend == "local" and s.llm_provider == "scripted"
    assert not s.livekit_configured
    assert s.presign_ttl_seconds == 900 and s.agent_name == "interviewer"


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({"LIVEKIT_URL": "wss://x.livekit.cloud"}, "LIVEKIT_API_KEY"),
        ({"LIVEKIT_URL": "not a url", "LIVEKIT_API_KEY": "k", "LIVEKIT_API_SECRET": "s"}, "LIVEKIT_URL"),
        ({"STORAGE_BACKEND": "s3"}, "S3_BUCKET"),
        ({"STORAGE_BACKEND": "ftp"}, "STORAGE_BACKEND"),
        ({"LLM_PROVIDER": "openai"}, "OPENAI_API_KEY"),
        ({"PRESIGN_TTL_SECONDS": "soon"}, "PRESIGN_TTL_SECONDS"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"APP_ENV": "production", "SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"EMAIL_BACKEND": "smtp"}, "SMTP_HOST"),
    ],
)
def test_bad_or_missing_setting_is_one_line_naming_the_key(environ: dict[str, str], names: str) -> None:
    environ = {"SECRET_KEY": "k" * 40} | environ
    with pytest.raises(ConfigError) as err:
        load_settings(environ)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(names) or names in message.split(":")[0]


def test_data_dir_holds_every_development_file(tmp_path: Path) -> None:
    from interview_app.settings import PROJECT_ROOT

    default = load_settings({"SECRET_KEY": "k" * 40})
    assert default.data_dir == str(PROJECT_ROOT / "data")
    relative = load_settings({"SECRET_KEY": "k" * 40, "DATA_DIR": "var/dev"})
    assert relative.data_dir == str(PROJECT_ROOT / "var" / "dev")
    s = load_settings({"DATA_DIR": str(tmp_path)})  # no SECRET_KEY: the development key is kept there too
    assert s.database_url == f"sqlite:///{tmp_path.as_posix()}/interviews.db"
    assert s.storage_local_dir == str(tmp_path / "storage") and s.agent_outbox_dir == str(tmp_path / "outbox")
    assert (tmp_path / ".secret_key").read_text().strip() == s.secret_key


def test_consent_wording_follows_the_interview_unless_set() -> None:
    from interview_app.settings import TEXT_CONSENT_TEXT, VOICE_CONSENT_TEXT

    default = load_settings({"SECRET_KEY": "k" * 40})
    assert default.consent_for(voice=True) == VOICE_CONSENT_TEXT and "audio" in VOICE_CONSENT_TEXT
    assert default.consent_for(voice=False) == TEXT_CONSENT_TEXT and "audio" not in TEXT_CONSENT_TEXT
    assert "no video" in VOICE_CONSENT_TEXT and "camera" not in VOICE_CONSENT_TEXT  # audio-only recording: says so
    s3 = {"SECRET_KEY": "k" * 40, "STORAGE_BACKEND": "s3", "S3_BUCKET": "b", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s"}
    assert load_settings(s3).consent_for(voice=True) == VOICE_CONSENT_TEXT  # OGG egress: audio only
    video = load_settings(s3 | {"RECORDING_FORMAT": "mp4"})
    assert video.records_video and "video if you turn your camera on" in video.consent_for(voice=True)
    # the agent's own recorder (local storage) is audio only, whatever RECORDING_FORMAT says
    assert not load_settings({"SECRET_KEY": "k" * 40, "RECORDING_FORMAT": "mp4"}).records_video
    own = load_settings({"SECRET_KEY": "k" * 40, "CONSENT_TEXT": "  Our own wording.  "})
    assert own.consent_for(voice=True) == own.consent_for(voice=False) == "Our own wording."


def test_postgres_url_uses_psycopg2() -> None:
    s = load_settings({"SECRET_KEY": "k" * 40, "DATABASE_URL": "postgres://u:p@db:5432/app"})
    assert s.database_url == "postgresql+psycopg2://u:p@db:5432/app"


def test_env_example_documents_exactly_the_keys_the_code_reads() -> None:
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    read = settings_env_keys() - {"ENV_FILE"}
    assert documented == read, f"only in .env.example: {documented - read}; only in code: {read - documented}"


def test_nothing_else_reads_the_environment() -> None:
    offenders = []
    for path in [*ROOT.glob("interview_app/**/*.py"), *ROOT.glob("agent/**/*.py")]:
        if path.name == "settings.py":
            continue
        text = path.read_text()
        if "os.environ" in text or "os.getenv" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_float_settings_out_of_range_name_the_key() -> None:
    from interview_app.settings import ConfigError

    base = {"SECRET_KEY": "k" * 40}
    assert load_settings(base | {"TTS_SPEED": "1.5", "AGENT_LOAD_THRESHOLD": "0.9"}).tts_speed == 1.5
    for key, value in (("TTS_SPEED", "9"), ("TTS_SPEED", "0.1"), ("AGENT_LOAD_THRESHOLD", "1.5")):
        with pytest.raises(ConfigError, match=key):
            load_settings(base | {key: value})
