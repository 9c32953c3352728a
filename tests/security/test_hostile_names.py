"""Markup in data is shown as text: a participant named with an <img onerror> and a <script>
appears escaped on every page that shows a participant's name, and no page script builds HTML
from data (static/js: no innerHTML, outerHTML, insertAdjacentHTML, document.write, eval)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.security.conftest import HOSTILE_NAME, World, build_world  # type: ignore[import-not-found]

ESCAPED = ("&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(1)&lt;/script&gt;")
RAW = ("<img src=x", "<script>alert", "onerror=alert(1)>")
NAMES_A = (HOSTILE_NAME, f"{HOSTILE_NAME} Bình", f"{HOSTILE_NAME} Cúc")
STATIC_JS = Path(__file__).resolve().parents[2] / "static" / "js"


@pytest.fixture
def hostile(app: Any, tmp_path: Path) -> World:
    app.config["DATA_DIR"] = str(tmp_path / "data")
    return build_world(app, names_a=NAMES_A)


def logged_in(app: Any, user_id: int) -> Any:
    client = app.test_client()
    with client.session_transaction() as s:
        s["_user_id"] = f"{user_id}.0"  # "<id>.<session version>"
        s["_fresh"] = True
    return client


def assert_inert(body: str, where: str) -> None:
    for raw in RAW:
        assert raw not in body, f"{where}: raw markup {raw!r} in the page"


# (path, account, shows the name)
PAGES = [
    ("/participants", "organiser", True),
    ("/participants?site_id={a_site}", "coord_a", True),
    ("/participants/{a_participant}", "organiser", True),
    ("/participants/{a_participant}/edit", "organiser", True),
    ("/participants/badges?site_id={a_site}", "coord_a", True),
    ("/sessions/{session}/sites/{a_site}/roster", "organiser", True),
    ("/sessions/{session}/checkin/{a_site}", "coord_a", True),
    ("/sessions/{session}/flagged", "organiser", True),
    ("/sessions/{session}/wall", "organiser", False),
    ("/sessions/{session}/projector", "organiser", False),
    ("/quizzes/{quiz}/results", "organiser", True),
    ("/quizzes/{quiz}/paper?site_id={a_site}", "coord_a", True),
    ("/quizzes/{quiz}/paper?site_id={a_site}&participant_id={a_trainee}", "coord_a", True),
    ("/reports/sessions/{session}/certificates?site_id={a_site}", "organiser", True),
    ("/verify/{a_certificate}", None, True),
    # the search text, reflected into the page
    (f"/participants?q={HOSTILE_NAME}", "organiser", True),
    (f"/sites?q={HOSTILE_NAME}", "organiser", True),
    (f"/materials?q={HOSTILE_NAME}", "organiser", True),
]


def test_every_page_shows_the_name_as_text(app: Any, hostile: World) -> None:
    w = hostile
    values = {"a_site": w.a.site, "a_participant": w.a.participant, "a_trainee": w.a.trainee,
              "a_certificate": w.a.certificate, "session": w.session, "quiz": w.quiz}
    for template, account, shows in PAGES:
        path = template.format(**values)
        client = logged_in(app, w.users[account]) if account else app.test_client()
        response = client.get(path)
        body = response.get_data(as_text=True)
        assert response.status_code == 200, (path, body[:500])
        assert_inert(body, path)
        if shows:
            assert ESCAPED in body, f"{path}: the name is not shown (escaped)"


def test_import_preview_shows_names_as_text(app: Any, hostile: World) -> None:
    client = logged_in(app, hostile.users["organiser"])
    csv = f"Họ và tên,Giới tính,Mã điểm cầu\n{HOSTILE_NAME} Dung,Nữ,CK\n".encode()
    response = client.post("/participants/import", data={
        "file": (io.BytesIO(csv), "danh-sach.csv"), "site_id": str(hostile.a.site)})
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body[:500]
    assert_inert(body, "import preview")
    assert ESCAPED in body


def test_the_api_answers_json_not_html(app: Any, hostile: World) -> None:
    """The name travels as JSON (application/json, nosniff) for the pages' scripts to put in
    textContent; a browser never reads it as HTML."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {hostile.tokens['organiser']}"}
    for path in (f"/api/v1/sessions/{hostile.session}/roster?site_id={hostile.a.site}",
                 f"/api/v1/participants/{hostile.a.participant}",
                 f"/api/v1/quizzes/{hostile.quiz}/participants"):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        assert response.mimetype == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert HOSTILE_NAME in json.dumps(response.get_json(), ensure_ascii=False), path


# --------------------------------------------------------------------------- page scripts

# Building HTML from strings in a script: any use of these is refused, except assigning an
# empty string (clearing an element), listed here by file when a script needs it.
SINKS = re.compile(r"\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write(ln)?\s*\("
                   r"|\beval\s*\(|\bnew\s+Function\s*\(|\bsrcdoc\b")
CLEARING = re.compile(r"\.innerHTML\s*=\s*(''|\"\"|``)\s*;?\s*$")
ALLOWED: dict[str, set[int]] = {}  # file name -> line numbers allowed (none at present)


def test_page_scripts_never_build_html_from_strings() -> None:
    scripts = sorted(STATIC_JS.glob("*.js"))
    assert scripts, STATIC_JS
    found = []
    for script in scripts:  # static/vendor is a sibling folder: not searched
        for number, line in enumerate(script.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("//", 1)[0]
            if not SINKS.search(code):
                continue
            if CLEARING.search(code.strip()) or number in ALLOWED.get(script.name, set()):
                continue
            found.append(f"{script.name}:{number}: {line.strip()}")
    assert not found, "HTML built from strings (use textContent / createElement):\n" + \
        "\n".join(found)


def test_the_sink_check_can_fail(tmp_path: Path) -> None:
    """The pattern catches the usual ways of writing HTML from data."""
    for bad in ('row.innerHTML = `<td>${name}</td>`;', "el.outerHTML = html;",
                "list.insertAdjacentHTML('beforeend', item);", "document.write(x);",
                "eval(code);"):
        assert SINKS.search(bad) and not CLEARING.search(bad), bad
    assert CLEARING.search('list.innerHTML = "";')
