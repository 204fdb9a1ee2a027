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
* **The log without a commit in the request.** Each verification is one entry on a Redis list,
  queued with the snapshot it was answered from, in the same round trip as the snapshot's read
  (a Lua script); the answer follows from the snapshot and the entry's time, so the request and
  the log agree. A drainer moves entries into `verifications` and the audit log in batches: a
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
import os
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from flask import Flask, current_app, has_app_context
from prometheus_client import Counter
from sqlalchemy import event, select
from sqlalchemy.orm import Session, aliased

from .. import clock, pii, redis_link
from ..audit import services as audit
from ..extensions import db
from ..identity.models import Department, Enterprise, Person
from ..redis_link import DOWN
from . import identifiers, tokens
from .models import Certificate, CertificateEvent, Verification

log = logging.getLogger(__name__)

QUEUE = "verifications:queue"  # under the deployment's key prefix
SNAPSHOT_TTL = 3600          # seconds; the generation check, not the TTL, keeps it correct
DRAIN_BATCH = 1000
DRAIN_LOCK_MS = 10_000

VERIFICATIONS = Counter("govservice_verifications_total", "Verifications of existing certificates, by answer",
                        ["channel", "result"])
REFUSED = Counter("govservice_verifications_refused_total",
                  "Verifications naming no certificate of ours (forged or altered tokens, unknown identifiers)",
                  ["channel", "reason"])


@dataclass(frozen=True)
class Snapshot:
    """What verification may tell about one certificate."""

    id: int
    identifier: str
    type_code: str
    recorded_status: str      # the issuer's decision: valid | suspended | revoked | superseded
    issued_at: float
    expires_at: float | None
    status_changed_at: float | None
    version: int
    pdf_sha256: str
    issuer: str
    holder: str               # a business's name in full, a person's masked
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
        return None if value is None else datetime.fromtimestamp(value, timezone.utc)


def _snapshot_from_db(identifier: str) -> Snapshot | None:
    newer = aliased(Certificate)
    row = db.session.execute(
        select(Certificate.id, Certificate.identifier, Certificate.type_code, Certificate.status,
               Certificate.issued_at, Certificate.expires_at, Certificate.status_changed_at, Certificate.version,
               Certificate.pdf_sha256, Certificate.case_id, Department.name.label("issuer"),
               Enterprise.name.label("enterprise"), Person.name_enc, newer.identifier.label("successor"))
        .join(Department, Department.id == Certificate.issuer_id)
        .join(Person, Person.id == Certificate.holder_id)
        .outerjoin(Enterprise, Enterprise.id == Certificate.holder_enterprise_id)
        .outerjoin(newer, newer.supersedes_id == Certificate.id)
        .where(Certificate.identifier == identifier)).first()
    if row is None:
        return None

    def stamp(value):
        return value.timestamp() if value is not None else None

    return Snapshot(
        id=row.id, identifier=row.identifier, type_code=row.type_code, recorded_status=row.status,
        issued_at=row.issued_at.timestamp(), expires_at=stamp(row.expires_at),
        status_changed_at=stamp(row.status_changed_at), version=row.version, pdf_sha256=row.pdf_sha256,
        issuer=row.issuer, holder=row.enterprise or pii.mask_name(pii.decrypt(row.name_enc)),
        superseded_by=row.successor, case_id=row.case_id)


def _keys(identifier: str) -> tuple[str, str]:
    prefix = redis_link.link().prefix
    # "v2": the value's format; a deployment running an older format never reads this one
    return f"{prefix}certificate:snapshot:v2:{identifier}", f"{prefix}certificate:generation:{identifier}"


def _queue() -> str:
    return redis_link.link().prefix + QUEUE


