"""The fake LiveKit server behaves like livekit-server for the calls the app and the agent make."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from livekit import api

from tests.fakes.livekit_server import FakeLiveKitServer


def call(server: FakeLiveKitServer, fn, *, secret: str | None = None):
    async def go():
        async with api.LiveKitAPI(server.url, server.api_key, secret or server.api_secret) as lk:
            return await fn(lk)

    return asyncio.run(go())


def test_rooms_dispatches_and_egress_round_trip(fake_livekit: FakeLiveKitServer) -> None:
    room = call(fake_livekit, lambda lk: lk.room.create_room(api.CreateRoomRequest(name="r1", metadata='{"a":1}')))
    again = call(fake_livekit, lambda lk: lk.room.create_room(api.CreateRoomRequest(name="r1")))
    assert room.sid == again.sid and again.metadata == '{"a":1}'
    d = call(
        fake_livekit, lambda lk: lk.agent_dispatch.create_dispatch(api.CreateAgentDispatchRequest(agent_name="a", room="r1", metadata="m"))
    )
    listed = call(fake_livekit, lambda lk: lk.agent_dispatch.list_dispatch("r1"))
    assert [x.id for x in listed] == [d.id] and listed[0].metadata == "m"
    req = api.RoomCompositeEgressRequest(
        room_name="r1", audio_only=True, file_outputs=[api.EncodedFileOutput(filepath="x.ogg", s3=api.S3Upload(bucket="b"))]
    )
    eg = call(fake_livekit, lambda lk: lk.egress.start_room_composite_egress(req))
    assert eg.room_composite.file_outputs[0].s3.bucket == "b"
    stopped = call(fake_livekit, lambda lk: lk.egress.stop_egress(api.StopEgressRequest(egress_id=eg.egress_id)))
    assert stopped.status == api.EgressStatus.EGRESS_COMPLETE
    assert [e.egress_id for e in call(fake_livekit, lambda lk: lk.egress.list_egress(api.ListEgressRequest(room_name="r1"))).items] == [
        eg.egress_id
    ]
    call(fake_livekit, lambda lk: lk.room.delete_room(api.DeleteRoomRequest(room="r1")))
    assert call(fake_livekit, lambda lk: lk.room.list_rooms(api.ListRoomsRequest())).rooms == []
    assert [c.method for c in fake_livekit.calls][:2] == ["CreateRoom", "CreateRoom"]


def test_wrong_secret_and_missing_grants_are_refused(fake_livekit: FakeLiveKitServer) -> None:
    with pytest.raises(api.TwirpError) as err:
        call(fake_livekit, lambda lk: lk.room.list_rooms(api.ListRoomsRequest()), secret="wrong-" + "x" * 30)
    assert err.value.status == 401
    # a candidate's join token cannot create rooms
    token = (
        api.AccessToken(fake_livekit.api_key, fake_livekit.api_secret)
        .with_identity("c")
        .with_grants(api.VideoGrants(room_join=True, room="r"))
        .to_jwt()
    )
    res = httpx.post(
        f"http://127.0.0.1:{fake_livekit.port}/twirp/livekit.RoomService/CreateRoom",
        json={"name": "r"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert res.status_code == 401 and "room_create" in res.json()["msg"]
    assert fake_livekit.rooms == {}


def test_json_requests_and_injected_failures(fake_livekit: FakeLiveKitServer) -> None:
    token = api.AccessToken(fake_livekit.api_key, fake_livekit.api_secret).with_grants(api.VideoGrants(room_create=True)).to_jwt()
    url = f"http://127.0.0.1:{fake_livekit.port}/twirp/livekit.RoomService/CreateRoom"
    res = httpx.post(url, json={"name": "j1"}, headers={"Authorization": f"Bearer {token}"})
    assert res.status_code == 200 and res.json()["name"] == "j1"
    fake_livekit.fail_next("CreateRoom", status=503)
    assert httpx.post(url, json={"name": "j2"}, headers={"Authorization": f"Bearer {token}"}).status_code == 503
    assert httpx.post(url, json={"name": "j2"}, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert httpx.get(f"http://127.0.0.1:{fake_livekit.port}/rtc").status_code == 404
