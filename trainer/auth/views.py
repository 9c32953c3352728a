"""Login, logout, the start page and account administration."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import SelectChoice

from trainer.auth import services
from trainer.auth.forms import LoginForm, UserForm
from trainer.auth.models import Role
from trainer.errors import DomainError
from trainer.security import is_safe_next

bp = Blueprint("auth", __name__)


@bp.get("/")
def home() -> Any:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    from trainer.app import home_endpoint

    target = home_endpoint(current_user)
    if target:
        return redirect(url_for(target))
    return render_template("auth/home.html")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.username.data or "", form.password.data or "",
                                         request.remote_addr or "")
        except DomainError as exc:
            error, status = str(exc.detail), exc.status
        else:
            session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME unused
            login_user(user)
            target = request.args.get("next")
            return redirect(target if is_safe_next(target) else url_for("auth.home"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
def logout() -> Any:
    """Logging out ends every session of the account: other browsers, API tokens and live
    connections too (a cookie copied earlier stops working)."""
    if current_user.is_authenticated:
        services.end_sessions(current_user._get_current_object())  # type: ignore[attr-defined]
    logout_user()
    flash(gettext("You are logged out everywhere."), "success")
    return redirect(url_for("auth.login"))


@bp.post("/users/<int:user_id>/logout")
@login_required
def log_out_user(user_id: int) -> Any:
    """An admin ends every session of an account (a lost phone, a departed colleague)."""
    user = services.get_user(user_id)
    services.log_out_everywhere(current_user, user)
    if user.id == current_user.id:
        logout_user()
        return redirect(url_for("auth.login"))
    flash(gettext("%(name)s is logged out everywhere.", name=user.username), "success")
    return redirect(url_for("auth.edit_user", user_id=user.id))


@bp.get("/users")
@login_required
def users() -> Any:
    return render_template("auth/users.html", users=services.list_users(current_user))


def _site_choices() -> list[SelectChoice]:
    from trainer.sites.services import all_sites

    return [SelectChoice(s.id, f"{s.code} · {s.name}") for s in all_sites()]


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def edit_user(user_id: int | None = None) -> Any:
    services.require_admin(current_user)
    user = services.get_user(user_id) if user_id else None
    form = UserForm(obj=user)
    form.site_ids.choices = _site_choices()
    if request.method == "GET" and user is not None:
        form.site_ids.data = user.site_ids
        form.role.data = user.role.value
    errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        try:
            if user is None:
                services.create_user(form.username.data or "", form.password.data or "",
                                     form.role.data or "", form.site_ids.data or [],
                                     display_name=form.display_name.data, actor=current_user)
            else:
                services.update_user(current_user, user, role=form.role.data,
                                     site_ids=form.site_ids.data or [], active=form.active.data,
                                     display_name=form.display_name.data or "",
                                     password=form.password.data or None)
        except DomainError as exc:
            errors = {k: [str(m) for m in v] for k, v in (exc.errors or {}).items()}
            flash(str(exc.detail), "error")
        else:
            flash(gettext("Saved."), "success")
            return redirect(url_for("auth.users"))
    elif request.method == "POST":
        errors = {k: [str(m) for m in v] for k, v in form.errors.items()}
    if user is None and request.method == "GET":
        form.active.data = True
    return render_template("auth/user_form.html", form=form, user=user, errors=errors,
                           roles=Role), 422 if errors else 200
