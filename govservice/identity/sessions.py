"""Server-side sessions: in Redis when `REDIS_URL` is set, in the database otherwise.

The cookie carries only a random session id (256 bits); the store keys the record by the id's
SHA-256 and keeps the data Fernet-encrypted (govservice.core.pii), so a copy of the store can
neither take over a session nor read it (the data hold OIDC state and the ID token).

Rules, enforced here for every request:
- a new id at login, step-up and sign-out (`regenerate`), so an id planted before login is
  worth nothing (session fixation);
- an idle timeout (30 minutes, 15 for staff) and an absolute one (12 hours from sign-in);
  an ended session is deleted and the person is told why on the next page;
- "sign out everywhere" deletes every session of a person at once (`end_all_for`);
- the cookie is HttpOnly, SameSite=Lax, and Secure outside development (app config).

Times come from `govservice.core.clock`, so tests move the clock instead of sleeping. Several app
instances share the store; nothing lives in one process's memory.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, insert, select, update
from werkzeug.datastructures import CallbackDict

from ..core import clock, pii
from ..core.extensions import db
from ..core.signals import session_unsaved
from .models import WebSession

log = logging.getLogger(__name__)

#: A session in use is written back at most this often when nothing in it changed.
TOUCH_SECONDS = 60
#: An ended record is kept this long past its end in Redis, so the person can be told why.
GRACE_SECONDS = 3600
STAFF_FLAG = "_staff"
#: A session may ask for a shorter idle timeout than its kind's (a self-service terminal's: a minute).
IDLE_LIMIT = "_idle_limit"
#: Redis: seconds to wait for an answer, and to leave it alone after it did not answer.
REDIS_TIMEOUT = 0.5
REDIS_BACKOFF = 5.0


class StoreUnavailable(Exception):
    """The session store (Redis) does not answer: the request's session can be neither read
    nor saved. The request answers 503 (govservice.ops.faults, told by the signal), never a 500."""


@dataclass
class Record:
    """What the store keeps for one session."""

    data: str  # encrypted, serialized session dict
    person_id: int | None
    created_at: datetime
    last_seen_at: datetime
    idle_seconds: int

    def expires_at(self, absolute_seconds: int) -> datetime:
        return min(
            self.last_seen_at + timedelta(seconds=self.idle_seconds),
            self.created_at + timedelta(seconds=absolute_seconds),
        )

    def ended(self, now: datetime, absolute_seconds: int) -> str | None:
        """Why the session is over at `now` ("absolute" or "idle"), or None while it lasts."""
        if now >= self.created_at + timedelta(seconds=absolute_seconds):
            return "absolute"
        if now >= self.last_seen_at + timedelta(seconds=self.idle_seconds):
            return "idle"
        return None


def key_of(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


# --- stores ---------------------------------------------------------------------------------


class DatabaseStore:
    """Sessions in the `web_sessions` table. Each operation uses its own short transaction on
    the engine, never the request's ORM session, so saving a session at the end of a request
    cannot commit (or be rolled back with) whatever the view left behind."""

    table = WebSession.__table__

    def load(self, key: str) -> Record | None:
        with db.engine.connect() as conn:
            row = conn.execute(select(self.table).where(self.table.c.key == key)).first()
        return self._record(row) if row else None

    def save(self, key: str, record: Record, absolute_seconds: int, *, listed: bool = False) -> None:
        values = {
            "person_id": record.person_id,
            "data": record.data,
            "created_at": record.created_at,
            "last_seen_at": record.last_seen_at,
            "idle_seconds": record.idle_seconds,
            "expires_at": record.expires_at(absolute_seconds),
        }
        with db.engine.begin() as conn:
            if conn.execute(update(self.table).where(self.table.c.key == key).values(**values)).rowcount == 0:
                conn.execute(insert(self.table).values(key=key, **values))

    def delete(self, key: str, person_id: int | None = None) -> None:
        with db.engine.begin() as conn:
            conn.execute(delete(self.table).where(self.table.c.key == key))

    def delete_for_person(self, person_id: int) -> int:
        with db.engine.begin() as conn:
            return conn.execute(delete(self.table).where(self.table.c.person_id == person_id)).rowcount

    def for_person(self, person_id: int) -> dict[str, Record]:
        with db.engine.connect() as conn:
            rows = conn.execute(select(self.table).where(self.table.c.person_id == person_id)).all()
        return {row.key: self._record(row) for row in rows}

    def purge(self, now: datetime) -> int:
        with db.engine.begin() as conn:
            return conn.execute(delete(self.table).where(self.table.c.expires_at <= now)).rowcount

    @staticmethod
    def _record(row) -> Record:
        def aware(value):  # SQLite hands back naive datetimes through Core
            return value if value.tzinfo else value.replace(tzinfo=UTC)

        return Record(
            data=row.data,
            person_id=row.person_id,
            created_at=aware(row.created_at),
            last_seen_at=aware(row.last_seen_at),
            idle_seconds=row.idle_seconds,
        )


def _guarded(operation):
    """A store operation that fails fast with StoreUnavailable while Redis does not answer (and
    for REDIS_BACKOFF seconds after it stopped answering), then tries Redis again by itself."""

    @functools.wraps(operation)
    def guarded(self, *args, **kwargs):
        if time.monotonic() < self._down_until:
            raise StoreUnavailable("Redis")
        for attempt in (1, 2):
            try:
                return operation(self, *args, **kwargs)
            except self._errors as exc:
                # A pooled connection Redis (or a proxy) cut while idle fails once: drop the pool's
                # connections and try a fresh one before calling Redis down.
                self.redis.connection_pool.disconnect()
                if attempt == 2:
                    self._down_until = time.monotonic() + REDIS_BACKOFF
                    log.warning(
                        "the session store (Redis) does not answer (%s); trying again in %.0f s", exc, REDIS_BACKOFF
                    )
                    raise StoreUnavailable("Redis") from exc

    return guarded


class RedisStore:
    """Sessions in Redis, each with a TTL a little past its end; a set per person lists theirs."""

    def __init__(self, url: str, prefix: str = "govservice:"):
        import redis

        self.redis = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT, health_check_interval=30
        )
        self.prefix = prefix
        self._errors = (redis.RedisError, OSError)
        self._down_until = 0.0

    def _k(self, key: str) -> str:
        return f"{self.prefix}session:{key}"

    def _p(self, person_id: int) -> str:
        return f"{self.prefix}person-sessions:{person_id}"

    @_guarded
    def load(self, key: str) -> Record | None:
        raw = self.redis.get(self._k(key))
        return self._record(raw) if raw else None

    @_guarded
    def save(self, key: str, record: Record, absolute_seconds: int, *, listed: bool = False) -> None:
        """`listed`: the record was saved before for the same person, so the person's set already
        names it and outlives it (its expiry was set when the session began): one SET, no MULTI."""
        ttl = int((record.expires_at(absolute_seconds) - record.last_seen_at).total_seconds()) + GRACE_SECONDS
        raw = json.dumps(
            {
                "d": record.data,
                "p": record.person_id,
                "c": record.created_at.timestamp(),
                "l": record.last_seen_at.timestamp(),
                "i": record.idle_seconds,
            }
        )
        if listed or record.person_id is None:
            self.redis.set(self._k(key), raw, ex=max(ttl, 1))
            return
        pipe = self.redis.pipeline()
        pipe.set(self._k(key), raw, ex=max(ttl, 1))
        pipe.sadd(self._p(record.person_id), key)
        pipe.expire(self._p(record.person_id), absolute_seconds + GRACE_SECONDS)
        pipe.execute()

    @_guarded
    def delete(self, key: str, person_id: int | None = None) -> None:
        pipe = self.redis.pipeline()
        pipe.delete(self._k(key))
        if person_id is not None:
            pipe.srem(self._p(person_id), key)
        pipe.execute()

    @_guarded
    def delete_for_person(self, person_id: int) -> int:
        keys = [k.decode() for k in self.redis.smembers(self._p(person_id))]
        deleted = self.redis.delete(*[self._k(k) for k in keys]) if keys else 0
        self.redis.delete(self._p(person_id))
        return deleted

    @_guarded
    def for_person(self, person_id: int) -> dict[str, Record]:
        keys = [k.decode() for k in self.redis.smembers(self._p(person_id))]
        found = {}
        for key, raw in zip(keys, self.redis.mget([self._k(k) for k in keys]) if keys else []):
            if raw is None:
                self.redis.srem(self._p(person_id), key)
            else:
                found[key] = self._record(raw)
        return found

    def purge(self, now: datetime) -> int:
        return 0  # Redis expires keys itself

    @staticmethod
    def _record(raw: bytes) -> Record:
        item = json.loads(raw)
        return Record(
            data=item["d"],
            person_id=item["p"],
            created_at=datetime.fromtimestamp(item["c"], UTC),
            last_seen_at=datetime.fromtimestamp(item["l"], UTC),
            idle_seconds=item["i"],
        )


# --- the Flask session interface ------------------------------------------------------------


class ServerSession(CallbackDict, SessionMixin):
    """The session dict of one request, with its id and stored record."""

    def __init__(self, initial=None, sid: str | None = None, record: Record | None = None):
        def on_update(self_):
            self_.modified = True
            self_.accessed = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.record = record
        self.modified = False
        self.accessed = False
        self.replaced_sid: str | None = None
        self.replaced_person_id: int | None = None
        #: The store did not answer when the session was opened: it is empty and is never saved.
        self.unavailable = False
        #: Why the session the browser presented had ended ("idle" / "absolute"), if it had.
        self.ended: str | None = None

    def __getitem__(self, key):
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.accessed = True
        return super().get(key, default)

    def setdefault(self, key, default=None):
        self.accessed = True
        return super().setdefault(key, default)

    def regenerate(self) -> None:
        """Keep the data under a new id; the old record is deleted when the response is saved."""
        if self.sid is not None and self.replaced_sid is None:
            self.replaced_sid = self.sid
            self.replaced_person_id = self.record.person_id if self.record else None
        self.sid = None
        self.record = None
        self.modified = True


class ServerSessionInterface(SessionInterface):
    serializer = TaggedJSONSerializer()

    def __init__(self, store):
        self.store = store

    def open_session(self, app: Flask, request) -> ServerSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        if not sid or len(sid) > 128:
            return ServerSession()
        key = key_of(sid)
        try:
            record = self.store.load(key)
            ended = record.ended(clock.now(), absolute_seconds(app)) if record is not None else None
            if ended:
                self.store.delete(key, record.person_id)
        except StoreUnavailable:
            unreadable = ServerSession()
            unreadable.unavailable = True
            request.environ["govservice.session_unreadable"] = True  # ops.faults answers 503
            return unreadable
        if record is None:
            return ServerSession()
        if ended:
            fresh = ServerSession()
            fresh.ended = ended
            return fresh
        try:
            data = self.serializer.loads(pii.decrypt(record.data))
        except (RuntimeError, ValueError):
            log.warning("a stored session could not be read; starting a new one")
            return ServerSession()
        return ServerSession(data, sid=sid, record=record)

    def save_session(self, app: Flask, session: ServerSession, response) -> None:
        if session.unavailable:
            return  # nothing was read, so nothing may be written over what the store holds
        try:
            self._save(app, session, response)
        except StoreUnavailable:
            session_unsaved.send(app, response=response)  # ops.faults answers 503 instead

    def _save(self, app: Flask, session: ServerSession, response) -> None:
        name, domain, path = self.get_cookie_name(app), self.get_cookie_domain(app), self.get_cookie_path(app)
        now = clock.now()
        if session.replaced_sid:
            self.store.delete(key_of(session.replaced_sid), session.replaced_person_id)
            self.store.purge(now)  # once per sign-in or sign-out: keeps the database table small
        if session.accessed:
            response.vary.add("Cookie")
        if not session:
            if session.record is not None:
                self.store.delete(key_of(session.sid), session.record.person_id)
            if session.record is not None or session.replaced_sid:
                response.delete_cookie(
                    name,
                    domain=domain,
                    path=path,
                    secure=self.get_cookie_secure(app),
                    samesite=self.get_cookie_samesite(app),
                    httponly=True,
                )
            return
        stale = session.record is not None and (now - session.record.last_seen_at).total_seconds() >= TOUCH_SECONDS
        if session.sid is not None and not session.modified and not stale:
            return
        new = session.sid is None
        if new:
            session.sid = secrets.token_urlsafe(32)
        record = Record(
            data=pii.encrypt(self.serializer.dumps(dict(session))),
            person_id=_person_id(session),
            created_at=session.record.created_at if session.record else now,
            last_seen_at=now,
            idle_seconds=min(idle_seconds(app, bool(session.get(STAFF_FLAG))), int(session.get(IDLE_LIMIT) or 1 << 30)),
        )
        listed = session.record is not None and session.record.person_id == record.person_id
        self.store.save(key_of(session.sid), record, absolute_seconds(app), listed=listed)
        session.record = record
        if new:
            response.set_cookie(
                name,
                session.sid,
                domain=domain,
                path=path,
                httponly=True,
                secure=self.get_cookie_secure(app),
                samesite=self.get_cookie_samesite(app),
                partitioned=self.get_cookie_partitioned(app),
            )


def _person_id(session) -> int | None:
    user_id = dict.get(session, "_user_id")
    return int(user_id) if isinstance(user_id, str) and user_id.isdigit() else None


def idle_seconds(app: Flask, staff: bool) -> int:
    minutes = app.config["SESSION_STAFF_IDLE_MINUTES"] if staff else app.config["SESSION_IDLE_MINUTES"]
    return int(minutes) * 60


def absolute_seconds(app: Flask) -> int:
    return int(app.config["SESSION_ABSOLUTE_HOURS"]) * 3600


# --- what the rest of the identity domain uses ----------------------------------------------


def init_app(app: Flask) -> None:
    app.config.setdefault("SESSION_IDLE_MINUTES", 30)
    app.config.setdefault("SESSION_STAFF_IDLE_MINUTES", 15)
    app.config.setdefault("SESSION_ABSOLUTE_HOURS", 12)
    # Flask's defaults already hold SESSION_COOKIE_SAMESITE = None, so a setdefault cannot set
    # it: Lax unless configured stricter. Cross-site POSTs then carry no session.
    if app.config.get("SESSION_COOKIE_SAMESITE") not in ("Lax", "Strict"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config.setdefault("SESSION_KEY_PREFIX", "govservice:")
    store = (
        RedisStore(app.config["REDIS_URL"], prefix=app.config["SESSION_KEY_PREFIX"])
        if app.config.get("REDIS_URL")
        else DatabaseStore()
    )
    app.extensions["session_store"] = store
    app.session_interface = ServerSessionInterface(store)


def store():
    return current_app.extensions["session_store"]


def regenerate(session) -> None:
    """A new session id for the same data: at sign-in, step-up and sign-out."""
    if isinstance(session, ServerSession):
        session.regenerate()


def end_all_for(person_id: int) -> int:
    """Delete every session of the person, on every device; returns how many there were."""
    return store().delete_for_person(person_id)


def active_for(person_id: int) -> list[Record]:
    """The person's live sessions, most recently used first."""
    now, limit = clock.now(), absolute_seconds(current_app)
    live = [r for r in store().for_person(person_id).values() if r.ended(now, limit) is None]
    return sorted(live, key=lambda r: r.last_seen_at, reverse=True)
