"""Scheduling fixtures: a small province (host, two bridge points, a site of another
province), accounts, people at their home sites, and a helper that schedules a session
through the service."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=VN)


def csv_bytes(rows: Sequence[Sequence[Any]]) -> bytes:
    import csv

    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def xlsx_bytes(rows: Sequence[Sequence[Any]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def province(app: Any, make_site: Any, make_user: Any, make_participant: Any) -> SimpleNamespace:
    host = make_site(code="VTR", name="Thành phố Việt Trì", kind="host", units=("Phường Gia Cẩm",))
    ckh = make_site(code="CKH", name="Huyện Cẩm Khê", units=("Xã Cát Trù", "Xã Tam Sơn"))
    hho = make_site(code="HHO", name="Huyện Hạ Hòa", units=("Xã Ấm Hạ",))
    yla = make_site(code="YLA", name="Huyện Yên Lập")  # of the province, not in the session
    other = make_site(code="BDI", name="Quận Ba Đình")  # another province's district
    organiser = make_user("organiser", username="organiser")
    admin = make_user("admin", username="admin")
    coord_ckh = make_user("coordinator", sites=[ckh], username="coord_ckh")
    coord_hho = make_user("coordinator", sites=[hho], username="coord_hho")
    coord_yla = make_user("coordinator", sites=[yla], username="coord_yla")
    people = SimpleNamespace(
        lan=make_participant(host, "Nguyễn Thị Lan", "female", unit="Phường Gia Cẩm"),
        ha=make_participant(ckh, "Trần Thị Hà", "female", unit="Xã Cát Trù", birth_year=1980),
        binh=make_participant(ckh, "Lê Văn Bình", "male", unit="Xã Cát Trù"),
        son=make_participant(ckh, "Phạm Văn Sơn", "male", unit="Xã Tam Sơn"),
        hoa=make_participant(hho, "Đỗ Thị Hoa", "female", unit="Xã Ấm Hạ"),
        xuan=make_participant(yla, "Hoàng Thị Xuân", "female"),
        tuan=make_participant(other, "Vũ Anh Tuấn", "male", birth_year=1975),
    )
    return SimpleNamespace(host=host, ckh=ckh, hho=hho, yla=yla, other=other,
                           organiser=organiser, admin=admin, coord_ckh=coord_ckh,
                           coord_hho=coord_hho, coord_yla=coord_yla, people=people)


@pytest.fixture
def schedule(province: SimpleNamespace) -> Callable[..., Any]:
    """schedule(**fields): a session created through the service by the organiser."""
    from trainer.sessions import services

    def make(**kw: Any) -> Any:
        agenda = kw.pop("agenda", None)
        data = {"title": "Tập huấn quản lý TTHTCĐ năm 2017",
                "starts_at": local(2030, 3, 1, 7, 30), "ends_at": local(2030, 3, 1, 11, 30),
                "host_site_id": province.host.id,
                "site_ids": [province.ckh.id, province.hho.id],
                "topics": ["management", "gender"],
                "conference_url": "https://meet.jit.si/TapHuan2017"}
        data.update(kw)
        return services.create_session(province.organiser, data, agenda=agenda)

    return make


@pytest.fixture
def english(client: Any) -> Any:
    """Pages in English, whatever the Vietnamese catalogue holds."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def later(days: int = 0, hours: int = 0) -> timedelta:
    return timedelta(days=days, hours=hours)
