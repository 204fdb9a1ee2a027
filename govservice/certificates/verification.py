"""Verification on the hot path (核验): the public page behind the QR and the partner API.

A verification reads and never waits on a write:

* **Status from a snapshot.** What a verifier is told about a certificate (status, type, issuer,
  masked holder, dates, successor, PDF hash) is a `Snapshot`, kept in Redis under the certificate
  identifier beside a generation number. Every transaction that changes a certificate (each
  lifecycle step writes a `CertificateEvent`; issuance adds the certificate) bumps the generation
  after it commits, on every instance's shared Redis; a snapshot whose generation is not the
  current one is read again from the database. A reader that loaded the old row just before a
  revocation committed stores its snapshot under the old generation, so it can never mask the
  revocation. Expiry is judged at the moment of asking, from the snapshot's expiry time.
  Without Redis (the embedded default, or Redis down) the snapshot comes from the database.
* **No round trip for a certificate checked before.** Each process keeps the snapshots it read
  in its `core.mirror` while subscribed to the channel on which the same commit that bumps a
  generation announces it: the committing process forgets at once, the others when the
  announcement arrives (well under a millisecond), and a process whose subscription dropped reads
  Redis again until it is back. The rate-limit hit is counted in the process and the log entry
  spooled to a local file (`outbox`); one thread sends both to Redis in batches. A certificate
  not in memory costs one round trip (a Lua script), as below.
* **The log without a commit in the request.** Each verification is one entry on a Redis list,
  queued by the outbox with the certificate and the answer given, or in the same round trip as
  the snapshot's read with that snapshot, the answer then following from it and the entry's time;
  either way the request and the log agree. A drainer moves entries into `verifications` and the audit log in batches: a
  thread in each web process every half second, the Celery beat task, and any reader of the log
  (`flush()`, e.g. the wallet) first. Entries carry a unique id and are inserted with
  ON CONFLICT DO NOTHING before they are trimmed from the list, so a drainer that dies mid-batch
  makes the next one insert the rest, never twice. Without Redis the entry is inserted and
  committed directly (the embedded default is one process; a deployment whose Redis is down
  degrades to the same).
* **Forgeries cost nothing extra.** A token that does not verify, or an identifier no certificate
  has, has no holder to show a log to: it is counted (Prometheus) and not written anywhere.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache

from flask import Flask, current_app, has_app_context
from limits import parse as parse_limit
from prometheus_client import Counter
from sqlalchemy import event, select
from sqlalchemy.orm import Session, aliased

from ..audit import services as audit
from ..core import clock, mirror, pii, process, redis_link
from ..core.extensions import db
from ..core.redis_link import DOWN
from ..identity.models import Department, Enterprise, Person
from . import identifiers, outbox, tokens
from .models import Certificate, CertificateEvent, Verification

log = logging.getLogger(__name__)

QUEUE = "verifications:queue"  # under the deployment's key prefix
SNAPSHOT_TTL = 3600  # seconds; the generation check, not the TTL, keeps it correct
DRAIN_BATCH = 1000
DRAIN_LOCK_MS = 10_000

VERIFICATIONS = Counter(
    "govservice_verifications_total", "Verifications of existing certificates, by answer", ["channel", "result"]
)
_COUNTED: dict = {}  # (channel, answer) -> its child of VERIFICATIONS (`labels` takes a lock each call)
REFUSED = Counter(
    "govservice_verifications_refused_total",
    "Verifications naming no certificate of ours (forged or altered tokens, unknown identifiers)",
    ["channel", "reason"],
)
_REFUSALS: dict = {}  # (channel, reason) -> its child of REFUSED


@dataclass(frozen=True)
class Snapshot:
    """What verification may tell about one certificate."""

    id: int
    identifier: str
    type_code: str
    recorded_status: str  # the issuer's decision: valid | suspended | revoked | superseded
    issued_at: float
    expires_at: float | None
    status_changed_at: float | None
    version: int
    pdf_sha256: str
    issuer: str
    holder: str  # a business's name in full, a person's masked
    superseded_by: str | None
    case_id: int | None

    @property
    def status(self) -> str:
        return self.status_at(clock.now().timestamp())

    def status_at(self, moment: float) -> str:
        """revoked and superseded are final; then expiry at `moment`; then the issuer's decision."""
        if self.recorded_status in ("revoked", "superseded"):
            return self.recorded_status
        if self.expires_at is not None and self.expires_at <= moment:
            return "expired"
        return self.recorded_status

    def when(self, name: str) -> datetime | None:
        value = getattr(self, name)
        return None if value is None else datetime.fromtimestamp(value, UTC)


