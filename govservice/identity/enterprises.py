"""Acting for a business: its legal representative (法定代表人, from the legal-person registry)
and the agents (经办人) the representative authorises; switching "acting as".

A grant names the enterprise, the agent (by ID number), all items or a list of them, and the
moment it ends; the representative can revoke it at any time and the agent's next request
notices (access.check_acting). Who represents an enterprise is asked of the registry when
it matters: at sign-in, when switching to act for it, and before granting or revoking.
Every action here is audited as the person, for the enterprise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..audit import services as audit
from ..core import clock, pii
from ..core.extensions import db
from ..registry import legal_persons
from .idnumbers import InvalidNumber, normalise_credit_code
from .models import AgentGrant, Enterprise, Person
from .people import checked_number_and_name, find_person, name_matches, person_for

log = logging.getLogger(__name__)

LEGAL_REPRESENTATIVE, AGENT = "legal_representative", "agent"
BASIS_LABELS = {LEGAL_REPRESENTATIVE: _l("法定代表人"), AGENT: _l("经办人")}
#: The longest an authorisation may run.
MAX_GRANT_YEARS = 3


class EnterpriseError(Exception):
    """A refusal shown as it is (Chinese); nothing was changed (beyond the audit entry)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class NotRepresentative(EnterpriseError):
    """The registry does not name the person as the enterprise's legal representative."""


@dataclass(frozen=True)
class ActingOption:
    """An enterprise the person may act for, and on what basis."""

    enterprise: Enterprise
    basis: str
    grant: AgentGrant | None = None

    @property
    def basis_label(self) -> str:
        return str(BASIS_LABELS[self.basis])


# --- the registry copy ----------------------------------------------------------------------


def _upsert(record: legal_persons.LegalPerson) -> Enterprise:
    enterprise = by_credit_code(record.uscc) or Enterprise(uscc=record.uscc)
    enterprise.name, enterprise.status = record.name, record.status
    representative = find_person(record.legal_representative_id_number)
    enterprise.legal_representative_id = representative.id if representative else None
    enterprise.registry_checked_at = clock.now()
    db.session.add(enterprise)
    db.session.flush()
    return enterprise


def refresh_representation(person: Person, *, purpose: str) -> list[Enterprise]:
    """Ask the registry which enterprises the person represents and update the copies; the
    caller commits. A registry that does not answer leaves the copies as they were."""
    try:
        records = legal_persons.enterprises_represented_by(person, purpose=purpose)
    except legal_persons.RegistryUnavailable:
        log.warning("legal-person registry unavailable; representation of person %s not refreshed", person.id)
        return []
    current = [_upsert(record) for record in records]
    for stale in db.session.execute(
        select(Enterprise).where(
            Enterprise.legal_representative_id == person.id, Enterprise.id.not_in([e.id for e in current] or [0])
        )
    ).scalars():
        stale.legal_representative_id = None
    return current


def by_credit_code(uscc: str) -> Enterprise | None:
    return db.session.execute(select(Enterprise).where(Enterprise.uscc == uscc)).scalar_one_or_none()


def _confirm_representative(person: Person, enterprise_or_code, *, purpose: str) -> Enterprise:
    """The enterprise, after the registry confirmed the person represents it; else EnterpriseError."""
    uscc = enterprise_or_code.uscc if isinstance(enterprise_or_code, Enterprise) else enterprise_or_code
    try:
        record = legal_persons.find_enterprise(uscc, actor=person, purpose=purpose)
    except legal_persons.RegistryUnavailable:
        raise EnterpriseError(_l("法人库暂时无法查询，请稍后再试。")) from None
    if record is None:
        raise EnterpriseError(_l("法人库中没有该统一社会信用代码对应的企业。"))
    enterprise = _upsert(record)
    if record.legal_representative_id_number != person.id_number:
        raise NotRepresentative(_l("法人库登记的法定代表人不是您，无法代表“%(name)s”管理经办人。", name=record.name))
    return enterprise


# --- acting as ------------------------------------------------------------------------------


def active_grant(person: Person, enterprise: Enterprise) -> AgentGrant | None:
    now = clock.now()
    grants = db.session.execute(
        select(AgentGrant).where(
            AgentGrant.agent_id == person.id, AgentGrant.enterprise_id == enterprise.id, AgentGrant.revoked_at.is_(None)
        )
    ).scalars()
    return next((g for g in grants if g.is_active(now)), None)


