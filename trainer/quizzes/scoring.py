"""Scoring rules, exact (fractions), standard library only.

- single and true_false: the full points when the chosen set is exactly the correct option,
  else 0.
- multiple, all_or_nothing: the full points when the chosen set is exactly the set of correct
  options, else 0.
- multiple, partial: each correct option ticked earns points / (number of correct options);
  each wrong option ticked takes away points / (number of wrong options); the question never
  scores below 0. Ticking every option therefore scores 0, ticking all the correct ones and
  nothing else scores the full points.

percent = score / max_score * 100; passed = percent >= pass_percent (compared exactly).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

SINGLE = "single"
MULTIPLE = "multiple"
TRUE_FALSE = "true_false"
ALL_OR_NOTHING = "all_or_nothing"
PARTIAL = "partial"


def question_score(kind: str, points: int | float, correct: Iterable[int],
                   chosen: Iterable[int], options: Iterable[int],
                   rule: str = ALL_OR_NOTHING) -> Fraction:
    """The points earned on one question (a Fraction between 0 and `points`)."""
    full = Fraction(str(points))
    correct_set, chosen_set = set(correct), set(chosen)
    option_set = set(options)
    chosen_set &= option_set  # options that are not in the question earn nothing
    if not chosen_set:
        return Fraction(0)
    if kind != MULTIPLE or rule != PARTIAL:
        return full if chosen_set == correct_set else Fraction(0)
    wrong_set = option_set - correct_set
    gained = Fraction(len(chosen_set & correct_set)) * full / len(correct_set) if correct_set \
        else Fraction(0)
    lost = Fraction(len(chosen_set & wrong_set)) * full / len(wrong_set) if wrong_set \
        else Fraction(0)
    return max(Fraction(0), gained - lost)


@dataclass(frozen=True)
class Result:
    score: Fraction
    max_score: Fraction
    percent: Fraction
    passed: bool

    def as_dict(self) -> dict[str, float | bool]:
        return {"score": to_float(self.score), "max_score": to_float(self.max_score),
                "percent": to_float(self.percent), "passed": self.passed}


def to_float(value: Fraction | float | int, digits: int = 2) -> float:
    return round(float(value), digits)


def result(scores: Iterable[Fraction], max_score: int | float | Fraction,
           pass_percent: int | float) -> Result:
    total = sum(scores, Fraction(0))
    maximum = Fraction(str(max_score)) if not isinstance(max_score, Fraction) else max_score
    percent = total * 100 / maximum if maximum else Fraction(0)
    passed = bool(maximum) and percent >= Fraction(str(pass_percent))
    return Result(score=total, max_score=maximum, percent=percent, passed=passed)