def _snapshot_from_db(identifier: str) -> Snapshot | None:
    newer = aliased(Certificate)
    row = db.session.execute(
        select(
            Certificate.id,
            Certificate.identifier,
            Certificate.type_code,
            Certificate.status,
            Certificate.issued_at,
            Certificate.expires_at,
            Certificate.status_changed_at,
            Certificate.version,
            Certificate.pdf_sha256,
            Certificate.case_id,
            Department.name.label("issuer"),
            Enterprise.name.label("enterprise"),
            Person.name_enc,
            newer.identifier.label("successor"),
        )
        .join(Department, Department.id == Certificate.issuer_id)
        .join(Person, Person.id == Certificate.holder_id)
        .outerjoin(Enterprise, Enterprise.id == Certificate.holder_enterprise_id)
        .outerjoin(newer, newer.supersedes_id == Certificate.id)
        .where(Certificate.identifier == identifier)
    ).first()
    if row is None:
        return None

    def stamp(value):
        return value.timestamp() if value is not None else None

    return Snapshot(
        id=row.id,
        identifier=row.identifier,
        type_code=row.type_code,
        recorded_status=row.status,
        issued_at=row.issued_at.timestamp(),
        expires_at=stamp(row.expires_at),
        status_changed_at=stamp(row.status_changed_at),
        version=row.version,
        pdf_sha256=row.pdf_sha256,
        issuer=row.issuer,
        holder=row.enterprise or pii.mask_name(pii.decrypt(row.name_enc)),
        superseded_by=row.successor,
        case_id=row.case_id,
    )


def _keys(identifier: str) -> tuple[str, str]:
    prefix = redis_link.link().prefix
    # "v2": the value's format; a deployment running an older format never reads this one
    return f"{prefix}certificate:snapshot:v2:{identifier}", _generation_key(prefix, identifier)


def _generation_key(prefix: str, identifier: str) -> str:
    """The Redis key of a certificate's generation, which names its snapshot in the mirror too."""
    return f"{prefix}certificate:generation:{identifier}"


def _queue() -> str:
    return redis_link.link().prefix + QUEUE


# One round trip for a verification. In order, each step only if its keys are given:
# 1. a guard: KEYS[4] must hold ARGV[4] (what the caller cached, e.g. the partner tokens'
#    generation), else {3} and nothing done: the caller reloads what it cached and asks again;
# 2. the rate limit: one hit on the fixed-window counter KEYS[5] (ARGV[5] allowed, the window
#    ARGV[6] seconds long); over it, {2, seconds left} and nothing queued;
# 3. read the cached snapshot, check it is of the current generation and matches what the token
#    claims (type, PDF hash), and queue the log entry with the snapshot it was answered from.
#    The cached value is "<generation>|<type>|<sha256>|<json>", so the script compares without
#    parsing JSON. {1, json} on a hit, {0} otherwise (nothing queued then: the caller reads the
#    database and queues the entry itself).
_LOOKUP_AND_LOG = """
if ARGV[4] ~= '' and (redis.call('GET', KEYS[4]) or '0') ~= ARGV[4] then return {3} end
if ARGV[5] ~= '' then
  local hits = redis.call('INCR', KEYS[5])
  if hits == 1 then redis.call('EXPIRE', KEYS[5], ARGV[6]) end
  if hits > tonumber(ARGV[5]) then return {2, redis.call('TTL', KEYS[5])} end
end
local cached = redis.call('GET', KEYS[1])
if not cached then return {0} end
local generation = redis.call('GET', KEYS[2]) or '0'
local a = string.find(cached, '|', 1, true)
local b = a and string.find(cached, '|', a + 1, true)
local c = b and string.find(cached, '|', b + 1, true)
if not c or string.sub(cached, 1, a - 1) ~= generation then return {0} end
local snapshot = string.sub(cached, c + 1)
if (ARGV[2] ~= '' and string.sub(cached, a + 1, b - 1) ~= ARGV[2])
   or (ARGV[3] ~= '' and string.sub(cached, b + 1, c - 1) ~= ARGV[3]) then
  return {1, snapshot}
end
if ARGV[1] ~= '' then
  redis.call('RPUSH', KEYS[3], ARGV[1] .. ',"snapshot":' .. snapshot .. '}')
end
return {1, snapshot}
"""

_HIT = """
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if hits > tonumber(ARGV[2]) then return redis.call('TTL', KEYS[1]) end
return 0
"""


