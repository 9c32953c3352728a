"""Bodies built to break the JSON parser: a 5,000-digit integer, arrays nested 50,000 deep.
They used to answer 500 with a traceback in the log, on public endpoints too; now 400."""

from __future__ import annotations

import logging
from typing import Any

import pytest

HUGE_INT = "9" * 5000
DEEP = "[" * 50_000 + "]" * 50_000


@pytest.mark.parametrize("body", [
    '{"participant_code": ' + HUGE_INT + "}",
    '{"participant_code": ' + DEEP + "}",
    DEEP,
])
@pytest.mark.parametrize("path", [
    "/api/v1/quizzes/1/attempts",   # public
    "/api/v1/auth/token",           # public
    "/api/v1/sites",                # needs a token
])
def test_unreadable_json_is_a_400_without_a_traceback(client: Any, caplog: Any, path: str,
                                                      body: str, api_as: Any,
                                                      make_user: Any) -> None:
    headers = {"Content-Type": "application/json"}
    if path == "/api/v1/sites":
        headers["Authorization"] = f"Bearer {api_as(make_user('organiser')).token}"
    with caplog.at_level(logging.WARNING):
        response = client.post(path, data=body, headers=headers)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 400
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


def test_a_huge_integer_in_a_query_is_refused_as_invalid(client: Any, api_as: Any,
                                                         make_user: Any) -> None:
    api = api_as(make_user("organiser"))
    response = api.get(f"/api/v1/participants?site_id={HUGE_INT}")
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"
