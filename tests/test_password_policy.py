"""Passwords an attacker guesses first are refused: short ones, ones holding the user name,
and the most common ones of public leaks (zxcvbn's list, not a hand-typed one)."""

from __future__ import annotations

from typing import Any

import pytest

from trainer.auth.services import create_user, set_password
from trainer.errors import Invalid


@pytest.mark.parametrize(("username", "password", "words"), [
    ("hoa_ct", "ngan-qua", "at least 10"),
    ("hoa_ct", "my-hoa_ct-2024", "user name"),
    ("hoa_ct", "HOA_CT-secret!", "user name"),
    ("hoa_ct", "1234567890", "most common"),
    ("hoa_ct", "qwertyuiop", "most common"),
    ("hoa_ct", "Password123", "most common"),
    ("hoa_ct", "iloveyou12", "most common"),
])
def test_weak_passwords_are_refused(app: Any, username: str, password: str,
                                    words: str) -> None:
    with pytest.raises(Invalid) as caught:
        create_user(username, password, "organiser")
    assert words in str(caught.value.errors["password"][0])


def test_a_good_password_is_taken_and_changes_are_checked_too(app: Any, client: Any,
                                                             make_user: Any,
                                                             api_as: Any) -> None:
    user = create_user("hoa_ct", "rung cọ đồi chè 1984", "organiser")
    with pytest.raises(Invalid):
        set_password(user, "password1234"[:10])  # "password12": common
    admin = make_user("admin")
    response = api_as(admin).post("/api/v1/users", json={
        "username": "lan_dh", "password": "lan_dh_2024!", "role": "organiser"})
    assert response.status_code == 422
    assert "password" in response.get_json()["errors"]


def test_the_openapi_document_states_the_password_rule(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    password = next(s["properties"]["password"] for s in schemas.values()
                    if "password" in s.get("properties", {})
                    and "role" in s.get("properties", {}))
    assert password["minLength"] == 10
    assert "most common" in password["description"]
