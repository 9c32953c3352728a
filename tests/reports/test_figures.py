"""Report figures against the hand-computed province of conftest.py (expected numbers written
out literally), through the JSON API."""

from __future__ import annotations

from typing import Any

import pytest

from trainer.extensions import db


def by_code(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["code"]: r for r in rows}


def pick(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: row[k] for k in keys}


SITE_KEYS = ("registered", "present", "attendance_percent", "female", "male", "unspecified",
             "female_percent", "quiz_submitted", "quiz_passed", "quiz_mean_percent",
             "quiz_passed_percent", "certificates")


def test_session_report_per_site_and_totals(world: Any, api_as: Any) -> None:
    response = api_as(world.organiser).get(f"/api/v1/reports/sessions/{world.s1.id}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["quiz"]["title"] == "Kiểm tra cuối buổi"  # the latest opened; drafts never count
    assert [r["code"] for r in body["sites"]] == ["VT", "CK", "YL"]  # host first, then by name
    sites = by_code(body["sites"])
    # VT: p1 F (best of 40 % and 100 %: 100, passed), p2 M (40 %), p3 absent.
    assert pick(sites["VT"], *SITE_KEYS) == {
        "registered": 3, "present": 2, "attendance_percent": 66.67, "female": 1, "male": 1,
        "unspecified": 0, "female_percent": 50.0, "quiz_submitted": 2, "quiz_passed": 1,
        "quiz_mean_percent": 70.0, "quiz_passed_percent": 50.0, "certificates": 1}
    # CK: p4 F 80 %, p5 M started only, p6 U 70 %, p7 absent.
    assert pick(sites["CK"], *SITE_KEYS) == {
        "registered": 4, "present": 3, "attendance_percent": 75.0, "female": 1, "male": 1,
        "unspecified": 1, "female_percent": 33.33, "quiz_submitted": 2, "quiz_passed": 2,
        "quiz_mean_percent": 75.0, "quiz_passed_percent": 100.0, "certificates": 2}
    # YL: nobody registered: no rate at all, never a division by zero.
    assert pick(sites["YL"], *SITE_KEYS) == {
        "registered": 0, "present": 0, "attendance_percent": None, "female": 0, "male": 0,
        "unspecified": 0, "female_percent": None, "quiz_submitted": 0, "quiz_passed": 0,
        "quiz_mean_percent": None, "quiz_passed_percent": None, "certificates": 0}
    assert pick(body["totals"], *SITE_KEYS) == {
        "registered": 7, "present": 5, "attendance_percent": 71.43, "female": 2, "male": 2,
        "unspecified": 1, "female_percent": 40.0, "quiz_submitted": 4, "quiz_passed": 3,
        "quiz_mean_percent": 72.5, "quiz_passed_percent": 75.0, "certificates": 3}
    assert body["totals"]["quiz_completion_percent"] == 80.0  # 4 of the 5 present submitted


def test_another_quiz_can_be_picked(world: Any, api_as: Any) -> None:
    api = api_as(world.organiser)
    body = api.get(f"/api/v1/reports/sessions/{world.s1.id}?quiz_id={world.old.id}").get_json()
    assert body["quiz"]["id"] == world.old.id
    assert pick(body["totals"], "quiz_submitted", "quiz_passed", "quiz_mean_percent",
                "certificates") == {"quiz_submitted": 1, "quiz_passed": 0,
                                    "quiz_mean_percent": 10.0, "certificates": 0}
    # A quiz of another session, or none at all: refused, naming the field.
    other = api.get(f"/api/v1/reports/sessions/{world.s2.id}?quiz_id={world.main.id}")
    assert other.status_code == 422
    assert "quiz_id" in other.get_json()["errors"]
    assert api.get(f"/api/v1/reports/sessions/{world.s1.id}?quiz_id=abc").status_code == 422


def test_session_without_checkins_or_quiz(world: Any, api_as: Any) -> None:
    body = api_as(world.organiser).get(f"/api/v1/reports/sessions/{world.s0.id}").get_json()
    assert body["quiz"] is None
    assert pick(body["totals"], *SITE_KEYS) == {
        "registered": 2, "present": 0, "attendance_percent": 0.0, "female": 0, "male": 0,
        "unspecified": 0, "female_percent": None, "quiz_submitted": 0, "quiz_passed": 0,
        "quiz_mean_percent": None, "quiz_passed_percent": None, "certificates": 0}
    gender = {i["key"]: i for i in body["gender"]}
    assert gender["participant_share_percent"]["female"] is None
    assert gender["completion_percent"]["total"] is None  # no quiz: not 0 %
    assert gender["mean_percent"] == {"key": "mean_percent", "kind": "score", "female": None,
                                      "male": None, "unspecified": None, "total": None,
                                      "gap": None, "ratio": None}


def test_matches_the_live_attendance(world: Any, api_as: Any) -> None:
    """The report counts what the wall counts (registered at the roster's site, present at the
    check-in site)."""
    from trainer.checkin.services import attendance

    live = attendance(world.s1.id)
    body = api_as(world.organiser).get(f"/api/v1/reports/sessions/{world.s1.id}").get_json()
    keys = ("registered", "present", "female", "male", "unspecified")
    assert {r["site_id"]: pick(r, *keys) for r in body["sites"]} == \
        {r["site_id"]: pick(r, *keys) for r in live["sites"]}
    assert pick(body["totals"], *keys) == pick(live["totals"], *keys)


GENDER_S1 = {
    # key: (female, male, unspecified, total, gap, ratio)
    "registered": (3, 3, 1, 7, 0, 1.0),
    "participants": (2, 2, 1, 5, 0, 1.0),
    "participant_share_percent": (40.0, 40.0, 20.0, 100.0, 0.0, 1.0),
    "attendance_percent": (66.67, 66.67, 100.0, 71.43, 0.0, 1.0),
    "submitted": (2, 1, 1, 4, 1, 2.0),
    "completion_percent": (100.0, 50.0, 100.0, 80.0, 50.0, 2.0),
    "passed": (2, 0, 1, 3, 2, None),  # no man passed: no ratio
    "pass_percent": (100.0, 0.0, 100.0, 75.0, 100.0, None),
    "mean_percent": (90.0, 40.0, 70.0, 72.5, 50.0, 2.25),
}


def test_gender_view_of_a_session(world: Any, api_as: Any) -> None:
    response = api_as(world.organiser).get(f"/api/v1/reports/gender?session_id={world.s1.id}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["kind"] == "session"
    got = {i["key"]: (i["female"], i["male"], i["unspecified"], i["total"], i["gap"], i["ratio"])
           for i in body["indicators"]}
    for key, expected in GENDER_S1.items():
        assert got[key] == expected, key
    assert [(s["code"], s["female"], s["male"], s["female_percent"]) for s in body["sites"]] == [
        ("VT", 1, 1, 50.0), ("CK", 1, 1, 33.33), ("YL", 0, 0, None)]


def test_training_summary(world: Any, api_as: Any) -> None:
    response = api_as(world.organiser).get(f"/api/v1/reports/trainings/{world.training.id}")
    assert response.status_code == 200
    body = response.get_json()
    assert [s["title"] for s in body["sessions"]] == ["Quản lý Trung tâm học tập cộng đồng",
                                                      "Lồng ghép giới"]
    t = body["totals"]
    # Visits: s1 p1 p2 p4 p5 p6, s2 p1 p3 p5 p9 = 9; people: p1 p2 p3 p4 p5 p6 p9 = 7.
    assert pick(t, "sessions", "registered", "visits", "participants", "visits_female",
                "visits_male", "visits_unspecified", "participants_female", "participants_male",
                "participants_unspecified", "participants_female_percent",
                "attendance_percent") == {
        "sessions": 2, "registered": 11, "visits": 9, "participants": 7, "visits_female": 5,
        "visits_male": 3, "visits_unspecified": 1, "participants_female": 4,
        "participants_male": 2, "participants_unspecified": 1,
        "participants_female_percent": 57.14, "attendance_percent": 81.82}
    sites = by_code(body["sites"])
    people = ("visits", "participants", "participants_female", "participants_male",
              "participants_unspecified")
    assert pick(sites["VT"], *people) == {"visits": 4, "participants": 3,
                                          "participants_female": 2, "participants_male": 1,
                                          "participants_unspecified": 0}
    assert pick(sites["CK"], *people) == {"visits": 5, "participants": 4,
                                          "participants_female": 2, "participants_male": 1,
                                          "participants_unspecified": 1}
    assert "YL" not in sites  # nobody checked in there, nobody registered
    units = {u["name"]: pick(u, "site_code", *people) for u in body["units"]}
    assert units == {
        "Phường Gia Cẩm": {"site_code": "VT", "visits": 3, "participants": 2,
                           "participants_female": 1, "participants_male": 1,
                           "participants_unspecified": 0},
        "Phường Tân Dân": {"site_code": "VT", "visits": 1, "participants": 1,
                           "participants_female": 1, "participants_male": 0,
                           "participants_unspecified": 0},
        "Xã Tiên Lương": {"site_code": "CK", "visits": 3, "participants": 2,
                          "participants_female": 1, "participants_male": 1,
                          "participants_unspecified": 0},
        "Xã Văn Bán": {"site_code": "CK", "visits": 1, "participants": 1,
                       "participants_female": 0, "participants_male": 0,
                       "participants_unspecified": 1},
        None: {"site_code": None, "visits": 1, "participants": 1, "participants_female": 1,
               "participants_male": 0, "participants_unspecified": 0},  # p9, no commune
    }
    gender = {i["key"]: i for i in body["gender"]}
    assert pick(gender["participants"], "female", "male", "gap", "ratio") == {
        "female": 4, "male": 2, "gap": 2, "ratio": 2.0}
    assert pick(gender["visits"], "female", "male", "total") == {"female": 5, "male": 3,
                                                                  "total": 9}
    # Completion counts only sessions with a quiz (s1): 2 of 2 women, 1 of 2 men.
    assert pick(gender["completion_percent"], "female", "male", "total") == {
        "female": 100.0, "male": 50.0, "total": 80.0}


def test_year_summary_uses_the_local_calendar(world: Any, api_as: Any) -> None:
    """s3 starts 01/01/2024 06:00 in Việt Nam (31/12/2023 23:00 UTC): it belongs to 2024."""
    api = api_as(world.organiser)
    body = api.get("/api/v1/reports/years/2024").get_json()
    assert [s["session_id"] for s in body["sessions"]] == [world.s3.id, world.s1.id,
                                                           world.s2.id, world.s0.id]
    # s0 is not held yet: listed above, left out of the totals (its 2 registered too)
    assert pick(body["totals"], "sessions", "visits", "participants", "registered") == {
        "sessions": 3, "visits": 10, "participants": 7, "registered": 11}
    empty = api.get("/api/v1/reports/years/2023").get_json()
    assert empty["sessions"] == [] and empty["sites"] == [] and empty["units"] == []
    assert pick(empty["totals"], "visits", "participants", "attendance_percent",
                "participants_female_percent", "quiz_mean_percent") == {
        "visits": 0, "participants": 0, "attendance_percent": None,
        "participants_female_percent": None, "quiz_mean_percent": None}
    assert api.get("/api/v1/reports/years/1899").status_code == 422


def test_coverage(world: Any, api_as: Any) -> None:
    api = api_as(world.organiser)
    response = api.get(f"/api/v1/reports/coverage?training_id={world.training.id}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["totals"] == {"units": 6, "reached": 4, "reached_percent": 66.67,
                              "reached_with_women": 3, "not_reached": 2,
                              "participants_without_unit": 1}
    sites = by_code(body["sites"])
    assert pick(sites["VT"], "units", "reached", "reached_percent", "not_reached") == {
        "units": 2, "reached": 2, "reached_percent": 100.0, "not_reached": []}
    assert pick(sites["CK"], "units", "reached", "reached_with_women") == {
        "units": 3, "reached": 2, "reached_with_women": 1}  # Văn Bán: only p6 (unspecified)
    assert [u["name"] for u in sites["CK"]["not_reached"]] == ["Xã Sơn Tình"]
    assert [u["name"] for u in sites["YL"]["not_reached"]] == ["Xã Mỹ Lung"]
    # By year: the same communes (s3 brings p2 of Gia Cẩm again); a year without sessions.
    assert api.get("/api/v1/reports/coverage?year=2024").get_json()["totals"]["reached"] == 4
    none = api.get("/api/v1/reports/coverage?year=2023").get_json()
    assert pick(none["totals"], "units", "reached", "reached_percent") == {
        "units": 6, "reached": 0, "reached_percent": 0.0}
    # Exactly one of training_id and year.
    assert api.get("/api/v1/reports/coverage").status_code == 422
    both = api.get(f"/api/v1/reports/coverage?training_id={world.training.id}&year=2024")
    assert both.status_code == 422
    assert api.get("/api/v1/reports/coverage?training_id=9999").status_code == 404


def test_no_units_and_no_sessions_is_not_an_error(app: Any, make_site: Any, make_user: Any,
                                                  api_as: Any) -> None:
    from trainer.sessions.models import Training

    make_site(code="A1", name="Huyện Một")
    training = Training(title="Chưa có buổi nào", year=2025)
    db.session.add(training)
    db.session.commit()
    api = api_as(make_user("organiser"))
    cov = api.get(f"/api/v1/reports/coverage?training_id={training.id}").get_json()
    assert cov["totals"]["units"] == 0 and cov["totals"]["reached_percent"] is None
    summary = api.get(f"/api/v1/reports/trainings/{training.id}").get_json()
    assert summary["totals"]["participants"] == 0
    assert {i["key"]: i["ratio"] for i in summary["gender"]}["participants"] is None


def test_gender_view_needs_exactly_one_scope(world: Any, api_as: Any) -> None:
    api = api_as(world.organiser)
    assert api.get("/api/v1/reports/gender").status_code == 422
    assert api.get(f"/api/v1/reports/gender?session_id={world.s1.id}&year=2024"
                   ).status_code == 422
    year = api.get("/api/v1/reports/gender?year=2024").get_json()
    assert year["kind"] == "year" and year["sessions"] == 4
    assert {i["key"]: i["total"] for i in year["indicators"]}["visits"] == 10


@pytest.mark.parametrize("path", [
    "/api/v1/reports/sessions/{s1}",
    "/api/v1/reports/trainings/{training}",
    "/api/v1/reports/years/2024",
    "/api/v1/reports/coverage?training_id={training}",
    "/api/v1/reports/gender?session_id={s1}",
    "/api/v1/reports/sessions/{s1}/certificates?site_id={ck}",
])
def test_anonymous_callers_get_401(world: Any, api_as: Any, path: str) -> None:
    url = path.format(s1=world.s1.id, training=world.training.id, ck=world.ck.id)
    response = api_as(None).get(url)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_coordinators_see_their_sites_only(world: Any, api_as: Any) -> None:
    api = api_as(world.coord_ck)
    body = api.get(f"/api/v1/reports/sessions/{world.s1.id}").get_json()
    assert body["scope_site_ids"] == [world.ck.id]
    assert [r["code"] for r in body["sites"]] == ["CK"]
    assert pick(body["totals"], "registered", "present", "quiz_submitted", "quiz_passed") == {
        "registered": 4, "present": 3, "quiz_submitted": 2, "quiz_passed": 2}
    summary = api.get(f"/api/v1/reports/trainings/{world.training.id}").get_json()
    assert [r["code"] for r in summary["sites"]] == ["CK"]
    assert summary["totals"]["participants"] == 4  # p4 p5 p6 p9
    cov = api.get("/api/v1/reports/coverage?year=2024").get_json()
    assert [r["code"] for r in cov["sites"]] == ["CK"]
    assert cov["totals"]["units"] == 3
    # s3 is held at VT only: not the coordinator's; a session of none of its sites: 403.
    assert api.get(f"/api/v1/reports/sessions/{world.s3.id}").status_code == 403
    other = api_as(world.coord_other)
    assert other.get(f"/api/v1/reports/sessions/{world.s1.id}").status_code == 403
    assert other.get(f"/api/v1/reports/trainings/{world.training.id}"
                     ).get_json()["sessions"] == []


def test_unknown_things_are_404(world: Any, api_as: Any) -> None:
    api = api_as(world.organiser)
    assert api.get("/api/v1/reports/sessions/99999").status_code == 404
    assert api.get("/api/v1/reports/trainings/99999").status_code == 404
    assert api.get("/api/v1/reports/gender?session_id=99999").status_code == 404


def test_openapi_documents_the_reports(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/reports/sessions/{session_id}", "/api/v1/reports/trainings/{training_id}",
                 "/api/v1/reports/years/{year}", "/api/v1/reports/coverage",
                 "/api/v1/reports/gender",
                 "/api/v1/reports/sessions/{session_id}/certificates"):
        operation = spec["paths"][path]["get"]
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert "$ref" in schema, path
    props = spec["components"]["schemas"]["SessionReport"]["properties"]
    assert {"session", "quiz", "sites", "totals", "gender"} <= set(props)
    row = spec["components"]["schemas"]["ReportSiteRow"]["properties"]
    assert {"registered", "present", "female", "male", "unspecified", "quiz_submitted",
            "quiz_passed", "quiz_mean_percent"} <= set(row)
