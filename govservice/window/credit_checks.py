"""失信联合惩戒 at acceptance: the credit check of a case's applicant (and of the enterprise it is
filed for), the item's rule applied to the answer, both kept with the case and in the audit log.

An item opts in with a table in its file (see `catalog/definitions.py`):

    [credit_check]
    rule = "refuse"        # a listed subject: refuse (不予受理), warn (the clerk confirms) or note
    unavailable = "warn"   # the credit registry does not answer: the same three, the fallback

The window asks `checks_for(case, clerk)` when it shows the pre-review page (the clerk sees each
answer with its source and legal basis) and `gate(case, clerk, acknowledged=...)` at 受理: a
refusal raises `CreditRefused` with the message to show; otherwise the outcome is recorded and
the note for the acceptance is returned. One check per subject and case is kept (a check the
registry could not answer is asked again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit import services as audit
from ..core import clock, pii
from ..core.extensions import db
from ..core.models_base import UTCDateTime
from ..identity.models import Enterprise, Person
from ..registry.backends import RegistryUnavailable
from ..registry.credit import backend, init_app  # noqa: F401  (the registry's backend, chosen at start)

RULES = ("refuse", "warn", "note")
RULE_LABELS = {"refuse": _l("不予受理"), "warn": _l("提醒窗口确认后受理"), "note": _l("记录在案后受理")}
RESULT_LABELS = {"clear": _l("未列入失信名单"), "listed": _l("列入失信名单"), "unavailable": _l("信用核查暂不可用")}
PURPOSE = "受理前信用核查（失信联合惩戒）"


class CreditRefused(Exception):
    """Acceptance refused (or held) by the item's credit rule; `message` says why, in Chinese."""

    def __init__(self, message, *, basis: str = ""):
        super().__init__(str(message))
        self.message, self.basis = message, basis


class CreditCheck(db.Model):
    """One credit look-up made for a case, its answer as the registry gave it, and the rule
    the window applied to it (`outcome`, set at acceptance)."""

    __tablename__ = "credit_checks"
    __table_args__ = (Index("ix_credit_checks_case", "case_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False)
    subject_kind: Mapped[str] = mapped_column(String(16), nullable=False)  # person | enterprise
    subject: Mapped[str] = mapped_column(String(32), nullable=False)  # masked ID number, or the USCC
    name: Mapped[str] = mapped_column(String(200), nullable=False)  # masked for a person
    result: Mapped[str] = mapped_column(String(16), nullable=False)  # clear | listed | unavailable
    source: Mapped[str] = mapped_column(String(128), nullable=False)
    entries: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    rule: Mapped[str] = mapped_column(String(16), nullable=False)  # what applies: refuse | warn | note
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    outcome: Mapped[str | None] = mapped_column(String(16))  # refused | acknowledged | noted
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))

    checked_by: Mapped[Person | None] = relationship(foreign_keys=[checked_by_id])

    @property
    def result_label(self) -> str:
        return str(RESULT_LABELS[self.result])

    @property
    def rule_label(self) -> str:
        return str(RULE_LABELS[self.rule])

    @property
    def matters(self) -> bool:
        """Whether the item's rule has anything to say (a listing, or no answer)."""
        return self.result != "clear"


@dataclass(frozen=True)
class Rule:
    listed: str  # refuse | warn | note
    unavailable: str  # the fallback when the registry does not answer


def rule_of(item) -> Rule | None:
    """The item's credit rule, or None when its acceptance needs no credit check."""
    spec = (item.definition or {}).get("credit_check")
    if not spec:
        return None
    return Rule(spec["rule"], spec.get("unavailable", "warn"))


def _subjects(case) -> list[tuple[str, str, str]]:
    """(kind, number, name) of whom the check is about: the applicant, and the enterprise."""
    subjects = [("person", case.applicant.id_number, case.applicant.name)]
    if case.enterprise_id is not None:
        enterprise = db.session.get(Enterprise, case.enterprise_id)
        subjects.append(("enterprise", enterprise.uscc, enterprise.name))
    return subjects


def checks_for(case, clerk: Person | None) -> list[CreditCheck]:
    """The case's credit checks, one per subject, asking the registry for any subject not yet
    answered (each question audited as a registry look-up, with the case); commits what it asked."""
    rule = rule_of(case.item)
    if rule is None:
        return []
    made = {(c.subject_kind, c.subject): c for c in kept(case)}
    checks, asked = [], False
    for kind, number, name in _subjects(case):
        shown = pii.mask_id_number(number) if kind == "person" else number
        check = made.get((kind, shown))
        if check is None or check.result == "unavailable":
            check = _ask(case, clerk, rule, kind, number, shown, name, check)
            asked = True
        checks.append(check)
    if asked:
        db.session.commit()
    return checks