class RateLimited(Exception):
    """Over a `Quota`: answer 429 with Retry-After `retry_after` seconds; nothing was done."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = max(1, int(retry_after))


class Changed(Exception):
    """A `Guard` no longer holds: what the caller cached is stale; reload it and ask again."""


@dataclass(frozen=True)
class Guard:
    """Go on only while Redis key `key` (under the prefix) holds `value` ("0" when unset)."""

    key: str
    value: str


_memory_limiter = None


@lru_cache(maxsize=16)
def _parse_limit(limit: str):
    """The setting's string ("60/minute"): (the `limits` item, its amount, its period in seconds),
    parsed once (`limits` parses with regular expressions)."""
    item = parse_limit(limit)
    return item, item.amount, item.get_expiry()


class Quota:
    """One hit on a fixed-window rate limit ("60/minute", parsed by `limits`) for `key`.

    On the verification paths the hit rides in the verification's own Redis round trip
    (`_lookup`); a request that ends before it (a forged token, a malformed body) spends it with
    `check()`. Without Redis the count is this process's (the embedded default is one process).
    """

    __slots__ = ("item", "key", "spent", "amount", "period")

    def __init__(self, key: str, limit: str):
        self.item, self.amount, self.period = _parse_limit(limit)
        self.key = key
        self.spent = False

    def _redis_key(self, now: float, prefix: str | None = None) -> str:
        period = self.period
        if prefix is None:
            prefix = redis_link.link().prefix
        return f"{prefix}quota:{self.key}:{period}:{int(now // period)}"

    def _fold(self, now: float) -> tuple[str, list[str]]:
        """(key, args) for `_LOOKUP_AND_LOG`; the hit counts as spent."""
        self.spent = True
        return self._redis_key(now), [str(self.amount), str(self.period)]

    def check(self, app: Flask | None = None) -> None:
        """Spend the hit now, unless it was spent already; RateLimited when over the limit.
        (`app`: the application, for a caller outside its context, `ops.hotpath`.)"""
        if self.spent:
            return
        self.spent = True
        extensions = (app if app is not None else current_app).extensions
        link = extensions.get("redis_link")
        box = extensions.get("verification_outbox")
        if box is not None:  # counted here, sent with the next push
            now = time.time()
            over = box.hit(self._redis_key(now, link.prefix), self.amount, self.period, now)
            if over:
                raise RateLimited(over)
            return
        if link is not None:
            key = self._redis_key(time.time(), link.prefix)
            script = link.script(_HIT)
            over = link.call(lambda r: script(keys=[key], args=[self.period, self.amount]), DOWN)
            if over is not DOWN:
                if over:
                    raise RateLimited(over)
                return
        global _memory_limiter
        if _memory_limiter is None:
            from limits.storage import MemoryStorage
            from limits.strategies import FixedWindowRateLimiter

            _memory_limiter = FixedWindowRateLimiter(MemoryStorage())
        key = current_app.config.get("SESSION_KEY_PREFIX", "") + self.key
        if not _memory_limiter.hit(self.item, key):
            reset = _memory_limiter.get_window_stats(self.item, key).reset_time
            raise RateLimited(reset - time.time())


def _cached_value(generation: int, found: Snapshot | None) -> str:
    if found is None:
        return f"{generation}|||null"
    return f"{generation}|{found.type_code}|{found.pdf_sha256}|" + json.dumps(asdict(found), ensure_ascii=False)


def _refill(link, identifier: str) -> Snapshot | None:
    """Read the snapshot from the database and cache it under the generation read *before*:
    a change committed meanwhile has bumped the generation, so this copy is never taken as current."""
    snap_key, gen_key = _keys(identifier)
    generation = link.call(lambda r: r.get(gen_key), DOWN)
    found = _snapshot_from_db(identifier)
    if generation is not DOWN:
        value = _cached_value(int(generation or 0), found)
        link.call(lambda r: r.set(snap_key, value, ex=SNAPSHOT_TTL))
    return found


def _lookup(
    identifier: str,
    entry: dict | None = None,
    *,
    typ: str = "",
    sha256: str = "",
    quota: Quota | None = None,
    guard: Guard | None = None,
) -> tuple[Snapshot | None, bool]:
    """(snapshot or None, whether `entry` was queued with it).

    `entry` (the log entry of this verification, without its answer) is queued in the same
    round trip when the cached snapshot is current and matches `typ` and `sha256`; `quota` is
    spent and `guard` checked in it too (RateLimited, Changed).
    """
    link = redis_link.link()
    if link is None:
        if quota is not None:
            quota.check()
        return _snapshot_from_db(identifier), False
    snap_key, gen_key = _keys(identifier)
    copy, box = mirror.mirror(), outbox.outbox()
    if copy is not None and copy.live():
        if guard is not None and not _guard_holds(copy, link, guard):
            raise Changed()
        found = copy.get(gen_key, _MISSING)
        if found is not _MISSING:  # answered from memory; the entry goes to the outbox (_answer)
            if quota is not None:
                quota.check()
            return found, False
    if box is not None and quota is not None:
        quota.check()  # counted in the process, always (Quota.check): the script skips it
    seq = copy.seq() if copy is not None else 0
    keys, args = (
        [snap_key, gen_key, _queue()],
        [json.dumps(entry, ensure_ascii=False)[:-1] if entry is not None else "", typ, sha256],
    )
    if guard is not None:
        keys.append(link.prefix + guard.key)
        args.append(guard.value)
    else:
        keys.append(gen_key)  # unused
        args.append("")
    if quota is not None and not quota.spent:
        key, quota_args = quota._fold(time.time())
        keys.append(key)
        args += quota_args
    else:
        args += ["", ""]
    script = link.script(_LOOKUP_AND_LOG)
    answer = link.call(lambda r: script(keys=keys, args=args), DOWN)
    if answer is DOWN:
        if quota is not None and box is None:
            quota.spent = False
            quota.check()
        return _snapshot_from_db(identifier), False
    if answer[0] == 3:
        if quota is not None and box is None:
            quota.spent = False  # nothing was counted: the caller asks again
        raise Changed()
    if answer[0] == 2:
        raise RateLimited(answer[1])
    if answer[0] == 1:
        data = json.loads(answer[1])
        found = Snapshot(**data) if data else None
        if copy is not None:
            copy.put(gen_key, found, seq)
        queued = (
            entry is not None
            and found is not None
            and (not typ or found.type_code == typ)
            and (not sha256 or found.pdf_sha256 == sha256)
        )
        if queued:
            _start_flusher()
        return found, queued
    found = _refill(link, identifier)
    if copy is not None:
        copy.put(gen_key, found, seq)
    return found, False


_MISSING = object()


def _remembered(app: Flask, identifier: str, guard: Guard | None) -> Snapshot | None | object:
    """The snapshot this process's memory answers for `identifier` (None: no such certificate),
    or _MISSING when answering needs Redis (not remembered, the guard not held in memory or not
    holding, the mirror not live, Redis failing a moment ago, or no outbox to carry the log entry).
    Looked up in `app.extensions` directly: the hot path calls this outside the app's context."""
    extensions = app.extensions
    copy = extensions.get("mirror")
    if copy is None or extensions.get("verification_outbox") is None or not copy.live() or copy.link.down():
        return _MISSING
    prefix = copy.link.prefix
    if guard is not None and copy.get(prefix + guard.key) != guard.value:
        return _MISSING
    return copy.get(_generation_key(prefix, identifier), _MISSING)


