"""`trainer demo`, scheduling part: the province's training on managing community learning
centres and mainstreaming gender equality (2017: 13 district bridge points; 2026: every
commune-level unit), with a session live today across all bridge points (agenda, chairs,
coordinators, a roster at every site), one session next week and one held last month.

Sets on the demo context: ctx.training, ctx.live_session, ctx.sessions (for later parts,
e.g. check-in and quizzes).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select

from trainer import demo_data
from trainer.dbtypes import utcnow
from trainer.extensions import db
from trainer.i18n import local_zone
from trainer.people.models import Participant
from trainer.sessions.models import (
    AgendaItem,
    Registration,
    SessionSite,
    SessionStatus,
    Training,
    TrainingSession,
)

LEAD = demo_data.LEAD_AGENCY
SPA, WU = demo_data.PARTNERS  # Hội Khuyến học tỉnh, Hội Liên hiệp Phụ nữ tỉnh

# (minutes after the start, title, presenter, presenter's organisation)
LIVE_AGENDA: list[tuple[int, str, str | None, str | None]] = [
    (0, "Ổn định tổ chức, điểm danh các điểm cầu", "Ban Tổ chức", LEAD),
    (15, "Khai mạc hội nghị tập huấn", "Nguyễn Văn Hùng, Phó Giám đốc Sở", LEAD),
    (30, "Quản lý, điều hành Trung tâm học tập cộng đồng: quy chế tổ chức và hoạt động, "
         "kế hoạch, tài chính và cơ sở vật chất", "Trần Thị Thanh Hương, Trưởng phòng "
         "Giáo dục thường xuyên", LEAD),
    (80, "Phối hợp xây dựng xã hội học tập và phát triển TTHTCĐ ở cơ sở",
     "Phạm Đức Long, Phó Chủ tịch Hội", SPA),
    (110, "Nghỉ giải lao", None, None),
    (125, "Luật Bình đẳng giới: khái niệm giới, bình đẳng giới, định kiến giới và phân biệt "
          "đối xử về giới", "Nguyễn Thị Lan Anh, Phó Chủ tịch Hội", WU),
    (165, "Lồng ghép bình đẳng giới trong hoạt động của TTHTCĐ", "Đỗ Thị Minh Nguyệt, "
          "Trưởng ban Tuyên giáo", WU),
    (195, "Thảo luận, trao đổi ý kiến từ các điểm cầu", "Các điểm cầu", None),
    (225, "Tổng kết, bế mạc hội nghị", "Nguyễn Văn Hùng, Phó Giám đốc Sở", LEAD),
]

NEXT_AGENDA: list[tuple[int, str, str | None, str | None]] = [
    (0, "Khai mạc", "Trần Thị Thanh Hương, Trưởng phòng Giáo dục thường xuyên", LEAD),
    (15, "Khảo sát nhu cầu học tập của người dân và xây dựng kế hoạch hoạt động TTHTCĐ",
     "Lê Quang Vinh, Chuyên viên phòng Giáo dục thường xuyên", LEAD),
    (90, "Xây dựng mô hình gia đình, dòng họ học tập", "Phạm Đức Long, Phó Chủ tịch Hội", SPA),
    (150, "Thảo luận và bế mạc", "Ban Tổ chức", LEAD),
]

PAST_AGENDA: list[tuple[int, str, str | None, str | None]] = [
    (0, "Khai mạc", "Nguyễn Văn Hùng, Phó Giám đốc Sở", LEAD),
    (15, "Đánh giá, xếp loại TTHTCĐ năm học 2016-2017: kết quả và bài học",
     "Trần Thị Thanh Hương, Trưởng phòng Giáo dục thường xuyên", LEAD),
    (90, "Thống kê số liệu tách biệt theo giới trong báo cáo của Trung tâm",
     "Nguyễn Thị Lan Anh, Phó Chủ tịch Hội", WU),
    (150, "Thảo luận và bế mạc", "Ban Tổ chức", LEAD),
]


def live_window(now: datetime) -> tuple[datetime, datetime]:
    """A four-hour morning today (07:30-11:30 local) when that holds `now`; otherwise the four
    hours starting half an hour before now, rounded down to the half hour. Always live now."""
    zone = local_zone()
    local_now = now.astimezone(zone)
    morning = datetime.combine(local_now.date(), time(7, 30), tzinfo=zone)
    if morning <= local_now < morning + timedelta(hours=3, minutes=30):
        start = morning
    else:
        start = local_now.replace(minute=0 if local_now.minute < 30 else 30, second=0,
                                  microsecond=0) - timedelta(minutes=30)
        start = max(start, datetime.combine(local_now.date(), time(0), tzinfo=zone))
    return start.astimezone(UTC), (start + timedelta(hours=4)).astimezone(UTC)


def _agenda(start: datetime, items: list[tuple[int, str, str | None, str | None]]
            ) -> list[AgendaItem]:
    zone = local_zone()
    return [AgendaItem(position=n,
                       starts_at=(start + timedelta(minutes=m)).astimezone(zone).time(),
                       title=title, presenter=who, presenter_org=org)
            for n, (m, title, who, org) in enumerate(items)]


def _session(ctx: Any, training: Training, title: str, start: datetime, end: datetime,
             status: SessionStatus, topics: list[str],
             agenda: list[tuple[int, str, str | None, str | None]]) -> TrainingSession:
    prov = ctx.province
    session = TrainingSession(
        training=training, title=title, starts_at=start, ends_at=end,
        host_site_id=ctx.sites[prov.host.code].id, status=status, topics=topics,
        conference_url=prov.conference_url, conference_provider="link", description=None,
        ics_sequence=0)
    session.session_sites = [
        SessionSite(site_id=ctx.sites[spec.code].id,
                    chair_name=prov.chairs.get(spec.code),
                    chair_title=prov.chair_title(spec),
                    coordinators=[u for u in (ctx.users.get(f"coord-{spec.code.lower()}"),)
                                  if u is not None])
        for spec in prov.sites]
    session.agenda = _agenda(start, agenda)
    db.session.add(session)
    db.session.flush()
    return session


def _roster(session: TrainingSession) -> int:
    now = utcnow()
    rows = [{"session_id": session.id, "participant_id": pid, "site_id": sid,
             "created_at": now, "walk_in": False}
            for pid, sid in db.session.execute(select(Participant.id, Participant.site_id))]
    if rows:
        db.session.execute(insert(Registration), rows)
    return len(rows)


def load(ctx: Any) -> None:
    prov = ctx.province
    training = Training(title=prov.training_title, year=prov.year, lead_agency=prov.lead_agency,
                        partners=list(prov.partners), description=prov.description,
                        topics=["management", "gender"])
    db.session.add(training)

    now = utcnow()
    start, end = live_window(now)
    live = _session(
        ctx, training,
        "Hội nghị tập huấn trực tuyến: Quản lý, điều hành TTHTCĐ và lồng ghép bình đẳng giới",
        start, end, SessionStatus.LIVE, ["management", "gender"], LIVE_AGENDA)
    registered = _roster(live)
    from trainer.conference.runtime import video_possible

    if video_possible():  # the live session on trainer's own video room
        live.conference_provider, live.conference_url = "builtin", None
        ctx.notes.append("The live session uses trainer's own video room (Janus; "
                         "`trainer serve` starts it).")

    zone = local_zone()
    next_day = (now.astimezone(zone) + timedelta(days=7)).date()
    next_start = datetime.combine(next_day, time(7, 30), tzinfo=zone).astimezone(UTC)
    upcoming = _session(
        ctx, training, "Phiên 2: Khảo sát nhu cầu học tập và xây dựng kế hoạch hoạt động TTHTCĐ",
        next_start, next_start + timedelta(hours=3, minutes=30), SessionStatus.SCHEDULED,
        ["management"], NEXT_AGENDA)
    _roster(upcoming)

    past_day = (now.astimezone(zone) - timedelta(days=30)).date()
    past_start = datetime.combine(past_day, time(8, 0), tzinfo=zone).astimezone(UTC)
    past = _session(
        ctx, training, "Sơ kết năm học: đánh giá, xếp loại TTHTCĐ và số liệu tách biệt theo giới",
        past_start, past_start + timedelta(hours=3), SessionStatus.ENDED,
        ["management", "gender"],
        [(m, t.replace("2016-2017", f"{prov.year - 1}-{prov.year}"), who, org)
         for m, t, who, org in PAST_AGENDA])
    _roster(past)

    db.session.flush()
    ctx.training = training
    ctx.live_session = live
    ctx.sessions = {"live": live, "next": upcoming, "past": past}
    ctx.notes.append(
        f"Training “{training.title}”: a session live now across {len(live.session_sites)} "
        f"bridge points (session {live.id}, {registered} people expected), one next week "
        f"(session {upcoming.id}) and one held last month (session {past.id}).")
