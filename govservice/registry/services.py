"""Audited look-ups in the base registries, and pre-filling forms from them.

Every look-up, answered or not, is appended to the audit log with who asked, why (the purpose
and, once there is one, the case) and when. Look-ups record in the caller's transaction, like
`audit.record`: the calling service commits.

For other domains: `person(...)`, `legal_person(...)` and `represented_by(...)` return records
or None and raise `RegistryUnavailable` when the registry does not answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask
from flask_babel import lazy_gettext as _l

from ..audit import services as audit
from ..core import pii
from . import credit
from .backends import DevRegistry, HttpRegistry, RegistryUnavailable, backend, configured
from .records import LegalPersonRecord, PersonRecord

__all__ = [
    "RegistryUnavailable",
    "person",
    "legal_person",
    "represented_by",
    "prefill",
    "Prefill",
    "SOURCE_LABELS",
    "record_lookups",
]

SOURCE_LABELS = {
    "login": _l("登录身份"),
    "population": _l("人口基础信息库"),
    "legal_person": _l("法人基础信息库"),
    "applicant": _l("申请人填写"),
    "certificate": _l("我的证照"),  # filled from a licence held (cases/applying.py, 变更、注销)
}


def init_app(app: Flask) -> None:
    generated = app.config.get("REGISTRY_DEV_GENERATED", 1000)
    app.extensions["registry"] = configured(app, "REGISTRY", HttpRegistry, lambda: DevRegistry(generated))
    credit.init_app(app)  # the credit registry (信用核查 at the window: window/credit_checks.py)


@dataclass
class Lookup:
    """One question put to a registry and how it went (not yet audited)."""

    registry: str  # population | legal_person
    subject: str  # what was asked about, masked where personal
    result: str  # found | not_found | unavailable | "<n> found"
    record: object = None
    reason: str | None = None

    @property
    def unavailable(self) -> bool:
        return self.result == "unavailable"


def ask_person(id_number: str, *, purpose: str, case_number: str | None = None) -> Lookup:
    """Ask the population registry, without auditing yet: the look-up is audited later, in the
    transaction of what it was for (the form, or the case it fills in)."""
    subject = "population:" + pii.mask_id_number(id_number)
    try:
        found = backend().person(id_number, purpose=purpose, case=case_number)
    except RegistryUnavailable as exc:
        return Lookup("population", subject, "unavailable", reason=exc.reason)
    return Lookup("population", subject, "found" if found else "not_found", found)


def ask_legal_person(uscc: str, *, purpose: str, case_number: str | None = None) -> Lookup:
    subject = f"legal_person:{uscc}"
    try:
        found = backend().legal_person(uscc, purpose=purpose, case=case_number)
    except RegistryUnavailable as exc:
        return Lookup("legal_person", subject, "unavailable", reason=exc.reason)
    return Lookup("legal_person", subject, "found" if found else "not_found", found)


def record_lookups(lookups: list[Lookup], *, actor, purpose: str, case_id: int | None = None) -> None:
    """Append one audit entry per look-up: who (actor), why (purpose, case), when; caller commits."""
    for lookup in lookups:
        detail = {"registry": lookup.registry, "result": lookup.result, "source": backend().source}
        if lookup.reason:
            detail["reason"] = lookup.reason
        audit.record(
            "registry.lookup",
            actor=actor,
            subject=lookup.subject,
            case_id=case_id,
            purpose=purpose[:255],
            detail=detail,
        )


def _answer(lookup: Lookup, *, actor, purpose: str, case_id: int | None):
    record_lookups([lookup], actor=actor, purpose=purpose, case_id=case_id)
    if lookup.unavailable:
        raise RegistryUnavailable(lookup.registry, lookup.reason or "")
    return lookup.record


def person(
    id_number: str, *, actor=None, purpose: str, case_id: int | None = None, case_number: str | None = None
) -> PersonRecord | None:
    """The population registry's record of `id_number` (人口基础信息), audited (caller commits)."""
    return _answer(
        ask_person(id_number, purpose=purpose, case_number=case_number), actor=actor, purpose=purpose, case_id=case_id
    )


