"""Demo data for the province today: the new Phú Thọ (two-level local government since
1 July 2025), whose training links commune-level bridge points directly to the province.

* :data:`SITES` - the host (the provincial Department's hall) and 148 commune-level bridge
  points: 15 wards (phường) and 133 communes (xã). There is no special zone (đặc khu) in
  Phú Thọ. The 15 ward names follow the 2025 arrangement as far as we know it; most commune
  names, and which former communes each one absorbed, are INVENTED BUT PLAUSIBLE (built
  from former commune and district names) and are not the official list of the Standing
  Committee's 2025 resolution on Phú Thọ's commune-level units.
* :data:`LINEAGE` - for each of the 277 units of the 2017 demo (former Phú Thọ), the
  commune-level unit it became: old (2017 site code, unit name) -> new unit name.
* :func:`people` - 4-5 delegates per commune-level unit plus provincial staff at the host.

Every string is NFC-normalised Vietnamese; people and chairs are invented.
"""

from __future__ import annotations

import random
from datetime import date

from trainer import demo_data as d2017
from trainer.demo_data import PersonSpec, Sex, SiteSpec, Weighted
from trainer.text import fold

YEAR = 2026
DEFAULT_SEED = 2026
REFORM_DATE = date(2025, 7, 1)
HOST_CODE = "SGD"
LEAD_AGENCY = d2017.LEAD_AGENCY
PARTNERS = d2017.PARTNERS

# fmt: off
#: The former city and town: which 2017 units each new ward (or commune) took in.
_EXPLICIT: dict[str, dict[str, tuple[str, ...]]] = {
    "VTR": {
        "Phường Việt Trì": ("Phường Tiên Cát", "Phường Gia Cẩm", "Phường Tân Dân",
                            "Phường Thọ Sơn", "Phường Bạch Hạc", "Phường Bến Gót",
                            "Xã Sông Lô", "Xã Trưng Vương"),
        "Phường Nông Trang": ("Phường Nông Trang", "Phường Vân Cơ", "Phường Dữu Lâu",
                              "Phường Minh Phương", "Xã Thụy Vân", "Xã Phượng Lâu"),
        "Phường Thanh Miếu": ("Phường Thanh Miếu", "Phường Minh Nông", "Xã Hùng Lô",
                              "Xã Kim Đức", "Xã Tân Đức"),
        "Phường Vân Phú": ("Phường Vân Phú", "Xã Thanh Đình"),
        "Xã Hy Cương": ("Xã Hy Cương", "Xã Chu Hóa"),
    },
    "PTH": {
        "Phường Phong Châu": ("Phường Phong Châu", "Phường Trường Thịnh"),
        "Phường Phú Thọ": ("Phường Hùng Vương", "Phường Thanh Vinh", "Xã Thanh Minh",
                           "Xã Hà Thạch"),
        "Phường Âu Cơ": ("Phường Âu Cơ", "Xã Văn Lung", "Xã Phú Hộ", "Xã Hà Lộc"),
    },
}

#: New communes of the other former districts of Phú Thọ, per 2017 site code.
_NEW_PER_DISTRICT: dict[str, int] = {
    "CKH": 8, "DHU": 7, "HHO": 8, "LTH": 4, "PNI": 5, "TNO": 5, "TSO": 4, "TBA": 7,
    "TSN": 6, "TTH": 4, "YLA": 3,
}

#: Former Vĩnh Phúc: wards, then communes (names plausible, not the official list).
_VINH_PHUC_WARDS = ("Vĩnh Phúc", "Vĩnh Yên", "Phúc Yên", "Xuân Hòa")
_VINH_PHUC = (
    "Tam Đảo", "Đại Đình", "Đạo Trù", "Hợp Châu", "Tam Dương", "Hoàng An", "Hội Thịnh",
    "Kim Long", "Lập Thạch", "Thái Hòa", "Sơn Đông", "Hợp Lý", "Tiên Lữ", "Hải Lựu",
    "Đức Bác", "Bình Nguyên", "Bình Xuyên", "Bá Hiến", "Thanh Lãng", "Yên Lạc", "Tề Lỗ",
    "Liên Châu", "Nguyệt Đức", "Tam Hồng", "Vĩnh Tường", "Thổ Tang", "Vĩnh Hưng",
    "Vĩnh An", "Vĩnh Thành", "Tam Phúc", "Đại Đồng", "Yên Dương", "Sông Lô", "Lạc Hồng",
)
#: Former Hòa Bình: wards, then communes (names plausible, not the official list).
_HOA_BINH_WARDS = ("Hòa Bình", "Kỳ Sơn", "Tân Hòa", "Thống Nhất")
_HOA_BINH = (
    "Đà Bắc", "Tân Pheo", "Tiền Phong", "Cao Sơn", "Mai Châu", "Pà Cò", "Bao La", "Mai Hạ",
    "Tân Mai", "Lạc Sơn", "Mường Vang", "Nhân Nghĩa", "Quyết Thắng", "Ngọc Sơn",
    "Thượng Cốc", "Yên Phú", "Tân Lạc", "Mường Bi", "Toàn Thành", "Vân Sơn", "Cao Phong",
    "Thung Nai", "Mường Thàng", "Kim Bôi", "Nật Sơn", "Cuối Hạ", "Mường Động", "Lương Sơn",
    "Cao Dương", "Liên Sơn", "Nhuận Trạch", "Lạc Thủy", "An Bình", "An Nghĩa", "Yên Thủy",
    "Lạc Lương", "Yên Trị", "Đoàn Kết", "Dũng Tiến", "Hợp Kim",
)
WARD_COUNT, COMMUNE_COUNT = 15, 133
# fmt: on


