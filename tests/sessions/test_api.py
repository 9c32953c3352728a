"""/api/v1/sessions, registrations, status, agenda, trainings: the contract and its refusals."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from trainer.extensions import db
from trainer.sessions.models import Registration, TrainingSession

from .conftest import csv_bytes


def body(province: Any, **kw: Any) -> dict[str, Any]:
    data = {"title": "Tập huấn quản lý TTHTCĐ", "starts_at": "2030-03-01T07:30:00+07:00",
            "ends_at": "2030-03-01T11:30:00+07:00", "host_site_id": province.host.id,
            "site_ids": [province.ckh.id, province.hho.id], "topics": ["management", "gender"],
            "conference_url": "https://meet.jit.si/TapHuan2017"}
    data.update(kw)
    return data


def sessions_count() -> int:
    return db.session.scalar(select(func.count()).select_from(TrainingSession)) or 0


def test_create_and_read_a_session(province: Any, api_as: Any) -> None:
    api = api_as(province.organiser, lang="en")
    response = api.post("/api/v1/sessions", json=body(province))
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["status"] == "scheduled"
    assert created["starts_at"] == "2030-03-01T00:30:00+00:00"
    assert created["host_site_id"] == province.host.id
    assert sorted(created["site_ids"]) == sorted([province.host.id, province.ckh.id,
                                                  province.hho.id])
    assert created["conference_service"] == "jitsi"
    assert created["join_label"] == "Join on Jitsi Meet"
    assert created["sites"][0]["is_host"] is True
    got = api.get(f"/api/v1/sessions/{created['id']}").get_json()
    assert got["title"] == "Tập huấn quản lý TTHTCĐ" and got["registered"] == 0
    assert got["ics_url"] == f"/sessions/{created['id']}.ics"


def test_create_with_an_agenda(province: Any, api_as: Any) -> None:
    api = api_as(province.organiser)
    response = api.post("/api/v1/sessions", json=body(province, agenda=[
        {"time": "07:30", "title": "Khai mạc", "presenter": "Nguyễn Văn Hùng",
         "presenter_org": "Sở Giáo dục và Đào tạo tỉnh Phú Thọ"},
        {"time": "08:00", "title": "Bình đẳng giới"}]))
    assert response.status_code == 201
    agenda = response.get_json()["agenda"]
    assert [(a["time"], a["title"]) for a in agenda] == [("07:30", "Khai mạc"),
                                                         ("08:00", "Bình đẳng giới")]


@pytest.mark.parametrize("changes, field", [
    ({"ends_at": "2030-03-01T07:00:00+07:00"}, "ends_at"),
    ({"site_ids": [1, 1]}, "site_ids"),
    ({"site_ids": [424242]}, "site_ids"),
    ({"host_site_id": 424242}, "host_site_id"),
    ({"conference_url": "javascript:alert(document.cookie)"}, "conference_url"),
    ({"title": ""}, "title"),
    ({"starts_at": "not a date"}, "starts_at"),
    ({"colour": "red"}, "colour"),
    ({"title": "a\u0000b"}, "title"),
])
def test_bad_input_is_a_clear_422_and_nothing_saved(province: Any, api_as: Any,
                                                    changes: dict[str, Any], field: str) -> None:
    data = body(province, **changes)
    if changes.get("site_ids") == [1, 1]:
        data["site_ids"] = [province.ckh.id, province.ckh.id]
    response = api_as(province.organiser, lang="en").post("/api/v1/sessions", json=data)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert field in problem["errors"] and problem["detail"]
    assert "Traceback" not in response.get_data(as_text=True)
    assert sessions_count() == 0


def test_a_site_named_twice_is_named_in_the_answer(province: Any, api_as: Any) -> None:
    response = api_as(province.organiser, lang="en").post(
        "/api/v1/sessions", json=body(province, site_ids=[province.ckh.id, province.ckh.id]))
    assert response.get_json()["errors"]["site_ids"] == ["Huyện Cẩm Khê is named twice."]


def test_list_filters_by_time_and_pages(province: Any, api_as: Any) -> None:
    api = api_as(province.organiser)
    for day in (1, 8, 15):
        api.post("/api/v1/sessions", json=body(
            province, title=f"Phiên {day}", starts_at=f"2030-03-{day:02d}T07:30:00+07:00",
            ends_at=f"2030-03-{day:02d}T11:30:00+07:00"))
    everything = api.get("/api/v1/sessions").get_json()
    assert everything["total"] == 3
    assert [s["title"] for s in everything["items"]] == ["Phiên 1", "Phiên 8", "Phiên 15"]
    window = api.get("/api/v1/sessions?from=2030-03-05&to=2030-03-10").get_json()
    assert [s["title"] for s in window["items"]] == ["Phiên 8"]
    page = api.get("/api/v1/sessions?per_page=2&page=2").get_json()
    assert page["total"] == 3 and [s["title"] for s in page["items"]] == ["Phiên 15"]
    assert api.get("/api/v1/sessions?page=9").get_json()["items"] == []
    assert api.get("/api/v1/sessions?per_page=501").status_code == 422


def test_registrations_each_at_their_home_site(province: Any, api_as: Any) -> None:
    api = api_as(province.organiser, lang="en")
    session_id = api.post("/api/v1/sessions", json=body(province)).get_json()["id"]
    p = province.people
    response = api.post(f"/api/v1/sessions/{session_id}/registrations",
                        json={"participant_ids": [p.ha.id, p.binh.id, p.hoa.id]})
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert (result["added"], result["already"], result["registered"]) == (3, 0, 3)
    counts = {s["site_id"]: s["registered"] for s in result["sites"]}
    assert counts == {province.host.id: 0, province.ckh.id: 2, province.hho.id: 1}
    again = api.post(f"/api/v1/sessions/{session_id}/registrations",
                     json={"participant_ids": [p.ha.id], "site_ids": [province.host.id]})
    assert again.get_json()["added"] == 1 and again.get_json()["already"] == 1
    roster = api.get(f"/api/v1/sessions/{session_id}/registrations?site_id={province.ckh.id}")
    assert [r["full_name"] for r in roster.get_json()["items"]] == ["Lê Văn Bình",
                                                                   "Trần Thị Hà"]
    session = api.get(f"/api/v1/sessions/{session_id}").get_json()
    assert {s["site_id"]: s["registered"] for s in session["sites"]}[province.ckh.id] == 2
    assert session["registered"] == 4


def test_registrations_of_another_province_are_refused_whole(province: Any,
                                                             api_as: Any) -> None:
    api = api_as(province.organiser, lang="en")
    session_id = api.post("/api/v1/sessions", json=body(province)).get_json()["id"]
    p = province.people
    response = api.post(f"/api/v1/sessions/{session_id}/registrations",
                        json={"participant_ids": [p.ha.id, p.tuan.id]})
    assert response.status_code == 422
    assert "Vũ Anh Tuấn" in response.get_json()["detail"]
    assert "Quận Ba Đình" in response.get_json()["errors"]["participant_ids"][0]
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0


def test_roster_import_over_the_api(province: Any, api_as: Any) -> None:
    api = api_as(province.organiser, lang="en")
    session_id = api.post("/api/v1/sessions", json=body(province)).get_json()["id"]
    p = province.people
    data = csv_bytes([["Mã học viên"], [p.ha.code], [p.tuan.code]])
    bad = api.post(f"/api/v1/sessions/{session_id}/registrations/import",
                   data={"file": (__import__("io").BytesIO(data), "ds.csv")},
                   content_type="multipart/form-data")
    assert bad.status_code == 422
    assert "Row 3: Vũ Anh Tuấn" in bad.get_json()["errors"]["file"][0]
    good = api.post(f"/api/v1/sessions/{session_id}/registrations/import",
                    data={"file": (__import__("io").BytesIO(csv_bytes([["code"], [p.ha.code]])),
                                   "ds.csv")}, content_type="multipart/form-data")
    assert good.status_code == 200 and good.get_json()["added"] == 1


def test_status_transitions_over_the_api(province: Any, api_as: Any, monkeypatch: Any) -> None:
    from trainer import live

    pushed: list[tuple[int, str, dict[str, Any]]] = []
    monkeypatch.setattr(live, "emit", lambda sid, event, payload, **kw: pushed.append(
        (sid, event, payload)))
    api = api_as(province.organiser, lang="en")
    session_id = api.post("/api/v1/sessions", json=body(province)).get_json()["id"]
    url = f"/api/v1/sessions/{session_id}/status"
    refused = api.post(url, json={"status": "ended"})
    assert refused.status_code == 409
    assert "must go live" in refused.get_json()["detail"]
    assert api.post(url, json={"status": "live"}).get_json()["status"] == "live"
    assert api.post(url, json={"status": "ended"}).get_json()["status"] == "ended"
    assert api.post(url, json={"status": "live"}).status_code == 409
    assert api.post(url, json={"status": "scheduled"}).status_code == 422
    assert pushed == [(session_id, "session_status", {"session_id": session_id,
                                                      "status": "live"}),
                      (session_id, "session_status", {"session_id": session_id,
                                                      "status": "ended"})]


def test_patch_agenda_sites_copy_and_delete(province: Any, api_as: Any) -> None:
    api = api_as(province.organiser, lang="en")
    session_id = api.post("/api/v1/sessions", json=body(province)).get_json()["id"]
    base = f"/api/v1/sessions/{session_id}"
    patched = api.patch(base, json={"title": "Đổi tên", "site_ids": [province.ckh.id]})
    assert patched.status_code == 200
    assert patched.get_json()["title"] == "Đổi tên" and len(patched.get_json()["sites"]) == 2
    assert patched.get_json()["ics_sequence"] == 1
    agenda = api.put(f"{base}/agenda", json={"items": [
        {"time": "08:00", "title": "Hai"}, {"time": "07:30", "title": "Một"}]})
    assert [a["title"] for a in agenda.get_json()] == ["Hai", "Một"]  # the order given
    item = api.post(f"{base}/agenda", json={"time": "07:45", "title": "Giữa"}).get_json()
    assert api.patch(f"{base}/agenda/{item['id']}", json={"presenter": "Bà Lan"}).get_json()[
        "presenter"] == "Bà Lan"
    assert api.delete(f"{base}/agenda/{item['id']}").status_code == 204
    site = api.patch(f"{base}/sites/{province.ckh.id}",
                     json={"chair_name": "Phạm Văn Dũng",
                           "coordinator_ids": [province.coord_ckh.id]})
    assert site.status_code == 200
    assert site.get_json()["chair_name"] == "Phạm Văn Dũng"
    assert site.get_json()["coordinators"][0]["username"] == "coord_ckh"
    copy = api.post(f"{base}/copy", json={"starts_at": "2031-03-01T07:30:00+07:00",
                                          "ends_at": "2031-03-01T11:30:00+07:00"})
    assert copy.status_code == 201
    copied = copy.get_json()
    assert copied["id"] != session_id and copied["status"] == "scheduled"
    assert [a["title"] for a in copied["agenda"]] == ["Hai", "Một"]
    assert api.delete(f"/api/v1/sessions/{copied['id']}").status_code == 204
    assert api.get(f"/api/v1/sessions/{copied['id']}").status_code == 404
    api.post(f"{base}/status", json={"status": "live"})
    assert api.delete(base).status_code == 409


def test_coordinators_read_their_sites_and_write_nothing(province: Any, api_as: Any) -> None:
    organiser = api_as(province.organiser)
    mine = organiser.post("/api/v1/sessions", json=body(province)).get_json()["id"]
    other = organiser.post("/api/v1/sessions", json=body(
        province, site_ids=[province.hho.id])).get_json()["id"]
    p = province.people
    organiser.post(f"/api/v1/sessions/{mine}/registrations",
                   json={"participant_ids": [p.ha.id, p.binh.id, p.hoa.id]})

    coord = api_as(province.coord_ckh)
    listed = coord.get("/api/v1/sessions").get_json()
    assert [s["id"] for s in listed["items"]] == [mine] and listed["total"] == 1
    assert coord.get(f"/api/v1/sessions/{mine}").status_code == 200
    assert coord.get(f"/api/v1/sessions/{other}").status_code == 403
    roster = coord.get(f"/api/v1/sessions/{mine}/registrations").get_json()
    assert {r["full_name"] for r in roster["items"]} == {"Trần Thị Hà", "Lê Văn Bình"}
    assert coord.get(f"/api/v1/sessions/{mine}/registrations?site_id={province.hho.id}"
                     ).status_code == 403

    writes = [
        ("post", "/api/v1/sessions", body(province)),
        ("patch", f"/api/v1/sessions/{mine}", {"title": "Của tôi"}),
        ("post", f"/api/v1/sessions/{mine}/status", {"status": "live"}),
        ("post", f"/api/v1/sessions/{mine}/registrations", {"participant_ids": [p.son.id]}),
        ("delete", f"/api/v1/sessions/{mine}/registrations/{p.ha.id}", None),
        ("put", f"/api/v1/sessions/{mine}/agenda", {"items": []}),
        ("post", f"/api/v1/sessions/{mine}/agenda", {"title": "X"}),
        ("patch", f"/api/v1/sessions/{mine}/sites/{province.ckh.id}", {"chair_name": "X"}),
        ("post", f"/api/v1/sessions/{mine}/copy", {"starts_at": "2031-01-01T08:00:00Z",
                                                   "ends_at": "2031-01-01T09:00:00Z"}),
        ("delete", f"/api/v1/sessions/{mine}", None),
        ("post", "/api/v1/trainings", {"title": "X", "year": 2017}),
    ]
    for method, url, payload in writes:
        response = getattr(coord, method)(url, json=payload) if payload is not None else \
            getattr(coord, method)(url)
        assert response.status_code == 403, (method, url, response.get_json())
    assert sessions_count() == 2
    session = db.session.get(TrainingSession, mine)
    assert session.title == "Tập huấn quản lý TTHTCĐ" and session.status.value == "scheduled"
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 3


def test_anonymous_callers_are_refused(province: Any, api_as: Any) -> None:
    anonymous = api_as(None)
    assert anonymous.get("/api/v1/sessions").status_code == 401
    assert anonymous.post("/api/v1/sessions", json=body(province)).status_code == 401


def test_unknown_session_is_404(province: Any, api_as: Any) -> None:
    api = api_as(province.organiser)
    assert api.get("/api/v1/sessions/999").status_code == 404
    assert api.post("/api/v1/sessions/999/status", json={"status": "live"}).status_code == 404


def test_trainings_api(province: Any, api_as: Any) -> None:
    api = api_as(province.organiser)
    created = api.post("/api/v1/trainings", json={
        "title": "Tập huấn năm 2017", "year": 2017,
        "lead_agency": "Sở Giáo dục và Đào tạo tỉnh Phú Thọ",
        "partners": ["Hội Khuyến học tỉnh Phú Thọ"], "topics": ["management"]})
    assert created.status_code == 201
    training_id = created.get_json()["id"]
    session = api.post("/api/v1/sessions", json=body(province, training_id=training_id))
    assert session.get_json()["training_title"] == "Tập huấn năm 2017"
    got = api.get(f"/api/v1/trainings/{training_id}").get_json()
    assert got["session_ids"] == [session.get_json()["id"]]
    assert api.patch(f"/api/v1/trainings/{training_id}", json={"year": 2018}).get_json()[
        "year"] == 2018
    assert api.get("/api/v1/trainings").get_json()["total"] == 1


def test_openapi_documents_the_session_endpoints(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/sessions", "/api/v1/sessions/{session_id}",
                 "/api/v1/sessions/{session_id}/registrations",
                 "/api/v1/sessions/{session_id}/status", "/api/v1/trainings"):
        assert path in spec["paths"], path
    create = spec["paths"]["/api/v1/sessions"]["post"]
    assert "201" in create["responses"]
    assert "409" in spec["paths"]["/api/v1/sessions/{session_id}/status"]["post"]["responses"]
