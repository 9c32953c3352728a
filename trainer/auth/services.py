"""Accounts, passwords, bearer tokens, login throttling and the permission rules."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext
from sqlalchemy import bindparam, delete, func, inspect, select, update
from sqlalchemy.orm import make_transient_to_detached
from werkzeug.security import check_password_hash, generate_password_hash

from trainer.auth.models import ApiToken, LoginFailure, Role, User
from trainer.dbtypes import utcnow
from trainer.errors import Conflict, Forbidden, Invalid, NotFound, TooMany, Unauthorized
from trainer.extensions import db
from trainer.text import has_control_chars, nfc

MIN_PASSWORD = 10


def _hash_password(password: str) -> str:
    # werkzeug's default (scrypt) unless PASSWORD_HASH_METHOD says otherwise (tests: cheaper)
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _dummy_hash() -> str:
    return _dummy_hash_for(current_app.config["PASSWORD_HASH_METHOD"])


@functools.lru_cache(maxsize=8)
def _dummy_hash_for(method: str) -> str:
    """A hash to check a password against when the account does not exist (same time)."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- permission rules (every entry point calls these) -------------------------------------

def require_role(actor: User | None, *roles: Role) -> User:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise Unauthorized(gettext("Log in or send a valid bearer token."))
    if actor.role not in roles:
        raise Forbidden(gettext("Your role does not allow this."))
    return actor


def require_staff(actor: User | None) -> User:
    return require_role(actor, Role.ADMIN, Role.ORGANISER)


def require_admin(actor: User | None) -> User:
    return require_role(actor, Role.ADMIN)


def require_any(actor: User | None) -> User:
    return require_role(actor, Role.ADMIN, Role.ORGANISER, Role.COORDINATOR)


def can_act_for_site(actor: User, site_id: int) -> bool:
    return actor.is_staff or site_id in actor.site_ids


def require_site(actor: User | None, site_id: int) -> User:
    user = require_any(actor)
    if not can_act_for_site(user, site_id):
        raise Forbidden(gettext("You coordinate other sites, not this one."))
    return user


def visible_site_ids(actor: User) -> list[int] | None:
    """None means every site."""
    return None if actor.is_staff else actor.site_ids


# --- users ----------------------------------------------------------------------------------

def _validate_username(username: str) -> str:
    username = nfc(username or "")
    if not username or len(username) > 64 or has_control_chars(username) or " " in username:
        raise Invalid.field("username", gettext("A user name is 1 to 64 characters without spaces."))
    return username


@functools.cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of public leaks, as zxcvbn ships them."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _validate_password(password: str, username: str | None = None) -> str:
    """At least MIN_PASSWORD characters, not containing the user name, not a common one."""
    if not password or len(password) < MIN_PASSWORD:
        raise Invalid.field(
            "password", gettext("A password has at least %(n)d characters.", n=MIN_PASSWORD)
        )
    if len(password) > 256:
        raise Invalid.field("password", gettext("At most %(n)s characters.", n=256))
    folded = password.casefold()
    if username and len(username) >= 3 and username.casefold() in folded:
        raise Invalid.field("password", gettext("A password must not contain the user name."))
    if folded in _common_passwords() or folded.replace(" ", "") in _common_passwords():
        raise Invalid.field("password", gettext(
            "This password is one of the most common ones: choose another."))
    return password


def create_user(
    username: str,
    password: str,
    role: Role | str,
    site_ids: Iterable[int] = (),
    *,
    display_name: str | None = None,
    actor: User | None = None,
    commit: bool = True,
) -> User:
    """Create an account. `actor` is None only for the command line."""
    from trainer.sites.models import Site

    if actor is not None:
        require_admin(actor)
    username = _validate_username(username)
    _validate_password(password, username)
    try:
        role = Role(role)
    except ValueError:
        raise Invalid.field("role", gettext("Unknown role.")) from None
    ids = sorted(set(site_ids))
    sites = list(db.session.scalars(select(Site).where(Site.id.in_(ids)))) if ids else []
    if len(sites) != len(ids):
        raise Invalid.field("site_ids", gettext("Unknown site."))
    if role == Role.COORDINATOR and not sites:
        raise Invalid.field("site_ids", gettext("A coordinator needs at least one site."))
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise Conflict(gettext("The user name %(name)s is taken.", name=username),
                       errors={"username": [gettext("Already taken.")]})
    user = User(
        username=username,
        password_hash=_hash_password(password),
        role=role,
        display_name=nfc(display_name) if display_name else None,
        sites=sites,
    )
    db.session.add(user)
    if commit:
        db.session.commit()
    return user


