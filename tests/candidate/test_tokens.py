"""Candidate tokens: verified the way livekit-server verifies them."""

from __future__ import annotations

import time
import uuid

from livekit.api import TokenVerifier

from interview_app.services.livekit import CANDIDATE_SOURCES, mint_candidate_token
from interview_app.settings import load_settings

ENV = {"LIVEKIT_URL": "wss://lk.example.com", "LIVEKIT_API_KEY": "APIkey123", "LIVEKIT_API_SECRET": "s" * 40, "SECRET_KEY": "k" * 40}


def test_token_is_scoped_to_one_room_and_identity() -> None:
    settings = load_settings(ENV)
    interview_id = uuid.uuid4()
    tok = mint_candidate_token(settings, room_name=f"interview-{interview_id}", interview_id=interview_id, display_name="Casey")
    claims = TokenVerifier("APIkey123", "s" * 40).verify(tok.jwt)
    assert claims.identity == f"candidate-{interview_id}"
    assert claims.name == "Casey"
    video = claims.video
    assert video.room == f"interview-{interview_id}"
    assert video.room_join is True
    assert video.can_subscribe and video.can_publish and video.can_publish_data
    assert sorted(video.can_publish_sources) == sorted(CANDIDATE_SOURCES)
    # no server-side powers
    for admin_grant in ("room_create", "room_list", "room_record", "room_admin", "ingress_admin", "agent", "hidden"):
        assert not getattr(video, admin_grant), admin_grant


def test_token_lives_at_most_fifteen_minutes() -> None:
    import jwt

    settings = load_settings(ENV | {"CANDIDATE_TOKEN_TTL_SECONDS": "3600"})  # capped by settings
    assert settings.candidate_token_ttl_seconds == 900
    tok = mint_candidate_token(settings, room_name="r", interview_id="i")
    payload = jwt.decode(tok.jwt, "s" * 40, algorithms=["HS256"], issuer="APIkey123")
    assert 0 < payload["exp"] - time.time() <= 900
    assert abs(tok.expires_at.timestamp() - payload["exp"]) <= 1

    short = mint_candidate_token(load_settings(ENV | {"CANDIDATE_TOKEN_TTL_SECONDS": "120"}), room_name="r", interview_id="i")
    payload = jwt.decode(short.jwt, "s" * 40, algorithms=["HS256"], issuer="APIkey123")
    assert payload["exp"] - time.time() <= 120


def test_token_signed_with_another_secret_is_refused() -> None:
    import jwt
    import pytest

    tok = mint_candidate_token(load_settings(ENV), room_name="r", interview_id="i")
    with pytest.raises(jwt.InvalidSignatureError):
        TokenVerifier("APIkey123", "t" * 40).verify(tok.jwt)
