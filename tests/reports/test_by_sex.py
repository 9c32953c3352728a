"""Figures by sex wherever a count of people appears: every count of the session report JSON
has its split (women, men, not recorded) adding up to it; the quiz progress and results per
site; the session page's "Có mặt"."""

from __future__ import annotations

import re
from typing import Any

COUNTS = ("registered", "present", "quiz_submitted", "quiz_passed", "certificates")
SEXES = ("female", "male", "unspecified")


def check_split(row: dict[str, Any], where: str) -> None:
    ints = {k for k, v in row.items() if isinstance(v, int) and not isinstance(v, bool)
            and k not in ("site_id", "female", "male", "unspecified") and not k.endswith("_id")}
    # Every count of people in the row is split by sex (the sex columns themselves split
    # "present").
    assert ints <= set(COUNTS), (where, ints - set(COUNTS))
    assert set(row["by_sex"]) == set(COUNTS), where
    for key in COUNTS:
        split = row["by_sex"][key]
        assert set(split) == set(SEXES), (where, key)
        assert sum(split.values()) == row[key], (where, key, split, row[key])
    assert [row["by_sex"]["present"][s] for s in SEXES] == \
        [row["female"], row["male"], row["unspecified"]], where


def test_every_count_of_the_session_report_json_is_split_by_sex(world: Any, api_as: Any
                                                                 ) -> None:
    body = api_as(world.organiser).get(f"/api/v1/reports/sessions/{world.s1.id}").get_json()
    for row in body["sites"]:
        check_split(row, row["name"])
    check_split(body["totals"], "totals")
    t = body["totals"]["by_sex"]
    # s1: registered 3 women, 3 men, 1 not recorded; present 2 / 2 / 1; the counted quiz
    # attempts: submitted 2 / 1 / 1, passed 2 / 0 / 1; certificates due as passed.
    assert t["registered"] == {"female": 3, "male": 3, "unspecified": 1}
    assert t["present"] == {"female": 2, "male": 2, "unspecified": 1}
    assert t["quiz_submitted"] == {"female": 2, "male": 1, "unspecified": 1}
    assert t["quiz_passed"] == {"female": 2, "male": 0, "unspecified": 1}
    assert t["certificates"] == {"female": 2, "male": 0, "unspecified": 1}
    ck = next(r for r in body["sites"] if r["code"] == "CK")
    assert ck["by_sex"]["registered"] == {"female": 1, "male": 2, "unspecified": 1}


def test_summary_rows_carry_the_split(world: Any, api_as: Any) -> None:
    body = api_as(world.organiser).get(
        f"/api/v1/reports/trainings/{world.training.id}").get_json()
    for row in [*body["sessions"], *body["sites"], body["totals"]]:
        for key in ("registered", "quiz_submitted", "quiz_passed"):
            assert sum(row["by_sex"][key].values()) == row[key]


def test_session_page_shows_present_by_sex(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    html = client.get(f"/sessions/{world.s1.id}", headers={"Accept-Language": "vi"}
                      ).get_data(as_text=True)
    stat = re.search(r'data-testid="present-stat">(.*?)</div>', html, re.S).group(1)
    text = " ".join(re.sub(r"<[^>]+>", " ", stat).split())
    assert text == "5 Có mặt · nữ 2 · nam 2 · chưa rõ 1"
    assert "Có mặt, chưa rõ giới tính" in html and "Chưa rõ" in html


def test_quiz_progress_and_results_by_site_and_sex(world: Any, client: Any, login: Any,
                                                   api_as: Any) -> None:
    progress = api_as(world.organiser).get(
        f"/api/v1/quizzes/{world.main.id}/progress").get_json()
    ck = next(r for r in progress["sites"] if r["site_id"] == world.ck.id)
    # CK: p4 (woman, 80%), p5 (man, started only), p6 (not recorded, 70%).
    assert (ck["started"], ck["submitted"], ck["passed"]) == (3, 2, 2)
    assert (ck["started_female"], ck["started_male"], ck["started_unspecified"]) == (1, 1, 1)
    assert (ck["submitted_female"], ck["submitted_male"], ck["submitted_unspecified"]) \
        == (1, 0, 1)
    assert (ck["passed_female"], ck["passed_male"], ck["passed_unspecified"]) == (1, 0, 1)
    login(world.organiser)
    page = client.get(f"/quizzes/{world.main.id}", headers={"Accept-Language": "vi"}
                      ).get_data(as_text=True)
    row = re.search(rf'<tr data-site-id="{world.ck.id}" data-testid="progress-row">(.*?)</tr>',
                    page, re.S).group(1)
    assert " ".join(re.sub(r"<[^>]+>", " ", row).split()) == (
        "Huyện Cẩm Khê 3 nữ 1 · nam 1 · chưa rõ 1 2 nữ 1 · nam 0 · chưa rõ 1 "
        "2 nữ 1 · nam 0 · chưa rõ 1")
    results = client.get(f"/quizzes/{world.main.id}/results",
                         headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert 'data-k="present-by-sex">nữ 1 · nam 1 · chưa rõ 1' in results


def test_session_lists_show_who_is_expected_by_sex(world: Any, client: Any,
                                                   login: Any) -> None:
    login(world.organiser)
    headers = {"Accept-Language": "vi"}
    for path in ("/sessions?tab=past", f"/trainings/{world.training.id}"):
        html = client.get(path, headers=headers).get_data(as_text=True)
        splits = [" ".join(re.sub(r"<[^>]+>", " ", m).split())
                  for m in re.findall(r'data-testid="expected-by-sex">(.*?)</small>', html)]
        # s1: 7 registered (3 women, 3 men, 1 not recorded); s2: 4 (3 women, 1 man).
        assert "nữ 3 · nam 3 · chưa rõ 1" in splits, (path, splits)
        assert "nữ 3 · nam 1" in splits, (path, splits)