def _answer_remembered(app: Flask, snap: Snapshot, entry: dict, quota: Quota | None) -> tuple[str, Snapshot]:
    """The answer `_remembered` found, as `_lookup` gives it from memory: the quota spent
    (RateLimited, nothing logged), then the entry owed to the outbox."""
    if quota is not None:
        quota.check(app)
    return _answer(snap, entry, False, app), snap


def _guard_holds(copy: mirror.Mirror, link, guard: Guard) -> bool:
    """Whether `guard` holds, by the mirror's copy of its key (read once from Redis, then kept
    until a change of it is announced)."""
    key = link.prefix + guard.key
    value = copy.get(key)
    if value is None:
        seq = copy.seq()
        value = link.call(lambda r: r.get(key), DOWN)
        if value is DOWN:
            return False  # the caller reauthenticates from the database
        value = value.decode() if value else "0"
        copy.put(key, value, seq)
    return value == guard.value


def snapshot(identifier: str) -> Snapshot | None:
    """The snapshot of the certificate with this identifier (normalised), or None if none exists."""
    if not isinstance(identifier, str) or len(identifier) > 128:
        return None
    return _lookup(identifier.strip().upper())[0]


# --------------------------------------------------------------------------- invalidation


def _changed_identifiers(session: Session) -> set[str]:
    return session.info.setdefault("certificates_changed", set())


def _after_flush(session: Session, _context) -> None:
    changed = _changed_identifiers(session)
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Certificate):
            changed.add(obj.identifier)
        elif isinstance(obj, CertificateEvent):
            certificate = obj.certificate if "certificate" in obj.__dict__ else None
            if certificate is None:
                certificate = session.identity_map.get(session.identity_key(Certificate, obj.certificate_id))
            if certificate is not None:
                changed.add(certificate.identifier)
            else:
                changed.add(
                    session.connection()
                    .execute(select(Certificate.identifier).where(Certificate.id == obj.certificate_id))
                    .scalar_one()
                )


