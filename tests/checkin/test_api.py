"""The check-in part of API.md over HTTP: status codes, bodies, problems, permissions."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from trainer.audit.models import AuditEntry
from trainer.dbtypes import utcnow
from trainer.extensions import db
from trainer.sessions.models import Checkin


def url(session: Any, tail: str = "checkins") -> str:
    return f"/api/v1/sessions{'' if session is None else '/' + str(session.id)}/{tail}"


def checkins() -> int:
    return db.session.scalar(select(func.count()).select_from(Checkin)) or 0


def is_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_check_in_201_then_200_with_the_same_body(world: Any, api_as: Any) -> None:
    w = world
    api = api_as(w.coord_a)
    key = str(uuid.uuid4())
    first = api.post(url(w.session), json={"site_id": w.a.id, "participant_id": w.ha.id,
                                           "client_id": key})
    assert first.status_code == 201
    body = first.get_json()
    assert {"id", "participant_id", "site_id", "at"} <= set(body)
    assert (body["participant_id"], body["site_id"], body["created"]) == (w.ha.id, w.a.id, True)
    assert datetime.fromisoformat(body["at"]).utcoffset() is not None
    assert body["participant"]["full_name"] == "Nguyễn Thị Hà"
    same_key = api.post(url(w.session), json={"site_id": w.a.id, "participant_id": w.ha.id,
                                              "client_id": key})
    by_code = api.post(url(w.session), json={"site_id": w.a.id,
                                             "participant_code": w.ha.code.lower()})
    for again in (same_key, by_code):
        assert again.status_code == 200
        repeat = again.get_json()
        assert {k: repeat[k] for k in ("id", "participant_id", "site_id", "at")} == {
            k: body[k] for k in ("id", "participant_id", "site_id", "at")}
        assert repeat["created"] is False
    assert checkins() == 1


def test_device_time_is_the_answers_at(world: Any, api_as: Any) -> None:
    w = world
    at = (utcnow() - timedelta(minutes=7)).replace(microsecond=0)
    response = api_as(w.coord_a).post(url(w.session), json={
        "site_id": w.a.id, "participant_id": w.ha.id, "client_id": str(uuid.uuid4()),
        "at": at.astimezone().isoformat()})
    assert response.status_code == 201
    body = response.get_json()
    assert datetime.fromisoformat(body["at"]) == at
    assert datetime.fromisoformat(body["server_at"]) > at
    assert body["flags"] == ["offline", "late_upload"]


def test_naive_device_time_is_422(world: Any, api_as: Any) -> None:
    w = world
    response = api_as(w.coord_a).post(url(w.session), json={
        "site_id": w.a.id, "participant_id": w.ha.id, "at": "2024-05-01T08:30:00"})
    assert "at" in is_problem(response, 422)["errors"]


def test_409_names_the_other_site(world: Any, api_as: Any) -> None:
    w = world
    assert api_as(w.coord_b).post(url(w.session), json={
        "site_id": w.b.id, "participant_id": w.lan.id}).status_code == 201
    response = api_as(w.organiser, lang="en").post(url(w.session), json={
        "site_id": w.a.id, "participant_id": w.lan.id})
    body = is_problem(response, 409)
    assert body["type"] == "/problems/checked-in-elsewhere"
    assert body["site_id"] == w.b.id and body["site_name"] == "Huyện Đoan Hùng"
    assert "Huyện Đoan Hùng" in body["detail"] and "already checked in" in body["detail"]
    assert datetime.fromisoformat(body["checkin_at"]).utcoffset() is not None
    assert checkins() == 1


def test_403_for_a_coordinator_of_other_sites(world: Any, api_as: Any) -> None:
    w = world
    response = api_as(w.coord_b).post(url(w.session), json={"site_id": w.a.id,
                                                            "participant_id": w.ha.id})
    is_problem(response, 403)
    assert checkins() == 0


def test_404_unknown_participant_code_and_session(world: Any, api_as: Any) -> None:
    w = world
    api = api_as(w.coord_a, lang="en")
    is_problem(api.post(url(w.session), json={"site_id": w.a.id, "participant_id": 424242}), 404)
    body = is_problem(api.post(url(w.session), json={"site_id": w.a.id,
                                                     "participant_code": "XQXQXQ"}), 404)
    assert "XQXQXQ" in body["detail"]
    is_problem(api.post("/api/v1/sessions/424242/checkins",
                        json={"site_id": w.a.id, "participant_id": w.ha.id}), 404)


def test_422_bad_input_never_500(world: Any, api_as: Any) -> None:
    w = world
    api = api_as(w.coord_a)
    for payload in (
        {"site_id": w.a.id},
        {"participant_id": w.ha.id},
        {"site_id": w.a.id, "participant_id": w.ha.id, "client_id": "nope"},
        {"site_id": w.a.id, "participant_id": w.ha.id, "at": "yesterday"},
        {"site_id": w.a.id, "participant_id": w.ha.id, "extra": 1},
        {"site_id": "A", "participant_id": w.ha.id},
        {"site_id": w.a.id, "participant_id": w.ha.id, "method": "telepathy"},
        {"site_id": w.a.id, "participant_code": "\x00abc"},
    ):
        response = api.post(url(w.session), json=payload)
        assert response.status_code == 422, (payload, response.get_data(as_text=True))
        assert response.get_json()["errors"]
    for raw in ("[1, 2]", '"x"', "{", "null"):
        response = api.post(url(w.session), data=raw, content_type="application/json")
        assert response.status_code in (400, 422), raw
        assert response.mimetype == "application/problem+json"
    assert checkins() == 0


def test_401_without_credentials(world: Any, api_as: Any) -> None:
    w = world
    response = api_as(None).post(url(w.session), json={"site_id": w.a.id,
                                                        "participant_id": w.ha.id})
    is_problem(response, 401)


def test_undo_204_twice_audited_and_permissions(world: Any, api_as: Any) -> None:
    w = world
    created = api_as(w.coord_a).post(url(w.session), json={
        "site_id": w.a.id, "participant_id": w.ha.id}).get_json()
    is_problem(api_as(w.coord_b).delete(url(w.session, f"checkins/{created['id']}")), 403)
    response = api_as(w.coord_a).delete(url(w.session, f"checkins/{created['id']}"))
    assert response.status_code == 204 and response.get_data() == b""
    assert api_as(w.coord_a).delete(url(w.session, f"checkins/{created['id']}")).status_code == 204
    is_problem(api_as(w.coord_a).delete(url(w.session, "checkins/987654")), 404)
    assert checkins() == 0
    actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions.count("checkin_undone") == 1


def test_attendance_body_and_versions(world: Any, api_as: Any) -> None:
    w = world
    api = api_as(w.organiser)
    before = api.get(url(w.session, "attendance"))
    assert before.status_code == 200
    body = before.get_json()
    assert set(body) == {"session_id", "version", "sites", "totals"}
    assert set(body["totals"]) == {"registered", "present", "female", "male", "unspecified"}
    assert {"site_id", "registered", "present", "female", "male", "unspecified"} <= set(
        body["sites"][0])
    created = api.post(url(w.session), json={"site_id": w.a.id, "participant_id": w.binh.id})
    middle = api.get(url(w.session, "attendance")).get_json()
    api.delete(url(w.session, f"checkins/{created.get_json()['id']}"))
    after = api.get(url(w.session, "attendance")).get_json()
    assert body["version"] < middle["version"] < after["version"]
    assert middle["totals"]["present"] == 1 and middle["totals"]["male"] == 1
    assert after["totals"]["present"] == 0
    is_problem(api_as(w.coord_out).get(url(w.session, "attendance")), 403)
    assert api_as(w.coord_a).get(url(w.session, "attendance")).status_code == 200
    is_problem(api.get("/api/v1/sessions/777777/attendance"), 404)


def test_walkins(world: Any, api_as: Any) -> None:
    w = world
    api = api_as(w.coord_a)
    key = str(uuid.uuid4())
    payload = {"site_id": w.a.id, "full_name": "Vũ Thị Mai", "sex": "female",
               "unit": "Xã Tạ Xá", "client_id": key}
    first = api.post(url(w.session, "walkins"), json=payload)
    assert first.status_code == 201, first.get_data(as_text=True)
    body = first.get_json()
    assert body["participant"]["full_name"] == "Vũ Thị Mai" and body["participant"]["code"]
    assert body["checkin"]["walk_in"] is True
    assert body["checkin"]["participant_id"] == body["participant"]["id"]
    again = api.post(url(w.session, "walkins"), json=payload)
    assert again.status_code == 200
    assert again.get_json()["checkin"]["id"] == body["checkin"]["id"]
    bad = api.post(url(w.session, "walkins"), json={**payload, "client_id": None, "sex": "x"})
    assert "sex" in is_problem(bad, 422)["errors"]
    bad_phone = api.post(url(w.session, "walkins"), json={**payload, "client_id": None,
                                                          "phone": "12345"})
    assert "phone" in is_problem(bad_phone, 422)["errors"]
    is_problem(api_as(w.coord_b).post(url(w.session, "walkins"), json=payload), 403)


def test_roster_sites_status_rollcall_flagged(world: Any, api_as: Any) -> None:
    w = world
    coord = api_as(w.coord_a)
    organiser = api_as(w.organiser)
    coord.post(url(w.session), json={"site_id": w.a.id, "participant_id": w.ha.id})
    roster = coord.get(url(w.session, f"roster?site_id={w.a.id}")).get_json()
    assert roster["total"] == 3 and [r["full_name"] for r in roster["items"]] == [
        "Trần Văn Bình", "Nguyễn Thị Hà", "Lê Minh"]
    assert [r["present"] for r in roster["items"]] == [False, True, False]
    is_problem(coord.get(url(w.session, f"roster?site_id={w.b.id}")), 403)
    is_problem(coord.get(url(w.session, "roster")), 422)

    status = coord.post(url(w.session, f"sites/{w.a.id}/status"),
                        json={"status": "issue", "note": "Mất hình"})
    assert status.status_code == 200
    assert status.get_json()["note"] == "Mất hình" and status.get_json()["status"] == "offline"
    is_problem(coord.post(url(w.session, f"sites/{w.b.id}/status"), json={"status": "online"}),
               403)
    is_problem(coord.post(url(w.session, f"sites/{w.a.id}/status"), json={"status": "x"}), 422)

    board = organiser.get(url(w.session, "sites")).get_json()
    assert board["total"] == 3 and board["items"][0]["kind"] == "host"
    row_a = next(r for r in board["items"] if r["site_id"] == w.a.id)
    assert (row_a["present"], row_a["reported_status"], row_a["status_note"]) == (
        1, "issue", "Mất hình")

    is_problem(coord.post(url(w.session, "rollcall")), 403)
    is_problem(coord.post(url(w.session, f"rollcall/{w.a.id}")), 409)
    started = organiser.post(url(w.session, "rollcall"))
    assert started.status_code == 200 and started.get_json()["started_at"]
    confirmed = coord.post(url(w.session, f"rollcall/{w.a.id}"))
    assert confirmed.status_code == 200 and confirmed.get_json()["site_id"] == w.a.id
    assert organiser.delete(url(w.session, "rollcall")).status_code == 204

    is_problem(coord.get(url(w.session, "flagged")), 403)
    coord.post(url(w.session), json={"site_id": w.a.id, "participant_id": w.stranger.id})
    flagged = organiser.get(url(w.session, "flagged")).get_json()
    assert flagged["total"] == 1 and flagged["items"][0]["flags"] == ["not_registered"]


def test_openapi_documents_the_checkin_paths(app: Any, client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    post = spec["paths"]["/api/v1/sessions/{session_id}/checkins"]["post"]
    assert {"200", "201", "403", "404", "409", "422"} <= set(map(str, post["responses"]))
    delete = spec["paths"]["/api/v1/sessions/{session_id}/checkins/{checkin_id}"]["delete"]
    assert "204" in set(map(str, delete["responses"]))
    assert "/api/v1/sessions/{session_id}/attendance" in spec["paths"]


def test_409_for_another_sites_person_names_nobody(world: Any, api_as: Any) -> None:
    """The attack: a coordinator walking participant ids read each person's name, site and
    check-in time from the 409. Now a person of another site gets a 409 without them; the
    check-in of another site's person stays allowed (a walk-in) and flagged."""
    w = world
    assert api_as(w.coord_b).post(url(w.session), json={
        "site_id": w.b.id, "participant_id": w.lan.id}).status_code == 201
    response = api_as(w.coord_a, lang="en").post(url(w.session), json={
        "site_id": w.a.id, "participant_id": w.lan.id})
    body = is_problem(response, 409)
    assert body["type"] == "/problems/checked-in-elsewhere"
    assert not {"site_id", "site_name", "checkin_at", "checkin_id", "participant_id"} & set(body)
    text = response.get_data(as_text=True)
    assert w.lan.full_name not in text and "Đoan Hùng" not in text
    assert "already checked in at another site" in body["detail"]
    assert checkins() == 1
