"""Question bank, quizzes, the trainee's attempt, paper answers, results and statistics.

Decisions (see also scoring.py and stats.py):
- Attempt tokens are HMAC(SECRET_KEY, attempt id, attempt.token_key, nonce). Each start or
  resume issues a new token and every token issued for the attempt stays valid, so the same
  participant code on two phones shares one attempt; nothing per device is stored.
- An attempt whose deadline has passed is finalised ("counts as submitted with what was saved")
  by the first read or write that sees it: resume, GET, save, submit, results, closing the quiz.
  Saves are accepted up to QUIZ_DEADLINE_GRACE_S (default 5 s) after the deadline to absorb
  network delay; the deadline shown to the trainee is the real one.
- Closing a quiz finalises every attempt still open.
- One attempt counts per participant: the best submitted one (highest percent, then the
  earliest). Results per site, pass counts and item statistics all use the counted attempts.
- An attempt belongs to the site where the participant was checked in (else their home site).
- Questions shown in an attempt are "used": their kind, points, number of options and correct
  options can no longer change (texts can); retire them and add new ones instead."""

from trainer.quizzes.answers import (  # noqa: F401
    enter_paper_answers,
    finalise_expired,
    save_answers,
    submit,
)
from trainer.quizzes.attempts import (  # noqa: F401
    attempt_view,
    check_token,
    get_attempt,
    issue_token,
    result_of,
    review,
    start_attempt,
)
from trainer.quizzes.builder import (  # noqa: F401
    SETTINGS_FROZEN_BY_ATTEMPTS,
    create_quiz,
    get_quiz,
    get_quiz_for_viewer,
    question_count,
    quiz_by_short_code,
    quiz_intro,
    quizzes_for_session,
    quizzes_query,
    set_status,
    update_quiz,
)
from trainer.quizzes.questions import (  # noqa: F401
    QuestionData,
    create_question,
    create_topic,
    get_question,
    list_questions,
    list_topics,
    questions_query,
    retire_question,
    topic_names,
    update_question,
)
from trainer.quizzes.results import (  # noqa: F401
    participant_results,
    progress,
    question_stats,
    site_results,
)
from trainer.quizzes.rules import (  # noqa: F401
    MAX_ATTEMPTS_ALLOWED,
    MAX_OPTION_TEXT,
    MAX_OPTIONS,
    MAX_QUESTIONS_PER_QUIZ,
    MAX_TEXT,
    MAX_TIME_LIMIT_S,
    MULTIPLE_RULE_TEXTS,
    SHORT_CODE_ALPHABET,
    SHORT_CODE_LENGTH,
    multiple_rule_text,
)

__all__ = [
    "MAX_ATTEMPTS_ALLOWED",
    "MAX_OPTIONS",
    "MAX_OPTION_TEXT",
    "MAX_QUESTIONS_PER_QUIZ",
    "MAX_TEXT",
    "MAX_TIME_LIMIT_S",
    "MULTIPLE_RULE_TEXTS",
    "QuestionData",
    "SETTINGS_FROZEN_BY_ATTEMPTS",
    "SHORT_CODE_ALPHABET",
    "SHORT_CODE_LENGTH",
    "attempt_view",
    "check_token",
    "create_question",
    "create_quiz",
    "create_topic",
    "enter_paper_answers",
    "finalise_expired",
    "get_attempt",
    "get_question",
    "get_quiz",
    "get_quiz_for_viewer",
    "issue_token",
    "list_questions",
    "list_topics",
    "multiple_rule_text",
    "participant_results",
    "progress",
    "question_count",
    "question_stats",
    "questions_query",
    "quiz_by_short_code",
    "quiz_intro",
    "quizzes_for_session",
    "quizzes_query",
    "result_of",
    "retire_question",
    "review",
    "save_answers",
    "set_status",
    "site_results",
    "start_attempt",
    "submit",
    "topic_names",
    "update_question",
    "update_quiz",
]
