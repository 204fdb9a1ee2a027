"""Demo data of the identity domain: the enterprises of the development legal-person registry
and an agent authorised by a legal representative (王五 authorises 钱七 for 北京示例科技有限公司,
all items, one year). Running it twice changes nothing."""

from __future__ import annotations

from datetime import timedelta

from ..core import clock
from ..core.extensions import db
from . import enterprises
from .devidp.identities import IDENTITIES
from .models import Person
from .services import person_for

#: (legal representative, agent, enterprise credit code) of the demo grant.
DEMO_GRANT = ("王五", "钱七", "91110105MA01ABCD26")


def person(name: str) -> Person:
    """The demo person of the development provider, recorded as a first sign-in would."""
    identity = next(i for i in IDENTITIES if i["name"] == name)
    return person_for(identity["id_number"], identity["name"])


def load(item_codes: set[str]) -> list[str]:
    representative_name, agent_name, uscc = DEMO_GRANT
    representative, agent = person(representative_name), person(agent_name)
    done = []
    enterprise = enterprises.by_credit_code(uscc)
    if enterprise is None:
        enterprises.refresh_representation(representative, purpose="演示数据")
        enterprise = enterprises.by_credit_code(uscc)
        done.append(f"enterprises: represented by {representative_name}")
    db.session.commit()
    if enterprises.active_grant(agent, enterprise) is None:
        enterprises.grant_agent(
            representative,
            uscc,
            agent.id_number,
            agent_name,
            all_items=True,
            item_codes=[],
            valid_until=clock.today() + timedelta(days=365),
            known_items=item_codes,
        )
        done.append(f"agent: {agent_name} for {enterprise.name}")
    return done
