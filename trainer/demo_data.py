"""Demo data for a Phú Thọ (2017) community-learning-centre training conference.

Pure data plus one deterministic generator, standard library only.

* :data:`SITES` - the 13 district-level units of Phú Thọ province in 2017: the host
  (Thành phố Việt Trì) and 12 video-conference bridge points (điểm cầu), each with its
  communes, wards and townships (277 in all). Names follow the 2017 administrative map
  as closely as we know it; where unsure they are plausible, not authoritative.
* Weighted name pools, centre-staff :data:`POSITIONS`, phone-number rules.
* :func:`people` - about 1,300 deterministic participants (4-5 per commune, plus
  provincial staff at the host site, who belong to no commune). As in the field, centre
  directors are mostly men, teachers mostly women, and association staff often over 60.
* Organisation constants: :data:`LEAD_AGENCY`, :data:`PARTNERS`, :data:`CHAIRS`.

Every string is NFC-normalised Vietnamese. Chair and participant names are invented.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Literal

SiteKind = Literal["host", "bridge"]
Sex = Literal["female", "male"]

DEFAULT_SEED = 2017


# --------------------------------------------------------------------------- sites


@dataclass(frozen=True)
class SiteSpec:
    """A district-level unit taking part in the conference."""

    code: str
    name: str
    kind: SiteKind
    communes: tuple[str, ...]


def _xa(*names: str) -> tuple[str, ...]:
    return tuple(f"Xã {n}" for n in names)


def _phuong(*names: str) -> tuple[str, ...]:
    return tuple(f"Phường {n}" for n in names)


def _tt(*names: str) -> tuple[str, ...]:
    return tuple(f"Thị trấn {n}" for n in names)


# fmt: off
SITES: list[SiteSpec] = [
    SiteSpec(
        "VTR",
        "Thành phố Việt Trì",
        "host",
        _phuong(
            "Bạch Hạc", "Bến Gót", "Dữu Lâu", "Gia Cẩm", "Minh Nông", "Minh Phương",
            "Nông Trang", "Tân Dân", "Thanh Miếu", "Thọ Sơn", "Tiên Cát", "Vân Cơ",
            "Vân Phú",
        )
        + _xa(
            "Chu Hóa", "Hùng Lô", "Hy Cương", "Kim Đức", "Phượng Lâu", "Sông Lô",
            "Tân Đức", "Thanh Đình", "Thụy Vân", "Trưng Vương",
        ),
    ),
    SiteSpec(
        "PTH",
        "Thị xã Phú Thọ",
        "bridge",
        _phuong("Âu Cơ", "Hùng Vương", "Phong Châu", "Thanh Vinh", "Trường Thịnh")
        + _xa("Hà Lộc", "Hà Thạch", "Phú Hộ", "Thanh Minh", "Văn Lung"),
    ),
    SiteSpec(
        "CKH",
        "Huyện Cẩm Khê",
        "bridge",
        _tt("Sông Thao")
        + _xa(
            "Cấp Dẫn", "Cát Trù", "Chương Xá", "Điêu Lương", "Đồng Cam", "Đồng Lương",
            "Hiền Đa", "Hương Lung", "Ngô Xá", "Phú Khê", "Phú Lạc", "Phùng Xá",
            "Phương Vĩ", "Phương Xá", "Sai Nga", "Sơn Nga", "Sơn Tình", "Tạ Xá",
            "Tam Sơn", "Thanh Nga", "Thụy Liễu", "Tiên Lương", "Tình Cương", "Tùng Khê",
            "Tuy Lộc", "Văn Bán", "Văn Khúc", "Xương Thịnh", "Yên Dưỡng", "Yên Tập",
        ),
    ),
    SiteSpec(
        "DHU",
        "Huyện Đoan Hùng",
        "bridge",
        _tt("Đoan Hùng")
        + _xa(
            "Bằng Doãn", "Bằng Luân", "Ca Đình", "Chân Mộng", "Chí Đám", "Đại Nghĩa",
            "Đông Khê", "Hùng Long", "Hùng Quan", "Hữu Đô", "Minh Lương", "Minh Phú",
            "Minh Tiến", "Nghinh Xuyên", "Ngọc Quan", "Phong Phú", "Phú Thứ", "Phúc Lai",
            "Phương Trung", "Quế Lâm", "Sóc Đăng", "Tây Cốc", "Tiêu Sơn", "Vân Du",
            "Vân Đồn", "Vụ Quang", "Yên Kiện",
        ),
    ),
    SiteSpec(
        "HHO",
        "Huyện Hạ Hòa",
        "bridge",
        _tt("Hạ Hòa")
        + _xa(
            "Ấm Hạ", "Bằng Giã", "Cáo Điền", "Chính Công", "Chuế Lưu", "Đại Phạm",
            "Đan Hà", "Đan Thượng", "Động Lâm", "Gia Điền", "Hà Lương", "Hậu Bổng",
            "Hiền Lương", "Hương Xạ", "Lâm Lợi", "Lang Sơn", "Lệnh Khanh", "Liên Phương",
            "Mai Tùng", "Minh Côi", "Minh Hạc", "Phụ Khánh", "Phương Viên", "Quân Khê",
            "Văn Lang", "Vĩnh Chân", "Vô Tranh", "Vụ Cầu", "Xuân Áng", "Y Sơn",
            "Yên Kỳ", "Yên Luật",
        ),
    ),
    SiteSpec(
        "LTH",
        "Huyện Lâm Thao",
        "bridge",
        _tt("Lâm Thao", "Hùng Sơn")
        + _xa(
            "Bản Nguyên", "Cao Xá", "Hợp Hải", "Kinh Kệ", "Sơn Dương", "Sơn Vi",
            "Thạch Sơn", "Tiên Kiên", "Tứ Xã", "Vĩnh Lại", "Xuân Huy", "Xuân Lũng",
        ),
    ),
    SiteSpec(
        "PNI",
        "Huyện Phù Ninh",
        "bridge",
        _tt("Phong Châu")
        + _xa(
            "An Đạo", "Bảo Thanh", "Bình Bộ", "Gia Thanh", "Hạ Giáp", "Lệ Mỹ",
            "Liên Hoa", "Phú Lộc", "Phú Mỹ", "Phú Nham", "Phù Ninh", "Tiên Du",
            "Tiên Phú", "Trạm Thản", "Trị Quận", "Trung Giáp", "Tử Đà", "Vĩnh Phú",
        ),
    ),
    SiteSpec(
        "TNO",
        "Huyện Tam Nông",
        "bridge",
        _tt("Hưng Hóa")
        + _xa(
            "Cổ Tiết", "Dậu Dương", "Dị Nậu", "Hiền Quan", "Hồng Đà", "Hùng Đô",
            "Hương Nha", "Hương Nộn", "Phương Thịnh", "Quang Húc", "Tam Cường", "Tề Lễ",
            "Thanh Uyên", "Thọ Văn", "Thượng Nông", "Tứ Mỹ", "Văn Lương", "Vực Trường",
            "Xuân Quang",
        ),
    ),
    SiteSpec(
        "TSO",
        "Huyện Tân Sơn",
        "bridge",
        _xa(
            "Đồng Sơn", "Kiệt Sơn", "Kim Thượng", "Lai Đồng", "Long Cốc", "Minh Đài",
            "Mỹ Thuận", "Tam Thanh", "Tân Phú", "Tân Sơn", "Thạch Kiệt", "Thu Cúc",
            "Thu Ngạc", "Văn Luông", "Vinh Tiền", "Xuân Đài", "Xuân Sơn",
        ),
    ),
    SiteSpec(
        "TBA",
        "Huyện Thanh Ba",
        "bridge",
        _tt("Thanh Ba")
        + _xa(
            "Chí Tiên", "Đại An", "Đỗ Sơn", "Đỗ Xuyên", "Đông Lĩnh", "Đông Thành",
            "Đồng Xuân", "Hanh Cù", "Hoàng Cương", "Khải Xuân", "Lương Lỗ", "Mạn Lạn",
            "Năng Yên", "Ninh Dân", "Phương Lĩnh", "Quảng Nạp", "Sơn Cương", "Thái Ninh",
            "Thanh Hà", "Thanh Vân", "Thanh Xá", "Vân Lĩnh", "Võ Lao", "Vũ Yển",
            "Yên Nội", "Yển Khê",
        ),
    ),
    SiteSpec(
        "TSN",
        "Huyện Thanh Sơn",
        "bridge",
        _tt("Thanh Sơn")
        + _xa(
            "Cự Đồng", "Cự Thắng", "Địch Quả", "Đông Cửu", "Giáp Lai", "Hương Cần",
            "Khả Cửu", "Lương Nha", "Sơn Hùng", "Tân Lập", "Tân Minh", "Tất Thắng",
            "Thạch Khoán", "Thắng Sơn", "Thục Luyện", "Thượng Cửu", "Tinh Nhuệ",
            "Văn Miếu", "Võ Miếu", "Yên Lãng", "Yên Lương", "Yên Sơn",
        ),
    ),
    SiteSpec(
        "TTH",
        "Huyện Thanh Thủy",
        "bridge",
        _tt("Thanh Thủy")
        + _xa(
            "Bảo Yên", "Đào Xá", "Đoan Hạ", "Đồng Luận", "Hoàng Xá", "Phượng Mao",
            "Sơn Thủy", "Tân Phương", "Thạch Đồng", "Trung Nghĩa", "Trung Thịnh",
            "Tu Vũ", "Xuân Lộc", "Yến Mao",
        ),
    ),
    SiteSpec(
        "YLA",
        "Huyện Yên Lập",
        "bridge",
        _tt("Yên Lập")
        + _xa(
            "Đồng Lạc", "Đồng Thịnh", "Hưng Long", "Lương Sơn", "Minh Hòa", "Mỹ Lung",
            "Mỹ Lương", "Nga Hoàng", "Ngọc Đồng", "Ngọc Lập", "Phúc Khánh", "Thượng Long",
            "Trung Sơn", "Xuân An", "Xuân Thủy", "Xuân Viên",
        ),
    ),
]
# fmt: on

SITES_BY_CODE: dict[str, SiteSpec] = {s.code: s for s in SITES}
HOST: SiteSpec = next(s for s in SITES if s.kind == "host")

#: Sites whose population is largely Mường / Dao (family names shift accordingly).
MOUNTAIN_SITE_CODES: frozenset[str] = frozenset({"TSO", "TSN", "YLA"})


# ---------------------------------------------------------------------- name pools

Weighted = tuple[tuple[str, int], ...]

# fmt: off
#: Family names with relative weights (northern Vietnam; Huỳnh/Võ are rare here).
FAMILY_NAMES: Weighted = (
    ("Nguyễn", 320), ("Trần", 85), ("Lê", 75), ("Phạm", 55), ("Hoàng", 50),
    ("Vũ", 35), ("Phan", 25), ("Hà", 25), ("Đặng", 20), ("Bùi", 20), ("Đỗ", 20),
    ("Đinh", 18), ("Cao", 12), ("Ngô", 12), ("Dương", 10), ("Trịnh", 8), ("Đào", 8),
    ("Hồ", 7), ("Lương", 6), ("Tạ", 5), ("Mai", 5), ("Lý", 4), ("Triệu", 4),
    ("Kiều", 4), ("Chu", 4), ("Lưu", 4), ("Khổng", 3), ("Nghiêm", 3), ("Tô", 3),
    ("Quách", 3), ("Đồng", 3), ("Võ", 3), ("Huỳnh", 2),
)

#: Extra weight added to FAMILY_NAMES at MOUNTAIN_SITE_CODES (Mường: Đinh, Hà, Bùi,
#: Quách, Xa; Dao: Triệu, Bàn, Lý).
MOUNTAIN_FAMILY_BOOST: Weighted = (
    ("Đinh", 70), ("Hà", 60), ("Bùi", 30), ("Quách", 15), ("Xa", 15),
    ("Triệu", 12), ("Bàn", 8), ("Lý", 6), ("Hoàng", 10),
)

#: "Thị" is reserved for women; a few middle names are shared (Minh, Thanh, Ngọc...).
FEMALE_MIDDLE_NAMES: Weighted = (
    ("Thị", 120), ("Thu", 10), ("Thanh", 10), ("Ngọc", 8), ("Hồng", 6), ("Minh", 5),
    ("Kim", 5), ("Phương", 4), ("Thùy", 4), ("Xuân", 4), ("Bích", 3), ("Thúy", 3),
    ("Mai", 3), ("Diệu", 2), ("Hải", 2), ("Khánh", 2), ("Quỳnh", 2), ("Vân", 2),
    ("Thị Thu", 6), ("Thị Thanh", 4), ("Thị Minh", 2), ("Thị Hồng", 2), ("Thị Kim", 2),
)

MALE_MIDDLE_NAMES: Weighted = (
    ("Văn", 100), ("Đức", 14), ("Hữu", 8), ("Quang", 8), ("Minh", 8), ("Đình", 8),
    ("Công", 7), ("Xuân", 6), ("Mạnh", 5), ("Thanh", 5), ("Tiến", 4), ("Ngọc", 4),
    ("Trung", 4), ("Duy", 4), ("Bá", 4), ("Trọng", 4), ("Thế", 4), ("Viết", 3),
    ("Khắc", 3), ("Hồng", 2), ("Huy", 2), ("Anh", 2), ("Việt", 2), ("Hoàng", 2),
    ("Kim", 1), ("Tất", 1),
)

#: Given names; both "Hòa" and "Hoà" occur because real registers vary.
FEMALE_GIVEN_NAMES: Weighted = (
    ("Hà", 8), ("Hoa", 8), ("Hòa", 4), ("Hoà", 1), ("Lan", 8), ("Hương", 10),
    ("Thảo", 7), ("Ngọc", 6), ("Trang", 8), ("Huyền", 8), ("Nhung", 6), ("Dung", 6),
    ("Hằng", 8), ("Hạnh", 6), ("Hiền", 6), ("Hồng", 5), ("Huệ", 5), ("Liên", 5),
    ("Linh", 7), ("Loan", 5), ("Mai", 6), ("Minh", 3), ("Nga", 6), ("Ngân", 4),
    ("Nguyệt", 4), ("Nhàn", 4), ("Oanh", 4), ("Phương", 6), ("Quyên", 3),
    ("Quỳnh", 4), ("Tâm", 4), ("Thanh", 4), ("Thắm", 3), ("Thủy", 7), ("Thúy", 6),
    ("Thơ", 3), ("Thu", 5), ("Tuyết", 4), ("Vân", 6), ("Yến", 6), ("Xuân", 4),
    ("Chi", 3), ("Giang", 4), ("Hậu", 3), ("Hường", 4), ("Lệ", 3), ("Ly", 3),
    ("Duyên", 4), ("Bình", 2), ("An", 2), ("Anh", 4), ("Diệp", 2), ("Sen", 2),
    ("Mơ", 2), ("Lý", 2),
)

MALE_GIVEN_NAMES: Weighted = (
    ("Hùng", 8), ("Dũng", 8), ("Tuấn", 8), ("Đức", 6), ("Hải", 7), ("Bình", 5),
    ("Nam", 7), ("Long", 6), ("Thắng", 7), ("Cường", 6), ("Hòa", 4), ("Hoà", 1),
    ("Minh", 6), ("Thanh", 4), ("An", 3), ("Anh", 5), ("Bảo", 2), ("Chiến", 4),
    ("Công", 3), ("Đạt", 4), ("Định", 3), ("Đông", 3), ("Giang", 3), ("Hiếu", 4),
    ("Hiển", 3), ("Hoàng", 4), ("Huy", 5), ("Hưng", 5), ("Khánh", 3), ("Kiên", 3),
    ("Lâm", 3), ("Lợi", 3), ("Mạnh", 4), ("Nghĩa", 4), ("Phong", 4), ("Phúc", 3),
    ("Quân", 4), ("Quang", 4), ("Sơn", 7), ("Tài", 3), ("Thành", 6), ("Thịnh", 3),
    ("Toàn", 4), ("Trung", 5), ("Tú", 3), ("Tùng", 4), ("Việt", 4), ("Vinh", 4),
    ("Tiến", 4), ("Thái", 3), ("Hiệp", 3), ("Lộc", 3), ("Khải", 2), ("Hà", 2),
)
# fmt: on


# ----------------------------------------------------------------------- positions

DIRECTOR = "Giám đốc TTHTCĐ"  # usually a vice-chair of the commune People's Committee
DEPUTY_DIRECTOR = "Phó Giám đốc TTHTCĐ"
WOMEN_UNION = "Cán bộ Hội Liên hiệp Phụ nữ xã"

#: Roles of commune delegates with their expected shares (sex-neutral, except that
#: Women's Union staff are women). Titles ending in " xã" are worded for a commune and
#: become " phường" / " thị trấn" for wards and townships (see localise_position).
#: The generator realises the director's share exactly (one per commune) and draws
#: the other delegates from the remaining weights.
POSITIONS: Weighted = (
    (DIRECTOR, 22),
    (DEPUTY_DIRECTOR, 20),
    ("Giáo viên", 15),
    ("Cán bộ Hội Khuyến học xã", 12),
    (WOMEN_UNION, 8),
    ("Cộng tác viên", 9),
    ("Công chức Văn hóa - Xã hội xã", 6),
    ("Cán bộ Hội Nông dân xã", 4),
    ("Cán bộ Đoàn Thanh niên xã", 3),
    ("Cán bộ Hội Cựu chiến binh xã", 1),
)

#: Share of women per commune title (the rest are men): directors are mostly men (vice-chairs
#: of the People's Committee), teachers mostly women.
FEMALE_SHARE: dict[str, float] = {
    DIRECTOR: 0.2,
    DEPUTY_DIRECTOR: 0.35,
    "Giáo viên": 0.75,
    "Cán bộ Hội Khuyến học xã": 0.4,
    WOMEN_UNION: 1.0,
    "Cộng tác viên": 0.7,
    "Công chức Văn hóa - Xã hội xã": 0.5,
    "Cán bộ Hội Nông dân xã": 0.25,
    "Cán bộ Đoàn Thanh niên xã": 0.5,
    "Cán bộ Hội Cựu chiến binh xã": 0.0,
    "Lãnh đạo Phòng GDTX-CN, Sở GD&ĐT": 0.4,
    "Chuyên viên Phòng GDTX-CN, Sở GD&ĐT": 0.6,
    "Chuyên viên Phòng GD&ĐT thành phố Việt Trì": 0.6,
    "Cán bộ Hội Khuyến học tỉnh": 0.3,
    "Cán bộ Hội Liên hiệp Phụ nữ tỉnh": 1.0,
    "Báo cáo viên": 0.5,
    "Kỹ thuật viên điểm cầu": 0.1,
}

#: Association staff, often retired: most are over 60.
SENIOR_POSITIONS: frozenset[str] = frozenset({
    "Cán bộ Hội Khuyến học xã", "Cán bộ Hội Cựu chiến binh xã", "Cán bộ Hội Khuyến học tỉnh",
})

#: Provincial staff attending at the host site.
HOST_POSITIONS: Weighted = (
    ("Lãnh đạo Phòng GDTX-CN, Sở GD&ĐT", 2),
    ("Chuyên viên Phòng GDTX-CN, Sở GD&ĐT", 6),
    ("Chuyên viên Phòng GD&ĐT thành phố Việt Trì", 3),
    ("Cán bộ Hội Khuyến học tỉnh", 4),
    ("Cán bộ Hội Liên hiệp Phụ nữ tỉnh", 3),
    ("Báo cáo viên", 2),
    ("Kỹ thuật viên điểm cầu", 2),
)

#: Titles only held by women.
FEMALE_ONLY_POSITIONS: frozenset[str] = frozenset({WOMEN_UNION, "Cán bộ Hội Liên hiệp Phụ nữ tỉnh"})

#: The office of a provincial staff member whose title does not already name it (recorded
#: as their unit). They belong to no commune, so they never count as commune coverage.
HOST_OFFICES: dict[str, str] = {
    "Báo cáo viên": "Sở Giáo dục và Đào tạo",
    "Kỹ thuật viên điểm cầu": "Sở Giáo dục và Đào tạo",
}


def unit_level(unit: str) -> str:
    """The level word of a commune-level unit: "xã", "phường" or "thị trấn"."""
    for prefix, level in (("Phường ", "phường"), ("Thị trấn ", "thị trấn")):
        if unit.startswith(prefix):
            return level
    return "xã"


def localise_position(title: str, unit: str) -> str:
    """Word a commune title for the unit: "... xã" becomes "... phường" in a ward."""
    if title.endswith(" xã"):
        return f"{title[: -len(' xã')]} {unit_level(unit)}"
    return title


def canonical_position(title: str) -> str:
    """Inverse of localise_position: "... phường" / "... thị trấn" back to "... xã"."""
    for suffix in (" phường", " thị trấn"):
        if title.endswith(suffix):
            return f"{title[: -len(suffix)]} xã"
    return title


# -------------------------------------------------------------------------- phones

# fmt: off
#: 10-digit mobile prefixes (after the 2018 renumbering).
MOBILE_PREFIXES: tuple[str, ...] = (
    "032", "033", "034", "035", "036", "037", "038", "039", "052", "056", "058",
    "059", "070", "076", "077", "078", "079", "081", "082", "083", "084", "085",
    "086", "088", "089", "090", "091", "092", "093", "094", "096", "097", "098",
    "099",
)

#: Older 11-digit prefixes still found in 2017 registers.
LEGACY_PREFIXES: tuple[str, ...] = (
    "0120", "0121", "0122", "0123", "0124", "0125", "0126", "0127", "0128", "0129",
    "0162", "0163", "0164", "0165", "0166", "0167", "0168", "0169", "0186", "0188",
    "0199",
)
# fmt: on

PHONE_MISSING_SHARE = 0.08
PHONE_LEGACY_SHARE = 0.05
BIRTH_YEAR_MISSING_SHARE = 0.05
AGE_RANGE = (17, 78)  # at the demo's year
BIRTH_YEAR_RANGE = (DEFAULT_SEED - AGE_RANGE[1], DEFAULT_SEED - AGE_RANGE[0])


def is_valid_phone(phone: str | None) -> bool:
    """None, a 10-digit 03/05/07/08/09 mobile, or an 11-digit legacy 01xx mobile."""
    if phone is None:
        return True
    if not phone.isascii() or not phone.isdigit():
        return False
    if len(phone) == 10:
        return phone[:2] in {"03", "05", "07", "08", "09"}
    return len(phone) == 11 and phone.startswith("01")


# ------------------------------------------------------------------- organisations

LEAD_AGENCY = "Sở Giáo dục và Đào tạo tỉnh Phú Thọ"
PARTNERS: tuple[str, ...] = ("Hội Khuyến học tỉnh Phú Thọ", "Hội Liên hiệp Phụ nữ tỉnh Phú Thọ")

#: Chair of each site's session: an (invented) vice-chair of its People's Committee.
CHAIRS: dict[str, str] = {
    "VTR": "Trần Quang Minh",
    "PTH": "Nguyễn Thị Thu Hằng",
    "CKH": "Phạm Văn Dũng",
    "DHU": "Hoàng Đức Thịnh",
    "HHO": "Lê Thị Minh Hoa",
    "LTH": "Bùi Quang Huy",
    "PNI": "Đỗ Văn Hiển",
    "TNO": "Hà Thị Ngọc Lan",
    "TSO": "Đinh Công Thành",
    "TBA": "Vũ Mạnh Cường",
    "TSN": "Hà Văn Toàn",
    "TTH": "Cao Thị Huyền",
    "YLA": "Đinh Văn Bình",
}

_SITE_LEVEL_PREFIXES: tuple[tuple[str, str], ...] = (
    ("Thành phố ", "thành phố "),
    ("Thị xã ", "thị xã "),
    ("Huyện ", "huyện "),
)


def chair_title(site: SiteSpec) -> str:
    """E.g. "Phó Chủ tịch UBND huyện Cẩm Khê"."""
    name = site.name
    for prefix, lower in _SITE_LEVEL_PREFIXES:
        if name.startswith(prefix):
            name = lower + name[len(prefix) :]
            break
    return f"Phó Chủ tịch UBND {name}"


# ----------------------------------------------------------------------- generator


@dataclass(frozen=True)
class PersonSpec:
    """One demo participant."""

    full_name: str
    sex: Sex
    site_code: str
    unit: str | None  # the commune-level unit; a provincial office (or none) at the host
    position: str
    phone: str | None
    birth_year: int | None


@dataclass(frozen=True)
class _Pool:
    items: tuple[str, ...]
    cum_weights: tuple[int, ...]

    @classmethod
    def of(cls, weighted: Sequence[tuple[str, int]]) -> _Pool:
        merged: dict[str, int] = {}
        for item, weight in weighted:
            merged[item] = merged.get(item, 0) + weight
        items = tuple(i for i, w in merged.items() if w > 0)
        return cls(items, tuple(accumulate(merged[i] for i in items)))

    def draw(self, rng: random.Random) -> str:
        return rng.choices(self.items, cum_weights=self.cum_weights)[0]


_FAMILY = _Pool.of(FAMILY_NAMES)
_MOUNTAIN_FAMILY = _Pool.of(FAMILY_NAMES + MOUNTAIN_FAMILY_BOOST)
_MIDDLE = {"female": _Pool.of(FEMALE_MIDDLE_NAMES), "male": _Pool.of(MALE_MIDDLE_NAMES)}
_GIVEN = {"female": _Pool.of(FEMALE_GIVEN_NAMES), "male": _Pool.of(MALE_GIVEN_NAMES)}
_STAFF = _Pool.of([(t, w) for t, w in POSITIONS if t != DIRECTOR])

DELEGATES_PER_COMMUNE = (4, 5)
FIVE_DELEGATE_SHARE = 0.6
HOST_STAFF_RANGE = (15, 25)


def _draw_sex(rng: random.Random, title: str) -> Sex:
    if title in FEMALE_ONLY_POSITIONS:
        return "female"
    return "female" if rng.random() < FEMALE_SHARE.get(title, 0.5) else "male"


def draw_name(rng: random.Random, sex: Sex, mountain: bool) -> str:
    family = (_MOUNTAIN_FAMILY if mountain else _FAMILY).draw(rng)
    middle = _MIDDLE[sex].draw(rng)
    given = _GIVEN[sex].draw(rng)
    while given == middle.split()[-1]:  # no "Nguyễn Minh Minh"
        given = _GIVEN[sex].draw(rng)
    return f"{family} {middle} {given}"


def _draw_birth_year(rng: random.Random, title: str, year: int) -> int | None:
    if rng.random() < BIRTH_YEAR_MISSING_SHARE:
        return None
    young, old = AGE_RANGE
    if title in SENIOR_POSITIONS:
        age = rng.triangular(45, old, 66)
    elif title in (DIRECTOR, DEPUTY_DIRECTOR) or title.startswith("Lãnh đạo"):
        age = rng.triangular(30, 58, 48)
    else:
        age = rng.triangular(young + 5, 60, 38)
    return year - round(age)


def _draw_phone(rng: random.Random, taken: set[str]) -> str | None:
    if rng.random() < PHONE_MISSING_SHARE:
        return None
    legacy = rng.random() < PHONE_LEGACY_SHARE
    while True:
        prefix = rng.choice(LEGACY_PREFIXES if legacy else MOBILE_PREFIXES)
        rest = 11 - len(prefix) if legacy else 10 - len(prefix)
        phone = f"{prefix}{rng.randrange(10**rest):0{rest}d}"
        if phone not in taken:
            taken.add(phone)
            return phone


def people(seed: int = DEFAULT_SEED, *, sites: Sequence[SiteSpec] | None = None,
           year: int = DEFAULT_SEED, host_positions: Weighted = HOST_POSITIONS,
           mountain_codes: frozenset[str] = MOUNTAIN_SITE_CODES) -> list[PersonSpec]:
    """Deterministic participants: 4-5 delegates per commune (the first is the centre's
    director) plus 15-25 provincial staff at the host site. `sites` defaults to the 2017
    province; ages are reckoned at `year`.

    Same seed, same list (independent of PYTHONHASHSEED). No two people share
    (full_name, site_code, birth_year): the name is re-drawn on collision.
    """
    rng = random.Random(seed)
    out: list[PersonSpec] = []
    seen: set[tuple[str, str, int | None]] = set()
    phones: set[str] = set()
    host_staff = _Pool.of(host_positions)

    def add(site_code: str, unit: str | None, title: str) -> None:
        sex = _draw_sex(rng, title)
        birth_year = _draw_birth_year(rng, title, year)
        mountain = site_code in mountain_codes
        full_name = draw_name(rng, sex, mountain)
        while (full_name, site_code, birth_year) in seen:
            full_name = draw_name(rng, sex, mountain)
        seen.add((full_name, site_code, birth_year))
        out.append(
            PersonSpec(
                full_name=full_name,
                sex=sex,
                site_code=site_code,
                unit=unit,
                position=localise_position(title, unit) if unit else title,
                phone=_draw_phone(rng, phones),
                birth_year=birth_year,
            )
        )

    for site in SITES if sites is None else sites:
        if site.kind == "host":
            for _ in range(rng.randint(*HOST_STAFF_RANGE)):
                title = host_staff.draw(rng)
                add(site.code, HOST_OFFICES.get(title), title)
        for commune in site.communes:
            few, many = DELEGATES_PER_COMMUNE
            size = many if rng.random() < FIVE_DELEGATE_SHARE else few
            add(site.code, commune, DIRECTOR)
            for _ in range(size - 1):
                add(site.code, commune, _STAFF.draw(rng))
    return out


def total_communes() -> int:
    return sum(len(s.communes) for s in SITES)
