"""/api/v1/reports: the JSON behind every report page (session, training, year, coverage,
gender view, certificates due). Downloads (XLSX, CSV, PDF) live outside /api/v1
(GET /sessions/<id>/report.xlsx and .csv, /sessions/<id>/certificates.pdf,
/certificates/<session_id>/<participant_id>.pdf) and take the same bearer token.

Rates are percentages (0-100, two decimals) and null when there is nothing to divide by.
Coordinators get the rows of their own sites only (and totals over them)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from trainer.apiutil import ListArgs, StrictSchema
from trainer.reports import issuing, services

blp = Blueprint("api_reports", __name__, url_prefix="/api/v1/reports",
                description="Reports: per-site tables, sex-disaggregated summaries, coverage of "
                            "the communes, the gender view and certificates.")

PCT = {"description": "Percent (0-100); null when there is nothing to divide by."}
YEAR = validate.Range(min=services.MIN_YEAR, max=services.MAX_YEAR)


def _pct(description: str) -> fields.Float:
    return fields.Float(allow_none=True, metadata={"description": f"{description} {PCT['description']}"})


# --------------------------------------------------------------------------- schemas

class ReportQuizSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    status = fields.String(metadata={"enum": ["draft", "open", "closed"]})
    pass_percent = fields.Float()


class ReportSessionInfoSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    status = fields.String(metadata={"enum": ["scheduled", "live", "ended"]})
    training_id = fields.Integer(allow_none=True)
    training_title = fields.String(allow_none=True)
    host_site_id = fields.Integer()


class SexSplitSchema(Schema):
    female = fields.Integer()
    male = fields.Integer()
    unspecified = fields.Integer(metadata={"description": "Sex not recorded (chưa rõ)."})


class BySexSchema(Schema):
    registered = fields.Nested(SexSplitSchema)
    present = fields.Nested(SexSplitSchema)
    quiz_submitted = fields.Nested(SexSplitSchema)
    quiz_passed = fields.Nested(SexSplitSchema)
    certificates = fields.Nested(SexSplitSchema)


BY_SEX = {"description": "Each count of people split by sex (female, male, unspecified)."}


class ReportFiguresSchema(Schema):
    registered = fields.Integer(metadata={"description": "Expected at the site."})
    present = fields.Integer(metadata={"description": "Checked in at the site."})
    attendance_percent = _pct("present / registered.")
    female = fields.Integer(metadata={"description": "Women present."})
    male = fields.Integer(metadata={"description": "Men present."})
    unspecified = fields.Integer(metadata={"description": "Present, sex not given."})
    female_percent = _pct("Share of women among those present.")
    quiz_submitted = fields.Integer(metadata={
        "description": "People with a submitted attempt (the best one counts)."})
    quiz_passed = fields.Integer()
    quiz_completion_percent = _pct("submitted / present (sessions with a quiz).")
    quiz_mean_percent = _pct("Mean score of the counted attempts.")
    quiz_passed_percent = _pct("passed / submitted.")
    certificates = fields.Integer(metadata={
        "description": "Certificates due: checked in here and passed the quiz."})
    by_sex = fields.Nested(BySexSchema, metadata=BY_SEX)


class ReportSiteRowSchema(ReportFiguresSchema):
    site_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"enum": ["host", "bridge"]})
    is_host = fields.Boolean()
    conference_first_joined_at = fields.DateTime(allow_none=True, metadata={
        "description": "Sessions on the built-in video room: when the site first joined."})
    conference_minutes = fields.Integer(metadata={
        "description": "Built-in video room: minutes the site was on the call."})
    conference_drops = fields.Integer(metadata={
        "description": "Built-in video room: times the site fell off the call."})


class GenderIndicatorSchema(Schema):
    key = fields.String(metadata={"enum": [k for k, _ in services.INDICATORS]})
    kind = fields.String(metadata={"enum": ["count", "percent", "score"]})
    female = fields.Float(allow_none=True)
    male = fields.Float(allow_none=True)
    unspecified = fields.Float(allow_none=True)
    total = fields.Float(allow_none=True)
    gap = fields.Float(allow_none=True, metadata={
        "description": "female - male: persons for counts, percentage points for rates and "
                       "scores."})
    ratio = fields.Float(allow_none=True, metadata={
        "description": "female / male; null when the male figure is zero or missing."})


class SessionReportSchema(Schema):
    session = fields.Nested(ReportSessionInfoSchema)
    quiz = fields.Nested(ReportQuizSchema, allow_none=True, metadata={
        "description": "The quiz the figures use: ?quiz_id=, else the latest opened one."})
    quizzes = fields.List(fields.Nested(ReportQuizSchema))
    scope_site_ids = fields.List(fields.Integer(), allow_none=True, metadata={
        "description": "null: every site; else the coordinator's sites the rows cover."})
    conference = fields.String(allow_none=True, metadata={
        "description": "The session's conference provider: builtin, link or null."})
    sites = fields.List(fields.Nested(ReportSiteRowSchema))
    totals = fields.Nested(ReportFiguresSchema)
    gender = fields.List(fields.Nested(GenderIndicatorSchema))
    generated_at = fields.DateTime()


class SessionReportArgs(StrictSchema):
    quiz_id = fields.Integer(metadata={"description": "One of the session's quizzes."})


class PeopleFiguresSchema(Schema):
    visits = fields.Integer(metadata={"description": "Participant-visits (check-ins)."})
    participants = fields.Integer(metadata={"description": "Distinct people."})
    visits_female = fields.Integer()
    visits_male = fields.Integer()
    visits_unspecified = fields.Integer()
    participants_female = fields.Integer()
    participants_male = fields.Integer()
    participants_unspecified = fields.Integer()
    participants_female_percent = _pct("Share of women among the distinct people.")


class SummarySessionSchema(ReportFiguresSchema):
    session_id = fields.Integer()
    title = fields.String()
    starts_at = fields.DateTime()
    status = fields.String()
    quiz_id = fields.Integer(allow_none=True)
    quiz_title = fields.String(allow_none=True)


class SummarySiteSchema(PeopleFiguresSchema):
    site_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    is_host = fields.Boolean()
    registered = fields.Integer()
    attendance_percent = _pct("visits / registrations.")
    quiz_submitted = fields.Integer()
    quiz_passed = fields.Integer()
    quiz_mean_percent = _pct("Mean score.")
    by_sex = fields.Nested(BySexSchema, metadata=BY_SEX)


class SummaryUnitSchema(PeopleFiguresSchema):
    unit_id = fields.Integer(allow_none=True, metadata={
        "description": "null: people whose commune is not recorded."})
    name = fields.String(allow_none=True)
    centre_name = fields.String(allow_none=True)
    site_id = fields.Integer(allow_none=True)
    site_code = fields.String(allow_none=True)
    site_name = fields.String(allow_none=True)


class SummaryTotalsSchema(PeopleFiguresSchema):
    sessions = fields.Integer()
    registered = fields.Integer()
    attendance_percent = _pct("visits / registrations.")
    quiz_submitted = fields.Integer()
    quiz_passed = fields.Integer()
    quiz_mean_percent = _pct("Mean score.")
    quiz_passed_percent = _pct("passed / submitted.")
    by_sex = fields.Nested(BySexSchema, metadata=BY_SEX)


class SelectionSchema(Schema):
    kind = fields.String(metadata={"enum": ["training", "year"]})
    training_id = fields.Integer(allow_none=True)
    training_title = fields.String(allow_none=True)
    year = fields.Integer(allow_none=True)
    scope_site_ids = fields.List(fields.Integer(), allow_none=True)
    generated_at = fields.DateTime()


class SummaryReportSchema(SelectionSchema):
    sessions = fields.List(fields.Nested(SummarySessionSchema))
    totals = fields.Nested(SummaryTotalsSchema)
    sites = fields.List(fields.Nested(SummarySiteSchema))
    units = fields.List(fields.Nested(SummaryUnitSchema), metadata={
        "description": "Communes / centres with at least one visit, by site; then the people "
                       "without a recorded commune (unit_id null)."})
    gender = fields.List(fields.Nested(GenderIndicatorSchema))


class UnitRefSchema(Schema):
    unit_id = fields.Integer()
    name = fields.String()
    centre_name = fields.String(allow_none=True)


class CoverageSiteSchema(Schema):
    site_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    is_host = fields.Boolean()
    units = fields.Integer(metadata={"description": "Communes / centres of the site."})
    reached = fields.Integer(metadata={"description": "With at least one person trained."})
    reached_percent = _pct("reached / units.")
    reached_with_women = fields.Integer(metadata={
        "description": "With at least one woman trained."})
    trained = fields.Integer(metadata={"description": "Distinct people of these communes."})
    not_reached = fields.List(fields.Nested(UnitRefSchema))


class CoverageTotalsSchema(Schema):
    units = fields.Integer()
    reached = fields.Integer()
    reached_percent = _pct("reached / units.")
    reached_with_women = fields.Integer()
    not_reached = fields.Integer()
    participants_without_unit = fields.Integer(metadata={
        "description": "People trained whose commune is not recorded (not in the coverage)."})


class CoverageReportSchema(SelectionSchema):
    sessions = fields.Integer()
    totals = fields.Nested(CoverageTotalsSchema)
    sites = fields.List(fields.Nested(CoverageSiteSchema))


class SelectionArgs(StrictSchema):
    training_id = fields.Integer()
    year = fields.Integer(validate=YEAR)


class GenderArgs(SelectionArgs):
    session_id = fields.Integer()
    quiz_id = fields.Integer(metadata={"description": "With session_id: the quiz to use."})


class GenderSiteSchema(Schema):
    site_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    is_host = fields.Boolean()
    female = fields.Integer()
    male = fields.Integer()
    unspecified = fields.Integer()
    female_percent = _pct("Share of women.")


class GenderReportSchema(Schema):
    kind = fields.String(metadata={"enum": ["session", "training", "year"]})
    session = fields.Nested(ReportSessionInfoSchema, allow_none=True)
    training_id = fields.Integer(allow_none=True)
    training_title = fields.String(allow_none=True)
    year = fields.Integer(allow_none=True)
    quiz = fields.Nested(ReportQuizSchema, allow_none=True)
    scope_site_ids = fields.List(fields.Integer(), allow_none=True)
    sessions = fields.Integer()
    indicators = fields.List(fields.Nested(GenderIndicatorSchema))
    sites = fields.List(fields.Nested(GenderSiteSchema), metadata={
        "description": "Per site: people present (a session) or distinct people (a training "
                       "or a year) by sex."})


class CertificateArgs(ListArgs):
    site_id = fields.Integer(required=True)
    quiz_id = fields.Integer()


class CertificateDueSchema(Schema):
    participant_id = fields.Integer()
    full_name = fields.String()
    sex = fields.String(metadata={"enum": ["female", "male", "unspecified"]})
    percent = fields.Float()
    code = fields.Method("_code", allow_none=True, metadata={
        "description": "The verification code, once the certificate has been issued."})
    issued_at = fields.DateTime(allow_none=True)
    register = fields.String(allow_none=True, metadata={
        "description": "The number in the register of the year of issue (số vào sổ), "
                       "e.g. \"15/2026\"."})
    pdf_url = fields.String(metadata={
        "description": "GET it (cookie or bearer token) to issue and download the PDF."})
    verify_url = fields.Method("_verify", allow_none=True)

    def _code(self, row: dict[str, Any]) -> str | None:
        return issuing.format_code(row["code"]) if row.get("code") else None

    def _verify(self, row: dict[str, Any]) -> str | None:
        return issuing.verify_url(row["code"]) if row.get("code") else None


class CertificateDueList(Schema):
    items = fields.List(fields.Nested(CertificateDueSchema))
    total = fields.Integer()
    site_pdf_url = fields.String(allow_none=True)


# --------------------------------------------------------------------------- endpoints

@blp.get("/sessions/<int:session_id>")
@blp.arguments(SessionReportArgs, location="query")
@blp.response(200, SessionReportSchema)
@blp.alt_response(404, description="Unknown session.")
def session_report(args: dict[str, Any], session_id: int) -> Any:
    """A session's report: per site registered, present, attendance rate, present by sex and
    the share of women, quiz submitted / passed / mean, certificates due; totals; the gender
    view. The same figures as GET /sessions/<id>/report.xlsx and .csv."""
    return services.session_report(current_user, session_id, args.get("quiz_id"))


@blp.get("/trainings/<int:training_id>")
@blp.response(200, SummaryReportSchema)
@blp.alt_response(404, description="Unknown training.")
def training_report(training_id: int) -> Any:
    """A training across its sessions: participant-visits and distinct participants by
    session, site, commune and sex; quiz figures; the gender view."""
    return services.summary_report(current_user, training_id=training_id)


@blp.get("/years/<int:year>", parameters=[{"in": "path", "name": "year", "schema": {
    "type": "integer", "minimum": services.MIN_YEAR, "maximum": services.MAX_YEAR}}])
@blp.response(200, SummaryReportSchema)
def year_report(year: int) -> Any:
    """The sessions that started in a calendar year (local time), as for a training."""
    return services.summary_report(current_user, year=year)


@blp.get("/coverage")
@blp.arguments(SelectionArgs, location="query")
@blp.response(200, CoverageReportSchema)
@blp.alt_response(404, description="Unknown training.")
def coverage(args: dict[str, Any]) -> Any:
    """How many communes / centres had at least one person trained (training_id or year),
    per site, and the list of those not reached yet."""
    return services.coverage_report(current_user, training_id=args.get("training_id"),
                                    year=args.get("year"))


@blp.get("/gender")
@blp.arguments(GenderArgs, location="query")
@blp.response(200, GenderReportSchema)
@blp.alt_response(404, description="Unknown session or training.")
def gender(args: dict[str, Any]) -> Any:
    """Every indicator for women, men and unspecified side by side, with the gap
    (female - male) and the ratio (female / male): for session_id, training_id or year."""
    return services.gender_report(current_user, session_id=args.get("session_id"),
                                  training_id=args.get("training_id"), year=args.get("year"),
                                  quiz_id=args.get("quiz_id"))


@blp.get("/sessions/<int:session_id>/certificates")
@blp.arguments(CertificateArgs, location="query")
@blp.response(200, CertificateDueList)
@blp.alt_response(404, description="Unknown session or site.")
def certificates_due(args: dict[str, Any], session_id: int) -> Any:
    """People checked in at a site who passed the session's quiz (Vietnamese name order),
    with their verification code once issued and the address of their PDF."""
    quiz_id = args.get("quiz_id")
    _session, quiz, rows = issuing.eligible_at_site(current_user, session_id, args["site_id"],
                                                     quiz_id)
    start = (args["page"] - 1) * args["per_page"]
    extra = {"quiz_id": quiz_id} if quiz_id else {}
    items = [{**row, "pdf_url": url_for("reports.certificate_pdf", session_id=session_id,
                                        participant_id=row["participant_id"], **extra)}
             for row in rows[start:start + args["per_page"]]]
    return {"items": items, "total": len(rows),
            "site_pdf_url": url_for("reports.site_certificates_pdf", session_id=session_id,
                                    site_id=args["site_id"], **extra) if rows else None}
