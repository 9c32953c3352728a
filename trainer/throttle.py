"""Rate limits on refused guesses (quiz codes), kept in Redis when REDIS_URL is set so that
every server process counts together, else in this process's memory.

Built on the `limits` library (moving windows). Only refusals are counted: a caller is
checked before the work (`wait`) and counted after a refusal (`hit`), so a trainee who types
the right code is never slowed by the others' typos.
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app
from limits import RateLimitItem, parse, storage, strategies

EXTENSION = "trainer.throttle"


class Throttle:
    def __init__(self, uri: str) -> None:
        self.storage = storage.storage_from_string(uri)
        self.limiter = strategies.MovingWindowRateLimiter(self.storage)

    def wait(self, limit: str | RateLimitItem, *keys: str) -> int | None:
        """Seconds to wait before trying again, or None when under the limit."""
        item = parse(limit) if isinstance(limit, str) else limit
        if self.limiter.test(item, *keys):
            return None
        reset = self.limiter.get_window_stats(item, *keys).reset_time
        return max(1, math.ceil(reset - time.time()))

    def hit(self, limit: str | RateLimitItem, *keys: str) -> None:
        item = parse(limit) if isinstance(limit, str) else limit
        self.limiter.hit(item, *keys)

    def reset(self) -> None:
        self.storage.reset()


def init_app(app: Flask) -> None:
    redis_url = app.config.get("REDIS_URL")
    uri = app.config.get("THROTTLE_STORAGE_URI") or redis_url or "memory://"
    app.extensions[EXTENSION] = Throttle(uri)


def throttle() -> Throttle:
    return current_app.extensions[EXTENSION]


def client_address() -> str:
    """The caller's address as the proxy in front tells it (TRAINER_PROXY_COUNT)."""
    from flask import request

    return (request.remote_addr or "unknown")[:64]


def seconds_left(limits_: list[tuple[str, tuple[str, ...]]]) -> int | None:
    """The longest wait among (limit, keys) pairs, or None when all are under their limit."""
    waits = [w for limit, keys in limits_ if (w := throttle().wait(limit, *keys)) is not None]
    return max(waits) if waits else None


def hit_all(limits_: list[tuple[str, tuple[str, ...]]]) -> None:
    for limit, keys in limits_:
        throttle().hit(limit, *keys)


__all__ = ["Throttle", "client_address", "hit_all", "init_app", "seconds_left", "throttle"]