def acting_options(person: Person) -> list[ActingOption]:
    """Every enterprise the person may act for now: as its representative, or as an agent."""
    now = clock.now()
    options = [
        ActingOption(e, LEGAL_REPRESENTATIVE)
        for e in db.session.execute(
            select(Enterprise)
            .where(Enterprise.legal_representative_id == person.id, Enterprise.status == "active")
            .order_by(Enterprise.name)
        ).scalars()
    ]
    represented = {o.enterprise.id for o in options}
    for grant in db.session.execute(
        select(AgentGrant)
        .where(AgentGrant.agent_id == person.id, AgentGrant.revoked_at.is_(None))
        .order_by(AgentGrant.valid_until.desc())
    ).scalars():
        if grant.is_active(now) and grant.enterprise.is_active and grant.enterprise_id not in represented:
            options.append(ActingOption(grant.enterprise, AGENT, grant))
            represented.add(grant.enterprise_id)
    return options


def start_acting(person: Person, enterprise_id: int) -> ActingOption:
    """Switch to acting for the enterprise; audited, also when refused."""
    enterprise = db.session.get(Enterprise, enterprise_id)
    option, reason = None, _l("您没有代表该企业办事的授权。")
    if enterprise is not None:
        grant = active_grant(person, enterprise)
        if grant is None or enterprise.legal_representative_id == person.id:
            try:  # the registry has the last word on who represents it
                enterprise = _confirm_representative(person, enterprise, purpose="切换为代表企业办事")
                option = ActingOption(enterprise, LEGAL_REPRESENTATIVE)
            except EnterpriseError:
                pass
        if option is None and grant is not None:
            option = ActingOption(enterprise, AGENT, grant)
        if option is not None and not enterprise.is_active:
            option, reason = None, _l("“%(name)s”已注销或被吊销，不能代表其办事。", name=enterprise.name)
    subject = f"enterprise:{enterprise.uscc}" if enterprise else f"enterprise-id:{enterprise_id}"
    if option is None:
        audit.record("identity.act_for_refused", actor=person, subject=subject, detail={"reason": str(reason)})
        db.session.commit()
        raise EnterpriseError(reason)
    audit.record(
        "identity.act_for",
        actor=person,
        subject=subject,
        detail={"basis": option.basis, "grant": option.grant.id if option.grant else None},
    )
    db.session.commit()
    return option


def stop_acting(person: Person, enterprise_id: int) -> None:
    enterprise = db.session.get(Enterprise, enterprise_id)
    audit.record(
        "identity.act_for_end",
        actor=person,
        subject=f"enterprise:{enterprise.uscc}" if enterprise else f"enterprise-id:{enterprise_id}",
    )
    db.session.commit()


def still_entitled(person: Person, enterprise_id: int, basis: str, grant_id: int | None) -> ActingOption | None:
    """Whether the person may still act as chosen at the switch: checked on every request, so a
    revoked or expired grant, or a representative replaced in the registry, ends it at once."""
    enterprise = db.session.get(Enterprise, enterprise_id)
    if enterprise is None or not enterprise.is_active:
        return None
    if basis == LEGAL_REPRESENTATIVE:
        return ActingOption(enterprise, basis) if enterprise.legal_representative_id == person.id else None
    grant = db.session.get(AgentGrant, grant_id) if grant_id else None
    if (
        grant is None
        or grant.agent_id != person.id
        or grant.enterprise_id != enterprise.id
        or not grant.is_active(clock.now())
    ):
        return None
    return ActingOption(enterprise, AGENT, grant)


def acting_ended(person: Person, enterprise_id: int, grant_id: int | None) -> Enterprise | None:
    """Record that a person's acting for an enterprise was cut short (grant revoked or expired)."""
    enterprise = db.session.get(Enterprise, enterprise_id)
    grant = db.session.get(AgentGrant, grant_id) if grant_id else None
    audit.record(
        "identity.act_for_ended",
        actor=person,
        subject=f"enterprise:{enterprise.uscc}" if enterprise else f"enterprise-id:{enterprise_id}",
        detail={"grant": grant_id, "revoked": bool(grant and grant.revoked_at)},
    )
    db.session.commit()
    return enterprise


def may_handle_item(option: ActingOption | None, item_code: str) -> bool:
    """Whether acting as chosen covers the item: a representative every item, an agent the granted ones."""
    return option is None or option.basis == LEGAL_REPRESENTATIVE or option.grant.covers(item_code)


# --- agents (经办人) ------------------------------------------------------------------------


