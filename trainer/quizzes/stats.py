"""Item statistics as Moodle defines them, standard library only.

Input: the counted attempts (one per participant), each a mapping
question_id -> (item score, item max) for the questions that attempt showed.

- facility: the mean of item score / item max over the attempts that showed the item
  (for a 0/1 item, the share of attempts that got it right); 0..1.
- discrimination: Pearson's correlation, over the attempts that showed the item, between the
  item score and the score on the rest of the test (the attempt's total minus the item);
  -1..1. None when undefined: fewer than 2 attempts, or no variance in either series.
  (Moodle shows the same number multiplied by 100 as its "discrimination index".)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ItemStats:
    question_id: int
    attempts: int
    facility: float | None
    discrimination: float | None


def pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 2 or n != len(ys):
        return None
    mx, my = math.fsum(xs) / n, math.fsum(ys) / n
    sxy = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    syy = math.fsum((y - my) ** 2 for y in ys)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def item_stats(attempts: Iterable[Mapping[int, tuple[float, float]]],
               question_ids: Iterable[int] | None = None,
               digits: int = 4) -> list[ItemStats]:
    rows = [dict(a) for a in attempts]
    if question_ids is None:
        seen: dict[int, None] = {}
        for row in rows:
            for qid in row:
                seen.setdefault(qid, None)
        question_ids = list(seen)
    totals = [math.fsum(score for score, _ in row.values()) for row in rows]
    out: list[ItemStats] = []
    for qid in question_ids:
        xs: list[float] = []
        rest: list[float] = []
        fractions: list[float] = []
        for row, total in zip(rows, totals, strict=True):
            if qid not in row:
                continue
            score, maximum = row[qid]
            xs.append(score)
            rest.append(total - score)
            fractions.append(score / maximum if maximum else 0.0)
        facility = round(math.fsum(fractions) / len(fractions), digits) if fractions else None
        r = pearson(xs, rest)
        out.append(ItemStats(question_id=qid, attempts=len(xs), facility=facility,
                             discrimination=round(r, digits) if r is not None else None))
    return out
