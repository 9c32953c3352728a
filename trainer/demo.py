"""`trainer demo`: the demo province (Phú Thọ, 2017) in an empty database.

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

from trainer import demo_data
from trainer.auth.models import Role, User
from trainer.auth.services import create_user
from trainer.extensions import db
from trainer.people.models import Participant
from trainer.people.services import CODE_ALPHABET, new_code
from trainer.sites.models import Site, SiteKind, Unit
from trainer.text import fold, name_sort_key, nfc, sort_key, split_name

FEATURE_ORDER = ("sessions", "materials", "quizzes", "checkin", "reports")
LOGINS_FILE = "demo-logins.txt"


@dataclass
class DemoContext:
    sites: dict[str, Site] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    participants: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"Demo province loaded: {len(self.sites)} bridge points, "
            f"{db.session.scalar(select(func.count()).select_from(Unit))} communes, "
            f"{self.participants} participants, {len(self.users)} accounts.",
        ]
        lines += self.notes
        return "\n".join(lines)


def _logins_path() -> Path:
    return Path(current_app.config["DATA_DIR"]) / LOGINS_FILE


def _password() -> str:
    return "-".join(
        "".join(secrets.choice(CODE_ALPHABET.lower()) for _ in range(4)) for _ in range(3)
    )


def load_demo() -> DemoContext | None:
    """Load the demo into an empty database; None (and nothing written) if it holds data."""
    if db.session.scalar(select(func.count()).select_from(Site)) or db.session.scalar(
        select(func.count()).select_from(User)
    ):
        return None
    ctx = DemoContext()
    for spec in demo_data.SITES:
        site = Site(code=spec.code, name=spec.name, name_folded=fold(spec.name),
                    kind=SiteKind(spec.kind))
        db.session.add(site)
        ctx.sites[spec.code] = site
    db.session.flush()
    units: dict[tuple[str, str], int] = {}
    for spec in demo_data.SITES:
        site = ctx.sites[spec.code]
        for name in spec.communes:
            unit = Unit(site_id=site.id, name=name, name_folded=fold(name), sort_key=sort_key(name),
                        centre_name=f"Trung tâm học tập cộng đồng {name.split(' ', 1)[-1]}")
            db.session.add(unit)
            db.session.flush()
            units[(spec.code, name)] = unit.id

    codes: set[str] = set()
    rows: list[dict[str, Any]] = []
    for person in demo_data.people():
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
            "unit_id": units.get((person.site_code, person.unit)),
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
    for spec in demo_data.SITES:
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
