"""The wallet's lists: the holder's certificates a page at a time, the latest few
verifications of each inline (one query for the whole page), and every verification of one
certificate on pages of its own, newest first, on the (certificate_id, id) index."""

from __future__ import annotations

from sqlalchemy import select, union_all
from sqlalchemy.orm import joinedload, selectinload

from ..core.extensions import db
from ..core.pagination import Key, Page, keyset
from ..identity.models import Person
from . import verification
from .models import Certificate, ConsentGrant, Verification
from .services import enterprises_acted_for

INLINE = 3


def _held_by(holder: Person):
    own = (Certificate.holder_enterprise_id.is_(None)) & (Certificate.holder_id == holder.id)
    enterprises = enterprises_acted_for(holder)
    return own | Certificate.holder_enterprise_id.in_(enterprises) if enterprises else own


def wallet(holder: Person, token: str | None = None, *, size: int = 10, param: str = "page") -> Page:
    """我的证照: own certificates and those of the enterprises the person acts for, newest first.
    `page.extra["latest"]` maps each certificate's id to its latest INLINE verifications and
    `page.extra["more"]` holds the ids that have more than those. Verifications still queued
    are moved into the log first, so the holder sees every one."""
    verification.flush()
    query = (
        select(Certificate)
        .where(_held_by(holder))
        .options(joinedload(Certificate.issuer), selectinload(Certificate.grants).joinedload(ConsentGrant.client))
    )
    page = keyset(
        query,
        [Key(Certificate.issued_at, descending=True), Key(Certificate.id, descending=True)],
        token,
        size=size,
        param=param,
    )
    latest, more = latest_verifications([c.id for c in page.items], INLINE)
    page.extra.update(latest=latest, more=more)
    return page


def latest_verifications(certificate_ids: list[int], n: int) -> tuple[dict[int, list[Verification]], set[int]]:
    """The latest `n` verifications of each certificate, in one query: a UNION of one index seek
    per certificate, so a certificate checked a hundred thousand times costs what one checked
    five times does (a window function would rank them all)."""
    if not certificate_ids:
        return {}, set()
    seeks = [
        select(Verification.id)
        .where(Verification.certificate_id == i)
        .order_by(Verification.id.desc())
        .limit(n + 1)
        .subquery()
        for i in certificate_ids
    ]
    ids = union_all(*[select(s.c.id) for s in seeks]) if len(seeks) > 1 else select(seeks[0].c.id)
    rows = db.session.execute(
        select(Verification)
        .where(Verification.id.in_(ids))
        .order_by(Verification.certificate_id, Verification.id.desc())
    ).scalars()
    latest: dict[int, list[Verification]] = {i: [] for i in certificate_ids}
    for v in rows:
        latest[v.certificate_id].append(v)
    more = {i for i, vs in latest.items() if len(vs) > n}
    return {i: vs[:n] for i, vs in latest.items()}, more


def verifications(
    certificate: Certificate, token: str | None = None, *, size: int | None = None, param: str = "page"
) -> Page:
    """Every check or use of one certificate, newest first (queued ones included)."""
    verification.flush()
    query = select(Verification).where(Verification.certificate_id == certificate.id)
    return keyset(query, [Key(Verification.id, descending=True)], token, size=size, param=param)
