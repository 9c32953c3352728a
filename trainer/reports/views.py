"""Pages and downloads of the reports: index, session report (printable), training / year
summary, coverage, gender view, certificates; CSV / XLSX / PDF downloads; the public
certificate verification page.

Downloads outside /api/v1 accept the session cookie or a bearer token (Flask-Login's request
loader reads the token); the services check who may see what.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext, pgettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from trainer.auth.services import require_admin
from trainer.errors import Invalid, NotFound
from trainer.extensions import db
from trainer.i18n import to_local
from trainer.offload import off_loop
from trainer.reports import attendance, choosing, exports, issuing, pdfreports, services, settings
from trainer.reports import certificates as pdf
from trainer.sessions.models import Training

bp = Blueprint("reports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BLANK_ROWS = 8  # for walk-ins on the sign-in sheet

INDICATOR_LABELS: dict[str, Any] = {
    "registered": _l("Registered"),
    "visits": _l("Participant-visits (check-ins)"),
    "participants": _l("Participants (people)"),
    "participant_share_percent": _l("Share of participants"),
    "attendance_percent": _l("Attendance rate (present / registered)"),
    "submitted": _l("Quiz submitted"),
    "completion_percent": _l("Completion rate (submitted / present where a quiz was held)"),
    "passed": _l("Passed the quiz"),
    "pass_percent": _l("Pass rate (passed / submitted)"),
    "mean_percent": _l("Mean score"),
}


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise Invalid.field(name, gettext("Not a valid whole number."))
    return int(value)


def _language() -> str:
    """Documents and exports are in Vietnamese; English only when asked for (?language=en)."""
    return "en" if request.args.get("language") == "en" else "vi"


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    ascii_name = filename.encode("ascii", "ignore").decode() or "report"
    # content_type, not mimetype: Werkzeug adds "; charset=utf-8" to a text/* mimetype again.
    return Response(data, content_type=mimetype, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; "
                               f"filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "private, no-store",
    })


@bp.app_template_filter("rp_number")
def rp_number(value: float | int | None, digits: int = 0) -> str:
    """As the `number` filter (grouped thousands, the locale's separators, "–" for None), for
    tables of a thousand rows: the separators are looked up once per request."""
    if value is None:
        return "–"
    seps = getattr(g, "_rp_separators", None)
    if seps is None:
        from babel.numbers import get_decimal_symbol, get_group_symbol
        from flask_babel import get_locale

        locale = get_locale() or "vi"
        seps = g._rp_separators = str.maketrans({",": get_group_symbol(locale),
                                                 ".": get_decimal_symbol(locale)})
    return f"{value:,.{int(digits)}f}".translate(seps)


def _labels() -> dict[str, Any]:
    # "pts" is translated here, not in the template: Jinja's gettext %-formats every message,
    # so a translation holding a bare "%" ("điểm %") would break the page there.
    return {"indicators": INDICATOR_LABELS, "points": pgettext("percentage points", "pts")}


@bp.app_template_global("doc_place_date")
def doc_place_date(place: str) -> str:
    """The place-date line of a printed report: "Phú Thọ, ngày 07 tháng 12 năm 2026"."""
    from trainer.dbtypes import utcnow
    from trainer.reports.documents import place_date

    return place_date(place, utcnow())


@bp.app_template_global("report_links")
def report_links(session: Any) -> dict[str, str] | None:
    """Links for templates/reports/_session_panel.html (None for anonymous visitors)."""
    if not getattr(current_user, "is_authenticated", False):
        return None
    sid = int(session.id)
    return {
        "report": url_for("reports.session", session_id=sid),
        "xlsx": url_for("reports.session_xlsx", session_id=sid),
        "csv": url_for("reports.session_csv", session_id=sid),
        "gender": url_for("reports.gender", session_id=sid),
        "certificates": url_for("reports.certificates", session_id=sid),
        "attendance_xlsx": url_for("reports.attendance_xlsx", session_id=sid),
        "attendance_csv": url_for("reports.attendance_csv", session_id=sid),
    }


# --------------------------------------------------------------------------- index

@bp.get("/reports")
@login_required
def index() -> Any:
    """Pick a session, a training or a year (plain GET forms; they land here and go on)."""
    session_id, training_id = _int_arg("session_id"), _int_arg("training_id")
    year = _int_arg("year")
    if session_id is not None:
        return redirect(url_for("reports.session", session_id=session_id))
    if training_id is not None:
        return redirect(url_for("reports.training", training_id=training_id))
    if year is not None:
        return redirect(url_for("reports.year", year=services.check_year(year)))
    choices = services.report_choices(current_user)
    return render_template("reports/index.html", **choices,
                           default_session=choosing.default_session(choices["sessions"]))


def _chooser(endpoint: str, title: str, with_sessions: bool) -> Any:
    """The coverage and gender pages before anything is chosen: what they can show."""
    choices = services.report_choices(current_user)
    return render_template("reports/choose.html", endpoint=endpoint, title=title,
                           sessions=choices["sessions"] if with_sessions else [],
                           trainings=choices["trainings"], years=choices["years"],
                           default_session=choosing.default_session(choices["sessions"]))


# --------------------------------------------------------------------------- session

@bp.get("/reports/sessions/<int:session_id>")
@login_required
def session(session_id: int) -> Any:
    report = services.session_report(current_user, session_id, _int_arg("quiz_id"))
    widest = max((r["present"] for r in report["sites"]), default=0)
    lh = _letterhead(report["session"]["training_id"])
    return render_template("reports/session.html", report=report, widest=widest,
                           labels=_labels(), quiz_arg=request.args.get("quiz_id") or None,
                           letterhead=lh)


def _letterhead(training_id: int | None) -> settings.Letterhead:
    """Who issues and signs a document about this training (or the defaults)."""
    return settings.letterhead(db.session.get(Training, training_id) if training_id else None)


def _session_export(session_id: int) -> tuple[dict[str, Any], str]:
    report = services.session_report(current_user, session_id, _int_arg("quiz_id"))
    date = to_local(report["session"]["starts_at"]).strftime("%Y-%m-%d")
    return report, f"bao-cao-buoi-{session_id}-{date}"


@bp.get("/sessions/<int:session_id>/report.xlsx")
@login_required
def session_xlsx(session_id: int) -> Response:
    report, name = _session_export(session_id)
    lh = _letterhead(report["session"]["training_id"])
    return _download(off_loop(exports.session_xlsx, report, lh, _language()), XLSX,
                     f"{name}.xlsx")


@bp.get("/sessions/<int:session_id>/report.pdf")
@login_required
def session_pdf(session_id: int) -> Response:
    report, name = _session_export(session_id)
    lh = _letterhead(report["session"]["training_id"])
    return _download(off_loop(pdfreports.session_pdf, report, lh), "application/pdf",
                     f"{name}.pdf")


@bp.get("/sessions/<int:session_id>/report.csv")
@login_required
def session_csv(session_id: int) -> Response:
    report, name = _session_export(session_id)
    return _download(off_loop(exports.session_csv, report, _language()), "text/csv; charset=utf-8",
                     f"{name}.csv")


def _attendance_export(session_id: int) -> tuple[dict[str, Any], str]:
    data = attendance.attendance(current_user, session_id)
    date = to_local(data["session"]["starts_at"]).strftime("%Y-%m-%d")
    return data, f"diem-danh-{session_id}-{date}"


@bp.get("/sessions/<int:session_id>/attendance.xlsx")
@login_required
def attendance_xlsx(session_id: int) -> Response:
    data, name = _attendance_export(session_id)
    lh = _letterhead(data["session"]["training_id"])
    return _download(off_loop(attendance.attendance_xlsx, data, lh, _language()), XLSX,
                     f"{name}.xlsx")


@bp.get("/sessions/<int:session_id>/attendance.csv")
@login_required
def attendance_csv(session_id: int) -> Response:
    data, name = _attendance_export(session_id)
    return _download(off_loop(attendance.attendance_csv, data, _language()),
                     "text/csv; charset=utf-8", f"{name}.csv")


@bp.get("/sessions/<int:session_id>/sites/<int:site_id>/sign-in-sheet")
@login_required
def signin_sheet(session_id: int, site_id: int) -> Any:
    """A printable A4 list of the people expected at a site, to sign on paper."""
    sheet = attendance.signin_sheet(current_user, session_id, site_id)
    return render_template("reports/signin_sheet.html", **sheet, blank_rows=BLANK_ROWS)


# --------------------------------------------------------------------------- summaries

def _summary_page(training_id: int | None, year: int | None) -> Any:
    summary = services.summary_report(current_user, training_id=training_id, year=year)
    coverage = services.coverage_report(current_user, training_id=training_id, year=year)
    lh = _letterhead(training_id)
    return render_template("reports/summary.html", summary=summary, coverage=coverage,
                           labels=_labels(), letterhead=lh)


@bp.get("/reports/trainings/<int:training_id>")
@login_required
def training(training_id: int) -> Any:
    return _summary_page(training_id, None)


@bp.get("/reports/years/<int:year>")
@login_required
def year(year: int) -> Any:
    return _summary_page(None, services.check_year(year))


def _summary_file(training_id: int | None, year: int | None, name: str) -> Response:
    summary = services.summary_report(current_user, training_id=training_id, year=year)
    coverage = services.coverage_report(current_user, training_id=training_id, year=year)
    lh = _letterhead(training_id)
    if name.endswith(".pdf"):
        return _download(off_loop(pdfreports.summary_pdf, summary, coverage, lh),
                         "application/pdf", name)
    return _download(off_loop(exports.summary_xlsx, summary, coverage, lh, _language()),
                     XLSX, name)


@bp.get("/reports/trainings/<int:training_id>/report.<any(xlsx, pdf):ext>")
@login_required
def training_file(training_id: int, ext: str) -> Response:
    return _summary_file(training_id, None, f"bao-cao-chuong-trinh-{training_id}.{ext}")


@bp.get("/reports/years/<int:year>/report.<any(xlsx, pdf):ext>")
@login_required
def year_file(year: int, ext: str) -> Response:
    return _summary_file(None, services.check_year(year), f"bao-cao-nam-{year}.{ext}")


def _which() -> tuple[int | None, int | None]:
    training_id, year = _int_arg("training_id"), _int_arg("year")
    if year is not None:
        year = services.check_year(year)
    return training_id, year


@bp.get("/reports/coverage")
@login_required
def coverage() -> Any:
    training_id, year = _which()
    if choosing.nothing_chosen(training_id, year):
        return _chooser("reports.coverage", gettext("Coverage of the communes"), False)
    report = services.coverage_report(current_user, training_id=training_id, year=year)
    return render_template("reports/coverage.html", coverage=report)


@bp.get("/reports/gender")
@login_required
def gender() -> Any:
    training_id, year = _which()
    session_id = _int_arg("session_id")
    if choosing.nothing_chosen(session_id, training_id, year):
        return _chooser("reports.gender", gettext("Gender view"), True)
    report = services.gender_report(current_user, session_id=session_id,
                                    training_id=training_id, year=year,
                                    quiz_id=_int_arg("quiz_id"))
    return render_template("reports/gender.html", report=report, labels=_labels())


# --------------------------------------------------------------------------- certificates

@bp.get("/reports/sessions/<int:session_id>/certificates")
@login_required
def certificates(session_id: int) -> Any:
    """Without site_id: certificates due per site; with it: the people of that site."""
    site_id, quiz_id = _int_arg("site_id"), _int_arg("quiz_id")
    report = services.session_report(current_user, session_id, quiz_id)
    people, site = None, None
    if site_id is not None:
        _s, _q, people = issuing.eligible_at_site(current_user, session_id, site_id, quiz_id)
        site = next((r for r in report["sites"] if r["site_id"] == site_id), None)
    return render_template("reports/certificates.html", report=report, people=people,
                           site=site, site_id=site_id, quiz_arg=quiz_id)


def _render_pdf(views: list[Any], title: str) -> bytes:
    """The PDF is drawn off the gevent loop; the verification links are made here first."""
    urls = {view.code: issuing.verify_url(view.code) for view in views}
    return off_loop(pdf.render, views, urls.__getitem__, title=title, lang=_language())


@bp.get("/sessions/<int:session_id>/certificates.pdf")
@login_required
def site_certificates_pdf(session_id: int) -> Response:
    site_id = _int_arg("site_id")
    views = issuing.site_certificates(current_user, session_id, site_id, _int_arg("quiz_id"))
    data = _render_pdf(views, title=f"Giấy chứng nhận: {views[0].session_title}")
    return _download(data, "application/pdf",
                     f"giay-chung-nhan-buoi-{session_id}-diem-cau-{site_id}.pdf")


@bp.get("/certificates/<int:session_id>/<int:participant_id>.pdf")
@login_required
def certificate_pdf(session_id: int, participant_id: int) -> Response:
    view = issuing.certificate(current_user, session_id, participant_id, _int_arg("quiz_id"))
    data = _render_pdf([view], title=f"Giấy chứng nhận: {view.full_name}")
    return _download(data, "application/pdf",
                     f"giay-chung-nhan-{session_id}-{participant_id}.pdf")


@bp.get("/verify/<code>")
def verify(code: str) -> Any:
    """Public: confirms a certificate (name, training / session and date, date of issue)."""
    found = issuing.verify(code)
    response = Response(render_template("reports/verify.html", cert=found))
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- document settings

@bp.route("/reports/documents", methods=["GET", "POST"])
@login_required
def documents() -> Any:
    """Admins: who issues and signs the documents (the default, or a training's own)."""
    require_admin(current_user)
    training_id = _int_arg("training_id")
    training = db.session.get(Training, training_id) if training_id is not None else None
    if training_id is not None and training is None:
        raise NotFound(gettext("Unknown training."))
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        images = {}
        for name in settings.IMAGE_FIELDS:
            upload = request.files.get(name)
            if upload is not None:
                if upload.filename:
                    images[name] = upload.read(settings.UPLOAD_MAX_BYTES + 1)
                upload.close()
        remove = {name for name in settings.IMAGE_FIELDS if request.form.get(f"remove_{name}")}
        try:
            settings.save(current_user, training_id, request.form, images, remove)
        except Invalid as exc:
            errors = {k: [str(m) for m in v] for k, v in (exc.errors or {}).items()}
            flash(str(exc.detail), "error")
            status = 422
        else:
            flash(gettext("Saved."), "success")
            return redirect(url_for("reports.documents", training_id=training_id))
    row = settings.row_for(training_id)
    values = {name: request.form.get(name, getattr(row, name, "") if row else "")
              for name in settings.TEXT_FIELDS}
    trainings = list(db.session.scalars(select(Training).order_by(Training.year.desc(),
                                                                  Training.id.desc())))
    return render_template("reports/documents.html", training=training, row=row,
                           values=values, errors=errors, trainings=trainings,
                           effective=settings.letterhead(training)), status


@bp.get("/reports/documents/<field>.png")
@login_required
def document_image(field: str) -> Response:
    require_admin(current_user)
    data = settings.image(_int_arg("training_id"), field)
    return Response(data, mimetype="image/png", headers={"Cache-Control": "private, no-store",
                                                         "X-Content-Type-Options": "nosniff"})
