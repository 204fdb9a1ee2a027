"""Demo data: the catalogue, and the staff roles of the development provider's identities.

Running it twice changes nothing.
"""

from __future__ import annotations

from sqlalchemy import select

from govservice.catalog import services as catalog
from govservice.core import pii
from govservice.core.extensions import db
from govservice.identity.devidp.identities import IDENTITIES
from govservice.identity.models import Person, ServiceHall, StaffAssignment
from govservice.identity.services import find_person

# subject at the development provider -> (role, department code or None, hall code or None)
STAFF = {
    "dev-zhaomin": ("clerk", None, "cy-zwfwzx"),
    "dev-liuyang": ("officer", "scjgj", None),
    "dev-chenjing": ("officer", "wsjkw", None),
    "dev-sunqiang": ("supervisor", None, None),
    "dev-huanglei": ("officer", "gaj", None),  # identity: staff of several departments
    "dev-mali": ("officer", "rsj", None),
    "dev-gaofeng": ("officer", "zjw", None),
    "dev-zhenghua": ("admin", None, None),  # identity: the platform administrator
}


def load(*, certificates: bool = True, channels: bool = True) -> list[str]:
    """`certificates=False` leaves out the demo certificates (signing them takes a moment);
    `channels=False` the cases of the other channels (an overdue case and its cards, a bundle,
    a 信访 request), which the unit tests build for themselves."""
    done = []
    report = catalog.sync()
    done.append(
        f"catalogue: {len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged"
    )
    for identity in IDENTITIES:
        role = STAFF.get(identity["sub"])
        if role is None:
            continue
        person = find_person(identity["id_number"])
        if person is None:
            person = Person(
                id_number_hash=pii.lookup_hash(identity["id_number"]),
                id_number_enc=pii.encrypt(identity["id_number"]),
                name_enc=pii.encrypt(identity["name"]),
            )
            db.session.add(person)
            db.session.flush()
        name, dept_code, hall_code = role
        dept = catalog.department(dept_code) if dept_code else None
        hall = (
            db.session.execute(select(ServiceHall).where(ServiceHall.code == hall_code)).scalar_one_or_none()
            if hall_code
            else None
        )
        exists = db.session.execute(
            select(StaffAssignment).where(
                StaffAssignment.person_id == person.id,
                StaffAssignment.role == name,
                StaffAssignment.department_id == (dept.id if dept else None),
                StaffAssignment.hall_id == (hall.id if hall else None),
            )
        ).scalar_one_or_none()
        if exists is None:
            db.session.add(StaffAssignment(person=person, role=name, department=dept, hall=hall))
            done.append(f"staff: {identity['name']} as {name} {dept.name if dept else ''}{hall.name if hall else ''}")
    db.session.commit()
    from govservice.identity import demo as identity_demo  # enterprises and an agent grant

    done += identity_demo.load({item.code for item in catalog.list_items()})
    from govservice.partners import demo as partners_demo

    done += partners_demo.load()
    if certificates:
        from govservice.certificates import demo as certificates_demo

        done += certificates_demo.load()
    if channels:
        from govservice.bundles import services as bundles
        from govservice.supervision import cards

        done += cards.load_demo()
        done += bundles.load_demo()
        from govservice.petitions import services as petitions

        done += petitions.load_demo()
    return done
