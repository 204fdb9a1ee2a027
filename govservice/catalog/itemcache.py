"""The current version of each service item, with its department, kept in each process
(`core.rowcache`): every form, submission and guide reads it, and an item version never changes
once synced except for `is_current` (the catalogue changes only by `sync_catalog`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..core import rowcache
from ..core.extensions import db
from ..identity.models import Department
from .models import ServiceItem

KEY = "catalog.item:"


def current(code: str) -> ServiceItem | None:
    """The current version of item `code` in this request's session, or None."""
    return rowcache.get(
        KEY + code,
        lambda: db.session.execute(
            select(ServiceItem)
            .where(ServiceItem.code == code, ServiceItem.is_current.is_(True))
            .options(joinedload(ServiceItem.department))  # a case of the item names its department
        ).scalar_one_or_none(),
        "department",
    )


def _department_items(session, department: Department) -> set[str]:
    """Its name is shown with each of its items."""
    if department.id is None:
        return set()
    codes = session.connection().execute(select(ServiceItem.code).where(ServiceItem.department_id == department.id))
    return {KEY + code for code in codes.scalars()}


def init_app(_app) -> None:
    rowcache.watch(ServiceItem, lambda _session, item: {KEY + item.code})
    rowcache.watch(Department, _department_items)
