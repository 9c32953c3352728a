"""The roster import pages (on the sessions blueprint): check the file and show what it would
do, every bad row with its reasons and a file of them; add the good rows on confirmation.
The same steps as the participant import (the file waits in the importer's stash)."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from trainer.auth.services import require_staff
from trainer.errors import DomainError, Invalid
from trainer.people import import_report, importer
from trainer.sessions import roster_import as checks
from trainer.sessions import services
from trainer.sessions.views import bp
from trainer.validation import form_errors


def _overview(session: Any, exc: DomainError) -> Any:
    rows = services.site_rows(session)
    return render_template("sessions/roster_overview.html", session=session, rows=rows,
                           can_edit=True, errors=form_errors(exc)), exc.status


@bp.post("/sessions/<int:session_id>/roster/import", endpoint="roster_import")
@login_required
def roster_import_check(session_id: int) -> Any:
    """Step 1: check the file (nothing is written) and show what it would do."""
    session = services.get_session(current_user, session_id)
    require_staff(current_user)
    upload = request.files.get("file")
    limit = current_app.config["IMPORT_MAX_BYTES"]
    try:
        if upload is None or not upload.filename:
            raise Invalid.field("file", gettext("Choose a CSV or XLSX file."))
        data = upload.read(limit + 1)
        checked = checks.check(current_user, session, data, max_bytes=limit)
    except DomainError as exc:
        if exc.status == 403:
            raise
        return _overview(session, exc)
    stash_id = importer.stash_upload(current_user, data, upload.filename, None)
    bad_rows_url = None
    if checked.errors:
        import_report.save_bad_rows(stash_id, import_report.bad_rows_csv(
            checked.body, checked.errors, checked.header))
        bad_rows_url = url_for("sessions.roster_import_bad_rows", session_id=session_id,
                               stash_id=stash_id)
    return render_template("sessions/roster_import_preview.html", session=session,
                           checked=checked, stash_id=stash_id, filename=upload.filename,
                           bad_rows_url=bad_rows_url)


@bp.post("/sessions/<int:session_id>/roster/import/<stash_id>")
@login_required
def roster_import_confirm(session_id: int, stash_id: str) -> Any:
    """Step 2: add the good rows of the checked file, then forget it."""
    session = services.get_session(current_user, session_id)
    require_staff(current_user)
    try:
        data, _meta = importer.load_upload(current_user, stash_id)
    except DomainError as exc:
        return _overview(session, exc)
    try:
        checked = checks.check(current_user, session, data)
        result = checks.add_checked(current_user, session, checked)
    except DomainError as exc:
        if exc.status == 403:
            raise
        return _overview(session, exc)
    finally:
        importer.discard_upload(stash_id)
    message = ngettext("%(num)d person added to the roster.",
                       "%(num)d people added to the roster.", result.added) + " " + ngettext(
        "%(num)d was already on it.", "%(num)d were already on it.", result.already)
    if checked.errors:
        message += " " + ngettext("%(num)d row was left out.", "%(num)d rows were left out.",
                                  len(checked.errors))
    flash(message, "success")
    return redirect(url_for("sessions.roster_overview", session_id=session_id))


@bp.post("/sessions/<int:session_id>/roster/import/<stash_id>/cancel")
@login_required
def roster_import_cancel(session_id: int, stash_id: str) -> Any:
    services.get_session(current_user, session_id)
    require_staff(current_user)
    importer.load_upload(current_user, stash_id)  # only its owner may drop it
    importer.discard_upload(stash_id)
    return redirect(url_for("sessions.roster_overview", session_id=session_id))


@bp.get("/sessions/<int:session_id>/roster/import/<stash_id>/errors.csv")
@login_required
def roster_import_bad_rows(session_id: int, stash_id: str) -> Any:
    services.get_session(current_user, session_id)
    require_staff(current_user)
    return import_report.csv_response(*import_report.load_bad_rows(current_user, stash_id))
