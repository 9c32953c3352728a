"""What the performance work changed that a user or a script can see: the version in
a check-in's answer, live pushes that carry only the sites that changed (and stay exact when
another process made the change), token revocations and account changes that apply at once,
and simultaneous writes. Speed itself is measured in bench/, never asserted here."""

from __future__ import annotations

import threading
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, update

from trainer import live
from trainer.auth.models import ApiToken
from trainer.checkin import services as checkin
from trainer.dbtypes import utcnow
from trainer.extensions import db, socketio

NS = "/live"


@pytest.fixture
def province(app: Any, make_site: Any, make_user: Any, make_participant: Any,
             make_session: Any, register: Any) -> SimpleNamespace:
    host = make_site(code="VT", name="Thành phố Việt Trì", kind="host")
    a = make_site(code="CK", name="Huyện Cẩm Khê")
    b = make_site(code="DH", name="Huyện Đoan Hùng")
    organiser = make_user("organiser", username="organiser")
    coord_a = make_user("coordinator", sites=[a], username="coord_a")
    people_a = [make_participant(a, f"Nguyễn Thị Hà {i}", "female") for i in range(3)]
    people_b = [make_participant(b, f"Trần Văn Bình {i}", "male") for i in range(3)]
    session = make_session([host, a, b])
    register(session, people_a + people_b)
    return SimpleNamespace(host=host, a=a, b=b, organiser=organiser, coord_a=coord_a,
                           people_a=people_a, people_b=people_b, session=session)


@pytest.fixture
def watcher(app: Any, token_for: Any) -> Any:
    clients: list[Any] = []

    def make(user: Any, session_id: int) -> tuple[Any, dict[str, Any]]:
        sio = socketio.test_client(app, namespace=NS, auth={"token": token_for(user)},
                                   flask_test_client=app.test_client())
        clients.append(sio)
        ack = sio.emit("watch", {"session_id": session_id}, namespace=NS, callback=True)
        sio.get_received(NS)
        return sio, ack

    yield make
    for sio in clients:
        if sio.is_connected(NS):
            sio.disconnect(namespace=NS)


def pushes(sio: Any) -> list[dict[str, Any]]:
    return [m["args"][0] for m in sio.get_received(NS) if m["name"] == "attendance"]


def check_in(api: Any, session: Any, person: Any, **extra: Any) -> Any:
    return api.post(f"/api/v1/sessions/{session.id}/checkins",
                    json={"site_id": person.site_id, "participant_id": person.id, **extra})


# --- the version in the check-in's answer ----------------------------------------------------

def test_a_checkin_answers_the_attendance_version_that_includes_it(province: Any,
                                                                    api_as: Any) -> None:
    w, api = province, api_as(province.coord_a)
    first = check_in(api, w.session, w.people_a[0])
    assert first.status_code == 201
    attendance = api.get(f"/api/v1/sessions/{w.session.id}/attendance").get_json()
    assert first.get_json()["version"] == attendance["version"] == 1
    second = check_in(api, w.session, w.people_a[1])
    assert second.get_json()["version"] == 2
    again = check_in(api, w.session, w.people_a[0])  # already in: 200, nothing counted twice
    assert again.status_code == 200 and again.get_json()["version"] >= 1
    assert api.get(f"/api/v1/sessions/{w.session.id}/attendance").get_json()["version"] == 2


