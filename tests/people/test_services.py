"""Participant rules: validation, names, phones, search in Vietnamese, order, permissions."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from sqlalchemy import func, select

from trainer.errors import Forbidden, Invalid
from trainer.extensions import db
from trainer.people import services
from trainer.people.models import Participant


def names(stmt: Any) -> list[str]:
    return [p.full_name for p in db.session.scalars(stmt)]


def test_create_splits_the_name_and_gives_a_printable_code(sites: dict[str, Any],
                                                            organiser: Any) -> None:
    p = services.create(organiser, {"full_name": "  Nguyễn   Thị Minh  Hà ", "sex": "female",
                                    "site_id": sites["LTH"].id})
    assert (p.full_name, p.family_name, p.middle_name, p.given_name) == (
        "Nguyễn Thị Minh Hà", "Nguyễn", "Thị Minh", "Hà")
    assert len(p.code) == services.CODE_LENGTH
    assert set(p.code) <= set(services.CODE_ALPHABET)
    assert not set(p.code) & set("0O1IL")


def test_decomposed_input_is_stored_composed(sites: dict[str, Any], organiser: Any) -> None:
    nfd = unicodedata.normalize("NFD", "Trần Văn Đức")
    assert nfd != "Trần Văn Đức"
    p = services.create(organiser, {"full_name": nfd, "sex": "male", "site_id": sites["LTH"].id,
                                    "unit": unicodedata.normalize("NFD", "Xã Sơn Vi")})
    db.session.expire_all()
    stored = db.session.get(Participant, p.id)
    assert stored.full_name == "Trần Văn Đức"
    assert unicodedata.is_normalized("NFC", stored.given_name)
    assert stored.unit == "Xã Sơn Vi" and stored.unit_id is not None


@pytest.mark.parametrize("bad", ["Nguyễn\x00Hà", "Lê\x07 Na", "Hà\u202eNội", "Trần\x1bHoa"])
def test_control_characters_are_refused(sites: dict[str, Any], organiser: Any, bad: str) -> None:
    with pytest.raises(Invalid) as info:
        services.create(organiser, {"full_name": bad, "sex": "female",
                                    "site_id": sites["LTH"].id})
    assert "full_name" in info.value.errors
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 0


def test_markup_in_a_name_is_stored_as_text(sites: dict[str, Any], organiser: Any) -> None:
    p = services.create(organiser, {"full_name": "<script>alert(1)</script> Hà",
                                    "sex": "female", "site_id": sites["LTH"].id})
    assert p.full_name == "<script>alert(1)</script> Hà"


@pytest.mark.parametrize(("given", "stored"), [
    ("0912 345 678", "0912345678"),
    ("+84 912.345.678", "0912345678"),
    ("84912345678", "0912345678"),
    ("0168 123 4567", "0381234567"),  # pre-2018 11-digit form -> its 10-digit replacement
    ("0210 3123 456", "02103123456"),  # a landline
])
def test_phones_are_normalised(sites: dict[str, Any], organiser: Any, given: str,
                               stored: str) -> None:
    p = services.create(organiser, {"full_name": "Lê Văn An", "sex": "male",
                                    "site_id": sites["LTH"].id, "phone": given})
    assert p.phone == stored


@pytest.mark.parametrize("bad", ["12345", "0123456789", "phone", "+1 415 555 0100",
                                 "09123456789"])
def test_bad_phones_are_refused(sites: dict[str, Any], organiser: Any, bad: str) -> None:
    with pytest.raises(Invalid) as info:
        services.create(organiser, {"full_name": "Lê Văn An", "sex": "male",
                                    "site_id": sites["LTH"].id, "phone": bad})
    assert list(info.value.errors) == ["phone"]


@pytest.mark.parametrize(("field", "value"), [("birth_year", "1850"), ("birth_year", "abc"),
                                               ("sex", "x"), ("site_id", 999999),
                                               ("full_name", "   ")])
def test_field_errors_name_the_field(sites: dict[str, Any], organiser: Any, field: str,
                                     value: Any) -> None:
    data = {"full_name": "Lê Văn An", "sex": "male", "site_id": sites["LTH"].id, field: value}
    with pytest.raises(Invalid) as info:
        services.create(organiser, data)
    assert field in info.value.errors


def test_name_parts_can_be_corrected_but_must_make_the_full_name(
        sites: dict[str, Any], organiser: Any) -> None:
    # Two-word family names exist ("Tôn Nữ"): the parts may be set by hand.
    p = services.create(organiser, {"full_name": "Tôn Nữ Thị Hà", "family_name": "Tôn Nữ",
                                    "middle_name": "Thị", "given_name": "Hà", "sex": "female",
                                    "site_id": sites["LTH"].id})
    assert (p.family_name, p.middle_name, p.given_name) == ("Tôn Nữ", "Thị", "Hà")
    # Parts that do not make the full name are ignored; the full name is split again.
    services.update(organiser, p, {"full_name": "Tôn Nữ Thị Hà", "family_name": "X",
                                   "middle_name": "", "given_name": "Y"})
    assert (p.family_name, p.middle_name, p.given_name) == ("Tôn", "Nữ Thị", "Hà")


def test_coordinator_creates_and_edits_only_at_own_sites(sites: dict[str, Any],
                                                         coordinator: Any,
                                                         make_participant: Any) -> None:
    mine = services.create(coordinator, {"full_name": "Phạm Thu Trang", "sex": "female",
                                         "site_id": sites["LTH"].id})
    assert mine.site_id == sites["LTH"].id
    with pytest.raises(Forbidden):
        services.create(coordinator, {"full_name": "Phạm Thu Trang", "sex": "female",
                                      "site_id": sites["HHO"].id})
    other = make_participant(sites["HHO"], "Đỗ Văn Nam", sex="male")
    with pytest.raises(Forbidden):
        services.get(coordinator, other.id)
    with pytest.raises(Forbidden):
        services.update(coordinator, mine, {"site_id": sites["HHO"].id})


@pytest.fixture
def people(make_participant: Any, sites: dict[str, Any]) -> dict[str, Any]:
    lth, hho = sites["LTH"], sites["HHO"]
    return {name: make_participant(site, name, sex=sex) for name, site, sex in [
        ("Nguyễn Thị Hà", lth, "female"),
        ("Nguyễn Thị Hạnh", lth, "female"),
        ("Trần Văn Thanh", lth, "male"),
        ("Lê Minh Đức", hho, "male"),
        ("Phạm Văn Dũng", hho, "male"),
        ("Vũ Thị Hòa", lth, "female"),
        ("Đặng Thu Hoà", hho, "female"),
        ("Bùi Văn Ánh", lth, "male"),
        ("Hoàng Văn Anh", lth, "male"),
        ("Đinh Thị Yến", hho, "female"),
        ("Cao Văn Ân", hho, "male"),
        ("Lý Văn Ăn", hho, "male"),
    ]}


@pytest.mark.parametrize(("q", "expected"), [
    # every word of the query starts a word of the name (search as you type)
    ("nguyen thi ha", {"Nguyễn Thị Hà", "Nguyễn Thị Hạnh"}),
    ("Nguyễn Thị Hà", {"Nguyễn Thị Hà", "Nguyễn Thị Hạnh"}),
    ("ha", {"Nguyễn Thị Hà", "Nguyễn Thị Hạnh"}),  # not "Thanh"
    ("duc", {"Lê Minh Đức"}),
    ("dung", {"Phạm Văn Dũng"}),
    ("Đ", {"Lê Minh Đức", "Phạm Văn Dũng", "Đặng Thu Hoà", "Đinh Thị Yến"}),
    ("hoa", {"Vũ Thị Hòa", "Đặng Thu Hoà", "Hoàng Văn Anh"}),
    ("hòa", {"Vũ Thị Hòa", "Đặng Thu Hoà", "Hoàng Văn Anh"}),
    ("thi hoa", {"Vũ Thị Hòa"}),
    ("thu HOÀ", {"Đặng Thu Hoà"}),
    ("an", {"Hoàng Văn Anh", "Bùi Văn Ánh", "Lý Văn Ăn", "Cao Văn Ân"}),
    ("zzz", set()),
    ("%", set()),
    ("_", set()),
])
def test_search_ignores_accents_case_and_tone_placement(people: dict[str, Any],
                                                         organiser: Any, q: str,
                                                         expected: set[str]) -> None:
    assert set(names(services.search(organiser, q=q))) == expected


def test_search_by_code(people: dict[str, Any], organiser: Any) -> None:
    p = people["Vũ Thị Hòa"]
    assert names(services.search(organiser, q=p.code.lower())) == ["Vũ Thị Hòa"]
    assert names(services.search(organiser, q=f" {p.code[:3]}-{p.code[3:]} ")) == ["Vũ Thị Hòa"]


def test_search_is_limited_to_the_coordinator_sites(people: dict[str, Any],
                                                    coordinator: Any) -> None:
    assert set(names(services.search(coordinator, q="hoa"))) == {"Vũ Thị Hòa", "Hoàng Văn Anh"}
    assert set(names(services.search(coordinator, q="duc"))) == set()


def test_order_is_vietnamese_by_given_name(people: dict[str, Any], organiser: Any) -> None:
    order = names(services.search(organiser))
    # a < ă < â; Anh < Ánh by tone; d < đ; then the family name breaks ties.
    assert order == ["Hoàng Văn Anh", "Bùi Văn Ánh", "Lý Văn Ăn", "Cao Văn Ân",
                     "Phạm Văn Dũng", "Lê Minh Đức", "Nguyễn Thị Hà", "Nguyễn Thị Hạnh",
                     "Đặng Thu Hoà", "Vũ Thị Hòa", "Trần Văn Thanh", "Đinh Thị Yến"]


def test_find_existing_matches_name_site_and_birth_year_or_phone(
        sites: dict[str, Any], make_participant: Any) -> None:
    stored = make_participant(sites["LTH"], "Vũ Thị Hòa", birth_year=1980,
                              phone="0381234567")
    same = services.validate({"full_name": "VU THI HOA", "sex": "", "birth_year": 1980,
                              "site_id": sites["LTH"].id})
    assert services.find_existing(same) is stored
    # the old 11-digit form of the same line
    by_phone = services.validate({"full_name": "Vũ Thị Hoà", "phone": "01681234567",
                                  "site_id": sites["LTH"].id})
    assert services.find_existing(by_phone) is stored
    other_year = services.validate({"full_name": "Vũ Thị Hòa", "birth_year": 1981,
                                    "site_id": sites["LTH"].id})
    assert services.find_existing(other_year) is None
    other_site = services.validate({"full_name": "Vũ Thị Hòa", "birth_year": 1980,
                                    "site_id": sites["HHO"].id})
    assert services.find_existing(other_site) is None
