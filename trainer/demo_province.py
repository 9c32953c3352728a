"""The two demo provinces `trainer demo --year` offers: Phú Thọ in 2017 (13 district bridge
points over 277 communes) and the new Phú Thọ today (148 commune-level bridge points directly
under the province, with the map from the 2017 units to the ones they became)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from trainer import demo_data, demo_data_2026
from trainer.demo_data import PersonSpec, SiteSpec
from trainer.sites.models import SiteLevel

YEARS = (2017, 2026)


@dataclass(frozen=True)
class Province:
    year: int
    sites: Sequence[SiteSpec]
    chairs: Mapping[str, str]
    chair_title: Callable[[SiteSpec], str]
    people: Callable[[], list[PersonSpec]]
    lead_agency: str
    partners: tuple[str, ...]
    host_level: SiteLevel
    bridge_level: SiteLevel
    training_title: str
    description: str
    conference_url: str
    # For the live demo session: sites not started yet, one with a problem, one without quiz.
    not_started: tuple[str, ...]
    with_problem: str
    not_taken: tuple[str, ...]
    # 2017 unit (site code, name) -> the unit it became, and the day it did.
    lineage: Mapping[tuple[str, str], str] = field(default_factory=dict)
    ended_on: date | None = None
    # Sites given a coordinator account (None: all). Today's 148 sites get a sample: each
    # account costs a password hash, and more are added with `trainer create-user`.
    coordinated: frozenset[str] | None = None

    @property
    def host(self) -> SiteSpec:
        return next(s for s in self.sites if s.kind == "host")


def _p2017() -> Province:
    return Province(
        year=2017, sites=demo_data.SITES, chairs=demo_data.CHAIRS,
        chair_title=demo_data.chair_title, people=demo_data.people,
        lead_agency=demo_data.LEAD_AGENCY, partners=demo_data.PARTNERS,
        host_level=SiteLevel.DISTRICT, bridge_level=SiteLevel.DISTRICT,
        training_title=("Tập huấn quản lý, điều hành Trung tâm học tập cộng đồng và lồng ghép "
                        "bình đẳng giới năm 2017"),
        description=(
            "Hội nghị tập huấn trực tuyến do Sở Giáo dục và Đào tạo phối hợp với Hội Khuyến học "
            "tỉnh và Hội Liên hiệp Phụ nữ tỉnh tổ chức cho cán bộ quản lý, giáo viên và cộng "
            "tác viên các Trung tâm học tập cộng đồng (TTHTCĐ) tại 13 điểm cầu huyện, thành, "
            "thị.\nNội dung: nâng cao năng lực quản lý, điều hành TTHTCĐ theo Quy chế tổ chức và "
            "hoạt động của TTHTCĐ; Luật Bình đẳng giới và cách lồng ghép bình đẳng giới vào hoạt "
            "động của Trung tâm."),
        conference_url="https://meet.jit.si/TapHuanTTHTCD-PhuTho-2017",
        not_started=("YLA", "TSO"), with_problem="TSN", not_taken=("PTH",))


def _p2026() -> Province:
    d = demo_data_2026
    return Province(
        year=2026, sites=d.SITES, chairs=d.CHAIRS, chair_title=d.chair_title,
        people=d.people, lead_agency=d.LEAD_AGENCY, partners=d.PARTNERS,
        host_level=SiteLevel.PROVINCE, bridge_level=SiteLevel.COMMUNE,
        training_title=("Tập huấn quản lý, điều hành Trung tâm học tập cộng đồng và lồng ghép "
                        "bình đẳng giới năm 2026"),
        description=(
            "Hội nghị tập huấn trực tuyến do Sở Giáo dục và Đào tạo phối hợp với Hội Khuyến học "
            "tỉnh và Hội Liên hiệp Phụ nữ tỉnh tổ chức cho cán bộ quản lý, giáo viên và cộng "
            f"tác viên các TTHTCĐ tại {len(d.UNITS)} điểm cầu xã, phường (đơn vị hành chính "
            "cấp xã trực thuộc tỉnh).\nNội dung: quản lý, điều hành TTHTCĐ sau khi sắp xếp đơn "
            "vị hành chính; Luật Bình đẳng giới và cách lồng ghép bình đẳng giới vào hoạt động "
            "của Trung tâm."),
        conference_url="https://meet.jit.si/TapHuanTTHTCD-PhuTho-2026",
        not_started=("X-MAICHAU", "X-PACO"), with_problem="X-DABAC", not_taken=("P-PHUTHO",),
        lineage=d.LINEAGE, ended_on=d.REFORM_DATE,
        coordinated=frozenset([s.code for s in d.SITES[:13]]
                              + ["X-MAICHAU", "X-PACO", "X-DABAC", "P-PHUTHO"]))


def province(year: int = 2017) -> Province:
    if year == 2026:
        return _p2026()
    if year == 2017:
        return _p2017()
    raise ValueError(f"no demo province for {year}: choose one of {YEARS}")