def end_sessions(user: User, *, commit: bool = True) -> None:
    """End every browser session and API token of the account (and, through the token and
    session checks, its live sockets): on logout, a new password, deactivation, or "log out
    everywhere"."""
    user.session_version = (user.session_version or 0) + 1
    db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if commit:
        db.session.commit()
    from trainer import live

    live.end_user_connections(user.id)


def log_out_everywhere(actor: User | None, user: User) -> None:
    """The account itself, or an admin for any account."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise Unauthorized(gettext("Log in or send a valid bearer token."))
    if actor.id != user.id:
        require_admin(actor)
    end_sessions(user)


def set_password(user: User, password: str) -> None:
    _validate_password(password, user.username)
    user.password_hash = _hash_password(password)
    end_sessions(user)


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(gettext("Unknown user."))
    return user


def list_users(actor: User) -> list[User]:
    require_admin(actor)
    return list(db.session.scalars(select(User).order_by(User.username)))


def update_user(actor: User, user: User, *, role: str | None = None,
                site_ids: Iterable[int] | None = None, active: bool | None = None,
                display_name: str | None = None, password: str | None = None) -> User:
    from trainer.sites.models import Site

    require_admin(actor)
    if role is not None:
        try:
            user.role = Role(role)
        except ValueError:
            raise Invalid.field("role", gettext("Unknown role.")) from None
    if site_ids is not None:
        ids = sorted(set(site_ids))
        sites = list(db.session.scalars(select(Site).where(Site.id.in_(ids)))) if ids else []
        if len(sites) != len(ids):
            raise Invalid.field("site_ids", gettext("Unknown site."))
        user.sites = sites
    if user.role == Role.COORDINATOR and not user.sites:
        raise Invalid.field("site_ids", gettext("A coordinator needs at least one site."))
    ended = False
    if active is not None:
        if user.id == actor.id and not active:
            raise Invalid(gettext("You cannot deactivate your own account."))
        ended = user.active and not active
        user.active = active
    if display_name is not None:
        user.display_name = nfc(display_name) or None
    if password:
        _validate_password(password, user.username)
        user.password_hash = _hash_password(password)
        ended = True
    if ended:  # deactivated, or a new password: every session and token of the account ends
        end_sessions(user)
    else:
        db.session.commit()
    return user


# --- login and throttling -------------------------------------------------------------------

def _wait_message(seconds: int) -> str:
    if seconds < 120:
        return gettext("Too many failed logins. Wait %(seconds)d seconds and try again.",
                       seconds=seconds)
    return gettext("Too many failed logins. Wait %(minutes)d minutes and try again.",
                   minutes=(seconds + 59) // 60)


def _throttle(username: str, address: str) -> None:
    """Failed logins slow down the (user name, address) pair that fails: after
    LOGIN_MAX_FAILURES free tries, each further try waits twice as long as the last (1 s,
    2 s, 4 s ... up to LOGIN_WINDOW_S). An address that fails LOGIN_ADDRESS_MAX_FAILURES
    times within the window (any names) waits for the window. Nothing else is refused: the
    right password from an address that has not been failing always gets in."""
    cfg = current_app.config
    now = utcnow()
    since = now - timedelta(seconds=cfg["LOGIN_WINDOW_S"])
    count, last = db.session.execute(
        select(func.count(), func.max(LoginFailure.at))
        .where(LoginFailure.username == username.lower(), LoginFailure.address == address,
               LoginFailure.at >= since)).one()
    free = cfg["LOGIN_MAX_FAILURES"]
    if count >= free and last is not None:
        delay = min(2 ** min(count - free, 20), cfg["LOGIN_WINDOW_S"])
        wait = int((last + timedelta(seconds=delay) - now).total_seconds() + 0.999)
        if wait > 0:
            raise TooMany(_wait_message(wait), retry_after=wait)
    by_address, first = db.session.execute(
        select(func.count(), func.min(LoginFailure.at))
        .where(LoginFailure.address == address, LoginFailure.at >= since)).one()
    if by_address >= cfg["LOGIN_ADDRESS_MAX_FAILURES"] and first is not None:
        wait = max(1, int((first - since).total_seconds() + 0.999))
        raise TooMany(_wait_message(wait), retry_after=wait)


def authenticate(username: str, password: str, address: str) -> User:
    """Check a password; failures are recorded and throttled per (user name, address) pair,
    and more widely per address (see _throttle)."""
    username = nfc(username or "")[:64]
    address = (address or "unknown")[:64]
    _throttle(username, address)
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    # An unknown name costs a hash check too, so the time taken does not tell names apart.
    stored = user.password_hash if user is not None else _dummy_hash()
    if not check_password_hash(stored, password or "") or user is None or not user.active:
        since = utcnow() - timedelta(seconds=current_app.config["LOGIN_WINDOW_S"])
        db.session.execute(delete(LoginFailure).where(LoginFailure.at < since))  # no use now
        db.session.add(LoginFailure(username=username.lower(), address=address))
        db.session.commit()
        raise Unauthorized(gettext("Wrong user name or password."))
    # This pair's failures are of no further use; other addresses' stay counted.
    db.session.execute(delete(LoginFailure).where(LoginFailure.username == username.lower(),
                                                  LoginFailure.address == address))
    db.session.commit()
    return user


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    user: User


def issue_token(user: User) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(hours=current_app.config["TOKEN_TTL_HOURS"])
    db.session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), expires_at=expires_at))
    db.session.commit()
    return IssuedToken(token=token, expires_at=expires_at, user=user)


@functools.cache
def _token_user() -> tuple[Any, list[str], Any]:
    """(User's mapper, the attributes read, the statement): built once, when the models are
    mapped."""
    mapper = inspect(User)
    keys = [prop.key for prop in mapper.column_attrs]
    return mapper, keys, (select(*[getattr(User, key) for key in keys], ApiToken.expires_at,
                         ApiToken.revoked_at)
                  .join(ApiToken, ApiToken.user_id == User.id)
                  .where(ApiToken.token_hash == bindparam("digest")))


def user_for_token(token: str) -> User | None:
    """The active account of a valid bearer token. One Core query on every request, so a
    revoked token, a disabled account or a changed site list applies at once, in every
    process; the account is made persistent in the session from that row, not loaded again."""
    if not token or len(token) > 200:
        return None
    mapper, keys, statement = _token_user()
    row = db.session.connection().execute(statement, {"digest": hash_token(token)}).first()
    if row is None:
        return None
    values = dict(zip(keys, row, strict=False))
    if row.revoked_at is not None or row.expires_at <= utcnow() or not values["active"]:
        return None
    session = db.session()
    known = session.identity_map.get(mapper.identity_key_from_primary_key((values["id"],)))
    if known is not None:
        return known  # type: ignore[no-any-return]
    user = User(**values)
    make_transient_to_detached(user)  # as if loaded: no pending change, nothing to flush
    session.add(user)
    return user


def revoke_token(token: str) -> bool:
    result = db.session.execute(
        update(ApiToken).where(ApiToken.token_hash == hash_token(token),
                               ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    db.session.commit()
    return bool(getattr(result, "rowcount", 0))  # a CursorResult for an UPDATE


def calendar_key(user: User) -> str:
    """The secret in a user's personal calendar feed address, made on first use."""
    if not user.calendar_key:
        user.calendar_key = secrets.token_urlsafe(24)
        db.session.commit()
    return user.calendar_key
