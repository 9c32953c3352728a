"""/api/v1/questions, /api/v1/quizzes and /api/v1/attempts: the bank, quizzes, the trainee's
attempt (no account: participant code, then the X-Attempt-Token header), paper answers and
results."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as MarshmallowValidationError

from trainer.apiutil import ListArgs, StrictSchema, Text, list_schema, page_of
from trainer.auth.services import require_staff
from trainer.quizzes import access, attempts, export, questions, services
from trainer.security import public

blp = Blueprint("api_quizzes", __name__, url_prefix="/api/v1",
                description="Question bank, quizzes, trainees' attempts and results.")

KINDS = ["single", "multiple", "true_false"]
TOKEN_HEADER = "X-Attempt-Token"  # noqa: S105 - a header name
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ATTEMPT_SECURITY: list[dict[str, list[str]]] = [{"attemptToken": []}]


# --------------------------------------------------------------------------- bank schemas

class QuestionOptionSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    text = Text(required=True, max_length=500)
    correct = fields.Boolean(load_default=False)


class QuestionSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    topic = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=32))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    text = Text(required=True, max_length=2000)
    explanation = Text(max_length=2000, allow_none=True, allow_blank=True, load_default=None)
    points = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100))
    options = fields.List(fields.Nested(QuestionOptionSchema), required=True,
                          validate=validate.Length(min=2, max=10))
    retired = fields.Boolean(dump_only=True)
    used = fields.Boolean(dump_only=True, metadata={
        "description": "Shown in an attempt: kind, points and correct options are frozen."})


class QuestionOptionUpdateSchema(QuestionOptionSchema):
    id = fields.Integer()


class QuestionUpdateSchema(StrictSchema):
    topic = fields.String(allow_none=True, validate=validate.Length(max=32))
    kind = fields.String(validate=validate.OneOf(KINDS))
    text = Text(max_length=2000)
    explanation = Text(max_length=2000, allow_none=True, allow_blank=True)
    points = fields.Integer(validate=validate.Range(min=1, max=100))
    options = fields.List(fields.Nested(QuestionOptionUpdateSchema), validate=validate.Length(min=2, max=10))
    retired = fields.Boolean()


class QuestionListArgs(ListArgs):
    topic = fields.String(validate=validate.Length(max=32))
    kind = fields.String(validate=validate.OneOf(KINDS))
    q = Text(max_length=200, allow_blank=True)
    include_retired = fields.Boolean(load_default=False)


class QuestionTopicSchema(StrictSchema):
    key = fields.String(required=True, validate=validate.Length(min=1, max=32),
                        metadata={"pattern": questions.TOPIC_KEY_PATTERN})
    name = Text(required=True, max_length=200)
    name_en = Text(max_length=200, allow_none=True, load_default=None)


QuestionList = list_schema(QuestionSchema, "QuestionList")


# --------------------------------------------------------------------------- quiz schemas

class QuizDrawSchema(StrictSchema):
    topic = fields.String(required=True, validate=validate.Length(max=32))
    count = fields.Integer(required=True, validate=validate.Range(min=1, max=200))


class QuizSettingsSchema(StrictSchema):
    title = Text(max_length=300)
    time_limit_s = fields.Integer(allow_none=True, validate=validate.Range(min=30, max=86400),
                                  metadata={"description": "Seconds per attempt; null: no limit."})
    pass_percent = fields.Float(validate=validate.Range(min=0, max=100))
    multiple_rule = fields.String(validate=validate.OneOf(["all_or_nothing", "partial"]))
    attempts_allowed = fields.Integer(validate=validate.Range(min=1, max=20))
    shuffle_questions = fields.Boolean()
    shuffle_options = fields.Boolean()
    reveal = fields.String(validate=validate.OneOf(["after_close", "after_submit", "never"]))
    allow_unchecked = fields.Boolean(metadata={
        "description": "Let participants who were not checked in take the quiz."})
    question_ids = fields.List(fields.Integer(), metadata={
        "description": "Bank questions every attempt gets, in this order (replaces the list)."})
    questions = fields.List(fields.Nested(QuestionSchema), metadata={
        "description": "New questions, added to the bank and to the quiz after question_ids."})
    draws = fields.List(fields.Nested(QuizDrawSchema), metadata={
        "description": "`count` questions drawn at random from `topic` for each attempt."})


class QuizCreateSchema(QuizSettingsSchema):
    session_id = fields.Integer(required=True)
    title = Text(required=True, max_length=300)


class QuizSummarySchema(Schema):
    id = fields.Integer()
    session_id = fields.Integer()
    title = fields.String()
    status = fields.Function(lambda q: q.status.value,
                             metadata={"enum": ["draft", "open", "closed"]})
    short_code = fields.String()
    time_limit_s = fields.Integer(allow_none=True)
    pass_percent = fields.Float()
    multiple_rule = fields.Function(lambda q: q.multiple_rule.value)
    multiple_rule_text = fields.Function(services.multiple_rule_text)
    attempts_allowed = fields.Integer()
    shuffle_questions = fields.Boolean()
    shuffle_options = fields.Boolean()
    reveal = fields.Function(lambda q: q.reveal.value)
    allow_unchecked = fields.Boolean()
    question_count = fields.Function(services.question_count)
    opened_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class QuizSchema(QuizSummarySchema):
    questions = fields.Method("_questions")
    draws = fields.Method("_draws")

    def _questions(self, quiz: Any) -> Any:
        return QuestionSchema(many=True).dump([item.question for item in quiz.items])

    def _draws(self, quiz: Any) -> Any:
        return [{"topic": d.topic, "count": d.count} for d in quiz.draws]


class QuizListArgs(ListArgs):
    session_id = fields.Integer()
    status = fields.String(validate=validate.OneOf(["draft", "open", "closed"]))


QuizList = list_schema(QuizSummarySchema, "QuizList")


class QuizStatusSchema(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(["open", "closed"]))


class QuizIntroSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    status = fields.String()
    session_id = fields.Integer()
    session_title = fields.String()
    short_code = fields.String()
    time_limit_s = fields.Integer(allow_none=True)
    question_count = fields.Integer()
    pass_percent = fields.Float()
    multiple_rule = fields.String()
    multiple_rule_text = fields.String()
    attempts_allowed = fields.Integer()
    reveal = fields.String()


# --------------------------------------------------------------------------- trainee schemas
# Output schemas list every field sent to a trainee: nothing else can slip out.

class TraineeOptionSchema(Schema):
    id = fields.Integer()
    text = fields.String()


class TraineeQuestionSchema(Schema):
    id = fields.Integer()
    text = fields.String()
    kind = fields.String(metadata={"enum": KINDS})
    points = fields.Integer()
    options = fields.List(fields.Nested(TraineeOptionSchema))


class AttemptResultSchema(Schema):
    score = fields.Float()
    max_score = fields.Float()
    percent = fields.Float()
    passed = fields.Boolean()


class AttemptReviewItemSchema(Schema):
    question_id = fields.Integer()
    correct_option_ids = fields.List(fields.Integer())
    chosen_option_ids = fields.List(fields.Integer())
    score = fields.Float()
    points = fields.Integer()
    explanation = fields.String(allow_none=True)


class AttemptParticipantSchema(Schema):
    full_name = fields.String()


class AttemptViewSchema(Schema):
    attempt_id = fields.Integer()
    quiz_id = fields.Integer()
    quiz_title = fields.String()
    quiz_status = fields.String()
    participant = fields.Nested(AttemptParticipantSchema)
    number = fields.Integer()
    attempts_allowed = fields.Integer()
    can_retry = fields.Boolean()
    source = fields.String(metadata={"enum": ["web", "paper"]})
    status = fields.String(metadata={"enum": ["in_progress", "submitted"]})
    started_at = fields.DateTime()
    deadline = fields.DateTime(allow_none=True)
    seconds_left = fields.Integer(allow_none=True)
    time_limit_s = fields.Integer(allow_none=True)
    multiple_rule = fields.String()
    multiple_rule_text = fields.String()
    questions = fields.List(fields.Nested(TraineeQuestionSchema))
    answers = fields.Dict(keys=fields.String(), values=fields.List(fields.Integer()))
    submitted_at = fields.DateTime(allow_none=True)
    result = fields.Nested(AttemptResultSchema, allow_none=True)
    review = fields.List(fields.Nested(AttemptReviewItemSchema), allow_none=True, metadata={
        "description": "Correct options and explanations: only after submitting, and only once "
                       "the quiz's `reveal` setting allows it; else null."})


class AttemptStartSchema(AttemptViewSchema):
    token = fields.String(metadata={
        "description": "Send as X-Attempt-Token. Each start or resume issues a new one; earlier "
                       "tokens stay valid."})


class AttemptStartArgs(StrictSchema):
    participant_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    device = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_-]{16,64}$"), metadata={
        "description": "A random key the device keeps (16 to 64 letters, digits, - or _): "
                       "the device that started an attempt may resume it with its code and "
                       "this key, e.g. when the answer to the start was lost."})


class AnswersArgs(StrictSchema):
    answers = fields.Dict(keys=fields.String(validate=validate.Length(max=20)), required=True,
                          metadata={"description": '{"<question_id>": [option_id, ...]}'})


class AttemptSaveResultSchema(Schema):
    saved = fields.Integer()
    saved_at = fields.DateTime()
    seconds_left = fields.Integer(allow_none=True)


# --------------------------------------------------------------------------- results schemas

def _by_sex(*measures: str) -> dict[str, fields.Integer]:
    """`<measure>_female`, `_male`, `_unspecified`: each count of people split by sex."""
    return {f"{m}_{s}": fields.Integer(metadata={"description": f"{m}, {s}."})
            for m in measures for s in ("female", "male", "unspecified")}



ResultsBySex: Any = type("ResultsBySexSchema", (Schema,),
                         _by_sex("present", "started", "submitted", "passed"))
ProgressBySex: Any = type("ProgressBySexSchema", (Schema,),
                          _by_sex("started", "submitted", "passed"))


class QuizSiteResultSchema(ResultsBySex):
    site_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    present = fields.Integer(metadata={"description": "People checked in at the site."})
    started = fields.Integer()
    submitted = fields.Integer(metadata={"description": "People with a submitted attempt."})
    mean_percent = fields.Float(allow_none=True, metadata={
        "description": "Mean percent of the counted attempts (each person's best); null if "
                       "none."})
    passed = fields.Integer(metadata={"description": "People whose best attempt passed."})


class QuizTotalsSchema(ResultsBySex):
    present = fields.Integer()
    started = fields.Integer()
    submitted = fields.Integer()
    mean_percent = fields.Float(allow_none=True)
    passed = fields.Integer()


class QuestionStatSchema(Schema):
    id = fields.Integer()
    text = fields.String()
    kind = fields.String()
    topic = fields.String(allow_none=True)
    points = fields.Integer()
    attempts = fields.Integer(metadata={"description": "Counted attempts that showed it."})
    facility = fields.Float(allow_none=True, metadata={
        "description": "Mean score fraction on the item, 0..1 (share correct for 0/1 items)."})
    discrimination = fields.Float(allow_none=True, metadata={
        "description": "Pearson correlation, -1..1, between the item score and the rest of the "
                       "test (total minus the item) over counted attempts; Moodle's "
                       "discrimination index is this times 100. Null with fewer than 2 "
                       "attempts or no variance."})


class QuizResultsSchema(Schema):
    quiz_id = fields.Integer()
    session_id = fields.Integer()
    title = fields.String()
    status = fields.String()
    pass_percent = fields.Float()
    sites = fields.List(fields.Nested(QuizSiteResultSchema))
    totals = fields.Nested(QuizTotalsSchema)
    questions = fields.List(fields.Nested(QuestionStatSchema))


class QuizProgressSiteSchema(ProgressBySex):
    site_id = fields.Integer()
    started = fields.Integer()
    submitted = fields.Integer()
    passed = fields.Integer()


class QuizProgressSchema(Schema):
    quiz_id = fields.Integer()
    session_id = fields.Integer()
    status = fields.String()
    version = fields.Integer()
    sites = fields.List(fields.Nested(QuizProgressSiteSchema))


class ParticipantResultSchema(Schema):
    participant_id = fields.Integer()
    code = fields.String()
    full_name = fields.String()
    sex = fields.String()
    unit = fields.String(allow_none=True)
    position = fields.String(allow_none=True)
    site_id = fields.Integer()
    site_code = fields.String()
    site_name = fields.String()
    checked_in = fields.Boolean()
    status = fields.String(metadata={"enum": ["not_started", "in_progress", "submitted"]})
    attempts = fields.Integer()
    attempt_id = fields.Integer(allow_none=True)
    source = fields.String(allow_none=True)
    score = fields.Float(allow_none=True)
    max_score = fields.Float(allow_none=True)
    percent = fields.Float(allow_none=True)
    passed = fields.Boolean(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)


ParticipantResultList = list_schema(ParticipantResultSchema, "ParticipantResultList")


class ParticipantResultArgs(ListArgs):
    site_id = fields.Integer()


class PaperAnswersArgs(StrictSchema):
    participant_id = fields.Integer()
    participant_code = fields.String(validate=validate.Length(min=1, max=32))
    answers = fields.Dict(keys=fields.String(validate=validate.Length(max=20)), required=True)
    question_ids = fields.List(fields.Integer(), metadata={
        "description": "The questions on the paper (default: the quiz's picked questions)."})

    openapi_rules = {"oneOf": [{"required": ["participant_id"]},  # what _who checks
                               {"required": ["participant_code"]}]}

    @validates_schema
    def _who(self, data: dict[str, Any], **_: Any) -> None:
        if ("participant_id" in data) == ("participant_code" in data):
            from flask_babel import gettext

            raise MarshmallowValidationError(
                gettext("Give participant_id or participant_code."), "participant_id")


class PaperAttemptResultSchema(AttemptResultSchema):
    attempt_id = fields.Integer()
    participant_id = fields.Integer()
    source = fields.String()


# --------------------------------------------------------------------------- bank endpoints

@blp.get("/questions")
@blp.arguments(QuestionListArgs, location="query")
@blp.response(200, QuestionList)
def list_questions(args: dict[str, Any]) -> Any:
    """Bank questions (organisers).

    By id; retired ones only with include_retired; `q` ignores diacritics."""
    stmt = services.questions_query(current_user, topic=args.get("topic"), q=args.get("q"),
                                    include_retired=args["include_retired"],
                                    kind=args.get("kind"))
    return page_of(stmt, args["page"], args["per_page"])


@blp.post("/questions")
@blp.arguments(QuestionSchema)
@blp.response(201, QuestionSchema)
def create_question(data: dict[str, Any]) -> Any:
    return services.create_question(current_user, data)


@blp.get("/questions/<int:question_id>")
@blp.response(200, QuestionSchema)
def get_question(question_id: int) -> Any:
    return services.get_question(current_user, question_id)


@blp.patch("/questions/<int:question_id>")
@blp.arguments(QuestionUpdateSchema)
@blp.response(200, QuestionSchema)
@blp.alt_response(409, description="The question was answered in a quiz: kind, points and "
                                   "correct options are frozen.")
def update_question(data: dict[str, Any], question_id: int) -> Any:
    """Edit a question, or retire / restore it with {"retired": true|false}."""
    question = services.get_question(current_user, question_id)
    return services.update_question(current_user, question, data)


@blp.get("/questions/topics")
@blp.response(200, QuestionTopicSchema(many=True))
def list_topics() -> Any:
    require_staff(current_user)
    return services.list_topics()


@blp.post("/questions/topics")
@blp.arguments(QuestionTopicSchema)
@blp.response(201, QuestionTopicSchema)
def create_topic(data: dict[str, Any]) -> Any:
    return services.create_topic(current_user, data["key"], data["name"], data.get("name_en"))


# --------------------------------------------------------------------------- quiz endpoints

@blp.get("/quizzes")
@blp.arguments(QuizListArgs, location="query")
@blp.response(200, QuizList)
def list_quizzes(args: dict[str, Any]) -> Any:
    """Quizzes, as summaries without questions."""
    stmt = services.quizzes_query(current_user, session_id=args.get("session_id"),
                                  status=args.get("status"))
    return page_of(stmt, args["page"], args["per_page"])


@blp.post("/quizzes")
@blp.arguments(QuizCreateSchema)
@blp.response(201, QuizSchema)
def create_quiz(data: dict[str, Any]) -> Any:
    """Create a draft quiz (organisers).

    Inline questions, picked bank questions and/or random draws per topic. The answer lists
    the ids of its questions and options."""
    return services.create_quiz(current_user, data)


@blp.get("/quizzes/<int:quiz_id>")
@blp.response(200, QuizSchema)
def get_quiz(quiz_id: int) -> Any:
    """A quiz with its questions and correct options (organisers)."""
    require_staff(current_user)
    return services.get_quiz(quiz_id)


@blp.patch("/quizzes/<int:quiz_id>")
@blp.arguments(QuizSettingsSchema)
@blp.response(200, QuizSchema)
def update_quiz(data: dict[str, Any], quiz_id: int) -> Any:
    require_staff(current_user)
    return services.update_quiz(current_user, services.get_quiz(quiz_id), data)


@blp.post("/quizzes/<int:quiz_id>/status")
@blp.arguments(QuizStatusSchema)
@blp.response(200, QuizSummarySchema)
def set_status(data: dict[str, Any], quiz_id: int) -> Any:
    """Open or close the quiz (organisers).

    Every watcher of the session gets `quiz_status`. Closing submits every attempt still
    open with what it saved."""
    return services.set_status(current_user, quiz_id, data["status"])


@blp.get("/quizzes/<int:quiz_id>/intro")
@blp.response(200, QuizIntroSchema)
@blp.doc(security=[])
@public
def quiz_intro(quiz_id: int) -> Any:
    """What a trainee sees before entering a code: title, status, time, rules."""
    return services.quiz_intro(services.get_quiz(quiz_id))


@blp.post("/quizzes/<int:quiz_id>/attempts")
@blp.arguments(AttemptStartArgs)
@blp.response(201, AttemptStartSchema, description="A new attempt.")
@blp.alt_response(200, schema=AttemptStartSchema,
                  description="The participant's attempt, resumed by the device that holds it "
                              "(`X-Attempt-Token`) or after a coordinator approved a handover, "
                              "or their submitted attempt when no other is allowed.")
@blp.alt_response(403, description="The quiz is not open (`reason`: not_open, closed), or the "
                                   "code cannot take it here (`reason`: refused): unknown, not "
                                   "checked in, or its attempt is held by another device. "
                                   "These refusals read alike and name nobody.")
@blp.alt_response(429, description="Too many refused codes from this address or for this "
                                   "quiz: wait `Retry-After` seconds.")
@blp.doc(security=[])
@public
def start_attempt(data: dict[str, Any], quiz_id: int) -> Any:
    """Start or resume an attempt with a participant code (trainee, no account).

    The code alone starts the first attempt; resuming, a further attempt or the result need
    the `X-Attempt-Token` of the device that holds the attempt, or a coordinator's approval
    (`POST /attempts/<id>/handover`). Never any hint of which option is correct. Each call
    returns a new token; earlier tokens of the attempt stay valid."""
    attempt, token, created = access.start_attempt(quiz_id, data["participant_code"], _token(),
                                                  data.get("device"))
    body = {**services.attempt_view(attempt), "token": token}
    return body, 201 if created else 200


@blp.post("/attempts/<int:attempt_id>/handover")
@blp.response(204)
@blp.alt_response(403, description="A coordinator of another site.")
def approve_handover(attempt_id: int) -> Any:
    """Let the participant's code take the attempt over on another device (a coordinator of
    the attempt's site, or staff): the devices that held it lose it, and the code alone
    resumes it once within 15 minutes."""
    access.approve_handover(current_user, attempt_id)
    return None


def _token() -> str | None:
    return request.headers.get(TOKEN_HEADER)


@blp.get("/attempts/<int:attempt_id>")
@blp.response(200, AttemptViewSchema)
@blp.alt_response(401, description="No X-Attempt-Token.")
@blp.alt_response(403, description="The token is not this attempt's.")
@blp.doc(security=ATTEMPT_SECURITY)
@public
def get_attempt(attempt_id: int) -> Any:
    """The attempt, its saved answers and time left (trainee).

    The result once submitted, and the review once answers are revealed."""
    return services.attempt_view(services.get_attempt(attempt_id, _token()))


@blp.put("/attempts/<int:attempt_id>/answers")
@blp.arguments(AnswersArgs())  # an instance: webargs would build one per request
@blp.response(200, AttemptSaveResultSchema)
@blp.alt_response(409, description="Submitted already, or time is up (`reason`: submitted, "
                                   "time_up; `result`): nothing saved.")
@blp.alt_response(422, description="A question or option that is not in this attempt, or "
                                   "several options for a one-answer question: nothing saved.")
@blp.doc(security=ATTEMPT_SECURITY)
@public
def save_answers(data: dict[str, Any], attempt_id: int) -> Any:
    """Autosave answers (trainee; may repeat).

    The given questions' answers replace their earlier ones; an empty list clears one."""
    return services.save_answers(attempt_id, _token(), data["answers"])


