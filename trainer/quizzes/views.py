"""Quiz pages: the trainee's phone flow, the question bank, the builder, the quiz page with
its room screen and QR code, results, export and paper answers.

Thin: parse -> call trainer.quizzes.services -> render. The trainee pages carry no question,
option or answer: the attempt API brings those (see static/js/quiz-take.js).
"""

from __future__ import annotations

import io
import re
from typing import Any

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext, lazy_pgettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from trainer.auth.services import require_any, require_staff
from trainer.errors import Conflict, DomainError, Forbidden, Invalid
from trainer.extensions import db
from trainer.quizzes import bysex, services, sources
from trainer.quizzes.export import export_xlsx
from trainer.validation import form_errors

bp = Blueprint("quizzes", __name__)

KIND_LABELS = {
    "single": _l("Single choice"),
    "multiple": _l("Multiple choice"),
    "true_false": _l("True / false"),
}
RULE_LABELS = {
    "all_or_nothing": _l("All or nothing"),
    "partial": _l("Partial credit"),
}
REVEAL_LABELS = {
    "after_close": _l("When the quiz closes"),
    "after_submit": _l("Right after each trainee submits"),
    "never": _l("Never"),
}
STATUS_LABELS = {"draft": _l("Draft"), "open": lazy_pgettext("quiz status", "Open"), "closed": _l("Closed")}
STATUS_BADGE = {"draft": "warn", "open": "ok", "closed": "ended"}
MAX_OPTION_ROWS = 6


def _value(x: Any) -> Any:
    return getattr(x, "value", x)