def _bare(name: str) -> str:
    return name.split(" ", 1)[1] if name.startswith(("Xã ", "Phường ")) else name


def _districts() -> tuple[dict[tuple[str, str], str], list[str]]:
    """(LINEAGE for the former Phú Thọ, its new units in order)."""
    lineage: dict[tuple[str, str], str] = {}
    new: list[str] = []
    for site in d2017.SITES:
        groups = _EXPLICIT.get(site.code)
        if groups is None:
            n = _NEW_PER_DISTRICT[site.code]
            units = list(site.communes)
            size, extra = divmod(len(units), n)
            groups, start = {}, 0  # consecutive former communes, as neighbours merged
            for i in range(n):
                end = start + size + (1 if i < extra else 0)
                members = tuple(units[start:end])
                town = next((m for m in members if m.startswith("Thị trấn ")), None)
                # the group holding the district's town takes the district's name
                name = ("Xã " + site.name.split(" ", 1)[1] if town and i == 0
                        else "Xã " + _bare(members[0]))
                groups[name] = members
                start = end
        for name, members in groups.items():
            new.append(name)
            for member in members:
                lineage[(site.code, member)] = name
    return lineage, new


LINEAGE, _FORMER_PHU_THO = _districts()


def _taken() -> set[str]:
    return {_bare(n) for n in _FORMER_PHU_THO} | {
        _bare(u).removeprefix("Thị trấn ") for s in d2017.SITES for u in s.communes}


def _unit_names() -> list[str]:
    wards = [n for n in _FORMER_PHU_THO if n.startswith("Phường ")]
    wards += [f"Phường {w}" for w in _VINH_PHUC_WARDS + _HOA_BINH_WARDS]
    communes = [n for n in _FORMER_PHU_THO if n.startswith("Xã ")]
    taken = _taken()
    fresh = [n for n in _VINH_PHUC + _HOA_BINH if n not in taken]
    communes += [f"Xã {n}" for n in fresh[: COMMUNE_COUNT - len(communes)]]
    return wards + communes


UNITS: list[str] = _unit_names()


def _code(name: str) -> str:
    prefix = "P" if name.startswith("Phường ") else "X"
    return f"{prefix}-" + "".join(fold(_bare(name)).upper().split())


HOST = SiteSpec(HOST_CODE, "Sở Giáo dục và Đào tạo tỉnh Phú Thọ", "host", ())
SITES: list[SiteSpec] = [HOST] + [SiteSpec(_code(n), n, "bridge", (n,)) for n in UNITS]
SITES_BY_CODE: dict[str, SiteSpec] = {s.code: s for s in SITES}

#: Former mountain districts (Mường and Dao names are commoner there).
MOUNTAIN_SITE_CODES: frozenset[str] = frozenset(
    {_code(n) for (code, _), n in LINEAGE.items() if code in d2017.MOUNTAIN_SITE_CODES}
    | {_code(f"Xã {n}") for n in _HOA_BINH})

#: Provincial staff at the host (no district offices since July 2025).
HOST_POSITIONS: Weighted = tuple(
    (t, w) for t, w in d2017.HOST_POSITIONS if "thành phố" not in t)


def _chairs() -> dict[str, str]:
    rng = random.Random(DEFAULT_SEED)
    out = {HOST_CODE: "Nguyễn Văn Hùng"}
    for site in SITES[1:]:
        sex: Sex = "female" if rng.random() < 0.25 else "male"
        out[site.code] = d2017.draw_name(rng, sex, site.code in MOUNTAIN_SITE_CODES)
    return out


CHAIRS: dict[str, str] = _chairs()


def chair_title(site: SiteSpec) -> str:
    """E.g. "Phó Chủ tịch UBND xã Cẩm Khê"; the host's chair is the Department's deputy."""
    if site.kind == "host":
        return "Phó Giám đốc Sở Giáo dục và Đào tạo"
    word, bare = site.name.split(" ", 1)
    return f"Phó Chủ tịch UBND {word.lower()} {bare}"


def people(seed: int = DEFAULT_SEED) -> list[PersonSpec]:
    return d2017.people(seed, sites=SITES, year=YEAR, host_positions=HOST_POSITIONS,
                        mountain_codes=MOUNTAIN_SITE_CODES)


def former_units(name: str) -> list[tuple[str, str]]:
    """The 2017 units (site code, name) that became the unit `name`."""
    return [old for old, new in LINEAGE.items() if new == name]