@blp.post("/attempts/<int:attempt_id>/submit")
@blp.response(200, AttemptResultSchema)
@blp.doc(security=ATTEMPT_SECURITY)
@public
def submit(attempt_id: int) -> Any:
    """Submit the attempt (trainee).

    A retry returns the same result. After the deadline, what was saved counts."""
    return services.submit(attempt_id, _token())


@blp.post("/quizzes/<int:quiz_id>/paper")
@blp.arguments(PaperAnswersArgs)
@blp.response(201, PaperAttemptResultSchema)
def paper_answers(data: dict[str, Any], quiz_id: int) -> Any:
    """Enter answers given on paper.

    By a coordinator of the participant's site or an organiser: a submitted attempt with
    source "paper", kept in the audit log."""
    participant_id = data.get("participant_id")
    if participant_id is None:
        participant_id = attempts._participant(data["participant_code"]).id
    attempt = services.enter_paper_answers(current_user, quiz_id, participant_id,
                                           data["answers"], question_ids=data.get("question_ids"))
    return {**(services.result_of(attempt) or {}), "attempt_id": attempt.id,
            "participant_id": attempt.participant_id, "source": attempt.source.value}


# --------------------------------------------------------------------------- results

@blp.get("/quizzes/<int:quiz_id>/results")
@blp.response(200, QuizResultsSchema)
def results(quiz_id: int) -> Any:
    """Results per site and per question (organisers).

    Per site: present, submitted, mean_percent, passed (counts of people; each person's best
    submitted attempt counts). Per question: facility 0..1, discrimination -1..1."""
    return services.site_results(quiz_id, actor=current_user)


