"""Pages: the materials library, a material, upload, edit, links, topics, downloads, and
the public list of a session's shared materials (for trainees, no account needed)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required

from trainer.apiutil import page_of
from trainer.auth.services import require_any, require_staff
from trainer.errors import DomainError, Invalid
from trainer.materials import services, storage
from trainer.materials.models import Material, MaterialVersion
from trainer.validation import form_errors

bp = Blueprint("materials", __name__)

PER_PAGE = 50
# Served files: nothing in them may run scripts or load other things; our own pages may
# frame them (the PDF preview).
FILE_CSP = ("default-src 'none'; img-src 'self'; media-src 'self'; object-src 'self'; "
            "style-src 'unsafe-inline'; frame-ancestors 'self'")
META_FIELDS = ("title", "topic", "language", "description", "visibility")


def _errors(exc: DomainError) -> dict[str, list[str]]:
    """form_errors, with the errors of what a material is attached to under "attach"."""
    errors = form_errors(exc)
    if "training_id" in errors or "session_id" in errors or "agenda_item_id" in errors:
        errors["attach"] = [m for k in ("training_id", "session_id", "agenda_item_id")
                            for m in errors.pop(k, [])]
    return errors


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 12 else None


def _form_data() -> dict[str, Any]:
    data: dict[str, Any] = {k: request.form.get(k, "") for k in META_FIELDS}
    data.update({"training_id": None, "session_id": None, "agenda_item_id": None})
    data.update(services.parse_attach(request.form.get("attach")))
    return data


def _form_context(material: Material | None = None, **extra: Any) -> dict[str, Any]:
    choices = services.attach_choices()
    return {
        "topics": services.list_topics(),
        "topic_name": services.topic_name,
        "choices": choices,
        "languages": [("vi", gettext("Vietnamese")), ("en", gettext("English"))],
        "material": material,
        **extra,
    }


# --------------------------------------------------------------------------- library

@bp.get("/materials")
@login_required
def index() -> Any:
    require_any(current_user)
    q = request.args.get("q", "")[:200]
    topic = request.args.get("topic", "")[:32]
    kind = request.args.get("kind", "")
    session_id, training_id = _int_arg("session_id"), _int_arg("training_id")
    page = max(1, _int_arg("page") or 1)
    stmt = services.list_materials(current_user, session_id=session_id,
                                   training_id=training_id, topic=topic or None, q=q,
                                   kind=kind or None, newest_first=True)
    result = page_of(stmt, page, PER_PAGE)
    ids = [m.id for m in result["items"]]

    def args(**kw: Any) -> str:
        base = {"q": q, "topic": topic, "kind": kind, "session_id": session_id or "",
                "training_id": training_id or "", "page": page}
        base.update(kw)
        return urlencode({k: v for k, v in base.items() if v not in ("", None)})

    return render_template(
        "materials/index.html", result=result, q=q, topic=topic, kind=kind,
        session_id=session_id, training_id=training_id, page=page, per_page=PER_PAGE,
        args=args, topics=services.list_topics(), topic_name=services.topic_name,
        choices=services.attach_choices(), downloads=services.download_totals(ids),
        attached={m.id: services.attached_to(m) for m in result["items"]},
    )


def _limits() -> dict[str, Any]:
    limit = storage.max_bytes()
    return {"accept": storage.ACCEPT_ATTR, "max_bytes": limit,
            "max_size": storage.limit_text(limit)}


def _show_page(material: Material, errors: dict[str, list[str]]) -> str:
    versions = services.versions(material)
    return render_template(
        "materials/show.html", material=material, versions=versions,
        uploaders=services.uploader_names(versions), preview=services.preview_kind(material),
        attached=services.attached_to(material), public_session=services.session_of(material),
        topic_name=services.topic_name, total=services.download_total(material.id),
        by_site=services.downloads_by_site(current_user, material), errors=errors,
        **_limits(),
    )


@bp.get("/materials/<int:material_id>")
@login_required
def show(material_id: int) -> Any:
    require_any(current_user)
    return _show_page(services.get_material(material_id), {})


# --------------------------------------------------------------------------- writing

@bp.route("/materials/upload", methods=["GET", "POST"])
@login_required
def upload() -> Any:
    """Several files at once. With JavaScript the page sends one API request per file with a
    progress bar; without it this form posts here."""
    require_staff(current_user)
    done: list[Material] = []
    failed: list[tuple[str, str]] = []
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"topic": request.args.get("topic", ""),
                              "attach": request.args.get("attach", ""),
                              "visibility": "staff", "language": "vi", "description": ""}
    status = 200
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in
                  ("topic", "attach", "visibility", "language", "description")}
        uploads = [f for f in request.files.getlist("files") if f.filename]
        if not uploads:
            errors = {"files": [gettext("Choose one or more files.")]}
        data = _form_data()
        data["title"] = ""
        for upload_ in uploads:
            try:
                done.append(services.create_file(current_user, upload_.stream,
                                                 upload_.filename, data))
            except DomainError as exc:
                messages = _errors(exc)
                if set(messages) - {"file", "_"}:  # a field of the form, not of this file
                    errors = messages
                    break
                failed.append((upload_.filename or "", " ".join(
                    m for ms in messages.values() for m in ms)))
        if done and not failed and not errors:
            flash(gettext("%(n)d file(s) uploaded.", n=len(done)), "success")
            if len(done) == 1:
                return redirect(url_for("materials.show", material_id=done[0].id))
            return redirect(url_for("materials.index"))
        status = 422 if (errors or failed) and not done else 200
    return render_template(
        "materials/upload.html", values=values, errors=errors, done=done, failed=failed,
        **_limits(), **_form_context(),
    ), status


@bp.route("/materials/link", methods=["GET", "POST"])
@login_required
def new_link() -> Any:
    require_staff(current_user)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"url": "", "title": "", "topic": request.args.get("topic", ""),
                              "attach": request.args.get("attach", ""), "visibility": "staff",
                              "language": "vi", "description": ""}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in values}
        try:
            material = services.create_link(current_user, request.form.get("url", ""),
                                            _form_data())
        except DomainError as exc:
            errors = _errors(exc)
        else:
            flash(gettext("Saved."), "success")
            return redirect(url_for("materials.show", material_id=material.id))
    return render_template("materials/link.html", values=values, errors=errors,
                           **_form_context()), (422 if errors else 200)


@bp.route("/materials/<int:material_id>/edit", methods=["GET", "POST"])
@login_required
def edit(material_id: int) -> Any:
    require_staff(current_user)
    material = services.get_material(material_id)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {
        "title": material.title, "topic": material.topic_key, "language": material.language,
        "description": material.description or "", "visibility": material.visibility.value,
        "attach": services.attach_value(material), "url": material.url or "",
    }
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in values}
        data = _form_data()
        if not material.is_file:
            data["url"] = request.form.get("url", "")
        try:
            services.update(current_user, material, data)
        except DomainError as exc:
            errors = _errors(exc)
        else:
            flash(gettext("Saved."), "success")
            return redirect(url_for("materials.show", material_id=material.id))
    return render_template("materials/edit.html", values=values, errors=errors,
                           **_form_context(material)), (422 if errors else 200)


@bp.post("/materials/<int:material_id>/versions")
@login_required
def replace(material_id: int) -> Any:
    require_staff(current_user)
    material = services.get_material(material_id)
    upload_ = request.files.get("file")
    try:
        if upload_ is None or not upload_.filename:
            raise Invalid.field("file", gettext("Choose a file."))
        services.add_version(current_user, material, upload_.stream, upload_.filename)
    except DomainError as exc:
        return _show_page(material, _errors(exc)), exc.status
    flash(gettext("The file was replaced; the earlier version is kept."), "success")
    return redirect(url_for("materials.show", material_id=material.id))


@bp.post("/materials/<int:material_id>/versions/<int:number>/current")
@login_required
def make_current(material_id: int, number: int) -> Any:
    material = services.get_material(material_id)
    services.update(current_user, material, {"current_version": number})
    flash(gettext("Version %(n)d is served again.", n=number), "success")
    return redirect(url_for("materials.show", material_id=material.id))


@bp.post("/materials/<int:material_id>/delete")
@login_required
def delete(material_id: int) -> Any:
    material = services.get_material(material_id)
    services.delete_material(current_user, material)
    flash(gettext("The material was deleted."), "success")
    return redirect(url_for("materials.index"))


@bp.route("/materials/topics", methods=["GET", "POST"])
@login_required
def topics() -> Any:
    require_any(current_user)
    errors: dict[str, list[str]] = {}
    values = {"name_vi": "", "name_en": ""}
    if request.method == "POST":
        require_staff(current_user)  # the 403 page, not the form with a message in it
        values = {k: request.form.get(k, "") for k in values}
        try:
            services.create_topic(current_user, name_vi=values["name_vi"],
                                  name_en=values["name_en"] or None)
        except DomainError as exc:
            errors = _errors(exc)
        else:
            flash(gettext("Saved."), "success")
            return redirect(url_for("materials.topics"))
    return render_template("materials/topics.html", topics=services.list_topics(),
                           values=values, errors=errors), (422 if errors else 200)


# --------------------------------------------------------------------------- files

def _send(material: Material, version: MaterialVersion) -> Response:
    path = services.file_path(version)
    ftype = storage.BY_CONTENT_TYPE.get(version.content_type)
    inline = request.args.get("inline") == "1" and ftype is not None and bool(ftype.preview)
    response = send_file(path, mimetype=version.content_type, conditional=True,
                         etag=version.blob_sha256, last_modified=version.uploaded_at,
                         max_age=None)
    response.headers["Content-Disposition"] = storage.content_disposition(
        version.filename, inline=inline)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    # A download is counted once: not for a revalidation (304), nor for the later pieces of
    # a video streamed in ranges, nor for an organiser's preview in the material page.
    starts_at_zero = response.status_code == 200 or (
        response.status_code == 206 and response.content_range is not None
        and response.content_range.start == 0)
    staff_preview = inline and getattr(current_user, "is_staff", False)
    if request.method == "GET" and starts_at_zero and not staff_preview:
        site_id = services.download_site(current_user, _int_arg("site"),
                                         request.args.get("sig"))
        services.record_download(current_user, material, version.number, site_id,
                                 visitor=services.visitor_key(request.remote_addr,
                                                              request.user_agent.string))
    return response


@bp.get("/materials/<int:material_id>/file")
def download(material_id: int) -> Any:
    """The current file: shared materials for anyone, staff-only ones for accounts (404 to
    others). `?inline=1` shows PDFs, images and video in the browser."""
    material = services.get_visible(current_user, material_id)
    if not material.is_file:
        if material.url:
            return redirect(material.url)
        abort(404)
    return _send(material, services.version_of(material))


@bp.get("/materials/<int:material_id>/versions/<int:number>/file")
def download_version(material_id: int, number: int) -> Any:
    """An earlier version: for accounts only."""
    if not current_user.is_authenticated:
        abort(404)
    material = services.get_visible(current_user, material_id)
    return _send(material, services.version_of(material, number))


# --------------------------------------------------------------------------- public page

@bp.get("/s/<int:session_id>/materials")
def public(session_id: int) -> Any:
    """A session's shared materials, for trainees without an account (linked from the
    session's public page and the quiz page). `?site=` counts downloads for that site."""
    session = services.get_public_session(session_id)
    materials = services.shared_for_session(session.id)
    site_id = services.download_site(None, _int_arg("site"), request.args.get("sig"))
    return render_template(
        "materials/public.html", session=session, materials=materials,
        topic_name=services.topic_name, site_id=site_id,
        previews={m.id: services.preview_kind(m) for m in materials},
    )


def _session_materials(session_id: int) -> list[Material]:
    """For templates/materials/_session_panel.html (included in the session page)."""
    return services.for_session(current_user, session_id)


bp.add_app_template_global(_session_materials, "session_materials")
bp.add_app_template_global(services.topic_name, "material_topic_name")
bp.add_app_template_global(services.signed_site_args, "signed_site_args")
bp.add_app_template_global(services.preview_kind, "material_preview_kind")

