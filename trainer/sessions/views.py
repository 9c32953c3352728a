"""Pages: session lists and calendars, the session page, forms, agenda, per-site rosters,
calendar files; and the trainings pages (a second blueprint, `trainings`)."""

from __future__ import annotations

from datetime import date, timedelta
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
    url_for,
)
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from trainer.apiutil import page_of
from trainer.auth.services import calendar_key, require_any, require_staff
from trainer.dbtypes import INT_MAX, utcnow
from trainer.errors import DomainError, Invalid
from trainer.extensions import db
from trainer.i18n import local_zone
from trainer.sessions import bysex, forms, ics, services
from trainer.sessions.models import Training, TrainingSession
from trainer.sessions.public import public_bp
from trainer.sites.services import all_sites
from trainer.validation import form_errors

bp = Blueprint("sessions", __name__)
trainings_bp = Blueprint("trainings", __name__, url_prefix="/trainings")

#: Registered by create_app next to `bp` (see trainer.app._register_feature).
blueprints = (trainings_bp, public_bp)

PER_PAGE = 50
ROSTER_PER_PAGE = 200

#: Panels other features may provide for the session page, included when they exist.
#: Each is rendered with `session`, `rows` (services.SiteRow), `my_site_ids` and `can_edit`.
SESSION_PANELS = (
    "checkin/_session_panel.html",
    "materials/_session_panel.html",
    "quizzes/_session_panel.html",
    "reports/_session_panel.html",
)


def _today() -> date:
    return utcnow().astimezone(local_zone()).date()


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) <= 10 and int(value) <= INT_MAX else None


def _template_globals() -> dict[str, Any]:
    return {"topic_label": services.topic_label, "status_label": services.status_label,
            "join_label": services.join_label, "conference_service": services.conference_service,
            "safe_link": services.safe_link,
            "TOPICS": services.TOPICS}


@bp.app_context_processor
def _inject() -> dict[str, Any]:
    return {"sched": _template_globals()}


# --------------------------------------------------------------------------- lists, calendars


def _calendar(view: str, anchor: date) -> dict[str, Any]:
    if view == "month":
        weeks = services.month_weeks(anchor)
        first, last = weeks[0][0], weeks[-1][-1]
        month_start = anchor.replace(day=1)
        prev = (month_start - timedelta(days=1)).replace(day=1)
        nxt = (month_start + timedelta(days=32)).replace(day=1)
    else:
        days = services.week_days(anchor)
        weeks = [days]
        first, last = days[0], days[-1]
        prev, nxt = anchor - timedelta(days=7), anchor + timedelta(days=7)
    start, end = services.local_day_bounds(first, last)
    sessions = list(db.session.scalars(services.sessions_stmt(current_user, start=start,
                                                              end=end)))
    return {"weeks": weeks, "by_day": services.by_local_day(sessions), "anchor": anchor,
            "prev": prev, "next": nxt, "today": _today(), "count": len(sessions)}


def _list_context(endpoint: str) -> dict[str, Any]:
    view = request.args.get("view", "list")
    if view not in ("list", "week", "month"):
        view = "list"
    tab = request.args.get("tab", "upcoming")
    if tab not in ("upcoming", "past"):
        tab = "upcoming"
    page = max(1, _int_arg("page") or 1)
    anchor = forms.parse_date(request.args.get("date")) or _today()

    def args(**kw: Any) -> str:
        base: dict[str, Any] = {"view": view, "tab": tab, "page": page}
        base.update(kw)
        return urlencode({k: v for k, v in base.items() if v not in ("", None)})

    ctx: dict[str, Any] = {"view": view, "tab": tab, "page": page, "per_page": PER_PAGE,
                           "args": args, "endpoint": endpoint, "anchor": anchor}
    if view == "list":
        stmt = services.sessions_stmt(current_user, past=(tab == "past"),
                                      newest_first=(tab == "past"))
        result = page_of(stmt, page, PER_PAGE)
        sessions = result["items"]
        ids = [s.id for s in sessions]
        mine = None if current_user.is_staff else current_user.site_ids
        ctx.update(result=result, totals=services.registered_totals(ids, mine),
                   by_sex=bysex.registered(ids, mine))
    else:
        ctx["calendar"] = _calendar(view, anchor)
    return ctx