def manage_agents(representative: Person, uscc: str) -> tuple[Enterprise, list[AgentGrant]]:
    """The enterprise and its grants, once the registry confirmed the person represents it."""
    try:
        code = normalise_credit_code(uscc)
    except InvalidNumber as exc:
        raise EnterpriseError(exc.message) from None
    try:
        enterprise = _confirm_representative(representative, code, purpose="管理企业经办人")
    finally:
        db.session.commit()  # the audited look-up stays recorded, whatever it found
    grants = list(
        db.session.execute(
            select(AgentGrant)
            .where(AgentGrant.enterprise_id == enterprise.id)
            .order_by(AgentGrant.revoked_at.is_not(None), AgentGrant.id.desc())
        ).scalars()
    )
    return enterprise, grants


def end_of_day(day: date) -> datetime:
    """The first moment after `day` in Beijing: a grant "until 30 June" covers all of 30 June."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=clock.BEIJING)


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def grant_agent(
    representative: Person,
    uscc: str,
    agent_id_number: str,
    agent_name: str,
    *,
    all_items: bool,
    item_codes: list[str],
    valid_until: date,
    known_items: set[str],
) -> AgentGrant:
    """Authorise an agent; `known_items` are the catalogue's item codes."""
    enterprise, _ = manage_agents(representative, uscc)
    if not enterprise.is_active:
        raise EnterpriseError(_l("“%(name)s”已注销或被吊销，不能授权经办人。", name=enterprise.name))
    number, name = checked_number_and_name(
        agent_id_number, agent_name, EnterpriseError, _l("请填写经办人姓名（不超过50个字）。")
    )
    if number == representative.id_number:
        raise EnterpriseError(_l("法定代表人本人无需授权。"))
    today = clock.today()
    if valid_until is None or valid_until < today:
        raise EnterpriseError(_l("授权截止日期不能早于今天。"))
    if valid_until > _years_after(today, MAX_GRANT_YEARS):
        raise EnterpriseError(_l("授权期限最长%(n)s年。", n=MAX_GRANT_YEARS))
    codes = sorted(set(item_codes or []))
    if not all_items:
        if not codes:
            raise EnterpriseError(_l("请选择授权办理的事项，或选择“全部事项”。"))
        unknown = [c for c in codes if c not in known_items]
        if unknown:
            raise EnterpriseError(_l("事项不存在：%(codes)s", codes="、".join(unknown)))
    if not name_matches(representative, number, name, purpose="核验经办人身份"):
        raise EnterpriseError(_l("经办人姓名与身份证号码不一致，请核对。"))
    agent = find_person(number)
    if agent is not None and active_grant(agent, enterprise) is not None:
        raise EnterpriseError(_l("该经办人已有有效授权，如需变更，请先撤销原授权。"))
    if agent is None:  # not signed in yet: known by number and name until the first sign-in
        agent = person_for(number, name)
    grant = AgentGrant(
        enterprise=enterprise,
        agent=agent,
        granted_by=representative,
        all_items=all_items,
        item_codes=[] if all_items else codes,
        valid_from=clock.now(),
        valid_until=end_of_day(valid_until),
    )
    db.session.add(grant)
    db.session.flush()
    audit.record(
        "identity.agent_grant",
        actor=representative,
        subject=f"enterprise:{enterprise.uscc}",
        detail={
            "grant": grant.id,
            "agent": pii.mask_id_number(number),
            "all_items": all_items,
            "items": grant.item_codes,
            "until": valid_until.isoformat(),
        },
    )
    db.session.commit()
    return grant


def revoke_grant(representative: Person, uscc: str, grant_id: int) -> AgentGrant:
    """Revoke at once: the agent's very next request no longer acts for the enterprise."""
    enterprise, _ = manage_agents(representative, uscc)
    grant = db.session.get(AgentGrant, grant_id)
    if grant is None or grant.enterprise_id != enterprise.id:
        raise EnterpriseError(_l("该授权不存在。"))
    if grant.revoked_at is not None:
        raise EnterpriseError(
            _l("该授权已于%(at)s撤销。", at=grant.revoked_at.astimezone(clock.BEIJING).strftime("%Y-%m-%d %H:%M"))
        )
    grant.revoked_at, grant.revoked_by = clock.now(), representative
    audit.record(
        "identity.agent_revoke",
        actor=representative,
        subject=f"enterprise:{enterprise.uscc}",
        detail={"grant": grant.id, "agent": grant.agent.masked_id_number},
    )
    db.session.commit()
    return grant
