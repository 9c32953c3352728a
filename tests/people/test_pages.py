"""Participant pages: list, show, create/edit forms, QR code, badges, roster import."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import openpyxl
import pytest
from sqlalchemy import func, select

from tests.people.conftest import csv_bytes, xlsx_bytes
from trainer.extensions import db
from trainer.people.models import Participant, Sex

XSS = "<script>alert(1)</script> Hà"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; Hà"


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Participant)) or 0


# ------------------------------------------------------------------------- list and show


def test_list_links_names_and_actions_in_vietnamese_order(client: Any, login: Any,
                                                          organiser: Any, sites: dict[str, Any],
                                                          make_participant: Any) -> None:
    for name in ("Vũ Thị Yến", "Đặng Văn Đức", "Lê Văn Dũng", "Nguyễn Thị Ánh",
                 "Phạm Thị Anh"):
        make_participant(sites["LTH"], name)
    login(organiser)
    page = text(client.get("/participants"))
    order = [page.index(n) for n in ("Phạm Thị Anh", "Nguyễn Thị Ánh", "Lê Văn Dũng",
                                     "Đặng Văn Đức", "Vũ Thị Yến")]
    assert order == sorted(order)
    p = db.session.scalars(select(Participant).where(Participant.full_name == "Lê Văn Dũng")).one()
    assert f'href="/participants/{p.id}"' in page
    for href in ("/participants/new", "/participants/import", "/participants/badges"):
        assert f'href="{href}' in page


def test_show_page_has_every_field_the_code_and_the_qr(client: Any, login: Any,
                                                       organiser: Any, sites: dict[str, Any],
                                                       make_participant: Any) -> None:
    p = make_participant(sites["LTH"], "Nguyễn Thị Minh Hà", birth_year=1984,
                         position="Phó Giám đốc TTHTCĐ", unit="Sơn Vi", phone="0912345678")
    login(organiser)
    response = client.get(f"/participants/{p.id}")
    assert response.status_code == 200
    page = text(response)
    for value in ("Nguyễn Thị Minh Hà", "Thị Minh", "1984", "Phó Giám đốc TTHTCĐ",
                  "Xã Sơn Vi", "0912345678", "Huyện Lâm Thao", p.code):
        assert value in page, value
    assert 'src="data:image/svg+xml' in page
    assert f'href="/participants/{p.id}/edit"' in page


def test_markup_in_names_is_shown_escaped(client: Any, login: Any, organiser: Any,
                                          sites: dict[str, Any], make_participant: Any) -> None:
    p = make_participant(sites["LTH"], XSS, position="<b>boss</b>", unit="<i>x</i>")
    login(organiser)
    for url in ("/participants", f"/participants/{p.id}", f"/participants/{p.id}/edit",
                f"/participants/badges?site_id={sites['LTH'].id}"):
        page = text(client.get(url))
        assert "<script>alert(1)" not in page, url
        assert "<b>boss</b>" not in page and "<i>x</i>" not in page
        assert ESCAPED in page or "&lt;script&gt;alert(1)&lt;/script&gt; Hà" in page, url


def test_coordinator_sees_only_own_sites_participants(client: Any, login: Any,
                                                     coordinator: Any, sites: dict[str, Any],
                                                     make_participant: Any) -> None:
    mine = make_participant(sites["LTH"], "Vũ Thị Hòa")
    other = make_participant(sites["HHO"], "Đỗ Văn Nam", sex="male")
    login(coordinator)
    page = text(client.get("/participants"))
    assert "Vũ Thị Hòa" in page and "Đỗ Văn Nam" not in page
    assert client.get(f"/participants/{mine.id}").status_code == 200
    for url in (f"/participants/{other.id}", f"/participants/{other.id}/edit",
                f"/participants/{other.id}/qr.svg",
                f"/participants/badges?site_id={sites['HHO'].id}"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Đỗ Văn Nam" not in text(response)


def test_pages_need_a_login(client: Any, sites: dict[str, Any], make_participant: Any) -> None:
    p = make_participant(sites["LTH"], "Vũ Thị Hòa")
    for url in ("/participants", f"/participants/{p.id}", "/participants/new",
                "/participants/import", "/participants/badges", f"/participants/{p.id}/qr.svg"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


# ------------------------------------------------------------------------- forms


def test_create_form(client: Any, login: Any, organiser: Any, sites: dict[str, Any]) -> None:
    login(organiser)
    form = client.get("/participants/new")
    page = text(form)
    assert form.status_code == 200
    assert 'name="full_name"' in page and 'name="family_name"' in page
    assert 'value="female"' in page and 'value="unspecified"' in page
    assert f'<datalist id="units-{sites["LTH"].id}">' in page
    assert "Xã Tiên Kiên" in page
    assert "js/people-form.js" in page
    response = client.post("/participants/new", data={
        "full_name": "Nguyễn Thị Hà", "family_name": "Nguyễn", "middle_name": "Thị",
        "given_name": "Hà", "sex": "female", "birth_year": "1985", "position": "Giáo viên",
        "unit": "tien kien", "phone": "0168 123 4567", "site_id": str(sites["LTH"].id)})
    assert response.status_code == 302
    p = db.session.scalars(select(Participant)).one()
    assert response.headers["Location"].endswith(f"/participants/{p.id}")
    assert (p.sex, p.birth_year, p.unit, p.phone) == (Sex.FEMALE, 1985, "Xã Tiên Kiên",
                                                      "0381234567")


def test_form_errors_are_shown_and_nothing_is_saved(client: Any, login: Any, organiser: Any,
                                                    sites: dict[str, Any]) -> None:
    login(organiser)
    response = client.post("/participants/new?lang=en", data={
        "full_name": "Nguyễn Thị Hà", "sex": "female", "phone": "12345",
        "site_id": str(sites["LTH"].id), "birth_year": ""})
    assert response.status_code == 422
    page = text(response)
    assert "Not a Vietnamese phone number" in page
    assert 'value="Nguyễn Thị Hà"' in page  # what was typed is kept
    assert count() == 0
    no_site = client.post("/participants/new", data={"full_name": "Lê Na", "sex": "female",
                                                     "site_id": ""})
    assert no_site.status_code == 422 and count() == 0
    # the form asks for the sex rather than assuming it (reports are by sex)
    no_sex = client.post("/participants/new?lang=en", data={
        "full_name": "Lê Na", "site_id": str(sites["LTH"].id)})
    assert no_sex.status_code == 422 and "Choose female, male or unspecified." in text(no_sex)
    assert count() == 0


def test_edit_form_updates_and_parts_can_be_corrected(client: Any, login: Any,
                                                      organiser: Any, sites: dict[str, Any],
                                                      make_participant: Any) -> None:
    p = make_participant(sites["LTH"], "Tôn Nữ Thị Hà", birth_year=1980)
    login(organiser)
    page = text(client.get(f"/participants/{p.id}/edit"))
    assert 'value="Tôn Nữ Thị Hà"' in page and 'value="1980"' in page
    response = client.post(f"/participants/{p.id}/edit", data={
        "full_name": "Tôn Nữ Thị Hà", "family_name": "Tôn Nữ", "middle_name": "Thị",
        "given_name": "Hà", "sex": "female", "birth_year": "1981", "position": "",
        "unit": "Làng Mới", "phone": "", "site_id": str(sites["HHO"].id), "code": p.code})
    assert response.status_code == 302
    db.session.expire_all()
    assert (p.family_name, p.middle_name, p.given_name) == ("Tôn Nữ", "Thị", "Hà")
    assert p.birth_year == 1981 and p.site_id == sites["HHO"].id
    assert p.unit == "Làng Mới" and p.unit_id is None


def test_coordinator_form_offers_and_accepts_own_sites_only(client: Any, login: Any,
                                                            coordinator: Any,
                                                            sites: dict[str, Any]) -> None:
    login(coordinator)
    page = text(client.get("/participants/new"))
    assert "Huyện Lâm Thao" in page and "Huyện Hạ Hòa" not in page
    response = client.post("/participants/new", data={"full_name": "Lê Na", "sex": "female",
                                                      "site_id": str(sites["HHO"].id)})
    assert response.status_code == 403
    assert count() == 0


# ------------------------------------------------------------------------- QR code


def test_qr_code_is_svg(client: Any, login: Any, organiser: Any, sites: dict[str, Any],
                        make_participant: Any) -> None:
    p = make_participant(sites["LTH"], "Vũ Thị Hòa")
    login(organiser)
    response = client.get(f"/participants/{p.id}/qr.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.get_data())  # noqa: S314 - our own output
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert int(root.get("width")) > 50
    assert root.findall(".//{http://www.w3.org/2000/svg}path")
    assert client.get("/participants/999999/qr.svg").status_code == 404


# ------------------------------------------------------------------------- badges


def test_badges_sheet(client: Any, login: Any, organiser: Any, sites: dict[str, Any],
                      make_participant: Any) -> None:
    people = [make_participant(sites["LTH"], n, unit="Xã Sơn Vi") for n in
              ("Vũ Thị Yến", "Đặng Văn Đức", "Nguyễn Thị Ánh", XSS)]
    make_participant(sites["HHO"], "Đỗ Văn Nam", sex="male")
    login(organiser)
    response = client.get(f"/participants/badges?site_id={sites['LTH'].id}")
    assert response.status_code == 200
    page = text(response)
    assert page.count('class="badge-card"') == 4
    for p in people:
        assert p.code in page
    assert "Đỗ Văn Nam" not in page
    assert "Xã Sơn Vi" in page and "Huyện Lâm Thao" in page
    assert ESCAPED in page and "<script>alert" not in page
    order = [page.index(n) for n in ("Nguyễn Thị Ánh", "Đặng Văn Đức", ESCAPED, "Vũ Thị Yến")]
    assert order == sorted(order)
    qrs = re.findall(r'<img src="(data:image/svg\+xml[^"]+)"', page)
    assert len(qrs) == 4
    svg = unquote(qrs[0].split(",", 1)[1]).replace("&#39;", "'").replace("&amp;", "&")
    assert ET.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"  # noqa: S314
    assert "css/people.css" in page
    chooser = text(client.get("/participants/badges"))
    assert "Huyện Hạ Hòa" in chooser and "badge-card" not in chooser


def test_coordinator_badges_default_to_own_site(client: Any, login: Any, coordinator: Any,
                                                sites: dict[str, Any],
                                                make_participant: Any) -> None:
    make_participant(sites["LTH"], "Vũ Thị Hòa")
    login(coordinator)
    page = text(client.get("/participants/badges"))
    assert "Vũ Thị Hòa" in page


# ------------------------------------------------------------------------- import page

ROSTER = [["DANH SÁCH HỌC VIÊN"], [],
          ["Họ và tên", "Giới tính", "Năm sinh", "Đơn vị", "Mã điểm cầu"],
          ["Nguyễn Thị Hà", "Nữ", "1985", "Tiên Kiên", "LTH"],
          ["Trần Văn Đức", "Nam", "1979", "", "LTH"],
          ["Hồ Thị Mai", "Nữ", "1990", "", "QNI"]]


def _stashes(app: Any) -> list[Path]:
    root = Path(app.config["DATA_DIR"]) / "imports"
    return [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []


def _check(client: Any, data: bytes, filename: str = "lop.csv", **form: Any) -> Any:
    body = {"file": (io.BytesIO(data), filename), **form}
    return client.post("/participants/import?lang=en", data=body,
                       content_type="multipart/form-data")


def test_import_page_check_confirm_and_report(app: Any, client: Any, login: Any,
                                              organiser: Any, sites: dict[str, Any]) -> None:
    login(organiser)
    form = text(client.get("/participants/import"))
    assert 'enctype="multipart/form-data"' in form
    assert "/participants/import/template.csv" in form
    before = set(_stashes(app))
    preview = _check(client, csv_bytes(ROSTER))
    assert preview.status_code == 200
    page = text(preview)
    assert count() == 0  # only checked
    assert "Nguyễn Thị Hà" in page and "Unknown site QNI." in page
    assert re.search(r"<b>2</b><span>will be created", page)
    stash = set(_stashes(app)) - before
    assert len(stash) == 1
    stash_id = stash.pop().name
    assert f'action="/participants/import/{stash_id}"' in page
    result = client.post(f"/participants/import/{stash_id}?lang=en")
    assert result.status_code == 200
    page = text(result)
    assert count() == 2
    assert "List imported" in page and "Unknown site QNI." in page
    ha = db.session.scalars(select(Participant).where(Participant.full_name == "Nguyễn Thị Hà")
                            ).one()
    assert f'<a href="/participants/{ha.id}">Nguyễn Thị Hà</a>' in page and ha.code in page
    assert not (Path(app.config["DATA_DIR"]) / "imports" / stash_id).exists()
    # the same upload cannot be imported twice
    again = client.post(f"/participants/import/{stash_id}?lang=en")
    assert "expired" in text(again) and count() == 2


def test_import_check_offers_the_bad_rows_with_their_reasons(
        app: Any, client: Any, login: Any, organiser: Any, coordinator: Any,
        sites: dict[str, Any]) -> None:
    import csv

    login(organiser)
    before = set(_stashes(app))  # other tests' uploads may wait in the shared data folder
    rows = [*ROSTER, ["=CMD()", "X", "1890", "", "LTH"]]
    page = _check(client, csv_bytes(rows)).get_data(as_text=True)
    link = re.search(r'href="(/participants/import/[A-Za-z0-9_-]+/errors\.csv)"', page)
    assert link, "a link to the bad rows"
    download = client.get(link.group(1))
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    assert lines[0] == ["Dòng", "Họ và tên", "Giới tính", "Năm sinh", "Đơn vị", "Mã điểm cầu",
                        "Lỗi"]
    assert lines[1][:6] == ["6", "Hồ Thị Mai", "Nữ", "1990", "", "QNI"]
    assert lines[1][6] == "Unknown site QNI."
    assert lines[2][:2] == ["7", "'=CMD()"]  # a cell never becomes a formula in Excel
    for label in ("Sex:", "Year of birth:"):
        assert label in lines[2][6]
    assert len(lines) == 3
    client.post("/logout")
    login(coordinator)
    assert client.get(link.group(1)).status_code == 404  # someone else's upload
    client.post("/logout")
    login(organiser)
    client.post(link.group(1).replace("/errors.csv", "/cancel"))
    assert not set(_stashes(app)) - before  # cancelled: the file and its bad rows are gone


def test_import_page_refusals_are_readable(app: Any, client: Any, login: Any,
                                           organiser: Any, sites: dict[str, Any]) -> None:
    login(organiser)
    before = set(_stashes(app))  # other tests' uploads may wait in the shared data folder
    app.config["IMPORT_MAX_BYTES"] = 100
    too_big = _check(client, csv_bytes(ROSTER * 5))
    assert too_big.status_code == 413 and "larger than" in text(too_big)
    app.config["IMPORT_MAX_BYTES"] = 10 * 1024 * 1024
    empty = _check(client, b"")
    assert empty.status_code == 422 and "The file is empty." in text(empty)
    binary = _check(client, b"\x89PNG\r\n\x1a\n" + bytes(256), "photo.csv")
    assert binary.status_code == 422 and "PNG" in text(binary)
    no_file = client.post("/participants/import?lang=en", data={},
                          content_type="multipart/form-data")
    assert no_file.status_code == 422 and "Choose a file" in text(no_file)
    assert "Traceback" not in text(binary)
    assert count() == 0 and not set(_stashes(app)) - before


def test_another_user_cannot_confirm_my_upload(app: Any, client: Any, login: Any,
                                               organiser: Any, make_user: Any,
                                               sites: dict[str, Any]) -> None:
    login(organiser)
    before = set(_stashes(app))
    _check(client, csv_bytes(ROSTER))
    stash_id = (set(_stashes(app)) - before).pop().name
    client.post("/logout")
    login(make_user("organiser"))
    response = client.post(f"/participants/import/{stash_id}?lang=en")
    assert "expired" in text(response)
    assert count() == 0
    assert client.post("/participants/import/..%2F..%2Fetc?lang=en").status_code in (404, 422)


def test_stale_uploads_are_removed(app: Any, client: Any, login: Any, organiser: Any,
                                   sites: dict[str, Any]) -> None:
    import os
    import time

    login(organiser)
    before = set(_stashes(app))
    _check(client, csv_bytes(ROSTER))
    folder = (set(_stashes(app)) - before).pop()
    old = time.time() - 2 * 3600
    os.utime(folder, (old, old))
    client.get("/participants/import")
    assert not folder.exists()


def test_coordinator_import_page(app: Any, client: Any, login: Any, coordinator: Any,
                                 sites: dict[str, Any]) -> None:
    login(coordinator)
    data = csv_bytes([["Họ và tên", "Giới tính", "Mã điểm cầu"], ["Lê Na", "Nữ", "LTH"],
                      ["Lê Lan", "Nữ", "HHO"]])
    page = text(_check(client, data))
    assert "Site HHO is not yours." in page
    forbidden = _check(client, data, site_id=str(sites["HHO"].id))
    assert forbidden.status_code == 403


def test_templates_download_and_read_back(client: Any, login: Any, organiser: Any,
                                          upload: Any, sites: dict[str, Any]) -> None:
    login(organiser)
    response = client.get("/participants/import/template.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    header = data.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[:3] == ["Họ và tên", "Giới tính", "Năm sinh"] and "Mã điểm cầu" in header
    xlsx = client.get("/participants/import/template.xlsx")
    assert xlsx.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.get_data()))
    assert [c.value for c in wb.worksheets[0][1]][:2] == ["Họ và tên", "Giới tính"]
    # a filled-in template imports
    wb.worksheets[0].append(["Nguyễn Thị Hà", "Nữ", "1985", "", "", "0912345678", "LTH", ""])
    out = io.BytesIO()
    wb.save(out)
    body = upload(organiser, out.getvalue(), "template.xlsx").get_json()
    assert body["created"] == 1 and body["errors"] == []
    filled = data + "Lê Văn An,Nam,1970,,,,HHO,\r\n".encode()
    assert upload(organiser, filled).get_json()["created"] == 1


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_import_page_in_both_languages(client: Any, login: Any, organiser: Any,
                                       sites: dict[str, Any], lang: str) -> None:
    login(organiser)
    response = client.get(f"/participants/import?lang={lang}")
    assert response.status_code == 200
    assert f'lang="{lang}"' in text(response)


def test_xlsx_through_the_page(client: Any, login: Any, organiser: Any,
                               sites: dict[str, Any]) -> None:
    login(organiser)
    page = text(_check(client, xlsx_bytes(ROSTER), "lop.xlsx"))
    assert "Nguyễn Thị Hà" in page and "header in row 3" in page
