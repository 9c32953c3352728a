"""Check-in services: the rules, flags, undo, walk-ins, attendance, roster, status, roll-call."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from trainer.audit.models import AuditEntry
from trainer.checkin import services
from trainer.checkin.models import CheckinUndo, SitePresence
from trainer.dbtypes import utcnow
from trainer.errors import Conflict, Forbidden, Invalid, NotFound
from trainer.extensions import db
from trainer.people.models import Participant
from trainer.sessions.models import Checkin, CheckinIssue, Registration, TrainingSession


def audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)))


def count_checkins() -> int:
    return db.session.scalar(select(func.count()).select_from(Checkin)) or 0


def version(session: Any) -> int:
    return int(db.session.scalar(select(TrainingSession.attendance_version)
                                 .where(TrainingSession.id == session.id)))


def cid() -> str:
    return str(uuid.uuid4())


# --- check-in -------------------------------------------------------------------------------

def test_check_in_stores_one_checkin_with_server_time_and_audit(world: Any) -> None:
    w = world
    key = cid()
    before = utcnow()
    result = services.check_in(w.coord_a, w.session.id, site_id=w.a.id, participant_id=w.ha.id,
                               client_id=key, method="scan")
    assert result.created is True
    c = result.checkin
    assert (c.participant_id, c.site_id, c.client_id, c.method) == (w.ha.id, w.a.id, key, "scan")
    assert c.device_at is None and c.flags == []
    assert c.at == c.server_at and before <= c.at <= utcnow()
    assert version(w.session) == 1
    [entry] = audit("checkin")
    assert (entry.user_id, entry.site_id, entry.participant_id) == (w.coord_a.id, w.a.id, w.ha.id)
    assert entry.details["client_id"] == key and entry.details["checkin_id"] == c.id


def test_same_participant_again_at_same_site_is_the_same_checkin(world: Any) -> None:
    w = world
    first = services.check_in(w.coord_a, w.session.id, site_id=w.a.id, participant_id=w.ha.id,
                              client_id=cid())
    again = services.check_in(w.coord_a, w.session.id, site_id=w.a.id,
                              participant_code=w.ha.code, client_id=cid())
    assert again.created is False and again.checkin.id == first.checkin.id
    assert count_checkins() == 1 and version(w.session) == 1
    assert len(audit("checkin")) == 1


def test_same_client_id_again_is_never_counted_twice(world: Any) -> None:
    w = world
    key = cid()
    first = services.check_in(w.coord_a, w.session.id, site_id=w.a.id, participant_id=w.ha.id,
                              client_id=key)
    for _ in range(3):
        again = services.check_in(w.coord_a, w.session.id, site_id=w.a.id,
                                  participant_id=w.ha.id, client_id=key.upper())
        assert again.created is False and again.checkin.id == first.checkin.id
    assert count_checkins() == 1 and version(w.session) == 1


def test_code_is_normalised_like_a_scan_or_typing(world: Any) -> None:
    w = world
    typed = " " + "-".join(w.binh.code.lower()) + " "
    result = services.check_in(w.coord_a, w.session.id, site_id=w.a.id, participant_code=typed)
    assert result.created and result.checkin.participant_id == w.binh.id


def test_checked_in_elsewhere_is_a_conflict_naming_the_site(world: Any) -> None:
    w = world
    services.check_in(w.coord_b, w.session.id, site_id=w.b.id, participant_id=w.lan.id)
    with pytest.raises(services.CheckedInElsewhere) as caught:
        services.check_in(w.organiser, w.session.id, site_id=w.a.id, participant_id=w.lan.id)
    exc = caught.value
    assert exc.status == 409
    assert exc.extra["site_id"] == w.b.id and exc.extra["site_name"] == "Huyện Đoan Hùng"
    assert "Huyện Đoan Hùng" in str(exc.detail)
    assert count_checkins() == 1
    # Online and without a client_id: nothing for organisers to review.
    assert db.session.scalar(select(func.count()).select_from(CheckinIssue)) == 0


def test_offline_conflict_is_flagged_once_for_organisers(world: Any) -> None:
    w = world
    services.check_in(w.coord_b, w.session.id, site_id=w.b.id, participant_id=w.lan.id)
    key, at = cid(), utcnow() - timedelta(minutes=5)
    for _ in range(2):  # the offline queue retries
        with pytest.raises(services.CheckedInElsewhere):
            services.check_in(w.organiser, w.session.id, site_id=w.a.id,
                              participant_id=w.lan.id, client_id=key, at=at)
    [issue] = db.session.scalars(select(CheckinIssue)).all()
    assert (issue.reason, issue.site_id, issue.participant_id, issue.client_id) == (
        "conflict", w.a.id, w.lan.id, key)
    assert issue.device_at == at and issue.details["other_site_id"] == w.b.id
    assert len(audit("checkin_conflict")) == 1
    rows = services.flagged(w.organiser, w.session.id)
    assert [(r["kind"], r["reason"], r["site_name"]) for r in rows] == [
        ("issue", "conflict", "Huyện Cẩm Khê")]


def test_coordinator_of_another_site_is_forbidden(world: Any) -> None:
    w = world
    with pytest.raises(Forbidden):
        services.check_in(w.coord_b, w.session.id, site_id=w.a.id, participant_id=w.ha.id)
    with pytest.raises(Forbidden):
        services.check_in(w.coord_out, w.session.id, site_id=w.a.id, participant_id=w.ha.id)
    assert count_checkins() == 0


def test_unknown_participant_session_and_site(world: Any) -> None:
    w = world
    with pytest.raises(NotFound):
        services.check_in(w.coord_a, w.session.id, site_id=w.a.id, participant_id=999999)
    with pytest.raises(NotFound) as caught:
        services.check_in(w.coord_a, w.session.id, site_id=w.a.id, participant_code="QQQQQQ")
    assert "QQQQQQ" in str(caught.value.detail)
    with pytest.raises(NotFound):
        services.check_in(w.coord_a, 999999, site_id=w.a.id, participant_id=w.ha.id)
    with pytest.raises(Invalid) as invalid:  # a site that does not take part
        services.check_in(w.organiser, w.session.id, site_id=w.outside.id,
                          participant_id=w.ha.id)
    assert "site_id" in (invalid.value.errors or {})
    with pytest.raises(Invalid):
        services.check_in(w.coord_a, w.session.id, site_id=w.a.id)
    with pytest.raises(Invalid):
        services.check_in(w.coord_a, w.session.id, site_id=w.a.id, participant_id=w.ha.id,
                          client_id="not-a-uuid")
    assert count_checkins() == 0


# --- device time and flags ------------------------------------------------------------------

def test_device_time_is_kept_and_answered(world: Any) -> None:
    w = world
    at = utcnow() - timedelta(seconds=30)
    result = services.check_in(w.coord_a, w.session.id, site_id=w.a.id, participant_id=w.ha.id,
                               at=at)
    c = result.checkin
    assert c.at == at and c.device_at == at and c.server_at > at
    assert c.flags == ["offline"]


def test_late_upload_and_clock_skew_flags(world: Any) -> None:
    w = world
    late = services.check_in(w.coord_a, w.session.id, site_id=w.a.id, participant_id=w.ha.id,
                             at=utcnow() - timedelta(minutes=10)).checkin
    assert late.flags == ["offline", "late_upload"]
    ahead = services.check_in(w.coord_a, w.session.id, site_id=w.a.id,
                              participant_id=w.binh.id,
                              at=utcnow() + timedelta(minutes=10)).checkin
    assert ahead.flags == ["offline", "clock_skew"]
    too_early = services.check_in(w.coord_a, w.session.id, site_id=w.a.id,
                                  participant_id=w.minh.id,
                                  at=w.session.starts_at - timedelta(hours=5)).checkin
    assert too_early.flags == ["offline", "clock_skew", "late_upload"]
    assert {r["checkin_id"] for r in services.flagged(w.organiser, w.session.id)} == {
        late.id, ahead.id, too_early.id}


def test_device_time_needs_an_offset(world: Any) -> None:
    w = world
    with pytest.raises(Invalid) as caught:
        services.check_in(w.coord_a, w.session.id, site_id=w.a.id, participant_id=w.ha.id,
                          at=utcnow().replace(tzinfo=None))
    assert "at" in (caught.value.errors or {})


def test_person_from_another_sites_roster_counts_where_they_came(world: Any) -> None:
    w = world
    result = services.check_in(w.coord_a, w.session.id, site_id=w.a.id,
                               participant_id=w.lan.id)
    assert result.created and result.checkin.flags == ["other_site_roster"]
    body = services.attendance(w.session.id)
    by_site = {s["site_id"]: s for s in body["sites"]}
    assert by_site[w.a.id]["present"] == 1 and by_site[w.b.id]["present"] == 0
    assert by_site[w.b.id]["registered"] == 2


def test_unregistered_person_is_accepted_and_flagged(world: Any) -> None:
    w = world
    result = services.check_in(w.coord_a, w.session.id, site_id=w.a.id,
                               participant_id=w.stranger.id)
    assert result.created and result.checkin.flags == ["not_registered"]
    assert any(r["participant_id"] == w.stranger.id and r["present"]
               for r in services.roster(w.coord_a, w.session.id, w.a.id))


# --- the check-in window --------------------------------------------------------------------

def test_ended_session_is_closed(world: Any, make_session: Any) -> None:
    w = world
    ended = make_session([w.host, w.a], status="ended", starts_in=timedelta(hours=-3),
                         duration=timedelta(hours=2))
    with pytest.raises(services.CheckinClosed) as caught:
        services.check_in(w.coord_a, ended.id, site_id=w.a.id, participant_id=w.ha.id)
    assert caught.value.status == 409
    assert count_checkins() == 0


def test_ended_session_accepts_during_grace_period(world: Any, make_session: Any) -> None:
    w = world
    ended = make_session([w.host, w.a], status="ended", starts_in=timedelta(hours=-3),
                         duration=timedelta(hours=2), checkin_grace_minutes=15)
    result = services.check_in(w.coord_a, ended.id, site_id=w.a.id, participant_id=w.ha.id)
    assert result.created and "not_registered" in result.checkin.flags


def test_ended_session_accepts_offline_capture_from_during_the_session(
        world: Any, make_session: Any) -> None:
    w = world
    ended = make_session([w.host, w.a], status="ended", starts_in=timedelta(hours=-3),
                         duration=timedelta(hours=2))
    at = utcnow() - timedelta(hours=2)
    result = services.check_in(w.coord_a, ended.id, site_id=w.a.id, participant_id=w.ha.id,
                               at=at, client_id=cid())
    assert result.created and result.checkin.at == at
    assert {"offline", "late_upload"} <= set(result.checkin.flags)


def test_ended_session_refuses_offline_capture_after_the_end_and_flags_it(
        world: Any, make_session: Any) -> None:
    w = world
    ended = make_session([w.host, w.a], status="ended", starts_in=timedelta(hours=-3),
                         duration=timedelta(hours=2))
    # ended_at (or the status change) is "now" for this fixture: a device time later than it
    # was captured after the end.
    with pytest.raises(services.CheckinClosed):
        services.check_in(w.coord_a, ended.id, site_id=w.a.id, participant_id=w.ha.id,
                          at=utcnow() + timedelta(minutes=1), client_id=cid())
    [issue] = db.session.scalars(select(CheckinIssue)).all()
    assert issue.reason == "closed" and issue.session_id == ended.id


def test_scheduled_session_opens_an_hour_before(world: Any, make_session: Any) -> None:
    w = world
    later = make_session([w.host, w.a], status="scheduled", starts_in=timedelta(hours=3))
    with pytest.raises(services.CheckinClosed) as caught:
        services.check_in(w.coord_a, later.id, site_id=w.a.id, participant_id=w.ha.id)
    assert "opens_at" in caught.value.extra
    soon = make_session([w.host, w.a], status="scheduled", starts_in=timedelta(minutes=40))
    assert services.check_in(w.coord_a, soon.id, site_id=w.a.id,
                             participant_id=w.ha.id).created


# --- undo -----------------------------------------------------------------------------------

def test_undo_removes_audits_and_bumps_the_version(world: Any) -> None:
    w = world
    key = cid()
    c = services.check_in(w.coord_a, w.session.id, site_id=w.a.id, participant_id=w.ha.id,
                          client_id=key).checkin
    checkin_id = c.id
    services.undo(w.coord_a, w.session.id, checkin_id)
    assert count_checkins() == 0 and version(w.session) == 2
    [entry] = audit("checkin_undone")
    assert entry.user_id == w.coord_a.id and entry.site_id == w.a.id
    assert entry.details["client_id"] == key and entry.details["checkin_id"] == checkin_id
    services.undo(w.coord_a, w.session.id, checkin_id)  # again: harmless
    assert version(w.session) == 2 and len(audit("checkin_undone")) == 1
    # The offline queue retrying the undone check-in does not bring it back...
    with pytest.raises(services.CheckinUndone):
        services.check_in(w.coord_a, w.session.id, site_id=w.a.id, participant_id=w.ha.id,
                          client_id=key)
    # ...but checking the person in again does, with a new id.
    again = services.check_in(w.coord_a, w.session.id, site_id=w.a.id, participant_id=w.ha.id,
                              client_id=cid())
    assert again.created and again.checkin.id != checkin_id
    assert db.session.scalar(select(CheckinUndo.client_id)) == key


def test_undo_permissions_and_unknown(world: Any) -> None:
    w = world
    c = services.check_in(w.coord_a, w.session.id, site_id=w.a.id,
                          participant_id=w.ha.id).checkin
    with pytest.raises(Forbidden):
        services.undo(w.coord_b, w.session.id, c.id)
    with pytest.raises(NotFound):
        services.undo(w.coord_a, w.session.id, 999999)
    other = services.check_in(w.coord_b, w.session.id, site_id=w.b.id,
                              participant_id=w.lan.id).checkin
    with pytest.raises(NotFound):  # not a check-in of that session
        services.undo(w.organiser, w.session.id + 1000, other.id)
    services.undo(w.organiser, w.session.id, other.id)  # organisers: any site
    assert count_checkins() == 1


# --- walk-ins -------------------------------------------------------------------------------

def test_walk_in_creates_registers_and_checks_in(world: Any) -> None:
    w = world
    key = cid()
    result = services.walk_in(w.coord_a, w.session.id, site_id=w.a.id,
                              full_name="  Vũ Thị Mai ", sex="female", unit="Xã Tạ Xá",
                              client_id=key)
    assert result.created
    p = result.participant
    assert (p.full_name, p.site_id, p.sex.value, p.unit) == ("Vũ Thị Mai", w.a.id, "female",
                                                             "Xã Tạ Xá")
    reg = db.session.scalar(select(Registration).where(Registration.participant_id == p.id))
    assert reg is not None and reg.walk_in and reg.site_id == w.a.id
    assert result.checkin.walk_in and result.checkin.method == "walk_in"
    [entry] = audit("walk_in")
    assert entry.details["client_id"] == key and entry.participant_id == p.id
    again = services.walk_in(w.coord_a, w.session.id, site_id=w.a.id, full_name="Vũ Thị Mai",
                             sex="female", client_id=key)
    assert again.created is False and again.checkin.id == result.checkin.id
    assert db.session.scalar(select(func.count()).select_from(Participant)
                             .where(Participant.full_name == "Vũ Thị Mai")) == 1
    totals = services.attendance(w.session.id)["totals"]
    assert totals == {"registered": 6, "present": 1, "female": 1, "male": 0, "unspecified": 0}


def test_walk_in_bad_input_writes_nothing(world: Any) -> None:
    w = world
    people = db.session.scalar(select(func.count()).select_from(Participant))
    with pytest.raises(Invalid) as caught:
        services.walk_in(w.coord_a, w.session.id, site_id=w.a.id, full_name="Vũ Thị Mai",
                         sex="robot")
    assert "sex" in (caught.value.errors or {})
    with pytest.raises(Invalid):
        services.walk_in(w.coord_a, w.session.id, site_id=w.a.id, full_name="", sex="male")
    with pytest.raises(Forbidden):
        services.walk_in(w.coord_b, w.session.id, site_id=w.a.id, full_name="Vũ Mai",
                         sex="male")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Participant)) == people
    assert count_checkins() == 0 and version(w.session) == 0


# --- attendance -----------------------------------------------------------------------------

def test_attendance_counts_by_site_and_sex_with_increasing_versions(world: Any) -> None:
    w = world
    body = services.attendance(w.session.id)
    assert body["version"] == 0 and body["session_id"] == w.session.id
    assert [s["site_id"] for s in body["sites"]] == sorted([w.host.id, w.a.id, w.b.id])
    assert body["totals"] == {"registered": 5, "present": 0, "female": 0, "male": 0,
                              "unspecified": 0}
    versions = [0]
    ids = []
    for p, site, user in ((w.ha, w.a, w.coord_a), (w.binh, w.a, w.coord_a),
                          (w.minh, w.a, w.coord_a), (w.nam, w.b, w.coord_b)):
        ids.append(services.check_in(user, w.session.id, site_id=site.id,
                                     participant_id=p.id).checkin.id)
        versions.append(services.attendance(w.session.id)["version"])
    services.undo(w.organiser, w.session.id, ids[1])
    body = services.attendance(w.session.id)
    versions.append(body["version"])
    assert versions == sorted(set(versions)), versions  # strictly increasing
    by_site = {s["site_id"]: s for s in body["sites"]}
    assert {k: by_site[w.a.id][k] for k in ("registered", "present", "female", "male",
                                            "unspecified")} == {
        "registered": 3, "present": 2, "female": 1, "male": 0, "unspecified": 1}
    assert by_site[w.b.id]["present"] == 1 and by_site[w.b.id]["male"] == 1
    assert by_site[w.host.id]["present"] == 0 and by_site[w.host.id]["last_checkin_at"] is None
    assert by_site[w.a.id]["last_checkin_at"] is not None
    assert body["totals"] == {"registered": 5, "present": 3, "female": 1, "male": 1,
                              "unspecified": 1}
    only_b = services.attendance(w.session.id, site_ids=[w.b.id])
    assert [s["site_id"] for s in only_b["sites"]] == [w.b.id]
    assert only_b["totals"]["present"] == 1


def test_watch_permissions(world: Any, make_session: Any) -> None:
    w = world
    assert services.watch(w.coord_a, w.session.id)["version"] == 0
    with pytest.raises(Forbidden):
        services.watch(w.coord_out, w.session.id)
    with pytest.raises(NotFound):
        services.watch(w.organiser, 999999)


# --- roster ---------------------------------------------------------------------------------

def test_roster_is_sorted_the_vietnamese_way_with_presence(world: Any) -> None:
    w = world
    services.check_in(w.coord_a, w.session.id, site_id=w.a.id, participant_id=w.ha.id)
    services.check_in(w.organiser, w.session.id, site_id=w.b.id, participant_id=w.minh.id)
    services.check_in(w.organiser, w.session.id, site_id=w.a.id, participant_id=w.nam.id)
    rows = services.roster(w.coord_a, w.session.id, w.a.id)
    assert [r["full_name"] for r in rows] == ["Trần Văn Bình", "Nguyễn Thị Hà", "Lê Minh",
                                              "Đỗ Văn Nam"]
    by_name = {r["full_name"]: r for r in rows}
    assert by_name["Nguyễn Thị Hà"]["present"] and by_name["Nguyễn Thị Hà"]["checkin_id"]
    assert not by_name["Trần Văn Bình"]["present"]
    assert by_name["Trần Văn Bình"]["checkin_id"] is None
    minh = by_name["Lê Minh"]  # expected here, came to B
    assert not minh["present"] and minh["checkin_site_id"] == w.b.id
    nam = by_name["Đỗ Văn Nam"]  # expected at B, came here
    assert nam["present"] and nam["site_id"] == w.b.id and nam["flags"] == [
        "other_site_roster"]
    with pytest.raises(Forbidden):
        services.roster(w.coord_b, w.session.id, w.a.id)


# --- site status, presence, board ------------------------------------------------------------

def test_site_status_and_board(world: Any) -> None:
    w = world
    board = {r["site_id"]: r for r in services.site_board(w.organiser, w.session.id)}
    assert [r["kind"] for r in services.site_board(w.organiser, w.session.id)][0] == "host"
    assert board[w.a.id]["status"] == "offline" and board[w.a.id]["connected"] is False
    services.page_connected(w.coord_a, w.session.id, w.a.id, "sid-1")
    payload = services.set_site_status(w.coord_a, w.session.id, w.a.id, "issue",
                                       "Mất tiếng  ")
    assert payload == {"session_id": w.session.id, "site_id": w.a.id, "status": "issue",
                       "note": "Mất tiếng", "reported_status": "issue",
                       "at": payload["at"], "connected": True, "presence": "live",
                       "last_heard_at": payload["last_heard_at"]}
    assert payload["last_heard_at"] is not None
    services.check_in(w.coord_a, w.session.id, site_id=w.a.id, participant_id=w.ha.id)
    row = {r["site_id"]: r for r in services.site_board(w.organiser, w.session.id)}[w.a.id]
    assert (row["status"], row["status_note"], row["connected"], row["present"],
            row["registered"], row["female"]) == ("issue", "Mất tiếng", True, 1, 3, 1)
    assert row["last_checkin_at"] is not None and row["name"] == "Huyện Cẩm Khê"
    [entry] = audit("site_status")
    assert entry.details == {"status": "issue", "note": "Mất tiếng"}
    with pytest.raises(Forbidden):
        services.set_site_status(w.coord_b, w.session.id, w.a.id, "online")
    with pytest.raises(Invalid):
        services.set_site_status(w.coord_a, w.session.id, w.a.id, "sleeping")
    with pytest.raises(Invalid):
        services.set_site_status(w.coord_a, w.session.id, w.a.id, "issue", "x" * 501)
    with pytest.raises(Invalid):
        services.set_site_status(w.coord_a, w.session.id, w.a.id, "issue", "bad\x00note")
    with pytest.raises(Forbidden):
        services.site_board(w.coord_out, w.session.id)


def test_presence_lasts_until_pages_are_gone_for_the_offline_delay(world: Any) -> None:
    w = world
    services.page_connected(w.coord_a, w.session.id, w.a.id, "sid-1")
    services.page_connected(w.coord_a, w.session.id, w.a.id, "sid-2")
    assert services.site_status(w.session.id, w.a.id)["status"] == "online"
    services.page_gone("sid-1")
    services.page_gone("sid-2")
    # Gone, but for less than 30 s: still shown connected (a reload must not flash offline).
    assert services.site_status(w.session.id, w.a.id)["connected"] is True
    assert services.sweep_presence() == []
    later = utcnow() + timedelta(seconds=31)
    assert services.sweep_presence(later) == [(w.session.id, w.a.id)]
    assert db.session.scalar(select(func.count()).select_from(SitePresence)) == 0
    assert services.site_status(w.session.id, w.a.id)["status"] == "offline"
    assert services.page_heartbeat("sid-1", w.session.id, w.a.id) is False


def test_heartbeat_keeps_a_page_alive(world: Any) -> None:
    w = world
    services.page_connected(w.coord_a, w.session.id, w.a.id, "sid-1")
    assert services.page_heartbeat("sid-1", w.session.id, w.a.id) is True
    assert services.page_heartbeat("sid-1", w.session.id, w.b.id) is False
    with pytest.raises(Forbidden):
        services.page_connected(w.coord_b, w.session.id, w.a.id, "sid-2")


# --- roll-call ------------------------------------------------------------------------------

def test_rollcall(world: Any) -> None:
    w = world
    with pytest.raises(Conflict):
        services.confirm_rollcall(w.coord_a, w.session.id, w.a.id)
    with pytest.raises(Forbidden):
        services.start_rollcall(w.coord_a, w.session.id)
    started = services.start_rollcall(w.organiser, w.session.id)
    assert started["started_at"]
    first = services.confirm_rollcall(w.coord_a, w.session.id, w.a.id)
    assert services.confirm_rollcall(w.coord_a, w.session.id, w.a.id) == first
    with pytest.raises(Forbidden):
        services.confirm_rollcall(w.coord_a, w.session.id, w.b.id)
    board = {r["site_id"]: r for r in services.site_board(w.organiser, w.session.id)}
    assert board[w.a.id]["rollcall_at"] == first["at"] and board[w.b.id]["rollcall_at"] is None
    services.start_rollcall(w.organiser, w.session.id)  # a new round clears the answers
    board = {r["site_id"]: r for r in services.site_board(w.organiser, w.session.id)}
    assert board[w.a.id]["rollcall_at"] is None
    assert [e.action for e in audit("rollcall_confirmed")] == ["rollcall_confirmed"]
    services.end_rollcall(w.organiser, w.session.id)
    with pytest.raises(Conflict):
        services.confirm_rollcall(w.coord_a, w.session.id, w.a.id)


def test_flagged_is_for_organisers(world: Any) -> None:
    w = world
    with pytest.raises(Forbidden):
        services.flagged(w.coord_a, w.session.id)
    services.check_in(w.coord_a, w.session.id, site_id=w.a.id, participant_id=w.ha.id)
    assert services.flagged(w.organiser, w.session.id) == []


def test_a_client_id_belongs_to_one_checkin(world: Any) -> None:
    w = world
    key = cid()
    services.check_in(w.coord_a, w.session.id, site_id=w.a.id, participant_id=w.ha.id,
                      client_id=key)
    with pytest.raises(Invalid) as caught:
        services.check_in(w.coord_a, w.session.id, site_id=w.a.id, participant_id=w.binh.id,
                          client_id=key)
    assert "client_id" in (caught.value.errors or {})
    assert count_checkins() == 1 and version(w.session) == 1


def test_offline_scan_of_an_unknown_code_is_kept_for_organisers(world: Any) -> None:
    w = world
    with pytest.raises(NotFound):
        services.check_in(w.coord_a, w.session.id, site_id=w.a.id, participant_code="ZZZZZZ",
                          at=utcnow() - timedelta(minutes=3), client_id=cid())
    [row] = services.flagged(w.organiser, w.session.id)
    assert (row["reason"], row["details"]["code"], row["resolved_at"]) == (
        "unknown_participant", "ZZZZZZ", None)
    services.resolve_issue(w.organiser, w.session.id, row["id"])
    assert services.flagged(w.organiser, w.session.id)[0]["resolved_at"] is not None
    with pytest.raises(NotFound):
        services.resolve_issue(w.organiser, w.session.id, 999999)


def test_coordinators_cannot_undo_once_check_in_has_closed(world: Any) -> None:
    w = world
    c = services.check_in(w.coord_a, w.session.id, site_id=w.a.id,
                          participant_id=w.ha.id).checkin
    checkin_id = c.id
    w.session.status = "ended"
    db.session.commit()
    with pytest.raises(services.CheckinClosed):
        services.undo(w.coord_a, w.session.id, checkin_id)
    services.undo(w.organiser, w.session.id, checkin_id)  # organisers correct the record
    assert count_checkins() == 0


def test_checkin_window_and_session_for_site(world: Any, make_session: Any) -> None:
    w = world
    assert services.session_for_site(w.coord_a, w.session.id, w.a.id).id == w.session.id
    with pytest.raises(Forbidden):
        services.session_for_site(w.coord_b, w.session.id, w.a.id)
    assert services.checkin_window(w.session)["open"] is True
    later = make_session([w.host, w.a], status="scheduled", starts_in=timedelta(hours=3))
    window = services.checkin_window(later)
    assert window["open"] is False and window["message"] and window["opens_at"]
    ended = make_session([w.host, w.a], status="ended", starts_in=timedelta(hours=-3),
                         duration=timedelta(hours=2), checkin_grace_minutes=10)
    window = services.checkin_window(ended)
    assert window["open"] is True and window["closes_at"]
