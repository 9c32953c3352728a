"""Roster import (service and POST /api/v1/participants/import): encodings, delimiters, XLSX,
headers, row errors, re-import, de-duplication, limits, file types, coordinators."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from tests.people.conftest import csv_bytes, xlsx_bytes
from trainer.extensions import db
from trainer.people import import_rows, importer
from trainer.people.models import Participant, Sex

VI_HEADER = ["Họ và tên", "Giới tính", "Năm sinh", "Chức vụ", "Đơn vị", "Điện thoại",
             "Mã điểm cầu"]
EN_HEADER = ["full_name", "sex", "birth_year", "position", "unit", "phone", "site_code"]
ROWS = [
    ["Nguyễn Thị Hà", "Nữ", "1985", "Giám đốc TTHTCĐ", "Tiên Kiên", "0912 345 678", "LTH"],
    ["Trần Văn Đức", "Nam", "1979", "Giáo viên", "Thị trấn Hùng Sơn", "", "lth"],
    ["Lê Thị Hoà", "nu", "", "Cán bộ Hội Phụ nữ", "Xã Ấm Hạ", "0168 123 4567", "HHO"],
]


def stored() -> list[Participant]:
    return list(db.session.scalars(select(Participant).order_by(Participant.id)))


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Participant)) or 0


def by_name(name: str) -> Participant:
    return db.session.scalars(select(Participant).where(Participant.full_name == name)).one()


def check_three_imported() -> None:
    people = {p.full_name: p for p in stored()}
    assert set(people) == {"Nguyễn Thị Hà", "Trần Văn Đức", "Lê Thị Hoà"}
    ha = people["Nguyễn Thị Hà"]
    assert (ha.family_name, ha.middle_name, ha.given_name) == ("Nguyễn", "Thị", "Hà")
    assert ha.sex == Sex.FEMALE and ha.birth_year == 1985 and ha.phone == "0912345678"
    assert ha.unit == "Xã Tiên Kiên" and ha.unit_id is not None
    duc = people["Trần Văn Đức"]
    assert duc.sex == Sex.MALE and duc.phone is None and duc.unit == "Thị trấn Hùng Sơn"
    hoa = people["Lê Thị Hoà"]
    assert hoa.phone == "0381234567" and hoa.birth_year is None
    assert hoa.site.code == "HHO" and hoa.unit == "Xã Ấm Hạ"
    for p in people.values():
        assert unicodedata.is_normalized("NFC", p.full_name)
        assert unicodedata.is_normalized("NFC", p.unit or "")


# ------------------------------------------------------------------------- formats


@pytest.mark.parametrize(("encoding", "bom", "delimiter"), [
    ("utf-8", False, ","),
    ("utf-8", True, ";"),
    ("utf-8", True, "\t"),
    ("cp1258", False, ";"),
    ("cp1258", False, ","),
])
def test_csv_encodings_and_delimiters(upload: Any, organiser: Any, sites: dict[str, Any],
                                      encoding: str, bom: bool, delimiter: str) -> None:
    data = csv_bytes([VI_HEADER, *ROWS], encoding=encoding, bom=bom, delimiter=delimiter)
    if encoding == "cp1258":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")  # really not UTF-8
    response = upload(organiser, data)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["created"], body["updated"], body["errors"]) == (3, 0, [])
    check_three_imported()


def test_xlsx_with_a_title_above_the_header(upload: Any, organiser: Any,
                                            sites: dict[str, Any]) -> None:
    rows: list[list[Any]] = [["DANH SÁCH HỌC VIÊN LỚP TẬP HUẤN"], [], VI_HEADER]
    rows.append(["Nguyễn Thị Hà", "Nữ", 1985, "Giám đốc TTHTCĐ", "xa tien kien", 912345678,
                 "LTH"])  # a number cell: Excel dropped the leading 0
    rows.append(["Trần Văn Đức", "Nam", 1979.0, "Giáo viên", "Thị trấn Hùng Sơn", None, "LTH"])
    rows.append(["Lê Thị Hoà", "Nữ", None, "Cán bộ Hội Phụ nữ", "Ấm Hạ", "01681234567", "HHO"])
    response = upload(organiser, xlsx_bytes(rows), "danh sach.xlsx")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["created"], body["errors"]) == (3, [])
    check_three_imported()


def test_xlsx_errors_carry_spreadsheet_row_numbers(upload: Any, organiser: Any,
                                                  sites: dict[str, Any]) -> None:
    rows = [["Danh sách"], [], VI_HEADER, ROWS[0], ["Phạm Văn X", "Nam", 1700, "", "", "", "LTH"]]
    body = upload(organiser, xlsx_bytes(rows), "list.xlsx").get_json()
    assert body["created"] == 1
    assert [e["row"] for e in body["errors"]] == [5]
    assert "Year of birth" in body["errors"][0]["message"]


def test_csv_header_in_row_three_and_english_headers(upload: Any, organiser: Any,
                                                     sites: dict[str, Any]) -> None:
    data = csv_bytes([["Participants of the training"], [], EN_HEADER, *ROWS])
    body = upload(organiser, data).get_json()
    assert body["created"] == 3 and body["errors"] == []
    check_three_imported()


def test_headers_ignore_case_accents_and_decoration(upload: Any, organiser: Any,
                                                   sites: dict[str, Any]) -> None:
    header = ["STT", "HO TEN", "gioi tinh", "Năm sinh (yyyy)", "Chức vụ:", "ĐƠN VỊ", "SĐT",
              "Mã Điểm Cầu *", "Ghi chú"]
    data = csv_bytes([header, ["1", *ROWS[0], "x"], ["2", *ROWS[1], ""], ["3", *ROWS[2], ""]])
    body = upload(organiser, data).get_json()
    assert body["created"] == 3 and body["errors"] == []
    assert body["ignored_columns"] == ["STT", "Ghi chú"]
    check_three_imported()


def test_separate_name_columns(upload: Any, organiser: Any, sites: dict[str, Any]) -> None:
    data = csv_bytes([["Họ", "Tên đệm", "Tên", "Giới tính", "Mã điểm cầu"],
                      ["Tôn Nữ", "Thị", "Hà", "Nữ", "LTH"],
                      ["Lê", "", "Na", "Nữ", "LTH"]])
    body = upload(organiser, data).get_json()
    assert body["created"] == 2 and body["errors"] == []
    ha = by_name("Tôn Nữ Thị Hà")
    assert (ha.family_name, ha.middle_name, ha.given_name) == ("Tôn Nữ", "Thị", "Hà")
    assert by_name("Lê Na").middle_name == ""


def test_family_and_middle_in_one_column(upload: Any, organiser: Any,
                                         sites: dict[str, Any]) -> None:
    data = csv_bytes([["Họ và tên đệm", "Tên", "Giới tính"], ["Nguyễn Thị Minh", "Hà", "Nữ"]])
    body = upload(organiser, data, site_id=sites["LTH"].id).get_json()
    assert body["created"] == 1
    p = by_name("Nguyễn Thị Minh Hà")
    assert (p.family_name, p.middle_name, p.given_name) == ("Nguyễn", "Thị Minh", "Hà")


def test_quoted_cells_with_delimiters_and_line_breaks(upload: Any, organiser: Any,
                                                     sites: dict[str, Any]) -> None:
    data = ('Họ và tên,Chức vụ,Mã điểm cầu\r\n'
            '"Nguyễn Thị Hà","Phó Giám đốc, kiêm\nthủ quỹ",LTH\r\n'
            'Trần Văn Đức,Giáo viên,LTH\r\n').encode()
    body = upload(organiser, data).get_json()
    assert body["created"] == 2 and body["errors"] == []
    assert by_name("Nguyễn Thị Hà").position == "Phó Giám đốc, kiêm thủ quỹ"


# ------------------------------------------------------------------------- rows


def test_bad_rows_are_reported_by_row_number_and_good_rows_import(
        upload: Any, organiser: Any, sites: dict[str, Any]) -> None:
    data = csv_bytes([
        ["DANH SÁCH HỌC VIÊN"],              # row 1
        [],                                   # row 2
        VI_HEADER,                            # row 3
        ROWS[0],                              # row 4: fine
        ["Phạm Văn Nam", "Nam", "1975", "", "", "12345", "LTH"],          # 5: phone
        ["Đỗ Thị Lan", "X", "1975", "", "", "", "LTH"],                   # 6: sex
        ["", "Nữ", "1990", "Giáo viên", "", "", "LTH"],                   # 7: no name
        ["Vũ Văn Hải", "Nam", "1890", "", "", "", "LTH"],                 # 8: year
        ["Hồ Thị Mai", "Nữ", "1990", "", "", "", "QNI"],                  # 9: unknown site
        ["Ngô Văn Bình", "Nam", "1990", "", "", "", ""],                  # 10: no site
        [],                                                              # 11: blank, skipped
        ROWS[1],                                                         # 12: fine
        ["Tổng cộng: 9 người", "", "", "", "", "", ""],                   # 13: a footer
        ["Lê\x07Văn An", "Nam", "", "", "", "", "LTH"],                   # 14: control char
    ])
    response = upload(organiser, data)
    assert response.status_code == 200
    body = response.get_json()
    assert body["created"] == 2 and body["updated"] == 0
    assert body["rows"] == 10  # rows 4 to 14 but the blank row 11
    errors = {e["row"]: e["message"] for e in body["errors"]}
    assert sorted(errors) == [5, 6, 7, 8, 9, 10, 13, 14]
    assert errors[5].startswith("Phone:")
    assert errors[6].startswith("Sex:")
    assert errors[7] == "Full name: this field is required."
    assert errors[8].startswith("Year of birth:")
    assert errors[9] == "Unknown site QNI."
    assert errors[10] == "Site code: this field is required."
    # Every problem of a row at once: the footer row has digits in its name and no site.
    assert errors[13] == "Full name: a name has no digits. Site code: this field is required."
    assert errors[14].startswith("Full name:")
    assert {p.full_name for p in stored()} == {"Nguyễn Thị Hà", "Trần Văn Đức"}


def test_a_row_lists_all_its_problems_at_once(upload: Any, organiser: Any,
                                              sites: dict[str, Any]) -> None:
    data = csv_bytes([VI_HEADER, ["Đỗ Thị Lan", "X", "1890", "", "", "12345", "QNI"], ROWS[0]])
    body = upload(organiser, data).get_json()
    [error] = body["errors"]
    message = error["message"]
    assert error["row"] == 2
    assert "Unknown site QNI." in message
    for label in ("Sex:", "Year of birth:", "Phone:"):
        assert label in message, message
    assert body["created"] == 1


def test_error_messages_follow_the_language(upload: Any, organiser: Any,
                                            sites: dict[str, Any]) -> None:
    data = csv_bytes([VI_HEADER, ["Hồ Thị Mai", "Nữ", "1990", "", "", "", "QNI"]])
    english = upload(organiser, data, lang="en").get_json()["errors"][0]["message"]
    vietnamese = upload(organiser, data, lang="vi").get_json()["errors"][0]["message"]
    assert english == "Unknown site QNI."
    assert "QNI" in vietnamese


def test_reimporting_the_same_file_updates_instead_of_duplicating(
        upload: Any, organiser: Any, sites: dict[str, Any]) -> None:
    data = csv_bytes([VI_HEADER, *ROWS])
    first = upload(organiser, data).get_json()
    codes = {p.full_name: p.code for p in stored()}
    again = upload(organiser, data).get_json()
    assert first["created"] == 3
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 3, 3)
    assert count() == 3
    assert {p.full_name: p.code for p in stored()} == codes


def test_a_row_with_a_code_updates_that_participant(upload: Any, organiser: Any,
                                                    sites: dict[str, Any],
                                                    make_participant: Any) -> None:
    p = make_participant(sites["LTH"], "Nguyễn Thị Hà", birth_year=1985, position="Giáo viên",
                         phone="0912345678")
    data = csv_bytes([["Mã học viên", "Họ và tên", "Chức vụ", "Năm sinh", "Điện thoại"],
                      [p.code.lower(), "Nguyễn Thị Thu Hà", "Phó Giám đốc", "", ""]])
    body = upload(organiser, data, site_id=sites["LTH"].id).get_json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 1, 0)
    db.session.expire_all()
    assert count() == 1
    assert p.full_name == "Nguyễn Thị Thu Hà" and p.middle_name == "Thị Thu"
    assert p.position == "Phó Giám đốc"
    # blank cells keep what is stored
    assert p.birth_year == 1985 and p.phone == "0912345678"


def test_a_row_found_by_code_keeps_its_site_unless_the_row_names_one(
        upload: Any, organiser: Any, sites: dict[str, Any], make_participant: Any) -> None:
    a = make_participant(sites["HHO"], "Nguyễn Thị Hà")
    b = make_participant(sites["HHO"], "Lê Văn An", sex="male")
    data = csv_bytes([["Mã học viên", "Họ và tên", "Mã điểm cầu"], [a.code, "Nguyễn Thị Hà", ""],
                      [b.code, "Lê Văn An", "LTH"]])
    body = upload(organiser, data, site_id=sites["LTH"].id).get_json()
    assert body["updated"] == 2
    db.session.expire_all()
    assert a.site_id == sites["HHO"].id  # the file's site is for rows that name none
    assert b.site_id == sites["LTH"].id  # the row names its site: moved


def test_same_name_site_and_birth_year_updates(upload: Any, organiser: Any,
                                               sites: dict[str, Any],
                                               make_participant: Any) -> None:
    p = make_participant(sites["LTH"], "Vũ Thị Hòa", birth_year=1980)
    data = csv_bytes([VI_HEADER,
                      ["VŨ THỊ HOÀ", "Nữ", "1980", "Giáo viên", "", "", "LTH"],   # same person
                      ["Vũ Thị Hòa", "Nữ", "1990", "", "", "", "LTH"],            # other year
                      ["Vũ Thị Hòa", "Nữ", "1980", "", "", "", "HHO"]])           # other site
    body = upload(organiser, data).get_json()
    assert (body["created"], body["updated"]) == (2, 1)
    db.session.expire_all()
    assert p.position == "Giáo viên" and p.full_name == "VŨ THỊ HOÀ"
    assert count() == 3


def test_same_name_site_and_phone_updates_even_in_the_old_form(
        upload: Any, organiser: Any, sites: dict[str, Any], make_participant: Any) -> None:
    p = make_participant(sites["HHO"], "Lê Thị Hoà", phone="0381234567")
    data = csv_bytes([VI_HEADER, ["Lê Thị Hòa", "Nữ", "1970", "", "", "01681234567", "HHO"]])
    body = upload(organiser, data).get_json()
    assert (body["created"], body["updated"]) == (0, 1)
    db.session.expire_all()
    assert p.birth_year == 1970


def test_a_repeated_row_in_one_file_is_one_person(upload: Any, organiser: Any,
                                                  sites: dict[str, Any]) -> None:
    data = csv_bytes([VI_HEADER, ROWS[0], ["Nguyễn Thị Hà", "Nữ", "1985", "Phó Giám đốc", "",
                                           "", "LTH"]])
    body = upload(organiser, data).get_json()
    assert (body["created"], body["updated"]) == (1, 1)
    assert count() == 1
    assert by_name("Nguyễn Thị Hà").position == "Phó Giám đốc"


def test_a_bad_row_changes_nothing_of_its_participant(upload: Any, organiser: Any,
                                                      sites: dict[str, Any],
                                                      make_participant: Any) -> None:
    p = make_participant(sites["LTH"], "Nguyễn Thị Hà", position="Giáo viên")
    data = csv_bytes([["Mã học viên", "Họ và tên", "Chức vụ", "Điện thoại", "Mã điểm cầu"],
                      [p.code, "Nguyễn Thị Hà", "Giám đốc", "0000", "LTH"]])
    body = upload(organiser, data).get_json()
    assert body["updated"] == 0 and [e["row"] for e in body["errors"]] == [2]
    db.session.expire_all()
    assert p.position == "Giáo viên"


def test_an_unknown_code_with_a_matching_person_is_an_error(
        upload: Any, organiser: Any, sites: dict[str, Any], make_participant: Any) -> None:
    p = make_participant(sites["LTH"], "Nguyễn Thị Hà", birth_year=1985)
    data = csv_bytes([["Mã học viên", "Họ và tên", "Năm sinh", "Mã điểm cầu"],
                      ["KKKKKK", "Nguyễn Thị Hà", "1985", "LTH"]])
    body = upload(organiser, data).get_json()
    assert body["created"] == 0
    assert p.code in body["errors"][0]["message"]


def test_a_new_row_may_bring_its_own_code(upload: Any, organiser: Any,
                                          sites: dict[str, Any]) -> None:
    data = csv_bytes([["Mã học viên", "Họ và tên", "Mã điểm cầu"], ["hv-2017-01", "Lê Na", "LTH"],
                      ["AB", "Lê Lan", "LTH"]])
    body = upload(organiser, data).get_json()
    assert body["created"] == 1
    assert by_name("Lê Na").code == "HV201701"
    assert body["errors"][0]["row"] == 3 and "code" in body["errors"][0]["message"].lower()


def test_dry_run_writes_nothing_and_previews(upload: Any, organiser: Any,
                                            sites: dict[str, Any],
                                            make_participant: Any) -> None:
    make_participant(sites["LTH"], "Trần Văn Đức", birth_year=1979)
    data = csv_bytes([VI_HEADER, *ROWS, ["Hồ Thị Mai", "Nữ", "1990", "", "", "", "QNI"]])
    body = upload(organiser, data, dry_run="true").get_json()
    assert (body["created"], body["updated"], len(body["errors"])) == (2, 1, 1)
    assert body["dry_run"] is True
    assert [(r["row"], r["action"]) for r in body["preview"]] == [
        (2, "create"), (3, "update"), (4, "create"), (5, "error")]
    assert count() == 1


def test_site_for_the_whole_file(upload: Any, organiser: Any, sites: dict[str, Any]) -> None:
    data = csv_bytes([["Họ và tên", "Giới tính"], ["Nguyễn Thị Hà", "Nữ"], ["Lê Văn An", "Nam"]])
    body = upload(organiser, data, site_id=sites["HHO"].id).get_json()
    assert body["created"] == 2
    assert {p.site_id for p in stored()} == {sites["HHO"].id}


def test_site_names_are_accepted_for_the_site_column(upload: Any, organiser: Any,
                                                     sites: dict[str, Any]) -> None:
    data = csv_bytes([["Họ và tên", "Điểm cầu"], ["Nguyễn Thị Hà", "Huyện Hạ Hoà"],
                      ["Lê Văn An", "lâm thao"]])
    body = upload(organiser, data).get_json()
    assert body["created"] == 2 and body["errors"] == []
    assert by_name("Nguyễn Thị Hà").site_id == sites["HHO"].id
    assert by_name("Lê Văn An").site_id == sites["LTH"].id


# ------------------------------------------------------------------------- refusals


def test_missing_required_column(upload: Any, organiser: Any, sites: dict[str, Any]) -> None:
    no_name = upload(organiser, csv_bytes([["Giới tính", "Năm sinh", "Mã điểm cầu"],
                                           ["Nữ", "1980", "LTH"]]))
    assert no_name.status_code == 422
    assert "Họ và tên" in no_name.get_json()["detail"]
    no_site = upload(organiser, csv_bytes([VI_HEADER[:-1], ROWS[0][:-1]]))
    assert no_site.status_code == 422
    assert "Mã điểm cầu" in no_site.get_json()["detail"]
    assert "file" in no_site.get_json()["errors"]
    assert count() == 0


@pytest.mark.parametrize("data", [b"", b"   \r\n", b"\xef\xbb\xbf", b",,,\r\n,,,\r\n", b"\t\t\r\n"])
def test_empty_file(upload: Any, organiser: Any, sites: dict[str, Any], data: bytes) -> None:
    response = upload(organiser, data)
    assert response.status_code == 422
    assert response.get_json()["detail"] == "The file is empty."


def test_header_without_rows(upload: Any, organiser: Any, sites: dict[str, Any]) -> None:
    response = upload(organiser, csv_bytes([VI_HEADER, [], []]))
    assert response.status_code == 422
    assert "no people" in response.get_json()["detail"]
    empty_xlsx = upload(organiser, xlsx_bytes([VI_HEADER]), "a.xlsx")
    assert empty_xlsx.status_code == 422


def test_too_large_is_413(app: Any, upload: Any, organiser: Any,
                          sites: dict[str, Any]) -> None:
    app.config["IMPORT_MAX_BYTES"] = 200
    data = csv_bytes([VI_HEADER, *(ROWS * 10)])
    assert len(data) > 200
    response = upload(organiser, data)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert "larger than" in response.get_json()["detail"]
    assert count() == 0


def test_too_many_rows_is_413(app: Any, upload: Any, organiser: Any,
                              sites: dict[str, Any]) -> None:
    app.config["IMPORT_MAX_ROWS"] = 2
    response = upload(organiser, csv_bytes([VI_HEADER, *ROWS]))
    assert response.status_code == 413
    assert count() == 0


def _zip(names: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, content in names.items():
            zf.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize(("data", "filename", "words"), [
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "list.csv", "PNG"),
    (b"%PDF-1.7\n" + bytes(range(256)) * 4, "list.xlsx", "PDF"),
    (bytes(range(256)) * 8, "list.csv", "not a text"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "list.xls", ".xls"),
    (_zip({"readme.txt": b"hello"}), "list.xlsx", "zip"),
    (_zip({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"garbage"}), "list.xlsx",
     "damaged"),
    (b"PK\x03\x04garbage", "list.xlsx", "damaged"),
    (_zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
           "content.xml": b"<x/>"}), "list.ods", "OpenDocument"),
])
def test_wrong_file_types_are_refused(upload: Any, organiser: Any, sites: dict[str, Any],
                                      data: bytes, filename: str, words: str) -> None:
    response = upload(organiser, data, filename)
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert words in body["detail"]
    assert "file" in body["errors"]
    assert count() == 0


def test_file_name_does_not_decide_the_type(upload: Any, organiser: Any,
                                            sites: dict[str, Any]) -> None:
    as_txt = upload(organiser, xlsx_bytes([VI_HEADER, ROWS[0]]), "roster.txt")
    assert as_txt.get_json()["created"] == 1
    as_xlsx = upload(organiser, csv_bytes([VI_HEADER, ROWS[1]]), "roster.xlsx")
    assert as_xlsx.get_json()["created"] == 1


def test_missing_file_or_unknown_form_field_is_422(api_as: Any, organiser: Any,
                                                  sites: dict[str, Any], upload: Any) -> None:
    response = api_as(organiser).post("/api/v1/participants/import", data={},
                                      content_type="multipart/form-data")
    assert response.status_code == 422 and "file" in response.get_json()["errors"]
    response = upload(organiser, csv_bytes([VI_HEADER, ROWS[0]]), colour="red")
    assert response.status_code == 422 and "colour" in response.get_json()["errors"]
    response = upload(organiser, csv_bytes([VI_HEADER, ROWS[0]]), site_id=987654)
    assert response.status_code == 422 and "site_id" in response.get_json()["errors"]
    assert count() == 0


# ------------------------------------------------------------------------- coordinators


def test_coordinator_imports_only_rows_of_own_sites(upload: Any, coordinator: Any,
                                                    sites: dict[str, Any],
                                                    make_participant: Any) -> None:
    theirs = make_participant(sites["HHO"], "Đinh Thị Yến", position="Giáo viên")
    data = csv_bytes([["Mã học viên", *VI_HEADER], ["", *ROWS[0]], ["", *ROWS[2]],
                      [theirs.code, "Đinh Thị Yến", "Nữ", "", "Hiệu trưởng", "", "", "LTH"]])
    body = upload(coordinator, data).get_json()
    assert body["created"] == 1 and body["updated"] == 0
    errors = {e["row"]: e["message"] for e in body["errors"]}
    assert errors[3] == "Site HHO is not yours."
    assert "another site" in errors[4]
    db.session.expire_all()
    assert theirs.position == "Giáo viên" and theirs.site_id == sites["HHO"].id
    assert [p.full_name for p in stored() if p.site_id == sites["LTH"].id] == ["Nguyễn Thị Hà"]


def test_coordinator_cannot_choose_another_site_for_the_file(upload: Any, coordinator: Any,
                                                             sites: dict[str, Any]) -> None:
    data = csv_bytes([["Họ và tên", "Giới tính"], ["Nguyễn Thị Hà", "Nữ"]])
    assert upload(coordinator, data, site_id=sites["HHO"].id).status_code == 403
    assert upload(coordinator, data, site_id=sites["LTH"].id).get_json()["created"] == 1


# ------------------------------------------------------------------------- the service


def test_a_code_taken_meanwhile_is_replaced_row_by_row(monkeypatch: Any, upload: Any,
                                                       organiser: Any, sites: dict[str, Any],
                                                       make_participant: Any) -> None:
    """Another writer takes a code between the check and the write: the batch fails, the
    rows are written one by one in savepoints, the clashing row gets a new code."""
    original = import_rows._Importer.write
    taken: list[str] = []
    hho = SimpleNamespace(id=sites["HHO"].id)  # read now: the request holds the write lock

    def write_after_a_competitor(self: Any) -> None:
        first = next(iter(self.creates.values()))
        taken.append(first["code"])
        make_participant(hho, "Người Khác", code=first["code"])
        original(self)

    monkeypatch.setattr(import_rows._Importer, "write", write_after_a_competitor)
    body = upload(organiser, csv_bytes([VI_HEADER, *ROWS])).get_json()
    assert (body["created"], body["errors"]) == (3, [])
    assert count() == 4
    assert by_name("Người Khác").code == taken[0]
    assert by_name("Nguyễn Thị Hà").code != taken[0]
    assert len({p.code for p in stored()}) == 4


def test_service_takes_a_file_storage(app: Any, organiser: Any,
                                      sites: dict[str, Any]) -> None:
    upload = FileStorage(io.BytesIO(csv_bytes([VI_HEADER, *ROWS])), "list.csv")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        report = importer.import_roster(organiser, upload, "list.csv", dry_run=False)
    assert report["created"] == 3
    check_three_imported()


def test_audit_entry_for_an_import(upload: Any, organiser: Any, sites: dict[str, Any]) -> None:
    from trainer.audit.models import AuditEntry

    upload(organiser, csv_bytes([VI_HEADER, *ROWS]), "lớp 1.csv")
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "participants.import")).one()
    assert entry.user_id == organiser.id
    assert entry.details["created"] == 3 and entry.details["filename"] == "lớp 1.csv"
