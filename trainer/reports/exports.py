"""Report exports: the session report as CSV and XLSX (API.md: one row per site, then the
totals), and a training or year summary as XLSX.

- Headers in Vietnamese only, in the glossary's words; English headers only when English is
  asked for (`lang="en"`), never both.
- XLSX: a title sheet first ("Trang đầu"), laid out as the department's documents are (the
  header, the place-date line, "BÁO CÁO" and what it reports on, the signature block), then
  the data sheets.
- CSV: UTF-8 with a byte order mark, so Excel reads the Vietnamese right; numbers with a dot.
- XLSX: frozen header row (and the site columns), integer / percent / one-decimal formats,
  column widths; rates are stored as fractions with a percent format.
- A figure that cannot be computed (nothing to divide by) is "–".
- No formula injection: a text cell starting with =, +, -, @, tab or CR is written as text
  (CSV: prefixed with a single quote; XLSX: data type "s" and the quote-prefix style).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trainer.dbtypes import utcnow
from trainer.glossary import sex_label, term
from trainer.i18n import to_local
from trainer.reports.documents import MOTTO, NATIONAL_TITLE, place_date, upper
from trainer.reports.settings import Letterhead
from trainer.spreadsheet import DASH, DATE, DEC1, INT, PCT, TEXT, WHEN, safe_text
from trainer.spreadsheet import put as _put

STATUS = {
    "vi": {"draft": "Nháp", "open": "Đang mở", "closed": "Đã đóng", "scheduled": "Sắp diễn ra",
           "live": "Đang diễn ra", "ended": "Đã kết thúc"},
    "en": {"draft": "Draft", "open": "Open", "closed": "Closed", "scheduled": "Scheduled",
           "live": "Live", "ended": "Ended"},
}

@dataclass(frozen=True)
class Column:
    key: str
    vi: str
    en: str
    kind: str = INT
    width: float = 12

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


def _t(vi: str, en: str, lang: str) -> str:
    return en if lang == "en" else vi


UNSPEC = term("sex_unspecified", capital=True)
UNSPEC_EN = term("sex_unspecified", "en", capital=True)
COMMUNE = term("commune_level", capital=True)

SESSION_COLUMNS = (
    Column("code", "Mã điểm cầu", "Site code", TEXT, 12),
    Column("name", "Điểm cầu", "Site", TEXT, 30),
    Column("registered", "Đăng ký", "Registered", INT, 11),
    Column("present", "Có mặt", "Present", INT, 10),
    Column("attendance_percent", "Tỷ lệ có mặt", "Attendance rate", PCT, 13),
    Column("female", "Nữ", "Women", INT, 9),
    Column("male", "Nam", "Men", INT, 9),
    Column("unspecified", UNSPEC, UNSPEC_EN, INT, 10),
    Column("female_percent", "Tỷ lệ nữ", "Share of women", PCT, 13),
    Column("quiz_submitted", "Nộp bài kiểm tra", "Quiz submitted", INT, 15),
    Column("quiz_passed", "Đạt", "Passed", INT, 9),
    Column("quiz_mean_percent", "Điểm trung bình (%)", "Mean score (%)", DEC1, 17),
    # Every count of people by sex, after the columns API.md lists.
    *[Column(f"by_sex.{key}.{sex}", f"{vi}: {sex_label(sex).lower()}",
             f"{en}: {sex_label(sex, 'en').lower()}", INT, 10)
      for key, vi, en in (("registered", "Đăng ký", "Registered"),
                          ("quiz_submitted", "Nộp bài", "Submitted"),
                          ("quiz_passed", "Đạt", "Passed"))
      for sex in ("female", "male", "unspecified")],
)


def _get(row: dict[str, Any], key: str) -> Any:
    """A row's value; "by_sex.registered.female" reads into the nested split."""
    value: Any = row
    for part in key.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


# Sessions on trainer's own video room: each bridge point's attendance on the call.
CONFERENCE_COLUMNS = (
    Column("conference_first_joined_at", "Vào phòng họp lúc", "First joined the video room",
           WHEN, 17),
    Column("conference_minutes", "Số phút trực tuyến", "Minutes connected", INT, 14),
    Column("conference_drops", "Số lần mất kết nối", "Drops", INT, 14),
)


