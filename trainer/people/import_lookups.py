"""Matching rows of a participant list against the database: cell values, sites by code or name,
people already stored, in short read transactions and time slices."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from trainer.extensions import db
from trainer.offload import Turns
from trainer.people.import_reading import (
    _DATE_YEAR,
    CODE_CHUNK,
    FETCH_CHUNK,
    PAUSE_S,
    SITE_PREFIXES,
    SLICE_S,
    _blank,
)
from trainer.people.models import Participant
from trainer.sites.models import Site, Unit
from trainer.sites.services import UNIT_PREFIXES
from trainer.text import fold, modern_phone, nfc


def _digits_text(value: Any) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _phone_cell(value: Any) -> str | None:
    text = _digits_text(value)
    if text is None:
        return None
    text = text.strip().lstrip("'")
    # A spreadsheet that took the phone for a number dropped its leading 0.
    dropped_zero = (len(text) == 9 and text[:1] in tuple("2356789")) or (
        len(text) == 10 and text[:1] in ("1", "2"))
    if text.isdigit() and dropped_zero:
        text = "0" + text
    return text


def _year_cell(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.year
    if isinstance(value, str):
        match = _DATE_YEAR.match(value.strip())
        if match:
            return match.group(1)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _text_cell(value: Any) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _bare(folded: str, prefixes: Iterable[str]) -> str:
    for prefix in prefixes:
        if folded.startswith(prefix):
            return folded.removeprefix(prefix)
    return folded


class Slicer:
    """On SQLite, commits, then pauses, each time the current transaction has run SLICE_S.
    (PostgreSQL locks rows, not the database: there the work stays in one transaction.)"""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.active = db.engine.dialect.name == "sqlite"

    def tick(self) -> None:
        if self.active and time.monotonic() - self.started >= SLICE_S:
            db.session.commit()
            time.sleep(PAUSE_S)
            self.started = time.monotonic()


@dataclass(frozen=True)
class SiteInfo:
    id: int
    code: str
    name: str


@dataclass
class Lookups:
    """Everything rows are matched against, loaded once (plain values, not ORM objects, so
    rows are checked with no database transaction open)."""

    sites: dict[int, SiteInfo]
    site_by_code: dict[str, int]
    site_by_name: dict[str, int]
    units: dict[int, dict[str, tuple[int, str]]]
    code_to_id: dict[str, int]
    people: dict[int, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[tuple[int, str], list[int]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Lookups:
        sites: dict[int, SiteInfo] = {}
        by_name: dict[str, int] = {}
        for sid, code, name, folded in db.session.execute(
                select(Site.id, Site.code, Site.name, Site.name_folded).order_by(Site.id)):
            sites[sid] = SiteInfo(sid, code, name)
            by_name.setdefault(folded, sid)
            by_name.setdefault(_bare(folded, SITE_PREFIXES), sid)
        units: dict[int, dict[str, tuple[int, str]]] = {}
        for uid, site_id, name, folded in db.session.execute(
                select(Unit.id, Unit.site_id, Unit.name, Unit.name_folded)):
            units.setdefault(site_id, {}).setdefault(_bare(folded, UNIT_PREFIXES), (uid, name))
        codes: dict[str, int] = {}
        last, slicer = 0, Slicer()
        while True:
            chunk = db.session.execute(
                select(Participant.id, Participant.code).where(Participant.id > last)
                .order_by(Participant.id).limit(CODE_CHUNK)).all()
            slicer.tick()
            codes.update((code, pid) for pid, code in chunk)
            if len(chunk) < CODE_CHUNK:
                break
            last = chunk[-1][0]
        return cls(sites=sites, site_by_code={s.code: s.id for s in sites.values()},
                   site_by_name=by_name, units=units, code_to_id=codes)

    PERSON_COLUMNS = ("id", "code", "full_name", "family_name", "middle_name", "given_name",
                      "name_folded", "sort_key", "sex", "birth_year", "position", "unit",
                      "unit_id", "phone", "site_id")

    def fetch_people(self, site_ids: Iterable[int], ids: Iterable[int]) -> list[Any]:
        """The stored participants of these sites, and these ids (raw rows, indexed later),
        read a few thousand at a time, each read in its own short transaction."""
        cols = [getattr(Participant, c) for c in self.PERSON_COLUMNS]
        site_list, id_list = sorted(set(site_ids)), sorted(set(ids))
        rows: list[Any] = []
        for start in range(0, len(site_list), 500):
            sites = site_list[start:start + 500]
            last = 0
            slicer = Slicer()
            while True:
                chunk = db.session.execute(
                    select(*cols).where(Participant.site_id.in_(sites), Participant.id > last)
                    .order_by(Participant.id).limit(FETCH_CHUNK)).all()
                slicer.tick()
                rows.extend(chunk)
                if len(chunk) < FETCH_CHUNK:
                    break
                last = chunk[-1][0]
        for start in range(0, len(id_list), 500):
            rows.extend(db.session.execute(
                select(*cols).where(Participant.id.in_(id_list[start:start + 500]))))
            db.session.commit()
        return rows

    def index_people(self, rows: Iterable[Any]) -> None:
        turns = Turns()  # 30,000 people at the sites of a big list
        for row in rows:
            turns.tick()
            if row[0] not in self.people:
                self.add_person(dict(zip(self.PERSON_COLUMNS, row, strict=True)))

    def add_person(self, person: dict[str, Any]) -> None:
        self.people[person["id"]] = person
        self.by_key.setdefault((person["site_id"], person["name_folded"]), []).append(
            person["id"])

    def rekey(self, person: dict[str, Any], old_key: tuple[int, str]) -> None:
        new_key = (person["site_id"], person["name_folded"])
        if new_key != old_key:
            ids = self.by_key.get(old_key, [])
            if person["id"] in ids:
                ids.remove(person["id"])
            self.by_key.setdefault(new_key, []).append(person["id"])

    def site_for(self, value: str) -> int | None:
        text = nfc(value)
        found = self.site_by_code.get(text.upper())
        if found is None:
            folded = fold(text)
            found = self.site_by_name.get(folded) or self.site_by_name.get(
                _bare(folded, SITE_PREFIXES))
        return found

    def unit_for(self, site_id: int, text: str | None) -> tuple[str | None, int | None]:
        if not text:
            return None, None
        found = self.units.get(site_id, {}).get(_bare(fold(text), UNIT_PREFIXES))
        return (found[1], found[0]) if found else (text, None)

    def match(self, site_id: int, name_folded: str, birth_year: int | None,
              phone: str | None) -> int | None:
        """A stored (or earlier imported) person with this name and site, and the same
        birth year or phone."""
        if birth_year is None and phone is None:
            return None
        for pid in self.by_key.get((site_id, name_folded), ()):
            person = self.people[pid]
            if birth_year is not None and person["birth_year"] == birth_year:
                return pid
            if phone is not None and person["phone"] and _same_phone(person["phone"], phone):
                return pid
        return None


def _same_phone(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return modern_phone(a) == modern_phone(b)
    except ValueError:
        return False
