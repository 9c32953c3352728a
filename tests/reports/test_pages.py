"""Report pages as people see them: figures, "–" for nothing to divide by, the chart, print
styles, the session page's panel, the index, and who may open what."""

from __future__ import annotations

import re
from typing import Any

import pytest


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def row(html: str, attr: str, splits: bool = False) -> str:
    """The text of a table row; without `splits`, the counts' splits by sex left out."""
    match = re.search(rf"<tr [^>]*{attr}[^>]*>(.*?)</tr>", html, re.S)
    assert match, attr
    body = match.group(1) if splits else \
        re.sub(r'<br><small class="muted rp-split".*?</small>', "", match.group(1), flags=re.S)
    return text_of(body)


def test_session_report_page(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    response = client.get(f"/reports/sessions/{world.s1.id}?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "css/reports.css" in html and "js/reports.js" in html
    table = html[html.index('data-testid="report-table"'):]
    assert row(table, f'data-site-id="{world.vt.id}"') == \
        "Thành phố Việt Trì Host 3 2 66.7% 1 1 0 50.0% 2 1 70.0"
    assert row(table, f'data-site-id="{world.yl.id}"') == "Huyện Yên Lập 0 0 – 0 0 0 – 0 0 –"
    assert row(table, 'data-testid="report-totals"') == "Total 7 5 71.4% 2 2 1 40.0% 4 3 72.5"
    # Registered, submitted and passed each carry their split by sex.
    assert row(table, 'data-testid="report-totals"', splits=True) == (
        "Total 7 women 3 · men 3 · not recorded 1 5 71.4% 2 2 1 40.0% "
        "4 women 2 · men 1 · not recorded 1 3 women 2 · men 0 · not recorded 1 72.5")
    chart = html[html.index('data-testid="sex-chart"'):html.index("</ol>")]
    # CK has the most people (3): a full-width bar, one third each for women, men, unspecified.
    ck = chart[chart.index(f'data-site-id="{world.ck.id}"'):]
    assert 'style="width: 100.00%"' in ck.split("</li>")[0]
    assert ck.split("</li>")[0].count('style="width: 33.33%"') == 3
    vt = chart[chart.index(f'data-site-id="{world.vt.id}"'):].split("</li>")[0]
    assert 'style="width: 66.67%"' in vt and vt.count('style="width: 50.00%"') == 2
    assert "Kiểm tra cuối buổi" in html
    gender = html[html.index('data-testid="gender-table"'):]
    assert row(gender, 'data-indicator="mean_percent"') == "Mean score 90.0 40.0 70.0 72.5 +50.0 pts 2.25"
    assert row(gender, 'data-indicator="passed"') == "Passed the quiz 2 0 1 3 +2 –"
    assert 'data-indicator="visits"' not in gender  # same as participants for one session


@pytest.mark.vietnamese_default
def test_vietnamese_by_default(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    html = client.get(f"/reports/sessions/{world.s1.id}").get_data(as_text=True)
    assert "66,7%" in html  # Vietnamese decimal comma


def test_empty_session_page(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    response = client.get(f"/reports/sessions/{world.s0.id}?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-testid="chart-empty"' in html and 'data-testid="sex-chart"' not in html
    assert "No quiz for this session." in html
    assert row(html, 'data-testid="report-totals"') == "Total 2 0 0.0% 0 0 0 –"


def test_print_stylesheet_is_a4() -> None:
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "static/css/reports.css").read_text()
    assert "@media print" in css and "size: A4" in css
    assert "print-color-adjust: exact" in css  # the bars keep their colours on paper


def test_summary_page(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    response = client.get(f"/reports/trainings/{world.training.id}?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    stats = text_of(html[html.index('data-testid="summary-stats"'):
                         html.index('data-testid="sessions-table"')])
    assert "2 Sessions" in stats and "9 Participant-visits" in stats
    assert "7 Participants (people)" in stats and "4 / 6 Communes reached" in stats
    sites = html[html.index('data-testid="sites-table"'):]
    assert row(sites, f'data-site-id="{world.ck.id}"').startswith("Huyện Cẩm Khê 5 4 2 1 1 50.0%")
    units = text_of(html[html.index('data-testid="units-table"'):])
    assert "Commune not recorded" in units
    year = client.get("/reports/years/2023?lang=en")
    assert year.status_code == 200
    assert 'data-testid="summary-empty"' in year.get_data(as_text=True)
    assert client.get("/reports/years/3000").status_code == 422


def test_coverage_page(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    html = client.get(f"/reports/coverage?training_id={world.training.id}&lang=en"
                      ).get_data(as_text=True)
    missing = text_of(html[html.index('data-testid="not-reached"'):])
    assert "Huyện Cẩm Khê (1) Xã Sơn Tình" in missing and "Huyện Yên Lập (1) Xã Mỹ Lung" in missing
    assert "Xã Tiên Lương" not in missing
    assert row(html, f'data-site-id="{world.vt.id}"') == "Thành phố Việt Trì 2 2 100.0% 2"
    chooser = client.get("/reports/coverage?lang=en")  # nothing chosen: a chooser
    assert chooser.status_code == 200
    page = chooser.get_data(as_text=True)
    assert 'data-testid="choose-training"' in page and 'data-testid="choose-year"' in page
    assert f'<option value="{world.training.id}">' in page
    assert client.get("/reports/coverage?year=abc").status_code == 422


def test_gender_page(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    for query in (f"session_id={world.s1.id}", f"training_id={world.training.id}", "year=2024"):
        response = client.get(f"/reports/gender?{query}&lang=en")
        assert response.status_code == 200, query
        html = response.get_data(as_text=True)
        assert 'data-testid="gender-table"' in html
        assert "Gap (women − men)" in html
    html = client.get(f"/reports/gender?training_id={world.training.id}&lang=en"
                      ).get_data(as_text=True)
    assert row(html, 'data-indicator="participants"') == "Participants (people) 4 2 1 7 +2 2.00"
    assert row(html, 'data-indicator="visits"').startswith("Participant-visits (check-ins) 5 3")
    chooser = client.get("/reports/gender?lang=en")  # nothing chosen: a chooser
    assert chooser.status_code == 200
    page = chooser.get_data(as_text=True)
    assert 'data-testid="choose-session"' in page and 'data-testid="choose-training"' in page
    assert f'value="{world.s1.id}"' in page


def test_certificates_page(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    html = client.get(f"/reports/sessions/{world.s1.id}/certificates?lang=en"
                      ).get_data(as_text=True)
    assert row(html, f'data-site-id="{world.ck.id}"').startswith("Huyện Cẩm Khê 3 2 2")
    assert f"/sessions/{world.s1.id}/certificates.pdf?site_id={world.ck.id}" in html
    people = client.get(f"/reports/sessions/{world.s1.id}/certificates?site_id={world.ck.id}"
                        f"&lang=en").get_data(as_text=True)
    assert "Phạm Thị Dung" in people and "Hoàng Văn Em" not in people
    assert f"/certificates/{world.s1.id}/{world.p4.id}.pdf" in people


def test_index_and_its_forms(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    html = client.get("/reports?lang=en").get_data(as_text=True)
    assert "Quản lý Trung tâm học tập cộng đồng" in html and "Tập huấn 2024" in html
    # s3 starts 31/12/2023 23:00 UTC, already 2024 in Việt Nam: only 2024 is offered.
    assert '<option value="2024">' in html and '<option value="2023">' not in html
    assert client.get(f"/reports?session_id={world.s1.id}").headers["Location"] == \
        f"/reports/sessions/{world.s1.id}"
    assert client.get(f"/reports?training_id={world.training.id}").headers["Location"] == \
        f"/reports/trainings/{world.training.id}"
    assert client.get("/reports?year=2024").headers["Location"] == "/reports/years/2024"
    assert client.get("/reports?year=x").status_code == 422
    nav = client.get("/sessions").get_data(as_text=True)
    assert 'href="/reports"' in nav


def test_session_page_links_to_the_report(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    html = client.get(f"/sessions/{world.s1.id}").get_data(as_text=True)
    assert 'data-testid="reports-panel"' in html
    assert f'href="/reports/sessions/{world.s1.id}"' in html
    assert f'href="/sessions/{world.s1.id}/report.xlsx"' in html


@pytest.mark.parametrize("path", [
    "/reports", "/reports/sessions/{s1}", "/reports/trainings/{t}", "/reports/years/2024",
    "/reports/coverage?year=2024", "/reports/gender?year=2024",
    "/reports/sessions/{s1}/certificates",
])
def test_pages_need_an_account(world: Any, client: Any, path: str) -> None:
    response = client.get(path.format(s1=world.s1.id, t=world.training.id))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_coordinator_pages(world: Any, client: Any, login: Any) -> None:
    login(world.coord_ck)
    html = client.get(f"/reports/sessions/{world.s1.id}?lang=en").get_data(as_text=True)
    assert "Only your sites are counted" in html
    assert "Huyện Cẩm Khê" in html and "Thành phố Việt Trì" not in html
    assert row(html, 'data-testid="report-totals"').startswith("Total 4 3 75.0%")
    assert client.get(f"/reports/sessions/{world.s3.id}").status_code == 403
    index = client.get("/reports?lang=en").get_data(as_text=True)
    assert "Buổi đầu năm" not in index  # s3: none of its sites


def test_unknown_session_page_is_404(world: Any, client: Any, login: Any) -> None:
    login(world.organiser)
    assert client.get("/reports/sessions/99999").status_code == 404
    assert client.get(f"/reports/sessions/{world.s1.id}?quiz_id={world.main.id + 100}"
                      ).status_code == 422


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_page_renders_in_both_languages(world: Any, client: Any, login: Any,
                                              lang: str) -> None:
    """A translation with a stray "%" must not break a page (Jinja formats every message)."""
    login(world.organiser)
    w = world
    for path in ("/reports", f"/reports/sessions/{w.s1.id}", f"/reports/sessions/{w.s0.id}",
                 f"/reports/trainings/{w.training.id}", "/reports/years/2024",
                 "/reports/years/2023", f"/reports/coverage?training_id={w.training.id}",
                 f"/reports/gender?session_id={w.s1.id}", "/reports/gender?year=2024",
                 f"/reports/sessions/{w.s1.id}/certificates",
                 f"/reports/sessions/{w.s1.id}/certificates?site_id={w.ck.id}",
                 f"/reports/sessions/{w.s2.id}/certificates", f"/sessions/{w.s1.id}"):
        response = client.get(f"{path}{'&' if '?' in path else '?'}lang={lang}")
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
        assert f'lang="{lang}"' in response.get_data(as_text=True)
    refused = client.get(f"/certificates/{w.s1.id}/{w.p2.id}.pdf?lang={lang}")
    assert refused.status_code == 409 and "Trần Văn Bình" in refused.get_data(as_text=True)
