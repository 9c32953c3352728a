"""A site asks for the floor ("Xin phát biểu") from its room computer; the host sees who asks,
in the order asked, and giving the floor answers it (trainer.conference.services.raise_hand)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tests.conference.test_api import NS, post_events, publisher_events, url
from trainer.conference.models import ConferenceRoom
from trainer.extensions import db, socketio


def on_call(world: SimpleNamespace, client: Any, site_id: int, handle: int) -> None:
    events = publisher_events(world.session.id, site_id, handle=handle)
    events[1]["event"]["data"]["room"] = 4260
    for e in events:
        e["session_id"] = 900 + handle
    assert post_events(client, events).status_code == 204


def hands(world: SimpleNamespace, api_as: Any) -> dict[int, Any]:
    body = api_as(world.organiser).get(url(world.session)).get_json()
    return {s["site_id"]: s["hand_raised_at"] for s in body["sites"]}


def test_sites_ask_for_the_floor_in_order_and_the_floor_answers(
        world: SimpleNamespace, app: Any, client: Any, api_as: Any, token_for: Any) -> None:
    db.session.add(ConferenceRoom(session_id=world.session.id, janus_room=4260, pin="p",
                                  secret="s"))
    db.session.commit()
    on_call(world, client, world.a.id, 601)
    on_call(world, client, world.b.id, 602)
    sio = socketio.test_client(app, namespace=NS, auth={"token": token_for(world.organiser)})
    sio.emit("watch", {"session_id": world.session.id}, namespace=NS, callback=True)
    sio.get_received(NS)
    hand = url(world.session, "/hand")

    r = api_as(world.coord_a).post(hand, json={"site_id": world.a.id, "raised": True})
    assert r.status_code == 200 and r.get_json()["raised"] is True
    first = r.get_json()["at"]
    # asking again keeps the first time: the host answers in the order asked
    again = api_as(world.coord_a).post(hand, json={"site_id": world.a.id, "raised": True})
    assert again.get_json()["at"] == first
    # A's coordinator cannot ask for B
    assert api_as(world.coord_a).post(hand, json={"site_id": world.b.id, "raised": True}
                                      ).status_code == 403
    assert api_as(world.organiser).post(hand, json={"site_id": world.b.id, "raised": True}
                                        ).status_code == 200
    asked = hands(world, api_as)
    assert asked[world.a.id] == first and asked[world.b.id] > first
    pushed = [m["args"][0] for m in sio.get_received(NS) if m["name"] == "conference_hand"]
    assert [(p["site_id"], p["raised"]) for p in pushed] == [
        (world.a.id, True), (world.a.id, True), (world.b.id, True)]

    # The host gives A the floor: A's request is answered, B still asks.
    assert api_as(world.organiser).post(url(world.session, "/floor"),
                                        json={"site_id": world.a.id}).status_code == 200
    asked = hands(world, api_as)
    assert asked[world.a.id] is None and asked[world.b.id] is not None
    pushed = [m["args"][0] for m in sio.get_received(NS) if m["name"] == "conference_hand"]
    assert [(p["site_id"], p["raised"]) for p in pushed] == [(world.a.id, False)]
    # B withdraws (or the host lowers it)
    r = api_as(world.organiser).post(hand, json={"site_id": world.b.id, "raised": False})
    assert r.get_json() == {"session_id": world.session.id, "site_id": world.b.id,
                            "raised": False, "at": None}
    assert hands(world, api_as)[world.b.id] is None
    sio.disconnect(namespace=NS)


def test_only_a_site_on_the_call_can_ask_and_leaving_lowers_it(
        world: SimpleNamespace, client: Any, api_as: Any) -> None:
    db.session.add(ConferenceRoom(session_id=world.session.id, janus_room=4260, pin="p",
                                  secret="s"))
    db.session.commit()
    hand = url(world.session, "/hand")
    r = api_as(world.coord_a, lang="vi").post(hand, json={"site_id": world.a.id,
                                                          "raised": True})
    assert r.status_code == 409 and r.get_json()["reason"] == "not-on-call"
    assert "Hãy vào phòng họp trước" in r.get_json()["detail"]
    on_call(world, client, world.a.id, 603)
    assert api_as(world.coord_a).post(hand, json={"site_id": world.a.id, "raised": True}
                                      ).status_code == 200
    # the room computer's page closes: off the call, its request goes with it
    gone = {"type": 16, "session_id": 1503, "handle_id": 603,
            "event": {"connection": "hangup", "reason": "Close PC"}}
    assert post_events(client, [gone]).status_code == 204
    assert hands(world, api_as)[world.a.id] is None
    # a link session has no room to ask in
    assert api_as(world.organiser).post(url(world.link, "/hand"), json={
        "site_id": world.a.id, "raised": True}).status_code == 409
