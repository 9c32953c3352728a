"""Reports: per-site session tables, training and year summaries, coverage of the communes
and the gender view (certificates: trainer.reports.issuing).

Decisions:
- Every figure is aggregated in SQL (GROUP BY session, site and sex), never one query per
  site: a session of 1,000 sites and 30,000 people takes a handful of queries.
- Registered counts a person at the site of their registration, present at the site where
  they checked in (as the live wall does). Quiz figures use the quizzes feature's rule: each
  person's best submitted attempt counts (highest percent, then the earliest), at the
  attempt's site. Completion = submitted / present; pass rate = passed / submitted.
- The quiz of a session report: `quiz_id` when given (one of the session's quizzes), else
  the session's latest quiz that was opened (open or closed; drafts never count).
- A rate whose denominator is zero is None (shown "–"), never a division by zero.
- Scope: admins and organisers see every site; a coordinator sees the rows of its own sites
  only, and totals over those rows (sessions that include none of its sites are refused).
- A year is the calendar year in the app's time zone, by the sessions' start.
- Coverage: the communes / centres (sites.Unit) of the sites in scope; a unit is reached when
  at least one participant whose unit it is was checked in to any session of the set.
- Gender view: each indicator for women, men and unspecified side by side; the gap is
  female minus male (persons for counts, percentage points for rates and mean scores) and
  the ratio is female / male (None when the male figure is zero or missing)."""

from trainer.reports.session_reports import (  # noqa: F401
    INDICATORS,
    gender_indicators,
    gender_report,
    session_report,
)
from trainer.reports.summaries import (  # noqa: F401
    coverage_report,
    report_choices,
    summary_report,
)
from trainer.reports.tallies import (  # noqa: F401
    COUNTS,
    FIELDS,
    MAX_YEAR,
    MIN_YEAR,
    SEXES,
    Key,
    Selection,
    SiteRef,
    Tally,
    by_sex,
    check_year,
    counted_attempts,
    default_quizzes,
    facts,
    mean,
    measures,
    percent,
    pick_quiz,
    select_sessions,
    session_quizzes,
    year_bounds,
)

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "COUNTS",
    "FIELDS",
    "INDICATORS",
    "Key",
    "SEXES",
    "Selection",
    "SiteRef",
    "Tally",
    "by_sex",
    "check_year",
    "counted_attempts",
    "coverage_report",
    "default_quizzes",
    "facts",
    "gender_indicators",
    "gender_report",
    "mean",
    "measures",
    "percent",
    "pick_quiz",
    "report_choices",
    "select_sessions",
    "session_quizzes",
    "session_report",
    "summary_report",
    "year_bounds",
]