def session_columns(report: dict[str, Any]) -> tuple[Column, ...]:
    builtin = report.get("conference") == "builtin"
    return SESSION_COLUMNS + (CONFERENCE_COLUMNS if builtin else ())


def _csv_value(value: Any, kind: str) -> str:
    if value is None:
        return DASH if kind in (PCT, DEC1) else ""
    if kind == TEXT:
        return safe_text(str(value))
    if kind in (PCT, DEC1):
        return f"{float(value):.1f}"
    if isinstance(value, datetime):
        return to_local(value).strftime("%d/%m/%Y %H:%M")
    return str(value)


def _totals_row(totals: dict[str, Any], lang: str = "vi") -> dict[str, Any]:
    return {**totals, "code": "", "name": term("total", lang, capital=True)}


def session_csv(report: dict[str, Any], lang: str = "vi") -> bytes:
    """One row per site, then the totals; UTF-8 with BOM."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = session_columns(report)
    writer.writerow([c.label(lang) for c in columns])
    for row in [*report["sites"], _totals_row(report["totals"], lang)]:
        writer.writerow([_csv_value(_get(row, c.key), c.kind) for c in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --------------------------------------------------------------------------- XLSX

def _header(ws: Any, columns: Sequence[Column], lang: str) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    fill = PatternFill("solid", fgColor="E6EEF7")
    line = Side(style="thin", color="9AA5B5")
    for col, column in enumerate(columns, start=1):
        cell = _put(ws, 1, col, column.label(lang))
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.border = Border(bottom=line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(col)].width = column.width


def _table(ws: Any, columns: Sequence[Column], rows: Iterable[dict[str, Any]], lang: str,
           totals: dict[str, Any] | None = None, freeze: str = "A2") -> int:
    """The header row, the rows, then a bold totals row; returns the last row written."""
    from openpyxl.styles import Border, Font, Side

    _header(ws, columns, lang)
    r = 1
    for r, row in enumerate(rows, start=2):
        for col, column in enumerate(columns, start=1):
            _put(ws, r, col, _get(row, column.key), column.kind)
    if totals is not None:
        r += 1
        top = Side(style="thin", color="1D2430")
        for col, column in enumerate(columns, start=1):
            cell = _put(ws, r, col, _get(totals, column.key), column.kind)
            cell.font = Font(bold=True)
            cell.border = Border(top=top)
    ws.freeze_panes = freeze
    return r


def title_sheet(wb: Any, lh: Letterhead, title: Sequence[str],
                lines: Sequence[tuple[str, Any]], lang: str = "vi") -> Any:
    """The first sheet, in the form of the department's documents: the header (agency on
    the left, national title on the right), the place-date line, "BÁO CÁO" and what it
    reports on, what the workbook holds, then the signature block."""
    from openpyxl.styles import Alignment, Font

    ws = wb.create_sheet(_t("Trang đầu", "Title", lang), 0)
    for col, width in zip("ABCDEF", (22, 22, 8, 22, 22, 22), strict=True):
        ws.column_dimensions[col].width = width
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)

    def merged(row: int, first: str, last: str, value: Any, bold: bool = False,
               italic: bool = False, size: float = 12, underline: bool = False) -> None:
        ws.merge_cells(f"{first}{row}:{last}{row}")
        cell = _put(ws, row, ord(first) - 64, value)
        cell.font = Font(bold=bold, italic=italic, size=size,
                         underline="single" if underline else None)
        cell.alignment = centre

    merged(1, "A", "B", upper(lh.parent_agency))
    merged(2, "A", "B", upper(lh.issuing_agency), bold=True, underline=True)
    merged(1, "D", "F", NATIONAL_TITLE[lang], bold=True)
    merged(2, "D", "F", MOTTO[lang], bold=True, underline=True)
    merged(4, "D", "F", place_date(lh.place_name, utcnow(), lang), italic=True)
    merged(6, "A", "F", _t("BÁO CÁO", "REPORT", lang), bold=True, size=14)
    row = 7
    for line in title:
        merged(row, "A", "F", line, bold=True)
        ws.row_dimensions[row].height = 16 * (1 + len(line) // 90)  # merged cells do not grow
        row += 1
    row += 1
    for label, value in lines:
        ws.merge_cells(f"B{row}:F{row}")
        _put(ws, row, 1, label).font = Font(bold=True)
        _put(ws, row, 2, value).alignment = Alignment(wrap_text=True)
        if isinstance(value, str):
            ws.row_dimensions[row].height = 15 * (1 + len(value) // 95)
        row += 1
    row += 1
    for words in (lh.signer_authority, lh.signer_title):
        if words:
            merged(row, "D", "F", upper(words), bold=True)
            row += 1
    row += 4  # room for the signature and the seal
    merged(row, "D", "F", lh.signer_name, bold=True)
    ws.sheet_view.showGridLines = False
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    return ws


GENDER_LABELS = {
    "registered": ("Đăng ký", "Registered"),
    "visits": ("Lượt học viên", "Participant-visits"),
    "participants": ("Số học viên", "Participants"),
    "participant_share_percent": ("Tỷ trọng trong số học viên", "Share of participants"),
    "attendance_percent": ("Tỷ lệ có mặt", "Attendance rate"),
    "submitted": ("Nộp bài kiểm tra", "Quiz submitted"),
    "completion_percent": ("Tỷ lệ hoàn thành", "Completion rate"),
    "passed": ("Đạt", "Passed"),
    "pass_percent": ("Tỷ lệ đạt", "Pass rate"),
    "mean_percent": ("Điểm trung bình (%)", "Mean score (%)"),
}

GENDER_COLUMNS = (
    Column("label", "Chỉ số", "Indicator", TEXT, 34),
    Column("female", "Nữ", "Women", INT, 11),
    Column("male", "Nam", "Men", INT, 11),
    Column("unspecified", UNSPEC, UNSPEC_EN, INT, 14),
    Column("total", "Tổng", "Total", INT, 11),
    Column("gap", "Chênh lệch (nữ − nam)", "Gap (women − men)", DEC1, 20),
    Column("ratio", "Tỷ số nữ/nam", "Ratio women/men", DEC1, 16),
)


def _gender_sheet(wb: Any, indicators: Sequence[dict[str, Any]], lang: str) -> None:
    from openpyxl.styles import Font

    ws = wb.create_sheet(_t("Theo giới tính", "By sex", lang))
    _header(ws, GENDER_COLUMNS, lang)
    for r, ind in enumerate(indicators, start=2):
        vi, en = GENDER_LABELS[ind["key"]]
        kind = {"count": INT, "percent": PCT, "score": DEC1}[ind["kind"]]
        _put(ws, r, 1, _t(vi, en, lang))
        for col, key in enumerate(("female", "male", "unspecified", "total"), start=2):
            _put(ws, r, col, ind[key], kind)
        # The gap: persons for counts, percentage points for rates, points for scores.
        gap = _put(ws, r, 6, ind["gap"], DEC1 if kind != INT else INT)
        if ind["gap"] is not None and kind != INT:
            gap.number_format = '+0.0;-0.0;0.0'
        elif ind["gap"] is not None:
            gap.number_format = '+#,##0;-#,##0;0'
        ratio = _put(ws, r, 7, ind["ratio"], DEC1)
        if ind["ratio"] is not None:
            ratio.number_format = "0.00"
    note = _put(ws, len(indicators) + 3, 1, _t(
        "Chênh lệch: số người (số đếm), điểm phần trăm (tỷ lệ)",
        "Gap: persons for counts, percentage points for rates", lang))
    note.font = Font(italic=True, color="5B6574", size=9)
    ws.freeze_panes = "B2"


def _save(wb: Any, title: str) -> bytes:
    wb.properties.title = title[:250]
    wb.properties.creator = "trainer"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _scope_text(scope: Sequence[int] | None, lang: str) -> str:
    if scope is None:
        return _t("Tất cả điểm cầu", "All sites", lang)
    return _t("Các điểm cầu của người lập", "The requester's sites only", lang)


def _landscape(ws: Any) -> None:
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def session_xlsx(report: dict[str, Any], lh: Letterhead, lang: str = "vi") -> bytes:
    """Sheets: the title sheet, the per-site table with totals, the gender view."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = _t("Theo điểm cầu", "By site", lang)
    _table(ws, session_columns(report), report["sites"], lang, _totals_row(report["totals"], lang),
           freeze="C2")
    _landscape(ws)
    _gender_sheet(wb, report["gender"], lang)
    s, quiz = report["session"], report["quiz"]
    pass_mark = f"{quiz['pass_percent']:g}%" if quiz else ""
    title_sheet(wb, lh, [_t(f"Kết quả buổi tập huấn: {s['title']}",
                            f"Results of the training session: {s['title']}", lang)], [
        (_t("Buổi tập huấn", "Session", lang), s["title"]),
        (_t("Chương trình", "Training", lang), s["training_title"] or DASH),
        (_t("Bắt đầu", "Starts", lang), s["starts_at"]),
        (_t("Trạng thái", "Status", lang), STATUS[lang].get(s["status"], s["status"])),
        (_t("Bài kiểm tra", "Quiz", lang),
         _t(f"{quiz['title']} (đạt từ {pass_mark})", f"{quiz['title']} (pass mark "
            f"{pass_mark})", lang) if quiz else DASH),
        (_t("Phạm vi", "Scope", lang), _scope_text(report["scope_site_ids"], lang)),
        (_t("Lập lúc", "Generated", lang), report["generated_at"]),
    ], lang)
    return _save(wb, _t(f"Báo cáo: {s['title']}", f"Report: {s['title']}", lang))


