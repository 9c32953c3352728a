"""Language and time zone choice, and the date/time formats shown to people."""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, Response, current_app, has_request_context, request
from flask_babel import format_decimal, get_locale
from flask_login import current_user

LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


def select_locale() -> str:
    supported = current_app.config["LANGUAGES"]
    if not has_request_context():
        # The command line speaks the terminal's language: Vietnamese under a vi_* locale.
        env = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG", "")
        return "vi" if env.lower().startswith("vi") else "en"
    chosen = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in supported:
        return str(chosen)
    user = current_user
    if getattr(user, "is_authenticated", False) and getattr(user, "locale", None) in supported:
        return str(user.locale)
    return request.accept_languages.best_match(supported, default=supported[0]) or supported[0]


def select_timezone() -> str:
    return str(current_app.config["TIMEZONE"])


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_local(value: datetime) -> datetime:
    return value.astimezone(local_zone())


def fmt_date(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value)
    return value.strftime("%d/%m/%Y")


def fmt_time(value: datetime | None) -> str:
    return to_local(value).strftime("%H:%M") if value else ""


def fmt_datetime(value: datetime | None) -> str:
    return to_local(value).strftime("%d/%m/%Y %H:%M") if value else ""


def fmt_number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    fmt = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(value, format=fmt))


def fmt_percent(part: float | int | None, whole: float | int | None, digits: int = 0) -> str:
    if not whole or part is None:
        return "–"
    return fmt_number(100 * part / whole, digits) + "%"


def lang() -> str:
    return str(get_locale() or "vi")


def in_sentence(name: str | None) -> str:
    """A unit's name inside a Vietnamese sentence: "huyện Hạ Hòa", "xã Bằng Giã" (an English
    page keeps the name as written)."""
    from trainer.glossary import in_sentence as lower_admin_word

    return lower_admin_word(name) if lang().startswith("vi") else (name or "")


def fmt_size(value: int | float | None) -> str:
    """A file size the way the page's language writes it ("26,3 kB" in Vietnamese)."""
    from trainer.glossary import file_size

    return file_size(value, "en" if lang().startswith("en") else "vi")


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        date=fmt_date, time=fmt_time, datetime=fmt_datetime, number=fmt_number,
        local=to_local, filesizeformat=fmt_size, in_sentence=in_sentence,
    )
    app.jinja_env.globals.update(percent=fmt_percent, lang=lang)

    @app.after_request
    def _remember_language(response: Response) -> Response:
        """?lang=vi|en is kept in a cookie of its own for a year: not in the session, where an
        answer to a request that left before the choice (bringing the older session cookie)
        would undo it, and where logging out would forget it. The locale itself is chosen
        when a text is first translated (Flask-Babel asks select_locale then)."""
        chosen = request.args.get("lang") or ""
        if chosen in app.config["LANGUAGES"] and request.cookies.get(LANG_COOKIE) != chosen:
            response.set_cookie(LANG_COOKIE, chosen, max_age=LANG_COOKIE_MAX_AGE, httponly=True,
                                samesite="Lax", secure=bool(app.config.get("SESSION_COOKIE_SECURE")))
        return response
