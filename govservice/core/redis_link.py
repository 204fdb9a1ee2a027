"""The shared Redis connection (REDIS_URL), for the paths that must keep working without it.

Hot paths (certificate status, the verification queue) use Redis to avoid the database, never
to depend on it: every call goes through `call()`, which answers `fallback` when Redis is not
configured or does not answer. After a failure Redis is left alone for a few seconds, so a dead
Redis costs one short timeout, not one per request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

from . import process

log = logging.getLogger(__name__)

DOWN = object()  # what `call` answers when Redis is not there, if the caller must tell it from None
TIMEOUT = 0.25  # seconds: Redis on the same network answers in well under a millisecond
BACKOFF = 5.0  # seconds without trying again after a failure


class RedisLink:
    def __init__(self, url: str, prefix: str = ""):
        import redis

        self.prefix = prefix  # SESSION_KEY_PREFIX: several deployments (or test runs) share one Redis
        pool = _pool_class().from_url(
            url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT, health_check_interval=30
        )
        self.client = redis.Redis(connection_pool=pool)
        self._down_until = 0.0
        self._errors = (redis.RedisError, OSError)
        self._scripts: dict[str, Any] = {}

    def script(self, source: str):
        """A Lua script, sent by its SHA-1 (EVALSHA) after the first call."""
        if source not in self._scripts:
            self._scripts[source] = self.client.register_script(source)
        return self._scripts[source]

    def down(self) -> bool:
        """Whether Redis failed a moment ago (and is left alone for now)."""
        return time.monotonic() < self._down_until

    def call(self, fn: Callable[[Any], Any], fallback: Any = None) -> Any:
        if time.monotonic() < self._down_until:
            return fallback
        try:
            return fn(self.client)
        except self._errors as exc:
            self._down_until = time.monotonic() + BACKOFF
            log.warning("Redis unavailable (%s): going without it for %.0f s", exc, BACKOFF)
            return fallback


def _pool_class():
    import redis

    class Pool(redis.ConnectionPool):
        """redis-py's pool, checking for a fork with the pid kept by `process` (it calls getpid()
        twice a command otherwise)."""

        def _checkpid(self) -> None:
            if self.pid != process.pid():
                super()._checkpid()

    return Pool


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    app.extensions["redis_link"] = RedisLink(url, app.config.get("SESSION_KEY_PREFIX", "")) if url else None


def link() -> RedisLink | None:
    """The app's Redis link, or None when REDIS_URL is not set."""
    return current_app.extensions.get("redis_link")