def _after_commit(session: Session) -> None:
    changed = session.info.pop("certificates_changed", None)
    if not changed or not has_app_context() or (link := redis_link.link()) is None:
        return
    if not mirror.publish([_generation_key(link.prefix, identifier) for identifier in changed], bump=True):
        log.error(
            "could not invalidate the status of %s in Redis; readers may see the old status for up to %s s",
            ", ".join(sorted(changed)),
            SNAPSHOT_TTL,
        )


def _after_rollback(session: Session) -> None:
    session.info.pop("certificates_changed", None)


# --------------------------------------------------------------------------- the log


def _entry(
    app: Flask, channel: str, verifier: str, purpose: str | None, client_id: int | None, client_label: str | None
) -> dict:
    """A verification's log entry, before its answer (`_answer` adds it, or the Lua script the
    snapshot it follows from: `_certificate_and_result`)."""
    return {
        "uid": process.unique_id(),
        "at": clock.now(app).timestamp(),
        "channel": channel,
        "verifier": verifier[:128],
        "purpose": (purpose or None) and purpose[:255],
        "client_id": client_id,
        "client": client_label,
    }


_ENTRY_FIXED = ("channel", "verifier", "purpose", "client_id", "client")
_FIXED_PARTS: dict[tuple, str] = {}  # the fixed fields' values -> their JSON members
_FIXED_PARTS_MAX = 1024


def _entry_line(entry: dict) -> str:
    """`json.dumps(entry, ensure_ascii=False)` of a complete entry (`_entry`'s fields, its
    certificate and answer), its members in another order: what one verifier checking for one
    purpose sends every time is encoded once (a JSON encoder built per call cost more than the
    rest of the entry). The other members are a hex uid, a float, an int and a status word."""
    fixed = tuple(entry[name] for name in _ENTRY_FIXED)
    members = _FIXED_PARTS.get(fixed)
    if members is None:
        if len(_FIXED_PARTS) >= _FIXED_PARTS_MAX:
            _FIXED_PARTS.clear()
        members = _FIXED_PARTS[fixed] = json.dumps(dict(zip(_ENTRY_FIXED, fixed, strict=True)), ensure_ascii=False)[
            1:-1
        ]
    uid, at, certificate_id, result = entry["uid"], entry["at"], entry["certificate_id"], entry["result"]
    if (
        len(entry) != len(_ENTRY_FIXED) + 4
        or type(at) is not float
        or type(certificate_id) is not int
        or not (uid.isalnum() and result.isalpha())
    ):
        return json.dumps(entry, ensure_ascii=False)  # (not an entry of `_entry` and `_answer`)
    return f'{{"uid":"{uid}","at":{at!r},{members},"certificate_id":{certificate_id},"result":"{result}"}}'


def _answer(snap: Snapshot, entry: dict, queued: bool, app: Flask | None = None) -> str:
    """The status to tell; the entry is logged (queued, or written when Redis is not there).
    With `app` (the hot path, outside the app's context, after `_remembered`) the entry always
    goes to the outbox, which writes it into the database itself if Redis does not take it."""
    status = snap.status_at(entry["at"])
    key = (entry["channel"], status)
    counter = _COUNTED.get(key)
    if counter is None:
        counter = _COUNTED[key] = VERIFICATIONS.labels(*key)
    counter.inc()
    if queued:
        return status
    # The answer goes with the entry (the Lua script, which cannot know it, queues the snapshot)
    entry["certificate_id"], entry["result"] = snap.id, status
    extensions = (app if app is not None else current_app).extensions
    box = extensions.get("verification_outbox")
    link = extensions.get("redis_link")
    if box is not None and (app is not None or not link.down()):
        box.add(_entry_line(entry))
        _start_flusher(app)
        return status
    if (
        link is not None
        and link.call(lambda r: r.rpush(_queue(), json.dumps(entry, ensure_ascii=False)), DOWN) is not DOWN
    ):
        _start_flusher()
        return status
    _insert([entry])
    db.session.commit()
    return status


def refused(channel: str, reason: str, quota: Quota | None = None, app: Flask | None = None) -> None:
    """A forged token or an unknown identifier: counted, nothing written; `quota` spent (RateLimited)."""
    if quota is not None:
        quota.check(app)
    counter = _REFUSALS.get((channel, reason))
    if counter is None:
        counter = _REFUSALS[(channel, reason)] = REFUSED.labels(channel, reason)
    counter.inc()