@bp.get("/sessions")
@login_required
def index() -> Any:
    if not current_user.is_staff:
        query = request.query_string.decode("latin-1")
        return redirect(url_for("sessions.mine") + (f"?{query}" if query else ""))
    require_staff(current_user)
    return render_template("sessions/index.html", **_list_context("sessions.index"))


@bp.get("/sessions/mine")
@login_required
def mine() -> Any:
    require_any(current_user)
    ctx = _list_context("sessions.mine")
    my_sites = {s.id: s for s in current_user.sites} if not current_user.is_staff else {}
    return render_template("sessions/mine.html", my_sites=my_sites, **ctx)


# --------------------------------------------------------------------------- one session


def _show_context(session: TrainingSession) -> dict[str, Any]:
    rows = services.site_rows(session)
    my_ids = services.my_site_ids(current_user, session)
    return {
        "session": session, "rows": rows, "my_site_ids": my_ids,
        "can_edit": services.can_edit(current_user),
        "totals": {k: sum(getattr(r, k) for r in rows)
                   for k in ("registered", "female", "male", "unspecified", "present",
                             "present_female", "present_male", "present_unspecified")},
        "transitions": [s.value for s in services.ALLOWED_TRANSITIONS[session.status]],
        "panels": SESSION_PANELS,
    }


@bp.get("/sessions/<int:session_id>")
@login_required
def show(session_id: int) -> Any:
    session = services.get_session(current_user, session_id)
    return render_template("sessions/show.html", **_show_context(session))


def _form_choices() -> dict[str, Any]:
    return {"sites": all_sites(),
            "trainings": list(db.session.scalars(services.list_trainings(current_user)))}


@bp.route("/sessions/new", methods=["GET", "POST"])
@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@login_required
def edit(session_id: int | None = None) -> Any:
    require_staff(current_user)
    session = services.get_session(current_user, session_id) if session_id else None
    errors: dict[str, list[str]] = {}
    status = 422
    if request.method == "POST":
        data, errors = forms.session_data(request.form)
        if not errors:
            try:
                if session is None:
                    session = services.create_session(current_user, data)
                else:
                    services.update_session(current_user, session, data)
            except DomainError as exc:
                errors, status = form_errors(exc), exc.status
            else:
                flash(gettext("Saved."), "success")
                return redirect(url_for("sessions.show", session_id=session.id))
        values = forms.session_values(form=request.form)
    elif session is not None:
        values = forms.session_values(session)
    else:
        sites = all_sites()
        start, end = forms.default_times(_today())
        host = next((s.id for s in sites if s.kind.value == "host"), sites[0].id if sites else "")
        training_id = _int_arg("training_id")
        training = db.session.get(Training, training_id) if training_id else None
        values = forms.session_values(defaults={
            "starts_at": start, "ends_at": end, "host_site_id": host,
            "site_ids": [s.id for s in sites], "training_id": training_id or "",
            "title": training.title if training else "",
            "topics": [t for t in (training.topics if training else []) if t in services.TOPICS],
        })
    return render_template("sessions/form.html", session=session, values=values, errors=errors,
                           **_form_choices()), (status if errors else 200)


@bp.post("/sessions/<int:session_id>/delete")
@login_required
def delete(session_id: int) -> Any:
    session = services.get_session(current_user, session_id)
    try:
        services.delete_session(current_user, session)
    except DomainError as exc:
        if exc.status == 403:
            raise
        flash(str(exc.detail), "error")
        return redirect(url_for("sessions.show", session_id=session_id))
    flash(gettext("The session was deleted."), "success")
    return redirect(url_for("sessions.index"))


@bp.post("/sessions/<int:session_id>/status")
@login_required
def status(session_id: int) -> Any:
    session = services.get_session(current_user, session_id)
    try:
        changed = services.set_status(current_user, session, request.form.get("status", ""))
    except DomainError as exc:
        if exc.status == 403:
            raise
        flash(str(exc.detail), "error")
    else:
        if changed:
            flash(gettext("The session is now %(status)s.",
                          status=services.status_label(session.status)), "success")
    return redirect(url_for("sessions.show", session_id=session_id))