SUMMARY_SESSION_COLUMNS = (
    Column("starts_at", "Ngày", "Date", DATE, 12),
    Column("title", "Buổi tập huấn", "Session", TEXT, 40),
    Column("registered", "Đăng ký", "Registered", INT, 11),
    Column("present", "Có mặt", "Present", INT, 10),
    Column("attendance_percent", "Tỷ lệ có mặt", "Attendance rate", PCT, 13),
    Column("female", "Nữ", "Women", INT, 9),
    Column("male", "Nam", "Men", INT, 9),
    Column("unspecified", UNSPEC, UNSPEC_EN, INT, 10),
    Column("quiz_submitted", "Nộp bài", "Quiz submitted", INT, 12),
    Column("quiz_passed", "Đạt", "Passed", INT, 9),
    Column("quiz_mean_percent", "Điểm trung bình (%)", "Mean score (%)", DEC1, 17),
)

PEOPLE_COLUMNS = (
    Column("visits", "Lượt học viên", "Participant-visits", INT, 13),
    Column("participants", "Số học viên", "Participants", INT, 11),
    Column("participants_female", "Nữ", "Women", INT, 9),
    Column("participants_male", "Nam", "Men", INT, 9),
    Column("participants_unspecified", UNSPEC, UNSPEC_EN, INT, 10),
    Column("participants_female_percent", "Tỷ lệ nữ", "Share of women", PCT, 12),
)

