"""Levels read from a unit's name and the order officials list sites and units in."""

from __future__ import annotations

import pytest

from trainer.sites.levels import admin_sort_key, centre_name, site_level_of, unit_level_of
from trainer.sites.models import SiteLevel, UnitLevel


def test_districts_city_first_then_towns_then_districts_by_name() -> None:
    names = ["Huyện Đoan Hùng", "Huyện Cẩm Khê", "Thị xã Phú Thọ", "Huyện Yên Lập",
             "Thành phố Việt Trì", "Huyện Hạ Hòa", "Huyện Ba Vì"]
    assert sorted(names, key=admin_sort_key) == [
        "Thành phố Việt Trì", "Thị xã Phú Thọ", "Huyện Ba Vì", "Huyện Cẩm Khê",
        "Huyện Đoan Hùng", "Huyện Hạ Hòa", "Huyện Yên Lập"]


def test_commune_level_units_wards_towns_communes_special_zones() -> None:
    names = ["Xã Bằng Giã", "Đặc khu Cô Tô", "Phường Âu Cơ", "Thị trấn Hạ Hoà", "Xã Ấm Hạ",
             "Phường Việt Trì"]
    assert sorted(names, key=admin_sort_key) == [
        "Phường Âu Cơ", "Phường Việt Trì", "Thị trấn Hạ Hoà", "Xã Ấm Hạ", "Xã Bằng Giã",
        "Đặc khu Cô Tô"]


@pytest.mark.parametrize(("name", "site", "unit"), [
    ("Thành phố Việt Trì", SiteLevel.DISTRICT, None),
    ("Huyện Tân Sơn", SiteLevel.DISTRICT, None),
    ("Sở Giáo dục và Đào tạo tỉnh Phú Thọ", SiteLevel.PROVINCE, None),
    ("Xã Cẩm Khê", SiteLevel.COMMUNE, UnitLevel.COMMUNE),
    ("Phường Thanh Miếu", SiteLevel.COMMUNE, UnitLevel.WARD),
    ("Thị trấn Sông Thao", SiteLevel.COMMUNE, UnitLevel.TOWN),
    ("Đặc khu Phú Quốc", SiteLevel.COMMUNE, UnitLevel.SPECIAL_ZONE),
    ("Điểm cầu dự phòng", SiteLevel.DISTRICT, None),
])
def test_levels_from_names(name: str, site: SiteLevel, unit: UnitLevel | None) -> None:
    assert site_level_of(name) == site and unit_level_of(name) == unit


def test_centre_names_use_the_lower_case_level_word() -> None:
    assert centre_name("Thị trấn Hạ Hòa") == "TTHTCĐ thị trấn Hạ Hòa"
    assert centre_name("Xã Bằng Giã") == "TTHTCĐ xã Bằng Giã"
    assert centre_name("Phường Âu Cơ") == "TTHTCĐ phường Âu Cơ"
    assert centre_name("Đặc khu Cô Tô") == "TTHTCĐ đặc khu Cô Tô"
