"""Bridge points and their units: the API, the pages, and who may see and change what."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from sqlalchemy import func, select

from trainer.extensions import db
from trainer.sites.models import Site, Unit

VIET_TRI = "Thành phố Việt Trì"


def is_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    return body


def site_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Site)) or 0


@pytest.fixture
def organiser(make_user: Any) -> Any:
    return make_user("organiser")


# --- API: list ------------------------------------------------------------------------------

def test_list_sites_is_paginated_in_id_order(api_as: Any, organiser: Any,
                                             make_site: Any) -> None:
    sites = [make_site() for _ in range(5)]
    api = api_as(organiser)
    body = api.get("/api/v1/sites").get_json()
    assert body["total"] == 5
    assert [s["id"] for s in body["items"]] == [s.id for s in sites]
    assert set(body["items"][0]) >= {"id", "code", "name", "kind"}
    page2 = api.get("/api/v1/sites?page=2&per_page=2").get_json()
    assert page2["total"] == 5 and [s["id"] for s in page2["items"]] == [sites[2].id, sites[3].id]
    past = api.get("/api/v1/sites?page=4&per_page=2").get_json()
    assert past == {"items": [], "total": 5}


@pytest.mark.parametrize("query", ["page=0", "per_page=0", "per_page=501", "page=x",
                                   "kind=village", "q=" + "x" * 101])
def test_list_arguments_are_checked(api_as: Any, organiser: Any, query: str) -> None:
    is_problem(api_as(organiser).get(f"/api/v1/sites?{query}"), 422)


def test_list_filters_by_name_without_diacritics_and_by_kind(api_as: Any, organiser: Any,
                                                             make_site: Any) -> None:
    host = make_site(code="VTR", name=VIET_TRI, kind="host")
    make_site(code="HHO", name="Huyện Hạ Hòa")
    api = api_as(organiser)
    assert [s["id"] for s in api.get("/api/v1/sites?q=viet tri").get_json()["items"]] == [host.id]
    assert [s["code"] for s in api.get("/api/v1/sites?q=ha hoa").get_json()["items"]] == ["HHO"]
    assert [s["code"] for s in api.get("/api/v1/sites?kind=host").get_json()["items"]] == ["VTR"]


def test_coordinator_sees_only_its_sites(api_as: Any, make_user: Any, make_site: Any) -> None:
    mine, other = make_site(), make_site()
    coordinator = make_user("coordinator", sites=[mine])
    api = api_as(coordinator)
    body = api.get("/api/v1/sites").get_json()
    assert body["total"] == 1 and [s["id"] for s in body["items"]] == [mine.id]
    assert api.get(f"/api/v1/sites/{mine.id}").status_code == 200
    is_problem(api.get(f"/api/v1/sites/{other.id}"), 403)
    is_problem(api.get(f"/api/v1/sites/{other.id}/units"), 403)


def test_sites_need_credentials(api_as: Any) -> None:
    is_problem(api_as(None).get("/api/v1/sites"), 401)
    is_problem(api_as(None).post("/api/v1/sites", json={"code": "A", "name": "B"}), 401)


# --- API: create ----------------------------------------------------------------------------

def test_organiser_creates_a_site(api_as: Any, organiser: Any) -> None:
    response = api_as(organiser).post("/api/v1/sites", json={
        "code": "vtr", "name": f"  {VIET_TRI}  ", "kind": "host"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["code"] == "VTR" and body["name"] == VIET_TRI and body["kind"] == "host"
    site = db.session.get(Site, body["id"])
    assert site is not None and site.name == VIET_TRI and site.code == "VTR"
    default = api_as(organiser).post("/api/v1/sites", json={"code": "PTH", "name": "Thị xã Phú Thọ"})
    assert default.status_code == 201 and default.get_json()["kind"] == "bridge"


def test_admin_creates_a_site_too(api_as: Any, make_user: Any) -> None:
    response = api_as(make_user("admin")).post("/api/v1/sites", json={"code": "A1", "name": "A"})
    assert response.status_code == 201


def test_coordinator_may_not_create_sites(api_as: Any, make_user: Any, make_site: Any) -> None:
    coordinator = make_user("coordinator", sites=[make_site()])
    is_problem(api_as(coordinator).post("/api/v1/sites", json={"code": "NEW", "name": "Mới"}),
               403)
    assert site_count() == 1


def test_duplicate_code_is_a_conflict(api_as: Any, organiser: Any, make_site: Any) -> None:
    make_site(code="VTR", name=VIET_TRI)
    body = is_problem(api_as(organiser).post("/api/v1/sites", json={"code": "vtr", "name": "X"}),
                      409)
    assert "code" in body["errors"]
    assert site_count() == 1


@pytest.mark.parametrize("payload, field", [
    ({"code": "bad code!", "name": "X"}, "code"),
    ({"code": "", "name": "X"}, "code"),
    ({"code": "A" * 33, "name": "X"}, "code"),
    ({"code": "OK", "name": ""}, "name"),
    ({"code": "OK", "name": "   "}, "name"),
    ({"code": "OK", "name": "x" * 201}, "name"),
    ({"code": "OK", "name": "Bell\u0007"}, "name"),
    ({"code": "OK", "name": "Nul\u0000"}, "name"),
    ({"code": "OK"}, "name"),
    ({"name": "X"}, "code"),
    ({"code": "OK", "name": "X", "kind": "village"}, "kind"),
    ({"code": "OK", "name": "X", "colour": "red"}, "colour"),
    ({"code": 5, "name": "X"}, "code"),
    ({"code": "OK", "name": ["X"]}, "name"),
    ({"code": "OK", "name": None}, "name"),
    ({"code": "OK", "name": "X", "address": "y" * 301}, "address"),
])
def test_invalid_site_is_refused_with_field_errors(api_as: Any, organiser: Any,
                                                   payload: dict[str, Any], field: str) -> None:
    body = is_problem(api_as(organiser).post("/api/v1/sites", json=payload), 422)
    assert field in body["errors"], body
    assert all(isinstance(m, str) and m for m in body["errors"][field])
    assert site_count() == 0


@pytest.mark.parametrize("data, content_type", [
    ('{"code": "A", "name": ', "application/json"),
    ("not json at all", "application/json"),
    (b"\xff\xfe\x00", "application/json"),
])
def test_malformed_json_is_400_problem(api_as: Any, organiser: Any, data: Any,
                                       content_type: str) -> None:
    response = api_as(organiser).post("/api/v1/sites", data=data, content_type=content_type)
    is_problem(response, 400)
    assert site_count() == 0


@pytest.mark.parametrize("payload", [[1, 2], "a string", 42])
def test_a_body_that_is_not_an_object_is_refused(api_as: Any, organiser: Any,
                                                 payload: Any) -> None:
    response = api_as(organiser).post("/api/v1/sites", json=payload)
    assert response.status_code in (400, 422)
    is_problem(response, response.status_code)


def test_script_in_a_name_is_stored_as_text_and_escaped(api_as: Any, organiser: Any,
                                                        client: Any, login: Any) -> None:
    name = '<script>alert("x")</script> & Co'
    response = api_as(organiser).post("/api/v1/sites", json={"code": "XSS", "name": name})
    assert response.status_code == 201
    site_id = response.get_json()["id"]
    assert db.session.get(Site, site_id).name == name
    login(organiser)
    for path in ("/sites", f"/sites/{site_id}", f"/sites/{site_id}/edit"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html, path
        assert "&lt;script&gt;alert(" in html, path


def test_names_are_stored_nfc(api_as: Any, organiser: Any) -> None:
    nfd = unicodedata.normalize("NFD", "Huyện Hạ Hòa")
    assert nfd != "Huyện Hạ Hòa"
    response = api_as(organiser).post("/api/v1/sites", json={"code": "HHO", "name": nfd})
    assert response.status_code == 201
    assert response.get_json()["name"] == "Huyện Hạ Hòa"
    db.session.expire_all()
    stored = db.session.scalar(select(Site.name).where(Site.code == "HHO"))
    assert stored == unicodedata.normalize("NFC", nfd)


def test_update_a_site(api_as: Any, organiser: Any, make_site: Any) -> None:
    site, other = make_site(code="AAA"), make_site(code="BBB")
    api = api_as(organiser)
    response = api.patch(f"/api/v1/sites/{site.id}", json={"name": "Huyện Lâm Thao"})
    assert response.status_code == 200 and response.get_json()["name"] == "Huyện Lâm Thao"
    is_problem(api.patch(f"/api/v1/sites/{site.id}", json={"code": "bbb"}), 409)
    is_problem(api.patch(f"/api/v1/sites/{site.id}", json={"name": ""}), 422)
    is_problem(api.patch("/api/v1/sites/99999", json={"name": "X"}), 404)
    db.session.expire_all()
    assert db.session.get(Site, site.id).code == "AAA" and other.code == "BBB"


# --- API: units -----------------------------------------------------------------------------

def test_units_of_a_site(api_as: Any, organiser: Any, make_site: Any, make_user: Any) -> None:
    site = make_site()
    api = api_as(organiser)
    for name in ("Xã Hà Lộc", "Xã Đông Thành", "Xã Dậu Dương"):
        response = api.post(f"/api/v1/sites/{site.id}/units", json={"name": name})
        assert response.status_code == 201
        assert response.get_json()["site_id"] == site.id
    # Vietnamese order: D, then Đ, then H (code-point order would put Đ after H)
    names = [u["name"] for u in api.get(f"/api/v1/sites/{site.id}/units").get_json()]
    assert names == ["Xã Dậu Dương", "Xã Đông Thành", "Xã Hà Lộc"]
    body = is_problem(api.post(f"/api/v1/sites/{site.id}/units", json={"name": "xa ha loc"}), 409)
    assert "name" in body["errors"]
    is_problem(api.post(f"/api/v1/sites/{site.id}/units", json={"name": ""}), 422)
    is_problem(api.post("/api/v1/sites/99999/units", json={"name": "Xã X"}), 404)
    coordinator = make_user("coordinator", sites=[site])
    assert len(api_as(coordinator).get(f"/api/v1/sites/{site.id}/units").get_json()) == 3
    is_problem(api_as(coordinator).post(f"/api/v1/sites/{site.id}/units",
                                        json={"name": "Xã Mới"}), 403)
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 3


# --- pages ----------------------------------------------------------------------------------

def test_sites_page_lists_sites_with_unit_counts(client: Any, login: Any, organiser: Any,
                                                 make_site: Any) -> None:
    make_site(code="VTR", name=VIET_TRI, kind="host", units=("Phường Gia Cẩm", "Xã Trưng Vương"))
    make_site(code="CKH", name="Huyện Cẩm Khê")
    login(organiser)
    html = client.get("/sites").get_data(as_text=True)
    assert VIET_TRI in html and "Huyện Cẩm Khê" in html and "VTR" in html
    found = client.get("/sites?q=cam khe").get_data(as_text=True)
    assert "Huyện Cẩm Khê" in found and VIET_TRI not in found


def test_site_page_shows_its_units(client: Any, login: Any, organiser: Any,
                                   make_site: Any) -> None:
    site = make_site(code="VTR", name=VIET_TRI, units=("Phường Gia Cẩm", "Xã Trưng Vương"))
    login(organiser)
    response = client.get(f"/sites/{site.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Phường Gia Cẩm" in html and "Xã Trưng Vương" in html
    assert client.get("/sites/99999").status_code == 404


def test_create_site_form(client: Any, login: Any, organiser: Any) -> None:
    login(organiser)
    assert client.get("/sites/new").status_code == 200
    response = client.post("/sites/new", data={"code": "bad code!", "name": "", "kind": "bridge",
                                                "address": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="error"' in html and 'value="bad code!"' in html
    assert site_count() == 0
    response = client.post("/sites/new", data={"code": "tsn", "name": "Huyện Tân Sơn",
                                                "kind": "bridge", "address": ""})
    assert response.status_code == 302
    site = db.session.scalar(select(Site).where(Site.code == "TSN"))
    assert site is not None and response.headers["Location"] == f"/sites/{site.id}"


def test_create_site_form_shows_a_duplicate_code(client: Any, login: Any, organiser: Any,
                                                 make_site: Any) -> None:
    make_site(code="TSN")
    login(organiser)
    response = client.post("/sites/new", data={"code": "TSN", "name": "Huyện Tân Sơn",
                                                "kind": "bridge", "address": ""})
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    assert site_count() == 1


def test_edit_site_form(client: Any, login: Any, organiser: Any, make_site: Any) -> None:
    site = make_site(code="AAA", name="Cũ")
    login(organiser)
    assert 'value="Cũ"' in client.get(f"/sites/{site.id}/edit").get_data(as_text=True)
    response = client.post(f"/sites/{site.id}/edit", data={"code": "AAA", "name": "",
                                                           "kind": "bridge", "address": ""})
    assert response.status_code == 422
    response = client.post(f"/sites/{site.id}/edit", data={"code": "AAA", "name": "Mới",
                                                           "kind": "host", "address": "Số 1"})
    assert response.status_code == 302
    db.session.expire_all()
    assert site.name == "Mới" and site.kind.value == "host" and site.address == "Số 1"


def test_unit_forms(client: Any, login: Any, organiser: Any, make_site: Any) -> None:
    site = make_site(units=("Xã Hà Lộc",))
    login(organiser)
    response = client.post(f"/sites/{site.id}/units", data={"name": "Xã Hà Lộc"})
    assert response.status_code == 409
    assert 'class="error"' in response.get_data(as_text=True)
    response = client.post(f"/sites/{site.id}/units", data={"name": "Xã Văn Lung",
                                                            "centre_name": "TTHTCĐ Văn Lung"})
    assert response.status_code == 302
    unit = db.session.scalar(select(Unit).where(Unit.name == "Xã Văn Lung"))
    assert unit is not None and unit.centre_name == "TTHTCĐ Văn Lung"
    response = client.post(f"/sites/units/{unit.id}/edit", data={"name": "", "centre_name": "",
                                                                 "rating": ""})
    assert response.status_code == 422
    response = client.post(f"/sites/units/{unit.id}/edit",
                           data={"name": "Xã Văn Lung", "centre_name": "", "rating": "Tốt"})
    assert response.status_code == 302
    db.session.expire_all()
    assert unit.rating == "Tốt" and unit.centre_name is None


def test_coordinator_pages_show_only_its_sites(client: Any, login: Any, make_user: Any,
                                               make_site: Any) -> None:
    mine = make_site(code="MINE", name="Huyện Của Tôi", units=("Xã Một",))
    other = make_site(code="OTHR", name="Huyện Khác")
    login(make_user("coordinator", sites=[mine]))
    html = client.get("/sites").get_data(as_text=True)
    assert "Huyện Của Tôi" in html and "Huyện Khác" not in html
    assert client.get(f"/sites/{mine.id}").status_code == 200
    assert client.get(f"/sites/{other.id}").status_code == 403
    assert client.get("/sites/new").status_code == 403
    assert client.get(f"/sites/{mine.id}/edit").status_code == 403
    response = client.post(f"/sites/{mine.id}/units?lang=en", data={"name": "Xã Hai"})
    assert response.status_code == 403
    assert "Your role does not allow this." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 1
