"""Item statistics (Moodle's facility and discrimination) against a hand computation."""

from __future__ import annotations

import pytest

from trainer.quizzes.stats import item_stats, pearson

# 4 attempts x 3 one-point items:
#        i1 i2 i3  total
#   A     1  1  1    3
#   B     1  1  0    2
#   C     1  0  0    1
#   D     0  0  1    1
ROWS = [
    {1: (1.0, 1.0), 2: (1.0, 1.0), 3: (1.0, 1.0)},
    {1: (1.0, 1.0), 2: (1.0, 1.0), 3: (0.0, 1.0)},
    {1: (1.0, 1.0), 2: (0.0, 1.0), 3: (0.0, 1.0)},
    {1: (0.0, 1.0), 2: (0.0, 1.0), 3: (1.0, 1.0)},
]
# By hand, rest = total - item:
# i1: x = 1 1 1 0, rest = 2 1 0 1; means .75, 1; Sxy = .25*1 + .25*0 + .25*-1 + -.75*0 = 0
#     -> r = 0; facility 3/4 = 0.75
# i2: x = 1 1 0 0, rest = 2 1 1 1; means .5, 1.25; Sxy = .5*.75 + .5*-.25 + -.5*-.25 + -.5*-.25
#     = .5; Sxx = 1; Syy = .5625 + 3*.0625 = .75 -> r = .5/sqrt(.75) = 0.57735; facility 0.5
# i3: x = 1 0 0 1, rest = 2 2 1 0; means .5, 1.25; Sxy = .375 - .375 + .125 - .625 = -.5;
#     Sxx = 1; Syy = .5625 + .5625 + .0625 + 1.5625 = 2.75 -> r = -.5/sqrt(2.75) = -0.30151


def test_facility_and_discrimination_by_hand() -> None:
    stats = {s.question_id: s for s in item_stats(ROWS)}
    assert stats[1].facility == 0.75 and stats[1].discrimination == 0.0
    assert stats[2].facility == 0.5 and stats[2].discrimination == 0.5774
    assert stats[3].facility == 0.5 and stats[3].discrimination == -0.3015
    assert [s.attempts for s in stats.values()] == [4, 4, 4]


def test_partial_credit_facility_is_the_mean_score_fraction() -> None:
    # a 2-point item scored 2, 1, 0.5, 0 -> fractions 1, .5, .25, 0 -> facility 0.4375
    rows = [{7: (2.0, 2.0)}, {7: (1.0, 2.0)}, {7: (0.5, 2.0)}, {7: (0.0, 2.0)}]
    (stat,) = item_stats(rows)
    assert stat.facility == 0.4375
    assert stat.discrimination is None  # the rest of the test is always 0: no variance


def test_discrimination_undefined_cases() -> None:
    assert item_stats([ROWS[0]])[0].discrimination is None  # one attempt
    same = [{1: (1.0, 1.0), 2: (1.0, 1.0)}, {1: (1.0, 1.0), 2: (0.0, 1.0)}]
    assert item_stats(same, [1])[0].discrimination is None  # everyone got item 1 right
    assert item_stats([], [1]) == [item_stats([], [1])[0]]
    assert item_stats([], [1])[0].facility is None


def test_items_seen_by_some_attempts_only() -> None:
    # random draws: item 9 was shown to two attempts only
    rows = [{1: (1.0, 1.0), 9: (1.0, 1.0)}, {1: (0.0, 1.0), 9: (0.0, 1.0)}, {1: (1.0, 1.0)}]
    stats = {s.question_id: s for s in item_stats(rows)}
    assert stats[9].attempts == 2 and stats[9].facility == 0.5
    assert stats[9].discrimination == 1.0  # x = 1 0, rest = 1 0


def test_pearson_matches_a_textbook_value() -> None:
    assert pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]) == pytest.approx(0.7745967, abs=1e-6)