def _insert(entries: list[dict]) -> None:
    """Insert the entries not inserted before, and one audit entry binding them (the caller commits).

    The audit entry (`certificate.verifications`) holds how many rows the batch wrote and the
    SHA-256 of their lines `uid|certificate id|result|channel|client id|time`, sorted by uid: the
    sealed audit log then vouches for every verification row without an entry per row (which
    cost more than the verification itself)."""
    # One row per uid (a spool replayed after its entries were pushed may put an entry twice in
    # one batch), as a tuple in _COLUMNS' order: the drainer's time goes per entry, so no dicts.
    rows, seen = [], set()
    for e in entries:
        uid = e["uid"]
        if uid in seen:
            continue
        seen.add(uid)
        certificate_id, result = _certificate_and_result(e)
        at = datetime.fromtimestamp(e["at"], UTC)
        rows.append(
            (uid, certificate_id, at, e["channel"], e["verifier"], e["purpose"], result, "verify", e["client_id"])
        )
    ids = {row[1] for row in rows}
    known = set(db.session.execute(select(Certificate.id).where(Certificate.id.in_(ids))).scalars())
    if known != ids:  # certificates are never deleted: only a restored or foreign database gets here
        log.error("dropping queued verifications of unknown certificates %s", sorted(ids - known))
        rows = [row for row in rows if row[1] in known]
        if not rows:
            return
    if db.session.get_bind().dialect.name == "postgresql":
        inserted = _copy_in(rows)
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert

        statement = upsert(Verification).on_conflict_do_nothing(index_elements=["uid"]).returning(Verification.uid)
        names = [name for name, _kind in _COLUMNS]
        inserted = set(db.session.execute(statement, [dict(zip(names, row, strict=True)) for row in rows]).scalars())
    if inserted:
        # batch_digest's lines, of the tuples (`at` is in UTC already)
        lines = [
            f"{uid}|{certificate_id}|{result}|{channel}|{client_id or ''}|{at.isoformat()}"
            for uid, certificate_id, at, channel, _verifier, _purpose, result, _action, client_id in rows
            if uid in inserted
        ]
        audit.record("certificate.verifications", detail={"count": len(inserted), "sha256": _digest(lines)})


def _certificate_and_result(entry: dict) -> tuple[int, str]:
    """An entry's certificate and answer: given with it (the process answered), or from the
    snapshot the Lua script queued it with and the entry's time (`Snapshot.status_at`)."""
    if "snapshot" in entry:
        snap = Snapshot(**entry["snapshot"])
        return snap.id, snap.status_at(entry["at"])
    return entry["certificate_id"], entry["result"]


_COLUMNS = (
    ("uid", "varchar"),
    ("certificate_id", "integer"),
    ("at", "timestamptz"),
    ("channel", "varchar"),
    ("verifier", "varchar"),
    ("purpose", "varchar"),
    ("result", "varchar"),
    ("action", "varchar"),
    ("client_id", "integer"),
)
_NAMES = ", ".join(name for name, _kind in _COLUMNS)
# The batch is copied into a temporary table (emptied at commit) and inserted from there: COPY
# formats the rows in psycopg's C code and PostgreSQL reads them without parsing SQL, where nine
# bound arrays cost a Python call per element (most of a drainer's time); ON CONFLICT needs the
# INSERT ... SELECT, which COPY has not got.
_BATCH_TABLE = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS verification_batch "
    f"({', '.join(f'{name} {kind}' for name, kind in _COLUMNS)}) ON COMMIT DELETE ROWS"
)
_COPY_BATCH = f"COPY verification_batch ({_NAMES}) FROM STDIN"
_INSERT_BATCH = (  # and empties the batch table, for another batch in the same transaction
    f"WITH batch AS (DELETE FROM verification_batch RETURNING {_NAMES}) "
    f"INSERT INTO verifications ({_NAMES}) SELECT {_NAMES} FROM batch ON CONFLICT (uid) DO NOTHING RETURNING uid"
)


def _copy_in(rows: list[tuple]) -> set[str]:
    """Insert `rows` (tuples in _COLUMNS' order) into `verifications` on PostgreSQL, in the
    session's transaction; the uids of the rows inserted (not there before)."""
    connection = db.session.connection().connection.driver_connection  # psycopg's, in this transaction
    with connection.cursor() as cursor:
        cursor.execute(_BATCH_TABLE)
        with cursor.copy(_COPY_BATCH) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
        cursor.execute(_INSERT_BATCH)
        return {uid for (uid,) in cursor.fetchall()}


