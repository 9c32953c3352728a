"""The command line: `trainer create-user` and `trainer demo` (in process and as the real
console script)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from trainer.auth.models import Role, User
from trainer.extensions import db
from trainer.people.models import Participant
from trainer.sites.models import Site, SiteKind, Unit

TRAINER = Path(sys.executable).with_name("trainer")


def user_named(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def token_status(client: Any, username: str, password: str) -> int:
    return int(client.post("/api/v1/auth/token",
                           json={"username": username, "password": password}).status_code)


# --- create-user ----------------------------------------------------------------------------

def test_create_user_reads_the_password_from_the_environment(runner: Any, client: Any) -> None:
    result = runner.invoke(args=["create-user", "bantochuc", "--role", "organiser",
                                 "--name", "Ban tổ chức"],
                           env={"TRAINER_PASSWORD": "mat-khau-rat-dai"})
    assert result.exit_code == 0, result.output
    assert "bantochuc" in result.output
    user = user_named("bantochuc")
    assert user is not None and user.role == Role.ORGANISER and user.display_name == "Ban tổ chức"
    assert "mat-khau-rat-dai" not in user.password_hash
    assert token_status(client, "bantochuc", "mat-khau-rat-dai") == 201


def test_create_user_prompts_when_no_password_is_set(runner: Any, client: Any) -> None:
    result = runner.invoke(args=["create-user", "quantri", "--role", "admin"],
                           env={"TRAINER_PASSWORD": None},
                           input="mat-khau-rat-dai\nmat-khau-rat-dai\n")
    assert result.exit_code == 0, result.output
    assert token_status(client, "quantri", "mat-khau-rat-dai") == 201


def test_create_coordinator_with_site_codes(runner: Any, make_site: Any) -> None:
    vtr, ckh = make_site(code="VTR"), make_site(code="CKH")
    make_site(code="TSN")
    result = runner.invoke(args=["create-user", "coord-2", "--role", "coordinator",
                                 "--site", "vtr", "--site", "CKH"],
                           env={"TRAINER_PASSWORD": "mat-khau-rat-dai"})
    assert result.exit_code == 0, result.output
    user = user_named("coord-2")
    assert user is not None and user.site_ids == sorted([vtr.id, ckh.id])


@pytest.mark.parametrize("args, message", [
    (["coord", "--role", "coordinator", "--site", "NOPE"], "Unknown site code: NOPE"),
    (["coord", "--role", "coordinator"], "A coordinator needs at least one site."),
    (["someone", "--role", "king"], "Invalid value for '--role'"),
    (["with space", "--role", "organiser"], "A user name is 1 to 64 characters"),
])
def test_create_user_errors_exit_non_zero(runner: Any, make_site: Any, args: list[str],
                                          message: str) -> None:
    make_site(code="VTR")
    result = runner.invoke(args=["create-user", *args],
                           env={"TRAINER_PASSWORD": "mat-khau-rat-dai", "LANG": "C"})
    assert result.exit_code != 0
    assert message in result.output
    assert count(User) == 0


def test_create_user_refuses_a_short_password_or_a_taken_name(runner: Any,
                                                              make_user: Any) -> None:
    result = runner.invoke(args=["create-user", "newbie", "--role", "organiser"],
                           env={"TRAINER_PASSWORD": "short"})
    assert result.exit_code != 0 and "password" in result.output
    make_user("organiser", username="taken")
    result = runner.invoke(args=["create-user", "TAKEN", "--role", "organiser"],
                           env={"TRAINER_PASSWORD": "mat-khau-rat-dai"})
    assert result.exit_code != 0 and "taken" in result.output.lower()
    assert count(User) == 1


def _env(app: Any, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAINER_", "DATABASE"))}
    env.update(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               TRAINER_DATA_DIR=str(tmp_path), SECRET_KEY="cli-test", **extra)
    return env


def test_console_script_creates_a_user(app: Any, make_site: Any, tmp_path: Path) -> None:
    make_site(code="VTR")
    db.session.commit()  # leave no transaction open: the other process writes to this database
    done = subprocess.run(
        [str(TRAINER), "create-user", "coord-vtr", "--role", "coordinator", "--site", "VTR"],
        env=_env(app, tmp_path, TRAINER_PASSWORD="mat-khau-rat-dai"),
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    user = user_named("coord-vtr")
    assert user is not None and [s.code for s in user.sites] == ["VTR"]
    db.session.commit()
    done = subprocess.run(
        [str(TRAINER), "create-user", "coord-x", "--role", "coordinator", "--site", "NOPE"],
        env=_env(app, tmp_path, TRAINER_PASSWORD="mat-khau-rat-dai"),
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "Unknown site code: NOPE" in done.stderr
    assert "Traceback" not in done.stderr


def test_console_script_lists_its_commands(app: Any, tmp_path: Path) -> None:
    done = subprocess.run([str(TRAINER), "--help"], env=_env(app, tmp_path),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    for command in ("serve", "db", "create-user", "demo"):
        assert command in done.stdout


# --- demo -----------------------------------------------------------------------------------

def test_demo_loads_the_province_once(app: Any, runner: Any, client: Any) -> None:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    sites = list(db.session.scalars(select(Site).order_by(Site.code)))
    assert len(sites) == 13
    hosts = [s for s in sites if s.kind == SiteKind.HOST]
    assert [s.name for s in hosts] == ["Thành phố Việt Trì"]
    assert 270 <= count(Unit) <= 285
    people = count(Participant)
    assert 1200 <= people <= 1400
    women = db.session.scalar(select(func.count()).select_from(Participant)
                              .where(Participant.sex == "female")) or 0
    assert 0.4 <= women / people <= 0.6
    usernames = set(db.session.scalars(select(User.username)))
    expected = {"admin", "organiser"} | {f"coord-{s.code.lower()}" for s in sites}
    assert expected <= usernames
    for site in sites:
        coordinator = user_named(f"coord-{site.code.lower()}")
        assert coordinator is not None and coordinator.site_ids == [site.id]

    # the accounts' passwords are printed and kept in a file only the owner can read
    logins = Path(app.config["DATA_DIR"]) / "demo-logins.txt"
    assert stat.S_IMODE(logins.stat().st_mode) == 0o600
    passwords = dict(line.split("\t")[:2] for line in logins.read_text("utf-8").splitlines())
    assert passwords["admin"] in result.output
    assert token_status(client, "admin", passwords["admin"]) == 201

    counts = (count(Site), count(Unit), count(Participant), count(User))
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert "already holds data" in again.output
    db.session.expire_all()
    assert (count(Site), count(Unit), count(Participant), count(User)) == counts


def test_demo_does_not_touch_a_database_with_data(runner: Any, make_site: Any) -> None:
    make_site(code="OWN")
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "already holds data" in result.output
    assert count(Site) == 1 and count(Participant) == 0