@bp.route("/sessions/<int:session_id>/copy", methods=["GET", "POST"])
@login_required
def copy(session_id: int) -> Any:
    require_staff(current_user)
    source = services.get_session(current_user, session_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data, errors = forms.copy_data(request.form)
        if not errors:
            try:
                result = services.copy_session(
                    current_user, source, data, agenda=bool(request.form.get("agenda")),
                    roster=bool(request.form.get("roster")))
            except DomainError as exc:
                errors = form_errors(exc)
            else:
                flash(gettext("Copied. Check the new session's details."), "success")
                if result.skipped:
                    flash(ngettext(
                        "%(num)d person was left off the roster: their home site no longer "
                        "takes part.", "%(num)d people were left off the roster: their home "
                        "site no longer takes part.", result.skipped), "warning")
                return redirect(url_for("sessions.edit", session_id=result.session.id))
        values = {"title": request.form.get("title", ""),
                  "training_id": request.form.get("training_id", ""),
                  "starts_at": request.form.get("starts_at", ""),
                  "ends_at": request.form.get("ends_at", ""),
                  "agenda": bool(request.form.get("agenda")),
                  "roster": bool(request.form.get("roster"))}
    else:
        start = source.starts_at.astimezone(local_zone())
        try:
            new_start = start.replace(year=start.year + 1)
        except ValueError:  # 29 February
            new_start = start + timedelta(days=365)
        shift = new_start - start
        values = {"title": services.suggest_copy_title(source.title, start.year, new_start.year),
                  "training_id": source.training_id or "",
                  "starts_at": forms.local_input(source.starts_at + shift),
                  "ends_at": forms.local_input(source.ends_at + shift),
                  "agenda": True, "roster": False}
    return render_template("sessions/copy.html", source=source, values=values, errors=errors,
                           **_form_choices()), (422 if errors else 200)


# --------------------------------------------------------------------------- agenda


@bp.route("/sessions/<int:session_id>/agenda", methods=["GET", "POST"])
@login_required
def agenda(session_id: int) -> Any:
    session = services.get_session(current_user, session_id)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = forms.agenda_data(request.form)
        try:
            services.add_agenda_item(current_user, session, values)
        except DomainError as exc:
            if exc.status == 403:
                raise
            errors = form_errors(exc)
        else:
            flash(gettext("Saved."), "success")
            return redirect(url_for("sessions.agenda", session_id=session.id))
    return render_template("sessions/agenda.html", session=session, errors=errors,
                           values=values, can_edit=services.can_edit(current_user)), (
        422 if errors else 200)


@bp.route("/sessions/<int:session_id>/agenda/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def agenda_item(session_id: int, item_id: int) -> Any:
    require_staff(current_user)
    session = services.get_session(current_user, session_id)
    item = services.get_agenda_item(session, item_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = forms.agenda_data(request.form)
        try:
            services.update_agenda_item(current_user, item, values)
        except DomainError as exc:
            errors = form_errors(exc)
        else:
            flash(gettext("Saved."), "success")
            return redirect(url_for("sessions.agenda", session_id=session.id))
    else:
        values = {"time": item.starts_at.strftime("%H:%M") if item.starts_at else "",
                  "title": item.title, "presenter": item.presenter or "",
                  "presenter_org": item.presenter_org or ""}
    return render_template("sessions/agenda_item.html", session=session, item=item,
                           values=values, errors=errors), (422 if errors else 200)


@bp.post("/sessions/<int:session_id>/agenda/<int:item_id>/delete")
@login_required
def agenda_delete(session_id: int, item_id: int) -> Any:
    session = services.get_session(current_user, session_id)
    services.delete_agenda_item(current_user, services.get_agenda_item(session, item_id))
    flash(gettext("Removed."), "success")
    return redirect(url_for("sessions.agenda", session_id=session_id))


@bp.post("/sessions/<int:session_id>/agenda/<int:item_id>/move")
@login_required
def agenda_move(session_id: int, item_id: int) -> Any:
    session = services.get_session(current_user, session_id)
    delta = -1 if request.form.get("direction") == "up" else 1
    services.move_agenda_item(current_user, services.get_agenda_item(session, item_id), delta)
    return redirect(url_for("sessions.agenda", session_id=session_id))


# --------------------------------------------------------------------------- sites, rosters


@bp.route("/sessions/<int:session_id>/sites/<int:site_id>", methods=["GET", "POST"])
@login_required
def site(session_id: int, site_id: int) -> Any:
    """The chair and coordinators of one site of the session (organisers)."""
    require_staff(current_user)
    session = services.get_session(current_user, session_id)
    ss = services.get_session_site(session, site_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = forms.site_data(request.form)
        try:
            services.update_session_site(current_user, session, site_id, data)
        except DomainError as exc:
            errors = form_errors(exc)
        else:
            flash(gettext("Saved."), "success")
            return redirect(url_for("sessions.show", session_id=session.id))
        values = {"chair_name": data["chair_name"], "chair_title": data["chair_title"],
                  "coordinator_ids": data["coordinator_ids"]}
    else:
        values = {"chair_name": ss.chair_name or "", "chair_title": ss.chair_title or "",
                  "coordinator_ids": [u.id for u in ss.coordinators]}
    return render_template("sessions/site.html", session=session, ss=ss, values=values,
                           errors=errors, candidates=services.site_coordinator_users(site_id)), (
        422 if errors else 200)


@bp.get("/sessions/<int:session_id>/roster")
@login_required
def roster_overview(session_id: int) -> Any:
    session = services.get_session(current_user, session_id)
    my_ids = services.my_site_ids(current_user, session)
    if not current_user.is_staff and len(my_ids) == 1:
        return redirect(url_for("sessions.roster", session_id=session_id, site_id=my_ids[0]))
    rows = [r for r in services.site_rows(session) if r.site_id in my_ids]
    return render_template("sessions/roster_overview.html", session=session, rows=rows,
                           can_edit=services.can_edit(current_user), errors={})


def _roster_page(session: TrainingSession, site_id: int, *, errors: dict[str, list[str]],
                 values: dict[str, Any] | None = None, status: int = 200) -> Any:
    services.require_roster_access(current_user, session, site_id)
    ss = services.get_session_site(session, site_id)
    q = request.args.get("q", "")[:200]
    page = max(1, _int_arg("page") or 1)
    stmt = services.roster_stmt(current_user, session, site_id, q)
    total = db.session.scalar(
        db.select(db.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = db.session.execute(stmt.limit(ROSTER_PER_PAGE)
                              .offset((page - 1) * ROSTER_PER_PAGE)).all()
    present = services.checked_in_ids(session, [p.id for _, p in rows])
    site_row = next(r for r in services.site_rows(session) if r.site_id == site_id)

    def args(**kw: Any) -> str:
        base: dict[str, Any] = {"q": q, "page": page}
        base.update(kw)
        return urlencode({k: v for k, v in base.items() if v not in ("", None)})

    return render_template(
        "sessions/roster.html", session=session, ss=ss, row=site_row, rows=rows, total=total,
        present=present, q=q, page=page, per_page=ROSTER_PER_PAGE, args=args,
        can_edit=services.can_edit(current_user), errors=errors, values=values or {},
        units=ss.site.current_units, my_site_ids=services.my_site_ids(current_user, session),
    ), status


@bp.get("/sessions/<int:session_id>/sites/<int:site_id>/roster")
@login_required
def roster(session_id: int, site_id: int) -> Any:
    session = services.get_session(current_user, session_id)
    return _roster_page(session, site_id, errors={})


@bp.post("/sessions/<int:session_id>/sites/<int:site_id>/roster")
@login_required
def roster_add(session_id: int, site_id: int) -> Any:
    """Add to one site's roster: everyone of the site, of a unit, or one person by code."""
    from trainer.people.services import by_code

    session = services.get_session(current_user, session_id)
    require_staff(current_user)
    services.get_session_site(session, site_id)
    mode = request.form.get("mode", "")
    try:
        if mode == "site":
            result = services.register_participants(current_user, session, site_ids=[site_id])
        elif mode == "unit":
            unit_id = request.form.get("unit_id", "")
            result = services.register_participants(current_user, session,
                                                     unit_ids=[unit_id] if unit_id else [])
        else:
            code = request.form.get("code", "")
            person = by_code(code)
            if person is None:
                raise Invalid.field("code", gettext(
                    "No participant has the code %(code)s.", code=code.strip()[:20] or "–"))
            result = services.register_participants(current_user, session,
                                                     participant_ids=[person.id])
    except DomainError as exc:
        if exc.status == 403:
            raise
        return _roster_page(session, site_id, errors=form_errors(exc), values=request.form,
                            status=exc.status)
    if result.added:
        flash(ngettext("%(num)d person added to the roster.",
                       "%(num)d people added to the roster.", result.added), "success")
    else:
        flash(gettext("Nobody new: they were already on the roster."), "warning")
    return redirect(url_for("sessions.roster", session_id=session_id, site_id=site_id))


@bp.post("/sessions/<int:session_id>/sites/<int:site_id>/roster/<int:participant_id>/remove")
@login_required
def roster_remove(session_id: int, site_id: int, participant_id: int) -> Any:
    session = services.get_session(current_user, session_id)
    try:
        services.unregister(current_user, session, participant_id)
    except DomainError as exc:
        if exc.status == 403:
            raise
        flash(str(exc.detail), "error")
    else:
        flash(gettext("Removed."), "success")
    return redirect(url_for("sessions.roster", session_id=session_id, site_id=site_id))


@bp.post("/sessions/<int:session_id>/sites/<int:site_id>/roster/clear")
@login_required
def roster_clear(session_id: int, site_id: int) -> Any:
    session = services.get_session(current_user, session_id)
    removed = services.clear_site_roster(current_user, session, site_id)
    flash(ngettext("%(num)d person taken off the roster.",
                   "%(num)d people taken off the roster.", removed), "success")
    return redirect(url_for("sessions.roster", session_id=session_id, site_id=site_id))


# --------------------------------------------------------------------------- calendar files


def _ics_response(body: bytes, filename: str) -> Response:
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "private, no-cache",
    })


@bp.get("/sessions/<int:session_id>.ics", endpoint="ics")
@login_required
def ics_file(session_id: int) -> Any:
    session = services.get_session(current_user, session_id)
    page = url_for("sessions.show", session_id=session.id, _external=True)
    return _ics_response(ics.session_calendar(session, page), f"session-{session.id}.ics")


@bp.get("/calendar")
@login_required
def calendar_page() -> Any:
    require_any(current_user)
    key = calendar_key(current_user)
    feed_url = url_for("sessions.feed", key=key, _external=True)
    return render_template("sessions/calendar.html", feed_url=feed_url,
                           webcal_url="webcal://" + feed_url.split("://", 1)[-1])


@bp.get("/calendar/<key>.ics")
def feed(key: str) -> Any:
    """A personal feed: the secret key in the address stands for the login."""
    try:
        user = services.user_for_calendar_key(key)
    except DomainError:
        abort(404)
    sessions = services.feed_sessions(user)
    body = ics.calendar(sessions, ics.feed_name(user), lambda s: url_for(
        "sessions.show", session_id=s.id, _external=True))
    return _ics_response(body, "trainer.ics")


# --------------------------------------------------------------------------- trainings


@trainings_bp.get("", endpoint="index")
@login_required
def trainings_index() -> Any:
    trainings = list(db.session.scalars(services.list_trainings(current_user)))
    return render_template("trainings/index.html", trainings=trainings)


@trainings_bp.get("/<int:training_id>", endpoint="show")
@login_required
def training_show(training_id: int) -> Any:
    training = services.get_training(current_user, training_id)
    ids = [s.id for s in training.sessions]
    return render_template("trainings/show.html", training=training,
                           totals=services.registered_totals(ids), by_sex=bysex.registered(ids))


@trainings_bp.route("/new", methods=["GET", "POST"], endpoint="edit")
@trainings_bp.route("/<int:training_id>/edit", methods=["GET", "POST"], endpoint="edit")
@login_required
def training_edit(training_id: int | None = None) -> Any:
    require_staff(current_user)
    training = services.get_training(current_user, training_id) if training_id else None
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = forms.training_data(request.form)
        try:
            if training is None:
                training = services.create_training(current_user, data)
            else:
                services.update_training(current_user, training, data)
        except DomainError as exc:
            errors = form_errors(exc)
        else:
            flash(gettext("Saved."), "success")
            return redirect(url_for("trainings.show", training_id=training.id))
        values = forms.training_values(form=request.form)
    else:
        values = forms.training_values(training, year=_today().year)
    return render_template("trainings/form.html", training=training, values=values,
                           errors=errors), (422 if errors else 200)



from trainer.sessions import roster_views as _roster_views  # noqa: E402,F401  (routes on bp)
