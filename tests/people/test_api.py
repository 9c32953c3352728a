"""/api/v1/participants: create, read, update, list with filters, permissions, errors."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from trainer.extensions import db
from trainer.people.models import Participant


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Participant)) or 0


def test_create_returns_201_with_id_and_code(api_as: Any, organiser: Any,
                                             sites: dict[str, Any]) -> None:
    response = api_as(organiser).post("/api/v1/participants", json={
        "full_name": "Nguyễn Thị Hà", "sex": "female", "site_id": sites["LTH"].id,
        "unit": "xa tien kien", "position": "Giáo viên", "phone": "0912 345 678",
        "birth_year": 1985})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert isinstance(body["id"], int) and len(body["code"]) == 6
    assert body["family_name"] == "Nguyễn" and body["given_name"] == "Hà"
    assert body["unit"] == "Xã Tiên Kiên"  # matched to the site's commune
    assert body["unit_id"] is not None
    assert body["phone"] == "0912345678"
    got = api_as(organiser).get(f"/api/v1/participants/{body['id']}").get_json()
    assert got["code"] == body["code"] and got["full_name"] == "Nguyễn Thị Hà"


def test_unit_not_in_the_list_is_kept_as_typed(api_as: Any, organiser: Any,
                                               sites: dict[str, Any]) -> None:
    body = api_as(organiser).post("/api/v1/participants", json={
        "full_name": "Lê Văn An", "sex": "male", "site_id": sites["LTH"].id,
        "unit": "Trường THCS Tiên Kiên"}).get_json()
    assert body["unit"] == "Trường THCS Tiên Kiên" and body["unit_id"] is None


@pytest.mark.parametrize(("payload", "fields"), [
    ({"sex": "female"}, {"full_name", "site_id"}),
    ({"full_name": "An", "sex": "woman", "site_id": 1}, {"sex"}),
    ({"full_name": "An", "sex": "male", "site_id": 1, "birth_year": 1800}, {"birth_year"}),
    ({"full_name": "An\u0000", "sex": "male", "site_id": 1}, {"full_name"}),
    ({"full_name": "An", "sex": "male", "site_id": 1, "favourite": "tea"}, {"favourite"}),
])
def test_invalid_input_is_422_with_field_errors(api_as: Any, organiser: Any,
                                                sites: dict[str, Any], payload: dict[str, Any],
                                                fields: set[str]) -> None:
    if payload.get("site_id") == 1:
        payload["site_id"] = sites["LTH"].id
    response = api_as(organiser, lang="en").post("/api/v1/participants", json=payload)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(response.get_json()["errors"]) == fields
    assert count() == 0


def test_service_errors_are_422_with_the_field(api_as: Any, organiser: Any,
                                               sites: dict[str, Any]) -> None:
    response = api_as(organiser, lang="en").post("/api/v1/participants", json={
        "full_name": "An", "sex": "male", "site_id": sites["LTH"].id, "phone": "12345"})
    assert response.status_code == 422
    assert "phone" in response.get_json()["errors"]
    assert "Vietnamese phone number" in response.get_json()["errors"]["phone"][0]
    response = api_as(organiser).post("/api/v1/participants", json={
        "full_name": "An", "sex": "male", "site_id": 987654})
    assert response.status_code == 422 and "site_id" in response.get_json()["errors"]


def test_coordinator_of_site_a_cannot_create_at_site_b(api_as: Any, coordinator: Any,
                                                       sites: dict[str, Any]) -> None:
    api = api_as(coordinator)
    ok = api.post("/api/v1/participants", json={"full_name": "Phạm Thu Trang",
                                                "sex": "female", "site_id": sites["LTH"].id})
    assert ok.status_code == 201
    refused = api.post("/api/v1/participants", json={"full_name": "Phạm Thu Trang",
                                                     "sex": "female",
                                                     "site_id": sites["HHO"].id})
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"
    assert count() == 1


def test_coordinator_cannot_read_or_move_another_sites_participant(
        api_as: Any, coordinator: Any, sites: dict[str, Any], make_participant: Any) -> None:
    other = make_participant(sites["HHO"], "Đỗ Văn Nam", sex="male")
    mine = make_participant(sites["LTH"], "Vũ Thị Hòa")
    api = api_as(coordinator)
    assert api.get(f"/api/v1/participants/{other.id}").status_code == 403
    assert api.patch(f"/api/v1/participants/{other.id}",
                     json={"position": "x"}).status_code == 403
    assert api.patch(f"/api/v1/participants/{mine.id}",
                     json={"site_id": sites["HHO"].id}).status_code == 403
    assert api.get("/api/v1/participants/999999").status_code == 404


def test_patch_updates_fields_and_resplits_the_name(api_as: Any, organiser: Any,
                                                    sites: dict[str, Any],
                                                    make_participant: Any) -> None:
    p = make_participant(sites["LTH"], "Vũ Thị Hòa", birth_year=1980)
    response = api_as(organiser).patch(f"/api/v1/participants/{p.id}", json={
        "full_name": "Vũ Thị Thu Hòa", "phone": "01681234567"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["middle_name"] == "Thị Thu" and body["birth_year"] == 1980
    assert body["phone"] == "0381234567"
    assert api_as(organiser).patch(f"/api/v1/participants/{p.id}",
                                   json={"colour": "red"}).status_code == 422


def test_list_filters_and_vietnamese_order(api_as: Any, organiser: Any, coordinator: Any,
                                           sites: dict[str, Any],
                                           make_participant: Any) -> None:
    for name, site, sex in [("Đặng Văn Đức", "LTH", "male"), ("Nguyễn Thị Hà", "LTH", "female"),
                            ("Trần Văn Dũng", "HHO", "male"), ("Lê Thị Ánh", "LTH", "female"),
                            ("Phạm Văn Anh", "HHO", "male"), ("Bùi Thị Hoà", "HHO", "female"),
                            ("Vũ Thị Hòa", "LTH", "female")]:
        make_participant(sites[site], name, sex=sex)
    api = api_as(organiser)
    body = api.get("/api/v1/participants").get_json()
    assert body["total"] == 7
    assert [p["full_name"] for p in body["items"]] == [
        "Phạm Văn Anh", "Lê Thị Ánh", "Trần Văn Dũng", "Đặng Văn Đức", "Nguyễn Thị Hà",
        "Bùi Thị Hoà", "Vũ Thị Hòa"]
    lth = api.get(f"/api/v1/participants?site_id={sites['LTH'].id}").get_json()
    assert {p["site_id"] for p in lth["items"]} == {sites["LTH"].id} and lth["total"] == 4
    women = api.get("/api/v1/participants?sex=female").get_json()
    assert women["total"] == 4
    hoa = api.get("/api/v1/participants?q=hoa").get_json()
    assert {p["full_name"] for p in hoa["items"]} == {"Bùi Thị Hoà", "Vũ Thị Hòa"}
    assert api.get("/api/v1/participants?q=duc").get_json()["items"][0]["full_name"] == \
        "Đặng Văn Đức"
    page2 = api.get("/api/v1/participants?per_page=3&page=2").get_json()
    assert [p["full_name"] for p in page2["items"]] == ["Đặng Văn Đức", "Nguyễn Thị Hà",
                                                         "Bùi Thị Hoà"]
    assert api.get("/api/v1/participants?page=9").get_json()["items"] == []
    assert api.get("/api/v1/participants?per_page=501").status_code == 422
    mine = api_as(coordinator).get("/api/v1/participants").get_json()
    assert mine["total"] == 4


def test_anonymous_callers_are_refused(api_as: Any, sites: dict[str, Any]) -> None:
    response = api_as(None).get("/api/v1/participants")
    assert response.status_code == 401
    assert api_as(None).post("/api/v1/participants/import").status_code == 401


def test_openapi_documents_the_import(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    op = spec["paths"]["/api/v1/participants/import"]["post"]
    body = op["requestBody"]["content"]["multipart/form-data"]["schema"]
    ref = body["$ref"].rsplit("/", 1)[-1]
    props = spec["components"]["schemas"][ref]["properties"]
    assert props["file"] == {"type": "string", "format": "binary",
                             "description": "The roster: CSV or XLSX."}
    assert {"site_id", "dry_run"} <= set(props)
    assert {"200", "413", "422"} <= set(op["responses"])
    result = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    result_props = spec["components"]["schemas"][result.rsplit("/", 1)[-1]]["properties"]
    assert {"created", "updated", "errors"} <= set(result_props)