@blp.get("/quizzes/<int:quiz_id>/progress")
@blp.response(200, QuizProgressSchema)
def quiz_progress(quiz_id: int) -> Any:
    """The `quiz_progress` snapshot (a client that reconnects asks for this). Staff, and
    coordinators of the session's sites."""
    services.get_quiz_for_viewer(current_user, quiz_id)
    return services.progress(quiz_id)


@blp.get("/quizzes/<int:quiz_id>/participants")
@blp.arguments(ParticipantResultArgs, location="query")
@blp.response(200, ParticipantResultList)
def participants(args: dict[str, Any], quiz_id: int) -> Any:
    """Results per participant.

    Everyone checked in or with an attempt, by site then name (coordinators: their sites)."""
    rows = services.participant_results(quiz_id, actor=current_user, site_id=args.get("site_id"))
    start = (args["page"] - 1) * args["per_page"]
    return {"items": rows[start:start + args["per_page"]], "total": len(rows)}


@blp.get("/quizzes/<int:quiz_id>/results.xlsx")
@blp.doc(responses={"200": {"description": "The results workbook.",
                            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
def results_xlsx(quiz_id: int) -> Any:
    """Results per site, per participant and per question as an XLSX workbook."""
    data = export.export_xlsx(quiz_id, actor=current_user)
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="quiz-{quiz_id}-results.xlsx"'})
