"""Per-person records of a session (API.md: `attendance.xlsx` / `.csv`) and the printable
sign-in sheet of a site.

A row per person registered for the session or checked in to it: code, name, sex, birth year,
unit, site (where checked in, else where expected), present, check-in time, method, flags.
Coordinators get the rows of their own sites only (expected or checked in there).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask_babel import gettext
from sqlalchemy import and_, or_, select

from trainer.auth.models import User
from trainer.auth.services import require_site
from trainer.dbtypes import utcnow
from trainer.errors import NotFound
from trainer.extensions import db
from trainer.glossary import sex_label
from trainer.people.models import Participant
from trainer.reports import exports
from trainer.reports.exports import Column
from trainer.reports.session_reports import _session_info
from trainer.reports.settings import Letterhead
from trainer.reports.tallies import _session_for
from trainer.sessions.models import Checkin, Registration, SessionSite
from trainer.sites.models import Site
from trainer.spreadsheet import INT, TEXT, WHEN
from trainer.text import sort_key

YES, NO = "Có", "Không"
METHOD_VI = {"manual": "Bấm trên danh sách", "search": "Tìm theo tên", "code": "Gõ mã",
             "scan": "Máy quét mã", "camera": "Quét mã bằng camera", "walk_in": "Đến trực tiếp",
             "kiosk": "Máy tự điểm danh", "api": "Hệ thống khác"}
FLAG_VI = {"offline": "điểm danh khi mất mạng", "late_upload": "gửi muộn",
           "clock_skew": "giờ máy lệch", "after_end": "sau giờ kết thúc",
           "other_site_roster": "đăng ký ở điểm cầu khác", "not_registered": "chưa đăng ký"}

COLUMNS = (
    Column("code", "Mã học viên", "Code", TEXT, 12),
    Column("full_name", "Họ và tên", "Name", TEXT, 28),
    Column("sex", "Giới tính", "Sex", TEXT, 10),
    Column("birth_year", "Năm sinh", "Birth year", INT, 9),
    Column("unit", "Đơn vị", "Unit", TEXT, 26),
    Column("site", "Điểm cầu", "Site", TEXT, 24),
    Column("present", "Có mặt", "Present", TEXT, 8),
    Column("checked_in_at", "Giờ điểm danh", "Check-in time", WHEN, 17),
    Column("method", "Cách điểm danh", "Method", TEXT, 18),
    Column("flags", "Ghi chú", "Flags", TEXT, 30),
)


def attendance(actor: User | None, session_id: int) -> dict[str, Any]:
    """The rows (sorted by site, then the Vietnamese name order) and what they cover."""
    _user, session, scope = _session_for(actor, session_id)
    stmt = (
        select(Participant.id, Participant.code, Participant.full_name, Participant.sex,
               Participant.birth_year, Participant.unit, Participant.sort_key,
               Registration.site_id, Checkin.site_id, Checkin.at, Checkin.method, Checkin.flags)
        .select_from(Participant)
        .outerjoin(Registration, and_(Registration.participant_id == Participant.id,
                                      Registration.session_id == session.id))
        .outerjoin(Checkin, and_(Checkin.participant_id == Participant.id,
                                 Checkin.session_id == session.id))
        .where(or_(Registration.id.is_not(None), Checkin.id.is_not(None)))
    )
    if scope is not None:
        stmt = stmt.where(or_(Registration.site_id.in_(scope), Checkin.site_id.in_(scope)))
    found = db.session.execute(stmt).all()
    site_ids = {r[8] if r[8] is not None else r[7] for r in found}
    names: dict[int, str] = {
        site_id: name for site_id, name in
        db.session.execute(select(Site.id, Site.name).where(Site.id.in_(site_ids)))}
    keyed = []
    for pid, code, name, sex, born, unit, name_key, reg_site, c_site, c_at, method, flags in found:
        present = c_site is not None
        site_id = c_site if present else reg_site
        site = names.get(site_id, "")
        keyed.append(((site_id != session.host_site_id, sort_key(site), name_key or "", pid), {
            "code": code, "full_name": name, "sex": sex_label(sex.value),
            "birth_year": born, "unit": unit or "", "site": site, "site_id": site_id,
            "present": YES if present else NO, "checked_in_at": c_at if present else None,
            "method": METHOD_VI.get(method, method) if present else "",
            "flags": ", ".join(FLAG_VI.get(f, f) for f in (flags or [])) if present else "",
        }))
    keyed.sort(key=lambda pair: pair[0])
    rows = [row for _key, row in keyed]
    return {"session": _session_info(session), "rows": rows, "scope_site_ids": scope,
            "generated_at": utcnow()}


def attendance_csv(data: dict[str, Any], lang: str = "vi") -> bytes:
    """UTF-8 with a byte order mark; one header row in the chosen language."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.label(lang) for c in COLUMNS])
    for row in data["rows"]:
        writer.writerow([exports._csv_value(row.get(c.key), c.kind) for c in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def attendance_xlsx(data: dict[str, Any], lh: Letterhead, lang: str = "vi") -> bytes:
    """The per-person sheet, after a title sheet in the form of the department's documents."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Điểm danh" if lang != "en" else "Attendance"
    exports._table(ws, COLUMNS, data["rows"], lang, freeze="C2")
    ws.auto_filter.ref = f"A1:{ws.cell(row=1, column=len(COLUMNS)).column_letter}" \
                         f"{max(1, len(data['rows']) + 1)}"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    s = data["session"]
    present = sum(1 for r in data["rows"] if r["present"] == YES)
    t = exports._t
    exports.title_sheet(wb, lh, [t(f"Danh sách điểm danh: {s['title']}",
                                   f"Attendance: {s['title']}", lang)], [
        (t("Buổi tập huấn", "Session", lang), s["title"]),
        (t("Bắt đầu", "Starts", lang), s["starts_at"]),
        (t("Số người", "People", lang), len(data["rows"])),
        (t("Có mặt", "Present", lang), present),
        (t("Phạm vi", "Scope", lang), exports._scope_text(data["scope_site_ids"], lang)),
        (t("Lập lúc", "Generated", lang), data["generated_at"]),
    ], lang)
    return exports._save(wb, t(f"Điểm danh: {s['title']}", f"Attendance: {s['title']}", lang))


def signin_sheet(actor: User | None, session_id: int, site_id: int) -> dict[str, Any]:
    """The people expected at a site, for a paper sign-in sheet (the site's coordinators and
    staff only)."""
    _user, session, _scope = _session_for(actor, session_id)
    require_site(actor, site_id)
    site = db.session.scalar(
        select(Site).join(SessionSite, SessionSite.site_id == Site.id)
        .where(SessionSite.session_id == session.id, Site.id == site_id))
    if site is None:
        raise NotFound(gettext("This site does not take part in the session."))
    people = db.session.scalars(
        select(Participant).join(Registration, Registration.participant_id == Participant.id)
        .where(Registration.session_id == session.id, Registration.site_id == site_id)
        .order_by(Participant.sort_key, Participant.id)).all()
    return {"session": session, "site": site, "people": list(people)}