def test_the_openapi_document_describes_the_version(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    schema = spec["components"]["schemas"]["Checkin"]
    assert schema["properties"]["version"]["type"] == "integer"


def test_a_first_checkin_stores_its_flags_audit_entry_and_counters(province: Any,
                                                                   api_as: Any) -> None:
    """Flags, the audit entry, the site's counters and the answer of a first check-in."""
    from trainer.audit.models import AuditEntry
    from trainer.checkin.models import SiteAttendance
    from trainer.sessions.models import Checkin

    w, api = province, api_as(w_org := province.organiser)
    other = w.people_b[0]  # registered at b, checked in at a
    at = utcnow() - timedelta(minutes=5)
    body = api.post(f"/api/v1/sessions/{w.session.id}/checkins",
                    json={"site_id": w.a.id, "participant_code": other.code.lower(),
                          "at": at.isoformat(), "method": "scan",
                          "client_id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427"})
    assert body.status_code == 201, body.get_json()
    data = body.get_json()
    assert data["participant"]["code"] == other.code and data["participant"]["sex"] == "male"
    assert set(data["flags"]) == {"offline", "late_upload", "other_site_roster"}
    stored = db.session.get(Checkin, data["id"])
    assert stored.site_id == w.a.id and stored.method == "scan" and stored.by_user_id == w_org.id
    assert stored.device_at == at and stored.client_id == "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "checkin")).one()
    assert entry.details["checkin_id"] == data["id"] and entry.details["version"] == 1
    assert entry.details["client_id"] == stored.client_id and entry.participant_id == other.id
    assert sorted(entry.details["flags"]) == sorted(data["flags"])
    counts = db.session.get(SiteAttendance, (w.session.id, w.a.id))
    assert (counts.female, counts.male, counts.unspecified) == (0, 1, 0)
    assert counts.version == 1 and counts.last_checkin_at == at


# --- pushes with only the sites that changed -------------------------------------------------

def test_a_push_carries_the_changed_sites_and_the_totals(province: Any, api_as: Any,
                                                         watcher: Any) -> None:
    w, api = province, api_as(province.organiser)
    sio, ack = watcher(w.organiser, w.session.id)
    assert len(ack["sites"]) == 3  # the snapshot has every site
    check_in(api, w.session, w.people_a[0])
    [push] = pushes(sio)
    assert [s["site_id"] for s in push["sites"]] == [w.a.id]
    assert push["sites"][0]["present"] == 1 and push["sites"][0]["female"] == 1
    assert push["totals"] == {"registered": 6, "present": 1, "female": 1, "male": 0,
                              "unspecified": 0}
    check_in(api, w.session, w.people_b[0])
    [push] = pushes(sio)
    assert [s["site_id"] for s in push["sites"]] == [w.b.id]
    assert push["totals"]["present"] == 2 and push["totals"]["male"] == 1
    assert push["version"] > ack["version"]


def test_a_change_this_process_did_not_push_is_in_its_next_push(
        province: Any, api_as: Any, watcher: Any, monkeypatch: Any) -> None:
    """As when another server process takes a check-in: this one never hears of it, yet its
    next push (of another change) carries that site too, with counts that add up."""
    w, api = province, api_as(province.organiser)
    sio, _ack = watcher(w.organiser, w.session.id)
    with monkeypatch.context() as m:
        m.setattr(live, "schedule", lambda *a, **k: None)  # "another process"
        assert check_in(api, w.session, w.people_b[1]).status_code == 201
    assert pushes(sio) == []
    check_in(api, w.session, w.people_a[2])
    [push] = pushes(sio)
    assert {s["site_id"] for s in push["sites"]} == {w.a.id, w.b.id}
    assert push["totals"]["present"] == 2
    expected = api.get(f"/api/v1/sessions/{w.session.id}/attendance").get_json()
    assert push["version"] == expected["version"] and push["totals"] == expected["totals"]


def test_an_undo_is_pushed_for_its_site(province: Any, api_as: Any, watcher: Any) -> None:
    w, api = province, api_as(province.organiser)
    made = check_in(api, w.session, w.people_a[0]).get_json()
    sio, _ack = watcher(w.organiser, w.session.id)
    assert api.delete(f"/api/v1/sessions/{w.session.id}/checkins/{made['id']}"
                      ).status_code == 204
    [push] = pushes(sio)
    assert [(s["site_id"], s["present"]) for s in push["sites"]] == [(w.a.id, 0)]
    assert push["totals"]["present"] == 0


# --- tokens ----------------------------------------------------------------------------------

def test_a_revoked_token_is_refused_at_once(province: Any, client: Any, token_for: Any) -> None:
    token = token_for(province.organiser)
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/sessions/{province.session.id}/attendance"
    assert client.get(url, headers=headers).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 401


def test_account_changes_apply_at_once(province: Any, client: Any,
                                                         token_for: Any) -> None:
    coord = province.coord_a
    headers = {"Authorization": f"Bearer {token_for(coord)}"}
    url = f"/api/v1/sessions/{province.session.id}/roster?site_id={province.b.id}"
    assert client.get(url, headers=headers).status_code == 403  # not coordinator of b
    coord.sites = [province.a, province.b]
    db.session.commit()
    assert client.get(url, headers=headers).status_code == 200
    coord.active = False
    db.session.commit()
    assert client.get(url, headers=headers).status_code == 401


def test_an_expired_token_is_refused_at_once(province: Any, client: Any,
                                             token_for: Any) -> None:
    headers = {"Authorization": f"Bearer {token_for(province.organiser)}"}
    url = f"/api/v1/sessions/{province.session.id}/attendance"
    assert client.get(url, headers=headers).status_code == 200
    db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get(url, headers=headers).status_code == 401


# --- simultaneous writes ---------------------------------------------------------------------

def test_simultaneous_checkins_each_count_once(app: Any, province: Any, token_for: Any) -> None:
    """Several requests at once: every person once, versions 1..n with none repeated, even
    with the same person sent twice."""
    w = province
    token = token_for(w.organiser)
    people = w.people_a + w.people_b + [w.people_a[0]]
    bodies = [{"site_id": p.site_id, "participant_id": p.id} for p in people]
    path = f"/api/v1/sessions/{w.session.id}/checkins"
    db.session.commit()  # this thread's reads hold SQLite's write lock (BEGIN IMMEDIATE)
    results: list[Any] = []
    barrier = threading.Barrier(len(bodies))

    def send(body: dict[str, Any]) -> None:
        client = app.test_client()
        barrier.wait(timeout=10)
        response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    statuses = sorted(s for s, _ in results)
    assert statuses == [200] + [201] * 6, results
    versions = sorted(body["version"] for s, body in results if s == 201)
    assert versions == list(range(1, 7))
    attendance = checkin.attendance(w.session.id)
    assert attendance["totals"]["present"] == 6 and attendance["version"] == 6


def test_simultaneous_autosaves_and_submits_are_each_stored_and_scored(
        app: Any, province: Any, api_as: Any) -> None:
    """Answers and submits sent at once are each stored and scored as when sent alone; a wrong
    token is still refused."""
    from trainer.quizzes import services as quizzes
    from trainer.quizzes.models import Answer, Option

    w = province
    quiz = quizzes.create_quiz(w.organiser, {
        "session_id": w.session.id, "title": "Kiểm tra nhanh", "time_limit_s": 600,
        "pass_percent": 50,
        "questions": [{"text": f"Câu {q}", "kind": "single", "points": 1,
                       "options": [{"text": f"Ý {o}", "correct": o == 0} for o in range(3)]}
                      for q in range(2)]})
    quizzes.set_status(w.organiser, quiz.id, "open")
    api = api_as(w.organiser)
    people = w.people_a + w.people_b
    for person in people:
        assert check_in(api, w.session, person).status_code == 201
    anonymous = api_as(None)
    attempts = [anonymous.post(f"/api/v1/quizzes/{quiz.id}/attempts",
                               json={"participant_code": p.code}).get_json() for p in people]
    db.session.commit()
    correct = {o.question_id: o.id for o in db.session.scalars(
        select(Option).where(Option.correct.is_(True)))}
    db.session.commit()

    def right(question: dict[str, Any]) -> int:
        return correct[question["id"]]

    results: dict[int, Any] = {}
    barrier = threading.Barrier(len(attempts) + 1)

    def take(a: dict[str, Any]) -> None:
        client = app.test_client()
        headers = {"X-Attempt-Token": a["token"]}
        url = f"/api/v1/attempts/{a['attempt_id']}"
        barrier.wait(timeout=10)
        for q in a["questions"]:
            saved = client.put(url + "/answers", headers=headers,
                               json={"answers": {str(q["id"]): [q["options"][0]["id"]]}})
            assert saved.status_code == 200, saved.get_json()
        results[a["attempt_id"]] = client.post(url + "/submit", headers=headers).get_json()

    def intruder() -> None:
        client = app.test_client()
        barrier.wait(timeout=10)
        a = attempts[0]
        refused = client.put(f"/api/v1/attempts/{a['attempt_id']}/answers",
                             headers={"X-Attempt-Token": "x.y"},
                             json={"answers": {str(a["questions"][0]["id"]): []}})
        results[-1] = refused.status_code

    threads = [threading.Thread(target=take, args=(a,)) for a in attempts]
    threads.append(threading.Thread(target=intruder))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results.pop(-1) == 403
    assert len(results) == len(people)
    for a in attempts:
        stored = db.session.scalars(select(Answer).where(
            Answer.attempt_id == a["attempt_id"])).all()
        assert len(stored) == 2
        # the first option shown is correct or not: the score says how many were right
        expected = sum(1 for q in a["questions"] if q["options"][0]["id"] == right(q))
        assert results[a["attempt_id"]]["score"] == expected
        assert results[a["attempt_id"]]["passed"] == (expected >= 1)
