"""Hostile input through the pages (the API's is schemathesis' job, test_hostile_api.py): NUL
and other control characters, huge numbers and over-long text in paths, query strings and form
fields answer 4xx with a page, never a 5xx (PostgreSQL refuses a NUL byte in any string)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from tests.security.conftest import Frozen  # type: ignore[import-not-found]
from tests.security.test_permissions import TABLE, R, context  # type: ignore[import-not-found]

PAGE_GETS = [r for r in TABLE if r.method == "GET" and not r.path.startswith(("/api/",
                                                                              "/static/"))]
FORM_POSTS = [r for r in TABLE if r.method == "POST" and not r.path.startswith("/api/")]
NASTY = ["\x00", "a\x00b", "\x1b[31m", "\u202e", "9" * 40, "-1", "x" * 5000]


def logged_in(frozen: Frozen, account: str = "organiser") -> Any:
    client = frozen.app.test_client()
    with client.session_transaction() as s:
        s["_user_id"] = f"{frozen.world.users[account]}.0"  # "<id>.<session version>"
        s["_fresh"] = True
    return client


def no_server_error(response: Any, what: str) -> None:
    body = response.get_data().decode("utf-8", "replace")
    response.close()
    assert response.status_code < 500, f"{what}: {response.status_code} {body[:500]}"
    assert "Traceback" not in body


@pytest.mark.parametrize("route", PAGE_GETS, ids=[r.id for r in PAGE_GETS])
def test_query_strings(frozen: Frozen, route: R) -> None:
    path = route.path.format(**vars(context(frozen, "org")))
    glue = "&" if "?" in path else "?"
    for value in NASTY:
        v = quote(value)
        url = f"{path}{glue}q={v}&site_id={v}&page={v}&quiz_id={v}&year={v}&topic={v}"
        with frozen.isolated(files=False):
            no_server_error(logged_in(frozen).get(url), url)


@pytest.mark.parametrize("path", [
    "/verify/{v}", "/q/{v}", "/calendar/{v}.ics", "/participants/import/{v}",
    "/participants/import/{v}/cancel", "/sessions/{v}", "/participants/{v}",
    "/materials/{v}/file", "/reports/years/{v}", "/static/{v}",
])
def test_path_segments(frozen: Frozen, path: str) -> None:
    for value in NASTY + ["99999999999999999999", "2147483648", "2147483647"]:
        url = path.format(v=quote(value, safe=""))
        for method in ("GET", "POST"):
            with frozen.isolated(files=False):
                no_server_error(logged_in(frozen).open(url, method=method), f"{method} {url}")


@pytest.mark.parametrize("route", FORM_POSTS, ids=[r.id for r in FORM_POSTS])
def test_form_fields(frozen: Frozen, route: R) -> None:
    """Each text field of the table's (valid) form, made hostile in turn: a 4xx with the form
    or an error page, or the request is done with the text stored as sent (never a 5xx)."""
    ctx = context(frozen, "org")
    path = route.path.format(**vars(ctx))
    account = None if route.path == "/login" else "organiser"
    base = route.form(ctx) if route.form is not None else {}
    names = [k for k, v in base.items() if isinstance(v, str | int)] or ["title"]
    for name in names:
        for value in ("a\x00b", "\x00", "9" * 40, "x" * 5000):
            data = {**(route.form(ctx) if route.form is not None else {}), name: value}
            with frozen.isolated():
                client = logged_in(frozen) if account else frozen.app.test_client()
                no_server_error(client.post(path, data=data), f"{path} {name}={value[:10]!r}")


def test_login_with_a_nul_byte(frozen: Frozen) -> None:
    with frozen.isolated():
        response = frozen.app.test_client().post(
            "/login", data={"username": "organiser\x00", "password": "x\x00"})
        no_server_error(response, "login")
        assert response.status_code in (400, 401, 422)
        assert urlsplit(response.headers.get("Location", "")).path != "/"


def test_a_nul_byte_in_a_form_is_refused_and_nothing_is_saved(frozen: Frozen) -> None:
    from sqlalchemy import func, select

    from trainer.extensions import db
    from trainer.sites.models import Site

    with frozen.isolated():
        before = db.session.scalar(select(func.count()).select_from(Site))
        response = logged_in(frozen).post("/sites/new", data={
            "code": "TS", "name": "Huyện\x00Tân Sơn", "kind": "bridge"})
        no_server_error(response, "sites/new")
        assert response.status_code == 400
        assert db.session.scalar(select(func.count()).select_from(Site)) == before
