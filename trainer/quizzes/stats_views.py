"""Pages of the quiz statistics and of the trainee preview (on the quizzes blueprint).

- /quizzes/<id>/stats: the histogram and the per-question bars as an HTML fragment; the
  results page and the room screen put it in place again while the quiz is open.
- /quizzes/<id>/preview: the quiz as a trainee sees it (organisers; nothing is recorded).
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_login import current_user, login_required

from trainer.auth.services import require_staff
from trainer.quizzes import services, statistics
from trainer.quizzes.views import bp, rule_text


@bp.get("/quizzes/<int:quiz_id>/stats")
@login_required
def stats(quiz_id: int) -> Any:
    quiz = services.get_quiz_for_viewer(current_user, quiz_id)
    big = request.args.get("big") == "1"
    response = render_template("quizzes/_stats.html", quiz=quiz, big=big,
                               stats=statistics.cached_statistics(quiz))
    return response, 200, {"Cache-Control": "no-store"}


@bp.get("/quizzes/<int:quiz_id>/preview")
@login_required
def preview(quiz_id: int) -> Any:
    require_staff(current_user)
    quiz = services.get_quiz(quiz_id)
    questions = [item.question for item in quiz.items]
    return render_template("quizzes/preview.html", quiz=quiz, questions=questions,
                           draws=list(quiz.draws), rule_text=rule_text(quiz.multiple_rule),
                           question_count=services.question_count(quiz),
                           topic_names=services.topic_names())