def _write_entries(entries: list[dict]) -> None:
    """The outbox's way into the database, when Redis does not take a batch."""
    try:
        _insert(entries)
        db.session.commit()
    finally:
        db.session.remove()


def batch_digest(rows) -> str:
    """The digest a `certificate.verifications` audit entry holds of the rows it wrote (each a
    mapping or a `Verification`)."""

    def line(row) -> str:
        get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
        return "|".join(
            (
                get("uid"),
                str(get("certificate_id")),
                get("result"),
                get("channel"),
                str(get("client_id") or ""),
                get("at").astimezone(UTC).isoformat(),
            )
        )

    return _digest([line(row) for row in rows])


def _digest(lines: list[str]) -> str:
    lines.sort()
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def flush() -> int:
    """Move the verifications queued before this call into the database; returns how many
    entries this call drained (others may have drained some of them meanwhile).

    Drainers take turns under a Redis lock and count what they trim, so a caller knows when
    everything queued before it is in, and never chases a queue that keeps filling under load."""
    link = redis_link.link()
    if link is None:
        return 0
    box = outbox.outbox()
    if box is not None:
        box.push()
    queue = _queue()
    lock, trimmed = f"{queue}:lock", f"{queue}:drained"

    def state(r):
        pipe = r.pipeline(transaction=True)
        pipe.llen(queue)
        pipe.get(trimmed)
        return pipe.execute()

    start = link.call(state)
    if not start or not start[0]:
        return 0
    target = int(start[1] or 0) + start[0]
    drained, deadline = 0, time.monotonic() + DRAIN_LOCK_MS / 1000 + 1
    while time.monotonic() < deadline:
        done = link.call(lambda r: r.get(trimmed), DOWN)
        if done is DOWN or int(done or 0) >= target:
            break
        token = uuid.uuid4().hex
        if not link.call(lambda r: r.set(lock, token, nx=True, px=DRAIN_LOCK_MS)):  # noqa: B023
            time.sleep(0.05)  # another drainer is at it: its batch lands in a moment
            continue
        try:
            raw = link.call(lambda r: r.lrange(queue, 0, DRAIN_BATCH - 1), [])
            if not raw:
                break
            _insert(json.loads(b"[" + b",".join(raw) + b"]"))  # one parse for the batch
            db.session.commit()

            def trim(r):
                pipe = r.pipeline(transaction=True)
                pipe.ltrim(queue, len(raw), -1)  # noqa: B023
                pipe.incrby(trimmed, len(raw))  # noqa: B023
                return pipe.execute()

            link.call(trim)
            drained += len(raw)
        except Exception:
            db.session.rollback()
            raise
        finally:
            link.call(
                lambda r: r.eval(
                    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
                    1,
                    lock,
                    token,  # noqa: B023
                )
            )
    return drained


def pending() -> int | None:
    """Verifications queued and not yet in the database (None without Redis)."""
    link = redis_link.link()
    if link is None:
        return None
    box = outbox.outbox()
    queued = link.call(lambda r: r.llen(_queue()))
    return None if queued is None else queued + (box.pending() if box is not None else 0)


_flusher_pid: int | None = None
_flusher_lock = threading.Lock()


def _start_flusher(app: Flask | None = None) -> None:
    """One thread per web process drains the queue every half second (not under tests, which flush)."""
    global _flusher_pid
    if _flusher_pid == process.pid():
        return
    app = app or current_app._get_current_object()
    if app.testing:
        return
    with _flusher_lock:
        if _flusher_pid == process.pid():
            return
        _flusher_pid = process.pid()
        threading.Thread(target=_flusher, args=(app,), name="verification-flusher", daemon=True).start()


def _flusher(app: Flask) -> None:
    while True:
        time.sleep(0.5)
        try:
            with app.app_context():
                flush()
                db.session.remove()
        except Exception:  # the next round tries again; entries stay queued meanwhile
            log.exception("draining the verification queue failed")


# --------------------------------------------------------------------------- answering


_VERIFIED: OrderedDict[str, tuple[str, dict]] = OrderedDict()
_VERIFIED_MAX = 1024


def _verified_claims(token: str, store) -> dict:
    """The claims of a token whose signature verifies under a current key (TokenError if not).

    The same printed QR is scanned again and again (a licence on a shop's wall, a partner checking
    one document twice); a token that verified once verifies again as long as its key is still
    published, so each process keeps the last `_VERIFIED_MAX` of them with their kid and skips
    the ECDSA verification for them. A key withdrawn from the store stops them at once (its kid is
    looked up on every hit). Only exact token strings match: a changed byte is a new token."""
    found = _VERIFIED.get(token) if isinstance(token, str) else None
    if found is not None and store.current(found[0]) is not None:
        return found[1]
    claims = store.verify(token)
    kid = tokens.unverified_header(token).get("kid")  # verified by now
    if isinstance(token, str) and isinstance(kid, str):
        _VERIFIED[token] = (kid, claims)
        if len(_VERIFIED) > _VERIFIED_MAX:
            _VERIFIED.popitem(last=False)
    return claims