def kept(case) -> list[CreditCheck]:
    """The checks made for the case, without asking again."""
    return list(
        db.session.execute(select(CreditCheck).where(CreditCheck.case_id == case.id).order_by(CreditCheck.id)).scalars()
    )


def _ask(case, clerk, rule: Rule, kind, number, shown, name, check: CreditCheck | None) -> CreditCheck:
    try:
        record = backend().credit(kind, number, purpose=PURPOSE, case=case.number)
    except RegistryUnavailable as exc:
        result, source, entries, reason = "unavailable", str(_("信用信息共享平台")), [], exc.reason
    else:
        result = "listed" if record.listed else "clear"
        source, entries, reason = record.source, record.as_dict()["entries"], None
    answer = {
        "result": result,
        "source": source[:128],
        "entries": entries,
        "checked_at": clock.now(),
        "rule": rule.unavailable if result == "unavailable" else rule.listed,
        "checked_by_id": getattr(clerk, "id", None),
    }
    if check is None:
        check = CreditCheck(
            case_id=case.id,
            subject_kind=kind,
            subject=shown,
            name=pii.mask_name(name) if kind == "person" else name,
            **answer,
        )
        db.session.add(check)
    else:
        for key, value in answer.items():
            setattr(check, key, value)
    detail = {
        "registry": "credit",
        "result": result,
        "source": backend().source,
        "lists": [e["list_name"] for e in entries],
    }
    if reason:
        detail["reason"] = reason
    audit.record(
        "registry.lookup",
        actor=clerk,
        subject=f"credit:{kind}:{shown}",
        case_id=case.id,
        purpose=PURPOSE,
        detail=detail,
    )
    return check


def _listing_text(check: CreditCheck) -> str:
    return "；".join(f"{e['list_name']}（{e['authority']}，{e['reference']}）" for e in check.entries)


def gate(case, clerk: Person, *, acknowledged: bool) -> str | None:
    """Apply the item's rule at 受理. Raises `CreditRefused` when the case may not be accepted
    (a listed subject under refuse; no answer under a refuse fallback; a warning the clerk has not
    confirmed); otherwise records the outcome and returns the note for the acceptance (None when
    the item has no rule or every subject is clear). Commits the recorded outcome."""
    checks = checks_for(case, clerk)
    notes = []
    for check in (c for c in checks if c.matters):
        who = check.name
        if check.result == "listed":
            what = _("%(who)s被列入%(lists)s", who=who, lists=_listing_text(check))
        else:
            what = _("信用核查暂不可用（%(who)s）", who=who)
        if check.rule == "refuse":
            _apply(case, clerk, check, "refused")
            db.session.commit()
            if check.result == "listed":
                raise CreditRefused(
                    _("信用核查：%(what)s。依据本事项的失信联合惩戒规则，不予受理，请作出不予受理决定。", what=what),
                    basis="；".join(e["basis"] for e in check.entries),
                )
            raise CreditRefused(_("信用核查暂不可用，依据本事项规则暂不能受理，请稍后重试。"))
        if check.rule == "warn" and not acknowledged:
            raise CreditRefused(_("信用核查：%(what)s。请告知申请人并勾选“已核对信用核查结果”后再受理。", what=what))
        _apply(case, clerk, check, "acknowledged" if check.rule == "warn" else "noted")
        notes.append(what)
    if notes:
        db.session.commit()
        return _("信用核查：%(notes)s（已按事项规则记录）", notes="；".join(notes))
    return None


def _apply(case, clerk: Person, check: CreditCheck, outcome: str) -> None:
    check.outcome, check.applied_at, check.applied_by_id = outcome, clock.now(), clerk.id
    audit.record(
        "credit.rule",
        actor=clerk,
        subject=f"case:{case.number}",
        case_id=case.id,
        purpose=PURPOSE,
        detail={
            "subject": f"{check.subject_kind}:{check.subject}",
            "result": check.result,
            "rule": check.rule,
            "outcome": outcome,
        },
    )


def refusal_basis(case) -> str:
    """The legal basis of a credit refusal recorded for the case (for the 不予受理决定书), or ''."""
    refused = (
        db.session.execute(
            select(CreditCheck)
            .where(CreditCheck.case_id == case.id, CreditCheck.outcome == "refused", CreditCheck.result == "listed")
            .order_by(CreditCheck.id.desc())
        )
        .scalars()
        .first()
    )
    if refused is None:
        return ""
    return "；".join(e["basis"] for e in refused.entries)