def _int(value: Any) -> int | None:
    value = str(value or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


def _minutes(seconds: Any) -> str:
    if not seconds:
        return ""
    minutes = seconds / 60
    return str(int(minutes)) if minutes == int(minutes) else f"{minutes:.1f}"


@bp.app_template_global("quiz_labels")
def quiz_labels() -> dict[str, Any]:
    return {"kind": KIND_LABELS, "rule": RULE_LABELS, "reveal": REVEAL_LABELS,
            "status": STATUS_LABELS, "badge": STATUS_BADGE}


@bp.app_template_global("quiz_endpoint_exists")
def endpoint_exists(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def rule_text(rule: Any) -> str:
    """The multiple-choice scoring rule as the back end words it."""
    return services.multiple_rule_text(_value(rule))


def _materials_url(session_id: int) -> str | None:
    """The session's shared materials page (materials feature), if that route exists."""
    pattern = re.compile(r"^/s/<(?:int:)?session_id>/materials/?$")
    for rule in current_app.url_map.iter_rules():
        if pattern.match(rule.rule) and "GET" in (rule.methods or ()):
            return url_for(rule.endpoint, session_id=session_id)
    return None


def short_url(quiz: Any) -> str:
    return url_for("quizzes.short", short_code=quiz.short_code, _external=True)


# --------------------------------------------------------------------------- trainee

def _take_i18n() -> dict[str, str]:
    return {
        "who": gettext("%(name)s (%(code)s)"),
        "saved": gettext("Saved"),
        "saving": gettext("Saving…"),
        "pending": gettext("Not saved yet"),
        "offline": gettext("Offline — will retry"),
        "save_error": gettext("Not saved"),
        "choose_one": gettext("Choose one answer."),
        "choose_all": gettext("Choose all the answers that apply."),
        "choose_tf": gettext("True or false?"),
        "question_n": gettext("Question %(n)s of %(total)s"),
        "answered": gettext("%(n)s of %(total)s answered"),
        "unanswered": gettext("%(n)s questions have no answer. Submit anyway?"),
        "submitting": gettext("Submitting…"),
        "submit_offline": gettext("No network: your answers are kept on this phone and will "
                                  "be submitted as soon as the network is back."),
        "time_up": gettext("Time is up: submitting your saved answers."),
        "passed": gettext("Passed"),
        "failed": gettext("Not passed"),
        "review": gettext("Correct answers"),
        "your_answer": gettext("your answer"),
        "right_answer": gettext("right answer"),
        "points": gettext("%(earned)s of %(points)s points"),
        "need_code": gettext("Type your participant code, or scan your badge."),
        "starting": gettext("Starting…"),
        "resuming": gettext("Resuming your quiz…"),
        "resume_again": gettext("Type your code again to continue your quiz."),
        "network": gettext("No network. Check the Wi-Fi or mobile data and try again."),
        "no_camera": gettext("The camera is not available: type the code instead."),
    }


def _reveal_text(reveal: Any) -> str:
    value = _value(reveal)
    if value == "never":
        return gettext("The correct answers are not shown for this quiz.")
    if value == "after_submit":
        return gettext("The correct answers will appear here in a moment.")
    return gettext("The correct answers will be shown here when the organiser closes the quiz. "
                   "This page checks every 20 seconds.")


def _render_take(quiz: Any) -> Any:
    session = getattr(quiz, "session", None)
    response = current_app.make_response(render_template(
        "quizzes/take.html",
        quiz=quiz,
        status=_value(quiz.status),
        session_title=session.title if session is not None else None,
        rule_text=rule_text(quiz.multiple_rule),
        reveal_text=_reveal_text(quiz.reveal),
        minutes=_minutes,
        question_count=services.question_count(quiz),
        i18n=_take_i18n(),
        api_base="/api/v1",
        materials_url=_materials_url(quiz.session_id),
    ))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/q/<short_code>")
def short(short_code: str) -> Any:
    if len(short_code) > 32:
        abort(404)
    return _render_take(services.quiz_by_short_code(short_code))


@bp.get("/quizzes/<int:quiz_id>/take")
def take(quiz_id: int) -> Any:
    return _render_take(services.get_quiz(quiz_id))


# --------------------------------------------------------------------------- question bank

def _topics() -> list[Any]:
    return list(services.list_topics())


def _topic_choices() -> list[tuple[str, str]]:
    from trainer.i18n import lang

    out = []
    for t in _topics():
        name = (t.name_en or t.name) if lang() == "en" else t.name
        out.append((t.key, name))
    return out


@bp.get("/quizzes/bank")
@login_required
def bank() -> Any:
    require_staff(current_user)
    topic = request.args.get("topic") or None
    q = request.args.get("q", "")[:200]
    show_retired = request.args.get("retired") == "1"
    questions = list(services.list_questions(current_user, topic=topic, q=q or None,
                                             include_retired=show_retired))
    topics = _topic_choices()
    if topic and topic not in {k for k, _ in topics}:
        topic = None
    grouped: list[tuple[str, str, list[Any]]] = []
    for key, name in topics + [("", gettext("No topic"))]:
        rows = [x for x in questions if (x.topic or "") == key]
        if rows:
            grouped.append((key, name, rows))
    return render_template("quizzes/bank.html", grouped=grouped, topics=topics, topic=topic,
                           q=q, show_retired=show_retired, total=len(questions))


def _question_values(question: Any | None) -> dict[str, Any]:
    if question is None:
        return {"topic": request.args.get("topic", ""), "kind": "single", "text": "",
                "points": "1", "explanation": "", **sources.form_values(None),
                "options": [{"text": "", "correct": False} for _ in range(4)]}
    return {"topic": question.topic or "", "kind": _value(question.kind),
            "text": question.text, "points": str(question.points),
            "explanation": question.explanation or "", **sources.form_values(question),
            "options": [{"id": o.id, "text": o.text, "correct": o.correct}
                        for o in question.options]}


def _question_from_form() -> tuple[dict[str, Any], dict[str, Any]]:
    """(values to show again, data for the service) from the posted form."""
    form = request.form
    kind = form.get("kind", "single")
    correct = set(form.getlist("correct"))
    rows: list[dict[str, Any]] = []
    for i in range(_int(form.get("option_rows")) or MAX_OPTION_ROWS):
        if i >= 20:
            break
        text = form.get(f"option_{i}", "")
        rows.append({"text": text, "correct": str(i) in correct,
                     "id": _int(form.get(f"option_id_{i}"))})
    values = {"topic": form.get("topic", ""), "kind": kind, "text": form.get("text", ""),
              "points": form.get("points", "1"), "explanation": form.get("explanation", ""),
              "options": rows, **{k: form.get(k, "") for k in sources.FORM_FIELDS}}
    options = [{"text": r["text"], "correct": r["correct"]} for r in rows if r["text"].strip()]
    data: dict[str, Any] = {
        "topic": values["topic"] or None, "kind": kind, "text": values["text"],
        "points": _int(values["points"]) if _int(values["points"]) is not None
        else values["points"],
        "explanation": values["explanation"], "options": options,
    }
    return values, data


@bp.route("/quizzes/bank/new", methods=["GET", "POST"])
@bp.route("/quizzes/bank/<int:question_id>/edit", methods=["GET", "POST"])
@login_required
def question_form(question_id: int | None = None) -> Any:
    require_staff(current_user)
    question = services.get_question(current_user, question_id) if question_id else None
    values = _question_values(question)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values, data = _question_from_form()
        try:
            question = sources.save_question(current_user, question, data, request.form)
        except DomainError as exc:
            errors = form_errors(exc)
        else:
            flash(gettext("Question saved."), "success")
            return redirect(url_for("quizzes.bank", topic=question.topic or None,
                                    _anchor=f"question-{question.id}"))
    rows = list(values["options"])
    while len(rows) < MAX_OPTION_ROWS:
        rows.append({"text": "", "correct": False})
    values["options"] = rows
    return render_template("quizzes/question_form.html", question=question, values=values,
                           errors=errors, topics=_topic_choices()), (422 if errors else 200)


@bp.post("/quizzes/bank/<int:question_id>/retire")
@login_required
def question_retire(question_id: int) -> Any:
    question = services.get_question(current_user, question_id)
    retired = request.form.get("retired", "1") == "1"
    services.retire_question(current_user, question, retired=retired)
    flash(gettext("Question retired: new quizzes will not use it.") if retired
          else gettext("Question restored."), "success")
    back = request.form.get("next", "")
    from trainer.security import is_safe_next

    return redirect(back if is_safe_next(back) else url_for("quizzes.bank"))


# --------------------------------------------------------------------------- builder

def _session_choices() -> list[Any]:
    from trainer.sessions.services import sessions_stmt

    return list(db.session.scalars(sessions_stmt(current_user, newest_first=True).limit(200)))


def _bool(name: str) -> bool:
    return request.form.get(name) in ("1", "on", "true", "yes")


def _builder_defaults(quiz: Any | None, session_id: int | None) -> dict[str, Any]:
    if quiz is None:
        return {"session_id": session_id, "title": "", "time_limit_min": "15",
                "pass_percent": "50", "attempts_allowed": "1", "shuffle_questions": True,
                "shuffle_options": True, "multiple_rule": "all_or_nothing",
                "reveal": "after_close", "allow_unchecked": False, "question_ids": [],
                "draws": {}}
    return {"session_id": quiz.session_id, "title": quiz.title,
            "time_limit_min": _minutes(quiz.time_limit_s) if quiz.time_limit_s else "",
            "pass_percent": f"{quiz.pass_percent:g}",
            "attempts_allowed": str(quiz.attempts_allowed),
            "shuffle_questions": quiz.shuffle_questions, "shuffle_options": quiz.shuffle_options,
            "multiple_rule": _value(quiz.multiple_rule), "reveal": _value(quiz.reveal),
            "allow_unchecked": quiz.allow_unchecked,
            "question_ids": [item.question_id for item in quiz.items],
            "draws": {d.topic: str(d.count) for d in quiz.draws}}


def _builder_from_form() -> tuple[dict[str, Any], dict[str, Any], dict[str, list[str]]]:
    form = request.form
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {
        "session_id": _int(form.get("session_id")), "title": form.get("title", ""),
        "time_limit_min": form.get("time_limit_min", "").strip(),
        "pass_percent": form.get("pass_percent", "").strip(),
        "attempts_allowed": form.get("attempts_allowed", "").strip(),
        "shuffle_questions": _bool("shuffle_questions"),
        "shuffle_options": _bool("shuffle_options"),
        "multiple_rule": form.get("multiple_rule", "all_or_nothing"),
        "reveal": form.get("reveal", "after_close"),
        "allow_unchecked": _bool("allow_unchecked"),
        "question_ids": [i for i in (_int(x) for x in form.getlist("question_ids")) if i],
        "draws": {k.removeprefix("draw_"): v.strip() for k, v in form.items()
                  if k.startswith("draw_")},
    }
    time_limit_s: Any = None
    if values["time_limit_min"]:
        try:
            minutes = float(values["time_limit_min"].replace(",", "."))
        except ValueError:
            errors["time_limit_s"] = [gettext("Give the time limit in minutes, e.g. 15.")]
        else:
            time_limit_s = round(minutes * 60)
    pass_percent: Any = values["pass_percent"] or None
    if pass_percent is not None:
        try:
            pass_percent = float(pass_percent.replace(",", "."))
        except ValueError:
            errors["pass_percent"] = [gettext("Give the pass mark as a number from 0 to 100.")]
    attempts: Any = values["attempts_allowed"] or "1"
    if _int(attempts) is None:
        errors["attempts_allowed"] = [gettext("Give a whole number, 1 or more.")]
    draws = []
    for topic, count in values["draws"].items():
        if not count or count == "0":
            continue
        if _int(count) is None:
            errors.setdefault("draws", []).append(gettext("Give a whole number of questions."))
            continue
        draws.append({"topic": topic, "count": _int(count)})
    data = {
        "session_id": values["session_id"], "title": values["title"],
        "time_limit_s": time_limit_s, "pass_percent": pass_percent,
        "attempts_allowed": _int(attempts), "shuffle_questions": values["shuffle_questions"],
        "shuffle_options": values["shuffle_options"], "multiple_rule": values["multiple_rule"],
        "reveal": values["reveal"], "allow_unchecked": values["allow_unchecked"],
        "question_ids": values["question_ids"], "draws": draws,
    }
    if data["pass_percent"] is None:
        data.pop("pass_percent")
    return values, data, errors


def _changed_only(quiz: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Leave out what did not change: once trainees have started, the back end refuses any
    mention of the questions, draws, pass mark or scoring rule, even unchanged."""
    data = dict(data)
    data.pop("session_id", None)
    current = {
        "question_ids": [item.question_id for item in quiz.items],
        "draws": sorted((d.topic, d.count) for d in quiz.draws),
        "pass_percent": quiz.pass_percent,
        "multiple_rule": _value(quiz.multiple_rule),
    }
    if data.get("question_ids") == current["question_ids"]:
        data.pop("question_ids")
    if sorted((d["topic"], d["count"]) for d in data.get("draws", [])) == current["draws"]:
        data.pop("draws", None)
    if "pass_percent" in data and data["pass_percent"] == current["pass_percent"]:
        data.pop("pass_percent")
    if data.get("multiple_rule") == current["multiple_rule"]:
        data.pop("multiple_rule")
    return data


@bp.route("/quizzes/new", methods=["GET", "POST"])
@bp.route("/quizzes/<int:quiz_id>/edit", methods=["GET", "POST"])
@login_required
def builder(quiz_id: int | None = None) -> Any:
    require_staff(current_user)
    quiz = services.get_quiz(quiz_id) if quiz_id else None
    values = _builder_defaults(quiz, _int(request.args.get("session_id")))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values, data, errors = _builder_from_form()
        if not errors:
            try:
                if quiz is None:
                    quiz = services.create_quiz(current_user, data)
                else:
                    services.update_quiz(current_user, quiz, _changed_only(quiz, data))
            except DomainError as exc:
                errors = form_errors(exc)
            else:
                flash(gettext("Quiz saved."), "success")
                return redirect(url_for("quizzes.show", quiz_id=quiz.id))
        if "time_limit_s" in errors:
            errors["time_limit_min"] = errors["time_limit_s"]
    questions = list(services.list_questions(current_user))
    topics = _topic_choices()
    counts = {key: sum(1 for x in questions if x.topic == key) for key, _ in topics}
    started = quiz is not None and any(
        row["started"] for row in services.progress(quiz.id)["sites"])
    return render_template(
        "quizzes/builder.html", quiz=quiz, values=values, errors=errors, started=started,
        sessions=_session_choices() if quiz is None else [quiz.session],
        questions=questions, topics=topics, topic_counts=counts,
        topic_names=dict(topics),
    ), (422 if errors else 200)


# --------------------------------------------------------------------------- quiz page

def _progress_rows(quiz: Any) -> list[dict[str, Any]]:
    """One row per site of the session: started / submitted / passed, each by sex too
    (zeros included)."""
    progress = services.progress(quiz.id) or {}
    by_site = {row["site_id"]: row for row in progress.get("sites", [])}
    rows = []
    host = quiz.session.host_site_id
    for ss in sorted(quiz.session.session_sites,
                     key=lambda s: (s.site_id != host, s.site.sort_key)):
        row = {"started": 0, "submitted": 0, "passed": 0, **bysex.empty(),
               **by_site.get(ss.site_id, {})}
        row.update(site_id=ss.site_id, name=ss.site.name, code=ss.site.code)
        rows.append(row)
    return rows


@bp.get("/quizzes/<int:quiz_id>")
@login_required
def show(quiz_id: int) -> Any:
    require_staff(current_user)
    quiz = services.get_quiz(quiz_id)
    rows = _progress_rows(quiz)
    return render_template("quizzes/show.html", quiz=quiz, rows=rows, short_url=short_url(quiz),
                           status=_value(quiz.status), rule_text=rule_text(quiz.multiple_rule),
                           minutes=_minutes, topic_names=dict(_topic_choices()))


@bp.post("/quizzes/<int:quiz_id>/status")
@login_required
def set_status(quiz_id: int) -> Any:
    status = request.form.get("status", "")
    try:
        services.set_status(current_user, quiz_id, status)
    except (Invalid, Conflict) as exc:
        db.session.rollback()
        flash(str(exc.detail), "error")
    else:
        flash(gettext("The quiz is open: trainees can start.") if status == "open"
              else gettext("The quiz is closed."), "success")
    back = request.form.get("next", "")
    from trainer.security import is_safe_next

    return redirect(back if is_safe_next(back) else url_for("quizzes.show", quiz_id=quiz_id))


@bp.get("/quizzes/<int:quiz_id>/qr.svg")
@login_required
def qr(quiz_id: int) -> Response:
    require_any(current_user)
    quiz = services.get_quiz(quiz_id)
    buffer = io.BytesIO()
    # A standalone SVG (xmlns) with a viewBox, so an <img> can scale it to any screen.
    segno.make(short_url(quiz), error="m").save(buffer, kind="svg", border=2, xmldecl=False,
                                                 svgns=True, omitsize=True, nl=False)
    return Response(buffer.getvalue(), mimetype="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=3600"})


@bp.get("/quizzes/<int:quiz_id>/screen")
@login_required
def screen(quiz_id: int) -> Any:
    """The room's screen: QR code, short link in huge type, live progress per site."""
    quiz = services.get_quiz_for_viewer(current_user, quiz_id)
    rows = _progress_rows(quiz)
    site_id = _int(request.args.get("site_id"))
    if site_id is not None:
        rows = [r for r in rows if r["site_id"] == site_id] or rows
    elif not current_user.is_staff:
        mine = set(current_user.site_ids)
        rows = [r for r in rows if r["site_id"] in mine] or rows
    from trainer.quizzes import statistics

    return render_template("quizzes/screen.html", quiz=quiz, rows=rows,
                           short_url=short_url(quiz), status=_value(quiz.status),
                           stats=statistics.cached_statistics(quiz))


@bp.get("/quizzes/<int:quiz_id>/live.json")
@login_required
def live(quiz_id: int) -> Any:
    """What a site page needs to show a quiz (status, short link, QR, progress)."""
    quiz = services.get_quiz_for_viewer(current_user, quiz_id)
    return jsonify({
        "quiz_id": quiz.id, "session_id": quiz.session_id, "title": quiz.title,
        "status": _value(quiz.status), "short_url": short_url(quiz),
        "qr_url": url_for("quizzes.qr", quiz_id=quiz.id),
        "screen_url": url_for("quizzes.screen", quiz_id=quiz.id),
        "sites": [{k: r[k] for k in ("site_id", "started", "submitted", "passed")}
                  for r in _progress_rows(quiz)],
    })


# --------------------------------------------------------------------------- results

@bp.get("/quizzes/<int:quiz_id>/results")
@login_required
def results(quiz_id: int) -> Any:
    body = services.site_results(quiz_id, current_user)
    quiz = services.get_quiz(quiz_id)
    from trainer.quizzes import statistics

    people = statistics.page_of(services.participant_results(quiz_id, current_user),
                                _int(request.args.get("page")) or 1)
    return render_template("quizzes/results.html", quiz=quiz, sites=body["sites"],
                           totals=body["totals"], people=people, questions=body["questions"],
                           stats=statistics.quiz_statistics(quiz),
                           status=_value(quiz.status), topic_names=dict(_topic_choices()))


@bp.get("/quizzes/<int:quiz_id>/results.xlsx")
@login_required
def export(quiz_id: int) -> Any:
    data = export_xlsx(quiz_id, current_user)
    quiz = services.get_quiz(quiz_id)
    name = f"quiz-{quiz.id}-{quiz.short_code}-results.xlsx"
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument."
                                    "spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, no-store"})


# --------------------------------------------------------------------------- paper answers

def _paper_questions(quiz: Any) -> list[tuple[str | None, list[Any]]]:
    """The questions a paper sheet may hold, in groups: (None, the picked ones: on every
    sheet), then for each random draw (topic, every question of the topic that can be drawn)."""
    picked = [item.question for item in quiz.items]
    fixed = {q.id for q in picked}
    groups: list[tuple[str | None, list[Any]]] = [(None, picked)] if picked else []
    for draw in quiz.draws:
        groups.append((draw.topic, [q for q in services.list_questions(None, topic=draw.topic)
                                    if q.id not in fixed]))
    return groups


@bp.route("/quizzes/<int:quiz_id>/paper", methods=["GET", "POST"])
@login_required
def paper(quiz_id: int) -> Any:
    """A coordinator enters the answers a trainee gave on paper (audited by the back end)."""
    require_any(current_user)
    quiz = services.get_quiz(quiz_id)
    sites = sorted((ss.site for ss in quiz.session.session_sites
                    if current_user.is_staff or ss.site_id in current_user.site_ids),
                   key=lambda s: (s.id != quiz.session.host_site_id, s.sort_key))
    if not sites:
        raise Forbidden(gettext("You coordinate other sites, not this session's."))
    site_id = _int(request.values.get("site_id"))
    if site_id not in {s.id for s in sites}:
        site_id = sites[0].id
    people = services.participant_results(quiz_id, current_user, site_id=site_id)
    participant_id = _int(request.values.get("participant_id"))
    person = next((p for p in people if p["participant_id"] == participant_id), None)
    groups = _paper_questions(quiz) if person else []
    questions = [q for _, qs in groups for q in qs]
    fixed = {q.id for topic, qs in groups if topic is None for q in qs}
    errors: dict[str, list[str]] = {}
    chosen: dict[int, list[int]] = {}
    on_paper: set[int] = set(fixed)
    if request.method == "POST" and person is not None:
        known = {q.id for q in questions}
        for q in questions:
            chosen[q.id] = [i for i in (_int(v) for v in request.form.getlist(f"q_{q.id}")) if i]
        on_paper |= {i for i in (_int(v) for v in request.form.getlist("on_paper"))
                     if i is not None and i in known}
        on_paper |= {qid for qid, ids in chosen.items() if ids}
        ordered = [q.id for q in questions if q.id in on_paper]
        try:
            attempt = services.enter_paper_answers(
                current_user, quiz_id, person["participant_id"],
                {str(qid): chosen.get(qid, []) for qid in ordered},
                question_ids=ordered if quiz.draws else None)
        except DomainError as exc:
            errors = form_errors(exc)
        else:
            flash(gettext("Paper answers of %(name)s saved: %(score)s of %(max)s points.",
                          name=person["full_name"], score=_num(attempt.score),
                          max=_num(attempt.max_score)), "success")
            return redirect(url_for("quizzes.paper", quiz_id=quiz_id, site_id=site_id))
    elif request.method == "POST":
        errors = {"participant_id": [gettext("Choose a participant of this site.")]}
    return render_template(
        "quizzes/paper.html", quiz=quiz, sites=sites, site_id=site_id, people=people,
        person=person, participant_id=participant_id, groups=groups, on_paper=on_paper,
        chosen=chosen, errors=errors, draws=bool(quiz.draws), status=_value(quiz.status),
        topic_names=dict(_topic_choices()),
    ), (422 if errors else 200)


def _num(x: Any) -> str:
    from trainer.i18n import fmt_number

    if x is None:
        return "–"
    return fmt_number(x, 0 if float(x) == int(x) else 1)


# --------------------------------------------------------------------------- session panel

@bp.app_template_global("session_quizzes")
def session_quizzes(session_id: int) -> list[Any]:
    """For templates/quizzes/_session_panel.html: the session's quizzes."""
    return list(services.quizzes_for_session(session_id))


from trainer.quizzes import stats_views as _stats_views  # noqa: E402,F401  (its routes on bp)
