"""The service catalogue: syncing item files into versioned rows, and finding items."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from ..audit import services as audit
from ..config import ROOT
from ..extensions import db
from ..identity.models import Department, ServiceHall
from .definitions import digest, read_departments, read_items
from .models import ServiceItem

ITEMS_DIR = ROOT / "items"


@dataclass
class SyncReport:
    added: list[str]
    updated: list[str]
    unchanged: list[str]


def sync(directory: Path = ITEMS_DIR) -> SyncReport:
    """Load departments, halls and items; an item whose file changed gets a new version."""
    org = read_departments(directory)
    departments = {d.code: d for d in db.session.execute(select(Department)).scalars()}
    for spec in org.get("departments", []):
        dept = departments.get(spec["code"]) or Department(code=spec["code"])
        dept.name, dept.uscc = spec["name"], spec["uscc"]
        db.session.add(dept)
        departments[dept.code] = dept
    halls = {h.code: h for h in db.session.execute(select(ServiceHall)).scalars()}
    for spec in org.get("halls", []):
        hall = halls.get(spec["code"]) or ServiceHall(code=spec["code"])
        hall.name = spec["name"]
        db.session.add(hall)
    db.session.flush()

    items = read_items(directory, departments=set(departments),
                       certificate_types=set(current_app.extensions["certificate_types"]))
    report = SyncReport([], [], [])
    for item in items:
        current = current_item(item["code"])
        item_digest = digest(item)
        if current is not None and current.digest == item_digest:
            report.unchanged.append(item["code"])
            continue
        version = 1
        if current is not None:
            current.is_current = False
            version = current.version + 1
            report.updated.append(item["code"])
        else:
            report.added.append(item["code"])
        db.session.add(ServiceItem(
            code=item["code"], version=version, is_current=True, name=item["name"], kind=item["kind"],
            department=departments[item["department"]], result_type=item.get("result"),
            time_limit_days=item["time_limit"]["commitment_days"],
            level_of_assurance=item.get("level_of_assurance", 1), audience=item["audience"],
            definition=item, digest=item_digest,
        ))
    if report.added or report.updated:
        audit.record("catalog.sync", detail={"added": report.added, "updated": report.updated})
    db.session.commit()
    return report


def current_item(code: str) -> ServiceItem | None:
    return db.session.execute(
        select(ServiceItem).where(ServiceItem.code == code, ServiceItem.is_current.is_(True))
    ).scalar_one_or_none()


def list_items() -> list[ServiceItem]:
    return list(db.session.execute(
        select(ServiceItem).where(ServiceItem.is_current.is_(True)).order_by(ServiceItem.code)).scalars())


def department(code: str) -> Department | None:
    return db.session.execute(select(Department).where(Department.code == code)).scalar_one_or_none()