def legal_person(
    uscc: str, *, actor=None, purpose: str = "核验企业身份", case_id: int | None = None, case_number: str | None = None
) -> LegalPersonRecord | None:
    """The legal-person registry's record of `uscc` (法人基础信息: name, legal representative and
    their ID number, address, ...), audited (caller commits)."""
    return _answer(
        ask_legal_person(uscc, purpose=purpose, case_number=case_number), actor=actor, purpose=purpose, case_id=case_id
    )


def represented_by(
    id_number: str, *, actor=None, purpose: str = "查询本人担任法定代表人的企业"
) -> list[LegalPersonRecord]:
    """The live enterprises whose legal representative is `id_number`, audited (caller commits)."""
    subject = "legal_person:representative:" + pii.mask_id_number(id_number)
    try:
        found = backend().represented_by(id_number, purpose=purpose)
    except RegistryUnavailable as exc:
        return _answer(
            Lookup("legal_person", subject, "unavailable", reason=exc.reason),
            actor=actor,
            purpose=purpose,
            case_id=None,
        )
    _answer(Lookup("legal_person", subject, f"{len(found)} found"), actor=actor, purpose=purpose, case_id=None)
    return [e for e in found if e.status == "存续"]


@dataclass
class Prefill:
    """What a form starts with: values, where each came from, and what to tell the applicant.
    `lookups` are the registry questions asked for it, for the caller to audit."""

    values: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)  # field name -> login | population | legal_person
    notices: list = field(default_factory=list)  # Chinese messages for the applicant
    unavailable: set = field(default_factory=set)  # registries that did not answer
    lookups: list = field(default_factory=list)


NOTICES = {
    ("population", "not_found"): _l("人口基础信息库中未查到您的信息，相关内容请您自行填写。"),
    ("population", "unavailable"): _l("人口基础信息库暂时无法访问，相关内容未能自动填写，请您自行填写。"),
    ("legal_person", "not_found"): _l("法人基础信息库中未查到该企业，相关内容请您自行填写。"),
    ("legal_person", "unavailable"): _l("法人基础信息库暂时无法访问，企业信息未能自动填写，请您自行填写。"),
}


def prefill(
    fields: list[dict], applicant, *, enterprise_uscc: str | None, purpose: str, case_number: str | None = None
) -> Prefill:
    """Values for the fields that name a pre-fill source; at most one look-up per registry.

    A registry that does not answer, or does not know the person, leaves its fields empty with
    a notice; it never stops the form. The look-ups are returned unaudited in `lookups`: the
    caller records them (`record_lookups`) with the case once there is one.
    """
    out = Prefill()
    wanted = {spec["prefill"].split(".", 1)[0] for spec in fields if spec.get("prefill")}
    if "population" in wanted:
        out.lookups.append(ask_person(applicant.id_number, purpose=purpose, case_number=case_number))
    if "legal_person" in wanted and enterprise_uscc:
        out.lookups.append(ask_legal_person(enterprise_uscc, purpose=purpose, case_number=case_number))
    records = {}
    for lookup in out.lookups:
        records[lookup.registry] = lookup.record
        if lookup.unavailable:
            out.unavailable.add(lookup.registry)
        if (lookup.registry, lookup.result) in NOTICES:
            out.notices.append(NOTICES[(lookup.registry, lookup.result)])
    login = {"name": applicant.name, "id_number": applicant.id_number, "phone": applicant.phone}
    for spec in fields:
        source = spec.get("prefill")
        if not source:
            continue
        registry, attribute = source.split(".", 1)
        if registry == "person":
            value, registry = login.get(attribute), "login"
        else:
            record = records.get(registry)
            value = getattr(record, attribute, None) if record is not None else None
        if value:
            out.values[spec["name"]] = value
            out.sources[spec["name"]] = registry
    return out