def verify_token(
    token: str,
    *,
    channel: str,
    verifier: str,
    purpose: str | None = None,
    client_id: int | None = None,
    client_label: str | None = None,
    quota: Quota | None = None,
    guard: Guard | None = None,
    memory_only: bool = False,
    app: Flask | None = None,
) -> tuple[str, Snapshot | None] | None:
    """Check a QR token and log the check; (status, snapshot), or ("forged", None) for a token
    that does not verify under the published keys or names no certificate issued here.

    `quota` is spent whatever the answer (RateLimited when over it); `guard` see `_lookup`. With
    `memory_only`, None when the answer needs Redis or the database, i.e. unless the token is
    forged or its certificate's answer is in this process's memory (`ops.hotpath`): nothing is
    then spent, counted or logged, and the caller asks again without it. A `memory_only` caller
    may run outside the app's context and name the `app` instead."""
    if app is None:
        app = current_app._get_current_object()
    elif not memory_only:
        raise ValueError("only a memory_only check runs outside the app's context")
    try:
        claims = _verified_claims(token, app.extensions["token_keys"])
    except tokens.TokenError as exc:
        return _refuse(channel, exc.reason, quota, app)
    identifier, typ, sha256 = str(claims.get("cid", "")), claims.get("typ"), claims.get("sha256")
    if len(identifier) > 128 or not isinstance(typ, str) or not isinstance(sha256, (str, type(None))):
        return _refuse(channel, "malformed", quota, app)
    entry = _entry(app, channel, verifier, purpose, client_id, client_label)
    if memory_only:
        found = _remembered(app, identifier, guard)
        if found is _MISSING or found is None or found.type_code != typ or sha256 not in (None, found.pdf_sha256):
            return None
        return _answer_remembered(app, found, entry, quota)
    snap, queued = _lookup(identifier, entry, typ=typ, sha256=sha256 or "", quota=quota, guard=guard)
    if snap is None or snap.type_code != typ:
        return _refuse(channel, "unknown_certificate", quota)
    if sha256 is not None and sha256 != snap.pdf_sha256:
        return _refuse(channel, "wrong_document", quota)
    return _answer(snap, entry, queued), snap


def _refuse(channel: str, reason: str, quota: Quota | None, app: Flask | None = None) -> tuple[str, None]:
    refused(channel, reason, quota, app)
    return "forged", None


def verify_identifier(
    identifier: str,
    *,
    channel: str,
    verifier: str,
    purpose: str | None = None,
    client_id: int | None = None,
    client_label: str | None = None,
    quota: Quota | None = None,
    guard: Guard | None = None,
    memory_only: bool = False,
    app: Flask | None = None,
) -> tuple[str, Snapshot | None] | None:
    """Status for a GB/T 36904 identifier, logged; ("not_found", None) when no certificate has it.

    Raises identifiers.InvalidIdentifier when the text is not an identifier (the quota spent).
    `memory_only` and `app`: as for `verify_token` (None unless a certificate's answer is in memory)."""
    if app is None:
        app = current_app._get_current_object()
    elif not memory_only:
        raise ValueError("only a memory_only check runs outside the app's context")
    try:
        parsed = identifiers.parse_identifier(identifier)
    except identifiers.InvalidIdentifier:
        if memory_only:
            return None
        refused(channel, "invalid_identifier", quota)
        raise
    entry = _entry(app, channel, verifier, purpose, client_id, client_label)
    if memory_only:
        found = _remembered(app, parsed.text, guard)
        if found is _MISSING or found is None:
            return None
        return _answer_remembered(app, found, entry, quota)
    snap, queued = _lookup(parsed.text, entry, quota=quota, guard=guard)
    if snap is None:
        refused(channel, "not_found")
        return "not_found", None
    return _answer(snap, entry, queued), snap


def init_app(app: Flask) -> None:
    """Listen for certificate changes on every session (once per process, whatever the app);
    with the mirror, the outbox that carries what verifications answered from memory owe Redis."""
    copy = app.extensions.get("mirror")
    app.extensions["verification_outbox"] = (
        outbox.Outbox(app, copy.link, copy.link.prefix + QUEUE, _write_entries) if copy is not None else None
    )
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
