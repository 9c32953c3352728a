"""Tests for trainer.demo_data: sites, name pools and the deterministic generator."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from trainer import demo_data as dd

SEEDS = (dd.DEFAULT_SEED, 1, 42)
PHONE_RE = re.compile(r"0[35789]\d{8}|01\d{9}")


@pytest.fixture(scope="module")
def crowd() -> list[dd.PersonSpec]:
    return dd.people()


def _all_constant_strings() -> list[str]:
    out: list[str] = [dd.LEAD_AGENCY, *dd.PARTNERS, *dd.CHAIRS.values(), *dd.HOST_OFFICES.values()]
    for site in dd.SITES:
        out += [site.code, site.name, *site.communes, dd.chair_title(site)]
    for pool in (
        dd.FAMILY_NAMES,
        dd.MOUNTAIN_FAMILY_BOOST,
        dd.FEMALE_MIDDLE_NAMES,
        dd.MALE_MIDDLE_NAMES,
        dd.FEMALE_GIVEN_NAMES,
        dd.MALE_GIVEN_NAMES,
        dd.POSITIONS,
        dd.HOST_POSITIONS,
    ):
        out += [name for name, _ in pool]
    return out


# ------------------------------------------------------------------------- sites


def test_thirteen_sites_one_host() -> None:
    assert len(dd.SITES) == 13
    hosts = [s for s in dd.SITES if s.kind == "host"]
    assert [h.name for h in hosts] == ["Thành phố Việt Trì"]
    assert dd.HOST is hosts[0]
    assert all(s.kind in ("host", "bridge") for s in dd.SITES)


def test_site_codes_unique_uppercase_ascii() -> None:
    codes = [s.code for s in dd.SITES]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert code.isascii() and code.isalpha() and code.isupper(), code
    assert set(dd.SITES_BY_CODE) == set(codes)


def test_expected_bridges_present() -> None:
    names = {s.name for s in dd.SITES if s.kind == "bridge"}
    assert names == {
        "Thị xã Phú Thọ",
        "Huyện Cẩm Khê",
        "Huyện Đoan Hùng",
        "Huyện Hạ Hòa",
        "Huyện Lâm Thao",
        "Huyện Phù Ninh",
        "Huyện Tam Nông",
        "Huyện Tân Sơn",
        "Huyện Thanh Ba",
        "Huyện Thanh Sơn",
        "Huyện Thanh Thủy",
        "Huyện Yên Lập",
    }


def test_commune_count_and_uniqueness() -> None:
    total = sum(len(s.communes) for s in dd.SITES)
    assert 270 <= total <= 285
    assert dd.total_communes() == total
    for site in dd.SITES:
        assert len(site.communes) >= 10, site.code
        assert len(set(site.communes)) == len(site.communes), site.code
        for commune in site.communes:
            assert commune.startswith(("Xã ", "Phường ", "Thị trấn ")), commune
            assert commune == commune.strip() and "  " not in commune


def test_all_constant_strings_nfc() -> None:
    for text in _all_constant_strings():
        assert unicodedata.is_normalized("NFC", text), repr(text)


def test_name_pools() -> None:
    female = {n for n, _ in dd.FEMALE_GIVEN_NAMES}
    male = {n for n, _ in dd.MALE_GIVEN_NAMES}
    assert len(female) >= 40 and len(male) >= 40
    assert {"Hòa", "Hoà", "Bình", "Minh", "Thanh"} <= female & male
    assert "Thị" not in {n for n, _ in dd.MALE_MIDDLE_NAMES}
    top = max(dd.FAMILY_NAMES, key=lambda nw: nw[1])
    assert top[0] == "Nguyễn"
    for pool in (dd.FAMILY_NAMES, dd.FEMALE_GIVEN_NAMES, dd.MALE_GIVEN_NAMES):
        names = [n for n, _ in pool]
        assert len(set(names)) == len(names)
        assert all(w > 0 for _, w in pool)


def test_organisations() -> None:
    assert dd.LEAD_AGENCY == "Sở Giáo dục và Đào tạo tỉnh Phú Thọ"
    assert dd.PARTNERS == ("Hội Khuyến học tỉnh Phú Thọ", "Hội Liên hiệp Phụ nữ tỉnh Phú Thọ")
    assert set(dd.CHAIRS) == {s.code for s in dd.SITES}
    assert dd.chair_title(dd.SITES_BY_CODE["CKH"]) == "Phó Chủ tịch UBND huyện Cẩm Khê"
    assert dd.chair_title(dd.HOST) == "Phó Chủ tịch UBND thành phố Việt Trì"


def test_host_staff_come_from_a_provincial_office_not_a_commune() -> None:
    assert set(dd.HOST_OFFICES) <= set(dict(dd.HOST_POSITIONS))
    communes = {c for s in dd.SITES for c in s.communes}
    assert not set(dd.HOST_OFFICES.values()) & communes


def test_position_localisation() -> None:
    title = "Cán bộ Hội Khuyến học xã"
    assert dd.localise_position(title, "Xã Hà Lộc") == title
    assert dd.localise_position(title, "Phường Âu Cơ") == "Cán bộ Hội Khuyến học phường"
    assert dd.localise_position(title, "Thị trấn Sông Thao") == "Cán bộ Hội Khuyến học thị trấn"
    assert dd.canonical_position("Cán bộ Hội Khuyến học thị trấn") == title
    assert dd.localise_position("Giáo viên", "Phường Âu Cơ") == "Giáo viên"


@pytest.mark.parametrize(
    ("phone", "ok"),
    [
        (None, True),
        ("0912345678", True),
        ("0312345678", True),
        ("01681234567", True),
        ("0212345678", False),
        ("091234567", False),
        ("02123456789", False),
        ("09123456789", False),
        ("091234567a", False),
    ],
)
def test_is_valid_phone(phone: str | None, ok: bool) -> None:
    assert dd.is_valid_phone(phone) is ok


# ------------------------------------------------------------------------ people


def test_people_deterministic(crowd: list[dd.PersonSpec]) -> None:
    assert dd.people() == crowd
    assert dd.people(dd.DEFAULT_SEED) == crowd
    assert dd.people(1) == dd.people(1)
    assert dd.people(1) != crowd


def test_people_independent_of_hash_seed() -> None:
    root = Path(__file__).resolve().parents[1]
    code = (
        "import hashlib\n"
        "from trainer.demo_data import people\n"
        "print(hashlib.sha256(repr(people()).encode()).hexdigest())\n"
    )
    digests = set()
    for hash_seed in ("0", "1", "12345"):
        env = {
            **os.environ,
            "PYTHONHASHSEED": hash_seed,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
        }
        result = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
        digests.add(result.stdout.strip())
    assert len(digests) == 1


def test_people_count(crowd: list[dd.PersonSpec]) -> None:
    assert 1200 <= len(crowd) <= 1400


@pytest.mark.parametrize("seed", SEEDS)
def test_people_women_share(seed: int) -> None:
    crowd = dd.people(seed)
    women = sum(p.sex == "female" for p in crowd)
    assert 0.45 <= women / len(crowd) <= 0.55
    assert all(p.sex in ("female", "male") for p in crowd)


@pytest.mark.parametrize("seed", SEEDS)
def test_people_units_belong_to_site(seed: int) -> None:
    for p in dd.people(seed):
        if p.position in dict(dd.HOST_POSITIONS):
            assert p.site_code == dd.HOST.code and p.unit == dd.HOST_OFFICES.get(p.position), p
        else:
            assert p.unit in dd.SITES_BY_CODE[p.site_code].communes, p


def test_directors_mostly_men_teachers_mostly_women_association_staff_older(
    crowd: list[dd.PersonSpec],
) -> None:
    def women(title: str) -> float:
        group = [p for p in crowd if dd.canonical_position(p.position) == title]
        return sum(p.sex == "female" for p in group) / len(group)

    assert women(dd.DIRECTOR) < 0.3 and women("Giáo viên") > 0.65
    seniors = [p for p in crowd if p.birth_year
               and dd.canonical_position(p.position) in dd.SENIOR_POSITIONS]
    assert sum(2017 - p.birth_year > 60 for p in seniors) / len(seniors) > 0.5
    others = [p for p in crowd if p.birth_year and p.position == "Giáo viên"]
    assert sum(2017 - p.birth_year > 60 for p in others) / len(others) < 0.1


def test_every_commune_has_one_director_and_four_or_five_delegates(
    crowd: list[dd.PersonSpec],
) -> None:
    commune_staff = [p for p in crowd if dd.canonical_position(p.position) in dict(dd.POSITIONS)]
    sizes = Counter((p.site_code, p.unit) for p in commune_staff)
    directors = Counter((p.site_code, p.unit) for p in commune_staff if p.position == dd.DIRECTOR)
    for site in dd.SITES:
        for commune in site.communes:
            assert sizes[(site.code, commune)] in (4, 5)
            assert directors[(site.code, commune)] == 1
    host_staff = [p for p in crowd if p.position in dict(dd.HOST_POSITIONS)]
    assert all(p.site_code == dd.HOST.code for p in host_staff)
    assert 15 <= len(host_staff) <= 25
    assert len(host_staff) + len(commune_staff) == len(crowd)


def test_people_positions_and_sex_rules(crowd: list[dd.PersonSpec]) -> None:
    for p in crowd:
        parts = p.full_name.split(" ")
        assert len(parts) >= 3 and all(parts), p.full_name
        if "Thị" in parts[1:-1]:
            assert p.sex == "female", p
        if dd.canonical_position(p.position) in dd.FEMALE_ONLY_POSITIONS:
            assert p.sex == "female", p
        if p.position != dd.canonical_position(p.position):
            assert p.unit and not p.unit.startswith("Xã "), p
    # Middle names match sex mostly: "Văn" is a man's, "Thị" a woman's.
    women = [p for p in crowd if p.sex == "female"]
    assert sum("Thị" in p.full_name.split()[1:-1] for p in women) / len(women) > 0.6


def test_people_strings_nfc(crowd: list[dd.PersonSpec]) -> None:
    for p in crowd:
        for text in (p.full_name, p.site_code, p.unit or "", p.position, p.phone or ""):
            assert unicodedata.is_normalized("NFC", text), repr(text)


@pytest.mark.parametrize("seed", SEEDS)
def test_people_phones(seed: int) -> None:
    crowd = dd.people(seed)
    phones = [p.phone for p in crowd if p.phone is not None]
    for phone in phones:
        assert PHONE_RE.fullmatch(phone), phone
        assert dd.is_valid_phone(phone)
    assert len(set(phones)) == len(phones)
    assert any(len(ph) == 11 for ph in phones)
    assert len(phones) < len(crowd)  # some missing


@pytest.mark.parametrize("seed", SEEDS)
def test_people_birth_years(seed: int) -> None:
    crowd = dd.people(seed)
    years = [p.birth_year for p in crowd]
    assert None in years
    lo, hi = dd.BIRTH_YEAR_RANGE
    assert all(lo <= y <= hi for y in years if y is not None)


@pytest.mark.parametrize("seed", SEEDS)
def test_people_no_duplicate_name_site_year(seed: int) -> None:
    keys = [(p.full_name, p.site_code, p.birth_year) for p in dd.people(seed)]
    assert len(set(keys)) == len(keys)
