"""`trainer demo [--year 2017|2026]`: a demo province in an empty database: Phú Thọ in 2017
(13 district bridge points) or the new Phú Thọ today (148 commune-level bridge points).

Each feature may add its part through a `demo.load(ctx)` function in its package
(`trainer.sessions.demo`, `trainer.quizzes.demo`, ...), called in FEATURE_ORDER.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, insert, select

from trainer.auth.models import Role, User
from trainer.auth.services import create_user
from trainer.demo_province import Province, province
from trainer.extensions import db
from trainer.people.models import Participant
from trainer.people.services import CODE_ALPHABET, new_code
from trainer.sites.levels import centre_name
from trainer.sites.models import Site, SiteKind, Unit
from trainer.text import fold, name_sort_key, nfc, split_name

FEATURE_ORDER = ("sessions", "materials", "quizzes", "checkin", "reports")
LOGINS_FILE = "demo-logins.txt"


@dataclass
class DemoContext:
    province: Province
    sites: dict[str, Site] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    participants: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        units = select(func.count()).select_from(Unit)
        current = db.session.scalar(units.where(Unit.ended_on.is_(None)))
        former = db.session.scalar(units.where(Unit.ended_on.is_not(None)))
        lines = [
            f"Demo province ({self.province.year}) loaded: {len(self.sites)} bridge points, "
            f"{current} commune-level units"
            + (f" ({former} former units mapped to them)" if former else "")
            + f", {self.participants} participants, {len(self.users)} accounts.",
        ]
        lines += self.notes
        return "\n".join(lines)


def _logins_path() -> Path:
    return Path(current_app.config["DATA_DIR"]) / LOGINS_FILE


def _password() -> str:
    return "-".join(
        "".join(secrets.choice(CODE_ALPHABET.lower()) for _ in range(4)) for _ in range(3)
    )


def _units(ctx: DemoContext) -> dict[tuple[str, str], int]:
    """The commune-level units under each site, and (for today's province) the 2017 units
    that were merged into them: kept with the day they ended and a link to their successor."""
    prov = ctx.province
    made: dict[tuple[str, str], Unit] = {}
    for spec in prov.sites:
        for name in spec.communes:
            made[(spec.code, name)] = Unit(site_id=ctx.sites[spec.code].id, name=name,
                                           name_folded=fold(name), centre_name=centre_name(name))
    db.session.add_all(made.values())
    db.session.flush()
    site_of = {name: spec.code for spec in prov.sites for name in spec.communes}
    former = []
    for (_, old), new in prov.lineage.items():
        if fold(old) != fold(new):  # a unit that kept its name simply goes on
            code = site_of[new]
            former.append(Unit(site_id=ctx.sites[code].id, name=old, name_folded=fold(old),
                               centre_name=centre_name(old), ended_on=prov.ended_on,
                               successor_id=made[(code, new)].id))
    db.session.add_all(former)
    db.session.flush()
    return {key: unit.id for key, unit in made.items()}


def load_demo(year: int = 2017) -> DemoContext | None:
    """Load the demo into an empty database; None (and nothing written) if it holds data."""
    if db.session.scalar(select(func.count()).select_from(Site)) or db.session.scalar(
        select(func.count()).select_from(User)
    ):
        return None
    ctx = DemoContext(province(year))
    for spec in ctx.province.sites:
        level = ctx.province.host_level if spec.kind == "host" else ctx.province.bridge_level
        site = Site(code=spec.code, name=spec.name, name_folded=fold(spec.name),
                    kind=SiteKind(spec.kind), level=level)
        db.session.add(site)
        ctx.sites[spec.code] = site
    db.session.flush()
    units = _units(ctx)

    codes: set[str] = set()
    rows: list[dict[str, Any]] = []
    for person in ctx.province.people():
        code = new_code()
        while code in codes:
            code = new_code()
        codes.add(code)
        full = nfc(person.full_name)
        family, middle, given = split_name(full)
        rows.append({
            "code": code, "full_name": full, "family_name": family, "middle_name": middle,
            "given_name": given, "name_folded": fold(full),
            "sort_key": name_sort_key(family, middle, given), "sex": person.sex,
            "birth_year": person.birth_year, "position": person.position, "unit": person.unit,
            "unit_id": units.get((person.site_code, person.unit)) if person.unit else None,
            "phone": person.phone, "site_id": ctx.sites[person.site_code].id,
        })
    from trainer.dbtypes import utcnow

    now = utcnow()
    for row in rows:
        row["created_at"] = row["updated_at"] = now
    db.session.execute(insert(Participant), rows)
    ctx.participants = len(rows)

    logins: list[tuple[str, str, str]] = []
    accounts: list[tuple[str, Role, list[Any], str]] = [
        ("admin", Role.ADMIN, [], "Quản trị hệ thống"),
        ("organiser", Role.ORGANISER, [], "Ban tổ chức - Sở GD&ĐT"),
    ]
    for username, role, sites, name in accounts:
        password = os.environ.get("TRAINER_DEMO_PASSWORD") or _password()
        ctx.users[username] = create_user(username, password, role, sites, display_name=name,
                                          commit=False)
        logins.append((username, password, str(role)))
    coordinated = ctx.province.coordinated
    for spec in ctx.province.sites:
        if coordinated is not None and spec.code not in coordinated:
            continue
        username = f"coord-{spec.code.lower()}"
        password = os.environ.get("TRAINER_DEMO_PASSWORD") or _password()
        ctx.users[username] = create_user(
            username, password, Role.COORDINATOR, [ctx.sites[spec.code].id],
            display_name=f"Điều phối viên {spec.name}", commit=False)
        logins.append((username, password, f"coordinator {spec.code} · {spec.name}"))
    db.session.flush()

    for name in FEATURE_ORDER:
        module = f"trainer.{name}.demo"
        try:
            found = importlib.util.find_spec(module)
        except ModuleNotFoundError:
            found = None
        if found is not None:
            importlib.import_module(module).load(ctx)
    db.session.commit()

    path = _logins_path()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        for username, password, what in logins:
            f.write(f"{username}\t{password}\t{what}\n")
    return ctx


def print_logins(echo: Callable[[str], Any]) -> None:
    path = _logins_path()
    if not path.exists():
        return
    echo("Demo accounts (user name / password), also kept in " + str(path) + ":")
    for line in path.read_text(encoding="utf-8").splitlines():
        username, password, what = line.split("\t")
        echo(f"  {username:<12} {password:<16} {what}")
