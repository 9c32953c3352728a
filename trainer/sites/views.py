"""Pages: the list of bridge points, a site with its units, create and edit forms."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from trainer.auth.services import require_site, require_staff
from trainer.errors import DomainError
from trainer.extensions import db
from trainer.sites import services
from trainer.sites.levels import site_level_labels
from trainer.validation import form_errors

bp = Blueprint("sites", __name__, url_prefix="/sites")


@bp.get("")
@login_required
def index() -> Any:
    q = request.args.get("q", "")
    sites = list(db.session.scalars(services.list_sites(current_user, q=q)))
    return render_template("sites/index.html", sites=sites, q=q,
                           unit_counts=services.unit_counts(), levels=site_level_labels())


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:site_id>/edit", methods=["GET", "POST"])
@login_required
def edit(site_id: int | None = None) -> Any:
    require_staff(current_user)
    site = services.get_site(site_id) if site_id else None
    errors: dict[str, list[str]] = {}
    values = {"code": site.code if site else "", "name": site.name if site else "",
              "kind": site.kind.value if site else "bridge",
              "address": (site.address or "") if site else ""}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in values}
        try:
            code, name, kind, address = (values[k] for k in ("code", "name", "kind", "address"))
            if site is None:
                site = services.create_site(current_user, code=code, name=name, kind=kind,
                                            address=address)
            else:
                services.update_site(current_user, site, code=code, name=name, kind=kind,
                                     address=address)
        except DomainError as exc:
            errors = form_errors(exc)
            summary = errors.pop("_", None)  # the form shows errors beside its fields
            errors = errors or {"name": summary or [str(exc.detail)]}
        else:
            flash(gettext("Saved."), "success")
            return redirect(url_for("sites.show", site_id=site.id))
    return render_template("sites/form.html", site=site, values=values, errors=errors), (
        422 if errors else 200)


@bp.get("/<int:site_id>")
@login_required
def show(site_id: int) -> Any:
    require_site(current_user, site_id)
    site = services.get_site(site_id)
    return render_template("sites/show.html", site=site, errors={})


@bp.post("/<int:site_id>/units")
@login_required
def add_unit(site_id: int) -> Any:
    require_staff(current_user)  # others get the 403 page, not the form without a message
    site = services.get_site(site_id)
    try:
        services.add_unit(current_user, site, request.form.get("name", ""),
                          centre_name=request.form.get("centre_name") or None,
                          rating=request.form.get("rating") or None)
    except DomainError as exc:
        return render_template("sites/show.html", site=site, errors=form_errors(exc),
                               values=request.form), exc.status
    flash(gettext("Saved."), "success")
    return redirect(url_for("sites.show", site_id=site.id))


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@login_required
def edit_unit(unit_id: int) -> Any:
    require_staff(current_user)
    unit = services.get_unit(unit_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            services.update_unit(current_user, unit, name=request.form.get("name", ""),
                                 centre_name=request.form.get("centre_name", ""),
                                 rating=request.form.get("rating", ""))
        except DomainError as exc:
            errors = form_errors(exc)
        else:
            flash(gettext("Saved."), "success")
            return redirect(url_for("sites.show", site_id=unit.site_id))
    return render_template("sites/unit_form.html", unit=unit, errors=errors), (
        422 if errors else 200)
