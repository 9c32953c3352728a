"""Imports as an attacker sends them: far more rows than the cap (reading stops just past
it), and several at once by one user (one at a time)."""

from __future__ import annotations

from typing import Any

from trainer.people import importer

from .conftest import csv_bytes, xlsx_bytes


def _rows(n: int) -> list[list[str]]:
    return [["Họ và tên", "Mã điểm cầu"], *([f"Nguyễn Văn {i}", "LTH"] for i in range(n))]


def test_reading_stops_just_past_the_cap(app: Any) -> None:
    app.config["IMPORT_MAX_ROWS"] = 50
    for data in (csv_bytes(_rows(5_000)), xlsx_bytes(_rows(5_000))):
        rows = importer.read_rows(data)
        assert 51 <= len(rows) <= 50 + importer.MAX_HEADER_SCAN + 2
    # a file under the cap is read whole
    assert len(importer.read_rows(csv_bytes(_rows(40)))) == 41


def test_far_too_many_rows_are_refused_unread(app: Any, upload: Any, organiser: Any,
                                              sites: dict[str, Any]) -> None:
    app.config["IMPORT_MAX_ROWS"] = 100
    response = upload(organiser, xlsx_bytes(_rows(20_000)), "big.xlsx")
    assert response.status_code == 413
    assert "more than 100 rows" in response.get_json()["detail"]
    just_over = upload(organiser, csv_bytes(_rows(101)))
    assert just_over.status_code == 413
    assert upload(organiser, csv_bytes(_rows(100)), dry_run="true").status_code == 200


def test_one_import_at_a_time_per_user(app: Any, upload: Any, organiser: Any,
                                       make_user: Any, sites: dict[str, Any]) -> None:
    from trainer.offload import one_at_a_time

    data = csv_bytes(_rows(3))
    with one_at_a_time(f"import:{organiser.id}"):  # an import of this user is running
        busy = upload(organiser, data, dry_run="true")
        assert busy.status_code == 429
        assert busy.mimetype == "application/problem+json"
        assert int(busy.headers["Retry-After"]) >= 1
        assert "still being processed" in busy.get_json()["detail"]
        other = make_user("organiser", username="another_organiser")
        assert upload(other, data, dry_run="true").status_code == 200  # others go on
    assert upload(organiser, data, dry_run="true").status_code == 200  # then it is free
