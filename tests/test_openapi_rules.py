"""The rules the OpenAPI document states are the rules the server applies: each pattern is made
from (or is) the rule's own code, and agrees with it both ways, as a JSON Schema validator reads
it (jsonschema_rs, ECMA-262 in Unicode mode) and as the services check."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainer import validation
from trainer.errors import Invalid
from trainer.materials.library import check_url
from trainer.quizzes.questions import TOPIC_KEY_PATTERN
from trainer.sessions.agenda import parse_time
from trainer.sessions.rules import TIME_PATTERN, clean_conference_url
from trainer.text import normalize_phone, phone_pattern

RULES = settings(max_examples=400, deadline=None, database=None, derandomize=True,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])  # app: read only
BMP = st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"])


def schema_accepts(pattern: str) -> Any:
    return jsonschema_rs.validator_for({"type": "string", "pattern": pattern}).is_valid


def accepted(rule: Any, value: str) -> bool:
    try:
        rule(value)
    except (validation.Rejected, Invalid, ValueError):
        return False
    return True


@pytest.mark.parametrize("blank", [False, True])
@RULES
@given(value=st.text(BMP, max_size=12) | st.sampled_from(
    ["", "  ", "\t\n", "a\x00", "\u200b", "\u200d", "Nguyễn\u3000Văn", " \u00a0x", "\x85"]))
def test_text_pattern_is_the_text_rule(app: Any, blank: bool, value: str) -> None:
    """Within the length a field allows, the pattern admits exactly what text() keeps: no
    control or format character, and (unless blank is allowed) not blank. (A blank text is
    "not given" before any other rule; the pattern does not invite blanks made of control
    characters such as U+0085.)"""
    keeps = accepted(lambda v: validation.text(v, 200, required=not blank), value)
    admits = schema_accepts(validation.text_pattern(blank=blank))(value)
    assert admits == keeps or (blank and keeps and not value.strip()), repr(value)


@RULES
@given(st.from_regex(re.compile(validation.text_pattern()), fullmatch=True))
def test_what_the_text_pattern_draws_is_kept(app: Any, value: str) -> None:
    assert validation.text(value, 10_000, required=True)


def test_format_characters_beyond_the_bmp_are_refused_though_not_in_the_pattern(app: Any) -> None:
    """TEXT_RULES says so: a tag character passes the pattern (no tool reads a class with it
    alike) and the server refuses it all the same."""
    assert schema_accepts(validation.text_pattern())("a\U000e0001")
    assert not accepted(lambda v: validation.text(v, 200), "a\U000e0001")
    assert "U+E0001" in validation.TEXT_RULES


@RULES
@given(st.text("+0123456789 .()-", max_size=22)
       | st.from_regex(re.compile(phone_pattern()), fullmatch=True))
def test_phone_pattern_is_normalize_phone(value: str) -> None:
    """Over digits, "+" and the separators, the pattern admits a number exactly when
    normalize_phone reads one (the empty text: no number, accepted by the services)."""
    if value.strip() and not value.startswith(" "):
        assert schema_accepts(phone_pattern())(value) == accepted(normalize_phone, value), value
    elif schema_accepts(phone_pattern())(value) and value:
        assert accepted(normalize_phone, value), value


@pytest.mark.parametrize(("number", "valid"), [
    ("0912 345 678", True), ("+84 (0)912.345.678", True), ("0084912345678", True),
    ("01662345678", True), ("0241234567", True), ("0612345678", False), ("+1 202 555 0100", False),
    ("091234567", False), ("", True)])
def test_phone_pattern_examples(number: str, valid: bool) -> None:
    assert schema_accepts(phone_pattern())(number) is valid


@pytest.mark.parametrize(("named_host", "rule"), [(False, check_url),
                                                  (True, clean_conference_url)])
@RULES
@given(data=st.data())
def test_web_address_patterns_draw_what_the_services_take(
        app: Any, named_host: bool, rule: Any, data: Any) -> None:
    pattern = validation.web_address_pattern(named_host=named_host)
    value = data.draw(st.from_regex(re.compile(pattern), fullmatch=True, alphabet=BMP))
    assert schema_accepts(pattern)(value)
    assert rule(value)


@pytest.mark.parametrize("value", ["javascript:alert(1)", "https://", "http://a b.vn",
                                   "ftp://x.vn", "https://meet.jit.si/\x00", "   "])
def test_web_address_patterns_refuse(value: str) -> None:
    for named_host in (False, True):
        assert not schema_accepts(validation.web_address_pattern(named_host=named_host))(value)
    assert schema_accepts(validation.web_address_pattern(blank=True))("   ")
    assert not schema_accepts(validation.web_address_pattern(named_host=True))("https://localhost/")


@RULES
@given(st.text("0123456789:hH. ", max_size=9) | st.from_regex(TIME_PATTERN, fullmatch=True))
def test_time_pattern_draws_times_parse_time_reads(value: str) -> None:
    if schema_accepts(TIME_PATTERN)(value):
        assert parse_time(value) is not None


@RULES
@given(st.text("aZ09-_ é", max_size=6))
def test_topic_key_pattern_is_read_alike(value: str) -> None:
    assert schema_accepts(TOPIC_KEY_PATTERN)(value) == bool(re.fullmatch(TOPIC_KEY_PATTERN,
                                                                          value))


def test_the_document_states_the_rules(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    participant = schemas["Participant"]["properties"]
    assert participant["phone"]["pattern"] == phone_pattern()
    assert participant["full_name"]["pattern"] == validation.text_pattern()
    assert participant["unit"]["pattern"] == validation.text_pattern(blank=True)
    assert schemas["Site"]["properties"]["code"]["pattern"].startswith("^[A-Za-z0-9]")
    assert schemas["TokenRequest"]["properties"]["password"]["pattern"] == \
        validation.NO_NUL_PATTERN
    assert {"required": ["participant_code"]} in schemas["PaperAnswersArgs"]["oneOf"]
    conference = schemas["SessionCreate"]["properties"]["conference"]["anyOf"]
    assert {"type": "object", "nullable": True, "enum": [None]} in conference
    year = next(p for p in spec["paths"]["/api/v1/reports/years/{year}"]["parameters"]
                if p["name"] == "year")
    assert (year["schema"]["minimum"], year["schema"]["maximum"]) == (2000, 2100)
    assert validation.TEXT_RULES in spec["info"]["description"]