# One round trip for a verification: read the cached snapshot, check it is of the current
# generation and matches what the token claims (type, PDF hash), and queue the log entry with
# the snapshot it was answered from. The cached value is "<generation>|<type>|<sha256>|<json>"
# so the script compares without parsing JSON. Returns {1, json} on a hit, {0} otherwise
# (nothing queued then: the caller reads the database and queues the entry itself).
_LOOKUP_AND_LOG = """
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


def _lookup(identifier: str, entry: dict | None = None, *, typ: str = "", sha256: str = ""
            ) -> tuple[Snapshot | None, bool]:
    """(snapshot or None, whether `entry` was queued with it).

    `entry` (the log entry of this verification, without its answer) is queued in the same
    round trip when the cached snapshot is current and matches `typ` and `sha256`.
    """
    link = redis_link.link()
    if link is None:
        return _snapshot_from_db(identifier), False
    keys = (*_keys(identifier), _queue())
    head = json.dumps(entry, ensure_ascii=False)[:-1] if entry is not None else ""
    script = link.script(_LOOKUP_AND_LOG)
    answer = link.call(lambda r: script(keys=keys, args=[head, typ, sha256]), DOWN)
    if answer is DOWN:
        return _snapshot_from_db(identifier), False
    if answer[0] == 1:
        data = json.loads(answer[1])
        found = Snapshot(**data) if data else None
        queued = entry is not None and found is not None and (not typ or found.type_code == typ) \
            and (not sha256 or found.pdf_sha256 == sha256)
        if queued:
            _start_flusher()
        return found, queued
    return _refill(link, identifier), False


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
                changed.add(session.connection().execute(
                    select(Certificate.identifier).where(Certificate.id == obj.certificate_id)).scalar_one())


def _after_commit(session: Session) -> None:
    changed = session.info.pop("certificates_changed", None)
    if not changed or not has_app_context():
        return
    link = redis_link.link()
    if link is None:
        return

    def bump(r):
        pipe = r.pipeline(transaction=False)
        for identifier in changed:
            pipe.incr(_keys(identifier)[1])
        pipe.execute()
        return True

    if link.call(bump) is None:
        log.error("could not invalidate the status of %s in Redis; readers may see the old status "
                  "for up to %s s", ", ".join(sorted(changed)), SNAPSHOT_TTL)


def _after_rollback(session: Session) -> None:
    session.info.pop("certificates_changed", None)


# --------------------------------------------------------------------------- the log


def _entry(channel: str, verifier: str, purpose: str | None, client_id: int | None,
           client_label: str | None) -> dict:
    """A verification's log entry, before its answer: the answer follows from the snapshot it is
    queued with and its time (`Snapshot.status_at`), so the request and the drainer agree."""
    return {"uid": uuid.uuid4().hex, "at": clock.now().timestamp(), "channel": channel,
            "verifier": verifier[:128], "purpose": (purpose or None) and purpose[:255], "client_id": client_id,
            "client": client_label}


def _answer(snap: Snapshot, entry: dict, queued: bool) -> str:
    """The status to tell; the entry is logged (queued, or written when Redis is not there)."""
    status = snap.status_at(entry["at"])
    VERIFICATIONS.labels(entry["channel"], status).inc()
    if queued:
        return status
    entry = dict(entry, snapshot=asdict(snap))
    link = redis_link.link()
    if link is not None and link.call(lambda r: r.rpush(_queue(), json.dumps(entry, ensure_ascii=False)),
                                      DOWN) is not DOWN:
        _start_flusher()
        return status
    _insert([entry])
    db.session.commit()
    return status


def refused(channel: str, reason: str) -> None:
    """A forged token or an unknown identifier: counted, nothing written."""
    REFUSED.labels(channel, reason).inc()


def _insert(entries: list[dict]) -> None:
    """Insert the entries not inserted before, and one audit entry binding them (the caller commits).

    The audit entry (`certificate.verifications`) holds how many rows the batch wrote and the
    SHA-256 of their lines `uid|certificate id|result|channel|client id|time`, sorted by uid: the
    sealed audit log then vouches for every verification row without an entry per row (which
    cost more than the verification itself)."""
    snaps = {e["uid"]: Snapshot(**e["snapshot"]) for e in entries}
    ids = {snap.id for snap in snaps.values()}
    known = set(db.session.execute(select(Certificate.id).where(Certificate.id.in_(ids))).scalars())
    if known != ids:  # certificates are never deleted: only a restored or foreign database gets here
        log.error("dropping queued verifications of unknown certificates %s", sorted(ids - known))
        entries = [e for e in entries if snaps[e["uid"]].id in known]
        if not entries:
            return
    results = {e["uid"]: snaps[e["uid"]].status_at(e["at"]) for e in entries}
    rows = [{"uid": e["uid"], "certificate_id": snaps[e["uid"]].id,
             "at": datetime.fromtimestamp(e["at"], timezone.utc), "channel": e["channel"],
             "verifier": e["verifier"], "purpose": e["purpose"], "result": results[e["uid"]], "action": "verify",
             "client_id": e["client_id"]} for e in entries]
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    # Parameters as a list: one cached statement, sent in batches (insertmanyvalues); a VALUES
    # clause built from the rows would be compiled afresh for every batch.
    statement = upsert(Verification).on_conflict_do_nothing(index_elements=["uid"]).returning(Verification.uid)
    inserted = set(db.session.execute(statement, rows).scalars())
    if inserted:
        audit.record("certificate.verifications", detail={"count": len(inserted), "sha256": batch_digest(
            row for row in rows if row["uid"] in inserted)})


def batch_digest(rows) -> str:
    """The digest a `certificate.verifications` audit entry holds of the rows it wrote (each a
    mapping or a `Verification`)."""
    def line(row) -> str:
        get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
        return "|".join((get("uid"), str(get("certificate_id")), get("result"), get("channel"),
                         str(get("client_id") or ""), get("at").astimezone(timezone.utc).isoformat()))
    lines = sorted(line(row) for row in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def flush() -> int:
    """Move the verifications queued before this call into the database; returns how many
    entries this call drained (others may have drained some of them meanwhile).

    Drainers take turns under a Redis lock and count what they trim, so a caller knows when
    everything queued before it is in, and never chases a queue that keeps filling under load."""
    link = redis_link.link()
    if link is None:
        return 0
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
        if not link.call(lambda r: r.set(lock, token, nx=True, px=DRAIN_LOCK_MS)):
            time.sleep(0.05)  # another drainer is at it: its batch lands in a moment
            continue
        try:
            raw = link.call(lambda r: r.lrange(queue, 0, DRAIN_BATCH - 1), [])
            if not raw:
                break
            _insert([json.loads(item) for item in raw])
            db.session.commit()

            def trim(r):
                pipe = r.pipeline(transaction=True)
                pipe.ltrim(queue, len(raw), -1)
                pipe.incrby(trimmed, len(raw))
                return pipe.execute()

            link.call(trim)
            drained += len(raw)
        except Exception:
            db.session.rollback()
            raise
        finally:
            link.call(lambda r: r.eval("if redis.call('get', KEYS[1]) == ARGV[1] then "
                                       "return redis.call('del', KEYS[1]) end return 0", 1, lock, token))
    return drained


def pending() -> int | None:
    """Verifications queued and not yet in the database (None without Redis)."""
    link = redis_link.link()
    return None if link is None else link.call(lambda r: r.llen(_queue()))


_flusher_pid: int | None = None
_flusher_lock = threading.Lock()


def _start_flusher() -> None:
    """One thread per web process drains the queue every half second (not under tests, which flush)."""
    global _flusher_pid
    app = current_app._get_current_object()
    if _flusher_pid == os.getpid() or app.testing:
        return
    with _flusher_lock:
        if _flusher_pid == os.getpid():
            return
        _flusher_pid = os.getpid()
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


def verify_token(token: str, *, channel: str, verifier: str, purpose: str | None = None,
                 client_id: int | None = None, client_label: str | None = None) -> tuple[str, Snapshot | None]:
    """Check a QR token and log the check; (status, snapshot), or ("forged", None) for a token
    that does not verify under the published keys or names no certificate issued here."""
    try:
        claims = current_app.extensions["token_keys"].verify(token)
    except tokens.TokenError as exc:
        refused(channel, exc.reason)
        return "forged", None
    identifier, typ, sha256 = str(claims.get("cid", "")), claims.get("typ"), claims.get("sha256")
    if len(identifier) > 128 or not isinstance(typ, str) or not isinstance(sha256, (str, type(None))):
        refused(channel, "malformed")
        return "forged", None
    entry = _entry(channel, verifier, purpose, client_id, client_label)
    snap, queued = _lookup(identifier, entry, typ=typ, sha256=sha256 or "")
    if snap is None or snap.type_code != typ:
        refused(channel, "unknown_certificate")
        return "forged", None
    if sha256 is not None and sha256 != snap.pdf_sha256:
        refused(channel, "wrong_document")
        return "forged", None
    return _answer(snap, entry, queued), snap


def verify_identifier(identifier: str, *, channel: str, verifier: str, purpose: str | None = None,
                      client_id: int | None = None, client_label: str | None = None
                      ) -> tuple[str, Snapshot | None]:
    """Status for a GB/T 36904 identifier, logged; ("not_found", None) when no certificate has it.

    Raises identifiers.InvalidIdentifier when the text is not an identifier.
    """
    try:
        parsed = identifiers.parse_identifier(identifier)
    except identifiers.InvalidIdentifier:
        refused(channel, "invalid_identifier")
        raise
    entry = _entry(channel, verifier, purpose, client_id, client_label)
    snap, queued = _lookup(str(parsed), entry)
    if snap is None:
        refused(channel, "not_found")
        return "not_found", None
    return _answer(snap, entry, queued), snap


def init_app(app: Flask) -> None:
    """Listen for certificate changes on every session (once per process, whatever the app)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
