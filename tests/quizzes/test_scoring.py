"""Scoring rules, checked against values worked out by hand."""

from __future__ import annotations

from fractions import Fraction

import pytest

from trainer.quizzes.scoring import question_score, result

A, B, C, D, E = 11, 12, 13, 14, 15


@pytest.mark.parametrize(("chosen", "expected"), [
    ([B], 2), ([A], 0), ([], 0), ([A, B], 0), ([99], 0),
])
def test_single_choice_full_points_only_for_the_correct_option(chosen: list[int],
                                                                expected: int) -> None:
    assert question_score("single", 2, [B], chosen, [A, B, C]) == expected


@pytest.mark.parametrize(("chosen", "expected"), [([A], 1), ([B], 0), ([], 0), ([A, B], 0)])
def test_true_false(chosen: list[int], expected: int) -> None:
    assert question_score("true_false", 1, [A], chosen, [A, B]) == expected


@pytest.mark.parametrize(("chosen", "expected"), [
    ([A, B], 1), ([B, A], 1), ([A], 0), ([A, B, C], 0), ([C], 0), ([], 0),
])
def test_multiple_all_or_nothing(chosen: list[int], expected: int) -> None:
    assert question_score("multiple", 1, [A, B], chosen, [A, B, C, D],
                          "all_or_nothing") == expected


# 4 options, A and B correct, 1 point: +1/2 per correct ticked, -1/2 per wrong ticked, floor 0.
@pytest.mark.parametrize(("chosen", "expected"), [
    ([A, B], Fraction(1)),
    ([A], Fraction(1, 2)),
    ([A, C], Fraction(0)),          # 1/2 - 1/2
    ([A, B, C], Fraction(1, 2)),    # 1 - 1/2
    ([A, B, C, D], Fraction(0)),    # ticking everything earns nothing
    ([C], Fraction(0)),             # -1/2 floored at 0
    ([C, D], Fraction(0)),
    ([], Fraction(0)),
])
def test_multiple_partial_credit(chosen: list[int], expected: Fraction) -> None:
    assert question_score("multiple", 1, [A, B], chosen, [A, B, C, D], "partial") == expected


def test_multiple_partial_with_uneven_counts() -> None:
    # 5 options, A B C correct, D E wrong, 2 points: A, B and D -> 2*2/3 - 2/2 = 1/3.
    assert question_score("multiple", 2, [A, B, C], [A, B, D], [A, B, C, D, E],
                          "partial") == Fraction(1, 3)
    # A, B, C, D -> 2 - 1 = 1
    assert question_score("multiple", 2, [A, B, C], [A, B, C, D], [A, B, C, D, E],
                          "partial") == 1


def test_partial_rule_does_not_apply_to_single_choice() -> None:
    assert question_score("single", 1, [A], [A, B], [A, B, C], "partial") == 0


def test_result_percent_and_pass_mark_compared_exactly() -> None:
    two_thirds = result([Fraction(1), Fraction(1), Fraction(0)], 3, 66.67)
    assert two_thirds.as_dict() == {"score": 2.0, "max_score": 3.0, "percent": 66.67,
                                    "passed": False}  # 66.666... < 66.67
    assert result([Fraction(1), Fraction(1), Fraction(0)], 3, 66.66).passed is True
    assert result([Fraction(7)], 10, 70).passed is True  # exactly the mark passes
    assert result([Fraction(69, 10)], 10, 70).passed is False
    assert result([], 0, 0).as_dict() == {"score": 0.0, "max_score": 0.0, "percent": 0.0,
                                          "passed": False}
