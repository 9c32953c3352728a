"""Who may start or resume an attempt with a participant code, and how guessing is slowed.

The rule (README, "Quizzes"): a participant code alone starts a participant's first attempt.
Once an attempt exists, only the device that holds one of its tokens (`X-Attempt-Token`), or
sends the random device key it started with, may resume it, start the next one or read its result, unless the participant's site coordinator
(or an organiser) approves handing it over to another device: the approval ends every
earlier token of the attempt and lets the code alone take it over once, within
HANDOVER_MINUTES.

Refusals for a code (unknown, not checked in, attempt held by another device) read alike and
name nobody. Refused codes are counted per address and per quiz; past the limits
(QUIZ_CODE_LIMIT_ADDRESS, QUIZ_CODE_LIMIT_QUIZ) every start answers 429 with Retry-After
until the window has room again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select

from trainer.auth.models import User
from trainer.auth.services import require_site
from trainer.dbtypes import utcnow
from trainer.errors import Forbidden, NotFound, TooMany
from trainer.extensions import db
from trainer.quizzes.models import Attempt
from trainer.throttle import client_address, hit_all, seconds_left

HANDOVER_MINUTES = 15
REFUSED = "refused"


def refused() -> Forbidden:
    """The one answer for a code that cannot start or resume: it names nobody."""
    return Forbidden(gettext(
        "This code cannot take this quiz here. Check the code. If you were not checked in, or "
        "began this quiz on another device, ask your site's coordinator."), reason=REFUSED)


def device_hash(device: str | None) -> str | None:
    return hashlib.sha256(device.encode()).hexdigest() if device else None


def holds(attempt: Attempt, token: str | None, device: str | None = None) -> bool:
    """Whether the caller may take this attempt: it sends one of the attempt's tokens or the
    key of the device that started it, or a coordinator approved handing it over (used up
    here)."""
    from trainer.quizzes.attempts import _signature

    if device and attempt.device_hash and hmac.compare_digest(
            attempt.device_hash, device_hash(device) or ""):
        return True
    if token and len(token) <= 200:
        nonce, _, signature = token.partition(".")
        if nonce and signature and hmac.compare_digest(
                signature.encode(), _signature(attempt, nonce).encode()):
            return True
    until = attempt.resume_approved_until
    if until is not None and until > utcnow():
        attempt.resume_approved_until = None  # once
        return True
    return False


def _limits(quiz_id: int) -> list[tuple[str, tuple[str, ...]]]:
    cfg = current_app.config
    return [(cfg["QUIZ_CODE_LIMIT_ADDRESS"], ("quiz-code-address", client_address())),
            (cfg["QUIZ_CODE_LIMIT_QUIZ"], ("quiz-code-quiz", str(quiz_id)))]


def start_attempt(quiz_id: int, participant_code: str, token: str | None,
                  device: str | None = None) -> tuple[Attempt, str, bool]:
    """services.start_attempt behind the guessing throttle."""
    from trainer.quizzes import services

    limits = _limits(quiz_id)
    if (wait := seconds_left(limits)) is not None:
        raise TooMany(gettext("Too many wrong codes were tried. Wait %(seconds)d seconds and "
                              "try again.", seconds=wait), retry_after=wait)
    try:
        return services.start_attempt(quiz_id, participant_code, token, device)
    except Forbidden as exc:
        if exc.extra.get("reason") == REFUSED:
            hit_all(limits)
        raise


def approve_handover(actor: User | None, attempt_id: int) -> Attempt:
    """A coordinator of the attempt's site (or staff) lets the participant's code take the
    attempt over on another device; the devices holding it so far lose it."""
    attempt = db.session.scalar(select(Attempt).where(Attempt.id == attempt_id))
    if attempt is None:
        raise NotFound(gettext("Unknown attempt."))
    require_site(actor, attempt.site_id)
    attempt.token_key = secrets.token_hex(16)
    attempt.device_hash = None
    attempt.resume_approved_until = utcnow() + timedelta(minutes=HANDOVER_MINUTES)
    db.session.commit()
    return attempt
