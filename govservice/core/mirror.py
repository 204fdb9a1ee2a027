"""This process's copy of values kept in Redis, trusted while a subscription hears every change.

A read on the hot path (a certificate's status snapshot, the generation of partners'
credentials) that went to Redis on every request costs a network round trip, about what the
rest of the request costs. The mirror keeps what such reads answered in the process, and every
writer that changes one of them announces the change on one pub/sub channel (`announce`) after
it commits; each process's subscriber thread drops the values named. Correctness rests on three
rules:

* **Only while subscribed.** Values are served only while the subscription is up. When it drops
  (Redis restarted, the network broke) everything kept is forgotten at once and reads go to
  Redis again until the subscription is back, so a change announced meanwhile is never missed.
* **A value read before a change is never kept after it.** A reader takes `seq()` *before* it
  reads Redis or the database and hands it to `put`; a change of that key heard since (or any
  forgetting) makes `put` drop the value instead of keeping it.
* **The writer's own process forgets at once** (`changed`), before announcing: a request that
  follows the commit in the same process never sees the old value. Other processes see the change
  when the announcement reaches them (well under a millisecond on one network).

Values are bounded (`MAX_VALUES`, least recently kept first out) and the subscriber starts in
each process on first use, so a preloaded gunicorn master hands its workers nothing.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any

from flask import current_app

from . import process, redis_link

log = logging.getLogger(__name__)

CHANNEL = "mirror:changes"  # under the deployment's key prefix
MAX_VALUES = 20_000
MAX_CHANGES = 50_000  # changed keys remembered (with the sequence number they changed at)
RETRY = 1.0  # seconds before subscribing again after the subscription dropped


class Mirror:
    def __init__(self, link):
        self.link = link
        self.channel = link.prefix + CHANNEL
        self._lock = threading.Lock()
        self._values: OrderedDict[str, Any] = OrderedDict()
        self._groups: dict[str, OrderedDict[str, None]] = {}  # keys of a group, least recently kept first
        self._changed_at: OrderedDict[str, int] = OrderedDict()  # key -> seq of its last change
        self._seq = 0  # advances with every change heard and every forgetting
        self._floor = 0  # a value read at an earlier seq may be stale (forgotten, or its change evicted)
        self._live = threading.Event()
        self._pid: int | None = None
        self._pubsub = None  # the subscription's connection (for a look from tests and debuggers)

    # --- readers

    def live(self) -> bool:
        """Whether values are served (the subscription is up in this process); starts it on first use."""
        if self._pid != process.pid():
            self._start()
        return self._live.is_set()

    def seq(self) -> int:
        """Take before reading a value from Redis or the database; hand it to `put`."""
        return self._seq

    def get(self, key: str, default: Any = None) -> Any:
        if not self._live.is_set():
            return default
        return self._values.get(key, default)

    def put(self, key: str, value: Any, seq: int, *, group: str | None = None, limit: int = 0) -> None:
        """Keep `value` of `key`, read after `seq()` answered `seq`, unless it may be stale. Values
        of a `group` are bounded by `limit` of their own (larger values, fewer of them)."""
        with self._lock:
            if not self._live.is_set() or seq < self._floor or self._changed_at.get(key, -1) > seq:
                return
            self._values[key] = value
            self._values.move_to_end(key)
            if group is not None:
                members = self._groups.setdefault(group, OrderedDict())
                members[key] = None
                members.move_to_end(key)
                while len(members) > limit:
                    self._values.pop(members.popitem(last=False)[0], None)
            if len(self._values) > MAX_VALUES:
                self._values.popitem(last=False)

    # --- writers

    def changed(self, keys) -> None:
        """Forget `keys` in this process now (the writer, before it announces them)."""
        with self._lock:
            for key in keys:
                self._seq += 1
                self._values.pop(key, None)
                for members in self._groups.values():
                    members.pop(key, None)
                self._changed_at[key] = self._seq
                self._changed_at.move_to_end(key)
            while len(self._changed_at) > MAX_CHANGES:
                _key, at = self._changed_at.popitem(last=False)
                self._floor = max(self._floor, at)

    def announce(self, pipe, keys) -> None:
        """Add the announcement of `keys` to a Redis pipeline (the one that bumps their generations)."""
        pipe.publish(self.channel, "\n".join(keys))

    def forget(self) -> None:
        """Forget every value (the subscription dropped, or a test ended)."""
        with self._lock:
            self._values.clear()
            self._groups.clear()
            self._changed_at.clear()
            self._seq += 1
            self._floor = self._seq

    # --- the subscriber

    def _start(self) -> None:
        with self._lock:
            if self._pid == process.pid():
                return
            self._pid = process.pid()
            self._live = live = threading.Event()  # a forked copy of the parent's state is not live
        self.forget()
        threading.Thread(target=self._listen, args=(self._pid, live), name="redis-mirror", daemon=True).start()

    def _listen(self, pid: int, live: threading.Event) -> None:
        while self._pid == pid:
            pubsub = None
            try:
                pubsub = self._pubsub = self.link.client.pubsub()
                pubsub.subscribe(self.channel)
                while self._pid == pid:
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":  # from now on every change is heard
                        self.forget()  # what was read before may have changed unheard
                        live.set()
                    elif message["type"] == "message":
                        self.changed(message["data"].decode().split("\n"))
            except Exception as exc:  # any failure: stop serving, forget, subscribe again
                if live.is_set():
                    log.warning("Redis mirror unsubscribed (%s): reading Redis until it is back", exc)
            finally:
                live.clear()
                self.forget()
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:  # noqa: S110 - the connection is gone either way
                        pass
            if self._pid == pid:
                time.sleep(RETRY)

    def close(self) -> None:
        """Stop serving and let the subscriber end (within a second)."""
        self._pid = None
        self._live.clear()

    def sync(self, timeout: float = 5.0) -> bool:
        """Block until this process has heard every change announced before the call (its own
        commits' included: the writer forgets at once, and hears the announcement later)."""
        if not self.wait_live(timeout):
            return False
        marker = f"mirror:sync:{uuid.uuid4().hex}"
        self.link.call(lambda r: r.publish(self.channel, marker))
        deadline = time.monotonic() + timeout
        while marker not in self._changed_at:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)
        return True

    def wait_live(self, timeout: float = 5.0) -> bool:
        """Block until the subscription is up (tests, and a worker's first request if it wants)."""
        self.live()
        return self._live.wait(timeout)


def init_app(app) -> None:
    link = app.extensions.get("redis_link")
    app.extensions["mirror"] = Mirror(link) if link is not None and app.config.get("REDIS_MIRROR", True) else None


def mirror() -> Mirror | None:
    """The app's mirror, or None (no Redis, or REDIS_MIRROR off)."""
    return current_app.extensions.get("mirror")


def publish(keys: list[str], *, bump: bool = False) -> bool:
    """A commit changed what `keys` stand for: forget them in this process now and announce them
    to every other process, in one Redis round trip; with `bump` each key is a generation counter
    in Redis and is incremented in the same pipeline. False when Redis did not answer (the caller
    says what that leaves stale); True when there is no Redis (nothing is kept anywhere)."""
    link = redis_link.link()
    if link is None:
        return True
    copy = mirror()
    if copy is not None:
        copy.changed(keys)
    elif not bump:
        return True

    def send(r):
        pipe = r.pipeline(transaction=False)
        for key in keys if bump else ():
            pipe.incr(key)
        if copy is not None:
            copy.announce(pipe, keys)
        pipe.execute()
        return True

    return link.call(send) is not None
