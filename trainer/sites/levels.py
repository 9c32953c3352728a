"""Administrative levels read from a name, and the order officials list units in.

Lists go city, towns, then districts (before July 2025), or wards, towns, communes, special
zones (commune level), each group by name in Vietnamese order; never by the level word, which
would put "Huyện ..." before "Thành phố ...".
"""

from __future__ import annotations

from flask_babel import gettext

from trainer.sites.models import SiteLevel, UnitLevel
from trainer.text import fold, sort_key

# (folded prefix, rank, site level, unit level)
_PREFIXES: tuple[tuple[str, int, SiteLevel, UnitLevel | None], ...] = (
    ("tinh ", 0, SiteLevel.PROVINCE, None),
    ("so ", 0, SiteLevel.PROVINCE, None),
    ("thanh pho ", 1, SiteLevel.DISTRICT, None),
    ("thi xa ", 2, SiteLevel.DISTRICT, None),
    ("quan ", 3, SiteLevel.DISTRICT, None),
    ("huyen ", 4, SiteLevel.DISTRICT, None),
    ("phuong ", 5, SiteLevel.COMMUNE, UnitLevel.WARD),
    ("thi tran ", 6, SiteLevel.COMMUNE, UnitLevel.TOWN),
    ("xa ", 7, SiteLevel.COMMUNE, UnitLevel.COMMUNE),
    ("dac khu ", 8, SiteLevel.COMMUNE, UnitLevel.SPECIAL_ZONE),
)
OTHER_RANK = 9

#: The level word as written inside a sentence ("xã Bằng Giã", "thị trấn Hạ Hòa").
LEVEL_WORDS: dict[UnitLevel, str] = {
    UnitLevel.COMMUNE: "xã", UnitLevel.WARD: "phường", UnitLevel.TOWN: "thị trấn",
    UnitLevel.SPECIAL_ZONE: "đặc khu",
}


def site_level_labels() -> dict[str, str]:
    return {SiteLevel.PROVINCE.value: gettext("province level"),
            SiteLevel.DISTRICT.value: gettext("district level"),
            SiteLevel.COMMUNE.value: gettext("commune level")}


def _match(name: str) -> tuple[int, SiteLevel | None, UnitLevel | None, str]:
    folded = fold(name)
    for prefix, rank, site_level, unit_level in _PREFIXES:
        if folded.startswith(prefix):
            return rank, site_level, unit_level, name[len(prefix):].strip()
    return OTHER_RANK, None, None, name


def admin_sort_key(name: str) -> str:
    """Sort key of a site or unit name in the order officials list them."""
    rank, _, _, bare = _match(name)
    return f"{rank}{sort_key(bare)}"[:255]


def site_level_of(name: str, default: SiteLevel = SiteLevel.DISTRICT) -> SiteLevel:
    return _match(name)[1] or default


def unit_level_of(name: str) -> UnitLevel | None:
    return _match(name)[2]


def centre_name(unit_name: str) -> str:
    """"TTHTCĐ thị trấn Hạ Hòa": the level word lower-case after the abbreviation."""
    _, _, level, bare = _match(unit_name)
    return f"TTHTCĐ {LEVEL_WORDS[level]} {bare}" if level else f"TTHTCĐ {unit_name}"
