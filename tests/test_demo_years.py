"""`trainer demo --year 2017|2026`: both provinces load, list their sites the way officials
do, map the 2017 units to the ones they became, and their reports add up (by sex too)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from trainer import demo_data, demo_data_2026
from trainer.auth.models import User
from trainer.extensions import db
from trainer.people.models import Participant
from trainer.reports import services as reports
from trainer.sessions.models import SessionStatus, Training, TrainingSession
from trainer.sites.models import Site, SiteKind, SiteLevel, Unit, UnitLevel
from trainer.sites.services import all_sites
from trainer.text import sort_key

SEXES = ("female", "male", "unspecified")


def _count(stmt: Any) -> int:
    return db.session.scalar(stmt) or 0


def _reports_add_up(admin: User) -> dict[str, Any]:
    """Every total of the live session's report and of the training's summary and coverage is
    the sum of its rows; every count of people is split by sex."""
    live = db.session.scalar(select(TrainingSession).where(
        TrainingSession.status == SessionStatus.LIVE))
    report = reports.session_report(admin, live.id)
    rows, totals = report["sites"], report["totals"]
    for key in ("registered", "present", "female", "male", "unspecified", "quiz_submitted",
                "quiz_passed", "certificates"):
        assert totals[key] == sum(r[key] for r in rows), key
    assert totals["present"] == sum(totals[s] for s in SEXES)
    for row in rows:
        assert row["present"] == sum(row[s] for s in SEXES), row["name"]

    training = db.session.scalar(select(Training))
    summary = reports.summary_report(admin, training_id=training.id)
    held = [s for s in summary["sessions"] if s["status"] != "scheduled"]
    assert len(held) < len(summary["sessions"])  # the session next week is listed ...
    assert summary["totals"]["sessions"] == len(held)  # ... but not summed
    assert summary["totals"]["registered"] == sum(s["registered"] for s in held)
    assert summary["totals"]["registered"] == sum(r["registered"] for r in summary["sites"])
    assert summary["totals"]["participants"] == sum(
        summary["totals"][f"participants_{s}"] for s in SEXES)

    coverage = reports.coverage_report(admin, training_id=training.id)
    cov = coverage["totals"]
    assert cov["units"] == sum(r["units"] for r in coverage["sites"])
    assert cov["reached"] == sum(r["reached"] for r in coverage["sites"])
    assert cov["reached"] + cov["not_reached"] == cov["units"]
    assert cov["participants_without_unit"] == 0  # provincial staff are no commune's
    return {"session": report, "summary": summary, "coverage": coverage}


def _people_look_like_the_field() -> None:
    people = list(db.session.scalars(select(Participant)))
    directors = [p for p in people if p.position == demo_data.DIRECTOR]
    teachers = [p for p in people if p.position == "Giáo viên"]
    seniors = [p for p in people if p.birth_year
               and demo_data.canonical_position(p.position) in demo_data.SENIOR_POSITIONS]
    women = lambda group: sum(p.sex.value == "female" for p in group) / len(group)  # noqa: E731
    assert women(directors) < 0.35 and women(teachers) > 0.6
    year = db.session.scalar(select(Training.year))
    assert sum(year - p.birth_year > 60 for p in seniors) / len(seniors) > 0.5
    host_staff = [p for p in people if p.unit_id is None]
    assert host_staff and {p.site.kind for p in host_staff} == {SiteKind.HOST}
    centres = set(db.session.scalars(select(Unit.centre_name)))
    assert all(c.startswith(("TTHTCĐ xã ", "TTHTCĐ phường ", "TTHTCĐ thị trấn ")) for c in centres)


def test_demo_2017_lists_districts_as_officials_do_and_adds_up(app: Any, runner: Any) -> None:
    result = runner.invoke(args=["demo", "--year", "2017"])
    assert result.exit_code == 0, result.output
    assert "Demo province (2017) loaded: 13 bridge points, 277 commune-level units" in result.output
    names = [s.name for s in all_sites()]
    assert names[:3] == ["Thành phố Việt Trì", "Thị xã Phú Thọ", "Huyện Cẩm Khê"]
    districts = names[2:]  # then the districts, by name, not by the word "Huyện"
    assert all(n.startswith("Huyện ") for n in districts) and len(districts) == 11
    assert districts == sorted(districts, key=lambda n: sort_key(n.removeprefix("Huyện ")))
    assert districts.index("Huyện Đoan Hùng") < districts.index("Huyện Hạ Hòa")  # đ after d
    assert {s.level for s in all_sites()} == {SiteLevel.DISTRICT}
    levels = Counter(db.session.scalars(select(Unit.level)))
    assert sum(levels.values()) == 277 and set(levels) == {UnitLevel.COMMUNE, UnitLevel.WARD,
                                                          UnitLevel.TOWN}
    town = db.session.scalar(select(Unit).where(Unit.name == "Thị trấn Hạ Hòa"))
    assert town.centre_name == "TTHTCĐ thị trấn Hạ Hòa" and town.successor_id is None
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    got = _reports_add_up(admin)
    assert got["coverage"]["totals"]["units"] == 277
    assert [r["name"] for r in got["coverage"]["sites"]][:2] == ["Thành phố Việt Trì",
                                                                 "Thị xã Phú Thọ"]
    _people_look_like_the_field()


def test_demo_2026_bridges_commune_level_units_and_maps_the_old_ones(app: Any,
                                                                    runner: Any) -> None:
    result = runner.invoke(args=["demo", "--year", "2026"])
    assert result.exit_code == 0, result.output
    assert "Demo province (2026) loaded: 149 bridge points, 148 commune-level units" in result.output
    sites = all_sites()
    host, bridges = sites[0], sites[1:]
    assert (host.kind, host.level, host.units) == (SiteKind.HOST, SiteLevel.PROVINCE, [])
    assert len(bridges) == 148 and {s.level for s in bridges} == {SiteLevel.COMMUNE}
    wards = [s for s in bridges if s.name.startswith("Phường ")]
    assert len(wards) == 15 and bridges[:15] == wards  # wards first, then communes
    assert [s.name for s in bridges[15:]] == sorted(
        (s.name for s in bridges[15:]), key=lambda n: next(b.sort_key for b in bridges
                                                           if b.name == n))
    current = list(db.session.scalars(select(Unit).where(Unit.ended_on.is_(None))))
    assert len(current) == 148
    assert {u.level for u in current} == {UnitLevel.WARD, UnitLevel.COMMUNE}
    for site in bridges:  # one bridge point per commune-level unit: itself
        assert [u.name for u in site.units if u.ended_on is None] == [site.name]

    # every 2017 unit is still found, under the unit it became
    for (code, old), new in demo_data_2026.LINEAGE.items():
        assert code in demo_data.SITES_BY_CODE
        became = db.session.scalar(select(Unit).where(Unit.name == new,
                                                      Unit.ended_on.is_(None)))
        if old != new:
            row = db.session.scalar(select(Unit).where(Unit.name == old,
                                                       Unit.successor_id == became.id))
            assert row is not None and row.ended_on.isoformat() == "2025-07-01", old
    hung_lo = db.session.scalar(select(Unit).where(Unit.name == "Xã Hùng Lô"))
    assert hung_lo.successor.name == "Phường Thanh Miếu"
    assert hung_lo.site.name == "Phường Thanh Miếu"

    admin = db.session.scalar(select(User).where(User.username == "admin"))
    got = _reports_add_up(admin)
    assert got["coverage"]["totals"]["units"] == 148  # former units are not counted again
    _people_look_like_the_field()


def test_coverage_counts_a_person_of_a_former_unit_for_the_unit_it_became(
        app: Any, make_site: Any, make_participant: Any, make_session: Any,
        make_user: Any) -> None:
    from datetime import date

    from trainer.dbtypes import utcnow
    from trainer.sessions.models import Checkin

    today = make_site(code="X-CAMKHE", name="Xã Cẩm Khê", units=("Xã Cẩm Khê",))
    new = today.units[0]
    old = Unit(site_id=today.id, name="Thị trấn Sông Thao", name_folded="thi tran song thao",
               ended_on=date(2025, 7, 1), successor_id=new.id)
    db.session.add(old)
    db.session.commit()
    assert (new.level, old.level) == (UnitLevel.COMMUNE, UnitLevel.TOWN)
    person = make_participant(site=today, full_name="Nguyễn Thị Hoa", sex="female")
    person.unit_id = old.id
    training = Training(title="Tập huấn", year=2026, lead_agency="Sở GD&ĐT",
                        topics=["management"])
    session = make_session([today], training=training)
    db.session.add(Checkin(session_id=session.id, participant_id=person.id, site_id=today.id,
                           at=utcnow(), method="search"))
    db.session.commit()
    cov = reports.coverage_report(make_user("admin"), training_id=training.id)
    assert cov["totals"]["units"] == 1  # the town is not counted beside the commune it joined
    assert (cov["totals"]["reached"], cov["totals"]["reached_with_women"]) == (1, 1)


def test_demo_year_is_checked(runner: Any) -> None:
    result = runner.invoke(args=["demo", "--year", "2020"])
    assert result.exit_code == 2
    assert "'2020' is not one of '2017', '2026'" in result.output
    assert _count(select(func.count()).select_from(Site)) == 0


@pytest.mark.parametrize("year", [2017, 2026])
def test_data_files_name_each_unit_once(year: int) -> None:
    from trainer.demo_province import province

    prov = province(year)
    units = [u for s in prov.sites for u in s.communes]
    assert len(units) == len(set(units))
    assert len({s.code for s in prov.sites}) == len(prov.sites)
    if year == 2026:
        assert len(units) == 148 and len(prov.lineage) == 277
        assert set(prov.lineage.values()) <= set(units)


def test_a_merged_unit_is_shown_with_what_it_became_and_not_counted(
        app: Any, make_site: Any, make_user: Any, login: Any, client: Any,
        api_as: Any) -> None:
    from datetime import date

    today = make_site(code="P-VIETTRI", name="Phường Việt Trì", units=("Phường Việt Trì",))
    db.session.add(Unit(site_id=today.id, name="Phường Tiên Cát", name_folded="phuong tien cat",
                        ended_on=date(2025, 7, 1), successor_id=today.units[0].id))
    db.session.commit()
    organiser = make_user("organiser")
    login(organiser)
    page = client.get(f"/sites/{today.id}").get_data(as_text=True)
    assert "Phường Tiên Cát" in page and "merged into Phường Việt Trì on 01/07/2025" in page
    index = client.get("/sites").get_data(as_text=True)
    assert '<td class="num">1</td>' in index  # the ward today, not its former ward
    api = api_as(organiser)
    units = api.get(f"/api/v1/sites/{today.id}/units").get_json()
    assert [u["name"] for u in units] == ["Phường Việt Trì"]
    site = next(s for s in api.get("/api/v1/sites").get_json()["items"]
                if s["code"] == "P-VIETTRI")
    assert (site["unit_count"], site["level"]) == (1, "commune")
    assert units[0]["level"] == "ward"
    assert "commune level" in index
