"""Pages: the participant list (Vietnamese order, accent-insensitive search), a participant,
create and edit forms, the QR code, roster import (check, confirm, report) and badges."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required

from trainer.apiutil import page_of
from trainer.auth.services import can_act_for_site, require_any
from trainer.errors import DomainError, Invalid
from trainer.people import badges as badge_service
from trainer.people import import_report, importer, services
from trainer.people.models import Participant
from trainer.sites.models import Site
from trainer.sites.services import all_sites
from trainer.validation import form_errors

bp = Blueprint("people", __name__, url_prefix="/participants")

PER_PAGE = 100
FORM_FIELDS = ("full_name", "family_name", "middle_name", "given_name", "sex", "birth_year",
               "position", "unit", "phone", "site_id", "code")


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 12 else None


def _visible_sites() -> list[Site]:
    return [s for s in all_sites() if current_user.is_staff or s.id in current_user.site_ids]


@bp.get("")
@login_required
def index() -> Any:
    q = request.args.get("q", "")[:200]
    site_id = _int_arg("site_id")
    page = max(1, _int_arg("page") or 1)
    stmt = services.search(current_user, q=q, site_id=site_id)
    result = page_of(stmt, page, PER_PAGE)
    visible = _visible_sites()

    def args(**kw: Any) -> str:
        base = {"q": q, "site_id": site_id or "", "page": page}
        base.update(kw)
        return urlencode({k: v for k, v in base.items() if v not in ("", None)})

    return render_template("people/index.html", result=result, q=q, site_id=site_id,
                           sites=visible, page=page, per_page=PER_PAGE, args=args,
                           sites_by_id={s.id: s for s in visible})


# ------------------------------------------------------------------------- one participant


@bp.get("/<int:participant_id>")
@login_required
def show(participant_id: int) -> Any:
    participant = services.get(current_user, participant_id)
    sessions = services.sessions_of(participant)
    site_names = {s.id: s.name for s in all_sites()}
    return render_template(
        "people/show.html", p=participant, qr=badge_service.qr_data_uri(participant.code),
        sessions=sessions, site_names=site_names,
        can_edit=can_act_for_site(current_user, participant.site_id))


def _form_values(p: Participant | None) -> dict[str, Any]:
    if p is None:
        visible = current_user.site_ids if not current_user.is_staff else []
        site_id = _int_arg("site_id") or (visible[0] if len(visible) == 1 else "")
        return {"full_name": "", "family_name": "", "middle_name": "", "given_name": "",
                "sex": "", "birth_year": "", "position": "", "unit": "",
                "phone": "", "site_id": site_id, "code": ""}
    return {"full_name": p.full_name, "family_name": p.family_name,
            "middle_name": p.middle_name, "given_name": p.given_name, "sex": p.sex.value,
            "birth_year": p.birth_year or "", "position": p.position or "",
            "unit": p.unit or "", "phone": p.phone or "", "site_id": p.site_id, "code": p.code}


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:participant_id>/edit", methods=["GET", "POST"])
@login_required
def edit(participant_id: int | None = None) -> Any:
    require_any(current_user)
    participant = services.get(current_user, participant_id) if participant_id else None
    values = _form_values(participant)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in FORM_FIELDS}
        data = {k: v for k, v in values.items() if k != "code"}
        if participant is not None and current_user.is_staff and values["code"]:
            data["code"] = values["code"]
        try:
            if not values["sex"]:
                # Attendance is reported by sex: the form asks instead of assuming.
                raise Invalid.field("sex", gettext("Choose female, male or unspecified."))
            if participant is None:
                participant = services.create(current_user, data)
            else:
                services.update(current_user, participant, data)
        except DomainError as exc:
            errors = form_errors(exc)
            status = exc.status
        else:
            flash(gettext("Saved."), "success")
            return redirect(url_for("people.show", participant_id=participant.id))
    sites = _visible_sites()
    units = {s.id: [u.name for u in s.units] for s in sites}
    return render_template("people/form.html", p=participant, values=values, errors=errors,
                           sites=sites, units=units), status


@bp.get("/<int:participant_id>/qr.svg")
@login_required
def qr(participant_id: int) -> Response:
    participant = services.get(current_user, participant_id)
    return Response(badge_service.qr_svg(participant.code), mimetype="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=86400"})


# ------------------------------------------------------------------------- badges


@bp.get("/badges")
@login_required
def badges() -> Any:
    require_any(current_user)
    site_id = _int_arg("site_id")
    sites = _visible_sites()
    if site_id is None:
        if len(sites) == 1:
            site_id = sites[0].id
        else:
            return render_template("people/badges.html", site=None, badges=[], sites=sites)
    site, cards = badge_service.badges_for_site(current_user, site_id)
    return render_template("people/badges.html", site=site, badges=cards, sites=sites)


# ------------------------------------------------------------------------- import


def _import_form(error: str | None = None, status: int = 200, site_id: Any = None) -> Any:
    sites = _visible_sites()
    if site_id is None and not current_user.is_staff and len(sites) == 1:
        site_id = sites[0].id
    limit = int(current_app.config.get("IMPORT_MAX_BYTES") or 10 * 1024 * 1024)
    return render_template("people/import.html", sites=sites, error=error, site_id=site_id,
                           max_mb=importer.size_mb(limit)), status


def _site_arg(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 12 else None


@bp.get("/import")
@login_required
def import_form() -> Any:
    require_any(current_user)
    importer.purge_stale_uploads()
    return _import_form(site_id=_int_arg("site_id"))


@bp.post("/import")
@login_required
def import_check() -> Any:
    """Step 1: read and check the file (a dry run); keep it for the confirm step."""
    require_any(current_user)
    upload = request.files.get("file")
    site_id = _site_arg(request.form.get("site_id"))
    if upload is None or not upload.filename:
        return _import_form(gettext("Choose a file to import."), 422, site_id)
    try:
        data = importer.read_upload(upload)
        report = importer.import_roster(current_user, data, upload.filename, dry_run=True,
                                        site_id=site_id)
    except DomainError as exc:
        detail = str(exc.detail)
        if exc.errors and "file" in exc.errors and str(exc.errors["file"][0]) != detail:
            detail = f"{detail} {exc.errors['file'][0]}"
        return _import_form(detail, exc.status, site_id)
    stash_id = importer.stash_upload(current_user, data, upload.filename, site_id)
    bad_rows = import_report.keep_participant_bad_rows(stash_id, data, report)
    return render_template("people/import_preview.html", report=report, stash_id=stash_id,
                           bad_rows_url=url_for("people.import_bad_rows", stash_id=stash_id)
                           if bad_rows else None,
                           filename=upload.filename, site=_site(site_id))


def _site(site_id: int | None) -> Site | None:
    from trainer.extensions import db

    return db.session.get(Site, site_id) if site_id else None


@bp.post("/import/<stash_id>")
@login_required
def import_confirm(stash_id: str) -> Any:
    """Step 2: import the checked file, then forget it."""
    require_any(current_user)
    try:
        data, meta = importer.load_upload(current_user, stash_id)
    except DomainError as exc:
        return _import_form(str(exc.detail), exc.status)
    try:
        report = importer.import_roster(current_user, data, meta.get("filename") or "",
                                        dry_run=False, site_id=meta.get("site_id"),
                                        preview_limit=importer.REPORT_ROWS)
    except DomainError as exc:
        importer.discard_upload(stash_id)
        return _import_form(str(exc.detail), exc.status, meta.get("site_id"))
    importer.discard_upload(stash_id)
    return render_template("people/import_result.html", report=report,
                           filename=meta.get("filename") or "",
                           site=_site(meta.get("site_id")))


@bp.get("/import/<stash_id>/errors.csv")
@login_required
def import_bad_rows(stash_id: str) -> Any:
    """The checked file's bad rows with their reasons, to correct and import again."""
    require_any(current_user)
    return import_report.csv_response(*import_report.load_bad_rows(current_user, stash_id))


@bp.post("/import/<stash_id>/cancel")
@login_required
def import_cancel(stash_id: str) -> Any:
    require_any(current_user)
    try:
        importer.load_upload(current_user, stash_id)
    except DomainError:
        pass
    else:
        importer.discard_upload(stash_id)
    return redirect(url_for("people.import_form"))


@bp.get("/import/template.csv")
@login_required
def import_template_csv() -> Response:
    return Response(importer.template_csv(), mimetype="text/csv",
                    headers={"Content-Disposition":
                             'attachment; filename="danh-sach-hoc-vien.csv"'})


@bp.get("/import/template.xlsx")
@login_required
def import_template_xlsx() -> Response:
    return Response(
        importer.template_xlsx(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="danh-sach-hoc-vien.xlsx"'})
