"""Languages: Vietnamese by default, English beside it; the catalogue covers the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from flask_babel import get_locale, gettext, pgettext

from trainer.extensions import db

ROOT = Path(__file__).resolve().parent.parent
VI_PO = ROOT / "trainer" / "translations" / "vi" / "LC_MESSAGES" / "messages.po"


def catalogue(path: Path = VI_PO) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def is_translated(message: Any) -> bool:
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return all(s and s.strip() for s in strings) and "fuzzy" not in message.flags


def test_every_vi_message_is_translated() -> None:
    missing = [m.id for m in catalogue() if m.id and not is_translated(m)]
    assert missing == [], f"{len(missing)} messages without a Vietnamese translation, e.g. " \
                          f"{missing[:10]}"


def test_every_message_in_the_code_is_in_the_vi_catalogue(tmp_path: Path) -> None:
    """What `make messages` would extract (babel.cfg: Python, templates, JS) is catalogued."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).with_name("pybabel")), "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-k", "lazy_pgettext:1c,2", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True, timeout=300)
    extracted = catalogue(pot)
    vi = catalogue()
    absent = sorted(str(m.id) for m in extracted
                    if m.id and vi.get(m.id, context=m.context) is None)
    assert absent == [], f"{len(absent)} messages not in the vi catalogue (run `make messages`)," \
                         f" e.g. {absent[:10]}"


@pytest.mark.vietnamese_default
def test_the_app_shows_what_the_vi_catalogue_has(app: Any) -> None:
    translated = [m for m in catalogue() if m.id and is_translated(m)
                  and not m.pluralizable and "python-format" not in m.flags]
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "vi"}):
        assert str(get_locale()) == "vi"
        def shown(m: Any) -> str:
            return pgettext(m.context, m.id) if m.context else gettext(m.id)

        wrong = [(m.context, m.id, shown(m)) for m in translated if shown(m) != m.string]
    assert wrong == [], "stale compiled catalogue (.mo): run `make translations`"


@pytest.mark.parametrize("headers, query, expected", [
    ({}, "", "vi"),
    ({"Accept-Language": "en-GB,en;q=0.9"}, "", "en"),
    ({"Accept-Language": "fr"}, "", "vi"),
    ({"Accept-Language": "en"}, "?lang=vi", "vi"),
    ({}, "?lang=en", "en"),
    ({}, "?lang=xx", "vi"),
])
@pytest.mark.vietnamese_default
def test_language_choice(client: Any, headers: dict[str, str], query: str,
                         expected: str) -> None:
    html = client.get(f"/login{query}", headers=headers).get_data(as_text=True)
    assert f'<html lang="{expected}">' in html


def test_chosen_language_is_remembered(client: Any) -> None:
    client.get("/login?lang=en")
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)
    client.get("/login?lang=vi")
    assert '<html lang="vi">' in client.get("/login",
                                            headers={"Accept-Language": "en"}).get_data(
                                                as_text=True)


def test_the_choice_outlives_an_answer_that_brings_an_older_session(
        app: Any, client: Any, make_user: Any, login: Any) -> None:
    """A page's request that left before the language was changed answers with the session
    cookie it brought; that answer must not undo the choice (nor does logging out)."""
    user = make_user("organiser")
    user.locale = "en"
    db.session.commit()
    login(user)
    name = app.config["SESSION_COOKIE_NAME"]
    before = client.get_cookie(name).value
    assert '<html lang="vi">' in client.get("/sites?lang=vi").get_data(as_text=True)
    client.set_cookie(name, before)  # the late answer re-sets the session as it was
    assert '<html lang="vi">' in client.get("/sites").get_data(as_text=True)
    assert client.post("/logout").status_code == 302
    assert '<html lang="vi">' in client.get("/login").get_data(as_text=True)


def test_a_users_own_language_applies_once_logged_in(client: Any, make_user: Any,
                                                     login: Any) -> None:
    user = make_user("organiser")
    user.locale = "en"
    db.session.commit()
    login(user)
    assert '<html lang="en">' in client.get("/sites").get_data(as_text=True)


def test_dates_and_numbers_are_shown_the_vietnamese_way(app: Any) -> None:
    from datetime import UTC, datetime

    from trainer.i18n import fmt_date, fmt_datetime, fmt_time

    moment = datetime(2017, 3, 5, 17, 30, tzinfo=UTC)  # 00:30 on 6 March in Việt Trì
    with app.test_request_context():
        assert fmt_date(moment) == "06/03/2017"
        assert fmt_time(moment) == "00:30"
        assert fmt_datetime(moment) == "06/03/2017 00:30"