SUMMARY_SITE_COLUMNS = (
    Column("code", "Mã điểm cầu", "Site code", TEXT, 12),
    Column("name", "Điểm cầu", "Site", TEXT, 30),
    Column("registered", "Đăng ký", "Registered", INT, 11),
    *PEOPLE_COLUMNS,
    Column("quiz_submitted", "Nộp bài", "Quiz submitted", INT, 12),
    Column("quiz_passed", "Đạt", "Passed", INT, 9),
)

SUMMARY_UNIT_COLUMNS = (
    Column("site_name", "Điểm cầu", "Site", TEXT, 26),
    Column("name", COMMUNE, "Commune, ward or town", TEXT, 28),
    Column("centre_name", "Trung tâm học tập cộng đồng", "Centre", TEXT, 36),
    *PEOPLE_COLUMNS,
)

COVERAGE_COLUMNS = (
    Column("code", "Mã điểm cầu", "Site code", TEXT, 12),
    Column("name", "Điểm cầu", "Site", TEXT, 30),
    Column("units", f"Số {term('commune_level')}", "Communes, wards and towns", INT, 18),
    Column("reached", "Đã có học viên tham dự", "Reached", INT, 18),
    Column("reached_percent", "Tỷ lệ", "Share reached", PCT, 11),
    Column("reached_with_women", "Có nữ tham dự", "Reached with women", INT, 16),
)

UNREACHED_COLUMNS = (
    Column("site_name", "Điểm cầu", "Site", TEXT, 28),
    Column("name", COMMUNE, "Commune, ward or town", TEXT, 30),
    Column("centre_name", "Trung tâm học tập cộng đồng", "Centre", TEXT, 40),
)


def summary_xlsx(summary: dict[str, Any], coverage: dict[str, Any], lh: Letterhead,
                 lang: str = "vi") -> bytes:
    """A training's or a year's summary: the title sheet, then sessions, sites, communes,
    coverage and the gender view."""
    from openpyxl import Workbook

    total = term("total", lang, capital=True)
    wb = Workbook()
    ws = wb.active
    ws.title = _t("Theo buổi", "By session", lang)
    totals = summary["totals"]
    _table(ws, SUMMARY_SESSION_COLUMNS, summary["sessions"], lang,
           {"title": total, "registered": totals["registered"],
            "present": totals["visits"], "attendance_percent": totals["attendance_percent"],
            "female": totals["visits_female"], "male": totals["visits_male"],
            "unspecified": totals["visits_unspecified"],
            "quiz_submitted": totals["quiz_submitted"], "quiz_passed": totals["quiz_passed"],
            "quiz_mean_percent": totals["quiz_mean_percent"]}, freeze="C2")
    _table(wb.create_sheet(_t("Theo điểm cầu", "By site", lang)), SUMMARY_SITE_COLUMNS,
           summary["sites"], lang,
           {"name": _t("Tổng cộng (số người khác nhau)", "Total (distinct people)", lang), **{
               k: totals[k] for k in ("registered", "visits", "participants",
                                      "participants_female", "participants_male",
                                      "participants_unspecified",
                                      "participants_female_percent", "quiz_submitted",
                                      "quiz_passed")}}, freeze="C2")
    units = [{**u, "name": u["name"] or _t("(chưa ghi xã, phường, thị trấn)", "(not recorded)",
                                           lang)}
             for u in summary["units"]]
    _table(wb.create_sheet(_t("Theo xã, phường, thị trấn", "By commune", lang)),
           SUMMARY_UNIT_COLUMNS, units, lang, None, freeze="C2")
    _table(wb.create_sheet(_t("Độ phủ", "Coverage", lang)), COVERAGE_COLUMNS,
           coverage["sites"], lang, {"name": total, **coverage["totals"]}, freeze="C2")
    unreached = [{**u, "site_name": s["name"]} for s in coverage["sites"]
                 for u in s["not_reached"]]
    _table(wb.create_sheet(_t("Chưa tiếp cận", "Not reached", lang)), UNREACHED_COLUMNS,
           unreached, lang, None, freeze="A2")
    _gender_sheet(wb, summary["gender"], lang)
    what = (summary["training_title"] if summary["kind"] == "training"
            else _t(f"Năm {summary['year']}", f"Year {summary['year']}", lang))
    title_sheet(wb, lh, [_t(f"Tổng hợp kết quả tập huấn: {what}",
                            f"Summary of the training: {what}", lang)], [
        (_t("Báo cáo", "Report", lang), what),
        (_t("Số buổi", "Sessions", lang), str(len(summary["sessions"]))),
        (_t("Phạm vi", "Scope", lang), _scope_text(summary["scope_site_ids"], lang)),
        (_t("Lập lúc", "Generated", lang), summary["generated_at"]),
    ], lang)
    return _save(wb, _t(f"Báo cáo tổng hợp: {what}", f"Summary report: {what}", lang))


def headers(lang: str = "vi") -> list[str]:
    """Every column header of the report exports (for the glossary check)."""
    columns = (SESSION_COLUMNS, GENDER_COLUMNS, SUMMARY_SESSION_COLUMNS, SUMMARY_SITE_COLUMNS,
               SUMMARY_UNIT_COLUMNS, COVERAGE_COLUMNS, UNREACHED_COLUMNS)
    labels = [c.label(lang) for group in columns for c in group]
    labels += [_t(vi, en, lang) for vi, en in GENDER_LABELS.values()]
    return labels
